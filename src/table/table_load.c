/*
 * CSV to table: one streaming pass that infers each column's type as it stores it, and a partial
 * second pass for the columns that turned categorical after holding numbers or booleans.
 */
#include "util/common.h"
#include "table/csv.h"
#include "table/number.h"
#include "table/table_internal.h"
#include "util/log.h"
#include "util/progress.h"

#include <time.h>

/* Fields tokenized, then converted, at a time: about 0.5 MiB of csv_field, cache-sized */
#define BATCH_FIELDS 16384

enum infer_state {
	INFER_EMPTY, /* only missing values so far */
	INFER_NUMERIC,
	INFER_BOOLEAN,
	INFER_CATEGORICAL,
};

struct infer {
	enum infer_state state;
	size_t first_value; /* first non-missing row; SIZE_MAX while there is none */
	size_t promoted;    /* a late categorical: rows before this one need a second pass */
	int has_bad; /* a non-finite number was seen (an error if the column stays numeric) */
	uint64_t bad_line;
	uint32_t bad_col;
	char bad[32];
	struct table_dict early; /* second pass: the categories of rows before promoted */
};

struct loader {
	struct csv_reader *r;
	struct table *t;
	const struct table_options *opts;
	struct infer *inf;
};

static int is_missing(const struct csv_field *f, const struct table_options *opts)
{
	if (!f->len)
		return 1;
	for (size_t i = 0; i < opts->n_na_tokens; i++)
		if (!strcmp(f->str, opts->na_tokens[i]))
			return 1;
	return 0;
}

/* 1 for true, 0 for false, -1 for anything else. */
static int bool_token(const char *s, size_t len)
{
	if (len == 4 && (!strcmp(s, "true") || !strcmp(s, "TRUE") || !strcmp(s, "True")))
		return 1;
	if (len == 5 && (!strcmp(s, "false") || !strcmp(s, "FALSE") || !strcmp(s, "False")))
		return 0;
	return -1;
}

static void note_nonfinite(struct infer *in, const struct csv_field *f)
{
	if (in->has_bad)
		return;
	in->has_bad = 1;
	in->bad_line = f->line;
	in->bad_col = f->col;
	if (f->len < sizeof(in->bad)) {
		memcpy(in->bad, f->str, f->len + 1);
	} else {
		memcpy(in->bad, f->str, sizeof(in->bad) - 4);
		memcpy(in->bad + sizeof(in->bad) - 4, "...", 4);
	}
}

/* The column held numbers or booleans until row: its earlier rows are re-read as text later. */
static void promote(struct loader *l, struct column *c, struct infer *in, size_t row)
{
	column_make_categorical(c, l->t->rows_alloc);
	in->state = INFER_CATEGORICAL;
	in->has_bad = 0;
	if (in->first_value < row)
		in->promoted = row;
}

static void choose_type(struct loader *l, struct column *c, struct infer *in,
			const struct csv_field *f)
{
	double v;
	int kind = num_parse_field(f->str, f->len, &v);

	if (kind != NUM_NONE) {
		in->state = INFER_NUMERIC;
	} else if (bool_token(f->str, f->len) >= 0) {
		in->state = INFER_BOOLEAN;
		c->type = COLUMN_BOOLEAN;
	} else {
		in->state = INFER_CATEGORICAL;
		column_make_categorical(c, l->t->rows_alloc);
	}
}

static void store(struct loader *l, struct column *c, struct infer *in, size_t row,
		  const struct csv_field *f)
{
	double v;
	int kind, b;

	if (in->state == INFER_EMPTY) {
		in->first_value = row;
		choose_type(l, c, in, f);
	}
	switch (in->state) {
	case INFER_NUMERIC:
		kind = num_parse_field(f->str, f->len, &v);
		if (kind == NUM_FINITE) {
			c->values[row] = v;
			return;
		}
		if (kind == NUM_NONFINITE) {
			note_nonfinite(in, f);
			c->values[row] = 0.0;
			return;
		}
		break;
	case INFER_BOOLEAN:
		b = bool_token(f->str, f->len);
		if (b >= 0) {
			c->values[row] = b;
			return;
		}
		break;
	case INFER_CATEGORICAL:
		c->codes[row] = dict_intern(&c->dict, f->str, f->len);
		return;
	case INFER_EMPTY:
		BUG("column '%s' has a value but no type", c->name);
	}
	promote(l, c, in, row);
	c->codes[row] = dict_intern(&c->dict, f->str, f->len);
}

/* Converts n records, row by row: the fields are read in the order they lie in memory. */
static void convert_batch(struct loader *l, const struct csv_field *fields, size_t n)
{
	struct table *t = l->t;
	size_t ncols = t->ncols;

	table_reserve_rows(t, t->nrows + n);
	for (size_t k = 0; k < n; k++, fields += ncols) {
		size_t row = t->nrows + k;

		for (size_t j = 0; j < ncols; j++) {
			if (is_missing(&fields[j], l->opts))
				column_set_missing(t->cols[j], row, t->rows_alloc);
			else
				store(l, t->cols[j], &l->inf[j], row, &fields[j]);
		}
	}
	t->nrows += n;
}

static int changed(struct loader *l, struct error *err)
{
	return error_set(err, ERR_INVALID, "%s: the file changed while being read", csv_name(l->r));
}

/* Renumbers the codes given in the first pass to follow the early rows' categories. */
static void merge_early(struct loader *l, struct column *c, struct infer *in)
{
	struct table_dict *d = &c->dict;
	uint32_t *remap = xcalloc(d->nr ? d->nr : 1, sizeof(*remap));

	for (size_t k = 0; k < d->nr; k++)
		remap[k] = dict_intern(&in->early, d->pool.buf + d->offs[k],
				       d->offs[k + 1] - d->offs[k] - 1);
	for (size_t row = in->promoted; row < l->t->nrows; row++)
		if (c->codes[row] != TABLE_NO_CODE)
			c->codes[row] = remap[c->codes[row]];
	free(remap);
	dict_release(d);
	*d = in->early;
	memset(&in->early, 0, sizeof(in->early));
	strbuf_init(&in->early.pool, 0);
}

static int reread_row(struct loader *l, size_t row, const struct csv_field *fields,
		      struct error *err)
{
	for (size_t j = 0; j < l->t->ncols; j++) {
		struct column *c = l->t->cols[j];
		struct infer *in = &l->inf[j];
		int missing;

		if (in->promoted == SIZE_MAX || row >= in->promoted)
			continue;
		missing = is_missing(&fields[j], l->opts);
		if (missing != column_is_missing(c, row))
			return changed(l, err);
		if (!missing)
			c->codes[row] = dict_intern(&in->early, fields[j].str, fields[j].len);
	}
	return 0;
}

static int second_pass(struct loader *l, struct error *err)
{
	const struct csv_field *fields;
	size_t until = 0;
	int rc;

	for (size_t j = 0; j < l->t->ncols; j++)
		if (l->inf[j].promoted != SIZE_MAX && l->inf[j].promoted > until)
			until = l->inf[j].promoted;
	if (!until)
		return 0;
	rc = csv_rewind(l->r, err);
	for (size_t row = 0; !rc && row < until; row++) {
		rc = csv_next(&fields, l->r, err);
		if (rc == 0)
			return changed(l, err);
		if (rc > 0)
			rc = reread_row(l, row, fields, err);
	}
	if (rc)
		return rc;
	for (size_t j = 0; j < l->t->ncols; j++)
		if (l->inf[j].promoted != SIZE_MAX)
			merge_early(l, l->t->cols[j], &l->inf[j]);
	return 0;
}

/* The first non-finite number, in file order, among the columns that stayed numeric. */
static int check_finite(struct loader *l, struct error *err)
{
	const struct infer *first = NULL;
	size_t col = 0;

	for (size_t j = 0; j < l->t->ncols; j++) {
		const struct infer *in = &l->inf[j];

		if (in->state != INFER_NUMERIC || !in->has_bad)
			continue;
		if (!first || in->bad_line < first->bad_line ||
		    (in->bad_line == first->bad_line && in->bad_col < first->bad_col)) {
			first = in;
			col = j;
		}
	}
	if (!first)
		return 0;
	return error_set(err, ERR_INVALID,
			 "%s:%" PRIu64 ":%" PRIu32 ": expected a finite number in column '%s', "
			 "got '%s' (a missing value is an empty field)",
			 csv_name(l->r), first->bad_line, first->bad_col, l->t->cols[col]->name,
			 first->bad);
}

static int first_pass(struct loader *l, struct error *err)
{
	const struct csv_field *fields;
	size_t max = BATCH_FIELDS / l->t->ncols, n;
	int rc;

	while (!(rc = csv_next_batch(&fields, &n, l->r, max, err)) && n) {
		convert_batch(l, fields, n);
		progress_update(l->opts->progress, csv_bytes_read(l->r));
	}
	if (rc < 0)
		return rc;
	if (!l->t->nrows)
		return error_set(err, ERR_INVALID, "%s: no data rows (only a header)",
				 csv_name(l->r));
	return 0;
}

static double seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int load(struct table **out, struct csv_reader *r, const struct table_options *opts,
		struct error *err)
{
	static const struct table_options defaults = TABLE_OPTIONS_INIT;
	struct loader l = { r, table_new(csv_name(r)), opts ? opts : &defaults, NULL };
	const char *const *names = csv_column_names(r);
	size_t ncols = csv_ncols(r);
	double start = seconds();
	int rc;

	l.inf = xcalloc(ncols, sizeof(*l.inf));
	for (size_t j = 0; j < ncols; j++) {
		table_push_column(l.t, names[j], COLUMN_NUMERIC);
		l.inf[j].first_value = SIZE_MAX;
		l.inf[j].promoted = SIZE_MAX;
		strbuf_init(&l.inf[j].early.pool, 0);
	}
	rc = first_pass(&l, err);
	if (!rc)
		rc = second_pass(&l, err);
	if (!rc)
		rc = check_finite(&l, err);
	for (size_t j = 0; j < ncols; j++)
		dict_release(&l.inf[j].early);
	free(l.inf);
	if (rc) {
		table_free(l.t);
		return rc;
	}
	/* bench/csv.sh reads this line to time loading alone */
	log_debug("loaded '%s': %zu rows, %zu columns, %" PRIu64 " bytes in %.3f s", csv_name(r),
		  l.t->nrows, l.t->ncols, csv_bytes_read(r), seconds() - start);
	*out = l.t;
	return 0;
}

int table_load(struct table **out, const char *path, const struct table_options *opts,
	       struct error *err)
{
	struct csv_reader *r = NULL;
	int rc = csv_open(&r, path, err);

	if (!rc)
		rc = load(out, r, opts, err);
	csv_free(r);
	return rc;
}

int table_load_buffer(struct table **out, const char *name, const void *data, size_t len,
		      const struct table_options *opts, struct error *err)
{
	struct csv_reader *r = NULL;
	int rc = csv_open_buffer(&r, name, data, len, err);

	if (!rc)
		rc = load(out, r, opts, err);
	csv_free(r);
	return rc;
}
