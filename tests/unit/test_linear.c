/*
 * Unit tests for ml/linear against scikit-learn 1.2.1's Ridge and LinearRegression on the raw
 * diabetes data (tests/data/reference/linear.json, made by gen_linear.py), plus hand-derived
 * degenerate fits, argument errors and determinism.
 */
#include "util/common.h"
#include "helpers.h"
#include "ml/linear.h"
#include "table/table.h"
#include "util/json.h"

#include <math.h>

/*
 * sklearn's own Cholesky and SVD Ridge solvers agree to about 3e-13 here (the reference records
 * it): 1e-8 leaves room for another LAPACK, yet catches any formula slip.
 */
#define REL_TOL 1e-8

static json_t *load_ref(void)
{
	char *path = test_data_path("reference/linear.json");
	struct error err = ERROR_INIT;
	json_t *j = NULL;

	if (json_load_path(&j, path, 16u << 20, &err))
		fail_msg("%s", err.msg);
	free(path);
	return j;
}

static struct table *load_diabetes(void)
{
	char *path = test_data_path("../../examples/data/diabetes.csv");
	struct error err = ERROR_INIT;
	struct table *t = NULL;

	if (table_load(&t, path, NULL, &err))
		fail_msg("%s", err.msg);
	free(path);
	return t;
}

static json_t *get(const json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	if (!v)
		fail_msg("reference has no key '%s'", key);
	return v;
}

static double num(const json_t *obj, const char *key)
{
	json_t *v = get(obj, key);

	assert_true(json_is_number(v));
	return json_number_value(v);
}

static const double *column(const struct table *t, const char *name)
{
	struct error err = ERROR_INIT;
	size_t idx = 0;

	if (table_find(&idx, t, name, &err))
		fail_msg("%s", err.msg);
	assert_int_equal(t->cols[idx]->type, COLUMN_NUMERIC);
	assert_int_equal(t->cols[idx]->n_missing, 0);
	return t->cols[idx]->values;
}

/* The reference case's X (its first `rows` rows, its `features` in order) and y; caller frees. */
static void case_data(double **X, double **y, size_t *n, size_t *d, const struct table *t,
		      const json_t *c, const char *target)
{
	const json_t *feats = get(c, "features");
	const double *ycol = column(t, target);

	*n = (size_t)json_integer_value(get(c, "rows"));
	*d = json_array_size(feats);
	assert_true(*n >= 1 && *n <= t->nrows && *d >= 1);
	*X = xmalloc(*n * *d * sizeof(**X));
	*y = xmalloc(*n * sizeof(**y));
	for (size_t j = 0; j < *d; j++) {
		const double *col = column(t, json_string_value(json_array_get(feats, j)));

		for (size_t i = 0; i < *n; i++)
			(*X)[i * *d + j] = col[i];
	}
	memcpy(*y, ycol, *n * sizeof(**y));
}

/* Checks got against sklearn's want to REL_TOL and returns the relative deviation. */
static double check_close(double got, double want, const char *name, const char *what, size_t i)
{
	double dev = fabs(got - want);

	if (!(dev <= REL_TOL * fabs(want)))
		fail_msg("%s: %s[%zu] is %.17g, sklearn %.17g", name, what, i, got, want);
	return want != 0.0 ? dev / fabs(want) : 0.0;
}

static double max2(double a, double b)
{
	return a > b ? a : b;
}

static void test_sklearn_cases(void **state)
{
	json_t *ref = load_ref();
	struct table *t = load_diabetes();
	const json_t *cases = get(ref, "cases");
	const char *target = json_string_value(get(ref, "target"));
	double dev_coef = 0.0, dev_icpt = 0.0, dev_pred = 0.0;

	(void)state;
	assert_true(json_array_size(cases) >= 5);
	for (size_t k = 0; k < json_array_size(cases); k++) {
		const json_t *c = json_array_get(cases, k);
		const char *name = json_string_value(get(c, "name"));
		const json_t *coef = get(c, "coef"), *pred = get(c, "predictions_first10");
		struct linear_params p = LINEAR_PARAMS_INIT;
		struct linear_model m = LINEAR_MODEL_INIT;
		struct error err = ERROR_INIT;
		double *X, *y, got[10];
		size_t n, d, np;

		case_data(&X, &y, &n, &d, t, c, target);
		p.alpha = num(c, "alpha");
		p.fit_intercept = json_is_true(get(c, "fit_intercept"));
		if (linear_fit(&m, X, n, d, y, &p, &err))
			fail_msg("%s: %s", name, err.msg);
		assert_int_equal(m.n_features, d);
		assert_int_equal(json_array_size(coef), d);
		for (size_t j = 0; j < d; j++)
			dev_coef =
			    max2(dev_coef,
				 check_close(m.coef[j], json_number_value(json_array_get(coef, j)),
					     name, "coef", j));
		dev_icpt = max2(
		    dev_icpt, check_close(m.intercept, num(c, "intercept"), name, "intercept", 0));
		if (!p.fit_intercept)
			assert_true(m.intercept == 0.0);
		np = json_array_size(pred);
		assert_true(np == (n < 10 ? n : 10));
		linear_predict(&m, X, np, got);
		for (size_t i = 0; i < np; i++)
			dev_pred =
			    max2(dev_pred,
				 check_close(got[i], json_number_value(json_array_get(pred, i)),
					     name, "prediction", i));
		linear_model_release(&m);
		free(X);
		free(y);
	}
	print_message("max relative deviation from sklearn: coef %.2g, intercept %.2g, "
		      "predictions %.2g\n",
		      dev_coef, dev_icpt, dev_pred);
	table_free(t);
	json_decref(ref);
}

static const json_t *find_case(const json_t *ref, const char *name)
{
	const json_t *cases = get(ref, "cases");

	for (size_t k = 0; k < json_array_size(cases); k++) {
		const json_t *c = json_array_get(cases, k);

		if (!strcmp(json_string_value(get(c, "name")), name))
			return c;
	}
	fail_msg("reference has no case '%s'", name);
	return NULL;
}

/*
 * The minimum-norm solution with bmi twice is the full-rank fit with bmi's coefficient halved
 * between the copies: any other split has the same residual and a larger norm.
 */
static void test_duplicate_column_min_norm(void **state)
{
	json_t *ref = load_ref();
	struct table *t = load_diabetes();
	const json_t *full = find_case(ref, "linear_regression");
	const json_t *dup = find_case(ref, "linear_regression_duplicate_column");
	const json_t *fcoef = get(full, "coef");
	struct linear_params p = { 0.0, 1 };
	struct linear_model m = LINEAR_MODEL_INIT;
	struct error err = ERROR_INIT;
	double *X, *y, bmi;
	size_t n, d;

	(void)state;
	case_data(&X, &y, &n, &d, t, dup, json_string_value(get(ref, "target")));
	assert_int_equal(d, 11);
	assert_int_equal(linear_fit(&m, X, n, d, y, &p, &err), 0);
	bmi = json_number_value(json_array_get(fcoef, 2));
	check_close(m.coef[2], bmi / 2, "duplicate", "coef", 2);
	check_close(m.coef[10], bmi / 2, "duplicate", "coef", 10);
	for (size_t j = 0; j < 10; j++) {
		if (j != 2)
			check_close(m.coef[j], json_number_value(json_array_get(fcoef, j)),
				    "duplicate", "coef", j);
	}
	check_close(m.intercept, num(full, "intercept"), "duplicate", "intercept", 0);
	linear_model_release(&m);
	free(X);
	free(y);
	table_free(t);
	json_decref(ref);
}

/*
 * Worked by hand: with one row, or a constant column, centring leaves zeros, so least squares
 * (minimum norm) and ridge alike give coefficient 0 there and the intercept is the mean of y.
 */
static void test_degenerate(void **state)
{
	static const double X1[] = { 3.0, -2.0 }, y1[] = { 7.5 };
	/* column 0 constant; y = 2 * column 1 + 1 exactly */
	static const double X2[] = { 4.0, 1.0, 4.0, 2.0, 4.0, 3.0, 4.0, 5.0 };
	static const double y2[] = { 3.0, 5.0, 7.0, 11.0 };
	struct linear_params p = LINEAR_PARAMS_INIT;
	struct linear_model m = LINEAR_MODEL_INIT;
	struct error err = ERROR_INIT;
	double pred[4];

	(void)state;
	for (int ridge = 0; ridge < 2; ridge++) {
		p.alpha = ridge ? 1.0 : 0.0;
		assert_int_equal(linear_fit(&m, X1, 1, 2, y1, &p, &err), 0);
		assert_true(m.coef[0] == 0.0 && m.coef[1] == 0.0);
		assert_true(m.intercept == 7.5);
	}
	p.alpha = 0.0;
	assert_int_equal(linear_fit(&m, X2, 4, 2, y2, &p, &err), 0);
	assert_true(fabs(m.coef[0]) <= 1e-14);
	assert_true(fabs(m.coef[1] - 2.0) <= 1e-14);
	assert_true(fabs(m.intercept - 1.0) <= 1e-13);
	linear_predict(&m, X2, 4, pred);
	for (size_t i = 0; i < 4; i++)
		assert_true(fabs(pred[i] - y2[i]) <= 1e-13);
	/* ridge: the column-1 slope is Sxy / (Sxx + alpha) = 17.5 / (8.75 + 1) */
	p.alpha = 1.0;
	assert_int_equal(linear_fit(&m, X2, 4, 2, y2, &p, &err), 0);
	assert_true(fabs(m.coef[0]) <= 1e-14);
	assert_true(fabs(m.coef[1] - 17.5 / 9.75) <= 1e-14);
	assert_true(fabs(m.intercept - (6.5 - 2.75 * 17.5 / 9.75)) <= 1e-13);
	linear_model_release(&m);
}

static void expect_invalid(int ret, const struct error *err, const char *msg)
{
	assert_int_equal(ret, ERR_INVALID);
	if (!strstr(err->msg, msg))
		fail_msg("message '%s' lacks '%s'", err->msg, msg);
}

static void test_errors(void **state)
{
	double X[] = { 1.0, 2.0, 3.0, 4.0, 5.0, 7.0, 8.0, 9.0 }, y[] = { 1.0, 2.0, 4.0, 3.0 };
	struct linear_params p = LINEAR_PARAMS_INIT;
	struct linear_model m = LINEAR_MODEL_INIT;
	struct error err = ERROR_INIT;
	double *coef, c0, c1, icpt;

	(void)state;
	assert_int_equal(linear_fit(&m, X, 4, 2, y, &p, &err), 0);
	coef = m.coef;
	c0 = m.coef[0];
	c1 = m.coef[1];
	icpt = m.intercept;
	expect_invalid(linear_fit(&m, X, 0, 2, y, &p, &err), &err, "no rows to fit");
	expect_invalid(linear_fit(&m, X, 4, 0, y, &p, &err), &err, "no features to fit");
	p.alpha = -1.0;
	expect_invalid(linear_fit(&m, X, 4, 2, y, &p, &err), &err,
		       "alpha must be a finite number >= 0, got -1");
	p.alpha = NAN;
	expect_invalid(linear_fit(&m, X, 4, 2, y, &p, &err), &err, "got nan");
	p.alpha = INFINITY;
	expect_invalid(linear_fit(&m, X, 4, 2, y, &p, &err), &err, "got inf");
	p.alpha = 1.0;
	X[5] = NAN;
	expect_invalid(linear_fit(&m, X, 4, 2, y, &p, &err), &err,
		       "X[2][1] is nan, not a finite number");
	X[5] = 7.0;
	y[3] = -INFINITY;
	expect_invalid(linear_fit(&m, X, 4, 2, y, &p, &err), &err,
		       "y[3] is -inf, not a finite number");
	p.alpha = 0.0;
	expect_invalid(linear_fit(&m, X, 4, 2, y, &p, &err), &err, "y[3] is -inf");
	/* failures leave *out as it was */
	assert_ptr_equal(m.coef, coef);
	assert_int_equal(m.n_features, 2);
	assert_true(m.coef[0] == c0 && m.coef[1] == c1 && m.intercept == icpt);
	linear_model_release(&m);
	assert_null(m.coef);
	assert_int_equal(m.n_features, 0);
	linear_model_release(&m);
	linear_model_release(NULL);
}

static int same_model(const struct linear_model *a, const struct linear_model *b)
{
	return a->n_features == b->n_features &&
	       !memcmp(a->coef, b->coef, a->n_features * sizeof(*a->coef)) &&
	       !memcmp(&a->intercept, &b->intercept, sizeof(a->intercept));
}

static void test_determinism(void **state)
{
	json_t *ref = load_ref();
	struct table *t = load_diabetes();
	const json_t *c = find_case(ref, "ridge_alpha1");
	struct linear_model a = LINEAR_MODEL_INIT, b = LINEAR_MODEL_INIT;
	struct error err = ERROR_INIT;
	double *X, *y, *Xcopy, *ycopy;
	size_t n, d;

	(void)state;
	case_data(&X, &y, &n, &d, t, c, json_string_value(get(ref, "target")));
	Xcopy = xmalloc(n * d * sizeof(*Xcopy));
	ycopy = xmalloc(n * sizeof(*ycopy));
	memcpy(Xcopy, X, n * d * sizeof(*X));
	memcpy(ycopy, y, n * sizeof(*y));
	for (int k = 0; k < 3; k++) {
		struct linear_params p = { k == 0 ? 0.0 : k == 1 ? 1.0 : 10.0, k != 2 };

		assert_int_equal(linear_fit(&a, X, n, d, y, &p, &err), 0);
		/* b is refitted over its previous model: released and overwritten */
		for (int rep = 0; rep < 3; rep++) {
			assert_int_equal(linear_fit(&b, X, n, d, y, &p, &err), 0);
			assert_true(same_model(&a, &b));
		}
	}
	/* the inputs are read only */
	assert_memory_equal(X, Xcopy, n * d * sizeof(*X));
	assert_memory_equal(y, ycopy, n * sizeof(*y));
	linear_model_release(&a);
	linear_model_release(&b);
	free(X);
	free(y);
	free(Xcopy);
	free(ycopy);
	table_free(t);
	json_decref(ref);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sklearn_cases),
		cmocka_unit_test(test_duplicate_column_min_norm),
		cmocka_unit_test(test_degenerate),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_determinism),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
