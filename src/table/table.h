/*
 * Columnar in-memory tables loaded from CSV with per-column type inference, plus the API to
 * look columns up by name and to append rows and columns.
 *
 * Types are inferred over the whole file, the way pandas' read_csv would see them:
 *  - numeric: every non-missing value is a decimal number ("-3", "+2.5", ".5", "1e-04"),
 *    stored as double exactly as strtod rounds it;
 *  - boolean: every non-missing value is true/false written TRUE/FALSE (R), True/False
 *    (Python) or true/false, stored as 0/1 (yes/no is categorical: it is often a target);
 *  - categorical: anything else, including a column mixing numbers and words; stored as codes
 *    into a dictionary of the distinct strings in first-seen order, keeping the exact text
 *    ("007" and "7" are two categories).
 * A column with no value at all is numeric. Quoting does not change a value's type.
 *
 * Missing values: an empty field (quoted or not) and any of the configured NA tokens (none by
 * default; "NA", "NaN", "null" are common, see TABLE_NA_COMMON). They are marked in a bitmap;
 * the stored value there is 0.0 or TABLE_NO_CODE, so arrays never hold NaN.
 *
 * Non-finite numbers: "nan", "inf", "infinity" (any case, signed) and overflows such as 1e999
 * count as numbers for inference, so a numeric column with a stray "inf" stays numeric, and then
 * loading fails at the first one: "data.csv:17:4: expected a finite number in column 'age',
 * got 'inf' (a missing value is an empty field)". Make them missing with NA tokens instead.
 *
 * Loading is one streaming pass; an input of 16 MiB or more is read as two halves on two threads
 * (the second from the first line end after the middle) and merged, with exactly the result of
 * one pass: if that line end was inside quotes, or anything fails, the input is read again in one
 * pass, which also reports errors exactly as one pass does. A column that turns categorical after
 * numbers or booleans were seen in it (say "1", "2", ..., "n/a") needs the original text of its
 * earlier rows: those rows are read again from the file (a second, partial pass), so table_load
 * needs a seekable file for such columns.
 */
#ifndef FERRY_TABLE_TABLE_H
#define FERRY_TABLE_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include "util/strbuf.h"

struct error;
struct progress;

enum column_type {
	COLUMN_NUMERIC,
	COLUMN_BOOLEAN,
	COLUMN_CATEGORICAL,
};

#define TABLE_NO_CODE UINT32_MAX

/* The distinct strings of a categorical column; private to table.c, read via column_*(). */
struct table_dict {
	struct strbuf pool; /* the strings, each NUL-terminated */
	size_t *offs;	    /* nr + 1 offsets into pool */
	uint32_t *hashes;
	size_t nr, alloc;
	uint32_t *slots; /* open addressing: code + 1, 0 for empty */
	size_t nslots;
};

/* One column; read the fields, change them only through the table_* functions. */
struct column {
	char *name;
	enum column_type type;
	size_t n_missing;
	uint64_t *missing; /* bit (i % 64) of word i / 64 set: row i is missing; NULL if none */
	double *values;	   /* numeric and boolean (0/1) columns; 0.0 where missing */
	uint32_t *codes;   /* categorical columns; TABLE_NO_CODE where missing */
	struct table_dict dict;
};

struct table {
	char *name; /* the source, for messages */
	size_t nrows, ncols;
	struct column **cols;
	size_t rows_alloc, cols_alloc;
};

#define TABLE_NA_COMMON                                                                            \
	{                                                                                          \
		"NA", "NaN", "null"                                                                \
	}

struct table_options {
	const char *const *na_tokens; /* extra missing-value tokens, compared exactly */
	size_t n_na_tokens;
	struct progress *progress; /* updated with bytes read; may be NULL */
};

#define TABLE_OPTIONS_INIT                                                                         \
	{                                                                                          \
		NULL, 0, NULL                                                                      \
	}

/*
 * Reads the CSV file at path (see csv.h for the dialect) into *out, which the caller frees
 * with table_free; opts may be NULL. Errors: those of csv_open/csv_next; ERR_INVALID
 * "FILE: no data rows (only a header)"; ERR_INVALID for non-finite numbers (above);
 * ERR_UNSUPPORTED when a second pass is needed but path is not seekable. *out untouched on
 * failure.
 */
int table_load(struct table **out, const char *path, const struct table_options *opts,
	       struct error *err);

/* Like table_load over len bytes at data; name is used in messages. */
int table_load_buffer(struct table **out, const char *name, const void *data, size_t len,
		      const struct table_options *opts, struct error *err);

/* An empty table (no rows, no columns) named name (copied) for messages. */
struct table *table_new(const char *name);
void table_free(struct table *t);

const char *column_type_name(enum column_type type); /* "numeric", "boolean", "categorical" */

/* A boolean field as table_load reads one (s NUL-terminated): 1 true, 0 false, -1 neither. */
int table_parse_bool(const char *s, size_t len);

static inline int column_is_missing(const struct column *c, size_t row)
{
	return c->missing && (c->missing[row / 64] >> (row % 64)) & 1;
}

/* Categories of a categorical column (0 for others); the string is borrowed from c. */
size_t column_ncategories(const struct column *c);
const char *column_category(const struct column *c, uint32_t code);
/* The code of s in c: 0, or ERR_NOTFOUND (no error message: the caller knows the context). */
int column_category_code(uint32_t *out, const struct column *c, const char *s);

/*
 * The index of the column called name: 0, or ERR_NOTFOUND "no column 'agee' in 'FILE'; did you
 * mean 'age'?" (the suggestion only when one is close).
 */
int table_find(size_t *out, const struct table *t, const char *name, struct error *err);

/*
 * Append a column of n values (name copied). The first column of an empty table sets the row
 * count; afterwards n must equal t->nrows. Numeric: NaN means missing, infinities are
 * ERR_INVALID. Categorical: NULL means missing, strings must be valid UTF-8 (copied).
 * ERR_EXISTS for a duplicate name, ERR_INVALID for an empty name or a wrong n; t unchanged on
 * failure.
 */
int table_add_numeric(struct table *t, const char *name, const double *values, size_t n,
		      struct error *err);
int table_add_categorical(struct table *t, const char *name, const char *const *values, size_t n,
			  struct error *err);

enum table_value_kind {
	TABLE_VALUE_MISSING,
	TABLE_VALUE_NUMBER, /* numeric (finite) and boolean (0 or 1) columns */
	TABLE_VALUE_STRING, /* categorical columns; valid UTF-8 */
};

struct table_value {
	enum table_value_kind kind;
	double number;
	const char *string;
};

/*
 * Appends one row: t->ncols values in column order. ERR_INVALID naming the column when a value
 * does not fit its column's type; t unchanged on failure.
 */
int table_append_row(struct table *t, const struct table_value *row, struct error *err);

#endif
