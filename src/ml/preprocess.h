/*
 * Feature preprocessing fitted on training rows and replayed at prediction time: the columns a
 * model reads, how each becomes numbers, and the fitted constants (medians, means, scales,
 * category lists). What scikit-learn users write as
 *
 *     ColumnTransformer([("num", Pipeline([SimpleImputer("median"), StandardScaler()]), numeric),
 *                        ("cat", Pipeline([SimpleImputer("most_frequent"),
 *                                          OneHotEncoder(handle_unknown=...)]), categorical)])
 *
 * in PREPROCESS_LINEAR mode, and for trees (PREPROCESS_TREE) the same without imputation and
 * scaling: a missing number stays NaN (xgboost learns a default direction for it) and a missing
 * category sets all of its one-hot columns to NaN.
 *
 * Output columns follow the input column order; a categorical column expands in place into one
 * column per category, categories sorted by their UTF-8 bytes (OneHotEncoder's np.unique order).
 * Boolean columns are numbers 0/1. Definitions: median as numpy's (mean of the two middle values
 * for an even count); most frequent as SimpleImputer's (the smallest value among ties); scale
 * as StandardScaler's (population standard deviation of the imputed column, 1 where it is
 * below 10 * DBL_EPSILON times the mean's magnitude or zero).
 */
#ifndef FERRY_ML_PREPROCESS_H
#define FERRY_ML_PREPROCESS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "table/csv.h"
#include "table/table.h"

struct error;

enum preprocess_mode {
	PREPROCESS_LINEAR, /* impute, scale, one-hot */
	PREPROCESS_TREE,   /* NaN for missing, no scaling, one-hot */
};

/* What to do with a category the training rows never had. */
enum unseen_policy {
	UNSEEN_ERROR,  /* fail, naming the file, line, column and value */
	UNSEEN_IGNORE, /* all its one-hot columns 0 (OneHotEncoder(handle_unknown='ignore')) */
};

struct feature {
	char *name;
	enum column_type type;
	/* numeric and boolean */
	double impute; /* the training median; NaN in tree mode */
	double mean;   /* 0 in tree mode */
	double scale;  /* 1 in tree mode */
	/* categorical */
	char **categories; /* sorted, owned */
	size_t ncategories;
	size_t impute_category; /* index of the most frequent category (linear mode) */
	size_t offset;		/* first output column */
};

/* A fitted preprocessing. Owns everything it points to. */
struct preprocess {
	enum preprocess_mode mode;
	size_t nfeatures;
	struct feature *features;
	size_t width;	     /* output columns */
	char **output_names; /* width names: "age", "state=KS", ... */
};

#define PREPROCESS_INIT                                                                            \
	{                                                                                          \
		PREPROCESS_LINEAR, 0, NULL, 0, NULL                                                \
	}

void preprocess_release(struct preprocess *p);

/*
 * Fits on the given rows (nrows indices into t) of columns cols (ncols indices into t, in
 * the order the features take). ERR_INVALID naming the column when a numeric column has no
 * value at all in those rows, or a categorical one has none (linear mode, nothing to impute).
 * *out is released and overwritten on success.
 */
int preprocess_fit(struct preprocess *out, enum preprocess_mode mode, const struct table *t,
		   const size_t *cols, size_t ncols, const size_t *rows, size_t nrows,
		   struct error *err);

/*
 * Writes rows (nrows indices into t) of the fitted columns cols (as given to preprocess_fit)
 * into X (nrows x width, row-major). t must be the table the preprocessing was fitted on (or
 * one with the same columns): a category absent from the fitting rows, which a validation
 * fold can hold, is encoded as all zeros.
 */
void preprocess_transform(const struct preprocess *p, const struct table *t, const size_t *cols,
			  const size_t *rows, size_t nrows, double *X);

/*
 * Streaming encoding of CSV records, for evaluation, batch prediction and serving: every new
 * input goes through here, its values read as text, so a column's type in a new file does not
 * matter. preprocess_map_columns finds each feature among a record's column names (colmap[f]
 * becomes its index) or fails with ERR_INVALID "new.csv: column 'state' is missing (the model
 * needs it)". preprocess_encode_fields writes one row of width values; a field marked
 * CSV_FIELD_NUMBER (table/csv.h) is taken as its num, never missing. Errors name
 * "FILE:LINE:COL" and the column: a number that is not one, a non-finite number, a boolean
 * that is not true/false, an unseen category under UNSEEN_ERROR.
 * na_tokens (n_na) are extra missing-value tokens, as table_options'.
 */
int preprocess_map_columns(size_t *colmap, const struct preprocess *p, const char *const *names,
			   size_t nnames, const char *source, struct error *err);
int preprocess_encode_fields(const struct preprocess *p, const size_t *colmap,
			     const struct csv_field *fields, const char *source,
			     const char *const *na_tokens, size_t n_na, enum unseen_policy unseen,
			     double *row, struct error *err);

/* The preprocessing as JSON ("mode", "features": [...]) and back; from_json validates all. */
json_t *preprocess_to_json(const struct preprocess *p);
int preprocess_from_json(struct preprocess *out, const json_t *j, struct error *err);

#endif
