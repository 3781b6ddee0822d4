/*
 * Alert rules (monitor/alerts.h): a small recursive-descent parser over the rule text, Kleene
 * three-valued evaluation, and the hysteresis state machine.
 */
#include "util/common.h"
#include "monitor/alerts.h"
#include "util/parse.h"

#include <ctype.h>
#include <math.h>

static const char *const metric_names[] = {
	"drift_share", "n_drifted", "dataset_drift", "prediction_drift",
	"rows",	       "labelled",  "accuracy",	     "precision",
	"recall",      "f1",	    "roc_auc",
};

static const char *const op_names[] = {
	[ALERT_LT] = "<",  [ALERT_LE] = "<=", [ALERT_GT] = ">",
	[ALERT_GE] = ">=", [ALERT_EQ] = "==", [ALERT_NE] = "!=",
};

const char *alert_op_name(enum alert_op op)
{
	if ((size_t)op >= ARRAY_SIZE(op_names))
		BUG("unknown alert operator %d", (int)op);
	return op_names[op];
}

const char *alert_truth_name(enum alert_truth t)
{
	return t == ALERT_TRUE ? "true" : t == ALERT_FALSE ? "false" : "unknown";
}

struct parser {
	const char *name;
	const char *text;
	const char *p;
	struct alert_rule *r;
	struct error *err;
};

static void skip_space(struct parser *ps)
{
	while (isspace((unsigned char)*ps->p))
		ps->p++;
}

/* ERR_INVALID at the parser's position: "expected X, got 'the next word'". */
static int expected(struct parser *ps, const char *what)
{
	size_t len = 0;

	while (ps->p[len] && !isspace((unsigned char)ps->p[len]) && len < 40)
		len++;
	if (!len)
		return error_set(ps->err, ERR_INVALID,
				 "alert rule '%s': column %zu: expected %s, got the end of the "
				 "rule",
				 ps->name, (size_t)(ps->p - ps->text) + 1, what);
	return error_set(ps->err, ERR_INVALID,
			 "alert rule '%s': column %zu: expected %s, got '%.*s'", ps->name,
			 (size_t)(ps->p - ps->text) + 1, what, (int)len, ps->p);
}

static bool is_ident(int c)
{
	return isalnum(c) || c == '_';
}

/* A word of letters (keywords): its length, or 0. */
static size_t word_len(const char *p)
{
	size_t n = 0;

	while (isalpha((unsigned char)p[n]))
		n++;
	return is_ident((unsigned char)p[n]) ? 0 : n;
}

static bool keyword(struct parser *ps, const char *kw)
{
	size_t n = word_len(ps->p);

	if (n != strlen(kw) || strncasecmp(ps->p, kw, n))
		return false;
	ps->p += n;
	return true;
}

static int parse_metric(struct parser *ps, char **out)
{
	const char *start = ps->p;
	size_t n = 0;

	while (is_ident((unsigned char)ps->p[n]))
		n++;
	if (!n || isdigit((unsigned char)*ps->p))
		return expected(ps, "a metric (drift_share, f1, drift.<column>, ...)");
	if (n == 5 && !strncmp(ps->p, "drift", 5) && ps->p[5] == '.') {
		const char *col = ps->p + 6;
		size_t m = 0;

		while (col[m] && !isspace((unsigned char)col[m]) && !strchr("<>=!", col[m]))
			m++;
		if (!m) {
			ps->p = col;
			return expected(ps, "a column name after 'drift.'");
		}
		ps->p = col + m;
		*out = xstrndup(start, (size_t)(ps->p - start));
		return 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(metric_names); i++) {
		if (strlen(metric_names[i]) == n && !strncmp(ps->p, metric_names[i], n)) {
			ps->p += n;
			*out = xstrndup(start, n);
			return 0;
		}
	}
	return error_set(ps->err, ERR_INVALID,
			 "alert rule '%s': column %zu: unknown metric '%.*s' (known: drift_share, "
			 "n_drifted, dataset_drift, prediction_drift, rows, labelled, accuracy, "
			 "precision, recall, f1, roc_auc, drift.<column>)",
			 ps->name, (size_t)(start - ps->text) + 1, (int)(n > 40 ? 40 : n), start);
}

static int parse_op(struct parser *ps, enum alert_op *out)
{
	/* two-character operators first, so "<=" is not read as "<" */
	static const enum alert_op order[] = { ALERT_LE, ALERT_GE, ALERT_EQ,
					       ALERT_NE, ALERT_LT, ALERT_GT };

	for (size_t i = 0; i < ARRAY_SIZE(order); i++) {
		const char *name = op_names[order[i]];

		if (!strncmp(ps->p, name, strlen(name))) {
			ps->p += strlen(name);
			*out = order[i];
			return 0;
		}
	}
	return expected(ps, "an operator (< <= > >= == !=)");
}

static int parse_number(struct parser *ps, double *out)
{
	size_t n = 0;
	char buf[64];

	while (ps->p[n] && !isspace((unsigned char)ps->p[n]))
		n++;
	if (!n || n >= sizeof(buf))
		return expected(ps, "a number");
	memcpy(buf, ps->p, n);
	buf[n] = '\0';
	if (parse_double(buf, out) || !isfinite(*out))
		return expected(ps, "a number");
	ps->p += n;
	return 0;
}

static int parse_cond(struct parser *ps, size_t group)
{
	struct alert_cond c = { .group = group };
	int rc;

	if (ps->r->n_conds >= ALERT_MAX_CONDS)
		return error_set(ps->err, ERR_INVALID, "alert rule '%s': more than %d conditions",
				 ps->name, ALERT_MAX_CONDS);
	skip_space(ps);
	if ((rc = parse_metric(ps, &c.metric)) < 0)
		return rc;
	skip_space(ps);
	if ((rc = parse_op(ps, &c.op)) < 0)
		goto fail;
	skip_space(ps);
	if ((rc = parse_number(ps, &c.threshold)) < 0)
		goto fail;
	ps->r->conds = xreallocarray(ps->r->conds, ps->r->n_conds + 1, sizeof(c));
	ps->r->conds[ps->r->n_conds++] = c;
	return 0;
fail:
	free(c.metric);
	return rc;
}

static int parse_for(struct parser *ps)
{
	size_t n = 0;
	char buf[16];
	uint64_t w;

	skip_space(ps);
	while (isdigit((unsigned char)ps->p[n]))
		n++;
	if (!n || n >= sizeof(buf) || is_ident((unsigned char)ps->p[n]))
		return expected(ps, "a number of windows (1..1000)");
	memcpy(buf, ps->p, n);
	buf[n] = '\0';
	if (parse_uint64(buf, &w) || w < 1 || w > ALERT_MAX_WINDOWS)
		return expected(ps, "a number of windows (1..1000)");
	ps->p += n;
	skip_space(ps);
	if (!keyword(ps, "windows") && !keyword(ps, "window"))
		return expected(ps, "'windows'");
	ps->r->windows = (unsigned)w;
	ps->r->windows_given = true;
	return 0;
}

static int parse_rule(struct parser *ps)
{
	size_t group = 0;
	int rc;

	for (;;) {
		if ((rc = parse_cond(ps, group)) < 0)
			return rc;
		skip_space(ps);
		if (!*ps->p)
			break;
		if (keyword(ps, "and"))
			continue;
		if (keyword(ps, "or")) {
			group++;
			continue;
		}
		if (keyword(ps, "for")) {
			if ((rc = parse_for(ps)) < 0)
				return rc;
			skip_space(ps);
			if (*ps->p)
				return expected(ps, "the end of the rule");
			break;
		}
		return expected(ps, "'and', 'or', 'for N windows' or the end of the rule");
	}
	ps->r->n_groups = group + 1;
	return 0;
}

int alert_rule_parse(struct alert_rule *out, const char *name, const char *text, struct error *err)
{
	struct alert_rule r = ALERT_RULE_INIT;
	struct parser ps = { name ? name : "", text, text, &r, err };
	int rc;

	if (!text)
		return error_set(err, ERR_INVALID, "alert rule '%s' has no condition", ps.name);
	if (strlen(text) > ALERT_MAX_TEXT)
		return error_set(err, ERR_INVALID, "alert rule '%s': longer than %d bytes", ps.name,
				 ALERT_MAX_TEXT);
	if ((rc = parse_rule(&ps)) < 0) {
		alert_rule_release(&r);
		return rc;
	}
	r.name = xstrdup(ps.name);
	r.text = xstrdup(text);
	alert_rule_release(out);
	*out = r;
	return 0;
}

void alert_rule_release(struct alert_rule *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_conds; i++)
		free(r->conds[i].metric);
	free(r->conds);
	free(r->name);
	free(r->text);
	*r = (struct alert_rule)ALERT_RULE_INIT;
}

static bool compare(double v, enum alert_op op, double t)
{
	switch (op) {
	case ALERT_LT:
		return v < t;
	case ALERT_LE:
		return v <= t;
	case ALERT_GT:
		return v > t;
	case ALERT_GE:
		return v >= t;
	case ALERT_EQ:
		return v == t;
	case ALERT_NE:
		return v != t;
	}
	BUG("unknown alert operator %d", (int)op);
}

/* One condition: its truth and value; a NaN value counts as unavailable. */
static enum alert_truth eval_cond(const struct alert_cond *c, const struct alert_source *src,
				  double *value)
{
	*value = NAN;
	if (!src->get(src->data, c->metric, value) || isnan(*value)) {
		*value = NAN;
		return ALERT_UNKNOWN;
	}
	return compare(*value, c->op, c->threshold) ? ALERT_TRUE : ALERT_FALSE;
}

/* The first condition of a kind, for reporting. */
struct pick {
	const struct alert_cond *cond;
	double value;
};

static void keep(struct pick *p, const struct alert_cond *c, double v)
{
	if (!p->cond) {
		p->cond = c;
		p->value = v;
	}
}

void alert_rule_eval(struct alert_eval *out, const struct alert_rule *r,
		     const struct alert_source *src)
{
	struct pick first_true = { 0 }, first_false = { 0 }, first_unknown = { 0 };
	bool any_unknown = false;
	size_t i = 0;

	for (size_t g = 0; g < r->n_groups; g++) {
		enum alert_truth gt = ALERT_TRUE;
		struct pick group_true = { 0 };

		for (; i < r->n_conds && r->conds[i].group == g; i++) {
			double v;
			enum alert_truth t = eval_cond(&r->conds[i], src, &v);

			if (t == ALERT_FALSE) {
				gt = ALERT_FALSE;
				keep(&first_false, &r->conds[i], v);
			} else if (t == ALERT_UNKNOWN) {
				if (gt == ALERT_TRUE)
					gt = ALERT_UNKNOWN;
				keep(&first_unknown, &r->conds[i], v);
			} else {
				keep(&group_true, &r->conds[i], v);
			}
		}
		if (gt == ALERT_TRUE) {
			keep(&first_true, group_true.cond, group_true.value);
			break;
		}
		any_unknown |= gt == ALERT_UNKNOWN;
	}
	if (first_true.cond) {
		*out = (struct alert_eval){ ALERT_TRUE, first_true.cond, first_true.value };
	} else if (any_unknown) {
		*out = (struct alert_eval){ ALERT_UNKNOWN, first_unknown.cond, NAN };
	} else {
		*out = (struct alert_eval){ ALERT_FALSE, first_false.cond, first_false.value };
	}
}

enum alert_transition alert_step(struct alert_state *s, const struct alert_rule *r,
				 enum alert_truth t)
{
	/* the truth that argues for leaving the current state */
	enum alert_truth away = s->firing ? ALERT_FALSE : ALERT_TRUE;

	if (t == ALERT_UNKNOWN)
		return ALERT_STAY;
	if (t != away) {
		s->streak = 0;
		return ALERT_STAY;
	}
	if (++s->streak < (int64_t)r->windows)
		return ALERT_STAY;
	s->firing = !s->firing;
	s->streak = 0;
	return s->firing ? ALERT_FIRED : ALERT_RESOLVED;
}
