/*
 * Response bodies of the three protocols from one model answer: labels, values and class
 * probabilities, with doubles in the shortest text that reads back exactly.
 */
#include "util/common.h"
#include "api/serve_internal.h"
#include "table/number.h"
#include "util/strbuf.h"

#include <math.h>

/* The reference: the shortest of %.15g, %.16g, %.17g that reads back (strtod's reading). */
static int format_printf(char out[SERVE_DOUBLE_SIZE], double x)
{
	int n = 0;

	/*
	 * A value with a round-tripping form of at most 15 significant digits gets it from %.15g
	 * (%g drops trailing zeros), so 15, 16, 17 finds the shortest. num_parse reads back
	 * exactly as strtod would, in any locale.
	 */
	for (int prec = 15; prec <= 17; prec++) {
		double back;

		n = snprintf(out, SERVE_DOUBLE_SIZE, "%.*g", prec, x);
		if (prec == 17 || (num_parse(out, (size_t)n, &back) == NUM_FINITE && back == x))
			break;
	}
	return n;
}

#if defined(__SIZEOF_INT128__)
/* __extension__: -Wpedantic knows no 128-bit integers, gcc and clang have them */
__extension__ typedef unsigned __int128 u128;

static const uint64_t pow5[] = {
	1,
	5,
	25,
	125,
	625,
	3125,
	15625,
	78125,
	390625,
	1953125,
	9765625,
	48828125,
	244140625,
	1220703125,
	6103515625,
	30517578125,
	152587890625,
	762939453125,
	3814697265625,
	19073486328125,
	95367431640625,
	476837158203125,
	2384185791015625,
	11920928955078125,
	59604644775390625,
	298023223876953125,
};

/*
 * x = m * 2^q scaled by 10^k (0 <= k <= 25) is T * 2^s with T = m * 5^k and s = q + k: its
 * floor, and its value rounded half to even, as integers (exact: T < 2^112).
 */
static void scale(uint64_t m, int q, int k, uint64_t *fl, uint64_t *rounded)
{
	u128 t = (u128)m * pow5[k];
	int s = q + k;

	if (s >= 0) {
		*fl = *rounded = (uint64_t)(t << s);
		return;
	}
	{
		u128 f = t >> -s, rem = t - (f << -s), half = (u128)1 << (-s - 1);

		*fl = (uint64_t)f;
		*rounded = (uint64_t)(f + (rem > half || (rem == half && (f & 1))));
	}
}

/*
 * Whether D * 10^-k reads back as x: within half the gap to x's neighbours (a quarter below a
 * power of two, where the gap below is half as wide), ties going to the even mantissa. In the
 * scale of T, half a gap is 5^k / 2.
 */
static int reads_back(uint64_t m, int q, int k, uint64_t d)
{
	u128 t = (u128)m * pow5[k], y, delta;
	int s = q + k, below;

	if (s >= 0)
		return 1; /* x * 10^k is an integer of at most P digits: d is exact */
	y = (u128)d << -s;
	below = y < t;
	delta = below ? t - y : y - t;
	if (below && m == UINT64_C(1) << 52)
		return 4 * delta < pow5[k] || (4 * delta == pow5[k] && !(m & 1));
	return 2 * delta < pow5[k] || (2 * delta == pow5[k] && !(m & 1));
}

/* d (p digits) times 10^(x10 - p + 1) as %.{p}g writes it. */
static int write_g(char *out, int neg, uint64_t d, int p, int x10)
{
	char dig[20];
	int nd = p, n = 0;

	for (int i = p - 1; i >= 0; i--, d /= 10)
		dig[i] = (char)('0' + d % 10);
	while (nd > 1 && dig[nd - 1] == '0')
		nd--;
	if (neg)
		out[n++] = '-';
	if (x10 < -4 || x10 >= p) {
		out[n++] = dig[0];
		if (nd > 1) {
			out[n++] = '.';
			memcpy(out + n, dig + 1, (size_t)nd - 1);
			n += nd - 1;
		}
		/* |x10| <= 13 in format_exact's range */
		out[n++] = 'e';
		out[n++] = x10 < 0 ? '-' : '+';
		out[n++] = (char)('0' + (x10 < 0 ? -x10 : x10) / 10);
		out[n++] = (char)('0' + (x10 < 0 ? -x10 : x10) % 10);
		out[n] = '\0';
		return n;
	}
	if (x10 < 0) {
		out[n++] = '0';
		out[n++] = '.';
		for (int i = 0; i < -x10 - 1; i++)
			out[n++] = '0';
		memcpy(out + n, dig, (size_t)nd);
		n += nd;
	} else {
		for (int i = 0; i <= x10; i++)
			out[n++] = i < nd ? dig[i] : '0';
		if (nd > x10 + 1) {
			out[n++] = '.';
			memcpy(out + n, dig + x10 + 1, (size_t)(nd - x10 - 1));
			n += nd - x10 - 1;
		}
	}
	out[n] = '\0';
	return n;
}

/*
 * The same text as format_printf, from exact integer arithmetic instead of printf's (which
 * costs microseconds): for values between 1e-8 and 1e14, where the scale 10^k needs k <= 25.
 * Returns 0 outside that range.
 */
static int format_exact(char out[SERVE_DOUBLE_SIZE], double x)
{
	uint64_t bits, m, fl, d;
	int neg, q, e10;

	memcpy(&bits, &x, sizeof(bits));
	neg = (int)(bits >> 63);
	if (neg)
		x = -x;
	if (!(x >= 1e-8 && x < 1e14))
		return 0;
	m = (bits & ((UINT64_C(1) << 52) - 1)) | (UINT64_C(1) << 52);
	q = (int)((bits >> 52) & 0x7ff) - 1075;
	/* x >= 2^(q+52), so this never overshoots; it may be one short */
	e10 = (int)floor((q + 52) * 0.30102999566398119521);
	for (int p = 15; p <= 17; p++) {
		int k = p - 1 - e10, x10 = e10;

		scale(m, q, k, &fl, &d);
		if (fl >= num_pow10[p]) {
			k--;
			x10++;
			scale(m, q, k, &fl, &d);
		}
		if (p < 17 && !reads_back(m, q, k, d))
			continue;
		if (d == num_pow10[p]) { /* rounding carried into a new digit */
			d = num_pow10[p - 1];
			x10++;
		}
		return write_g(out, neg, d, p, x10);
	}
	BUG("17 digits did not read back");
}
#else
static int format_exact(char out[SERVE_DOUBLE_SIZE], double x)
{
	(void)out, (void)x;
	return 0;
}
#endif

size_t serve_format_double(char out[SERVE_DOUBLE_SIZE], double x)
{
	int n = format_exact(out, x);

	if (!n)
		n = format_printf(out, x);
	if (!strpbrk(out, ".eni")) {
		out[n++] = '.';
		out[n++] = '0';
		out[n] = '\0';
	}
	return (size_t)n;
}

static void add_double(struct strbuf *sb, double x)
{
	char buf[SERVE_DOUBLE_SIZE];
	size_t n;

	if (!isfinite(x)) {
		strbuf_add(sb, "null", 4);
		return;
	}
	n = serve_format_double(buf, x);
	strbuf_add(sb, buf, n);
}

/* s as a whole is a JSON number ("-0.5e3" but not "+1", "01", ".5" or "nan"). */
static int json_number_text(const char *s)
{
	const char *p = s;

	if (*p == '-')
		p++;
	if (*p == '0')
		p++;
	else if (*p >= '1' && *p <= '9')
		while (*p >= '0' && *p <= '9')
			p++;
	else
		return 0;
	if (*p == '.') {
		if (!(*++p >= '0' && *p <= '9'))
			return 0;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (!(*p >= '0' && *p <= '9'))
			return 0;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	return !*p;
}

/* Decimal digits of n, without printf's cost. */
static void add_size(struct strbuf *sb, size_t n)
{
	char buf[24];
	size_t i = sizeof(buf);

	do
		buf[--i] = (char)('0' + n % 10);
	while ((n /= 10));
	strbuf_add(sb, buf + i, sizeof(buf) - i);
}

enum label_kind {
	LABEL_TEXT,
	LABEL_NUMBER,
	LABEL_INTEGER
};

/*
 * How labels are written: numbers only if every label reads as one (else all as strings),
 * integers if every one is integral (OIP's INT64).
 */
static enum label_kind label_kind(const struct serve_output *o)
{
	enum label_kind kind = LABEL_INTEGER;

	if (!o->numeric_labels)
		return LABEL_TEXT;
	for (size_t c = 0; c < o->nclasses; c++) {
		double v;

		if (num_parse(o->classes[c], strlen(o->classes[c]), &v) != NUM_FINITE)
			return LABEL_TEXT;
		if (v != trunc(v) || fabs(v) >= 0x1p53)
			kind = LABEL_NUMBER;
	}
	return kind;
}

/*
 * A label: text as a JSON string; a number as its own text when that is JSON (pandas' "1.0"
 * stays "1.0", as MLflow would write the float), else normalised; an integer as plain digits
 * when normalise is set (OIP's INT64 data).
 */
static void add_label(struct strbuf *sb, const struct serve_output *o, size_t i,
		      enum label_kind kind, int normalise)
{
	size_t cls = o->label[i];
	const char *s;
	double v;

	if (cls >= o->nclasses)
		BUG("row %zu: class %zu of %zu", i, cls, o->nclasses);
	s = o->classes[cls];
	if (kind == LABEL_TEXT) {
		serve_json_string(sb, s, strlen(s));
		return;
	}
	if (!normalise && json_number_text(s)) {
		strbuf_addstr(sb, s);
		return;
	}
	if (num_parse(s, strlen(s), &v) != NUM_FINITE)
		BUG("label '%s' no longer reads as a number", s);
	if (kind == LABEL_INTEGER) {
		if (v < 0)
			strbuf_addch(sb, '-');
		add_size(sb, (size_t)fabs(v));
	} else
		add_double(sb, v);
}

static int no_probabilities(struct serve_error *e, enum serve_protocol p,
			    const struct serve_output *o, const char *asked)
{
	return serve_fail(e, p, ERR_INVALID, "%s asks for class probabilities, but model '%s' %s",
			  asked, o->model_name ? o->model_name : "",
			  o->regression ? "is a regression model" : "does not give them");
}

static void check_output(const struct serve_output *o)
{
	if (o->regression ? !o->value : !o->label || !o->classes || !o->nclasses)
		BUG("serve_output without %s", o->regression ? "values" : "labels");
}

int serve_write_mlflow(struct strbuf *body, const struct serve_output *o,
		       const struct serve_input *in, struct serve_error *e)
{
	int proba = in && in->want_probabilities;
	enum label_kind kind = o->regression ? LABEL_TEXT : label_kind(o);

	check_output(o);
	if (proba && (o->regression || !o->proba))
		return no_probabilities(e, SERVE_MLFLOW, o, "Invalid input. The request");
	/* Python's json.dumps separators, as MLflow writes its answer */
	strbuf_addstr(body, "{\"predictions\": [");
	for (size_t i = 0; i < o->nrows; i++) {
		if (i)
			strbuf_add(body, ", ", 2);
		if (o->regression) {
			add_double(body, o->value[i]);
			continue;
		}
		if (!proba) {
			add_label(body, o, i, kind, 0);
			continue;
		}
		strbuf_addstr(body, "{\"prediction\": ");
		add_label(body, o, i, kind, 0);
		for (size_t c = 0; c < o->nclasses; c++) {
			strbuf_addstr(body, ", \"probability_");
			serve_json_escape(body, o->classes[c], strlen(o->classes[c]));
			strbuf_add(body, "\": ", 3);
			add_double(body, o->proba[i * o->nclasses + c]);
		}
		strbuf_addch(body, '}');
	}
	strbuf_addstr(body, "]}");
	return 0;
}

int serve_write_kserve_v1(struct strbuf *body, const struct serve_output *o,
			  const struct serve_input *in, struct serve_error *e)
{
	int proba = in && in->want_probabilities;
	enum label_kind kind = o->regression ? LABEL_TEXT : label_kind(o);

	check_output(o);
	if (proba && (o->regression || !o->proba))
		return no_probabilities(e, SERVE_KSERVE_V1, o, "the request");
	strbuf_addstr(body, "{\"predictions\":[");
	for (size_t i = 0; i < o->nrows; i++) {
		if (i)
			strbuf_addch(body, ',');
		if (o->regression) {
			add_double(body, o->value[i]);
		} else if (!proba) {
			add_label(body, o, i, kind, 0);
		} else {
			strbuf_addch(body, '[');
			for (size_t c = 0; c < o->nclasses; c++) {
				if (c)
					strbuf_addch(body, ',');
				add_double(body, o->proba[i * o->nclasses + c]);
			}
			strbuf_addch(body, ']');
		}
	}
	strbuf_addstr(body, "]}");
	return 0;
}

static void oip_predict(struct strbuf *body, const struct serve_output *o)
{
	enum label_kind kind = o->regression ? LABEL_NUMBER : label_kind(o);
	static const char *const types[] = { "BYTES", "FP64", "INT64" };

	strbuf_addstr(body, "{\"name\":\"predict\",\"datatype\":\"");
	strbuf_addstr(body, types[kind]);
	strbuf_addstr(body, "\",\"shape\":[");
	add_size(body, o->nrows);
	strbuf_addstr(body, "],\"data\":[");
	for (size_t i = 0; i < o->nrows; i++) {
		if (i)
			strbuf_addch(body, ',');
		if (o->regression)
			add_double(body, o->value[i]);
		else
			add_label(body, o, i, kind, 1);
	}
	strbuf_addstr(body, "]}");
}

static void oip_proba(struct strbuf *body, const struct serve_output *o)
{
	size_t n = o->nrows * o->nclasses;

	strbuf_addstr(body, "{\"name\":\"predict_proba\",\"datatype\":\"FP64\",\"shape\":[");
	add_size(body, o->nrows);
	strbuf_addch(body, ',');
	add_size(body, o->nclasses);
	strbuf_addstr(body, "],\"data\":[");
	for (size_t i = 0; i < n; i++) {
		if (i)
			strbuf_addch(body, ',');
		add_double(body, o->proba[i]);
	}
	strbuf_addstr(body, "]}");
}

static void add_field(struct strbuf *body, const char *name, const char *value)
{
	strbuf_addch(body, '"');
	strbuf_addstr(body, name);
	strbuf_add(body, "\":", 2);
	serve_json_string(body, value, strlen(value));
	strbuf_addch(body, ',');
}

int serve_write_oip(struct strbuf *body, const struct serve_output *o, const struct serve_input *in,
		    struct serve_error *e)
{
	unsigned named = in ? in->outputs : 0;
	int predict = !named || (named & SERVE_OUT_PREDICT);
	int proba = named ? (named & SERVE_OUT_PROBA) != 0 : in && in->want_probabilities;

	check_output(o);
	if (proba && (o->regression || !o->proba)) {
		if (named & SERVE_OUT_PROBA)
			return serve_fail(e, SERVE_OIP, ERR_INVALID,
					  "unknown output 'predict_proba': model '%s' %s",
					  o->model_name ? o->model_name : "",
					  o->regression ? "is a regression model"
							: "does not give probabilities");
		proba = 0; /* not asked for by name: "every output the model has" */
	}
	strbuf_addch(body, '{');
	add_field(body, "model_name", o->model_name ? o->model_name : "");
	if (o->model_version)
		add_field(body, "model_version", o->model_version);
	if (in && in->id)
		add_field(body, "id", in->id);
	strbuf_addstr(body, "\"outputs\":[");
	if (predict)
		oip_predict(body, o);
	if (proba) {
		if (predict)
			strbuf_addch(body, ',');
		oip_proba(body, o);
	}
	strbuf_addstr(body, "]}");
	return 0;
}
