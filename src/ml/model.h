/*
 * A trained model in memory and as an artifact directory:
 *
 *     MODEL/model.json    format version, task, target and classes, features and their
 *                         preprocessing, trainer and parameters, metrics, training data (path,
 *                         digest, profile), input/output signature, versions, creation time,
 *                         the weight files' digests, and the artifact digest
 *     MODEL/linear.bin    logreg and linear: the coefficients, little-endian float64,
 *                         rows x (n_features + 1), the intercept last in each row
 *     MODEL/model.ubj     xgboost: the booster in xgboost's own UBJSON format
 *
 * The artifact digest is "sha256:" + SHA-256 of model.json without its "digest" and "created"
 * fields, serialised compactly with sorted keys. model.json lists each weight file's digest, so
 * the artifact digest covers every byte that decides a prediction, and not the creation time:
 * the same data, parameters and seed give the same digest. Loading verifies both.
 */
#ifndef FERRY_ML_MODEL_H
#define FERRY_ML_MODEL_H

#include <jansson.h>
#include <stddef.h>

#include "ml/linear.h"
#include "ml/logreg.h"
#include "ml/params.h"
#include "ml/preprocess.h"
#include "ml/target.h"
#include "ml/xgb.h"

struct error;

#define MODEL_FORMAT "ferry-model"
#define MODEL_FORMAT_VERSION 1
#define MODEL_DIGEST_SIZE 72 /* "sha256:" + 64 hex + NUL */

struct model {
	enum model_kind kind;
	struct target target;
	struct preprocess pre;
	double threshold; /* binary classification */
	struct logreg_model logreg;
	struct linear_model linear;
	struct xgb_model xgb;
	/*
	 * The rest of model.json (trainer, metrics, data, versions...): set by the trainer, kept
	 * as loaded. The fields model.c writes itself are replaced on save.
	 */
	json_t *meta;
	char digest[MODEL_DIGEST_SIZE]; /* after model_save or model_load */
};

void model_init(struct model *m);
void model_release(struct model *m);

/* Outputs per row: the class count for classification, 1 for regression. */
size_t model_output_width(const struct model *m);

/*
 * Predictions for n preprocessed rows X (n x m->pre.width) into out (n x output width):
 * probabilities per class, or values. ERR_INTERNAL if xgboost fails.
 */
int model_predict(const struct model *m, const double *X, size_t n, double *out, struct error *err);

/* Predicted class of one row of probabilities (threshold for binary, argmax otherwise). */
int model_decide(const struct model *m, const double *proba);

/*
 * Writes the artifact to dir: everything is built in a new sibling directory, fsynced and
 * renamed over dir in one step, so dir holds the old artifact or the new one, never a mix.
 * An existing dir is replaced only if it is a ferry model (has a model.json of this format) or
 * empty; anything else is refused (ERR_EXISTS, "'out' exists and is not a ferry model: refusing
 * to replace it"). Sets m->digest.
 */
int model_save(struct model *m, const char *dir, struct error *err);

/* The check model_save makes first, for callers that want to fail before the work. */
int model_check_destination(const char *dir, struct error *err);

/*
 * Loads the artifact at dir, checking the format and its version (a newer one: "models/churn
 * was written by a newer ferry (model format 2; this ferry reads 1)"), every weight file's
 * digest and the artifact digest. *out (model_init'ed) is released and overwritten on success.
 */
int model_load(struct model *out, const char *dir, struct error *err);

/* The artifact digest of a model.json document (see above) into out. */
void model_digest_of(const json_t *doc, char out[MODEL_DIGEST_SIZE]);

#endif
