/*
 * Unit tests for ml/xgb against Python's xgboost 1.7.4 (tests/data/reference/xgb.json, made by
 * gen_xgb.py): the same predictions bit for bit, the same best iteration and the same saved
 * bytes, plus round trips, determinism and argument errors.
 */
#include "util/common.h"
#include "helpers.h"
#include "ml/xgb.h"
#include "table/table.h"
#include "util/json.h"
#include "util/sha256.h"

#include <math.h>

static json_t *load_ref(void)
{
	char *path = test_data_path("reference/xgb.json");
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

static const json_t *find_case(const json_t *ref, const char *name)
{
	size_t i;
	json_t *c;

	json_array_foreach(get(ref, "cases"), i, c) {
		if (!strcmp(json_string_value(get(c, "name")), name))
			return c;
	}
	fail_msg("reference has no case '%s'", name);
	return NULL;
}

/* One case's data: X (n x d, NaN where missing) and y, as gen_xgb.py builds them. */
struct dataset {
	double *X, *y;
	size_t n, d;
};

static void dataset_load(struct dataset *ds, const json_t *c)
{
	const char *target = json_string_value(get(c, "target"));
	const json_t *positive = json_object_get(c, "positive");
	char name[256], *path;
	struct error err = ERROR_INIT;
	struct table *t = NULL;
	size_t ti, col = 0;

	snprintf(name, sizeof(name), "../../examples/data/%s", json_string_value(get(c, "data")));
	path = test_data_path(name);
	if (table_load(&t, path, NULL, &err))
		fail_msg("%s", err.msg);
	free(path);
	assert_int_equal(table_find(&ti, t, target, &err), 0);
	ds->n = t->nrows;
	ds->d = t->ncols - 1;
	ds->X = xmalloc(ds->n * ds->d * sizeof(*ds->X));
	ds->y = xmalloc(ds->n * sizeof(*ds->y));
	for (size_t j = 0; j < t->ncols; j++) {
		const struct column *cl = t->cols[j];

		if (j == ti)
			continue;
		assert_int_equal(cl->type, COLUMN_NUMERIC);
		for (size_t i = 0; i < ds->n; i++)
			ds->X[i * ds->d + col] = column_is_missing(cl, i) ? NAN : cl->values[i];
		col++;
	}
	for (size_t i = 0; i < ds->n; i++) {
		const struct column *cl = t->cols[ti];

		if (positive)
			ds->y[i] =
			    !strcmp(column_category(cl, cl->codes[i]), json_string_value(positive));
		else
			ds->y[i] = cl->values[i];
	}
	assert_int_equal(ds->n, json_integer_value(get(c, "n_rows")));
	assert_int_equal(ds->d, json_integer_value(get(c, "n_features")));
	table_free(t);
}

static void dataset_release(struct dataset *ds)
{
	free(ds->X);
	free(ds->y);
}

/* The rows of ds listed in the JSON array idx. */
static void take_rows(struct dataset *out, const struct dataset *ds, const json_t *idx)
{
	size_t i;
	json_t *v;

	out->n = json_array_size(idx);
	out->d = ds->d;
	out->X = xmalloc(out->n * out->d * sizeof(*out->X));
	out->y = xmalloc(out->n * sizeof(*out->y));
	json_array_foreach(idx, i, v) {
		size_t r = (size_t)json_integer_value(v);

		assert_true(r < ds->n);
		memcpy(out->X + i * out->d, ds->X + r * ds->d, ds->d * sizeof(*ds->X));
		out->y[i] = ds->y[r];
	}
}

static enum xgb_task task_of(const json_t *c)
{
	const char *t = json_string_value(get(c, "task"));

	if (!strcmp(t, "binary"))
		return XGB_BINARY;
	if (!strcmp(t, "multiclass"))
		return XGB_MULTICLASS;
	assert_string_equal(t, "regression");
	return XGB_REGRESSION;
}

static void params_of(struct xgb_params *p, const json_t *c)
{
	const json_t *jp = get(c, "params"), *v;
	const char *key;

	json_object_foreach((json_t *)jp, key, v) {
		if (!strcmp(key, "n_estimators"))
			p->n_estimators = (int)json_integer_value(v);
		else if (!strcmp(key, "max_depth"))
			p->max_depth = (int)json_integer_value(v);
		else if (!strcmp(key, "eta"))
			p->eta = json_number_value(v);
		else if (!strcmp(key, "subsample"))
			p->subsample = json_number_value(v);
		else if (!strcmp(key, "colsample_bytree"))
			p->colsample_bytree = json_number_value(v);
		else if (!strcmp(key, "min_child_weight"))
			p->min_child_weight = json_number_value(v);
		else if (!strcmp(key, "tree_method"))
			p->tree_method = json_string_value(v);
		else if (!strcmp(key, "seed"))
			p->seed = (uint64_t)json_integer_value(v);
		else if (!strcmp(key, "early_stopping_rounds"))
			p->early_stopping_rounds = (int)json_integer_value(v);
		else
			fail_msg("unknown parameter '%s' in the reference", key);
	}
}

/* Trains the reference case c on ds as gen_xgb.py did. */
static void fit_case(struct xgb_model *m, const json_t *c, const struct dataset *ds, int nthread)
{
	struct xgb_params p = XGB_PARAMS_INIT;
	struct dataset tr = { 0 }, va = { 0 };
	struct error err = ERROR_INIT;
	const json_t *ti = json_object_get(c, "train_index");
	size_t k = (size_t)json_integer_value(get(c, "k"));
	int ret;

	params_of(&p, c);
	p.nthread = nthread;
	if (ti) {
		take_rows(&tr, ds, ti);
		take_rows(&va, ds, get(c, "valid_index"));
		ret = xgb_fit(m, task_of(c), tr.X, tr.n, tr.d, tr.y, k, va.X, va.n, va.y, &p, &err);
	} else {
		ret =
		    xgb_fit(m, task_of(c), ds->X, ds->n, ds->d, ds->y, k, NULL, 0, NULL, &p, &err);
	}
	if (ret)
		fail_msg("%s: %s", json_string_value(get(c, "name")), err.msg);
	dataset_release(&tr);
	dataset_release(&va);
}

static size_t pred_width(const struct xgb_model *m)
{
	return m->task == XGB_REGRESSION ? 1 : m->n_classes;
}

static double *predict_all(const struct xgb_model *m, const struct dataset *ds)
{
	struct error err = ERROR_INIT;
	double *p = xmalloc(ds->n * pred_width(m) * sizeof(*p));

	if (xgb_predict(m, ds->X, ds->n, p, &err))
		fail_msg("%s", err.msg);
	return p;
}

/* Exactly Python's float32 values: a tolerance would hide a different tree. */
static void check_predictions(const json_t *c, const double *got, size_t count)
{
	const json_t *want = get(c, "pred");
	size_t bad = 0, first = 0;

	assert_int_equal(json_array_size(want), count);
	for (size_t i = 0; i < count; i++) {
		double w = json_number_value(json_array_get(want, i));

		assert_true((double)(float)got[i] == got[i]);
		if (got[i] != w && !bad++)
			first = i;
	}
	if (bad)
		fail_msg("%s: %zu of %zu predictions differ from Python's, first [%zu]: %.9g vs "
			 "%.9g",
			 json_string_value(get(c, "name")), bad, count, first, got[first],
			 json_number_value(json_array_get(want, first)));
}

static void save(const struct xgb_model *m, void **buf, size_t *len)
{
	struct error err = ERROR_INIT;

	if (xgb_save(m, buf, len, &err))
		fail_msg("%s", err.msg);
}

static void check_case(const char *name)
{
	json_t *ref = load_ref();
	const json_t *c = find_case(ref, name);
	struct xgb_model m = XGB_MODEL_INIT, loaded = XGB_MODEL_INIT;
	struct dataset ds;
	struct error err = ERROR_INIT;
	char hex[SHA256_HEX_SIZE];
	void *buf = NULL, *buf2 = NULL;
	size_t len = 0, len2 = 0, count;
	double *pred, *pred2;

	dataset_load(&ds, c);
	fit_case(&m, c, &ds, 0);
	assert_int_equal(m.best_iteration, json_integer_value(get(c, "best_iteration")));
	assert_int_equal(m.n_rounds, json_integer_value(get(c, "n_rounds")));
	count = ds.n * pred_width(&m);
	pred = predict_all(&m, &ds);
	check_predictions(c, pred, count);

	/* the bytes Python's Booster.save_raw("ubj") writes */
	save(&m, &buf, &len);
	sha256_buffer(buf, len, hex);
	assert_int_equal(len, json_integer_value(get(c, "ubj_len")));
	assert_string_equal(hex, json_string_value(get(c, "ubj_sha256")));

	/* load -> predict gives the same numbers, and saving again the same bytes */
	if (xgb_load(&loaded, buf, len, m.task, ds.d, m.n_classes ? m.n_classes : 0, &err))
		fail_msg("%s", err.msg);
	assert_int_equal(loaded.n_rounds, m.n_rounds);
	pred2 = predict_all(&loaded, &ds);
	assert_memory_equal(pred, pred2, count * sizeof(*pred));
	save(&loaded, &buf2, &len2);
	assert_int_equal(len, len2);
	assert_memory_equal(buf, buf2, len);

	free(pred);
	free(pred2);
	free(buf);
	free(buf2);
	xgb_model_release(&m);
	xgb_model_release(&loaded);
	xgb_model_release(&m); /* a no-op on a released model */
	dataset_release(&ds);
	json_decref(ref);
}

static void test_binary(void **state)
{
	(void)state;
	check_case("binary");
}

static void test_multiclass(void **state)
{
	(void)state;
	check_case("multiclass");
}

static void test_regression(void **state)
{
	(void)state;
	check_case("regression");
}

static void test_sampling(void **state)
{
	(void)state;
	check_case("sampling");
}

static void test_missing(void **state)
{
	(void)state;
	check_case("missing");
}

static void test_approx(void **state)
{
	(void)state;
	check_case("approx");
}

static void test_hist(void **state)
{
	(void)state;
	check_case("hist");
}

static void test_early_stopping(void **state)
{
	(void)state;
	check_case("early_stopping");
	check_case("early_stopping_multiclass");
	check_case("early_stopping_regression");
}

/* Two fits give the same bytes, whatever the thread count; another seed changes them. */
static void test_determinism(void **state)
{
	json_t *ref = load_ref();
	const json_t *c = find_case(ref, "sampling");
	struct xgb_model a = XGB_MODEL_INIT, b = XGB_MODEL_INIT;
	struct xgb_params p = XGB_PARAMS_INIT;
	struct error err = ERROR_INIT;
	struct dataset ds;
	void *ba = NULL, *bb = NULL;
	size_t la = 0, lb = 0;

	(void)state;
	dataset_load(&ds, c);
	fit_case(&a, c, &ds, 0);
	fit_case(&b, c, &ds, 0);
	save(&a, &ba, &la);
	save(&b, &bb, &lb);
	assert_int_equal(la, lb);
	assert_memory_equal(ba, bb, la);
	free(bb);
	fit_case(&b, c, &ds, 1); /* refits into a trained model: the old booster is freed */
	save(&b, &bb, &lb);
	assert_int_equal(la, lb);
	assert_memory_equal(ba, bb, la);
	free(bb);

	params_of(&p, c);
	p.seed = 8;
	assert_int_equal(
	    xgb_fit(&b, XGB_BINARY, ds.X, ds.n, ds.d, ds.y, 2, NULL, 0, NULL, &p, &err), 0);
	save(&b, &bb, &lb);
	assert_true(la != lb || memcmp(ba, bb, la) != 0);
	free(ba);
	free(bb);
	xgb_model_release(&a);
	xgb_model_release(&b);
	dataset_release(&ds);
	json_decref(ref);
}

static void expect_error(int ret, int code, const struct error *err, const char *msg)
{
	assert_int_equal(ret, code);
	if (!strstr(err->msg, msg))
		fail_msg("message '%s' lacks '%s'", err->msg, msg);
}

static void test_fit_errors(void **state)
{
	/* 4 rows, 2 features */
	static const double X[] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	static const double y[] = { 0, 1, 0, 1 }, y3[] = { 0, 1, 2, 1 };
	static const double bad_y[] = { 0, 1, 0.5, 1 };
	double Xinf[] = { 1, 2, 3, 4, 5, 1e39, 7, 8 };
	struct xgb_model m = XGB_MODEL_INIT;
	struct xgb_params p = XGB_PARAMS_INIT;
	struct error err = ERROR_INIT;

	(void)state;
	p.n_estimators = 2;
	p.nthread = 1;
	expect_error(xgb_fit(&m, XGB_BINARY, X, 0, 2, y, 2, NULL, 0, NULL, &p, &err), ERR_INVALID,
		     &err, "no training rows");
	expect_error(xgb_fit(&m, XGB_BINARY, X, 4, 0, y, 2, NULL, 0, NULL, &p, &err), ERR_INVALID,
		     &err, "no features");
	expect_error(xgb_fit(&m, XGB_BINARY, X, 4, 2, y3, 3, NULL, 0, NULL, &p, &err), ERR_INVALID,
		     &err, "a binary task has 2 classes, got 3");
	expect_error(xgb_fit(&m, XGB_MULTICLASS, X, 4, 2, y, 2, NULL, 0, NULL, &p, &err),
		     ERR_INVALID, &err, "a multiclass task needs at least 3 classes, got 2");
	expect_error(xgb_fit(&m, XGB_BINARY, X, 4, 2, y3, 2, NULL, 0, NULL, &p, &err), ERR_INVALID,
		     &err, "training row 2: label 2 is not a class index in 0..1");
	expect_error(xgb_fit(&m, XGB_BINARY, X, 4, 2, bad_y, 2, NULL, 0, NULL, &p, &err),
		     ERR_INVALID, &err, "training row 2: label 0.5 is not a class index");
	expect_error(xgb_fit(&m, XGB_BINARY, Xinf, 4, 2, y, 2, NULL, 0, NULL, &p, &err),
		     ERR_INVALID, &err, "training row 2, column 1: 1e+39 is infinite");

	p.tree_method = "fast";
	expect_error(xgb_fit(&m, XGB_BINARY, X, 4, 2, y, 2, NULL, 0, NULL, &p, &err), ERR_INVALID,
		     &err, "unknown tree method 'fast' (expected exact, approx or hist)");
	p.tree_method = NULL;
	p.n_estimators = 0;
	expect_error(xgb_fit(&m, XGB_BINARY, X, 4, 2, y, 2, NULL, 0, NULL, &p, &err), ERR_INVALID,
		     &err, "n_estimators must be at least 1, got 0");
	p.n_estimators = 2;
	p.early_stopping_rounds = 3;
	expect_error(xgb_fit(&m, XGB_BINARY, X, 4, 2, y, 2, NULL, 0, NULL, &p, &err), ERR_INVALID,
		     &err, "early stopping needs a validation set");
	expect_error(xgb_fit(&m, XGB_BINARY, X, 4, 2, y, 2, X, 4, y3, &p, &err), ERR_INVALID, &err,
		     "validation row 2: label 2 is not a class index");
	p.early_stopping_rounds = 0;

	/* out of range values are libxgboost's to judge: its message comes through */
	p.subsample = 1.5;
	expect_error(xgb_fit(&m, XGB_BINARY, X, 4, 2, y, 2, NULL, 0, NULL, &p, &err), ERR_INVALID,
		     &err, "invalid xgboost parameters: ");
	if (!strstr(err.msg, "subsample"))
		fail_msg("message '%s' does not name subsample", err.msg);
	assert_null(strchr(err.msg, '\n'));
	assert_null(m.booster); /* untouched on failure */

	p.subsample = -1;
	assert_int_equal(xgb_fit(&m, XGB_BINARY, X, 4, 2, y, 2, NULL, 0, NULL, &p, &err), 0);
	assert_int_equal(m.n_rounds, 2);
	assert_int_equal(m.best_iteration, -1);
	xgb_model_release(&m);
}

static void test_load_errors(void **state)
{
	static const double X[] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	static const double y[] = { 0, 1, 0, 1 };
	static const char junk[] = "not a model";
	struct xgb_model m = XGB_MODEL_INIT, l = XGB_MODEL_INIT;
	struct xgb_params p = XGB_PARAMS_INIT;
	struct error err = ERROR_INIT;
	void *buf = NULL;
	size_t len = 0;
	double out[8];

	(void)state;
	p.n_estimators = 2;
	p.nthread = 1;
	assert_int_equal(xgb_fit(&m, XGB_BINARY, X, 4, 2, y, 2, NULL, 0, NULL, &p, &err), 0);
	save(&m, &buf, &len);
	expect_error(xgb_load(&l, junk, sizeof(junk) - 1, XGB_BINARY, 2, 2, &err), ERR_INVALID,
		     &err, "cannot load the xgboost model: ");
	expect_error(xgb_load(&l, buf, len, XGB_REGRESSION, 2, 0, &err), ERR_INVALID, &err,
		     "the xgboost model's objective is 'binary:logistic', expected "
		     "'reg:squarederror'");
	expect_error(xgb_load(&l, buf, len, XGB_BINARY, 3, 2, &err), ERR_INVALID, &err,
		     "the xgboost model has 2 features, expected 3");
	expect_error(xgb_load(&l, buf, len, XGB_MULTICLASS, 2, 2, &err), ERR_INVALID, &err,
		     "a multiclass task needs at least 3 classes");
	assert_null(l.booster);
	assert_int_equal(xgb_load(&l, buf, len, XGB_BINARY, 2, 2, &err), 0);
	assert_int_equal(xgb_predict(&l, X, 4, out, &err), 0);
	for (size_t i = 0; i < 4; i++)
		assert_true(out[2 * i] == (double)(1.0f - (float)out[2 * i + 1]));
	xgb_model_release(&l);
	expect_error(xgb_predict(&l, X, 4, out, &err), ERR_INVALID, &err,
		     "the xgboost model is empty");
	free(buf);
	xgb_model_release(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_binary),	    cmocka_unit_test(test_multiclass),
		cmocka_unit_test(test_regression),  cmocka_unit_test(test_sampling),
		cmocka_unit_test(test_missing),	    cmocka_unit_test(test_approx),
		cmocka_unit_test(test_hist),	    cmocka_unit_test(test_early_stopping),
		cmocka_unit_test(test_determinism), cmocka_unit_test(test_fit_errors),
		cmocka_unit_test(test_load_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
