/*
 * The MLflow model registry API (registered-models/..., model-versions/...) called through the
 * route table as the server calls it: answers byte-shaped like MLflow 2.10.2's (recorded in
 * tests/data/mlflow), its status codes, error codes and messages, paging and ferry's deviation
 * (a version an alias points to is not deleted).
 */
#include "util/common.h"
#include "api/mlflow.h"
#include "util/strbuf.h"
#include "helpers.h"
#include "mlflow_call.h"

#include <jansson.h>
#include <time.h>

struct fixture {
	char *dir, *uri;
	struct mlflow_api *api;
	struct http_routes routes;
};

static struct fixture fx;
static struct mlflow_answer ans;
static char run_id[33];

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

/* method on /api/2.0/mlflow/<endpoint> with a JSON body. */
static void send_json(const char *method, const char *endpoint, const char *body)
{
	char path[256];

	snprintf(path, sizeof(path), "/api/2.0/mlflow/%s", endpoint);
	call_full(method, path, "application/json", body, NULL, 0);
}

static void post(const char *endpoint, const char *body)
{
	send_json("POST", endpoint, body);
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

/* An error answer with exactly this message. */
static void expect_error(int status, const char *code, const char *msg)
{
	expect(status, code);
	if (strcmp(json_string_value(json_object_get(ans.json, "message")), msg))
		fail_msg("message:\n got      %s\n expected %s",
			 json_string_value(json_object_get(ans.json, "message")), msg);
}

#define expect_msg(text)                                                                           \
	do {                                                                                       \
		if (!strstr(ans.body, (text)))                                                     \
			fail_msg("'%s' not in %s", (text), ans.body);                              \
	} while (0)

#define expect_no(text)                                                                            \
	do {                                                                                       \
		if (strstr(ans.body, (text)))                                                      \
			fail_msg("'%s' in %s", (text), ans.body);                                  \
	} while (0)

static json_t *at(const char *a, const char *b)
{
	json_t *j = json_object_get(ans.json, a);

	return b ? json_object_get(j, b) : j;
}

static json_int_t ts(const char *obj, const char *key)
{
	return json_integer_value(at(obj, key));
}

/* A run of a new experiment, its id into run_id. */
static void new_run(void)
{
	post("experiments/create", "{\"name\": \"e\"}");
	expect(200, NULL);
	post("runs/create", "{\"experiment_id\": \"1\", \"start_time\": 5}");
	expect(200, NULL);
	snprintf(run_id, sizeof(run_id), "%s",
		 json_string_value(json_object_get(
		     json_object_get(json_object_get(ans.json, "run"), "info"), "run_id")));
}

/* Creates model name and a version with source; returns the version's number. */
static const char *new_version(const char *name, const char *source)
{
	char body[512];

	snprintf(body, sizeof(body), "{\"name\": \"%s\", \"source\": \"%s\"}", name, source);
	post("model-versions/create", body);
	expect(200, NULL);
	return json_string_value(at("model_version", "version"));
}

static void test_registered_models(void **state)
{
	struct http_param q[] = { { "name", "m" } };
	struct http_param nope[] = { { "name", "nope" } };
	char want[512];

	(void)state;
	/* what the recorded client sent and got, byte for byte but the times */
	post("registered-models/create", "{\"name\": \"m\"}");
	expect(200, NULL);
	snprintf(want, sizeof(want),
		 "{\n  \"registered_model\": {\n    \"name\": \"m\",\n    \"creation_timestamp\": "
		 "%" JSON_INTEGER_FORMAT ",\n    \"last_updated_timestamp\": %" JSON_INTEGER_FORMAT
		 "\n  }\n}",
		 ts("registered_model", "creation_timestamp"),
		 ts("registered_model", "last_updated_timestamp"));
	assert_string_equal(ans.body, want);
	post("registered-models/create", "{\"name\": \"m\"}");
	expect_error(400, "RESOURCE_ALREADY_EXISTS", "Registered Model (name=m) already exists.");
	post("registered-models/create", "{}");
	expect_error(400, "INVALID_PARAMETER_VALUE",
		     "Missing value for required parameter 'name'. See the API docs for more "
		     "information about request parameters.");
	post("registered-models/create",
	     "{\"name\": \"t\", \"description\": \"d\", \"tags\": [{\"key\": \"k\", \"value\": "
	     "\"v\"}]}");
	expect(200, NULL);
	assert_string_equal(json_string_value(at("registered_model", "description")), "d");
	expect_msg("\"tags\": [\n      {\n        \"key\": \"k\",\n        \"value\": \"v\"");
	post("registered-models/create", "{\"name\": \"u\", \"tags\": [{\"key\": \"../x\"}]}");
	expect(400, "INVALID_PARAMETER_VALUE");
	expect_msg("Invalid tag name: '../x'");

	get("registered-models/get", nope, 1);
	expect_error(404, "RESOURCE_DOES_NOT_EXIST", "Registered Model with name=nope not found");
	get("registered-models/get", q, 1);
	expect(200, NULL);
	assert_null(at("registered_model", "latest_versions"));
	assert_null(at("registered_model", "tags"));

	send_json("PATCH", "registered-models/update", "{\"name\": \"m\", \"description\": \"x\"}");
	expect(200, NULL);
	assert_string_equal(json_string_value(at("registered_model", "description")), "x");
	send_json("PATCH", "registered-models/update", "{\"name\": \"nope\"}");
	expect(404, "RESOURCE_DOES_NOT_EXIST");

	post("registered-models/set-tag",
	     "{\"name\": \"m\", \"key\": \"owner\", \"value\": \"me\"}");
	expect(200, NULL);
	assert_string_equal(ans.body, "{}");
	post("registered-models/set-tag", "{\"name\": \"nope\", \"key\": \"k\", \"value\": \"v\"}");
	expect_error(404, "RESOURCE_DOES_NOT_EXIST", "Registered Model with name=nope not found");
	post("registered-models/set-tag", "{\"name\": \"m\", \"key\": \"k\"}");
	expect(200, NULL);
	{
		char *big = xmalloc(5100), *body;

		memset(big, 'a', 5001);
		big[5001] = '\0';
		body = xstrfmt("{\"name\": \"m\", \"key\": \"k\", \"value\": \"%s\"}", big);

		post("registered-models/set-tag", body);
		expect(400, "INVALID_PARAMETER_VALUE");
		expect_msg("Registered model value 'aaa");
		expect_msg("had length 5001, which exceeded length limit of 5000");
		free(body);
		free(big);
	}
	get("registered-models/get", q, 1);
	expect_msg("\"key\": \"owner\"");
	/* a tag that is not there deletes fine; a model that is not there does not */
	send_json("DELETE", "registered-models/delete-tag", "{\"name\": \"m\", \"key\": \"nope\"}");
	expect(200, NULL);
	send_json("DELETE", "registered-models/delete-tag",
		  "{\"name\": \"m\", \"key\": \"owner\"}");
	expect(200, NULL);
	send_json("DELETE", "registered-models/delete-tag",
		  "{\"name\": \"x\", \"key\": \"owner\"}");
	expect_error(404, "RESOURCE_DOES_NOT_EXIST", "Registered Model with name=x not found");

	post("registered-models/rename", "{\"name\": \"m\", \"new_name\": \"t\"}");
	expect(400, "RESOURCE_ALREADY_EXISTS");
	post("registered-models/rename", "{\"name\": \"m\"}");
	expect_error(400, "INVALID_PARAMETER_VALUE",
		     "Missing value for required parameter 'new_name'. See the API docs for more "
		     "information about request parameters.");
	post("registered-models/rename", "{\"name\": \"m\", \"new_name\": \"m2\"}");
	expect(200, NULL);
	assert_string_equal(json_string_value(at("registered_model", "name")), "m2");
	get("registered-models/get", q, 1);
	expect(404, "RESOURCE_DOES_NOT_EXIST");

	/* the UI's copy of every route */
	call_full("DELETE", "/ajax-api/2.0/mlflow/registered-models/delete", "application/json",
		  "{\"name\": \"m2\"}", NULL, 0);
	expect(200, NULL);
	assert_string_equal(ans.body, "{}");
	send_json("DELETE", "registered-models/delete", "{\"name\": \"m2\"}");
	expect_error(404, "RESOURCE_DOES_NOT_EXIST", "Registered Model with name=m2 not found");
	post("registered-models/create", "{\"name\": \"m\"}");
	send_json("PATCH", "registered-models/update", "{\"name\": \"m\"}");
	expect(200, NULL);
	expect_no("description");
}

static void test_model_versions(void **state)
{
	struct http_param q[] = { { "name", "m" }, { "version", "1" } };
	char body[512], want[1024];

	(void)state;
	new_run();
	snprintf(body, sizeof(body),
		 "{\"name\": \"m\", \"source\": \"mlflow-artifacts:/1/%s/artifacts/model\", "
		 "\"run_id\": \"%s\"}",
		 run_id, run_id);
	post("model-versions/create", body);
	expect_error(404, "RESOURCE_DOES_NOT_EXIST", "Registered Model with name=m not found");
	post("registered-models/create", "{\"name\": \"m\"}");
	post("model-versions/create", body);
	expect(200, NULL);
	snprintf(want, sizeof(want),
		 "{\n  \"model_version\": {\n    \"name\": \"m\",\n    \"version\": \"1\",\n"
		 "    \"creation_timestamp\": %" JSON_INTEGER_FORMAT ",\n"
		 "    \"last_updated_timestamp\": %" JSON_INTEGER_FORMAT ",\n"
		 "    \"current_stage\": \"None\",\n    \"description\": \"\",\n"
		 "    \"source\": \"mlflow-artifacts:/1/%s/artifacts/model\",\n"
		 "    \"run_id\": \"%s\",\n    \"status\": \"READY\",\n    \"run_link\": \"\"\n"
		 "  }\n}",
		 ts("model_version", "creation_timestamp"),
		 ts("model_version", "last_updated_timestamp"), run_id, run_id);
	assert_string_equal(ans.body, want);
	get("model-versions/get", q, 2);
	expect(200, NULL);
	assert_string_equal(ans.body, want);

	post("model-versions/create", "{\"name\": \"m\"}");
	expect_error(400, "INVALID_PARAMETER_VALUE",
		     "Missing value for required parameter 'source'. See the API docs for more "
		     "information about request parameters.");
	post("model-versions/create", "{\"name\": \"m\", \"source\": \"/etc\"}");
	expect(400, "INVALID_PARAMETER_VALUE");
	expect_msg("Invalid model version source: '/etc'.");
	post("model-versions/create", "{\"name\": \"m\", \"source\": \"file:///etc\"}");
	expect(400, "INVALID_PARAMETER_VALUE");
	post("model-versions/create",
	     "{\"name\": \"m\", \"source\": \"s3://b/m\", \"description\": \"d\", \"run_link\": "
	     "\"http://x\", \"tags\": [{\"key\": \"t\", \"value\": \"1\"}]}");
	expect(200, NULL);
	assert_string_equal(json_string_value(at("model_version", "version")), "2");
	assert_string_equal(json_string_value(at("model_version", "run_id")), "");
	assert_string_equal(json_string_value(at("model_version", "description")), "d");
	assert_string_equal(json_string_value(at("model_version", "run_link")), "http://x");
	expect_msg("\"status\": \"READY\",\n    \"tags\": [");

	{
		struct http_param bad[] = { { "name", "m" }, { "version", "abc" } };
		struct http_param nine[] = { { "name", "m" }, { "version", "9" } };
		struct http_param zero[] = { { "name", "m" }, { "version", "0" } };
		struct http_param none[] = { { "name", "m" } };

		get("model-versions/get", bad, 2);
		expect_error(400, "INVALID_PARAMETER_VALUE",
			     "Model version must be an integer, got 'abc'");
		get("model-versions/get", nine, 2);
		expect_error(404, "RESOURCE_DOES_NOT_EXIST",
			     "Model Version (name=m, version=9) not found");
		get("model-versions/get", zero, 2);
		expect_error(404, "RESOURCE_DOES_NOT_EXIST",
			     "Model Version (name=m, version=0) not found");
		get("model-versions/get", none, 1);
		expect_error(400, "INVALID_PARAMETER_VALUE",
			     "Missing value for required parameter 'version'. See the API docs for "
			     "more information about request parameters.");
	}

	send_json("PATCH", "model-versions/update",
		  "{\"name\": \"m\", \"version\": \"1\", \"description\": \"first\"}");
	expect(200, NULL);
	assert_string_equal(json_string_value(at("model_version", "description")), "first");
	send_json("PATCH", "model-versions/update", "{\"name\": \"m\", \"version\": \"7\"}");
	expect(404, "RESOURCE_DOES_NOT_EXIST");
	/* the proto's version is a string: a number is refused as MLflow's schema refuses it */
	send_json("PATCH", "model-versions/update", "{\"name\": \"m\", \"version\": 1}");
	expect(400, "INVALID_PARAMETER_VALUE");
	expect_msg("Hint: Value was of type 'int'");

	post("model-versions/set-tag",
	     "{\"name\": \"m\", \"version\": \"1\", \"key\": \"k\", \"value\": \"v\"}");
	expect(200, NULL);
	post("model-versions/set-tag",
	     "{\"name\": \"m\", \"version\": \"5\", \"key\": \"k\", \"value\": \"v\"}");
	expect_error(404, "RESOURCE_DOES_NOT_EXIST", "Model Version (name=m, version=5) not found");
	post("model-versions/set-tag",
	     "{\"name\": \"m\", \"version\": \"x\", \"key\": \"bad key!\", \"value\": \"v\"}");
	expect_error(400, "INVALID_PARAMETER_VALUE", "Model version must be an integer, got 'x'");
	post("model-versions/set-tag",
	     "{\"name\": \"m\", \"version\": \"1\", \"key\": \"bad key!\", \"value\": \"v\"}");
	expect(400, "INVALID_PARAMETER_VALUE");
	expect_msg("Invalid tag name: 'bad key!'");
	get("model-versions/get", q, 2);
	expect_msg("\"tags\": [\n      {\n        \"key\": \"k\",\n        \"value\": \"v\"");
	send_json("DELETE", "model-versions/delete-tag",
		  "{\"name\": \"m\", \"version\": \"1\", \"key\": \"k\"}");
	expect(200, NULL);
	send_json("DELETE", "model-versions/delete-tag",
		  "{\"name\": \"m\", \"version\": \"1\", \"key\": \"k\"}");
	expect(200, NULL);
	send_json("DELETE", "model-versions/delete-tag",
		  "{\"name\": \"m\", \"version\": \"3\", \"key\": \"k\"}");
	expect(404, "RESOURCE_DOES_NOT_EXIST");

	send_json("DELETE", "model-versions/delete", "{\"name\": \"m\", \"version\": \"2\"}");
	expect(200, NULL);
	assert_string_equal(ans.body, "{}");
	send_json("DELETE", "model-versions/delete", "{\"name\": \"m\", \"version\": \"2\"}");
	expect_error(404, "RESOURCE_DOES_NOT_EXIST", "Model Version (name=m, version=2) not found");
	/* numbers are never given twice */
	assert_string_equal(new_version("m", "s3://b/m3"), "3");
}

static void test_stages(void **state)
{
	struct http_param q[] = { { "name", "m" }, { "stages", "Production" } };
	struct http_param two[] = { { "name", "m" },
				    { "stages", "None" },
				    { "stages", "Staging" } };

	(void)state;
	post("registered-models/create", "{\"name\": \"m\"}");
	new_version("m", "s3://b/1");
	new_version("m", "s3://b/2");
	new_version("m", "s3://b/3");
	post("model-versions/transition-stage",
	     "{\"name\": \"m\", \"version\": \"1\", \"stage\": \"Bogus\", "
	     "\"archive_existing_versions\": false}");
	expect_error(400, "INVALID_PARAMETER_VALUE",
		     "Invalid Model Version stage: Bogus. Value must be one of None, Staging, "
		     "Production, Archived.");
	post("model-versions/transition-stage",
	     "{\"name\": \"m\", \"version\": \"1\", \"stage\": \"none\", "
	     "\"archive_existing_versions\": true}");
	expect_error(500, "INTERNAL_ERROR",
		     "Model version transition cannot archive existing model versions because "
		     "'none' is not an Active stage. Valid stages are ['Staging', 'Production']");
	post("model-versions/transition-stage",
	     "{\"name\": \"m\", \"version\": \"1\", \"stage\": \"Staging\", "
	     "\"archive_existing_versions\": \"yes\"}");
	expect(400, "INVALID_PARAMETER_VALUE");
	post("model-versions/transition-stage", "{\"name\": \"m\", \"version\": \"1\"}");
	expect(400, "INVALID_PARAMETER_VALUE");
	expect_msg("'stage'");
	post("model-versions/transition-stage",
	     "{\"name\": \"m\", \"version\": \"8\", \"stage\": \"Staging\"}");
	expect_error(404, "RESOURCE_DOES_NOT_EXIST", "Model Version (name=m, version=8) not found");

	/* stage names in any case, answered in MLflow's */
	post("model-versions/transition-stage",
	     "{\"name\": \"m\", \"version\": \"1\", \"stage\": \"production\", "
	     "\"archive_existing_versions\": false}");
	expect(200, NULL);
	assert_string_equal(json_string_value(at("model_version", "current_stage")), "Production");
	post("model-versions/transition-stage",
	     "{\"name\": \"m\", \"version\": \"2\", \"stage\": \"Production\", "
	     "\"archive_existing_versions\": true}");
	expect(200, NULL);
	get("model-versions/get", (struct http_param[]){ { "name", "m" }, { "version", "1" } }, 2);
	assert_string_equal(json_string_value(at("model_version", "current_stage")), "Archived");

	/* newest per stage, in the order the stages first appear walking up the versions */
	get("registered-models/get", q, 1);
	{
		json_t *latest = at("registered_model", "latest_versions");

		assert_int_equal(json_array_size(latest), 3);
		assert_string_equal(
		    json_string_value(json_object_get(json_array_get(latest, 0), "current_stage")),
		    "Archived");
		assert_string_equal(
		    json_string_value(json_object_get(json_array_get(latest, 1), "current_stage")),
		    "Production");
		assert_string_equal(
		    json_string_value(json_object_get(json_array_get(latest, 2), "version")), "3");
	}
	get("registered-models/get-latest-versions", q, 2);
	expect(200, NULL);
	assert_int_equal(json_array_size(at("model_versions", NULL)), 1);
	assert_string_equal(json_string_value(json_object_get(
				json_array_get(at("model_versions", NULL), 0), "version")),
			    "2");
	get("registered-models/get-latest-versions", two, 3);
	assert_int_equal(json_array_size(at("model_versions", NULL)), 1);
	post("registered-models/get-latest-versions", "{\"name\": \"m\"}");
	assert_int_equal(json_array_size(at("model_versions", NULL)), 3);
	post("registered-models/get-latest-versions",
	     "{\"name\": \"m\", \"stages\": [\"Staging\"]}");
	expect(200, NULL);
	assert_string_equal(ans.body, "{}");
	post("registered-models/get-latest-versions", "{\"name\": \"m\", \"stages\": [\"Live\"]}");
	expect(400, "INVALID_PARAMETER_VALUE");
	post("registered-models/get-latest-versions", "{\"name\": \"x\"}");
	expect_error(404, "RESOURCE_DOES_NOT_EXIST", "Registered Model with name=x not found");
}

static void test_aliases(void **state)
{
	struct http_param q[] = { { "name", "m" }, { "alias", "champion" } };
	struct http_param model[] = { { "name", "m" } };

	(void)state;
	post("registered-models/create", "{\"name\": \"m\"}");
	new_version("m", "s3://b/1");
	new_version("m", "s3://b/2");
	post("registered-models/alias",
	     "{\"name\": \"m\", \"alias\": \"champion\", \"version\": \"1\"}");
	expect(200, NULL);
	assert_string_equal(ans.body, "{}");
	get("registered-models/alias", q, 2);
	expect(200, NULL);
	expect_msg("\"run_link\": \"\",\n    \"aliases\": [\n      \"champion\"\n    ]\n  }\n}");
	get("model-versions/get", (struct http_param[]){ { "name", "m" }, { "version", "1" } }, 2);
	expect_msg("\"aliases\": [");
	/* 2.10.2 lists no aliases on versions in searches and latest_versions */
	get("model-versions/search", NULL, 0);
	expect_no("\"aliases\"");
	get("registered-models/get", model, 1);
	expect_msg(
	    "\"aliases\": [\n      {\n        \"alias\": \"champion\",\n        \"version\": "
	    "\"1\"\n      }\n    ]");
	assert_null(json_object_get(json_array_get(at("registered_model", "latest_versions"), 0),
				    "aliases"));

	post("registered-models/alias",
	     "{\"name\": \"m\", \"alias\": \"champion\", \"version\": \"9\"}");
	expect_error(404, "RESOURCE_DOES_NOT_EXIST", "Model Version (name=m, version=9) not found");
	post("registered-models/alias",
	     "{\"name\": \"m\", \"alias\": \"champion\", \"version\": \"0\"}");
	expect_error(404, "RESOURCE_DOES_NOT_EXIST", "Model Version (name=m, version=0) not found");
	post("registered-models/alias",
	     "{\"name\": \"m\", \"alias\": \"Latest\", \"version\": \"1\"}");
	expect_error(400, "INVALID_PARAMETER_VALUE",
		     "'latest' alias name (case insensitive) is reserved.");
	post("registered-models/alias", "{\"name\": \"m\", \"alias\": \"v3\", \"version\": \"1\"}");
	expect_error(400, "INVALID_PARAMETER_VALUE", "Version alias name 'v3' is reserved.");
	post("registered-models/alias",
	     "{\"name\": \"m\", \"alias\": \"a b\", \"version\": \"1\"}");
	expect_error(400, "INVALID_PARAMETER_VALUE",
		     "Invalid alias name: 'a b'. Names may only contain alphanumerics, "
		     "underscores (_), and dashes (-).");
	post("registered-models/alias", "{\"name\": \"m\", \"alias\": \"champion\"}");
	expect(400, "INVALID_PARAMETER_VALUE");
	expect_msg("'version'");
	/* a missing alias is an INVALID_PARAMETER_VALUE in 2.10.2, a 400 */
	get("registered-models/alias", (struct http_param[]){ { "name", "m" }, { "alias", "x" } },
	    2);
	expect_error(400, "INVALID_PARAMETER_VALUE", "Registered model alias x not found.");

	/* ferry's deviation: the version an alias points to stays */
	send_json("DELETE", "model-versions/delete", "{\"name\": \"m\", \"version\": \"1\"}");
	expect(400, "INVALID_PARAMETER_VALUE");
	expect_msg("alias 'champion'");
	post("registered-models/alias",
	     "{\"name\": \"m\", \"alias\": \"champion\", \"version\": \"2\"}");
	expect(200, NULL);
	send_json("DELETE", "model-versions/delete", "{\"name\": \"m\", \"version\": \"1\"}");
	expect(200, NULL);

	send_json("DELETE", "registered-models/alias",
		  "{\"name\": \"m\", \"alias\": \"champion\"}");
	expect(200, NULL);
	assert_string_equal(ans.body, "{}");
	get("registered-models/alias", q, 2);
	expect(400, "INVALID_PARAMETER_VALUE");
	send_json("DELETE", "registered-models/alias",
		  "{\"name\": \"m\", \"alias\": \"champion\"}");
	expect(200, NULL);
	send_json("DELETE", "registered-models/alias",
		  "{\"name\": \"x\", \"alias\": \"champion\"}");
	expect_error(404, "RESOURCE_DOES_NOT_EXIST", "Registered Model with name=x not found");
}

static void test_download_uri(void **state)
{
	struct http_param q[] = { { "name", "m" }, { "version", "1" } };
	char source[128], want[256];

	(void)state;
	new_run();
	post("registered-models/create", "{\"name\": \"m\"}");
	new_version("m", "mlflow-artifacts:/1/abc/artifacts/model");
	get("model-versions/get-download-uri", q, 2);
	expect(200, NULL);
	assert_string_equal(
	    ans.body, "{\n  \"artifact_uri\": \"mlflow-artifacts:/1/abc/artifacts/model\"\n}");
	/* runs:/ sources resolve to the run's artifact root joined with the path */
	snprintf(source, sizeof(source), "runs:/%s/model/sub", run_id);
	new_version("m", source);
	q[1].value = "2";
	get("model-versions/get-download-uri", q, 2);
	snprintf(want, sizeof(want), "mlflow-artifacts:/1/%s/artifacts/model/sub", run_id);
	assert_string_equal(json_string_value(at("artifact_uri", NULL)), want);
	new_version("m", "runs:/0123456789abcdef0123456789abcdef/model");
	q[1].value = "3";
	get("model-versions/get-download-uri", q, 2);
	assert_string_equal(json_string_value(at("artifact_uri", NULL)),
			    "runs:/0123456789abcdef0123456789abcdef/model");
	q[1].value = "4";
	get("model-versions/get-download-uri", q, 2);
	expect(404, "RESOURCE_DOES_NOT_EXIST");
}

static size_t count(const char *key)
{
	return json_array_size(json_object_get(ans.json, key));
}

static void test_search(void **state)
{
	struct http_param like[] = { { "filter", "name LIKE 'm%'" }, { "max_results", "1" } };
	struct http_param page[] = { { "filter", "name LIKE 'm%'" },
				     { "max_results", "1" },
				     { "page_token", NULL } };
	struct http_param desc[] = { { "order_by", "name DESC" } };
	struct http_param created[] = { { "order_by", "creation_timestamp" } };
	struct http_param twice[] = { { "order_by", "name" }, { "order_by", "name DESC" } };
	struct http_param tags[] = { { "filter", "tags.team = 'a'" } };
	struct http_param big[] = { { "max_results", "1001" } };
	struct http_param badtok[] = { { "page_token", "notatoken" } };
	struct http_param badf[] = { { "filter", "name > 'a'" } };
	char *token;

	(void)state;
	post("registered-models/create", "{\"name\": \"m1\", \"tags\": [{\"key\": \"team\", "
					 "\"value\": \"a\"}]}");
	post("registered-models/create", "{\"name\": \"m2\"}");
	post("registered-models/create", "{\"name\": \"x\"}");
	get("registered-models/search", NULL, 0);
	expect(200, NULL);
	assert_int_equal(count("registered_models"), 3);
	assert_null(json_object_get(ans.json, "next_page_token"));
	get("registered-models/search", like, 2);
	expect(200, NULL);
	assert_int_equal(count("registered_models"), 1);
	token = xstrdup(json_string_value(json_object_get(ans.json, "next_page_token")));
	assert_string_equal(token, "eyJvZmZzZXQiOiAxfQ=="); /* {"offset": 1} */
	page[2].value = token;
	get("registered-models/search", page, 3);
	expect_msg("\"name\": \"m2\"");
	assert_null(json_object_get(ans.json, "next_page_token"));
	free(token);
	get("registered-models/search", desc, 1);
	assert_string_equal(
	    json_string_value(json_object_get(
		json_array_get(json_object_get(ans.json, "registered_models"), 0), "name")),
	    "x");
	get("registered-models/search", tags, 1);
	assert_int_equal(count("registered_models"), 1);
	get("registered-models/search", created, 1);
	expect_error(
	    400, "INVALID_PARAMETER_VALUE",
	    "Invalid order by key 'creation_timestamp' specified. Valid keys are '{'name', "
	    "'timestamp'}'");
	get("registered-models/search", twice, 2);
	expect_error(500, "INTERNAL_ERROR",
		     "`order_by` contains duplicate fields: ['name', 'name DESC']");
	get("registered-models/search", big, 1);
	expect_error(
	    400, "INVALID_PARAMETER_VALUE",
	    "Invalid value for request parameter max_results. It must be at most 1000, but "
	    "got value 1001");
	get("registered-models/search", badtok, 1);
	expect(400, "INVALID_PARAMETER_VALUE");
	expect_msg("Invalid page token");
	get("registered-models/search", badf, 1);
	expect_error(400, "INVALID_PARAMETER_VALUE", "Invalid comparator for attribute: >");
	/* registered-models/search is GET only in 2.10.2 */
	for (size_t i = 0; i < fx.routes.nroutes; i++)
		assert_false(
		    !strcmp(fx.routes.routes[i].path, "/api/2.0/mlflow/registered-models/search") &&
		    strcmp(fx.routes.routes[i].method, "GET"));
}

static void test_version_search(void **state)
{
	struct http_param q[] = { { "filter", "name='m' and version_number > 1" } };
	struct http_param ids[] = { { "filter", NULL } };
	struct http_param order[] = { { "order_by", "version_number ASC" },
				      { "max_results", "2" } };
	struct http_param zero[] = { { "max_results", "0" } };
	struct http_param big[] = { { "max_results", "200001" } };
	struct http_param upper[] = { { "filter", "run_id IN ('ABC')" } };
	struct http_param badf[] = { { "filter", "run_id NOT IN ('a')" } };
	char filter[128], body[256];

	(void)state;
	new_run();
	post("registered-models/create", "{\"name\": \"m\"}");
	post("registered-models/create", "{\"name\": \"n\"}");
	new_version("m", "s3://b/1");
	snprintf(body, sizeof(body),
		 "{\"name\": \"m\", \"source\": \"s3://b/2\", \"run_id\": \"%s\"}", run_id);
	post("model-versions/create", body);
	expect(200, NULL);
	new_version("m", "s3://b/3");
	new_version("n", "s3://c/1");
	get("model-versions/search", NULL, 0);
	expect(200, NULL);
	assert_int_equal(count("model_versions"), 4);
	/* MLflow's default order: last_updated_timestamp DESC, name, version_number DESC */
	nanosleep(&(struct timespec){ 0, 5000000 }, NULL); /* a later millisecond */
	post("model-versions/transition-stage",
	     "{\"name\": \"m\", \"version\": \"1\", \"stage\": \"Staging\"}");
	get("model-versions/search", NULL, 0);
	assert_string_equal(json_string_value(json_object_get(
				json_array_get(at("model_versions", NULL), 0), "source")),
			    "s3://b/1");
	get("model-versions/search", q, 1);
	assert_int_equal(count("model_versions"), 2);
	snprintf(filter, sizeof(filter), "run_id = '%s'", run_id);
	ids[0].value = filter;
	get("model-versions/search", ids, 1);
	assert_int_equal(count("model_versions"), 1);
	expect_msg("\"source\": \"s3://b/2\"");
	snprintf(filter, sizeof(filter), "run_id IN ('%s', 'abc')", run_id);
	get("model-versions/search", ids, 1);
	assert_int_equal(count("model_versions"), 1);
	get("model-versions/search", upper, 1);
	expect(200, NULL);
	assert_string_equal(ans.body, "{}");
	get("model-versions/search", order, 2);
	assert_int_equal(count("model_versions"), 2);
	assert_non_null(json_object_get(ans.json, "next_page_token"));
	get("model-versions/search", zero, 1);
	expect_error(400, "INVALID_PARAMETER_VALUE",
		     "Invalid value for max_results. It must be a positive integer, but got 0");
	get("model-versions/search", big, 1);
	expect(400, "INVALID_PARAMETER_VALUE");
	expect_msg("at most 200000");
	get("model-versions/search", badf, 1);
	expect_error(400, "INVALID_PARAMETER_VALUE", "Invalid comparator for attribute: NOT IN");
	get("model-versions/search",
	    (struct http_param[]){ { "order_by", "name" }, { "order_by", "name" } }, 2);
	expect(500, "INTERNAL_ERROR");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_registered_models, setup, teardown),
		cmocka_unit_test_setup_teardown(test_model_versions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_aliases, setup, teardown),
		cmocka_unit_test_setup_teardown(test_download_uri, setup, teardown),
		cmocka_unit_test_setup_teardown(test_search, setup, teardown),
		cmocka_unit_test_setup_teardown(test_version_search, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
