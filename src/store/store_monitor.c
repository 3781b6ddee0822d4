/*
 * The monitoring front end (store/store_monitor.h): the argument checks every backend would
 * make the same way, dispatch to the SQLite backend, and releasing what it hands out.
 */
#include "util/common.h"
#include "store/store_internal.h"
#include "store/store_monitor.h"

#define RESULTS_DEFAULT 100
#define RESULTS_MAX 100000

static const char *const webhook_names[] = {
	[STORE_WEBHOOK_NONE] = "none",
	[STORE_WEBHOOK_PENDING] = "pending",
	[STORE_WEBHOOK_DELIVERED] = "delivered",
	[STORE_WEBHOOK_FAILED] = "failed",
};

const char *store_webhook_status_name(enum store_webhook_status s)
{
	if ((size_t)s >= ARRAY_SIZE(webhook_names))
		BUG("unknown webhook status %d", (int)s);
	return webhook_names[s];
}

/* Only SQLite keeps monitoring results for now. */
static int supported(const struct store *st, struct error *err)
{
	if (st->ops == &store_sqlite_ops)
		return 0;
	return error_set(err, ERR_UNSUPPORTED, "the %s store keeps no monitoring results",
			 st->ops->name);
}

static int check_limit(int64_t *limit, struct error *err)
{
	if (*limit < 0 || *limit > RESULTS_MAX)
		return error_set(err, ERR_INVALID, "limit %" PRId64 " is out of range (0..%d)",
				 *limit, RESULTS_MAX);
	if (!*limit)
		*limit = RESULTS_DEFAULT;
	return 0;
}

static int check_result(const struct store_new_monitor_result *r, struct error *err)
{
	static const char *const verdicts[] = { "drift", "no_drift", "insufficient_data" };
	bool known = false;

	if (!r->model || !*r->model)
		return error_set(err, ERR_INVALID, "a monitoring result needs a model name");
	for (size_t i = 0; r->verdict && i < ARRAY_SIZE(verdicts); i++)
		known |= !strcmp(r->verdict, verdicts[i]);
	if (!known)
		return error_set(err, ERR_INVALID,
				 "monitoring verdict '%s' is not drift, no_drift or "
				 "insufficient_data",
				 r->verdict ? r->verdict : "");
	if (r->rows < 0 || r->labelled < 0 || r->labelled > r->rows || r->skipped < 0)
		return error_set(err, ERR_INVALID,
				 "monitoring counts do not add up: %" PRId64 " rows, %" PRId64
				 " labelled, %" PRId64 " skipped",
				 r->rows, r->labelled, r->skipped);
	if (r->n_tested < 0 || r->n_drifted < 0 || r->n_drifted > r->n_tested)
		return error_set(err, ERR_INVALID,
				 "monitoring counts do not add up: %" PRId64 " drifted of %" PRId64
				 " tested columns",
				 r->n_drifted, r->n_tested);
	return 0;
}

int store_monitor_record(struct store *st, int64_t *out_result_id, int64_t *event_ids,
			 const struct store_new_monitor_result *r,
			 const struct store_alert_state_put *states, size_t n_states,
			 const struct store_new_alert_event *events, size_t n_events,
			 struct error *err)
{
	int rc;

	if ((rc = supported(st, err)) < 0 || (rc = check_result(r, err)) < 0)
		return rc;
	for (size_t i = 0; i < n_states; i++)
		if (!states[i].rule || !*states[i].rule || !states[i].when || states[i].streak < 0)
			return error_set(err, ERR_INVALID,
					 "alert state %zu needs a rule, its text and a streak >= 0",
					 i + 1);
	for (size_t i = 0; i < n_events; i++)
		if (!events[i].rule || !*events[i].rule || !events[i].when ||
		    (size_t)events[i].webhook >= ARRAY_SIZE(webhook_names))
			return error_set(err, ERR_INVALID,
					 "alert event %zu needs a rule, its text and a webhook "
					 "status",
					 i + 1);
	return store_sqlite_monitor_record(st, out_result_id, event_ids, r, states, n_states,
					   events, n_events, err);
}

int store_monitor_results(struct store *st, struct store_monitor_results *out, const char *model,
			  int64_t limit, bool with_report, struct error *err)
{
	int rc;

	if ((rc = supported(st, err)) < 0 || (rc = check_limit(&limit, err)) < 0)
		return rc;
	return store_sqlite_monitor_results(st, out, model, limit, with_report, err);
}

int store_alert_state_get(struct store *st, struct store_alert_state *out, const char *model,
			  const char *rule, struct error *err)
{
	int rc;

	if ((rc = supported(st, err)) < 0)
		return rc;
	if (!model || !rule)
		BUG("store_alert_state_get without model or rule");
	return store_sqlite_alert_state_get(st, out, model, rule, err);
}

int store_alert_event_set_webhook(struct store *st, int64_t event_id,
				  enum store_webhook_status status, const char *detail,
				  struct error *err)
{
	int rc;

	if ((rc = supported(st, err)) < 0)
		return rc;
	return store_sqlite_alert_event_set_webhook(st, event_id, store_webhook_status_name(status),
						    detail, err);
}

int store_alert_events(struct store *st, struct store_alert_events *out, const char *model,
		       int64_t limit, struct error *err)
{
	int rc;

	if ((rc = supported(st, err)) < 0 || (rc = check_limit(&limit, err)) < 0)
		return rc;
	return store_sqlite_alert_events(st, out, model, limit, err);
}

void store_monitor_result_release(struct store_monitor_result *r)
{
	if (!r)
		return;
	free(r->model);
	free(r->digest);
	free(r->verdict);
	free(r->drifted_columns);
	free(r->quality_json);
	free(r->report_json);
	memset(r, 0, sizeof(*r));
}

void store_monitor_results_release(struct store_monitor_results *list)
{
	if (!list)
		return;
	for (size_t i = 0; i < list->nr; i++)
		store_monitor_result_release(&list->items[i]);
	free(list->items);
	memset(list, 0, sizeof(*list));
}

void store_alert_state_release(struct store_alert_state *s)
{
	if (!s)
		return;
	free(s->model);
	free(s->rule);
	free(s->when);
	memset(s, 0, sizeof(*s));
}

void store_alert_event_release(struct store_alert_event *e)
{
	if (!e)
		return;
	free(e->model);
	free(e->rule);
	free(e->when);
	free(e->metric);
	free(e->webhook_detail);
	memset(e, 0, sizeof(*e));
}

void store_alert_events_release(struct store_alert_events *list)
{
	if (!list)
		return;
	for (size_t i = 0; i < list->nr; i++)
		store_alert_event_release(&list->items[i]);
	free(list->items);
	memset(list, 0, sizeof(*list));
}
