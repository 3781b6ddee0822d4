/*
 * Scoring CSV files with a model, streaming: records are read, encoded and predicted in batches
 * of SCORE_BATCH rows, so memory stays bounded whatever the input size (evaluation keeps one
 * label and one prediction row per record for the metrics).
 */
#ifndef FERRY_ML_SCORE_H
#define FERRY_ML_SCORE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "ml/model.h"

struct error;
struct progress;

#define SCORE_BATCH 4096

struct score_options {
	const char *input;
	const char *output;    /* predict: the CSV to write (atomically: temp file + rename) */
	const char *id_column; /* predict: copied to the output's first column; may be NULL */
	enum unseen_policy unseen;
	const char *const *na_tokens;
	size_t n_na;
	struct progress *progress; /* bytes read; may be NULL */
};

#define SCORE_OPTIONS_INIT                                                                         \
	{                                                                                          \
		NULL, NULL, NULL, UNSEEN_ERROR, NULL, 0, NULL                                      \
	}

/*
 * Batch prediction: writes o->output with a header [ID,] prediction[, probability_<class>...]
 * and one line per input record, in input order. The prediction is the class label (the
 * binary threshold or the most probable class) or the regression value; numbers are written so
 * that they read back exactly. *rows is set to the records scored. On any error the output is
 * not created (nor an existing one changed).
 */
int score_predict(const struct model *m, const struct score_options *o, uint64_t *rows,
		  struct error *err);

/*
 * Evaluation: the input must hold the target column too. *metrics becomes a new JSON object
 * with the metrics of ml/metrics.h and "rows".
 */
int score_evaluate(const struct model *m, const struct score_options *o, json_t **metrics,
		   struct error *err);

#endif
