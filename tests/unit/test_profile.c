/*
 * Unit tests for table/profile. Expected values are worked out by hand in the comments, or come
 * from pandas 1.5.3 / numpy 1.24.2 (Debian python3-pandas) where noted: never from ferry.
 */
#include "util/common.h"
#include "helpers.h"
#include "table/profile.h"

#include <math.h>

static struct table *load_ok(const char *csv)
{
	struct table *t = NULL;
	struct error err = ERROR_INIT;

	if (table_load_buffer(&t, "t.csv", csv, strlen(csv), NULL, &err))
		fail_msg("loading failed: %s", err.msg);
	return t;
}

static struct profile *profile_ok(const struct table *t, const struct profile_options *opts)
{
	struct profile *p = NULL;
	struct error err = ERROR_INIT;

	if (profile_compute(&p, t, opts, &err))
		fail_msg("profile failed: %s", err.msg);
	return p;
}

/* Relative tolerance: the references print 17 digits, the summation order may differ. */
static void near(double got, double want)
{
	if (!(fabs(got - want) <= 1e-12 * fmax(1, fabs(want))))
		fail_msg("got %.17g, want %.17g", got, want);
}

static void test_numeric_by_hand(void **state)
{
	/* x = 1, 2, 3, 4, 10 and one missing value (a blank line would be skipped) */
	struct table *t = load_ok("x\n4\n1\n\"\"\n10\n3\n2\n");
	struct profile_options opts = { 5, 3 };
	struct profile *p = profile_ok(t, &opts);
	const struct column_profile *c = &p->cols[0];

	(void)state;
	assert_int_equal(p->rows, 6);
	assert_int_equal(c->count, 5);
	assert_int_equal(c->missing, 1);
	near(c->min, 1);
	near(c->max, 10);
	near(c->mean, 4);	  /* 20 / 5 */
	near(c->std, sqrt(12.5)); /* (9 + 4 + 1 + 0 + 36) / 4 */
	/* h = 4q: 0 -> 1; 0.2 -> 1 + 0.2 * 1; 1 -> 2; 2 -> 3; 3 -> 4; 3.8 -> 10 - 6 * 0.2; 4 -> 10 */
	near(c->quantiles[0], 1);
	near(c->quantiles[1], 1.2);
	near(c->quantiles[2], 2);
	near(c->quantiles[3], 3);
	near(c->quantiles[4], 4);
	near(c->quantiles[5], 8.8);
	near(c->quantiles[6], 10);
	/* 3 bins over [1, 10]: [1, 4) holds 1 2 3, [4, 7) holds 4, [7, 10] holds 10 */
	assert_int_equal(c->nbins, 3);
	near(c->edges[0], 1);
	near(c->edges[1], 4);
	near(c->edges[2], 7);
	near(c->edges[3], 10);
	assert_int_equal(c->counts[0], 3);
	assert_int_equal(c->counts[1], 1);
	assert_int_equal(c->counts[2], 1);
	profile_free(p);
	table_free(t);
}

static void test_numeric_edge_cases(void **state)
{
	struct table *t = load_ok("const,one,none,neg\n5,,,-1\n5,7,,-0.5\n5,,,-2\n");
	struct profile_options opts = { 50, 2 };
	struct profile *p = profile_ok(t, &opts);
	json_t *j = profile_to_json(p), *c;

	(void)state;
	/* numpy.histogram([5, 5, 5], 2): edges 4.5 5 5.5, counts 0 3 */
	near(p->cols[0].edges[0], 4.5);
	near(p->cols[0].edges[1], 5);
	near(p->cols[0].edges[2], 5.5);
	assert_int_equal(p->cols[0].counts[0], 0);
	assert_int_equal(p->cols[0].counts[1], 3);
	near(p->cols[0].std, 0);
	/* one value: no std */
	assert_int_equal(p->cols[1].count, 1);
	near(p->cols[1].quantiles[5], 7);
	c = json_array_get(json_object_get(j, "columns"), 1);
	assert_true(json_is_null(json_object_get(c, "std")));
	assert_true(json_real_value(json_object_get(c, "mean")) == 7);
	/* no value: every statistic null */
	c = json_array_get(json_object_get(j, "columns"), 2);
	assert_int_equal(json_integer_value(json_object_get(c, "count")), 0);
	assert_int_equal(json_integer_value(json_object_get(c, "missing")), 3);
	assert_true(json_is_null(json_object_get(c, "min")));
	assert_true(json_is_null(json_object_get(c, "quantiles")));
	assert_true(json_is_null(json_object_get(c, "histogram")));
	/* -2 -1 -0.5: h = 2 * 0.25 = 0.5 -> t >= 0.5: -1 - 1 * 0.5 */
	near(p->cols[3].quantiles[2], -1.5);
	near(p->cols[3].mean, -3.5 / 3);
	json_decref(j);
	profile_free(p);
	table_free(t);
}

/* Ranges a double cannot split into bins, and sums that overflow: no NaN, nulls in the JSON. */
static void test_numeric_extremes(void **state)
{
	struct table *t = load_ok("big,wide\n1e300,1e308\n1e300,1e308\n1e300,-1.7e308\n");
	struct profile *p = profile_ok(t, NULL);
	json_t *j = profile_to_json(p), *big, *wide;
	char *s = json_dumps(j, JSON_COMPACT);

	(void)state;
	assert_non_null(s);
	big = json_array_get(json_object_get(j, "columns"), 0);
	wide = json_array_get(json_object_get(j, "columns"), 1);
	/* min == max and +-0.5 vanishes at 1e300: every value in the first bin */
	assert_int_equal(p->cols[0].counts[0], 3);
	assert_true(json_real_value(json_object_get(big, "mean")) == 1e300);
	/* the sum and 1e308 - (-1.7e308) overflow: no mean, no std, no quartile between the two;
	 * min, max and the median are still exact */
	assert_true(json_is_null(json_object_get(wide, "mean")));
	assert_true(json_is_null(json_object_get(wide, "std")));
	assert_true(json_is_null(json_object_get(json_object_get(wide, "quantiles"), "0.25")));
	assert_true(p->cols[1].quantiles[0] == -1.7e308 && p->cols[1].quantiles[6] == 1e308);
	assert_true(p->cols[1].quantiles[3] == 1e308);
	assert_int_equal(p->cols[1].counts[0], 3);
	free(s);
	json_decref(j);
	profile_free(p);
	table_free(t);
}

static void test_categorical_and_boolean(void **state)
{
	struct table *t = load_ok("c,b\nb,TRUE\na,FALSE\nb,TRUE\n,\nc,TRUE\na,\nb,FALSE\n");
	struct profile_options opts = { 2, 10 };
	struct profile *p = profile_ok(t, &opts);
	const struct column_profile *c = &p->cols[0], *b = &p->cols[1];

	(void)state;
	/* b x3, a x2, c x1: the top 2 and the rest */
	assert_int_equal(c->count, 6);
	assert_int_equal(c->missing, 1);
	assert_int_equal(c->unique, 3);
	assert_int_equal(c->ntop, 2);
	assert_string_equal(c->top[0].value, "b");
	assert_int_equal(c->top[0].count, 3);
	assert_string_equal(c->top[1].value, "a");
	assert_int_equal(c->top[1].count, 2);
	assert_int_equal(c->other, 1);
	/* TRUE x3, FALSE x2 */
	assert_int_equal(b->type, COLUMN_BOOLEAN);
	assert_int_equal(b->count, 5);
	assert_int_equal(b->missing, 2);
	near(b->mean, 0.6);
	assert_string_equal(b->top[0].value, "true");
	assert_int_equal(b->top[1].count, 2);
	assert_int_equal(b->other, 0);
	profile_free(p);
	table_free(t);

	/* ties keep first-seen order; top 0 puts everything in other */
	t = load_ok("c\nz\ny\ny\nz\nx\n");
	opts.top = 0;
	p = profile_ok(t, NULL);
	assert_string_equal(p->cols[0].top[0].value, "z");
	assert_string_equal(p->cols[0].top[1].value, "y");
	assert_string_equal(p->cols[0].top[2].value, "x");
	profile_free(p);
	p = profile_ok(t, &opts);
	assert_int_equal(p->cols[0].ntop, 0);
	assert_int_equal(p->cols[0].other, 5);
	profile_free(p);
	table_free(t);
}

static void test_bad_options(void **state)
{
	struct table *t = load_ok("x\n1\n");
	struct profile_options opts = { 5, 0 };
	struct profile *p = NULL;
	struct error err = ERROR_INIT;

	(void)state;
	assert_int_equal(profile_compute(&p, t, &opts, &err), ERR_INVALID);
	assert_string_equal(err.msg, "a histogram needs at least one bin");
	assert_null(p);
	table_free(t);
}

/*
 * Key order is part of the format: stored profiles are compared as text. The numbers are
 * numpy's for [1, 3] (np.quantile, np.histogram(x, 10), std(ddof=1)) printed as jansson prints
 * doubles (%.17g, ".0" added to integers).
 */
static void test_json_layout(void **state)
{
	struct table *t = load_ok("n,c,b\n1,x,true\n3,y,false\n");
	struct profile *p = profile_ok(t, NULL);
	json_t *j = profile_to_json(p);
	char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);

	(void)state;
	assert_string_equal(
	    s, "{\"format_version\":1,\"rows\":2,\"columns\":["
	       "{\"name\":\"n\",\"type\":\"numeric\",\"count\":2,\"missing\":0,\"min\":1.0,"
	       "\"max\":3.0,\"mean\":2.0,\"std\":1.4142135623730951,\"quantiles\":{\"0\":1.0,"
	       "\"0.05\":1.1000000000000001,\"0.25\":1.5,\"0.5\":2.0,\"0.75\":2.5,"
	       "\"0.95\":2.8999999999999999,\"1\":3.0},\"histogram\":{\"edges\":[1.0,1.2,"
	       "1.3999999999999999,1.6000000000000001,1.8,2.0,2.2000000000000002,"
	       "2.4000000000000004,2.6000000000000001,2.7999999999999998,3.0],\"counts\":[1,0,0,0,"
	       "0,0,0,0,0,1]}},"
	       "{\"name\":\"c\",\"type\":\"categorical\",\"count\":2,\"missing\":0,\"unique\":2,"
	       "\"top\":[{\"value\":\"x\",\"count\":1},{\"value\":\"y\",\"count\":1}],\"other\":0},"
	       "{\"name\":\"b\",\"type\":\"boolean\",\"count\":2,\"missing\":0,\"mean\":0.5,"
	       "\"unique\":2,\"top\":[{\"value\":\"false\",\"count\":1},{\"value\":\"true\","
	       "\"count\":1}],\"other\":0}]}");
	free(s);
	json_decref(j);
	profile_free(p);
	table_free(t);
}

static struct table *load_example(const char *file)
{
	char name[256];
	char *path;
	struct table *t = NULL;
	struct error err = ERROR_INIT;

	snprintf(name, sizeof(name), "../../examples/data/%s", file);
	path = test_data_path(name);
	if (table_load(&t, path, NULL, &err))
		fail_msg("%s", err.msg);
	free(path);
	return t;
}

/*
 * iris from pandas 1.5.3 / numpy 1.24.2: x = pd.read_csv("iris.csv")[col]; x.mean(), x.std(),
 * x.quantile([0, .05, .25, .5, .75, .95, 1]), np.histogram(x.values, 10), printed with %.17g.
 */
static void test_iris(void **state)
{
	static const struct {
		const char *name;
		double mean, std, q[PROFILE_NQUANTILES];
		uint64_t hist[10];
		double edge1;
	} want[] = {
		{ "sepal length (cm)",
		  5.8433333333333337,
		  0.82806612797786305,
		  { 4.2999999999999998, 4.5999999999999996, 5.0999999999999996, 5.7999999999999998,
		    6.4000000000000004, 7.2549999999999981, 7.9000000000000004 },
		  { 9, 23, 14, 27, 16, 26, 18, 6, 5, 6 },
		  4.6600000000000001 },
		{ "sepal width (cm)",
		  3.0573333333333337,
		  0.43586628493669821,
		  { 2, 2.3449999999999998, 2.7999999999999998, 3, 3.2999999999999998,
		    3.7999999999999998, 4.4000000000000004 },
		  { 4, 7, 22, 24, 37, 31, 10, 11, 2, 2 },
		  2.2400000000000002 },
		{ "petal length (cm)",
		  3.7580000000000005,
		  1.7652982332594662,
		  { 1, 1.3, 1.6000000000000001, 4.3499999999999996, 5.0999999999999996,
		    6.0999999999999996, 6.9000000000000004 },
		  { 37, 13, 0, 3, 8, 26, 29, 18, 11, 5 },
		  1.5900000000000001 },
		{ "petal width (cm)",
		  1.1993333333333336,
		  0.7622376689603465,
		  { 0.10000000000000001, 0.20000000000000001, 0.29999999999999999, 1.3, 1.8,
		    2.2999999999999998, 2.5 },
		  { 41, 8, 1, 7, 8, 33, 6, 23, 9, 14 },
		  0.33999999999999997 },
		{ "target",
		  1,
		  0.81923192051904048,
		  { 0, 0, 0, 1, 2, 2, 2 },
		  { 50, 0, 0, 0, 0, 50, 0, 0, 0, 50 },
		  0.20000000000000001 },
	};
	struct table *t = load_example("iris.csv");
	struct profile *p = profile_ok(t, NULL);

	(void)state;
	assert_int_equal(p->ncols, ARRAY_SIZE(want));
	for (size_t j = 0; j < ARRAY_SIZE(want); j++) {
		const struct column_profile *c = &p->cols[j];

		assert_string_equal(c->name, want[j].name);
		assert_int_equal(c->count, 150);
		near(c->mean, want[j].mean);
		near(c->std, want[j].std);
		for (size_t q = 0; q < PROFILE_NQUANTILES; q++)
			near(c->quantiles[q], want[j].q[q]);
		assert_memory_equal(c->counts, want[j].hist, sizeof(want[j].hist));
		near(c->edges[1], want[j].edge1);
	}
	profile_free(p);
	table_free(t);
}

/* PimaIndiansDiabetes2 and mlc_churn, from pandas 1.5.3 as above (value_counts for categories). */
static void test_pima_and_churn(void **state)
{
	static const double insulin_q[] = { 14,	 41.650000000000006, 76.25, 125,
					    190, 395.49999999999966, 846 };
	struct table *t = load_example("PimaIndiansDiabetes2.csv");
	struct profile *p = profile_ok(t, NULL);
	const struct column_profile *c = &p->cols[4];

	(void)state;
	assert_string_equal(c->name, "insulin");
	assert_int_equal(c->count, 394);
	assert_int_equal(c->missing, 374);
	near(c->mean, 155.54822335025381);
	near(c->std, 118.77585518724518);
	for (size_t q = 0; q < PROFILE_NQUANTILES; q++)
		near(c->quantiles[q], insulin_q[q]);
	c = &p->cols[8];
	assert_string_equal(c->top[0].value, "neg");
	assert_int_equal(c->top[0].count, 500);
	assert_int_equal(c->top[1].count, 268);
	profile_free(p);
	table_free(t);

	t = load_example("mlc_churn.csv");
	p = profile_ok(t, NULL);
	near(p->cols[6].mean, 180.28890000000001);
	near(p->cols[6].std, 53.894699168932206);
	assert_int_equal(p->cols[0].unique, 51);
	assert_string_equal(p->cols[0].top[0].value, "WV");
	assert_int_equal(p->cols[0].top[0].count, 158);
	assert_string_equal(p->cols[0].top[1].value, "MN");
	assert_int_equal(p->cols[0].top[1].count, 125);
	assert_string_equal(p->cols[19].top[0].value, "no");
	assert_int_equal(p->cols[19].top[0].count, 4293);
	assert_int_equal(p->cols[19].top[1].count, 707);
	profile_free(p);
	table_free(t);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Enough values for the radix sort: its quantiles must match a plain qsort's. */
static void test_large_column(void **state)
{
	size_t n = 100003;
	double *x = xmalloc(n * sizeof(*x)), *sorted = xmalloc(n * sizeof(*x));
	struct table *t = table_new("gen");
	struct error err = ERROR_INIT;
	struct profile *p;
	uint64_t s = 7, total = 0;

	(void)state;
	for (size_t i = 0; i < n; i++) {
		s = s * 6364136223846793005u + 1442695040888963407u;
		x[i] = ((double)(s >> 11) / 9007199254740992.0 - 0.3) * (i % 7 ? 1e3 : 1e-5);
		if (i % 1000 == 0)
			x[i] = i % 2000 ? -0.0 : 0.0;
	}
	memcpy(sorted, x, n * sizeof(*x));
	qsort(sorted, n, sizeof(*sorted), cmp_double);
	assert_int_equal(table_add_numeric(t, "x", x, n, &err), 0);
	p = profile_ok(t, NULL);
	near(p->cols[0].min, sorted[0]);
	near(p->cols[0].max, sorted[n - 1]);
	near(p->cols[0].quantiles[3], sorted[n / 2]);
	/* h = (n - 1) * 0.25 = 25000.5: halfway between two neighbours */
	near(p->cols[0].quantiles[2], sorted[25001] - (sorted[25001] - sorted[25000]) * 0.5);
	for (size_t b = 0; b < p->cols[0].nbins; b++)
		total += p->cols[0].counts[b];
	assert_int_equal(total, n);
	profile_free(p);
	table_free(t);
	free(x);
	free(sorted);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_numeric_by_hand),
		cmocka_unit_test(test_numeric_edge_cases),
		cmocka_unit_test(test_numeric_extremes),
		cmocka_unit_test(test_categorical_and_boolean),
		cmocka_unit_test(test_bad_options),
		cmocka_unit_test(test_json_layout),
		cmocka_unit_test(test_iris),
		cmocka_unit_test(test_pima_and_churn),
		cmocka_unit_test(test_large_column),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
