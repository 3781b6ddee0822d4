/*
 * Promotion gates: a hand-written recursive-descent parser for "f1 >= champion - 0.01 and ...",
 * evaluation against a metric lookup, and rendering (gate.h has the grammar and the rules).
 */
#include "util/common.h"
#include "registry/gate.h"
#include "util/parse.h"
#include "util/strbuf.h"

#include <math.h>

/* The gate text is echoed in messages up to this many bytes, a bad token up to TOKEN_MAX. */
#define ECHO_MAX 200
#define TOKEN_MAX 40

#define OPS_LIST ">=, >, <=, <, == or !="

/* The longest canonical condition: metric, " >= ", "champion + ", a number, " and ". */
_Static_assert(GATE_MAX_CONDS *(GATE_MAX_METRIC + 4 + 11 + FORMAT_DOUBLE_SIZE + 5) <= GATE_MAX_LEN,
	       "a gate's canonical text must fit GATE_MAX_LEN to read back");

static const char *const op_names[] = {
	[GATE_GE] = ">=", [GATE_GT] = ">",  [GATE_LE] = "<=",
	[GATE_LT] = "<",  [GATE_EQ] = "==", [GATE_NE] = "!=",
};

const char *gate_op_name(enum gate_op op)
{
	if ((size_t)op >= ARRAY_SIZE(op_names))
		BUG("unknown gate operator %d", (int)op);
	return op_names[op];
}

struct parser {
	const char *text; /* the whole gate, for messages */
	const char *p;	  /* the next byte to read */
	struct error *err;
};

__attribute__((format(printf, 3, 4))) static int syntax_error(const struct parser *ps,
							      const char *at, const char *fmt, ...)
{
	size_t len = strlen(ps->text);
	char what[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return error_set(ps->err, ERR_INVALID, "gate '%.*s%s': column %zu: %s",
			 (int)(len > ECHO_MAX ? ECHO_MAX : len), ps->text,
			 len > ECHO_MAX ? "..." : "", (size_t)(at - ps->text) + 1, what);
}

/* ASCII classes by hand: the C library's depend on the locale. */
static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool ident_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool ident_char(char c)
{
	return ident_start(c) || is_digit(c) || c == '.';
}

static size_t ident_len(const char *p)
{
	size_t n = 0;

	if (!ident_start(*p))
		return 0;
	while (ident_char(p[n]))
		n++;
	return n;
}

static bool is_keyword(const char *p, const char *kw)
{
	size_t n = ident_len(p);

	return n == strlen(kw) && !strncasecmp(p, kw, n);
}

static void skip_ws(struct parser *ps)
{
	while (*ps->p && strchr(" \t\n\r\f\v", *ps->p))
		ps->p++;
}

static int parse_op(struct parser *ps, enum gate_op *out)
{
	size_t n = strspn(ps->p, "<>=!");

	if (!n)
		return syntax_error(ps, ps->p, "expected an operator (" OPS_LIST ")");
	for (size_t i = 0; i < ARRAY_SIZE(op_names); i++) {
		if (strlen(op_names[i]) == n && !strncmp(ps->p, op_names[i], n)) {
			*out = (enum gate_op)i;
			ps->p += n;
			return 0;
		}
	}
	return syntax_error(ps, ps->p, "unknown operator '%.*s': expected " OPS_LIST,
			    (int)(n > TOKEN_MAX ? TOKEN_MAX : n), ps->p);
}

/* digits [. digits] | . digits, then [e [+-] digits]: what parse_double reads, nothing more. */
static bool decimal_syntax(const char *s, size_t len)
{
	size_t i = 0, digits = 0, exp_digits = 0;

	for (; i < len && is_digit(s[i]); i++)
		digits++;
	if (i < len && s[i] == '.')
		for (i++; i < len && is_digit(s[i]); i++)
			digits++;
	if (!digits)
		return false;
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < len && (s[i] == '+' || s[i] == '-'))
			i++;
		for (; i < len && is_digit(s[i]); i++)
			exp_digits++;
		if (!exp_digits)
			return false;
	}
	return i == len;
}

/*
 * An unsigned number at ps->p. The token runs over identifier characters too, so that "0.9x"
 * is reported whole. sign is the '+' or '-' just read (0 for none), for the message.
 */
static int parse_number(struct parser *ps, double *out, char sign)
{
	const char *start = ps->p;
	size_t n = 1;
	char *tok;
	int rc = 0;

	if (!is_digit(*start) && *start != '.') {
		if (sign)
			return syntax_error(ps, start, "expected a number after '%c'", sign);
		return syntax_error(ps, start, "expected a number or 'champion'");
	}
	while (ident_char(start[n]) || ((start[n] == '+' || start[n] == '-') &&
					(start[n - 1] == 'e' || start[n - 1] == 'E')))
		n++;
	tok = xstrndup(start, n);
	if (!decimal_syntax(tok, n))
		rc = syntax_error(ps, start, "'%.*s%s' is not a number", TOKEN_MAX, tok,
				  n > TOKEN_MAX ? "..." : "");
	else if (parse_double(tok, out))
		rc = syntax_error(ps, start, "number '%.*s%s' is out of range", TOKEN_MAX, tok,
				  n > TOKEN_MAX ? "..." : "");
	free(tok);
	if (!rc)
		ps->p += n;
	return rc;
}

/* A sign, blanks, and a number: "- 0.01". */
static int parse_signed(struct parser *ps, double *out)
{
	char sign = *ps->p;
	double v = 0;
	int rc;

	ps->p++;
	skip_ws(ps);
	if ((rc = parse_number(ps, &v, sign)) < 0)
		return rc;
	*out = sign == '-' ? -v : v;
	return 0;
}

/* *bare_champion tells the caller that "+" or "-" could still have followed. */
static int parse_rhs(struct parser *ps, struct gate_cond *c, bool *bare_champion)
{
	*bare_champion = false;
	if (ident_start(*ps->p)) {
		if (!is_keyword(ps->p, "champion"))
			return syntax_error(ps, ps->p, "expected a number or 'champion'");
		ps->p += strlen("champion");
		c->champion = true;
		c->value = 0;
		skip_ws(ps);
		if (*ps->p == '+' || *ps->p == '-')
			return parse_signed(ps, &c->value);
		*bare_champion = true;
		return 0;
	}
	c->champion = false;
	if (*ps->p == '+' || *ps->p == '-')
		return parse_signed(ps, &c->value);
	return parse_number(ps, &c->value, 0);
}

static int parse_cond(struct parser *ps, struct gate_cond *out, bool *bare_champion)
{
	struct gate_cond c = { .metric = NULL };
	const char *metric;
	size_t n;
	int rc;

	skip_ws(ps);
	if (!(n = ident_len(ps->p)))
		return syntax_error(ps, ps->p, "expected a metric name");
	if (n > GATE_MAX_METRIC)
		return syntax_error(ps, ps->p, "metric name longer than %d bytes", GATE_MAX_METRIC);
	metric = ps->p;
	ps->p += n;
	skip_ws(ps);
	if ((rc = parse_op(ps, &c.op)) < 0)
		return rc;
	skip_ws(ps);
	if ((rc = parse_rhs(ps, &c, bare_champion)) < 0)
		return rc;
	c.metric = xstrndup(metric, n);
	*out = c;
	return 0;
}

int gate_parse(struct gate *out, const char *text, struct error *err)
{
	struct gate g = GATE_INIT;
	struct parser ps = { .text = text ? text : "", .err = err };
	size_t len = strnlen(ps.text, GATE_MAX_LEN + 1);
	bool bare_champion = false;
	int rc = 0;

	if (len > GATE_MAX_LEN)
		return error_set(err, ERR_TOOBIG, "gate is longer than %d bytes", GATE_MAX_LEN);
	ps.p = ps.text;
	skip_ws(&ps);
	if (!*ps.p)
		return error_set(err, ERR_INVALID,
				 "gate is empty: expected conditions such as 'f1 >= champion and "
				 "auc >= 0.9'");
	for (;;) {
		skip_ws(&ps);
		if (g.nr == GATE_MAX_CONDS) {
			rc = syntax_error(&ps, ps.p, "more than %d conditions", GATE_MAX_CONDS);
			goto out;
		}
		ALLOC_GROW(g.conds, g.nr + 1, g.alloc);
		if ((rc = parse_cond(&ps, &g.conds[g.nr], &bare_champion)) < 0)
			goto out;
		g.nr++;
		skip_ws(&ps);
		if (!*ps.p)
			break;
		if (!is_keyword(ps.p, "and")) {
			rc = syntax_error(&ps, ps.p, "expected %s'and' or the end of the gate",
					  bare_champion ? "'+', '-', " : "");
			goto out;
		}
		ps.p += strlen("and");
	}
	*out = g;
	g = (struct gate)GATE_INIT;
out:
	gate_release(&g);
	return rc;
}

void gate_release(struct gate *g)
{
	if (!g)
		return;
	for (size_t i = 0; i < g->nr; i++)
		free(g->conds[i].metric);
	free(g->conds);
	*g = (struct gate)GATE_INIT;
}

bool gate_uses_champion(const struct gate *g)
{
	for (size_t i = 0; g && i < g->nr; i++)
		if (g->conds[i].champion)
			return true;
	return false;
}

bool gate_equal(const struct gate *a, const struct gate *b)
{
	if (a->nr != b->nr)
		return false;
	for (size_t i = 0; i < a->nr; i++) {
		const struct gate_cond *x = &a->conds[i], *y = &b->conds[i];

		if (strcmp(x->metric, y->metric) || x->op != y->op || x->champion != y->champion ||
		    x->value != y->value)
			return false;
	}
	return true;
}

void gate_format_expr(const struct gate *g, struct strbuf *out)
{
	char num[FORMAT_DOUBLE_SIZE];

	for (size_t i = 0; i < g->nr; i++) {
		const struct gate_cond *c = &g->conds[i];

		strbuf_addf(out, "%s%s %s ", i ? " and " : "", c->metric, gate_op_name(c->op));
		if (!c->champion) {
			format_double(num, c->value);
			strbuf_addstr(out, num);
			continue;
		}
		strbuf_addstr(out, "champion");
		/* a zero offset (even -0) reads back equal as plain "champion" */
		if (c->value != 0) {
			format_double(num, fabs(c->value));
			strbuf_addf(out, " %c %s", c->value < 0 ? '-' : '+', num);
		}
	}
}

/* Evaluation ------------------------------------------------------------------------------ */

void gate_result_release(struct gate_result *res)
{
	if (!res)
		return;
	free(res->conds);
	*res = (struct gate_result)GATE_RESULT_INIT;
}

static bool near(double a, double b)
{
	/* the tolerance below would be inf or NaN: infinities are equal only to themselves */
	if (isinf(a) || isinf(b))
		return a == b;
	return fabs(a - b) <= GATE_EPSILON * fmax(1.0, fmax(fabs(a), fabs(b)));
}

static bool compare(enum gate_op op, double a, double b)
{
	bool eq;

	if (isnan(a) || isnan(b))
		return false;
	eq = near(a, b);
	switch (op) {
	case GATE_GE:
		return eq || a > b;
	case GATE_GT:
		return !eq && a > b;
	case GATE_LE:
		return eq || a < b;
	case GATE_LT:
		return !eq && a < b;
	case GATE_EQ:
		return eq;
	case GATE_NE:
		return !eq;
	}
	BUG("unknown gate operator %d", (int)op);
}

/* One lookup; the callback's own error when it has one, a generic message otherwise. */
static int lookup(gate_metric_fn *metric, void *ctx, bool champion, const char *name, double *out,
		  struct error *err)
{
	struct error e = ERROR_INIT;
	int rc;

	*out = NAN; /* a callback that "succeeds" without writing must not pass a condition */
	rc = metric(ctx, champion, name, out, &e);
	if (rc > 0)
		BUG("gate metric callback returned %d", rc);
	if (!rc)
		return 0;
	if (!e.msg[0])
		return error_set(err, rc, "gate: no value for metric '%s'%s", name,
				 champion ? " of the champion" : "");
	if (err) {
		*err = e;
		err->code = rc;
	}
	return rc;
}

int gate_eval(const struct gate *g, gate_metric_fn *metric, void *ctx, struct gate_result *res,
	      struct error *err)
{
	struct gate_result r = GATE_RESULT_INIT;
	int rc = 0;

	if (!g->nr)
		BUG("gate_eval on an empty gate");
	r.conds = xcalloc(g->nr, sizeof(*r.conds));
	r.nr = g->nr;
	r.pass = true;
	for (size_t i = 0; i < g->nr; i++) {
		const struct gate_cond *c = &g->conds[i];
		struct gate_cond_result *cr = &r.conds[i];

		cr->champion = NAN;
		cr->threshold = c->value;
		if ((rc = lookup(metric, ctx, false, c->metric, &cr->value, err)) < 0)
			goto out;
		if (c->champion) {
			if ((rc = lookup(metric, ctx, true, c->metric, &cr->champion, err)) < 0)
				goto out;
			cr->threshold = cr->champion + c->value;
		}
		cr->pass = compare(c->op, cr->value, cr->threshold);
		r.pass = r.pass && cr->pass;
	}
	*res = r;
	r = (struct gate_result)GATE_RESULT_INIT;
out:
	gate_result_release(&r);
	return rc;
}

/* Formatting for people --------------------------------------------------------------------- */

static void format_num(char *buf, size_t size, int prec, double x)
{
	if (isnan(x))
		snprintf(buf, size, "nan");
	else
		snprintf(buf, size, "%.*g", prec, x);
}

/*
 * 4 significant digits, or as many more as it takes for a value and its threshold that are not
 * equal (in the gate's sense) to look different: "0.8421 >= 0.8421: fail" would confuse.
 */
static int precision(double a, double b)
{
	char x[32], y[32];
	int prec = 4;

	if (isnan(a) || isnan(b) || near(a, b))
		return prec;
	for (; prec < 17; prec++) {
		format_num(x, sizeof(x), prec, a);
		format_num(y, sizeof(y), prec, b);
		if (strcmp(x, y))
			break;
	}
	return prec;
}

void gate_format_result(const struct gate *g, const struct gate_result *res, struct strbuf *out)
{
	char value[32], threshold[32], champion[32], offset[FORMAT_DOUBLE_SIZE];

	if (res->nr != g->nr)
		BUG("gate result of %zu conditions for a gate of %zu", res->nr, g->nr);
	for (size_t i = 0; i < g->nr; i++) {
		const struct gate_cond *c = &g->conds[i];
		const struct gate_cond_result *cr = &res->conds[i];
		int prec = precision(cr->value, cr->threshold);

		format_num(value, sizeof(value), prec, cr->value);
		format_num(threshold, sizeof(threshold), prec, cr->threshold);
		strbuf_addf(out, "%s %s %s %s", c->metric, value, gate_op_name(c->op), threshold);
		if (c->champion && c->value == 0) {
			strbuf_addstr(out, " (champion)");
		} else if (c->champion) {
			format_num(champion, sizeof(champion), prec, cr->champion);
			/* the offset as the user wrote it, not rounded to prec */
			format_double(offset, fabs(c->value));
			strbuf_addf(out, " (champion %s %c %s)", champion, c->value < 0 ? '-' : '+',
				    offset);
		}
		strbuf_addf(out, ": %s\n", cr->pass ? "pass" : "fail");
	}
}
