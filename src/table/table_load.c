/*
 * CSV to table: one streaming pass that infers each column's type as it stores it (a big file in
 * two halves on two threads, then merged), and a partial second pass for the columns that turned
 * categorical after holding numbers or booleans.
 */
#include "util/common.h"
#include "table/csv.h"
#include "table/number.h"
#include "table/table_internal.h"
#include "util/log.h"
#include "util/progress.h"
#include "util/workpool.h"

#include <pthread.h>
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
	} else if (table_parse_bool(f->str, f->len) >= 0) {
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
		b = table_parse_bool(f->str, f->len);
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

/* Every record of l->r into l->t: 0, or the reader's error. */
static int read_all(struct loader *l, struct error *err)
{
	const struct csv_field *fields;
	size_t max = BATCH_FIELDS / l->t->ncols, n;
	uint64_t reported = csv_bytes_read(l->r);
	int rc;

	while (!(rc = csv_next_batch(&fields, &n, l->r, max, err)) && n) {
		convert_batch(l, fields, n);
		progress_add(l->opts->progress, csv_bytes_read(l->r) - reported);
		reported = csv_bytes_read(l->r);
	}
	return rc;
}

static void loader_init(struct loader *l, struct csv_reader *r, const struct table_options *opts)
{
	const char *const *names = csv_column_names(r);

	l->r = r;
	l->t = table_new(csv_name(r));
	l->opts = opts;
	l->inf = xcalloc(csv_ncols(r), sizeof(*l->inf));
	for (size_t j = 0; j < csv_ncols(r); j++) {
		table_push_column(l->t, names[j], COLUMN_NUMERIC);
		l->inf[j].first_value = SIZE_MAX;
		l->inf[j].promoted = SIZE_MAX;
		strbuf_init(&l->inf[j].early.pool, 0);
	}
}

/* Frees the inference state and the table, unless the caller took it (l->t = NULL). */
static void loader_release(struct loader *l)
{
	for (size_t j = 0; l->t && j < l->t->ncols; j++)
		dict_release(&l->inf[j].early);
	free(l->inf);
	table_free(l->t);
	l->inf = NULL;
	l->t = NULL;
}

/* Rows of a half's column without a code yet: before promoted, or all of numbers/booleans. */
static size_t rows_without_codes(const struct infer *in, size_t nrows)
{
	if (in->state == INFER_NUMERIC || in->state == INFER_BOOLEAN)
		return nrows;
	return in->state == INFER_CATEGORICAL && in->promoted != SIZE_MAX ? in->promoted : 0;
}

/* Numbers or booleans on both sides (or nothing on one): the second half's values follow. */
static void merge_values(struct loader *a, const struct loader *b, size_t j, uint64_t line_offset)
{
	struct column *ca = a->t->cols[j];
	const struct column *cb = b->t->cols[j];
	struct infer *ia = &a->inf[j];
	const struct infer *ib = &b->inf[j];

	if (ia->state == INFER_EMPTY) {
		ia->state = ib->state;
		ca->type = cb->type;
	}
	memcpy(ca->values + a->t->nrows, cb->values, b->t->nrows * sizeof(*ca->values));
	if (!ia->has_bad && ib->has_bad) {
		ia->has_bad = 1;
		ia->bad_line = ib->bad_line + line_offset;
		ia->bad_col = ib->bad_col;
		memcpy(ia->bad, ib->bad, sizeof(ia->bad));
	}
}

/*
 * A categorical result. When the second half has categories for all its rows they are appended
 * to the first half's (first-seen order holds); otherwise every row before its first category is
 * left to the second pass and its categories are the ones that follow those rows.
 */
static void merge_codes(struct loader *a, struct loader *b, size_t j)
{
	struct column *ca = a->t->cols[j], *cb = b->t->cols[j];
	struct infer *ia = &a->inf[j];
	size_t na = a->t->nrows, nb = b->t->nrows;
	size_t a_lacks = rows_without_codes(ia, na), b_lacks = rows_without_codes(&b->inf[j], nb);
	size_t promoted = b_lacks ? na + b_lacks : a_lacks;
	uint32_t *remap = NULL;

	if (ca->type != COLUMN_CATEGORICAL)
		column_make_categorical(ca, a->t->rows_alloc);
	if (b_lacks) {
		dict_release(&ca->dict);
		ca->dict = cb->dict;
		memset(&cb->dict, 0, sizeof(cb->dict));
		strbuf_init(&cb->dict.pool, 0);
	} else if (cb->type == COLUMN_CATEGORICAL) {
		remap = xcalloc(cb->dict.nr ? cb->dict.nr : 1, sizeof(*remap));
		for (size_t k = 0; k < cb->dict.nr; k++)
			remap[k] = dict_intern(&ca->dict, cb->dict.pool.buf + cb->dict.offs[k],
					       cb->dict.offs[k + 1] - cb->dict.offs[k] - 1);
	}
	for (size_t k = 0; k < nb; k++) {
		uint32_t code =
		    cb->type == COLUMN_CATEGORICAL && k >= b_lacks ? cb->codes[k] : TABLE_NO_CODE;

		ca->codes[na + k] = remap && code != TABLE_NO_CODE ? remap[code] : code;
	}
	free(remap);
	ia->state = INFER_CATEGORICAL;
	ia->promoted = promoted ? promoted : SIZE_MAX;
	ia->has_bad = 0;
}

static void merge_missing(struct loader *a, const struct loader *b, size_t j)
{
	struct column *ca = a->t->cols[j];
	const struct column *cb = b->t->cols[j];
	size_t na = a->t->nrows;

	if (!cb->n_missing)
		return;
	if (!ca->missing)
		ca->missing = xcalloc((a->t->rows_alloc + 63) / 64, sizeof(*ca->missing));
	for (size_t k = 0; k < b->t->nrows; k++)
		if (column_is_missing(cb, k))
			ca->missing[(na + k) / 64] |= UINT64_C(1) << ((na + k) % 64);
	ca->n_missing += cb->n_missing;
}

/* Appends the second half's rows to the first's; its lines count from line_offset + 1. */
static void merge_halves(struct loader *a, struct loader *b, uint64_t line_offset)
{
	table_reserve_rows(a->t, a->t->nrows + b->t->nrows);
	for (size_t j = 0; j < a->t->ncols; j++) {
		enum infer_state sa = a->inf[j].state, sb = b->inf[j].state;

		if (a->inf[j].first_value == SIZE_MAX && b->inf[j].first_value != SIZE_MAX)
			a->inf[j].first_value = a->t->nrows + b->inf[j].first_value;
		if ((sb == INFER_EMPTY && sa != INFER_CATEGORICAL) ||
		    (sa == INFER_EMPTY && sb != INFER_CATEGORICAL) ||
		    (sa == sb && sa != INFER_CATEGORICAL))
			merge_values(a, b, j, line_offset);
		else
			merge_codes(a, b, j);
		merge_missing(a, b, j);
	}
	a->t->nrows += b->t->nrows;
}

/* Inputs smaller than this are read on one thread; tests lower it (table_internal.h). */
size_t table_split_min_bytes = 16u << 20;

struct half {
	struct loader l;
	int rc;
	struct error err;
};

static void *read_half(void *arg)
{
	struct half *h = arg;

	h->rc = read_all(&h->l, &h->err);
	return NULL;
}

enum halves {
	HALVES_DONE,
	HALVES_NOT_TRIED, /* small input, one CPU, no line end found: the reader is untouched */
	HALVES_FAILED,	  /* a line end inside quotes, or an error anywhere: nothing kept */
};

/*
 * Reads the input in two halves on two threads, the second from the first line end after the
 * middle. When that fails the caller reads the input again in one pass, which reports any error
 * exactly as it would have anyway.
 */
static enum halves load_halves(struct loader *l)
{
	uint64_t size = csv_input_size(l->r), from = size / 2, mid;
	struct csv_reader *part = NULL;
	struct error ignored = ERROR_INIT;
	struct half b;
	pthread_t thread;
	int threaded, rc;

	if (from < csv_bytes_read(l->r))
		from = csv_bytes_read(l->r); /* already in the first half's buffer */
	if (size < table_split_min_bytes || workpool_cpus() < 2 ||
	    csv_split_point(&mid, l->r, from) || mid >= size ||
	    csv_open_part(&part, l->r, mid, size, NULL))
		return HALVES_NOT_TRIED;
	memset(&b, 0, sizeof(b));
	loader_init(&b.l, part, l->opts);
	csv_set_limit(l->r, mid);
	threaded = !pthread_create(&thread, NULL, read_half, &b);
	rc = read_all(l, &ignored);
	if (threaded)
		pthread_join(thread, NULL);
	else
		read_half(&b);
	if (!rc && !b.rc)
		merge_halves(l, &b.l, csv_line(l->r) - 1);
	loader_release(&b.l);
	csv_free(part);
	return rc || b.rc ? HALVES_FAILED : HALVES_DONE;
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
	struct loader l;
	double start = seconds();
	int rc = 0;

	loader_init(&l, r, opts ? opts : &defaults);
	switch (load_halves(&l)) {
	case HALVES_DONE:
		break;
	case HALVES_FAILED:
		loader_release(&l);
		loader_init(&l, r, opts ? opts : &defaults);
		progress_update(l.opts->progress, 0);
		rc = csv_rewind(r, err);
		/* fall through */
	case HALVES_NOT_TRIED:
		if (!rc)
			rc = read_all(&l, err);
	}
	if (!rc && !l.t->nrows)
		rc = error_set(err, ERR_INVALID, "%s: no data rows (only a header)", csv_name(r));
	if (!rc)
		rc = second_pass(&l, err);
	if (!rc)
		rc = check_finite(&l, err);
	if (!rc) {
		/* bench/csv.sh reads this line to time loading alone */
		log_debug("loaded '%s': %zu rows, %zu columns, %" PRIu64 " bytes in %.3f s",
			  csv_name(r), l.t->nrows, l.t->ncols, csv_input_size(r),
			  seconds() - start);
		*out = l.t;
		l.t = NULL;
	}
	loader_release(&l);
	return rc;
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
