/*
 * The monitoring part of the metadata store (store/store_monitor.h, SQLite backend): results
 * newest first per model with limits, alert states replaced per (model, rule), events linked to
 * their result with webhook delivery updates, one transaction for a pass (a failing event
 * leaves nothing behind), and the http backend's ERR_UNSUPPORTED. Rows are cross-checked with a
 * separate raw SQLite connection.
 */
#include "util/common.h"
#include "store/store.h"
#include "store/store_monitor.h"
#include "helpers.h"

#include <math.h>
#include <sqlite3.h>

struct fixture {
	char *dir;
	char *db;
	struct store *st;
};

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	struct error err = ERROR_INIT;
	char *uri;

	f->dir = test_tmpdir();
	f->db = test_path(f->dir, "ferry.db");
	uri = xstrfmt("sqlite:%s", f->db);
	assert_ok(store_open(&f->st, uri, &err));
	free(uri);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	store_close(f->st);
	test_tmpdir_remove(f->dir);
	free(f->db);
	free(f);
	return 0;
}

static int64_t raw_int(const char *db, const char *sql)
{
	sqlite3 *h = NULL;
	sqlite3_stmt *q = NULL;
	int64_t v = -1;

	assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &q, NULL), SQLITE_OK);
	if (sqlite3_step(q) == SQLITE_ROW)
		v = sqlite3_column_type(q, 0) == SQLITE_NULL ? -2 : sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	sqlite3_close(h);
	return v;
}

static struct store_new_monitor_result result(const char *model, int64_t created, int64_t rows)
{
	struct store_new_monitor_result r = {
		.model = model,
		.version = 2,
		.digest = "sha256:ab",
		.window_start = created - 1000,
		.window_end = created - 10,
		.rows = rows,
		.labelled = rows / 2,
		.drift_share = 3.0 / 19.0,
		.n_tested = 19,
		.n_drifted = 3,
		.verdict = "no_drift",
		.drifted_columns = "[\"a\",\"b\",\"c\"]",
		.quality_json = "{\"f1\":0.5}",
		.report_json = "{\"big\":true}",
		.created_time = created,
	};
	return r;
}

static void test_results_newest_first(void **state)
{
	struct fixture *f = *state;
	struct error err = ERROR_INIT;
	struct store_monitor_results list = STORE_MONITOR_RESULTS_INIT;
	int64_t id;

	for (int i = 1; i <= 5; i++) {
		struct store_new_monitor_result r = result(i % 2 ? "churn" : "other", 1000 * i, i);

		assert_ok(store_monitor_record(f->st, &id, NULL, &r, NULL, 0, NULL, 0, &err));
		assert_int_equal(id, i);
	}
	assert_ok(store_monitor_results(f->st, &list, "churn", 0, false, &err));
	assert_int_equal(list.nr, 3);
	assert_int_equal(list.items[0].created_time, 5000);
	assert_int_equal(list.items[1].created_time, 3000);
	assert_int_equal(list.items[2].created_time, 1000);
	assert_string_equal(list.items[0].model, "churn");
	assert_int_equal(list.items[0].version, 2);
	assert_int_equal(list.items[0].rows, 5);
	assert_int_equal(list.items[0].labelled, 2);
	assert_int_equal(list.items[0].window_start, 4000);
	assert_true(fabs(list.items[0].drift_share - 3.0 / 19.0) < 1e-15);
	assert_string_equal(list.items[0].verdict, "no_drift");
	assert_string_equal(list.items[0].drifted_columns, "[\"a\",\"b\",\"c\"]");
	assert_string_equal(list.items[0].quality_json, "{\"f1\":0.5}");
	assert_null(list.items[0].report_json);
	assert_ok(store_monitor_results(f->st, &list, NULL, 2, true, &err));
	assert_int_equal(list.nr, 2);
	assert_int_equal(list.items[0].created_time, 5000);
	assert_string_equal(list.items[1].model, "other");
	assert_string_equal(list.items[1].report_json, "{\"big\":true}");
	assert_ok(store_monitor_results(f->st, &list, "nobody", 0, false, &err));
	assert_int_equal(list.nr, 0);
	assert_err(store_monitor_results(f->st, &list, NULL, -1, false, &err), ERR_INVALID,
		   "limit -1");
	store_monitor_results_release(&list);
	assert_int_equal(raw_int(f->db, "SELECT count(*) FROM monitor_results"), 5);
}

static void test_empty_window_and_nan(void **state)
{
	struct fixture *f = *state;
	struct error err = ERROR_INIT;
	struct store_monitor_results list = STORE_MONITOR_RESULTS_INIT;
	struct store_new_monitor_result r = { .model = "m",
					      .verdict = "insufficient_data",
					      .drift_share = NAN };
	int64_t id;

	assert_ok(store_monitor_record(f->st, &id, NULL, &r, NULL, 0, NULL, 0, &err));
	assert_int_equal(raw_int(f->db, "SELECT drift_share FROM monitor_results"), -2);
	assert_int_equal(raw_int(f->db, "SELECT window_start FROM monitor_results"), -2);
	assert_int_equal(raw_int(f->db, "SELECT version FROM monitor_results"), -2);
	assert_ok(store_monitor_results(f->st, &list, "m", 0, false, &err));
	assert_int_equal(list.nr, 1);
	assert_true(isnan(list.items[0].drift_share));
	assert_int_equal(list.items[0].version, 0);
	assert_string_equal(list.items[0].drifted_columns, "[]");
	assert_null(list.items[0].quality_json);
	assert_true(list.items[0].created_time > 0);
	store_monitor_results_release(&list);
}

static void test_invalid_results(void **state)
{
	struct fixture *f = *state;
	struct error err = ERROR_INIT;
	struct store_new_monitor_result r = result("m", 1, 10);
	int64_t id = 0;

	r.verdict = "maybe";
	assert_err(store_monitor_record(f->st, &id, NULL, &r, NULL, 0, NULL, 0, &err), ERR_INVALID,
		   "'maybe'");
	r = result("m", 1, 10);
	r.labelled = 11;
	assert_err(store_monitor_record(f->st, &id, NULL, &r, NULL, 0, NULL, 0, &err), ERR_INVALID,
		   "11 labelled");
	r = result("m", 1, 10);
	r.n_drifted = 20;
	assert_err(store_monitor_record(f->st, &id, NULL, &r, NULL, 0, NULL, 0, &err), ERR_INVALID,
		   "20 drifted of 19");
	r = result("", 1, 10);
	assert_err(store_monitor_record(f->st, &id, NULL, &r, NULL, 0, NULL, 0, &err), ERR_INVALID,
		   "model name");
	assert_int_equal(id, 0);
	assert_int_equal(raw_int(f->db, "SELECT count(*) FROM monitor_results"), 0);
}

static void test_states_and_events(void **state)
{
	struct fixture *f = *state;
	struct error err = ERROR_INIT;
	struct store_new_monitor_result r = result("churn", 5000, 100);
	struct store_alert_state_put puts[2] = {
		{ "quality", "f1 < 0.7 for 1 window", true, 0, 0.61, 4000 },
		{ "drift", "drift_share >= 0.5", false, 1, 0.6, 0 },
	};
	struct store_new_alert_event ev = { .version = 2,
					    .rule = "quality",
					    .when = "f1 < 0.7 for 1 window",
					    .firing = true,
					    .metric = "f1",
					    .value = 0.61,
					    .threshold = 0.7,
					    .webhook = STORE_WEBHOOK_PENDING };
	struct store_alert_state s = { 0 };
	struct store_alert_events events = STORE_ALERT_EVENTS_INIT;
	int64_t id, eid = 0;

	assert_err(store_alert_state_get(f->st, &s, "churn", "quality", &err), ERR_NOTFOUND,
		   "no state yet");
	assert_ok(store_monitor_record(f->st, &id, &eid, &r, puts, 2, &ev, 1, &err));
	assert_true(eid > 0);
	assert_ok(store_alert_state_get(f->st, &s, "churn", "quality", &err));
	assert_true(s.firing);
	assert_int_equal(s.streak, 0);
	assert_string_equal(s.when, "f1 < 0.7 for 1 window");
	assert_true(s.last_value == 0.61);
	assert_int_equal(s.since_time, 4000);
	assert_ok(store_alert_state_get(f->st, &s, "churn", "drift", &err));
	assert_false(s.firing);
	assert_int_equal(s.streak, 1);
	assert_true(s.since_time > 0); /* 0: now */

	/* a second pass replaces the state and resolves */
	puts[0].firing = false;
	puts[0].last_value = 0.8;
	ev.firing = false;
	ev.value = 0.8;
	ev.webhook = STORE_WEBHOOK_NONE;
	r.created_time = 6000;
	assert_ok(store_monitor_record(f->st, &id, NULL, &r, puts, 1, &ev, 1, &err));
	assert_ok(store_alert_state_get(f->st, &s, "churn", "quality", &err));
	assert_false(s.firing);
	store_alert_state_release(&s);
	assert_int_equal(raw_int(f->db, "SELECT count(*) FROM monitor_alert_state"), 2);

	assert_ok(
	    store_alert_event_set_webhook(f->st, eid, STORE_WEBHOOK_DELIVERED, "HTTP 200", &err));
	assert_err(store_alert_event_set_webhook(f->st, 999, STORE_WEBHOOK_FAILED, NULL, &err),
		   ERR_NOTFOUND, "999");
	assert_ok(store_alert_events(f->st, &events, "churn", 0, &err));
	assert_int_equal(events.nr, 2);
	assert_false(events.items[0].firing);
	assert_int_equal(events.items[0].webhook, STORE_WEBHOOK_NONE);
	assert_int_equal(events.items[0].result_id, id);
	assert_true(events.items[1].firing);
	assert_string_equal(events.items[1].rule, "quality");
	assert_string_equal(events.items[1].metric, "f1");
	assert_true(events.items[1].value == 0.61 && events.items[1].threshold == 0.7);
	assert_int_equal(events.items[1].version, 2);
	assert_int_equal(events.items[1].webhook, STORE_WEBHOOK_DELIVERED);
	assert_string_equal(events.items[1].webhook_detail, "HTTP 200");
	assert_ok(store_alert_events(f->st, &events, "churn", 1, &err));
	assert_int_equal(events.nr, 1);
	assert_ok(store_alert_events(f->st, &events, "other", 0, &err));
	assert_int_equal(events.nr, 0);
	store_alert_events_release(&events);
}

/* A pass is all or nothing: a failing write (a CHECK here) leaves no result and no state. */
static void test_pass_is_one_transaction(void **state)
{
	struct fixture *f = *state;
	struct error err = ERROR_INIT;
	struct store_new_monitor_result r = result("churn", 5000, 100);
	struct store_alert_state_put put = { "quality", "f1 < 0.7", true, 0, 0.5, 0 };
	struct store_new_alert_event ev = { .rule = "quality", .when = "f1 < 0.7", .firing = true };
	int64_t id = -7;
	sqlite3 *h = NULL;

	/* break event inserts behind the store's back */
	assert_int_equal(sqlite3_open(f->db, &h), SQLITE_OK);
	assert_int_equal(sqlite3_exec(h,
				      "CREATE TRIGGER no_events BEFORE INSERT ON "
				      "monitor_alert_events BEGIN SELECT RAISE(ABORT, 'no events "
				      "today'); END",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(h);
	assert_err(store_monitor_record(f->st, &id, NULL, &r, &put, 1, &ev, 1, &err), ERR_STORE,
		   "no events today");
	assert_int_equal(id, -7);
	assert_int_equal(raw_int(f->db, "SELECT count(*) FROM monitor_results"), 0);
	assert_int_equal(raw_int(f->db, "SELECT count(*) FROM monitor_alert_state"), 0);
}

static void test_http_unsupported(void **state)
{
	struct error err = ERROR_INIT;
	struct store *st = NULL;
	struct store_monitor_results list = STORE_MONITOR_RESULTS_INIT;

	(void)state;
	/* nothing is sent before the first call, and the monitoring ops send nothing at all */
	assert_ok(store_open(&st, "http://127.0.0.1:9", &err));
	assert_err(store_monitor_results(st, &list, NULL, 0, false, &err), ERR_UNSUPPORTED,
		   "keeps no monitoring results");
	store_close(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_results_newest_first, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_window_and_nan, setup, teardown),
		cmocka_unit_test_setup_teardown(test_invalid_results, setup, teardown),
		cmocka_unit_test_setup_teardown(test_states_and_events, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pass_is_one_transaction, setup, teardown),
		cmocka_unit_test(test_http_unsupported),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
