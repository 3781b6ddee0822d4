/*
 * The CSV tokenizer: a record is scanned in the read buffer without modifying it; only once it is
 * complete are its fields NUL-terminated and unescaped in place, so a record cut by the end of
 * the buffer is simply scanned again after a refill. Plain records take a fast path (scan_fast,
 * scan_simple); anything unusual falls back to scan_record, which knows every case and error.
 */
#include "util/common.h"
#include "table/csv.h"
#include "table/table_internal.h"

#include <fcntl.h>
#include <pthread.h>

enum scan_result {
	SCAN_EOF = 0,	 /* no record left */
	SCAN_RECORD = 1, /* a complete record */
	SCAN_MORE = 2,	 /* the record continues past the buffered data */
	SCAN_DONE = 3,	 /* a complete record, its fields already terminated */
};

#define FIELD_QUOTED 1u
#define FIELD_ESCAPED 2u /* holds doubled quotes still to collapse */

struct csv_reader {
	char *name;
	int fd; /* -1 when reading from src */
	const unsigned char *src;
	size_t src_len;
	uint64_t start, limit; /* input offsets where reading starts and stops (parts) */
	int part;	       /* a part of the input: pread, no header */

	unsigned char *buf; /* cap bytes, a sentinel NUL, SLACK more initialised bytes */
	size_t cap, pos, end;
	int eof, at_start;
	uint64_t line; /* physical line of buf[pos] */
	uint64_t bytes, rows;

	char **names;
	size_t ncols;
	struct csv_field *fields; /* records of ncols, one more to locate a surplus field */
	size_t fields_alloc;
	size_t nf;	   /* fields in the last scanned record (may exceed the stored ones) */
	uint64_t end_line; /* where the last scanned record ended */
	uint32_t end_col;
	int in_header; /* errors then name no column */
	int failed;
	struct error last;
};

size_t csv_buffer_size = CSV_BUFFER_SIZE;

/* Bytes that stop the scan of an unquoted (u) or quoted (q) field. */
static unsigned char uclass[256], qclass[256];
static pthread_once_t class_once = PTHREAD_ONCE_INIT;

static void class_init(void)
{
	for (int c = 0x80; c < 256; c++)
		uclass[c] = qclass[c] = 1;
	uclass[0] = uclass[','] = uclass['\n'] = uclass['\r'] = uclass['"'] = 1;
	qclass[0] = qclass['\n'] = qclass['"'] = 1;
}

/* bytes after the sentinel, so that 64-byte and 8-byte scans may read past it */
#define SLACK (64 + CSV_FIELD_PADDING)

/*
 * The first byte at or after q that ends an unquoted run: ',', LF, CR, '"', NUL (the sentinel)
 * or a non-ASCII byte. Eight bytes at a time where the byte order allows: a byte equal to c is
 * a zero byte of v ^ (c * ONES), and the lowest byte flagged by the classic has-zero test is
 * exact.
 */
static unsigned char *skip_plain(unsigned char *q)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	const uint64_t ones = UINT64_C(0x0101010101010101), high = UINT64_C(0x8080808080808080);

	for (;; q += 8) {
		uint64_t v, m;

		memcpy(&v, q, sizeof(v));
#define HASZERO(x) (((x)-ones) & ~(x)&high)
		m = HASZERO(v) | HASZERO(v ^ (ones * ',')) | HASZERO(v ^ (ones * '\n')) |
		    HASZERO(v ^ (ones * '\r')) | HASZERO(v ^ (ones * '"')) | (v & high);
#undef HASZERO
		if (m)
			return q + (__builtin_ctzll(m) >> 3);
	}
#else
	while (!uclass[*q])
		q++;
	return q;
#endif
}

/* Length of the UTF-8 sequence at p (2 to 4), 0 if it may continue past end, -1 if invalid. */
int utf8_seq(const unsigned char *p, const unsigned char *end, int eof)
{
	unsigned c = p[0];
	int n = c >= 0xC2 && c <= 0xDF	 ? 2
		: c >= 0xE0 && c <= 0xEF ? 3
		: c >= 0xF0 && c <= 0xF4 ? 4
					 : 0;

	if (!n)
		return -1;
	for (int i = 1; i < n; i++) {
		if (p + i == end)
			return eof ? -1 : 0;
		if ((p[i] & 0xC0) != 0x80)
			return -1;
	}
	if ((c == 0xE0 && p[1] < 0xA0) || (c == 0xED && p[1] >= 0xA0) ||
	    (c == 0xF0 && p[1] < 0x90) || (c == 0xF4 && p[1] >= 0x90))
		return -1; /* overlong, surrogate, or beyond U+10FFFF */
	return n;
}

/*
 * Records "NAME:LINE:COL: what" ("NAME:LINE: what" when col is 0, "NAME: what" when line is 0)
 * as the reader's sticky error.
 */
__attribute__((format(printf, 6, 7))) static int fail_at(struct csv_reader *r, struct error *err,
							 int code, uint64_t line, uint32_t col,
							 const char *fmt, ...)
{
	char what[ERROR_MSG_SIZE];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (line && col)
		error_set(&r->last, code, "%s:%" PRIu64 ":%" PRIu32 ": %s", r->name, line, col,
			  what);
	else if (line)
		error_set(&r->last, code, "%s:%" PRIu64 ": %s", r->name, line, what);
	else
		error_set(&r->last, code, "%s: %s", r->name, what);
	r->failed = code;
	if (err)
		*err = r->last;
	return code;
}

/* " in column 'X'" for data field i, "" for the header or a field past the last column. */
static const char *in_column(const struct csv_reader *r, size_t i, char *buf, size_t size)
{
	if (r->in_header || i >= r->ncols)
		return "";
	snprintf(buf, size, " in column '%s'", r->names[i]);
	return buf;
}

struct scan {
	unsigned char *p, *end, *ls; /* cursor, end of data, start of the current line */
	uint64_t line;
	size_t cont; /* UTF-8 continuation bytes between ls and p: columns count characters */
	size_t limit;
};

static uint32_t scan_col(const struct scan *s, const unsigned char *at)
{
	size_t col = (size_t)(at - s->ls) - s->cont + 1;

	return col > UINT32_MAX ? UINT32_MAX : (uint32_t)col;
}

static int scan_utf8(struct csv_reader *r, struct scan *s, unsigned char **q, size_t nf,
		     struct error *err)
{
	int n = utf8_seq(*q, s->end, r->eof);
	char col[ERROR_MSG_SIZE];

	if (n == 0)
		return SCAN_MORE;
	if (n < 0)
		return fail_at(r, err, ERR_INVALID, s->line, scan_col(s, *q), "invalid UTF-8%s",
			       in_column(r, nf, col, sizeof(col)));
	s->cont += (size_t)n - 1;
	*q += n;
	return 0;
}

static int scan_nul(struct csv_reader *r, struct scan *s, const unsigned char *q, size_t nf,
		    struct error *err)
{
	char col[ERROR_MSG_SIZE];

	return fail_at(r, err, ERR_INVALID, s->line, scan_col(s, q), "NUL byte%s",
		       in_column(r, nf, col, sizeof(col)));
}

/*
 * A quoted field from its opening quote at s->p (at line:col); leaves s->p just past the
 * closing quote.
 */
static int scan_quoted(struct csv_reader *r, struct scan *s, struct csv_field *f, size_t nf,
		       uint64_t line, uint32_t col0, struct error *err)
{
	unsigned char *q = s->p + 1;
	char col[ERROR_MSG_SIZE];
	int rc;

	if (f) {
		f->str = (const char *)q;
		f->quoted = FIELD_QUOTED;
	}
	for (;;) {
		while (!qclass[*q])
			q++;
		if (*q == '"') {
			if (q + 1 == s->end && !r->eof)
				return SCAN_MORE;
			if (q[1] != '"')
				break;
			if (f)
				f->quoted |= FIELD_ESCAPED;
			q += 2;
		} else if (*q == '\n') {
			s->line++;
			s->ls = ++q;
			s->cont = 0;
		} else if (*q == 0 && q == s->end) {
			if (!r->eof)
				return SCAN_MORE;
			return fail_at(r, err, ERR_INVALID, line, col0,
				       "unterminated quoted field%s",
				       in_column(r, nf, col, sizeof(col)));
		} else if (*q == 0) {
			return scan_nul(r, s, q, nf, err);
		} else if ((rc = scan_utf8(r, s, &q, nf, err)) != 0) {
			return rc;
		}
	}
	if (f)
		f->len = (size_t)(q - (const unsigned char *)f->str);
	s->p = q + 1;
	return 0;
}

/* An unquoted field; leaves s->p at the byte that ended it. */
static int scan_unquoted(struct csv_reader *r, struct scan *s, struct csv_field *f, size_t nf,
			 struct error *err)
{
	unsigned char *q = s->p;
	char col[ERROR_MSG_SIZE];
	int rc;

	for (;;) {
		q = skip_plain(q);
		if (*q == ',' || *q == '\n' || *q == '\r' || (*q == 0 && q == s->end))
			break;
		if (*q == '"')
			return fail_at(r, err, ERR_INVALID, s->line, scan_col(s, q),
				       "quote in an unquoted field%s (quote the whole field and "
				       "double the quotes inside)",
				       in_column(r, nf, col, sizeof(col)));
		if (*q == 0)
			return scan_nul(r, s, q, nf, err);
		if ((rc = scan_utf8(r, s, &q, nf, err)) != 0)
			return rc;
	}
	if (f) {
		f->str = (const char *)s->p;
		f->len = (size_t)(q - s->p);
		f->quoted = 0;
	}
	s->p = q;
	return 0;
}

/*
 * After a field, s->p is at what follows it: a comma (returns 0: another field follows), a line
 * end or the end of the input (returns 1: the record is complete), or something else (an error).
 */
static int scan_separator(struct csv_reader *r, struct scan *s, int after_quote, size_t nf,
			  struct error *err)
{
	unsigned char *q = s->p;
	char col[ERROR_MSG_SIZE];

	if (*q == ',') {
		s->p = q + 1;
		return 0;
	}
	r->end_line = s->line;
	r->end_col = scan_col(s, q);
	if (*q == '\n') {
		s->p = q + 1;
		s->line++;
		return 1;
	}
	if (*q == 0 && q == s->end)
		return r->eof ? 1 : SCAN_MORE;
	if (*q == '\r') {
		if (q + 1 == s->end && !r->eof)
			return SCAN_MORE;
		if (q[1] == '\n') {
			s->p = q + 2;
			s->line++;
			return 1;
		}
		return fail_at(r, err, ERR_INVALID, s->line, scan_col(s, q),
			       "carriage return not followed by a line feed%s",
			       in_column(r, nf, col, sizeof(col)));
	}
	if (!after_quote)
		BUG("unquoted field stopped at byte %u", *q);
	if (*q >= 0x20 && *q < 0x7f)
		return fail_at(r, err, ERR_INVALID, s->line, scan_col(s, q),
			       "expected a comma or a line end after a closing quote, got '%c'%s",
			       *q, in_column(r, nf, col, sizeof(col)));
	return fail_at(r, err, ERR_INVALID, s->line, scan_col(s, q),
		       "expected a comma or a line end after a closing quote%s",
		       in_column(r, nf, col, sizeof(col)));
}

/* Skips a leading BOM and blank lines: SCAN_RECORD if a record starts, SCAN_MORE or SCAN_EOF. */
static int skip_blank(struct csv_reader *r)
{
	unsigned char *p = r->buf + r->pos, *end = r->buf + r->end;

	*end = 0; /* the sentinel that stops every scan */
	if (r->at_start) {
		if ((size_t)(end - p) < 3 && !r->eof)
			return SCAN_MORE;
		if ((size_t)(end - p) >= 3 && !memcmp(p, "\xEF\xBB\xBF", 3))
			p += 3;
		r->at_start = 0;
	}
	for (;;) {
		if (p == end) {
			r->pos = (size_t)(p - r->buf);
			return r->eof ? SCAN_EOF : SCAN_MORE;
		}
		if (*p == '\r' && p + 1 == end && !r->eof)
			break;
		if (*p == '\n' || (*p == '\r' && p[1] == '\n')) {
			p += *p == '\r' ? 2 : 1;
			r->line++;
			continue;
		}
		break;
	}
	r->pos = (size_t)(p - r->buf);
	return *p == '\r' && p + 1 == end && !r->eof ? SCAN_MORE : SCAN_RECORD;
}

static struct csv_field *field_slot(struct csv_reader *r, size_t base, size_t nf, size_t limit)
{
	if (nf >= limit)
		return NULL;
	if (base + nf >= r->fields_alloc)
		ALLOC_GROW(r->fields, base + nf + 1, r->fields_alloc);
	return &r->fields[base + nf];
}

/* Scans one record into r->fields + base (at most limit stored, all counted in r->nf). */
static int scan_record(struct csv_reader *r, size_t base, size_t limit, struct error *err)
{
	struct scan s;
	int rc = skip_blank(r);

	if (rc != SCAN_RECORD)
		return rc;
	s.p = s.ls = r->buf + r->pos;
	s.end = r->buf + r->end;
	*s.end = 0;
	s.line = r->line;
	s.cont = 0;
	for (size_t nf = 0;; nf++) {
		struct csv_field *f = field_slot(r, base, nf, limit);
		int quoted = *s.p == '"';
		uint64_t line = s.line;
		uint32_t col = scan_col(&s, s.p);

		if (f) {
			f->line = line;
			f->col = col;
		}
		rc = quoted ? scan_quoted(r, &s, f, nf, line, col, err)
			    : scan_unquoted(r, &s, f, nf, err);
		if (rc)
			return rc;
		rc = scan_separator(r, &s, quoted, nf, err);
		if (rc == 1) {
			r->nf = nf + 1;
			break;
		}
		if (rc)
			return rc;
	}
	r->pos = (size_t)(s.p - r->buf);
	r->line = s.line;
	return SCAN_RECORD;
}

/*
 * The common case in one tight loop: a record of unquoted ASCII fields (at most limit - 1 of
 * them) ending with LF, CRLF or the end of the input. Fields are terminated as they are found.
 * Anything else (a quote, a CR alone, a non-ASCII byte, the end of the buffered data) puts the
 * bytes back and returns 0 so that scan_record, which knows every case, starts over.
 */
static int scan_simple(struct csv_reader *r, size_t base, size_t limit)
{
	unsigned char *ls = r->buf + r->pos, *p = ls, *end = r->buf + r->end, *q;
	struct csv_field *f;
	size_t nf = 0, commas = 0;

	ALLOC_GROW(r->fields, base + limit, r->fields_alloc);
	f = r->fields + base;
	for (;; nf++) {
		if (*p == '"' || nf + 1 >= limit)
			goto restore;
		q = skip_plain(p);
		f[nf].str = (const char *)p;
		f[nf].len = (size_t)(q - p);
		f[nf].line = r->line;
		f[nf].col = (uint32_t)(p - ls) + 1;
		f[nf].quoted = 0;
		if (*q == ',') {
			*q = '\0';
			commas++;
			p = q + 1;
			continue;
		}
		if (*q == '\n' || (*q == '\r' && q[1] == '\n')) {
			p = q + (*q == '\r' ? 2 : 1);
			*q = '\0';
			break;
		}
		if (*q == 0 && q == end && r->eof) {
			p = q;
			break;
		}
		goto restore;
	}
	r->nf = nf + 1;
	r->end_line = r->line;
	r->end_col = (uint32_t)(q - ls) + 1;
	r->line += q != end;
	r->pos = (size_t)(p - r->buf);
	return 1;
restore:
	for (size_t i = 0; i < commas; i++)
		((char *)f[i].str)[f[i].len] = ',';
	return 0;
}

/* Terminates each stored field in place and collapses doubled quotes. */
static void finish_fields(struct csv_field *fields, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct csv_field *f = &fields[i];
		char *s = (char *)f->str;

		if (f->quoted & FIELD_ESCAPED) {
			size_t o = 0;

			for (size_t k = 0; k < f->len; k++) {
				s[o++] = s[k];
				k += s[k] == '"';
			}
			f->len = o;
		}
		s[f->len] = '\0';
		f->quoted &= FIELD_QUOTED;
	}
}

static ssize_t read_source(struct csv_reader *r, unsigned char *dst, size_t n)
{
	uint64_t at = r->start + r->bytes; /* input offset of the next byte */
	ssize_t got;

	if (at >= r->limit)
		return 0;
	if (n > r->limit - at)
		n = (size_t)(r->limit - at);
	if (r->fd < 0) {
		size_t left = at < r->src_len ? r->src_len - (size_t)at : 0;

		if (n > left)
			n = left;
		if (n)
			memcpy(dst, r->src + at, n);
		return (ssize_t)n;
	}
	do
		got = r->part ? pread(r->fd, dst, n, (off_t)at) : read(r->fd, dst, n);
	while (got < 0 && errno == EINTR);
	return got;
}

/* Moves the unfinished record to the front of the buffer and reads more behind it. */
static int refill(struct csv_reader *r, struct error *err)
{
	ssize_t got;

	if (r->pos) {
		memmove(r->buf, r->buf + r->pos, r->end - r->pos);
		r->end -= r->pos;
		r->pos = 0;
	}
	if (r->end == r->cap) {
		if (r->cap >= CSV_MAX_RECORD)
			return fail_at(r, err, ERR_TOOBIG, r->line, 0,
				       "a record longer than %u MiB", CSV_MAX_RECORD >> 20);
		r->cap *= 2;
		r->buf = xrealloc(r->buf, r->cap + 1 + SLACK);
		memset(r->buf + r->end, 0, r->cap + 1 + SLACK - r->end);
	}
	got = read_source(r, r->buf + r->end, r->cap - r->end);
	if (got < 0) {
		int e = errno;

		error_errno(&r->last, ERR_IO, e, "cannot read '%s'", r->name);
		r->failed = ERR_IO;
		if (err)
			*err = r->last;
		return ERR_IO;
	}
	r->end += (size_t)got;
	r->bytes += (uint64_t)got;
	r->eof = got == 0;
	return 0;
}

static int sticky(struct csv_reader *r, struct error *err)
{
	if (err)
		*err = r->last;
	return r->failed;
}

/* The header: SCAN_RECORD, SCAN_EOF or an error. */
static int header_record(struct csv_reader *r, struct error *err)
{
	int rc;

	while ((rc = scan_record(r, 0, CSV_MAX_COLUMNS + 1, err)) == SCAN_MORE)
		if ((rc = refill(r, err)) != 0)
			return rc;
	if (rc == SCAN_RECORD)
		finish_fields(r->fields, r->nf < CSV_MAX_COLUMNS ? r->nf : CSV_MAX_COLUMNS);
	return rc;
}

static int name_cmp(const void *a, const void *b, void *names)
{
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	int c = strcmp(((char **)names)[i], ((char **)names)[j]);

	return c ? c : (i > j) - (i < j);
}

/* Empty and duplicate names; the duplicate reported is the earliest second occurrence. */
static int check_names(struct csv_reader *r, char **names, size_t n, struct error *err)
{
	size_t *idx = xmalloc(n * sizeof(*idx));
	size_t dup = SIZE_MAX, first = 0;

	for (size_t i = 0; i < n; i++) {
		idx[i] = i;
		if (!*names[i]) {
			free(idx);
			return fail_at(r, err, ERR_INVALID, r->fields[i].line, r->fields[i].col,
				       "empty column name (column %zu)", i + 1);
		}
	}
	qsort_r(idx, n, sizeof(*idx), name_cmp, names);
	for (size_t i = 1; i < n; i++)
		if (!strcmp(names[idx[i - 1]], names[idx[i]]) && idx[i] < dup) {
			dup = idx[i];
			first = idx[i - 1];
		}
	free(idx);
	if (dup != SIZE_MAX)
		return fail_at(r, err, ERR_INVALID, r->fields[dup].line, r->fields[dup].col,
			       "duplicate column name '%s' (also column %zu)", names[dup],
			       first + 1);
	return 0;
}

static void free_names(char **names, size_t n)
{
	for (size_t i = 0; names && i < n; i++)
		free(names[i]);
	free(names);
}

static int read_header(char ***out, size_t *ncols, struct csv_reader *r, struct error *err)
{
	char **names;
	size_t n;
	int rc;

	r->in_header = 1;
	rc = header_record(r, err);
	if (rc < 0)
		return rc;
	if (rc == SCAN_EOF)
		return fail_at(r, err, ERR_INVALID, 0, 0, "empty file, expected a header row");
	n = r->nf;
	if (n > CSV_MAX_COLUMNS)
		return fail_at(r, err, ERR_TOOBIG, 0, 0, "more than %u columns", CSV_MAX_COLUMNS);
	names = xcalloc(n, sizeof(*names));
	for (size_t i = 0; i < n; i++)
		names[i] = xstrndup(r->fields[i].str, r->fields[i].len);
	rc = check_names(r, names, n, err);
	if (rc) {
		free_names(names, n);
		return rc;
	}
	r->in_header = 0;
	*out = names;
	*ncols = n;
	return 0;
}

static void reset(struct csv_reader *r)
{
	r->limit = UINT64_MAX;
	r->pos = r->end = 0;
	r->eof = 0;
	r->at_start = 1;
	r->line = 1;
	r->bytes = r->rows = 0;
	r->failed = 0;
	error_clear(&r->last);
}

static int open_common(struct csv_reader **out, struct csv_reader *r, struct error *err)
{
	int rc;

	pthread_once(&class_once, class_init);
	r->cap = csv_buffer_size ? csv_buffer_size : 1;
	/*
	 * A buffer needs no more than its own size: a 1 MiB calloc for every text/csv prediction
	 * request of a few hundred bytes made its parse 15x slower than the JSON formats'.
	 */
	if (r->fd < 0 && r->src_len < r->cap)
		r->cap = r->src_len ? r->src_len : 1;
	r->buf = xcalloc(1, r->cap + 1 + SLACK);
	reset(r);
	rc = read_header(&r->names, &r->ncols, r, err);
	if (rc) {
		csv_free(r);
		return rc;
	}
	ALLOC_GROW(r->fields, r->ncols + 1, r->fields_alloc);
	*out = r;
	return 0;
}

int csv_open(struct csv_reader **out, const char *path, struct error *err)
{
	struct csv_reader *r;
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return error_errno(err, errno == ENOENT ? ERR_NOTFOUND : ERR_IO, errno,
				   "cannot open '%s'", path);
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		close(fd);
		return error_set(err, ERR_IO, "cannot read '%s': it is a directory", path);
	}
	r = xcalloc(1, sizeof(*r));
	r->name = xstrdup(path);
	r->fd = fd;
	return open_common(out, r, err);
}

int csv_open_buffer(struct csv_reader **out, const char *name, const void *data, size_t len,
		    struct error *err)
{
	struct csv_reader *r = xcalloc(1, sizeof(*r));

	r->name = xstrdup(name);
	r->fd = -1;
	r->src = data;
	r->src_len = len;
	return open_common(out, r, err);
}

void csv_free(struct csv_reader *r)
{
	if (!r)
		return;
	if (r->fd >= 0)
		close(r->fd);
	free_names(r->names, r->ncols);
	free(r->fields);
	free(r->buf);
	free(r->name);
	free(r);
}

static int ragged(struct csv_reader *r, size_t base, struct error *err)
{
	const struct csv_field *f = &r->fields[base + r->ncols];

	if (r->nf > r->ncols)
		return fail_at(r, err, ERR_INVALID, f->line, f->col,
			       "expected %zu fields, got %zu (an extra field after column '%s')",
			       r->ncols, r->nf, r->names[r->ncols - 1]);
	return fail_at(r, err, ERR_INVALID, r->end_line, r->end_col,
		       "expected %zu fields, got %zu (the row ends before column '%s')", r->ncols,
		       r->nf, r->names[r->nf]);
}

#if defined(__SSE2__)
#include <emmintrin.h>

struct window {
	const unsigned char *base; /* 64 bytes from here */
	uint64_t delim, lf,
	    special; /* bit i: base[i] is ',' or LF / LF / anything scan_fast declines */
};

static void window_at(struct window *w, const unsigned char *p)
{
	const __m128i comma = _mm_set1_epi8(','), lf = _mm_set1_epi8('\n'),
		      cr = _mm_set1_epi8('\r'), quote = _mm_set1_epi8('"'),
		      zero = _mm_setzero_si128();

	w->base = p;
	w->delim = w->lf = w->special = 0;
	for (int i = 0; i < 4; i++) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + 16 * i));
		__m128i is_lf = _mm_cmpeq_epi8(v, lf);
		__m128i odd =
		    _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, cr), _mm_cmpeq_epi8(v, quote)),
				 _mm_or_si128(_mm_cmpeq_epi8(v, zero), v));

		w->lf |= (uint64_t)(unsigned)_mm_movemask_epi8(is_lf) << (16 * i);
		w->delim |= (uint64_t)(unsigned)_mm_movemask_epi8(
				_mm_or_si128(is_lf, _mm_cmpeq_epi8(v, comma)))
			    << (16 * i);
		/* movemask of v itself: the high bit, a non-ASCII byte */
		w->special |= (uint64_t)(unsigned)_mm_movemask_epi8(odd) << (16 * i);
	}
}

/*
 * The common case 64 bytes at a time: bit masks of separators, line feeds and everything else
 * of interest, then one step per field. Takes whole records of exactly ncols unquoted ASCII
 * fields ending with LF (CRLF, and the end of the input, are left to scan_simple, as is any other
 * record) into r->fields from record k on, at most max of them. Returns how many; r->pos and
 * r->line move past them.
 */
static size_t scan_fast(struct csv_reader *r, size_t k, size_t max)
{
	size_t ncols = r->ncols, done = 0;
	const unsigned char *rec = r->buf + r->pos;
	struct window w;

	window_at(&w, rec);
	while (done < max) {
		struct csv_field *f;
		const unsigned char *fs = rec, *cur = rec; /* field start, scan position */
		size_t nf = 0;

		ALLOC_GROW(r->fields, (k + done + 1) * ncols + 1, r->fields_alloc);
		f = r->fields + (k + done) * ncols;
		for (;;) {
			size_t off = (size_t)(cur - w.base);
			uint64_t keep, d, sp;
			const unsigned char *q;

			if (off >= 64) {
				window_at(&w, cur);
				off = 0;
			}
			keep = ~UINT64_C(0) << off;
			d = w.delim & keep;
			sp = w.special & keep;
			if (!d || (sp && __builtin_ctzll(sp) < __builtin_ctzll(d))) {
				if (sp)
					goto decline; /* a quote, CR, non-ASCII, NUL or the end */
				cur = w.base + 64;
				continue;
			}
			q = w.base + __builtin_ctzll(d);
			if (nf == ncols)
				goto decline; /* a field too many: the careful path reports it */
			f[nf].str = (const char *)fs;
			f[nf].len = (size_t)(q - fs);
			f[nf].line = r->line;
			f[nf].col = (uint32_t)(fs - rec) + 1;
			f[nf].quoted = 0;
			nf++;
			fs = cur = q + 1;
			if (w.lf >> (q - w.base) & 1)
				break;
		}
		if (nf != ncols)
			goto decline;
		for (size_t j = 0; j < ncols; j++)
			((char *)f[j].str)[f[j].len] = '\0';
		r->line++;
		rec = fs;
		done++;
		continue;
	decline:
		break;
	}
	r->pos = (size_t)(rec - r->buf);
	return done;
}
#else
static size_t scan_fast(struct csv_reader *r, size_t k, size_t max)
{
	(void)r, (void)k, (void)max;
	return 0;
}
#endif

int csv_next_batch(const struct csv_field **out, size_t *n, struct csv_reader *r, size_t max,
		   struct error *err)
{
	size_t k = 0, ncols = r->ncols, n_fast;
	int rc;

	if (r->failed)
		return sticky(r, err);
	if (!max)
		max = 1;
	while (k < max) {
		size_t base = k * ncols;

		rc = skip_blank(r);
		if (rc == SCAN_RECORD && (n_fast = scan_fast(r, k, max - k)) > 0) {
			k += n_fast;
			continue;
		}
		if (rc == SCAN_RECORD && scan_simple(r, base, ncols + 1))
			rc = SCAN_DONE;
		else if (rc == SCAN_RECORD)
			rc = scan_record(r, base, ncols + 1, err);
		if (rc == SCAN_MORE) {
			if (k)
				break;
			if ((rc = refill(r, err)) != 0)
				return rc;
			continue;
		}
		if (rc == SCAN_EOF)
			break;
		if (rc < 0)
			return rc;
		if (rc == SCAN_RECORD)
			finish_fields(r->fields + base, r->nf < ncols ? r->nf : ncols);
		if (r->nf != ncols)
			return ragged(r, base, err);
		k++;
	}
	r->rows += k;
	*out = r->fields;
	*n = k;
	return 0;
}

int csv_next(const struct csv_field **out, struct csv_reader *r, struct error *err)
{
	size_t n;
	int rc = csv_next_batch(out, &n, r, 1, err);

	return rc ? rc : (int)n;
}

int csv_rewind(struct csv_reader *r, struct error *err)
{
	char **names = NULL;
	size_t n = 0;
	int rc, same;

	if (r->part)
		BUG("csv_rewind on a part of '%s'", r->name);
	if (r->fd >= 0 && lseek(r->fd, 0, SEEK_SET) != 0)
		return error_set(err, ERR_UNSUPPORTED, "cannot read '%s' twice: it is not a file",
				 r->name);
	reset(r);
	rc = read_header(&names, &n, r, err);
	if (rc)
		return rc;
	same = n == r->ncols;
	for (size_t i = 0; same && i < n; i++)
		same = !strcmp(names[i], r->names[i]);
	free_names(names, n);
	if (!same)
		return fail_at(r, err, ERR_INVALID, 0, 0, "the header changed while reading");
	return 0;
}

const char *csv_name(const struct csv_reader *r)
{
	return r->name;
}

size_t csv_ncols(const struct csv_reader *r)
{
	return r->ncols;
}

const char *const *csv_column_names(const struct csv_reader *r)
{
	return (const char *const *)r->names;
}

uint64_t csv_bytes_read(const struct csv_reader *r)
{
	return r->bytes;
}

uint64_t csv_rows_read(const struct csv_reader *r)
{
	return r->rows;
}

/* Parts, for loading one input on two threads (table_internal.h) ------------------------------ */

uint64_t csv_input_size(const struct csv_reader *r)
{
	struct stat st;

	if (r->fd < 0)
		return r->src_len;
	return fstat(r->fd, &st) == 0 && S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0;
}

int csv_split_point(uint64_t *out, const struct csv_reader *r, uint64_t from)
{
	char chunk[65536];
	uint64_t size = csv_input_size(r);

	for (uint64_t at = from; at < size && at - from < CSV_BUFFER_SIZE; at += sizeof(chunk)) {
		size_t n = size - at < sizeof(chunk) ? (size_t)(size - at) : sizeof(chunk);
		const char *nl;

		if (r->fd < 0)
			memcpy(chunk, r->src + at, n);
		else if (pread(r->fd, chunk, n, (off_t)at) != (ssize_t)n)
			return -1;
		nl = memchr(chunk, '\n', n);
		if (nl) {
			*out = at + (uint64_t)(nl - chunk) + 1;
			return 0;
		}
	}
	return -1;
}

int csv_open_part(struct csv_reader **out, const struct csv_reader *r, uint64_t start, uint64_t end,
		  struct error *err)
{
	struct csv_reader *p = xcalloc(1, sizeof(*p));

	p->name = xstrdup(r->name);
	p->fd = -1;
	if (r->fd >= 0 && (p->fd = dup(r->fd)) < 0) {
		int e = errno;

		free(p->name);
		free(p);
		return error_errno(err, ERR_IO, e, "cannot read '%s'", r->name);
	}
	p->src = r->src;
	p->src_len = r->src_len;
	p->part = 1;
	p->cap = csv_buffer_size ? csv_buffer_size : 1;
	p->buf = xcalloc(1, p->cap + 1 + SLACK);
	reset(p);
	p->start = start;
	p->limit = end;
	p->at_start = 0; /* no BOM, no header */
	p->ncols = r->ncols;
	p->names = xcalloc(r->ncols, sizeof(*p->names));
	for (size_t j = 0; j < r->ncols; j++)
		p->names[j] = xstrdup(r->names[j]);
	ALLOC_GROW(p->fields, p->ncols + 1, p->fields_alloc);
	*out = p;
	return 0;
}

void csv_set_limit(struct csv_reader *r, uint64_t end)
{
	r->limit = end;
}

uint64_t csv_line(const struct csv_reader *r)
{
	return r->line;
}
