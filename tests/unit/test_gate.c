/*
 * Promotion gates (registry/gate.c): the grammar's valid forms, every syntax error with its
 * column, evaluation edges (equality, offsets, tolerance, NaN, infinities, missing metrics or
 * champion), the canonical text and the report for people.
 */
#include "util/common.h"
#include "registry/gate.h"
#include "util/strbuf.h"
#include "helpers.h"

#include <math.h>

static struct gate parse(const char *text)
{
	struct gate g = GATE_INIT;
	struct error err = ERROR_INIT;

	if (gate_parse(&g, text, &err))
		fail_msg("'%s': %s", text, err.msg);
	return g;
}

static void assert_cond(const struct gate *g, size_t i, const char *metric, enum gate_op op,
			bool champion, double value)
{
	assert_true(i < g->nr);
	assert_string_equal(g->conds[i].metric, metric);
	assert_int_equal(g->conds[i].op, op);
	assert_int_equal(g->conds[i].champion, champion);
	if (g->conds[i].value != value)
		fail_msg("condition %zu: value %.17g, expected %.17g", i, g->conds[i].value, value);
}

/* A gate that must fail with code and exactly msg, leaving *out alone. */
static void expect_code(const char *text, int code, const char *msg)
{
	struct gate g = { .nr = 7 };
	struct error err = ERROR_INIT;
	int rc = gate_parse(&g, text, &err);

	if (rc != code)
		fail_msg("'%s': got %d (%s), expected %d", text ? text : "(null)", rc, err.msg,
			 code);
	if (strcmp(err.msg, msg))
		fail_msg("'%s':\n got      %s\n expected %s", text ? text : "(null)", err.msg, msg);
	assert_int_equal(g.nr, 7);
	assert_null(g.conds);
}

#define expect_error(text, msg) expect_code(text, ERR_INVALID, msg)
#define OPS ">=, >, <=, <, == or !="

static void test_parse_examples(void **state)
{
	struct gate g;

	(void)state;
	g = parse("f1 >= champion");
	assert_int_equal(g.nr, 1);
	assert_cond(&g, 0, "f1", GATE_GE, true, 0);
	assert_true(gate_uses_champion(&g));
	gate_release(&g);

	g = parse("f1 >= champion - 0.01");
	assert_int_equal(g.nr, 1);
	assert_cond(&g, 0, "f1", GATE_GE, true, -0.01);
	gate_release(&g);

	g = parse("auc >= 0.9 and log_loss <= champion");
	assert_int_equal(g.nr, 2);
	assert_cond(&g, 0, "auc", GATE_GE, false, 0.9);
	assert_cond(&g, 1, "log_loss", GATE_LE, true, 0);
	gate_release(&g);

	g = parse("rmse < champion");
	assert_cond(&g, 0, "rmse", GATE_LT, true, 0);
	gate_release(&g);

	g = parse("auc >= 0.9 and accuracy > 0.5");
	assert_false(gate_uses_champion(&g));
	gate_release(&g);
	assert_false(gate_uses_champion(&g));
	assert_false(gate_uses_champion(NULL));
	gate_release(&g); /* a second release is a no-op */
	gate_release(NULL);
}

static void test_parse_forms(void **state)
{
	struct gate g;

	(void)state;
	/* every operator, signs, number shapes, no blanks at all */
	g = parse("a>=1 and b>2 and c<=.5 and d<-3 and e==+4 and f!=1e-3 and g>=champion+2.5E+1");
	assert_int_equal(g.nr, 7);
	assert_cond(&g, 0, "a", GATE_GE, false, 1);
	assert_cond(&g, 1, "b", GATE_GT, false, 2);
	assert_cond(&g, 2, "c", GATE_LE, false, 0.5);
	assert_cond(&g, 3, "d", GATE_LT, false, -3);
	assert_cond(&g, 4, "e", GATE_EQ, false, 4);
	assert_cond(&g, 5, "f", GATE_NE, false, 1e-3);
	assert_cond(&g, 6, "g", GATE_GE, true, 25);
	gate_release(&g);

	/* keywords in any case, metric names kept as written, any blanks */
	g = parse(" \tF1_Macro.avg\n>=\rCHAMPION -\f0.02 AnD r2 >= - 0.5 \v");
	assert_int_equal(g.nr, 2);
	assert_cond(&g, 0, "F1_Macro.avg", GATE_GE, true, -0.02);
	assert_cond(&g, 1, "r2", GATE_GE, false, -0.5);
	gate_release(&g);

	/* keywords are not reserved where a metric name goes */
	g = parse("and >= 1 and champion < champion and _ > 2.");
	assert_int_equal(g.nr, 3);
	assert_cond(&g, 0, "and", GATE_GE, false, 1);
	assert_cond(&g, 1, "champion", GATE_LT, true, 0);
	assert_cond(&g, 2, "_", GATE_GT, false, 2);
	gate_release(&g);

	/* the same metric twice; tiny numbers underflow quietly as strtod does */
	g = parse("f1 >= 0.8 and f1 <= 0.99 and x > 1e-400 and y < 1.7976931348623157e308");
	assert_int_equal(g.nr, 4);
	assert_cond(&g, 2, "x", GATE_GT, false, 0);
	assert_cond(&g, 3, "y", GATE_LT, false, 1.7976931348623157e308);
	gate_release(&g);
}

static void test_parse_errors(void **state)
{
	char text[GATE_MAX_LEN + 2], msg[600];

	(void)state;
	expect_error("",
		     "gate is empty: expected conditions such as 'f1 >= champion and auc >= 0.9'");
	expect_error(" \t\n", "gate is empty: expected conditions such as 'f1 >= champion and auc "
			      ">= 0.9'");
	expect_error(NULL, "gate is empty: expected conditions such as 'f1 >= champion and auc >= "
			   "0.9'");
	expect_error("f1 >= champ",
		     "gate 'f1 >= champ': column 7: expected a number or 'champion'");
	expect_error("f1 >= championship",
		     "gate 'f1 >= championship': column 7: expected a number or 'champion'");
	expect_error("f1 >= champion.x",
		     "gate 'f1 >= champion.x': column 7: expected a number or 'champion'");
	expect_error(">= 0.5", "gate '>= 0.5': column 1: expected a metric name");
	expect_error("1f >= 0", "gate '1f >= 0': column 1: expected a metric name");
	expect_error("f1", "gate 'f1': column 3: expected an operator (" OPS ")");
	expect_error("f1 0.5", "gate 'f1 0.5': column 4: expected an operator (" OPS ")");
	expect_error("f1 ~ 0.5", "gate 'f1 ~ 0.5': column 4: expected an operator (" OPS ")");
	expect_error("f1 => 0.5",
		     "gate 'f1 => 0.5': column 4: unknown operator '=>': expected " OPS);
	expect_error("f1 = 0.5", "gate 'f1 = 0.5': column 4: unknown operator '=': expected " OPS);
	expect_error("f1 >== 0.5",
		     "gate 'f1 >== 0.5': column 4: unknown operator '>==': expected " OPS);
	expect_error("f1 <> 0.5",
		     "gate 'f1 <> 0.5': column 4: unknown operator '<>': expected " OPS);
	expect_error("f1 !0.5", "gate 'f1 !0.5': column 4: unknown operator '!': expected " OPS);
	expect_error("f1 >=", "gate 'f1 >=': column 6: expected a number or 'champion'");
	expect_error("f1 >= ", "gate 'f1 >= ': column 7: expected a number or 'champion'");
	expect_error("f1 >= *", "gate 'f1 >= *': column 7: expected a number or 'champion'");
	/* no NaN or infinity, in any spelling */
	expect_error("f1 >= nan", "gate 'f1 >= nan': column 7: expected a number or 'champion'");
	expect_error("f1 >= inf", "gate 'f1 >= inf': column 7: expected a number or 'champion'");
	expect_error("f1 >= -inf", "gate 'f1 >= -inf': column 8: expected a number after '-'");
	expect_error("f1 >= 1e999", "gate 'f1 >= 1e999': column 7: number '1e999' is out of range");
	expect_error("f1 >= -1e999",
		     "gate 'f1 >= -1e999': column 8: number '1e999' is out of range");
	expect_error("f1 >= champion + 1e309",
		     "gate 'f1 >= champion + 1e309': column 18: number '1e309' is out of range");
	expect_error("f1 >= 1.2.3", "gate 'f1 >= 1.2.3': column 7: '1.2.3' is not a number");
	expect_error("f1 >= 0x10", "gate 'f1 >= 0x10': column 7: '0x10' is not a number");
	expect_error("f1 >= 1e", "gate 'f1 >= 1e': column 7: '1e' is not a number");
	expect_error("f1 >= 1e+", "gate 'f1 >= 1e+': column 7: '1e+' is not a number");
	expect_error("f1 >= .", "gate 'f1 >= .': column 7: '.' is not a number");
	expect_error("f1 >= 0.9and auc > 1",
		     "gate 'f1 >= 0.9and auc > 1': column 7: '0.9and' is not a number");
	expect_error("f1 >= 1,5",
		     "gate 'f1 >= 1,5': column 8: expected 'and' or the end of the gate");
	expect_error("f1 >= champion -",
		     "gate 'f1 >= champion -': column 17: expected a number after '-'");
	expect_error("f1 >= champion +x",
		     "gate 'f1 >= champion +x': column 17: expected a number after '+'");
	expect_error("f1 >= champion - -0.01",
		     "gate 'f1 >= champion - -0.01': column 18: expected a number after '-'");
	expect_error("f1 >= champion * 2", "gate 'f1 >= champion * 2': column 16: expected '+', "
					   "'-', 'and' or the end of the gate");
	expect_error("f1 >= champion or auc > 1",
		     "gate 'f1 >= champion or auc > 1': column 16: "
		     "expected '+', '-', 'and' or the end of the gate");
	expect_error(
	    "f1 >= 0.9 or auc > 1",
	    "gate 'f1 >= 0.9 or auc > 1': column 11: expected 'and' or the end of the gate");
	expect_error("f1 >= champion - 0.01 + 0.02",
		     "gate 'f1 >= champion - 0.01 + 0.02': column 23: expected 'and' or the end of "
		     "the gate");
	expect_error(
	    "f1 >= 0.9 andauc > 1",
	    "gate 'f1 >= 0.9 andauc > 1': column 11: expected 'and' or the end of the gate");
	expect_error("f1 >= 0.9 and", "gate 'f1 >= 0.9 and': column 14: expected a metric name");
	expect_error("f1 >= 0.9 and and", "gate 'f1 >= 0.9 and and': column 18: expected an "
					  "operator (" OPS ")");
	expect_error(
	    "f1 >= 0.9 and auc >= 0.8 and 3 > 1",
	    "gate 'f1 >= 0.9 and auc >= 0.8 and 3 > 1': column 30: expected a metric name");
	expect_error("f1 \xc3\xa9 1",
		     "gate 'f1 \xc3\xa9 1': column 4: expected an operator (" OPS ")");

	/* a long gate is cut in the message, not the column */
	memset(text, ' ', 300);
	memcpy(text, "f1 >=", 5);
	snprintf(text + 300, sizeof(text) - 300, "x");
	snprintf(msg, sizeof(msg), "gate '%.200s...': column 301: expected a number or 'champion'",
		 text);
	expect_error(text, msg);
	/* and a long bad number is cut too */
	memcpy(text, "f1 >= 1", 7);
	memset(text + 7, '2', 100);
	snprintf(text + 107, sizeof(text) - 107, "x");
	snprintf(msg, sizeof(msg), "gate '%.108s': column 7: '%.40s...' is not a number", text,
		 text + 6);
	expect_error(text, msg);

	memset(text, ' ', sizeof(text));
	memcpy(text, "f1 > 0", 6);
	text[GATE_MAX_LEN] = '\0';
	{
		struct gate g = parse(text);

		assert_int_equal(g.nr, 1);
		gate_release(&g);
	}
	text[GATE_MAX_LEN] = ' ';
	text[GATE_MAX_LEN + 1] = '\0';
	expect_code(text, ERR_TOOBIG, "gate is longer than 16384 bytes");
}

static void test_parse_limits(void **state)
{
	char metric[GATE_MAX_METRIC + 2], msg[800];
	struct strbuf sb = STRBUF_INIT, canonical = STRBUF_INIT;
	struct gate g, again;

	(void)state;
	memset(metric, 'm', sizeof(metric));
	metric[GATE_MAX_METRIC + 1] = '\0';
	strbuf_addf(&sb, "%s>1", metric);
	snprintf(msg, sizeof(msg), "gate '%.200s...': column 1: metric name longer than 250 bytes",
		 sb.buf);
	expect_error(sb.buf, msg);

	/* the most a gate can hold, written tightly, reads back from its longer canonical text */
	metric[GATE_MAX_METRIC] = '\0';
	strbuf_reset(&sb);
	for (int i = 0; i < GATE_MAX_CONDS; i++)
		strbuf_addf(&sb, "%s%s>=champion-2.2250738585072014e-308", i ? " and " : "",
			    metric);
	g = parse(sb.buf);
	assert_int_equal(g.nr, GATE_MAX_CONDS);
	gate_format_expr(&g, &canonical);
	assert_true(canonical.len > sb.len);
	again = parse(canonical.buf);
	assert_true(gate_equal(&g, &again));
	gate_release(&g);
	gate_release(&again);

	strbuf_addstr(&sb, " and x > 1");
	snprintf(msg, sizeof(msg), "gate '%.200s...': column %zu: more than 32 conditions", sb.buf,
		 sb.len - 4);
	expect_error(sb.buf, msg);
	strbuf_release(&sb);
	strbuf_release(&canonical);
}

/* Canonical text: what gate_format_expr writes, and that it reads back the same. */
static void assert_expr(const char *text, const char *canonical)
{
	struct gate g = parse(text), again;
	struct strbuf sb = STRBUF_INIT;

	gate_format_expr(&g, &sb);
	assert_string_equal(sb.buf, canonical);
	again = parse(sb.buf);
	assert_true(gate_equal(&g, &again));
	gate_release(&g);
	gate_release(&again);
	strbuf_release(&sb);
}

static void test_format_expr(void **state)
{
	struct gate a, b;

	(void)state;
	assert_expr("f1>=champion", "f1 >= champion");
	assert_expr("F1 >= CHAMPION - 0.010", "F1 >= champion - 0.01");
	assert_expr("f1 >= champion + 0", "f1 >= champion");
	assert_expr("f1 >= champion - 0", "f1 >= champion");
	assert_expr("a == +.5 AND b != -1E-5 and c < 1e20 and d <= 0.1",
		    "a == 0.5 and b != -1e-05 and c < 1e+20 and d <= 0.1");
	assert_expr("x > -0", "x > -0");
	assert_expr("x > 0.30000000000000004 and y < champion + 1e-300",
		    "x > 0.30000000000000004 and y < champion + 1e-300");
	a = parse("f1 >= 0.9");
	b = parse("f1 > 0.9");
	assert_false(gate_equal(&a, &b));
	gate_release(&b);
	b = parse("f1 >= 0.9 and f1 >= 0.9");
	assert_false(gate_equal(&a, &b));
	gate_release(&b);
	b = parse("f1 >= champion + 0.9");
	assert_false(gate_equal(&a, &b));
	gate_release(&b);
	b = parse("F1 >= 0.9");
	assert_false(gate_equal(&a, &b));
	gate_release(&b);
	b = parse("f1 >= 0.90");
	assert_true(gate_equal(&a, &b));
	gate_release(&b);
	gate_release(&a);
	assert_string_equal(gate_op_name(GATE_NE), "!=");
}

/* Metric lookups for gate_eval: a fixed table; champion values only when has_champion. */
struct metric_row {
	const char *name;
	double challenger, champion;
};

struct metrics {
	const struct metric_row *rows;
	size_t nr;
	bool has_champion;
	bool silent; /* fail without a message */
	int calls;
};

static int lookup(void *ctx, bool champion, const char *name, double *out, struct error *err)
{
	struct metrics *m = ctx;

	m->calls++;
	if (m->silent)
		return ERR_NOTFOUND;
	if (champion && !m->has_champion)
		return error_set(err, ERR_NOTFOUND, "model 'churn' has no alias 'production'");
	for (size_t i = 0; i < m->nr; i++) {
		if (!strcmp(m->rows[i].name, name)) {
			*out = champion ? m->rows[i].champion : m->rows[i].challenger;
			return 0;
		}
	}
	return error_set(err, ERR_INVALID, "gate: metric '%s' is not one of auc, f1, nan, rmse",
			 name);
}

static const struct metric_row rows[] = {
	{ "f1", 0.8421, 0.8412 },     { "auc", 0.93, 0.95 },
	{ "rmse", 12.5, 12.5 },	      { "nan", NAN, 1 },
	{ "acc", 0.2, 0.3 }, /* 0.3 - 0.1 is 0.19999999999999998 in binary */
	{ "champ_nan", 1, NAN },      { "inf", INFINITY, INFINITY },
	{ "tiny", 0.5 + 1e-15, 0.5 }, { "small", 0.5 + 1e-9, 0.5 },
};

/* Evaluates text against rows, which must succeed; returns the verdict, fills res. */
static bool eval(const char *text, struct gate_result *res)
{
	struct metrics m = { rows, ARRAY_SIZE(rows), true, false, 0 };
	struct gate g = parse(text);
	struct error err = ERROR_INIT;

	gate_result_release(res);
	if (gate_eval(&g, lookup, &m, res, &err))
		fail_msg("'%s': %s", text, err.msg);
	assert_int_equal(res->nr, g.nr);
	gate_release(&g);
	return res->pass;
}

static void test_eval(void **state)
{
	struct gate_result res = GATE_RESULT_INIT;

	(void)state;
	assert_true(eval("f1 >= champion - 0.01", &res));
	assert_true(res.conds[0].value == 0.8421);
	assert_true(res.conds[0].champion == 0.8412);
	assert_true(res.conds[0].threshold == 0.8412 - 0.01);
	assert_true(res.conds[0].pass);
	assert_true(eval("f1 > champion", &res));
	assert_false(eval("f1 > champion + 0.001", &res));
	assert_true(isnan(eval("auc >= 0.9", &res) ? res.conds[0].champion : 0));
	assert_true(res.conds[0].threshold == 0.9);
	/* AND: every condition, each with its own verdict */
	assert_false(eval("f1 >= champion and auc >= champion and rmse <= champion", &res));
	assert_int_equal(res.nr, 3);
	assert_true(res.conds[0].pass);
	assert_false(res.conds[1].pass);
	assert_true(res.conds[2].pass);
	assert_true(eval("auc >= champion - 0.05 and auc < 1", &res));
	gate_result_release(&res);
	gate_result_release(&res);
	gate_result_release(NULL);
}

static void test_eval_edges(void **state)
{
	struct gate_result res = GATE_RESULT_INIT;

	(void)state;
	/* equal values: rmse 12.5 against the champion's 12.5 */
	assert_true(eval("rmse >= champion", &res));
	assert_false(eval("rmse > champion", &res));
	assert_true(eval("rmse <= champion", &res));
	assert_false(eval("rmse < champion", &res));
	assert_true(eval("rmse == champion", &res));
	assert_false(eval("rmse != champion", &res));
	assert_true(eval("rmse == 12.5 and rmse >= 12.5 and rmse <= 12.5", &res));
	assert_true(eval("rmse < champion + 0.1 and rmse > champion - 0.1", &res));
	/* a threshold off by binary rounding only is still equal */
	assert_true(0.3 - 0.1 != 0.2);
	assert_true(eval("acc <= champion - 0.1", &res));
	assert_true(eval("acc >= champion - 0.1", &res));
	assert_false(eval("acc < champion - 0.1", &res));
	assert_false(eval("acc > champion - 0.1", &res));
	assert_true(eval("acc == champion - 0.1", &res));
	assert_false(eval("acc != champion - 0.1", &res));
	/* below the tolerance: no improvement; above it: one */
	assert_false(eval("tiny > champion", &res));
	assert_true(eval("tiny == champion", &res));
	assert_true(eval("small > champion", &res));
	assert_false(eval("small <= champion", &res));
	/* NaN fails every operator, on either side */
	assert_false(eval("nan >= 0", &res));
	assert_false(eval("nan < 0", &res));
	assert_false(eval("nan == 0", &res));
	assert_false(eval("nan != 0", &res));
	assert_false(eval("nan != champion", &res));
	assert_false(eval("champ_nan >= champion", &res));
	assert_false(eval("champ_nan != champion", &res));
	assert_true(isnan(res.conds[0].threshold));
	/* infinities compare exactly */
	assert_true(eval("inf >= champion and inf == champion and inf > 1e308", &res));
	assert_false(eval("inf != champion", &res));
	assert_false(eval("f1 >= champion + 1e308 and f1 > 1e308", &res));
	gate_result_release(&res);
}

/* gate_eval that must fail with code and msg, leaving res alone. */
static void eval_error(const char *text, struct metrics *m, int code, const char *msg)
{
	struct gate_result res = { .nr = 9 };
	struct gate g = parse(text);
	struct error err = ERROR_INIT;

	assert_int_equal(gate_eval(&g, lookup, m, &res, &err), code);
	assert_string_equal(err.msg, msg);
	assert_int_equal(err.code, code);
	assert_int_equal(res.nr, 9);
	assert_null(res.conds);
	gate_release(&g);
}

static void test_eval_errors(void **state)
{
	struct metrics m = { rows, ARRAY_SIZE(rows), true, false, 0 };
	struct metrics none = { rows, ARRAY_SIZE(rows), false, false, 0 };
	struct metrics silent = { rows, ARRAY_SIZE(rows), true, true, 0 };

	(void)state;
	eval_error("f1 >= 0.5 and f9 >= champion", &m, ERR_INVALID,
		   "gate: metric 'f9' is not one of auc, f1, nan, rmse");
	eval_error("f1 >= 0.5 and auc >= champion", &none, ERR_NOTFOUND,
		   "model 'churn' has no alias 'production'");
	/* the lookup stops at the first failure */
	assert_int_equal(none.calls, 3);
	eval_error("f1 >= 0.5", &silent, ERR_NOTFOUND, "gate: no value for metric 'f1'");
	silent.silent = false;
	silent.has_champion = true;
	silent.nr = 0;
	eval_error("f1 >= 0.5", &silent, ERR_INVALID,
		   "gate: metric 'f1' is not one of auc, f1, nan, rmse");
}

static int champion_silent(void *ctx, bool champion, const char *name, double *out,
			   struct error *err)
{
	(void)ctx;
	(void)name;
	(void)err;
	if (champion)
		return ERR_NOTFOUND;
	*out = 1;
	return 0;
}

/* A lookup that claims success without writing: the value is NaN, the condition fails. */
static int forgetful(void *ctx, bool champion, const char *name, double *out, struct error *err)
{
	(void)ctx;
	(void)champion;
	(void)name;
	(void)out;
	(void)err;
	return 0;
}

static void test_eval_callbacks(void **state)
{
	struct gate g = parse("x >= champion");
	struct gate_result res = GATE_RESULT_INIT;
	struct error err = ERROR_INIT;

	(void)state;
	assert_int_equal(gate_eval(&g, champion_silent, NULL, &res, &err), ERR_NOTFOUND);
	assert_string_equal(err.msg, "gate: no value for metric 'x' of the champion");
	assert_int_equal(gate_eval(&g, forgetful, NULL, &res, &err), 0);
	assert_false(res.pass);
	assert_true(isnan(res.conds[0].value));
	gate_result_release(&res);
	gate_release(&g);
}

static void assert_report(const char *text, const char *expected)
{
	struct metrics m = { rows, ARRAY_SIZE(rows), true, false, 0 };
	struct gate_result res = GATE_RESULT_INIT;
	struct strbuf sb = STRBUF_INIT;
	struct gate g = parse(text);
	struct error err = ERROR_INIT;

	assert_int_equal(gate_eval(&g, lookup, &m, &res, &err), 0);
	strbuf_addstr(&sb, "> ");
	gate_format_result(&g, &res, &sb);
	assert_string_equal(sb.buf, expected);
	gate_result_release(&res);
	gate_release(&g);
	strbuf_release(&sb);
}

static void test_format_result(void **state)
{
	(void)state;
	assert_report("f1 >= champion - 0.01",
		      "> f1 0.8421 >= 0.8312 (champion 0.8412 - 0.01): pass\n");
	assert_report("f1 >= champion", "> f1 0.8421 >= 0.8412 (champion): pass\n");
	assert_report("auc >= 0.9 and auc > champion + 0.0125 and rmse < champion",
		      "> auc 0.93 >= 0.9: pass\n"
		      "auc 0.93 > 0.9625 (champion 0.95 + 0.0125): fail\n"
		      "rmse 12.5 < 12.5 (champion): fail\n");
	assert_report("nan >= 0.5 and champ_nan != champion",
		      "> nan nan >= 0.5: fail\n"
		      "champ_nan 1 != nan (champion): fail\n");
	assert_report("inf >= champion and f1 < 1e300", "> inf inf >= inf (champion): pass\n"
							"f1 0.8421 < 1e+300: pass\n");
	/* equal to the tolerance: 4 digits; different: as many digits as tell them apart */
	assert_report("acc <= champion - 0.1", "> acc 0.2 <= 0.2 (champion 0.3 - 0.1): pass\n");
	assert_report("small > champion and tiny > champion",
		      "> small 0.500000001 > 0.5 (champion): pass\n"
		      "tiny 0.5 > 0.5 (champion): fail\n");
	assert_report("f1 >= 0.84209 and f1 < 0.84211", "> f1 0.8421 >= 0.84209: pass\n"
							"f1 0.8421 < 0.84211: pass\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_examples), cmocka_unit_test(test_parse_forms),
		cmocka_unit_test(test_parse_errors),   cmocka_unit_test(test_parse_limits),
		cmocka_unit_test(test_format_expr),    cmocka_unit_test(test_eval),
		cmocka_unit_test(test_eval_edges),     cmocka_unit_test(test_eval_errors),
		cmocka_unit_test(test_eval_callbacks), cmocka_unit_test(test_format_result),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
