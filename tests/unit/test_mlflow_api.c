/*
 * The MLflow API's handlers called directly through its route table: request parsing (content
 * types, double-encoded bodies, query strings), MLflow's validation and messages, log-batch
 * limits before any write, run names and artifact URIs, NaN/inf, paging and Python-style JSON.
 */
#include "util/common.h"
#include "api/mlflow.h"
#include "util/strbuf.h"
#include "helpers.h"
#include "mlflow_call.h"

#include <jansson.h>

struct fixture {
	char *dir, *uri;
	struct mlflow_api *api;
	struct http_routes routes;
};

static struct fixture fx;
static struct mlflow_answer ans;

static int setup(void **state)
{
	struct error err = ERROR_INIT;
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	fx.dir = test_tmpdir();
	strbuf_addf(&sb, "sqlite:%s/ferry.db", fx.dir);
	fx.uri = strbuf_detach(&sb, NULL);
	if (mlflow_api_new(&fx.api, fx.uri, 2, &err))
		fail_msg("mlflow_api_new: %s", err.msg);
	mlflow_routes(&fx.routes, fx.api);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	mlflow_api_free(fx.api);
	test_tmpdir_remove(fx.dir);
	free(fx.uri);
	mlflow_answer_release(&ans);
	return 0;
}

/* Calls the route for method and path as the server would; fills ans. */
static void call_full(const char *method, const char *path, const char *ctype, const char *body,
		      const struct http_param *query, size_t nquery)
{
	mlflow_test_call(&fx.routes, &ans, method, path, ctype, body, query, nquery);
}

static void post(const char *endpoint, const char *body)
{
	char path[256];

	snprintf(path, sizeof(path), "/api/2.0/mlflow/%s", endpoint);
	call_full("POST", path, "application/json", body, NULL, 0);
}

static void get(const char *endpoint, const struct http_param *query, size_t n)
{
	char path[256];

	snprintf(path, sizeof(path), "/api/2.0/mlflow/%s", endpoint);
	call_full("GET", path, NULL, NULL, query, n);
}

/* The answer has status and, when code is not NULL, that MLflow error code. */
static void expect(int status, const char *code)
{
	const char *got = json_string_value(json_object_get(ans.json, "error_code"));

	if (ans.status != status)
		fail_msg("expected status %d, got %d: %s", status, ans.status, ans.body);
	if (code && (!got || strcmp(got, code)))
		fail_msg("expected %s: %s", code, ans.body);
}

#define expect_msg(text)                                                                           \
	do {                                                                                       \
		if (!strstr(ans.body, (text)))                                                     \
			fail_msg("'%s' not in %s", (text), ans.body);                              \
	} while (0)

/* Creates a run in a new experiment; its id into run_id. */
static void new_run(char run_id[33], const char *exp_name)
{
	char body[256];

	snprintf(body, sizeof(body), "{\"name\": \"%s\"}", exp_name);
	post("experiments/create", body);
	expect(200, NULL);
	snprintf(body, sizeof(body), "{\"experiment_id\": \"%s\", \"start_time\": 5}",
		 json_string_value(json_object_get(ans.json, "experiment_id")));
	post("runs/create", body);
	expect(200, NULL);
	snprintf(run_id, 33, "%s",
		 json_string_value(json_object_get(
		     json_object_get(json_object_get(ans.json, "run"), "info"), "run_id")));
}

static void test_content_type_and_bodies(void **state)
{
	(void)state;
	call_full("POST", "/api/2.0/mlflow/experiments/create", "text/plain", "{\"name\": \"a\"}",
		  NULL, 0);
	expect(400, "INVALID_PARAMETER_VALUE");
	expect_msg("Content-Type must be one of ['application/json']");
	call_full("POST", "/api/2.0/mlflow/experiments/create", NULL, "{\"name\": \"a\"}", NULL, 0);
	expect(400, "INVALID_PARAMETER_VALUE");
	/* charset parameters are fine; double-encoded JSON is decoded twice */
	call_full("POST", "/api/2.0/mlflow/experiments/create", "application/json; charset=utf-8",
		  "\"{\\\"name\\\": \\\"twice\\\", \\\"unknown\\\": 1}\"", NULL, 0);
	expect(200, NULL);
	assert_string_equal(ans.body, "{\n  \"experiment_id\": \"1\"\n}");
	post("experiments/create", "{not json");
	expect(400, "BAD_REQUEST");
	post("experiments/create", "{\"name\": \"twice\"}");
	expect(400, "RESOURCE_ALREADY_EXISTS");
	/* errors are json.dumps() without indent */
	assert_string_equal(ans.body, "{\"error_code\": \"RESOURCE_ALREADY_EXISTS\", \"message\": "
				      "\"Experiment(name=twice) already exists.\"}");
	post("experiments/create", "{}");
	expect(400, "INVALID_PARAMETER_VALUE");
	expect_msg("Missing value for required parameter 'name'.");
	post("experiments/create", "{\"name\": 3}");
	expect(400, "INVALID_PARAMETER_VALUE");
	expect_msg("Hint: Value was of type 'int'");
}

static void test_experiments(void **state)
{
	struct http_param q[] = { { "experiment_id", "1" } };
	struct http_param byname[] = { { "experiment_name", "nope" } };
	struct http_param missing[] = { { "experiment_id", "999" } };

	(void)state;
	post("experiments/create",
	     "{\"name\": \"e\", \"tags\": [{\"key\": \"t\", \"value\": \"v\"}]}");
	expect(200, NULL);
	get("experiments/get", q, 1);
	expect(200, NULL);
	expect_msg("\"artifact_location\": \"mlflow-artifacts:/1\"");
	expect_msg("\"key\": \"t\"");
	get("experiments/get-by-name", byname, 1);
	expect(404, "RESOURCE_DOES_NOT_EXIST");
	expect_msg("Could not find experiment with name 'nope'");
	get("experiments/get", missing, 1);
	expect(404, "RESOURCE_DOES_NOT_EXIST");
	expect_msg("No Experiment with id=999 exists");
	post("experiments/create", "{\"name\": \"f\"}");
	post("experiments/update", "{\"experiment_id\": \"1\", \"new_name\": \"f\"}");
	expect(400, "RESOURCE_ALREADY_EXISTS");
	post("experiments/update", "{\"experiment_id\": \"1\", \"new_name\": \"g\"}");
	expect(200, NULL);
	assert_string_equal(ans.body, "{}");
	post("experiments/delete", "{\"experiment_id\": \"1\"}");
	expect(200, NULL);
	post("experiments/delete", "{\"experiment_id\": \"1\"}");
	expect(404, "RESOURCE_DOES_NOT_EXIST");
	post("runs/create", "{\"experiment_id\": \"1\"}");
	expect(400, "INVALID_PARAMETER_VALUE");
	expect_msg("must be in the 'active' state");
	post("experiments/set-experiment-tag",
	     "{\"experiment_id\": \"1\", \"key\": \"k\", \"value\": \"v\"}");
	expect(400, "INVALID_PARAMETER_VALUE");
	post("experiments/restore", "{\"experiment_id\": \"1\"}");
	expect(200, NULL);
	get("experiments/get", q, 1);
	expect_msg("\"name\": \"g\"");
	expect_msg("\"lifecycle_stage\": \"active\"");
}

static void test_run_create_names(void **state)
{
	const char *name;
	json_t *info;
	char run[33], uri[128];
	int dashes = 0;

	(void)state;
	new_run(run, "names");
	info = json_object_get(json_object_get(ans.json, "run"), "info");
	name = json_string_value(json_object_get(info, "run_name"));
	for (const char *p = name; *p; p++)
		dashes += *p == '-';
	assert_int_equal(dashes, 2);
	snprintf(uri, sizeof(uri), "mlflow-artifacts:/1/%s/artifacts", run);
	assert_string_equal(json_string_value(json_object_get(info, "artifact_uri")), uri);
	assert_string_equal(json_string_value(json_object_get(info, "run_uuid")), run);
	assert_null(json_object_get(info, "end_time"));
	assert_null(json_object_get(ans.json, "inputs"));
	expect_msg("\"key\": \"mlflow.runName\"");
	post("runs/create", "{\"run_name\": \"a\", \"tags\": [{\"key\": \"mlflow.runName\", "
			    "\"value\": \"b\"}]}");
	expect(400, "INVALID_PARAMETER_VALUE");
	expect_msg("Both 'run_name' argument and 'mlflow.runName' tag are specified");
	post("runs/create", "{\"tags\": [{\"key\": \"mlflow.runName\", \"value\": \"b\"}]}");
	expect(200, NULL);
	expect_msg("\"run_name\": \"b\"");
	expect_msg("\"experiment_id\": \"0\"");
}

static void test_validation(void **state)
{
	char run[33], body[512];

	(void)state;
	new_run(run, "valid");
	snprintf(body, sizeof(body),
		 "{\"run_id\": \"%s\", \"key\": \"bad key!\", \"value\": 1, "
		 "\"timestamp\": 1}",
		 run);
	post("runs/log-metric", body);
	expect(400, "INVALID_PARAMETER_VALUE");
	expect_msg("Invalid metric name: 'bad key!'. Names may only contain alphanumerics");
	snprintf(body, sizeof(body),
		 "{\"run_id\": \"%s\", \"key\": \"a/../b\", \"value\": 1, "
		 "\"timestamp\": 1}",
		 run);
	post("runs/log-metric", body);
	expect(400, "INVALID_PARAMETER_VALUE");
	expect_msg("would resolve to 'b'");
	snprintf(body, sizeof(body), "{\"run_id\": \"%s\", \"key\": \"m\", \"timestamp\": 1}", run);
	post("runs/log-metric", body);
	expect(400, "INVALID_PARAMETER_VALUE");
	expect_msg("Missing value for required parameter 'value'. See the API docs");
	/* run_uuid alone is enough */
	snprintf(body, sizeof(body), "{\"run_uuid\": \"%s\", \"key\": \"p\", \"value\": \"1\"}",
		 run);
	post("runs/log-parameter", body);
	expect(200, NULL);
	post("runs/log-parameter", body);
	expect(200, NULL);
	snprintf(body, sizeof(body), "{\"run_id\": \"%s\", \"key\": \"p\", \"value\": \"2\"}", run);
	post("runs/log-parameter", body);
	expect(400, "INVALID_PARAMETER_VALUE");
	expect_msg("Changing param values is not allowed.");
	post(
	    "runs/log-parameter",
	    "{\"run_id\": \"00000000000000000000000000000000\", \"key\": \"p\", \"value\": \"2\"}");
	expect(404, "RESOURCE_DOES_NOT_EXIST");
	expect_msg("Run with id=00000000000000000000000000000000 not found");
	/* a deleted run takes no writes */
	snprintf(body, sizeof(body), "{\"run_id\": \"%s\"}", run);
	post("runs/delete", body);
	expect(200, NULL);
	snprintf(body, sizeof(body), "{\"run_id\": \"%s\", \"key\": \"t\", \"value\": \"v\"}", run);
	post("runs/set-tag", body);
	expect(400, "INVALID_PARAMETER_VALUE");
	expect_msg("must be in the 'active' state. Current state is deleted.");
	snprintf(body, sizeof(body), "{\"run_id\": \"%s\"}", run);
	post("runs/restore", body);
	snprintf(body, sizeof(body), "{\"run_id\": \"%s\", \"key\": \"t\", \"value\": \"v\"}", run);
	post("runs/set-tag", body);
	expect(200, NULL);
	snprintf(body, sizeof(body), "{\"run_id\": \"%s\", \"key\": \"nope\"}", run);
	post("runs/delete-tag", body);
	expect(404, "RESOURCE_DOES_NOT_EXIST");
}

/* A log-batch body with nm metrics, np params and nt tags (keys k0, k1, ...). */
static char *batch(const char *run, int nm, int np, int nt, const char *extra_param)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_addf(&sb, "{\"run_id\": \"%s\", \"metrics\": [", run);
	for (int i = 0; i < nm; i++)
		strbuf_addf(&sb,
			    "%s{\"key\": \"m%d\", \"value\": %d.5, \"timestamp\": 7, "
			    "\"step\": 0}",
			    i ? ", " : "", i, i);
	strbuf_addstr(&sb, "], \"params\": [");
	for (int i = 0; i < np; i++)
		strbuf_addf(&sb, "%s{\"key\": \"p%d\", \"value\": \"v\"}", i ? ", " : "", i);
	if (extra_param)
		strbuf_addf(&sb, "%s%s", np ? ", " : "", extra_param);
	strbuf_addstr(&sb, "], \"tags\": [");
	for (int i = 0; i < nt; i++)
		strbuf_addf(&sb, "%s{\"key\": \"t%d\", \"value\": \"v\"}", i ? ", " : "", i);
	strbuf_addstr(&sb, "]}");
	return strbuf_detach(&sb, NULL);
}

static void post_batch(const char *run, int nm, int np, int nt, const char *extra)
{
	char *body = batch(run, nm, np, nt, extra);

	post("runs/log-batch", body);
	free(body);
}

static void test_log_batch_limits(void **state)
{
	struct http_param q[2] = { { "run_id", NULL } };
	char run[33];

	(void)state;
	new_run(run, "batch");
	q[0].value = run;
	post_batch(run, 1001, 0, 0, NULL);
	expect(400, "INVALID_PARAMETER_VALUE");
	expect_msg("A batch logging request can contain at most 1000 metrics. Got 1001 metrics. "
		   "Please split up metrics across multiple requests and try again.");
	post_batch(run, 0, 101, 0, NULL);
	expect_msg("at most 100 params. Got 101 params.");
	post_batch(run, 0, 0, 101, NULL);
	expect_msg("at most 100 tags. Got 101 tags.");
	post_batch(run, 1000, 100, 0, NULL);
	expect_msg("at most 1000 metrics, params, and tags. Got 1100 metrics, params, and tags.");
	/* one bad key: nothing of the batch is stored */
	post_batch(run, 5, 5, 0, "{\"key\": \"bad!\", \"value\": \"x\"}");
	expect(400, "INVALID_PARAMETER_VALUE");
	expect_msg("Invalid parameter name: 'bad!'");
	post_batch(run, 0, 1, 0, "{\"key\": \"p0\", \"value\": \"w\"}");
	expect(400, "INVALID_PARAMETER_VALUE");
	expect_msg("Duplicate parameter keys have been submitted: ['p0']");
	get("runs/get", q, 1);
	expect(200, NULL);
	assert_null(
	    json_object_get(json_object_get(json_object_get(ans.json, "run"), "data"), "params"));
	assert_null(
	    json_object_get(json_object_get(json_object_get(ans.json, "run"), "data"), "metrics"));
	post_batch(run, 800, 100, 100, NULL);
	expect(200, NULL);
	assert_string_equal(ans.body, "{}");
	get("runs/get", q, 1);
	assert_int_equal(json_array_size(json_object_get(
			     json_object_get(json_object_get(ans.json, "run"), "data"), "params")),
			 100);
	/* a param that would change fails the whole batch */
	post_batch(run, 0, 0, 0, "{\"key\": \"p0\", \"value\": \"changed\"}");
	expect(400, "INVALID_PARAMETER_VALUE");
	expect_msg("Changing param values is not allowed.");
}

static void test_metric_values_and_history(void **state)
{
	struct http_param q[3] = { { "run_id", NULL },
				   { "metric_key", "m" },
				   { "max_results", "2" } };
	const char *values[] = { "\"NaN\"", "\"Infinity\"", "0.1", "1e-05", "1e16", "3" };
	char run[33], body[256];
	const char *token;

	(void)state;
	new_run(run, "hist");
	q[0].value = run;
	for (size_t i = 0; i < ARRAY_SIZE(values); i++) {
		snprintf(body, sizeof(body),
			 "{\"run_id\": \"%s\", \"key\": \"m\", \"value\": %s, \"timestamp\": 1, "
			 "\"step\": %zu}",
			 run, values[i], i);
		post("runs/log-metric", body);
		expect(200, NULL);
	}
	get("metrics/get-history", q, 2);
	expect(200, NULL);
	expect_msg("\"value\": \"NaN\"");
	expect_msg("\"value\": 0.1");
	expect_msg("\"value\": 1e-05");
	expect_msg("\"value\": 1e+16");
	expect_msg("\"value\": 3.0");
	expect_msg("\"value\": 1.7976931348623157e+308");
	get("metrics/get-history", q, 3);
	expect(200, NULL);
	assert_int_equal(json_array_size(json_object_get(ans.json, "metrics")), 2);
	token = json_string_value(json_object_get(ans.json, "next_page_token"));
	assert_non_null(token);
	{
		char tok[128];
		struct http_param q2[4] = { q[0], q[1], q[2], { "page_token", tok } };

		snprintf(tok, sizeof(tok), "%s", token);
		get("metrics/get-history", q2, 4);
		expect(200, NULL);
		assert_int_equal(json_array_size(json_object_get(ans.json, "metrics")), 2);
		expect_msg("\"step\": 2");
	}
	/* latest = greatest step */
	get("runs/get", q, 1);
	expect_msg("\"value\": 3.0");
	expect_msg("\"inputs\": {}");
}

static void test_update_and_log_model(void **state)
{
	struct http_param q[] = { { "run_id", NULL } };
	char run[33], body[256];

	(void)state;
	new_run(run, "upd");
	q[0].value = run;
	snprintf(body, sizeof(body),
		 "{\"run_id\": \"%s\", \"status\": \"FINISHED\", \"end_time\": 99, "
		 "\"run_name\": \"renamed\"}",
		 run);
	post("runs/update", body);
	expect(200, NULL);
	expect_msg("\"run_info\": {");
	expect_msg("\"status\": \"FINISHED\"");
	expect_msg("\"end_time\": 99");
	get("runs/get", q, 1);
	expect_msg("\"run_name\": \"renamed\"");
	expect_msg("\"value\": \"renamed\"");
	snprintf(body, sizeof(body), "{\"run_id\": \"%s\", \"status\": \"DONE\"}", run);
	post("runs/update", body);
	expect(400, "INVALID_PARAMETER_VALUE");
	snprintf(body, sizeof(body), "{\"run_id\": \"%s\", \"model_json\": \"{}\"}", run);
	post("runs/log-model", body);
	expect(400, "INVALID_PARAMETER_VALUE");
	expect_msg("Model json is missing mandatory fields");
}

static void test_search_query_lists(void **state)
{
	struct http_param q[] = { { "order_by[]", "name DESC" },
				  { "max_results", "1" },
				  { "view_type", "ALL" } };

	(void)state;
	post("experiments/create", "{\"name\": \"a\"}");
	post("experiments/create", "{\"name\": \"b\"}");
	get("experiments/search", q, 3);
	expect(200, NULL);
	assert_int_equal(json_array_size(json_object_get(ans.json, "experiments")), 1);
	expect_msg("\"name\": \"b\"");
	assert_non_null(json_object_get(ans.json, "next_page_token"));
	post("runs/search", "{\"experiment_ids\": \"0\", \"max_results\": 50001}");
	expect(400, "INVALID_PARAMETER_VALUE");
	post("runs/search", "{\"experiment_ids\": [\"0\"], \"filter\": \"a OR b\"}");
	expect(400, "INVALID_PARAMETER_VALUE");
}

static void test_plain_routes_and_unicode(void **state)
{
	(void)state;
	call_full("GET", "/health", NULL, NULL, NULL, 0);
	assert_string_equal(ans.body, "OK");
	call_full("GET", "/version", NULL, NULL, NULL, 0);
	assert_string_equal(ans.body, MLFLOW_COMPAT_VERSION);
	/* ajax-api mirrors the API; non-ASCII is escaped as Python's ensure_ascii does */
	call_full("POST", "/ajax-api/2.0/mlflow/experiments/create", "application/json",
		  "{\"name\": \"caf\xc3\xa9 \xf0\x9f\x98\x80\"}", NULL, 0);
	expect(200, NULL);
	{
		struct http_param q[] = { { "experiment_name", "caf\xc3\xa9 \xf0\x9f\x98\x80" } };

		get("experiments/get-by-name", q, 1);
		expect(200, NULL);
		expect_msg("\"name\": \"caf\\u00e9 \\ud83d\\ude00\"");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_content_type_and_bodies, setup, teardown),
		cmocka_unit_test_setup_teardown(test_experiments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_run_create_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_validation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_log_batch_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_metric_values_and_history, setup, teardown),
		cmocka_unit_test_setup_teardown(test_update_and_log_model, setup, teardown),
		cmocka_unit_test_setup_teardown(test_search_query_lists, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plain_routes_and_unicode, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
