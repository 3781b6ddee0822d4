/*
 * A training run: load the CSV, pick the target and features, evaluate by holdout or k-fold
 * cross-validation, fit the final model, and describe it all in the model's metadata.
 *
 * Holdout (the default, test_size 0.2): the saved model is the one fitted on the training part,
 * and the metrics are its metrics on the held-out part. Cross-validation (cv >= 2): the metrics
 * are the folds' mean and standard deviation (numpy's std, ddof 0), and the saved model is
 * then fitted on every row. Splits are stratified by class for classification, seeded, and the
 * same seed is xgboost's. Metrics follow sklearn 1.2.1 (see ml/metrics.h).
 */
#ifndef FERRY_ML_TRAIN_H
#define FERRY_ML_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "ml/model.h"
#include "ml/params.h"
#include "ml/target.h"

struct error;
struct progress;

struct train_options {
	const char *data;	 /* CSV path, recorded as given */
	const char *data_label;	 /* the path recorded instead (a reproduction); NULL: data */
	const char *target;	 /* column name */
	const char *const *drop; /* columns not to use as features */
	size_t ndrop;
	const char *const *na_tokens; /* extra missing-value tokens */
	size_t n_na;
	enum task_request task;
	const struct trainer_config *cfg;
	double test_size; /* holdout share when cv == 0 */
	int cv;		  /* folds; 0 for a holdout */
	uint64_t seed;
	struct progress *progress; /* CSV bytes read; may be NULL */
};

/* Timings, for the user (not in the artifact: they would change its digest). */
struct train_timings {
	double load_seconds;
	double eval_seconds; /* holdout or all folds */
	double fit_seconds;  /* the saved model's fit, preprocessing included */
};

/*
 * Trains as described above into *out (model_init'ed; released and overwritten on success).
 * out->meta holds "data" {path, digest, rows, columns, profile}, "features" (used and dropped),
 * "trainer" {name, params, iterations...}, "evaluation" {method, seed, sizes, metrics...} and
 * "versions". Errors name the file and column (see target_fit, preprocess_fit) or the trainer's
 * problem.
 */
int train_model(struct model *out, struct train_timings *timings, const struct train_options *o,
		struct error *err);

#endif
