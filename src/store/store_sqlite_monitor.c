/*
 * The SQLite side of monitoring (store/store_monitor.h; tables in schema/0005-monitor.sql): a
 * monitoring pass's result, the rules' states and its alert events written in one BEGIN
 * IMMEDIATE transaction, and reading them back newest first.
 */
#include "util/common.h"
#include "store/store_monitor.h"
#include "store/store_sqlite_internal.h"

#include <math.h>

/* NaN is stored as NULL: SQLite turns a bound NaN into NULL anyway, this says so. */
static void bind_real(sqlite3_stmt *q, int i, double v)
{
	if (isnan(v))
		sqlite3_bind_null(q, i);
	else
		sqlite3_bind_double(q, i, v);
}

/* 0 and below is stored as NULL ("unknown" / "none"). */
static void bind_pos(sqlite3_stmt *q, int i, int64_t v)
{
	if (v > 0)
		sqlite3_bind_int64(q, i, v);
	else
		sqlite3_bind_null(q, i);
}

static double col_real(sqlite3_stmt *q, int i)
{
	return sqlite3_column_type(q, i) == SQLITE_NULL ? NAN : sqlite3_column_double(q, i);
}

static int write_final(struct store *st, sqlite3_stmt *q, const char *what, struct error *err)
{
	int rc = store_sqlite_step_write(st, q, NULL, what, err);

	sqlite3_finalize(q);
	return rc;
}

static int insert_result(struct store *st, int64_t *out_id,
			 const struct store_new_monitor_result *r, int64_t now, struct error *err)
{
	static const char what[] = "recording a monitoring result";
	sqlite3_stmt *q = NULL;
	int rc;

	if ((rc = store_sqlite_prepare(
		 st, &q,
		 "INSERT INTO monitor_results (model, version, digest, window_start, window_end, "
		 "rows, labelled, skipped, drift_share, n_tested, n_drifted, verdict, "
		 "drifted_columns, quality_json, report_json, created_time) VALUES (?1, ?2, ?3, "
		 "?4, "
		 "?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
		 what, err)) < 0)
		return rc;
	store_sqlite_bind_str(q, 1, r->model);
	bind_pos(q, 2, r->version);
	store_sqlite_bind_str(q, 3, r->digest);
	bind_pos(q, 4, r->window_start);
	bind_pos(q, 5, r->window_end);
	sqlite3_bind_int64(q, 6, r->rows);
	sqlite3_bind_int64(q, 7, r->labelled);
	sqlite3_bind_int64(q, 8, r->skipped);
	bind_real(q, 9, r->drift_share);
	sqlite3_bind_int64(q, 10, r->n_tested);
	sqlite3_bind_int64(q, 11, r->n_drifted);
	store_sqlite_bind_str(q, 12, r->verdict);
	store_sqlite_bind_str(q, 13, r->drifted_columns ? r->drifted_columns : "[]");
	store_sqlite_bind_str(q, 14, r->quality_json);
	store_sqlite_bind_str(q, 15, r->report_json);
	sqlite3_bind_int64(q, 16, r->created_time ? r->created_time : now);
	if ((rc = write_final(st, q, what, err)) < 0)
		return rc;
	*out_id = sqlite3_last_insert_rowid(store_sqlite_db(st));
	return 0;
}

static int put_state(struct store *st, const char *model, const struct store_alert_state_put *s,
		     int64_t now, struct error *err)
{
	static const char what[] = "recording an alert state";
	sqlite3_stmt *q = NULL;
	int rc;

	if ((rc = store_sqlite_prepare(st, &q,
				       "INSERT OR REPLACE INTO monitor_alert_state (model, rule, "
				       "when_text, firing, streak, last_value, since_time, "
				       "updated_time) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
				       what, err)) < 0)
		return rc;
	store_sqlite_bind_str(q, 1, model);
	store_sqlite_bind_str(q, 2, s->rule);
	store_sqlite_bind_str(q, 3, s->when);
	sqlite3_bind_int(q, 4, s->firing);
	sqlite3_bind_int64(q, 5, s->streak);
	bind_real(q, 6, s->last_value);
	sqlite3_bind_int64(q, 7, s->since_time ? s->since_time : now);
	sqlite3_bind_int64(q, 8, now);
	return write_final(st, q, what, err);
}

static int insert_event(struct store *st, int64_t *out_id, const char *model, int64_t result_id,
			const struct store_new_alert_event *e, int64_t now, struct error *err)
{
	static const char what[] = "recording an alert event";
	sqlite3_stmt *q = NULL;
	int rc;

	if ((rc =
		 store_sqlite_prepare(st, &q,
				      "INSERT INTO monitor_alert_events (model, version, rule, "
				      "when_text, state, metric, value, threshold, result_id, "
				      "event_time, webhook_status) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
				      "?7, ?8, ?9, ?10, ?11)",
				      what, err)) < 0)
		return rc;
	store_sqlite_bind_str(q, 1, model);
	bind_pos(q, 2, e->version);
	store_sqlite_bind_str(q, 3, e->rule);
	store_sqlite_bind_str(q, 4, e->when);
	store_sqlite_bind_str(q, 5, e->firing ? "firing" : "resolved");
	store_sqlite_bind_str(q, 6, e->metric);
	bind_real(q, 7, e->value);
	bind_real(q, 8, e->threshold);
	sqlite3_bind_int64(q, 9, result_id);
	sqlite3_bind_int64(q, 10, e->event_time ? e->event_time : now);
	store_sqlite_bind_str(q, 11, store_webhook_status_name(e->webhook));
	if ((rc = write_final(st, q, what, err)) < 0)
		return rc;
	if (out_id)
		*out_id = sqlite3_last_insert_rowid(store_sqlite_db(st));
	return 0;
}

int store_sqlite_monitor_record(struct store *st, int64_t *out_result_id, int64_t *event_ids,
				const struct store_new_monitor_result *r,
				const struct store_alert_state_put *states, size_t n_states,
				const struct store_new_alert_event *events, size_t n_events,
				struct error *err)
{
	static const char what[] = "recording a monitoring pass";
	int64_t now = time_now_ms(), id = 0;
	int64_t *ids = n_events ? xcalloc(n_events, sizeof(*ids)) : NULL;
	int rc;

	if ((rc = store_sqlite_begin(st, what, err)) < 0 ||
	    (rc = insert_result(st, &id, r, now, err)) < 0)
		goto out;
	for (size_t i = 0; i < n_states; i++)
		if ((rc = put_state(st, r->model, &states[i], now, err)) < 0)
			goto out;
	for (size_t i = 0; i < n_events; i++)
		if ((rc = insert_event(st, &ids[i], r->model, id, &events[i], now, err)) < 0)
			goto out;
	if ((rc = store_sqlite_commit(st, what, err)) < 0)
		goto out;
	*out_result_id = id;
	if (event_ids && n_events)
		memcpy(event_ids, ids, n_events * sizeof(*ids));
out:
	if (rc < 0)
		store_sqlite_rollback(st);
	free(ids);
	return rc;
}

static void read_result(sqlite3_stmt *q, struct store_monitor_result *r, bool with_report)
{
	r->id = sqlite3_column_int64(q, 0);
	r->model = store_sqlite_col_str(q, 1);
	r->version = sqlite3_column_int64(q, 2);
	r->digest = store_sqlite_col_str(q, 3);
	r->window_start = sqlite3_column_int64(q, 4);
	r->window_end = sqlite3_column_int64(q, 5);
	r->rows = sqlite3_column_int64(q, 6);
	r->labelled = sqlite3_column_int64(q, 7);
	r->skipped = sqlite3_column_int64(q, 8);
	r->drift_share = col_real(q, 9);
	r->n_tested = sqlite3_column_int64(q, 10);
	r->n_drifted = sqlite3_column_int64(q, 11);
	r->verdict = store_sqlite_col_str(q, 12);
	r->drifted_columns = store_sqlite_col_str(q, 13);
	r->quality_json = store_sqlite_col_str(q, 14);
	r->report_json = with_report ? store_sqlite_col_str(q, 15) : NULL;
	r->created_time = sqlite3_column_int64(q, 16);
}

int store_sqlite_monitor_results(struct store *st, struct store_monitor_results *out,
				 const char *model, int64_t limit, bool with_report,
				 struct error *err)
{
	static const char what[] = "reading monitoring results";
	struct store_monitor_results list = STORE_MONITOR_RESULTS_INIT;
	sqlite3_stmt *q = NULL;
	int rc, step;

	/* ?1 IS NULL selects every model; the report column is read only when asked for */
	if ((rc = store_sqlite_prepare(
		 st, &q,
		 with_report
		     ? "SELECT id, model, version, digest, window_start, window_end, rows, "
		       "labelled, skipped, drift_share, n_tested, n_drifted, verdict, "
		       "drifted_columns, quality_json, report_json, created_time FROM "
		       "monitor_results WHERE ?1 IS NULL OR model = ?1 ORDER BY created_time DESC, "
		       "id DESC LIMIT ?2"
		     : "SELECT id, model, version, digest, window_start, window_end, rows, "
		       "labelled, skipped, drift_share, n_tested, n_drifted, verdict, "
		       "drifted_columns, quality_json, NULL, created_time FROM monitor_results "
		       "WHERE ?1 IS NULL OR model = ?1 ORDER BY created_time DESC, id DESC LIMIT "
		       "?2",
		 what, err)) < 0)
		return rc;
	store_sqlite_bind_str(q, 1, model);
	sqlite3_bind_int64(q, 2, limit);
	while ((step = sqlite3_step(q)) == SQLITE_ROW) {
		ALLOC_GROW(list.items, list.nr + 1, list.alloc);
		memset(&list.items[list.nr], 0, sizeof(list.items[0]));
		read_result(q, &list.items[list.nr++], with_report);
	}
	if (step != SQLITE_DONE) {
		rc = store_sqlite_error(st, err, "%s", what);
		store_monitor_results_release(&list);
	} else {
		store_monitor_results_release(out);
		*out = list;
	}
	sqlite3_finalize(q);
	return rc;
}

int store_sqlite_alert_state_get(struct store *st, struct store_alert_state *out, const char *model,
				 const char *rule, struct error *err)
{
	static const char what[] = "reading an alert state";
	sqlite3_stmt *q = NULL;
	int rc, step;

	if ((rc = store_sqlite_prepare(st, &q,
				       "SELECT when_text, firing, streak, last_value, since_time, "
				       "updated_time FROM monitor_alert_state WHERE model = ?1 AND "
				       "rule = ?2",
				       what, err)) < 0)
		return rc;
	store_sqlite_bind_str(q, 1, model);
	store_sqlite_bind_str(q, 2, rule);
	step = sqlite3_step(q);
	if (step == SQLITE_ROW) {
		store_alert_state_release(out);
		out->model = xstrdup(model);
		out->rule = xstrdup(rule);
		out->when = store_sqlite_col_str(q, 0);
		out->firing = sqlite3_column_int(q, 1) != 0;
		out->streak = sqlite3_column_int64(q, 2);
		out->last_value = col_real(q, 3);
		out->since_time = sqlite3_column_int64(q, 4);
		out->updated_time = sqlite3_column_int64(q, 5);
	} else if (step == SQLITE_DONE) {
		rc = error_set(err, ERR_NOTFOUND, "alert rule '%s' of model '%s' has no state yet",
			       rule, model);
	} else {
		rc = store_sqlite_error(st, err, "%s", what);
	}
	sqlite3_finalize(q);
	return rc;
}

int store_sqlite_alert_event_set_webhook(struct store *st, int64_t event_id, const char *status,
					 const char *detail, struct error *err)
{
	static const char what[] = "recording a webhook delivery";
	sqlite3_stmt *q = NULL;
	int rc, changes = 0;

	if ((rc = store_sqlite_prepare(st, &q,
				       "UPDATE monitor_alert_events SET webhook_status = ?1, "
				       "webhook_detail = ?2 WHERE id = ?3",
				       what, err)) < 0)
		return rc;
	store_sqlite_bind_str(q, 1, status);
	store_sqlite_bind_str(q, 2, detail);
	sqlite3_bind_int64(q, 3, event_id);
	rc = store_sqlite_step_write(st, q, &changes, what, err);
	sqlite3_finalize(q);
	if (!rc && !changes)
		rc = error_set(err, ERR_NOTFOUND, "no alert event with id %" PRId64, event_id);
	return rc;
}

static enum store_webhook_status webhook_parse(const char *s)
{
	static const enum store_webhook_status all[] = { STORE_WEBHOOK_NONE, STORE_WEBHOOK_PENDING,
							 STORE_WEBHOOK_DELIVERED,
							 STORE_WEBHOOK_FAILED };

	for (size_t i = 0; s && i < ARRAY_SIZE(all); i++)
		if (!strcmp(s, store_webhook_status_name(all[i])))
			return all[i];
	return STORE_WEBHOOK_NONE;
}

static void read_event(sqlite3_stmt *q, struct store_alert_event *e)
{
	const char *state = (const char *)sqlite3_column_text(q, 5);

	e->id = sqlite3_column_int64(q, 0);
	e->model = store_sqlite_col_str(q, 1);
	e->version = sqlite3_column_int64(q, 2);
	e->rule = store_sqlite_col_str(q, 3);
	e->when = store_sqlite_col_str(q, 4);
	e->firing = state && !strcmp(state, "firing");
	e->metric = store_sqlite_col_str(q, 6);
	e->value = col_real(q, 7);
	e->threshold = col_real(q, 8);
	e->result_id = sqlite3_column_int64(q, 9);
	e->event_time = sqlite3_column_int64(q, 10);
	e->webhook = webhook_parse((const char *)sqlite3_column_text(q, 11));
	e->webhook_detail = store_sqlite_col_str(q, 12);
}

int store_sqlite_alert_events(struct store *st, struct store_alert_events *out, const char *model,
			      int64_t limit, struct error *err)
{
	static const char what[] = "reading alert events";
	struct store_alert_events list = STORE_ALERT_EVENTS_INIT;
	sqlite3_stmt *q = NULL;
	int rc, step;

	if ((rc = store_sqlite_prepare(
		 st, &q,
		 "SELECT id, model, version, rule, when_text, state, metric, "
		 "value, threshold, result_id, event_time, webhook_status, "
		 "webhook_detail FROM monitor_alert_events WHERE ?1 IS NULL OR "
		 "model = ?1 ORDER BY event_time DESC, id DESC LIMIT ?2",
		 what, err)) < 0)
		return rc;
	store_sqlite_bind_str(q, 1, model);
	sqlite3_bind_int64(q, 2, limit);
	while ((step = sqlite3_step(q)) == SQLITE_ROW) {
		ALLOC_GROW(list.items, list.nr + 1, list.alloc);
		memset(&list.items[list.nr], 0, sizeof(list.items[0]));
		read_event(q, &list.items[list.nr++]);
	}
	if (step != SQLITE_DONE) {
		rc = store_sqlite_error(st, err, "%s", what);
		store_alert_events_release(&list);
	} else {
		store_alert_events_release(out);
		*out = list;
	}
	sqlite3_finalize(q);
	return rc;
}
