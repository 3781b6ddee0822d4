/*
 * MLflow's scoring protocol (POST /invocations, mlflow models serve 2.x): content type checks,
 * the four JSON input formats plus "params", and text/csv typed as pandas.read_csv types it.
 * Error messages are MLflow's (mlflow/pyfunc/scoring_server, mlflow/utils/proto_json_utils.py).
 */
#include "util/common.h"
#include "api/serve_internal.h"
#include "table/csv.h"
#include "table/number.h"
#include "util/strbuf.h"

#define REQUIRED_INPUT_FORMAT                                                                      \
	"The input must be a JSON dictionary with exactly one of the input fields {'instances', "  \
	"'inputs', 'dataframe_records', 'dataframe_split'}"
#define SCORING_PROTOCOL_CHANGE_INFO                                                               \
	"IMPORTANT: The MLflow Model scoring protocol has changed in MLflow version 2.0. If you "  \
	"are seeing this error, you are likely using an outdated scoring request format. To "      \
	"resolve the error, either update your request format or adjust your MLflow Model's "      \
	"requirements file to specify an older version of MLflow (for example, change the "        \
	"'mlflow' requirement specifier to 'mlflow==1.30.0'). If you are making a request using "  \
	"the MLflow client (e.g. via `mlflow.pyfunc.spark_udf()`), upgrade your MLflow client to " \
	"a version >= 2.0 in order to use the new request format. For more information about "     \
	"the updated MLflow Model scoring protocol in MLflow 2.0, see "                            \
	"https://mlflow.org/docs/latest/models.html#deploy-mlflow-models."
#define TF_SERVING_PREFIX "Failed to parse data as TF serving input. "
#define TF_SERVING_HELP                                                                            \
	TF_SERVING_PREFIX "Ensure that the input is a valid JSON-formatted string that conforms "  \
			  "to the request body for TF serving's Predict API as documented at "     \
			  "https://www.tensorflow.org/tfx/serving/api_rest#request_format_2"

enum format {
	DF_SPLIT,
	DF_RECORDS,
	INSTANCES,
	INPUTS,
	NFORMATS
};
static const char *const format_names[NFORMATS] = { "dataframe_split", "dataframe_records",
						    "instances", "inputs" };

static int fail(struct serve_error *e, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct serve_error *e, int code, const char *fmt, ...)
{
	char msg[SERVE_ERROR_MSG_SIZE];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return serve_fail(e, SERVE_MLFLOW, code, "%s", msg);
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* s[0..*len) without surrounding whitespace, as Python's str.strip(). */
static const char *strip(const char *s, size_t *len)
{
	size_t n = *len;

	while (n && is_space(*s))
		s++, n--;
	while (n && is_space(s[n - 1]))
		n--;
	*len = n;
	return s;
}

/*
 * MLflow's checks in their order: "type; k=v; ..." split at ';', each part stripped; charset
 * (default utf-8, any case) must be utf-8; no other parameter; then the type itself.
 */
static int check_content_type(const char *ct, int *csv, struct serve_error *e)
{
	struct strbuf unexpected = STRBUF_INIT;
	const char *part = ct, *mime = NULL, *charset = "utf-8";
	size_t mime_len = 0, charset_len = 5, nunexpected = 0;
	int rc = 0;

	if (!ct)
		return fail(e, ERR_UNSUPPORTED,
			    "This predictor only supports the following content types: Types: "
			    "['text/csv', 'application/json']. Got 'None'.");
	for (int first = 1;; first = 0) {
		const char *semi = strchr(part, ';'), *eq;
		size_t len = semi ? (size_t)(semi - part) : strlen(part);
		const char *s = strip(part, &len);

		if (first) {
			mime = s;
			mime_len = len;
		} else if ((eq = memchr(s, '=', len)) && eq - s == 7 && !memcmp(s, "charset", 7)) {
			charset = eq + 1;
			charset_len = len - 8;
		} else {
			size_t klen = eq ? (size_t)(eq - s) : len;

			strbuf_addf(&unexpected, "%s%.*s", nunexpected++ ? ", " : "", (int)klen, s);
		}
		if (!semi)
			break;
		part = semi + 1;
	}
	if (charset_len != 5 || strncasecmp(charset, "utf-8", 5))
		rc = fail(e, ERR_UNSUPPORTED, "The scoring server only supports UTF-8");
	else if (nunexpected)
		rc = fail(e, ERR_UNSUPPORTED, "Unrecognized content type parameters: %s. %s",
			  unexpected.buf, SCORING_PROTOCOL_CHANGE_INFO);
	else if (mime_len == 8 && !memcmp(mime, "text/csv", 8))
		*csv = 1;
	else if (mime_len == 16 && !memcmp(mime, "application/json", 16))
		*csv = 0;
	else
		rc = fail(e, ERR_UNSUPPORTED,
			  "This predictor only supports the following content types: Types: "
			  "['text/csv', 'application/json']. Got '%s'.",
			  ct);
	strbuf_release(&unexpected);
	return rc;
}

/* pandas.read_csv's default NA values. */
static int is_na_token(const char *s, size_t len)
{
	static const char *const tokens[] = {
		"#N/A", "#N/A N/A", "#NA",     "-1.#IND", "-1.#QNAN", "-NaN",
		"-nan", "1.#IND",   "1.#QNAN", "<NA>",	  "N/A",      "NA",
		"NULL", "NaN",	    "None",    "n/a",	  "nan",      "null",
	};

	if (!len)
		return 1;
	if (len > 8)
		return 0;
	for (size_t i = 0; i < ARRAY_SIZE(tokens); i++)
		if (strlen(tokens[i]) == len && !memcmp(tokens[i], s, len))
			return 1;
	return 0;
}

/* pandas' default true_values and false_values: -1 if s is neither. */
static int bool_token(const char *s, size_t len)
{
	if (len == 4 && (!memcmp(s, "True", 4) || !memcmp(s, "TRUE", 4) || !memcmp(s, "true", 4)))
		return 1;
	if (len == 5 &&
	    (!memcmp(s, "False", 5) || !memcmp(s, "FALSE", 5) || !memcmp(s, "false", 5)))
		return 0;
	return -1;
}

enum {
	SEEN_NUMBER = 1,
	SEEN_BOOL = 2,
	SEEN_STRING = 4
};

static int csv_cell(struct serve_input *in, struct serve_cell *c, const struct csv_field *f,
		    unsigned char *seen, const char *name, struct serve_error *e)
{
	double v;
	int kind, b;

	memset(c, 0, sizeof(*c));
	if (is_na_token(f->str, f->len))
		return 0;
	c->str = serve_strndup(in, f->str, f->len);
	c->len = f->len;
	kind = num_parse_field(f->str, f->len, &v);
	if (kind == NUM_FINITE) {
		c->type = SERVE_CELL_NUMBER;
		c->num = v;
		*seen |= SEEN_NUMBER;
	} else if (kind == NUM_NONFINITE) {
		return serve_detail(
		    e, ERR_INVALID,
		    "request body:%" PRIu64 ":%" PRIu32 ": '%.*s' in column '%.*s': "
		    "infinite numbers and numbers beyond the double range are not supported",
		    f->line, f->col, SERVE_NAME_IN_MSG, f->str, SERVE_NAME_IN_MSG, name);
	} else if ((b = bool_token(f->str, f->len)) >= 0) {
		c->type = SERVE_CELL_BOOL;
		c->b = b;
		c->num = b;
		*seen |= SEEN_BOOL;
	} else {
		c->type = SERVE_CELL_STRING;
		*seen |= SEEN_STRING;
	}
	return 0;
}

/*
 * pandas types whole columns: one value that is not a number (or not a boolean) makes the column
 * "object", where every value keeps its text.
 */
static void csv_column_types(struct serve_input *in, const unsigned char *seen)
{
	for (size_t j = 0; j < in->ncols; j++) {
		if (!(seen[j] & SEEN_STRING) && seen[j] != (SEEN_NUMBER | SEEN_BOOL))
			continue;
		for (size_t r = 0; r < in->nrows; r++) {
			struct serve_cell *c = &in->cells[r * in->ncols + j];

			if (c->type != SERVE_CELL_NULL) {
				c->type = SERVE_CELL_STRING;
				c->num = 0;
				c->b = 0;
			}
		}
	}
}

static int csv_rows(struct serve_input *in, struct csv_reader *r, unsigned char *seen,
		    struct serve_error *e)
{
	struct serve_mem *m = in->mem;
	const char *const *names = csv_column_names(r);
	size_t ncols = csv_ncols(r), nrows = 0;
	struct error err = ERROR_INIT;
	const struct csv_field *f;
	size_t n;
	int rc;

	while ((rc = csv_next_batch(&f, &n, r, 256, &err)) == 0 && n) {
		if ((nrows + n) > SERVE_MAX_CELLS / ncols)
			return serve_detail(e, ERR_TOOBIG, "the request has more than %u cells",
					    SERVE_MAX_CELLS);
		ALLOC_GROW(m->grow, (nrows + n) * ncols, m->grow_alloc);
		for (size_t i = 0; i < n * ncols; i++) {
			size_t j = i % ncols;

			rc =
			    csv_cell(in, &m->grow[nrows * ncols + i], &f[i], &seen[j], names[j], e);
			if (rc)
				return rc;
		}
		nrows += n;
	}
	if (rc)
		return serve_detail(e, rc, "%s", err.msg);
	if (!nrows)
		return serve_detail(e, ERR_INVALID,
				    "request body has a header but no rows: there are no rows "
				    "to predict");
	in->cells = m->grow;
	in->nrows = nrows;
	in->ncols = ncols;
	return 0;
}

/*
 * DataFrame.to_csv() writes the index first, under an empty name, which read_csv calls
 * "Unnamed: 0" (the server then sees an extra column). table/csv refuses empty names, so give it
 * that name in a copy.
 */
static const char *name_index_column(struct serve_input *in, const char *body, size_t *len)
{
	static const char name[] = "Unnamed: 0";
	size_t skip = *len >= 3 && !memcmp(body, "\xef\xbb\xbf", 3) ? 3 : 0;
	char *copy;

	if (*len <= skip || body[skip] != ',')
		return body;
	copy = serve_alloc(in, *len - skip + sizeof(name));
	memcpy(copy, name, sizeof(name) - 1);
	memcpy(copy + sizeof(name) - 1, body + skip, *len - skip);
	*len = *len - skip + sizeof(name) - 1;
	return copy;
}

static int parse_csv(struct serve_input *in, const char *body, size_t len, struct serve_error *e)
{
	struct csv_reader *r = NULL;
	struct error err = ERROR_INIT;
	unsigned char *seen = NULL;
	int rc;

	body = name_index_column(in, body, &len);
	rc = csv_open_buffer(&r, "request body", body, len, &err);
	if (rc) {
		serve_detail(e, rc, "%s", err.msg);
		goto out;
	}
	in->names = serve_alloc(in, csv_ncols(r) * sizeof(*in->names));
	for (size_t j = 0; j < csv_ncols(r); j++)
		in->names[j] =
		    serve_strndup(in, csv_column_names(r)[j], strlen(csv_column_names(r)[j]));
	seen = xcalloc(csv_ncols(r), 1);
	rc = csv_rows(in, r, seen, e);
	if (rc)
		goto out;
	csv_column_types(in, seen);
out:
	free(seen);
	csv_free(r);
	if (rc)
		return serve_fail_wrap(
		    e, SERVE_MLFLOW, rc,
		    "Failed to parse input as a Pandas DataFrame. Ensure that the "
		    "input is a valid CSV-formatted Pandas DataFrame produced "
		    "using the `pandas.DataFrame.to_csv()` method. Error: '%s'");
	return 0;
}

/* Python's repr of a set or list of keys: {'a', 'b'} / ['a', 'b'] ("set()" when empty). */
static void add_key(struct strbuf *sb, const char *key)
{
	strbuf_addf(sb, "%s'%.*s'", sb->len > 1 ? ", " : "", SERVE_NAME_IN_MSG, key);
}

static const char *const split_names[] = { "columns", "data", "index" };

/* The members of dataframe_split into m[] (split_names' order): pandas' keys only. */
static int split_keys(const struct sj_doc *d, uint32_t obj, uint32_t m[3], struct serve_error *e)
{
	struct strbuf keys = STRBUF_INIT;
	int dup = sj_members(d, obj, split_names, 3, m), rc;

	if (dup >= 0)
		return fail(e, ERR_INVALID, "Invalid input. The key '%s' appears twice.",
			    split_names[dup]);
	/* members other than the three: an object's children are keys and values */
	if (m[1] != SJ_NONE &&
	    d->nodes[obj].v.count == (uint64_t)(m[0] != SJ_NONE) + 1 + (m[2] != SJ_NONE))
		return 0;
	strbuf_addch(&keys, '{');
	for (uint32_t k = obj + 1; k < d->nodes[obj].end; k = d->nodes[k + 1].end)
		add_key(&keys, sj_str(d, k));
	strbuf_addch(&keys, '}');
	rc = fail(e, ERR_INVALID,
		  "Invalid input. Dataframe split format must have 'data' field and optionally "
		  "'columns' and 'index' fields. Got %s.'",
		  keys.len > 2 ? keys.buf : "set()");
	strbuf_release(&keys);
	return rc;
}

/*
 * "columns": names into the column index; or [0, 1, ...], how pandas writes a frame built
 * without names, which stays positional: *positional is then the count.
 */
static int split_columns(struct serve_input *in, const struct sj_doc *d, uint32_t cols,
			 size_t *positional, struct serve_error *e)
{
	const struct sj_node *nodes = d->nodes;
	size_t j = 0, ints = 0;
	int added;

	if (nodes[cols].type != SJ_ARRAY)
		return serve_detail(e, ERR_INVALID,
				    "dataframe_split.columns is %s: it must be a list of names",
				    sj_type_name(d, cols));
	for (uint32_t c = cols + 1; c < nodes[cols].end; c = nodes[c].end, j++)
		if (nodes[c].type == SJ_NUMBER && (nodes[c].flags & SJ_INTEGER) &&
		    nodes[c].v.num == (double)j)
			ints++;
	if (ints && ints == nodes[cols].v.count) {
		*positional = ints;
		return 0;
	}
	j = 0;
	serve_cols_reserve(in, nodes[cols].v.count);
	for (uint32_t c = cols + 1; c < nodes[cols].end; c = nodes[c].end, j++) {
		if (nodes[c].type != SJ_STRING)
			return serve_detail(e, ERR_INVALID,
					    "dataframe_split.columns[%zu] is %s: "
					    "column names must be strings",
					    j, sj_type_name(d, c));
		serve_col_intern(in, sj_str(d, c), nodes[c].v.s.len, &added);
		if (!added)
			return serve_detail(e, ERR_INVALID,
					    "dataframe_split.columns has '%.*s' twice",
					    SERVE_NAME_IN_MSG, sj_str(d, c));
	}
	return 0;
}

static int split_body(struct serve_input *in, const struct sj_doc *d, const uint32_t m[3],
		      struct serve_error *e)
{
	uint32_t cols = m[0], data = m[1], index = m[2];
	size_t positional = 0;
	int rc;

	if (cols != SJ_NONE && d->nodes[cols].type != SJ_NULL) {
		rc = split_columns(in, d, cols, &positional, e);
		if (rc)
			return rc;
	}
	if (d->nodes[data].type != SJ_ARRAY)
		return serve_detail(e, ERR_INVALID,
				    "dataframe_split.data is %s: it must be a list of rows",
				    sj_type_name(d, data));
	rc = serve_rows(in, d, data, "dataframe_split.data", 0, e);
	if (rc)
		return rc;
	if (positional && positional != in->ncols)
		return serve_detail(e, ERR_INVALID,
				    "%zu columns passed, passed data had %zu columns", positional,
				    in->ncols);
	if (index != SJ_NONE && d->nodes[index].type != SJ_NULL &&
	    (d->nodes[index].type != SJ_ARRAY || d->nodes[index].v.count != in->nrows))
		return serve_detail(
		    e, ERR_INVALID,
		    "Shape of passed values is (%zu, %zu), indices imply (%" PRIu64 ", %zu)",
		    in->nrows, in->ncols,
		    d->nodes[index].type == SJ_ARRAY ? d->nodes[index].v.count : 1, in->ncols);
	return 0;
}

static int dataframe_split(struct serve_input *in, const struct sj_doc *d, uint32_t v,
			   struct serve_error *e)
{
	uint32_t m[3];
	int rc;

	if (d->nodes[v].type != SJ_OBJECT) {
		if (d->nodes[v].type == SJ_ARRAY)
			return fail(e, ERR_INVALID,
				    "Invalid input. Dataframe split format must be a dictionary. "
				    "Got list.");
		return fail(
		    e, ERR_INVALID,
		    "Invalid input. Dataframe split format must be a dictionary. Got type %s.",
		    sj_python_type(d, v));
	}
	rc = split_keys(d, v, m, e);
	if (rc)
		return rc;
	rc = split_body(in, d, m, e);
	if (rc == ERR_INVALID)
		return serve_fail_wrap(
		    e, SERVE_MLFLOW, rc,
		    "Invalid input. Provided dataframe_split field is not a valid "
		    "dataframe representation in 'split' format. Error: '%s'");
	if (rc)
		return serve_fail_wrap(e, SERVE_MLFLOW, rc, "Invalid input. %s");
	return 0;
}

static int dataframe_records(struct serve_input *in, const struct sj_doc *d, uint32_t v,
			     struct serve_error *e)
{
	int rc;

	if (d->nodes[v].type != SJ_ARRAY) {
		if (d->nodes[v].type == SJ_OBJECT)
			return fail(e, ERR_INVALID,
				    "Invalid input. Dataframe records format must be a "
				    "list of records. Got dictionary.");
		return fail(
		    e, ERR_INVALID,
		    "Invalid input. Dataframe records format must be a list of records. Got "
		    "type %s.",
		    sj_python_type(d, v));
	}
	rc = serve_rows(in, d, v, "dataframe_records", 0, e);
	if (rc == ERR_INVALID)
		return serve_fail_wrap(e, SERVE_MLFLOW, rc,
				       "Invalid input. Provided dataframe_records field is not a "
				       "valid dataframe representation in 'records' format. Error: "
				       "'%s'");
	if (rc)
		return serve_fail_wrap(e, SERVE_MLFLOW, rc, "Invalid input. %s");
	return 0;
}

/* "instances" and "inputs": TF serving's row format, or its columnar one. */
static int tf_serving(struct serve_input *in, const struct sj_doc *d, uint32_t v, const char *name,
		      struct serve_error *e)
{
	int rc;

	if (d->nodes[v].type == SJ_ARRAY)
		rc = serve_rows(in, d, v, name, SERVE_ROWS_ALL_KEYS, e);
	else if (d->nodes[v].type == SJ_OBJECT)
		rc = serve_columns(in, d, v, name, e);
	else
		rc = serve_detail(e, ERR_INVALID,
				  "%s is %s: it must be a list of rows or an object of columns",
				  name, sj_type_name(d, v));
	if (rc == ERR_INVALID && in->mem->length_mismatch)
		return serve_fail_wrap(e, SERVE_MLFLOW, rc,
				       TF_SERVING_PREFIX "The length of values for each "
							 "input/column name are not the same (%s)");
	if (rc == ERR_INVALID)
		return serve_fail_wrap(e, SERVE_MLFLOW, rc, TF_SERVING_HELP ". Error: '%s'");
	if (rc)
		return serve_fail_wrap(e, SERVE_MLFLOW, rc, "Invalid input. %s");
	return 0;
}

static int params(struct serve_input *in, const struct sj_doc *d, uint32_t v, struct serve_error *e)
{
	static const char *const keys[] = { "predict_proba" };
	uint32_t p;

	if (d->nodes[v].type == SJ_NULL)
		return 0;
	if (d->nodes[v].type != SJ_OBJECT)
		return fail(e, ERR_INVALID,
			    "Invalid input. 'params' must be a dictionary. Got type %s.",
			    sj_python_type(d, v));
	if (sj_members(d, v, keys, 1, &p) >= 0)
		return fail(e, ERR_INVALID,
			    "Invalid input. The key 'predict_proba' appears twice.");
	if (p == SJ_NONE || d->nodes[p].type == SJ_NULL)
		return 0;
	if (d->nodes[p].type != SJ_TRUE && d->nodes[p].type != SJ_FALSE)
		return fail(e, ERR_INVALID,
			    "Invalid input. Param 'predict_proba' must be a boolean. Got type %s.",
			    sj_python_type(d, p));
	in->want_probabilities = d->nodes[p].type == SJ_TRUE;
	return 0;
}

static int format_of(const char *name)
{
	int i;

	for (i = 0; i < NFORMATS && strcmp(name, format_names[i]); i++)
		;
	return i;
}

/* MLflow's message when the format keys present (in document order) are not exactly one. */
static int not_one_format(const struct sj_doc *d, struct serve_error *e)
{
	struct strbuf keys = STRBUF_INIT;
	int rc;

	strbuf_addch(&keys, '[');
	for (uint32_t k = 1; k < d->nodes[0].end; k = d->nodes[k + 1].end)
		if (format_of(sj_str(d, k)) < NFORMATS)
			add_key(&keys, sj_str(d, k));
	strbuf_addch(&keys, ']');
	rc = fail(e, ERR_INVALID,
		  REQUIRED_INPUT_FORMAT ". Received dictionary with input fields: %s. %s", keys.buf,
		  SCORING_PROTOCOL_CHANGE_INFO);
	strbuf_release(&keys);
	return rc;
}

/* The top-level object: which format, and params. */
static int dispatch(struct serve_input *in, const struct sj_doc *d, struct serve_error *e)
{
	uint32_t found[NFORMATS], par = SJ_NONE;
	int nfound = 0, which = 0, rc;

	for (int i = 0; i < NFORMATS; i++)
		found[i] = SJ_NONE;
	for (uint32_t k = 1; k < d->nodes[0].end; k = d->nodes[k + 1].end) {
		const char *name = sj_str(d, k);
		int i = format_of(name);

		if (i == NFORMATS && strcmp(name, "params"))
			continue; /* MLflow drops every other key */
		if (i == NFORMATS ? par != SJ_NONE : found[i] != SJ_NONE)
			return fail(e, ERR_INVALID, "Invalid input. The key '%s' appears twice.",
				    name);
		if (i == NFORMATS) {
			par = k + 1;
			continue;
		}
		found[i] = k + 1;
		which = i;
		nfound++;
	}
	if (nfound != 1)
		return not_one_format(d, e);
	if (par != SJ_NONE && (rc = params(in, d, par, e)))
		return rc;
	switch (which) {
	case DF_SPLIT:
		return dataframe_split(in, d, found[which], e);
	case DF_RECORDS:
		return dataframe_records(in, d, found[which], e);
	default:
		return tf_serving(in, d, found[which], format_names[which], e);
	}
}

static int parse_json(struct serve_input *in, const char *body, size_t len, struct serve_error *e)
{
	struct sj_doc d;
	int rc = sj_parse(&d, in, body, len, SJ_NONSTANDARD, e);

	if (rc == ERR_TOOBIG)
		return serve_fail_wrap(e, SERVE_MLFLOW, rc, "Invalid input. %s");
	if (rc)
		return serve_fail_wrap(e, SERVE_MLFLOW, rc,
				       "Invalid input. Ensure that input is a valid JSON formatted "
				       "string. Error: '%s'");
	if (d.nodes[0].type == SJ_ARRAY)
		return fail(e, ERR_INVALID,
			    "Invalid input. " REQUIRED_INPUT_FORMAT ". Received a list.");
	if (d.nodes[0].type != SJ_OBJECT)
		return fail(e, ERR_INVALID,
			    "Invalid input. " REQUIRED_INPUT_FORMAT
			    ". Received unexpected input type '%s.",
			    sj_python_type(&d, 0));
	return dispatch(in, &d, e);
}

int serve_parse_mlflow(struct serve_input *out, const char *content_type, const char *body,
		       size_t len, struct serve_error *e)
{
	int csv = 0;
	int rc;

	serve_input_reset(out);
	rc = check_content_type(content_type, &csv, e);
	if (!rc)
		rc = csv ? parse_csv(out, body, len, e) : parse_json(out, body, len, e);
	if (rc)
		serve_input_empty(out);
	return rc;
}
