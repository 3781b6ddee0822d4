/*
 * What the MLflow API's files share: the per-request call, request field getters with MLflow's
 * messages, MLflow's validation rules, proto-shaped renderers and Python-style JSON output.
 */
#ifndef FERRY_API_MLFLOW_INTERNAL_H
#define FERRY_API_MLFLOW_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "api/mlflow.h"
#include "api/mlflow_fastparse.h"
#include "store/store.h"

struct cas;

/* One request being handled. */
struct mlflow_call {
	const struct http_request *http;
	json_t *req;		    /* the request's fields: the JSON body, or the query string */
	struct store *st;	    /* checked out of the pool for this request */
	json_t *out;		    /* the response object a handler fills ({} if left empty) */
	const char *err_code;	    /* set with err: an MLflow error code ERR_* cannot express */
	int err_status;		    /* its HTTP status */
	struct http_response *resp; /* raw calls: a handler that fills it itself sets raw */
	bool raw;
	struct cas *cas;	      /* the artifact cache; NULL when artifacts are not served */
	const char *no_artifacts_why; /* why cas is NULL */
	/*
	 * A log-batch or log-metric POST body left unparsed (req is {}) for the handler's fast
	 * parser; mlflow_request_parse_deferred parses it with jansson when that declines.
	 */
	bool body_deferred;
};

typedef int (*mlflow_fn)(struct mlflow_call *c, struct error *err);

/* mlflow.c: runs fn for req (parsing, store checkout, rendering). */
int mlflow_call_run(const struct http_request *req, struct http_response *resp, void *data,
		    mlflow_fn fn, struct error *err);
/*
 * The same for handlers that take raw bodies (artifact uploads) or answer with raw bytes: the
 * request is not parsed (c->req is an empty object; read c->http), and a handler that filled
 * c->resp itself sets c->raw so that c->out is not rendered.
 */
int mlflow_call_run_raw(const struct http_request *req, struct http_response *resp, void *data,
			mlflow_fn fn, struct error *err);
/* Fails with an MLflow error code of its own (e.g. BAD_REQUEST, INVALID_STATE). */
int mlflow_fail(struct mlflow_call *c, struct error *err, const char *code, int status,
		const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* The HTTP status MLflow gives an error code ("RESOURCE_ALREADY_EXISTS": 400, ...). */
int mlflow_error_status(const char *code);

/* mlflow_request.c ---------------------------------------------------------------------------- */

/*
 * The request's fields as an object in *out: for GET with a query string, from the query
 * (repeated keys, x[]=v and x[0]=v become lists); otherwise from the JSON body, which must be
 * application/json for POST/PATCH/DELETE/PUT, and is decoded twice if it is a JSON string.
 * MLflow's 400s on failure (c->err_code set for BAD_REQUEST).
 */
int mlflow_request_parse(struct mlflow_call *c, json_t **out, struct error *err);
/*
 * mlflow_request_parse leaves the JSON body of POST runs/log-batch and runs/log-metric (after
 * checking its content type) to the handler, with c->req an empty object and c->body_deferred
 * set: this parses it into c->req as mlflow_request_parse would have (no-op when not deferred).
 */
int mlflow_request_parse_deferred(struct mlflow_call *c, struct error *err);
/* The getters' text forms: protobuf's int64 ("12", " 12") and double ("NaN", "-Infinity"). */
bool mlflow_parse_int64(const char *s, int64_t *out);
bool mlflow_parse_double(const char *s, double *out);

/*
 * Typed fields with MLflow's messages: a missing required field is "Missing value for required
 * parameter 'key'. ..."; a value of the wrong type is "Invalid value ... for parameter 'key'
 * supplied. ...". Optional missing fields leave *out untouched and set *present (may be NULL)
 * to false. Strings that look like numbers are numbers (query strings, protobuf's int64 JSON).
 */
int mlflow_req_string(struct mlflow_call *c, const char *key, const char **out, bool required,
		      struct error *err);
int mlflow_req_int64(struct mlflow_call *c, const char *key, int64_t *out, bool *present,
		     bool required, struct error *err);
int mlflow_req_double(struct mlflow_call *c, const char *key, double *out, bool required,
		      struct error *err);
/* An array field (a single value becomes a one-element array): borrowed, NULL if absent. */
int mlflow_req_array(struct mlflow_call *c, const char *key, json_t **out, struct error *err);
/* run_id, else run_uuid (the Python client sends both); required. */
int mlflow_req_run_id(struct mlflow_call *c, const char **out, struct error *err);
/* Same getters on an element of a request array (e.g. one metric of log-batch). */
int mlflow_obj_string(const json_t *obj, const char *key, const char **out, bool required,
		      struct error *err);
int mlflow_obj_int64(const json_t *obj, const char *key, int64_t *out, bool *present, bool required,
		     struct error *err);
int mlflow_obj_double(const json_t *obj, const char *key, double *out, bool required,
		      struct error *err);
/* "Missing value for required parameter '%s'. ..." as ERR_INVALID. */
int mlflow_missing(struct error *err, const char *key);

/* mlflow_logging.c ---------------------------------------------------------------------------- */

/*
 * A log-metric / log-batch request's fields, read by mlflow_fastparse.c when the body was
 * deferred and it takes it, else from jansson's tree, then checked as MLflow does, in its order
 * (run id, limits, each entity): MLflow's 400s on failure, with *entity_error set when an entity
 * was at fault (MLflow then answers for a missing run first). *out is the caller's to release,
 * failure or not (out->run_id stays readable).
 */
int mlflow_log_metric_request(struct mlflow_call *c, struct mlflow_logreq *out, struct error *err);
int mlflow_log_batch_request(struct mlflow_call *c, struct mlflow_logreq *out, bool *entity_error,
			     struct error *err);

/* mlflow_validate.c --------------------------------------------------------------------------- */

#define MLFLOW_MAX_KEY_LENGTH 250
#define MLFLOW_MAX_PARAM_VALUE 6000
#define MLFLOW_MAX_TAG_VALUE 5000
#define MLFLOW_MAX_BATCH_METRICS 1000
#define MLFLOW_MAX_BATCH_PARAMS_TAGS 100
#define MLFLOW_MAX_BATCH_ENTITIES 1000
#define MLFLOW_MAX_RESULTS 50000

/* kind: "metric", "parameter" or "tag": the name rules of mlflow/utils/validation.py. */
int mlflow_validate_key(const char *kind, const char *key, struct error *err);
int mlflow_validate_param(const char *key, const char *value, struct error *err);
int mlflow_validate_tag(const char *key, const char *value, struct error *err);
int mlflow_validate_metric(const char *key, struct error *err);
int mlflow_validate_batch_limits(size_t metrics, size_t params, size_t tags, struct error *err);
/* "Duplicate parameter keys have been submitted: [...]" */
int mlflow_validate_unique_params(const struct store_kv *params, size_t nr, struct error *err);
/* MLflow's sqlite store keeps +-inf as +-DBL_MAX. */
double mlflow_metric_value(double v);

/* mlflow_render.c ----------------------------------------------------------------------------- */

/* "mlflow-artifacts:/<id>" unless the experiment has its own location; caller frees. */
char *mlflow_experiment_location(const struct store_experiment *exp);
/* Experiment proto with its tags. */
int mlflow_render_experiment(struct mlflow_call *c, json_t **out,
			     const struct store_experiment *exp, struct error *err);
json_t *mlflow_render_run_info(const struct store_run *run);
/*
 * The run's artifact_uri, or for runs made without one (ferry train, ferry run) the root the
 * artifact proxy serves them at, mlflow-artifacts:/<exp>/<run_id>/artifacts; caller frees.
 */
char *mlflow_run_root_uri(const struct store_run *run);
json_t *mlflow_render_metric(const struct store_metric_point *p);
/* A whole Run: info, data (latest metrics, params, tags) and, with inputs, inputs. */
int mlflow_render_run(struct mlflow_call *c, json_t **out, const char *run_id, bool inputs,
		      struct error *err);
/* Adds [{key, value}...] as obj[name] unless there are none. */
void mlflow_render_pairs(json_t *obj, const char *name, const struct store_pairs *pairs);

/* Common lookups with MLflow's messages ------------------------------------------------------- */

/* 404 "Run with id=<id> not found" */
int mlflow_get_run(struct mlflow_call *c, struct store_run *out, const char *run_id,
		   struct error *err);
/* mlflow_get_run, then 400 unless the run is active (MLflow's _check_run_is_active). */
int mlflow_get_active_run(struct mlflow_call *c, struct store_run *out, const char *run_id,
			  struct error *err);
/* 404 "No Experiment with id=<id> exists" */
int mlflow_get_experiment(struct mlflow_call *c, struct store_experiment *out, const char *id,
			  struct error *err);

/* mlflow_json.c ------------------------------------------------------------------------------- */

/*
 * Appends j as Python's json.dumps(j, indent=indent) writes it (indent < 0: json.dumps(j)):
 * ", " and ": " separators, non-ASCII as \uXXXX, doubles as Python's repr (0.1, 1.0, 1e-05,
 * 1.7976931348623157e+308).
 */
void mlflow_json_write(struct strbuf *sb, const json_t *j, int indent);
/* A double as proto3 JSON has it: a number, or "NaN"/"Infinity"/"-Infinity" strings. */
json_t *mlflow_json_double(double v);

/* The handlers, by file -------------------------------------------------------------------- */

int mlflow_experiments_create(struct mlflow_call *c, struct error *err);
int mlflow_experiments_get(struct mlflow_call *c, struct error *err);
int mlflow_experiments_get_by_name(struct mlflow_call *c, struct error *err);
int mlflow_experiments_search(struct mlflow_call *c, struct error *err);
int mlflow_experiments_update(struct mlflow_call *c, struct error *err);
int mlflow_experiments_delete(struct mlflow_call *c, struct error *err);
int mlflow_experiments_restore(struct mlflow_call *c, struct error *err);
int mlflow_experiments_set_tag(struct mlflow_call *c, struct error *err);

int mlflow_runs_create(struct mlflow_call *c, struct error *err);
int mlflow_runs_get(struct mlflow_call *c, struct error *err);
int mlflow_runs_update(struct mlflow_call *c, struct error *err);
int mlflow_runs_delete(struct mlflow_call *c, struct error *err);
int mlflow_runs_restore(struct mlflow_call *c, struct error *err);
int mlflow_runs_set_tag(struct mlflow_call *c, struct error *err);
int mlflow_runs_delete_tag(struct mlflow_call *c, struct error *err);
int mlflow_runs_search(struct mlflow_call *c, struct error *err);

int mlflow_runs_log_metric(struct mlflow_call *c, struct error *err);
int mlflow_runs_log_parameter(struct mlflow_call *c, struct error *err);
int mlflow_runs_log_batch(struct mlflow_call *c, struct error *err);
int mlflow_runs_log_model(struct mlflow_call *c, struct error *err);
int mlflow_runs_log_inputs(struct mlflow_call *c, struct error *err);
int mlflow_metrics_get_history(struct mlflow_call *c, struct error *err);
int mlflow_artifacts_list(struct mlflow_call *c, struct error *err);
/* The mlflow-artifacts proxy and the UI's get-artifact (raw calls, mlflow_artifacts.c). */
int mlflow_artifacts_proxy_put(struct mlflow_call *c, struct error *err);
int mlflow_artifacts_proxy_get(struct mlflow_call *c, struct error *err);
int mlflow_artifacts_proxy_delete(struct mlflow_call *c, struct error *err);
int mlflow_artifacts_proxy_list(struct mlflow_call *c, struct error *err);
int mlflow_artifacts_get_artifact(struct mlflow_call *c, struct error *err);

/* The model registry (mlflow_registry.c, mlflow_model_versions.c). */
int mlflow_registered_models_create(struct mlflow_call *c, struct error *err);
int mlflow_registered_models_get(struct mlflow_call *c, struct error *err);
int mlflow_registered_models_search(struct mlflow_call *c, struct error *err);
int mlflow_registered_models_rename(struct mlflow_call *c, struct error *err);
int mlflow_registered_models_update(struct mlflow_call *c, struct error *err);
int mlflow_registered_models_delete(struct mlflow_call *c, struct error *err);
int mlflow_registered_models_set_tag(struct mlflow_call *c, struct error *err);
int mlflow_registered_models_delete_tag(struct mlflow_call *c, struct error *err);
int mlflow_registered_models_get_latest_versions(struct mlflow_call *c, struct error *err);
int mlflow_registered_models_alias_set(struct mlflow_call *c, struct error *err);
int mlflow_registered_models_alias_get(struct mlflow_call *c, struct error *err);
int mlflow_registered_models_alias_delete(struct mlflow_call *c, struct error *err);
int mlflow_model_versions_create(struct mlflow_call *c, struct error *err);
int mlflow_model_versions_get(struct mlflow_call *c, struct error *err);
int mlflow_model_versions_search(struct mlflow_call *c, struct error *err);
int mlflow_model_versions_update(struct mlflow_call *c, struct error *err);
int mlflow_model_versions_transition_stage(struct mlflow_call *c, struct error *err);
int mlflow_model_versions_delete(struct mlflow_call *c, struct error *err);
int mlflow_model_versions_set_tag(struct mlflow_call *c, struct error *err);
int mlflow_model_versions_delete_tag(struct mlflow_call *c, struct error *err);
int mlflow_model_versions_get_download_uri(struct mlflow_call *c, struct error *err);

#endif
