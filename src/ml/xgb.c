/*
 * Gradient-boosted trees on libxgboost's C API, passing libxgboost exactly what Python's
 * XGBClassifier/XGBRegressor pass so that the trees, predictions and saved bytes are the same.
 */
#include "util/common.h"
#include "ml/xgb.h"
#include "util/json.h"
#include "util/log.h"

#include <ctype.h>
#include <math.h>
#include <xgboost/c_api.h>

/*
 * libxgboost's messages look like "[12:34:56] WARNING: ../src/learner.cc:767: \nParameters: ..."
 * and may end in a stack trace: keep the text after the time and source position, on one line.
 */
static void clean_message(char *out, size_t size, const char *msg)
{
	const char *p = msg ? msg : "", *q, *colon;
	size_t len = 0;
	int space = 0;

	q = strchr(p, ']');
	if (*p == '[' && q && q - p <= 16)
		p = q + 1;
	while (*p == ' ')
		p++;
	if (!strncmp(p, "WARNING: ", 9))
		p += 9;
	colon = strstr(p, ": ");
	if (colon && !memchr(p, ' ', (size_t)(colon - p)) &&
	    (memmem(p, (size_t)(colon - p), ".cc:", 4) || memmem(p, (size_t)(colon - p), ".h:", 3)))
		p = colon + 2;
	for (; *p && len + 1 < size; p++) {
		if (!strncmp(p, "Stack trace", 11))
			break;
		if (isspace((unsigned char)*p)) {
			space = len > 0;
			continue;
		}
		if (space && len + 2 < size)
			out[len++] = ' ';
		space = 0;
		out[len++] = *p;
	}
	out[len] = '\0';
}

/* Records libxgboost's last error after "what: ". */
static int xgb_error(struct error *err, int code, const char *what)
{
	char msg[ERROR_MSG_SIZE];

	clean_message(msg, sizeof(msg), XGBGetLastError());
	return error_set(err, code, "%s: %s", what, msg);
}

/* libxgboost prints warnings to std::cerr by default; send them through our log instead. */
static void xgb_log(const char *msg)
{
	char text[512];

	clean_message(text, sizeof(text), msg);
	log_warn("xgboost: %s", text);
}

/* The callback is per thread in libxgboost: register it on every thread that calls it. */
static void xgb_log_setup(void)
{
	XGBRegisterLogCallback(xgb_log);
}

void xgb_model_release(struct xgb_model *m)
{
	struct xgb_model empty = XGB_MODEL_INIT;

	if (!m)
		return;
	if (m->booster)
		XGBoosterFree(m->booster);
	*m = empty;
}

static const char *objective_name(enum xgb_task task)
{
	switch (task) {
	case XGB_BINARY:
		return "binary:logistic";
	case XGB_MULTICLASS:
		return "multi:softprob";
	case XGB_REGRESSION:
		return "reg:squarederror";
	}
	BUG("unknown xgboost task %d", (int)task);
}

static int check_task(enum xgb_task task, size_t k, struct error *err)
{
	switch (task) {
	case XGB_BINARY:
		if (k != 2)
			return error_set(err, ERR_INVALID, "a binary task has 2 classes, got %zu",
					 k);
		return 0;
	case XGB_MULTICLASS:
		/* with 2 classes the Python wrapper trains binary:logistic, so must we */
		if (k < 3)
			return error_set(err, ERR_INVALID,
					 "a multiclass task needs at least 3 classes, got %zu (use "
					 "the binary task for 2)",
					 k);
		if (k > INT_MAX)
			return error_set(err, ERR_INVALID, "too many classes: %zu", k);
		return 0;
	case XGB_REGRESSION:
		return 0;
	}
	return error_set(err, ERR_INVALID, "unknown xgboost task %d", (int)task);
}

static int check_params(const struct xgb_params *p, struct error *err)
{
	static const char *const methods[] = { "exact", "approx", "hist" };
	const struct {
		const char *name;
		double value;
	} reals[] = { { "eta", p->eta },
		      { "subsample", p->subsample },
		      { "colsample_bytree", p->colsample_bytree },
		      { "min_child_weight", p->min_child_weight } };
	size_t i;

	if (p->n_estimators < 1)
		return error_set(err, ERR_INVALID, "n_estimators must be at least 1, got %d",
				 p->n_estimators);
	if (p->early_stopping_rounds < 0)
		return error_set(err, ERR_INVALID,
				 "early_stopping_rounds must not be negative, got %d",
				 p->early_stopping_rounds);
	if (p->nthread < 0)
		return error_set(err, ERR_INVALID, "nthread must not be negative, got %d",
				 p->nthread);
	if (p->seed > INT64_MAX)
		return error_set(err, ERR_INVALID,
				 "seed %" PRIu64 " is too large (at most 2^63 - 1)", p->seed);
	for (i = 0; i < ARRAY_SIZE(reals); i++) {
		if (isnan(reals[i].value))
			return error_set(err, ERR_INVALID, "%s is not a number", reals[i].name);
	}
	if (!p->tree_method)
		return 0;
	for (i = 0; i < ARRAY_SIZE(methods); i++) {
		if (!strcmp(p->tree_method, methods[i]))
			return 0;
	}
	return error_set(err, ERR_INVALID,
			 "unknown tree method '%s' (expected exact, approx or hist)",
			 p->tree_method);
}

/* Labels must be what the objective accepts, checked here to name the row. */
static int check_labels(const double *y, size_t n, enum xgb_task task, size_t k, const char *what,
			struct error *err)
{
	for (size_t i = 0; i < n; i++) {
		double v = y[i];

		if (task == XGB_REGRESSION) {
			if (!isfinite(v) || isinf((float)v))
				return error_set(err, ERR_INVALID,
						 "%s row %zu: target %g is not a finite float",
						 what, i, v);
		} else if (!(v >= 0 && v < (double)k && v == floor(v))) {
			return error_set(err, ERR_INVALID,
					 "%s row %zu: label %g is not a class index in 0..%zu",
					 what, i, v, k - 1);
		}
	}
	return 0;
}

/*
 * X as floats, rounded as numpy's astype(float32) rounds. Infinities are refused as the Python
 * package refuses them ("Input data contains `inf`"); NaN stays NaN, libxgboost's missing value.
 */
static int to_floats(float **out, const double *X, size_t n, size_t d, const char *what,
		     struct error *err)
{
	float *f;

	if (d > SIZE_MAX / sizeof(float) / n)
		return error_set(err, ERR_INVALID, "%s matrix of %zu x %zu is too large", what, n,
				 d);
	f = xmalloc(n * d * sizeof(*f));
	for (size_t i = 0; i < n * d; i++) {
		f[i] = (float)X[i];
		if (isinf(f[i])) {
			free(f);
			return error_set(err, ERR_INVALID,
					 "%s row %zu, column %zu: %g is infinite or too large for "
					 "a float",
					 what, i / d, i % d, X[i]);
		}
	}
	*out = f;
	return 0;
}

static int make_dmatrix(DMatrixHandle *out, const double *X, size_t n, size_t d, const double *y,
			int nthread, const char *what, struct error *err)
{
	DMatrixHandle h = NULL;
	float *f = NULL, *labels = NULL;
	int ret = to_floats(&f, X, n, d, what, err);

	if (ret)
		return ret;
	if (XGDMatrixCreateFromMat_omp(f, (bst_ulong)n, (bst_ulong)d, NAN, &h, nthread)) {
		ret = xgb_error(err, ERR_INTERNAL, "cannot build the xgboost matrix");
		goto out;
	}
	if (y) {
		labels = xmalloc(n * sizeof(*labels));
		for (size_t i = 0; i < n; i++)
			labels[i] = (float)y[i];
		if (XGDMatrixSetFloatInfo(h, "label", labels, (bst_ulong)n)) {
			ret = xgb_error(err, ERR_INTERNAL, "cannot set the xgboost labels");
			goto out;
		}
	}
	*out = h;
	h = NULL;
out:
	if (h)
		XGDMatrixFree(h);
	free(f);
	free(labels);
	return ret;
}

/* The shortest decimal that reads back as v, as Python's str(float) writes parameters. */
static void format_double(char *buf, size_t size, double v)
{
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(buf, size, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			return;
	}
}

static int set_param(BoosterHandle b, const char *name, const char *value, struct error *err)
{
	if (XGBoosterSetParam(b, name, value))
		return xgb_error(err, ERR_INVALID, "invalid xgboost parameter");
	return 0;
}

static int set_real(BoosterHandle b, const char *name, double v, struct error *err)
{
	char buf[32];

	if (v < 0)
		return 0;
	format_double(buf, sizeof(buf), v);
	return set_param(b, name, buf, err);
}

static int online_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > INT_MAX ? INT_MAX : (int)n;
}

/*
 * What the sklearn wrapper passes: the objective (and num_class), validate_parameters, and the
 * parameters the user set. Ours also always set nthread (it never changes the model: the
 * generator of tests/data/reference/xgb.json checks), seed (Python's default random_state 0 is
 * libxgboost's default too) and verbosity 1 (warnings, routed to our log).
 */
static int set_params(BoosterHandle b, enum xgb_task task, size_t k, const struct xgb_params *p,
		      int nthread, struct error *err)
{
	char buf[32];
	int ret;

	if ((ret = set_param(b, "objective", objective_name(task), err)))
		return ret;
	if (task == XGB_MULTICLASS) {
		snprintf(buf, sizeof(buf), "%zu", k);
		if ((ret = set_param(b, "num_class", buf, err)))
			return ret;
	}
	snprintf(buf, sizeof(buf), "%d", nthread);
	if ((ret = set_param(b, "nthread", buf, err)))
		return ret;
	snprintf(buf, sizeof(buf), "%" PRIu64, p->seed);
	if ((ret = set_param(b, "seed", buf, err)) || (ret = set_param(b, "verbosity", "1", err)) ||
	    (ret = set_param(b, "validate_parameters", "1", err)))
		return ret;
	if (p->max_depth >= 0) {
		snprintf(buf, sizeof(buf), "%d", p->max_depth);
		if ((ret = set_param(b, "max_depth", buf, err)))
			return ret;
	}
	if ((ret = set_real(b, "eta", p->eta, err)) ||
	    (ret = set_real(b, "subsample", p->subsample, err)) ||
	    (ret = set_real(b, "colsample_bytree", p->colsample_bytree, err)) ||
	    (ret = set_real(b, "min_child_weight", p->min_child_weight, err)))
		return ret;
	if (p->tree_method)
		return set_param(b, "tree_method", p->tree_method, err);
	return 0;
}

/*
 * The validation metric after round iter, from libxgboost's "[iter]\tvalid-logloss:0.0849...",
 * parsed as Python's EarlyStopping parses it.
 */
static int eval_score(double *out, BoosterHandle b, int iter, DMatrixHandle dvalid,
		      struct error *err)
{
	const char *names[] = { "valid" };
	const char *res = NULL, *colon;
	char *end;
	double v;

	if (XGBoosterEvalOneIter(b, iter, &dvalid, names, 1, &res))
		return xgb_error(err, ERR_INTERNAL, "cannot evaluate the validation set");
	colon = strrchr(res, ':');
	if (!colon)
		return error_set(err, ERR_INTERNAL, "unexpected xgboost evaluation '%s'", res);
	v = strtod(colon + 1, &end);
	if (end == colon + 1)
		return error_set(err, ERR_INTERNAL, "unexpected xgboost evaluation '%s'", res);
	*out = v;
	return 0;
}

/*
 * Boosts up to p->n_estimators rounds; with a validation set, stops once early_stopping_rounds
 * rounds in a row have not lowered the metric below the best so far (xgboost.callback.EarlyStopping
 * with its defaults: minimise, min_delta 0). *rounds: rounds trained; *best: the best round or -1.
 */
static int boost(int *rounds, int *best, BoosterHandle b, DMatrixHandle dtrain,
		 DMatrixHandle dvalid, const struct xgb_params *p, struct error *err)
{
	double score = 0, best_score = 0;
	int i, stale = 0, ret;

	*best = -1;
	for (i = 0; i < p->n_estimators; i++) {
		/* the first round configures the learner: its errors are about the parameters */
		if (XGBoosterUpdateOneIter(b, i, dtrain))
			return xgb_error(err, i ? ERR_INTERNAL : ERR_INVALID,
					 i ? "xgboost training failed"
					   : "invalid xgboost parameters");
		if (!dvalid)
			continue;
		if ((ret = eval_score(&score, b, i, dvalid, err)))
			return ret;
		if (i == 0 || best_score > score) {
			best_score = score;
			*best = i;
			stale = 0;
		} else if (++stale >= p->early_stopping_rounds) {
			i++;
			break;
		}
	}
	*rounds = i;
	return 0;
}

/*
 * xgboost.train records these on every booster it returns, so the saved bytes match Python's;
 * they also tell the Python wrapper to predict with every round we kept.
 */
static int set_round_attrs(BoosterHandle b, int n_rounds, struct error *err)
{
	char buf[16];

	snprintf(buf, sizeof(buf), "%d", n_rounds - 1);
	if (XGBoosterSetAttr(b, "best_iteration", buf))
		return xgb_error(err, ERR_INTERNAL, "cannot set a model attribute");
	snprintf(buf, sizeof(buf), "%d", n_rounds);
	if (XGBoosterSetAttr(b, "best_ntree_limit", buf))
		return xgb_error(err, ERR_INTERNAL, "cannot set a model attribute");
	return 0;
}

/* Keeps rounds 0..best of *b, replacing it. */
static int keep_rounds(BoosterHandle *b, int best, struct error *err)
{
	BoosterHandle sliced = NULL;

	if (XGBoosterSlice(*b, 0, best + 1, 1, &sliced))
		return xgb_error(err, ERR_INTERNAL, "cannot cut the model at its best round");
	XGBoosterFree(*b);
	*b = sliced;
	return 0;
}

static int check_fit(enum xgb_task task, const double *X, size_t n, size_t d, const double *y,
		     size_t k, const double *X_valid, size_t n_valid, const double *y_valid,
		     const struct xgb_params *p, struct error *err)
{
	int ret;

	if (n == 0)
		return error_set(err, ERR_INVALID, "no training rows");
	if (d == 0)
		return error_set(err, ERR_INVALID, "no features to train on");
	if (!X || !y)
		BUG("xgb_fit without data");
	if ((ret = check_task(task, k, err)) || (ret = check_params(p, err)) ||
	    (ret = check_labels(y, n, task, k, "training", err)))
		return ret;
	if (!p->early_stopping_rounds)
		return 0;
	if (n_valid == 0 || !X_valid || !y_valid)
		return error_set(err, ERR_INVALID, "early stopping needs a validation set");
	return check_labels(y_valid, n_valid, task, k, "validation", err);
}

int xgb_fit(struct xgb_model *out, enum xgb_task task, const double *X, size_t n, size_t d,
	    const double *y, size_t k, const double *X_valid, size_t n_valid, const double *y_valid,
	    const struct xgb_params *params, struct error *err)
{
	struct xgb_params defaults = XGB_PARAMS_INIT;
	const struct xgb_params *p = params ? params : &defaults;
	DMatrixHandle dm[2] = { NULL, NULL };
	BoosterHandle b = NULL;
	int ret, nthread, rounds = 0, best = -1;
	bst_ulong n_dm = 1;

	if ((ret = check_fit(task, X, n, d, y, k, X_valid, n_valid, y_valid, p, err)))
		return ret;
	xgb_log_setup();
	nthread = p->nthread ? p->nthread : online_cpus();
	if ((ret = make_dmatrix(&dm[0], X, n, d, y, nthread, "training", err)))
		goto out;
	if (p->early_stopping_rounds) {
		ret =
		    make_dmatrix(&dm[1], X_valid, n_valid, d, y_valid, nthread, "validation", err);
		if (ret)
			goto out;
		n_dm = 2;
	}
	/* the matrices are the booster's cache, as xgboost.train makes them */
	if (XGBoosterCreate(dm, n_dm, &b)) {
		ret = xgb_error(err, ERR_INTERNAL, "cannot create an xgboost booster");
		goto out;
	}
	if ((ret = set_params(b, task, k, p, nthread, err)) ||
	    (ret = boost(&rounds, &best, b, dm[0], dm[1], p, err)))
		goto out;
	if (best >= 0 && best + 1 < rounds && (ret = keep_rounds(&b, best, err)))
		goto out;
	if (best >= 0)
		rounds = best + 1;
	if ((ret = set_round_attrs(b, rounds, err)))
		goto out;
	xgb_model_release(out);
	out->booster = b;
	out->task = task;
	out->n_features = d;
	out->n_classes = task == XGB_REGRESSION ? 0 : k;
	out->n_rounds = rounds;
	out->best_iteration = best;
	b = NULL;
out:
	if (b)
		XGBoosterFree(b);
	for (size_t i = 0; i < ARRAY_SIZE(dm); i++) {
		if (dm[i])
			XGDMatrixFree(dm[i]);
	}
	return ret;
}

/* Copies libxgboost's n x width float predictions; binary gets its 1 - p column as Python's. */
static int copy_predictions(double *out, const struct xgb_model *m, size_t n,
			    const bst_ulong *shape, bst_ulong dim, const float *res,
			    struct error *err)
{
	size_t width = m->task == XGB_MULTICLASS ? m->n_classes : 1;
	size_t got = dim ? (size_t)shape[0] : 0;

	for (bst_ulong i = 1; i < dim; i++)
		got *= (size_t)shape[i];
	if (got != n * width)
		return error_set(err, ERR_INTERNAL,
				 "xgboost returned %zu predictions for %zu rows of %zu", got, n,
				 width);
	if (m->task != XGB_BINARY) {
		for (size_t i = 0; i < n * width; i++)
			out[i] = res[i];
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		/* numpy computes 1.0 - p in float32 */
		out[2 * i] = (float)(1.0f - res[i]);
		out[2 * i + 1] = res[i];
	}
	return 0;
}

int xgb_predict(const struct xgb_model *m, const double *X, size_t n, double *out,
		struct error *err)
{
	static const char config[] = "{\"type\":0,\"training\":false,\"iteration_begin\":0,"
				     "\"iteration_end\":0,\"strict_shape\":false}";
	DMatrixHandle dm = NULL;
	const bst_ulong *shape = NULL;
	const float *res = NULL;
	bst_ulong dim = 0;
	int ret;

	if (!m->booster)
		return error_set(err, ERR_INVALID, "the xgboost model is empty");
	if (n == 0)
		return 0;
	xgb_log_setup();
	if ((ret = make_dmatrix(&dm, X, n, m->n_features, NULL, 0, "prediction", err)))
		return ret;
	if (XGBoosterPredictFromDMatrix(m->booster, dm, config, &shape, &dim, &res))
		ret = xgb_error(err, ERR_INTERNAL, "xgboost prediction failed");
	else
		ret = copy_predictions(out, m, n, shape, dim, res, err);
	XGDMatrixFree(dm);
	return ret;
}

int xgb_save(const struct xgb_model *m, void **buf, size_t *len, struct error *err)
{
	const char *data = NULL;
	bst_ulong n = 0;
	void *copy;

	if (!m->booster)
		return error_set(err, ERR_INVALID, "the xgboost model is empty");
	xgb_log_setup();
	if (XGBoosterSaveModelToBuffer(m->booster, "{\"format\":\"ubj\"}", &n, &data))
		return xgb_error(err, ERR_INTERNAL, "cannot save the xgboost model");
	/* the buffer is libxgboost's until its next call */
	copy = xmalloc(n ? (size_t)n : 1);
	memcpy(copy, data, (size_t)n);
	*buf = copy;
	*len = (size_t)n;
	return 0;
}

/* The objective and class count the loaded model was trained with, from its JSON config. */
static int check_loaded(BoosterHandle b, enum xgb_task task, size_t d, size_t k, struct error *err)
{
	const char *cfg = NULL, *objective = NULL, *num_class = NULL;
	bst_ulong len = 0, n_features = 0;
	json_t *j = NULL;
	size_t want_k = task == XGB_MULTICLASS ? k : 0;
	int ret;

	if (XGBoosterGetNumFeature(b, &n_features) || XGBoosterSaveJsonConfig(b, &len, &cfg))
		return xgb_error(err, ERR_INTERNAL, "cannot read the xgboost model");
	if ((size_t)n_features != d)
		return error_set(err, ERR_INVALID,
				 "the xgboost model has %" PRIu64 " features, expected %zu",
				 (uint64_t)n_features, d);
	if ((ret = json_load_buffer(&j, "xgboost config", cfg, (size_t)len, err)))
		return ret;
	objective = json_string_value(json_object_get(
	    json_object_get(json_object_get(j, "learner"), "learner_train_param"), "objective"));
	num_class = json_string_value(json_object_get(
	    json_object_get(json_object_get(j, "learner"), "learner_model_param"), "num_class"));
	if (!objective || !num_class)
		ret = error_set(err, ERR_INTERNAL, "the xgboost config lacks the objective");
	else if (strcmp(objective, objective_name(task)) != 0)
		ret = error_set(err, ERR_INVALID,
				"the xgboost model's objective is '%s', expected '%s'", objective,
				objective_name(task));
	else if (strtoull(num_class, NULL, 10) != want_k)
		ret = error_set(err, ERR_INVALID, "the xgboost model has %s classes, expected %zu",
				num_class, k);
	json_decref(j);
	return ret;
}

int xgb_load(struct xgb_model *out, const void *buf, size_t len, enum xgb_task task, size_t d,
	     size_t k, struct error *err)
{
	BoosterHandle b = NULL;
	int ret, rounds = 0;

	if ((ret = check_task(task, k, err)))
		return ret;
	xgb_log_setup();
	if (XGBoosterCreate(NULL, 0, &b))
		return xgb_error(err, ERR_INTERNAL, "cannot create an xgboost booster");
	if (XGBoosterLoadModelFromBuffer(b, buf, (bst_ulong)len)) {
		ret = xgb_error(err, ERR_INVALID, "cannot load the xgboost model");
		goto out;
	}
	if ((ret = check_loaded(b, task, d, k, err)))
		goto out;
	if (XGBoosterBoostedRounds(b, &rounds)) {
		ret = xgb_error(err, ERR_INTERNAL, "cannot read the xgboost model");
		goto out;
	}
	xgb_model_release(out);
	out->booster = b;
	out->task = task;
	out->n_features = d;
	out->n_classes = task == XGB_REGRESSION ? 0 : k;
	out->n_rounds = rounds;
	/* whether early stopping chose the rounds is the artifact's business, not the booster's */
	out->best_iteration = -1;
	b = NULL;
out:
	if (b)
		XGBoosterFree(b);
	return ret;
}
