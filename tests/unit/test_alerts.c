/*
 * Alert rules (monitor/alerts.h): the grammar with its error positions, three-valued evaluation
 * by hand-worked cases (Kleene's tables), and the hysteresis transitions window by window.
 */
#include "util/common.h"
#include "monitor/alerts.h"
#include "helpers.h"

#include <math.h>

/* A fixed set of metrics; anything else is unavailable. */
struct metrics {
	const char *names[8];
	double values[8];
};

static int get(void *data, const char *metric, double *value)
{
	const struct metrics *m = data;

	for (size_t i = 0; i < 8 && m->names[i]; i++) {
		if (!strcmp(m->names[i], metric)) {
			*value = m->values[i];
			return 1;
		}
	}
	return 0;
}

static void test_parse(void **state)
{
	struct alert_rule r = ALERT_RULE_INIT;
	struct error err = ERROR_INIT;

	(void)state;
	assert_ok(alert_rule_parse(&r, "q", "f1 < 0.7", &err));
	assert_int_equal(r.n_conds, 1);
	assert_string_equal(r.conds[0].metric, "f1");
	assert_int_equal(r.conds[0].op, ALERT_LT);
	assert_true(r.conds[0].threshold == 0.7);
	assert_int_equal(r.windows, ALERT_DEFAULT_WINDOWS);
	assert_false(r.windows_given);
	assert_string_equal(r.name, "q");
	assert_string_equal(r.text, "f1 < 0.7");

	assert_ok(alert_rule_parse(&r, "x",
				   "  drift_share>=0.5 AND drift.total_day_minutes<=1e-3 or "
				   "prediction_drift == 1 and rows!=0 For 3 windows ",
				   &err));
	assert_int_equal(r.n_conds, 4);
	assert_int_equal(r.n_groups, 2);
	assert_string_equal(r.conds[1].metric, "drift.total_day_minutes");
	assert_int_equal(r.conds[1].op, ALERT_LE);
	assert_true(r.conds[1].threshold == 1e-3);
	assert_int_equal(r.conds[0].group, 0);
	assert_int_equal(r.conds[1].group, 0);
	assert_int_equal(r.conds[2].group, 1);
	assert_int_equal(r.conds[2].op, ALERT_EQ);
	assert_int_equal(r.conds[3].op, ALERT_NE);
	assert_int_equal(r.windows, 3);
	assert_ok(alert_rule_parse(&r, "one", "accuracy > -1 for 1 window", &err));
	assert_int_equal(r.windows, 1);
	assert_true(r.windows_given);
	assert_int_equal(r.conds[0].op, ALERT_GT);
	alert_rule_release(&r);
	alert_rule_release(&r);
}

static void expect_error(const char *text, const char *needle)
{
	struct alert_rule r = ALERT_RULE_INIT;
	struct error err = ERROR_INIT;
	int rc = alert_rule_parse(&r, "bad", text, &err);

	if (rc != ERR_INVALID)
		fail_msg("'%s': expected ERR_INVALID, got %d", text, rc);
	if (!strstr(err.msg, needle))
		fail_msg("'%s': '%s' does not contain '%s'", text, err.msg, needle);
	assert_null(r.conds);
	assert_null(r.name);
}

static void test_parse_errors(void **state)
{
	(void)state;
	expect_error("", "alert rule 'bad': column 1: expected a metric");
	expect_error("f2 < 1", "column 1: unknown metric 'f2'");
	expect_error("f1 =< 0.7", "column 4: expected an operator (< <= > >= == !=), got '=<'");
	expect_error("f1 = 0.7", "column 4: expected an operator");
	expect_error("f1 < ", "column 6: expected a number, got the end of the rule");
	expect_error("f1 < abc", "column 6: expected a number, got 'abc'");
	expect_error("f1 < nan", "expected a number, got 'nan'");
	expect_error("f1 < 0.7 f1 < 0.8", "column 10: expected 'and', 'or', 'for N windows'");
	expect_error("f1 < 0.7 and", "column 13: expected a metric");
	expect_error("f1 < 0.7 for 0 windows", "column 14: expected a number of windows (1..1000)");
	expect_error("f1 < 0.7 for 2", "column 15: expected 'windows'");
	expect_error("f1 < 0.7 for 2 windows and f1 > 0", "column 24: expected the end");
	expect_error("drift. < 1", "column 7: expected a column name after 'drift.'");
	expect_error("9f1 < 1", "column 1: expected a metric");
}

static void test_eval(void **state)
{
	struct metrics m = { { "f1", "drift_share", "drift.a", NULL }, { 0.61, 0.5, 0.001 } };
	struct alert_source src = { get, &m };
	struct alert_rule r = ALERT_RULE_INIT;
	struct alert_eval e;
	struct error err = ERROR_INIT;

	(void)state;
	assert_ok(alert_rule_parse(&r, "q", "f1 < 0.7", &err));
	alert_rule_eval(&e, &r, &src);
	assert_int_equal(e.truth, ALERT_TRUE);
	assert_true(e.value == 0.61);
	assert_ptr_equal(e.cond, &r.conds[0]);

	/* drift_share >= 0.5 is true at exactly 0.5 (Evidently's >=) */
	assert_ok(alert_rule_parse(&r, "d", "drift_share >= 0.5", &err));
	alert_rule_eval(&e, &r, &src);
	assert_int_equal(e.truth, ALERT_TRUE);
	assert_ok(alert_rule_parse(&r, "d", "drift_share > 0.5", &err));
	alert_rule_eval(&e, &r, &src);
	assert_int_equal(e.truth, ALERT_FALSE);
	assert_true(e.value == 0.5);

	/* unavailable: unknown, never true */
	assert_ok(alert_rule_parse(&r, "u", "roc_auc < 0.9", &err));
	alert_rule_eval(&e, &r, &src);
	assert_int_equal(e.truth, ALERT_UNKNOWN);
	assert_true(isnan(e.value));
	assert_string_equal(e.cond->metric, "roc_auc");

	/* and: false beats unknown; true and unknown is unknown */
	assert_ok(alert_rule_parse(&r, "k", "roc_auc < 0.9 and f1 > 0.7", &err));
	alert_rule_eval(&e, &r, &src);
	assert_int_equal(e.truth, ALERT_FALSE);
	assert_string_equal(e.cond->metric, "f1");
	assert_ok(alert_rule_parse(&r, "k", "roc_auc < 0.9 and f1 < 0.7", &err));
	alert_rule_eval(&e, &r, &src);
	assert_int_equal(e.truth, ALERT_UNKNOWN);
	/* or: true beats unknown; false or unknown is unknown */
	assert_ok(alert_rule_parse(&r, "k", "roc_auc < 0.9 or drift.a < 0.05", &err));
	alert_rule_eval(&e, &r, &src);
	assert_int_equal(e.truth, ALERT_TRUE);
	assert_string_equal(e.cond->metric, "drift.a");
	assert_true(e.value == 0.001);
	assert_ok(alert_rule_parse(&r, "k", "roc_auc < 0.9 or drift.a > 0.05", &err));
	alert_rule_eval(&e, &r, &src);
	assert_int_equal(e.truth, ALERT_UNKNOWN);
	/* precedence: a or b and c == a or (b and c) */
	assert_ok(alert_rule_parse(&r, "p", "f1 < 0.7 or f1 > 0.9 and drift_share > 0", &err));
	alert_rule_eval(&e, &r, &src);
	assert_int_equal(e.truth, ALERT_TRUE);
	assert_ok(alert_rule_parse(&r, "p", "f1 > 0.9 and drift_share > 0 or f1 > 0.7", &err));
	alert_rule_eval(&e, &r, &src);
	assert_int_equal(e.truth, ALERT_FALSE);
	alert_rule_release(&r);
}

static void test_hysteresis(void **state)
{
	struct alert_rule r = ALERT_RULE_INIT;
	struct alert_state s = { false, 0 };
	struct error err = ERROR_INIT;
	const enum alert_truth T = ALERT_TRUE, F = ALERT_FALSE, U = ALERT_UNKNOWN;

	(void)state;
	/* default: two windows in a row to fire, two to resolve; unknown is no evidence */
	assert_ok(alert_rule_parse(&r, "q", "f1 < 0.7", &err));
	assert_int_equal(alert_step(&s, &r, T), ALERT_STAY);
	assert_int_equal(alert_step(&s, &r, F), ALERT_STAY); /* streak broken */
	assert_int_equal(alert_step(&s, &r, T), ALERT_STAY);
	assert_int_equal(alert_step(&s, &r, U), ALERT_STAY);
	assert_int_equal(s.streak, 1);
	assert_int_equal(alert_step(&s, &r, T), ALERT_FIRED);
	assert_true(s.firing);
	assert_int_equal(alert_step(&s, &r, T), ALERT_STAY); /* no repeat while firing */
	assert_int_equal(alert_step(&s, &r, F), ALERT_STAY);
	assert_int_equal(alert_step(&s, &r, T), ALERT_STAY);
	assert_int_equal(alert_step(&s, &r, F), ALERT_STAY);
	assert_int_equal(alert_step(&s, &r, F), ALERT_RESOLVED);
	assert_false(s.firing);
	assert_int_equal(s.streak, 0);

	assert_ok(alert_rule_parse(&r, "q", "f1 < 0.7 for 1 window", &err));
	s = (struct alert_state){ false, 0 };
	assert_int_equal(alert_step(&s, &r, U), ALERT_STAY);
	assert_int_equal(alert_step(&s, &r, T), ALERT_FIRED);
	assert_int_equal(alert_step(&s, &r, T), ALERT_STAY);
	assert_int_equal(alert_step(&s, &r, F), ALERT_RESOLVED);
	alert_rule_release(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_eval),
		cmocka_unit_test(test_hysteresis),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
