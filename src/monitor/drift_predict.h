/*
 * The model's output as a column to test for drift: CSV records are encoded and scored in
 * batches, and the predictions collected as a one-column table "prediction": the predicted
 * label (categorical) for classification, as Evidently turns two or more probability columns
 * into labels (at 0.5, or argmax) before testing them, and as `ferry monitor run` tests the
 * served labels; the value for regression. Unseen categories are encoded as all zeros (monitoring must not stop at them).
 *
 * Ownership: the model and the column names are borrowed and must outlive the struct.
 */
#ifndef FERRY_MONITOR_DRIFT_PREDICT_H
#define FERRY_MONITOR_DRIFT_PREDICT_H

#include <stddef.h>

#include "ml/model.h"
#include "table/csv.h"
#include "table/table.h"

struct error;

#define DRIFT_PREDICTION_COLUMN "prediction"

struct drift_pred {
	const struct model *m;
	const char *source;
	const char *const *na;
	size_t n_na, ncols;
	size_t *colmap;
	double *X, *P; /* a batch of encoded rows and their outputs */
	size_t batch;
	double *values;	     /* collected numeric predictions */
	const char **labels; /* or collected labels (borrowed from the model) */
	size_t n, alloc;
};

/*
 * Maps the model's features to names (ncols columns of source). ERR_INVALID "FILE: column 'x'
 * is missing (the model needs it)" when one is absent.
 */
int drift_pred_init(struct drift_pred *p, const struct model *m, const char *const *names,
		    size_t ncols, const char *source, const char *const *na, size_t n_na,
		    struct error *err);

/* Scores nrows records (nrows * ncols fields) and collects their predictions. */
int drift_pred_add(struct drift_pred *p, const struct csv_field *fields, size_t nrows,
		   struct error *err);

/* The predictions collected since the last call as a new table (name: source); then empty. */
struct table *drift_pred_take(struct drift_pred *p);

void drift_pred_release(struct drift_pred *p);

#endif
