/*
 * Unit tests for monitor/drift_stats: every expected field of every case of
 * tests/data/reference/drift_vectors.json (scipy 1.10.1 / numpy 1.24.2 values, Evidently's rules)
 * and of drift_extra.json (gen_drift_extra.py: KS exact/asymp/auto edge cases, a kstwo.sf grid,
 * Sturges edge cases); statistics to 1e-9 relative, p-values to 1e-6 absolute (and relative).
 */
#include "util/common.h"
#include "helpers.h"
#include "monitor/drift_stats.h"

#include <jansson.h>
#include <math.h>

#define STAT_RTOL 1e-9
#define P_ATOL 1e-6

/* cmocka 1.1.5 has no assert_double_equal */
#define assert_near(got, want, tol) assert_true(fabs((double)(got) - (double)(want)) <= (tol))

static json_t *vectors, *extra;

static json_t *load(const char *name)
{
	char *path = test_data_path(name);
	json_error_t e;
	json_t *j = json_load_file(path, 0, &e);

	if (!j)
		fail_msg("%s: %s", path, e.text);
	free(path);
	return j;
}

static int setup(void **state)
{
	(void)state;
	vectors = load("reference/drift_vectors.json");
	extra = load("reference/drift_extra.json");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	json_decref(vectors);
	json_decref(extra);
	return 0;
}

/* A JSON number or the strings "inf", "-inf", "nan" (the files' convention). */
static double jnum(const json_t *j)
{
	const char *s = json_string_value(j);

	if (s)
		return !strcmp(s, "inf") ? INFINITY : !strcmp(s, "-inf") ? -INFINITY : NAN;
	if (!json_is_number(j))
		fail_msg("expected a number");
	return json_number_value(j);
}

static const json_t *get(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	if (!v)
		fail_msg("missing key '%s' in the reference file", key);
	return v;
}

static double getnum(const json_t *o, const char *key)
{
	return jnum(get(o, key));
}

/* Sorted copy of a JSON array of numbers. */
static double *sorted_array(const json_t *a, size_t *n)
{
	double *x;

	*n = json_array_size(a);
	x = xmalloc((*n ? *n : 1) * sizeof(double));
	for (size_t i = 0; i < *n; i++)
		x[i] = jnum(json_array_get(a, i));
	drift_sort(x, *n);
	return x;
}

static uint64_t *count_array(const json_t *a, size_t *n)
{
	uint64_t *c;

	*n = json_array_size(a);
	c = xcalloc(*n ? *n : 1, sizeof(uint64_t));
	for (size_t i = 0; i < *n; i++)
		c[i] = (uint64_t)json_integer_value(json_array_get(a, i));
	return c;
}

static void check_close(double got, double want, double rtol, const char *cname, const char *what)
{
	if (isnan(want)	  ? !isnan(got)
	    : isinf(want) ? got != want
			  : !(fabs(got - want) <= rtol * fabs(want) + 1e-300))
		fail_msg("%s: %s = %.17g, expected %.17g", cname, what, got, want);
}

static void check_stat(double got, double want, const char *cname, const char *what)
{
	/* values that are exactly 0 in the reference are allowed rounding noise around 0 */
	if (want == 0 && fabs(got) < 1e-15)
		return;
	check_close(got, want, STAT_RTOL, cname, what);
}

/* p-values: 1e-6 absolute, and 1e-6 relative too so tiny p-values are really checked. */
static void check_p(double got, double want, const char *cname, const char *what)
{
	if (isnan(want) ? !isnan(got)
			: !(fabs(got - want) <= P_ATOL && fabs(got - want) <= 1e-6 * want + 1e-300))
		fail_msg("%s: %s = %.17g, expected %.17g", cname, what, got, want);
}

static void check_array(const double *got, const json_t *want, size_t n, const char *cname,
			const char *what)
{
	char label[96];

	if (json_array_size(want) != n)
		fail_msg("%s: %s has %zu entries, expected %zu", cname, what, n,
			 json_array_size(want));
	for (size_t i = 0; i < n; i++) {
		snprintf(label, sizeof(label), "%s[%zu]", what, i);
		check_stat(got[i], jnum(json_array_get(want, i)), cname, label);
	}
}

static void check_counts(const uint64_t *got, const json_t *want, size_t n, const char *cname,
			 const char *what)
{
	if (json_array_size(want) != n)
		fail_msg("%s: %s has %zu entries, expected %zu", cname, what, n,
			 json_array_size(want));
	for (size_t i = 0; i < n; i++)
		if (got[i] != (uint64_t)json_integer_value(json_array_get(want, i)))
			fail_msg("%s: %s[%zu] = %" PRIu64 ", expected %" PRId64, cname, what, i,
				 got[i], (int64_t)json_integer_value(json_array_get(want, i)));
}

/* ---- the shares and distances of one binned column (numeric or categorical) --------------- */

struct shares {
	size_t n;
	double *rr, *cr, *rs, *cs; /* raw and smoothed, ref and cur */
};

static void shares_of(struct shares *s, const uint64_t *rc, const uint64_t *cc, size_t n,
		      uint64_t n_ref, uint64_t n_cur)
{
	s->n = n;
	s->rr = xcalloc(n, sizeof(double));
	s->cr = xcalloc(n, sizeof(double));
	s->rs = xcalloc(n, sizeof(double));
	s->cs = xcalloc(n, sizeof(double));
	drift_shares(s->rr, rc, n, n_ref, false);
	drift_shares(s->cr, cc, n, n_cur, false);
	drift_shares(s->rs, rc, n, n_ref, true);
	drift_shares(s->cs, cc, n, n_cur, true);
}

static void shares_release(struct shares *s)
{
	free(s->rr);
	free(s->cr);
	free(s->rs);
	free(s->cs);
}

static void check_shares(const struct shares *s, const json_t *exp, const char *cname)
{
	check_array(s->rr, get(exp, "ref_share_raw"), s->n, cname, "ref_share_raw");
	check_array(s->cr, get(exp, "cur_share_raw"), s->n, cname, "cur_share_raw");
	check_array(s->rs, get(exp, "ref_share_smoothed"), s->n, cname, "ref_share_smoothed");
	check_array(s->cs, get(exp, "cur_share_smoothed"), s->n, cname, "cur_share_smoothed");
}

/* All scores of one column, by test, as Evidently computes them. */
struct scores {
	double v[DRIFT_TEST_KL_DIV + 1];
	bool have[DRIFT_TEST_KL_DIV + 1];
};

static void set_score(struct scores *sc, enum drift_test t, double v)
{
	sc->v[t] = v;
	sc->have[t] = true;
}

static void distance_scores(struct scores *sc, const struct shares *s, const json_t *exp,
			    const char *cname)
{
	set_score(sc, DRIFT_TEST_PSI, drift_psi(s->rs, s->cs, s->n));
	set_score(sc, DRIFT_TEST_KL_DIV, drift_kl_div(s->rs, s->cs, s->n));
	set_score(sc, DRIFT_TEST_JENSENSHANNON, drift_jensenshannon(s->rr, s->cr, s->n));
	check_stat(sc->v[DRIFT_TEST_PSI], getnum(exp, "psi"), cname, "psi");
	check_stat(sc->v[DRIFT_TEST_KL_DIV], getnum(exp, "kl_div"), cname, "kl_div");
	check_stat(sc->v[DRIFT_TEST_JENSENSHANNON], getnum(exp, "jensenshannon"), cname,
		   "jensenshannon");
}

/* chisquare and z on counts per key, as Evidently runs them on low-cardinality columns. */
static void count_scores(struct scores *sc, const uint64_t *rc, const uint64_t *cc, size_t n,
			 const char *cname)
{
	struct drift_pvalue r;
	struct error err = ERROR_INIT;

	if (drift_chisquare(rc, cc, n, &r, &err))
		fail_msg("%s: chisquare: %s", cname, err.msg);
	set_score(sc, DRIFT_TEST_CHISQUARE, r.pvalue);
	if (drift_z_test(rc, cc, n, &r, &err))
		fail_msg("%s: z: %s", cname, err.msg);
	set_score(sc, DRIFT_TEST_Z, r.pvalue);
}

/* evidently_default and evidently_with_each_test: test, threshold, score, decision. */
static void check_evidently(const struct scores *sc, const json_t *exp, bool numeric,
			    uint64_t n_ref, uint64_t n_unique, const char *cname)
{
	const json_t *def = get(exp, "evidently_default"),
		     *each = get(exp, "evidently_with_each_test");
	enum drift_test t = drift_default_test(numeric, n_ref, n_unique), named;
	const char *key;
	const json_t *v;
	struct error err = ERROR_INIT;
	char label[96];

	if (strcmp(drift_test_name(t), json_string_value(get(def, "test"))))
		fail_msg("%s: default test %s, expected %s", cname, drift_test_name(t),
			 json_string_value(get(def, "test")));
	check_stat(drift_default_threshold(t), getnum(def, "threshold"), cname, "threshold");
	if (!sc->have[t])
		fail_msg("%s: no score for the default test %s", cname, drift_test_name(t));
	(drift_test_is_pvalue(t) ? check_p : check_stat)(sc->v[t], getnum(def, "score"), cname,
							 "default score");
	if (drift_decide(t, sc->v[t], drift_default_threshold(t)) !=
	    json_is_true(get(def, "drift")))
		fail_msg("%s: default decision differs", cname);
	json_object_foreach((json_t *)each, key, v) {
		if (drift_test_parse(&named, key, &err))
			fail_msg("%s: %s", cname, err.msg);
		if (!sc->have[named])
			fail_msg("%s: no score for %s", cname, key);
		snprintf(label, sizeof(label), "%s score", key);
		(drift_test_is_pvalue(named) ? check_p : check_stat)(
		    sc->v[named], getnum(v, "score"), cname, label);
		if (drift_decide(named, sc->v[named], drift_default_threshold(named)) !=
		    json_is_true(get(v, "drift")))
			fail_msg("%s: %s decision differs (score %.17g)", cname, key, sc->v[named]);
	}
}

/* ---- numeric cases -------------------------------------------------------------------------- */

static void check_ks(const double *ref, size_t n1, const double *cur, size_t n2, const json_t *ks,
		     const char *cname, double *auto_p)
{
	struct ks_result r;
	struct error err = ERROR_INIT;
	const char *mode = json_string_value(get(ks, "auto_mode"));

	if (drift_ks_2samp(ref, n1, cur, n2, KS_AUTO, &r, &err))
		fail_msg("%s: ks: %s", cname, err.msg);
	check_stat(r.statistic, getnum(ks, "statistic"), cname, "ks statistic");
	check_p(r.pvalue, getnum(ks, "pvalue_auto"), cname, "ks pvalue_auto");
	if (strcmp(mode, r.mode == KS_EXACT ? "exact" : "asymp"))
		fail_msg("%s: ks auto mode differs from %s", cname, mode);
	*auto_p = r.pvalue;
	assert_int_equal(drift_ks_2samp(ref, n1, cur, n2, KS_EXACT, &r, &err), 0);
	check_stat(r.statistic, getnum(ks, "statistic"), cname, "ks statistic (exact)");
	check_p(r.pvalue, getnum(ks, "pvalue_exact"), cname, "ks pvalue_exact");
	assert_int_equal(drift_ks_2samp(ref, n1, cur, n2, KS_ASYMP, &r, &err), 0);
	check_stat(r.statistic, getnum(ks, "statistic"), cname, "ks statistic (asymp)");
	check_p(r.pvalue, getnum(ks, "pvalue_asymp"), cname, "ks pvalue_asymp");
	assert_int_equal(r.mode, KS_ASYMP);
	/* the asymptotic p-value is kstwo.sf at the rounded effective size */
	check_p(drift_kstwo_sf(getnum(ks, "statistic"), getnum(ks, "asymp_n_rounded")),
		getnum(ks, "pvalue_asymp"), cname, "kstwo.sf(D, asymp_n_rounded)");
}

static void check_binning(const struct drift_bins *b, const json_t *bin, const char *cname)
{
	const char *method = json_string_value(get(bin, "method"));

	if (strcmp(method, b->edges ? "sturges" : "per_value"))
		fail_msg("%s: binning method %s, expected %s", cname,
			 b->edges ? "sturges" : "per_value", method);
	assert_int_equal(b->n, (size_t)json_integer_value(get(bin, "n_bins")));
	if (b->edges)
		check_array(b->edges, get(bin, "bin_edges"), b->n + 1, cname, "bin_edges");
	else
		check_array(b->keys, get(bin, "keys"), b->n, cname, "keys");
	check_counts(b->ref_counts, get(bin, "ref_counts"), b->n, cname, "ref_counts");
	check_counts(b->cur_counts, get(bin, "cur_counts"), b->n, cname, "cur_counts");
}

static size_t distinct_union(const double *a, size_t n1, const double *b, size_t n2)
{
	size_t i = 0, j = 0, k = 0;

	while (i < n1 || j < n2) {
		double v = j >= n2 || (i < n1 && a[i] <= b[j]) ? a[i] : b[j];

		while (i < n1 && a[i] == v)
			i++;
		while (j < n2 && b[j] == v)
			j++;
		k++;
	}
	return k;
}

static void numeric_case(const json_t *c)
{
	const char *cname = json_string_value(get(c, "name"));
	const json_t *exp = get(c, "expected"), *bin = get(exp, "binning");
	size_t n1, n2;
	double *ref = sorted_array(get(c, "ref"), &n1), *cur = sorted_array(get(c, "cur"), &n2);
	struct drift_bins b;
	struct shares s;
	struct scores sc = { 0 };
	struct error err = ERROR_INIT;
	double ks_p;

	assert_int_equal(n1, (size_t)json_integer_value(get(c, "n_ref")));
	assert_int_equal(n2, (size_t)json_integer_value(get(c, "n_cur")));
	check_ks(ref, n1, cur, n2, get(exp, "ks_2samp"), cname, &ks_p);
	set_score(&sc, DRIFT_TEST_KS, ks_p);
	check_stat(drift_wasserstein(ref, n1, cur, n2), getnum(exp, "wasserstein_distance"), cname,
		   "wasserstein_distance");
	check_stat(drift_std_pop(ref, n1), getnum(exp, "ref_std_ddof0"), cname, "ref_std_ddof0");
	set_score(&sc, DRIFT_TEST_WASSERSTEIN, drift_wasserstein_norm(ref, n1, cur, n2));
	check_stat(sc.v[DRIFT_TEST_WASSERSTEIN], getnum(exp, "wasserstein_norm"), cname,
		   "wasserstein_norm");
	if (drift_bins_numeric(&b, ref, n1, cur, n2, &err))
		fail_msg("%s: binning: %s", cname, err.msg);
	check_binning(&b, bin, cname);
	shares_of(&s, b.ref_counts, b.cur_counts, b.n, n1, n2);
	check_shares(&s, bin, cname);
	distance_scores(&sc, &s, exp, cname);
	if (!b.edges)
		count_scores(&sc, b.ref_counts, b.cur_counts, b.n, cname);
	check_evidently(&sc, exp, true, n1, distinct_union(ref, n1, cur, n2), cname);
	shares_release(&s);
	drift_bins_release(&b);
	free(ref);
	free(cur);
}

/* ---- categorical cases ---------------------------------------------------------------------- */

static void categorical_case(const json_t *c)
{
	const char *cname = json_string_value(get(c, "name"));
	const json_t *exp = get(c, "expected"), *gof = get(exp, "evidently_chisquare_gof");
	const json_t *zt = get(exp, "z_test"), *ct = get(exp, "chi2_contingency");
	size_t n, n2;
	uint64_t *rc = count_array(get(exp, "ref_counts"), &n);
	uint64_t *cc = count_array(get(exp, "cur_counts"), &n2);
	uint64_t n_ref = 0, n_cur = 0;
	struct drift_pvalue r;
	struct error err = ERROR_INIT;
	struct shares s;
	struct scores sc = { 0 };

	assert_int_equal(n, n2);
	assert_int_equal(n, json_array_size(get(exp, "keys")));
	for (size_t i = 0; i < n; i++) {
		n_ref += rc[i];
		n_cur += cc[i];
	}
	assert_int_equal(n_ref, (uint64_t)json_integer_value(get(c, "n_ref")));
	assert_int_equal(n_cur, (uint64_t)json_integer_value(get(c, "n_cur")));

	if (drift_chi2_contingency(rc, cc, n, true, &r, &err))
		fail_msg("%s: chi2_contingency: %s", cname, err.msg);
	check_stat(r.statistic, getnum(ct, "statistic"), cname, "chi2_contingency statistic");
	check_p(r.pvalue, getnum(ct, "pvalue"), cname, "chi2_contingency pvalue");
	assert_int_equal(drift_chi2_contingency(rc, cc, n, false, &r, &err), 0);
	ct = get(exp, "chi2_contingency_no_correction");
	check_stat(r.statistic, getnum(ct, "statistic"), cname, "chi2 (no correction) statistic");
	check_p(r.pvalue, getnum(ct, "pvalue"), cname, "chi2 (no correction) pvalue");

	if (drift_chisquare(rc, cc, n, &r, &err))
		fail_msg("%s: chisquare: %s", cname, err.msg);
	check_stat(r.statistic, getnum(gof, "statistic"), cname, "chisquare statistic");
	check_p(r.pvalue, getnum(gof, "pvalue"), cname, "chisquare pvalue");
	set_score(&sc, DRIFT_TEST_CHISQUARE, r.pvalue);
	if (json_is_object(zt)) {
		if (drift_z_test(rc, cc, n, &r, &err))
			fail_msg("%s: z: %s", cname, err.msg);
		check_stat(r.statistic, getnum(zt, "z"), cname, "z");
		check_p(r.pvalue, getnum(zt, "pvalue"), cname, "z pvalue");
		set_score(&sc, DRIFT_TEST_Z, r.pvalue);
	}
	shares_of(&s, rc, cc, n, n_ref, n_cur);
	check_shares(&s, exp, cname);
	distance_scores(&sc, &s, exp, cname);
	check_evidently(&sc, exp, false, n_ref, n, cname);
	shares_release(&s);
	free(rc);
	free(cc);
}

static void test_vectors(void **state)
{
	const json_t *cases = get(vectors, "cases"), *c;
	size_t i, numeric = 0, categorical = 0;

	(void)state;
	json_array_foreach(cases, i, c) {
		const char *kind = json_string_value(get(c, "kind"));

		if (!strcmp(kind, "numerical")) {
			numeric_case(c);
			numeric++;
		} else {
			categorical_case(c);
			categorical++;
		}
	}
	assert_int_equal(numeric, 10);
	assert_int_equal(categorical, 6);
}

/* The share rule on the vectors' own columns and on its edge examples. */
static void test_dataset_drift(void **state)
{
	const json_t *dd = get(vectors, "dataset_drift"), *flags = get(dd, "drift_flags"), *e;
	const json_t *cols = get(dd, "columns"), *cases = get(vectors, "cases");
	size_t i, drifted = 0;

	(void)state;
	assert_int_equal(json_array_size(cols), json_array_size(cases));
	json_array_foreach(flags, i, e) {
		const json_t *def =
		    get(get(json_array_get(cases, i), "expected"), "evidently_default");
		enum drift_test t;
		struct error err = ERROR_INIT;
		bool d;

		assert_string_equal(json_string_value(json_array_get(cols, i)),
				    json_string_value(get(json_array_get(cases, i), "name")));
		assert_int_equal(drift_test_parse(&t, json_string_value(get(def, "test")), &err),
				 0);
		/* the vectors' scores were checked in test_vectors: here the decision on them */
		d = drift_decide(t, getnum(def, "score"), getnum(def, "threshold"));
		assert_int_equal(d, json_is_true(e));
		drifted += d;
	}
	assert_int_equal(drifted, (size_t)json_integer_value(get(dd, "n_drifted")));
	assert_int_equal(drift_dataset_drift(drifted, json_array_size(flags), 0.5),
			 json_is_true(get(dd, "dataset_drift")));
	assert_int_equal(drift_dataset_drift(drifted, json_array_size(flags), 0),
			 json_is_true(get(dd, "dataset_drift")));
	json_array_foreach(get(dd, "edge_examples"), i, e) {
		size_t nd = (size_t)json_integer_value(get(e, "n_drifted"));
		size_t nc = (size_t)json_integer_value(get(e, "n_columns"));

		assert_int_equal(drift_dataset_drift(nd, nc, 0.5),
				 json_is_true(get(e, "dataset_drift")));
	}
	assert_false(drift_dataset_drift(0, 0, 0.5));
}

/* ---- drift_extra.json ------------------------------------------------------------------------ */

static void test_extra_ks(void **state)
{
	const json_t *c;
	size_t i;
	static const char *const modes[] = { "auto", "exact", "asymp" };

	(void)state;
	json_array_foreach(get(extra, "ks_cases"), i, c) {
		const char *cname = json_string_value(get(c, "name"));
		size_t n1, n2;
		double *ref = sorted_array(get(c, "ref"), &n1),
		       *cur = sorted_array(get(c, "cur"), &n2);

		for (int m = 0; m < 3; m++) {
			const json_t *want = get(c, modes[m]);
			struct ks_result r;
			struct error err = ERROR_INIT;
			char label[64];
			bool asymp = m == KS_ASYMP ||
				     json_is_true(get(want, "fell_back_to_asymp")) ||
				     (m == KS_AUTO &&
				      !strcmp(json_string_value(get(c, "auto_mode")), "asymp"));

			if (drift_ks_2samp(ref, n1, cur, n2, (enum ks_mode)m, &r, &err))
				fail_msg("%s: %s", cname, err.msg);
			snprintf(label, sizeof(label), "%s statistic", modes[m]);
			check_stat(r.statistic, getnum(want, "statistic"), cname, label);
			snprintf(label, sizeof(label), "%s pvalue", modes[m]);
			check_p(r.pvalue, getnum(want, "pvalue"), cname, label);
			if (r.mode != (asymp ? KS_ASYMP : KS_EXACT))
				fail_msg("%s: %s resolved to the wrong method", cname, modes[m]);
		}
		free(ref);
		free(cur);
	}
}

static void test_extra_kstwo(void **state)
{
	const json_t *row;
	size_t i;
	char label[96];

	(void)state;
	json_array_foreach(get(extra, "kstwo_sf"), i, row) {
		double d = jnum(json_array_get(row, 0)), n = jnum(json_array_get(row, 1));

		snprintf(label, sizeof(label), "kstwo.sf(%.17g, %.17g)", d, n);
		check_p(drift_kstwo_sf(d, n), jnum(json_array_get(row, 2)), "kstwo grid", label);
	}
	assert_true(i > 500);
	assert_true(isnan(drift_kstwo_sf(0.5, 0)));
	assert_true(isnan(drift_kstwo_sf(0.5, 2.5)));
}

static void test_extra_binning(void **state)
{
	const json_t *c;
	size_t i;

	(void)state;
	json_array_foreach(get(extra, "binning"), i, c) {
		const char *cname = json_string_value(get(c, "name"));
		size_t n1, n2;
		double *ref = sorted_array(get(c, "ref"), &n1),
		       *cur = sorted_array(get(c, "cur"), &n2);
		struct drift_bins b;
		struct error err = ERROR_INIT;

		if (drift_bins_numeric(&b, ref, n1, cur, n2, &err))
			fail_msg("%s: %s", cname, err.msg);
		check_binning(&b, c, cname);
		drift_bins_release(&b);
		free(ref);
		free(cur);
	}
}

/* ---- hand-checked behaviour -------------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The radix sort against libc's qsort, on sizes around its switches and mixed signs and scales. */
static void test_sort(void **state)
{
	/* around the switch to the radix sort (512), and larger sizes */
	static const size_t sizes[] = { 0,    1,     2,	    511,    512,    513,
					5000, 32767, 32768, 100000, 524287, 524288 };
	uint64_t s = 88172645463325252ull;

	(void)state;
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		size_t n = sizes[k];
		double *a = xmalloc((n ? n : 1) * sizeof(double)), *b = xmalloc((n ? n : 1) * 8);

		for (size_t i = 0; i < n; i++) {
			s ^= s << 13;
			s ^= s >> 7;
			s ^= s << 17;
			/* signs, magnitudes from 1e-300 to 1e300, repeats, and exact zeros */
			a[i] = i % 7 == 0 ? 0.0
			       : i % 5 == 0
				   ? 3.25
				   : ldexp((double)(s >> 11), (int)(s % 1900) - 1000 - 53) *
					 (s & 1 ? -1 : 1);
			b[i] = a[i];
		}
		drift_sort(a, n);
		qsort(b, n, sizeof(double), cmp_double);
		for (size_t i = 0; i < n; i++)
			if (a[i] != b[i])
				fail_msg("n %zu: sorted[%zu] = %g, expected %g", n, i, a[i], b[i]);
		free(a);
		free(b);
	}
}

static void test_names_and_decisions(void **state)
{
	static const char *const names[] = { "default", "ks",	       "chisquare",
					     "z",	"wasserstein", "jensenshannon",
					     "psi",	"kl_div" };
	struct error err = ERROR_INIT;
	enum drift_test t;

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		assert_int_equal(drift_test_parse(&t, names[i], &err), 0);
		assert_int_equal(t, (enum drift_test)i);
		assert_string_equal(drift_test_name(t), names[i]);
	}
	assert_int_equal(drift_test_parse(&t, "anderson", &err), ERR_NOTFOUND);
	assert_non_null(strstr(err.msg, "anderson"));
	/* the boundaries: ks drifts at p == threshold, chisquare and z do not, distances do */
	assert_true(drift_decide(DRIFT_TEST_KS, 0.05, 0.05));
	assert_false(drift_decide(DRIFT_TEST_CHISQUARE, 0.05, 0.05));
	assert_false(drift_decide(DRIFT_TEST_Z, 0.05, 0.05));
	assert_true(drift_decide(DRIFT_TEST_WASSERSTEIN, 0.1, 0.1));
	assert_true(drift_decide(DRIFT_TEST_PSI, 0.1, 0.1));
	assert_false(drift_decide(DRIFT_TEST_JENSENSHANNON, 0.0999, 0.1));
	assert_true(drift_test_is_pvalue(DRIFT_TEST_Z));
	assert_false(drift_test_is_pvalue(DRIFT_TEST_KL_DIV));
	/* Evidently's table at its boundaries: n_ref 1000 is small, n_unique 5 low, 2 binary */
	assert_int_equal(drift_default_test(true, 1000, 6), DRIFT_TEST_KS);
	assert_int_equal(drift_default_test(true, 1000, 5), DRIFT_TEST_CHISQUARE);
	assert_int_equal(drift_default_test(true, 1000, 2), DRIFT_TEST_Z);
	assert_int_equal(drift_default_test(false, 1000, 3), DRIFT_TEST_CHISQUARE);
	assert_int_equal(drift_default_test(false, 10, 2), DRIFT_TEST_Z);
	assert_int_equal(drift_default_test(true, 1001, 6), DRIFT_TEST_WASSERSTEIN);
	assert_int_equal(drift_default_test(true, 1001, 5), DRIFT_TEST_JENSENSHANNON);
	assert_int_equal(drift_default_test(false, 1001, 50), DRIFT_TEST_JENSENSHANNON);
}

/* Hand-computed values and the error paths. */
static void test_small_and_errors(void **state)
{
	static const double a[] = { 1, 2, 3 }, b[] = { 2, 3, 4, 5 };
	static const uint64_t rc[] = { 3, 1 }, cc[] = { 3, 1 }, zero[] = { 0, 0 };
	static const uint64_t one_r[] = { 5 }, one_c[] = { 7 };
	struct ks_result r;
	struct drift_pvalue p;
	struct drift_bins bins;
	struct error err = ERROR_INIT;
	double sh[2];

	(void)state;
	assert_int_equal(drift_ks_2samp(a, 0, b, 4, KS_AUTO, &r, &err), ERR_INVALID);
	assert_int_equal(drift_ks_2samp(a, 3, b, 0, KS_AUTO, &r, &err), ERR_INVALID);
	assert_int_equal(drift_bins_numeric(&bins, a, 3, b, 0, &err), ERR_INVALID);
	assert_int_equal(drift_chisquare(zero, cc, 2, &p, &err), ERR_INVALID);
	assert_int_equal(drift_z_test(rc, zero, 2, &p, &err), ERR_INVALID);
	assert_int_equal(drift_chi2_contingency(zero, cc, 2, true, &p, &err), ERR_INVALID);
	/* F_ref - F_cur at 1, 2, 3, 4: 1/3, 2/3 - 1/4, 1 - 2/4, 1 - 3/4: D = 1/2, and W sums
	 * those gaps over unit steps (= mean(b) - mean(a) = 1.5, as b lies right of a) */
	assert_int_equal(drift_ks_2samp(a, 3, b, 4, KS_AUTO, &r, &err), 0);
	assert_near(r.statistic, 0.5, 1e-15);
	assert_near(drift_wasserstein(a, 3, b, 4), 1.0 / 3 + 5.0 / 12 + 0.5 + 0.25, 1e-15);
	/* identical counts: chisquare 0, p 1; one constant on both sides: z p = 1 */
	assert_int_equal(drift_chisquare(rc, cc, 2, &p, &err), 0);
	assert_near(p.statistic, 0, 0);
	assert_near(p.pvalue, 1, 1e-15);
	assert_int_equal(drift_z_test(one_r, one_c, 1, &p, &err), 0);
	assert_near(p.pvalue, 1, 0);
	/* the same constant on both sides behind a key neither side has */
	assert_int_equal(
	    drift_z_test((const uint64_t[]){ 0, 5 }, (const uint64_t[]){ 0, 7 }, 2, &p, &err), 0);
	assert_near(p.pvalue, 1, 0);
	/* ref all 'a', cur all 'b', 10 each: P = 1/2, z = -1 / sqrt(1/4 * 2/10) = -sqrt(20) */
	assert_int_equal(
	    drift_z_test((const uint64_t[]){ 10, 0 }, (const uint64_t[]){ 0, 10 }, 2, &p, &err), 0);
	assert_near(p.statistic, -sqrt(20), 1e-12);
	assert_near(p.pvalue, 7.744216431015971e-06, 1e-14); /* 2 * (1 - norm.cdf(sqrt(20))) */
	/* smoothing: min nonzero 0.25 > 1e-4, so a zero becomes 1e-4 */
	drift_shares(sh, (const uint64_t[]){ 0, 4 }, 2, 4, true);
	assert_near(sh[0], 1e-4, 0);
	assert_near(sh[1], 1, 0);
	/* min nonzero 1/20000 = 5e-5 <= 1e-4: a zero becomes 5e-5 / 1e6, nothing renormalised */
	{
		double s3[3];

		drift_shares(s3, (const uint64_t[]){ 0, 1, 19999 }, 3, 20000, true);
		assert_near(s3[0], 5e-11, 1e-25);
		assert_near(s3[1], 5e-5, 1e-20);
		drift_shares(s3, (const uint64_t[]){ 0, 1, 19999 }, 3, 20000, false);
		assert_near(s3[0], 0, 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_dataset_drift),
		cmocka_unit_test(test_extra_ks),
		cmocka_unit_test(test_extra_kstwo),
		cmocka_unit_test(test_extra_binning),
		cmocka_unit_test(test_sort),
		cmocka_unit_test(test_names_and_decisions),
		cmocka_unit_test(test_small_and_errors),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
