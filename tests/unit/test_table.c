/*
 * Unit tests for table/table: type inference, missing values and NA tokens, late promotion to
 * categorical (the second pass), non-finite numbers, lookups, appends, and the real datasets.
 */
#include "util/common.h"
#include "helpers.h"
#include "table/table.h"
#include "table/table_internal.h"

#include <math.h>

static struct table *load_ok(const char *csv, const struct table_options *opts)
{
	struct table *t = NULL;
	struct error err = ERROR_INIT;

	if (table_load_buffer(&t, "t.csv", csv, strlen(csv), opts, &err))
		fail_msg("loading failed: %s", err.msg);
	return t;
}

static void load_fails(const char *csv, const struct table_options *opts, int code, const char *msg)
{
	struct table *t = NULL;
	struct error err = ERROR_INIT;

	assert_int_equal(table_load_buffer(&t, "t.csv", csv, strlen(csv), opts, &err), code);
	assert_string_equal(err.msg, msg);
	assert_null(t);
}

static const struct column *col(const struct table *t, const char *name)
{
	size_t j;
	struct error err = ERROR_INIT;

	if (table_find(&j, t, name, &err))
		fail_msg("%s", err.msg);
	return t->cols[j];
}

/* "a|b||c" for a categorical column ("" marks missing). */
static char *cats(const struct column *c, size_t nrows)
{
	struct strbuf sb = STRBUF_INIT;

	assert_int_equal(c->type, COLUMN_CATEGORICAL);
	for (size_t i = 0; i < nrows; i++) {
		if (i)
			strbuf_addch(&sb, '|');
		if (c->codes[i] == TABLE_NO_CODE)
			assert_true(column_is_missing(c, i));
		else
			strbuf_addstr(&sb, column_category(c, c->codes[i]));
	}
	return strbuf_detach(&sb, NULL);
}

static void assert_cats(const struct column *c, size_t nrows, const char *expected)
{
	char *got = cats(c, nrows);

	assert_string_equal(got, expected);
	free(got);
}

static void test_types(void **state)
{
	struct table *t = load_ok("int,real,exp,bool_r,bool_py,bool_js,yesno,onezero,word,empty\n"
				  "1,-2.5,1e-04,TRUE,True,true,yes,1,a,\n"
				  "+2,.5,-3E+2,FALSE,False,false,no,0,b,\n"
				  "\"3\",\"7.\",0e0,\"TRUE\",True,false,no,1,\"c\",\"\"\n",
				  NULL);

	(void)state;
	assert_int_equal(t->nrows, 3);
	assert_int_equal(t->ncols, 10);
	assert_int_equal(col(t, "int")->type, COLUMN_NUMERIC);
	assert_true(col(t, "int")->values[0] == 1 && col(t, "int")->values[1] == 2 &&
		    col(t, "int")->values[2] == 3);
	assert_true(col(t, "real")->values[0] == -2.5 && col(t, "real")->values[2] == 7.0);
	assert_true(col(t, "exp")->values[0] == 1e-04 && col(t, "exp")->values[1] == -300);
	assert_int_equal(col(t, "bool_r")->type, COLUMN_BOOLEAN);
	assert_int_equal(col(t, "bool_py")->type, COLUMN_BOOLEAN);
	assert_int_equal(col(t, "bool_js")->type, COLUMN_BOOLEAN);
	assert_true(col(t, "bool_r")->values[0] == 1 && col(t, "bool_r")->values[1] == 0 &&
		    col(t, "bool_r")->values[2] == 1);
	assert_true(col(t, "bool_js")->values[2] == 0);
	assert_cats(col(t, "yesno"), 3, "yes|no|no");
	assert_int_equal(column_ncategories(col(t, "yesno")), 2);
	assert_int_equal(col(t, "onezero")->type, COLUMN_NUMERIC);
	assert_cats(col(t, "word"), 3, "a|b|c");
	/* no value at all: numeric, all missing */
	assert_int_equal(col(t, "empty")->type, COLUMN_NUMERIC);
	assert_int_equal(col(t, "empty")->n_missing, 3);
	assert_true(col(t, "empty")->values[1] == 0.0);
	assert_null(col(t, "int")->missing);
	assert_string_equal(column_type_name(COLUMN_BOOLEAN), "boolean");
	table_free(t);
}

static void test_mixed_becomes_categorical(void **state)
{
	struct table *t = load_ok("case,a,b,c,d\n"
				  "x,TRUE,1,007,1.0\n"
				  "y,FALSE,2,7,\n"
				  "z,tRUE,yes,7,1\n"
				  "w,1,,x,1.0\n",
				  NULL);
	uint32_t code = 99;

	(void)state;
	/* the exact text of the earlier rows is kept: "007" and "7", "1.0" and "1" differ */
	assert_cats(col(t, "a"), 4, "TRUE|FALSE|tRUE|1");
	assert_cats(col(t, "b"), 4, "1|2|yes|");
	assert_cats(col(t, "c"), 4, "007|7|7|x");
	assert_int_equal(col(t, "d")->type, COLUMN_NUMERIC);
	assert_int_equal(col(t, "b")->n_missing, 1);
	assert_int_equal(column_ncategories(col(t, "c")), 3);
	assert_int_equal(column_category_code(&code, col(t, "c"), "7"), 0);
	assert_int_equal(code, 1);
	assert_int_equal(column_category_code(&code, col(t, "c"), "8"), ERR_NOTFOUND);
	assert_int_equal(column_category_code(&code, col(t, "d"), "1"), ERR_NOTFOUND);
	table_free(t);
}

static void test_missing_and_na_tokens(void **state)
{
	static const char *const na[] = TABLE_NA_COMMON;
	struct table_options opts = TABLE_OPTIONS_INIT;
	const char *csv = "a,b,c\n1,NA,x\n,2,NaN\nnull,\"\",y\n";
	struct table *t = load_ok(csv, NULL);

	(void)state;
	/* without NA tokens "NA" and "null" are words */
	assert_cats(col(t, "a"), 3, "1||null");
	assert_cats(col(t, "b"), 3, "NA|2|");
	assert_cats(col(t, "c"), 3, "x|NaN|y");
	table_free(t);

	opts.na_tokens = na;
	opts.n_na_tokens = ARRAY_SIZE(na);
	t = load_ok(csv, &opts);
	assert_int_equal(col(t, "a")->type, COLUMN_NUMERIC);
	assert_int_equal(col(t, "a")->n_missing, 2);
	assert_true(column_is_missing(col(t, "a"), 1) && column_is_missing(col(t, "a"), 2));
	assert_false(column_is_missing(col(t, "a"), 0));
	assert_int_equal(col(t, "b")->type, COLUMN_NUMERIC);
	assert_true(col(t, "b")->values[1] == 2 && col(t, "b")->values[0] == 0);
	assert_cats(col(t, "c"), 3, "x||y");
	table_free(t);
}

static void test_nonfinite(void **state)
{
	static const char *const na[] = { "nan" };
	struct table_options opts = TABLE_OPTIONS_INIT;
	struct table *t;

	(void)state;
	load_fails("a,b\n1,2\n3,inf\n4,NaN\n", NULL, ERR_INVALID,
		   "t.csv:3:3: expected a finite number in column 'b', got 'inf' (a missing "
		   "value is an empty field)");
	load_fails("a,b\n1,2\n3,4\n1e999,-Infinity\n", NULL, ERR_INVALID,
		   "t.csv:4:1: expected a finite number in column 'a', got '1e999' (a missing "
		   "value is an empty field)");
	/* a word later makes the column categorical: then "inf" is just a category */
	t = load_ok("a\ninf\n2\nword\n", NULL);
	assert_cats(col(t, "a"), 3, "inf|2|word");
	table_free(t);
	opts.na_tokens = na;
	opts.n_na_tokens = 1;
	t = load_ok("a\n1\nnan\n", &opts);
	assert_int_equal(col(t, "a")->n_missing, 1);
	table_free(t);
}

static void test_load_errors(void **state)
{
	struct table *t = NULL;
	struct error err = ERROR_INIT;
	char *dir = test_tmpdir(), *path = test_path(dir, "t.csv"), expect[4096];
	int fds[2];
	char pipe_path[64];

	(void)state;
	load_fails("a,b\n", NULL, ERR_INVALID, "t.csv: no data rows (only a header)");
	load_fails("a,b\n\n\n", NULL, ERR_INVALID, "t.csv: no data rows (only a header)");
	load_fails("", NULL, ERR_INVALID, "t.csv: empty file, expected a header row");
	load_fails("a,b\n1,2\n3\n", NULL, ERR_INVALID,
		   "t.csv:3:2: expected 2 fields, got 1 (the row ends before column 'b')");
	load_fails("a,a\n1,2\n", NULL, ERR_INVALID,
		   "t.csv:1:3: duplicate column name 'a' (also column 1)");
	assert_int_equal(table_load(&t, path, NULL, &err), ERR_NOTFOUND);

	/* a late categorical needs a second pass, which a pipe cannot give */
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(write(fds[1], "a\n1\nx\n", 6), 6);
	close(fds[1]);
	snprintf(pipe_path, sizeof(pipe_path), "/proc/self/fd/%d", fds[0]);
	assert_int_equal(table_load(&t, pipe_path, NULL, &err), ERR_UNSUPPORTED);
	snprintf(expect, sizeof(expect), "cannot read '%s' twice: it is not a file", pipe_path);
	assert_string_equal(err.msg, expect);
	close(fds[0]);
	assert_null(t);
	free(path);
	test_tmpdir_remove(dir);
}

/* Many rows with columns that turn categorical at different points, read from a file. */
static void test_late_promotion(void **state)
{
	char *dir = test_tmpdir(), *path = test_path(dir, "big.csv");
	struct strbuf csv = STRBUF_INIT;
	size_t n = 300000;
	struct table *t[2] = { NULL, NULL };
	struct error err = ERROR_INIT;

	(void)state;
	strbuf_addstr(&csv, "id,code,flag,num\n");
	for (size_t i = 0; i < n; i++)
		strbuf_addf(&csv, "%zu,%s,%s,%zu.25\n", i,
			    i == n - 1 ? "end" : (i % 3 ? "1" : (i % 2 ? "2" : "")),
			    i == 1000 ? "maybe" : (i % 2 ? "TRUE" : "FALSE"), i);
	test_write_file(path, csv.buf);
	/* from the file (a second pass re-reads it) and from memory */
	assert_int_equal(table_load(&t[0], path, NULL, &err), 0);
	assert_int_equal(table_load_buffer(&t[1], "big.csv", csv.buf, csv.len, NULL, &err), 0);
	for (int k = 0; k < 2; k++) {
		const struct column *code = col(t[k], "code"), *flag = col(t[k], "flag");

		assert_int_equal(t[k]->nrows, n);
		assert_int_equal(col(t[k], "id")->type, COLUMN_NUMERIC);
		assert_true(col(t[k], "num")->values[n - 1] == (double)(n - 1) + 0.25);
		/* first-seen order although "end" was interned before the early rows were re-read */
		assert_int_equal(column_ncategories(code), 3);
		assert_string_equal(column_category(code, 0), "1");
		assert_string_equal(column_category(code, 1), "2");
		assert_string_equal(column_category(code, 2), "end");
		assert_int_equal(code->codes[0], TABLE_NO_CODE);
		assert_int_equal(code->codes[1], 0);
		assert_int_equal(code->codes[3], 1);
		assert_int_equal(code->codes[n - 1], 2);
		assert_int_equal(code->n_missing, (n + 5) / 6);
		assert_string_equal(column_category(flag, 0), "FALSE");
		assert_string_equal(column_category(flag, 1), "TRUE");
		assert_string_equal(column_category(flag, 2), "maybe");
		assert_int_equal(flag->codes[1000], 2);
		assert_int_equal(flag->codes[n - 2], 0);
	}
	/* the same table either way */
	for (size_t j = 0; j < t[0]->ncols; j++) {
		const struct column *a = t[0]->cols[j], *b = t[1]->cols[j];

		assert_int_equal(a->type, b->type);
		assert_int_equal(a->n_missing, b->n_missing);
		if (a->type == COLUMN_CATEGORICAL)
			assert_memory_equal(a->codes, b->codes, n * sizeof(*a->codes));
		else
			assert_memory_equal(a->values, b->values, n * sizeof(*a->values));
	}
	table_free(t[0]);
	table_free(t[1]);
	strbuf_release(&csv);
	free(path);
	test_tmpdir_remove(dir);
}

static void test_find(void **state)
{
	struct table *t = load_ok("sepal length (cm),target\n1,2\n", NULL);
	struct error err = ERROR_INIT;
	size_t j = 99;

	(void)state;
	assert_int_equal(table_find(&j, t, "target", &err), 0);
	assert_int_equal(j, 1);
	assert_int_equal(table_find(&j, t, "sepal lenght (cm)", &err), ERR_NOTFOUND);
	assert_string_equal(err.msg, "no column 'sepal lenght (cm)' in 't.csv'; did you mean "
				     "'sepal length (cm)'?");
	assert_int_equal(table_find(&j, t, "species", &err), ERR_NOTFOUND);
	assert_string_equal(err.msg, "no column 'species' in 't.csv'");
	assert_int_equal(j, 1);
	table_free(t);
}

static void test_append(void **state)
{
	struct table *t = table_new("built");
	struct error err = ERROR_INIT;
	const double x[] = { 1.5, NAN, -2 };
	const double bad[] = { 1, INFINITY, 3 };
	const char *const s[] = { "b", NULL, "a" };
	struct table_value row[2] = { { TABLE_VALUE_NUMBER, 7, NULL },
				      { TABLE_VALUE_STRING, 0, "b" } };

	(void)state;
	assert_int_equal(table_add_numeric(t, "x", x, 3, &err), 0);
	assert_int_equal(t->nrows, 3);
	assert_int_equal(col(t, "x")->n_missing, 1);
	assert_true(column_is_missing(col(t, "x"), 1) && col(t, "x")->values[1] == 0);
	assert_int_equal(table_add_categorical(t, "s", s, 3, &err), 0);
	assert_cats(col(t, "s"), 3, "b||a");
	assert_int_equal(table_add_numeric(t, "x", x, 3, &err), ERR_EXISTS);
	assert_string_equal(err.msg, "column 'x' exists already in 'built'");
	assert_int_equal(table_add_numeric(t, "y", x, 2, &err), ERR_INVALID);
	assert_string_equal(err.msg, "column 'y' has 2 values, but 'built' has 3 rows");
	assert_int_equal(table_add_numeric(t, "y", bad, 3, &err), ERR_INVALID);
	assert_string_equal(err.msg, "row 2 of column 'y' is infinite: numbers must be finite");
	assert_int_equal(table_add_numeric(t, "", x, 3, &err), ERR_INVALID);
	assert_int_equal(t->ncols, 2);

	for (int i = 0; i < 5000; i++)
		assert_int_equal(table_append_row(t, row, &err), 0);
	assert_int_equal(t->nrows, 5003);
	assert_true(col(t, "x")->values[5002] == 7);
	assert_int_equal(col(t, "s")->codes[5002], 0);
	assert_int_equal(column_ncategories(col(t, "s")), 2);
	row[0].kind = TABLE_VALUE_MISSING;
	row[1].kind = TABLE_VALUE_MISSING;
	assert_int_equal(table_append_row(t, row, &err), 0);
	assert_true(column_is_missing(col(t, "x"), 5003) && column_is_missing(col(t, "s"), 5003));
	assert_int_equal(col(t, "s")->n_missing, 2);
	row[1].kind = TABLE_VALUE_NUMBER;
	assert_int_equal(table_append_row(t, row, &err), ERR_INVALID);
	assert_string_equal(err.msg, "row 5005: column 's' is categorical, got a number");
	row[1].kind = TABLE_VALUE_STRING;
	row[1].string = "\xff";
	assert_int_equal(table_append_row(t, row, &err), ERR_INVALID);
	assert_string_equal(err.msg, "row 5005: the value in column 's' is not valid UTF-8");
	row[1].kind = TABLE_VALUE_MISSING;
	row[0].kind = TABLE_VALUE_NUMBER;
	row[0].number = NAN;
	assert_int_equal(table_append_row(t, row, &err), ERR_INVALID);
	assert_string_equal(err.msg, "row 5005: expected a finite number in column 'x'");
	row[0].kind = TABLE_VALUE_STRING;
	assert_int_equal(table_append_row(t, row, &err), ERR_INVALID);
	assert_string_equal(err.msg, "row 5005: column 'x' is numeric, got a string");
	assert_int_equal(t->nrows, 5004);
	table_free(t);
}

static void test_append_to_loaded(void **state)
{
	struct table *t = load_ok("flag,n\nTRUE,1\nFALSE,2\n", NULL);
	struct error err = ERROR_INIT;
	struct table_value row[2] = { { TABLE_VALUE_NUMBER, 2, NULL },
				      { TABLE_VALUE_NUMBER, 3, NULL } };
	const double pred[] = { 0.25, 0.75, 0.5 };

	(void)state;
	assert_int_equal(table_append_row(t, row, &err), ERR_INVALID);
	assert_string_equal(err.msg, "row 3: column 'flag' is boolean, got 2 (not 0 or 1)");
	row[0].number = 1;
	assert_int_equal(table_append_row(t, row, &err), 0);
	assert_int_equal(table_add_numeric(t, "pred", pred, 3, &err), 0);
	assert_true(col(t, "pred")->values[2] == 0.5 && col(t, "flag")->values[2] == 1);
	table_free(t);
}

/* tests/data/csv/rfc4180.csv: every quoting case in one file with CRLF line ends and a BOM. */
static void test_fixture_file(void **state)
{
	char *path = test_data_path("csv/rfc4180.csv");
	struct table *t = NULL;
	struct error err = ERROR_INIT;

	(void)state;
	assert_int_equal(table_load(&t, path, NULL, &err), 0);
	assert_int_equal(t->nrows, 4);
	assert_int_equal(t->ncols, 6);
	assert_string_equal(t->cols[0]->name, "id");
	assert_cats(col(t, "name with spaces"), 4, "Smith, Jane|O'Brien||José");
	assert_cats(col(t, "note"), 4, "said \"hi\"|two\r\nlines||plain");
	assert_int_equal(col(t, "score")->type, COLUMN_NUMERIC);
	assert_true(col(t, "score")->values[0] == 1e-04 && col(t, "score")->values[2] == 2.5);
	assert_true(column_is_missing(col(t, "score"), 3));
	assert_int_equal(col(t, "passed")->type, COLUMN_BOOLEAN);
	assert_true(col(t, "passed")->values[3] == 1 && column_is_missing(col(t, "passed"), 2));
	assert_cats(col(t, "grade"), 4, "A|B|A|");
	table_free(t);
	free(path);
}

static void assert_same_table(const struct table *a, const struct table *b)
{
	assert_int_equal(a->nrows, b->nrows);
	assert_int_equal(a->ncols, b->ncols);
	for (size_t j = 0; j < a->ncols; j++) {
		const struct column *x = a->cols[j], *y = b->cols[j];

		assert_string_equal(x->name, y->name);
		assert_int_equal(x->type, y->type);
		assert_int_equal(x->n_missing, y->n_missing);
		for (size_t i = 0; i < a->nrows; i++)
			assert_int_equal(column_is_missing(x, i), column_is_missing(y, i));
		if (x->type != COLUMN_CATEGORICAL) {
			assert_memory_equal(x->values, y->values, a->nrows * sizeof(*x->values));
			continue;
		}
		assert_memory_equal(x->codes, y->codes, a->nrows * sizeof(*x->codes));
		assert_int_equal(column_ncategories(x), column_ncategories(y));
		for (uint32_t k = 0; k < column_ncategories(x); k++)
			assert_string_equal(column_category(x, k), column_category(y, k));
	}
}

/* One value in the style of kind: 0 missing, 1 integers, 2 decimals, 3 booleans, 4 words. */
static void random_value(struct strbuf *sb, int kind, uint64_t *rng)
{
	static const char *const words[] = { "a", "b", "007", "7", "x y", "TRUE" };
	static const char *const bools[] = { "TRUE", "False", "true" };
	uint64_t r = (*rng = *rng * 6364136223846793005u + 1442695040888963407u) >> 33;

	if (kind == 0 || r % 11 == 0)
		return; /* missing, sometimes in any column */
	if (r % 97 == 1)
		strbuf_addstr(sb, "\"q,\nline\""); /* a newline inside quotes: maybe at the split */
	else if (kind == 1)
		strbuf_addf(sb, "%d", (int)(r % 200) - 100);
	else if (kind == 2)
		strbuf_addf(sb, r % 2 ? "%.3f" : "\"%.2e\"", (double)(r % 100000) / 7.0);
	else if (kind == 3)
		strbuf_addstr(sb, bools[r % 3]);
	else
		strbuf_addstr(sb, words[r % 6]);
}

static int load_mode(struct table **out, struct strbuf *csv, int halves, struct error *err)
{
	int rc;

	table_split_min_bytes = halves ? 0 : SIZE_MAX;
	csv_buffer_size = halves ? 16 : CSV_BUFFER_SIZE; /* so that the header read leaves room */
	rc = table_load_buffer(out, "t.csv", csv->buf, csv->len, NULL, err);
	table_split_min_bytes = 16u << 20;
	csv_buffer_size = CSV_BUFFER_SIZE;
	return rc;
}

/*
 * Loading in two halves (a big file on two threads) gives exactly what one pass gives: the same
 * types, values, categories in the same order, missing cells, and the same errors. Random files
 * whose halves disagree about types in every way, some with a newline inside quotes.
 */
static void test_halves_same_as_one_pass(void **state)
{
	uint64_t rng = 99;

	(void)state;
	for (int round = 0; round < 400; round++) {
		struct strbuf csv = STRBUF_INIT;
		struct table *one = NULL, *two = NULL;
		struct error e1 = ERROR_INIT, e2 = ERROR_INIT;
		int kinds[2][4], rows = 10 + round % 37, rc1, rc2;

		for (int h = 0; h < 2; h++)
			for (int j = 0; j < 4; j++)
				kinds[h][j] =
				    (int)((rng = rng * 6364136223846793005u + 1) >> 60) % 5;
		strbuf_addstr(&csv, "a,b,c,d\n");
		for (int i = 0; i < rows; i++) {
			for (int j = 0; j < 4; j++) {
				if (j)
					strbuf_addch(&csv, ',');
				random_value(&csv, kinds[i >= rows / 2][j], &rng);
			}
			if (round % 50 == 7 && i == rows - 2)
				strbuf_addstr(&csv, ",extra"); /* an error late in the file */
			if (round % 50 == 9 && i == rows - 3)
				strbuf_addstr(&csv, "\n1,inf,2,3"); /* a non-finite number maybe */
			strbuf_addch(&csv, '\n');
		}
		rc1 = load_mode(&one, &csv, 0, &e1);
		rc2 = load_mode(&two, &csv, 1, &e2);
		assert_int_equal(rc1, rc2);
		assert_string_equal(e1.msg, e2.msg);
		if (!rc1)
			assert_same_table(one, two);
		table_free(one);
		table_free(two);
		strbuf_release(&csv);
	}
}

static struct table *load_example(const char *file)
{
	char name[256];
	char *path;
	struct table *t = NULL;
	struct error err = ERROR_INIT;

	snprintf(name, sizeof(name), "../../examples/data/%s", file);
	path = test_data_path(name);
	if (table_load(&t, path, NULL, &err))
		fail_msg("%s", err.msg);
	free(path);
	return t;
}

static size_t count_code(const struct column *c, size_t nrows, const char *value)
{
	uint32_t code;
	size_t n = 0;

	assert_int_equal(column_category_code(&code, c, value), 0);
	for (size_t i = 0; i < nrows; i++)
		n += c->codes[i] == code;
	return n;
}

/* Shapes, types and counts as pandas.read_csv sees these files (checked with pandas 1.5.3). */
static void test_datasets(void **state)
{
	struct table *t;
	size_t missing = 0, categorical = 0;

	(void)state;
	t = load_example("mlc_churn.csv");
	assert_int_equal(t->nrows, 5000);
	assert_int_equal(t->ncols, 20);
	for (size_t j = 0; j < t->ncols; j++)
		categorical += t->cols[j]->type == COLUMN_CATEGORICAL;
	assert_int_equal(categorical, 5); /* state, area_code, the two plans, churn */
	assert_int_equal(col(t, "churn")->type, COLUMN_CATEGORICAL);
	assert_int_equal(column_ncategories(col(t, "churn")), 2);
	assert_string_equal(column_category(col(t, "churn"), 0), "no");
	assert_int_equal(count_code(col(t, "churn"), t->nrows, "yes"), 707);
	assert_int_equal(count_code(col(t, "state"), t->nrows, "WV"), 158);
	assert_int_equal(column_ncategories(col(t, "state")), 51);
	assert_int_equal(count_code(col(t, "area_code"), t->nrows, "area_code_415"), 2495);
	assert_int_equal(col(t, "account_length")->type, COLUMN_NUMERIC);
	assert_true(col(t, "total_day_minutes")->values[0] == 265.1);
	table_free(t);

	t = load_example("PimaIndiansDiabetes2.csv");
	assert_int_equal(t->nrows, 768);
	for (size_t j = 0; j < t->ncols; j++)
		missing += t->cols[j]->n_missing;
	assert_int_equal(missing, 652);
	assert_int_equal(col(t, "insulin")->n_missing, 374);
	assert_int_equal(col(t, "triceps")->n_missing, 227);
	assert_int_equal(col(t, "insulin")->type, COLUMN_NUMERIC);
	assert_int_equal(count_code(col(t, "diabetes"), t->nrows, "pos"), 268);
	table_free(t);

	t = load_example("breast_cancer.csv");
	assert_int_equal(t->nrows, 569);
	assert_int_equal(t->ncols, 31);
	assert_true(col(t, "mean radius")->values[0] == 17.99);
	assert_int_equal(col(t, "mean fractal dimension")->type, COLUMN_NUMERIC);
	table_free(t);

	t = load_example("wine.csv");
	assert_int_equal(t->nrows, 178);
	assert_true(col(t, "od280/od315_of_diluted_wines")->values[0] == 3.92);
	table_free(t);

	t = load_example("diabetes.csv");
	assert_int_equal(t->nrows, 442);
	assert_int_equal(t->ncols, 11);
	table_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_types),
		cmocka_unit_test(test_mixed_becomes_categorical),
		cmocka_unit_test(test_missing_and_na_tokens),
		cmocka_unit_test(test_nonfinite),
		cmocka_unit_test(test_load_errors),
		cmocka_unit_test(test_late_promotion),
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_append),
		cmocka_unit_test(test_append_to_loaded),
		cmocka_unit_test(test_halves_same_as_one_pass),
		cmocka_unit_test(test_fixture_file),
		cmocka_unit_test(test_datasets),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
