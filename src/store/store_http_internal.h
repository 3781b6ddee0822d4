/*
 * What store_http.c (the transport and the ops) and store_http_json.c (MLflow's proto JSON as
 * store structs, MLflow's error codes as ERR_*) share; the unit test uses it too. Not for use
 * outside src/store.
 */
#ifndef FERRY_STORE_STORE_HTTP_INTERNAL_H
#define FERRY_STORE_STORE_HTTP_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "store/store.h"

/*
 * What the MLflow REST API has no field for travels as run tags: the git commit (MLflow's own
 * tag), the dirty flag and the command line (ferry's).
 */
#define STORE_HTTP_TAG_GIT_COMMIT "mlflow.source.git.commit"
#define STORE_HTTP_TAG_DIRTY "ferry.source.dirty"
#define STORE_HTTP_TAG_COMMAND "ferry.command"
/* How runs/log-inputs says what a run used a dataset for. */
#define STORE_HTTP_TAG_CONTEXT "mlflow.data.context"

/* MLflow's per-request log-batch limits (mlflow/utils/validation.py). */
#define STORE_HTTP_BATCH_METRICS 1000
#define STORE_HTTP_BATCH_PARAMS 100
#define STORE_HTTP_BATCH_TAGS 100
/* MLflow's tag value limit (runs/create refuses longer ones). */
#define STORE_HTTP_MAX_TAG_VALUE 5000

/*
 * ferry's code for an MLflow error answer: RESOURCE_DOES_NOT_EXIST is ERR_NOTFOUND,
 * RESOURCE_ALREADY_EXISTS ERR_EXISTS, INVALID_PARAMETER_VALUE ERR_INVALID (ERR_CONFLICT when the
 * message says a param would change), BAD_REQUEST with 405/501 ERR_UNSUPPORTED, anything else
 * ERR_STORE, as is a NULL error_code (an answer that was not MLflow's JSON).
 */
int store_http_error_code(const char *error_code, int status, const char *message);

/* MLflow's ViewType name: ACTIVE_ONLY (also for 0), DELETED_ONLY or ALL. */
const char *store_http_view_name(enum store_view view);

/* A double as proto3 JSON has it: a number, or "NaN", "Infinity", "-Infinity" (new reference). */
json_t *store_http_double_json(double v);
/* The reverse: false if v is neither a number nor one of those strings. */
bool store_http_json_double(const json_t *v, double *out);
/* An int64 from a JSON integer or a decimal string (protobuf's int64 JSON); false otherwise. */
bool store_http_json_int64(const json_t *v, int64_t *out);

/*
 * Parsers of the server's answers. Each fills *out and returns 0, or ERR_STORE naming what is
 * missing or malformed (out untouched). Missing optional fields are proto3's defaults.
 */
/* An Experiment message. */
int store_http_parse_experiment(struct store_experiment *out, const json_t *j, struct error *err);
/* A Run message ({info, data}); the git commit, dirty flag and command come from its tags. */
int store_http_parse_run(struct store_run *out, const json_t *run, struct error *err);
/* [{key, value}...], sorted by key (a missing list is none). */
int store_http_parse_pairs(struct store_pairs *out, const json_t *list, struct error *err);
/* [{key, value, timestamp, step}...] appended to *out (which may already hold points). */
int store_http_parse_metrics(struct store_metric_points *out, const json_t *list,
			     struct error *err);
/* A run's inputs ({dataset_inputs: [{tags, dataset}]}), with their context tag. */
int store_http_parse_inputs(struct store_datasets *out, const json_t *inputs, struct error *err);

#endif
