/*
 * What the MLflow model registry handlers (mlflow_registry.c, mlflow_model_versions.c) share:
 * request getters with MLflow's messages, the registry's validation rules, and RegisteredModel /
 * ModelVersion rendered as MLflow 2.10.2's server renders them.
 */
#ifndef FERRY_API_MLFLOW_REGISTRY_INTERNAL_H
#define FERRY_API_MLFLOW_REGISTRY_INTERNAL_H

#include "api/mlflow_internal.h"
#include "store/store_registry.h"

/* A request --------------------------------------------------------------------------------- */

/*
 * True for a GET with a query string. MLflow 2.10.2 runs its handlers' schema checks on JSON
 * bodies only, so a check such a request skips is skipped here too (the store's checks remain).
 */
bool mlflow_req_is_query(const struct mlflow_call *c);
/*
 * A version number as MLflow takes it: a string holding a decimal integer (the proto's version
 * fields are strings). ERR_INVALID "Model version must be an integer, got 'x'" otherwise.
 */
int mlflow_parse_version(int64_t *out, const char *text, struct error *err);
/* The required string field "version", parsed as above. */
int mlflow_req_version(struct mlflow_call *c, int64_t *out, struct error *err);
/*
 * A repeated string field (order_by, stages) as an array of strings borrowed from the request;
 * the caller frees *out (not the strings). Absent: *out NULL, *nr 0.
 */
int mlflow_req_strings(struct mlflow_call *c, const char *key, const char ***out, size_t *nr,
		       struct error *err);
/*
 * A search's max_results: the handler's "at most max" check for JSON requests (MLflow's
 * "Invalid value N for parameter 'max_results' supplied. ..."), *present false when absent.
 */
int mlflow_req_max_results(struct mlflow_call *c, int64_t *out, bool *present, int64_t max,
			   struct error *err);
/*
 * The request's tags[] ({key, value}) checked with the rules for kind ("Registered model" or
 * "Model version"); keys and values are borrowed from the request, *out is the caller's.
 */
int mlflow_req_registry_tags(struct mlflow_call *c, const char *kind, struct store_kv **out,
			     size_t *nr, struct error *err);

/* Validation -------------------------------------------------------------------------------- */

/*
 * A tag of a registered model or model version (kind as above): MLflow's tag name rules, keys of
 * at most 250 and values of at most 5000 characters ("Model version value '...' had length ...").
 */
int mlflow_validate_registry_tag(const char *kind, const char *key, const char *value,
				 struct error *err);
/* MLflow's alias rules and messages (store_alias_check's rules, validation.py's words). */
int mlflow_validate_alias(const char *alias, struct error *err);

/* Lookups ----------------------------------------------------------------------------------- */

/* ERR_NOTFOUND "Model Version (name=NAME, version=N) not found". */
int mlflow_version_notfound(const char *name, int64_t version, struct error *err);
/* store_model_version_get; versions below 1 are not found too (the store calls them invalid). */
int mlflow_get_model_version(struct mlflow_call *c, struct store_model_version *out,
			     const char *name, int64_t version, struct error *err);

/* Rendering --------------------------------------------------------------------------------- */

/*
 * A ModelVersion in proto field order with its tags and, with aliases, its aliases (2.10.2 lists
 * aliases on get, update, transition-stage and registered-models/alias, not in searches or
 * latest_versions). description, run_id and run_link are always there, "" when unset.
 */
int mlflow_render_model_version(struct mlflow_call *c, json_t **out,
				const struct store_model_version *v, bool aliases,
				struct error *err);
/*
 * The newest version of each stage of model name in MLflow's order: stages in the order their
 * lowest-numbered version has them (a dict filled walking the versions upwards).
 */
int mlflow_latest_versions(struct mlflow_call *c, struct store_model_versions *out,
			   const char *name, struct error *err);
/* A RegisteredModel with latest_versions, tags and aliases ({alias, version}). */
int mlflow_render_registered_model(struct mlflow_call *c, json_t **out, const struct store_model *m,
				   struct error *err);

#endif
