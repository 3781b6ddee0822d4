/*
 * Unit tests for ml/xgb_walk: on boosters ferry trains (binary, multiclass, regression; missing
 * values; early stopping; shallow and deep trees; exact, approx and hist), every prediction of
 * the walker must be byte-equal to xgb_predict's, on the data, on random rows and on rows placed
 * exactly on, just beside and within float rounding of every split threshold. Plus the boosters
 * it must refuse, malformed documents and the errors of predict and verify.
 */
#include "util/common.h"
#include "helpers.h"
#include "ml/xgb.h"
#include "ml/xgb_walk.h"
#include "table/table.h"
#include "util/json.h"
#include "util/strbuf.h"

#include <math.h>
#include <xgboost/c_api.h>

static size_t rows_compared, values_compared;

struct dataset {
	double *X, *y;
	size_t n, d;
};

static void dataset_release(struct dataset *ds)
{
	free(ds->X);
	free(ds->y);
}

/* The numeric columns of examples/data/FILE as X (NaN where missing), target as y. */
static void dataset_load(struct dataset *ds, const char *file, const char *target)
{
	char name[256], *path;
	struct error err = ERROR_INIT;
	struct table *t = NULL;
	size_t ti, col = 0;

	snprintf(name, sizeof(name), "../../examples/data/%s", file);
	path = test_data_path(name);
	if (table_load(&t, path, NULL, &err))
		fail_msg("%s", err.msg);
	free(path);
	assert_int_equal(table_find(&ti, t, target, &err), 0);
	ds->n = t->nrows;
	ds->d = 0;
	for (size_t j = 0; j < t->ncols; j++)
		ds->d += j != ti && t->cols[j]->type == COLUMN_NUMERIC;
	ds->X = xmalloc(ds->n * ds->d * sizeof(*ds->X));
	ds->y = xmalloc(ds->n * sizeof(*ds->y));
	for (size_t j = 0; j < t->ncols; j++) {
		const struct column *c = t->cols[j];

		if (j == ti || c->type != COLUMN_NUMERIC)
			continue;
		for (size_t i = 0; i < ds->n; i++)
			ds->X[i * ds->d + col] = column_is_missing(c, i) ? NAN : c->values[i];
		col++;
	}
	for (size_t i = 0; i < ds->n; i++) {
		const struct column *c = t->cols[ti];

		ds->y[i] = c->type == COLUMN_CATEGORICAL ? (double)c->codes[i] : c->values[i];
	}
	table_free(t);
}

/* splitmix64: reproducible rows without libc's rand */
static uint64_t next_u64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static double uniform(uint64_t *s)
{
	return (double)(next_u64(s) >> 11) / 9007199254740992.0;
}

/*
 * Fits ds; with early stopping, every fifth row is the validation set. On one thread, which the
 * booster keeps for predicting too: libgomp's threads spinning between the many small calls
 * here would otherwise take most of the test's time on a busy machine.
 */
static void fit(struct xgb_model *m, enum xgb_task task, const struct dataset *ds, size_t k,
		const struct xgb_params *params)
{
	struct xgb_params one_thread = *params, *p = &one_thread;
	struct dataset tr = { 0 }, va = { 0 };
	struct error err = ERROR_INIT;
	int ret;

	one_thread.nthread = 1;
	if (!p->early_stopping_rounds) {
		ret = xgb_fit(m, task, ds->X, ds->n, ds->d, ds->y, k, NULL, 0, NULL, p, &err);
		if (ret)
			fail_msg("%s", err.msg);
		return;
	}
	tr.X = xmalloc(ds->n * ds->d * sizeof(double));
	va.X = xmalloc(ds->n * ds->d * sizeof(double));
	tr.y = xmalloc(ds->n * sizeof(double));
	va.y = xmalloc(ds->n * sizeof(double));
	for (size_t i = 0; i < ds->n; i++) {
		struct dataset *to = i % 5 == 0 ? &va : &tr;

		memcpy(to->X + to->n * ds->d, ds->X + i * ds->d, ds->d * sizeof(double));
		to->y[to->n++] = ds->y[i];
	}
	ret = xgb_fit(m, task, tr.X, tr.n, ds->d, tr.y, k, va.X, va.n, va.y, p, &err);
	if (ret)
		fail_msg("%s", err.msg);
	dataset_release(&tr);
	dataset_release(&va);
}

/* The booster's own JSON document, parsed: the test's independent view of the thresholds. */
static json_t *booster_doc(const struct xgb_model *m)
{
	struct error err = ERROR_INIT;
	const char *buf = NULL;
	bst_ulong len = 0;
	json_t *doc = NULL;

	assert_int_equal(
	    XGBoosterSaveModelToBuffer(m->booster, "{\"format\":\"json\"}", &len, &buf), 0);
	if (json_load_buffer(&doc, "model", buf, (size_t)len, &err))
		fail_msg("%s", err.msg);
	return doc;
}

struct rows {
	double *X;
	size_t n, alloc, d;
};

static double *add_row(struct rows *r, const double *like)
{
	double *row;

	ALLOC_GROW(r->X, (r->n + 1) * r->d, r->alloc);
	row = r->X + r->n++ * r->d;
	memcpy(row, like, r->d * sizeof(*row));
	return row;
}

/*
 * For every split (feature f, float threshold t): a data row with x[f] set to t, to the floats
 * on either side, to doubles that round to t as floats from below and above (the walker must
 * compare the float, not the double), to both zeros and to NaN.
 */
static void threshold_rows(struct rows *r, const struct xgb_model *m, const struct dataset *ds)
{
	json_t *doc = booster_doc(m), *trees, *tree;
	size_t t, row = 0;

	trees = json_object_get(
	    json_object_get(json_object_get(json_object_get(doc, "learner"), "gradient_booster"),
			    "model"),
	    "trees");
	assert_true(json_array_size(trees) > 0);
	json_array_foreach(trees, t, tree) {
		json_t *left = json_object_get(tree, "left_children");
		json_t *feat = json_object_get(tree, "split_indices");
		json_t *cond = json_object_get(tree, "split_conditions");

		for (size_t i = 0; i < json_array_size(left); i++) {
			size_t f = (size_t)json_integer_value(json_array_get(feat, i));
			float th = (float)json_number_value(json_array_get(cond, i));
			double ulp = (double)nextafterf(th, INFINITY) - (double)th;
			const double *like = ds->X + (row++ % ds->n) * ds->d;
			const double values[] = { th,
						  nextafterf(th, -INFINITY),
						  nextafterf(th, INFINITY),
						  (double)th - ulp / 4,
						  (double)th + ulp / 4,
						  -0.0,
						  0.0,
						  NAN };

			if (json_integer_value(json_array_get(left, i)) < 0)
				continue;
			for (size_t v = 0; v < ARRAY_SIZE(values); v++)
				add_row(r, like)[f] = values[v];
		}
	}
	json_decref(doc);
}

/* Uniform rows over each feature's range widened by a quarter, one value in eight missing. */
static void random_rows(struct rows *r, const struct dataset *ds, size_t count, uint64_t seed)
{
	double *lo = xmalloc(ds->d * sizeof(*lo)), *hi = xmalloc(ds->d * sizeof(*hi));

	for (size_t j = 0; j < ds->d; j++) {
		lo[j] = INFINITY;
		hi[j] = -INFINITY;
		for (size_t i = 0; i < ds->n; i++) {
			double v = ds->X[i * ds->d + j];

			if (!isnan(v)) {
				lo[j] = fmin(lo[j], v);
				hi[j] = fmax(hi[j], v);
			}
		}
		if (lo[j] > hi[j])
			lo[j] = hi[j] = 0;
	}
	for (size_t i = 0; i < count; i++) {
		double *row = add_row(r, ds->X);

		for (size_t j = 0; j < ds->d; j++) {
			double span = hi[j] - lo[j] + 1e-3;

			row[j] = next_u64(&seed) % 8 == 0
				     ? NAN
				     : lo[j] - span / 8 + uniform(&seed) * span * 1.25;
		}
	}
	free(lo);
	free(hi);
}

static size_t width_of(const struct xgb_model *m)
{
	return m->task == XGB_REGRESSION ? 1 : m->n_classes;
}

/* Walker and xgb_predict on the rows, value by value, bytes compared. */
static void compare(const struct xgb_walk *w, const struct xgb_model *m, const double *X, size_t n,
		    const char *what)
{
	struct error err = ERROR_INIT;
	size_t width = width_of(m);
	double *want = xmalloc(n * width * sizeof(double)),
	       *got = xmalloc(n * width * sizeof(double));

	if (xgb_predict(m, X, n, want, &err))
		fail_msg("%s: %s", what, err.msg);
	if (xgb_walk_predict(w, X, n, got, &err))
		fail_msg("%s: %s", what, err.msg);
	for (size_t i = 0; i < n * width; i++) {
		if (memcmp(&want[i], &got[i], sizeof(double)) != 0)
			fail_msg("%s: row %zu column %zu: walker %.17g, libxgboost %.17g", what,
				 i / width, i % width, got[i], want[i]);
	}
	/* a single row walks its trees side by side, batches walk rows side by side */
	for (size_t i = 0; i < n; i += 3) {
		assert_int_equal(xgb_walk_predict(w, X + i * m->n_features, 1, got, &err), 0);
		assert_memory_equal(got, want + i * width, width * sizeof(double));
	}
	rows_compared += n;
	values_compared += n * width;
	free(want);
	free(got);
}

/* Loads the walker of m and compares it on the data, threshold rows and random rows. */
static void check_model(const struct xgb_model *m, const struct dataset *ds, uint64_t seed,
			const char *what)
{
	struct xgb_walk *w = NULL;
	struct xgb_walk_info info;
	struct error err = ERROR_INIT;
	struct rows r = { NULL, 0, 0, ds->d };

	if (xgb_walk_load(&w, m, &err))
		fail_msg("%s: %s", what, err.msg);
	xgb_walk_info(w, &info);
	assert_int_equal(info.task, m->task);
	assert_int_equal(info.n_features, m->n_features);
	assert_int_equal(info.n_classes, m->n_classes);
	assert_int_equal(info.n_rounds, m->n_rounds);
	assert_int_equal(info.n_trees,
			 (size_t)m->n_rounds * (m->task == XGB_MULTICLASS ? m->n_classes : 1));

	compare(w, m, ds->X, ds->n, what);
	threshold_rows(&r, m, ds);
	random_rows(&r, ds, 2000, seed);
	compare(w, m, r.X, r.n, what);
	if (xgb_walk_verify(w, m, r.X, r.n, &err))
		fail_msg("%s: %s", what, err.msg);
	free(r.X);
	xgb_walk_free(w);
}

struct fit_case {
	const char *what, *file, *target;
	enum xgb_task task;
	size_t k;
	int n_estimators, max_depth;
	double eta, subsample, colsample;
	const char *tree_method;
	uint64_t seed;
	int early_stopping_rounds;
};

static void run_case(const struct fit_case *c)
{
	struct xgb_params p = XGB_PARAMS_INIT;
	struct xgb_model m = XGB_MODEL_INIT;
	struct dataset ds;

	dataset_load(&ds, c->file, c->target);
	p.n_estimators = c->n_estimators;
	p.max_depth = c->max_depth;
	p.eta = c->eta;
	p.subsample = c->subsample;
	p.colsample_bytree = c->colsample;
	p.tree_method = c->tree_method;
	p.seed = c->seed;
	p.early_stopping_rounds = c->early_stopping_rounds;
	fit(&m, c->task, &ds, c->k, &p);
	if (c->early_stopping_rounds && m.n_rounds >= c->n_estimators)
		fail_msg("%s: early stopping kept all %d rounds", c->what, m.n_rounds);
	check_model(&m, &ds, c->seed + 1, c->what);
	xgb_model_release(&m);
	dataset_release(&ds);
}

static void test_binary(void **state)
{
	static const struct fit_case cases[] = {
		{ "binary depth 4", "breast_cancer.csv", "target", XGB_BINARY, 2, 20, 4, -1, -1, -1,
		  NULL, 0, 0 },
		{ "binary stumps", "breast_cancer.csv", "target", XGB_BINARY, 2, 30, 1, -1, -1, -1,
		  NULL, 1, 0 },
		{ "binary depth 10", "breast_cancer.csv", "target", XGB_BINARY, 2, 50, 10, 0.1, -1,
		  -1, NULL, 3, 0 },
		{ "binary sampling", "breast_cancer.csv", "target", XGB_BINARY, 2, 20, 4, -1, 0.8,
		  0.8, NULL, 7, 0 },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		run_case(&cases[i]);
}

static void test_multiclass(void **state)
{
	static const struct fit_case cases[] = {
		{ "iris", "iris.csv", "target", XGB_MULTICLASS, 3, 20, 4, -1, -1, -1, NULL, 0, 0 },
		{ "wine depth 6", "wine.csv", "target", XGB_MULTICLASS, 3, 30, 6, -1, 0.7, -1, NULL,
		  1, 0 },
		{ "wine deep", "wine.csv", "target", XGB_MULTICLASS, 3, 40, 12, 0.05, -1, 0.5, NULL,
		  2, 0 },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		run_case(&cases[i]);
}

static void test_regression(void **state)
{
	static const struct fit_case cases[] = {
		{ "diabetes depth 4", "diabetes.csv", "target", XGB_REGRESSION, 0, 20, 4, -1, -1,
		  -1, NULL, 0, 0 },
		{ "diabetes depth 8", "diabetes.csv", "target", XGB_REGRESSION, 0, 60, 8, 0.1, 0.9,
		  -1, NULL, 5, 0 },
		{ "diabetes stumps", "diabetes.csv", "target", XGB_REGRESSION, 0, 10, 1, 1.0, -1,
		  -1, NULL, 0, 0 },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		run_case(&cases[i]);
}

/* PimaIndiansDiabetes2 has missing values: the trees learn a default direction. */
static void test_missing(void **state)
{
	static const struct fit_case cases[] = {
		{ "pima", "PimaIndiansDiabetes2.csv", "diabetes", XGB_BINARY, 2, 20, 4, -1, -1, -1,
		  NULL, 0, 0 },
		{ "pima deep", "PimaIndiansDiabetes2.csv", "diabetes", XGB_BINARY, 2, 40, 9, 0.2,
		  -1, -1, NULL, 4, 0 },
		{ "pima regression", "PimaIndiansDiabetes2.csv", "age", XGB_REGRESSION, 0, 20, 5,
		  -1, -1, -1, NULL, 0, 0 },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		run_case(&cases[i]);
}

static void test_tree_methods(void **state)
{
	static const struct fit_case cases[] = {
		{ "hist", "PimaIndiansDiabetes2.csv", "diabetes", XGB_BINARY, 2, 20, 4, -1, -1, -1,
		  "hist", 0, 0 },
		{ "approx", "diabetes.csv", "target", XGB_REGRESSION, 0, 20, 6, 0.1, -1, -1,
		  "approx", 3, 0 },
		{ "hist multiclass", "wine.csv", "target", XGB_MULTICLASS, 3, 15, 5, -1, -1, -1,
		  "hist", 0, 0 },
		{ "exact", "breast_cancer.csv", "target", XGB_BINARY, 2, 15, 6, -1, -1, -1, "exact",
		  0, 0 },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		run_case(&cases[i]);
}

/* Fewer rounds kept than trained: the walker has exactly the kept ones. */
static void test_early_stopping(void **state)
{
	static const struct fit_case cases[] = {
		{ "early stopping binary", "breast_cancer.csv", "target", XGB_BINARY, 2, 200, 4,
		  0.3, -1, -1, NULL, 0, 5 },
		{ "early stopping multiclass", "iris.csv", "target", XGB_MULTICLASS, 3, 100, 2, 0.5,
		  -1, -1, NULL, 0, 3 },
		{ "early stopping regression", "diabetes.csv", "target", XGB_REGRESSION, 0, 200, 3,
		  0.1, -1, -1, NULL, 0, 5 },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		run_case(&cases[i]);
}

/*
 * Synthetic data of several shapes: values on a coarse grid around 0 (so thresholds fall between
 * repeated values, or on them with hist, and rows hit them exactly), scales from 1e-6 to 1e6, a
 * fifth missing.
 */
static void make_synthetic(struct dataset *ds, enum xgb_task task, size_t k, size_t n, size_t d,
			   uint64_t seed)
{
	ds->n = n;
	ds->d = d;
	ds->X = xmalloc(n * d * sizeof(double));
	ds->y = xmalloc(n * sizeof(double));
	for (size_t i = 0; i < n; i++) {
		double score = 0;

		for (size_t j = 0; j < d; j++) {
			double scale = pow(10.0, (double)((int)(j % 13) - 6));
			double v = (floor(uniform(&seed) * 50) - 20) / 7 * scale;

			ds->X[i * d + j] = next_u64(&seed) % 5 == 0 ? NAN : v;
			score += (isnan(ds->X[i * d + j]) ? 0.5 : v / scale / 7) * (j % 3 ? 1 : -1);
		}
		score += uniform(&seed) * 2;
		if (task == XGB_REGRESSION)
			ds->y[i] = score * 10;
		else
			ds->y[i] = (double)((size_t)fabs(floor(score)) % k);
	}
}

static void test_synthetic(void **state)
{
	static const struct {
		enum xgb_task task;
		size_t k, n, d;
		int depth, rounds;
	} shapes[] = {
		{ XGB_BINARY, 2, 500, 3, 3, 30 },
		{ XGB_BINARY, 2, 2000, 20, 6, 40 },
		{ XGB_MULTICLASS, 4, 1200, 8, 5, 20 },
		{ XGB_MULTICLASS, 7, 800, 13, 8, 10 },
		{ XGB_REGRESSION, 0, 1500, 5, 7, 30 },
		{ XGB_REGRESSION, 0, 300, 40, 2, 50 },
		{ XGB_BINARY, 2, 3000, 1, 10, 20 },
		{ XGB_REGRESSION, 0, 1000, 26, 12, 15 },
		/* more features than the walker's stack space: its heap path */
		{ XGB_BINARY, 2, 200, 2100, 3, 9 },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(shapes); i++) {
		for (uint64_t seed = 1; seed <= 2; seed++) {
			struct xgb_params p = XGB_PARAMS_INIT;
			struct xgb_model m = XGB_MODEL_INIT;
			struct dataset ds;
			char what[64];

			make_synthetic(&ds, shapes[i].task, shapes[i].k, shapes[i].n, shapes[i].d,
				       seed * 1000 + i);
			p.max_depth = shapes[i].depth;
			p.n_estimators = shapes[i].rounds;
			p.seed = seed;
			p.subsample = seed == 2 ? 0.7 : -1;
			/* hist splits at data values: 0 and negative thresholds */
			p.tree_method = seed == 2 ? "hist" : NULL;
			fit(&m, shapes[i].task, &ds, shapes[i].k, &p);
			snprintf(what, sizeof(what), "synthetic shape %zu seed %" PRIu64, i, seed);
			check_model(&m, &ds, seed, what);
			xgb_model_release(&m);
			dataset_release(&ds);
		}
	}
}

/* A booster read back from ferry's artifact bytes walks the same. */
static void test_loaded(void **state)
{
	struct xgb_params p = XGB_PARAMS_INIT;
	struct xgb_model m = XGB_MODEL_INIT, l = XGB_MODEL_INIT;
	struct error err = ERROR_INIT;
	struct dataset ds;
	void *buf = NULL;
	size_t len = 0;

	(void)state;
	dataset_load(&ds, "iris.csv", "target");
	p.n_estimators = 15;
	fit(&m, XGB_MULTICLASS, &ds, 3, &p);
	assert_int_equal(xgb_save(&m, &buf, &len, &err), 0);
	assert_int_equal(xgb_load(&l, buf, len, XGB_MULTICLASS, ds.d, 3, &err), 0);
	check_model(&l, &ds, 9, "loaded");
	free(buf);
	xgb_model_release(&m);
	xgb_model_release(&l);
	dataset_release(&ds);
}

/* A booster trained straight through the C API with the given parameters (name, value pairs). */
static void raw_booster(struct xgb_model *m, const char *const *params, size_t n_params,
			int categorical)
{
	static const float X[] = { 0, 1.5f, 1, 2.5f, 2, 0.5f, 3, 3.5f, 0, 2.0f, 1, 0.1f,
				   2, 1.1f, 3, 4.0f, 1, 0.7f, 2, 2.2f, 3, 1.9f, 0, 3.3f };
	static const float y[] = { 0, 1, 0, 1, 0, 1, 1, 0, 1, 1, 0, 0 };
	const char *types[] = { "c", "q" };
	DMatrixHandle dm = NULL;
	BoosterHandle b = NULL;

	assert_int_equal(XGDMatrixCreateFromMat(X, 12, 2, NAN, &dm), 0);
	assert_int_equal(XGDMatrixSetFloatInfo(dm, "label", y, 12), 0);
	if (categorical)
		assert_int_equal(XGDMatrixSetStrFeatureInfo(dm, "feature_type", types, 2), 0);
	assert_int_equal(XGBoosterCreate(&dm, 1, &b), 0);
	/* as Python's wrapper records them; ferry's C API path does not */
	if (categorical > 1)
		assert_int_equal(XGBoosterSetStrFeatureInfo(b, "feature_type", types, 2), 0);
	assert_int_equal(XGBoosterSetParam(b, "nthread", "1"), 0);
	assert_int_equal(XGBoosterSetParam(b, "min_child_weight", "0"), 0);
	for (size_t i = 0; i + 1 < n_params; i += 2)
		assert_int_equal(XGBoosterSetParam(b, params[i], params[i + 1]), 0);
	for (int i = 0; i < 3; i++)
		if (XGBoosterUpdateOneIter(b, i, dm))
			fail_msg("%s", XGBGetLastError());
	XGDMatrixFree(dm);
	xgb_model_release(m);
	m->booster = b;
	m->task = XGB_BINARY;
	m->n_features = 2;
	m->n_classes = 2;
	m->n_rounds = 3;
}

static void expect_unsupported(const char *const *params, size_t n, int categorical,
			       const char *msg)
{
	struct xgb_model m = XGB_MODEL_INIT;
	struct xgb_walk *w = NULL;
	struct error err = ERROR_INIT;

	raw_booster(&m, params, n, categorical);
	if (xgb_walk_load(&w, &m, &err) != ERR_UNSUPPORTED)
		fail_msg("%s: %s", msg, err.msg);
	assert_null(w);
	if (!strstr(err.msg, msg))
		fail_msg("message '%s' lacks '%s'", err.msg, msg);
	xgb_model_release(&m);
}

static void test_unsupported(void **state)
{
	static const char *const gblinear[] = { "booster", "gblinear", "objective",
						"binary:logistic" };
	static const char *const dart[] = { "booster",	       "dart",	    "objective",
					    "binary:logistic", "rate_drop", "0.5" };
	static const char *const logitraw[] = { "objective", "binary:logitraw" };
	static const char *const reg_logistic[] = { "objective", "reg:logistic" };
	static const char *const categorical[] = { "objective", "binary:logistic",   "tree_method",
						   "hist",	"max_cat_to_onehot", "1" };
	static const char *const plain[] = { "objective", "binary:logistic", "max_depth", "3" };
	struct xgb_model m = XGB_MODEL_INIT;
	struct xgb_walk *w = NULL;
	struct error err = ERROR_INIT;
	const double X[] = { 0, 1.5, 3, 3.5, 2, NAN, NAN, 0.25 };

	(void)state;
	expect_unsupported(gblinear, ARRAY_SIZE(gblinear), 0, "booster 'gblinear'");
	expect_unsupported(dart, ARRAY_SIZE(dart), 0, "booster 'dart'");
	expect_unsupported(logitraw, ARRAY_SIZE(logitraw), 0, "objective 'binary:logitraw'");
	expect_unsupported(reg_logistic, ARRAY_SIZE(reg_logistic), 0, "objective 'reg:logistic'");
	/* categorical splits are written with a NaN threshold: not JSON, still a fallback */
	expect_unsupported(categorical, ARRAY_SIZE(categorical), 1,
			   "the tree walker cannot read the booster: xgboost model:1:");
	expect_unsupported(categorical, ARRAY_SIZE(categorical), 2,
			   "feature 0 is categorical, which the tree walker does not cover");

	/* the same raw path with a plain gbtree is walked, and agrees */
	raw_booster(&m, plain, ARRAY_SIZE(plain), 0);
	assert_int_equal(xgb_walk_load(&w, &m, &err), 0);
	assert_int_equal(xgb_walk_verify(w, &m, X, 4, &err), 0);
	xgb_walk_free(w);
	xgb_model_release(&m);
}

static void expect_error(int ret, int code, const struct error *err, const char *msg)
{
	assert_int_equal(ret, code);
	if (!strstr(err->msg, msg))
		fail_msg("message '%s' lacks '%s'", err->msg, msg);
}

static void test_errors(void **state)
{
	struct xgb_params p = XGB_PARAMS_INIT;
	struct xgb_model m = XGB_MODEL_INIT, other = XGB_MODEL_INIT, empty = XGB_MODEL_INIT;
	struct xgb_walk *w = NULL, *w2 = NULL;
	struct error err = ERROR_INIT;
	struct dataset ds;
	double out[8] = { 0 }, X[30];

	(void)state;
	expect_error(xgb_walk_load(&w, &empty, &err), ERR_INVALID, &err, "empty");
	dataset_load(&ds, "breast_cancer.csv", "target");
	p.n_estimators = 5;
	fit(&m, XGB_BINARY, &ds, 2, &p);
	p.seed = 3;
	p.subsample = 0.5;
	fit(&other, XGB_BINARY, &ds, 2, &p);
	assert_int_equal(xgb_walk_load(&w, &m, &err), 0);

	/* infinite as a float: refused as xgb_predict refuses it, out untouched */
	memcpy(X, ds.X, sizeof(X));
	X[7] = 1e39;
	expect_error(xgb_walk_predict(w, X, 1, out, &err), ERR_INVALID, &err,
		     "prediction row 0, column 7: 1e+39 is infinite");
	assert_true(out[0] == 0 && out[1] == 0);
	expect_error(xgb_predict(&m, X, 1, out, &err), ERR_INVALID, &err,
		     "prediction row 0, column 7: 1e+39 is infinite");
	assert_int_equal(xgb_walk_predict(w, X, 0, out, &err), 0);

	/* verify against another booster of the same shape names the first difference */
	expect_error(xgb_walk_verify(w, &other, ds.X, ds.n, &err), ERR_INTERNAL, &err,
		     "disagrees with libxgboost at row ");
	assert_int_equal(xgb_walk_verify(w, &m, ds.X, ds.n, &err), 0);

	/* a walker of another model's shape is refused */
	other.n_rounds = 4;
	expect_error(xgb_walk_load(&w2, &other, &err), ERR_INTERNAL, &err, "holds 5 rounds");
	other.n_rounds = 5;
	other.task = XGB_REGRESSION;
	other.n_classes = 0;
	expect_error(
	    xgb_walk_load(&w2, &other, &err), ERR_INTERNAL, &err,
	    "the xgboost booster (binary, 30 features, 1 outputs) does not match the model "
	    "(regression, 30 features, 1 outputs)");
	assert_null(w2);

	xgb_walk_free(w);
	xgb_walk_free(NULL);
	xgb_model_release(&m);
	xgb_model_release(&other);
	dataset_release(&ds);
}

/* A small valid document, edited by each case below. */
static const char good_doc[] =
    "{\"learner\":{\"attributes\":{},\"feature_names\":[],\"feature_types\":[],"
    "\"gradient_booster\":{\"model\":{\"gbtree_model_param\":{\"num_parallel_tree\":\"1\","
    "\"num_trees\":\"1\",\"size_leaf_vector\":\"0\"},\"tree_info\":[0],\"trees\":[{"
    "\"base_weights\":[0,0,0],\"categories\":[],\"categories_nodes\":[],"
    "\"categories_segments\":[],\"categories_sizes\":[],\"default_left\":[1,0,0],\"id\":0,"
    "\"left_children\":[1,-1,-1],\"loss_changes\":[1,0,0],\"parents\":[2147483647,0,0],"
    "\"right_children\":[2,-1,-1],\"split_conditions\":[5E-1,-2.5E-1,7.5E-1],"
    "\"split_indices\":[1,0,0],\"split_type\":[0,0,0],\"sum_hessian\":[2,1,1],"
    "\"tree_param\":{\"num_deleted\":\"0\",\"num_feature\":\"2\",\"num_nodes\":\"3\","
    "\"size_leaf_vector\":\"0\"}}]},\"name\":\"gbtree\"},"
    "\"learner_model_param\":{\"base_score\":\"5E-1\",\"boost_from_average\":\"1\","
    "\"num_class\":\"0\",\"num_feature\":\"2\",\"num_target\":\"1\"},"
    "\"objective\":{\"name\":\"binary:logistic\",\"reg_loss_param\":"
    "{\"scale_pos_weight\":\"1\"}}},\"version\":[1,7,4]}";

/* good_doc with the first `from` replaced by `to`. */
static int load_edited(struct xgb_walk **w, const char *from, const char *to, struct error *err)
{
	const char *at = strstr(good_doc, from);
	char *doc;
	int ret;

	if (!at)
		fail_msg("'%s' is not in the document", from);
	doc = xstrfmt("%.*s%s%s", (int)(at - good_doc), good_doc, to, at + strlen(from));
	ret = xgb_walk_load_json(w, doc, strlen(doc), err);
	free(doc);
	return ret;
}

static void test_json(void **state)
{
	static const struct {
		const char *from, *to;
		int code;
		const char *msg;
	} cases[] = {
		{ "[1,-1,-1],\"loss_changes\":[1,0,0],\"parents\":[2147483647,0,0],"
		  "\"right_children\":[2,-1,-1]",
		  "[1,-1,1],\"loss_changes\":[1,0,0],\"parents\":[2147483647,0,0],"
		  "\"right_children\":[2,-1,2]",
		  ERR_INVALID, "node 1 has two parents" },
		{ "\"left_children\":[1,-1,-1]", "\"left_children\":[1,3,-1]", ERR_INVALID,
		  "left_children[1] is not an integer in -1..2" },
		{ "\"right_children\":[2,-1,-1]", "\"right_children\":[1,-1,-1]", ERR_UNSUPPORTED,
		  "not adjacent" },
		{ "\"split_indices\":[1,0,0]", "\"split_indices\":[2,0,0]", ERR_INVALID,
		  "split_indices[0] is not an integer in 0..1" },
		{ "\"split_type\":[0,0,0]", "\"split_type\":[1,0,0]", ERR_UNSUPPORTED,
		  "categorical" },
		{ "\"split_type\":[0,0,0]", "\"split_type\":[0,0]", ERR_INVALID,
		  "split_type has 2 entries for 3 nodes" },
		{ "\"default_left\":[1,0,0]", "\"default_left\":[2,0,0]", ERR_INVALID,
		  "default_left[0]" },
		{ "[5E-1,-2.5E-1,7.5E-1]", "[\"x\",-2.5E-1,7.5E-1]", ERR_INVALID,
		  "split_conditions[0] is not a float" },
		{ "[5E-1,-2.5E-1,7.5E-1]", "[1E39,-2.5E-1,7.5E-1]", ERR_INVALID,
		  "split_conditions[0] is not a float" },
		/* exactly halfway between the floats 1 and 1 + 2^-23 */
		{ "[5E-1,-2.5E-1,7.5E-1]", "[1.000000059604644775390625,-2.5E-1,7.5E-1]",
		  ERR_UNSUPPORTED, "exactly" },
		{ "\"num_nodes\":\"3\"", "\"num_nodes\":\"0\"", ERR_INVALID, "no nodes" },
		{ "\"num_nodes\":\"3\"", "\"num_nodes\":\"x\"", ERR_INVALID, "num_nodes is 'x'" },
		{ "\"tree_info\":[0]", "\"tree_info\":[1]", ERR_INVALID, "tree_info[0]" },
		{ "\"num_trees\":\"1\"", "\"num_trees\":\"2\"", ERR_INVALID, "num_trees 2" },
		{ "\"name\":\"gbtree\"", "\"name\":\"gblinear\"", ERR_UNSUPPORTED, "gblinear" },
		{ "\"binary:logistic\"", "\"rank:pairwise\"", ERR_UNSUPPORTED, "rank:pairwise" },
		{ "\"base_score\":\"5E-1\"", "\"base_score\":\"1\"", ERR_INVALID,
		  "base_score '1'" },
		{ "\"num_target\":\"1\"", "\"num_target\":\"2\"", ERR_UNSUPPORTED, "2 targets" },
		{ "\"size_leaf_vector\":\"0\"}}]", "\"size_leaf_vector\":\"2\"}}]", ERR_UNSUPPORTED,
		  "vector leaves" },
		{ "\"categories\":[]", "\"categories\":[1]", ERR_UNSUPPORTED, "categorical" },
		{ "[1,7,4]", "[2,0,0]", ERR_UNSUPPORTED, "written by xgboost 2.0" },
		{ "[1,7,4]", "[1,7]", ERR_INVALID, "version" },
		{ "{\"learner\":", "{\"learnr\":", ERR_INVALID, "lacks 'learner'" },
		{ "\"tree_param\":{", "\"tree_param\":7,\"x\":{", ERR_INVALID,
		  "trees[0].tree_param is number, expected an object" },
		{ "}},\"version\"", "}}", ERR_INVALID, "xgboost model:" },
	};
	struct xgb_walk *w = NULL;
	struct xgb_walk_info info;
	struct error err = ERROR_INIT;
	/* feature 1 <= 0.5 (missing goes left) -> -0.25, else 0.75; base margin 0 */
	const double X[] = { 0, 0.5, 0, 0.49999997, 9, NAN, 0, 1e30 };
	double out[8];

	(void)state;
	assert_int_equal(xgb_walk_load_json(&w, good_doc, strlen(good_doc), &err), 0);
	xgb_walk_info(w, &info);
	assert_int_equal(info.n_nodes, 3);
	assert_int_equal(info.n_trees, 1);
	assert_int_equal(info.n_features, 2);
	assert_int_equal(xgb_walk_predict(w, X, 4, out, &err), 0);
	assert_true(out[1] == (double)(1.0f / (expf(-0.75f) + 1.0f)));
	assert_true(out[3] == (double)(1.0f / (expf(0.25f) + 1.0f)));
	assert_true(out[5] == out[3]);
	assert_true(out[7] == out[1]);
	assert_true(out[0] == (double)(float)(1.0f - (float)out[1]));
	xgb_walk_free(w);

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		w = NULL;
		error_clear(&err);
		expect_error(load_edited(&w, cases[i].from, cases[i].to, &err), cases[i].code, &err,
			     cases[i].msg);
		assert_null(w);
	}
	expect_error(xgb_walk_load_json(&w, good_doc, 40, &err), ERR_INVALID, &err,
		     "xgboost model:1:");
	expect_error(xgb_walk_load_json(&w, "[]", 2, &err), ERR_INVALID, &err, "not an object");
}

/*
 * A hand-made tree: node i splits on feat[i] at cond[i] into left[i] and left[i] + 1, or is a
 * leaf of value cond[i] when left[i] is -1.
 */
struct tree_spec {
	int n;
	int left[11], feat[11], dl[11];
	const char *cond[11];
};

static void add_int_array(struct strbuf *sb, const char *name, const int *v, int n)
{
	strbuf_addf(sb, "\"%s\":[", name);
	for (int i = 0; i < n; i++)
		strbuf_addf(sb, "%s%d", i ? "," : "", v[i]);
	strbuf_addstr(sb, "],");
}

/* "name":[v,v,...] of n copies of a float's text */
static void add_floats(struct strbuf *sb, const char *name, const char *v, int n)
{
	strbuf_addf(sb, "\"%s\":[", name);
	for (int i = 0; i < n; i++)
		strbuf_addf(sb, "%s%s", i ? "," : "", v);
	strbuf_addstr(sb, "],");
}

static void add_tree_json(struct strbuf *sb, const struct tree_spec *t, int id)
{
	int right[11], parent[11], zero[11] = { 0 };

	parent[0] = INT32_MAX;
	for (int i = 0; i < t->n; i++) {
		right[i] = t->left[i] < 0 ? -1 : t->left[i] + 1;
		if (t->left[i] >= 0)
			parent[t->left[i]] = parent[t->left[i] + 1] = i;
	}
	strbuf_addf(sb, "%s{", id ? "," : "");
	add_floats(sb, "base_weights", "0E0", t->n);
	strbuf_addstr(sb, "\"categories\":[],\"categories_nodes\":[],"
			  "\"categories_segments\":[],\"categories_sizes\":[],");
	add_int_array(sb, "default_left", t->dl, t->n);
	strbuf_addf(sb, "\"id\":%d,", id);
	add_int_array(sb, "left_children", t->left, t->n);
	add_floats(sb, "loss_changes", "0E0", t->n);
	add_int_array(sb, "parents", parent, t->n);
	add_int_array(sb, "right_children", right, t->n);
	strbuf_addstr(sb, "\"split_conditions\":[");
	for (int i = 0; i < t->n; i++)
		strbuf_addf(sb, "%s%s", i ? "," : "", t->cond[i]);
	strbuf_addstr(sb, "],");
	add_int_array(sb, "split_indices", t->feat, t->n);
	add_int_array(sb, "split_type", zero, t->n);
	add_floats(sb, "sum_hessian", "1E0", t->n);
	strbuf_addf(sb,
		    "\"tree_param\":{\"num_deleted\":\"0\",\"num_feature\":\"2\","
		    "\"num_nodes\":\"%d\",\"size_leaf_vector\":\"0\"}}",
		    t->n);
}

/* A model document of the trees (each used `repeat` times), as xgboost 1.7.4 writes one. */
static char *crafted_doc(const struct tree_spec *trees, int n, int repeat, const char *objective,
			 const char *base_score)
{
	struct strbuf sb = STRBUF_INIT;
	int total = n * repeat;

	strbuf_addf(&sb,
		    "{\"learner\":{\"attributes\":{},\"feature_names\":[],"
		    "\"feature_types\":[],\"gradient_booster\":{\"model\":{"
		    "\"gbtree_model_param\":{\"num_parallel_tree\":\"1\",\"num_trees\":\"%d\","
		    "\"size_leaf_vector\":\"0\"},\"tree_info\":[",
		    total);
	for (int i = 0; i < total; i++)
		strbuf_addf(&sb, "%s0", i ? "," : "");
	strbuf_addstr(&sb, "],\"trees\":[");
	for (int i = 0; i < total; i++)
		add_tree_json(&sb, &trees[i % n], i);
	strbuf_addf(&sb,
		    "]},\"name\":\"gbtree\"},\"learner_model_param\":{\"base_score\":\"%s\","
		    "\"boost_from_average\":\"1\",\"num_class\":\"0\",\"num_feature\":\"2\","
		    "\"num_target\":\"1\"},\"objective\":{\"name\":\"%s\",\"reg_loss_param\":"
		    "{\"scale_pos_weight\":\"1\"}}},\"version\":[1,7,4]}",
		    base_score, objective);
	return strbuf_detach(&sb, NULL);
}

/*
 * Hand-made trees loaded into libxgboost itself, which is the reference: zero and negative-zero
 * thresholds and leaves (a leaf of +0.0 is the walker's special case), a tree that is only a
 * leaf, a skewed chain, both default directions; rows of signed zeros, subnormals, thresholds
 * and NaN. Regression from a base score of -0.0 shows the sign of a zero sum.
 */
static void test_crafted(void **state)
{
	static const struct tree_spec trees[] = {
		{ 1, { -1 }, { 0 }, { 0 }, { "0E0" } },
		{ 1, { -1 }, { 0 }, { 0 }, { "-0E0" } },
		{ 3, { 1, -1, -1 }, { 0, 0, 0 }, { 0, 0, 0 }, { "-0E0", "0E0", "1E0" } },
		{ 3, { 1, -1, -1 }, { 1, 0, 0 }, { 1, 0, 0 }, { "0E0", "-0E0", "-1.5E0" } },
		{ 11,
		  { 1, -1, 3, -1, 5, -1, 7, -1, 9, -1, -1 },
		  { 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0 },
		  { 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0 },
		  { "-2E0", "-2E0", "-1E0", "2.5E-1", "0E0", "0E0", "1E0", "-0E0", "1E-45", "0E0",
		    "-0E0" } },
		{ 5,
		  { 1, 3, -1, -1, -1 },
		  { 1, 0, 0, 0, 0 },
		  { 0, 1, 0, 0, 0 },
		  { "-1E-45", "5E-1", "0E0", "-0E0", "3E-1" } },
	};
	static const double values[] = { -3,	-2.5,	-2,	 -1,   -0.5,   -0.0, 0.0,
					 1e-45, -1e-45, 1.4e-45, 0.5,  1,      2,    2.5,
					 3,	1e-300, -1e-300, 0.25, -1e-46, NAN };
	/* trees 1, 3 and 5 only: some rows get -0.0 + -0.0 + ... = -0.0 */
	const struct tree_spec negative_zeros[] = { trees[1], trees[3], trees[5] };
	const struct {
		const struct tree_spec *trees;
		int n;
		const char *objective, *base_score;
		enum xgb_task task;
		int repeat;
	} kinds[] = {
		{ trees, ARRAY_SIZE(trees), "binary:logistic", "5E-1", XGB_BINARY, 3 },
		{ negative_zeros, ARRAY_SIZE(negative_zeros), "reg:squarederror", "-0E0",
		  XGB_REGRESSION, 3 },
		{ trees, ARRAY_SIZE(trees), "reg:squarederror", "0E0", XGB_REGRESSION, 2 },
		{ trees, ARRAY_SIZE(trees), "reg:squarederror", "1E30", XGB_REGRESSION, 1 },
	};
	const size_t nv = ARRAY_SIZE(values);
	double *X = xmalloc(nv * nv * 2 * sizeof(*X)), *out = xmalloc(nv * nv * sizeof(*out));

	(void)state;
	for (size_t i = 0; i < nv * nv; i++) {
		X[2 * i] = values[i / nv];
		X[2 * i + 1] = values[i % nv];
	}
	for (size_t k = 0; k < ARRAY_SIZE(kinds); k++) {
		char *doc = crafted_doc(kinds[k].trees, kinds[k].n, kinds[k].repeat,
					kinds[k].objective, kinds[k].base_score);
		struct xgb_model m = XGB_MODEL_INIT;
		struct xgb_walk *w = NULL, *w2 = NULL;
		struct error err = ERROR_INIT;
		BoosterHandle b = NULL;

		assert_int_equal(XGBoosterCreate(NULL, 0, &b), 0);
		if (XGBoosterLoadModelFromBuffer(b, doc, strlen(doc)))
			fail_msg("%s", XGBGetLastError());
		m.booster = b;
		m.task = kinds[k].task;
		m.n_features = 2;
		m.n_classes = kinds[k].task == XGB_BINARY ? 2 : 0;
		m.n_rounds = kinds[k].n * kinds[k].repeat;
		/* the document as given, and as libxgboost writes it back */
		if (xgb_walk_load_json(&w, doc, strlen(doc), &err) || xgb_walk_load(&w2, &m, &err))
			fail_msg("%s", err.msg);
		compare(w, &m, X, nv * nv, kinds[k].objective);
		compare(w2, &m, X, nv * nv, kinds[k].objective);
		if (kinds[k].trees == negative_zeros) {
			size_t zeros = 0;

			assert_int_equal(xgb_walk_predict(w, X, nv * nv, out, &err), 0);
			for (size_t i = 0; i < nv * nv; i++)
				zeros += out[i] == 0 && signbit(out[i]);
			assert_true(zeros > 0);
		}
		xgb_walk_free(w);
		xgb_walk_free(w2);
		xgb_model_release(&m);
		free(doc);
	}
	free(X);
	free(out);
}

static int report(void **state)
{
	(void)state;
	print_message("[ INFO     ] %zu rows, %zu values compared byte for byte\n", rows_compared,
		      values_compared);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_binary),	     cmocka_unit_test(test_multiclass),
		cmocka_unit_test(test_regression),   cmocka_unit_test(test_missing),
		cmocka_unit_test(test_tree_methods), cmocka_unit_test(test_early_stopping),
		cmocka_unit_test(test_synthetic),    cmocka_unit_test(test_loaded),
		cmocka_unit_test(test_unsupported),  cmocka_unit_test(test_errors),
		cmocka_unit_test(test_json),	     cmocka_unit_test(test_crafted),
	};

	return cmocka_run_group_tests(tests, NULL, report);
}
