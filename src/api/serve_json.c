/*
 * A small JSON reader for inference requests: one pass over an arena copy of the body, strings
 * unescaped in place, values appended to a flat tape. jansson would cost a malloc per value and
 * cannot read Python's NaN; this reads a 1-row request in well under a microsecond.
 */
#include "util/common.h"
#include "api/serve_internal.h"
#include "table/number.h"

#include <float.h>
#include <math.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define SJ_STR_(x) #x
#define SJ_STR(x) SJ_STR_(x)

struct parser {
	char *t; /* the copy: NUL at t[len], then padding */
	const char *orig;
	size_t len, pos, n;
	unsigned flags;
	struct serve_mem *mem;
	struct serve_error *e;
};

struct frame {
	uint32_t node;
	uint32_t count;
};

/* Python's JSONDecodeError positions: line and column 1-based, char 0-based, in code points. */
static int fail_at(struct parser *p, size_t at, const char *what)
{
	size_t line = 1, col = 1, ch = 0;

	for (size_t i = 0; i < at && i < p->len; i++) {
		unsigned char c = (unsigned char)p->orig[i];

		if ((c & 0xc0) == 0x80)
			continue;
		ch++;
		col++;
		if (c == '\n') {
			line++;
			col = 1;
		}
	}
	return serve_detail(p->e, ERR_INVALID, "%s: line %zu column %zu (char %zu)", what, line,
			    col, ch);
}

static int grow_tape(struct parser *p)
{
	struct serve_mem *m = p->mem;
	size_t want;

	if (p->n >= SERVE_MAX_VALUES)
		return serve_detail(p->e, ERR_TOOBIG, "the request has more than %u JSON values",
				    SERVE_MAX_VALUES);
	want = m->tape_alloc < 256 ? 256 : m->tape_alloc * 2;
	if (want > SERVE_MAX_VALUES)
		want = SERVE_MAX_VALUES;
	m->tape = xreallocarray(m->tape, want, sizeof(*m->tape));
	m->tape_alloc = want;
	return 0;
}

static inline int push(struct parser *p, uint8_t type, uint32_t *idx)
{
	struct sj_node *node;

	if (p->n == p->mem->tape_alloc) {
		int rc = grow_tape(p);

		if (rc)
			return rc;
	}
	node = &p->mem->tape[p->n];
	node->type = type;
	node->flags = 0;
	node->unused = 0;
	node->end = (uint32_t)p->n + 1;
	node->v.count = 0;
	*idx = (uint32_t)p->n++;
	return 0;
}

static inline void skip_ws(struct parser *p)
{
	const char *t = p->t;
	size_t pos = p->pos;

	while (t[pos] == ' ' || t[pos] == '\n' || t[pos] == '\r' || t[pos] == '\t')
		pos++;
	p->pos = pos;
}

/* The length of the valid UTF-8 sequence at s (not ASCII), 0 if invalid. t[len] is NUL. */
static size_t utf8_seq(const unsigned char *s)
{
	unsigned char c = s[0];
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n;

	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		lo = c == 0xe0 ? 0xa0 : 0x80; /* overlong */
		hi = c == 0xed ? 0x9f : 0xbf; /* UTF-16 surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		lo = c == 0xf0 ? 0x90 : 0x80;
		hi = c == 0xf4 ? 0x8f : 0xbf; /* beyond U+10FFFF */
	} else
		return 0;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

static int hex4(const char *s, unsigned *out)
{
	unsigned v = 0;

	for (int i = 0; i < 4; i++) {
		char c = s[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

static size_t put_utf8(char *w, unsigned cp)
{
	if (cp < 0x80) {
		w[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		w[0] = (char)(0xc0 | (cp >> 6));
		w[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		w[0] = (char)(0xe0 | (cp >> 12));
		w[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		w[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	w[0] = (char)(0xf0 | (cp >> 18));
	w[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	w[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	w[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* A \uXXXX escape (with its low surrogate) at t[pos], pos at the backslash. */
static int unicode_escape(struct parser *p, size_t *pos, unsigned *cp)
{
	const char *t = p->t;
	unsigned hi, lo;

	if (p->len - *pos < 6 || hex4(t + *pos + 2, &hi))
		return fail_at(p, *pos, "invalid \\uXXXX escape");
	if (hi >= 0xdc00 && hi <= 0xdfff)
		return fail_at(p, *pos, "lone surrogate in \\uXXXX escape");
	if (hi >= 0xd800 && hi <= 0xdbff) {
		if (p->len - *pos < 12 || t[*pos + 6] != '\\' || t[*pos + 7] != 'u' ||
		    hex4(t + *pos + 8, &lo) || lo < 0xdc00 || lo > 0xdfff)
			return fail_at(p, *pos, "lone surrogate in \\uXXXX escape");
		*cp = 0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00);
		*pos += 12;
		return 0;
	}
	if (hi == 0)
		return fail_at(p, *pos, "\\u0000 is not allowed in strings");
	*cp = hi;
	*pos += 6;
	return 0;
}

static int bad_char(struct parser *p, size_t start, size_t pos)
{
	if (pos >= p->len)
		return fail_at(p, start, "unterminated string starting at");
	if ((unsigned char)p->t[pos] < 0x20)
		return fail_at(p, pos, "invalid control character at");
	return fail_at(p, pos, "invalid UTF-8 at");
}

/* The rest of a string with escapes, from pos (at a backslash); writes behind the reader. */
static int string_slow(struct parser *p, size_t start, size_t pos, size_t *end)
{
	char *t = p->t;
	size_t w = pos, n;
	unsigned cp = 0;
	int rc;

	for (;;) {
		unsigned char c = (unsigned char)t[pos];

		if (c == '"') {
			t[w] = '\0';
			*end = w;
			p->pos = pos + 1;
			return 0;
		}
		if (c == '\\') {
			static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
			const char *q = t[pos + 1] ? strchr(from, t[pos + 1]) : NULL;

			if (q) {
				t[w++] = to[q - from];
				pos += 2;
				continue;
			}
			if (t[pos + 1] != 'u')
				return fail_at(p, pos, "invalid \\escape");
			rc = unicode_escape(p, &pos, &cp);
			if (rc)
				return rc;
			w += put_utf8(t + w, cp);
		} else if (c < 0x20) {
			return bad_char(p, start, pos);
		} else if (c < 0x80) {
			t[w++] = (char)c;
			pos++;
		} else {
			n = utf8_seq((const unsigned char *)t + pos);
			if (!n)
				return bad_char(p, start, pos);
			memmove(t + w, t + pos, n);
			w += n;
			pos += n;
		}
	}
}

#ifndef __SSE2__
/* Bytes a string holds as they are: printable ASCII but the quote and the backslash. */
static const unsigned char plain[256] = {
	[0x20] = 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x22 is '"' */
	[0x30] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	[0x40] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	[0x50] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, /* 0x5c is '\\' */
	[0x60] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	[0x70] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
};
#endif

/*
 * The first byte at or after pos that is not plain. Sixteen bytes at a time with SSE2: a byte
 * at a time was 3.5% of a 1-row prediction's CPU (its ~20 strings). Reading ahead is safe: the
 * text is followed by 16 NULs (sj_parse), and a NUL stops the scan, so pos never passes it.
 */
static size_t skip_plain(const char *t, size_t pos)
{
#ifdef __SSE2__
	const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\');
	const __m128i space = _mm_set1_epi8(0x20);

	for (;;) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(t + pos));
		/* signed: bytes 0x80-0xff are negative, so "< 0x20" takes them with the controls */
		__m128i stop = _mm_or_si128(
		    _mm_cmplt_epi8(v, space),
		    _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)));
		unsigned mask = (unsigned)_mm_movemask_epi8(stop);

		if (mask)
			return pos + (size_t)__builtin_ctz(mask);
		pos += 16;
	}
#else
	while (plain[(unsigned char)t[pos]])
		pos++;
	return pos;
#endif
}

/* A string at p->pos (its opening quote): NUL-terminated in place. */
static int string(struct parser *p, uint32_t *off, uint32_t *slen)
{
	char *t = p->t;
	size_t start = p->pos, pos = start + 1, end = 0, n;
	int rc;

	for (;;) {
		unsigned char c;

		pos = skip_plain(t, pos);
		c = (unsigned char)t[pos];
		if (c == '"') {
			t[pos] = '\0';
			end = pos;
			p->pos = pos + 1;
			break;
		}
		if (c == '\\') {
			rc = string_slow(p, start, pos, &end);
			if (rc)
				return rc;
			break;
		}
		if (c < 0x80)
			return bad_char(p, start, pos);
		n = utf8_seq((const unsigned char *)t + pos);
		if (!n)
			return bad_char(p, start, pos);
		pos += n;
	}
	*off = (uint32_t)(start + 1);
	*slen = (uint32_t)(end - start - 1);
	return 0;
}

static int is_digit(char c)
{
	return (unsigned char)(c - '0') < 10;
}

/* Digits at t[*pos] into *w (wrapping past 19 digits); their count. */
static inline size_t digits(const char *t, size_t *pos, uint64_t *w)
{
	size_t start = *pos;

	while (is_digit(t[*pos]))
		*w = *w * 10 + (uint64_t)(t[(*pos)++] - '0');
	return *pos - start;
}

/*
 * Clinger's fast path while the digits are at hand: w and 10^|e| are exact doubles, so one
 * division or multiplication rounds correctly. Everything else goes to num_parse (strtod's
 * result exactly).
 */
static int fast_value(uint64_t w, size_t ndigits, int64_t e, int neg, double *out)
{
#if FLT_EVAL_METHOD == 0
	static const double pow10[] = { 1e0,  1e1,  1e2,  1e3,	1e4,  1e5,  1e6,  1e7,
					1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
					1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22 };
	double v;

	if (ndigits > 19 || w > (UINT64_C(1) << 53) || e < -22 || e > 22)
		return 0;
	v = (double)w;
	v = e < 0 ? v / pow10[-e] : v * pow10[e];
	*out = neg ? -v : v;
	return 1;
#else
	(void)w, (void)ndigits, (void)e, (void)neg, (void)out;
	return 0;
#endif
}

/* A number at p->pos, by JSON's grammar; the value is exactly strtod's. */
static int number(struct parser *p)
{
	const char *t = p->t;
	size_t start = p->pos, pos = start, nint, nfrac = 0;
	uint8_t flags = SJ_INTEGER;
	int64_t e = 0;
	uint64_t w = 0;
	uint32_t idx;
	int rc, kind = NUM_FINITE, neg = t[pos] == '-';
	double v;

	pos += neg;
	if (t[pos] == '0')
		nint = 1, pos++;
	else if (!(nint = digits(t, &pos, &w)))
		return fail_at(p, start, "expected a value");
	if (t[pos] == '.') {
		pos++;
		if (!(nfrac = digits(t, &pos, &w)))
			return fail_at(p, pos, "expected a digit after the decimal point");
		flags = 0;
	}
	if (t[pos] == 'e' || t[pos] == 'E') {
		int eneg = 0;

		pos++;
		if (t[pos] == '+' || t[pos] == '-')
			eneg = t[pos++] == '-';
		if (!is_digit(t[pos]))
			return fail_at(p, pos, "expected a digit in the exponent");
		for (; is_digit(t[pos]); pos++)
			if (e < 100000)
				e = e * 10 + (t[pos] - '0');
		e = eneg ? -e : e;
		flags = 0;
	}
	/* leading zeros ("0.000123") do not count towards 19 digits, but they are rare */
	if (!fast_value(w, nint + nfrac, e - (int64_t)nfrac, neg, &v))
		kind = num_parse(t + start, pos - start, &v);
	if (kind == NUM_NONFINITE) /* an overflow: Python reads it as an infinity */
		v = neg ? -HUGE_VAL : HUGE_VAL;
	else if (kind != NUM_FINITE)
		BUG("num_parse refused a JSON number");
	rc = push(p, SJ_NUMBER, &idx);
	if (rc)
		return rc;
	p->mem->tape[idx].flags = flags;
	p->mem->tape[idx].v.num = v;
	p->pos = pos;
	return 0;
}

static int literal(struct parser *p, const char *word, uint8_t type, double num, uint8_t flags)
{
	size_t n = strlen(word);
	uint32_t idx;
	int rc;

	if (p->len - p->pos < n || memcmp(p->t + p->pos, word, n))
		return fail_at(p, p->pos, "expected a value");
	rc = push(p, type, &idx);
	if (rc)
		return rc;
	p->mem->tape[idx].flags = flags;
	p->mem->tape[idx].v.num = num;
	p->pos += n;
	return 0;
}

/* A scalar at p->pos (not '{' or '['). */
static int scalar(struct parser *p)
{
	const char *t = p->t;
	uint32_t idx, off = 0, slen = 0;
	int nonstd = p->flags & SJ_NONSTANDARD;
	int rc;

	switch (t[p->pos]) {
	case '"':
		rc = string(p, &off, &slen);
		if (rc)
			return rc;
		rc = push(p, SJ_STRING, &idx);
		if (rc)
			return rc;
		p->mem->tape[idx].v.s.off = off;
		p->mem->tape[idx].v.s.len = slen;
		return 0;
	case 't':
		return literal(p, "true", SJ_TRUE, 0, 0);
	case 'f':
		return literal(p, "false", SJ_FALSE, 0, 0);
	case 'n':
		return literal(p, "null", SJ_NULL, 0, 0);
	case 'N':
		if (nonstd)
			return literal(p, "NaN", SJ_NUMBER, NAN, SJ_NAN);
		break;
	case 'I':
		if (nonstd)
			return literal(p, "Infinity", SJ_NUMBER, HUGE_VAL, 0);
		break;
	case '-':
		if (nonstd && t[p->pos + 1] == 'I')
			return literal(p, "-Infinity", SJ_NUMBER, -HUGE_VAL, 0);
		return number(p);
	default:
		if (is_digit(t[p->pos]))
			return number(p);
	}
	return fail_at(p, p->pos, "expected a value");
}

static int open_container(struct parser *p, struct frame *stack, int *depth, uint8_t type)
{
	uint32_t idx;
	int rc;

	if (*depth == SERVE_MAX_DEPTH)
		return fail_at(p, p->pos,
			       "JSON nested deeper than " SJ_STR(SERVE_MAX_DEPTH) " levels at");
	rc = push(p, type, &idx);
	if (rc)
		return rc;
	stack[*depth].node = idx;
	stack[*depth].count = 0;
	(*depth)++;
	p->pos++;
	return 0;
}

static void close_container(struct parser *p, struct frame *f)
{
	struct sj_node *node = &p->mem->tape[f->node];

	node->end = (uint32_t)p->n;
	node->v.count = f->count;
	p->pos++;
}

static int key(struct parser *p)
{
	int rc;

	skip_ws(p);
	if (p->t[p->pos] != '"')
		return fail_at(p, p->pos, "expected a key in double quotes");
	rc = scalar(p);
	if (rc)
		return rc;
	skip_ws(p);
	if (p->t[p->pos] != ':')
		return fail_at(p, p->pos, "expected ':' after a key");
	p->pos++;
	return 0;
}

/*
 * The document: an explicit stack instead of recursion. After each complete value, the
 * innermost open container takes a ',' (then the next element or key) or its closing bracket.
 */
static int document(struct parser *p)
{
	struct frame stack[SERVE_MAX_DEPTH];
	int depth = 0, rc;
	char c;

	for (;;) {
		/* a value */
		skip_ws(p);
		c = p->t[p->pos];
		if (c == '{' || c == '[') {
			rc = open_container(p, stack, &depth, c == '{' ? SJ_OBJECT : SJ_ARRAY);
			if (rc)
				return rc;
			skip_ws(p);
			if (p->t[p->pos] != (c == '{' ? '}' : ']')) {
				if (c == '{' && (rc = key(p)))
					return rc;
				continue;
			}
			close_container(p, &stack[--depth]);
		} else if ((rc = scalar(p))) {
			return rc;
		}
		/* after a value: close as many containers as end here */
		for (;;) {
			struct frame *f;
			int obj;

			skip_ws(p);
			if (!depth) {
				if (p->pos != p->len)
					return fail_at(p, p->pos, "extra data");
				return 0;
			}
			f = &stack[depth - 1];
			f->count++;
			obj = p->mem->tape[f->node].type == SJ_OBJECT;
			c = p->t[p->pos];
			if (c == ',') {
				p->pos++;
				if (obj && (rc = key(p)))
					return rc;
				break;
			}
			if (c != (obj ? '}' : ']'))
				return fail_at(p, p->pos,
					       obj ? "expected ',' or '}'" : "expected ',' or ']'");
			close_container(p, f);
			depth--;
		}
	}
}

int sj_parse(struct sj_doc *out, struct serve_input *in, const char *body, size_t len,
	     unsigned flags, struct serve_error *e)
{
	struct parser p = { 0 };
	char *t;
	int rc;

	if (len >= UINT32_MAX - 64)
		return serve_detail(e, ERR_TOOBIG, "the request body is larger than 4 GiB");
	/* NUL-padded so that look-aheads of a few bytes never leave the copy */
	t = serve_alloc(in, len + 16);
	memcpy(t, body, len);
	memset(t + len, 0, 16);
	p.t = t;
	p.orig = body;
	p.len = len;
	p.flags = flags;
	p.mem = in->mem;
	p.e = e;
	rc = document(&p);
	if (rc)
		return rc;
	out->text = t;
	out->nodes = in->mem->tape;
	out->n = p.n;
	return 0;
}

int sj_members(const struct sj_doc *d, uint32_t obj, const char *const *keys, size_t n,
	       uint32_t *out)
{
	for (size_t i = 0; i < n; i++)
		out[i] = SJ_NONE;
	for (uint32_t c = obj + 1; c < d->nodes[obj].end; c = d->nodes[c + 1].end)
		for (size_t i = 0; i < n; i++)
			if (!strcmp(sj_str(d, c), keys[i])) {
				if (out[i] != SJ_NONE)
					return (int)i;
				out[i] = c + 1;
				break;
			}
	return -1;
}

const char *sj_type_name(const struct sj_doc *d, uint32_t i)
{
	static const char *const names[] = { "null",	 "a boolean", "a boolean", "a number",
					     "a string", "a list",    "an object" };

	return names[d->nodes[i].type];
}

const char *sj_python_type(const struct sj_doc *d, uint32_t i)
{
	static const char *const names[] = {
		"<class 'NoneType'>", "<class 'bool'>", "<class 'bool'>", "<class 'float'>",
		"<class 'str'>",      "<class 'list'>", "<class 'dict'>",
	};
	const struct sj_node *node = &d->nodes[i];

	if (node->type == SJ_NUMBER && (node->flags & SJ_INTEGER))
		return "<class 'int'>";
	return names[node->type];
}
