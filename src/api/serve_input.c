/*
 * What the three request parsers share: the per-request arena, the column index, the builders
 * that turn JSON rows and columns into cells, and the error plumbing.
 */
#include "util/common.h"
#include "api/serve_internal.h"
#include "util/strbuf.h"

#include <math.h>

/*
 * Under AddressSanitizer the arena poisons what it has not handed out and leaves a redzone
 * after each allocation, so that the fuzzers see overflows between cells, names and the body
 * copy that share a block.
 */
#if defined(__SANITIZE_ADDRESS__)
#define SERVE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SERVE_ASAN 1
#endif
#endif
#ifdef SERVE_ASAN
#include <sanitizer/asan_interface.h>
#define REDZONE 16
#else
#define ASAN_POISON_MEMORY_REGION(p, n) ((void)(p), (void)(n))
#define ASAN_UNPOISON_MEMORY_REGION(p, n) ((void)(p), (void)(n))
#define REDZONE 0
#endif

/* Blocks start at 16 KiB (a small request needs one); a reused input keeps one of at most 4 MiB. */
#define BLOCK_MIN (16u << 10)
#define BLOCK_KEEP (4u << 20)
/* Scratch arrays above these sizes are freed rather than kept for the next request. */
#define TAPE_KEEP (1u << 16)
#define COLS_KEEP (1u << 12)

struct serve_block {
	struct serve_block *next;
	size_t size, used;
	max_align_t data[];
};

static void free_blocks(struct serve_block *b)
{
	while (b) {
		struct serve_block *next = b->next;

		ASAN_UNPOISON_MEMORY_REGION(b->data, b->size);
		free(b);
		b = next;
	}
}

/* Keeps the largest block that is not too large, empty, for the next request. */
static void reset_blocks(struct serve_mem *m)
{
	struct serve_block *keep = NULL, **pp = &m->blocks;

	for (struct serve_block *b = m->blocks; b; b = b->next)
		if (b->size <= BLOCK_KEEP && (!keep || b->size > keep->size))
			keep = b;
	while (*pp) {
		struct serve_block *b = *pp;

		if (b == keep) {
			pp = &b->next;
			continue;
		}
		*pp = b->next;
		ASAN_UNPOISON_MEMORY_REGION(b->data, b->size);
		free(b);
	}
	if (keep) {
		keep->used = 0;
		ASAN_POISON_MEMORY_REGION(keep->data, keep->size);
	}
}

static void empty_content(struct serve_input *in)
{
	in->nrows = in->ncols = 0;
	in->names = NULL;
	in->cells = NULL;
	in->id = NULL;
	in->want_probabilities = 0;
	in->outputs = 0;
}

void serve_input_reset(struct serve_input *in)
{
	struct serve_mem *m;

	empty_content(in);
	if (!in->mem)
		in->mem = xcalloc(1, sizeof(*in->mem));
	m = in->mem;
	reset_blocks(m);
	if (m->tape_alloc > TAPE_KEEP) {
		free(m->tape);
		m->tape = NULL;
		m->tape_alloc = 0;
	}
	if (m->cols_alloc > COLS_KEEP) {
		free(m->cols);
		free(m->slots);
		m->cols = NULL;
		m->slots = NULL;
		m->cols_alloc = m->slots_alloc = 0;
	}
	if (m->grow_alloc > TAPE_KEEP) {
		free(m->grow);
		m->grow = NULL;
		m->grow_alloc = 0;
	}
	m->ncols = 0;
	m->nslots = 0;
	m->length_mismatch = 0;
}

void serve_input_empty(struct serve_input *in)
{
	empty_content(in);
}

void serve_input_release(struct serve_input *in)
{
	struct serve_mem *m;

	if (!in)
		return;
	m = in->mem;
	if (m) {
		free_blocks(m->blocks);
		free(m->tape);
		free(m->cols);
		free(m->slots);
		free(m->grow);
		free(m);
	}
	memset(in, 0, sizeof(*in));
}

void *serve_alloc(struct serve_input *in, size_t size)
{
	struct serve_mem *m = in->mem;
	struct serve_block *b = m->blocks;
	size_t rounded;
	void *p;

	if (size > SIZE_MAX / 2)
		BUG("arena request of %zu bytes", size);
	rounded = ((size + 15) & ~(size_t)15) + REDZONE;
	if (!b || b->size - b->used < rounded) {
		size_t want = b ? b->size * 2 : BLOCK_MIN;

		if (want < rounded)
			want = rounded;
		b = xmalloc(sizeof(*b) + want);
		b->size = want;
		b->used = 0;
		b->next = m->blocks;
		m->blocks = b;
		ASAN_POISON_MEMORY_REGION(b->data, b->size);
	}
	p = (char *)b->data + b->used;
	b->used += rounded;
	ASAN_UNPOISON_MEMORY_REGION(p, size);
	return p;
}

char *serve_strndup(struct serve_input *in, const char *s, size_t len)
{
	char *p = serve_alloc(in, len + 1);

	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

/* Eight bytes at a time, multiply and rotate: names are short and there are few of them. */
static uint32_t name_hash(const char *s, size_t len)
{
	uint64_t h = len * UINT64_C(0x9e3779b97f4a7c15), w;

	for (; len >= 8; s += 8, len -= 8) {
		memcpy(&w, s, 8);
		h = (h ^ w) * UINT64_C(0xff51afd7ed558ccd);
		h ^= h >> 29;
	}
	if (len) {
		w = 0;
		memcpy(&w, s, len);
		h = (h ^ w) * UINT64_C(0xc4ceb9fe1a85ec53);
	}
	h ^= h >> 32;
	return (uint32_t)h;
}

static void slot_insert(struct serve_mem *m, size_t idx)
{
	size_t mask = m->nslots - 1, i = m->cols[idx].hash & mask;

	while (m->slots[i])
		i = (i + 1) & mask;
	m->slots[i] = (uint32_t)idx + 1;
}

static void rehash(struct serve_mem *m, size_t nslots)
{
	if (nslots > m->slots_alloc) {
		free(m->slots);
		m->slots = xcalloc(nslots, sizeof(*m->slots));
		m->slots_alloc = nslots;
	} else {
		memset(m->slots, 0, nslots * sizeof(*m->slots));
	}
	m->nslots = nslots;
	for (size_t i = 0; i < m->ncols; i++)
		slot_insert(m, i);
}

static long find_hashed(const struct serve_mem *m, const char *name, size_t len, uint32_t h)
{
	size_t mask = m->nslots - 1, i;

	if (!m->nslots)
		return -1;
	for (i = h & mask; m->slots[i]; i = (i + 1) & mask) {
		const struct serve_col *c = &m->cols[m->slots[i] - 1];

		if (c->hash == h && c->len == len && !memcmp(c->name, name, len))
			return (long)(m->slots[i] - 1);
	}
	return -1;
}

long serve_col_find(struct serve_input *in, const char *name, size_t len)
{
	if (!in->mem->nslots)
		return -1;
	return find_hashed(in->mem, name, len, name_hash(name, len));
}

void serve_cols_reserve(struct serve_input *in, size_t n)
{
	struct serve_mem *m = in->mem;
	size_t want = 16;

	ALLOC_GROW(m->cols, m->ncols + n, m->cols_alloc);
	while (want < (m->ncols + n) * 2)
		want *= 2;
	if (want > m->nslots)
		rehash(m, want);
}

size_t serve_col_intern(struct serve_input *in, const char *name, size_t len, int *added)
{
	struct serve_mem *m = in->mem;
	uint32_t h = name_hash(name, len);
	long found = find_hashed(m, name, len, h);
	struct serve_col *c;

	*added = found < 0;
	if (found >= 0)
		return (size_t)found;
	ALLOC_GROW(m->cols, m->ncols + 1, m->cols_alloc);
	c = &m->cols[m->ncols++];
	c->name = name;
	c->len = (uint32_t)len;
	c->hash = h;
	c->seen_row = 0;
	/* at most half full, so that probes stay short */
	if (m->ncols * 2 > m->nslots)
		rehash(m, m->nslots ? m->nslots * 2 : 16);
	else
		slot_insert(m, m->ncols - 1);
	return m->ncols - 1;
}

void serve_cols_publish(struct serve_input *in)
{
	struct serve_mem *m = in->mem;

	in->names = serve_alloc(in, m->ncols * sizeof(*in->names));
	for (size_t i = 0; i < m->ncols; i++)
		in->names[i] = (char *)m->cols[i].name;
}

int serve_cells_alloc(struct serve_input *in, size_t nrows, size_t ncols, struct serve_error *e)
{
	if (ncols && nrows > SERVE_MAX_CELLS / ncols)
		return serve_detail(e, ERR_TOOBIG, "the request has more than %u cells",
				    SERVE_MAX_CELLS);
	in->cells = serve_alloc(in, nrows * ncols * sizeof(*in->cells));
	memset(in->cells, 0, nrows * ncols * sizeof(*in->cells));
	return 0;
}

int serve_cell_from_json(struct serve_cell *c, const struct sj_doc *d, uint32_t i,
			 struct serve_error *e, const char *fmt, ...)
{
	const struct sj_node *n = &d->nodes[i];
	char where[256];
	va_list ap;

	switch (n->type) {
	case SJ_NUMBER:
		if (isfinite(n->v.num)) {
			c->type = SERVE_CELL_NUMBER;
			c->num = n->v.num;
			return 0;
		}
		if (n->flags & SJ_NAN) {
			c->type = SERVE_CELL_NULL;
			return 0;
		}
		break;
	case SJ_STRING:
		c->type = SERVE_CELL_STRING;
		c->str = sj_str(d, i);
		c->len = n->v.s.len;
		return 0;
	case SJ_TRUE:
	case SJ_FALSE:
		c->type = SERVE_CELL_BOOL;
		c->b = n->type == SJ_TRUE;
		c->num = c->b;
		return 0;
	case SJ_NULL:
		c->type = SERVE_CELL_NULL;
		return 0;
	}
	va_start(ap, fmt);
	vsnprintf(where, sizeof(where), fmt, ap);
	va_end(ap);
	if (n->type == SJ_NUMBER)
		return serve_detail(e, ERR_INVALID,
				    "%s: infinite numbers and numbers beyond the double range "
				    "are not supported",
				    where);
	return serve_detail(e, ERR_INVALID,
			    "%s is %s: a value must be a number, a string, a boolean or null",
			    where, sj_type_name(d, i));
}

static const char *kind_name(const struct sj_doc *d, uint32_t i)
{
	uint8_t t = d->nodes[i].type;

	return t == SJ_ARRAY ? "a list" : t == SJ_OBJECT ? "an object" : "a single value";
}

static int mixed(const struct sj_doc *d, uint32_t row, size_t r, uint32_t first, const char *path,
		 struct serve_error *e)
{
	return serve_detail(e, ERR_INVALID,
			    "%s[%zu] is %s but %s[0] is %s: rows must be all lists, all "
			    "objects or all single values",
			    path, r, kind_name(d, row), path, kind_name(d, first));
}

static int is_container(const struct sj_node *n)
{
	return n->type == SJ_ARRAY || n->type == SJ_OBJECT;
}

/* Rows as lists; named when the column index holds names already (dataframe_split). */
static int rows_lists(struct serve_input *in, const struct sj_doc *d, uint32_t arr,
		      const char *path, struct serve_error *e)
{
	const struct sj_node *nodes = d->nodes;
	size_t named = in->mem->ncols, ncols = nodes[arr + 1].v.count, r = 0;
	struct serve_cell *cell;
	int rc;

	if (!ncols)
		return serve_detail(e, ERR_INVALID, "%s[0] is empty: a row needs values", path);
	if (named && named != ncols)
		return serve_detail(e, ERR_INVALID,
				    "%zu columns passed, passed data had %zu columns", named,
				    ncols);
	rc = serve_cells_alloc(in, nodes[arr].v.count, ncols, e);
	if (rc)
		return rc;
	cell = in->cells;
	for (uint32_t row = arr + 1; row < nodes[arr].end; row = nodes[row].end, r++) {
		size_t c = 0;

		if (nodes[row].type != SJ_ARRAY)
			return mixed(d, row, r, arr + 1, path, e);
		if (nodes[row].v.count != ncols)
			return serve_detail(e, ERR_INVALID,
					    "%s[%zu] has %" PRIu64 " values, expected %zu", path, r,
					    nodes[row].v.count, ncols);
		for (uint32_t v = row + 1; v < nodes[row].end; v = nodes[v].end, c++) {
			rc = serve_cell_from_json(cell++, d, v, e, "%s[%zu][%zu]", path, r, c);
			if (rc)
				return rc;
		}
	}
	if (named)
		serve_cols_publish(in);
	in->nrows = nodes[arr].v.count;
	in->ncols = ncols;
	return 0;
}

/* The column of key (a string node) in row r, guessing it sits where it did in earlier rows. */
static long member_col(struct serve_input *in, const struct sj_doc *d, uint32_t key, size_t guess)
{
	const struct serve_mem *m = in->mem;
	const char *name = sj_str(d, key);
	uint32_t len = d->nodes[key].v.s.len;

	if (guess < m->ncols && m->cols[guess].len == len &&
	    !memcmp(m->cols[guess].name, name, len))
		return (long)guess;
	return serve_col_find(in, name, len);
}

/* Pass 1 of rows_objects: the union of the keys, in order of first appearance. */
static int object_columns(struct serve_input *in, const struct sj_doc *d, uint32_t arr,
			  const char *path, unsigned flags, struct serve_error *e)
{
	const struct sj_node *nodes = d->nodes;
	struct serve_mem *m = in->mem;
	size_t r = 0;

	serve_cols_reserve(in, nodes[arr + 1].v.count);
	for (uint32_t row = arr + 1; row < nodes[arr].end; row = nodes[row].end, r++) {
		size_t j = 0;

		if (nodes[row].type != SJ_OBJECT)
			return mixed(d, row, r, arr + 1, path, e);
		for (uint32_t k = row + 1; k < nodes[row].end; k = nodes[k + 1].end, j++) {
			const char *name = sj_str(d, k);
			uint32_t len = nodes[k].v.s.len;
			size_t col = j;
			int added = 0;

			/* rows usually repeat the key order of the first: try that column first */
			if (!(j < m->ncols && m->cols[j].len == len &&
			      !memcmp(m->cols[j].name, name, len)))
				col = serve_col_intern(in, name, len, &added);
			if (!added && m->cols[col].seen_row == r + 1)
				return serve_detail(e, ERR_INVALID,
						    "%s[%zu] has the key '%.*s' twice", path, r,
						    SERVE_NAME_IN_MSG, name);
			m->cols[col].seen_row = r + 1;
		}
	}
	if (!m->ncols)
		return serve_detail(e, ERR_INVALID, "%s[0] is empty: a row needs values", path);
	if (!(flags & SERVE_ROWS_ALL_KEYS))
		return 0;
	r = 0;
	for (uint32_t row = arr + 1; row < nodes[arr].end; row = nodes[row].end, r++)
		if (nodes[row].v.count != m->ncols) {
			m->length_mismatch = 1;
			return serve_detail(e, ERR_INVALID,
					    "%s[%zu] has %" PRIu64 " of the %zu keys of all rows",
					    path, r, nodes[row].v.count, m->ncols);
		}
	return 0;
}

static int rows_objects(struct serve_input *in, const struct sj_doc *d, uint32_t arr,
			const char *path, unsigned flags, struct serve_error *e)
{
	const struct sj_node *nodes = d->nodes;
	size_t ncols, r = 0;
	int rc;

	if (in->mem->ncols)
		return serve_detail(e, ERR_INVALID,
				    "%s[0] is an object: with 'columns', rows must be lists", path);
	rc = object_columns(in, d, arr, path, flags, e);
	if (rc)
		return rc;
	ncols = in->mem->ncols;
	rc = serve_cells_alloc(in, nodes[arr].v.count, ncols, e);
	if (rc)
		return rc;
	for (uint32_t row = arr + 1; row < nodes[arr].end; row = nodes[row].end, r++) {
		struct serve_cell *cells = in->cells + r * ncols;
		size_t j = 0;

		for (uint32_t k = row + 1; k < nodes[row].end; k = nodes[k + 1].end, j++) {
			long col = member_col(in, d, k, j);

			if (col < 0)
				BUG("column of a key seen in pass 1 not found");
			rc = serve_cell_from_json(&cells[col], d, k + 1, e, "%s[%zu].%.*s", path, r,
						  SERVE_NAME_IN_MSG, sj_str(d, k));
			if (rc)
				return rc;
		}
	}
	serve_cols_publish(in);
	in->nrows = nodes[arr].v.count;
	in->ncols = ncols;
	return 0;
}

static int rows_scalars(struct serve_input *in, const struct sj_doc *d, uint32_t arr,
			const char *path, struct serve_error *e)
{
	const struct sj_node *nodes = d->nodes;
	size_t named = in->mem->ncols, r = 0;
	int rc;

	if (named > 1)
		return serve_detail(e, ERR_INVALID, "%zu columns passed, passed data had 1 columns",
				    named);
	rc = serve_cells_alloc(in, nodes[arr].v.count, 1, e);
	if (rc)
		return rc;
	for (uint32_t row = arr + 1; row < nodes[arr].end; row = nodes[row].end, r++) {
		if (is_container(&nodes[row]))
			return mixed(d, row, r, arr + 1, path, e);
		rc = serve_cell_from_json(&in->cells[r], d, row, e, "%s[%zu]", path, r);
		if (rc)
			return rc;
	}
	if (named)
		serve_cols_publish(in);
	in->nrows = nodes[arr].v.count;
	in->ncols = 1;
	return 0;
}

int serve_rows(struct serve_input *in, const struct sj_doc *d, uint32_t arr, const char *path,
	       unsigned flags, struct serve_error *e)
{
	const struct sj_node *first = &d->nodes[arr + 1];

	if (d->nodes[arr].type != SJ_ARRAY)
		BUG("serve_rows on a %s", sj_type_name(d, arr));
	if (!d->nodes[arr].v.count)
		return serve_detail(e, ERR_INVALID, "%s is empty: there are no rows to predict",
				    path);
	if (first->type == SJ_ARRAY)
		return rows_lists(in, d, arr, path, e);
	if (first->type == SJ_OBJECT)
		return rows_objects(in, d, arr, path, flags, e);
	return rows_scalars(in, d, arr, path, e);
}

int serve_columns(struct serve_input *in, const struct sj_doc *d, uint32_t obj, const char *path,
		  struct serve_error *e)
{
	const struct sj_node *nodes = d->nodes;
	size_t nrows = 0, ncols = nodes[obj].v.count, j = 0;
	uint32_t first = obj + 1;
	int rc, added;

	if (!ncols)
		return serve_detail(e, ERR_INVALID, "%s is empty: there are no columns", path);
	serve_cols_reserve(in, ncols);
	for (uint32_t k = obj + 1; k < nodes[obj].end; k = nodes[k + 1].end) {
		const char *name = sj_str(d, k);

		if (nodes[k + 1].type != SJ_ARRAY)
			return serve_detail(e, ERR_INVALID,
					    "%s.%.*s is %s: a column must be a list of values",
					    path, SERVE_NAME_IN_MSG, name, sj_type_name(d, k + 1));
		serve_col_intern(in, name, nodes[k].v.s.len, &added);
		if (!added)
			return serve_detail(e, ERR_INVALID, "%s has the key '%.*s' twice", path,
					    SERVE_NAME_IN_MSG, name);
		if (k == first) {
			nrows = nodes[k + 1].v.count;
		} else if (nodes[k + 1].v.count != nrows) {
			in->mem->length_mismatch = 1;
			return serve_detail(e, ERR_INVALID,
					    "%s.%.*s has %" PRIu64 " values, %s.%.*s has %zu", path,
					    SERVE_NAME_IN_MSG, name, nodes[k + 1].v.count, path,
					    SERVE_NAME_IN_MSG, sj_str(d, first), nrows);
		}
	}
	if (!nrows)
		return serve_detail(e, ERR_INVALID,
				    "%s.%.*s is empty: there are no rows to predict", path,
				    SERVE_NAME_IN_MSG, sj_str(d, first));
	rc = serve_cells_alloc(in, nrows, ncols, e);
	if (rc)
		return rc;
	for (uint32_t k = obj + 1; k < nodes[obj].end; k = nodes[k + 1].end, j++) {
		size_t r = 0;

		for (uint32_t v = k + 2; v < nodes[k + 1].end; v = nodes[v].end, r++) {
			rc =
			    serve_cell_from_json(&in->cells[r * ncols + j], d, v, e, "%s.%.*s[%zu]",
						 path, SERVE_NAME_IN_MSG, sj_str(d, k), r);
			if (rc)
				return rc;
		}
	}
	serve_cols_publish(in);
	in->nrows = nrows;
	in->ncols = ncols;
	return 0;
}

static int status_of(enum serve_protocol p, int code)
{
	if (code == ERR_UNSUPPORTED)
		return 415;
	if (code == ERR_TOOBIG && p != SERVE_MLFLOW)
		return 413;
	return 400;
}

static void set_fields(struct serve_error *e, enum serve_protocol p, int code)
{
	e->code = code;
	e->protocol = p;
	e->status = status_of(p, code);
	e->content_type =
	    p == SERVE_MLFLOW && code == ERR_UNSUPPORTED ? "text/plain" : "application/json";
}

int serve_fail(struct serve_error *e, enum serve_protocol p, int code, const char *fmt, ...)
{
	va_list ap;

	set_fields(e, p, code);
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return code;
}

int serve_fail_wrap(struct serve_error *e, enum serve_protocol p, int code, const char *fmt)
{
	char old[SERVE_ERROR_MSG_SIZE];

	memcpy(old, e->msg, sizeof(old));
	return serve_fail(e, p, code, fmt, old);
}

int serve_detail(struct serve_error *e, int code, const char *fmt, ...)
{
	va_list ap;

	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return code;
}

void serve_json_escape(struct strbuf *sb, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t run = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[7] = { '\\', 0, 0, 0, 0, 0, 0 };
		size_t n = 2;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		strbuf_add(sb, s + run, i - run);
		run = i + 1;
		switch (c) {
		case '"':
		case '\\':
			esc[1] = (char)c;
			break;
		case '\n':
			esc[1] = 'n';
			break;
		case '\r':
			esc[1] = 'r';
			break;
		case '\t':
			esc[1] = 't';
			break;
		default:
			memcpy(esc + 1, "u00", 3);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			n = 6;
		}
		strbuf_add(sb, esc, n);
	}
	strbuf_add(sb, s + run, len - run);
}

void serve_json_string(struct strbuf *sb, const char *s, size_t len)
{
	strbuf_addch(sb, '"');
	serve_json_escape(sb, s, len);
	strbuf_addch(sb, '"');
}

void serve_error_write(struct strbuf *body, const struct serve_error *e)
{
	if (e->protocol == SERVE_MLFLOW && e->code == ERR_UNSUPPORTED) {
		strbuf_addstr(body, e->msg);
		return;
	}
	strbuf_addstr(body, e->protocol == SERVE_MLFLOW ? "{\"error_code\": \"BAD_REQUEST\", "
							  "\"message\": "
							: "{\"error\":");
	serve_json_string(body, e->msg, strlen(e->msg));
	strbuf_addch(body, '}');
}
