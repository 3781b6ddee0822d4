/*
 * Unit tests for ml/preprocess: fitted constants and transformed rows against scikit-learn
 * 1.2.1's SimpleImputer + StandardScaler + OneHotEncoder pipeline
 * (tests/data/reference/preprocess.json), through both the table path (training) and the CSV
 * record path (evaluation, prediction), plus unseen categories, tree mode and the JSON form.
 */
#include "util/common.h"
#include "helpers.h"
#include "ml/preprocess.h"
#include "table/csv.h"
#include "table/table.h"
#include "util/json.h"
#include "util/strbuf.h"

#include <math.h>

struct fixture {
	json_t *ref;
	const json_t *c;
	struct table *t;
	size_t *cols, ncols, *rows, nrows;
	char *path;
};

static void close_to(double got, double want, double tol, const char *what, size_t i)
{
	if (fabs(got - want) > tol * (1 + fabs(want)))
		fail_msg("%s[%zu]: got %.17g, sklearn %.17g", what, i, got, want);
}

static void load_case(struct fixture *f, size_t index)
{
	char *ref_path = test_data_path("reference/preprocess.json");
	struct error err = ERROR_INIT;
	const char *file, *target;
	char *rel;

	memset(f, 0, sizeof(*f));
	assert_int_equal(json_load_path(&f->ref, ref_path, 1u << 24, &err), 0);
	f->c = json_array_get(json_object_get(f->ref, "cases"), index);
	assert_non_null(f->c);
	assert_int_equal(json_get_string(f->c, "file", &file, 1, &err), 0);
	assert_int_equal(json_get_string(f->c, "target", &target, 1, &err), 0);
	rel = xstrfmt("../../examples/data/%s", file);
	f->path = test_data_path(rel);
	free(rel);
	if (table_load(&f->t, f->path, NULL, &err))
		fail_msg("%s", err.msg);
	f->cols = xmalloc(f->t->ncols * sizeof(*f->cols));
	for (size_t i = 0; i < f->t->ncols; i++)
		if (strcmp(f->t->cols[i]->name, target))
			f->cols[f->ncols++] = i;
	f->nrows = f->t->nrows;
	f->rows = xmalloc(f->nrows * sizeof(*f->rows));
	for (size_t i = 0; i < f->nrows; i++)
		f->rows[i] = i;
	free(ref_path);
}

static void release_case(struct fixture *f)
{
	json_decref(f->ref);
	table_free(f->t);
	free(f->cols);
	free(f->rows);
	free(f->path);
}

static void check_fitted(const struct preprocess *p, const json_t *c)
{
	const json_t *features = json_object_get(c, "features");
	const json_t *names = json_object_get(c, "names");

	assert_int_equal(p->nfeatures, json_array_size(features));
	assert_int_equal(p->width, json_array_size(names));
	for (size_t i = 0; i < p->width; i++)
		assert_string_equal(p->output_names[i],
				    json_string_value(json_array_get(names, i)));
	for (size_t i = 0; i < p->nfeatures; i++) {
		const json_t *jf = json_array_get(features, i);
		const struct feature *f = &p->features[i];

		assert_string_equal(f->name, json_string_value(json_object_get(jf, "name")));
		if (!strcmp(json_string_value(json_object_get(jf, "type")), "categorical")) {
			const json_t *cats = json_object_get(jf, "categories");

			assert_int_equal(f->type, COLUMN_CATEGORICAL);
			assert_int_equal(f->ncategories, json_array_size(cats));
			for (size_t j = 0; j < f->ncategories; j++)
				assert_string_equal(f->categories[j],
						    json_string_value(json_array_get(cats, j)));
			assert_string_equal(f->categories[f->impute_category],
					    json_string_value(json_object_get(jf, "impute")));
			continue;
		}
		close_to(f->impute, json_number_value(json_object_get(jf, "impute")), 0, "impute",
			 i);
		close_to(f->mean, json_number_value(json_object_get(jf, "mean")), 1e-14, "mean", i);
		close_to(f->scale, json_number_value(json_object_get(jf, "scale")), 1e-13, "scale",
			 i);
	}
}

static void check_row(const double *got, const json_t *want, size_t width, const char *what)
{
	assert_int_equal(json_array_size(want), width);
	for (size_t j = 0; j < width; j++)
		close_to(got[j], json_number_value(json_array_get(want, j)), 1e-12, what, j);
}

/* Fitting on the table and transforming its rows (the training path). */
static void test_fit_transform(void **state)
{
	(void)state;
	for (size_t k = 0; k < 2; k++) {
		struct preprocess p = PREPROCESS_INIT;
		struct error err = ERROR_INIT;
		struct fixture f;
		const json_t *rows, *want;
		size_t *sel;
		double *X;

		load_case(&f, k);
		if (preprocess_fit(&p, PREPROCESS_LINEAR, f.t, f.cols, f.ncols, f.rows, f.nrows,
				   &err))
			fail_msg("%s", err.msg);
		check_fitted(&p, f.c);
		rows = json_object_get(f.c, "rows");
		want = json_object_get(f.c, "transformed");
		sel = xmalloc(json_array_size(rows) * sizeof(*sel));
		for (size_t i = 0; i < json_array_size(rows); i++)
			sel[i] = (size_t)json_integer_value(json_array_get(rows, i));
		X = xmalloc(json_array_size(rows) * p.width * sizeof(*X));
		preprocess_transform(&p, f.t, f.cols, sel, json_array_size(rows), X);
		for (size_t i = 0; i < json_array_size(rows); i++)
			check_row(X + i * p.width, json_array_get(want, i), p.width, "table row");
		free(X);
		free(sel);
		preprocess_release(&p);
		release_case(&f);
	}
}

/* The same rows read as CSV records (the prediction path) give sklearn's output too. */
static void test_encode_records(void **state)
{
	(void)state;
	for (size_t k = 0; k < 2; k++) {
		struct preprocess p = PREPROCESS_INIT;
		struct error err = ERROR_INIT;
		struct csv_reader *r = NULL;
		const struct csv_field *rec;
		struct csv_field *typed = NULL;
		const json_t *rows, *want;
		struct fixture f;
		size_t *colmap, next = 0, row = 0;
		double *out;

		load_case(&f, k);
		assert_int_equal(preprocess_fit(&p, PREPROCESS_LINEAR, f.t, f.cols, f.ncols, f.rows,
						f.nrows, &err),
				 0);
		assert_int_equal(csv_open(&r, f.path, &err), 0);
		colmap = xmalloc(p.nfeatures * sizeof(*colmap));
		assert_int_equal(preprocess_map_columns(colmap, &p, csv_column_names(r),
							csv_ncols(r), f.path, &err),
				 0);
		rows = json_object_get(f.c, "rows");
		want = json_object_get(f.c, "transformed");
		out = xmalloc(p.width * sizeof(*out));
		while (next < json_array_size(rows) && csv_next(&rec, r, &err) == 1) {
			if ((json_int_t)row++ != json_integer_value(json_array_get(rows, next)))
				continue;
			if (preprocess_encode_fields(&p, colmap, rec, f.path, NULL, 0, UNSEEN_ERROR,
						     out, &err))
				fail_msg("%s", err.msg);
			check_row(out, json_array_get(want, next), p.width, "record");
			/* the same record with its numbers given as doubles, as a server passes them */
			typed = xrealloc(typed, csv_ncols(r) * sizeof(*typed));
			memcpy(typed, rec, csv_ncols(r) * sizeof(*typed));
			for (size_t i = 0; i < p.nfeatures; i++) {
				struct csv_field *t = &typed[colmap[i]];

				if (p.features[i].type != COLUMN_NUMERIC || !t->len)
					continue;
				t->quoted = CSV_FIELD_NUMBER;
				t->num = strtod(t->str, NULL);
				t->str = "";
				t->len = 0;
			}
			if (preprocess_encode_fields(&p, colmap, typed, f.path, NULL, 0,
						     UNSEEN_ERROR, out, &err))
				fail_msg("%s", err.msg);
			check_row(out, json_array_get(want, next), p.width, "typed record");
			next++;
		}
		assert_int_equal(next, json_array_size(rows));
		free(typed);
		free(out);
		free(colmap);
		csv_free(r);
		preprocess_release(&p);
		release_case(&f);
	}
}

/* A CSV record from the reference's "values" (null = empty field) under the file's header. */
static struct csv_reader *record_of(const json_t *values, const struct table *t, size_t target,
				    struct strbuf *buf)
{
	struct error err = ERROR_INIT;
	struct csv_reader *r = NULL;
	size_t k = 0;

	for (size_t i = 0; i < t->ncols; i++) {
		if (i == target)
			continue;
		strbuf_addf(buf, "%s%s", buf->len ? "," : "", t->cols[i]->name);
	}
	strbuf_addch(buf, '\n');
	for (size_t i = 0; i < t->ncols; i++) {
		const json_t *v;

		if (i == target)
			continue;
		v = json_array_get(values, k);
		if (k++)
			strbuf_addch(buf, ',');
		if (json_is_string(v))
			strbuf_addstr(buf, json_string_value(v));
		else if (json_is_integer(v))
			strbuf_addf(buf, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		else if (json_is_real(v))
			strbuf_addf(buf, "%.17g", json_real_value(v));
	}
	strbuf_addch(buf, '\n');
	assert_int_equal(csv_open_buffer(&r, "extra.csv", buf->buf, buf->len, &err), 0);
	return r;
}

/* Unseen categories: all zeros under UNSEEN_IGNORE (sklearn's handle_unknown), else an error. */
static void test_unseen_and_missing(void **state)
{
	(void)state;
	for (size_t k = 0; k < 2; k++) {
		const json_t *extra;
		struct preprocess p = PREPROCESS_INIT;
		struct error err = ERROR_INIT;
		struct strbuf buf = STRBUF_INIT;
		struct csv_reader *r;
		const struct csv_field *rec;
		struct fixture f;
		size_t *colmap, target = 0;
		double *out;
		int has_category;

		load_case(&f, k);
		assert_int_equal(preprocess_fit(&p, PREPROCESS_LINEAR, f.t, f.cols, f.ncols, f.rows,
						f.nrows, &err),
				 0);
		for (size_t i = 0; i < f.t->ncols; i++)
			if (!strcmp(f.t->cols[i]->name,
				    json_string_value(json_object_get(f.c, "target"))))
				target = i;
		extra = json_array_get(json_object_get(f.c, "extra"), 0);
		r = record_of(json_object_get(extra, "values"), f.t, target, &buf);
		colmap = xmalloc(p.nfeatures * sizeof(*colmap));
		assert_int_equal(preprocess_map_columns(colmap, &p, csv_column_names(r),
							csv_ncols(r), "extra.csv", &err),
				 0);
		assert_int_equal(csv_next(&rec, r, &err), 1);
		out = xmalloc(p.width * sizeof(*out));
		if (preprocess_encode_fields(&p, colmap, rec, "extra.csv", NULL, 0, UNSEEN_IGNORE,
					     out, &err))
			fail_msg("%s", err.msg);
		check_row(out, json_object_get(extra, "output"), p.width, "extra");
		has_category = p.width != p.nfeatures;
		err = (struct error)ERROR_INIT;
		if (has_category) {
			assert_int_equal(preprocess_encode_fields(&p, colmap, rec, "extra.csv",
								  NULL, 0, UNSEEN_ERROR, out, &err),
					 ERR_INVALID);
			assert_non_null(strstr(err.msg, "extra.csv:2:1: column 'state' holds 'ZZ', "
							"a category the model never saw"));
		}
		free(out);
		free(colmap);
		csv_free(r);
		strbuf_release(&buf);
		preprocess_release(&p);
		release_case(&f);
	}
}

/* Tree mode: raw numbers, NaN where missing, no imputation; JSON round trip keeps all. */
static void test_tree_mode_and_json(void **state)
{
	struct preprocess p = PREPROCESS_INIT, back = PREPROCESS_INIT;
	struct error err = ERROR_INIT;
	struct fixture f;
	size_t row = 4; /* Pima's 5th data row: 0,137,40,35,168,43.1,2.288,33 - no missing */
	double *X, *Y;
	json_t *j;

	(void)state;
	load_case(&f, 1);
	assert_int_equal(
	    preprocess_fit(&p, PREPROCESS_TREE, f.t, f.cols, f.ncols, f.rows, f.nrows, &err), 0);
	assert_int_equal(p.width, 8);
	X = xmalloc(2 * p.width * sizeof(*X));
	preprocess_transform(&p, f.t, f.cols, &row, 1, X);
	assert_true(X[1] == 137 && X[4] == 168 && X[6] == 2.288);
	row = 0; /* 6,148,72,35,,33.6,0.627,50: insulin missing */
	preprocess_transform(&p, f.t, f.cols, &row, 1, X);
	assert_true(isnan(X[4]) && X[0] == 6 && X[5] == 33.6);

	j = preprocess_to_json(&p);
	assert_int_equal(preprocess_from_json(&back, j, &err), 0);
	Y = xmalloc(p.width * sizeof(*Y));
	preprocess_transform(&back, f.t, f.cols, &row, 1, Y);
	assert_true(isnan(Y[4]) && Y[0] == 6 && Y[5] == 33.6);
	json_decref(j);
	preprocess_release(&back);
	preprocess_release(&p);

	/* linear mode: every constant survives the JSON round trip exactly */
	assert_int_equal(
	    preprocess_fit(&p, PREPROCESS_LINEAR, f.t, f.cols, f.ncols, f.rows, f.nrows, &err), 0);
	j = preprocess_to_json(&p);
	assert_int_equal(preprocess_from_json(&back, j, &err), 0);
	for (size_t i = 0; i < p.nfeatures; i++) {
		assert_true(p.features[i].mean == back.features[i].mean);
		assert_true(p.features[i].scale == back.features[i].scale);
		assert_true(p.features[i].impute == back.features[i].impute);
	}
	json_decref(j);
	free(X);
	free(Y);
	preprocess_release(&back);
	preprocess_release(&p);
	release_case(&f);
}

static void test_bad_json(void **state)
{
	static const char *const bad[] = {
		"{\"mode\": \"forest\", \"features\": [{\"name\": \"a\", \"type\": \"numeric\"}]}",
		"{\"mode\": \"linear\", \"features\": []}",
		"{\"mode\": \"linear\", \"features\": [{\"name\": \"a\", \"type\": \"numeric\", "
		"\"impute\": 1, \"mean\": 0, \"scale\": 0}]}",
		"{\"mode\": \"tree\", \"features\": [{\"name\": \"a\", \"type\": \"categorical\", "
		"\"categories\": [\"b\", \"a\"]}]}",
		"{\"mode\": \"linear\", \"features\": [{\"name\": \"a\", \"type\": "
		"\"categorical\", "
		"\"categories\": [\"a\", \"b\"], \"impute\": \"c\"}]}",
		"{\"mode\": \"tree\", \"features\": [{\"name\": \"a\", \"type\": \"text\"}]}",
	};
	static const char *const msg[] = {
		"expected 'linear' or 'tree'",
		"non-empty array",
		"scale positive",
		"sorted order",
		"not one of the categories",
		"expected numeric, boolean or categorical",
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct preprocess p = PREPROCESS_INIT;
		struct error err = ERROR_INIT;
		json_t *j = NULL;

		assert_int_equal(json_load_buffer(&j, "t", bad[i], strlen(bad[i]), &err), 0);
		assert_int_equal(preprocess_from_json(&p, j, &err), ERR_INVALID);
		if (!strstr(err.msg, msg[i]))
			fail_msg("case %zu: '%s' lacks '%s'", i, err.msg, msg[i]);
		json_decref(j);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fit_transform),
		cmocka_unit_test(test_encode_records),
		cmocka_unit_test(test_unseen_and_missing),
		cmocka_unit_test(test_tree_mode_and_json),
		cmocka_unit_test(test_bad_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
