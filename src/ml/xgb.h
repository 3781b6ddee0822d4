/*
 * Gradient-boosted trees through Debian's libxgboost (1.7) C API. Parameters not set here keep
 * libxgboost's defaults, which are also what Python's xgboost.XGBClassifier/XGBRegressor pass,
 * so the same data and parameters give bit-identical trees and predictions to the Python
 * package using the same libxgboost.so.
 */
#ifndef FERRY_ML_XGB_H
#define FERRY_ML_XGB_H

#include <stddef.h>
#include <stdint.h>

struct error;

enum xgb_task {
	XGB_BINARY,	/* objective binary:logistic */
	XGB_MULTICLASS, /* objective multi:softprob with num_class */
	XGB_REGRESSION, /* objective reg:squarederror */
};

/*
 * Every field left at its _INIT value is not passed to libxgboost (its default applies), except
 * nthread, which is always set explicitly (0 here means "the number of online CPUs").
 * tree_method: NULL (default), "exact", "approx" or "hist".
 */
struct xgb_params {
	int n_estimators;	   /* boosting rounds; 100 as in the Python wrapper */
	int max_depth;		   /* -1: default (6) */
	double eta;		   /* < 0: default (0.3) */
	double subsample;	   /* < 0: default (1) */
	double colsample_bytree;   /* < 0: default (1) */
	double min_child_weight;   /* < 0: default (1) */
	const char *tree_method;   /* borrowed */
	uint64_t seed;		   /* always passed as "seed" (Python passes random_state=0) */
	int nthread;		   /* 0: online CPUs */
	int early_stopping_rounds; /* 0: off; else stop after this many rounds without improving
				      the validation metric (logloss, mlogloss, rmse) */
};

#define XGB_PARAMS_INIT                                                                            \
	{                                                                                          \
		100, -1, -1.0, -1.0, -1.0, -1.0, NULL, 0, 0, 0                                     \
	}

/* A trained booster. Owned by the struct; release with xgb_model_release. */
struct xgb_model {
	void *booster; /* BoosterHandle */
	enum xgb_task task;
	size_t n_features;
	size_t n_classes;   /* 2 for binary, k for multiclass, 0 for regression */
	int n_rounds;	    /* boosting rounds kept (best_iteration + 1 after early stopping) */
	int best_iteration; /* -1 without early stopping */
};

#define XGB_MODEL_INIT                                                                             \
	{                                                                                          \
		NULL, XGB_BINARY, 0, 0, 0, -1                                                      \
	}

void xgb_model_release(struct xgb_model *m);

/*
 * Trains on X (n x d row-major doubles, NaN = missing, converted to float as numpy's
 * astype(float32) does) and y (class index as a double for classification, the target for
 * regression). k is the number of classes (2 for binary; ignored for regression). When
 * params->early_stopping_rounds > 0, X_valid/y_valid (n_valid rows) are the validation set and
 * the model keeps only the rounds up to the best one; otherwise they may be NULL/0.
 * Errors: ERR_INVALID for bad arguments or parameters libxgboost rejects, with its message
 * (XGBGetLastError). *out is released and overwritten on success.
 */
int xgb_fit(struct xgb_model *out, enum xgb_task task, const double *X, size_t n, size_t d,
	    const double *y, size_t k, const double *X_valid, size_t n_valid, const double *y_valid,
	    const struct xgb_params *params, struct error *err);

/*
 * Predictions for n rows of X into out: n x k probabilities for classification (for binary,
 * column 0 = 1 - p and column 1 = p), n values for regression.
 */
int xgb_predict(const struct xgb_model *m, const double *X, size_t n, double *out,
		struct error *err);

/*
 * The model in xgboost's own UBJSON format (what Booster.save_model("x.ubj") writes): *buf is
 * malloc'ed, the caller frees it. Saving twice gives the same bytes.
 */
int xgb_save(const struct xgb_model *m, void **buf, size_t *len, struct error *err);

/* Loads a buffer xgb_save made; task, d and k come from the artifact's metadata. */
int xgb_load(struct xgb_model *out, const void *buf, size_t len, enum xgb_task task, size_t d,
	     size_t k, struct error *err);

#endif
