/*
 * Open Inference Protocol v2 inference requests (kserve/open-inference-protocol,
 * specification/protocol/inference_rest.md): named tensors with shape and datatype into rows.
 */
#include "util/common.h"
#include "api/serve_internal.h"

#include <float.h>
#include <math.h>

enum dtype_class {
	DT_BOOL,
	DT_INT,
	DT_FLOAT,
	DT_BYTES
};

static const struct dtype {
	const char *name;
	enum dtype_class cls;
	double lo, hi;
} dtypes[] = {
	{ "BOOL", DT_BOOL, 0, 0 },
	{ "UINT8", DT_INT, 0, 255 },
	{ "UINT16", DT_INT, 0, 65535 },
	{ "UINT32", DT_INT, 0, 4294967295.0 },
	/* 2^64 and 2^63 themselves slip through: doubles cannot tell 2^63 - 1 from 2^63 */
	{ "UINT64", DT_INT, 0, 18446744073709551616.0 },
	{ "INT8", DT_INT, -128, 127 },
	{ "INT16", DT_INT, -32768, 32767 },
	{ "INT32", DT_INT, -2147483648.0, 2147483647.0 },
	{ "INT64", DT_INT, -9223372036854775808.0, 9223372036854775808.0 },
	{ "FP16", DT_FLOAT, -65504, 65504 },
	{ "FP32", DT_FLOAT, -FLT_MAX, FLT_MAX },
	{ "FP64", DT_FLOAT, -DBL_MAX, DBL_MAX },
	{ "BYTES", DT_BYTES, 0, 0 },
};

struct tensor {
	const char *name;
	uint32_t name_len, data;
	const struct dtype *dt;
	size_t rank, n, k;
};

static int fail(struct serve_error *e, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct serve_error *e, int code, const char *fmt, ...)
{
	char msg[SERVE_ERROR_MSG_SIZE];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return serve_fail(e, SERVE_OIP, code, "%s", msg);
}

static const char *shape_text(const struct tensor *t, char buf[64])
{
	if (t->rank == 1)
		snprintf(buf, 64, "[%zu]", t->n);
	else
		snprintf(buf, 64, "[%zu, %zu]", t->n, t->k);
	return buf;
}

/* $parameters: an object of strings, numbers and booleans (none is defined by the spec). */
static int parameters(const struct sj_doc *d, uint32_t v, const char *where, struct serve_error *e)
{
	if (v == SJ_NONE)
		return 0;
	if (d->nodes[v].type != SJ_OBJECT)
		return fail(e, ERR_INVALID, "%s'parameters' is %s: it must be an object", where,
			    sj_type_name(d, v));
	for (uint32_t k = v + 1; k < d->nodes[v].end; k = d->nodes[k + 1].end) {
		uint8_t t = d->nodes[k + 1].type;

		if (t == SJ_ARRAY || t == SJ_OBJECT || t == SJ_NULL)
			return fail(e, ERR_INVALID,
				    "%sparameter '%.*s' is %s: parameters must be strings, "
				    "numbers or booleans",
				    where, SERVE_NAME_IN_MSG, sj_str(d, k), sj_type_name(d, k + 1));
	}
	return 0;
}

static int shape(const struct sj_doc *d, uint32_t v, struct tensor *t, struct serve_error *e)
{
	const struct sj_node *nodes = d->nodes;
	double dims[2];
	size_t i = 0;

	if (v == SJ_NONE)
		return fail(e, ERR_INVALID, "input '%.*s': missing 'shape'", SERVE_NAME_IN_MSG,
			    t->name);
	if (nodes[v].type != SJ_ARRAY)
		return fail(e, ERR_INVALID,
			    "input '%.*s': 'shape' is %s: it must be a list of integers",
			    SERVE_NAME_IN_MSG, t->name, sj_type_name(d, v));
	t->rank = nodes[v].v.count;
	if (t->rank != 1 && t->rank != 2)
		return fail(e, ERR_INVALID,
			    "input '%.*s': a shape of %zu dimensions is not "
			    "supported: inputs are [n] or [n, k] tensors",
			    SERVE_NAME_IN_MSG, t->name, t->rank);
	for (uint32_t c = v + 1; c < nodes[v].end; c = nodes[c].end, i++) {
		if (nodes[c].type != SJ_NUMBER || !(nodes[c].flags & SJ_INTEGER) ||
		    nodes[c].v.num < 0)
			return fail(e, ERR_INVALID,
				    "input '%.*s': shape[%zu] is not a non-negative integer",
				    SERVE_NAME_IN_MSG, t->name, i);
		dims[i] = nodes[c].v.num;
	}
	if (dims[0] > SERVE_MAX_CELLS || (t->rank == 2 && dims[1] > SERVE_MAX_CELLS))
		return fail(e, ERR_TOOBIG, "input '%.*s': the request has more than %u cells",
			    SERVE_NAME_IN_MSG, t->name, SERVE_MAX_CELLS);
	t->n = (size_t)dims[0];
	t->k = t->rank == 2 ? (size_t)dims[1] : 1;
	return 0;
}

static int datatype(const struct sj_doc *d, uint32_t v, struct tensor *t, struct serve_error *e)
{
	if (v == SJ_NONE)
		return fail(e, ERR_INVALID, "input '%.*s': missing 'datatype'", SERVE_NAME_IN_MSG,
			    t->name);
	if (d->nodes[v].type == SJ_STRING)
		for (size_t i = 0; i < ARRAY_SIZE(dtypes); i++)
			if (!strcmp(sj_str(d, v), dtypes[i].name)) {
				t->dt = &dtypes[i];
				return 0;
			}
	if (d->nodes[v].type != SJ_STRING)
		return fail(e, ERR_INVALID, "input '%.*s': 'datatype' is %s: it must be a string",
			    SERVE_NAME_IN_MSG, t->name, sj_type_name(d, v));
	return fail(e, ERR_INVALID,
		    "input '%.*s': unknown datatype '%.*s' (BOOL, UINT8, UINT16, UINT32, UINT64, "
		    "INT8, INT16, INT32, INT64, FP16, FP32, FP64 or BYTES)",
		    SERVE_NAME_IN_MSG, t->name, SERVE_NAME_IN_MSG, sj_str(d, v));
}

static int tensor(const struct sj_doc *d, uint32_t v, size_t i, struct tensor *t,
		  struct serve_error *e)
{
	static const char *const keys[] = { "name", "shape", "datatype", "data", "parameters" };
	uint32_t m[ARRAY_SIZE(keys)];
	char where[SERVE_NAME_IN_MSG + 16];
	int dup, rc;

	if (d->nodes[v].type != SJ_OBJECT)
		return fail(e, ERR_INVALID, "inputs[%zu] is %s: an input must be an object", i,
			    sj_type_name(d, v));
	dup = sj_members(d, v, keys, ARRAY_SIZE(keys), m);
	if (dup >= 0)
		return fail(e, ERR_INVALID, "inputs[%zu] has the key '%s' twice", i, keys[dup]);
	if (m[0] == SJ_NONE || d->nodes[m[0]].type != SJ_STRING)
		return fail(e, ERR_INVALID, "inputs[%zu]: 'name' %s", i,
			    m[0] == SJ_NONE ? "is missing" : "must be a string");
	t->name = sj_str(d, m[0]);
	t->name_len = d->nodes[m[0]].v.s.len;
	if ((rc = shape(d, m[1], t, e)) || (rc = datatype(d, m[2], t, e)))
		return rc;
	if (m[3] == SJ_NONE || d->nodes[m[3]].type != SJ_ARRAY)
		return fail(e, ERR_INVALID, "input '%.*s': 'data' %s", SERVE_NAME_IN_MSG, t->name,
			    m[3] == SJ_NONE ? "is missing" : "must be a list");
	t->data = m[3];
	snprintf(where, sizeof(where), "input '%.*s': ", SERVE_NAME_IN_MSG, t->name);
	return parameters(d, m[4], where, e);
}

/* Where a value sits in 'data', for messages: "data[3]" or "data[1][2]". */
static const char *where(char buf[64], int nested, size_t r, size_t c)
{
	if (nested)
		snprintf(buf, 64, "data[%zu][%zu]", r, c);
	else
		snprintf(buf, 64, "data[%zu]", r);
	return buf;
}

/* A value that does not fit the tensor's datatype at data[r] or data[r][c]. */
static int bad_leaf(const struct sj_doc *d, uint32_t v, const struct tensor *t, int nested,
		    size_t r, size_t c, struct serve_error *e)
{
	const struct sj_node *n = &d->nodes[v];
	char at[64];
	const char *need;

	if (n->type == SJ_NUMBER && t->dt->cls != DT_BOOL && t->dt->cls != DT_BYTES)
		return fail(e, ERR_INVALID, "input '%.*s': %s is %s for datatype %s",
			    SERVE_NAME_IN_MSG, t->name, where(at, nested, r, c),
			    t->dt->cls == DT_INT && isfinite(n->v.num) &&
				    n->v.num != trunc(n->v.num)
				? "not an integer"
				: "out of range",
			    t->dt->name);
	if (n->type == SJ_ARRAY || n->type == SJ_OBJECT)
		return fail(e, ERR_INVALID,
			    "input '%.*s': %s is %s: 'data' is nested deeper than its shape",
			    SERVE_NAME_IN_MSG, t->name, where(at, nested, r, c),
			    sj_type_name(d, v));
	switch (t->dt->cls) {
	case DT_BOOL:
		need = "true or false";
		break;
	case DT_BYTES:
		need = "strings";
		break;
	case DT_INT:
		need = "integers";
		break;
	default:
		need = "numbers or null";
	}
	return fail(e, ERR_INVALID, "input '%.*s': %s is %s: datatype %s takes %s",
		    SERVE_NAME_IN_MSG, t->name, where(at, nested, r, c), sj_type_name(d, v),
		    t->dt->name, need);
}

/* One value of the tensor into c; 0, or -1 when it does not fit the datatype. */
static inline int leaf(struct serve_cell *c, const struct sj_doc *d, uint32_t v,
		       const struct tensor *t)
{
	const struct sj_node *n = &d->nodes[v];

	switch (t->dt->cls) {
	case DT_BOOL:
		if (n->type != SJ_TRUE && n->type != SJ_FALSE)
			return -1;
		c->type = SERVE_CELL_BOOL;
		c->b = n->type == SJ_TRUE;
		c->num = c->b;
		return 0;
	case DT_BYTES:
		if (n->type != SJ_STRING)
			return -1;
		c->type = SERVE_CELL_STRING;
		c->str = sj_str(d, v);
		c->len = n->v.s.len;
		return 0;
	case DT_FLOAT:
		if (n->type == SJ_NULL) {
			c->type = SERVE_CELL_NULL;
			return 0;
		}
		/* fall through */
	case DT_INT:
		if (n->type != SJ_NUMBER || !(n->v.num >= t->dt->lo && n->v.num <= t->dt->hi) ||
		    (t->dt->cls == DT_INT && n->v.num != trunc(n->v.num)))
			return -1;
		c->type = SERVE_CELL_NUMBER;
		c->num = n->v.num;
		return 0;
	}
	return -1;
}

/* The tensor's values, flat or nested as its shape, into columns col0.. of in->cells. */
static int fill(struct serve_input *in, const struct sj_doc *d, const struct tensor *t, size_t col0,
		struct serve_error *e)
{
	const struct sj_node *nodes = d->nodes;
	uint32_t data = t->data;
	int nested = nodes[data].v.count && nodes[data + 1].type == SJ_ARRAY;
	size_t idx = 0, r = 0;
	char sh[64];

	if (nested && t->rank != 2)
		return fail(e, ERR_INVALID,
			    "input '%.*s': data[0] is a list but shape %s has one dimension",
			    SERVE_NAME_IN_MSG, t->name, shape_text(t, sh));
	if (nodes[data].v.count != (nested ? t->n : t->n * t->k))
		return fail(
		    e, ERR_INVALID, "input '%.*s': shape %s needs %zu %s, 'data' has %" PRIu64,
		    SERVE_NAME_IN_MSG, t->name, shape_text(t, sh), nested ? t->n : t->n * t->k,
		    nested ? "rows" : "values", nodes[data].v.count);
	for (uint32_t el = data + 1; el < nodes[data].end; el = nodes[el].end, r++) {
		size_t c = 0;

		if ((nodes[el].type == SJ_ARRAY) != nested || nodes[el].type == SJ_OBJECT)
			return fail(e, ERR_INVALID,
				    "input '%.*s': data[%zu] is %s: 'data' must "
				    "be a flat list of values or nested as the shape",
				    SERVE_NAME_IN_MSG, t->name, r, sj_type_name(d, el));
		if (!nested) {
			if (leaf(&in->cells[(idx / t->k) * in->ncols + col0 + idx % t->k], d, el,
				 t))
				return bad_leaf(d, el, t, 0, r, 0, e);
			idx++;
			continue;
		}
		if (nodes[el].v.count != t->k)
			return fail(e, ERR_INVALID,
				    "input '%.*s': data[%zu] has %" PRIu64
				    " values, shape %s needs %zu",
				    SERVE_NAME_IN_MSG, t->name, r, nodes[el].v.count,
				    shape_text(t, sh), t->k);
		for (uint32_t v = el + 1; v < nodes[el].end; v = nodes[v].end, c++)
			if (leaf(&in->cells[r * in->ncols + col0 + c], d, v, t))
				return bad_leaf(d, v, t, 1, r, c, e);
	}
	return 0;
}

/*
 * One [n, k] tensor: n rows of k positional columns. Otherwise one column per tensor, named
 * after it.
 */
static int layout(struct serve_input *in, const struct sj_doc *d, const struct tensor *ts,
		  size_t nt, struct serve_error *e)
{
	char sh[64];
	int rc, added;

	serve_cols_reserve(in, nt);
	for (size_t i = 0; i < nt; i++) {
		if (!ts[i].n || !ts[i].k)
			return fail(e, ERR_INVALID, "input '%.*s' has shape %s: there are no %s",
				    SERVE_NAME_IN_MSG, ts[i].name, shape_text(&ts[i], sh),
				    ts[i].n ? "values in a row" : "rows to predict");
		if (nt == 1)
			break;
		if (ts[i].k != 1)
			return fail(e, ERR_INVALID,
				    "input '%.*s' has shape %s: with several inputs, "
				    "each must be one column, [n] or [n, 1]",
				    SERVE_NAME_IN_MSG, ts[i].name, shape_text(&ts[i], sh));
		if (ts[i].n != ts[0].n)
			return fail(e, ERR_INVALID,
				    "input '%.*s' has %zu rows, input '%.*s' has %zu",
				    SERVE_NAME_IN_MSG, ts[i].name, ts[i].n, SERVE_NAME_IN_MSG,
				    ts[0].name, ts[0].n);
		serve_col_intern(in, ts[i].name, ts[i].name_len, &added);
		if (!added)
			return fail(e, ERR_INVALID, "there are two inputs named '%.*s'",
				    SERVE_NAME_IN_MSG, ts[i].name);
	}
	if (nt == 1 && ts[0].rank == 1)
		serve_col_intern(in, ts[0].name, ts[0].name_len, &added);
	in->ncols = nt == 1 ? ts[0].k : nt;
	rc = serve_cells_alloc(in, ts[0].n, in->ncols, e);
	if (rc)
		return serve_fail_wrap(e, SERVE_OIP, rc, "%s");
	for (size_t i = 0; i < nt; i++) {
		rc = fill(in, d, &ts[i], i, e);
		if (rc)
			return rc;
	}
	if (in->mem->ncols)
		serve_cols_publish(in);
	in->nrows = ts[0].n;
	return 0;
}

static int outputs(struct serve_input *in, const struct sj_doc *d, uint32_t v,
		   struct serve_error *e)
{
	static const char *const keys[] = { "name", "parameters" };
	uint32_t m[ARRAY_SIZE(keys)];
	size_t i = 0;
	int rc;

	if (d->nodes[v].type != SJ_ARRAY)
		return fail(e, ERR_INVALID, "'outputs' is %s: it must be a list",
			    sj_type_name(d, v));
	for (uint32_t o = v + 1; o < d->nodes[v].end; o = d->nodes[o].end, i++) {
		const char *name;

		if (d->nodes[o].type != SJ_OBJECT)
			return fail(e, ERR_INVALID,
				    "outputs[%zu] is %s: an output must be an object", i,
				    sj_type_name(d, o));
		if (sj_members(d, o, keys, ARRAY_SIZE(keys), m) >= 0)
			return fail(e, ERR_INVALID, "outputs[%zu] has a key twice", i);
		if (m[0] == SJ_NONE || d->nodes[m[0]].type != SJ_STRING)
			return fail(e, ERR_INVALID, "outputs[%zu]: 'name' %s", i,
				    m[0] == SJ_NONE ? "is missing" : "must be a string");
		name = sj_str(d, m[0]);
		if (!strcmp(name, "predict"))
			in->outputs |= SERVE_OUT_PREDICT;
		else if (!strcmp(name, "predict_proba"))
			in->outputs |= SERVE_OUT_PROBA;
		else
			return fail(e, ERR_INVALID,
				    "unknown output '%.*s': the model's outputs are "
				    "'predict' and 'predict_proba'",
				    SERVE_NAME_IN_MSG, name);
		rc = parameters(d, m[1], "output: ", e);
		if (rc)
			return rc;
	}
	return 0;
}

static int inputs(struct serve_input *in, const struct sj_doc *d, uint32_t v, struct serve_error *e)
{
	struct tensor *ts;
	size_t nt, i = 0;
	int rc;

	if (v == SJ_NONE)
		return fail(e, ERR_INVALID, "missing 'inputs'");
	if (d->nodes[v].type != SJ_ARRAY)
		return fail(e, ERR_INVALID, "'inputs' is %s: it must be a list of tensors",
			    sj_type_name(d, v));
	nt = d->nodes[v].v.count;
	if (!nt)
		return fail(e, ERR_INVALID, "'inputs' is empty: there are no rows to predict");
	ts = serve_alloc(in, nt * sizeof(*ts));
	for (uint32_t t = v + 1; t < d->nodes[v].end; t = d->nodes[t].end, i++) {
		rc = tensor(d, t, i, &ts[i], e);
		if (rc)
			return rc;
	}
	return layout(in, d, ts, nt, e);
}

int serve_parse_oip(struct serve_input *out, const char *body, size_t len, struct serve_error *e)
{
	static const char *const keys[] = { "id", "parameters", "inputs", "outputs" };
	uint32_t m[ARRAY_SIZE(keys)];
	struct sj_doc d;
	int dup, rc;

	serve_input_reset(out);
	rc = sj_parse(&d, out, body, len, 0, e);
	if (rc) {
		rc = serve_fail_wrap(e, SERVE_OIP, rc,
				     rc == ERR_TOOBIG ? "%s"
						      : "the request body is not valid JSON: %s");
		goto out;
	}
	if (d.nodes[0].type != SJ_OBJECT) {
		rc = fail(e, ERR_INVALID, "the request body is %s: it must be an object",
			  sj_type_name(&d, 0));
		goto out;
	}
	dup = sj_members(&d, 0, keys, ARRAY_SIZE(keys), m);
	if (dup >= 0) {
		rc = fail(e, ERR_INVALID, "the request has the key '%s' twice", keys[dup]);
		goto out;
	}
	if (m[0] != SJ_NONE && d.nodes[m[0]].type != SJ_STRING) {
		rc =
		    fail(e, ERR_INVALID, "'id' is %s: it must be a string", sj_type_name(&d, m[0]));
		goto out;
	}
	if ((rc = parameters(&d, m[1], "", e)) || (rc = inputs(out, &d, m[2], e)))
		goto out;
	if (m[3] != SJ_NONE && (rc = outputs(out, &d, m[3], e)))
		goto out;
	if (m[0] != SJ_NONE)
		out->id = (char *)sj_str(&d, m[0]);
	/* without "outputs" the spec returns every output the model has */
	out->want_probabilities = !out->outputs || (out->outputs & SERVE_OUT_PROBA);
out:
	if (rc)
		serve_input_empty(out);
	return rc;
}
