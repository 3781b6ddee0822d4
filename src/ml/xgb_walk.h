/*
 * Scoring an xgboost booster by walking its trees in ferry's own memory, without libxgboost's
 * per-call DMatrix: the same numbers as xgb_predict, bit for bit, at a fraction of its latency.
 * Covers what ferry trains; anything else is refused so callers keep using xgb_predict.
 */
#ifndef FERRY_ML_XGB_WALK_H
#define FERRY_ML_XGB_WALK_H

#include <stddef.h>

#include "ml/xgb.h"

struct error;

/* Flat, immutable trees. Safe to share between threads once loaded. */
struct xgb_walk;

struct xgb_walk_info {
	enum xgb_task task;
	size_t n_features;
	size_t n_classes; /* 2 for binary, k for multiclass, 0 for regression */
	size_t n_trees;
	size_t n_nodes; /* reachable nodes over all trees */
	int n_rounds;	/* boosting rounds (trees / (classes * parallel trees)) */
};

/*
 * Builds *out (free with xgb_walk_free) from the trees of m's booster, read through
 * XGBoosterSaveModelToBuffer's JSON. Every tree the booster holds is used, as xgb_predict uses
 * them (iteration_end 0); m->n_rounds must agree with that count (ERR_INTERNAL otherwise), and so
 * must m's task, feature and class counts.
 * Errors: ERR_UNSUPPORTED, with a message naming what, for a booster the walker does not cover
 * (gblinear, dart, categorical splits, an objective other than binary:logistic, multi:softprob
 * and reg:squarederror, vector leaves, a document it cannot read, such as one with NaN values,
 * or one written by an xgboost other than 1.7): callers fall back to xgb_predict. ERR_INVALID
 * for an empty model; ERR_INTERNAL when libxgboost fails or m disagrees with its own booster.
 * *out is untouched on failure.
 */
int xgb_walk_load(struct xgb_walk **out, const struct xgb_model *m, struct error *err);

/*
 * The same from a model document as XGBoosterSaveModelToBuffer({"format": "json"}) writes it
 * (len bytes, need not be NUL-terminated). The task, feature and class counts come from the
 * document. Any bytes are safe: a malformed or inconsistent document is ERR_INVALID, a valid one
 * the walker does not cover ERR_UNSUPPORTED.
 */
int xgb_walk_load_json(struct xgb_walk **out, const char *json, size_t len, struct error *err);

/*
 * Predictions for n rows of X (n x n_features row-major doubles, NaN = missing) into out, in
 * xgb_predict's layout and values: n x k probabilities for classification (for binary, column
 * 0 = 1 - p and column 1 = p), n values for regression. Features are rounded to float as
 * xgb_predict rounds them; a value that is infinite as a float is ERR_INVALID, naming its row and
 * column, as xgb_predict refuses it (out is untouched then). Allocates nothing for models of
 * up to 2047 features and 1024 classes.
 */
int xgb_walk_predict(const struct xgb_walk *w, const double *X, size_t n, double *out,
		     struct error *err);

/*
 * The load-time self-check: predicts the n rows of X with both w and xgb_predict(m) and compares
 * the doubles byte for byte. ERR_INTERNAL naming the first differing row and column and both
 * values if they differ; errors of either prediction are passed up.
 */
int xgb_walk_verify(const struct xgb_walk *w, const struct xgb_model *m, const double *X, size_t n,
		    struct error *err);

void xgb_walk_info(const struct xgb_walk *w, struct xgb_walk_info *out);

/* A no-op on NULL. */
void xgb_walk_free(struct xgb_walk *w);

#endif
