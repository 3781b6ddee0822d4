/*
 * Training runs: evaluation by holdout or cross-validation, then the final fit, with everything
 * a user needs to reproduce it recorded in the model's metadata.
 */
#include "util/common.h"
#include "ml/train.h"
#include "ml/metrics.h"
#include "ml/split.h"
#include "table/profile.h"
#include "util/sha256.h"

#include <math.h>
#include <time.h>
#include <xgboost/c_api.h>

/* What every fit and evaluation of one run shares. */
struct run {
	const struct train_options *o;
	const struct trainer_config *cfg;
	const struct table *t;
	const struct target *target;
	size_t *cols; /* feature columns */
	size_t ncols;
	int *yc;    /* class indices (classification) */
	double *yv; /* targets (regression) */
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int is_classification(const struct run *r)
{
	return r->target->task != TASK_REGRESSION;
}

static size_t output_width(const struct run *r)
{
	return is_classification(r) ? r->target->nclasses : 1;
}

static enum xgb_task xgb_task_of(enum ml_task task)
{
	return task == TASK_REGRESSION ? XGB_REGRESSION
	       : task == TASK_BINARY   ? XGB_BINARY
				       : XGB_MULTICLASS;
}

/* XGBoost with early stopping: the last validation_fraction of rows (stratified) validate. */
static int fit_xgb(struct model *m, const struct run *r, const double *X, const double *y,
		   const size_t *rows, size_t n, struct error *err)
{
	struct xgb_params p = r->cfg->xgb;
	struct split_indices s = SPLIT_INDICES_INIT;
	double *Xt = NULL, *Xv = NULL, *yt = NULL, *yv = NULL;
	size_t w = m->pre.width, k = r->target->nclasses;
	int *cls = NULL, ret;

	p.seed = r->o->seed;
	if (!p.early_stopping_rounds)
		return xgb_fit(&m->xgb, xgb_task_of(r->target->task), X, n, w, y, k, NULL, 0, NULL,
			       &p, err);
	if (is_classification(r)) {
		cls = xmalloc(n * sizeof(*cls));
		for (size_t i = 0; i < n; i++)
			cls[i] = r->yc[rows[i]];
		ret = split_holdout_stratified(&s, cls, n, r->cfg->validation_fraction, r->o->seed,
					       err);
	} else {
		ret = split_holdout(&s, n, r->cfg->validation_fraction, r->o->seed, err);
	}
	if (ret) {
		error_prefix(err, "cannot set rows aside for early stopping: ");
		goto out;
	}
	Xt = xmalloc(s.n_train * w * sizeof(*Xt));
	Xv = xmalloc(s.n_test * w * sizeof(*Xv));
	yt = xmalloc(s.n_train * sizeof(*yt));
	yv = xmalloc(s.n_test * sizeof(*yv));
	for (size_t i = 0; i < s.n_train; i++) {
		memcpy(Xt + i * w, X + s.train[i] * w, w * sizeof(*X));
		yt[i] = y[s.train[i]];
	}
	for (size_t i = 0; i < s.n_test; i++) {
		memcpy(Xv + i * w, X + s.test[i] * w, w * sizeof(*X));
		yv[i] = y[s.test[i]];
	}
	ret = xgb_fit(&m->xgb, xgb_task_of(r->target->task), Xt, s.n_train, w, yt, k, Xv, s.n_test,
		      yv, &p, err);
out:
	split_indices_release(&s);
	free(cls);
	free(Xt);
	free(Xv);
	free(yt);
	free(yv);
	return ret;
}

/* Fits preprocessing and trainer on rows into m (kind, pre and the trainer's part). */
static int fit_rows(struct model *m, const struct run *r, const size_t *rows, size_t n,
		    struct error *err)
{
	enum preprocess_mode mode =
	    r->cfg->kind == MODEL_XGBOOST ? PREPROCESS_TREE : PREPROCESS_LINEAR;
	double *X = NULL, *y = NULL;
	int *yc = NULL, ret;

	m->kind = r->cfg->kind;
	m->threshold = r->cfg->threshold;
	ret = preprocess_fit(&m->pre, mode, r->t, r->cols, r->ncols, rows, n, err);
	if (ret)
		return ret;
	X = xmalloc(n * m->pre.width * sizeof(*X));
	preprocess_transform(&m->pre, r->t, r->cols, rows, n, X);
	switch (m->kind) {
	case MODEL_LOGREG:
		yc = xmalloc(n * sizeof(*yc));
		for (size_t i = 0; i < n; i++)
			yc[i] = r->yc[rows[i]];
		ret = logreg_fit(&m->logreg, X, n, m->pre.width, yc, r->target->nclasses,
				 &r->cfg->logreg, err);
		break;
	case MODEL_LINEAR:
		y = xmalloc(n * sizeof(*y));
		for (size_t i = 0; i < n; i++)
			y[i] = r->yv[rows[i]];
		ret = linear_fit(&m->linear, X, n, m->pre.width, y, &r->cfg->linear, err);
		break;
	case MODEL_XGBOOST:
		y = xmalloc(n * sizeof(*y));
		for (size_t i = 0; i < n; i++)
			y[i] = is_classification(r) ? r->yc[rows[i]] : r->yv[rows[i]];
		ret = fit_xgb(m, r, X, y, rows, n, err);
		break;
	}
	free(X);
	free(y);
	free(yc);
	return ret;
}

/* Predictions of m (fitted by fit_rows) for rows, into out (n x output_width). */
static int predict_rows(const struct model *m, const struct run *r, const size_t *rows, size_t n,
			double *out, struct error *err)
{
	double *X = xmalloc(n * m->pre.width * sizeof(*X));
	int ret;

	preprocess_transform(&m->pre, r->t, r->cols, rows, n, X);
	ret = model_predict(m, X, n, out, err);
	free(X);
	return ret;
}

/* Metrics of predictions for rows as a JSON object; conf accumulates confusion counts. */
static int score(json_t **out, const struct run *r, const size_t *rows, size_t n,
		 const double *pred, uint64_t *conf, struct error *err)
{
	json_t *j = json_object();
	int ret;

	if (is_classification(r)) {
		struct classification_metrics m = CLASSIFICATION_METRICS_INIT;
		size_t k = r->target->nclasses;
		int *y = xmalloc(n * sizeof(*y));

		for (size_t i = 0; i < n; i++)
			y[i] = r->yc[rows[i]];
		ret = metrics_classification(&m, y, pred, n, k, r->cfg->threshold, err);
		if (!ret)
			ret = metrics_classification_json(j, &m, err);
		if (!ret && conf)
			for (size_t i = 0; i < k * k; i++)
				conf[i] += m.confusion[i];
		classification_metrics_release(&m);
		free(y);
	} else {
		struct regression_metrics m;
		double *y = xmalloc(n * sizeof(*y));

		for (size_t i = 0; i < n; i++)
			y[i] = r->yv[rows[i]];
		ret = metrics_regression(&m, y, pred, n, err);
		if (!ret)
			ret = metrics_regression_json(j, &m, err);
		free(y);
	}
	if (ret) {
		json_decref(j);
		return error_prefix(err, "cannot evaluate: ");
	}
	*out = j;
	return 0;
}

/* Fits on s->train and scores on s->test. */
static int fit_and_score(json_t **metrics, struct model *m, const struct run *r,
			 const struct split_indices *s, uint64_t *conf, struct error *err)
{
	double *pred = xmalloc(s->n_test * output_width(r) * sizeof(*pred));
	int ret = fit_rows(m, r, s->train, s->n_train, err);

	if (!ret)
		ret = predict_rows(m, r, s->test, s->n_test, pred, err);
	if (!ret)
		ret = score(metrics, r, s->test, s->n_test, pred, conf, err);
	free(pred);
	return ret;
}

static json_t *confusion_json(const uint64_t *conf, size_t k)
{
	json_t *rows = json_array();

	for (size_t i = 0; i < k; i++) {
		json_t *row = json_array();

		for (size_t j = 0; j < k; j++)
			json_array_append_new(row, json_integer((json_int_t)conf[i * k + j]));
		json_array_append_new(rows, row);
	}
	return rows;
}

/* Mean and standard deviation (ddof 0) over folds of each number in the fold metrics. */
static void summarise_folds(json_t *eval, json_t *const *folds, size_t nfolds)
{
	json_t *mean = json_object(), *sd = json_object();
	const char *key;
	json_t *v;

	json_object_foreach(folds[0], key, v) {
		double sum = 0, ss = 0, mu;

		if (!json_is_number(v))
			continue;
		for (size_t f = 0; f < nfolds; f++)
			sum += json_number_value(json_object_get(folds[f], key));
		mu = sum / (double)nfolds;
		for (size_t f = 0; f < nfolds; f++) {
			double d = json_number_value(json_object_get(folds[f], key)) - mu;

			ss += d * d;
		}
		json_object_set_new(mean, key, json_real(mu));
		json_object_set_new(sd, key, json_real(sqrt(ss / (double)nfolds)));
	}
	json_object_set_new(eval, "metrics", mean);
	json_object_set_new(eval, "metrics_sd", sd);
}

static int cross_validate(json_t *eval, const struct run *r, struct error *err)
{
	size_t n = r->t->nrows, k = output_width(r), nfolds = (size_t)r->o->cv;
	int *fold_of = xmalloc(n * sizeof(*fold_of));
	uint64_t *conf = xcalloc(k * k, sizeof(*conf));
	json_t **folds = xcalloc(nfolds, sizeof(*folds));
	json_t *per_fold = json_array();
	int ret;

	if (is_classification(r))
		ret = split_kfold_stratified(fold_of, r->yc, n, nfolds, r->o->seed, err);
	else
		ret = split_kfold(fold_of, n, nfolds, r->o->seed, err);
	if (ret)
		error_prefix(err, "%s: --cv %zu: ", r->t->name, nfolds);
	for (size_t f = 0; !ret && f < nfolds; f++) {
		struct split_indices s = SPLIT_INDICES_INIT;
		struct model m;

		model_init(&m);
		split_fold_indices(&s, fold_of, n, (int)f);
		ret = fit_and_score(&folds[f], &m, r, &s, conf, err);
		if (ret)
			error_prefix(err, "fold %zu of %zu: ", f + 1, nfolds);
		else
			json_array_append(per_fold, folds[f]);
		model_release(&m);
		split_indices_release(&s);
	}
	if (!ret) {
		json_object_set_new(eval, "method", json_string("cv"));
		json_object_set_new(eval, "folds", json_integer((json_int_t)nfolds));
		summarise_folds(eval, folds, nfolds);
		if (is_classification(r))
			json_object_set_new(json_object_get(eval, "metrics"), "confusion_matrix",
					    confusion_json(conf, k));
		json_object_set_new(eval, "per_fold", per_fold);
		per_fold = NULL;
	}
	for (size_t f = 0; f < nfolds; f++)
		json_decref(folds[f]);
	json_decref(per_fold);
	free(folds);
	free(fold_of);
	free(conf);
	return ret;
}

/*
 * A stratified split needs 2 rows of every class; say which class, by its label, in the
 * user's terms (split.c only knows class indices).
 */
static int check_class_sizes(const struct run *r, size_t need, const char *why, struct error *err)
{
	size_t k = r->target->nclasses, *count;
	int ret = 0;

	if (!is_classification(r))
		return 0;
	count = xcalloc(k, sizeof(*count));
	for (size_t i = 0; i < r->t->nrows; i++)
		count[r->yc[i]]++;
	for (size_t c = 0; c < k && !ret; c++)
		if (count[c] < need)
			ret = error_set(err, ERR_INVALID,
					"%s: target '%s' has %zu row%s of class '%s': %s",
					r->t->name, r->target->name, count[c],
					count[c] == 1 ? "" : "s", r->target->classes[c], why);
	free(count);
	return ret;
}

static int holdout(struct model *m, json_t *eval, const struct run *r, struct error *err)
{
	struct split_indices s = SPLIT_INDICES_INIT;
	json_t *metrics = NULL;
	int ret;

	ret = check_class_sizes(r, 2,
				"a stratified holdout needs at least 2 rows per class (remove the "
				"class's rows or choose another target)",
				err);
	if (ret)
		return ret;
	if (is_classification(r))
		ret = split_holdout_stratified(&s, r->yc, r->t->nrows, r->o->test_size, r->o->seed,
					       err);
	else
		ret = split_holdout(&s, r->t->nrows, r->o->test_size, r->o->seed, err);
	if (ret)
		error_prefix(err, "%s: --test-size %g: ", r->t->name, r->o->test_size);
	if (!ret)
		ret = fit_and_score(&metrics, m, r, &s, NULL, err);
	if (!ret) {
		json_object_set_new(eval, "method", json_string("holdout"));
		json_object_set_new(eval, "test_size", json_real(r->o->test_size));
		json_object_set_new(eval, "rows_train", json_integer((json_int_t)s.n_train));
		json_object_set_new(eval, "rows_test", json_integer((json_int_t)s.n_test));
		json_object_set_new(eval, "metrics", metrics);
	}
	split_indices_release(&s);
	return ret;
}

static int is_dropped(const struct train_options *o, const char *name)
{
	for (size_t i = 0; i < o->ndrop; i++)
		if (!strcmp(o->drop[i], name))
			return 1;
	return 0;
}

/* Feature columns: all but the target and the dropped ones (which must exist). */
static int choose_features(struct run *r, size_t target_col, json_t *features, struct error *err)
{
	json_t *used = json_array(), *dropped = json_array();
	int ret = 0;

	for (size_t i = 0; i < r->o->ndrop; i++) {
		size_t col;

		ret = table_find(&col, r->t, r->o->drop[i], err);
		if (ret) {
			error_prefix(err, "--drop: ");
			goto out;
		}
		json_array_append_new(dropped, json_string(r->o->drop[i]));
	}
	r->cols = xmalloc(r->t->ncols * sizeof(*r->cols));
	for (size_t i = 0; i < r->t->ncols; i++) {
		if (i == target_col || is_dropped(r->o, r->t->cols[i]->name))
			continue;
		r->cols[r->ncols++] = i;
		json_array_append_new(used, json_string(r->t->cols[i]->name));
	}
	if (!r->ncols)
		ret = error_set(err, ERR_INVALID, "%s: no feature columns left besides target '%s'",
				r->t->name, r->o->target);
out:
	json_object_set_new(features, "used", used);
	json_object_set_new(features, "dropped", dropped);
	return ret;
}

static enum task_request task_for(const struct train_options *o)
{
	if (o->task != TASK_AUTO)
		return o->task;
	if (o->cfg->kind == MODEL_LOGREG)
		return TASK_CLASSIFICATION;
	if (o->cfg->kind == MODEL_LINEAR)
		return TASK_WANT_REGRESSION;
	return TASK_AUTO;
}

static int check_task(const struct run *r, struct error *err)
{
	enum model_kind kind = r->cfg->kind;

	if (kind == MODEL_LOGREG && !is_classification(r))
		return error_set(err, ERR_USAGE,
				 "logreg is a classifier; for a regression target "
				 "use --model linear or xgboost");
	if (kind == MODEL_LINEAR && is_classification(r))
		return error_set(err, ERR_USAGE,
				 "linear is a regression model; for a "
				 "classification target use --model logreg or "
				 "xgboost");
	return 0;
}

static json_t *data_json(const struct train_options *o, const struct table *t, const char *hex,
			 struct error *err, int *ret)
{
	struct profile *p = NULL;
	json_t *j = json_pack("{s:s, s:s+, s:I, s:I}", "path",
			      o->data_label ? o->data_label : o->data, "digest", "sha256:", hex,
			      "rows", (json_int_t)t->nrows, "columns", (json_int_t)t->ncols);

	/* what reading the file needs besides its bytes, so the model can be reproduced */
	if (o->n_na) {
		json_t *na = json_array();

		for (size_t i = 0; i < o->n_na; i++)
			json_array_append_new(na, json_string(o->na_tokens[i]));
		json_object_set_new(j, "na_tokens", na);
	}

	*ret = profile_compute(&p, t, NULL, err);
	if (!*ret)
		json_object_set_new(j, "profile", profile_to_json(p));
	profile_free(p);
	return j;
}

static json_t *trainer_json(const struct model *m, const struct trainer_config *cfg)
{
	json_t *j = json_pack("{s:s, s:o}", "name", model_kind_name(cfg->kind), "params",
			      trainer_config_to_json(cfg));

	if (m->kind == MODEL_LOGREG) {
		json_object_set_new(j, "iterations", json_integer(m->logreg.n_iter));
		json_object_set_new(j, "converged", json_boolean(m->logreg.converged));
	} else if (m->kind == MODEL_XGBOOST) {
		json_object_set_new(j, "rounds", json_integer(m->xgb.n_rounds));
		if (m->xgb.best_iteration >= 0)
			json_object_set_new(j, "best_iteration",
					    json_integer(m->xgb.best_iteration));
	}
	return j;
}

static json_t *versions_json(enum model_kind kind)
{
	json_t *j = json_pack("{s:s}", "ferry", FERRY_VERSION);

	if (kind == MODEL_XGBOOST) {
		int major, minor, patch;
		char buf[48];

		XGBoostVersion(&major, &minor, &patch);
		snprintf(buf, sizeof(buf), "%d.%d.%d", major, minor, patch);
		json_object_set_new(j, "xgboost", json_string(buf));
	}
	return j;
}

int train_model(struct model *out, struct train_timings *timings, const struct train_options *o,
		struct error *err)
{
	struct table_options topts = TABLE_OPTIONS_INIT;
	struct run r = { o, o->cfg, NULL, NULL, NULL, 0, NULL, NULL };
	struct table *t = NULL;
	struct model m;
	json_t *meta = json_object(), *features = json_object(), *eval = json_object();
	char hex[SHA256_HEX_SIZE];
	size_t target_col, *all = NULL;
	double t0 = now();
	int ret;

	model_init(&m);
	memset(timings, 0, sizeof(*timings));
	topts.na_tokens = o->na_tokens;
	topts.n_na_tokens = o->n_na;
	topts.progress = o->progress;
	ret = table_load(&t, o->data, &topts, err);
	if (!ret)
		ret = sha256_file(hex, o->data, err);
	if (ret)
		goto out;
	timings->load_seconds = now() - t0;
	r.t = t;
	ret = table_find(&target_col, t, o->target, err);
	if (ret) {
		error_prefix(err, "--target: ");
		goto out;
	}
	r.yc = xmalloc(t->nrows * sizeof(*r.yc));
	r.yv = xmalloc(t->nrows * sizeof(*r.yv));
	ret = target_fit(&m.target, t, target_col, task_for(o), r.yc, r.yv, err);
	if (ret)
		goto out;
	r.target = &m.target;
	if ((ret = check_task(&r, err)) || (ret = choose_features(&r, target_col, features, err)))
		goto out;
	json_object_set_new(eval, "seed", json_integer((json_int_t)o->seed));
	json_object_set_new(eval, "stratified", json_boolean(is_classification(&r)));
	t0 = now();
	if (o->cv) {
		ret = cross_validate(eval, &r, err);
		timings->eval_seconds = now() - t0;
		if (ret)
			goto out;
		/* the saved model learns from every row */
		all = xmalloc(t->nrows * sizeof(*all));
		for (size_t i = 0; i < t->nrows; i++)
			all[i] = i;
		t0 = now();
		ret = fit_rows(&m, &r, all, t->nrows, err);
		timings->fit_seconds = now() - t0;
	} else {
		ret = holdout(&m, eval, &r, err);
		timings->fit_seconds = timings->eval_seconds = now() - t0;
	}
	if (ret)
		goto out;
	json_object_set_new(meta, "data", data_json(o, t, hex, err, &ret));
	if (ret)
		goto out;
	json_object_set_new(meta, "features", features);
	features = NULL;
	json_object_set_new(meta, "trainer", trainer_json(&m, o->cfg));
	json_object_set_new(meta, "evaluation", eval);
	eval = NULL;
	json_object_set_new(meta, "versions", versions_json(o->cfg->kind));
	m.meta = meta;
	meta = NULL;
	model_release(out);
	*out = m;
	model_init(&m);
out:
	model_release(&m);
	json_decref(meta);
	json_decref(features);
	json_decref(eval);
	table_free(t);
	free(r.cols);
	free(r.yc);
	free(r.yv);
	free(all);
	return ret;
}
