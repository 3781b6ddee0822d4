/*
 * Unit tests for monitor/monitor_config: the documented example reads into the values it spells
 * out, defaults without a file, and each kind of bad content gives FILE:LINE:COL and what was
 * expected (positions worked out by hand from the inputs).
 */
#include "util/common.h"
#include "helpers.h"
#include "monitor/monitor_config.h"

#include <math.h>

static const char example[] = "drift:\n"
			      "  share: 0.4\n"
			      "  test: default\n"
			      "  threshold: 0.2\n"
			      "  min_rows: 30\n"
			      "  columns:\n"
			      "    total_day_minutes: {test: ks, threshold: 0.01}\n"
			      "    state: {skip: true}\n"
			      "window: 1000\n"
			      "alerts:\n"
			      "  - name: data-drift\n"
			      "    when: drift_share >= 0.5\n"
			      "  - name: quality\n"
			      "    when: f1 < 0.7\n"
			      "webhook:\n"
			      "  url: http://127.0.0.1:9000/hook\n"
			      "  timeout: 5s\n";

static void test_example(void **state)
{
	struct monitor_config c;
	struct error err = ERROR_INIT;

	(void)state;
	assert_int_equal(monitor_config_parse(&c, "m.yaml", example, strlen(example), &err), 0);
	assert_true(c.drift.drift_share == 0.4);
	assert_int_equal(c.drift.test, DRIFT_TEST_DEFAULT);
	assert_true(c.drift.threshold == 0.2);
	assert_int_equal(c.drift.min_rows, 30);
	assert_int_equal(c.drift.n_columns, 2);
	assert_string_equal(c.drift.columns[0].column, "total_day_minutes");
	assert_int_equal(c.drift.columns[0].test, DRIFT_TEST_KS);
	assert_true(c.drift.columns[0].threshold == 0.01);
	assert_false(c.drift.columns[0].skip);
	assert_string_equal(c.drift.columns[1].column, "state");
	assert_true(c.drift.columns[1].skip);
	assert_true(isnan(c.drift.columns[1].threshold));
	assert_int_equal(c.window_rows, 1000);
	assert_int_equal(c.since_ms, 0);
	assert_int_equal(c.n_alerts, 2);
	assert_string_equal(c.alerts[0].name, "data-drift");
	assert_string_equal(c.alerts[0].when, "drift_share >= 0.5");
	assert_string_equal(c.alerts[1].when, "f1 < 0.7");
	assert_string_equal(c.webhook_url, "http://127.0.0.1:9000/hook");
	assert_int_equal(c.webhook_timeout_ms, 5000);
	monitor_config_free(&c);
}

static void test_defaults(void **state)
{
	struct monitor_config c;
	struct error err = ERROR_INIT;

	(void)state;
	monitor_config_init(&c);
	assert_true(c.drift.drift_share == 0.5);
	assert_true(isnan(c.drift.threshold));
	assert_int_equal(c.drift.min_rows, 1);
	assert_null(c.webhook_url);
	monitor_config_free(&c);
	/* an empty file and a comment-only file are the defaults too */
	assert_int_equal(monitor_config_parse(&c, "m.yaml", "", 0, &err), 0);
	assert_true(c.drift.drift_share == 0.5);
	monitor_config_free(&c);
	assert_int_equal(monitor_config_parse(&c, "m.yaml", "# x\n", 4, &err), 0);
	monitor_config_free(&c);
	assert_int_equal(monitor_config_load(&c, "/nonexistent/monitor.yaml", &err), ERR_NOTFOUND);
	monitor_config_free(&c);
}

static void test_durations(void **state)
{
	static const char text[] = "window: 2h\nwebhook:\n  url: https://h/x\n  timeout: 250ms\n";
	struct monitor_config c;
	struct error err = ERROR_INIT;

	(void)state;
	assert_int_equal(monitor_config_parse(&c, "m.yaml", text, strlen(text), &err), 0);
	assert_int_equal(c.window_rows, 0);
	assert_int_equal(c.since_ms, 2 * 3600 * 1000);
	assert_int_equal(c.webhook_timeout_ms, 250);
	monitor_config_free(&c);
}

struct bad {
	const char *text;
	const char *msg; /* the start of the message */
};

static const struct bad bad_cases[] = {
	{ "drift:\n  shar: 0.5\n",
	  "m.yaml:2:3: unknown key 'shar' in 'drift'; did you mean 'share'?" },
	{ "drift:\n  share: 1.5\n", "m.yaml:2:10: 'share' must be a number in (0, 1], got '1.5'" },
	{ "drift:\n  share: 0\n", "m.yaml:2:10: 'share' must be a number in (0, 1], got '0'" },
	{ "drift:\n  min_rows: -3\n", "m.yaml:2:13: 'min_rows' must be a positive integer" },
	{ "drift:\n  columns:\n    a: {test: nope}\n", "m.yaml:3:15: 'test': " },
	{ "drift:\n  columns:\n    a: {tst: ks}\n",
	  "m.yaml:3:9: unknown key 'tst' in a column override; did you mean 'test'?" },
	{ "drift:\n  columns:\n    a: {threshold: -1}\n",
	  "m.yaml:3:20: 'threshold' must be a number in (0, 1e+300], got '-1'" },
	{ "drift:\n  columns:\n    a: {skip: maybe}\n",
	  "m.yaml:3:15: 'skip' must be true or false, got 'maybe'" },
	{ "drift: [1, 2]\n", "m.yaml:1:8: 'drift' must be a mapping, got a sequence" },
	{ "window: 10 min\n", "m.yaml:1:9: 'window' must be a duration such as" },
	{ "alerts:\n  - name: a\n", "m.yaml:2:5: an alert needs 'name' and 'when'" },
	{ "alerts:\n  - {name: a, when: x}\n  - {name: a, when: y}\n",
	  "m.yaml:3:5: duplicate alert name 'a'" },
	{ "webhook:\n  url: ftp://x\n", "m.yaml:2:8: 'url' must be an http:// or https:// URL" },
	{ "colour: red\n", "m.yaml:1:1: unknown key 'colour' in the monitoring config (expected" },
	{ "drift:\n  share: [1\n", "m.yaml:" },
};

static void test_bad(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad_cases); i++) {
		struct monitor_config c;
		struct error err = ERROR_INIT;
		const struct bad *b = &bad_cases[i];
		int rc = monitor_config_parse(&c, "m.yaml", b->text, strlen(b->text), &err);

		if (rc != ERR_INVALID || strncmp(err.msg, b->msg, strlen(b->msg)))
			fail_msg("case %zu: rc %d, message '%s', expected '%s...'", i, rc, err.msg,
				 b->msg);
		/* nothing is left behind on failure: the config reads as the defaults */
		assert_int_equal(c.drift.n_columns, 0);
		assert_int_equal(c.n_alerts, 0);
		monitor_config_free(&c);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_example),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
