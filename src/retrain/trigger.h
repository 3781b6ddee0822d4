/*
 * Deciding whether a retraining policy's triggers fire: pure logic over the monitoring results
 * (store/store_monitor.h), the champion's promotion time and training data, and the last
 * retraining decision. No store access here, so every rule below is unit-tested directly.
 *
 * Which monitoring results count: those of the champion's version (a window measured on
 * another version says nothing about this one) created strictly after both the champion got
 * the alias and the last retraining decision (promoted or rejected). So a drift measured
 * against the old champion never retrains twice, and a rejected challenger does not make the
 * same windows retrain again: new traffic has to show the problem again.
 *
 * A `when` trigger fires when its condition held on its last `windows` counted results in a
 * row (newest first; a window where the condition is unknown, e.g. f1 without labels, is
 * skipped, as alerts do). `schedule` fires when the champion (or the last decision, if later)
 * is older than its period. `new_data` fires when the training data's digest is not the
 * champion's training data digest (unknown, never firing, when either is missing).
 *
 * The cooldown holds every trigger back until `cooldown` has passed since the last decision.
 */
#ifndef FERRY_RETRAIN_TRIGGER_H
#define FERRY_RETRAIN_TRIGGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "monitor/alerts.h"
#include "retrain/policy.h"
#include "store/store_monitor.h"

/* What the triggers are checked against (strings borrowed). */
struct retrain_state {
	int64_t now_ms;
	int64_t champion;		  /* the version the alias points to; 0: none */
	int64_t champion_since_ms;	  /* when the alias last moved to it; 0: unknown */
	int64_t last_decision_ms;	  /* the last retraining decision; 0: none */
	const char *champion_data_digest; /* "sha256:..." or NULL */
	const char *data_digest;	  /* of the policy's training data now, or NULL */
};

/* One trigger's verdict. */
struct retrain_trigger_check {
	const struct retrain_trigger *trigger; /* borrowed from the policy */
	enum alert_truth truth;		       /* true: it fires */
	const char *metric;		       /* the condition that decided (when), borrowed */
	enum alert_op op;
	double value, threshold; /* NaN when unknown or not a comparison */
	int64_t result_id;	 /* the newest monitoring result it used; 0 none */
	unsigned windows_held;	 /* consecutive windows the condition held */
	char *detail;		 /* for people: "drift_share 0.4737 >= 0.3 (1 window)" */
};

struct retrain_check {
	struct retrain_trigger_check *items; /* one per trigger, in the policy's order */
	size_t nr;
	size_t fired;		  /* how many fire */
	size_t counted;		  /* monitoring results that counted (see above) */
	int64_t since_ms;	  /* results after this time counted */
	int64_t cooldown_left_ms; /* > 0: fired triggers are held back this much longer */
};
#define RETRAIN_CHECK_INIT                                                                         \
	{                                                                                          \
		NULL, 0, 0, 0, 0, 0                                                                \
	}
void retrain_check_release(struct retrain_check *c);

/*
 * Checks p's triggers against s and results (newest first, as store_monitor_results gives
 * them; results of other models are ignored). *out is replaced (release it first). Never
 * fails: missing information makes a trigger "unknown", which does not fire.
 */
void retrain_triggers_check(struct retrain_check *out, const struct retrain_policy *p,
			    const struct retrain_state *s,
			    const struct store_monitor_result *results, size_t n_results);

/* Whether a retraining should run: something fired and the cooldown is over. */
bool retrain_check_should_run(const struct retrain_check *c);

/*
 * The numbers alert rules see in one stored monitoring result, as `ferry monitor run` saw them:
 * drift_share, n_drifted, dataset_drift (verdict "drift"), rows, labelled, every number of
 * quality_json (f1, accuracy, ...), and from report_json (when it was read) drift.<column> (the
 * column's score, when it was tested) and prediction_drift (1 drift, 0 none, when tested).
 * 1 with *value set, 0 when the result does not have the metric.
 */
int retrain_result_metric(const struct store_monitor_result *r, const char *metric, double *value);

/* Whether a trigger of p reads drift.<column> or prediction_drift: results need report_json. */
bool retrain_policy_reads_reports(const struct retrain_policy *p);

#endif
