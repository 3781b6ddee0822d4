/*
 * The monitoring part of the metadata store: the result of every `ferry monitor run` pass over a
 * window of production traffic (drift, live quality, the whole report), the alert rules' state
 * per (model, rule), and alert events with their webhook delivery (schema 0005-monitor.sql).
 *
 * The contract of store.h holds here too: 0 or a negative ERR_* with err filled; out-parameters
 * untouched on failure; strings borrowed for the call; results released with *_release (no-op
 * on a zero-initialised value); times in ms since the epoch. Every write is one transaction.
 * Backends without monitoring (http, for now) answer ERR_UNSUPPORTED.
 */
#ifndef FERRY_STORE_STORE_MONITOR_H
#define FERRY_STORE_STORE_MONITOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

/* Results ------------------------------------------------------------------------------------ */

/* What store_monitor_record stores; NULL strings are stored as absent. */
struct store_new_monitor_result {
	const char *model;		  /* required */
	int64_t version;		  /* <= 0: unknown */
	const char *digest;		  /* the model's artifact digest */
	int64_t window_start, window_end; /* 0 (both): an empty window */
	int64_t rows, labelled, skipped;  /* skipped: damaged or unusable records */
	double drift_share;		  /* n_drifted / n_tested; NaN when nothing was tested */
	int64_t n_tested, n_drifted;
	const char *verdict;	     /* "drift", "no_drift" or "insufficient_data" */
	const char *drifted_columns; /* JSON array of names; NULL: [] */
	const char *quality_json;    /* JSON object, or NULL without labelled rows */
	const char *report_json;     /* JSON object */
	int64_t created_time;	     /* 0: now */
};

struct store_monitor_result {
	int64_t id;
	char *model;
	int64_t version; /* 0: unknown */
	char *digest;
	int64_t window_start, window_end;
	int64_t rows, labelled, skipped;
	double drift_share; /* NaN when nothing was tested */
	int64_t n_tested, n_drifted;
	char *verdict;
	char *drifted_columns;
	char *quality_json;
	char *report_json; /* NULL unless asked for (store_monitor_results' with_report) */
	int64_t created_time;
};
void store_monitor_result_release(struct store_monitor_result *r);

struct store_monitor_results {
	struct store_monitor_result *items;
	size_t nr, alloc;
};
#define STORE_MONITOR_RESULTS_INIT                                                                 \
	{                                                                                          \
		NULL, 0, 0                                                                         \
	}
void store_monitor_results_release(struct store_monitor_results *list);

/*
 * The results of model (NULL: every model), newest first (created_time, then id), at most limit
 * of them (0: 100; ERR_INVALID below 0 or above 100000). report_json is read only with
 * with_report (it can be large).
 */
int store_monitor_results(struct store *st, struct store_monitor_results *out, const char *model,
			  int64_t limit, bool with_report, struct error *err);

/* Alert state and events --------------------------------------------------------------------- */

/* Where a rule stands for a model (monitor/alerts.h decides the transitions). */
struct store_alert_state {
	char *model;
	char *rule;
	char *when; /* the rule's text when last evaluated */
	bool firing;
	int64_t streak;	   /* consecutive windows arguing for the other state */
	double last_value; /* NaN: unknown */
	int64_t since_time;
	int64_t updated_time;
};
void store_alert_state_release(struct store_alert_state *s);

/* ERR_NOTFOUND (no message needed: "never evaluated") when the rule has no state yet. */
int store_alert_state_get(struct store *st, struct store_alert_state *out, const char *model,
			  const char *rule, struct error *err);

/* A state to write (insert or replace) with a result. */
struct store_alert_state_put {
	const char *rule;
	const char *when;
	bool firing;
	int64_t streak;
	double last_value;
	int64_t since_time;
};

enum store_webhook_status {
	STORE_WEBHOOK_NONE,	 /* no webhook configured */
	STORE_WEBHOOK_PENDING,	 /* recorded, delivery not (yet) confirmed */
	STORE_WEBHOOK_DELIVERED, /* a 2xx answer */
	STORE_WEBHOOK_FAILED,	 /* every attempt failed: see detail */
};
/* "none", "pending", "delivered", "failed". */
const char *store_webhook_status_name(enum store_webhook_status s);

/* An alert event to record with a result. */
struct store_new_alert_event {
	int64_t version; /* <= 0: unknown */
	const char *rule;
	const char *when;
	bool firing;	    /* true: "firing", false: "resolved" */
	const char *metric; /* the condition that decided; may be NULL */
	double value;	    /* NaN: unknown */
	double threshold;
	int64_t event_time; /* 0: now */
	enum store_webhook_status webhook;
};

struct store_alert_event {
	int64_t id;
	char *model;
	int64_t version; /* 0: unknown */
	char *rule;
	char *when;
	bool firing;
	char *metric;
	double value, threshold; /* NaN: unknown */
	int64_t result_id;	 /* 0: none */
	int64_t event_time;
	enum store_webhook_status webhook;
	char *webhook_detail;
};
void store_alert_event_release(struct store_alert_event *e);

struct store_alert_events {
	struct store_alert_event *items;
	size_t nr, alloc;
};
#define STORE_ALERT_EVENTS_INIT                                                                    \
	{                                                                                          \
		NULL, 0, 0                                                                         \
	}
void store_alert_events_release(struct store_alert_events *list);

/*
 * Records one monitoring pass in ONE transaction: the result r, the rules' new states (for
 * r->model) and the alert events of this pass (linked to the result). *out_result_id gets the
 * result's id and event_ids (n_events entries, may be NULL) the events' ids, for
 * store_alert_event_set_webhook. ERR_INVALID (nothing written) for a missing model, a verdict
 * not among the three, rows or counts that do not add up, an event or state without a rule.
 */
int store_monitor_record(struct store *st, int64_t *out_result_id, int64_t *event_ids,
			 const struct store_new_monitor_result *r,
			 const struct store_alert_state_put *states, size_t n_states,
			 const struct store_new_alert_event *events, size_t n_events,
			 struct error *err);

/* Sets how an event's webhook went (detail: the HTTP status or error; may be NULL). */
int store_alert_event_set_webhook(struct store *st, int64_t event_id,
				  enum store_webhook_status status, const char *detail,
				  struct error *err);

/* The alert events of model (NULL: every model), newest first, at most limit (as above). */
int store_alert_events(struct store *st, struct store_alert_events *out, const char *model,
		       int64_t limit, struct error *err);

#endif
