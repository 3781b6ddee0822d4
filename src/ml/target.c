/* The target column: task, class labels in LabelEncoder order, and encoding labels. */
#include "util/common.h"
#include "ml/target.h"
#include "table/number.h"
#include "util/json.h"
#include "util/parse.h"

#include <math.h>

void target_release(struct target *t)
{
	if (!t)
		return;
	free(t->name);
	for (size_t i = 0; i < t->nclasses; i++)
		free(t->classes[i]);
	free(t->classes);
	free(t->class_values);
	*t = (struct target)TARGET_INIT;
}

const char *task_name(enum ml_task task)
{
	switch (task) {
	case TASK_BINARY:
		return "binary";
	case TASK_MULTICLASS:
		return "multiclass";
	case TASK_REGRESSION:
		return "regression";
	}
	return "?";
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static int cmp_string(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Distinct values of a numeric column, sorted, into *out (caller frees); their count. */
static size_t distinct_numbers(double **out, const struct column *c, size_t n)
{
	double *v = xmalloc((n ? n : 1) * sizeof(*v));
	size_t k = 0;

	memcpy(v, c->values, n * sizeof(*v));
	qsort(v, n, sizeof(*v), cmp_double);
	for (size_t i = 0; i < n; i++)
		if (!k || v[i] != v[k - 1])
			v[k++] = v[i];
	*out = v;
	return k;
}

static int all_integers(const double *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] != floor(v[i]) || fabs(v[i]) > 1e15)
			return 0;
	return 1;
}

static size_t class_of_number(const struct target *t, double x)
{
	size_t lo = 0, hi = t->nclasses;

	while (lo + 1 < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (t->class_values[mid] <= x)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

/* Classes of a numeric or boolean column from its sorted distinct values. */
static void numeric_classes(struct target *t, const struct column *c, double *distinct, size_t k,
			    int *y, size_t n)
{
	t->nclasses = k;
	t->class_values = distinct;
	t->classes = xcalloc(k, sizeof(*t->classes));
	for (size_t i = 0; i < k; i++) {
		char buf[FORMAT_DOUBLE_SIZE];

		if (c->type == COLUMN_BOOLEAN)
			t->classes[i] = xstrdup(distinct[i] ? "true" : "false");
		else {
			format_double(buf, distinct[i]);
			t->classes[i] = xstrdup(buf);
		}
	}
	for (size_t i = 0; i < n; i++)
		y[i] = (int)class_of_number(t, c->values[i]);
}

static void categorical_classes(struct target *t, const struct column *c, int *y, size_t n)
{
	size_t ncodes = column_ncategories(c);
	int *index_of_code = xmalloc(ncodes * sizeof(*index_of_code));

	t->classes = xcalloc(ncodes, sizeof(*t->classes));
	for (uint32_t code = 0; code < ncodes; code++)
		t->classes[code] = xstrdup(column_category(c, code));
	t->nclasses = ncodes;
	qsort(t->classes, ncodes, sizeof(*t->classes), cmp_string);
	for (size_t i = 0; i < ncodes; i++) {
		uint32_t code;

		if (column_category_code(&code, c, t->classes[i]))
			BUG("category '%s' vanished", t->classes[i]);
		index_of_code[code] = (int)i;
	}
	for (size_t i = 0; i < n; i++)
		y[i] = index_of_code[c->codes[i]];
	free(index_of_code);
}

static size_t first_missing(const struct column *c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (column_is_missing(c, i))
			return i;
	return n;
}

int target_fit(struct target *out, const struct table *table, size_t col, enum task_request request,
	       int *y_class, double *y_value, struct error *err)
{
	const struct column *c = table->cols[col];
	struct target t = TARGET_INIT;
	double *distinct = NULL;
	size_t n = table->nrows, k = 0;
	int ret = 0;

	if (c->n_missing)
		return error_set(
		    err, ERR_INVALID,
		    "%s: target column '%s' has %zu missing value%s (first at data row "
		    "%zu); remove those rows or choose another target",
		    table->name, c->name, c->n_missing, c->n_missing == 1 ? "" : "s",
		    first_missing(c, n) + 1);
	t.name = xstrdup(c->name);
	t.type = c->type;
	if (c->type != COLUMN_CATEGORICAL)
		k = distinct_numbers(&distinct, c, n);
	if (request == TASK_AUTO) {
		if (c->type == COLUMN_NUMERIC &&
		    (!all_integers(distinct, k) || k > TARGET_AUTO_MAX_CLASSES))
			request = TASK_WANT_REGRESSION;
		else
			request = TASK_CLASSIFICATION;
	}
	if (request == TASK_WANT_REGRESSION) {
		if (c->type != COLUMN_NUMERIC) {
			ret =
			    error_set(err, ERR_INVALID,
				      "%s: target column '%s' is %s, not numeric: regression needs "
				      "numbers (use a classifier for labels)",
				      table->name, c->name, column_type_name(c->type));
			goto out;
		}
		t.task = TASK_REGRESSION;
		memcpy(y_value, c->values, n * sizeof(*y_value));
		goto done;
	}
	if (c->type == COLUMN_CATEGORICAL)
		categorical_classes(&t, c, y_class, n);
	else {
		numeric_classes(&t, c, distinct, k, y_class, n);
		distinct = NULL;
	}
	if (t.nclasses < 2) {
		ret = error_set(err, ERR_INVALID,
				"%s: target column '%s' holds one class only ('%s'): a classifier "
				"needs at least two",
				table->name, c->name, t.classes[0]);
		goto out;
	}
	t.task = t.nclasses == 2 ? TASK_BINARY : TASK_MULTICLASS;
done:
	target_release(out);
	*out = t;
	free(distinct);
	return 0;
out:
	target_release(&t);
	free(distinct);
	return ret;
}

int target_encode_field(const struct target *t, const struct csv_field *f, const char *source,
			int *cls, double *value, struct error *err)
{
	double x;

	if (!f->len)
		return error_set(err, ERR_INVALID, "%s:%" PRIu64 ":%u: target column '%s' is empty",
				 source, f->line, f->col, t->name);
	if (t->task == TASK_REGRESSION || t->type == COLUMN_NUMERIC) {
		if (num_parse_field(f->str, f->len, &x) != NUM_FINITE)
			return error_set(err, ERR_INVALID,
					 "%s:%" PRIu64 ":%u: expected a finite number in target "
					 "column '%s', got '%.40s'",
					 source, f->line, f->col, t->name, f->str);
		if (t->task == TASK_REGRESSION) {
			*value = x;
			return 0;
		}
		*cls = (int)class_of_number(t, x);
		if (t->class_values[*cls] == x)
			return 0;
	} else if (t->type == COLUMN_BOOLEAN) {
		int b = table_parse_bool(f->str, f->len);

		/* both classes exist: a boolean target has false and true */
		if (b >= 0) {
			*cls = b;
			return 0;
		}
	} else {
		for (size_t i = 0; i < t->nclasses; i++)
			if (!strcmp(t->classes[i], f->str)) {
				*cls = (int)i;
				return 0;
			}
	}
	return error_set(err, ERR_INVALID,
			 "%s:%" PRIu64 ":%u: target column '%s' holds '%.40s', a class the model "
			 "does not know (it knows %zu: '%s', '%s'%s)",
			 source, f->line, f->col, t->name, f->str, t->nclasses, t->classes[0],
			 t->classes[1], t->nclasses > 2 ? ", ..." : "");
}

json_t *target_to_json(const struct target *t)
{
	json_t *j = json_pack("{s:s, s:s, s:s}", "name", t->name, "type", column_type_name(t->type),
			      "task", task_name(t->task));

	if (t->task != TASK_REGRESSION) {
		json_t *classes = json_array();

		for (size_t i = 0; i < t->nclasses; i++)
			json_array_append_new(classes, json_string(t->classes[i]));
		json_object_set_new(j, "classes", classes);
	}
	return j;
}

static int parse_type(enum column_type *out, const char *s)
{
	static const enum column_type types[] = { COLUMN_NUMERIC, COLUMN_BOOLEAN,
						  COLUMN_CATEGORICAL };

	for (size_t i = 0; i < ARRAY_SIZE(types); i++)
		if (!strcmp(s, column_type_name(types[i]))) {
			*out = types[i];
			return 0;
		}
	return ERR_INVALID;
}

static int parse_classes(struct target *t, const json_t *classes, struct error *err)
{
	size_t k = json_array_size(classes);

	if (!json_is_array(classes) || k < 2)
		return error_set(err, ERR_INVALID,
				 "target: field 'classes': expected an array of at least 2 labels");
	t->classes = xcalloc(k, sizeof(*t->classes));
	if (t->type != COLUMN_CATEGORICAL)
		t->class_values = xcalloc(k, sizeof(*t->class_values));
	for (size_t i = 0; i < k; i++) {
		const char *s = json_string_value(json_array_get(classes, i));

		if (!s)
			return error_set(err, ERR_INVALID,
					 "target: field 'classes': entry %zu is not a string", i);
		t->classes[t->nclasses++] = xstrdup(s);
		if (t->type == COLUMN_BOOLEAN)
			t->class_values[i] = !strcmp(s, "true");
		else if (t->type == COLUMN_NUMERIC && parse_double(s, &t->class_values[i]))
			return error_set(err, ERR_INVALID,
					 "target: field 'classes': '%s' is not a number", s);
		if (i &&
		    (t->type == COLUMN_CATEGORICAL ? strcmp(t->classes[i - 1], s) >= 0
						   : t->class_values[i - 1] >= t->class_values[i]))
			return error_set(err, ERR_INVALID,
					 "target: field 'classes': labels must be distinct and "
					 "sorted");
	}
	if (t->type == COLUMN_BOOLEAN && k != 2)
		return error_set(err, ERR_INVALID, "target: a boolean target has 2 classes");
	return 0;
}

int target_from_json(struct target *out, const json_t *j, struct error *err)
{
	struct target t = TARGET_INIT;
	const char *name, *type, *task;
	int ret;

	if ((ret = json_get_string(j, "name", &name, 1, err)) ||
	    (ret = json_get_string(j, "type", &type, 1, err)) ||
	    (ret = json_get_string(j, "task", &task, 1, err))) {
		error_prefix(err, "target: ");
		return ret;
	}
	t.name = xstrdup(name);
	if (parse_type(&t.type, type)) {
		ret = error_set(err, ERR_INVALID, "target: unknown column type '%s'", type);
		goto out;
	}
	if (!strcmp(task, "regression")) {
		t.task = TASK_REGRESSION;
	} else if (!strcmp(task, "binary") || !strcmp(task, "multiclass")) {
		ret = parse_classes(&t, json_object_get(j, "classes"), err);
		if (ret)
			goto out;
		t.task = t.nclasses == 2 ? TASK_BINARY : TASK_MULTICLASS;
		if (strcmp(task, task_name(t.task))) {
			ret = error_set(err, ERR_INVALID,
					"target: task '%s' does not match %zu classes", task,
					t.nclasses);
			goto out;
		}
	} else {
		ret = error_set(err, ERR_INVALID,
				"target: field 'task': expected binary, multiclass or regression, "
				"got '%s'",
				task);
		goto out;
	}
	target_release(out);
	*out = t;
	return 0;
out:
	target_release(&t);
	return ret;
}
