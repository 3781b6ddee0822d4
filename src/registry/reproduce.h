/*
 * `ferry models reproduce`: retrain a model from what its model.json records and compare.
 */
#ifndef FERRY_REGISTRY_REPRODUCE_H
#define FERRY_REGISTRY_REPRODUCE_H

#include <jansson.h>
#include <stdbool.h>

#include "ml/model.h"

struct cas;
struct error;

struct registry_reproduction {
	char digest[MODEL_DIGEST_SIZE]; /* the retrained artifact's digest */
	bool digest_matches;		/* bit-identical model */
	json_t *recorded_metrics;	/* the registered model's evaluation metrics (numbers) */
	json_t *metrics;		/* the retrained model's */
	bool metrics_match;		/* every metric equal to 1e-12 relative */
	char *data_file;		/* where the training bytes were found */
	char *recorded_versions;	/* the software versions recorded, as compact JSON */
	char *versions;			/* this ferry's */
};
void registry_reproduction_release(struct registry_reproduction *r);

/*
 * Retrains recorded (a loaded model artifact) from the same data version (found in the object
 * cache cas, which may be NULL, or at the recorded path, relative to root, if its content
 * still has the recorded digest), target, features, trainer, parameters, evaluation and seed,
 * saving the new artifact under workdir/model. ERR_NOTFOUND when the data version is nowhere;
 * a mismatch is not an error (out says what differs).
 */
int registry_reproduce(struct registry_reproduction *out, struct cas *cas, const char *root,
		       const struct model *recorded, const char *workdir, struct error *err);

#endif
