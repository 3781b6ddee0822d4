/*
 * The two sides of a drift report before any test runs: a reference table prepared once (sorted
 * numeric columns, distinct values, category counts) and a current side fed batch by batch,
 * holding raw values within a budget and per-reference-gap counts beyond it.
 */
#include "util/common.h"
#include "monitor/drift_internal.h"
#include "table/number.h"
#include "util/workpool.h"

#include <math.h>

/* ---- string -> count map ------------------------------------------------------------------ */

static uint32_t hash_str(const char *s, size_t len)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h;
}

static void strmap_rehash(struct drift_strmap *m)
{
	size_t n = m->nslots ? m->nslots * 2 : 64;

	free(m->slots);
	m->slots = xcalloc(n, sizeof(*m->slots));
	m->nslots = n;
	for (size_t i = 0; i < m->n; i++) {
		size_t j = hash_str(m->keys[i], strlen(m->keys[i])) & (n - 1);

		while (m->slots[j])
			j = (j + 1) & (n - 1);
		m->slots[j] = (uint32_t)(i + 1);
	}
}

long drift_strmap_find(struct drift_strmap *m, const char *s, size_t len, bool add)
{
	size_t j;

	if (!m->nslots)
		strmap_rehash(m);
	j = hash_str(s, len) & (m->nslots - 1);
	while (m->slots[j]) {
		const char *k = m->keys[m->slots[j] - 1];

		if (!strncmp(k, s, len) && !k[len])
			return (long)m->slots[j] - 1;
		j = (j + 1) & (m->nslots - 1);
	}
	if (!add)
		return -1;
	if (m->n == m->alloc) {
		m->alloc = m->alloc ? m->alloc * 2 : 16;
		m->keys = xrealloc(m->keys, m->alloc * sizeof(*m->keys));
		m->counts = xrealloc(m->counts, m->alloc * sizeof(*m->counts));
	}
	m->keys[m->n] = xstrndup(s, len);
	m->counts[m->n] = 0;
	m->slots[j] = (uint32_t)(m->n + 1);
	if (++m->n * 2 > m->nslots)
		strmap_rehash(m);
	return (long)m->n - 1;
}

void drift_strmap_release(struct drift_strmap *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->keys[i]);
	free(m->keys);
	free(m->counts);
	free(m->slots);
	memset(m, 0, sizeof(*m));
}

/* ---- the reference ------------------------------------------------------------------------ */

static void ref_numeric(struct drift_ref_column *rc, const struct column *c, size_t nrows)
{
	double sum = 0, ss = 0;
	size_t n = 0, k = 0;

	rc->sorted = xmalloc((nrows ? nrows : 1) * sizeof(double));
	if (!c->n_missing && nrows) {
		memcpy(rc->sorted, c->values, nrows * sizeof(double));
		n = nrows;
	} else {
		for (size_t i = 0; i < nrows; i++)
			if (!column_is_missing(c, i))
				rc->sorted[n++] = c->values[i];
	}
	drift_sort(rc->sorted, n);
	for (size_t i = 0; i < n; i++)
		k += !i || rc->sorted[i] != rc->sorted[i - 1];
	rc->u = xmalloc((k ? k : 1) * sizeof(double));
	rc->ucount = xmalloc((k ? k : 1) * sizeof(uint64_t));
	k = 0;
	for (size_t i = 0; i < n; i++) {
		if (!k || rc->u[k - 1] != rc->sorted[i]) {
			rc->u[k] = rc->sorted[i];
			rc->ucount[k++] = 0;
		}
		rc->ucount[k - 1]++;
	}
	rc->k = k;
	/* numpy's mean and std (ddof 0): the mean first, then the mean of squared deviations */
	for (size_t i = 0; i < n; i++)
		sum += rc->sorted[i];
	rc->mean = n ? sum / (double)n : NAN;
	for (size_t i = 0; i < n; i++)
		ss += (rc->sorted[i] - rc->mean) * (rc->sorted[i] - rc->mean);
	rc->std = n ? sqrt(ss / (double)n) : NAN;
	rc->count = n;
	/* Evidently's legacy mapping: integers with at most 5 distinct values are categories */
	rc->numeric = c->type == COLUMN_NUMERIC;
	if (rc->numeric && k <= 5) {
		bool integral = true;

		for (size_t j = 0; j < k && integral; j++)
			integral = rc->u[j] == floor(rc->u[j]);
		rc->numeric = !integral;
	}
}

static void ref_categorical(struct drift_ref_column *rc, const struct column *c, size_t nrows)
{
	size_t nc = column_ncategories(c);
	long *map = xmalloc((nc ? nc : 1) * sizeof(long));

	for (size_t i = 0; i < nc; i++) {
		const char *s = column_category(c, (uint32_t)i);

		map[i] = drift_strmap_find(&rc->cats, s, strlen(s), true);
	}
	for (size_t i = 0; i < nrows; i++)
		if (c->codes[i] != TABLE_NO_CODE) {
			rc->cats.counts[map[c->codes[i]]]++;
			rc->count++;
		}
	free(map);
}

struct ref_job {
	struct drift_reference *r;
	const struct table *t;
};

static int ref_prepare(size_t i, void *data, struct error *err)
{
	struct ref_job *job = data;
	struct drift_ref_column *rc = &job->r->cols[i];
	const struct column *c = job->t->cols[i];

	(void)err;
	rc->name = xstrdup(c->name);
	rc->type = c->type;
	if (c->type == COLUMN_CATEGORICAL)
		ref_categorical(rc, c, job->t->nrows);
	else
		ref_numeric(rc, c, job->t->nrows);
	rc->missing = job->t->nrows - rc->count;
	return 0;
}

struct drift_reference *drift_reference_new(const struct table *ref)
{
	struct drift_reference *r = xcalloc(1, sizeof(*r));
	struct ref_job job = { r, ref };
	struct error err = ERROR_INIT;

	r->ncols = ref->ncols;
	r->rows = ref->nrows;
	r->cols = xcalloc(ref->ncols ? ref->ncols : 1, sizeof(*r->cols));
	workpool_run(ref->ncols, 0, 0, ref_prepare, &job, &err);
	return r;
}

void drift_reference_free(struct drift_reference *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->ncols; i++) {
		struct drift_ref_column *c = &r->cols[i];

		free(c->name);
		free(c->sorted);
		free(c->u);
		free(c->ucount);
		drift_strmap_release(&c->cats);
	}
	free(r->cols);
	free(r);
}

/* ---- the current side --------------------------------------------------------------------- */

struct drift_current *drift_current_new(const struct drift_reference *ref, const char *source,
					const char *const *names, size_t n, uint64_t exact_values)
{
	struct drift_current *c = xcalloc(1, sizeof(*c));

	c->ref = ref;
	c->source = xstrdup(source ? source : "current data");
	c->ncols = n;
	c->cols = xcalloc(n ? n : 1, sizeof(*c->cols));
	c->exact_values = exact_values ? exact_values : DRIFT_EXACT_VALUES;
	c->exact = true;
	for (size_t i = 0; i < n; i++) {
		struct drift_cur_column *cc = &c->cols[i];

		cc->name = xstrdup(names[i]);
		cc->ref = -1;
		cc->min = INFINITY;
		cc->max = -INFINITY;
		cc->all_number = cc->all_bool = true;
		for (size_t j = 0; j < ref->ncols; j++)
			if (!strcmp(ref->cols[j].name, names[i])) {
				cc->ref = (long)j;
				break;
			}
		if (cc->ref >= 0 && ref->cols[cc->ref].type == COLUMN_CATEGORICAL) {
			const struct drift_strmap *rm = &ref->cols[cc->ref].cats;

			/* the reference's keys keep their indices */
			for (size_t j = 0; j < rm->n; j++)
				drift_strmap_find(&cc->cats, rm->keys[j], strlen(rm->keys[j]),
						  true);
		}
	}
	return c;
}

void drift_current_free(struct drift_current *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->ncols; i++) {
		struct drift_cur_column *cc = &c->cols[i];

		free(cc->name);
		free(cc->mismatch);
		free(cc->vals);
		free(cc->eq);
		free(cc->gap);
		free(cc->gsum);
		free(cc->fresh.v);
		free(cc->fresh.counts);
		drift_strmap_release(&cc->cats);
	}
	free(c->cols);
	free(c->source);
	free(c);
}

uint64_t drift_current_rows(const struct drift_current *c)
{
	return c->rows;
}

bool drift_current_exact(const struct drift_current *c)
{
	return c->exact;
}

/* Index of the first u[j] >= x (k when none). */
static size_t lower_bound(const double *u, size_t k, double x)
{
	size_t lo = 0, hi = k;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (u[mid] < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void valset_add(struct drift_valset *s, double x)
{
	/* linear probing would need a hash of doubles; the set is small, so keep it sorted */
	size_t j = lower_bound(s->v, s->n, x);

	if (j < s->n && s->v[j] == x) {
		s->counts[j]++;
		return;
	}
	if (s->n == DRIFT_NEW_VALUES) {
		s->overflow = true;
		return;
	}
	if (!s->v) {
		s->v = xmalloc(DRIFT_NEW_VALUES * sizeof(double));
		s->counts = xmalloc(DRIFT_NEW_VALUES * sizeof(uint64_t));
	}
	memmove(s->v + j + 1, s->v + j, (s->n - j) * sizeof(double));
	memmove(s->counts + j + 1, s->counts + j, (s->n - j) * sizeof(uint64_t));
	s->v[j] = x;
	s->counts[j] = 1;
	s->n++;
}

static void fold_value(struct drift_cur_column *cc, const struct drift_ref_column *rc, double x)
{
	size_t j = lower_bound(rc->u, rc->k, x);

	if (j < rc->k && rc->u[j] == x) {
		cc->eq[j]++;
		return;
	}
	cc->gap[j]++;
	cc->gsum[j] += x;
	if (!cc->fresh.overflow)
		valset_add(&cc->fresh, x);
}

/* A value on the streaming path: its running statistics and its gap. */
static void stream_number(struct drift_cur_column *cc, const struct drift_ref_column *rc, double x)
{
	cc->sum += x;
	if (x < cc->min)
		cc->min = x;
	if (x > cc->max)
		cc->max = x;
	fold_value(cc, rc, x);
}

/* Leaves the exact path: every raw value goes into the gap counts. */
static void go_streaming(struct drift_current *c)
{
	for (size_t i = 0; i < c->ncols; i++) {
		struct drift_cur_column *cc = &c->cols[i];
		const struct drift_ref_column *rc;

		if (cc->ref < 0 || c->ref->cols[cc->ref].type == COLUMN_CATEGORICAL)
			continue;
		rc = &c->ref->cols[cc->ref];
		cc->eq = xcalloc(rc->k + 1, sizeof(uint64_t));
		cc->gap = xcalloc(rc->k + 1, sizeof(uint64_t));
		cc->gsum = xcalloc(rc->k + 1, sizeof(long double));
		for (size_t v = 0; v < cc->nvals; v++)
			stream_number(cc, rc, cc->vals[v]);
		free(cc->vals);
		cc->vals = NULL;
		cc->nvals = cc->alloc = 0;
	}
	c->exact = false;
	c->kept = 0;
}

/* Room for more raw values. */
static void grow_values(struct drift_cur_column *cc, size_t more)
{
	if (cc->nvals + more > cc->alloc) {
		cc->alloc = cc->nvals + more > cc->alloc * 2 ? cc->nvals + more : cc->alloc * 2;
		cc->vals = xrealloc(cc->vals, cc->alloc * sizeof(double));
	}
}

static void add_number(struct drift_current *c, struct drift_cur_column *cc, double x)
{
	cc->count++;
	if (!c->exact) {
		stream_number(cc, &c->ref->cols[cc->ref], x);
		return;
	}
	if (cc->nvals == cc->alloc)
		grow_values(cc, cc->alloc ? cc->alloc : 1024);
	cc->vals[cc->nvals++] = x;
	c->kept++;
}

static void add_category(struct drift_cur_column *cc, const char *s, size_t len)
{
	long j = drift_strmap_find(&cc->cats, s, len, false);

	if (j < 0 && cc->cats.n < (size_t)DRIFT_NEW_CATEGORIES + 0u)
		j = drift_strmap_find(&cc->cats, s, len, true);
	if (j < 0)
		cc->other++;
	else
		cc->cats.counts[j]++;
	cc->count++;
}

static void set_mismatch(struct drift_current *c, struct drift_cur_column *cc,
			 const struct csv_field *f, const char *what)
{
	char buf[512];

	if (cc->mismatch)
		return;
	if (f)
		snprintf(buf, sizeof(buf),
			 "type mismatch: %s in the reference, but %s:%" PRIu64 ":%" PRIu32
			 " holds '%.40s'",
			 what, c->source, f->line, f->col, f->str);
	else
		snprintf(buf, sizeof(buf), "type mismatch: %s", what);
	cc->mismatch = xstrdup(buf);
}

static bool is_na(const struct csv_field *f, const char *const *na, size_t n_na)
{
	if (!f->len)
		return true;
	for (size_t i = 0; i < n_na; i++)
		if (!strcmp(f->str, na[i]))
			return true;
	return false;
}

static void add_field(struct drift_current *c, struct drift_cur_column *cc,
		      const struct csv_field *f, const char *const *na, size_t n_na)
{
	const struct drift_ref_column *rc = &c->ref->cols[cc->ref];
	double x;
	int b, kind;

	if (is_na(f, na, n_na)) {
		cc->missing++;
		return;
	}
	if (cc->mismatch) {
		cc->count++;
		return;
	}
	switch (rc->type) {
	case COLUMN_NUMERIC:
		kind = num_parse_field(f->str, f->len, &x);
		if (kind == NUM_FINITE) {
			add_number(c, cc, x);
		} else if (kind == NUM_NONFINITE) {
			cc->missing++; /* NaN and infinities are dropped, as Evidently does */
		} else {
			set_mismatch(c, cc, f, "numeric");
			cc->count++;
		}
		break;
	case COLUMN_BOOLEAN:
		b = table_parse_bool(f->str, f->len);
		if (b < 0) {
			set_mismatch(c, cc, f, "boolean");
			cc->count++;
		} else {
			add_number(c, cc, b);
		}
		break;
	case COLUMN_CATEGORICAL:
		if (cc->all_number && num_parse_field(f->str, f->len, &x) == NUM_NONE)
			cc->all_number = false;
		if (cc->all_bool && table_parse_bool(f->str, f->len) < 0)
			cc->all_bool = false;
		add_category(cc, f->str, f->len);
		break;
	}
}

/* Numeric columns in this batch, to decide before adding whether it still fits exactly. */
static uint64_t numeric_columns(const struct drift_current *c)
{
	uint64_t n = 0;

	for (size_t i = 0; i < c->ncols; i++)
		n += c->cols[i].ref >= 0 && c->ref->cols[c->cols[i].ref].type != COLUMN_CATEGORICAL;
	return n;
}

static void reserve(struct drift_current *c, size_t nrows)
{
	if (c->exact && c->kept + (uint64_t)nrows * numeric_columns(c) > c->exact_values)
		go_streaming(c);
}

void drift_current_add_fields(struct drift_current *c, const struct csv_field *fields, size_t nrows,
			      const char *const *na_tokens, size_t n_na)
{
	reserve(c, nrows);
	for (size_t i = 0; i < c->ncols; i++) {
		struct drift_cur_column *cc = &c->cols[i];

		if (cc->ref < 0) {
			for (size_t r = 0; r < nrows; r++)
				is_na(&fields[r * c->ncols + i], na_tokens, n_na) ? cc->missing++
										  : cc->count++;
			continue;
		}
		for (size_t r = 0; r < nrows; r++)
			add_field(c, cc, &fields[r * c->ncols + i], na_tokens, n_na);
	}
	c->rows += nrows;
}

static const char *type_word(enum column_type t)
{
	return t == COLUMN_CATEGORICAL ? "categorical" : column_type_name(t);
}

static void add_column(struct drift_current *c, struct drift_cur_column *cc,
		       const struct column *col, size_t nrows)
{
	const struct drift_ref_column *rc = &c->ref->cols[cc->ref];
	bool seen = col->n_missing < nrows;

	cc->missing += col->n_missing;
	if (!seen)
		return; /* an all-missing column loads as numeric: no type to compare */
	if (col->type != rc->type) {
		char what[160];

		snprintf(what, sizeof(what), "%s in the reference, %s in '%s'", type_word(rc->type),
			 type_word(col->type), c->source);
		set_mismatch(c, cc, NULL, what);
		cc->count += nrows - col->n_missing;
		return;
	}
	if (c->exact && col->type != COLUMN_CATEGORICAL) {
		size_t n = nrows - col->n_missing;

		/* raw values straight in: the statistics come from them after sorting */
		grow_values(cc, n);
		c->kept += n;
		if (!col->n_missing)
			memcpy(cc->vals + cc->nvals, col->values, n * sizeof(double));
		else
			for (size_t r = 0, i = 0; r < nrows; r++)
				if (!column_is_missing(col, r))
					cc->vals[cc->nvals + i++] = col->values[r];
		cc->nvals += n;
		cc->count += n;
		return;
	}
	for (size_t r = 0; r < nrows; r++) {
		if (column_is_missing(col, r))
			continue;
		if (col->type == COLUMN_CATEGORICAL) {
			const char *s = column_category(col, col->codes[r]);

			add_category(cc, s, strlen(s));
		} else {
			add_number(c, cc, col->values[r]);
		}
	}
}

int drift_current_add_table(struct drift_current *c, const struct table *t, struct error *err)
{
	size_t *map = xmalloc((c->ncols ? c->ncols : 1) * sizeof(size_t));
	int rc = 0;

	for (size_t i = 0; i < c->ncols; i++)
		if ((rc = table_find(&map[i], t, c->cols[i].name, err)))
			goto out;
	reserve(c, t->nrows);
	for (size_t i = 0; i < c->ncols; i++) {
		struct drift_cur_column *cc = &c->cols[i];
		const struct column *col = t->cols[map[i]];

		if (cc->ref < 0) {
			cc->missing += col->n_missing;
			cc->count += t->nrows - col->n_missing;
			continue;
		}
		add_column(c, cc, col, t->nrows);
		if (col->type == COLUMN_CATEGORICAL)
			cc->all_number = cc->all_bool = false;
	}
	c->rows += t->nrows;
out:
	free(map);
	return rc;
}

static int sort_column(size_t i, void *data, struct error *err)
{
	struct drift_cur_column *cc = &((struct drift_current *)data)->cols[i];

	(void)err;
	if (cc->vals && !cc->sorted) {
		double sum = 0;

		drift_sort(cc->vals, cc->nvals);
		for (size_t j = 0; j < cc->nvals; j++)
			sum += cc->vals[j];
		cc->sum = sum;
		cc->min = cc->nvals ? cc->vals[0] : INFINITY;
		cc->max = cc->nvals ? cc->vals[cc->nvals - 1] : -INFINITY;
	}
	cc->sorted = true;
	return 0;
}

void drift_current_sort(struct drift_current *c, int jobs)
{
	struct error err = ERROR_INIT;

	if (c->exact)
		workpool_run(c->ncols, jobs, 0, sort_column, c, &err);
}
