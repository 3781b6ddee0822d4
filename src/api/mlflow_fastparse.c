/*
 * A single-pass JSON reader for log-batch and log-metric bodies that follows jansson's grammar
 * (strict UTF-8, no \u0000, int64 integers, finite reals) and mlflow_request.c's field rules,
 * and declines whatever it does not take exactly as they would.
 */
#include "util/common.h"
#include "api/mlflow_fastparse.h"
#include "api/mlflow_internal.h"

#include <math.h>

/* Deeper unknown fields are declined (jansson takes 2048 levels; clients send none). */
#define MAX_SKIP_DEPTH 32

struct reader {
	const char *start, *p, *end;
	char *sp; /* where the next decoded string goes, in the logreq's strings */
	const char *why;
};

enum vtype {
	V_NULL,
	V_BOOL,
	V_INT,
	V_REAL,
	V_STR
};

struct value {
	enum vtype type;
	int64_t i;
	double d;
	const char *s;
	size_t len;
};

static int fail(struct reader *r, const char *why)
{
	if (!r->why)
		r->why = why;
	return -1;
}

static void ws(struct reader *r)
{
	while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
		r->p++;
}

/* The next non-blank byte, consumed if it is c. */
static bool eat(struct reader *r, char c)
{
	ws(r);
	if (r->p < r->end && *r->p == c) {
		r->p++;
		return true;
	}
	return false;
}

static int hex4(const char *p, uint32_t *out)
{
	uint32_t v = 0;

	for (int k = 0; k < 4; k++) {
		char c = p[k];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (uint32_t)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

static char *put_utf8(char *o, uint32_t cp)
{
	if (cp < 0x80) {
		*o++ = (char)cp;
	} else if (cp < 0x800) {
		*o++ = (char)(0xc0 | (cp >> 6));
		*o++ = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		*o++ = (char)(0xe0 | (cp >> 12));
		*o++ = (char)(0x80 | ((cp >> 6) & 0x3f));
		*o++ = (char)(0x80 | (cp & 0x3f));
	} else {
		*o++ = (char)(0xf0 | (cp >> 18));
		*o++ = (char)(0x80 | ((cp >> 12) & 0x3f));
		*o++ = (char)(0x80 | ((cp >> 6) & 0x3f));
		*o++ = (char)(0x80 | (cp & 0x3f));
	}
	return o;
}

/* One \uXXXX escape (a surrogate pair: two) at r->p, after the backslash and 'u'. */
static int unicode_escape(struct reader *r, char **o)
{
	uint32_t cp, lo;

	if (r->end - r->p < 4 || hex4(r->p, &cp))
		return fail(r, "bad \\u escape");
	r->p += 4;
	if (cp >= 0xdc00 && cp <= 0xdfff)
		return fail(r, "lone low surrogate");
	if (cp >= 0xd800 && cp <= 0xdbff) {
		if (r->end - r->p < 6 || r->p[0] != '\\' || r->p[1] != 'u' || hex4(r->p + 2, &lo) ||
		    lo < 0xdc00 || lo > 0xdfff)
			return fail(r, "lone high surrogate");
		r->p += 6;
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
	}
	if (!cp)
		return fail(r, "\\u0000");
	*o = put_utf8(*o, cp);
	return 0;
}

/* A UTF-8 sequence as jansson checks it: no overlongs, surrogates or code points > U+10FFFF. */
static int utf8_seq(struct reader *r, char **o)
{
	const unsigned char *s = (const unsigned char *)r->p;
	size_t n, avail = (size_t)(r->end - r->p);
	uint32_t cp;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07;
	else
		return fail(r, "invalid UTF-8");
	if (avail < n)
		return fail(r, "truncated UTF-8");
	for (size_t k = 1; k < n; k++) {
		if ((s[k] & 0xc0) != 0x80)
			return fail(r, "invalid UTF-8");
		cp = (cp << 6) | (s[k] & 0x3f);
	}
	if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || (n == 3 && cp < 0x800) ||
	    (n == 4 && cp < 0x10000))
		return fail(r, "invalid UTF-8");
	memcpy(*o, r->p, n);
	*o += n;
	r->p += n;
	return 0;
}

static int escape(struct reader *r, char **o)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *at;

	if (r->p >= r->end)
		return fail(r, "unterminated string");
	if (*r->p == 'u') {
		r->p++;
		return unicode_escape(r, o);
	}
	if (!(at = memchr(from, *r->p, sizeof(from) - 1)))
		return fail(r, "bad escape");
	*(*o)++ = to[at - from];
	r->p++;
	return 0;
}

/*
 * A string at r->p, decoded to r->sp (NUL-terminated; never longer than its JSON text with the
 * quotes, so the strings buffer of the body's length is enough). r->sp is left as it was: the
 * caller keeps the string by moving it past.
 */
static int string(struct reader *r, const char **out, size_t *len)
{
	char *o = r->sp;

	if (!eat(r, '"'))
		return fail(r, "expected a string");
	for (;;) {
		const char *run = r->p;

		while (r->p < r->end && (unsigned char)*r->p >= 0x20 && *r->p != '"' &&
		       *r->p != '\\' && (unsigned char)*r->p < 0x80)
			r->p++;
		memcpy(o, run, (size_t)(r->p - run));
		o += r->p - run;
		if (r->p >= r->end)
			return fail(r, "unterminated string");
		if (*r->p == '"')
			break;
		if ((unsigned char)*r->p < 0x20)
			return fail(r, "control character in a string");
		if (*r->p == '\\') {
			r->p++;
			if (escape(r, &o) < 0)
				return -1;
		} else if (utf8_seq(r, &o) < 0) {
			return -1;
		}
	}
	r->p++;
	*o = '\0';
	*out = r->sp;
	*len = (size_t)(o - r->sp);
	return 0;
}

static bool digit(const struct reader *r)
{
	return r->p < r->end && *r->p >= '0' && *r->p <= '9';
}

/*
 * jansson's number grammar: integers as strtoll (out of range: refused), reals as strtod (the C
 * locale main() sets, as mlflow_parse_double relies on too).
 */
static int number(struct reader *r, struct value *v)
{
	const char *s = r->p;
	char buf[64], *end;
	bool real = false;

	if (r->p < r->end && *r->p == '-')
		r->p++;
	if (!digit(r))
		return fail(r, "bad number");
	if (*r->p++ == '0' && digit(r))
		return fail(r, "leading zero");
	while (digit(r))
		r->p++;
	if (r->p < r->end && *r->p == '.') {
		r->p++, real = true;
		if (!digit(r))
			return fail(r, "bad fraction");
		while (digit(r))
			r->p++;
	}
	if (r->p < r->end && (*r->p == 'e' || *r->p == 'E')) {
		r->p++, real = true;
		if (r->p < r->end && (*r->p == '+' || *r->p == '-'))
			r->p++;
		if (!digit(r))
			return fail(r, "bad exponent");
		while (digit(r))
			r->p++;
	}
	if ((size_t)(r->p - s) >= sizeof(buf))
		return fail(r, "long number");
	memcpy(buf, s, (size_t)(r->p - s));
	buf[r->p - s] = '\0';
	errno = 0;
	if (real) {
		v->type = V_REAL;
		v->d = strtod(buf, &end);
		if (errno == ERANGE && isinf(v->d))
			return fail(r, "real number overflow");
	} else {
		v->type = V_INT;
		v->i = strtoll(buf, &end, 10);
		if (errno == ERANGE)
			return fail(r, "integer out of range");
	}
	return 0;
}

static int literal(struct reader *r, const char *word, size_t n)
{
	if ((size_t)(r->end - r->p) < n || memcmp(r->p, word, n))
		return fail(r, "bad literal");
	r->p += n;
	return 0;
}

/* A scalar value; objects and arrays are declined (skip them with skip_value). */
static int scalar(struct reader *r, struct value *v)
{
	ws(r);
	if (r->p >= r->end)
		return fail(r, "expected a value");
	switch (*r->p) {
	case '"':
		v->type = V_STR;
		return string(r, &v->s, &v->len);
	case 't':
	case 'f':
		v->type = V_BOOL;
		return *r->p == 't' ? literal(r, "true", 4) : literal(r, "false", 5);
	case 'n':
		v->type = V_NULL;
		return literal(r, "null", 4);
	default:
		return number(r, v);
	}
}

/* Any value, checked and dropped. */
static int skip_value(struct reader *r, int depth)
{
	struct value v;
	const char *s;
	size_t len;
	char close;

	ws(r);
	if (r->p >= r->end || (*r->p != '{' && *r->p != '['))
		return scalar(r, &v);
	if (depth >= MAX_SKIP_DEPTH)
		return fail(r, "nested too deep");
	close = *r->p++ == '{' ? '}' : ']';
	if (eat(r, close))
		return 0;
	do {
		if (close == '}' &&
		    (string(r, &s, &len) < 0 || memchr(s, '\0', len) || !eat(r, ':')))
			return fail(r, "bad object member");
		if (skip_value(r, depth + 1) < 0)
			return -1;
	} while (eat(r, ','));
	return eat(r, close) ? 0 : fail(r, "expected ',' or a closing bracket");
}

/* The getters' conversions (mlflow_obj_string, _int64, _double); any refusal declines. */
static int to_string(struct reader *r, const struct value *v, const char **out)
{
	if (v->type != V_STR)
		return fail(r, "not a string");
	*out = v->s;
	r->sp += v->len + 1;
	return 0;
}

static int to_int64(struct reader *r, const struct value *v, int64_t *out)
{
	if (v->type == V_INT) {
		*out = v->i;
	} else if (v->type == V_REAL) {
		if (v->d != floor(v->d) || fabs(v->d) > 9.2e18)
			return fail(r, "not an integer");
		*out = (int64_t)v->d;
	} else if (v->type != V_STR || !mlflow_parse_int64(v->s, out)) {
		return fail(r, "not an integer");
	}
	return 0;
}

static int to_double(struct reader *r, const struct value *v, double *out)
{
	if (v->type == V_INT)
		*out = (double)v->i;
	else if (v->type == V_REAL)
		*out = v->d;
	else if (v->type != V_STR || !mlflow_parse_double(v->s, out))
		return fail(r, "not a number");
	return 0;
}

/* Fields -------------------------------------------------------------------------------------- */

enum field {
	F_RUN_ID,
	F_RUN_UUID,
	F_KEY,
	F_VALUE,
	F_TIMESTAMP,
	F_STEP,
	F_METRICS,
	F_PARAMS,
	F_TAGS,
	F_OTHER,
};

static enum field field_of(const char *s, size_t len)
{
	static const char *const names[] = { "run_id", "run_uuid", "key",    "value", "timestamp",
					     "step",   "metrics",  "params", "tags" };

	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (strlen(names[i]) == len && !memcmp(names[i], s, len))
			return (enum field)i;
	return F_OTHER;
}

/* An object member's name; a known field given twice declines (jansson keeps the last). */
static int member(struct reader *r, enum field *f, unsigned *seen)
{
	const char *s;
	size_t len;

	if (string(r, &s, &len) < 0 || !eat(r, ':'))
		return fail(r, "expected a member name and ':'");
	if (memchr(s, '\0', len))
		return fail(r, "NUL in a member name");
	*f = field_of(s, len);
	if (*f != F_OTHER && (*seen & (1u << *f)))
		return fail(r, "field given twice");
	*seen |= 1u << *f;
	return 0;
}

/* A metric message of log-batch; null fields keep protobuf's defaults. */
static int metric(struct reader *r, struct store_metric *m)
{
	unsigned seen = 0;
	struct value v;
	enum field f;

	*m = (struct store_metric){ "", 0, 0, 0 };
	if (!eat(r, '{'))
		return fail(r, "metric is not an object");
	if (eat(r, '}'))
		return 0;
	do {
		if (member(r, &f, &seen) < 0)
			return -1;
		if (f != F_KEY && f != F_VALUE && f != F_TIMESTAMP && f != F_STEP) {
			if (skip_value(r, 1) < 0)
				return -1;
			continue;
		}
		if (scalar(r, &v) < 0)
			return -1;
		if (v.type == V_NULL)
			continue;
		if ((f == F_KEY && to_string(r, &v, &m->key) < 0) ||
		    (f == F_VALUE && to_double(r, &v, &m->value) < 0) ||
		    (f == F_TIMESTAMP && to_int64(r, &v, &m->timestamp) < 0) ||
		    (f == F_STEP && to_int64(r, &v, &m->step) < 0))
			return -1;
	} while (eat(r, ','));
	return eat(r, '}') ? 0 : fail(r, "expected ',' or '}'");
}

/* A Param or RunTag message. */
static int key_value(struct reader *r, struct store_kv *kv)
{
	unsigned seen = 0;
	struct value v;
	enum field f;

	*kv = (struct store_kv){ "", "" };
	if (!eat(r, '{'))
		return fail(r, "param or tag is not an object");
	if (eat(r, '}'))
		return 0;
	do {
		if (member(r, &f, &seen) < 0)
			return -1;
		if (f != F_KEY && f != F_VALUE) {
			if (skip_value(r, 1) < 0)
				return -1;
			continue;
		}
		if (scalar(r, &v) < 0)
			return -1;
		if (v.type != V_NULL && to_string(r, &v, f == F_KEY ? &kv->key : &kv->value) < 0)
			return -1;
	} while (eat(r, ','));
	return eat(r, '}') ? 0 : fail(r, "expected ',' or '}'");
}

/* A list of messages; null is none, one value not in a list is declined. */
static int list(struct reader *r, struct mlflow_logreq *out, enum field f)
{
	ws(r);
	if (r->p < r->end && *r->p == 'n')
		return literal(r, "null", 4);
	if (!eat(r, '['))
		return fail(r, "not a list");
	if (eat(r, ']'))
		return 0;
	do {
		int rc;

		if (f == F_METRICS) {
			ALLOC_GROW(out->metrics, out->nr_metrics + 1, out->alloc_metrics);
			rc = metric(r, &out->metrics[out->nr_metrics++]);
		} else if (f == F_PARAMS) {
			ALLOC_GROW(out->params, out->nr_params + 1, out->alloc_params);
			rc = key_value(r, &out->params[out->nr_params++]);
		} else {
			ALLOC_GROW(out->tags, out->nr_tags + 1, out->alloc_tags);
			rc = key_value(r, &out->tags[out->nr_tags++]);
		}
		if (rc < 0)
			return -1;
	} while (eat(r, ','));
	return eat(r, ']') ? 0 : fail(r, "expected ',' or ']'");
}

/* Top level ----------------------------------------------------------------------------------- */

struct top {
	const char *run_id, *run_uuid;
	struct store_metric m;
	unsigned present; /* non-null fields, by 1 << enum field */
};

static int top_field(struct reader *r, struct top *t, enum field f, bool batch,
		     struct mlflow_logreq *out)
{
	struct value v;

	if (f == F_OTHER || (batch && f >= F_KEY && f <= F_STEP) ||
	    (!batch && f >= F_METRICS && f <= F_TAGS))
		return skip_value(r, 1);
	if (batch && f >= F_METRICS)
		return list(r, out, f);
	if (scalar(r, &v) < 0)
		return -1;
	if (v.type == V_NULL)
		return 0;
	t->present |= 1u << f;
	switch (f) {
	case F_RUN_ID:
		return to_string(r, &v, &t->run_id);
	case F_RUN_UUID:
		return to_string(r, &v, &t->run_uuid);
	case F_KEY:
		/* a required string: "" is missing */
		return v.type == V_STR && !v.len ? fail(r, "empty key")
						 : to_string(r, &v, &t->m.key);
	case F_VALUE:
		return to_double(r, &v, &t->m.value);
	case F_TIMESTAMP:
		return to_int64(r, &v, &t->m.timestamp);
	default:
		return to_int64(r, &v, &t->m.step);
	}
}

static int parse(struct mlflow_logreq *out, const char *body, size_t len, bool batch,
		 struct error *err)
{
	struct reader r = { body, body, body + len, NULL, NULL };
	struct top t = { NULL, NULL, { "", 0, 0, 0 }, 0 };
	const unsigned required = 1u << F_KEY | 1u << F_VALUE | 1u << F_TIMESTAMP;
	unsigned seen = 0;
	enum field f;

	*out = (struct mlflow_logreq)MLFLOW_LOGREQ_INIT;
	out->strings = xmalloc(len + 1);
	r.sp = out->strings;
	if (!eat(&r, '{')) {
		fail(&r, "not an object");
		goto declined;
	}
	if (!eat(&r, '}')) {
		do {
			if (member(&r, &f, &seen) < 0 || top_field(&r, &t, f, batch, out) < 0)
				goto declined;
		} while (eat(&r, ','));
		if (!eat(&r, '}')) {
			fail(&r, "expected ',' or '}'");
			goto declined;
		}
	}
	ws(&r);
	if (r.p != r.end) {
		fail(&r, "text after the object");
		goto declined;
	}
	if (!batch && (t.present & required) != required) {
		fail(&r, "a required field is missing");
		goto declined;
	}
	/* mlflow_req_run_id: run_id, else run_uuid (whose type is checked only then) */
	out->run_id = t.run_id && *t.run_id	  ? t.run_id
		      : t.run_uuid && *t.run_uuid ? t.run_uuid
						  : NULL;
	if (!batch) {
		out->metrics = xmalloc(sizeof(*out->metrics));
		out->metrics[0] = t.m;
		out->nr_metrics = out->alloc_metrics = 1;
	}
	return 0;
declined:
	mlflow_logreq_release(out);
	return error_set(err, ERR_UNSUPPORTED, "byte %zu: %s", (size_t)(r.p - r.start), r.why);
}

int mlflow_fastparse_log_batch(struct mlflow_logreq *out, const char *body, size_t len,
			       struct error *err)
{
	return parse(out, body, len, true, err);
}

int mlflow_fastparse_log_metric(struct mlflow_logreq *out, const char *body, size_t len,
				struct error *err)
{
	return parse(out, body, len, false, err);
}

void mlflow_logreq_release(struct mlflow_logreq *r)
{
	free(r->metrics);
	free(r->params);
	free(r->tags);
	free(r->strings);
	*r = (struct mlflow_logreq)MLFLOW_LOGREQ_INIT;
}
