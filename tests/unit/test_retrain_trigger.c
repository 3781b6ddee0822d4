/*
 * Retraining triggers (retrain/trigger.h) on hand-built monitoring results: which results count
 * (the champion's, after its promotion and after the last decision), "for N windows" with
 * unknown windows skipped, schedule and new-data triggers at and around their edges, the
 * cooldown, and the metrics read from a stored result.
 */
#include "util/common.h"
#include "retrain/trigger.h"
#include "util/xalloc.h"
#include "helpers.h"

#include <math.h>

#define HOUR (3600 * 1000LL)

static void load(struct retrain_policies *ps, const char *triggers, const char *cooldown)
{
	char *text = xstrfmt("retrain:\n  churn:\n    triggers:\n%s"
			     "    train: {data: d.csv, target: y}\n"
			     "    gate: f1 >= champion\n    holdout: h.csv\n    cooldown: %s\n",
			     triggers, cooldown);
	struct error err = ERROR_INIT;

	assert_ok(retrain_policies_parse(ps, "t.yaml", text, strlen(text), &err));
	free(text);
}

/* A result of churn; quality NULL means no labels. */
static struct store_monitor_result result(int64_t id, int64_t version, int64_t time, double share,
					  const char *quality)
{
	struct store_monitor_result r = { 0 };

	r.id = id;
	r.model = (char *)"churn";
	r.version = version;
	r.created_time = time;
	r.rows = 1000;
	r.labelled = quality ? 1000 : 0;
	r.n_tested = isnan(share) ? 0 : 19;
	r.drift_share = share;
	r.n_drifted = isnan(share) ? 0 : (int64_t)lround(share * 19);
	r.verdict = (char *)(share >= 0.5 ? "drift" : "no_drift");
	r.quality_json = (char *)quality;
	return r;
}

static const struct retrain_state STATE = {
	.now_ms = 100 * HOUR,
	.champion = 2,
	.champion_since_ms = 10 * HOUR,
	.last_decision_ms = 0,
	.champion_data_digest = "sha256:aa",
	.data_digest = "sha256:aa",
};

static void test_counted_results(void **state)
{
	struct retrain_policies ps = RETRAIN_POLICIES_INIT;
	struct retrain_check c = RETRAIN_CHECK_INIT;
	/* newest first: only ids 5 and 3 count */
	struct store_monitor_result rs[] = {
		result(6, 1, 50 * HOUR, 0.9, NULL), /* another version */
		result(5, 2, 40 * HOUR, 0.1, NULL), /* counts: quiet */
		result(4, 2, 10 * HOUR, 0.9, NULL), /* at the promotion: not after it */
		result(3, 2, 30 * HOUR, 0.9, NULL), /* counts (order is the caller's) */
		result(2, 2, 5 * HOUR, 0.9, NULL),  /* before the promotion */
	};
	struct store_monitor_result other = result(7, 2, 60 * HOUR, 0.9, NULL);

	(void)state;
	other.model = (char *)"other";
	load(&ps, "      - when: drift_share >= 0.3\n", "0s");
	retrain_triggers_check(&c, &ps.items[0], &STATE, rs, ARRAY_SIZE(rs));
	assert_int_equal(c.counted, 2);
	assert_int_equal(c.since_ms, 10 * HOUR);
	/* the newest counted result decides with one window */
	assert_int_equal(c.items[0].truth, ALERT_FALSE);
	assert_int_equal(c.items[0].result_id, 5);
	assert_string_equal(c.items[0].detail, "drift_share 0.1, not >= 0.3");
	assert_true(c.items[0].value == 0.1); /* drift_share as stored */
	assert_int_equal(c.fired, 0);
	assert_false(retrain_check_should_run(&c));
	retrain_check_release(&c);

	/* the only newer result is another model's: nothing counts, unknown */
	retrain_triggers_check(&c, &ps.items[0], &STATE, &other, 1);
	assert_int_equal(c.counted, 0);
	assert_int_equal(c.items[0].truth, ALERT_UNKNOWN);
	assert_true(isnan(c.items[0].value));
	retrain_check_release(&c);

	/* a decision after the promotion moves the boundary: id 5 no longer counts */
	{
		struct retrain_state s = STATE;

		s.last_decision_ms = 40 * HOUR;
		retrain_triggers_check(&c, &ps.items[0], &s, rs, ARRAY_SIZE(rs));
		assert_int_equal(c.counted, 0);
		assert_int_equal(c.since_ms, 40 * HOUR);
		assert_int_equal(c.items[0].truth, ALERT_UNKNOWN);
		retrain_check_release(&c);
	}
	/* no champion: no result counts */
	{
		struct retrain_state s = STATE;

		s.champion = 0;
		retrain_triggers_check(&c, &ps.items[0], &s, rs, ARRAY_SIZE(rs));
		assert_int_equal(c.counted, 0);
		retrain_check_release(&c);
	}
	retrain_policies_release(&ps);
}

static void test_windows(void **state)
{
	struct retrain_policies ps = RETRAIN_POLICIES_INIT;
	struct retrain_check c = RETRAIN_CHECK_INIT;
	/* f1 below 0.7 in the two newest windows that have labels; the one between has none */
	struct store_monitor_result rs[] = {
		result(9, 2, 90 * HOUR, 0.0, "{\"f1\":0.61,\"accuracy\":0.8}"),
		result(8, 2, 80 * HOUR, 0.0, NULL),
		result(7, 2, 70 * HOUR, 0.0, "{\"f1\":0.65}"),
		result(6, 2, 60 * HOUR, 0.0, "{\"f1\":0.9}"),
	};

	(void)state;
	load(&ps,
	     "      - {name: q1, when: f1 < 0.7}\n"
	     "      - {name: q2, when: f1 < 0.7 for 2 windows}\n"
	     "      - {name: q3, when: f1 < 0.7 for 3 windows}\n"
	     "      - {name: both, when: f1 < 0.7 and accuracy < 0.85}\n",
	     "0s");
	retrain_triggers_check(&c, &ps.items[0], &STATE, rs, ARRAY_SIZE(rs));
	assert_int_equal(c.counted, 4);
	assert_int_equal(c.items[0].truth, ALERT_TRUE);
	assert_int_equal(c.items[0].windows_held, 1);
	assert_int_equal(c.items[0].result_id, 9);
	assert_true(c.items[0].value == 0.61);
	assert_true(c.items[0].threshold == 0.7);
	assert_string_equal(c.items[0].metric, "f1");
	assert_string_equal(c.items[0].detail, "f1 0.61 < 0.7");
	assert_int_equal(c.items[1].truth, ALERT_TRUE); /* 9 and 7: 8 has no labels */
	assert_int_equal(c.items[1].windows_held, 2);
	assert_int_equal(c.items[2].truth, ALERT_FALSE); /* 6 broke the streak */
	assert_int_equal(c.items[2].windows_held, 2);
	assert_string_equal(c.items[2].detail, "f1 0.61 < 0.7 for 2 of 3 windows");
	assert_string_equal(c.items[1].detail, "f1 0.61 < 0.7 for 2 windows");
	/* window 9 has both numbers; accuracy 0.8 < 0.85 holds too */
	assert_int_equal(c.items[3].truth, ALERT_TRUE);
	assert_int_equal(c.fired, 3);
	assert_true(retrain_check_should_run(&c));
	retrain_check_release(&c);
	retrain_policies_release(&ps);
}

static void test_schedule_and_data(void **state)
{
	struct retrain_policies ps = RETRAIN_POLICIES_INIT;
	struct retrain_check c = RETRAIN_CHECK_INIT;
	struct retrain_state s = STATE;

	(void)state;
	load(&ps, "      - schedule: 90h\n      - new_data: true\n", "0s");
	/* the champion is 90 h old: exactly the period fires */
	retrain_triggers_check(&c, &ps.items[0], &s, NULL, 0);
	assert_int_equal(c.items[0].truth, ALERT_TRUE);
	assert_true(c.items[0].value == 90 * 3600.0);
	assert_int_equal(c.items[1].truth, ALERT_FALSE); /* same digest */
	retrain_check_release(&c);

	s.now_ms -= 1;
	s.data_digest = "sha256:bb";
	retrain_triggers_check(&c, &ps.items[0], &s, NULL, 0);
	assert_int_equal(c.items[0].truth, ALERT_FALSE);
	assert_int_equal(c.items[1].truth, ALERT_TRUE);
	assert_int_equal(c.fired, 1);
	retrain_check_release(&c);

	/* the last decision resets the schedule's clock */
	s.now_ms = 100 * HOUR;
	s.last_decision_ms = 20 * HOUR;
	s.champion_data_digest = NULL;
	retrain_triggers_check(&c, &ps.items[0], &s, NULL, 0);
	assert_int_equal(c.items[0].truth, ALERT_FALSE);
	assert_int_equal(c.items[1].truth, ALERT_UNKNOWN); /* unknown champion data */
	retrain_check_release(&c);

	s.champion_since_ms = 0;
	s.last_decision_ms = 0;
	retrain_triggers_check(&c, &ps.items[0], &s, NULL, 0);
	assert_int_equal(c.items[0].truth, ALERT_UNKNOWN);
	retrain_check_release(&c);
	retrain_policies_release(&ps);
}

static void test_cooldown(void **state)
{
	struct retrain_policies ps = RETRAIN_POLICIES_INIT;
	struct retrain_check c = RETRAIN_CHECK_INIT;
	struct retrain_state s = STATE;

	(void)state;
	load(&ps, "      - schedule: 1h\n", "2h");
	s.last_decision_ms = s.now_ms - 90 * 60 * 1000; /* 90 min ago */
	retrain_triggers_check(&c, &ps.items[0], &s, NULL, 0);
	assert_int_equal(c.fired, 1);
	assert_int_equal(c.cooldown_left_ms, 30 * 60 * 1000);
	assert_false(retrain_check_should_run(&c));
	retrain_check_release(&c);

	s.last_decision_ms = s.now_ms - 2 * HOUR; /* exactly the cooldown: over */
	retrain_triggers_check(&c, &ps.items[0], &s, NULL, 0);
	assert_int_equal(c.cooldown_left_ms, 0);
	assert_true(retrain_check_should_run(&c));
	retrain_check_release(&c);
	retrain_policies_release(&ps);
}

static void test_result_metric(void **state)
{
	struct store_monitor_result r = result(1, 2, 1, 10.0 / 19, "{\"f1\":0.5,\"cm\":[1,2]}");
	struct store_monitor_result none = result(1, 2, 1, NAN, "not json");
	double v = -1;

	(void)state;
	assert_int_equal(retrain_result_metric(&r, "drift_share", &v), 1);
	assert_true(v == 10.0 / 19);
	assert_int_equal(retrain_result_metric(&r, "n_drifted", &v), 1);
	assert_true(v == 10);
	assert_int_equal(retrain_result_metric(&r, "dataset_drift", &v), 1);
	assert_true(v == 1); /* 10/19 >= 0.5: verdict drift */
	assert_int_equal(retrain_result_metric(&r, "rows", &v), 1);
	assert_true(v == 1000);
	assert_int_equal(retrain_result_metric(&r, "f1", &v), 1);
	assert_true(v == 0.5);
	v = -1;
	assert_int_equal(retrain_result_metric(&r, "cm", &v), 0); /* not a number */
	assert_int_equal(retrain_result_metric(&r, "drift.x", &v), 0);
	assert_int_equal(retrain_result_metric(&none, "drift_share", &v), 0);
	assert_int_equal(retrain_result_metric(&none, "f1", &v), 0);
	assert_true(v == -1);
}

/* A stored report as monitor run writes it, cut to what the triggers read (values by hand). */
static const char REPORT[] =
    "{\"drift\": {\"columns\": ["
    "{\"name\": \"total_day_minutes\", \"verdict\": \"drift\", \"score\": 1.5e-07},"
    "{\"name\": \"state\", \"verdict\": \"no_drift\", \"score\": 0.125},"
    "{\"name\": \"area_code\", \"verdict\": \"insufficient_data\", \"score\": 0.5},"
    "{\"name\": \"voice_mail_plan\", \"verdict\": \"skipped\", \"score\": null}]},"
    "\"prediction_drift\": {\"verdict\": \"drift\", \"drift\": true, \"score\": 0.01}}";

static void test_report_metric(void **state)
{
	struct store_monitor_result r = result(1, 2, 1, 0.25, NULL);
	struct retrain_policies ps = RETRAIN_POLICIES_INIT;
	double v = -1;

	(void)state;
	assert_int_equal(retrain_result_metric(&r, "drift.state", &v), 0); /* no report read */
	r.report_json = (char *)REPORT;
	assert_int_equal(retrain_result_metric(&r, "drift.total_day_minutes", &v), 1);
	assert_true(v == 1.5e-07);
	assert_int_equal(retrain_result_metric(&r, "drift.state", &v), 1);
	assert_true(v == 0.125);
	v = -1;
	assert_int_equal(retrain_result_metric(&r, "drift.area_code", &v), 0); /* not tested */
	assert_int_equal(retrain_result_metric(&r, "drift.voice_mail_plan", &v), 0);
	assert_int_equal(retrain_result_metric(&r, "drift.missing", &v), 0);
	assert_int_equal(retrain_result_metric(&r, "drift.", &v), 0);
	assert_true(v == -1);
	assert_int_equal(retrain_result_metric(&r, "prediction_drift", &v), 1);
	assert_true(v == 1);
	r.report_json = (char *)"{\"prediction_drift\": {\"verdict\": \"no_drift\"}}";
	assert_int_equal(retrain_result_metric(&r, "prediction_drift", &v), 1);
	assert_true(v == 0);
	r.report_json = (char *)"{\"prediction_drift\": null}";
	assert_int_equal(retrain_result_metric(&r, "prediction_drift", &v), 0);
	r.report_json = (char *)"not json";
	assert_int_equal(retrain_result_metric(&r, "drift.state", &v), 0);
	assert_int_equal(retrain_result_metric(&r, "drift_share", &v), 1); /* the summary still */
	assert_true(v == 0.25);

	load(&ps, "      - when: drift_share >= 0.3\n      - schedule: 1d\n", "0s");
	assert_false(retrain_policy_reads_reports(&ps.items[0]));
	retrain_policies_release(&ps);
	load(&ps, "      - when: f1 < 0.7 or drift.state > 0.2\n", "0s");
	assert_true(retrain_policy_reads_reports(&ps.items[0]));
	retrain_policies_release(&ps);
	load(&ps, "      - when: prediction_drift == 1\n", "0s");
	assert_true(retrain_policy_reads_reports(&ps.items[0]));
	retrain_policies_release(&ps);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_report_metric), cmocka_unit_test(test_counted_results),
		cmocka_unit_test(test_windows),	      cmocka_unit_test(test_schedule_and_data),
		cmocka_unit_test(test_cooldown),      cmocka_unit_test(test_result_metric),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
