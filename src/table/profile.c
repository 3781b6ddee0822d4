/* Column profiles: moments, numpy-compatible quantiles and histograms, category frequencies. */
#include "util/common.h"
#include "table/profile.h"
#include "util/workpool.h"

#include <math.h>

const double profile_quantiles[PROFILE_NQUANTILES] = { 0, 0.05, 0.25, 0.5, 0.75, 0.95, 1 };
static const char *const quantile_keys[PROFILE_NQUANTILES] = { "0",    "0.05", "0.25", "0.5",
							       "0.75", "0.95", "1" };

/* Neumaier's compensated sum: the mean of a million values stays exact to the last bits. */
static double sum_compensated(const double *x, size_t n, double shift, int square)
{
	double s = 0, c = 0;

	for (size_t i = 0; i < n; i++) {
		double v = square ? (x[i] - shift) * (x[i] - shift) : x[i];
		double t = s + v;

		c += fabs(s) >= fabs(v) ? (s - t) + v : (v - t) + s;
		s = t;
	}
	return s + c;
}

/* Doubles as unsigned keys in the same order: flip all bits of negatives, the sign of the rest. */
static uint64_t sort_key(double d)
{
	uint64_t u;

	memcpy(&u, &d, sizeof(u));
	return u >> 63 ? ~u : u | (UINT64_C(1) << 63);
}

static double from_key(uint64_t k)
{
	uint64_t u = k >> 63 ? k & ~(UINT64_C(1) << 63) : ~k;
	double d;

	memcpy(&d, &u, sizeof(d));
	return d;
}

static int cmp_key(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

#define DIGITS 65536 /* 16 bits of the key per level */

/*
 * Radix select: out[i] = the ks[i]-th smallest of a[0, m) for sorted ks. Counts the keys by
 * their 16-bit digit at shift, then gathers only the buckets holding wanted ranks and goes on
 * with the next digit there: a few linear passes instead of a sort.
 */
static void select_keys(uint64_t *a, size_t m, int shift, const size_t *ks, size_t nk,
			uint64_t *out)
{
	size_t *start, bucket[2 * PROFILE_NQUANTILES], nb = 0, off[2 * PROFILE_NQUANTILES + 1];
	unsigned char *slot;
	uint64_t *g;

	if (m <= 256 || shift < 0) {
		qsort(a, m, sizeof(*a), cmp_key);
		for (size_t i = 0; i < nk; i++)
			out[i] = a[ks[i]];
		return;
	}
	start = xcalloc(DIGITS + 1, sizeof(*start));
	slot = xmalloc(DIGITS);
	memset(slot, 0xff, DIGITS);
	for (size_t i = 0; i < m; i++)
		start[((a[i] >> shift) & (DIGITS - 1)) + 1]++;
	for (size_t d = 0; d < DIGITS; d++)
		start[d + 1] += start[d];
	off[0] = 0;
	for (size_t i = 0, d = 0; i < nk; i++) {
		while (start[d + 1] <= ks[i])
			d++;
		if (slot[d] == 0xff) {
			slot[d] = (unsigned char)nb;
			bucket[nb] = d;
			off[nb + 1] = off[nb] + start[d + 1] - start[d];
			nb++;
		}
	}
	g = xmalloc(off[nb] * sizeof(*g));
	{
		size_t pos[2 * PROFILE_NQUANTILES];

		memcpy(pos, off, nb * sizeof(*pos));
		for (size_t i = 0; i < m; i++) {
			unsigned s = slot[(a[i] >> shift) & (DIGITS - 1)];

			if (s != 0xff)
				g[pos[s]++] = a[i];
		}
	}
	for (size_t b = 0, i = 0; b < nb; b++) {
		size_t d = bucket[b], sub[2 * PROFILE_NQUANTILES], n = 0;

		for (; i < nk && ks[i] < start[d + 1]; i++)
			sub[n++] = ks[i] - start[d];
		select_keys(g + off[b], off[b + 1] - off[b], shift - 16, sub, n, out + i - n);
	}
	free(g);
	free(slot);
	free(start);
}

/* The ranks numpy.quantile(x, q) reads for q: floor((n - 1) q) and the next one. */
static void quantile_ranks(size_t n, double q, size_t *i, size_t *j, double *t)
{
	double h = (double)(n - 1) * q, lo = floor(h);

	*i = (size_t)lo;
	*j = *i + 1 < n ? *i + 1 : n - 1;
	*t = h - lo;
}

/* numpy's _lerp: exact at both ends whichever side t is nearer. */
static double lerp(double a, double b, double t)
{
	double d = b - a;

	if (t == 0)
		return a; /* even when b - a overflows */
	return t >= 0.5 ? b - d * (1 - t) : a + d * t;
}

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return (x > y) - (x < y);
}

/* Quantiles (numpy's default method), min and max by selecting just the ranks they need. */
static void quantiles(struct column_profile *cp, const double *x, size_t n)
{
	size_t ks[2 * PROFILE_NQUANTILES], nk = 0, i, j;
	uint64_t vals[2 * PROFILE_NQUANTILES], *keys = xmalloc(n * sizeof(*keys));
	double t;

	for (size_t k = 0; k < n; k++)
		keys[k] = sort_key(x[k]);
	for (size_t q = 0; q < PROFILE_NQUANTILES; q++) {
		quantile_ranks(n, profile_quantiles[q], &i, &j, &t);
		ks[nk++] = i;
		ks[nk++] = j;
	}
	qsort(ks, nk, sizeof(*ks), cmp_size);
	select_keys(keys, n, 48, ks, nk, vals);
	free(keys);
	for (size_t q = 0; q < PROFILE_NQUANTILES; q++) {
		size_t a = 0, b = 0;

		quantile_ranks(n, profile_quantiles[q], &i, &j, &t);
		while (ks[a] != i)
			a++;
		while (ks[b] != j)
			b++;
		cp->quantiles[q] = lerp(from_key(vals[a]), from_key(vals[b]), t);
	}
	cp->min = from_key(vals[0]);
	cp->max = from_key(vals[nk - 1]);
}

/* numpy.histogram(x, bins): linspace edges, then its index arithmetic and ulp corrections. */
static void histogram(struct column_profile *cp, const double *x, size_t n, size_t bins)
{
	double first = cp->min, last = cp->max, step, norm;

	if (first == last) {
		first -= 0.5;
		last += 0.5;
	}
	cp->nbins = bins;
	cp->edges = xcalloc(bins + 1, sizeof(*cp->edges));
	cp->counts = xcalloc(bins, sizeof(*cp->counts));
	step = (last - first) / (double)bins;
	for (size_t i = 0; i < bins; i++)
		cp->edges[i] = (double)i * step + first;
	cp->edges[bins] = last;
	if (!(last - first > 0) || !isfinite(last - first)) {
		/* a range doubles cannot split (1e300 +- 0.5, or max - min overflows): numpy refuses */
		cp->counts[0] = n;
		return;
	}
	norm = (double)bins / (last - first);
	for (size_t i = 0; i < n; i++) {
		double f = (x[i] - first) * norm;
		size_t k = f >= (double)bins ? bins - 1 : f > 0 ? (size_t)f : 0;

		if (k > 0 && x[i] < cp->edges[k])
			k--;
		else if (k + 1 < bins && x[i] >= cp->edges[k + 1])
			k++;
		cp->counts[k]++;
	}
}

static void profile_numeric(struct column_profile *cp, const struct column *c, size_t nrows,
			    size_t bins)
{
	double *copy = NULL;
	const double *x = c->values;
	size_t n = nrows;

	if (c->n_missing) {
		copy = xmalloc((nrows ? nrows : 1) * sizeof(*copy));
		n = 0;
		for (size_t i = 0; i < nrows; i++)
			if (!column_is_missing(c, i))
				copy[n++] = c->values[i];
		x = copy;
	}
	cp->count = n;
	if (n) {
		cp->mean = sum_compensated(x, n, 0, 0) / (double)n;
		if (n > 1)
			cp->std = sqrt(sum_compensated(x, n, cp->mean, 1) / (double)(n - 1));
		quantiles(cp, x, n);
		histogram(cp, x, n, bins);
	}
	free(copy);
}

struct by_count {
	const uint64_t *counts;
};

/* Most frequent first; ties in index (first-seen) order. */
static int cmp_by_count(const void *a, const void *b, void *data)
{
	const uint64_t *counts = ((const struct by_count *)data)->counts;
	uint32_t i = *(const uint32_t *)a, j = *(const uint32_t *)b;

	if (counts[i] != counts[j])
		return counts[i] < counts[j] ? 1 : -1;
	return (i > j) - (i < j);
}

/* Fills unique, top and other from per-value counts; name(k) is value k's text. */
static void frequencies(struct column_profile *cp, const uint64_t *counts, size_t nvalues,
			const struct column *c, size_t top)
{
	static const char *const bools[] = { "false", "true" };
	struct by_count by = { counts };
	uint32_t *order = xmalloc((nvalues ? nvalues : 1) * sizeof(*order));
	uint64_t kept = 0;

	for (size_t k = 0; k < nvalues; k++) {
		order[k] = (uint32_t)k;
		cp->unique += counts[k] > 0;
	}
	qsort_r(order, nvalues, sizeof(*order), cmp_by_count, &by);
	cp->ntop = cp->unique < top ? cp->unique : top;
	cp->top = xcalloc(cp->ntop ? cp->ntop : 1, sizeof(*cp->top));
	for (size_t i = 0; i < cp->ntop; i++) {
		uint32_t k = order[i];

		cp->top[i].value =
		    xstrdup(c->type == COLUMN_BOOLEAN ? bools[k] : column_category(c, k));
		cp->top[i].count = counts[k];
		kept += counts[k];
	}
	cp->other = cp->count - kept;
	free(order);
}

static void profile_categorical(struct column_profile *cp, const struct column *c, size_t nrows,
				size_t top)
{
	size_t ncat = column_ncategories(c);
	uint64_t *counts = xcalloc(ncat ? ncat : 1, sizeof(*counts));

	for (size_t i = 0; i < nrows; i++)
		if (c->codes[i] != TABLE_NO_CODE)
			counts[c->codes[i]]++;
	cp->count = nrows - c->n_missing;
	frequencies(cp, counts, ncat, c, top);
	free(counts);
}

static void profile_boolean(struct column_profile *cp, const struct column *c, size_t nrows,
			    size_t top)
{
	uint64_t counts[2] = { 0, 0 };

	for (size_t i = 0; i < nrows; i++)
		if (!column_is_missing(c, i))
			counts[c->values[i] != 0]++;
	cp->count = counts[0] + counts[1];
	if (cp->count)
		cp->mean = (double)counts[1] / (double)cp->count;
	frequencies(cp, counts, 2, c, top);
}

struct job {
	struct profile *p;
	const struct table *t;
	const struct profile_options *opts;
};

/* A workpool item: column j. Columns share nothing but the read-only table. */
static int profile_column(size_t j, void *data, struct error *err)
{
	struct job *job = data;
	const struct column *c = job->t->cols[j];
	struct column_profile *cp = &job->p->cols[j];
	size_t nrows = job->t->nrows;

	(void)err;
	cp->name = xstrdup(c->name);
	cp->type = c->type;
	cp->missing = c->n_missing;
	if (c->type == COLUMN_NUMERIC)
		profile_numeric(cp, c, nrows, job->opts->bins);
	else if (c->type == COLUMN_BOOLEAN)
		profile_boolean(cp, c, nrows, job->opts->top);
	else
		profile_categorical(cp, c, nrows, job->opts->top);
	return 0;
}

int profile_compute(struct profile **out, const struct table *t, const struct profile_options *opts,
		    struct error *err)
{
	static const struct profile_options defaults = PROFILE_OPTIONS_INIT;
	struct job job = { NULL, t, opts ? opts : &defaults };

	if (!job.opts->bins)
		return error_set(err, ERR_INVALID, "a histogram needs at least one bin");
	job.p = xcalloc(1, sizeof(*job.p));
	job.p->rows = t->nrows;
	job.p->ncols = t->ncols;
	job.p->cols = xcalloc(t->ncols ? t->ncols : 1, sizeof(*job.p->cols));
	/* small tables are not worth a thread */
	workpool_run(t->ncols, t->nrows * t->ncols < 100000 ? 1 : 0, 0, profile_column, &job, NULL);
	*out = job.p;
	return 0;
}

void profile_free(struct profile *p)
{
	if (!p)
		return;
	for (size_t j = 0; j < p->ncols; j++) {
		struct column_profile *cp = &p->cols[j];

		free(cp->name);
		free(cp->edges);
		free(cp->counts);
		for (size_t i = 0; i < cp->ntop; i++)
			free(cp->top[i].value);
		free(cp->top);
	}
	free(p->cols);
	free(p);
}

/* null for what does not exist, and for what overflowed a double (the mean of 1e308s) */
static json_t *real_or_null(int ok, double v)
{
	return ok && isfinite(v) ? json_real(v) : json_null();
}

static void numeric_json(json_t *o, const struct column_profile *cp)
{
	json_t *q = json_null(), *h = json_null();

	json_object_set_new(o, "min", real_or_null(cp->count > 0, cp->min));
	json_object_set_new(o, "max", real_or_null(cp->count > 0, cp->max));
	json_object_set_new(o, "mean", real_or_null(cp->count > 0, cp->mean));
	json_object_set_new(o, "std", real_or_null(cp->count > 1, cp->std));
	if (cp->count) {
		json_t *edges = json_array(), *counts = json_array();

		q = json_object();
		for (size_t i = 0; i < PROFILE_NQUANTILES; i++)
			json_object_set_new(q, quantile_keys[i], real_or_null(1, cp->quantiles[i]));
		for (size_t i = 0; i <= cp->nbins; i++)
			json_array_append_new(edges, real_or_null(1, cp->edges[i]));
		for (size_t i = 0; i < cp->nbins; i++)
			json_array_append_new(counts, json_integer((json_int_t)cp->counts[i]));
		h = json_pack("{s:o,s:o}", "edges", edges, "counts", counts);
	}
	json_object_set_new(o, "quantiles", q);
	json_object_set_new(o, "histogram", h);
}

static void frequencies_json(json_t *o, const struct column_profile *cp)
{
	json_t *top = json_array();

	json_object_set_new(o, "unique", json_integer((json_int_t)cp->unique));
	for (size_t i = 0; i < cp->ntop; i++)
		json_array_append_new(top, json_pack("{s:s,s:I}", "value", cp->top[i].value,
						     "count", (json_int_t)cp->top[i].count));
	json_object_set_new(o, "top", top);
	json_object_set_new(o, "other", json_integer((json_int_t)cp->other));
}

json_t *profile_to_json(const struct profile *p)
{
	json_t *cols = json_array();

	for (size_t j = 0; j < p->ncols; j++) {
		const struct column_profile *cp = &p->cols[j];
		json_t *o = json_pack("{s:s,s:s,s:I,s:I}", "name", cp->name, "type",
				      column_type_name(cp->type), "count", (json_int_t)cp->count,
				      "missing", (json_int_t)cp->missing);

		if (cp->type == COLUMN_NUMERIC) {
			numeric_json(o, cp);
		} else {
			if (cp->type == COLUMN_BOOLEAN)
				json_object_set_new(o, "mean",
						    real_or_null(cp->count > 0, cp->mean));
			frequencies_json(o, cp);
		}
		json_array_append_new(cols, o);
	}
	return json_pack("{s:i,s:I,s:o}", "format_version", PROFILE_FORMAT_VERSION, "rows",
			 (json_int_t)p->rows, "columns", cols);
}
