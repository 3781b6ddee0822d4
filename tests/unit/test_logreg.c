/*
 * Unit tests for ml/logreg against scikit-learn 1.2.1's fits in tests/data/reference/logreg.json
 * (made by gen_logreg.py), on example datasets scaled here as StandardScaler does.
 */
#include "util/common.h"
#include "helpers.h"
#include "ml/logreg.h"
#include "table/table.h"
#include "util/json.h"

#include <math.h>

#define COEF_TOL 1e-6  /* relative, or absolute below 1 */
#define PROBA_TOL 1e-8 /* absolute */

struct dataset {
	double *X; /* n x d, row-major, standard-scaled */
	int *y;
	size_t n, d;
};

static void dataset_release(struct dataset *ds)
{
	free(ds->X);
	free(ds->y);
}

/*
 * The first nrows rows (0: all) of file, relative to the repository root. Features: every column
 * but target, in file order, each scaled to mean 0 and population standard deviation 1.
 */
static void load_scaled(struct dataset *ds, const char *file, const char *target, size_t nrows)
{
	char *rel = xstrfmt("../../%s", file), *path = test_data_path(rel);
	struct error err = ERROR_INIT;
	struct table *t = NULL;
	size_t ti = 0, j = 0;

	if (table_load(&t, path, NULL, &err) || table_find(&ti, t, target, &err))
		fail_msg("%s", err.msg);
	ds->n = nrows && nrows < t->nrows ? nrows : t->nrows;
	ds->d = t->ncols - 1;
	ds->X = xmalloc(ds->n * ds->d * sizeof(*ds->X));
	ds->y = xmalloc(ds->n * sizeof(*ds->y));
	for (size_t i = 0; i < ds->n; i++)
		ds->y[i] = (int)t->cols[ti]->values[i];
	for (size_t c = 0; c < t->ncols; c++) {
		const double *v = t->cols[c]->values;
		double mean = 0.0, var = 0.0;

		if (c == ti)
			continue;
		assert_int_equal(t->cols[c]->type, COLUMN_NUMERIC);
		for (size_t i = 0; i < ds->n; i++)
			mean += v[i];
		mean /= (double)ds->n;
		for (size_t i = 0; i < ds->n; i++)
			var += (v[i] - mean) * (v[i] - mean);
		var /= (double)ds->n;
		for (size_t i = 0; i < ds->n; i++)
			ds->X[i * ds->d + j] = (v[i] - mean) / sqrt(var);
		j++;
	}
	table_free(t);
	free(path);
	free(rel);
}

static json_t *load_reference(void)
{
	char *path = test_data_path("reference/logreg.json");
	struct error err = ERROR_INIT;
	json_t *j = NULL;

	if (json_load_path(&j, path, 16u << 20, &err))
		fail_msg("%s", err.msg);
	free(path);
	return j;
}

static const json_t *reference_case(const json_t *ref, const char *name)
{
	const json_t *cases = json_object_get(ref, "cases"), *c;
	size_t i;

	json_array_foreach(cases, i, c) {
		if (!strcmp(json_string_value(json_object_get(c, "name")), name))
			return c;
	}
	fail_msg("logreg.json has no case '%s'", name);
	return NULL;
}

static double num(const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);

	if (!json_is_number(v))
		fail_msg("logreg.json: '%s' is not a number", key);
	return json_number_value(v);
}

static void check_close(double got, double want, double tol, const char *what, size_t i, size_t j)
{
	if (!(fabs(got - want) <= tol * fmax(1.0, fabs(want))))
		fail_msg("%s[%zu][%zu]: got %.17g, sklearn %.17g (diff %.3g)", what, i, j, got,
			 want, got - want);
}

/* The header's objective, C * sum(log loss) + 0.5 ||coef||², computed independently. */
static double objective(const struct logreg_model *m, const struct dataset *ds, double C)
{
	double loss = 0.0, pen = 0.0;

	for (size_t i = 0; i < ds->n; i++) {
		const double *x = ds->X + i * ds->d;
		double z[16] = { 0 }, zmax = -HUGE_VAL, s = 0.0;

		for (size_t r = 0; r < m->rows; r++) {
			z[r] = m->intercept[r];
			for (size_t j = 0; j < ds->d; j++)
				z[r] += m->coef[r * ds->d + j] * x[j];
			zmax = fmax(zmax, z[r]);
		}
		if (m->rows == 1) {
			loss += log1p(exp(-fabs(z[0]))) + fmax(z[0], 0.0) - (ds->y[i] ? z[0] : 0.0);
			continue;
		}
		for (size_t r = 0; r < m->rows; r++)
			s += exp(z[r] - zmax);
		loss += zmax + log(s) - z[ds->y[i]];
	}
	for (size_t j = 0; j < m->rows * m->n_features; j++)
		pen += m->coef[j] * m->coef[j];
	return C * loss + 0.5 * pen;
}

/* Fits one reference case with solver at tol 1e-10 and compares with sklearn's optimum. */
static void check_case(const json_t *ref, const char *name, enum logreg_solver solver)
{
	const json_t *c = reference_case(ref, name), *coef = json_object_get(c, "coef");
	const json_t *icpt = json_object_get(c, "intercept");
	const json_t *proba_ref = json_object_get(c, "proba_first10");
	struct logreg_params params = LOGREG_PARAMS_INIT;
	struct logreg_model m = LOGREG_MODEL_INIT;
	struct error err = ERROR_INIT;
	struct dataset ds;
	size_t k = (size_t)num(c, "n_classes");
	double proba[10 * 16];

	load_scaled(&ds, json_string_value(json_object_get(c, "dataset")), "target",
		    (size_t)num(c, "n_rows"));
	params.C = num(c, "C");
	params.fit_intercept = json_is_true(json_object_get(c, "fit_intercept"));
	params.solver = solver;
	params.tol = 1e-10;
	params.ftol = 0; /* run to tol, past scipy's relative-reduction stop */
	params.max_iter = 10000;
	if (logreg_fit(&m, ds.X, ds.n, ds.d, ds.y, k, &params, &err))
		fail_msg("%s: %s", name, err.msg);
	print_message("%-30s %-6s %3d iterations\n", name,
		      solver == LOGREG_LBFGS ? "lbfgs" : "newton", m.n_iter);
	assert_true(m.converged);
	assert_int_equal(m.n_features, ds.d);
	assert_int_equal(m.n_classes, k);
	assert_int_equal(m.rows, json_array_size(coef));
	for (size_t r = 0; r < m.rows; r++) {
		const json_t *row = json_array_get(coef, r);

		assert_int_equal(json_array_size(row), ds.d);
		for (size_t j = 0; j < ds.d; j++)
			check_close(m.coef[r * ds.d + j], json_number_value(json_array_get(row, j)),
				    COEF_TOL, "coef", r, j);
		check_close(m.intercept[r], json_number_value(json_array_get(icpt, r)), COEF_TOL,
			    "intercept", r, 0);
	}
	assert_true(k <= 16);
	logreg_predict_proba(&m, ds.X, 10, proba);
	for (size_t i = 0; i < 10; i++) {
		for (size_t j = 0; j < k; j++)
			check_close(
			    proba[i * k + j],
			    json_number_value(json_array_get(json_array_get(proba_ref, i), j)),
			    PROBA_TOL, "proba", i, j);
	}
	/* the objective, computed here, agrees with sklearn's to rounding */
	assert_true(fabs(objective(&m, &ds, params.C) - num(c, "objective")) <=
		    1e-12 * num(c, "objective"));
	logreg_model_release(&m);
	dataset_release(&ds);
}

static const char *const case_names[] = {
	"breast_cancer_C1",    "breast_cancer_C0.01",		"iris_C1",
	"wine_C0.5",	       "breast_cancer_C1_no_intercept", "iris_C1_no_intercept",
	"iris_separable_C100",
};

static void test_reference_lbfgs(void **state)
{
	json_t *ref = load_reference();

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(case_names); i++)
		check_case(ref, case_names[i], LOGREG_LBFGS);
	json_decref(ref);
}

static void test_reference_newton(void **state)
{
	json_t *ref = load_reference();

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(case_names); i++)
		check_case(ref, case_names[i], LOGREG_NEWTON);
	json_decref(ref);
}

/* sklearn's defaults (tol 1e-4, max_iter 100) already get within 1e-6 of the optimum. */
static void test_default_params(void **state)
{
	json_t *ref = load_reference();
	const json_t *c = reference_case(ref, "breast_cancer_C1");
	struct logreg_params params = LOGREG_PARAMS_INIT;
	struct logreg_model m = LOGREG_MODEL_INIT;
	struct error err = ERROR_INIT;
	struct dataset ds;
	double best = num(c, "objective");

	(void)state;
	load_scaled(&ds, "examples/data/breast_cancer.csv", "target", 0);
	for (int s = 0; s < 2; s++) {
		double obj;

		params.solver = s ? LOGREG_NEWTON : LOGREG_LBFGS;
		assert_int_equal(logreg_fit(&m, ds.X, ds.n, ds.d, ds.y, 2, &params, &err), 0);
		obj = objective(&m, &ds, params.C);
		print_message("default %-6s %3d iterations, objective %.17g (optimum %.17g)\n",
			      s ? "newton" : "lbfgs", m.n_iter, obj, best);
		assert_true(m.converged);
		assert_true(m.n_iter <= 100);
		assert_true(obj >= best * (1.0 - 1e-12));
		assert_true((obj - best) <= 1e-6 * best);
	}
	logreg_model_release(&m);
	dataset_release(&ds);
	json_decref(ref);
}

static int same_model(const struct logreg_model *a, const struct logreg_model *b)
{
	return a->rows == b->rows && a->n_iter == b->n_iter &&
	       !memcmp(a->coef, b->coef, a->rows * a->n_features * sizeof(double)) &&
	       !memcmp(a->intercept, b->intercept, a->rows * sizeof(double));
}

static void test_determinism(void **state)
{
	static const char *const files[] = { "examples/data/breast_cancer.csv",
					     "examples/data/wine.csv" };
	struct logreg_params params = LOGREG_PARAMS_INIT;
	struct error err = ERROR_INIT;

	(void)state;
	for (size_t f = 0; f < ARRAY_SIZE(files); f++) {
		struct dataset ds;
		size_t k = f ? 3 : 2;

		load_scaled(&ds, files[f], "target", 0);
		for (int s = 0; s < 2; s++) {
			struct logreg_model a = LOGREG_MODEL_INIT, b = LOGREG_MODEL_INIT;

			params.solver = s ? LOGREG_NEWTON : LOGREG_LBFGS;
			params.tol = 1e-8;
			params.ftol = 0;
			assert_int_equal(logreg_fit(&a, ds.X, ds.n, ds.d, ds.y, k, &params, &err),
					 0);
			assert_int_equal(logreg_fit(&b, ds.X, ds.n, ds.d, ds.y, k, &params, &err),
					 0);
			assert_true(same_model(&a, &b));
			logreg_model_release(&a);
			logreg_model_release(&b);
		}
		dataset_release(&ds);
	}
}

static void expect_invalid(int ret, const struct error *err, const char *msg)
{
	assert_int_equal(ret, ERR_INVALID);
	if (!strstr(err->msg, msg))
		fail_msg("message '%s' lacks '%s'", err->msg, msg);
}

static void test_bad_arguments(void **state)
{
	static const double X[] = { 0.0, 1.0, 2.0, 3.0, 4.0, 5.0 };
	static const int y[] = { 0, 1, 0, 1, 2, 1 };
	double Xnan[6];
	struct logreg_params params = LOGREG_PARAMS_INIT, bad = LOGREG_PARAMS_INIT;
	struct logreg_model m = LOGREG_MODEL_INIT;
	struct error err = ERROR_INIT;

	(void)state;
	expect_invalid(logreg_fit(&m, X, 6, 1, y, 1, &params, &err), &err,
		       "at least 2 classes, got 1");
	expect_invalid(logreg_fit(&m, X, 6, 1, y, 4, &params, &err), &err,
		       "class 3 of 4 has no rows");
	expect_invalid(logreg_fit(&m, X, 6, 1, y, 2, &params, &err), &err,
		       "row 4: class 2 is not in 0..1");
	expect_invalid(logreg_fit(&m, X, 0, 1, y, 3, &params, &err), &err, "got 0 rows");
	expect_invalid(logreg_fit(&m, X, 6, 0, y, 3, &params, &err), &err, "and 0 features");
	bad.C = 0.0;
	expect_invalid(logreg_fit(&m, X, 6, 1, y, 3, &bad, &err), &err,
		       "C must be a positive number, got 0");
	bad.C = -1.0;
	expect_invalid(logreg_fit(&m, X, 6, 1, y, 3, &bad, &err), &err, "got -1");
	bad.C = NAN;
	expect_invalid(logreg_fit(&m, X, 6, 1, y, 3, &bad, &err), &err, "got nan");
	bad = params;
	bad.tol = -1e-4;
	expect_invalid(logreg_fit(&m, X, 6, 1, y, 3, &bad, &err), &err, "tol must be");
	bad = params;
	bad.max_iter = -1;
	expect_invalid(logreg_fit(&m, X, 6, 1, y, 3, &bad, &err), &err, "max_iter must be");
	memcpy(Xnan, X, sizeof(X));
	Xnan[4] = NAN;
	expect_invalid(logreg_fit(&m, Xnan, 3, 2, y, 3, &params, &err), &err,
		       "row 2, feature 0: non-finite value nan in X");
	Xnan[4] = -INFINITY;
	expect_invalid(logreg_fit(&m, Xnan, 3, 2, y, 3, &params, &err), &err,
		       "non-finite value -inf");
	assert_null(m.coef); /* untouched on failure */
	assert_int_equal(logreg_fit(&m, X, 6, 1, y, 3, &params, &err), 0);
	assert_int_equal(m.rows, 3);
	logreg_model_release(&m);
	logreg_model_release(NULL);
}

/* Rows sum to 1, the binary column 1 is the sigmoid, and a refit replaces the model. */
static void test_predict_proba(void **state)
{
	static const double X[] = {
		-2.0, 1.0, -1.0, 0.5, 0.0, 0.0, 1.0, -1.0, 2.0, 3.0, 3.0, -2.0
	};
	static const int y2[] = { 0, 0, 1, 0, 1, 1 }, y3[] = { 0, 1, 2, 0, 2, 1 };
	struct logreg_params params = LOGREG_PARAMS_INIT;
	struct logreg_model m = LOGREG_MODEL_INIT;
	struct error err = ERROR_INIT;
	double proba[6 * 3];

	(void)state;
	assert_int_equal(logreg_fit(&m, X, 6, 2, y2, 2, &params, &err), 0);
	logreg_predict_proba(&m, X, 6, proba);
	for (size_t i = 0; i < 6; i++) {
		double z = m.intercept[0] + m.coef[0] * X[2 * i] + m.coef[1] * X[2 * i + 1];

		assert_true(fabs(proba[2 * i + 1] - 1.0 / (1.0 + exp(-z))) <= 1e-15);
		assert_true(fabs(proba[2 * i] + proba[2 * i + 1] - 1.0) <= 1e-15);
	}
	assert_int_equal(logreg_fit(&m, X, 6, 2, y3, 3, &params, &err), 0);
	assert_int_equal(m.rows, 3);
	logreg_predict_proba(&m, X, 6, proba);
	for (size_t i = 0; i < 6; i++) {
		double s = proba[3 * i] + proba[3 * i + 1] + proba[3 * i + 2];

		assert_true(fabs(s - 1.0) <= 1e-15);
	}
	/* softmax intercepts sum to 0, as sklearn's do */
	assert_true(fabs(m.intercept[0] + m.intercept[1] + m.intercept[2]) <= 1e-15);
	logreg_model_release(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reference_lbfgs), cmocka_unit_test(test_reference_newton),
		cmocka_unit_test(test_default_params),	cmocka_unit_test(test_determinism),
		cmocka_unit_test(test_bad_arguments),	cmocka_unit_test(test_predict_proba),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
