/*
 * The MLflow API's route table, its error mapper (MLflow's error codes and status table), the
 * pool of stores the server's threads share, and the call wrapper every handler runs in.
 */
#include "util/common.h"
#include "api/mlflow_internal.h"
#include "data/cas.h"
#include "util/strbuf.h"

#include <pthread.h>

#define DEFAULT_MAX_STORES 16

struct mlflow_api {
	char *store_uri;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct store **idle;
	size_t nidle, alloc;
	unsigned nopen, max;
	struct cas *cas; /* run artifacts; NULL: not served */
	const char *no_artifacts_why;
};

/* Store pool ---------------------------------------------------------------------------------- */

static int pool_get(struct mlflow_api *api, struct store **out, struct error *err)
{
	int rc;

	pthread_mutex_lock(&api->mu);
	while (!api->nidle && api->nopen >= api->max)
		pthread_cond_wait(&api->cv, &api->mu);
	if (api->nidle) {
		*out = api->idle[--api->nidle];
		pthread_mutex_unlock(&api->mu);
		return 0;
	}
	api->nopen++;
	pthread_mutex_unlock(&api->mu);
	if ((rc = store_open(out, api->store_uri, err)) < 0) {
		pthread_mutex_lock(&api->mu);
		api->nopen--;
		pthread_cond_signal(&api->cv);
		pthread_mutex_unlock(&api->mu);
	}
	return rc;
}

static void pool_put(struct mlflow_api *api, struct store *st)
{
	pthread_mutex_lock(&api->mu);
	ALLOC_GROW(api->idle, api->nidle + 1, api->alloc);
	api->idle[api->nidle++] = st;
	pthread_cond_signal(&api->cv);
	pthread_mutex_unlock(&api->mu);
}

int mlflow_api_new(struct mlflow_api **out, const char *store_uri, unsigned max_stores,
		   struct error *err)
{
	struct mlflow_api *api = xcalloc(1, sizeof(*api));
	struct store *st = NULL;
	int rc;

	api->store_uri = xstrdup(store_uri);
	api->max = max_stores ? max_stores : DEFAULT_MAX_STORES;
	pthread_mutex_init(&api->mu, NULL);
	pthread_cond_init(&api->cv, NULL);
	if ((rc = pool_get(api, &st, err)) < 0) {
		mlflow_api_free(api);
		return rc;
	}
	pool_put(api, st);
	*out = api;
	return 0;
}

int mlflow_api_serve_artifacts(struct mlflow_api *api, const char *cache_dir, struct error *err)
{
	struct cas *cas = NULL;
	int rc;

	/* reflink or copy: never hardlink, an upload has no workspace file to share with */
	if ((rc = cas_open(&cas, cache_dir, "reflink,copy", err)) < 0)
		return rc;
	cas_free(api->cas);
	api->cas = cas;
	return 0;
}

void mlflow_api_no_artifacts(struct mlflow_api *api, const char *reason)
{
	api->no_artifacts_why = reason;
}

void mlflow_api_free(struct mlflow_api *api)
{
	if (!api)
		return;
	cas_free(api->cas);
	for (size_t i = 0; i < api->nidle; i++)
		store_close(api->idle[i]);
	free(api->idle);
	pthread_cond_destroy(&api->cv);
	pthread_mutex_destroy(&api->mu);
	free(api->store_uri);
	free(api);
}

/* Errors -------------------------------------------------------------------------------------- */

/* ERROR_CODE_TO_HTTP_STATUS of mlflow/protos/databricks_pb2 as the 2.10.2 server applies it. */
int mlflow_error_status(const char *code)
{
	static const struct {
		const char *code;
		int status;
	} table[] = {
		{ "INVALID_PARAMETER_VALUE", 400 }, { "BAD_REQUEST", 400 },
		{ "RESOURCE_ALREADY_EXISTS", 400 }, { "RESOURCE_DOES_NOT_EXIST", 404 },
		{ "ENDPOINT_NOT_FOUND", 404 },	    { "PERMISSION_DENIED", 403 },
		{ "UNAUTHENTICATED", 401 },	    { "REQUEST_LIMIT_EXCEEDED", 429 },
		{ "RESOURCE_EXHAUSTED", 429 },	    { "ALREADY_EXISTS", 409 },
		{ "RESOURCE_CONFLICT", 409 },	    { "ABORTED", 409 },
		{ "NOT_IMPLEMENTED", 501 },	    { "TEMPORARILY_UNAVAILABLE", 503 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(table); i++)
		if (!strcmp(table[i].code, code))
			return table[i].status;
	return 500;
}

static void render_error(struct http_response *resp, int status, const char *code,
			 const char *message)
{
	json_t *j = json_object();

	json_object_set_new(j, "error_code", json_string(code));
	json_object_set_new(j, "message", json_string(message));
	if (!json_object_get(j, "message"))
		json_object_set_new(j, "message", json_string("(message is not valid UTF-8)"));
	resp->status = status;
	resp->content_type = "application/json";
	strbuf_reset(&resp->body);
	mlflow_json_write(&resp->body, j, -1);
	json_decref(j);
}

/* ferry's error codes as MLflow's; the server also calls this for unknown routes and methods. */
static void map_error(struct http_response *resp, int code, const char *message)
{
	switch (code) {
	case ERR_INVALID:
	case ERR_CONFLICT:
	case ERR_USAGE:
		render_error(resp, 400, "INVALID_PARAMETER_VALUE", message);
		break;
	case ERR_NOTFOUND:
		render_error(resp, 404, "RESOURCE_DOES_NOT_EXIST", message);
		break;
	case ERR_EXISTS:
		render_error(resp, 400, "RESOURCE_ALREADY_EXISTS", message);
		break;
	case ERR_UNSUPPORTED:
		render_error(resp, 405, "BAD_REQUEST", message);
		break;
	case ERR_TOOBIG:
		render_error(resp, 413, "BAD_REQUEST", message);
		break;
	case ERR_AUTH:
		/* what MLflow's auth app answers: 401 with error_code UNAUTHENTICATED */
		render_error(resp, 401, "UNAUTHENTICATED", message);
		break;
	default:
		render_error(resp, 500, "INTERNAL_ERROR", message);
		break;
	}
}

int mlflow_fail(struct mlflow_call *c, struct error *err, const char *code, int status,
		const char *fmt, ...)
{
	char msg[ERROR_MSG_SIZE];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	c->err_code = code;
	c->err_status = status;
	return error_set(err, ERR_INVALID, "%s", msg);
}

/* Calls --------------------------------------------------------------------------------------- */

static int call_run(const struct http_request *req, struct http_response *resp, void *data,
		    mlflow_fn fn, bool raw, struct error *err)
{
	struct mlflow_api *api = data;
	struct mlflow_call c = { .http = req, .req = NULL, .st = NULL, .out = json_object() };
	int rc = 0;

	c.resp = resp;
	c.cas = api->cas;
	c.no_artifacts_why = api->no_artifacts_why;
	if (raw)
		c.req = json_object();
	if ((!raw && (rc = mlflow_request_parse(&c, &c.req, err)) < 0) ||
	    (rc = pool_get(api, &c.st, err)) < 0)
		goto out;
	rc = fn(&c, err);
	pool_put(api, c.st);
	if (rc < 0 || c.raw)
		goto out;
	resp->content_type = "application/json";
	mlflow_json_write(&resp->body, c.out, 2);
out:
	if (rc < 0 && c.err_code) {
		render_error(resp, c.err_status, c.err_code, err->msg);
		rc = 0;
	}
	json_decref(c.req);
	json_decref(c.out);
	return rc;
}

int mlflow_call_run(const struct http_request *req, struct http_response *resp, void *data,
		    mlflow_fn fn, struct error *err)
{
	return call_run(req, resp, data, fn, false, err);
}

int mlflow_call_run_raw(const struct http_request *req, struct http_response *resp, void *data,
			mlflow_fn fn, struct error *err)
{
	return call_run(req, resp, data, fn, true, err);
}

/* Plain routes -------------------------------------------------------------------------------- */

static int text_reply(struct http_response *resp, const char *text)
{
	resp->content_type = "text/html; charset=utf-8";
	strbuf_addstr(&resp->body, text);
	return 0;
}

static int health(const struct http_request *req, struct http_response *resp, void *data,
		  struct error *err)
{
	(void)req, (void)data, (void)err;
	return text_reply(resp, "OK");
}

static int version(const struct http_request *req, struct http_response *resp, void *data,
		   struct error *err)
{
	(void)req, (void)data, (void)err;
	return text_reply(resp, MLFLOW_COMPAT_VERSION);
}

/* The table ----------------------------------------------------------------------------------- */

#define HANDLER(fn)                                                                                \
	static int http_##fn(const struct http_request *req, struct http_response *resp,           \
			     void *data, struct error *err)                                        \
	{                                                                                          \
		return mlflow_call_run(req, resp, data, mlflow_##fn, err);                         \
	}

HANDLER(experiments_create)
HANDLER(experiments_get)
HANDLER(experiments_get_by_name)
HANDLER(experiments_search)
HANDLER(experiments_update)
HANDLER(experiments_delete)
HANDLER(experiments_restore)
HANDLER(experiments_set_tag)
HANDLER(runs_create)
HANDLER(runs_get)
HANDLER(runs_update)
HANDLER(runs_delete)
HANDLER(runs_restore)
HANDLER(runs_set_tag)
HANDLER(runs_delete_tag)
HANDLER(runs_search)
HANDLER(runs_log_metric)
HANDLER(runs_log_parameter)
HANDLER(runs_log_batch)
HANDLER(runs_log_model)
HANDLER(runs_log_inputs)
HANDLER(metrics_get_history)
HANDLER(artifacts_list)
HANDLER(registered_models_create)
HANDLER(registered_models_get)
HANDLER(registered_models_search)
HANDLER(registered_models_rename)
HANDLER(registered_models_update)
HANDLER(registered_models_delete)
HANDLER(registered_models_set_tag)
HANDLER(registered_models_delete_tag)
HANDLER(registered_models_get_latest_versions)
HANDLER(registered_models_alias_set)
HANDLER(registered_models_alias_get)
HANDLER(registered_models_alias_delete)
HANDLER(model_versions_create)
HANDLER(model_versions_get)
HANDLER(model_versions_search)
HANDLER(model_versions_update)
HANDLER(model_versions_transition_stage)
HANDLER(model_versions_delete)
HANDLER(model_versions_set_tag)
HANDLER(model_versions_delete_tag)
HANDLER(model_versions_get_download_uri)

#define RAW_HANDLER(fn)                                                                            \
	static int http_##fn(const struct http_request *req, struct http_response *resp,           \
			     void *data, struct error *err)                                        \
	{                                                                                          \
		return mlflow_call_run_raw(req, resp, data, mlflow_##fn, err);                     \
	}

RAW_HANDLER(artifacts_proxy_put)
RAW_HANDLER(artifacts_proxy_get)
RAW_HANDLER(artifacts_proxy_delete)
RAW_HANDLER(artifacts_proxy_list)
RAW_HANDLER(artifacts_get_artifact)

/* Every route twice: the REST API and the UI's identical /ajax-api copy. */
#define ROUTE(method, path, fn)                                                                    \
	{ method, "/api/2.0/mlflow/" path, 0, http_##fn },                                         \
	{                                                                                          \
		method, "/ajax-api/2.0/mlflow/" path, 0, http_##fn                                 \
	}

/* The artifact proxy: listings at the root (?path=), files below it. */
#define ARTIFACTS_ROUTES(root)                                                                     \
	{ "GET", root, 0, http_artifacts_proxy_list },                                             \
	    { "GET", root "/", 1, http_artifacts_proxy_get },                                      \
	    { "PUT", root "/", 1, http_artifacts_proxy_put },                                      \
	{                                                                                          \
		"DELETE", root "/", 1, http_artifacts_proxy_delete                                 \
	}

static const struct http_route routes[] = {
	{ "GET", "/health", HTTP_ROUTE_PUBLIC, health }, /* a probe needs no token */
	{ "GET", "/version", 0, version },
	ROUTE("POST", "experiments/create", experiments_create),
	ROUTE("GET", "experiments/get", experiments_get),
	ROUTE("GET", "experiments/get-by-name", experiments_get_by_name),
	ROUTE("GET", "experiments/search", experiments_search),
	ROUTE("POST", "experiments/search", experiments_search),
	ROUTE("POST", "experiments/update", experiments_update),
	ROUTE("POST", "experiments/delete", experiments_delete),
	ROUTE("POST", "experiments/restore", experiments_restore),
	ROUTE("POST", "experiments/set-experiment-tag", experiments_set_tag),
	ROUTE("POST", "runs/create", runs_create),
	ROUTE("GET", "runs/get", runs_get),
	ROUTE("POST", "runs/update", runs_update),
	ROUTE("POST", "runs/delete", runs_delete),
	ROUTE("POST", "runs/restore", runs_restore),
	ROUTE("POST", "runs/set-tag", runs_set_tag),
	ROUTE("POST", "runs/delete-tag", runs_delete_tag),
	ROUTE("POST", "runs/search", runs_search),
	ROUTE("POST", "runs/log-metric", runs_log_metric),
	ROUTE("POST", "runs/log-parameter", runs_log_parameter),
	ROUTE("POST", "runs/log-batch", runs_log_batch),
	ROUTE("POST", "runs/log-model", runs_log_model),
	ROUTE("POST", "runs/log-inputs", runs_log_inputs),
	ROUTE("GET", "metrics/get-history", metrics_get_history),
	ROUTE("GET", "artifacts/list", artifacts_list),
	ROUTE("POST", "registered-models/create", registered_models_create),
	ROUTE("GET", "registered-models/get", registered_models_get),
	ROUTE("GET", "registered-models/search", registered_models_search),
	ROUTE("POST", "registered-models/rename", registered_models_rename),
	ROUTE("PATCH", "registered-models/update", registered_models_update),
	ROUTE("DELETE", "registered-models/delete", registered_models_delete),
	ROUTE("POST", "registered-models/set-tag", registered_models_set_tag),
	ROUTE("DELETE", "registered-models/delete-tag", registered_models_delete_tag),
	ROUTE("GET", "registered-models/get-latest-versions",
	      registered_models_get_latest_versions),
	ROUTE("POST", "registered-models/get-latest-versions",
	      registered_models_get_latest_versions),
	ROUTE("POST", "registered-models/alias", registered_models_alias_set),
	ROUTE("GET", "registered-models/alias", registered_models_alias_get),
	ROUTE("DELETE", "registered-models/alias", registered_models_alias_delete),
	ROUTE("POST", "model-versions/create", model_versions_create),
	ROUTE("GET", "model-versions/get", model_versions_get),
	ROUTE("GET", "model-versions/search", model_versions_search),
	ROUTE("PATCH", "model-versions/update", model_versions_update),
	ROUTE("POST", "model-versions/transition-stage", model_versions_transition_stage),
	ROUTE("DELETE", "model-versions/delete", model_versions_delete),
	ROUTE("POST", "model-versions/set-tag", model_versions_set_tag),
	ROUTE("DELETE", "model-versions/delete-tag", model_versions_delete_tag),
	ROUTE("GET", "model-versions/get-download-uri", model_versions_get_download_uri),
	ARTIFACTS_ROUTES("/api/2.0/mlflow-artifacts/artifacts"),
	ARTIFACTS_ROUTES("/ajax-api/2.0/mlflow-artifacts/artifacts"),
	{ "GET", "/get-artifact", 0, http_artifacts_get_artifact },
};

void mlflow_routes(struct http_routes *out, struct mlflow_api *api)
{
	out->routes = routes;
	out->nroutes = ARRAY_SIZE(routes);
	out->data = api;
	out->map_error = map_error;
}
