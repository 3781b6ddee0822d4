/*
 * Reading a monitoring window (monitor/window.h): one pass over the log from the window's start
 * (found by time, or by reading ever longer tails for the last N predictions). Each prediction
 * is reduced to a compact row as it is read (numbers, interned strings, probabilities: a few
 * hundred bytes, not its parsed JSON), feedback is joined through a sorted index of request
 * ids, then the columns are built.
 */
#include "util/common.h"
#include "monitor/window.h"
#include "monitor/infer_log.h"
#include "util/parse.h"

#include <math.h>

#define NO_STRING UINT32_MAX

/* Distinct strings (categories, labels, digests) stored once, by index. */
struct intern {
	char **strs;
	size_t n, alloc;
	uint32_t *slots; /* open addressing: index + 1, 0 for empty */
	size_t nslots;
};

static uint32_t hash_str(const char *s)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static void intern_grow(struct intern *in)
{
	size_t n = in->nslots ? in->nslots * 2 : 64;
	uint32_t *slots = xcalloc(n, sizeof(*slots));

	for (size_t i = 0; i < in->n; i++) {
		size_t j = hash_str(in->strs[i]) & (n - 1);

		while (slots[j])
			j = (j + 1) & (n - 1);
		slots[j] = (uint32_t)i + 1;
	}
	free(in->slots);
	in->slots = slots;
	in->nslots = n;
}

/* The index of s (copied on first sight); NO_STRING for NULL. */
static uint32_t intern(struct intern *in, const char *s)
{
	size_t j;

	if (!s)
		return NO_STRING;
	if ((in->n + 1) * 2 > in->nslots)
		intern_grow(in);
	for (j = hash_str(s) & (in->nslots - 1); in->slots[j]; j = (j + 1) & (in->nslots - 1))
		if (!strcmp(in->strs[in->slots[j] - 1], s))
			return in->slots[j] - 1;
	ALLOC_GROW(in->strs, in->n + 1, in->alloc);
	in->strs[in->n] = xstrdup(s);
	in->slots[j] = (uint32_t)++in->n;
	return (uint32_t)(in->n - 1);
}

static const char *interned(const struct intern *in, uint32_t i)
{
	return i == NO_STRING ? NULL : in->strs[i];
}

static void intern_release(struct intern *in)
{
	for (size_t i = 0; i < in->n; i++)
		free(in->strs[i]);
	free(in->strs);
	free(in->slots);
}

/* A prediction as a compact row; its feature values and probabilities are in struct scan. */
struct pred {
	char *request_id;
	int64_t time_ms;
	int64_t version;
	uint32_t digest; /* interned */
	uint32_t label;	 /* the predicted class, interned (classification) */
	uint32_t bad;	 /* input values of the wrong kind */
	double value;	 /* the predicted value (regression) */
	json_t *truth;	 /* referenced: the joined ground truth, or NULL */
};

struct fb {
	char *request_id;
	json_t *label; /* referenced */
};

struct scan {
	const struct window_options *o;
	size_t nf, k; /* features, classes */
	struct pred *preds;
	size_t n_preds, alloc_preds;
	double *num;   /* n_preds x nf: numeric features (NaN: missing) */
	uint32_t *cat; /* n_preds x nf: categorical features (interned) */
	double *proba; /* n_preds x k */
	size_t alloc_rows;
	struct intern strings;
	struct fb *fbs;
	size_t n_fbs, alloc_fbs;
	uint64_t records, other_models, damaged;
};

static void scan_init(struct scan *s, const struct window_options *o)
{
	memset(s, 0, sizeof(*s));
	s->o = o;
	s->nf = o->features->nfeatures;
	s->k = o->target->task == TASK_REGRESSION ? 0 : o->target->nclasses;
}

static void scan_release(struct scan *s)
{
	for (size_t i = 0; i < s->n_preds; i++) {
		free(s->preds[i].request_id);
		json_decref(s->preds[i].truth);
	}
	for (size_t i = 0; i < s->n_fbs; i++) {
		free(s->fbs[i].request_id);
		json_decref(s->fbs[i].label);
	}
	free(s->preds);
	free(s->num);
	free(s->cat);
	free(s->proba);
	free(s->fbs);
	intern_release(&s->strings);
	memset(s, 0, sizeof(*s));
}

char *window_label_text(const json_t *label)
{
	char buf[FORMAT_DOUBLE_SIZE];

	switch (json_typeof(label)) {
	case JSON_STRING:
		return xstrdup(json_string_value(label));
	case JSON_INTEGER:
		return xstrfmt("%" JSON_INTEGER_FORMAT, json_integer_value(label));
	case JSON_REAL:
		format_double(buf, json_real_value(label));
		return xstrdup(buf);
	case JSON_TRUE:
		return xstrdup("true");
	case JSON_FALSE:
		return xstrdup("false");
	default:
		return NULL;
	}
}

/* A feature's value in one prediction's inputs (an object, or an array in feature order). */
static const json_t *input_value(const json_t *inputs, const struct preprocess *p, size_t f)
{
	if (json_is_object(inputs))
		return json_object_get(inputs, p->features[f].name);
	if (json_is_array(inputs))
		return json_array_get(inputs, f);
	return NULL;
}

static double number_of(const json_t *v, uint64_t *bad)
{
	double d;

	if (!v || json_is_null(v))
		return NAN;
	if (json_is_number(v) && isfinite(json_number_value(v)))
		return json_number_value(v);
	if (json_is_boolean(v))
		return json_is_true(v);
	if (json_is_string(v)) {
		int b = table_parse_bool(json_string_value(v), json_string_length(v));

		if (b >= 0)
			return b;
		if (!parse_double(json_string_value(v), &d) && isfinite(d))
			return d;
	}
	(*bad)++;
	return NAN;
}

/* Makes room for one more row in the per-row arrays. */
static void grow_rows(struct scan *s)
{
	size_t old = s->alloc_rows;

	ALLOC_GROW(s->preds, s->n_preds + 1, s->alloc_preds);
	if (s->alloc_preds == old)
		return;
	s->alloc_rows = s->alloc_preds;
	s->num = xreallocarray(s->num, s->alloc_rows * (s->nf ? s->nf : 1), sizeof(*s->num));
	s->cat = xreallocarray(s->cat, s->alloc_rows * (s->nf ? s->nf : 1), sizeof(*s->cat));
	s->proba = xreallocarray(s->proba, s->alloc_rows * (s->k ? s->k : 1), sizeof(*s->proba));
}

static void keep_features(struct scan *s, struct pred *p, const json_t *inputs)
{
	const struct preprocess *pre = s->o->features;
	uint64_t bad = 0;

	for (size_t f = 0; f < s->nf; f++) {
		const json_t *v = input_value(inputs, pre, f);
		size_t at = s->n_preds * s->nf + f;

		s->num[at] = NAN;
		s->cat[at] = NO_STRING;
		if (pre->features[f].type != COLUMN_CATEGORICAL) {
			s->num[at] = number_of(v, &bad);
		} else if (v && !json_is_null(v)) {
			char *text = window_label_text(v);

			bad += !text;
			s->cat[at] = intern(&s->strings, text);
			free(text);
		}
	}
	p->bad = (uint32_t)bad;
}

static void keep_output(struct scan *s, struct pred *p, const json_t *output)
{
	const struct target *t = s->o->target;
	const json_t *probs = json_object_get(output, "probabilities");
	char *label;

	if (t->task == TASK_REGRESSION) {
		const json_t *v = json_object_get(output, "value");

		p->value = json_is_number(v) ? json_number_value(v) : NAN;
		return;
	}
	label = json_object_get(output, "label")
		    ? window_label_text(json_object_get(output, "label"))
		    : NULL;
	p->label = intern(&s->strings, label);
	free(label);
	for (size_t c = 0; c < s->k; c++) {
		const json_t *pv = json_object_get(probs, t->classes[c]);

		s->proba[s->n_preds * s->k + c] = json_is_number(pv) ? json_number_value(pv) : NAN;
	}
}

static void keep_entry(struct scan *s, const struct infer_entry *e)
{
	struct pred *p;

	if (e->kind == INFER_FEEDBACK) {
		ALLOC_GROW(s->fbs, s->n_fbs + 1, s->alloc_fbs);
		s->fbs[s->n_fbs].request_id = xstrdup(e->request_id);
		s->fbs[s->n_fbs++].label = json_incref(e->label ? e->label : json_null());
		return;
	}
	grow_rows(s);
	p = &s->preds[s->n_preds];
	*p = (struct pred){
		.request_id = xstrdup(e->request_id),
		.time_ms = e->time_ms,
		.version = e->version,
		.digest = intern(&s->strings, e->digest),
		.label = NO_STRING,
	};
	keep_features(s, p, e->inputs);
	keep_output(s, p, e->output);
	s->n_preds++;
}

/* Reads the log with ro into s; predictions of other models are only counted. */
static int scan_log(struct scan *s, const struct window_options *o,
		    const struct infer_reader_options *ro, struct error *err)
{
	uint64_t max_rows = o->max_rows ? o->max_rows : WINDOW_MAX_ROWS;
	struct infer_reader *r = NULL;
	struct infer_read_stats st;
	struct infer_entry e;
	int rc;

	if ((rc = infer_reader_open(&r, o->dir, ro, err)) < 0) {
		if (rc == ERR_NOTFOUND)
			error_set(err, rc,
				  "no inference log in '%s' (ferry serve writes one per model "
				  "there; pass --log-dir DIR if it logged elsewhere)",
				  o->dir);
		return rc;
	}
	while ((rc = infer_reader_next(r, &e, err)) > 0) {
		s->records++;
		if (e.kind == INFER_PREDICTION && o->model &&
		    (!e.model || strcmp(e.model, o->model))) {
			s->other_models++;
			continue;
		}
		if (e.kind == INFER_PREDICTION && o->since_ms && e.time_ms < o->since_ms)
			continue;
		keep_entry(s, &e);
		/* a last-N read trims later; a time window must fit as it is */
		if (!o->last_n && s->n_preds > max_rows) {
			rc = error_set(err, ERR_TOOBIG,
				       "the window holds more than %" PRIu64
				       " predictions: use a shorter --since or --window N",
				       max_rows);
			break;
		}
	}
	infer_reader_stats(r, &st);
	s->damaged = st.bad_lines + (st.torn_bytes ? 1 : 0);
	infer_reader_free(r);
	return rc < 0 ? rc : 0;
}

/*
 * The last N predictions: read ever longer tails (records of every kind count towards a tail)
 * until one holds N predictions of the model or the whole log.
 */
static int scan_last_n(struct scan *out, const struct window_options *o, struct error *err)
{
	uint64_t tail = o->last_n < 512 ? 1024 : o->last_n * 2;
	int rc;

	for (;;) {
		struct scan s;
		struct infer_reader_options ro = { o->since_ms, tail };

		scan_init(&s, o);
		if ((rc = scan_log(&s, o, &ro, err)) < 0) {
			scan_release(&s);
			return rc;
		}
		if (s.n_preds >= o->last_n || s.records < tail || tail > UINT64_MAX / 4) {
			*out = s;
			return 0;
		}
		scan_release(&s);
		tail *= 4;
	}
}

/* Drops all but the last keep predictions (joined already). */
static void trim(struct scan *s, size_t keep)
{
	size_t drop;

	if (s->n_preds <= keep)
		return;
	drop = s->n_preds - keep;
	for (size_t i = 0; i < drop; i++) {
		free(s->preds[i].request_id);
		json_decref(s->preds[i].truth);
	}
	memmove(s->preds, s->preds + drop, keep * sizeof(*s->preds));
	memmove(s->num, s->num + drop * s->nf, keep * s->nf * sizeof(*s->num));
	memmove(s->cat, s->cat + drop * s->nf, keep * s->nf * sizeof(*s->cat));
	memmove(s->proba, s->proba + drop * s->k, keep * s->k * sizeof(*s->proba));
	s->n_preds = keep;
}

/* Sorting prediction indices by (request id, position in the log). */
static int cmp_index(const void *a, const void *b, void *data)
{
	const struct pred *preds = data;
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	int c = strcmp(preds[i].request_id, preds[j].request_id);

	return c ? c : (i > j) - (i < j);
}

/* The first index in idx (sorted) whose prediction has request id id, or n. */
static size_t lower_bound(const size_t *idx, size_t n, const struct pred *p, const char *id)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(p[idx[mid]].request_id, id) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void set_label(struct pred *p, json_t *label)
{
	json_decref(p->truth);
	p->truth = json_incref(label);
}

/*
 * Joins feedback to the predictions read; counts the feedback whose request is not among them
 * (*unmatched) and the feedback whose label does not fit the request's rows (*ambiguous).
 */
static void join(struct scan *s, uint64_t *unmatched, uint64_t *ambiguous)
{
	size_t *idx = xcalloc(s->n_preds ? s->n_preds : 1, sizeof(*idx));

	for (size_t i = 0; i < s->n_preds; i++)
		idx[i] = i;
	qsort_r(idx, s->n_preds, sizeof(*idx), cmp_index, s->preds);
	for (size_t f = 0; f < s->n_fbs; f++) {
		const char *id = s->fbs[f].request_id;
		json_t *label = s->fbs[f].label;
		size_t lo = lower_bound(idx, s->n_preds, s->preds, id), hi = lo;

		while (hi < s->n_preds && !strcmp(s->preds[idx[hi]].request_id, id))
			hi++;
		if (hi - lo == 1 && !(json_is_array(label) && json_array_size(label) == 1)) {
			set_label(&s->preds[idx[lo]], label);
		} else if (hi > lo && json_is_array(label) && json_array_size(label) == hi - lo) {
			for (size_t j = lo; j < hi; j++)
				set_label(&s->preds[idx[j]], json_array_get(label, j - lo));
		} else if (hi == lo) {
			(*unmatched)++;
		} else {
			(*ambiguous)++;
		}
	}
	free(idx);
}

static int add_feature(struct monitor_window *w, const struct scan *s, size_t f, struct error *err)
{
	const struct feature *ft = &s->o->features->features[f];
	size_t n = s->n_preds;
	int rc;

	if (ft->type == COLUMN_CATEGORICAL) {
		const char **vals = xcalloc(n, sizeof(*vals));

		for (size_t i = 0; i < n; i++)
			vals[i] = interned(&s->strings, s->cat[i * s->nf + f]);
		rc = table_add_categorical(w->inputs, ft->name, vals, n, err);
		free(vals);
	} else {
		double *vals = xcalloc(n, sizeof(*vals));

		for (size_t i = 0; i < n; i++)
			vals[i] = s->num[i * s->nf + f];
		rc = table_add_numeric(w->inputs, ft->name, vals, n, err);
		free(vals);
	}
	return rc;
}

/* Digests are interned: equal indices are equal digests. */
static bool same_model(const struct pred *a, const struct pred *b)
{
	return a->version == b->version && a->digest == b->digest;
}

static int build(struct monitor_window *w, struct scan *s, struct error *err)
{
	size_t n = s->n_preds;
	int rc;

	w->n = n;
	if (!n)
		return 0;
	w->inputs = table_new("inference log window");
	for (size_t f = 0; f < s->nf; f++)
		if ((rc = add_feature(w, s, f, err)) < 0)
			return rc;
	w->k = s->k;
	if (s->o->target->task == TASK_REGRESSION) {
		w->pred_values = xcalloc(n, sizeof(*w->pred_values));
	} else {
		w->pred_labels = xcalloc(n, sizeof(*w->pred_labels));
		w->proba = xcalloc(n * (s->k ? s->k : 1), sizeof(*w->proba));
		memcpy(w->proba, s->proba, n * s->k * sizeof(*w->proba));
	}
	w->labels = xcalloc(n, sizeof(*w->labels));
	for (size_t i = 0; i < n; i++) {
		const struct pred *p = &s->preds[i];
		const char *label = interned(&s->strings, p->label);

		if (w->pred_values)
			w->pred_values[i] = p->value;
		else
			w->pred_labels[i] = label ? xstrdup(label) : NULL;
		if (p->truth && (w->labels[i] = window_label_text(p->truth)))
			w->labelled++;
		w->bad_values += p->bad;
		if (!i || !same_model(p, p - 1))
			w->versions_seen++;
	}
	w->start_ms = s->preds[0].time_ms;
	w->end_ms = s->preds[n - 1].time_ms;
	w->version = s->preds[n - 1].version;
	if (interned(&s->strings, s->preds[n - 1].digest))
		w->digest = xstrdup(interned(&s->strings, s->preds[n - 1].digest));
	return 0;
}

int monitor_window_read(struct monitor_window **out, const struct window_options *o,
			struct error *err)
{
	struct monitor_window *w = xcalloc(1, sizeof(*w));
	struct scan s;
	int rc;

	scan_init(&s, o);
	if (o->last_n)
		rc = scan_last_n(&s, o, err);
	else
		rc = scan_log(&s, o, &(struct infer_reader_options){ o->since_ms, 0 }, err);
	if (rc < 0)
		goto out;
	/* before trimming, so that a request cut by the window's start keeps its rows' labels */
	join(&s, &w->feedback_unmatched, &w->feedback_ambiguous);
	if (o->last_n)
		trim(&s, o->last_n);
	w->feedback_records = s.n_fbs;
	w->damaged = s.damaged;
	w->other_models = s.other_models;
	if ((rc = build(w, &s, err)) < 0)
		goto out;
	*out = w;
	w = NULL;
out:
	scan_release(&s);
	monitor_window_free(w);
	return rc;
}

void monitor_window_free(struct monitor_window *w)
{
	if (!w)
		return;
	table_free(w->inputs);
	for (size_t i = 0; i < w->n; i++) {
		if (w->pred_labels)
			free(w->pred_labels[i]);
		if (w->labels)
			free(w->labels[i]);
	}
	free(w->pred_labels);
	free(w->pred_values);
	free(w->proba);
	free(w->labels);
	free(w->digest);
	free(w);
}

int window_parse_duration(int64_t *out_ms, const char *s, struct error *err)
{
	static const struct {
		const char *unit;
		int64_t ms;
	} units[] = { { "ms", 1 },	{ "s", 1000 },	   { "m", 60000 },
		      { "h", 3600000 }, { "d", 86400000 }, { "w", 604800000 } };
	const char *p = s ? s : "";
	char digits[24];
	size_t n = 0;
	uint64_t v;

	while (p[n] >= '0' && p[n] <= '9')
		n++;
	if (n && n < sizeof(digits)) {
		memcpy(digits, p, n);
		digits[n] = '\0';
		for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
			if (strcmp(p + n, units[i].unit))
				continue;
			if (parse_uint64(digits, &v) || !v || v > (uint64_t)INT64_MAX / units[i].ms)
				break;
			*out_ms = (int64_t)v * units[i].ms;
			return 0;
		}
	}
	return error_set(err, ERR_INVALID,
			 "invalid duration '%s': expected a positive number and a unit (ms, s, "
			 "m, h, d, w), e.g. 30m or 1h",
			 p);
}
