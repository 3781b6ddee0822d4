/*
 * Unit tests for ml/metrics against scikit-learn 1.2.1's values in tests/data/reference/
 * (classification.json from the shared reference, sklearn_supplement.json for the rest).
 */
#include "util/common.h"
#include "helpers.h"
#include "ml/metrics.h"
#include "util/json.h"

#include <math.h>

#define REL_TOL 1e-9

static json_t *load_ref(const char *name)
{
	char *path = test_data_path(name);
	struct error err = ERROR_INIT;
	json_t *j = NULL;

	if (json_load_path(&j, path, 16u << 20, &err))
		fail_msg("%s", err.msg);
	free(path);
	return j;
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

/* A json array of integers as a new int array; *n gets its length. */
static int *ints(const json_t *arr, size_t *n)
{
	int *v = xmalloc((json_array_size(arr) + 1) * sizeof(*v));

	for (size_t i = 0; i < json_array_size(arr); i++) {
		assert_true(json_is_integer(json_array_get(arr, i)));
		v[i] = (int)json_integer_value(json_array_get(arr, i));
	}
	*n = json_array_size(arr);
	return v;
}

/* A json array of numbers, or of arrays of numbers (rows, flattened row-major). */
static double *doubles(const json_t *arr, size_t *n, size_t *cols)
{
	size_t rows = json_array_size(arr), k = 1;
	double *v;

	if (rows && json_is_array(json_array_get(arr, 0)))
		k = json_array_size(json_array_get(arr, 0));
	v = xmalloc((rows * k + 1) * sizeof(*v));
	for (size_t i = 0; i < rows; i++) {
		const json_t *row = json_array_get(arr, i);

		for (size_t j = 0; j < k; j++) {
			const json_t *x = json_is_array(row) ? json_array_get(row, j) : row;

			assert_true(json_is_number(x));
			v[i * k + j] = json_number_value(x);
		}
	}
	*n = rows;
	if (cols)
		*cols = k;
	return v;
}

/* Largest relative error seen per metric, printed at the end with FERRY_TEST_VERBOSE set. */
static struct {
	const char *name;
	double max_rel;
} seen[32];

static void note_error(const char *name, double rel)
{
	for (size_t i = 0; i < ARRAY_SIZE(seen); i++) {
		if (!seen[i].name)
			seen[i].name = name;
		if (!strcmp(seen[i].name, name)) {
			if (rel > seen[i].max_rel)
				seen[i].max_rel = rel;
			return;
		}
	}
	fail_msg("more than %zu metric names", ARRAY_SIZE(seen));
}

static void check_close(const char *name, double got, double want)
{
	double rel = want == 0.0 ? fabs(got) : fabs(got - want) / fabs(want);

	note_error(name, rel);
	if (!(rel <= REL_TOL))
		fail_msg("%s: got %.17g, sklearn %.17g (relative error %.3g)", name, got, want,
			 rel);
}

static void check_per_class(const struct class_scores *cs, size_t k, const json_t *ref)
{
	static const char *const keys[] = { "precision_per_class", "recall_per_class",
					    "f1_per_class" };

	for (size_t m = 0; m < ARRAY_SIZE(keys); m++) {
		const json_t *arr = get(ref, keys[m]);

		assert_int_equal(json_array_size(arr), k);
		for (size_t c = 0; c < k; c++) {
			const double v[] = { cs[c].precision, cs[c].recall, cs[c].f1 };

			check_close(keys[m], v[m], json_number_value(json_array_get(arr, c)));
		}
	}
	for (size_t c = 0; c < k; c++)
		assert_int_equal(cs[c].support, json_integer_value(json_array_get(
						    get(ref, "support_per_class"), c)));
}

static void test_binary_reference(void **state)
{
	json_t *ref = load_ref("reference/classification.json");
	json_t *sup = load_ref("reference/sklearn_supplement.json");
	const json_t *b = get(ref, "classification_binary"), *exp = get(b, "expected");
	struct classification_metrics m = CLASSIFICATION_METRICS_INIT;
	struct error err = ERROR_INIT;
	size_t n, n2;
	int *y = ints(get(b, "y_true"), &n);
	double *p = doubles(get(b, "y_prob_pos"), &n2, NULL);
	double *proba = xmalloc(2 * n * sizeof(*proba));
	double v = 0;

	(void)state;
	assert_int_equal(n, n2);
	assert_int_equal(num(b, "pos_label"), 1);
	for (size_t i = 0; i < n; i++) {
		proba[2 * i] = 1.0 - p[i];
		proba[2 * i + 1] = p[i];
	}
	assert_int_equal(metrics_classification(&m, y, proba, n, 2, num(b, "threshold"), &err), 0);
	/* sklearn's confusion_matrix for labels 0, 1 is [[tn, fp], [fn, tp]] */
	assert_int_equal(m.confusion[0], num(exp, "tn"));
	assert_int_equal(m.confusion[1], num(exp, "fp"));
	assert_int_equal(m.confusion[2], num(exp, "fn"));
	assert_int_equal(m.confusion[3], num(exp, "tp"));
	check_close("accuracy", m.accuracy, num(exp, "accuracy"));
	check_close("precision", m.precision, num(exp, "precision"));
	check_close("recall", m.recall, num(exp, "recall"));
	check_close("f1", m.f1, num(exp, "f1"));
	check_close("roc_auc", m.roc_auc, num(exp, "roc_auc"));
	check_close("log_loss", m.log_loss, num(exp, "log_loss"));
	check_close("pr_auc", m.pr_auc, num(get(sup, "binary"), "pr_auc"));
	/* the specificity is class 0's recall */
	check_close("recall", m.per_class[0].recall, num(exp, "tnr"));
	check_per_class(m.per_class, 2, get(sup, "binary"));

	/* the single-purpose functions on the 1-d positive-class probabilities */
	assert_int_equal(metrics_roc_auc_binary(&v, y, p, n, &err), 0);
	check_close("roc_auc", v, num(exp, "roc_auc"));
	assert_int_equal(metrics_pr_auc_binary(&v, y, p, n, &err), 0);
	check_close("pr_auc", v, num(get(sup, "binary"), "pr_auc"));
	assert_int_equal(metrics_log_loss_binary(&v, y, p, n, &err), 0);
	check_close("log_loss", v, num(exp, "log_loss"));

	classification_metrics_release(&m);
	free(y);
	free(p);
	free(proba);
	json_decref(ref);
	json_decref(sup);
}

static void test_multiclass_reference(void **state)
{
	json_t *ref = load_ref("reference/classification.json");
	json_t *sup = load_ref("reference/sklearn_supplement.json");
	const json_t *mc = get(ref, "classification_multiclass"), *exp = get(mc, "expected");
	const json_t *smc = get(sup, "multiclass");
	const json_t *cm = get(exp, "confusion_matrix_rows_true_cols_pred");
	struct classification_metrics m = CLASSIFICATION_METRICS_INIT;
	struct error err = ERROR_INIT;
	size_t n, n2, k;
	int *y = ints(get(mc, "y_true"), &n);
	double *proba = doubles(get(mc, "y_prob"), &n2, &k);
	int *y_c = xmalloc(n * sizeof(*y_c));
	double *col = xmalloc(n * sizeof(*col)), v = 0;

	(void)state;
	assert_int_equal(n, n2);
	assert_int_equal(k, 3);
	assert_int_equal(metrics_classification(&m, y, proba, n, k, 0.5, &err), 0);
	for (size_t t = 0; t < k; t++) {
		for (size_t q = 0; q < k; q++)
			assert_int_equal(m.confusion[t * k + q], json_integer_value(json_array_get(
								     json_array_get(cm, t), q)));
	}
	check_close("accuracy", m.accuracy, num(exp, "accuracy"));
	check_close("precision", m.precision, num(exp, "precision_macro"));
	check_close("recall", m.recall, num(exp, "recall_macro"));
	check_close("f1", m.f1, num(exp, "f1_macro"));
	check_close("roc_auc", m.roc_auc, num(exp, "roc_auc_macro_ovr"));
	check_close("log_loss", m.log_loss, num(exp, "log_loss"));
	check_close("pr_auc", m.pr_auc, num(smc, "pr_auc_macro"));
	check_per_class(m.per_class, k, smc);

	/* each class against the rest through the binary functions */
	for (size_t c = 0; c < k; c++) {
		for (size_t i = 0; i < n; i++) {
			y_c[i] = y[i] == (int)c;
			col[i] = proba[i * k + c];
		}
		assert_int_equal(metrics_roc_auc_binary(&v, y_c, col, n, &err), 0);
		check_close("roc_auc", v,
			    json_number_value(json_array_get(get(smc, "roc_auc_per_class"), c)));
		assert_int_equal(metrics_pr_auc_binary(&v, y_c, col, n, &err), 0);
		check_close("pr_auc", v,
			    json_number_value(json_array_get(get(smc, "pr_auc_per_class"), c)));
	}
	assert_int_equal(metrics_roc_auc_ovr(&v, y, proba, n, k, &err), 0);
	check_close("roc_auc", v, num(exp, "roc_auc_macro_ovr"));
	assert_int_equal(metrics_pr_auc_ovr(&v, y, proba, n, k, &err), 0);
	check_close("pr_auc", v, num(smc, "pr_auc_macro"));

	classification_metrics_release(&m);
	free(y);
	free(y_c);
	free(col);
	free(proba);
	json_decref(ref);
	json_decref(sup);
}

static void test_tied_scores(void **state)
{
	json_t *sup = load_ref("reference/sklearn_supplement.json");
	const json_t *t = get(sup, "binary_ties");
	struct error err = ERROR_INIT;
	size_t n, n2;
	int *y = ints(get(t, "y_true"), &n);
	double *s = doubles(get(t, "score"), &n2, NULL);
	double v = 0;

	(void)state;
	assert_int_equal(n, n2);
	assert_int_equal(metrics_roc_auc_binary(&v, y, s, n, &err), 0);
	check_close("roc_auc", v, num(t, "roc_auc"));
	assert_int_equal(metrics_pr_auc_binary(&v, y, s, n, &err), 0);
	check_close("pr_auc", v, num(t, "pr_auc"));
	assert_int_equal(metrics_log_loss_binary(&v, y, s, n, &err), 0);
	check_close("log_loss", v, num(t, "log_loss"));

	/* reversing the rows reorders every tie: nothing may change */
	for (size_t i = 0; i < n / 2; i++) {
		int ty = y[i];
		double ts = s[i];

		y[i] = y[n - 1 - i];
		s[i] = s[n - 1 - i];
		y[n - 1 - i] = ty;
		s[n - 1 - i] = ts;
	}
	assert_int_equal(metrics_roc_auc_binary(&v, y, s, n, &err), 0);
	check_close("roc_auc", v, num(t, "roc_auc"));
	assert_int_equal(metrics_pr_auc_binary(&v, y, s, n, &err), 0);
	check_close("pr_auc", v, num(t, "pr_auc"));
	free(y);
	free(s);
	json_decref(sup);
}

static void test_log_loss_clipping(void **state)
{
	json_t *sup = load_ref("reference/sklearn_supplement.json");
	const json_t *c = get(sup, "log_loss_clipping"), *mc = get(sup, "multiclass");
	json_t *ref = load_ref("reference/classification.json");
	struct error err = ERROR_INIT;
	size_t n, n2, k;
	int *y = ints(get(c, "y_true"), &n);
	double *p = doubles(get(c, "p_pos"), &n2, NULL);
	double *two = xmalloc(2 * n * sizeof(*two)), *u;
	int *ym;
	double v = 0;

	(void)state;
	assert_int_equal(n, n2);
	assert_int_equal(metrics_log_loss_binary(&v, y, p, n, &err), 0);
	check_close("log_loss", v, num(c, "log_loss_1d"));
	for (size_t i = 0; i < n; i++) {
		two[2 * i] = 1.0 - p[i];
		two[2 * i + 1] = p[i];
	}
	assert_int_equal(metrics_log_loss(&v, y, two, n, 2, &err), 0);
	check_close("log_loss", v, num(c, "log_loss_2d"));

	/* unnormalised multiclass rows are renormalised, and refused by roc auc as by sklearn */
	ym = ints(get(get(ref, "classification_multiclass"), "y_true"), &n);
	u = doubles(get(mc, "unnormalised_y_prob"), &n2, &k);
	assert_int_equal(n, n2);
	assert_int_equal(metrics_log_loss(&v, ym, u, n, k, &err), 0);
	check_close("log_loss", v, num(mc, "unnormalised_log_loss"));
	assert_int_equal(metrics_roc_auc_ovr(&v, ym, u, n, k, &err), ERR_INVALID);
	assert_non_null(strstr(err.msg, "multiclass roc auc needs probabilities: row 0 sums to"));

	free(y);
	free(p);
	free(two);
	free(ym);
	free(u);
	json_decref(sup);
	json_decref(ref);
}

static void check_regression(const json_t *c)
{
	struct regression_metrics r = { 0, 0, 0 };
	struct error err = ERROR_INIT;
	size_t n, n2;
	double *y = doubles(get(c, "y_true"), &n, NULL);
	double *yh = doubles(get(c, "y_pred"), &n2, NULL);

	assert_int_equal(n, n2);
	assert_int_equal(metrics_regression(&r, y, yh, n, &err), 0);
	check_close("rmse", r.rmse, num(c, "rmse"));
	check_close("mae", r.mae, num(c, "mae"));
	check_close("r2", r.r2, num(c, "r2"));
	free(y);
	free(yh);
}

static void test_regression_reference(void **state)
{
	json_t *sup = load_ref("reference/sklearn_supplement.json");
	const json_t *reg = get(sup, "regression");

	(void)state;
	check_regression(get(reg, "normal"));
	check_regression(get(reg, "offset"));
	json_decref(sup);
}

static void test_regression_constant_target(void **state)
{
	const double y[] = { 3, 3, 3, 3 }, exact[] = { 3, 3, 3, 3 }, off[] = { 3, 4, 3, 1 };
	struct regression_metrics r = { 0, 0, 0 };
	struct error err = ERROR_INIT;

	(void)state;
	/* r2_score(force_finite=True): 1.0 for a perfect fit of a constant, else 0.0 */
	assert_int_equal(metrics_regression(&r, y, exact, 4, &err), 0);
	assert_true(r.r2 == 1.0 && r.rmse == 0.0 && r.mae == 0.0);
	assert_int_equal(metrics_regression(&r, y, off, 4, &err), 0);
	assert_true(r.r2 == 0.0);
	/* squared errors 0, 1, 0, 4: rmse sqrt(5/4); absolute 0, 1, 0, 2: mae 3/4 */
	assert_true(r.rmse == sqrt(1.25) && r.mae == 0.75);
}

static void expect_invalid(int ret, const struct error *err, const char *msg)
{
	assert_int_equal(ret, ERR_INVALID);
	assert_int_equal(err->code, ERR_INVALID);
	if (!strstr(err->msg, msg))
		fail_msg("message '%s' lacks '%s'", err->msg, msg);
}

static void test_errors(void **state)
{
	const int one_class[] = { 1, 1, 1 }, y3[] = { 0, 1, 1 }, bad[] = { 0, 2, 1 };
	const int ymc[] = { 0, 1, 0, 1 };
	const double s[] = { 0.2, 0.6, 0.9 }, nan_s[] = { 0.2, NAN, 0.9 };
	const double pmc[] = { 0.5, 0.3, 0.2, 0.1, 0.8, 0.1, 0.6, 0.2, 0.2, 0.3, 0.3, 0.4 };
	struct classification_metrics m = CLASSIFICATION_METRICS_INIT;
	struct regression_metrics r = { -1, -1, -1 };
	struct error err = ERROR_INIT;
	double v = -1;

	(void)state;
	expect_invalid(metrics_roc_auc_binary(&v, one_class, s, 3, &err), &err,
		       "roc auc is undefined: y_true has no rows outside class 1");
	expect_invalid(metrics_pr_auc_binary(&v, (const int[]){ 0, 0, 0 }, s, 3, &err), &err,
		       "pr auc is undefined: y_true has no rows of class 1");
	expect_invalid(metrics_roc_auc_binary(&v, y3, nan_s, 3, &err), &err,
		       "scores[1] is not a finite number");
	expect_invalid(metrics_roc_auc_binary(&v, bad, s, 3, &err), &err,
		       "y_true[1] = 2 is not a class index in 0..1");
	expect_invalid(metrics_log_loss(&v, y3, s, 3, 1, &err), &err,
		       "need at least 2 classes, got 1");
	expect_invalid(metrics_accuracy(&v, y3, y3, 0, 2, &err), &err, "no rows to evaluate");
	expect_invalid(metrics_accuracy(&v, y3, bad, 3, 2, &err), &err,
		       "y_pred[1] = 2 is not a class index in 0..1");
	/* class 2 never occurs in y_true: sklearn refuses one-vs-rest auc too */
	expect_invalid(metrics_roc_auc_ovr(&v, ymc, pmc, 4, 3, &err), &err,
		       "class 2 does not occur in y_true");
	expect_invalid(metrics_pr_auc_ovr(&v, ymc, pmc, 4, 3, &err), &err,
		       "class 2 does not occur in y_true");
	expect_invalid(metrics_classification(&m, one_class,
					      (const double[]){ 0.5, 0.5, 0.2, 0.8, 0.1, 0.9 }, 3,
					      2, 0.5, &err),
		       &err, "roc auc is undefined");
	assert_null(m.per_class);
	assert_null(m.confusion);
	assert_true(v == -1); /* untouched by every failure */
	expect_invalid(metrics_regression(&r, s, s, 1, &err), &err,
		       "need at least 2 rows for regression metrics, got 1");
	expect_invalid(metrics_regression(&r, s, nan_s, 3, &err), &err,
		       "y_pred[1] is not a finite number");
	assert_true(r.rmse == -1);
}

static void test_predict_classes(void **state)
{
	/* binary: p >= threshold is positive; multiclass: first maximum wins, like np.argmax */
	const double bin[] = { 0.5, 0.5, 0.7, 0.3, 0.4, 0.6 };
	const double mc[] = { 0.2, 0.4, 0.4, 0.5, 0.25, 0.25, 0.1, 0.1, 0.8 };
	struct error err = ERROR_INIT;
	int out[3] = { -1, -1, -1 };

	(void)state;
	assert_int_equal(metrics_predict_classes(out, bin, 3, 2, 0.5, &err), 0);
	assert_int_equal(out[0], 1);
	assert_int_equal(out[1], 0);
	assert_int_equal(out[2], 1);
	assert_int_equal(metrics_predict_classes(out, mc, 3, 3, 0.5, &err), 0);
	assert_int_equal(out[0], 1);
	assert_int_equal(out[1], 0);
	assert_int_equal(out[2], 2);
}

static void test_json(void **state)
{
	json_t *ref = load_ref("reference/classification.json");
	const json_t *mc = get(ref, "classification_multiclass"), *exp = get(mc, "expected");
	static const char *const keys[] = { "accuracy", "precision", "recall",	"f1",
					    "roc_auc",	"pr_auc",    "log_loss" };
	struct classification_metrics m = CLASSIFICATION_METRICS_INIT;
	struct regression_metrics r = { 1.5, 0.5, 0.25 };
	struct error err = ERROR_INIT;
	json_t *obj = json_object(), *arr = json_array();
	size_t n, n2, k;
	int *y = ints(get(mc, "y_true"), &n);
	double *proba = doubles(get(mc, "y_prob"), &n2, &k);

	(void)state;
	assert_int_equal(metrics_classification(&m, y, proba, n, k, 0.5, &err), 0);
	assert_int_equal(metrics_classification_json(obj, &m, &err), 0);
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		assert_true(json_is_real(json_object_get(obj, keys[i])));
	check_close("roc_auc", json_real_value(json_object_get(obj, "roc_auc")),
		    num(exp, "roc_auc_macro_ovr"));
	assert_true(json_equal(json_object_get(obj, "confusion_matrix"),
			       get(exp, "confusion_matrix_rows_true_cols_pred")));
	assert_int_equal(json_array_size(json_object_get(obj, "per_class")), 3);
	assert_int_equal(json_integer_value(json_object_get(
			     json_array_get(json_object_get(obj, "per_class"), 2), "support")),
			 84);
	assert_int_equal(json_object_size(obj), ARRAY_SIZE(keys) + 2);

	assert_int_equal(metrics_regression_json(obj, &r, &err), 0);
	assert_true(json_real_value(json_object_get(obj, "rmse")) == 1.5);
	assert_true(json_real_value(json_object_get(obj, "mae")) == 0.5);
	assert_true(json_real_value(json_object_get(obj, "r2")) == 0.25);
	expect_invalid(metrics_regression_json(arr, &r, &err), &err, "metrics need a json object");

	classification_metrics_release(&m);
	classification_metrics_release(&m); /* released twice: a no-op */
	classification_metrics_release(NULL);
	free(y);
	free(proba);
	json_decref(obj);
	json_decref(arr);
	json_decref(ref);
}

static int print_errors(void **state)
{
	(void)state;
	if (!getenv("FERRY_TEST_VERBOSE"))
		return 0;
	for (size_t i = 0; i < ARRAY_SIZE(seen) && seen[i].name; i++)
		fprintf(stderr, "max relative error %-20s %.3g\n", seen[i].name, seen[i].max_rel);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_binary_reference),
		cmocka_unit_test(test_multiclass_reference),
		cmocka_unit_test(test_tied_scores),
		cmocka_unit_test(test_log_loss_clipping),
		cmocka_unit_test(test_regression_reference),
		cmocka_unit_test(test_regression_constant_target),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_predict_classes),
		cmocka_unit_test(test_json),
	};

	return cmocka_run_group_tests(tests, NULL, print_errors);
}
