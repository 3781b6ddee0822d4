/*
 * Unit tests for monitor/drift_report: every case of tests/data/reference/drift_vectors.json
 * (scipy/numpy values) fed as tables, with Evidently's default test and with each test forced,
 * on the exact path and on the streaming path; the share rule over the vectors' columns; column
 * kinds, overrides, insufficient data, skipped columns, all-missing and constant columns, CSV
 * batches with NaN/inf and type mismatches, and streaming == exact on data small enough for both.
 */
#include "util/common.h"
#include "helpers.h"
#include "monitor/drift_report.h"

#include <jansson.h>
#include <math.h>

static json_t *vectors;

static int setup(void **state)
{
	char *path = test_data_path("reference/drift_vectors.json");
	json_error_t e;

	(void)state;
	vectors = json_load_file(path, 0, &e);
	free(path);
	if (!vectors)
		fail_msg("drift_vectors.json: %s", e.text);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	json_decref(vectors);
	return 0;
}

/* A JSON number or the strings "inf", "-inf", "nan" (the vectors' convention). */
static double jnum(const json_t *j)
{
	const char *s = json_string_value(j);

	if (s)
		return !strcmp(s, "inf") ? INFINITY : !strcmp(s, "-inf") ? -INFINITY : NAN;
	return json_number_value(j);
}

/* Adds the values of a as column name to t, padded with missing values up to rows. */
static void add_column(struct table *t, const char *name, const json_t *a, bool categorical,
		       size_t rows)
{
	struct error err = ERROR_INIT;
	size_t n = json_array_size(a);
	int rc;

	if (categorical) {
		const char **v = xcalloc(rows, sizeof(*v));
		char **owned = xcalloc(rows, sizeof(*owned));

		for (size_t i = 0; i < n; i++) {
			const json_t *x = json_array_get(a, i);

			v[i] = json_is_string(x) ? json_string_value(x)
						 : (owned[i] = xstrfmt("%g", json_number_value(x)));
		}
		rc = table_add_categorical(t, name, v, rows, &err);
		for (size_t i = 0; i < rows; i++)
			free(owned[i]);
		free(owned);
		free(v);
	} else {
		double *v = xmalloc(rows * sizeof(double));

		for (size_t i = 0; i < rows; i++)
			v[i] = i < n ? json_number_value(json_array_get(a, i)) : NAN;
		rc = table_add_numeric(t, name, v, rows, &err);
		free(v);
	}
	if (rc)
		fail_msg("table_add: %s", err.msg);
}

static bool close_to(double got, double want, double rel)
{
	if (isinf(want) || isnan(want))
		return got == want || (isnan(got) && isnan(want));
	return fabs(got - want) <= rel * fabs(want) + 1e-300 || fabs(got - want) <= 1e-14;
}

/* The report over one case's ref and cur, exact or streamed (a budget of one value). */
static struct drift_report *case_report(const json_t *c, enum drift_test test, bool stream)
{
	bool cat = !strcmp(json_string_value(json_object_get(c, "kind")), "categorical");
	const json_t *ref = json_object_get(c, "ref"), *cur = json_object_get(c, "cur");
	struct table *tr = table_new("ref"), *tc = table_new("cur");
	struct drift_options o = DRIFT_OPTIONS_INIT;
	struct drift_report *r = NULL;
	struct error err = ERROR_INIT;
	const char *name = "x";
	int rc;

	add_column(tr, name, ref, cat, json_array_size(ref));
	add_column(tc, name, cur, cat, json_array_size(cur));
	o.test = test;
	if (stream) {
		struct drift_reference *dr = drift_reference_new(tr);
		struct drift_current *dc = drift_current_new(dr, "cur", &name, 1, 1);

		rc = drift_current_add_table(dc, tc, &err);
		assert_int_equal(rc, 0);
		assert_int_equal(drift_current_exact(dc), cat); /* categories are counts anyway */
		rc = drift_report_finish(&r, dr, dc, &o, &err);
		drift_current_free(dc);
		drift_reference_free(dr);
	} else {
		rc = drift_report_tables(&r, tr, tc, &o, &err);
	}
	if (rc)
		fail_msg("report: %s", err.msg);
	table_free(tr);
	table_free(tc);
	return r;
}

static double tolerance(enum drift_test t)
{
	return drift_test_is_pvalue(t) ? 1e-6 : 1e-9;
}

/* Is this (case, test) exact on the streaming path? Sturges bins are not (see the header). */
static bool stream_exact(const json_t *c, enum drift_test t)
{
	const char *method = json_string_value(
	    json_object_get(json_object_get(json_object_get(c, "expected"), "binning"), "method"));
	bool binned =
	    t == DRIFT_TEST_JENSENSHANNON || t == DRIFT_TEST_PSI || t == DRIFT_TEST_KL_DIV;

	return !(binned && method && !strcmp(method, "sturges")) && t != DRIFT_TEST_WASSERSTEIN;
}

static void check_case(const json_t *c, bool stream)
{
	const char *cname = json_string_value(json_object_get(c, "name"));
	const json_t *exp = json_object_get(c, "expected");
	const json_t *def = json_object_get(exp, "evidently_default");
	const json_t *each = json_object_get(exp, "evidently_with_each_test");
	struct drift_report *r = case_report(c, DRIFT_TEST_DEFAULT, stream);
	const struct drift_column_result *col = &r->columns[0];
	enum drift_test t;
	const char *tname;
	const json_t *v;
	struct error err = ERROR_INIT;

	assert_int_equal(r->n_columns, 1);
	if (strcmp(drift_test_name(col->test), json_string_value(json_object_get(def, "test"))))
		fail_msg("%s: default test %s, expected %s", cname, drift_test_name(col->test),
			 json_string_value(json_object_get(def, "test")));
	assert_true(col->threshold == json_number_value(json_object_get(def, "threshold")));
	if (!stream || stream_exact(c, col->test))
		if (!close_to(col->score, jnum(json_object_get(def, "score")),
			      tolerance(col->test)))
			fail_msg("%s (%s): default score %.17g, expected %.17g", cname,
				 stream ? "stream" : "exact", col->score,
				 jnum(json_object_get(def, "score")));
	assert_int_equal(col->verdict == DRIFT_VERDICT_DRIFT,
			 json_is_true(json_object_get(def, "drift")));
	drift_report_free(r);

	json_object_foreach((json_t *)each, tname, v) {
		double want = jnum(json_object_get(v, "score"));

		assert_int_equal(drift_test_parse(&t, tname, &err), 0);
		r = case_report(c, t, stream);
		col = &r->columns[0];
		assert_int_equal(col->test, t);
		if (!stream || stream_exact(c, t)) {
			if (!close_to(col->score, want, tolerance(t)))
				fail_msg("%s (%s) %s: score %.17g, expected %.17g", cname,
					 stream ? "stream" : "exact", tname, col->score, want);
			assert_int_equal(col->verdict == DRIFT_VERDICT_DRIFT,
					 json_is_true(json_object_get(v, "drift")));
		} else if (t == DRIFT_TEST_WASSERSTEIN) {
			/* the bound the streaming path reports holds */
			if (!(fabs(col->score - want) <= col->score_error + 1e-9 * want))
				fail_msg("%s stream wasserstein %.17g +- %.3g, expected %.17g",
					 cname, col->score, col->score_error, want);
		}
		drift_report_free(r);
	}
}

static void test_vectors_exact(void **state)
{
	const json_t *cases = json_object_get(vectors, "cases");

	(void)state;
	assert_true(json_array_size(cases) >= 16);
	for (size_t i = 0; i < json_array_size(cases); i++)
		check_case(json_array_get(cases, i), false);
}

static void test_vectors_stream(void **state)
{
	const json_t *cases = json_object_get(vectors, "cases");

	(void)state;
	for (size_t i = 0; i < json_array_size(cases); i++)
		check_case(json_array_get(cases, i), true);
}

/*
 * All the cases as columns of one table pair, shorter columns padded with missing values (which
 * are dropped before testing): the flags and the share rule of the vectors' dataset_drift.
 */
static void test_share_rule(void **state)
{
	const json_t *cases = json_object_get(vectors, "cases");
	const json_t *dd = json_object_get(vectors, "dataset_drift");
	struct table *tr = table_new("ref"), *tc = table_new("cur");
	struct drift_options o = DRIFT_OPTIONS_INIT;
	struct drift_report *r = NULL;
	struct error err = ERROR_INIT;
	size_t nr = 0, nc = 0;

	(void)state;
	for (size_t i = 0; i < json_array_size(cases); i++) {
		const json_t *c = json_array_get(cases, i);

		nr = json_array_size(json_object_get(c, "ref")) > nr
			 ? json_array_size(json_object_get(c, "ref"))
			 : nr;
		nc = json_array_size(json_object_get(c, "cur")) > nc
			 ? json_array_size(json_object_get(c, "cur"))
			 : nc;
	}
	for (size_t i = 0; i < json_array_size(cases); i++) {
		const json_t *c = json_array_get(cases, i);
		const char *name = json_string_value(json_object_get(c, "name"));
		bool cat = !strcmp(json_string_value(json_object_get(c, "kind")), "categorical");

		add_column(tr, name, json_object_get(c, "ref"), cat, nr);
		add_column(tc, name, json_object_get(c, "cur"), cat, nc);
	}
	o.jobs = 2;
	assert_int_equal(drift_report_tables(&r, tr, tc, &o, &err), 0);
	assert_int_equal(r->n_columns, json_array_size(cases));
	for (size_t i = 0; i < r->n_columns; i++) {
		assert_string_equal(r->columns[i].name, json_string_value(json_array_get(
							    json_object_get(dd, "columns"), i)));
		if ((r->columns[i].verdict == DRIFT_VERDICT_DRIFT) !=
		    json_is_true(json_array_get(json_object_get(dd, "drift_flags"), i)))
			fail_msg("column %s: wrong drift flag", r->columns[i].name);
	}
	assert_int_equal(r->n_tested, r->n_columns);
	assert_int_equal(r->n_drifted, json_integer_value(json_object_get(dd, "n_drifted")));
	assert_true(r->share == json_number_value(json_object_get(dd, "share")));
	assert_true(r->dataset_drift);
	assert_int_equal(r->verdict, DRIFT_VERDICT_DRIFT);
	drift_report_free(r);
	/* the vectors' edge examples: 2 of 5 is not drift (2 of 4, 8 of 16 are) */
	o.drift_share = 0.41;
	assert_int_equal(drift_report_tables(&r, tr, tc, &o, &err), 0);
	assert_true(r->dataset_drift);
	drift_report_free(r);
	o.drift_share = 0.51;
	assert_int_equal(drift_report_tables(&r, tr, tc, &o, &err), 0);
	assert_false(r->dataset_drift);
	assert_int_equal(r->verdict, DRIFT_VERDICT_NONE);
	drift_report_free(r);
	table_free(tr);
	table_free(tc);
}

/* ---- hand-made tables ------------------------------------------------------------------- */

static struct table *numbers(const char *tname, const char *col, const double *v, size_t n)
{
	struct table *t = table_new(tname);
	struct error err = ERROR_INIT;

	if (table_add_numeric(t, col, v, n, &err))
		fail_msg("%s", err.msg);
	return t;
}

static void add_numbers(struct table *t, const char *col, const double *v, size_t n)
{
	struct error err = ERROR_INIT;

	if (table_add_numeric(t, col, v, n, &err))
		fail_msg("%s", err.msg);
}

static void add_strings(struct table *t, const char *col, const char *const *v, size_t n)
{
	struct error err = ERROR_INIT;

	if (table_add_categorical(t, col, v, n, &err))
		fail_msg("%s", err.msg);
}

static const struct drift_column_result *col_of(const struct drift_report *r, const char *name)
{
	for (size_t i = 0; i < r->n_columns; i++)
		if (!strcmp(r->columns[i].name, name))
			return &r->columns[i];
	fail_msg("no column %s in the report", name);
	return NULL;
}

static struct table *load_csv(const char *name, const char *text)
{
	struct table *t = NULL;
	struct error err = ERROR_INIT;

	if (table_load_buffer(&t, name, text, strlen(text), NULL, &err))
		fail_msg("%s", err.msg);
	return t;
}

/*
 * Evidently's legacy kinds: integers with <= 5 distinct reference values and booleans are
 * categorical; 6 distinct integers, or 3 distinct non-integers, are numerical.
 */
static void test_kinds(void **state)
{
	static const char text[] = "i5,i6,f3,b,s\n"
				   "1,1,0.5,true,a\n2,2,1.5,false,b\n3,3,2.5,true,a\n"
				   "4,4,0.5,true,b\n5,5,1.5,false,a\n1,6,2.5,true,b\n";
	struct table *t = load_csv("k.csv", text);
	struct drift_report *r = NULL;
	struct error err = ERROR_INIT;

	(void)state;
	assert_int_equal(drift_report_tables(&r, t, t, NULL, &err), 0);
	assert_false(col_of(r, "i5")->numeric);
	assert_true(col_of(r, "i6")->numeric);
	assert_true(col_of(r, "f3")->numeric);
	assert_false(col_of(r, "b")->numeric);
	assert_false(col_of(r, "s")->numeric);
	/* n_ref <= 1000: numerical with > 5 distinct is ks; 3 distinct values: chisquare; 2: z */
	assert_int_equal(col_of(r, "i6")->test, DRIFT_TEST_KS);
	assert_int_equal(col_of(r, "f3")->test, DRIFT_TEST_CHISQUARE);
	assert_int_equal(col_of(r, "b")->test, DRIFT_TEST_Z);
	assert_int_equal(col_of(r, "s")->test, DRIFT_TEST_Z);
	/* identical sides: nothing drifts; the identical-constant z gives p = 1 elsewhere */
	assert_int_equal(r->n_drifted, 0);
	assert_int_equal(r->n_tested, 5);
	/* chart data: 10 bins for numerical columns, labels for categorical ones */
	assert_int_equal(col_of(r, "i6")->n_bins, 10);
	assert_true(col_of(r, "i6")->bin_edges[0] == 1 && col_of(r, "i6")->bin_edges[10] == 6);
	assert_int_equal(col_of(r, "b")->n_bins, 2);
	assert_string_equal(col_of(r, "b")->bin_labels[0], "true"); /* 4 of 6, the most common */
	assert_true(col_of(r, "b")->ref_share[0] == 4.0 / 6);
	drift_report_free(r);
	table_free(t);
}

static void test_overrides(void **state)
{
	static const char text[] = "a,s\n1.5,x\n2.5,y\n3.5,x\n4.5,y\n5.5,x\n6.5,y\n7.5,x\n";
	struct table *t = load_csv("o.csv", text);
	struct drift_column_config cols[2] = {
		{ "a", DRIFT_TEST_WASSERSTEIN, 0.5, false },
		{ "s", DRIFT_TEST_DEFAULT, NAN, true },
	};
	struct drift_options o = DRIFT_OPTIONS_INIT;
	struct drift_report *r = NULL;
	struct error err = ERROR_INIT;

	(void)state;
	o.columns = cols;
	o.n_columns = 2;
	assert_int_equal(drift_report_tables(&r, t, t, &o, &err), 0);
	assert_int_equal(col_of(r, "a")->test, DRIFT_TEST_WASSERSTEIN);
	assert_true(col_of(r, "a")->threshold == 0.5);
	assert_true(col_of(r, "a")->score == 0);
	assert_int_equal(col_of(r, "s")->verdict, DRIFT_VERDICT_SKIPPED);
	assert_string_equal(col_of(r, "s")->note, "skipped by the configuration");
	assert_int_equal(r->n_tested, 1);
	drift_report_free(r);

	/* a global test applies where it can: ks on the text column keeps its default (z) */
	o.n_columns = 0;
	o.test = DRIFT_TEST_KS;
	assert_int_equal(drift_report_tables(&r, t, t, &o, &err), 0);
	assert_int_equal(col_of(r, "a")->test, DRIFT_TEST_KS);
	assert_int_equal(col_of(r, "s")->test, DRIFT_TEST_Z);
	drift_report_free(r);
	r = NULL;
	o.test = DRIFT_TEST_DEFAULT;

	/* bad overrides are errors naming the column */
	cols[0].column = "nope";
	o.columns = cols;
	o.n_columns = 1;
	assert_int_equal(drift_report_tables(&r, t, t, &o, &err), ERR_INVALID);
	assert_string_equal(err.msg, "drift override for column 'nope': no such column in the "
				     "reference or the current data");
	cols[0].column = "s";
	cols[0].test = DRIFT_TEST_KS;
	assert_int_equal(drift_report_tables(&r, t, t, &o, &err), ERR_INVALID);
	assert_string_equal(err.msg, "drift override for column 's': test 'ks' needs numbers, "
				     "and the column is categorical");
	cols[0].column = "a";
	cols[0].threshold = 1.5;
	assert_int_equal(drift_report_tables(&r, t, t, &o, &err), ERR_INVALID);
	assert_true(strstr(err.msg, "threshold 1.5 is out of range") != NULL);
	assert_null(r);
	table_free(t);
}

static void test_insufficient_and_skipped(void **state)
{
	static const double few[] = { 1, 2, 3 }, many[] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	static const double gaps[] = { NAN, NAN, NAN };
	struct table *ref = numbers("ref", "x", many, 8), *cur = numbers("cur", "x", few, 3);
	struct drift_options o = DRIFT_OPTIONS_INIT;
	struct drift_report *r = NULL;
	struct error err = ERROR_INIT;
	static const char *const words[] = { "a", "b", "c" };

	(void)state;
	o.min_rows = 5;
	assert_int_equal(drift_report_tables(&r, ref, cur, &o, &err), 0);
	assert_int_equal(r->columns[0].verdict, DRIFT_VERDICT_INSUFFICIENT);
	assert_string_equal(r->columns[0].note,
			    "insufficient data: 3 values in the current data, fewer than 5");
	assert_true(isnan(r->columns[0].score));
	assert_int_equal(r->n_tested, 0);
	assert_true(isnan(r->share));
	assert_false(r->dataset_drift);
	assert_int_equal(r->verdict, DRIFT_VERDICT_INSUFFICIENT);
	drift_report_free(r);

	/* a column only the reference has, one only the current has, an all-missing one, and
	 * a type mismatch: all skipped with their reason */
	add_numbers(ref, "gone", many, 8);
	add_numbers(ref, "empty", many, 8);
	add_numbers(ref, "typed", many, 8);
	add_numbers(cur, "new", few, 3);
	add_numbers(cur, "empty", gaps, 3);
	add_strings(cur, "typed", words, 3);
	assert_int_equal(drift_report_tables(&r, ref, cur, NULL, &err), 0);
	assert_int_equal(r->n_columns, 5);
	assert_int_equal(col_of(r, "x")->verdict, DRIFT_VERDICT_NONE);
	assert_string_equal(col_of(r, "gone")->note, "not in the current data ('cur')");
	assert_string_equal(col_of(r, "new")->note, "not in the reference data");
	assert_string_equal(col_of(r, "empty")->note, "every value is missing in the current data");
	assert_int_equal(col_of(r, "empty")->cur_missing, 3);
	assert_string_equal(col_of(r, "typed")->note,
			    "type mismatch: numeric in the reference, categorical in 'cur'");
	for (size_t i = 1; i < r->n_columns; i++)
		assert_int_equal(r->columns[i].verdict, DRIFT_VERDICT_SKIPPED);
	assert_int_equal(r->n_tested, 1);
	drift_report_free(r);
	table_free(ref);
	table_free(cur);
}

/*
 * Constant columns never divide by zero. Same constant on both sides (n_ref <= 1000, one
 * distinct value): Evidently's z test gives p = 1. Different constants: z = -sqrt(200) by hand
 * (p1 = 0, p2 = 1, P = 1/2), p = 2 (1 - Phi(14.14)) = 0 in double: drift. n_ref > 1000: the
 * normalised Wasserstein divides by max(std, 0.001) = 0.001: |5 - 6| / 0.001 = 1000.
 */
static void test_constant(void **state)
{
	double *five = xmalloc(2000 * sizeof(double)), *six = xmalloc(2000 * sizeof(double));
	struct drift_report *r = NULL;
	struct error err = ERROR_INIT;
	struct drift_options o = DRIFT_OPTIONS_INIT;
	struct table *a, *b;

	(void)state;
	for (size_t i = 0; i < 2000; i++)
		five[i] = 5.5, six[i] = 6.5;
	a = numbers("ref", "c", five, 100);
	b = numbers("cur", "c", six, 100);
	assert_int_equal(drift_report_tables(&r, a, a, NULL, &err), 0);
	assert_int_equal(r->columns[0].test, DRIFT_TEST_Z);
	assert_true(r->columns[0].score == 1);
	assert_int_equal(r->columns[0].verdict, DRIFT_VERDICT_NONE);
	drift_report_free(r);
	assert_int_equal(drift_report_tables(&r, a, b, NULL, &err), 0);
	assert_true(close_to(fabs(r->columns[0].statistic), sqrt(200), 1e-12));
	assert_int_equal(r->columns[0].verdict, DRIFT_VERDICT_DRIFT);
	drift_report_free(r);
	table_free(a);
	table_free(b);
	a = numbers("ref", "c", five, 2000);
	b = numbers("cur", "c", six, 2000);
	o.test = DRIFT_TEST_WASSERSTEIN;
	assert_int_equal(drift_report_tables(&r, a, b, &o, &err), 0);
	assert_true(close_to(r->columns[0].score, 1000, 1e-12));
	drift_report_free(r);
	table_free(a);
	table_free(b);
	free(five);
	free(six);
}

/* CSV batches: NaN/inf dropped and counted missing, NA tokens, a type mismatch named by place. */
static void test_fields(void **state)
{
	static const char ref_text[] = "x,n,s\n1.5,1,a\n2.5,2,b\n3.5,3,a\n4.5,4,b\n";
	static const char cur_text[] = "x,n,s\n1.5,1,a\nnan,2,b\ninf,oops,NA\n-Infinity,4,\n"
				       "2.5,,b\n";
	struct table *ref = load_csv("ref.csv", ref_text);
	struct drift_reference *dr = drift_reference_new(ref);
	struct drift_current *dc = NULL;
	struct csv_reader *rd = NULL;
	const struct csv_field *f;
	struct drift_report *r = NULL;
	struct error err = ERROR_INIT;
	const char *na[] = { "NA" };
	size_t n;

	(void)state;
	assert_int_equal(csv_open_buffer(&rd, "cur.csv", cur_text, strlen(cur_text), &err), 0);
	dc = drift_current_new(dr, "cur.csv", csv_column_names(rd), csv_ncols(rd), 0);
	while (!csv_next_batch(&f, &n, rd, 2, &err) && n)
		drift_current_add_fields(dc, f, n, na, 1);
	assert_int_equal(drift_current_rows(dc), 5);
	assert_int_equal(drift_report_finish(&r, dr, dc, NULL, &err), 0);
	assert_int_equal(col_of(r, "x")->cur_count, 2);
	assert_int_equal(col_of(r, "x")->cur_missing, 3);
	assert_true(col_of(r, "x")->cur_mean == 2);
	assert_string_equal(col_of(r, "n")->note, "type mismatch: numeric in the reference, but "
						  "cur.csv:4:5 holds 'oops'");
	assert_int_equal(col_of(r, "s")->cur_count, 3);
	assert_int_equal(col_of(r, "s")->cur_missing, 2);
	drift_report_free(r);
	drift_current_free(dc);
	csv_free(rd);
	drift_reference_free(dr);
	table_free(ref);
}

/* xorshift64*: a fixed stream of uniform doubles, so the data is the same on every run */
static double uniform(uint64_t *s)
{
	*s ^= *s >> 12, *s ^= *s << 25, *s ^= *s >> 27;
	return (double)((*s * 2685821657736338717ull) >> 11) * 0x1.0p-53;
}

/*
 * Streaming == exact on data small enough for both: the same columns through both paths, for
 * every test. KS, chisquare, z, per-value JS/PSI/KL and categorical statistics must be equal
 * (to rounding: sums in a different order); Wasserstein within its reported bound; Sturges
 * binned distances within 0.05 of the exact ones on this smooth data.
 */
static void test_stream_equals_exact(void **state)
{
	static const enum drift_test tests[] = { DRIFT_TEST_DEFAULT,	 DRIFT_TEST_KS,
						 DRIFT_TEST_WASSERSTEIN, DRIFT_TEST_JENSENSHANNON,
						 DRIFT_TEST_PSI,	 DRIFT_TEST_KL_DIV };
	const size_t nr = 3000, nc = 2500;
	struct table *ref = table_new("ref"), *cur = table_new("cur");
	double *v = xmalloc(nr * sizeof(double));
	const char **s = xmalloc(nr * sizeof(char *));
	static const char *const cats[] = { "red", "green", "blue", "cyan" };
	uint64_t seed = 42;

	(void)state;
	for (int side = 0; side < 2; side++) {
		struct table *t = side ? cur : ref;
		size_t n = side ? nc : nr;
		double shift = side ? 0.3 : 0;

		for (size_t i = 0; i < n; i++)
			v[i] = round((uniform(&seed) + uniform(&seed) + shift) * 100) / 100;
		add_numbers(t, "fine", v, n);
		for (size_t i = 0; i < n; i++)
			v[i] = floor(uniform(&seed) * (side ? 7 : 5)); /* cur has 2 new values */
		add_numbers(t, "ints", v, n);
		for (size_t i = 0; i < n; i++)
			v[i] = uniform(&seed) < 0.1 ? NAN : uniform(&seed) * 10 + shift;
		add_numbers(t, "cont", v, n);
		for (size_t i = 0; i < n; i++)
			s[i] = cats[(size_t)(uniform(&seed) * (side ? 4 : 3))];
		add_strings(t, "cat", s, n);
	}
	for (size_t ti = 0; ti < ARRAY_SIZE(tests); ti++) {
		struct drift_options o = DRIFT_OPTIONS_INIT;
		struct drift_reference *dr = drift_reference_new(ref);
		const char *names[] = { "fine", "ints", "cont", "cat" };
		struct drift_current *dc = drift_current_new(dr, "cur", names, 4, 1000);
		struct drift_report *ex = NULL, *st = NULL;
		struct error err = ERROR_INIT;

		o.test = tests[ti];
		assert_int_equal(drift_report_tables(&ex, ref, cur, &o, &err), 0);
		assert_int_equal(drift_current_add_table(dc, cur, &err), 0);
		assert_int_equal(drift_report_finish(&st, dr, dc, &o, &err), 0);
		assert_true(ex->exact);
		assert_false(st->exact);
		for (size_t i = 0; i < 4; i++) {
			const struct drift_column_result *a = &ex->columns[i], *b = &st->columns[i];
			bool sturges = a->numeric &&
				       (a->test == DRIFT_TEST_JENSENSHANNON ||
					a->test == DRIFT_TEST_PSI || a->test == DRIFT_TEST_KL_DIV);

			assert_int_equal(a->test, b->test);
			assert_int_equal(a->n_unique, b->n_unique);
			assert_int_equal(a->cur_count, b->cur_count);
			assert_true(close_to(a->cur_mean, b->cur_mean, 1e-12) ||
				    (isnan(a->cur_mean) && isnan(b->cur_mean)));
			if (a->test == DRIFT_TEST_WASSERSTEIN) {
				if (!(fabs(a->score - b->score) <= b->score_error + 1e-12))
					fail_msg("%s: W %.17g vs %.17g +- %g", a->name, a->score,
						 b->score, b->score_error);
			} else if (sturges && strcmp(a->name, "ints")) {
				if (!(fabs(a->score - b->score) <= 0.05))
					fail_msg("%s %s: %.6g vs %.6g", a->name,
						 drift_test_name(a->test), a->score, b->score);
			} else if (!close_to(b->score, a->score, 1e-9)) {
				fail_msg("%s %s: stream %.17g, exact %.17g", a->name,
					 drift_test_name(a->test), b->score, a->score);
			}
			if (!isnan(a->statistic) && !close_to(b->statistic, a->statistic, 1e-12))
				fail_msg("%s: statistic %.17g vs %.17g", a->name, b->statistic,
					 a->statistic);
		}
		drift_report_free(ex);
		drift_report_free(st);
		drift_current_free(dc);
		drift_reference_free(dr);
	}
	free(v);
	free(s);
	table_free(ref);
	table_free(cur);
}

static void test_json(void **state)
{
	static const char text[] = "a,s\n1.5,x\n2.5,y\n3.5,x\n4.5,x\n5.5,x\n6.5,x\n";
	struct table *t = load_csv("j.csv", text);
	struct drift_report *r = NULL;
	struct error err = ERROR_INIT;
	json_t *j, *c;

	(void)state;
	assert_int_equal(drift_report_tables(&r, t, t, NULL, &err), 0);
	j = drift_report_to_json(r);
	assert_int_equal(json_integer_value(json_object_get(j, "n_tested")), 2);
	assert_string_equal(json_string_value(json_object_get(j, "verdict")), "no_drift");
	c = json_array_get(json_object_get(j, "columns"), 0);
	assert_string_equal(json_string_value(json_object_get(c, "name")), "a");
	assert_string_equal(json_string_value(json_object_get(c, "kind")), "numerical");
	assert_string_equal(json_string_value(json_object_get(c, "test")), "ks");
	assert_int_equal(json_array_size(json_object_get(json_object_get(c, "chart"), "bin_edges")),
			 11);
	assert_true(json_is_null(json_object_get(c, "note")));
	json_decref(j);
	drift_report_free(r);
	table_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors_exact),
		cmocka_unit_test(test_vectors_stream),
		cmocka_unit_test(test_share_rule),
		cmocka_unit_test(test_kinds),
		cmocka_unit_test(test_overrides),
		cmocka_unit_test(test_insufficient_and_skipped),
		cmocka_unit_test(test_constant),
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_stream_equals_exact),
		cmocka_unit_test(test_json),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
