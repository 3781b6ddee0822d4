/*
 * Drift statistics (see drift_stats.h): sorting, Wasserstein, numpy's Sturges binning, shares,
 * PSI / KL / Jensen-Shannon, the chi-square and z tests, and Evidently's test table. The
 * Kolmogorov-Smirnov test and its distribution live in drift_ks.c.
 */
#include "util/common.h"
#include "monitor/drift_stats.h"

#include <gsl/gsl_cdf.h>
#include <math.h>

/* ---- sorting -------------------------------------------------------------------------------- */

#define RADIX_MIN 512 /* below this a comparison sort beats the radix passes */
/*
 * 11-bit digits: 6 passes with 16 KiB of counts each. 16-bit digits (4 passes, 2 MiB of counts)
 * sorted 100k values 25% faster alone, but made the 50-column report 1.7x slower (fresh 2 MiB
 * per sort, two threads sharing the cache): measured with bench/drift_report.sh, not kept.
 */
#define RADIX_BITS 11
#define RADIX_PASSES 6 /* 6 x 11 bits >= 64 */
#define RADIX_SIZE ((size_t)1 << RADIX_BITS)

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Maps IEEE bits to an unsigned key with the same order: negatives flipped, positives signed. */
static inline uint64_t radix_key(double v)
{
	uint64_t u;

	memcpy(&u, &v, sizeof(u));
	return u & 0x8000000000000000ull ? ~u : u | 0x8000000000000000ull;
}

static inline double radix_value(uint64_t k)
{
	uint64_t u = k & 0x8000000000000000ull ? k & ~0x8000000000000000ull : ~k;
	double v;

	memcpy(&v, &u, sizeof(v));
	return v;
}

void drift_sort(double *x, size_t n)
{
	uint64_t *a, *b;
	size_t(*count)[RADIX_SIZE];

	if (n < RADIX_MIN) {
		qsort(x, n, sizeof(*x), cmp_double);
		return;
	}
	/* LSD radix on the keys: one counting pass for all digits, then one scatter per digit
	 * that is not constant over the data (common for doubles of one sign and scale). */
	a = xmalloc(n * sizeof(*a));
	b = xmalloc(n * sizeof(*b));
	count = xcalloc(RADIX_PASSES, sizeof(*count));
	for (size_t i = 0; i < n; i++) {
		uint64_t k = radix_key(x[i]);

		a[i] = k;
		for (int p = 0; p < RADIX_PASSES; p++)
			count[p][(k >> (p * RADIX_BITS)) & (RADIX_SIZE - 1)]++;
	}
	for (int p = 0; p < RADIX_PASSES; p++) {
		size_t sum = 0;
		unsigned shift = (unsigned)p * RADIX_BITS;
		uint64_t *t;

		if (count[p][(a[0] >> shift) & (RADIX_SIZE - 1)] == n)
			continue;
		for (size_t d = 0; d < RADIX_SIZE; d++) {
			size_t c = count[p][d];

			count[p][d] = sum;
			sum += c;
		}
		for (size_t i = 0; i < n; i++)
			b[count[p][(a[i] >> shift) & (RADIX_SIZE - 1)]++] = a[i];
		t = a;
		a = b;
		b = t;
	}
	for (size_t i = 0; i < n; i++)
		x[i] = radix_value(a[i]);
	free(count);
	free(a);
	free(b);
}

/* ---- Wasserstein ------------------------------------------------------------------------------ */

/*
 * scipy's _cdf_distance(p=1): over the merged sorted values, sum |F1 - F2| times the gap to the
 * next value, where F counts values <= the left end (searchsorted side='right') over n.
 */
double drift_wasserstein(const double *ref, size_t n1, const double *cur, size_t n2)
{
	uint64_t pos = 0, end = (uint64_t)n1 * (uint64_t)n2;
	size_t i = 0, j = 0;
	double sum = 0;

	if (!n1 || !n2)
		return NAN;
	/*
	 * The same integral as scipy's sum of |F1 - F2| over the gaps between the merged values,
	 * taken along the other axis: W1 = integral over u in (0, 1] of |Q1(u) - Q2(u)|, where
	 * Q1(u) = ref[i] for u in (i/n1, (i+1)/n1]. In units of 1/(n1 n2) the breakpoints are the
	 * integers (i+1) n2 and (j+1) n1, so the sweep advances by exact integer steps and which
	 * index moves is decided by integer comparisons the compiler turns into conditional moves:
	 * no data-dependent branch, where the merge over values mispredicted about every other step.
	 */
	while (pos < end) {
		uint64_t a = (uint64_t)(i + 1) * n2, b = (uint64_t)(j + 1) * n1;
		uint64_t m = a < b ? a : b;

		sum += fabs(ref[i] - cur[j]) * (double)(m - pos);
		pos = m;
		i += a == m;
		j += b == m;
	}
	return sum / (double)end;
}

double drift_std_pop(const double *x, size_t n)
{
	double mean = 0, ss = 0;

	if (!n)
		return NAN;
	/* numpy's std: the mean first, then the mean of squared deviations (numpy sums pairwise;
	 * a plain sum agrees far below the 1e-9 the values are checked to). */
	for (size_t i = 0; i < n; i++)
		mean += x[i];
	mean /= (double)n;
	for (size_t i = 0; i < n; i++)
		ss += (x[i] - mean) * (x[i] - mean);
	return sqrt(ss / (double)n);
}

double drift_wasserstein_norm(const double *ref, size_t n1, const double *cur, size_t n2)
{
	double sd;

	if (!n1 || !n2)
		return NAN;
	sd = drift_std_pop(ref, n1);
	return drift_wasserstein(ref, n1, cur, n2) / (sd > 0.001 ? sd : 0.001);
}

/* ---- binning ------------------------------------------------------------------------------------ */

#define PER_VALUE_MAX_NUNIQUE 20

static size_t count_distinct(const double *x, size_t n)
{
	size_t d = n ? 1 : 0;

	for (size_t i = 1; i < n; i++)
		d += x[i] != x[i - 1];
	return d;
}

/* Counts of sorted x per sorted key (every x is a key). */
static void count_per_key(uint64_t *counts, const double *keys, size_t nk, const double *x,
			  size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		while (k < nk && keys[k] < x[i])
			k++;
		counts[k]++;
	}
}

static void bins_per_value(struct drift_bins *b, const double *ref, size_t n1, const double *cur,
			   size_t n2)
{
	size_t i = 0, j = 0, k = 0;

	b->keys = xmalloc((n1 + n2) * sizeof(double));
	while (i < n1 || j < n2) {
		double v = j >= n2 || (i < n1 && ref[i] <= cur[j]) ? ref[i] : cur[j];

		while (i < n1 && ref[i] == v)
			i++;
		while (j < n2 && cur[j] == v)
			j++;
		b->keys[k++] = v;
	}
	b->n = k;
	b->ref_counts = xcalloc(k, sizeof(uint64_t));
	b->cur_counts = xcalloc(k, sizeof(uint64_t));
	count_per_key(b->ref_counts, b->keys, k, ref, n1);
	count_per_key(b->cur_counts, b->keys, k, cur, n2);
}

/*
 * np.histogram(x, bins=edges) with the edges given as an array, as Evidently passes them: numpy
 * then counts by searchsorted on the edges (not by its uniform-bin arithmetic), so bin i holds
 * edges[i] <= x < edges[i + 1], the last bin also x == edges[nb]; values outside are dropped.
 */
static void histogram_sorted(uint64_t *counts, const double *edges, size_t nb, const double *x,
			     size_t n)
{
	size_t bin = 0;

	for (size_t i = 0; i < n; i++) {
		double v = x[i];

		if (v < edges[0] || v > edges[nb])
			continue;
		while (bin + 1 < nb && v >= edges[bin + 1])
			bin++;
		counts[bin]++;
	}
}

/* np.linspace(lo, hi, num): step = delta / div; y = i * step + lo; y[-1] = hi. */
static void linspace(double *out, double lo, double hi, size_t num)
{
	size_t div = num - 1;
	double delta = hi - lo, step = delta / (double)div;

	for (size_t i = 0; i < num; i++)
		out[i] = step == 0 ? (double)i / (double)div * delta + lo : (double)i * step + lo;
	out[num - 1] = hi;
}

/*
 * np.histogram_bin_edges(a, 'sturges'): width = ptp / (log2(N) + 1); nbins = ceil(ptp / width);
 * an empty range (ptp 0) becomes one bin over [v - 0.5, v + 0.5].
 */
static void bins_sturges(struct drift_bins *b, const double *ref, size_t n1, const double *cur,
			 size_t n2)
{
	double lo = fmin(ref[0], cur[0]), hi = fmax(ref[n1 - 1], cur[n2 - 1]);
	size_t nb = 1;

	if (hi > lo) {
		double width = (hi - lo) / (log2((double)(n1 + n2)) + 1.0);

		nb = (size_t)ceil((hi - lo) / width);
		if (nb < 1)
			nb = 1;
	} else {
		lo -= 0.5;
		hi += 0.5;
	}
	b->n = nb;
	b->edges = xmalloc((nb + 1) * sizeof(double));
	linspace(b->edges, lo, hi, nb + 1);
	b->ref_counts = xcalloc(nb, sizeof(uint64_t));
	b->cur_counts = xcalloc(nb, sizeof(uint64_t));
	histogram_sorted(b->ref_counts, b->edges, nb, ref, n1);
	histogram_sorted(b->cur_counts, b->edges, nb, cur, n2);
}

int drift_bins_numeric(struct drift_bins *out, const double *ref, size_t n1, const double *cur,
		       size_t n2, struct error *err)
{
	struct drift_bins b = { 0 };

	if (!n1 || !n2)
		return error_set(err, ERR_INVALID, "drift binning: %s sample is empty",
				 n1 ? "current" : "reference");
	if (count_distinct(ref, n1) > PER_VALUE_MAX_NUNIQUE)
		bins_sturges(&b, ref, n1, cur, n2);
	else
		bins_per_value(&b, ref, n1, cur, n2);
	*out = b;
	return 0;
}

void drift_bins_release(struct drift_bins *b)
{
	if (!b)
		return;
	free(b->edges);
	free(b->keys);
	free(b->ref_counts);
	free(b->cur_counts);
	memset(b, 0, sizeof(*b));
}

/* ---- shares and distances ------------------------------------------------------------------------ */

void drift_shares(double *share, const uint64_t *counts, size_t n, uint64_t total, bool smoothed)
{
	double min_nonzero = INFINITY, fill;

	for (size_t i = 0; i < n; i++) {
		share[i] = total ? (double)counts[i] / (double)total : 0;
		if (share[i] > 0 && share[i] < min_nonzero)
			min_nonzero = share[i];
	}
	if (!smoothed)
		return;
	fill = min_nonzero <= 1e-4 ? min_nonzero / 1e6 : 1e-4;
	for (size_t i = 0; i < n; i++)
		if (share[i] == 0)
			share[i] = fill;
}

double drift_psi(const double *ref_smoothed, const double *cur_smoothed, size_t n)
{
	double sum = 0;

	for (size_t i = 0; i < n; i++)
		sum += (ref_smoothed[i] - cur_smoothed[i]) * log(ref_smoothed[i] / cur_smoothed[i]);
	return sum;
}

static double sum_of(const double *x, size_t n)
{
	double s = 0;

	for (size_t i = 0; i < n; i++)
		s += x[i];
	return s;
}

/* scipy.special.rel_entr: x ln(x / y), 0 at x == 0, inf where y == 0 < x. */
static double rel_entr(double x, double y)
{
	if (x > 0 && y > 0)
		return x * log(x / y);
	if (x == 0 && y >= 0)
		return 0;
	return INFINITY;
}

double drift_kl_div(const double *ref_smoothed, const double *cur_smoothed, size_t n)
{
	double sr = sum_of(ref_smoothed, n), sc = sum_of(cur_smoothed, n), kl = 0;

	for (size_t i = 0; i < n; i++)
		kl += rel_entr(ref_smoothed[i] / sr, cur_smoothed[i] / sc);
	return kl;
}

double drift_jensenshannon(const double *ref_raw, const double *cur_raw, size_t n)
{
	double sr = sum_of(ref_raw, n), sc = sum_of(cur_raw, n), left = 0, right = 0, js;

	for (size_t i = 0; i < n; i++) {
		double p = ref_raw[i] / sr, q = cur_raw[i] / sc, m = (p + q) / 2.0;

		left += rel_entr(p, m);
		right += rel_entr(q, m);
	}
	js = (left + right) / 2.0;
	return sqrt(js > 0 ? js : 0);
}

/* ---- categorical tests ---------------------------------------------------------------------------- */

static uint64_t total_of(const uint64_t *c, size_t n)
{
	uint64_t t = 0;

	for (size_t i = 0; i < n; i++)
		t += c[i];
	return t;
}

static int check_counts(uint64_t nr, uint64_t nc, const char *what, struct error *err)
{
	if (!nr || !nc)
		return error_set(err, ERR_INVALID, "%s: %s sample is empty", what,
				 nr ? "current" : "reference");
	return 0;
}

int drift_chisquare(const uint64_t *ref_counts, const uint64_t *cur_counts, size_t n,
		    struct drift_pvalue *out, struct error *err)
{
	uint64_t nr = total_of(ref_counts, n), nc = total_of(cur_counts, n);
	double scale, stat = 0;
	int rc = check_counts(nr, nc, "chisquare test", err);

	if (rc)
		return rc;
	scale = (double)nc / (double)nr;
	for (size_t i = 0; i < n; i++) {
		double e = (double)ref_counts[i] * scale, d = (double)cur_counts[i] - e;

		/* A key absent from the reference: numpy gives inf (or nan for 0/0, which the
		 * key cannot be: it came from one of the two sides). */
		stat += e > 0 ? d * d / e : (d != 0 ? INFINITY : NAN);
	}
	out->statistic = stat;
	out->pvalue = isinf(stat) ? 0.0 : n > 1 ? gsl_cdf_chisq_Q(stat, (double)(n - 1)) : NAN;
	return 0;
}

int drift_chi2_contingency(const uint64_t *ref_counts, const uint64_t *cur_counts, size_t n,
			   bool correction, struct drift_pvalue *out, struct error *err)
{
	uint64_t nr = total_of(ref_counts, n), nc = total_of(cur_counts, n);
	double total, stat = 0;
	size_t cols = 0, dof;
	int rc = check_counts(nr, nc, "chi2 contingency test", err);

	if (rc)
		return rc;
	total = (double)(nr + nc);
	for (size_t i = 0; i < n; i++)
		cols += ref_counts[i] + cur_counts[i] > 0;
	/* scipy rejects a zero expected frequency: keys seen by neither side do not exist here. */
	if (cols != n)
		return error_set(err, ERR_INVALID,
				 "chi2 contingency test: a key has no observations on either side");
	dof = n - 1;
	if (dof == 0) {
		out->statistic = 0;
		out->pvalue = 1;
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		double col = (double)(ref_counts[i] + cur_counts[i]);
		const uint64_t *obs[2] = { ref_counts, cur_counts };
		double rows[2] = { (double)nr, (double)nc };

		for (int r = 0; r < 2; r++) {
			double e = rows[r] * col / total, d = (double)obs[r][i] - e;

			if (correction && dof == 1) {
				/* Yates: move each observation 0.5 towards its expectation, but
				 * never past it (scipy: min(0.5, |o - e|)). */
				double a = fabs(d), adj = a < 0.5 ? a : 0.5;

				d = d > 0 ? d - adj : d + adj;
			}
			stat += d * d / e;
		}
	}
	out->statistic = stat;
	out->pvalue = gsl_cdf_chisq_Q(stat, (double)dof);
	return 0;
}

int drift_z_test(const uint64_t *ref_counts, const uint64_t *cur_counts, size_t n,
		 struct drift_pvalue *out, struct error *err)
{
	uint64_t nr = total_of(ref_counts, n), nc = total_of(cur_counts, n);
	double p1, p2, p, se, z;
	size_t k0 = 0;
	int rc = check_counts(nr, nc, "z test", err);

	if (rc)
		return rc;
	/* key 0 is the first key that occurs (Evidently sorts the values it saw) */
	while (k0 + 1 < n && ref_counts[k0] + cur_counts[k0] == 0)
		k0++;
	if (nr == ref_counts[k0] && nc == cur_counts[k0]) {
		/* One constant on both sides: Evidently returns 1 rather than 0/0. */
		out->statistic = 0;
		out->pvalue = 1;
		return 0;
	}
	p1 = (double)(nr - ref_counts[k0]) / (double)nr;
	p2 = (double)(nc - cur_counts[k0]) / (double)nc;
	p = (p1 * (double)nr + p2 * (double)nc) / (double)(nr + nc);
	se = sqrt(p * (1 - p) * (1.0 / (double)nr + 1.0 / (double)nc));
	z = (p1 - p2) / se;
	out->statistic = z;
	/* 2 (1 - Phi(|z|)) as Evidently writes it (not the tail Q): the same 0 for huge |z| */
	out->pvalue = 2 * (1 - gsl_cdf_ugaussian_P(fabs(z)));
	return 0;
}

/* ---- Evidently's tests --------------------------------------------------------------------------- */

static const char *const test_names[] = {
	[DRIFT_TEST_DEFAULT] = "default",
	[DRIFT_TEST_KS] = "ks",
	[DRIFT_TEST_CHISQUARE] = "chisquare",
	[DRIFT_TEST_Z] = "z",
	[DRIFT_TEST_WASSERSTEIN] = "wasserstein",
	[DRIFT_TEST_JENSENSHANNON] = "jensenshannon",
	[DRIFT_TEST_PSI] = "psi",
	[DRIFT_TEST_KL_DIV] = "kl_div",
};

#define N_TESTS (sizeof(test_names) / sizeof(test_names[0]))

const char *drift_test_name(enum drift_test t)
{
	return (size_t)t < N_TESTS ? test_names[t] : "unknown";
}

int drift_test_parse(enum drift_test *out, const char *name, struct error *err)
{
	for (size_t i = 0; i < N_TESTS; i++) {
		if (!strcmp(name, test_names[i])) {
			*out = (enum drift_test)i;
			return 0;
		}
	}
	return error_set(
	    err, ERR_NOTFOUND,
	    "unknown drift test '%s': expected default, ks, chisquare, z, wasserstein, "
	    "jensenshannon, psi or kl_div",
	    name);
}

bool drift_test_is_pvalue(enum drift_test t)
{
	return t == DRIFT_TEST_KS || t == DRIFT_TEST_CHISQUARE || t == DRIFT_TEST_Z;
}

double drift_default_threshold(enum drift_test t)
{
	return drift_test_is_pvalue(t) || t == DRIFT_TEST_DEFAULT ? 0.05 : 0.1;
}

bool drift_decide(enum drift_test t, double score, double threshold)
{
	switch (t) {
	case DRIFT_TEST_KS:
		return score <= threshold;
	case DRIFT_TEST_CHISQUARE:
	case DRIFT_TEST_Z:
		return score < threshold;
	default:
		return score >= threshold;
	}
}

bool drift_dataset_drift(size_t n_drifted, size_t n_columns, double drift_share)
{
	if (!n_columns)
		return false;
	if (drift_share <= 0)
		drift_share = 0.5;
	return (double)n_drifted / (double)n_columns >= drift_share;
}

enum drift_test drift_default_test(bool numeric, uint64_t n_ref, uint64_t n_unique)
{
	if (n_ref <= 1000) {
		if (numeric && n_unique > 5)
			return DRIFT_TEST_KS;
		return n_unique > 2 ? DRIFT_TEST_CHISQUARE : DRIFT_TEST_Z;
	}
	if (numeric && n_unique > 5)
		return DRIFT_TEST_WASSERSTEIN;
	return DRIFT_TEST_JENSENSHANNON;
}
