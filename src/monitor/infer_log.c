/*
 * The inference log (see infer_log.h for the format): record encoding, the buffered writer and
 * its flusher thread, crash recovery at open, and the reader with its time and last-N seeks.
 */
#include "util/common.h"
#include "monitor/infer_log.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/strbuf.h"

#include <dirent.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/file.h>
#include <time.h>
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <nmmintrin.h>
#endif

#define DEFAULT_SEGMENT_BYTES (64ull << 20)
#define DEFAULT_MAX_BYTES (1ull << 30)
#define DEFAULT_BUFFER_BYTES (64ull << 20)
#define DEFAULT_FLUSH_BYTES (4ull << 20)
#define DEFAULT_FLUSH_MS 200u
#define MIN_SEGMENT_BYTES 4096u

#define FORMAT_VERSION 1
#define SEGMENT_NAME_LEN 12 /* "NNNNNNNN.log" */
#define SEGMENT_INDEX_MAX 99999999u
#define CHECKSUM_LEN 9 /* '\t' and 8 hex digits */

/* Buffer chunks: a record never spans two, so the writer can cut segments at chunk lines. */
#define CHUNK_SIZE (256u << 10)
#define SPARE_CHUNKS 16

#define SCAN_MIN_BUF (64u << 10)
#define TAIL_BYTES_PER_RECORD 512 /* first guess of the window last_n reads */

enum line_kind {
	LINE_OTHER = 0,
	LINE_PREDICTION = INFER_PREDICTION,
	LINE_FEEDBACK = INFER_FEEDBACK,
	LINE_SEGMENT = 3,
};

static const char *const kind_names[] = { NULL, "prediction", "feedback", "segment" };

/* ---- CRC32C ------------------------------------------------------------------------------- */

static uint32_t crc_table[8][256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_init(void)
{
	for (uint32_t n = 0; n < 256; n++) {
		uint32_t c = n;

		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0x82f63b78u : c >> 1;
		crc_table[0][n] = c;
	}
	for (uint32_t n = 0; n < 256; n++)
		for (int k = 1; k < 8; k++)
			crc_table[k][n] =
			    crc_table[0][crc_table[k - 1][n] & 0xff] ^ (crc_table[k - 1][n] >> 8);
}

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Slicing-by-8: eight table lookups per 8 bytes, ~1 byte per cycle without SSE4.2. */
uint32_t infer_log_crc32c_portable(const void *data, size_t len)
{
	const unsigned char *p = data;
	uint32_t c = 0xffffffffu;

	pthread_once(&crc_once, crc_init);
	for (; len >= 8; p += 8, len -= 8) {
		uint32_t lo = c ^ le32(p), hi = le32(p + 4);

		c = crc_table[7][lo & 0xff] ^ crc_table[6][(lo >> 8) & 0xff] ^
		    crc_table[5][(lo >> 16) & 0xff] ^ crc_table[4][lo >> 24] ^
		    crc_table[3][hi & 0xff] ^ crc_table[2][(hi >> 8) & 0xff] ^
		    crc_table[1][(hi >> 16) & 0xff] ^ crc_table[0][hi >> 24];
	}
	while (len--)
		c = crc_table[0][(c ^ *p++) & 0xff] ^ (c >> 8);
	return ~c;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
/*
 * SSE4.2's crc32 instruction computes CRC-32C, eight bytes at a time: the table version was
 * 2.6% of a logged prediction's CPU (a record of ~800 bytes).
 */
__attribute__((target("sse4.2"))) static uint32_t crc32c_sse42(const void *data, size_t len)
{
	const unsigned char *p = data;
	uint64_t c = 0xffffffffu;
	uint32_t c32;

	for (; len >= 8; p += 8, len -= 8) {
		uint64_t w;

		memcpy(&w, p, 8);
		c = _mm_crc32_u64(c, w);
	}
	c32 = (uint32_t)c;
	while (len--)
		c32 = _mm_crc32_u8(c32, *p++);
	return ~c32;
}

uint32_t infer_log_crc32c(const void *data, size_t len)
{
	static atomic_int hw = -1; /* every thread that finds it unset sets the same answer */
	int h = atomic_load_explicit(&hw, memory_order_relaxed);

	if (h < 0) {
		h = __builtin_cpu_supports("sse4.2") ? 1 : 0;
		atomic_store_explicit(&hw, h, memory_order_relaxed);
	}
	return h ? crc32c_sse42(data, len) : infer_log_crc32c_portable(data, len);
}
#else
uint32_t infer_log_crc32c(const void *data, size_t len)
{
	return infer_log_crc32c_portable(data, len);
}
#endif

/* ---- lines -------------------------------------------------------------------------------- */

static int hex_value(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;
}

/* The length of the JSON part of a line (without its '\n') whose checksum holds, or -1. */
static ssize_t line_check(const char *line, size_t len)
{
	const char *hex;
	uint32_t want = 0;

	if (len < CHECKSUM_LEN + 2 || line[len - CHECKSUM_LEN] != '\t')
		return -1;
	hex = line + len - CHECKSUM_LEN + 1;
	for (int i = 0; i < 8; i++) {
		int v = hex_value((unsigned char)hex[i]);

		if (v < 0)
			return -1;
		want = want << 4 | (uint32_t)v;
	}
	len -= CHECKSUM_LEN;
	return infer_log_crc32c(line, len) == want ? (ssize_t)len : -1;
}

/*
 * Kind and time_ms of a checked line from the fixed prefix this module writes, without parsing
 * it; LINE_OTHER when the line does not start that way (it is then parsed to know).
 */
static enum line_kind line_peek(const char *json, size_t len, int64_t *time_ms)
{
	static const char head[] = "{\"type\":\"", mid[] = "\",\"time_ms\":";
	const char *p = json, *end = json + len;
	enum line_kind kind = LINE_OTHER;
	uint64_t v = 0;
	bool neg;
	int digits = 0;

	if (len < sizeof(head) - 1 || memcmp(p, head, sizeof(head) - 1))
		return LINE_OTHER;
	p += sizeof(head) - 1;
	for (int k = LINE_PREDICTION; k <= LINE_SEGMENT; k++) {
		size_t n = strlen(kind_names[k]);

		if ((size_t)(end - p) > n && !memcmp(p, kind_names[k], n) && p[n] == '"') {
			kind = (enum line_kind)k;
			p += n;
			break;
		}
	}
	if (kind == LINE_OTHER || (size_t)(end - p) < sizeof(mid) - 1 ||
	    memcmp(p, mid, sizeof(mid) - 1))
		return LINE_OTHER;
	p += sizeof(mid) - 1;
	neg = p < end && *p == '-';
	p += neg;
	for (; p < end && *p >= '0' && *p <= '9' && digits < 19; p++, digits++)
		v = v * 10 + (uint64_t)(*p - '0');
	if (!digits || p == end || (*p != ',' && *p != '}') || v > INT64_MAX)
		return LINE_OTHER;
	*time_ms = neg ? -(int64_t)v : (int64_t)v;
	return kind;
}

/* ---- encoding ----------------------------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at s (as jansson accepts it), 0 if there is none. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	size_t need;
	unsigned lo = 0x80, hi = 0xbf;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		need = 1;
	else if (c >= 0xe0 && c <= 0xef)
		need = 2;
	else if (c >= 0xf0 && c <= 0xf4)
		need = 3;
	else
		return 0;
	if (c == 0xe0)
		lo = 0xa0; /* overlong */
	else if (c == 0xed)
		hi = 0x9f; /* surrogates */
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f; /* beyond U+10FFFF */
	if (n < need + 1 || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i <= need; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return need + 1;
}

/*
 * s (n bytes) as a JSON string. Request ids and labels come from clients: invalid UTF-8 becomes
 * U+FFFD rather than making a line the reader's JSON parser would refuse.
 */
static void add_json_stringn(struct strbuf *sb, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;

	strbuf_addch(sb, '"');
	while (n > 0) {
		size_t run = 0, seq;

		while (run < n && p[run] >= 0x20 && p[run] < 0x80 && p[run] != '"' &&
		       p[run] != '\\')
			run++;
		strbuf_add(sb, p, run);
		p += run;
		n -= run;
		if (!n)
			break;
		if (*p == '"' || *p == '\\') {
			strbuf_addch(sb, '\\');
			strbuf_addch(sb, *p);
			seq = 1;
		} else if (*p < 0x20) {
			strbuf_addf(sb, "\\u%04x", *p);
			seq = 1;
		} else if ((seq = utf8_seq(p, n))) {
			strbuf_add(sb, p, seq);
		} else {
			strbuf_addstr(sb, "\\ufffd");
			seq = 1;
		}
		p += seq;
		n -= seq;
	}
	strbuf_addch(sb, '"');
}

static void add_json_string(struct strbuf *sb, const char *s)
{
	add_json_stringn(sb, s, strlen(s));
}

static void add_int(struct strbuf *sb, int64_t v)
{
	char tmp[24], *p = tmp + sizeof(tmp);
	uint64_t u = v < 0 ? -(uint64_t)v : (uint64_t)v;

	do
		*--p = (char)('0' + u % 10);
	while (u /= 10);
	if (v < 0)
		*--p = '-';
	strbuf_add(sb, p, (size_t)(tmp + sizeof(tmp) - p));
}

/*
 * x as the decimal m / 10^k with the fewest k <= 9 digits after the point, if there is one:
 * m / 10^k computed in doubles (both exact) rounds the same real number strtod would read from
 * the text, so equality proves the text reads back as x. Feature values sent as "78.61" come
 * out as they came, and without printf's arbitrary-precision path.
 */
static bool add_short_decimal(struct strbuf *sb, double x)
{
	static const double pow10[] = { 1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9 };
	char tmp[32], *p = tmp + sizeof(tmp);
	uint64_t u;
	int k;

	for (k = 0; k < (int)ARRAY_SIZE(pow10); k++) {
		double m = nearbyint(x * pow10[k]);

		if (fabs(m) >= 9007199254740992.0)
			return false; /* 2^53: beyond, m is not exact */
		if (m / pow10[k] == x)
			break;
	}
	if (k == (int)ARRAY_SIZE(pow10))
		return false;
	u = (uint64_t)fabs(nearbyint(x * pow10[k]));
	for (int i = 0; u || i <= k; i++, u /= 10) {
		if (i == k && k)
			*--p = '.';
		*--p = (char)('0' + u % 10);
	}
	if (signbit(x))
		*--p = '-';
	strbuf_add(sb, p, (size_t)(tmp + sizeof(tmp) - p));
	return true;
}

/* Short decimals as such; anything else with 17 digits, which always read back exactly. */
static void add_double(struct strbuf *sb, double x)
{
	char tmp[32];
	int n;

	if (!isfinite(x)) {
		strbuf_addstr(sb, "null");
		return;
	}
	if (add_short_decimal(sb, x))
		return;
	n = snprintf(tmp, sizeof(tmp), "%.17g", x);
	strbuf_add(sb, tmp, (size_t)n);
}

/* True if s is a number by JSON's grammar (no '+', leading zeros, "1." or ".5"). */
static bool is_json_number(const char *s)
{
	if (*s == '-')
		s++;
	if (*s == '0')
		s++;
	else if (*s >= '1' && *s <= '9')
		while (*s >= '0' && *s <= '9')
			s++;
	else
		return false;
	if (*s == '.') {
		s++;
		if (*s < '0' || *s > '9')
			return false;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '+' || *s == '-')
			s++;
		if (!(*s >= '0' && *s <= '9'))
			return false;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	return !*s;
}

/* A real stays a real: "5.0", not "5". */
static void add_real(struct strbuf *sb, double x)
{
	size_t len = sb->len;

	add_double(sb, x);
	if (!memchr(sb->buf + len, '.', sb->len - len) &&
	    !memchr(sb->buf + len, 'e', sb->len - len) && strcmp(sb->buf + len, "null"))
		strbuf_addstr(sb, ".0");
}

#define MAX_DEPTH 256

/*
 * j compactly, keys in jansson's (insertion) order; -1 when nested deeper than MAX_DEPTH. Not
 * json_dump_callback: its reals are "%.17g" ("78.609999999999999" for 78.61) and slower.
 */
static int add_json_value(struct strbuf *sb, const json_t *j, int depth)
{
	const char *key;
	json_t *v;
	size_t i;
	int sep = 0;

	if (!j) {
		strbuf_addstr(sb, "null");
		return 0;
	}
	if (depth > MAX_DEPTH)
		return -1;
	switch (json_typeof(j)) {
	case JSON_OBJECT:
		strbuf_addch(sb, '{');
		json_object_foreach((json_t *)j, key, v) {
			if (sep++)
				strbuf_addch(sb, ',');
			add_json_string(sb, key);
			strbuf_addch(sb, ':');
			if (add_json_value(sb, v, depth + 1))
				return -1;
		}
		strbuf_addch(sb, '}');
		return 0;
	case JSON_ARRAY:
		strbuf_addch(sb, '[');
		json_array_foreach((json_t *)j, i, v) {
			if (i)
				strbuf_addch(sb, ',');
			if (add_json_value(sb, v, depth + 1))
				return -1;
		}
		strbuf_addch(sb, ']');
		return 0;
	case JSON_STRING:
		add_json_stringn(sb, json_string_value(j), json_string_length(j));
		return 0;
	case JSON_INTEGER:
		add_int(sb, json_integer_value(j));
		return 0;
	case JSON_REAL:
		add_real(sb, json_real_value(j));
		return 0;
	case JSON_TRUE:
		strbuf_addstr(sb, "true");
		return 0;
	case JSON_FALSE:
		strbuf_addstr(sb, "false");
		return 0;
	default:
		strbuf_addstr(sb, "null");
		return 0;
	}
}

static void add_key(struct strbuf *sb, const char *key)
{
	strbuf_addch(sb, ',');
	strbuf_addch(sb, '"');
	strbuf_addstr(sb, key);
	strbuf_addstr(sb, "\":");
}

/* `{"type":"<kind>","time_ms":T`: the prefix line_peek reads. */
static void add_prefix(struct strbuf *sb, enum line_kind kind, int64_t time_ms)
{
	strbuf_addstr(sb, "{\"type\":\"");
	strbuf_addstr(sb, kind_names[kind]);
	strbuf_addstr(sb, "\",\"time_ms\":");
	add_int(sb, time_ms);
}

/* Closes the object and appends the checksum of everything from start. */
static void add_checksum(struct strbuf *sb, size_t start)
{
	strbuf_addch(sb, '}');
	strbuf_addf(sb, "\t%08" PRIx32 "\n", infer_log_crc32c(sb->buf + start, sb->len - start));
}

/* What add_json_value writes for the jansson value holding the same. */
static void add_cell(struct strbuf *sb, const struct infer_cell *c)
{
	switch (c->type) {
	case INFER_CELL_NUMBER:
		add_real(sb, c->num);
		return;
	case INFER_CELL_STRING:
		add_json_stringn(sb, c->str ? c->str : "", c->str ? c->len : 0);
		return;
	case INFER_CELL_BOOL:
		strbuf_addstr(sb, c->b ? "true" : "false");
		return;
	default:
		strbuf_addstr(sb, "null");
		return;
	}
}

static int add_cells(struct strbuf *sb, const struct infer_record *r, struct error *err)
{
	if (!r->columns)
		return error_set(err, ERR_INVALID, "request '%s': input values without columns",
				 r->request_id);
	strbuf_addch(sb, '{');
	for (size_t i = 0; i < r->n_columns; i++) {
		if (!r->columns[i])
			return error_set(err, ERR_INVALID, "request '%s': input %zu has no column",
					 r->request_id, i);
		if (i)
			strbuf_addch(sb, ',');
		add_json_string(sb, r->columns[i]);
		strbuf_addch(sb, ':');
		add_cell(sb, &r->cells[i]);
	}
	strbuf_addch(sb, '}');
	return 0;
}

static int add_inputs(struct strbuf *sb, const struct infer_record *r, struct error *err)
{
	if (r->cells)
		return add_cells(sb, r, err);
	if (!r->columns || !json_is_array(r->inputs)) {
		if (add_json_value(sb, r->inputs, 0))
			return error_set(err, ERR_INVALID, "request '%s': cannot encode the inputs",
					 r->request_id);
		return 0;
	}
	if (json_array_size(r->inputs) != r->n_columns)
		return error_set(err, ERR_INVALID, "request '%s': %zu inputs for %zu columns",
				 r->request_id, json_array_size(r->inputs), r->n_columns);
	strbuf_addch(sb, '{');
	for (size_t i = 0; i < r->n_columns; i++) {
		if (i)
			strbuf_addch(sb, ',');
		add_json_string(sb, r->columns[i]);
		strbuf_addch(sb, ':');
		if (add_json_value(sb, json_array_get(r->inputs, i), 0))
			return error_set(err, ERR_INVALID, "request '%s': cannot encode input '%s'",
					 r->request_id, r->columns[i]);
	}
	strbuf_addch(sb, '}');
	return 0;
}

static void add_output(struct strbuf *sb, const struct infer_record *r)
{
	if (!r->label) {
		strbuf_addstr(sb, "{\"value\":");
		add_double(sb, r->value);
		strbuf_addch(sb, '}');
		return;
	}
	strbuf_addstr(sb, "{\"label\":");
	if (r->label_is_number && is_json_number(r->label))
		strbuf_addstr(sb, r->label);
	else
		add_json_string(sb, r->label);
	if (r->n_classes && r->classes && r->probabilities) {
		strbuf_addstr(sb, ",\"probabilities\":{");
		for (size_t i = 0; i < r->n_classes; i++) {
			if (i)
				strbuf_addch(sb, ',');
			add_json_string(sb, r->classes[i]);
			strbuf_addch(sb, ':');
			add_double(sb, r->probabilities[i]);
		}
		strbuf_addch(sb, '}');
	}
	strbuf_addch(sb, '}');
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int encode_prediction(struct strbuf *sb, const struct infer_record *r, int64_t time_ms,
			     struct error *err)
{
	int rc;

	add_prefix(sb, LINE_PREDICTION, time_ms);
	add_key(sb, "request_id");
	add_json_string(sb, r->request_id);
	add_key(sb, "model");
	add_json_string(sb, r->model);
	add_key(sb, "version");
	if (r->version > 0)
		add_int(sb, r->version);
	else
		strbuf_addstr(sb, "null");
	add_key(sb, "digest");
	if (r->digest)
		add_json_string(sb, r->digest);
	else
		strbuf_addstr(sb, "null");
	add_key(sb, "latency_us");
	add_int(sb, r->latency_us);
	add_key(sb, "inputs");
	rc = add_inputs(sb, r, err);
	if (rc)
		return rc;
	add_key(sb, "output");
	add_output(sb, r);
	add_checksum(sb, 0);
	return 0;
}

static void encode_header(struct strbuf *sb, uint32_t index, int64_t prior_max)
{
	add_prefix(sb, LINE_SEGMENT, now_ms());
	add_key(sb, "format");
	add_int(sb, FORMAT_VERSION);
	add_key(sb, "segment");
	add_int(sb, index);
	add_key(sb, "prior_max_time_ms");
	add_int(sb, prior_max);
	add_checksum(sb, 0);
}

/* ---- segments ----------------------------------------------------------------------------- */

struct segment {
	uint32_t index;
	uint64_t size;
};

static bool segment_name(const char *name, uint32_t *index)
{
	uint32_t v = 0;

	if (strlen(name) != SEGMENT_NAME_LEN || strcmp(name + 8, ".log"))
		return false;
	for (int i = 0; i < 8; i++) {
		if (name[i] < '0' || name[i] > '9')
			return false;
		v = v * 10 + (uint32_t)(name[i] - '0');
	}
	*index = v;
	return true;
}

static char *segment_path(const char *dir, uint32_t index)
{
	return xstrfmt("%s/%08" PRIu32 ".log", dir, index);
}

static int segment_cmp(const void *a, const void *b)
{
	const struct segment *x = a, *y = b;

	return x->index < y->index ? -1 : x->index > y->index;
}

/* The segments of dir, oldest first, with their sizes. ERR_NOTFOUND without dir. */
static int list_segments(struct segment **out, size_t *nr_out, const char *dir, struct error *err)
{
	DIR *d = opendir(dir);
	struct segment *segs = NULL;
	size_t nr = 0, alloc = 0;
	struct dirent *de;
	int rc = 0;

	if (!d)
		return error_errno(err, errno == ENOENT ? ERR_NOTFOUND : ERR_IO, errno,
				   "cannot open inference log '%s'", dir);
	while ((errno = 0, de = readdir(d))) {
		struct stat st;
		uint32_t index;

		if (!segment_name(de->d_name, &index))
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, 0)) {
			if (errno == ENOENT) /* deleted by the writer's cap since readdir */
				continue;
			rc =
			    error_errno(err, ERR_IO, errno, "cannot stat '%s/%s'", dir, de->d_name);
			goto out;
		}
		ALLOC_GROW(segs, nr + 1, alloc);
		segs[nr++] = (struct segment){ index, (uint64_t)st.st_size };
	}
	if (errno) {
		rc = error_errno(err, ERR_IO, errno, "cannot read inference log '%s'", dir);
		goto out;
	}
	if (nr)
		qsort(segs, nr, sizeof(*segs), segment_cmp);
	*out = segs;
	*nr_out = nr;
	segs = NULL;
out:
	free(segs);
	closedir(d);
	return rc;
}

/* ---- line scanner ------------------------------------------------------------------------- */

/*
 * Reads a segment line by line from a file offset up to a limit (or its end), with a buffer that
 * grows to INFER_LOG_MAX_LINE for long lines. Longer lines come back with line == NULL.
 */
struct line_scan {
	int fd;
	char *buf;
	size_t alloc, start, end; /* unread bytes are buf[start, end) */
	uint64_t off;		  /* file offset of buf[start] */
	uint64_t pos;		  /* file offset of buf[end] */
	uint64_t limit;
	uint64_t skipped; /* bytes of an over-long line already dropped */
	bool eof;
};

static void scan_start(struct line_scan *s, int fd, uint64_t from, uint64_t limit)
{
	s->fd = fd;
	s->start = s->end = 0;
	s->off = s->pos = from;
	s->limit = limit;
	s->skipped = 0;
	s->eof = false;
}

static void scan_release(struct line_scan *s)
{
	free(s->buf);
	s->buf = NULL;
	s->alloc = 0;
}

/* Makes room and reads more; 0, or ERR_IO. */
static int scan_fill(struct line_scan *s, struct error *err)
{
	ssize_t n;
	size_t want;

	if (s->start) {
		memmove(s->buf, s->buf + s->start, s->end - s->start);
		s->end -= s->start;
		s->start = 0;
	}
	if (s->end == s->alloc && s->alloc >= INFER_LOG_MAX_LINE) {
		/* no newline in a whole maximal line: drop it, keep looking for its end */
		s->skipped += s->end;
		s->off += s->end;
		s->end = 0;
	} else if (s->end == s->alloc) {
		s->alloc = s->alloc ? s->alloc * 2 : (size_t)SCAN_MIN_BUF * 4;
		if (s->alloc > INFER_LOG_MAX_LINE)
			s->alloc = INFER_LOG_MAX_LINE;
		s->buf = xrealloc(s->buf, s->alloc);
	}
	want = s->alloc - s->end;
	if (s->limit - s->pos < want)
		want = (size_t)(s->limit - s->pos);
	do
		n = want ? pread(s->fd, s->buf + s->end, want, (off_t)s->pos) : 0;
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return error_errno(err, ERR_IO, errno, "cannot read an inference log segment");
	s->eof = n == 0;
	s->end += (size_t)n;
	s->pos += (uint64_t)n;
	return 0;
}

/*
 * The next line without its '\n': 1 with *line (NULL for an over-long line), *len and its file
 * offset *off; 0 at the end, with *torn the bytes of an unterminated last line; or ERR_IO.
 */
static int scan_next(struct line_scan *s, const char **line, size_t *len, uint64_t *off,
		     uint64_t *torn, struct error *err)
{
	for (;;) {
		char *nl =
		    s->end > s->start ? memchr(s->buf + s->start, '\n', s->end - s->start) : NULL;
		int rc;

		if (nl) {
			size_t n = (size_t)(nl - (s->buf + s->start));

			*line = s->skipped ? NULL : s->buf + s->start;
			*len = (size_t)s->skipped + n;
			*off = s->off - s->skipped;
			s->start += n + 1;
			s->off += n + 1;
			s->skipped = 0;
			return 1;
		}
		if (s->eof) {
			*torn = s->skipped + (s->end - s->start);
			s->off += s->end - s->start;
			s->start = s->end;
			s->skipped = 0;
			return 0;
		}
		rc = scan_fill(s, err);
		if (rc)
			return rc;
	}
}

/* ---- writer ------------------------------------------------------------------------------- */

struct chunk {
	struct chunk *next;
	size_t len, alloc;
	char data[];
};

/* What one batch did, merged into the shared counters under the lock. */
struct batch_result {
	uint64_t written, lost, bytes, created, deleted, io_errors;
	struct error err;
};

struct infer_log {
	char *dir;
	struct infer_log_options o;
	size_t max_line;
	int lock_fd;

	/* Owned by the writer thread (by open and close when it does not run): no lock. */
	int fd; /* the active segment, segs[nr_segs - 1]; -1: none yet or abandoned */
	struct segment *segs;
	size_t nr_segs, alloc_segs;
	uint64_t total_bytes; /* of segs */
	uint32_t next_index;
	int64_t written_max; /* greatest time_ms written: the next segment header's bound */
	bool failing;	     /* logs one warning per run of failures */

	pthread_mutex_t mu;
	pthread_cond_t wake; /* the writer thread waits here */
	pthread_cond_t done; /* flush callers wait here */
	pthread_t thread;
	/* Below: under mu. */
	struct chunk *head, *tail, *spare;
	size_t nr_spare;
	uint64_t pending;	  /* bytes taken, not yet written */
	uint64_t taken, finished; /* records taken; records the writer is done with */
	bool closing, flush_now;
	struct infer_log_stats st;
	struct error last_err;
};

static void note_error(struct infer_log *log, struct batch_result *res, int errnum, const char *fmt,
		       const char *path)
{
	res->io_errors++;
	error_errno(&res->err, ERR_IO, errnum, fmt, path);
	if (!log->failing)
		log_warn("inference log '%s': %s", log->dir, res->err.msg);
	log->failing = true;
}

static uint64_t count_lines(const char *p, size_t n)
{
	uint64_t k = 0;
	const char *end = p + n;

	while ((p = memchr(p, '\n', (size_t)(end - p)))) {
		k++;
		p++;
	}
	return k;
}

/* Deletes the oldest closed segments until `extra` more bytes fit under max_bytes. */
static void make_room(struct infer_log *log, uint64_t extra, struct batch_result *res)
{
	size_t keep = log->fd >= 0 ? 1 : 0, gone = 0;

	while (log->nr_segs - gone > keep && log->total_bytes + extra > log->o.max_bytes) {
		char *path = segment_path(log->dir, log->segs[gone].index);

		if (unlink(path) && errno != ENOENT)
			note_error(log, res, errno, "cannot delete '%s'", path);
		else
			res->deleted++;
		/* forgotten either way: a file we cannot delete must not stop the log */
		log->total_bytes -= log->segs[gone].size;
		gone++;
		free(path);
	}
	if (gone) {
		memmove(log->segs, log->segs + gone, (log->nr_segs - gone) * sizeof(*log->segs));
		log->nr_segs -= gone;
	}
}

/* Creates the next segment (O_EXCL) with its header and makes it the active one. */
static int segment_create(struct infer_log *log, struct batch_result *res)
{
	struct strbuf hdr = STRBUF_INIT;
	char *path = NULL;
	int fd = -1, rc = -1;

	for (int tries = 0; fd < 0 && tries < 100; tries++) {
		if (log->next_index > SEGMENT_INDEX_MAX) {
			note_error(log, res, ERANGE, "no segment number left in '%s'", log->dir);
			goto out;
		}
		free(path);
		path = segment_path(log->dir, log->next_index++);
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0644);
		if (fd < 0 && errno != EEXIST) {
			note_error(log, res, errno, "cannot create '%s'", path);
			goto out;
		}
	}
	if (fd < 0) {
		note_error(log, res, EEXIST, "cannot create a segment in '%s'", log->dir);
		goto out;
	}
	encode_header(&hdr, log->next_index - 1, log->written_max);
	make_room(log, hdr.len, res);
	if (fs_write_all(fd, hdr.buf, hdr.len)) {
		note_error(log, res, errno, "cannot write '%s'", path);
		unlink(path);
		goto out;
	}
	/* the data is synced with the first batch; the name needs the directory synced */
	if (fs_fsync_dir(log->dir, &res->err))
		res->io_errors++;
	ALLOC_GROW(log->segs, log->nr_segs + 1, log->alloc_segs);
	log->segs[log->nr_segs++] = (struct segment){ log->next_index - 1, hdr.len };
	log->total_bytes += hdr.len;
	res->bytes += hdr.len;
	res->created++;
	log->fd = fd;
	fd = -1;
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	free(path);
	strbuf_release(&hdr);
	return rc;
}

/* Syncs and closes the active segment: the next write starts a new one. */
static void segment_seal(struct infer_log *log, struct batch_result *res)
{
	if (log->fd < 0)
		return;
	if (fdatasync(log->fd)) {
		char *path = segment_path(log->dir, log->segs[log->nr_segs - 1].index);

		note_error(log, res, errno, "cannot sync '%s'", path);
		free(path);
	}
	close(log->fd);
	log->fd = -1;
}

/* Bytes of whole lines from p that still fit in the active segment. */
static size_t segment_fit(struct infer_log *log, const char *p, size_t n)
{
	uint64_t size = log->segs[log->nr_segs - 1].size;
	size_t room = size >= log->o.segment_bytes ? 0 : (size_t)(log->o.segment_bytes - size);
	const char *nl;

	if (n <= room)
		return n;
	for (nl = p + room; nl > p && nl[-1] != '\n'; nl--)
		;
	return (size_t)(nl - p);
}

/* After a failed write: cut the partial line so the next record does not join it. */
static void write_failed(struct infer_log *log, struct batch_result *res, int errnum)
{
	struct segment *seg = &log->segs[log->nr_segs - 1];
	char *path = segment_path(log->dir, seg->index);

	note_error(log, res, errnum, "cannot write '%s'", path);
	if (ftruncate(log->fd, (off_t)seg->size)) {
		note_error(log, res, errno, "cannot truncate '%s'", path);
		close(log->fd);
		log->fd = -1;
	}
	free(path);
}

/* Raises written_max to the times of the lines [p, p + n) now on disk. */
static void note_written(struct infer_log *log, const char *p, size_t n)
{
	const char *end = p + n, *nl;
	int64_t t;

	for (; p < end && (nl = memchr(p, '\n', (size_t)(end - p))); p = nl + 1)
		if (line_peek(p, (size_t)(nl - p), &t) != LINE_OTHER && t > log->written_max)
			log->written_max = t;
}

/* Writes whole lines [p, p + n), rotating segments; returns the records lost to errors. */
static uint64_t write_lines(struct infer_log *log, const char *p, size_t n,
			    struct batch_result *res)
{
	uint64_t lost = 0;

	while (n > 0) {
		size_t w;

		if (log->fd < 0 && segment_create(log, res))
			return lost + count_lines(p, n);
		w = segment_fit(log, p, n);
		if (!w) {
			if (log->segs[log->nr_segs - 1].size <= INFER_LOG_HEADER_MAX)
				BUG("a record longer than a segment was taken");
			segment_seal(log, res);
			continue;
		}
		make_room(log, w, res);
		if (fs_write_all(log->fd, p, w)) {
			write_failed(log, res, errno);
			lost += count_lines(p, w);
		} else {
			log->segs[log->nr_segs - 1].size += w;
			log->total_bytes += w;
			res->bytes += w;
			note_written(log, p, w);
		}
		p += w;
		n -= w;
	}
	return lost;
}

static void write_batch(struct infer_log *log, struct chunk *batch, struct batch_result *res)
{
	uint64_t records = 0, lost = 0;

	for (struct chunk *c = batch; c; c = c->next) {
		records += count_lines(c->data, c->len);
		lost += write_lines(log, c->data, c->len, res);
	}
	if (log->fd >= 0 && fdatasync(log->fd)) {
		char *path = segment_path(log->dir, log->segs[log->nr_segs - 1].index);

		/* after a failed fdatasync the pages' fate is unknown: count them lost */
		note_error(log, res, errno, "cannot sync '%s'", path);
		free(path);
		close(log->fd);
		log->fd = -1;
		lost = records;
	}
	if (!res->io_errors)
		log->failing = false;
	res->lost = lost;
	res->written = records - lost;
}

static void recycle_chunks(struct infer_log *log, struct chunk *c)
{
	while (c) {
		struct chunk *next = c->next;

		if (c->alloc == CHUNK_SIZE && log->nr_spare < SPARE_CHUNKS) {
			c->next = log->spare;
			log->spare = c;
			log->nr_spare++;
		} else {
			free(c);
		}
		c = next;
	}
}

static void deadline_after(struct timespec *ts, unsigned ms)
{
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

/*
 * Sleeps until flush_ms after the last batch was taken, flush_bytes waiting, a flush request or
 * close; *last becomes now. Under mu.
 */
static void writer_wait(struct infer_log *log, struct timespec *last)
{
	struct timespec deadline = *last;

	deadline_after(&deadline, log->o.flush_ms);
	while (!log->closing && !log->flush_now && log->pending < log->o.flush_bytes)
		if (pthread_cond_timedwait(&log->wake, &log->mu, &deadline) == ETIMEDOUT)
			break;
	clock_gettime(CLOCK_MONOTONIC, last);
}

static void *writer_main(void *arg)
{
	struct infer_log *log = arg;
	struct timespec last;

	clock_gettime(CLOCK_MONOTONIC, &last);
	pthread_mutex_lock(&log->mu);
	for (;;) {
		struct batch_result res = { 0 };
		struct chunk *batch;
		uint64_t upto;
		bool closing;

		writer_wait(log, &last);
		batch = log->head;
		log->head = log->tail = NULL;
		upto = log->taken;
		closing = log->closing;
		log->flush_now = false;
		pthread_mutex_unlock(&log->mu);

		if (batch)
			write_batch(log, batch, &res);

		pthread_mutex_lock(&log->mu);
		for (struct chunk *c = batch; c; c = c->next)
			log->pending -= c->len;
		recycle_chunks(log, batch);
		log->finished = upto;
		log->st.written += res.written;
		log->st.lost_io += res.lost;
		log->st.bytes_written += res.bytes;
		log->st.segments_created += res.created;
		log->st.segments_deleted += res.deleted;
		log->st.io_errors += res.io_errors;
		if (res.io_errors)
			log->last_err = res.err;
		pthread_cond_broadcast(&log->done);
		if (closing && !log->head)
			break;
	}
	pthread_mutex_unlock(&log->mu);
	return NULL;
}

/* Takes one encoded line into the buffer, or drops it. */
static int take_line(struct infer_log *log, const struct strbuf *sb, struct error *err)
{
	struct chunk *c;

	if (sb->len > log->max_line) {
		pthread_mutex_lock(&log->mu);
		log->st.dropped_toobig++;
		pthread_mutex_unlock(&log->mu);
		return error_set(err, ERR_TOOBIG,
				 "inference record of %zu bytes dropped: the limit is %zu", sb->len,
				 log->max_line);
	}
	pthread_mutex_lock(&log->mu);
	if (log->pending + sb->len > log->o.buffer_bytes) {
		log->st.dropped_full++;
		pthread_mutex_unlock(&log->mu);
		return error_set(err, ERR_TOOBIG,
				 "inference log buffer full (%" PRIu64 " bytes): record dropped",
				 log->o.buffer_bytes);
	}
	c = log->tail;
	if (!c || c->alloc - c->len < sb->len) {
		if (sb->len <= CHUNK_SIZE && log->spare) {
			c = log->spare;
			log->spare = c->next;
			log->nr_spare--;
		} else {
			size_t alloc = sb->len > CHUNK_SIZE ? sb->len : CHUNK_SIZE;

			c = xmalloc(sizeof(*c) + alloc);
			c->alloc = alloc;
		}
		c->next = NULL;
		c->len = 0;
		if (log->tail)
			log->tail->next = c;
		else
			log->head = c;
		log->tail = c;
	}
	memcpy(c->data + c->len, sb->buf, sb->len);
	c->len += sb->len;
	log->pending += sb->len;
	log->taken++;
	log->st.appended++;
	if (log->pending >= log->o.flush_bytes && log->pending - sb->len < log->o.flush_bytes)
		pthread_cond_signal(&log->wake);
	pthread_mutex_unlock(&log->mu);
	return 0;
}

int infer_log_append_prediction(struct infer_log *log, const struct infer_record *r,
				struct error *err)
{
	struct strbuf sb = STRBUF_INIT;
	int64_t time_ms = r->time_ms ? r->time_ms : now_ms();
	int rc;

	if (!r->request_id || !*r->request_id || !r->model || !*r->model)
		return error_set(err, ERR_INVALID, "inference record without %s",
				 !r->request_id || !*r->request_id ? "request id" : "model");
	strbuf_grow(&sb, 512);
	rc = encode_prediction(&sb, r, time_ms, err);
	if (!rc)
		rc = take_line(log, &sb, err);
	strbuf_release(&sb);
	return rc;
}

int infer_log_append_feedback(struct infer_log *log, const char *request_id, const json_t *label,
			      int64_t time_ms, struct error *err)
{
	struct strbuf sb = STRBUF_INIT;
	int rc = 0;

	if (!request_id || !*request_id)
		return error_set(err, ERR_INVALID, "feedback without request id");
	if (!time_ms)
		time_ms = now_ms();
	strbuf_grow(&sb, 128);
	add_prefix(&sb, LINE_FEEDBACK, time_ms);
	add_key(&sb, "request_id");
	add_json_string(&sb, request_id);
	add_key(&sb, "label");
	if (add_json_value(&sb, label, 0))
		rc = error_set(err, ERR_INVALID, "feedback for '%s': cannot encode the label",
			       request_id);
	if (!rc) {
		add_checksum(&sb, 0);
		rc = take_line(log, &sb, err);
	}
	strbuf_release(&sb);
	return rc;
}

/* Waits until the writer is done with everything taken so far; returns records lost meanwhile. */
static uint64_t wait_flushed(struct infer_log *log, struct error *last)
{
	uint64_t target, lost;

	pthread_mutex_lock(&log->mu);
	target = log->taken;
	lost = log->st.lost_io;
	log->flush_now = true;
	pthread_cond_signal(&log->wake);
	while (log->finished < target)
		pthread_cond_wait(&log->done, &log->mu);
	lost = log->st.lost_io - lost;
	*last = log->last_err;
	pthread_mutex_unlock(&log->mu);
	return lost;
}

int infer_log_flush(struct infer_log *log, struct error *err)
{
	struct error last = ERROR_INIT;
	uint64_t lost = wait_flushed(log, &last);

	if (lost)
		return error_set(err, ERR_IO, "%" PRIu64 " inference records lost: %s", lost,
				 last.msg);
	return 0;
}

void infer_log_stats(struct infer_log *log, struct infer_log_stats *out)
{
	pthread_mutex_lock(&log->mu);
	*out = log->st;
	out->buffered_bytes = log->pending;
	pthread_mutex_unlock(&log->mu);
}

/* ---- open, recovery, close ---------------------------------------------------------------- */

/* What the newest segment holds, for recovery. */
struct seg_scan_result {
	uint64_t good_end; /* just past its last complete line */
	bool has_header;
	int64_t prior_max, max_time;
};

static int64_t header_prior_max(const char *json, size_t len)
{
	json_t *doc = json_loadb(json, len, JSON_REJECT_DUPLICATES, NULL);
	json_t *v = json_object_get(doc, "prior_max_time_ms");
	int64_t r = json_is_integer(v) ? json_integer_value(v) : -1;

	json_decref(doc);
	return r;
}

/* Time of a checked line that line_peek does not know: parsed; 0 if it has none. */
static int64_t parsed_time(const char *json, size_t len)
{
	json_t *doc = json_loadb(json, len, JSON_REJECT_DUPLICATES, NULL);
	json_t *v = json_object_get(doc, "time_ms");
	int64_t t = json_is_integer(v) ? json_integer_value(v) : 0;

	json_decref(doc);
	return t;
}

static int scan_segment(struct seg_scan_result *out, int fd, struct error *err)
{
	struct line_scan s = { 0 };
	const char *line;
	size_t len;
	uint64_t off, torn;
	int rc;

	*out = (struct seg_scan_result){ 0, false, INT64_MAX, INT64_MIN };
	scan_start(&s, fd, 0, UINT64_MAX);
	while ((rc = scan_next(&s, &line, &len, &off, &torn, err)) > 0) {
		ssize_t jlen = line ? line_check(line, len) : -1;
		int64_t t = 0;
		enum line_kind kind;

		out->good_end = off + len + 1;
		if (jlen < 0)
			continue;
		kind = line_peek(line, (size_t)jlen, &t);
		if (kind == LINE_SEGMENT && off == 0) {
			out->prior_max = header_prior_max(line, (size_t)jlen);
			out->has_header = out->prior_max >= 0;
			continue;
		}
		if (kind == LINE_OTHER)
			t = parsed_time(line, (size_t)jlen);
		if (kind != LINE_SEGMENT && t > out->max_time)
			out->max_time = t;
	}
	scan_release(&s);
	return rc;
}

/*
 * Takes the newest segment as the active one, its torn last line cut off; *kept is false (and
 * the file removed) when it has no complete line: a crash just after its creation.
 */
static int recover_segment(struct infer_log *log, struct segment *seg, bool *kept,
			   struct error *err)
{
	char *path = segment_path(log->dir, seg->index);
	struct seg_scan_result res;
	int fd = open(path, O_RDWR | O_APPEND | O_CLOEXEC), rc = 0;

	*kept = false;
	if (fd < 0) {
		rc = error_errno(err, ERR_IO, errno, "cannot open '%s'", path);
		goto out;
	}
	rc = scan_segment(&res, fd, err);
	if (rc)
		goto out;
	if (!res.good_end) {
		if (unlink(path))
			rc = error_errno(err, ERR_IO, errno, "cannot remove '%s'", path);
		goto out;
	}
	if (res.good_end < seg->size && (ftruncate(fd, (off_t)res.good_end) || fdatasync(fd))) {
		rc = error_errno(err, ERR_IO, errno, "cannot truncate '%s'", path);
		goto out;
	}
	log->st.recovered_torn_bytes = seg->size - res.good_end;
	log->total_bytes -= log->st.recovered_torn_bytes;
	seg->size = res.good_end;
	/* without a header the earlier segments' times are unknown, but they predate now */
	log->written_max = res.has_header ? res.prior_max : now_ms();
	if (res.max_time > log->written_max)
		log->written_max = res.max_time;
	log->fd = fd;
	fd = -1;
	*kept = true;
out:
	if (fd >= 0)
		close(fd);
	free(path);
	return rc;
}

/* Lists the segments and finds the active one again (see recover_segment). */
static int recover(struct infer_log *log, struct error *err)
{
	int rc = list_segments(&log->segs, &log->nr_segs, log->dir, err);
	bool kept = false;

	if (rc)
		return rc;
	log->alloc_segs = log->nr_segs;
	log->next_index = log->nr_segs ? log->segs[log->nr_segs - 1].index + 1 : 1;
	for (size_t i = 0; i < log->nr_segs; i++)
		log->total_bytes += log->segs[i].size;
	while (log->nr_segs && !kept) {
		rc = recover_segment(log, &log->segs[log->nr_segs - 1], &kept, err);
		if (rc)
			return rc;
		if (!kept)
			log->total_bytes -= log->segs[--log->nr_segs].size;
	}
	return 0;
}

static int check_options(struct infer_log_options *o, struct error *err)
{
	if (!o->segment_bytes)
		o->segment_bytes = DEFAULT_SEGMENT_BYTES;
	if (!o->max_bytes)
		o->max_bytes =
		    o->segment_bytes > DEFAULT_MAX_BYTES ? o->segment_bytes : DEFAULT_MAX_BYTES;
	if (!o->buffer_bytes)
		o->buffer_bytes = DEFAULT_BUFFER_BYTES;
	if (!o->flush_bytes)
		o->flush_bytes = DEFAULT_FLUSH_BYTES;
	if (!o->flush_ms)
		o->flush_ms = DEFAULT_FLUSH_MS;
	if (o->segment_bytes < MIN_SEGMENT_BYTES)
		return error_set(err, ERR_INVALID,
				 "inference log segments must be at least %u bytes",
				 MIN_SEGMENT_BYTES);
	if (o->max_bytes < o->segment_bytes)
		return error_set(err, ERR_INVALID,
				 "inference log size cap (%" PRIu64
				 " bytes) is smaller than a segment (%" PRIu64 " bytes)",
				 o->max_bytes, o->segment_bytes);
	return 0;
}

static int take_lock(struct infer_log *log, struct error *err)
{
	char *path = fs_path_join(log->dir, ".lock");
	int rc = 0;

	log->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (log->lock_fd < 0)
		rc = error_errno(err, ERR_IO, errno, "cannot open '%s'", path);
	else if (flock(log->lock_fd, LOCK_EX | LOCK_NB))
		rc = errno == EWOULDBLOCK
			 ? error_set(err, ERR_CONFLICT,
				     "inference log '%s' is being written by another process",
				     log->dir)
			 : error_errno(err, ERR_IO, errno, "cannot lock '%s'", path);
	free(path);
	return rc;
}

static void log_free(struct infer_log *log)
{
	struct chunk *c;

	if (log->fd >= 0)
		close(log->fd);
	if (log->lock_fd >= 0)
		close(log->lock_fd);
	recycle_chunks(log, log->head); /* empty: the writer thread took everything */
	while ((c = log->spare)) {
		log->spare = c->next;
		free(c);
	}
	pthread_mutex_destroy(&log->mu);
	pthread_cond_destroy(&log->wake);
	pthread_cond_destroy(&log->done);
	free(log->segs);
	free(log->dir);
	free(log);
}

/* The writer's timed waits measure intervals: a clock that jumps must not stretch them. */
static void init_sync(struct infer_log *log)
{
	pthread_condattr_t ca;

	pthread_mutex_init(&log->mu, NULL);
	pthread_cond_init(&log->done, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&log->wake, &ca);
	pthread_condattr_destroy(&ca);
}

int infer_log_open(struct infer_log **out, const char *dir, const struct infer_log_options *o,
		   struct error *err)
{
	struct infer_log *log = xcalloc(1, sizeof(*log));
	struct batch_result res = { 0 };
	int rc;

	log->o = o ? *o : (struct infer_log_options)INFER_LOG_OPTIONS_INIT;
	log->dir = xstrdup(dir);
	log->fd = log->lock_fd = -1;
	init_sync(log);
	rc = check_options(&log->o, err);
	if (rc)
		goto out;
	log->max_line = log->o.segment_bytes - INFER_LOG_HEADER_MAX;
	if (log->max_line > INFER_LOG_MAX_LINE)
		log->max_line = INFER_LOG_MAX_LINE;
	rc = fs_mkdir_p(dir, 0755, err);
	if (!rc)
		rc = take_lock(log, err);
	if (!rc)
		rc = recover(log, err);
	if (rc)
		goto out;
	make_room(log, 0, &res); /* the cap may have shrunk since the last run */
	log->st.segments_deleted = res.deleted;
	rc = pthread_create(&log->thread, NULL, writer_main, log);
	if (rc)
		rc = error_errno(err, ERR_INTERNAL, rc, "cannot start the inference log writer");
out:
	if (rc) {
		log_free(log);
		return rc;
	}
	*out = log;
	return 0;
}

int infer_log_close(struct infer_log *log, struct error *err)
{
	struct error last = ERROR_INIT;
	uint64_t lost;
	int rc = 0;

	if (!log)
		return 0;
	lost = wait_flushed(log, &last);
	pthread_mutex_lock(&log->mu);
	log->closing = true;
	pthread_cond_signal(&log->wake);
	pthread_mutex_unlock(&log->mu);
	pthread_join(log->thread, NULL);
	if (log->fd >= 0 && fsync(log->fd)) {
		rc = error_errno(err, ERR_IO, errno, "cannot sync inference log '%s'", log->dir);
	} else if (lost) {
		rc = error_set(err, ERR_IO, "%" PRIu64 " inference records lost: %s", lost,
			       last.msg);
	}
	log_free(log);
	return rc;
}

/* ---- reader ------------------------------------------------------------------------------- */

struct infer_reader {
	char *dir;
	struct segment *segs;
	size_t nr_segs, next;  /* segs[next] is the next segment to open */
	uint64_t first_offset; /* where to start in the first segment opened */
	struct line_scan scan;
	bool open;
	uint32_t index; /* of the open segment */
	int64_t since;	/* INT64_MIN: everything */
	json_t *doc;
	struct infer_read_stats st;
};

/* Kind of a checked line for counting, without parsing: a record unless it is a header. */
static bool is_record_line(const char *line, size_t len, ssize_t *jlen)
{
	int64_t t;

	*jlen = line ? line_check(line, len) : -1;
	return *jlen >= 0 && line_peek(line, (size_t)*jlen, &t) != LINE_SEGMENT;
}

/*
 * Counts record lines in [from, size) of fd, skipping the first (partial) line when from > 0;
 * with nth != UINT64_MAX, stops at the nth (0-based) and returns its offset in *at.
 */
static int count_records(int fd, uint64_t from, uint64_t size, uint64_t nth, uint64_t *count,
			 uint64_t *at, struct error *err)
{
	struct line_scan s = { 0 };
	const char *line;
	size_t len;
	uint64_t off, torn, k = 0;
	bool first = from > 0;
	int rc;

	scan_start(&s, fd, from, size);
	while ((rc = scan_next(&s, &line, &len, &off, &torn, err)) > 0) {
		ssize_t jlen;

		if (first) {
			first = false;
			continue;
		}
		if (!is_record_line(line, len, &jlen))
			continue;
		if (k++ == nth) {
			*at = off;
			break;
		}
	}
	scan_release(&s);
	*count = k;
	return rc < 0 ? rc : 0;
}

/*
 * The offset of the need-th record from the end of a segment, reading windows from its end that
 * grow 4x: cost proportional to the records wanted. *found < need when the segment has fewer.
 */
static int tail_offset(int fd, uint64_t need, uint64_t *found, uint64_t *at, struct error *err)
{
	struct stat st;
	uint64_t size, window, count = 0;
	int rc;

	if (fstat(fd, &st))
		return error_errno(err, ERR_IO, errno, "cannot stat an inference log segment");
	size = (uint64_t)st.st_size;
	window =
	    need > UINT64_MAX / TAIL_BYTES_PER_RECORD ? UINT64_MAX : need * TAIL_BYTES_PER_RECORD;
	if (window < SCAN_MIN_BUF)
		window = SCAN_MIN_BUF;
	for (;;) {
		uint64_t from = size > window ? size - window : 0;

		rc = count_records(fd, from, size, UINT64_MAX, &count, at, err);
		if (rc)
			return rc;
		if (count >= need) {
			rc = count_records(fd, from, size, count - need, &count, at, err);
			if (!rc)
				*found = need;
			return rc;
		}
		if (!from) {
			*found = count;
			*at = 0;
			return 0;
		}
		window = window > UINT64_MAX / 4 ? UINT64_MAX : window * 4;
	}
}

static int open_segment(const struct infer_reader *r, size_t i, int *fd, struct error *err)
{
	char *path = segment_path(r->dir, r->segs[i].index);
	int rc = 0;

	*fd = open(path, O_RDONLY | O_CLOEXEC);
	if (*fd < 0)
		rc = errno == ENOENT ? ERR_NOTFOUND
				     : error_errno(err, ERR_IO, errno, "cannot open '%s'", path);
	free(path);
	return rc;
}

/* Start position for last_n: segment *seg at *at (the oldest segment at 0 if too few). */
static int seek_last_n(struct infer_reader *r, uint64_t need, size_t *seg, uint64_t *at,
		       struct error *err)
{
	*seg = 0;
	*at = 0;
	for (size_t i = r->nr_segs; i-- > 0;) {
		uint64_t found = 0, off = 0;
		int fd, rc = open_segment(r, i, &fd, err);

		if (rc == ERR_NOTFOUND)
			continue;
		if (rc)
			return rc;
		rc = tail_offset(fd, need, &found, &off, err);
		close(fd);
		if (rc)
			return rc;
		if (found >= need) {
			*seg = i;
			*at = off;
			return 0;
		}
		need -= found;
	}
	return 0;
}

/* prior_max_time_ms of a segment's header, or -1 when it has no readable one. */
static int64_t read_prior_max(const struct infer_reader *r, size_t i)
{
	char buf[INFER_LOG_HEADER_MAX];
	const char *nl;
	int fd;
	ssize_t n, jlen;
	int64_t t, prior = -1;
	struct error ignored = ERROR_INIT;

	if (open_segment(r, i, &fd, &ignored))
		return -1;
	n = pread(fd, buf, sizeof(buf), 0);
	close(fd);
	if (n <= 0 || !(nl = memchr(buf, '\n', (size_t)n)))
		return -1;
	jlen = line_check(buf, (size_t)(nl - buf));
	if (jlen >= 0 && line_peek(buf, (size_t)jlen, &t) == LINE_SEGMENT)
		prior = header_prior_max(buf, (size_t)jlen);
	return prior;
}

/* The newest segment whose header proves every earlier record older than since. */
static size_t seek_since(const struct infer_reader *r, int64_t since)
{
	for (size_t i = r->nr_segs; i-- > 1;) {
		int64_t prior = read_prior_max(r, i);

		if (prior >= 0 && prior < since)
			return i;
	}
	return 0;
}

int infer_reader_open(struct infer_reader **out, const char *dir,
		      const struct infer_reader_options *o, struct error *err)
{
	struct infer_reader *r = xcalloc(1, sizeof(*r));
	size_t seg = 0;
	uint64_t at = 0;
	int rc;

	r->dir = xstrdup(dir);
	r->since = INT64_MIN;
	rc = list_segments(&r->segs, &r->nr_segs, dir, err);
	if (rc)
		goto out;
	if (o && o->last_n) {
		rc = seek_last_n(r, o->last_n, &seg, &at, err);
		if (rc)
			goto out;
	}
	if (o && o->since_ms) {
		size_t s = seek_since(r, o->since_ms);

		r->since = o->since_ms;
		if (s > seg) {
			seg = s;
			at = 0;
		}
	}
	r->next = seg;
	r->first_offset = at;
out:
	if (rc) {
		infer_reader_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

static const char *opt_string(json_t *doc, const char *key)
{
	return json_string_value(json_object_get(doc, key));
}

static int64_t opt_int(json_t *doc, const char *key)
{
	json_t *v = json_object_get(doc, key);

	return json_is_integer(v) ? json_integer_value(v) : 0;
}

/* Parses a checked line into e (taking the document), or returns false: not a record. */
static bool parse_entry(struct infer_entry *e, const char *json, size_t len)
{
	json_t *doc = json_loadb(json, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, NULL);
	const char *type = opt_string(doc, "type");
	json_t *t = json_object_get(doc, "time_ms");

	memset(e, 0, sizeof(*e));
	if (!json_is_object(doc) || !type || !json_is_integer(t))
		goto bad;
	e->doc = doc;
	e->time_ms = json_integer_value(t);
	e->request_id = opt_string(doc, "request_id");
	if (!strcmp(type, "prediction")) {
		e->kind = INFER_PREDICTION;
		e->model = opt_string(doc, "model");
		e->version = opt_int(doc, "version");
		e->digest = opt_string(doc, "digest");
		e->latency_us = opt_int(doc, "latency_us");
		e->inputs = json_object_get(doc, "inputs");
		e->output = json_object_get(doc, "output");
		if (!e->model)
			goto bad;
	} else if (!strcmp(type, "feedback")) {
		e->kind = INFER_FEEDBACK;
		e->label = json_object_get(doc, "label");
	} else {
		goto bad;
	}
	if (!e->request_id)
		goto bad;
	return true;
bad:
	json_decref(doc);
	memset(e, 0, sizeof(*e));
	return false;
}

/* Opens the next listed segment: 1, 0 when there is none left, or ERR_IO. */
static int reader_advance(struct infer_reader *r, struct error *err)
{
	while (r->next < r->nr_segs) {
		size_t i = r->next++;
		int fd, rc = open_segment(r, i, &fd, err);

		if (rc == ERR_NOTFOUND) {
			/* the offset was into that segment: the next one is read whole */
			r->first_offset = 0;
			r->st.segments_vanished++;
			continue;
		}
		if (rc)
			return rc;
		scan_start(&r->scan, fd, r->first_offset, UINT64_MAX);
		r->first_offset = 0;
		r->index = r->segs[i].index;
		r->open = true;
		r->st.segments++;
		return 1;
	}
	return 0;
}

static void reader_close_segment(struct infer_reader *r)
{
	if (r->open)
		close(r->scan.fd);
	r->open = false;
}

/* One line of the open segment: 1 with a record in *e, 0 for a line that is not one. */
static int reader_line(struct infer_reader *r, struct infer_entry *e, const char *line, size_t len,
		       uint64_t off)
{
	ssize_t jlen = line ? line_check(line, len) : -1;
	int64_t t;
	enum line_kind kind;

	if (jlen < 0)
		goto bad;
	kind = line_peek(line, (size_t)jlen, &t);
	if (kind == LINE_SEGMENT)
		return 0;
	if (kind != LINE_OTHER && t < r->since)
		return 0;
	if (!parse_entry(e, line, (size_t)jlen))
		goto bad;
	if (e->time_ms < r->since) {
		json_decref(e->doc);
		return 0;
	}
	e->segment = r->index;
	e->offset = off;
	e->len = (size_t)jlen;
	return 1;
bad:
	r->st.bad_lines++;
	r->st.bad_bytes += len + 1;
	return 0;
}

int infer_reader_next(struct infer_reader *r, struct infer_entry *out, struct error *err)
{
	json_decref(r->doc);
	r->doc = NULL;
	for (;;) {
		const char *line;
		size_t len;
		uint64_t off, torn = 0;
		int rc;

		if (!r->open) {
			rc = reader_advance(r, err);
			if (rc <= 0)
				return rc;
		}
		rc = scan_next(&r->scan, &line, &len, &off, &torn, err);
		if (rc < 0)
			return rc;
		if (rc == 0) {
			r->st.torn_bytes += torn;
			reader_close_segment(r);
			continue;
		}
		if (reader_line(r, out, line, len, off)) {
			r->doc = out->doc;
			r->st.records++;
			return 1;
		}
	}
}

void infer_reader_stats(const struct infer_reader *r, struct infer_read_stats *out)
{
	*out = r->st;
}

void infer_reader_free(struct infer_reader *r)
{
	if (!r)
		return;
	reader_close_segment(r);
	scan_release(&r->scan);
	json_decref(r->doc);
	free(r->segs);
	free(r->dir);
	free(r);
}
