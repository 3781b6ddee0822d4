/*
 * Drift statistics, implemented natively: the two-sample tests and distances Evidently applies
 * per column, computed as scipy 1.10 computes them, and Evidently's default choice of test.
 * Every value is checked against tests/data/reference/drift_vectors.json (scipy/numpy outputs:
 * statistics to 1e-9 relative, p-values to 1e-6).
 *
 * Inputs are finite values only: callers drop missing values, NaN and infinities first (as
 * Evidently does before any test). Numeric samples are passed SORTED ascending (drift_sort
 * sorts in place): a reference is sorted once and compared with many windows.
 * Categorical samples are passed as counts per key over the union of keys (ref_counts[i] and
 * cur_counts[i] belong to the same key i, zero where a side lacks the key).
 *
 * Nothing here allocates more than O(n1 + n2) scratch, prints or keeps state; all functions are
 * thread-safe (columns are tested in parallel).
 */
#ifndef FERRY_MONITOR_DRIFT_STATS_H
#define FERRY_MONITOR_DRIFT_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct error;

/* Sorts n doubles ascending in place (finite values only); O(n) radix sort for large n. */
void drift_sort(double *x, size_t n);

/* ---- Kolmogorov-Smirnov (scipy.stats.ks_2samp, two-sided) ------------------------------- */

enum ks_mode {
	KS_AUTO, /* scipy's method='auto': exact when max(n1, n2) <= 10000 (and feasible), else asymp */
	KS_EXACT, /* exact p-value (scipy's _compute_prob_outside_square / path counting) */
	KS_ASYMP, /* kstwo.sf(D, round(n1 n2 / (n1 + n2))): the finite-n Kolmogorov distribution */
};

/* After the exact method the statistic is h / lcm(n1, n2), rounded to the lattice as scipy. */
struct ks_result {
	double statistic;  /* D = max |F1 - F2| */
	double pvalue;	   /* two-sided, in [0, 1] (NaN as described below) */
	enum ks_mode mode; /* KS_EXACT or KS_ASYMP: the one actually used (auto resolves) */
};

/*
 * ref and cur sorted ascending, n1, n2 >= 1. ERR_INVALID for an empty sample. KS_EXACT falls
 * back to KS_ASYMP where scipy does (lcm too big, or the recursion leaves [0, 1]); out->mode
 * says which was used. The p-value is NaN only where scipy's is (asymp with n1 = n2 = 1).
 * Cost: O(n1 + n2) for D; the exact p-value O(n1 n2 D) at worst (max(n1, n2) <= 10000 on auto).
 */
int drift_ks_2samp(const double *ref, size_t n1, const double *cur, size_t n2, enum ks_mode mode,
		   struct ks_result *out, struct error *err);

/*
 * kstwo.sf(d, n): P(D_n >= d) for the one-sample two-sided statistic with n observations; NaN
 * unless n is a whole number >= 1. O(n) at worst (the Smirnov sum, n <= 1e6).
 */
double drift_kstwo_sf(double d, double n);

/* ---- Wasserstein -------------------------------------------------------------------------- */

/* scipy.stats.wasserstein_distance(ref, cur) (first Wasserstein distance, unit weights). */
double drift_wasserstein(const double *ref, size_t n1, const double *cur, size_t n2);

/* numpy.std(x) (population, ddof 0); NaN for n 0. */
double drift_std_pop(const double *x, size_t n);

/* Evidently's "wasserstein": drift_wasserstein / max(std(ref, ddof=0), 0.001). */
double drift_wasserstein_norm(const double *ref, size_t n1, const double *cur, size_t n2);

/* ---- binning for PSI, KL and Jensen-Shannon (Evidently's get_binned_data) ---------------- */

/*
 * Counts of ref and cur per bin. Numeric columns with more than 20 distinct reference values
 * (ref_nunique > 20) get numpy's Sturges bins over ref and cur combined (edges as
 * np.histogram_bin_edges: linspace over [min, max], or [v - 0.5, v + 0.5] for one value; counted
 * as np.histogram with an edge array: bins closed on the left, the last also on the right);
 * other numeric columns get one bin per distinct value of ref and cur. Categorical columns are
 * binned by the caller (their counts).
 */
struct drift_bins {
	size_t n;      /* bins */
	double *edges; /* n + 1 edges for Sturges bins; NULL for per-value bins */
	double *keys;  /* per-value bins: the distinct values, ascending; NULL otherwise */
	uint64_t *ref_counts, *cur_counts; /* n each */
};

/* ref, cur sorted; fills *out (free with drift_bins_release). ERR_INVALID for empty samples. */
int drift_bins_numeric(struct drift_bins *out, const double *ref, size_t n1, const double *cur,
		       size_t n2, struct error *err);
void drift_bins_release(struct drift_bins *b);

/*
 * counts / total into share[n]; smoothed: Evidently's feel_zeroes (zeros become min_nonzero/1e6
 * when min_nonzero <= 1e-4, else 1e-4; no renormalisation).
 */
void drift_shares(double *share, const uint64_t *counts, size_t n, uint64_t total, bool smoothed);

/* PSI: sum((r - c) ln(r / c)) over smoothed shares. */
double drift_psi(const double *ref_smoothed, const double *cur_smoothed, size_t n);

/* KL(ref || cur): scipy.stats.entropy(r, c), natural log, inputs renormalised to sum 1. */
double drift_kl_div(const double *ref_smoothed, const double *cur_smoothed, size_t n);

/* scipy.spatial.distance.jensenshannon(r, c), natural log, on raw shares (renormalised). */
double drift_jensenshannon(const double *ref_raw, const double *cur_raw, size_t n);

/* ---- categorical / low-cardinality tests -------------------------------------------------- */

struct drift_pvalue {
	double statistic; /* may be +inf (chisquare with a key missing from the reference) */
	double pvalue;
};

/*
 * Evidently's chisquare: scipy.stats.chisquare(f_obs = cur_counts,
 * f_exp = ref_counts * n_cur / n_ref) over the n keys; a key absent from the reference gives
 * statistic inf and p 0.
 */
int drift_chisquare(const uint64_t *ref_counts, const uint64_t *cur_counts, size_t n,
		    struct drift_pvalue *out, struct error *err);

/* scipy.stats.chi2_contingency([ref_counts, cur_counts], correction) (Yates only when dof 1). */
int drift_chi2_contingency(const uint64_t *ref_counts, const uint64_t *cur_counts, size_t n,
			   bool correction, struct drift_pvalue *out, struct error *err);

/*
 * Evidently's z test: pooled two-proportion z test on the indicator "value is not key 0" (key 0
 * is the first key in sorted order with a nonzero count); p = 2 (1 - Phi(|z|)); p = 1 when both sides hold one
 * identical constant.
 */
int drift_z_test(const uint64_t *ref_counts, const uint64_t *cur_counts, size_t n,
		 struct drift_pvalue *out, struct error *err);

/* ---- Evidently's tests, thresholds and decisions ------------------------------------------ */

enum drift_test {
	DRIFT_TEST_DEFAULT = 0, /* Evidently's choice, drift_default_test */
	DRIFT_TEST_KS,
	DRIFT_TEST_CHISQUARE,
	DRIFT_TEST_Z,
	DRIFT_TEST_WASSERSTEIN,
	DRIFT_TEST_JENSENSHANNON,
	DRIFT_TEST_PSI,
	DRIFT_TEST_KL_DIV,
};

/* "ks", "chisquare", "z", "wasserstein", "jensenshannon", "psi", "kl_div" ("default" for 0). */
const char *drift_test_name(enum drift_test t);
/* The test called name (as above): 0, or ERR_NOTFOUND listing the names. */
int drift_test_parse(enum drift_test *out, const char *name, struct error *err);
/* Evidently's default threshold: 0.05 for the p-value tests, 0.1 for the distances. */
double drift_default_threshold(enum drift_test t);
/* True for ks, chisquare and z: the score is a p-value (low means drift). */
bool drift_test_is_pvalue(enum drift_test t);
/* ks: score <= threshold; chisquare and z: score < threshold; distances: score >= threshold. */
bool drift_decide(enum drift_test t, double score, double threshold);

/*
 * Evidently's dataset drift: n_drifted / n_columns >= drift_share (0 means the default 0.5;
 * exactly half counts as drift); false without columns.
 */
bool drift_dataset_drift(size_t n_drifted, size_t n_columns, double drift_share);

/*
 * Evidently's _get_default_stattest: n_ref is the reference's non-missing count, n_unique the
 * distinct non-missing values of reference and current combined.
 * n_ref <= 1000: numeric: n_unique <= 5 ? (n_unique > 2 ? chisquare : z) : ks;
 *                categorical: n_unique > 2 ? chisquare : z.
 * n_ref > 1000:  numeric: n_unique <= 5 ? jensenshannon : wasserstein; categorical: jensenshannon.
 */
enum drift_test drift_default_test(bool numeric, uint64_t n_ref, uint64_t n_unique);

#endif
