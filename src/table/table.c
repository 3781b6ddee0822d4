/* Column storage: growable typed arrays, missing bitmaps, string dictionaries, lookups, appends. */
#include "util/common.h"
#include "table/table_internal.h"
#include "util/suggest.h"

#include <math.h>

int utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;

	while (p < end) {
		int n;

		if (*p == 0)
			return 0;
		if (*p < 0x80) {
			p++;
			continue;
		}
		n = utf8_seq(p, end, 1);
		if (n <= 0)
			return 0;
		p += n;
	}
	return 1;
}

/* FNV-1a: categories are short strings. */
static uint32_t hash_bytes(const char *s, size_t len)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h;
}

static size_t dict_len(const struct table_dict *d, uint32_t code)
{
	return d->offs[code + 1] - d->offs[code] - 1;
}

static void dict_rehash(struct table_dict *d)
{
	size_t n = d->nslots ? d->nslots * 2 : 64;

	free(d->slots);
	d->slots = xcalloc(n, sizeof(*d->slots));
	d->nslots = n;
	for (size_t code = 0; code < d->nr; code++) {
		size_t i = d->hashes[code] & (n - 1);

		while (d->slots[i])
			i = (i + 1) & (n - 1);
		d->slots[i] = (uint32_t)code + 1;
	}
}

/* The slot holding s, or the empty slot where it would go. */
static size_t dict_probe(const struct table_dict *d, const char *s, size_t len, uint32_t h)
{
	size_t mask = d->nslots - 1, i = h & mask;

	for (;; i = (i + 1) & mask) {
		uint32_t slot = d->slots[i];

		if (!slot)
			return i;
		if (d->hashes[slot - 1] == h && dict_len(d, slot - 1) == len &&
		    !memcmp(d->pool.buf + d->offs[slot - 1], s, len))
			return i;
	}
}

uint32_t dict_intern(struct table_dict *d, const char *s, size_t len)
{
	uint32_t h = hash_bytes(s, len);
	size_t i;

	if (2 * (d->nr + 1) > d->nslots)
		dict_rehash(d);
	i = dict_probe(d, s, len, h);
	if (d->slots[i])
		return d->slots[i] - 1;
	if (d->nr >= TABLE_NO_CODE - 1)
		BUG("more than %u categories", TABLE_NO_CODE - 1);
	ALLOC_GROW(d->offs, d->nr + 2, d->alloc);
	d->hashes = xreallocarray(d->hashes, d->alloc, sizeof(*d->hashes));
	d->offs[0] = 0;
	strbuf_add(&d->pool, s, len);
	strbuf_addch(&d->pool, '\0');
	d->offs[d->nr + 1] = d->pool.len;
	d->hashes[d->nr] = h;
	d->slots[i] = (uint32_t)d->nr + 1;
	return (uint32_t)d->nr++;
}

void dict_release(struct table_dict *d)
{
	strbuf_release(&d->pool);
	free(d->offs);
	free(d->hashes);
	free(d->slots);
	memset(d, 0, sizeof(*d));
	strbuf_init(&d->pool, 0);
}

size_t column_ncategories(const struct column *c)
{
	return c->type == COLUMN_CATEGORICAL ? c->dict.nr : 0;
}

const char *column_category(const struct column *c, uint32_t code)
{
	if (c->type != COLUMN_CATEGORICAL || code >= c->dict.nr)
		BUG("no category %" PRIu32 " in column '%s'", code, c->name);
	return c->dict.pool.buf + c->dict.offs[code];
}

int column_category_code(uint32_t *out, const struct column *c, const char *s)
{
	size_t len = strlen(s), i;

	if (c->type != COLUMN_CATEGORICAL || !c->dict.nslots)
		return ERR_NOTFOUND;
	i = dict_probe(&c->dict, s, len, hash_bytes(s, len));
	if (!c->dict.slots[i])
		return ERR_NOTFOUND;
	*out = c->dict.slots[i] - 1;
	return 0;
}

int table_parse_bool(const char *s, size_t len)
{
	if (len == 4 && (!strcmp(s, "true") || !strcmp(s, "TRUE") || !strcmp(s, "True")))
		return 1;
	if (len == 5 && (!strcmp(s, "false") || !strcmp(s, "FALSE") || !strcmp(s, "False")))
		return 0;
	return -1;
}

const char *column_type_name(enum column_type type)
{
	switch (type) {
	case COLUMN_NUMERIC:
		return "numeric";
	case COLUMN_BOOLEAN:
		return "boolean";
	case COLUMN_CATEGORICAL:
		return "categorical";
	}
	BUG("unknown column type %d", (int)type);
}

static size_t words(size_t rows)
{
	return (rows + 63) / 64;
}

static void column_reserve(struct column *c, size_t old_alloc, size_t alloc)
{
	if (c->type == COLUMN_CATEGORICAL)
		c->codes = xreallocarray(c->codes, alloc ? alloc : 1, sizeof(*c->codes));
	else
		c->values = xreallocarray(c->values, alloc ? alloc : 1, sizeof(*c->values));
	if (c->missing) {
		c->missing =
		    xreallocarray(c->missing, words(alloc) ? words(alloc) : 1, sizeof(*c->missing));
		memset(c->missing + words(old_alloc), 0,
		       (words(alloc) - words(old_alloc)) * sizeof(*c->missing));
	}
}

void table_reserve_rows(struct table *t, size_t nrows)
{
	size_t alloc = t->rows_alloc;

	if (nrows <= alloc)
		return;
	alloc = alloc < 1024 ? 1024 : alloc;
	while (alloc < nrows)
		alloc = alloc > SIZE_MAX / 2 ? nrows : alloc * 2;
	for (size_t j = 0; j < t->ncols; j++)
		column_reserve(t->cols[j], t->rows_alloc, alloc);
	t->rows_alloc = alloc;
}

struct column *table_push_column(struct table *t, const char *name, enum column_type type)
{
	struct column *c = xcalloc(1, sizeof(*c));

	c->name = xstrdup(name);
	c->type = type;
	strbuf_init(&c->dict.pool, 0);
	column_reserve(c, 0, t->rows_alloc);
	ALLOC_GROW(t->cols, t->ncols + 1, t->cols_alloc);
	t->cols[t->ncols++] = c;
	return c;
}

void column_set_missing(struct column *c, size_t row, size_t rows_alloc)
{
	if (!c->missing)
		c->missing =
		    xcalloc(words(rows_alloc) ? words(rows_alloc) : 1, sizeof(*c->missing));
	if (c->type == COLUMN_CATEGORICAL)
		c->codes[row] = TABLE_NO_CODE;
	else
		c->values[row] = 0.0;
	c->missing[row / 64] |= UINT64_C(1) << (row % 64);
	c->n_missing++;
}

void column_make_categorical(struct column *c, size_t rows_alloc)
{
	free(c->values);
	c->values = NULL;
	c->type = COLUMN_CATEGORICAL;
	c->codes = xreallocarray(NULL, rows_alloc ? rows_alloc : 1, sizeof(*c->codes));
	for (size_t i = 0; i < rows_alloc; i++)
		c->codes[i] = TABLE_NO_CODE;
}

void column_free(struct column *c)
{
	if (!c)
		return;
	free(c->name);
	free(c->missing);
	free(c->values);
	free(c->codes);
	dict_release(&c->dict);
	free(c);
}

struct table *table_new(const char *name)
{
	struct table *t = xcalloc(1, sizeof(*t));

	t->name = xstrdup(name);
	return t;
}

void table_free(struct table *t)
{
	if (!t)
		return;
	for (size_t j = 0; j < t->ncols; j++)
		column_free(t->cols[j]);
	free(t->cols);
	free(t->name);
	free(t);
}

int table_find(size_t *out, const struct table *t, const char *name, struct error *err)
{
	const char **names;
	const char *best;

	for (size_t j = 0; j < t->ncols; j++)
		if (!strcmp(t->cols[j]->name, name)) {
			*out = j;
			return 0;
		}
	names = xcalloc(t->ncols + 1, sizeof(*names));
	for (size_t j = 0; j < t->ncols; j++)
		names[j] = t->cols[j]->name;
	best = suggest_closest(name, names, t->ncols);
	if (best)
		error_set(err, ERR_NOTFOUND, "no column '%s' in '%s'; did you mean '%s'?", name,
			  t->name, best);
	else
		error_set(err, ERR_NOTFOUND, "no column '%s' in '%s'", name, t->name);
	free(names);
	return ERR_NOTFOUND;
}

static int check_new_column(struct table *t, const char *name, size_t n, struct error *err)
{
	size_t j;

	if (!*name)
		return error_set(err, ERR_INVALID, "empty column name");
	if (!utf8_valid(name, strlen(name)))
		return error_set(err, ERR_INVALID, "column name is not valid UTF-8");
	if (!table_find(&j, t, name, NULL))
		return error_set(err, ERR_EXISTS, "column '%s' exists already in '%s'", name,
				 t->name);
	if (t->ncols && n != t->nrows)
		return error_set(err, ERR_INVALID,
				 "column '%s' has %zu values, but '%s' has %zu rows", name, n,
				 t->name, t->nrows);
	return 0;
}

int table_add_numeric(struct table *t, const char *name, const double *values, size_t n,
		      struct error *err)
{
	struct column *c;
	int rc = check_new_column(t, name, n, err);

	for (size_t i = 0; !rc && i < n; i++)
		if (isinf(values[i]))
			rc = error_set(err, ERR_INVALID,
				       "row %zu of column '%s' is infinite: numbers must be finite",
				       i + 1, name);
	if (rc)
		return rc;
	if (!t->ncols)
		t->nrows = n;
	table_reserve_rows(t, t->nrows);
	c = table_push_column(t, name, COLUMN_NUMERIC);
	for (size_t i = 0; i < n; i++) {
		if (isnan(values[i]))
			column_set_missing(c, i, t->rows_alloc);
		else
			c->values[i] = values[i];
	}
	return 0;
}

int table_add_categorical(struct table *t, const char *name, const char *const *values, size_t n,
			  struct error *err)
{
	struct column *c;
	int rc = check_new_column(t, name, n, err);

	for (size_t i = 0; !rc && i < n; i++)
		if (values[i] && !utf8_valid(values[i], strlen(values[i])))
			rc = error_set(err, ERR_INVALID,
				       "row %zu of column '%s' is not valid UTF-8", i + 1, name);
	if (rc)
		return rc;
	if (!t->ncols)
		t->nrows = n;
	table_reserve_rows(t, t->nrows);
	c = table_push_column(t, name, COLUMN_CATEGORICAL);
	for (size_t i = 0; i < n; i++) {
		if (!values[i])
			column_set_missing(c, i, t->rows_alloc);
		else
			c->codes[i] = dict_intern(&c->dict, values[i], strlen(values[i]));
	}
	return 0;
}

static int check_value(const struct table *t, const struct column *c, const struct table_value *v,
		       struct error *err)
{
	size_t row = t->nrows + 1;

	switch (v->kind) {
	case TABLE_VALUE_MISSING:
		return 0;
	case TABLE_VALUE_NUMBER:
		if (c->type == COLUMN_CATEGORICAL)
			return error_set(err, ERR_INVALID,
					 "row %zu: column '%s' is categorical, got a number", row,
					 c->name);
		if (!isfinite(v->number))
			return error_set(err, ERR_INVALID,
					 "row %zu: expected a finite number in column '%s'", row,
					 c->name);
		if (c->type == COLUMN_BOOLEAN && v->number != 0 && v->number != 1)
			return error_set(err, ERR_INVALID,
					 "row %zu: column '%s' is boolean, got %g (not 0 or 1)",
					 row, c->name, v->number);
		return 0;
	case TABLE_VALUE_STRING:
		if (c->type != COLUMN_CATEGORICAL)
			return error_set(err, ERR_INVALID,
					 "row %zu: column '%s' is %s, got a string", row, c->name,
					 column_type_name(c->type));
		if (!v->string || !utf8_valid(v->string, strlen(v->string)))
			return error_set(err, ERR_INVALID,
					 "row %zu: the value in column '%s' is not valid UTF-8",
					 row, c->name);
		return 0;
	}
	return error_set(err, ERR_INVALID, "row %zu: bad value kind for column '%s'", row, c->name);
}

int table_append_row(struct table *t, const struct table_value *row, struct error *err)
{
	size_t r = t->nrows;

	for (size_t j = 0; j < t->ncols; j++) {
		int rc = check_value(t, t->cols[j], &row[j], err);

		if (rc)
			return rc;
	}
	table_reserve_rows(t, r + 1);
	for (size_t j = 0; j < t->ncols; j++) {
		struct column *c = t->cols[j];

		if (row[j].kind == TABLE_VALUE_MISSING)
			column_set_missing(c, r, t->rows_alloc);
		else if (c->type == COLUMN_CATEGORICAL)
			c->codes[r] = dict_intern(&c->dict, row[j].string, strlen(row[j].string));
		else
			c->values[r] = row[j].number;
	}
	t->nrows++;
	return 0;
}
