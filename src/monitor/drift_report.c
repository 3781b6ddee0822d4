/*
 * The drift report: per column the test Evidently would choose (or the configured one), its
 * score, threshold and verdict, chart data, then the share rule over the tested columns.
 * Columns are tested in parallel; see drift_report.h for what is exact in streaming mode.
 */
#include "util/common.h"
#include "monitor/drift_internal.h"
#include "util/parse.h"
#include "util/workpool.h"

#include <math.h>

#define CHART_BINS 10
#define CHART_CATEGORIES 20
#define KS_AUTO_MAX 10000 /* scipy's MAX_AUTO_N: exact KS p-values up to this sample size */

const char *drift_verdict_name(enum drift_verdict v)
{
	switch (v) {
	case DRIFT_VERDICT_NONE:
		return "no_drift";
	case DRIFT_VERDICT_DRIFT:
		return "drift";
	case DRIFT_VERDICT_INSUFFICIENT:
		return "insufficient_data";
	case DRIFT_VERDICT_SKIPPED:
		return "skipped";
	}
	return "?";
}

/* One column to report: its reference and current sides (either may be absent). */
struct job {
	const struct drift_ref_column *rc;
	struct drift_cur_column *cc;
	enum drift_test test; /* configured; DEFAULT for Evidently's choice */
	double threshold;     /* configured; NaN for the test's default */
	bool skip;
};

struct run {
	struct job *jobs;
	struct drift_column_result *res;
	bool exact;
	uint64_t min_rows;
	const char *source;
};

/* The union of keys of both sides with their counts, in sorted key order. */
struct keyed {
	size_t n;
	uint64_t *rc, *cc;
	double *num;	  /* numeric keys, or NULL */
	const char **str; /* categorical keys (borrowed), or NULL */
	bool complete;	  /* every current value is in a key */
};

static void keyed_release(struct keyed *k)
{
	free(k->rc);
	free(k->cc);
	free(k->num);
	free(k->str);
}

static void keyed_alloc(struct keyed *k, size_t n)
{
	k->rc = xcalloc(n + 1, sizeof(uint64_t));
	k->cc = xcalloc(n + 1, sizeof(uint64_t));
}

static void keyed_push_num(struct keyed *k, double v, uint64_t r, uint64_t c)
{
	k->num[k->n] = v;
	k->rc[k->n] = r;
	k->cc[k->n++] = c;
}

/* Numeric keys from the reference's distinct values and the current's sorted raw values. */
static void keys_exact(struct keyed *k, const struct drift_ref_column *rc,
		       const struct drift_cur_column *cc)
{
	size_t i = 0, j = 0;

	keyed_alloc(k, rc->k + cc->nvals);
	k->num = xmalloc((rc->k + cc->nvals + 1) * sizeof(double));
	k->complete = true;
	while (i < rc->k || j < cc->nvals) {
		double v = i < rc->k && (j == cc->nvals || rc->u[i] <= cc->vals[j]) ? rc->u[i]
										    : cc->vals[j];
		uint64_t r = 0, c = 0;

		if (i < rc->k && rc->u[i] == v)
			r = rc->ucount[i++];
		while (j < cc->nvals && cc->vals[j] == v)
			c++, j++;
		keyed_push_num(k, v, r, c);
	}
}

/* Distinct values of u (distinct, sorted) and x (sorted) together, without building the keys. */
static uint64_t count_union(const double *u, size_t k, const double *x, size_t n)
{
	uint64_t d = 0;
	size_t i = 0, j = 0;

	while (i < k || j < n) {
		double v = i < k && (j == n || u[i] <= x[j]) ? u[i] : x[j];

		d++;
		i += i < k && u[i] == v;
		while (j < n && x[j] == v)
			j++;
	}
	return d;
}

/* Numeric keys from the streaming counts: reference values and the recorded new ones. */
static void keys_stream(struct keyed *k, const struct drift_ref_column *rc,
			const struct drift_cur_column *cc)
{
	const struct drift_valset *f = &cc->fresh;
	uint64_t seen = 0;
	size_t i = 0, j = 0;

	keyed_alloc(k, rc->k + f->n);
	k->num = xmalloc((rc->k + f->n + 1) * sizeof(double));
	while (i < rc->k || j < f->n) {
		if (j == f->n || (i < rc->k && rc->u[i] < f->v[j])) {
			keyed_push_num(k, rc->u[i], rc->ucount[i], cc->eq[i]);
			seen += cc->eq[i++];
		} else {
			keyed_push_num(k, f->v[j], 0, f->counts[j]);
			seen += f->counts[j++];
		}
	}
	k->complete = seen == cc->count;
}

static int cmp_key(const void *a, const void *b)
{
	return strcmp(**(const char *const *const *)a, **(const char *const *const *)b);
}

static void keys_strings(struct keyed *k, const struct drift_ref_column *rc,
			 const struct drift_cur_column *cc)
{
	const struct drift_strmap *m = &cc->cats;
	const char ***order = xmalloc((m->n + 1) * sizeof(*order));
	size_t n = 0;

	for (size_t i = 0; i < m->n; i++)
		order[n++] = (const char **)&m->keys[i];
	qsort(order, n, sizeof(*order), cmp_key);
	keyed_alloc(k, n);
	k->str = xmalloc((n + 1) * sizeof(*k->str));
	for (size_t i = 0; i < n; i++) {
		size_t idx = (size_t)((char **)order[i] - m->keys);
		uint64_t r = idx < rc->cats.n ? rc->cats.counts[idx] : 0;

		if (!r && !m->counts[idx])
			continue;
		k->str[k->n] = *order[i];
		k->rc[k->n] = r;
		k->cc[k->n++] = m->counts[idx];
	}
	k->complete = !cc->other;
	free(order);
}

/* ---- streaming statistics ----------------------------------------------------------------- */

/* KS D from the counts per reference value and gap, as scipy evaluates both ECDFs. */
static double ks_stream_d(const struct drift_ref_column *rc, const struct drift_cur_column *cc)
{
	double n = (double)rc->count, m = (double)cc->count, d = 0;
	uint64_t cr = 0, cu = 0;

	for (size_t j = 0; j <= rc->k; j++) {
		/* the largest current value in the gap below u[j] */
		if (cc->gap[j]) {
			cu += cc->gap[j];
			d = fmax(d, fabs((double)cr / n - (double)cu / m));
		}
		if (j == rc->k)
			break;
		cr += rc->ucount[j];
		cu += cc->eq[j];
		d = fmax(d, fabs((double)cr / n - (double)cu / m));
	}
	return d;
}

/*
 * The p-value for a D computed from counts: scipy's exact path needs the samples, so while it
 * would take it (both sizes <= 10000) the current side is rebuilt with each gap's values at one
 * point inside the gap, which leaves D unchanged; beyond, kstwo.sf as scipy's asymp mode.
 */
static int ks_stream(struct drift_column_result *res, const struct drift_ref_column *rc,
		     const struct drift_cur_column *cc, struct error *err)
{
	struct ks_result ks;
	double *x;
	size_t n = 0;
	int ret;

	res->statistic = ks_stream_d(rc, cc);
	if (rc->count > KS_AUTO_MAX || cc->count > KS_AUTO_MAX) {
		double en = (double)rc->count * (double)cc->count / (double)(rc->count + cc->count);

		res->score = drift_kstwo_sf(res->statistic, round(en));
		return 0;
	}
	x = xmalloc(cc->count * sizeof(double));
	for (size_t j = 0; j <= rc->k; j++) {
		double lo = j ? rc->u[j - 1] : rc->u[0] - 1, hi = j < rc->k ? rc->u[j] : lo + 2;
		double mid = j && j < rc->k ? lo + (hi - lo) / 2 : (j ? rc->u[j - 1] + 1 : lo);

		for (uint64_t i = 0; i < cc->gap[j]; i++)
			x[n++] = mid;
		for (uint64_t i = 0; j < rc->k && i < cc->eq[j]; i++)
			x[n++] = rc->u[j];
	}
	ret = drift_ks_2samp(rc->sorted, rc->count, x, n, KS_AUTO, &ks, err);
	if (!ret)
		res->score = ks.pvalue;
	free(x);
	return ret;
}

/*
 * W1 = integral of |F_ref - F_cur|. F_ref is constant on each reference gap; F_cur's integral
 * there follows from the gap's count and sum, so the gap contributes exactly unless the CDFs
 * cross inside it: then only bounds are known (g monotone between c0 and c1 with a known
 * integral), and the midpoint is taken.
 */
static void wasserstein_stream(struct drift_column_result *res, const struct drift_ref_column *rc,
			       const struct drift_cur_column *cc)
{
	long double n = rc->count, m = cc->count, w = 0, e = 0;
	uint64_t cr = 0, cu = cc->gap[0];
	double norm = fmax(rc->std, 0.001);

	w += (cc->gap[0] * (long double)rc->u[0] - cc->gsum[0]) / m;
	for (size_t j = 0; j + 1 < rc->k; j++) {
		long double L = (long double)rc->u[j + 1] - rc->u[j], a, c0, c1, I;
		uint64_t ng = cc->gap[j + 1];

		cr += rc->ucount[j];
		cu += cc->eq[j];
		a = cr / n;
		c0 = cu / m;
		c1 = (cu + ng) / m;
		I = c0 * L + (ng * (long double)rc->u[j + 1] - cc->gsum[j + 1]) / m;
		if (!ng) {
			w += fabsl(a - c0) * L;
		} else if (a <= c0) {
			w += I - a * L;
		} else if (a >= c1) {
			w += a * L - I;
		} else {
			long double lo = fmaxl(0, I - a * L);
			long double hi = (c1 - a) * (I - c0 * L) / (c1 - c0);

			w += a * L - I + lo + hi;
			e += hi - lo;
		}
		cu += ng;
	}
	w += (cc->gsum[rc->k] - cc->gap[rc->k] * (long double)rc->u[rc->k - 1]) / m;
	res->score = (double)(w / norm);
	res->score_error = (double)(e / norm);
}

/* ---- histograms ----------------------------------------------------------------------------- */

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

/*
 * Current values below t: exact from raw values; from the counts, a gap straddling t is split
 * in proportion to length (the documented approximation).
 */
static double cur_less(const struct drift_cur_column *cc, const struct drift_ref_column *rc,
		       bool exact, double t)
{
	size_t j;
	double below = 0, lo, hi;

	if (exact)
		return (double)lower_bound(cc->vals, cc->nvals, t);
	j = lower_bound(rc->u, rc->k, t);
	for (size_t i = 0; i < j; i++)
		below += (double)(cc->gap[i] + cc->eq[i]);
	if (j < rc->k && rc->u[j] == t)
		return below + (double)cc->gap[j];
	lo = j ? rc->u[j - 1] : cc->min;
	hi = j < rc->k ? rc->u[j] : cc->max;
	if (hi > lo)
		below += (double)cc->gap[j] * fmin(1, fmax(0, (t - lo) / (hi - lo)));
	else if (t > hi)
		below += (double)cc->gap[j];
	return below;
}

/* Counts per bin over edges (nb bins, numpy's: [a, b) but the last [a, b]). */
static void histogram(uint64_t *rcount, uint64_t *ccount, const double *edges, size_t nb,
		      const struct drift_ref_column *rc, const struct drift_cur_column *cc,
		      bool exact)
{
	uint64_t rprev = 0, cprev = 0;

	for (size_t i = 0; i < nb; i++) {
		uint64_t r =
		    i + 1 < nb ? lower_bound(rc->sorted, rc->count, edges[i + 1]) : rc->count;
		uint64_t c = i + 1 < nb ? (uint64_t)llround(cur_less(cc, rc, exact, edges[i + 1]))
					: cc->count;

		if (c < cprev)
			c = cprev;
		rcount[i] = r - rprev;
		ccount[i] = c - cprev;
		rprev = r;
		cprev = c;
	}
}

/* np.linspace(lo, hi, nb + 1), widened by 0.5 each side when lo == hi (np.histogram's rule). */
static double *linspace_edges(double lo, double hi, size_t nb)
{
	double *e = xmalloc((nb + 1) * sizeof(double)), step;

	if (lo == hi) {
		lo -= 0.5;
		hi += 0.5;
	}
	step = (hi - lo) / (double)nb;
	for (size_t i = 0; i < nb; i++)
		e[i] = (double)i * step + lo;
	e[nb] = hi;
	return e;
}

static void side_range(double *lo, double *hi, const struct drift_ref_column *rc,
		       const struct drift_cur_column *cc, bool exact)
{
	double cmin = exact ? cc->vals[0] : cc->min,
	       cmax = exact ? cc->vals[cc->nvals - 1] : cc->max;

	*lo = fmin(rc->sorted[0], cmin);
	*hi = fmax(rc->sorted[rc->count - 1], cmax);
}

/* Sturges bins from the counts (numpy's histogram_bin_edges(..., "sturges") over both sides). */
static int sturges_stream(struct drift_bins *b, const struct drift_ref_column *rc,
			  const struct drift_cur_column *cc)
{
	double lo, hi, width, ptp;
	size_t nb = 1;

	side_range(&lo, &hi, rc, cc, false);
	ptp = hi - lo;
	width = ptp / (log2((double)(rc->count + cc->count)) + 1.0);
	if (width > 0)
		nb = (size_t)ceil(ptp / width);
	b->n = nb;
	b->edges = linspace_edges(lo, hi, nb);
	b->keys = NULL;
	b->ref_counts = xcalloc(nb, sizeof(uint64_t));
	b->cur_counts = xcalloc(nb, sizeof(uint64_t));
	histogram(b->ref_counts, b->cur_counts, b->edges, nb, rc, cc, false);
	return 0;
}

/* ---- one column ----------------------------------------------------------------------------- */

static double distance(enum drift_test t, const uint64_t *rcnt, const uint64_t *ccnt, size_t n,
		       uint64_t rtotal, uint64_t ctotal)
{
	double *r = xmalloc((n + 1) * sizeof(double)), *c = xmalloc((n + 1) * sizeof(double)), d;
	bool smooth = t != DRIFT_TEST_JENSENSHANNON;

	drift_shares(r, rcnt, n, rtotal, smooth);
	drift_shares(c, ccnt, n, ctotal, smooth);
	d = t == DRIFT_TEST_PSI	     ? drift_psi(r, c, n)
	    : t == DRIFT_TEST_KL_DIV ? drift_kl_div(r, c, n)
				     : drift_jensenshannon(r, c, n);
	free(r);
	free(c);
	return d;
}

static int run_binned(struct drift_column_result *res, enum drift_test t,
		      const struct drift_ref_column *rc, const struct drift_cur_column *cc,
		      bool exact, const struct keyed *k, struct error *err)
{
	struct drift_bins b = { 0 };
	int ret;

	if (rc->type == COLUMN_CATEGORICAL || (!exact && rc->k <= 20)) {
		res->score = distance(t, k->rc, k->cc, k->n, rc->count, cc->count);
		if (!k->complete)
			res->score_error = NAN;
		return 0;
	}
	if (exact)
		ret = drift_bins_numeric(&b, rc->sorted, rc->count, cc->vals, cc->nvals, err);
	else
		ret = sturges_stream(&b, rc, cc);
	if (ret)
		return ret;
	res->score = distance(t, b.ref_counts, b.cur_counts, b.n, rc->count, cc->count);
	if (!exact)
		res->score_error = NAN;
	drift_bins_release(&b);
	return 0;
}

static int run_test(struct drift_column_result *res, const struct drift_ref_column *rc,
		    const struct drift_cur_column *cc, bool exact, const struct keyed *k,
		    struct error *err)
{
	struct drift_pvalue p;
	struct ks_result ks;
	int ret = 0;

	switch (res->test) {
	case DRIFT_TEST_KS:
		if (!exact)
			return ks_stream(res, rc, cc, err);
		ret = drift_ks_2samp(rc->sorted, rc->count, cc->vals, cc->nvals, KS_AUTO, &ks, err);
		res->score = ks.pvalue;
		res->statistic = ks.statistic;
		break;
	case DRIFT_TEST_WASSERSTEIN:
		/* exact: drift_wasserstein_norm with the reference's std computed once (the same
		 * sums in the same order, so the same bits) */
		if (!exact)
			wasserstein_stream(res, rc, cc);
		else
			res->score = drift_wasserstein(rc->sorted, rc->count, cc->vals, cc->nvals) /
				     fmax(rc->std, 0.001);
		break;
	case DRIFT_TEST_CHISQUARE:
	case DRIFT_TEST_Z:
		ret = (res->test == DRIFT_TEST_Z ? drift_z_test : drift_chisquare)(k->rc, k->cc,
										   k->n, &p, err);
		res->score = p.pvalue;
		res->statistic = p.statistic;
		if (!k->complete)
			res->score_error = NAN;
		break;
	default:
		ret = run_binned(res, res->test, rc, cc, exact, k, err);
		break;
	}
	return ret;
}

static char *label_of(const struct drift_ref_column *rc, const struct keyed *k, size_t i)
{
	char buf[FORMAT_DOUBLE_SIZE];

	if (k->str)
		return xstrdup(k->str[i]);
	if (rc->type == COLUMN_BOOLEAN)
		return xstrdup(k->num[i] ? "true" : "false");
	format_double(buf, k->num[i]);
	return xstrdup(buf);
}

struct ranked {
	uint64_t total;
	size_t idx;
};

static int cmp_ranked(const void *a, const void *b)
{
	const struct ranked *x = a, *y = b;

	if (x->total != y->total)
		return x->total < y->total ? 1 : -1;
	return (x->idx > y->idx) - (x->idx < y->idx);
}

/* The most frequent categories (by both sides' counts), then "other". */
static void chart_categories(struct drift_column_result *res, const struct drift_ref_column *rc,
			     const struct drift_cur_column *cc, const struct keyed *k)
{
	struct ranked *rk = xmalloc((k->n + 1) * sizeof(*rk));
	size_t top = k->n, nb;
	uint64_t rest_r = 0, rest_c = cc->other;

	for (size_t i = 0; i < k->n; i++) {
		rk[i].total = k->rc[i] + k->cc[i];
		rk[i].idx = i;
	}
	qsort(rk, k->n, sizeof(*rk), cmp_ranked);
	if (top > CHART_CATEGORIES)
		top = CHART_CATEGORIES;
	for (size_t i = top; i < k->n; i++) {
		rest_r += k->rc[rk[i].idx];
		rest_c += k->cc[rk[i].idx];
	}
	nb = top + (rest_r || rest_c);
	res->n_bins = nb;
	res->bin_labels = xcalloc(nb + 1, sizeof(char *));
	res->ref_share = xcalloc(nb + 1, sizeof(double));
	res->cur_share = xcalloc(nb + 1, sizeof(double));
	for (size_t i = 0; i < nb; i++) {
		size_t x = i < top ? rk[i].idx : 0;
		uint64_t r = i < top ? k->rc[x] : rest_r, c = i < top ? k->cc[x] : rest_c;

		res->bin_labels[i] = i < top ? label_of(rc, k, x) : xstrdup("other");
		res->ref_share[i] = (double)r / (double)rc->count;
		res->cur_share[i] = (double)c / (double)cc->count;
	}
	free(rk);
}

static void chart_numeric(struct drift_column_result *res, const struct drift_ref_column *rc,
			  const struct drift_cur_column *cc, bool exact)
{
	uint64_t r[CHART_BINS], c[CHART_BINS];
	double lo, hi;

	side_range(&lo, &hi, rc, cc, exact);
	res->n_bins = CHART_BINS;
	res->bin_edges = linspace_edges(lo, hi, CHART_BINS);
	histogram(r, c, res->bin_edges, CHART_BINS, rc, cc, exact);
	res->ref_share = xmalloc(CHART_BINS * sizeof(double));
	res->cur_share = xmalloc(CHART_BINS * sizeof(double));
	for (size_t i = 0; i < CHART_BINS; i++) {
		res->ref_share[i] = (double)r[i] / (double)rc->count;
		res->cur_share[i] = (double)c[i] / (double)cc->count;
	}
}

static void set_note(struct drift_column_result *res, enum drift_verdict v, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_note(struct drift_column_result *res, enum drift_verdict v, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	res->verdict = v;
	free(res->note);
	res->note = xstrdup(buf);
}

/* Why a column cannot be tested, or NULL. */
static bool untestable(struct drift_column_result *res, const struct job *j, const struct run *run)
{
	const struct drift_ref_column *rc = j->rc;
	const struct drift_cur_column *cc = j->cc;
	bool strings = rc && rc->type == COLUMN_CATEGORICAL;

	if (!cc) {
		set_note(res, DRIFT_VERDICT_SKIPPED, "not in the current data ('%s')", run->source);
		return true;
	}
	if (!rc) {
		set_note(res, DRIFT_VERDICT_SKIPPED, "not in the reference data");
		return true;
	}
	if (j->skip) {
		set_note(res, DRIFT_VERDICT_SKIPPED, "skipped by the configuration");
		return true;
	}
	if (cc->mismatch) {
		set_note(res, DRIFT_VERDICT_SKIPPED, "%s", cc->mismatch);
		return true;
	}
	if (strings && cc->count && (cc->all_number || cc->all_bool)) {
		set_note(res, DRIFT_VERDICT_SKIPPED,
			 "type mismatch: categorical in the reference, %s in '%s'",
			 cc->all_number ? "numeric" : "boolean", run->source);
		return true;
	}
	if (!rc->count || !cc->count) {
		set_note(res, DRIFT_VERDICT_SKIPPED, "every value is missing in the %s",
			 rc->count ? "current data" : "reference");
		return true;
	}
	if (rc->count < run->min_rows || cc->count < run->min_rows) {
		bool ref_short = rc->count < run->min_rows;

		set_note(res, DRIFT_VERDICT_INSUFFICIENT,
			 "insufficient data: %" PRIu64 " value%s in the %s, fewer than %" PRIu64,
			 ref_short ? rc->count : cc->count,
			 (ref_short ? rc->count : cc->count) == 1 ? "" : "s",
			 ref_short ? "reference" : "current data", run->min_rows);
		return true;
	}
	return false;
}

static int column_run(size_t i, void *data, struct error *err)
{
	struct run *run = data;
	struct job *j = &run->jobs[i];
	struct drift_column_result *res = &run->res[i];
	const struct drift_ref_column *rc = j->rc;
	struct drift_cur_column *cc = j->cc;
	struct keyed k = { 0 };
	bool strings, counted;
	int ret = 0;

	res->name = xstrdup(rc ? rc->name : cc ? cc->name : "");
	res->numeric = rc ? rc->numeric : false;
	res->score = res->statistic = res->threshold = NAN;
	res->ref_mean = res->cur_mean = NAN;
	res->exact = run->exact;
	res->test = j->test;
	if (rc) {
		res->ref_count = rc->count;
		res->ref_missing = rc->missing;
	}
	if (cc) {
		res->cur_count = cc->count;
		res->cur_missing = cc->missing;
	}
	if (untestable(res, j, run))
		return 0;
	strings = rc->type == COLUMN_CATEGORICAL;
	counted =
	    strings || rc->k <= 5 || j->test == DRIFT_TEST_CHISQUARE || j->test == DRIFT_TEST_Z;
	if (strings)
		keys_strings(&k, rc, cc);
	else if (!run->exact)
		keys_stream(&k, rc, cc);
	/* with more than 5 distinct reference values the choice of test needs no count */
	if (counted)
		res->n_unique = strings || !run->exact
				    ? k.n + !k.complete
				    : count_union(rc->u, rc->k, cc->vals, cc->nvals);
	if (res->test == DRIFT_TEST_DEFAULT ||
	    (strings && (res->test == DRIFT_TEST_KS || res->test == DRIFT_TEST_WASSERSTEIN)))
		res->test =
		    drift_default_test(rc->numeric, rc->count, counted ? res->n_unique : rc->k);
	/* the keys of raw numbers only where a test or the chart counts per value */
	if (!strings && run->exact &&
	    (res->test == DRIFT_TEST_CHISQUARE || res->test == DRIFT_TEST_Z || !rc->numeric))
		keys_exact(&k, rc, cc);
	res->threshold = isnan(j->threshold) ? drift_default_threshold(res->test) : j->threshold;
	if ((ret = run_test(res, rc, cc, run->exact, &k, err)))
		goto out;
	res->verdict = drift_decide(res->test, res->score, res->threshold) ? DRIFT_VERDICT_DRIFT
									   : DRIFT_VERDICT_NONE;
	if (!strings) {
		res->ref_mean = rc->mean;
		res->cur_mean = (double)(cc->sum / cc->count);
	}
	if (rc->numeric)
		chart_numeric(res, rc, cc, run->exact);
	else
		chart_categories(res, rc, cc, &k);
out:
	keyed_release(&k);
	return ret;
}

/* ---- options -------------------------------------------------------------------------------- */

static int check_threshold(double t, enum drift_test test, const char *what, struct error *err)
{
	if (isnan(t))
		return 0;
	if (!isfinite(t) || t <= 0 || (drift_test_is_pvalue(test) && t > 1))
		return error_set(err, ERR_INVALID,
				 "%s: threshold %g is out of range (a p-value threshold is in "
				 "(0, 1], a distance threshold above 0)",
				 what, t);
	return 0;
}

static int apply_overrides(struct job *jobs, size_t njobs, const struct drift_options *o,
			   struct error *err)
{
	int ret;

	if ((ret = check_threshold(o->threshold, o->test, "drift threshold", err)))
		return ret;
	for (size_t i = 0; i < njobs; i++) {
		jobs[i].test = o->test;
		jobs[i].threshold = o->threshold;
	}
	for (size_t c = 0; c < o->n_columns; c++) {
		const struct drift_column_config *cfg = &o->columns[c];
		size_t i;
		char what[300];

		for (i = 0; i < njobs; i++)
			if (!strcmp(jobs[i].rc ? jobs[i].rc->name : jobs[i].cc->name, cfg->column))
				break;
		if (i == njobs)
			return error_set(err, ERR_INVALID,
					 "drift override for column '%s': no such column in the "
					 "reference or the current data",
					 cfg->column);
		snprintf(what, sizeof(what), "drift override for column '%s'", cfg->column);
		if (cfg->test != DRIFT_TEST_DEFAULT) {
			if (jobs[i].rc && jobs[i].rc->type == COLUMN_CATEGORICAL &&
			    (cfg->test == DRIFT_TEST_KS || cfg->test == DRIFT_TEST_WASSERSTEIN))
				return error_set(err, ERR_INVALID,
						 "%s: test '%s' needs numbers, and the column is "
						 "categorical",
						 what, drift_test_name(cfg->test));
			jobs[i].test = cfg->test;
		}
		if (!isnan(cfg->threshold)) {
			if ((ret = check_threshold(cfg->threshold, jobs[i].test, what, err)))
				return ret;
			jobs[i].threshold = cfg->threshold;
		}
		jobs[i].skip = cfg->skip;
	}
	return 0;
}

static void summarise(struct drift_report *r)
{
	r->exact = true;
	for (size_t i = 0; i < r->n_columns; i++) {
		const struct drift_column_result *c = &r->columns[i];

		if (c->verdict != DRIFT_VERDICT_NONE && c->verdict != DRIFT_VERDICT_DRIFT)
			continue;
		r->n_tested++;
		r->n_drifted += c->verdict == DRIFT_VERDICT_DRIFT;
		r->exact = r->exact && c->exact;
	}
	r->share = r->n_tested ? (double)r->n_drifted / (double)r->n_tested : NAN;
	r->dataset_drift = r->n_tested && r->share >= r->drift_share;
	r->verdict = !r->n_tested	? DRIFT_VERDICT_INSUFFICIENT
		     : r->dataset_drift ? DRIFT_VERDICT_DRIFT
					: DRIFT_VERDICT_NONE;
}

int drift_report_finish(struct drift_report **out, const struct drift_reference *ref,
			struct drift_current *cur, const struct drift_options *o, struct error *err)
{
	struct drift_options defaults = DRIFT_OPTIONS_INIT;
	struct job *jobs = xcalloc(ref->ncols + cur->ncols + 1, sizeof(*jobs));
	struct drift_report *r = NULL;
	struct run run = { 0 };
	size_t n = 0;
	int ret = 0;

	if (!o)
		o = &defaults;
	if (o->drift_share < 0 || o->drift_share > 1 || isnan(o->drift_share)) {
		ret = error_set(err, ERR_INVALID, "drift share %g is out of range (0, 1]",
				o->drift_share);
		goto out;
	}
	for (size_t i = 0; i < ref->ncols; i++, n++) {
		jobs[n].rc = &ref->cols[i];
		for (size_t c = 0; c < cur->ncols; c++)
			if (cur->cols[c].ref == (long)i)
				jobs[n].cc = &cur->cols[c];
	}
	for (size_t c = 0; c < cur->ncols; c++)
		if (cur->cols[c].ref < 0)
			jobs[n++].cc = &cur->cols[c];
	if ((ret = apply_overrides(jobs, n, o, err)))
		goto out;
	drift_current_sort(cur, o->jobs);
	r = xcalloc(1, sizeof(*r));
	r->ref_rows = ref->rows;
	r->cur_rows = cur->rows;
	r->n_columns = n;
	r->columns = xcalloc(n + 1, sizeof(*r->columns));
	r->drift_share = o->drift_share > 0 ? o->drift_share : 0.5;
	run.jobs = jobs;
	run.res = r->columns;
	run.exact = cur->exact;
	run.min_rows = o->min_rows ? o->min_rows : 1;
	run.source = cur->source;
	if ((ret = workpool_run(n, o->jobs, 0, column_run, &run, err)))
		goto out;
	summarise(r);
	*out = r;
	r = NULL;
out:
	drift_report_free(r);
	free(jobs);
	return ret;
}

int drift_report_tables(struct drift_report **out, const struct table *ref, const struct table *cur,
			const struct drift_options *o, struct error *err)
{
	const char **names = xcalloc(cur->ncols + 1, sizeof(*names));
	struct drift_reference *dr = drift_reference_new(ref);
	struct drift_current *dc;
	int ret;

	for (size_t i = 0; i < cur->ncols; i++)
		names[i] = cur->cols[i]->name;
	/* tables are in memory already: never leave the exact path */
	dc = drift_current_new(dr, cur->name, names, cur->ncols, UINT64_MAX);
	ret = drift_current_add_table(dc, cur, err);
	if (!ret)
		ret = drift_report_finish(out, dr, dc, o, err);
	drift_current_free(dc);
	drift_reference_free(dr);
	free(names);
	return ret;
}

void drift_report_free(struct drift_report *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_columns; i++) {
		struct drift_column_result *c = &r->columns[i];

		free(c->name);
		free(c->note);
		free(c->bin_edges);
		for (size_t b = 0; c->bin_labels && b < c->n_bins; b++)
			free(c->bin_labels[b]);
		free(c->bin_labels);
		free(c->ref_share);
		free(c->cur_share);
	}
	free(r->columns);
	free(r);
}

/* ---- JSON ------------------------------------------------------------------------------------ */

static json_t *num(double x)
{
	return isfinite(x) ? json_real(x) : json_null();
}

static json_t *doubles(const double *v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; v && i < n; i++)
		json_array_append_new(a, num(v[i]));
	return a;
}

static json_t *column_json(const struct drift_column_result *c)
{
	json_t *j = json_object();
	bool tested = c->verdict == DRIFT_VERDICT_NONE || c->verdict == DRIFT_VERDICT_DRIFT;

	json_object_set_new(j, "name", json_string(c->name));
	json_object_set_new(j, "kind", json_string(c->numeric ? "numerical" : "categorical"));
	json_object_set_new(
	    j, "test", tested || c->test ? json_string(drift_test_name(c->test)) : json_null());
	json_object_set_new(j, "score", num(c->score));
	json_object_set_new(j, "statistic", num(c->statistic));
	json_object_set_new(j, "threshold", num(c->threshold));
	json_object_set_new(j, "verdict", json_string(drift_verdict_name(c->verdict)));
	json_object_set_new(j, "drift", json_boolean(c->verdict == DRIFT_VERDICT_DRIFT));
	json_object_set_new(j, "note", c->note ? json_string(c->note) : json_null());
	json_object_set_new(j, "ref_count", json_integer((json_int_t)c->ref_count));
	json_object_set_new(j, "cur_count", json_integer((json_int_t)c->cur_count));
	json_object_set_new(j, "ref_missing", json_integer((json_int_t)c->ref_missing));
	json_object_set_new(j, "cur_missing", json_integer((json_int_t)c->cur_missing));
	json_object_set_new(j, "n_unique",
			    c->n_unique ? json_integer((json_int_t)c->n_unique) : json_null());
	json_object_set_new(j, "ref_mean", num(c->ref_mean));
	json_object_set_new(j, "cur_mean", num(c->cur_mean));
	json_object_set_new(j, "exact", json_boolean(c->exact));
	json_object_set_new(j, "score_error", c->exact ? json_real(0) : num(c->score_error));
	if (c->n_bins) {
		json_t *chart = json_object();

		if (c->bin_edges)
			json_object_set_new(chart, "bin_edges",
					    doubles(c->bin_edges, c->n_bins + 1));
		if (c->bin_labels) {
			json_t *l = json_array();

			for (size_t i = 0; i < c->n_bins; i++)
				json_array_append_new(l, json_string(c->bin_labels[i]));
			json_object_set_new(chart, "labels", l);
		}
		json_object_set_new(chart, "ref_share", doubles(c->ref_share, c->n_bins));
		json_object_set_new(chart, "cur_share", doubles(c->cur_share, c->n_bins));
		json_object_set_new(j, "chart", chart);
	}
	return j;
}

json_t *drift_report_to_json(const struct drift_report *r)
{
	json_t *j = json_object(), *cols = json_array();

	json_object_set_new(j, "ref_rows", json_integer((json_int_t)r->ref_rows));
	json_object_set_new(j, "cur_rows", json_integer((json_int_t)r->cur_rows));
	json_object_set_new(j, "n_columns", json_integer((json_int_t)r->n_columns));
	json_object_set_new(j, "n_tested", json_integer((json_int_t)r->n_tested));
	json_object_set_new(j, "n_drifted", json_integer((json_int_t)r->n_drifted));
	json_object_set_new(j, "share", num(r->share));
	json_object_set_new(j, "drift_share", json_real(r->drift_share));
	json_object_set_new(j, "dataset_drift", json_boolean(r->dataset_drift));
	json_object_set_new(j, "verdict", json_string(drift_verdict_name(r->verdict)));
	json_object_set_new(j, "exact", json_boolean(r->exact));
	for (size_t i = 0; i < r->n_columns; i++)
		json_array_append_new(cols, column_json(&r->columns[i]));
	json_object_set_new(j, "columns", cols);
	return j;
}
