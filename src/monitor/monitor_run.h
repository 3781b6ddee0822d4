/*
 * One monitoring pass (`ferry monitor run`): a window of production traffic from the inference
 * log (monitor/window.h) -> data drift against the model's exact training data
 * (monitor/drift_report.h, monitor/reference.h) + prediction drift (the model's predictions on
 * its reference data against the logged predictions) + live quality on the rows whose ground
 * truth has arrived, next to the quality recorded in model.json -> the store (history) -> alert
 * rules (monitor/alerts.h) -> webhooks for the rules whose state changed.
 *
 * Insufficient data: a window with fewer than min_rows predictions gets the verdict
 * "insufficient_data" and no drift test; quality needs min_labelled labelled rows (and both
 * classes among them for ROC AUC). Missing numbers are "unknown" to the alert rules, which
 * never fire on them. Nothing divides by zero.
 *
 * Live quality uses the names and definitions of `ferry eval` (ml/metrics.h, scikit-learn's):
 * accuracy; precision, recall and F1 of the positive class (binary) or their macro averages
 * (multiclass); ROC AUC from the logged probabilities; rmse, mae and r2 for regression. The
 * prediction is the label the server answered (logged), so live quality is what clients saw.
 *
 * Ownership: a result is the caller's (monitor_run_result_free).
 */
#ifndef FERRY_MONITOR_MONITOR_RUN_H
#define FERRY_MONITOR_MONITOR_RUN_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "monitor/alerts.h"
#include "monitor/monitor_config.h"
#include "store/store_monitor.h"

struct error;
struct store;

/* Below this many predictions (or labelled rows) a window is "insufficient data". */
#define MONITOR_MIN_ROWS 30

struct monitor_run_options {
	const char *model_dir;	/* the model artifact (checked out for models:/ URIs) */
	const char *model_name; /* as the server logs it and the store keys results */
	int64_t model_version;	/* registry version; 0: unknown (then the log's is used) */
	const char *log_dir;	/* the inference log */
	uint64_t window_rows;	/* the last N predictions; 0 with since_ms 0: every prediction */
	int64_t since_ms; /* predictions at or after this time (ms since the epoch); 0: none */
	const struct monitor_config *config; /* drift options, alert rules, webhook; required */
	const char *reference_path;	     /* a CSV instead of the model's training data */
	const char *cache_dir, *root;	     /* where monitor_reference_load looks */
	const char *webhook_url;	     /* overrides config->webhook_url; NULL: config's */
	uint64_t min_rows;		     /* 0: config's drift.min_rows if > 1, else 30 */
	uint64_t min_labelled;		     /* 0: min_rows */
	struct store *store;		     /* results and alert state; NULL: nothing stored */
	int64_t now_ms;			     /* the pass's time; 0: now */
};

/* One rule after the pass. */
struct monitor_alert {
	char *name;
	char *when;
	enum alert_truth truth;
	char *metric; /* the condition that decided, NULL if none */
	enum alert_op op;
	double value; /* NaN: unknown */
	double threshold;
	bool firing; /* the state after this pass */
	enum alert_transition transition;
	int64_t streak;
	unsigned windows;
	enum store_webhook_status webhook;
	char *webhook_detail;
	char *summary; /* "ALERT quality: f1 0.61 < 0.7 (model churn v2)" on transitions */
};

struct monitor_run_result {
	json_t *json; /* the whole report: window, drift, prediction drift, quality, alerts */
	const char *verdict; /* "drift", "no_drift", "insufficient_data" (static) */
	struct monitor_alert *alerts;
	size_t n_alerts;
	size_t firing;	   /* rules firing after this pass */
	int64_t result_id; /* in the store; 0 when not stored */
	size_t webhook_failures;
};

/*
 * Runs one pass. Configuration errors (a bad rule, a missing log or reference, a model that
 * cannot be loaded) fail before anything is stored. Webhook failures do not fail the pass: they
 * are recorded with the event (and counted in webhook_failures). *out untouched on failure.
 */
int monitor_run(struct monitor_run_result **out, const struct monitor_run_options *o,
		struct error *err);

void monitor_run_result_free(struct monitor_run_result *r);

#endif
