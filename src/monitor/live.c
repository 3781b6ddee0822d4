/*
 * Live monitoring of a served model (monitor/live.h): the reference summarised once, the window
 * of sketch blocks the request path feeds, the pending predictions feedback joins, and the
 * report a scrape computes.
 */
#include "util/common.h"
#include "monitor/live.h"

#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

#include "ml/preprocess.h"
#include "monitor/drift_stats.h"
#include "monitor/reference.h"
#include "monitor/sketch.h"
#include "table/number.h"

/*
 * Each block keeps one set of sketches per shard, and a thread always writes to the same shard:
 * request threads update sketches in parallel, and a scrape merges the shards.
 */
#define LIVE_SHARDS 4
/* Numeric values rebuilt from a stored profile's histogram (the fallback reference). */
#define PROFILE_POINTS 10000

/* ---- the reference ---------------------------------------------------------------------- */

struct ref_col {
	bool present;	  /* this feature has a reference */
	bool categorical; /* Evidently's kind: categorical and boolean features */
	uint64_t n;	  /* non-missing values */
	/* numeric */
	double *sorted; /* nsorted ascending points, each standing for n / nsorted values */
	size_t nsorted;
	double std; /* population (ddof 0) */
	double distinct[COLSKETCH_DISTINCT_MAX];
	uint64_t dcount[COLSKETCH_DISTINCT_MAX];
	size_t ndistinct;
	bool doverflow; /* more distinct values than COLSKETCH_DISTINCT_MAX (or unknown) */
	/* categorical: keys ascending by bytes, and values the reference pooled as "other" */
	char **keys;
	uint64_t *counts;
	size_t nkeys;
	uint64_t other;
};

static void ref_col_release(struct ref_col *r)
{
	free(r->sorted);
	for (size_t i = 0; i < r->nkeys; i++)
		free(r->keys[i]);
	free(r->keys);
	free(r->counts);
	memset(r, 0, sizeof(*r));
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Sorted values into r: order statistics past LIVE_REF_MAX_POINTS, distinct values, std. */
static void ref_numeric(struct ref_col *r, double *v, size_t n)
{
	double mean = 0, ss = 0;

	qsort(v, n, sizeof(*v), cmp_double);
	r->present = n > 0;
	r->n = n;
	for (size_t i = 0; i < n; i++)
		mean += v[i];
	mean = n ? mean / (double)n : 0;
	for (size_t i = 0; i < n; i++)
		ss += (v[i] - mean) * (v[i] - mean);
	r->std = n ? sqrt(ss / (double)n) : 0;
	for (size_t i = 0; i < n && !r->doverflow; i++) {
		if (i && v[i] == v[i - 1]) {
			r->dcount[r->ndistinct - 1]++;
			continue;
		}
		if (r->ndistinct == COLSKETCH_DISTINCT_MAX) {
			r->doverflow = true;
			break;
		}
		r->distinct[r->ndistinct] = v[i];
		r->dcount[r->ndistinct++] = 1;
	}
	if (n > LIVE_REF_MAX_POINTS) {
		r->nsorted = LIVE_REF_MAX_POINTS;
		r->sorted = xmalloc(r->nsorted * sizeof(double));
		/* the midpoints of equal slices: order statistics at ranks (j + 0.5) n / N */
		for (size_t j = 0; j < r->nsorted; j++)
			r->sorted[j] =
			    v[(size_t)(((double)j + 0.5) * (double)n / (double)r->nsorted)];
		free(v);
	} else {
		r->nsorted = n;
		r->sorted = v;
	}
}

struct keycount {
	const char *key;
	uint64_t count;
};

static int cmp_keycount(const void *a, const void *b)
{
	return strcmp(((const struct keycount *)a)->key, ((const struct keycount *)b)->key);
}

/* Categories into r, sorted by key; kc's keys are copied. */
static void ref_categorical(struct ref_col *r, struct keycount *kc, size_t n, uint64_t other)
{
	r->categorical = true;
	qsort(kc, n, sizeof(*kc), cmp_keycount);
	r->keys = xcalloc(n ? n : 1, sizeof(*r->keys));
	r->counts = xcalloc(n ? n : 1, sizeof(*r->counts));
	for (size_t i = 0; i < n; i++) {
		r->keys[r->nkeys] = xstrdup(kc[i].key);
		r->counts[r->nkeys++] = kc[i].count;
		r->n += kc[i].count;
	}
	r->other = other;
	r->n += other;
	r->present = r->n > 0;
}

static bool is_categorical(enum column_type t)
{
	return t != COLUMN_NUMERIC;
}

/* One feature's reference from the table column c (the training column of that name). */
static void ref_from_column(struct ref_col *r, const struct feature *f, const struct column *c,
			    size_t nrows)
{
	if (!is_categorical(f->type) && c->type == COLUMN_NUMERIC) {
		double *v = xmalloc((nrows ? nrows : 1) * sizeof(*v));
		size_t n = 0;

		for (size_t i = 0; i < nrows; i++)
			if (!column_is_missing(c, i))
				v[n++] = c->values[i];
		ref_numeric(r, v, n);
	} else if (f->type == COLUMN_BOOLEAN && c->type == COLUMN_BOOLEAN) {
		struct keycount kc[2] = { { "false", 0 }, { "true", 0 } };

		for (size_t i = 0; i < nrows; i++)
			if (!column_is_missing(c, i))
				kc[c->values[i] != 0].count++;
		ref_categorical(r, kc, 2, 0);
	} else if (f->type == COLUMN_CATEGORICAL && c->type == COLUMN_CATEGORICAL) {
		size_t nk = column_ncategories(c);
		struct keycount *kc = xcalloc(nk ? nk : 1, sizeof(*kc));

		for (size_t k = 0; k < nk; k++)
			kc[k].key = column_category(c, (uint32_t)k);
		for (size_t i = 0; i < nrows; i++)
			if (c->codes[i] != TABLE_NO_CODE)
				kc[c->codes[i]].count++;
		ref_categorical(r, kc, nk, 0);
		free(kc);
	}
	/* a column whose type differs from the feature's has no reference */
}

/* One feature's reference from its stored profile column (the coarse fallback). */
static void ref_from_profile(struct ref_col *r, const struct feature *f, const json_t *col)
{
	if (!is_categorical(f->type)) {
		const json_t *h = json_object_get(col, "histogram");
		const json_t *edges = json_object_get(h, "edges"),
			     *counts = json_object_get(h, "counts");
		uint64_t n = (uint64_t)json_integer_value(json_object_get(col, "count"));
		double std = json_number_value(json_object_get(col, "std"));
		size_t nb = json_array_size(counts), at = 0;
		double *v;

		if (!n || !nb || json_array_size(edges) != nb + 1)
			return;
		v = xmalloc((PROFILE_POINTS + nb) * sizeof(*v));
		for (size_t b = 0; b < nb; b++) {
			double lo = json_number_value(json_array_get(edges, b));
			double hi = json_number_value(json_array_get(edges, b + 1));
			double share =
			    (double)json_integer_value(json_array_get(counts, b)) / (double)n;
			size_t k = (size_t)llround(share * PROFILE_POINTS);

			for (size_t j = 0; j < k && at < PROFILE_POINTS + nb; j++)
				v[at++] = lo + ((double)j + 0.5) / (double)k * (hi - lo);
		}
		ref_numeric(r, v, at);
		r->n = n;
		/* the profile's std is the sample one (ddof 1) */
		r->std = n > 1 && isfinite(std) ? std * sqrt((double)(n - 1) / (double)n) : r->std;
		r->doverflow =
		    true; /* distinct values unknown: never take the low-cardinality tests */
		r->ndistinct = 0;
	} else {
		const json_t *top = json_object_get(col, "top"), *item;
		size_t n = json_array_size(top), i;
		struct keycount *kc = xcalloc(n ? n : 1, sizeof(*kc));

		json_array_foreach(top, i, item) {
			const char *key = json_string_value(json_object_get(item, "value"));

			kc[i].key = key ? key : "";
			kc[i].count = (uint64_t)json_integer_value(json_object_get(item, "count"));
		}
		ref_categorical(r, kc, n,
				(uint64_t)json_integer_value(json_object_get(col, "other")));
		free(kc);
	}
}

/* ---- the monitor ------------------------------------------------------------------------ */

struct block {
	uint64_t rows;			     /* rows claimed for this block (under wlock) */
	atomic_int writers;		     /* threads still writing the rows they claimed */
	struct colsketch *cols[LIVE_SHARDS]; /* per shard: nfeat features, then the prediction */
};

struct pending_req {
	uint64_t hash, seq; /* seq: position of its first row in the row ring (total rows) */
	uint32_t nrows;
	bool open; /* still awaiting its label */
};

struct labelled {
	uint32_t pred, truth; /* classes */
	double score, value;  /* positive-class probability or predicted value; true value */
};

struct live_monitor {
	const struct model *m;
	struct live_options o;
	size_t nfeat, ncols; /* ncols = nfeat + 1: the prediction */
	enum ml_task task;
	struct colsketch_options *copts;
	struct ref_col *ref; /* ncols */
	bool has_ref;
	bool exact_ref; /* the reference is the training rows */
	char note[512];

	/*
	 * The window: wlock guards which block is current and the row counts (and keeps a report
	 * and a rotation apart); shard[s] guards every block's sketches of shard s.
	 */
	pthread_mutex_t wlock, shard[LIVE_SHARDS];
	struct block *blocks;
	size_t cur, block_rows;
	uint64_t observed;

	pthread_mutex_t lock; /* the pending predictions, labelled rows and counters below */

	/* predictions awaiting labels: a ring of rows and a ring of requests, hashed by id */
	struct labelled *prow; /* pred, score of each row */
	size_t prow_cap;
	uint64_t prow_head;
	struct pending_req *preq;
	size_t preq_cap;
	uint64_t preq_head, preq_tail;
	uint32_t *slots; /* index into preq + 1 */
	size_t nslots;

	struct labelled *lab; /* ring of the last labelled rows */
	size_t lab_cap, lab_n, lab_head;
	uint64_t matched, unknown, invalid, evicted;
};

static int check_options(struct live_options *o, struct error *err)
{
	if (!o->window)
		o->window = 5000;
	if (!o->blocks)
		o->blocks = o->window < 10 ? 1 : 10;
	if (!o->k)
		o->k = KLL_DEFAULT_K;
	if (!o->categories)
		o->categories = 256;
	if (!o->pending)
		o->pending = 100000;
	if (!o->labelled)
		o->labelled = o->window;
	if (!(o->drift_share > 0))
		o->drift_share = 0.5;
	/* a handful of rows is not a distribution: every distance would alarm */
	if (!o->min_rows)
		o->min_rows = o->window < 100 ? o->window : 100;
	if (o->blocks > o->window)
		return error_set(
		    err, ERR_INVALID,
		    "the monitoring window (%zu rows) must hold at least its %zu blocks", o->window,
		    o->blocks);
	if (o->window > ((size_t)1 << 32) || o->pending > ((size_t)1 << 30) ||
	    o->labelled > ((size_t)1 << 30))
		return error_set(err, ERR_INVALID, "monitoring window or buffers too large");
	if (o->k < KLL_MIN_K || o->k > KLL_MAX_K)
		return error_set(err, ERR_INVALID, "sketch parameter k must be %d..%d, got %u",
				 KLL_MIN_K, KLL_MAX_K, o->k);
	return 0;
}

/* Prediction reference: the model's outputs on (at most LIVE_REF_MAX_POINTS of) the rows. */
static void ref_predictions(struct live_monitor *mon, const struct table *t, const size_t *cols)
{
	const struct model *m = mon->m;
	struct ref_col *r = &mon->ref[mon->nfeat];
	size_t n = t->nrows < LIVE_REF_MAX_POINTS ? t->nrows : LIVE_REF_MAX_POINTS;
	size_t width = model_output_width(m);
	size_t *rows = xmalloc((n ? n : 1) * sizeof(*rows));
	double *X = xmalloc((n ? n : 1) * (m->pre.width ? m->pre.width : 1) * sizeof(*X));
	double *out = xmalloc((n ? n : 1) * width * sizeof(*out));
	struct error ignored = ERROR_INIT;

	for (size_t i = 0; i < n; i++)
		rows[i] = (size_t)((double)i * (double)t->nrows / (double)n);
	preprocess_transform(&m->pre, t, cols, rows, n, X);
	if (n && !model_predict(m, X, n, out, &ignored)) {
		if (mon->task == TASK_MULTICLASS) {
			struct keycount *kc = xcalloc(m->target.nclasses, sizeof(*kc));

			for (size_t c = 0; c < m->target.nclasses; c++)
				kc[c].key = m->target.classes[c];
			for (size_t i = 0; i < n; i++)
				kc[model_decide(m, out + i * width)].count++;
			ref_categorical(r, kc, m->target.nclasses, 0);
			free(kc);
		} else {
			double *v = xmalloc(n * sizeof(*v));
			size_t k = 0;

			for (size_t i = 0; i < n; i++) {
				double x = mon->task == TASK_BINARY ? out[i * width + 1] : out[i];

				if (isfinite(x))
					v[k++] = x;
			}
			ref_numeric(r, v, k);
		}
	}
	free(rows);
	free(X);
	free(out);
}

static void reference_from_table(struct live_monitor *mon, const struct table *t)
{
	size_t *cols = xcalloc(mon->nfeat ? mon->nfeat : 1, sizeof(*cols));
	struct error ignored = ERROR_INIT;
	bool all = true;

	for (size_t f = 0; f < mon->nfeat; f++) {
		const struct feature *feat = &mon->m->pre.features[f];

		if (table_find(&cols[f], t, feat->name, &ignored)) {
			all = false;
			continue;
		}
		ref_from_column(&mon->ref[f], feat, t->cols[cols[f]], t->nrows);
		/* scoring the rows needs every feature, of the type the model knows */
		all &= t->cols[cols[f]]->type == feat->type;
	}
	if (all)
		ref_predictions(mon, t, cols);
	free(cols);
	mon->has_ref = true;
}

static void reference_from_profile(struct live_monitor *mon)
{
	const json_t *cols = json_object_get(
	    json_object_get(json_object_get(mon->m->meta, "data"), "profile"), "columns");
	const json_t *col;
	size_t i;

	json_array_foreach(cols, i, col) {
		const char *name = json_string_value(json_object_get(col, "name"));

		for (size_t f = 0; name && f < mon->nfeat; f++)
			if (!strcmp(mon->m->pre.features[f].name, name))
				ref_from_profile(&mon->ref[f], &mon->m->pre.features[f], col);
	}
	for (size_t f = 0; f < mon->nfeat; f++)
		mon->has_ref |= mon->ref[f].present;
}

static void block_init(struct live_monitor *mon, struct block *b)
{
	for (size_t s = 0; s < LIVE_SHARDS; s++) {
		b->cols[s] = xcalloc(mon->ncols, sizeof(*b->cols[s]));
		for (size_t c = 0; c < mon->ncols; c++)
			colsketch_init(&b->cols[s][c], &mon->copts[c]);
	}
}

static void setup_window(struct live_monitor *mon)
{
	const struct model *m = mon->m;

	mon->copts = xcalloc(mon->ncols, sizeof(*mon->copts));
	for (size_t c = 0; c < mon->ncols; c++) {
		bool cat = c < mon->nfeat ? is_categorical(m->pre.features[c].type)
					  : mon->task == TASK_MULTICLASS;
		size_t cap = mon->o.categories;

		if (mon->ref[c].nkeys + 16 > cap)
			cap = mon->ref[c].nkeys + 16;
		mon->copts[c] = (struct colsketch_options){ cat, mon->o.k, cap, 0x5eed + c };
	}
	mon->block_rows = mon->o.window / mon->o.blocks;
	mon->blocks = xcalloc(mon->o.blocks, sizeof(*mon->blocks));
	for (size_t b = 0; b < mon->o.blocks; b++)
		block_init(mon, &mon->blocks[b]);
	mon->prow_cap = mon->o.pending;
	mon->prow = xcalloc(mon->prow_cap, sizeof(*mon->prow));
	mon->preq_cap = mon->o.pending;
	mon->preq = xcalloc(mon->preq_cap, sizeof(*mon->preq));
	mon->nslots = 16;
	while (mon->nslots < 2 * mon->preq_cap)
		mon->nslots *= 2;
	mon->slots = xcalloc(mon->nslots, sizeof(*mon->slots));
	mon->lab_cap = mon->o.labelled;
	mon->lab = xcalloc(mon->lab_cap, sizeof(*mon->lab));
}

int live_monitor_new(struct live_monitor **out, const struct model *m,
		     const struct table *reference, const struct live_options *o, struct error *err)
{
	struct live_monitor *mon;
	struct live_options opts = o ? *o : (struct live_options)LIVE_OPTIONS_INIT;
	int rc;

	if ((rc = check_options(&opts, err)))
		return rc;
	mon = xcalloc(1, sizeof(*mon));
	mon->m = m;
	mon->o = opts;
	mon->task = m->target.task;
	mon->nfeat = m->pre.nfeatures;
	mon->ncols = mon->nfeat + 1;
	mon->ref = xcalloc(mon->ncols, sizeof(*mon->ref));
	pthread_mutex_init(&mon->lock, NULL);
	pthread_mutex_init(&mon->wlock, NULL);
	for (size_t s = 0; s < LIVE_SHARDS; s++)
		pthread_mutex_init(&mon->shard[s], NULL);
	if (reference) {
		reference_from_table(mon, reference);
		mon->exact_ref = true;
		snprintf(mon->note, sizeof(mon->note),
			 "drift against the training rows (%zu rows), window %zu rows",
			 reference->nrows, mon->o.window);
	} else {
		reference_from_profile(mon);
		snprintf(mon->note, sizeof(mon->note),
			 mon->has_ref ? "drift against the training data profile stored in the "
					"model (coarse), window %zu rows"
				      : "no drift: the model has no training data profile",
			 mon->o.window);
	}
	setup_window(mon);
	*out = mon;
	return 0;
}

int live_monitor_open(struct live_monitor **out, const struct model *m, const char *cache_dir,
		      const char *root, const struct live_options *o, struct error *err)
{
	struct error why = ERROR_INIT;
	struct table *t = NULL;
	char note[512];
	int rc;

	if (!monitor_reference_load(&t, m, cache_dir, root, &why)) {
		rc = live_monitor_new(out, m, t, o, err);
		table_free(t);
		return rc;
	}
	if ((rc = live_monitor_new(out, m, NULL, o, err)))
		return rc;
	snprintf(note, sizeof(note), "%.200s (the training rows are not available: %.250s)",
		 (*out)->note, why.msg);
	snprintf((*out)->note, sizeof((*out)->note), "%s", note);
	return 0;
}

void live_monitor_free(struct live_monitor *mon)
{
	if (!mon)
		return;
	for (size_t b = 0; mon->blocks && b < mon->o.blocks; b++) {
		for (size_t s = 0; s < LIVE_SHARDS; s++) {
			for (size_t c = 0; c < mon->ncols; c++)
				colsketch_release(&mon->blocks[b].cols[s][c]);
			free(mon->blocks[b].cols[s]);
		}
	}
	for (size_t c = 0; c < mon->ncols; c++)
		ref_col_release(&mon->ref[c]);
	free(mon->blocks);
	free(mon->ref);
	free(mon->copts);
	free(mon->prow);
	free(mon->preq);
	free(mon->slots);
	free(mon->lab);
	pthread_mutex_destroy(&mon->lock);
	pthread_mutex_destroy(&mon->wlock);
	for (size_t s = 0; s < LIVE_SHARDS; s++)
		pthread_mutex_destroy(&mon->shard[s]);
	free(mon);
}

const char *live_monitor_note(const struct live_monitor *mon)
{
	return mon->note;
}

bool live_monitor_has_reference(const struct live_monitor *mon)
{
	return mon->has_ref;
}

bool live_monitor_reference_is_exact(const struct live_monitor *mon)
{
	return mon->exact_ref;
}

/* ---- the request path ------------------------------------------------------------------- */

/* One parsed value: a number (NaN: missing) or a key (NULL: missing). */
struct cell {
	double num;
	const char *key;
	size_t len;
};

static void parse_cell(struct cell *out, const struct feature *f, const struct csv_field *fld)
{
	out->num = NAN;
	out->key = NULL;
	if (fld && (fld->quoted & CSV_FIELD_NUMBER)) {
		out->num = fld->num; /* given for numeric columns only */
		return;
	}
	if (!fld || !fld->len)
		return;
	if (f->type == COLUMN_NUMERIC) {
		double v;

		if (num_parse(fld->str, fld->len, &v) == NUM_FINITE)
			out->num = v;
	} else if (f->type == COLUMN_BOOLEAN) {
		int b = table_parse_bool(fld->str, fld->len);

		if (b >= 0) {
			out->key = b ? "true" : "false";
			out->len = b ? 4 : 5;
		}
	} else {
		out->key = fld->str;
		out->len = fld->len;
	}
}

static uint64_t hash_id(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	/* finalise (splitmix64) so that the low bits used for slots mix every byte */
	h ^= h >> 30, h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27, h *= 0x94d049bb133111ebULL;
	return h ^ (h >> 31);
}

/* The slot of the open request with hash h, or the empty slot ending its probe. */
static size_t slot_find(const struct live_monitor *mon, uint64_t h)
{
	size_t mask = mon->nslots - 1, i = (size_t)h & mask;

	while (mon->slots[i] && mon->preq[mon->slots[i] - 1].hash != h)
		i = (i + 1) & mask;
	return i;
}

/* Linear probing deletion by backward shift: no tombstones, probes stay short. */
static void slot_remove(struct live_monitor *mon, size_t i)
{
	size_t mask = mon->nslots - 1, j = i;

	mon->slots[i] = 0;
	for (;;) {
		size_t home;

		j = (j + 1) & mask;
		if (!mon->slots[j])
			return;
		home = (size_t)mon->preq[mon->slots[j] - 1].hash & mask;
		/* move j back to i unless its home lies cyclically in (i, j] */
		if (i <= j ? (home <= i || home > j) : (home <= i && home > j)) {
			mon->slots[i] = mon->slots[j];
			mon->slots[j] = 0;
			i = j;
		}
	}
}

static void evict_oldest(struct live_monitor *mon)
{
	struct pending_req *q = &mon->preq[mon->preq_tail % mon->preq_cap];

	if (q->open) {
		mon->evicted += q->nrows;
		slot_remove(mon, slot_find(mon, q->hash));
		q->open = false;
	}
	mon->preq_tail++;
}

/* Remembers a request's rows (already in the row ring from seq on) under its id. */
static void pending_add(struct live_monitor *mon, const char *request_id, uint64_t seq,
			uint32_t nrows)
{
	uint64_t h = hash_id(request_id);
	size_t slot;
	struct pending_req *q;

	if (nrows > mon->prow_cap) {
		mon->evicted += nrows;
		return;
	}
	/* requests whose rows the ring has overwritten, and the oldest when the ring is full */
	while (mon->preq_tail < mon->preq_head &&
	       (mon->preq_head - mon->preq_tail >= mon->preq_cap ||
		mon->preq[mon->preq_tail % mon->preq_cap].seq + mon->prow_cap < seq + nrows))
		evict_oldest(mon);
	slot = slot_find(mon, h);
	if (mon->slots[slot]) {
		/* a reused id: the older request can no longer be told apart */
		struct pending_req *old = &mon->preq[mon->slots[slot] - 1];

		mon->evicted += old->nrows;
		old->open = false;
		slot_remove(mon, slot);
		slot = slot_find(mon, h);
	}
	q = &mon->preq[mon->preq_head % mon->preq_cap];
	*q = (struct pending_req){ h, seq, nrows, true };
	mon->slots[slot] = (uint32_t)(mon->preq_head % mon->preq_cap + 1);
	mon->preq_head++;
}

/*
 * Claims up to want rows of the current block (a full one makes the oldest block, emptied, the
 * current one) and registers the caller as its writer: *got rows, to write to the block
 * returned, then block_done. Under wlock; the emptying waits for the oldest block's last writer,
 * which finished long ago unless a thread stalled for a whole window.
 */
static struct block *claim_rows(struct live_monitor *mon, size_t want, size_t *got)
{
	struct block *b;

	pthread_mutex_lock(&mon->wlock);
	b = &mon->blocks[mon->cur];
	if (b->rows >= mon->block_rows) {
		mon->cur = (mon->cur + 1) % mon->o.blocks;
		b = &mon->blocks[mon->cur];
		while (atomic_load(&b->writers))
			sched_yield();
		for (size_t s = 0; s < LIVE_SHARDS; s++)
			for (size_t c = 0; c < mon->ncols; c++)
				colsketch_reset(&b->cols[s][c]);
		b->rows = 0;
	}
	*got = mon->block_rows - b->rows < want ? mon->block_rows - b->rows : want;
	b->rows += *got;
	mon->observed += *got;
	atomic_fetch_add(&b->writers, 1);
	pthread_mutex_unlock(&mon->wlock);
	return b;
}

/* This thread's shard: threads take shards round robin on first use. */
static size_t my_shard(void)
{
	static atomic_uint next;
	static _Thread_local unsigned shard = UINT_MAX;

	if (shard == UINT_MAX)
		shard = atomic_fetch_add(&next, 1) % LIVE_SHARDS;
	return shard;
}

/* Adds rows [r0, r0 + n) to block b's sketches of shard s. */
static void sketch_rows(struct live_monitor *mon, struct block *b, size_t s,
			const struct cell *cells, const double *outputs, const size_t *labels,
			size_t r0, size_t n)
{
	const struct model *m = mon->m;
	size_t nf = mon->nfeat, width = model_output_width(m);
	struct colsketch *cols = b->cols[s];

	pthread_mutex_lock(&mon->shard[s]);
	for (size_t r = r0; r < r0 + n; r++) {
		const double *o = outputs + r * width;

		for (size_t f = 0; f < nf; f++) {
			const struct cell *c = &cells[r * nf + f];

			if (mon->copts[f].categorical)
				colsketch_add_key(&cols[f], c->key, c->len);
			else
				colsketch_add_number(&cols[f], c->num);
		}
		if (mon->task == TASK_REGRESSION) {
			colsketch_add_number(&cols[nf], o[0]);
		} else if (mon->task == TASK_BINARY) {
			colsketch_add_number(&cols[nf], o[1]);
		} else {
			const char *cls = m->target.classes[labels[r]];

			colsketch_add_key(&cols[nf], cls, strlen(cls));
		}
	}
	pthread_mutex_unlock(&mon->shard[s]);
	atomic_fetch_sub(&b->writers, 1);
}

/* Requests up to this many values are parsed into the stack rather than the heap. */
#define STACK_CELLS 256

void live_observe_mapped(struct live_monitor *mon, const size_t *colmap, size_t ncols, size_t nrows,
			 const struct csv_field *fields, const double *outputs,
			 const size_t *labels, const char *request_id)
{
	const struct model *m = mon->m;
	size_t nf = mon->nfeat, width = model_output_width(m);
	struct cell stack_cells[STACK_CELLS], *cells = stack_cells;
	uint64_t seq;

	if (nrows && nf && nrows > STACK_CELLS / nf)
		cells = xmalloc(nrows * nf * sizeof(*cells));
	for (size_t r = 0; r < nrows; r++)
		for (size_t f = 0; f < nf; f++)
			parse_cell(&cells[r * nf + f], &m->pre.features[f],
				   colmap ? &fields[r * ncols + colmap[f]] : NULL);

	for (size_t r = 0, got; r < nrows; r += got) {
		struct block *b = claim_rows(mon, nrows - r, &got);

		sketch_rows(mon, b, my_shard(), cells, outputs, labels, r, got);
	}

	pthread_mutex_lock(&mon->lock);
	seq = mon->prow_head;
	for (size_t r = 0; r < nrows; r++) {
		struct labelled *p = &mon->prow[mon->prow_head++ % mon->prow_cap];

		*p = (struct labelled){ 0 };
		p->score = mon->task == TASK_BINARY	  ? outputs[r * width + 1]
			   : mon->task == TASK_REGRESSION ? outputs[r * width]
							  : NAN;
		p->pred = mon->task == TASK_REGRESSION ? 0 : (uint32_t)labels[r];
	}
	if (request_id && *request_id && nrows)
		pending_add(mon, request_id, seq, (uint32_t)nrows);
	pthread_mutex_unlock(&mon->lock);
	if (cells != stack_cells)
		free(cells);
}

void live_observe(struct live_monitor *mon, const char *const *names, size_t ncols, size_t nrows,
		  const struct csv_field *fields, const double *outputs, const size_t *labels,
		  const char *request_id)
{
	size_t nf = mon->nfeat, stack_map[STACK_CELLS], *colmap = stack_map;
	bool mapped = true;

	if (nf > STACK_CELLS)
		colmap = xmalloc(nf * sizeof(*colmap));
	if (names) {
		struct error ignored =
		    ERROR_INIT; /* a missing column: every value counts as missing */

		mapped = !preprocess_map_columns(colmap, &mon->m->pre, names, ncols, "request",
						 &ignored);
	} else if (ncols == nf)
		for (size_t f = 0; f < nf; f++)
			colmap[f] = f;
	else
		mapped = false;
	live_observe_mapped(mon, mapped ? colmap : NULL, ncols, nrows, fields, outputs, labels,
			    request_id);
	if (colmap != stack_map)
		free(colmap);
}

/* The class index of text, or -1. */
static long class_of(const struct model *m, const char *text)
{
	for (size_t c = 0; c < m->target.nclasses; c++)
		if (!strcmp(m->target.classes[c], text))
			return (long)c;
	return -1;
}

enum live_feedback_result live_feedback(struct live_monitor *mon, const char *request_id,
					const char *const *labels, size_t nlabels)
{
	uint64_t h = hash_id(request_id);
	struct labelled *truth = xcalloc(nlabels ? nlabels : 1, sizeof(*truth));
	enum live_feedback_result res = LIVE_FEEDBACK_MATCHED;
	struct pending_req *q = NULL;
	size_t slot;

	for (size_t i = 0; i < nlabels && res == LIVE_FEEDBACK_MATCHED; i++) {
		if (mon->task == TASK_REGRESSION) {
			if (num_parse(labels[i], strlen(labels[i]), &truth[i].value) != NUM_FINITE)
				res = LIVE_FEEDBACK_INVALID;
		} else {
			long c = class_of(mon->m, labels[i]);

			if (c < 0)
				res = LIVE_FEEDBACK_INVALID;
			truth[i].truth = (uint32_t)c;
		}
	}
	pthread_mutex_lock(&mon->lock);
	slot = slot_find(mon, h);
	if (res == LIVE_FEEDBACK_MATCHED && !mon->slots[slot])
		res = LIVE_FEEDBACK_UNKNOWN;
	if (res == LIVE_FEEDBACK_MATCHED) {
		q = &mon->preq[mon->slots[slot] - 1];
		if (q->nrows != nlabels)
			res = LIVE_FEEDBACK_INVALID;
	}
	if (res == LIVE_FEEDBACK_MATCHED) {
		for (size_t i = 0; i < nlabels; i++) {
			struct labelled l = mon->prow[(q->seq + i) % mon->prow_cap];

			l.truth = truth[i].truth;
			l.value = truth[i].value;
			mon->lab[mon->lab_head] = l;
			mon->lab_head = (mon->lab_head + 1) % mon->lab_cap;
			if (mon->lab_n < mon->lab_cap)
				mon->lab_n++;
		}
		q->open = false;
		slot_remove(mon, slot);
		mon->matched++;
	} else if (res == LIVE_FEEDBACK_UNKNOWN) {
		mon->unknown++;
	} else {
		mon->invalid++;
	}
	pthread_mutex_unlock(&mon->lock);
	free(truth);
	return res;
}

/* ---- drift ------------------------------------------------------------------------------ */

/*
 * Walks the reference's and the window's CDFs (both steps) over the union of their jump points:
 * D = max |F_ref - F_cur| and the integral of |F_ref - F_cur| (first Wasserstein distance).
 */
static void compare_cdfs(const struct ref_col *r, const double *v, const uint64_t *w, size_t nv,
			 uint64_t ntotal, double *d_out, double *w_out)
{
	size_t i = 0, j = 0;
	uint64_t cum = 0;
	double fr = 0, fc = 0, prev = 0, d = 0, area = 0;
	bool first = true;

	while (i < r->nsorted || j < nv) {
		double x = j >= nv		 ? r->sorted[i]
			   : i >= r->nsorted	 ? v[j]
			   : r->sorted[i] < v[j] ? r->sorted[i]
						 : v[j];

		if (!first)
			area += fabs(fr - fc) * (x - prev);
		while (i < r->nsorted && r->sorted[i] == x)
			i++;
		while (j < nv && v[j] == x)
			cum += w[j++];
		fr = (double)i / (double)r->nsorted;
		fc = (double)cum / (double)ntotal;
		if (fabs(fr - fc) > d)
			d = fabs(fr - fc);
		prev = x;
		first = false;
	}
	*d_out = d;
	*w_out = area;
}

/* Counts per key over the union of both sides, keys ascending (the z test's order). */
struct bins {
	size_t n;
	uint64_t *ref, *cur;
	uint64_t ref_total, cur_total;
};

static void bins_release(struct bins *b)
{
	free(b->ref);
	free(b->cur);
}

static void bins_alloc(struct bins *b, size_t n)
{
	b->n = 0;
	b->ref = xcalloc(n ? n : 1, sizeof(*b->ref));
	b->cur = xcalloc(n ? n : 1, sizeof(*b->cur));
	b->ref_total = b->cur_total = 0;
}

static void bins_put(struct bins *b, uint64_t ref, uint64_t cur)
{
	b->ref[b->n] = ref;
	b->cur[b->n++] = cur;
	b->ref_total += ref;
	b->cur_total += cur;
}

static long ref_key_index(const struct ref_col *r, const char *key)
{
	size_t lo = 0, hi = r->nkeys;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(r->keys[mid], key);

		if (!c)
			return (long)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * Category bins: the reference's keys and the window's, ascending. Window keys a fallback
 * reference pooled (it has an "other" count) join that pool; the window's own overflow is one
 * more key, absent from the reference.
 */
static void bins_categorical(struct bins *b, const struct ref_col *r, const struct catcount *cur)
{
	size_t nc = catcount_size(cur), nnew = 0;
	const char **newkeys = xcalloc(nc ? nc : 1, sizeof(*newkeys));
	uint64_t *curref = xcalloc(r->nkeys ? r->nkeys : 1, sizeof(*curref));
	uint64_t pooled = catcount_other(cur), own_other = 0;

	for (size_t i = 0; i < nc; i++) {
		uint64_t cnt;
		const char *key = catcount_key(cur, i, &cnt);
		long at = ref_key_index(r, key);

		if (at >= 0)
			curref[at] += cnt;
		else if (r->other)
			own_other += cnt;
		else
			newkeys[nnew++] = key;
	}
	qsort(newkeys, nnew, sizeof(*newkeys), cmp_str);
	bins_alloc(b, r->nkeys + nnew + 2);
	/* merge the two ascending key lists */
	for (size_t i = 0, j = 0; i < r->nkeys || j < nnew;) {
		if (j >= nnew || (i < r->nkeys && strcmp(r->keys[i], newkeys[j]) < 0)) {
			bins_put(b, r->counts[i], curref[i]);
			i++;
		} else {
			bins_put(b, 0, catcount_get(cur, newkeys[j], strlen(newkeys[j])));
			j++;
		}
	}
	if (r->other || own_other)
		bins_put(b, r->other, own_other + (r->other ? pooled : 0));
	if (!r->other && pooled)
		bins_put(b, 0, pooled); /* the window's overflow: a key the reference lacks, last */
	free(newkeys);
	free(curref);
}

/* Numeric low-cardinality bins: the exact distinct values of both sides. */
static void bins_numeric(struct bins *b, const struct ref_col *r, const struct colsketch *cur)
{
	size_t i = 0, j = 0;
	double *cv = xmalloc((cur->ndistinct ? cur->ndistinct : 1) * sizeof(*cv));
	uint64_t *cc = xmalloc((cur->ndistinct ? cur->ndistinct : 1) * sizeof(*cc));
	size_t *order = xmalloc((cur->ndistinct ? cur->ndistinct : 1) * sizeof(*order));

	/* the window's distinct values in first-seen order: sort them (few) */
	for (size_t k = 0; k < cur->ndistinct; k++)
		order[k] = k;
	for (size_t k = 1; k < cur->ndistinct; k++)
		for (size_t l = k; l > 0 && cur->distinct[order[l - 1]] > cur->distinct[order[l]];
		     l--) {
			size_t t = order[l];

			order[l] = order[l - 1];
			order[l - 1] = t;
		}
	for (size_t k = 0; k < cur->ndistinct; k++) {
		cv[k] = cur->distinct[order[k]];
		cc[k] = cur->distinct_count[order[k]];
	}
	bins_alloc(b, r->ndistinct + cur->ndistinct);
	while (i < r->ndistinct || j < cur->ndistinct) {
		if (j >= cur->ndistinct || (i < r->ndistinct && r->distinct[i] < cv[j])) {
			bins_put(b, r->dcount[i++], 0);
		} else if (i >= r->ndistinct || cv[j] < r->distinct[i]) {
			bins_put(b, 0, cc[j++]);
		} else {
			bins_put(b, r->dcount[i++], cc[j++]);
		}
	}
	free(cv);
	free(cc);
	free(order);
}

static double js_of(const struct bins *b)
{
	double *rs = xmalloc((b->n ? b->n : 1) * sizeof(*rs));
	double *cs = xmalloc((b->n ? b->n : 1) * sizeof(*cs));
	double v;

	drift_shares(rs, b->ref, b->n, b->ref_total, false);
	drift_shares(cs, b->cur, b->n, b->cur_total, false);
	v = drift_jensenshannon(rs, cs, b->n);
	free(rs);
	free(cs);
	return v;
}

/* One column's score with Evidently's default test; false when a side has no values. */
static bool column_drift(struct live_drift *out, const struct ref_col *r,
			 const struct colsketch *cur)
{
	struct error ignored = ERROR_INIT;
	struct drift_pvalue pv;
	struct bins b = { 0 };
	uint64_t n_unique;
	enum drift_test t;
	bool low_card;

	if (!r->present || !cur->count)
		return false;
	if (r->categorical) {
		bins_categorical(&b, r, cur->cats);
		n_unique = 0;
		for (size_t i = 0; i < b.n; i++)
			n_unique += b.ref[i] + b.cur[i] > 0;
		low_card = true;
	} else {
		low_card = !r->doverflow && !cur->distinct_overflow;
		if (low_card) {
			bins_numeric(&b, r, cur);
			n_unique = b.n;
		} else {
			n_unique = COLSKETCH_DISTINCT_MAX + 1;
		}
	}
	t = drift_default_test(!r->categorical, r->n, n_unique);
	out->method = drift_test_name(t);
	out->threshold = drift_default_threshold(t);
	if (t == DRIFT_TEST_KS || t == DRIFT_TEST_WASSERSTEIN) {
		double *v, d, area;
		uint64_t *w;
		size_t nv = kll_sorted(cur->kll, &v, &w);

		compare_cdfs(r, v, w, nv, kll_n(cur->kll), &d, &area);
		if (t == DRIFT_TEST_KS) {
			double n1 = (double)r->n, n2 = (double)kll_n(cur->kll);
			double dd = d - kll_rank_error(cur->kll);

			out->score = drift_kstwo_sf(dd > 0 ? dd : 0, round(n1 * n2 / (n1 + n2)));
		} else {
			out->score = area / (r->std > 0.001 ? r->std : 0.001);
		}
		free(v);
		free(w);
	} else if (!low_card) {
		return false; /* cannot happen: the low-cardinality tests need few values */
	} else if (t == DRIFT_TEST_JENSENSHANNON) {
		out->score = js_of(&b);
	} else if (t == DRIFT_TEST_CHISQUARE) {
		out->score = drift_chisquare(b.ref, b.cur, b.n, &pv, &ignored) ? NAN : pv.pvalue;
	} else {
		out->score = drift_z_test(b.ref, b.cur, b.n, &pv, &ignored) ? NAN : pv.pvalue;
	}
	out->detected = isfinite(out->score) && drift_decide(t, out->score, out->threshold);
	bins_release(&b);
	return isfinite(out->score);
}

/* ---- quality ---------------------------------------------------------------------------- */

static void add_quality(struct live_report *r, const char *metric, double v)
{
	if (r->nquality < LIVE_MAX_QUALITY && isfinite(v)) {
		r->quality[r->nquality].metric = metric;
		r->quality[r->nquality++].value = v;
	}
}

static int cmp_score(const void *a, const void *b)
{
	return cmp_double(&((const struct labelled *)a)->score,
			  &((const struct labelled *)b)->score);
}

/* ROC AUC as the Mann-Whitney U over positives (truth 1), ties at their average rank. */
static double roc_auc(struct labelled *l, size_t n)
{
	double pos = 0, neg = 0, ranks = 0;

	qsort(l, n, sizeof(*l), cmp_score);
	for (size_t i = 0; i < n;) {
		size_t j = i;
		double avg;

		while (j < n && l[j].score == l[i].score)
			j++;
		avg = ((double)i + 1 + (double)j) / 2; /* ranks i+1..j */
		for (size_t k = i; k < j; k++)
			if (l[k].truth == 1)
				ranks += avg;
		i = j;
	}
	for (size_t i = 0; i < n; i++)
		l[i].truth == 1 ? pos++ : neg++;
	if (!pos || !neg)
		return NAN;
	return (ranks - pos * (pos + 1) / 2) / (pos * neg);
}

static double ratio(double a, double b)
{
	return b > 0 ? a / b : 0; /* scikit-learn's zero_division=0 */
}

static void quality(struct live_report *r, const struct live_monitor *mon, struct labelled *l,
		    size_t n)
{
	size_t k = mon->m->target.nclasses;
	double correct = 0;

	r->labelled = n;
	if (!n)
		return;
	if (mon->task == TASK_REGRESSION) {
		double ae = 0, se = 0;

		for (size_t i = 0; i < n; i++) {
			ae += fabs(l[i].value - l[i].score);
			se += (l[i].value - l[i].score) * (l[i].value - l[i].score);
		}
		add_quality(r, "mae", ae / (double)n);
		add_quality(r, "rmse", sqrt(se / (double)n));
		return;
	}
	for (size_t i = 0; i < n; i++)
		correct += l[i].pred == l[i].truth;
	add_quality(r, "accuracy", correct / (double)n);
	if (mon->task == TASK_BINARY) {
		double tp = 0, fp = 0, fn = 0;

		for (size_t i = 0; i < n; i++) {
			tp += l[i].pred == 1 && l[i].truth == 1;
			fp += l[i].pred == 1 && l[i].truth == 0;
			fn += l[i].pred == 0 && l[i].truth == 1;
		}
		add_quality(r, "precision", ratio(tp, tp + fp));
		add_quality(r, "recall", ratio(tp, tp + fn));
		add_quality(r, "f1", ratio(2 * tp, 2 * tp + fp + fn));
		add_quality(r, "roc_auc", roc_auc(l, n));
	} else {
		/* macro averages over the classes present in truth or predictions */
		double p = 0, rc = 0, f = 0, present = 0;

		for (size_t c = 0; c < k; c++) {
			double tp = 0, fp = 0, fn = 0;

			for (size_t i = 0; i < n; i++) {
				tp += l[i].pred == c && l[i].truth == c;
				fp += l[i].pred == c && l[i].truth != c;
				fn += l[i].pred != c && l[i].truth == c;
			}
			if (tp + fp + fn == 0)
				continue;
			present++;
			p += ratio(tp, tp + fp);
			rc += ratio(tp, tp + fn);
			f += ratio(2 * tp, 2 * tp + fp + fn);
		}
		add_quality(r, "precision_macro", p / present);
		add_quality(r, "recall_macro", rc / present);
		add_quality(r, "f1_macro", f / present);
	}
}

/* ---- the report ------------------------------------------------------------------------- */

void live_report(struct live_monitor *mon, struct live_report *out)
{
	struct colsketch *merged = xcalloc(mon->ncols, sizeof(*merged));
	struct labelled *lab;
	size_t nlab, drifted = 0;

	memset(out, 0, sizeof(*out));
	for (size_t c = 0; c < mon->ncols; c++)
		colsketch_init(&merged[c], &mon->copts[c]);
	/* wlock keeps rotations out; each shard's lock its writers */
	pthread_mutex_lock(&mon->wlock);
	for (size_t b = 0; b < mon->o.blocks; b++)
		out->window_rows += mon->blocks[b].rows;
	out->observed_rows = mon->observed;
	for (size_t s = 0; s < LIVE_SHARDS; s++) {
		pthread_mutex_lock(&mon->shard[s]);
		for (size_t b = 0; b < mon->o.blocks; b++)
			for (size_t c = 0; c < mon->ncols; c++)
				colsketch_merge(&merged[c], &mon->blocks[b].cols[s][c]);
		pthread_mutex_unlock(&mon->shard[s]);
	}
	pthread_mutex_unlock(&mon->wlock);
	pthread_mutex_lock(&mon->lock);
	nlab = mon->lab_n;
	lab = xmalloc((nlab ? nlab : 1) * sizeof(*lab));
	memcpy(lab, mon->lab, nlab * sizeof(*lab));
	out->feedback_matched = mon->matched;
	out->feedback_unknown = mon->unknown;
	out->feedback_invalid = mon->invalid;
	out->evicted = mon->evicted;
	pthread_mutex_unlock(&mon->lock);

	out->drift = mon->has_ref && out->window_rows && out->window_rows >= mon->o.min_rows;
	out->features = xcalloc(mon->nfeat ? mon->nfeat : 1, sizeof(*out->features));
	for (size_t f = 0; out->drift && f < mon->nfeat; f++) {
		struct live_drift *d = &out->features[out->nfeatures];

		d->name = mon->m->pre.features[f].name;
		if (column_drift(d, &mon->ref[f], &merged[f])) {
			drifted += d->detected;
			out->nfeatures++;
		}
	}
	out->drift_share = out->nfeatures ? (double)drifted / (double)out->nfeatures : 0;
	out->dataset_drift = out->nfeatures && out->drift_share >= mon->o.drift_share;
	out->prediction.name = "prediction";
	out->prediction_drift = out->drift && column_drift(&out->prediction, &mon->ref[mon->nfeat],
							   &merged[mon->nfeat]);
	quality(out, mon, lab, nlab);
	for (size_t c = 0; c < mon->ncols; c++)
		colsketch_release(&merged[c]);
	free(merged);
	free(lab);
}

void live_report_release(struct live_report *r)
{
	if (!r)
		return;
	free(r->features);
	memset(r, 0, sizeof(*r));
}
