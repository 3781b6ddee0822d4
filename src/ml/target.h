/*
 * The target column: which task it makes (binary or multiclass classification, regression), the
 * class labels and their order, and turning a column or a CSV field into class indices or
 * values.
 *
 * Class labels are sorted as scikit-learn's LabelEncoder sorts them: numerically for a numeric
 * target, by UTF-8 bytes for text, false before true for booleans. So the positive class of a
 * binary task, index 1, is the greater label: "yes" over "no", 1 over 0, "pos" over "neg".
 */
#ifndef FERRY_ML_TARGET_H
#define FERRY_ML_TARGET_H

#include <jansson.h>
#include <stddef.h>

#include "table/csv.h"
#include "table/table.h"

struct error;

enum ml_task {
	TASK_BINARY,
	TASK_MULTICLASS,
	TASK_REGRESSION,
};

/* What the user asked for; TASK_AUTO decides from the column (target_fit). */
enum task_request {
	TASK_AUTO,
	TASK_CLASSIFICATION,
	TASK_WANT_REGRESSION,
};

/* Most distinct integer values a numeric target may have to be taken as classes by TASK_AUTO. */
#define TARGET_AUTO_MAX_CLASSES 20

struct target {
	char *name;
	enum ml_task task;
	enum column_type type; /* of the training column */
	char **classes;	       /* nclasses labels as text, in class-index order; owned */
	double *class_values;  /* numeric targets: the labels as numbers */
	size_t nclasses;       /* 0 for regression */
};

#define TARGET_INIT                                                                                \
	{                                                                                          \
		NULL, TASK_BINARY, COLUMN_NUMERIC, NULL, NULL, 0                                   \
	}

void target_release(struct target *t);

const char *task_name(enum ml_task task); /* "binary", "multiclass", "regression" */

/*
 * Decides the task and labels from column col of table and fills y_class (classification, n
 * class indices) or y_value (regression, n values); both arrays have table->nrows entries and
 * the caller allocates them. TASK_AUTO: a categorical or boolean column is classification; a
 * numeric one too if its values are integers with at most TARGET_AUTO_MAX_CLASSES distinct,
 * else regression. Errors (ERR_INVALID, naming the file and column): missing values in the
 * target ("first at data row 17"), a single class, a non-numeric target for regression.
 */
int target_fit(struct target *out, const struct table *table, size_t col, enum task_request request,
	       int *y_class, double *y_value, struct error *err);

/*
 * The class index (classification) or value (regression) of a CSV field. ERR_INVALID naming
 * "FILE:LINE:COL" for a missing target, a label the model does not know or a non-number.
 */
int target_encode_field(const struct target *t, const struct csv_field *f, const char *source,
			int *cls, double *value, struct error *err);

json_t *target_to_json(const struct target *t);
int target_from_json(struct target *out, const json_t *j, struct error *err);

#endif
