/*
 * The http store: its JSON mapping (MLflow's error codes, proto3 doubles, Run and Experiment
 * messages), then the store API end to end against an in-process `ferry server` (MLflow API on
 * a SQLite store), and retries against a server that answers 503 first.
 */
#include "util/common.h"
#include "api/mlflow.h"
#include "store/search.h"
#include "store/store.h"
#include "store/store_http_internal.h"
#include "track/filter.h"
#include "helpers.h"

#include <jansson.h>
#include <math.h>
#include <stdatomic.h>

struct fixture {
	char *dir, *url;
	struct mlflow_api *api;
	struct http_server *server;
	struct http_routes routes;
	struct store *st;
};

static struct fixture fx;

static void start(const struct http_routes *routes)
{
	struct http_options opts = HTTP_OPTIONS_INIT;
	struct error err = ERROR_INIT;

	opts.threads = 2;
	if (http_server_start(&fx.server, &opts, routes, &err))
		fail_msg("http_server_start: %s", err.msg);
	fx.url = xstrfmt("http://127.0.0.1:%u/", (unsigned)http_server_port(fx.server));
	if (store_open(&fx.st, fx.url, &err))
		fail_msg("store_open: %s", err.msg);
}

static int setup(void **state)
{
	struct error err = ERROR_INIT;
	char *uri;

	(void)state;
	memset(&fx, 0, sizeof(fx));
	fx.dir = test_tmpdir();
	uri = xstrfmt("sqlite:%s/ferry.db", fx.dir);
	if (mlflow_api_new(&fx.api, uri, 3, &err))
		fail_msg("mlflow_api_new: %s", err.msg);
	free(uri);
	mlflow_routes(&fx.routes, fx.api);
	start(&fx.routes);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	store_close(fx.st);
	http_server_stop(fx.server);
	mlflow_api_free(fx.api);
	if (fx.dir)
		test_tmpdir_remove(fx.dir);
	free(fx.url);
	memset(&fx, 0, sizeof(fx));
	return 0;
}

#define OK(call)                                                                                   \
	do {                                                                                       \
		struct error e_ = ERROR_INIT;                                                      \
		struct error *err = &e_;                                                           \
		if ((call) != 0)                                                                   \
			fail_msg("%s: %s", #call, e_.msg);                                         \
	} while (0)

#define FAILS(code, call, text)                                                                    \
	do {                                                                                       \
		struct error e_ = ERROR_INIT;                                                      \
		struct error *err = &e_;                                                           \
		int rc_ = (call);                                                                  \
		if (rc_ != (code) || !strstr(e_.msg, (text)))                                      \
			fail_msg("%s: got %d '%s', expected %d '%s'", #call, rc_, e_.msg, (code),  \
				 (text));                                                          \
	} while (0)

/* JSON mapping -------------------------------------------------------------------------------- */

static void test_error_codes(void **state)
{
	(void)state;
	assert_int_equal(store_http_error_code("RESOURCE_DOES_NOT_EXIST", 404, "x"), ERR_NOTFOUND);
	assert_int_equal(store_http_error_code("RESOURCE_ALREADY_EXISTS", 400, "x"), ERR_EXISTS);
	assert_int_equal(store_http_error_code("INVALID_PARAMETER_VALUE", 400, "bad key"),
			 ERR_INVALID);
	assert_int_equal(store_http_error_code("INVALID_PARAMETER_VALUE", 400,
					       "Changing param values is not allowed. Param "
					       "with key='a' was already logged"),
			 ERR_CONFLICT);
	assert_int_equal(store_http_error_code("BAD_REQUEST", 400, "x"), ERR_INVALID);
	assert_int_equal(store_http_error_code("BAD_REQUEST", 405, "x"), ERR_UNSUPPORTED);
	assert_int_equal(store_http_error_code("INTERNAL_ERROR", 500, "x"), ERR_STORE);
	assert_int_equal(store_http_error_code(NULL, 502, NULL), ERR_STORE);
	assert_string_equal(store_http_view_name(0), "ACTIVE_ONLY");
	assert_string_equal(store_http_view_name(STORE_VIEW_DELETED), "DELETED_ONLY");
	assert_string_equal(store_http_view_name(STORE_VIEW_ALL), "ALL");
}

static void test_doubles(void **state)
{
	const double values[] = { 0.25, -3, NAN, INFINITY, -INFINITY };
	double d = 0;
	int64_t i = 0;

	(void)state;
	for (size_t k = 0; k < ARRAY_SIZE(values); k++) {
		json_t *j = store_http_double_json(values[k]);

		assert_true(store_http_json_double(j, &d));
		if (isnan(values[k]))
			assert_true(isnan(d));
		else
			assert_true(d == values[k]);
		json_decref(j);
	}
	{
		json_t *s = json_string("1.5"), *bad = json_string("x"), *n = json_string("-42");

		assert_true(store_http_json_double(s, &d));
		assert_true(d == 1.5);
		assert_false(store_http_json_double(bad, &d));
		assert_true(store_http_json_int64(n, &i));
		assert_int_equal(i, -42);
		assert_false(store_http_json_int64(bad, &i));
		json_decref(s);
		json_decref(bad);
		json_decref(n);
	}
}

static void test_parse_messages(void **state)
{
	static const char run_text[] =
	    "{\"info\": {\"run_uuid\": \"0123456789abcdef0123456789abcdef\", \"experiment_id\": "
	    "\"3\", \"run_name\": \"r\", \"user_id\": \"u\", \"status\": \"FAILED\", "
	    "\"start_time\": "
	    "\"1700000000000\", \"end_time\": 1700000000500, \"lifecycle_stage\": \"deleted\"},"
	    " \"data\": {\"metrics\": [{\"key\": \"b\", \"value\": \"NaN\", \"timestamp\": 5, "
	    "\"step\": 2}, {\"key\": \"a\", \"value\": 1.5}], \"tags\": [{\"key\": \"z\", "
	    "\"value\": \"1\"}, {\"key\": \"" STORE_HTTP_TAG_GIT_COMMIT "\", \"value\": \"abc\"}, "
	    "{\"key\": \"" STORE_HTTP_TAG_DIRTY
	    "\", \"value\": \"true\"}, {\"key\": \"" STORE_HTTP_TAG_COMMAND
	    "\", \"value\": \"ferry train\"}]}, \"inputs\": {\"dataset_inputs\": [{\"tags\": "
	    "[{\"key\": \"mlflow.data.context\", \"value\": \"training\"}], \"dataset\": "
	    "{\"name\": "
	    "\"d\", \"digest\": \"sha256:1\", \"source_type\": \"local\", \"source\": \"\"}}]}}";
	struct store_run run = STORE_RUN_INIT;
	struct store_pairs tags = STORE_PAIRS_INIT;
	struct store_metric_points points = STORE_METRIC_POINTS_INIT;
	struct store_datasets inputs = STORE_DATASETS_INIT;
	struct store_experiment exp = STORE_EXPERIMENT_INIT;
	json_t *j = json_loads(run_text, 0, NULL), *e;

	(void)state;
	assert_non_null(j);
	OK(store_http_parse_run(&run, j, err));
	assert_string_equal(run.id, "0123456789abcdef0123456789abcdef");
	assert_string_equal(run.experiment_id, "3");
	assert_int_equal(run.status, STORE_RUN_FAILED);
	assert_int_equal(run.start_time, 1700000000000);
	assert_int_equal(run.end_time, 1700000000500);
	assert_true(run.deleted);
	assert_string_equal(run.source_git_commit, "abc");
	assert_true(run.source_dirty);
	assert_string_equal(run.command, "ferry train");
	assert_null(run.artifact_uri);
	OK(store_http_parse_pairs(&tags, json_object_get(json_object_get(j, "data"), "tags"), err));
	assert_int_equal(tags.nr, 4);
	assert_string_equal(tags.items[0].key, STORE_HTTP_TAG_COMMAND);
	assert_string_equal(tags.items[3].key, "z");
	OK(store_http_parse_metrics(&points, json_object_get(json_object_get(j, "data"), "metrics"),
				    err));
	assert_int_equal(points.nr, 2);
	assert_true(isnan(points.items[0].value));
	assert_int_equal(points.items[0].step, 2);
	assert_true(points.items[1].value == 1.5);
	OK(store_http_parse_inputs(&inputs, json_object_get(j, "inputs"), err));
	assert_int_equal(inputs.nr, 1);
	assert_string_equal(inputs.items[0].context, "training");
	assert_null(inputs.items[0].source);
	json_object_set_new(json_object_get(j, "info"), "run_uuid", json_string("short"));
	FAILS(ERR_STORE, store_http_parse_run(&run, j, err), "without a valid id");
	e = json_pack("{s:s, s:s, s:s, s:I}", "experiment_id", "7", "name", "x", "lifecycle_stage",
		      "active", "creation_time", (json_int_t)12);
	OK(store_http_parse_experiment(&exp, e, err));
	assert_string_equal(exp.id, "7");
	assert_false(exp.deleted);
	assert_int_equal(exp.creation_time, 12);
	json_object_del(e, "name");
	FAILS(ERR_STORE, store_http_parse_experiment(&exp, e, err), "without an id or name");
	json_decref(e);
	json_decref(j);
	store_run_release(&run);
	store_pairs_release(&tags);
	store_metric_points_release(&points);
	store_datasets_release(&inputs);
	store_experiment_release(&exp);
}

/* Against ferry server ------------------------------------------------------------------------ */

static void test_experiments(void **state)
{
	struct store_experiment exp = STORE_EXPERIMENT_INIT;
	struct store_experiments list = STORE_EXPERIMENTS_INIT;
	struct store_pairs tags = STORE_PAIRS_INIT;
	char *id = NULL, *id2 = NULL;

	(void)state;
	assert_string_equal(store_backend_name(fx.st), "http");
	OK(store_experiment_create(fx.st, &id, "exp", NULL, err));
	FAILS(ERR_EXISTS, store_experiment_create(fx.st, &id2, "exp", NULL, err), "already exists");
	OK(store_experiment_get(fx.st, &exp, id, err));
	assert_string_equal(exp.name, "exp");
	store_experiment_release(&exp);
	OK(store_experiment_get_by_name(fx.st, &exp, "exp", err));
	assert_string_equal(exp.id, id);
	store_experiment_release(&exp);
	FAILS(ERR_NOTFOUND, store_experiment_get_by_name(fx.st, &exp, "nope", err), "nope");
	FAILS(ERR_NOTFOUND, store_experiment_get(fx.st, &exp, "99", err), "99");
	OK(store_experiment_rename(fx.st, id, "exp2", err));
	OK(store_experiment_set_tag(fx.st, id, "k", "v", err));
	OK(store_experiment_tags(fx.st, &tags, id, err));
	assert_int_equal(tags.nr, 1);
	assert_string_equal(tags.items[0].value, "v");
	OK(store_experiment_set_deleted(fx.st, id, true, err));
	OK(store_experiment_list(fx.st, &list, STORE_VIEW_ACTIVE, err));
	assert_int_equal(list.nr, 1);
	assert_string_equal(list.items[0].name, "Default");
	store_experiments_release(&list);
	OK(store_experiment_set_deleted(fx.st, id, false, err));
	OK(store_experiment_create(fx.st, &id2, "third", NULL, err));
	OK(store_experiment_list(fx.st, &list, STORE_VIEW_ALL, err));
	assert_int_equal(list.nr, 3);
	assert_string_equal(list.items[0].id, "0");
	assert_string_equal(list.items[1].name, "exp2");
	assert_string_equal(list.items[2].name, "third");
	store_experiments_release(&list);
	store_pairs_release(&tags);
	free(id);
	free(id2);
}

static void new_run(char id[ID_HEX_LEN + 1], const char *name)
{
	struct store_kv tags[] = { { "mlflow.runName", name }, { "team", "ml" } };
	struct store_new_run r = { .name = name,
				   .user = "me",
				   .source_git_commit = "abc123",
				   .source_dirty = true,
				   .command = "ferry train --data x.csv",
				   .tags = tags,
				   .nr_tags = ARRAY_SIZE(tags) };

	OK(store_run_create(fx.st, id, &r, err));
}

static void test_runs(void **state)
{
	char id[ID_HEX_LEN + 1], id2[ID_HEX_LEN + 1];
	struct store_run run = STORE_RUN_INIT;
	struct store_runs runs = STORE_RUNS_INIT;
	struct store_pairs pairs = STORE_PAIRS_INIT;
	struct store_run_changes ch = { false, STORE_RUN_RUNNING, false, 0, "renamed" };
	struct store_new_run given = { .id = "0123456789abcdef0123456789abcdef" };

	(void)state;
	new_run(id, "one");
	OK(store_run_get(fx.st, &run, id, err));
	assert_string_equal(run.name, "one");
	assert_string_equal(run.experiment_id, "0");
	assert_string_equal(run.user, "me");
	assert_int_equal(run.status, STORE_RUN_RUNNING);
	assert_string_equal(run.source_git_commit, "abc123");
	assert_true(run.source_dirty);
	assert_string_equal(run.command, "ferry train --data x.csv");
	assert_non_null(strstr(run.artifact_uri, id));
	store_run_release(&run);
	FAILS(ERR_UNSUPPORTED, store_run_create(fx.st, id2, &given, err), "picks run ids");
	FAILS(ERR_NOTFOUND, store_run_get(fx.st, &run, "0123456789abcdef0123456789abcdef", err),
	      "not found");
	OK(store_run_tags(fx.st, &pairs, id, err));
	assert_string_equal(pairs.items[0].key, "ferry.command");
	store_pairs_release(&pairs);
	OK(store_run_set_status(fx.st, id, STORE_RUN_FINISHED, 1234, err));
	OK(store_run_get(fx.st, &run, id, err));
	assert_int_equal(run.status, STORE_RUN_FINISHED);
	assert_int_equal(run.end_time, 1234);
	store_run_release(&run);
	OK(store_run_update(fx.st, id, &ch, err));
	new_run(id2, "two");
	OK(store_run_list(fx.st, &runs, NULL, STORE_VIEW_ACTIVE, err));
	assert_int_equal(runs.nr, 2);
	assert_string_equal(runs.items[strcmp(runs.items[0].id, id) ? 1 : 0].name, "renamed");
	store_runs_release(&runs);
	OK(store_run_set_deleted(fx.st, id2, true, err));
	OK(store_run_list(fx.st, &runs, "0", STORE_VIEW_ACTIVE, err));
	assert_int_equal(runs.nr, 1);
	store_runs_release(&runs);
	OK(store_run_list(fx.st, &runs, "0", STORE_VIEW_DELETED, err));
	assert_int_equal(runs.nr, 1);
	assert_string_equal(runs.items[0].id, id2);
	assert_true(runs.items[0].deleted);
	store_runs_release(&runs);
	OK(store_run_delete_tag(fx.st, id, "team", err));
	FAILS(ERR_NOTFOUND, store_run_delete_tag(fx.st, id, "team", err), "team");
}

static void test_logging(void **state)
{
	char id[ID_HEX_LEN + 1];
	struct store_kv params[150];
	char keys[150][16];
	struct store_metric *m = xcalloc(2600, sizeof(*m));
	struct store_metric_points points = STORE_METRIC_POINTS_INIT;
	struct store_pairs pairs = STORE_PAIRS_INIT;
	struct store_batch b = { NULL, 0, NULL, 0, NULL, 0 };

	(void)state;
	new_run(id, "log");
	OK(store_run_log_param(fx.st, id, "lr", "0.1", err));
	OK(store_run_log_param(fx.st, id, "lr", "0.1", err));
	FAILS(ERR_CONFLICT, store_run_log_param(fx.st, id, "lr", "0.2", err),
	      "Changing param values is not allowed");
	FAILS(ERR_INVALID, store_run_log_param(fx.st, id, "bad key!", "1", err),
	      "Invalid parameter name");
	FAILS(ERR_NOTFOUND,
	      store_run_log_param(fx.st, "0123456789abcdef0123456789abcdef", "a", "1", err),
	      "not found");
	/* more than one log-batch holds: split as MLflow's client splits */
	for (int i = 0; i < 150; i++) {
		snprintf(keys[i], sizeof(keys[i]), "p%03d", i);
		params[i] = (struct store_kv){ keys[i], "v" };
	}
	OK(store_run_log_params(fx.st, id, params, 150, err));
	OK(store_run_params(fx.st, &pairs, id, err));
	assert_int_equal(pairs.nr, 151);
	assert_string_equal(pairs.items[150].key, "p149");
	store_pairs_release(&pairs);
	for (int i = 0; i < 2600; i++)
		m[i] = (struct store_metric){ "loss", 1.0 / (i + 1), 1000 + i, i };
	m[2599].value = NAN;
	m[2598].value = INFINITY;
	b.metrics = m;
	b.nr_metrics = 2600;
	OK(store_run_log_batch(fx.st, id, &b, err));
	OK(store_metric_history(fx.st, &points, id, "loss", err));
	assert_int_equal(points.nr, 2600);
	assert_int_equal(points.items[10].step, 10);
	assert_true(isnan(points.items[2599].value));
	assert_true(points.items[2598].value > 1e308);
	store_metric_points_release(&points);
	OK(store_metric_history_page(fx.st, &points, id, "loss", 100, 5, err));
	assert_int_equal(points.nr, 5);
	assert_int_equal(points.items[0].step, 100);
	store_metric_points_release(&points);
	OK(store_run_latest_metrics(fx.st, &points, id, err));
	assert_int_equal(points.nr, 1);
	assert_int_equal(points.items[0].step, 2599);
	store_metric_points_release(&points);
	OK(store_run_set_tag(fx.st, id, "t", NULL, err));
	OK(store_run_tags(fx.st, &pairs, id, err));
	for (size_t i = 0; i < pairs.nr; i++)
		if (!strcmp(pairs.items[i].key, "t"))
			assert_string_equal(pairs.items[i].value, "");
	store_pairs_release(&pairs);
	free(m);
}

static void test_datasets_and_unsupported(void **state)
{
	char id[ID_HEX_LEN + 1];
	struct store_new_dataset ds = {
		.name = "train.csv", .path = "data/train.csv", .digest = "sha256:abc", .size = 10
	};
	struct store_datasets inputs = STORE_DATASETS_INIT;
	struct store_dataset got = STORE_DATASET_INIT;
	struct store_stat_entry e = { "a", 1, 2, 3, 4, "", 5 };
	int64_t did = 0, did2 = 0, n = 0;

	(void)state;
	memset(e.hex, 'a', 64);
	new_run(id, "ds");
	OK(store_dataset_record(fx.st, &did, &ds, err));
	OK(store_dataset_record(fx.st, &did2, &ds, err));
	assert_int_equal(did, did2);
	OK(store_dataset_get(fx.st, &got, did, err));
	assert_string_equal(got.path, "data/train.csv");
	store_dataset_release(&got);
	OK(store_run_add_input(fx.st, id, did, "training", err));
	OK(store_run_inputs(fx.st, &inputs, id, err));
	assert_int_equal(inputs.nr, 1);
	assert_string_equal(inputs.items[0].digest, "sha256:abc");
	assert_string_equal(inputs.items[0].context, "training");
	assert_string_equal(inputs.items[0].source_type, "local");
	store_datasets_release(&inputs);
	FAILS(ERR_NOTFOUND, store_run_add_input(fx.st, id, 42, NULL, err), "no dataset with id 42");
	FAILS(ERR_UNSUPPORTED, store_dataset_set_profile(fx.st, &n, "sha256:abc", "{}", err),
	      "not available on a remote tracking server");
	FAILS(ERR_UNSUPPORTED, store_statcache_put(fx.st, &e, 1, err), fx.url);
}

static void test_search(void **state)
{
	char a[ID_HEX_LEN + 1], b[ID_HEX_LEN + 1];
	struct store_metric ma = { "acc", 0.9, 1, 0 }, mb = { "acc", 0.7, 1, 0 };
	struct search_filter filter = SEARCH_FILTER_INIT;
	struct search_orders order = SEARCH_ORDERS_INIT;
	const char *text = "metrics.acc > 0.5 and tags.team = 'ml'";
	const char *order_text[] = { "metrics.acc ASC" };
	struct store_run_search q = { .filter = &filter, .order = &order, .max_results = 1 };
	struct store_experiment_search eq = { .max_results = 10 };
	struct store_runs runs = STORE_RUNS_INIT;
	struct store_experiments exps = STORE_EXPERIMENTS_INIT;
	char *token = NULL;

	(void)state;
	new_run(a, "a");
	new_run(b, "b");
	OK(store_run_log_metrics(fx.st, a, &ma, 1, err));
	OK(store_run_log_metrics(fx.st, b, &mb, 1, err));
	OK(filter_parse_runs(&filter, text, err));
	OK(filter_parse_run_order(&order, order_text, 1, err));
	FAILS(ERR_UNSUPPORTED, store_run_search(fx.st, &runs, &token, &q, err), "filter");
	q.filter_text = text;
	q.order_by_text = order_text;
	q.nr_order_by_text = 1;
	OK(store_run_search(fx.st, &runs, &token, &q, err));
	assert_int_equal(runs.nr, 1);
	assert_string_equal(runs.items[0].id, b);
	assert_non_null(token);
	store_runs_release(&runs);
	OK(search_page_token_decode(&q.offset, token, err));
	free(token);
	OK(store_run_search(fx.st, &runs, &token, &q, err));
	assert_int_equal(runs.nr, 1);
	assert_string_equal(runs.items[0].id, a);
	store_runs_release(&runs);
	free(token);
	q.filter_text = "metrics.acc >> 1";
	FAILS(ERR_INVALID, store_run_search(fx.st, &runs, &token, &q, err), "Invalid comparator");
	OK(store_experiment_search(fx.st, &exps, &token, &eq, err));
	assert_int_equal(exps.nr, 1);
	assert_null(token);
	store_experiments_release(&exps);
	search_filter_release(&filter);
	search_orders_release(&order);
}

/* Retries ------------------------------------------------------------------------------------- */

static atomic_int calls;

static int flaky(const struct http_request *req, struct http_response *resp, void *data,
		 struct error *err)
{
	(void)req, (void)data, (void)err;
	if (atomic_fetch_add(&calls, 1) < 2) {
		resp->status = 503;
		strbuf_addstr(&resp->body, "{\"error_code\": \"TEMPORARILY_UNAVAILABLE\"}");
		return 0;
	}
	strbuf_addstr(&resp->body, "{\"experiment_id\": \"7\"}");
	return 0;
}

static int broken(const struct http_request *req, struct http_response *resp, void *data,
		  struct error *err)
{
	(void)req, (void)data, (void)err;
	atomic_fetch_add(&calls, 1);
	resp->status = 500;
	strbuf_addstr(&resp->body, "{\"error_code\": \"INTERNAL_ERROR\", \"message\": \"disk\"}");
	return 0;
}

static const struct http_route flaky_routes[] = {
	{ "POST", "/api/2.0/mlflow/experiments/create", 0, flaky },
	{ "POST", "/api/2.0/mlflow/runs/log-batch", 0, broken },
};

static void test_retries(void **state)
{
	struct http_routes routes = { flaky_routes, ARRAY_SIZE(flaky_routes), NULL, NULL };
	char *id = NULL;

	(void)state;
	memset(&fx, 0, sizeof(fx));
	setenv("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "0.01", 1);
	setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "3", 1);
	start(&routes);
	OK(store_experiment_create(fx.st, &id, "x", NULL, err));
	assert_string_equal(id, "7");
	assert_int_equal(atomic_load(&calls), 3);
	atomic_store(&calls, 0);
	FAILS(ERR_STORE,
	      store_run_log_param(fx.st, "0123456789abcdef0123456789abcdef", "a", "1", err),
	      "HTTP 500: disk");
	assert_int_equal(atomic_load(&calls), 4);
	FAILS(ERR_UNSUPPORTED,
	      store_run_get(fx.st, &(struct store_run)STORE_RUN_INIT,
			    "0123456789abcdef0123456789abcdef", err),
	      "no endpoint 'runs/get'");
	unsetenv("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR");
	unsetenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES");
	free(id);
}

static void test_open_errors(void **state)
{
	struct store *st = NULL;

	(void)state;
	FAILS(ERR_INVALID, store_open(&st, "http://", err), "no host");
	FAILS(ERR_INVALID, store_open(&st, "http://h:1/x?y=1", err), "without a query");
	OK(store_open(&st, "http://127.0.0.1:1", err));
	FAILS(ERR_STORE, store_run_get(st, &(struct store_run)STORE_RUN_INIT, "x", err),
	      "cannot reach the tracking server http://127.0.0.1:1");
	store_close(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_error_codes),
		cmocka_unit_test(test_doubles),
		cmocka_unit_test(test_parse_messages),
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test_setup_teardown(test_experiments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_runs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_logging, setup, teardown),
		cmocka_unit_test_setup_teardown(test_datasets_and_unsupported, setup, teardown),
		cmocka_unit_test_setup_teardown(test_search, setup, teardown),
		cmocka_unit_test_teardown(test_retries, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
