/*
 * MLflow's logging endpoints: runs/log-metric, runs/log-parameter and runs/log-batch, the
 * batch validated as a whole (limits, names, lengths, duplicates) before one transaction.
 */
#include "util/common.h"
#include "api/mlflow_internal.h"

#include <math.h>

#define CHANGING_PARAMS "Changing param values is not allowed. "

int mlflow_runs_log_metric(struct mlflow_call *c, struct error *err)
{
	struct store_metric m = { NULL, 0, 0, 0 };
	struct store_run run = STORE_RUN_INIT;
	const char *run_id = NULL;
	int rc;

	if ((rc = mlflow_req_run_id(c, &run_id, err)) < 0 ||
	    (rc = mlflow_req_string(c, "key", &m.key, true, err)) < 0 ||
	    (rc = mlflow_req_double(c, "value", &m.value, true, err)) < 0 ||
	    (rc = mlflow_req_int64(c, "timestamp", &m.timestamp, NULL, true, err)) < 0 ||
	    (rc = mlflow_req_int64(c, "step", &m.step, NULL, false, err)) < 0 ||
	    (rc = mlflow_validate_metric(m.key, err)) < 0)
		goto out;
	m.value = mlflow_metric_value(m.value);
	/*
	 * The run is checked in the write's transaction (one lock round, not two); when that
	 * refuses, reading the run gives MLflow's own message for why.
	 */
	rc = store_run_log_metrics_active(c->st, run_id, &m, 1, err);
	if ((rc == ERR_NOTFOUND || rc == ERR_INVALID) &&
	    mlflow_get_active_run(c, &run, run_id, err) >= 0)
		rc = error_set(err, ERR_CONFLICT, "run '%s' changed while logging to it", run_id);
out:
	store_run_release(&run);
	return rc;
}

static int param_conflict(int rc, struct error *err)
{
	if (rc == ERR_CONFLICT)
		error_prefix(err, CHANGING_PARAMS);
	return rc;
}

int mlflow_runs_log_parameter(struct mlflow_call *c, struct error *err)
{
	struct store_run run = STORE_RUN_INIT;
	const char *run_id = NULL, *key = NULL, *value = NULL;
	int rc;

	if ((rc = mlflow_req_run_id(c, &run_id, err)) < 0 ||
	    (rc = mlflow_req_string(c, "key", &key, true, err)) < 0 ||
	    (rc = mlflow_req_string(c, "value", &value, true, err)) < 0 ||
	    (rc = mlflow_validate_param(key, value, err)) < 0 ||
	    (rc = mlflow_get_active_run(c, &run, run_id, err)) < 0)
		goto out;
	rc = param_conflict(store_run_log_param(c->st, run_id, key, value, err), err);
out:
	store_run_release(&run);
	return rc;
}

/* Log-batch ----------------------------------------------------------------------------------- */

struct batch {
	json_t *metrics, *params, *tags; /* borrowed from the request */
	struct store_metric *m;
	struct store_kv *p, *t;
	size_t nm, np, nt;
};

/* A Metric message: missing fields are protobuf's defaults, the key is then "" (invalid). */
static int batch_metric(struct store_metric *m, const json_t *j, struct error *err)
{
	int rc;

	m->key = "";
	if (!json_is_object(j))
		return error_set(err, ERR_INVALID,
				 "Invalid value for parameter 'metrics' "
				 "supplied: expected a list of objects");
	if ((rc = mlflow_obj_string(j, "key", &m->key, false, err)) < 0 ||
	    (rc = mlflow_obj_double(j, "value", &m->value, false, err)) < 0 ||
	    (rc = mlflow_obj_int64(j, "timestamp", &m->timestamp, NULL, false, err)) < 0 ||
	    (rc = mlflow_obj_int64(j, "step", &m->step, NULL, false, err)) < 0)
		return rc;
	m->value = mlflow_metric_value(m->value);
	return mlflow_validate_metric(m->key, err);
}

/* A Param or RunTag message. */
static int batch_kv(struct store_kv *kv, const json_t *j, bool param, struct error *err)
{
	int rc;

	kv->key = "";
	kv->value = "";
	if (!json_is_object(j))
		return error_set(err, ERR_INVALID,
				 "Invalid value for parameter '%s' supplied: expected a list of "
				 "objects",
				 param ? "params" : "tags");
	if ((rc = mlflow_obj_string(j, "key", &kv->key, false, err)) < 0 ||
	    (rc = mlflow_obj_string(j, "value", &kv->value, false, err)) < 0)
		return rc;
	return param ? mlflow_validate_param(kv->key, kv->value, err)
		     : mlflow_validate_tag(kv->key, kv->value, err);
}

static int batch_parse(struct batch *b, struct error *err)
{
	size_t i;
	json_t *j;
	int rc;

	b->m = xcalloc(b->nm + 1, sizeof(*b->m));
	b->p = xcalloc(b->np + 1, sizeof(*b->p));
	b->t = xcalloc(b->nt + 1, sizeof(*b->t));
	json_array_foreach(b->metrics, i, j)
		if ((rc = batch_metric(&b->m[i], j, err)) < 0)
			return rc;
	json_array_foreach(b->params, i, j)
		if ((rc = batch_kv(&b->p[i], j, true, err)) < 0)
			return rc;
	json_array_foreach(b->tags, i, j)
		if ((rc = batch_kv(&b->t[i], j, false, err)) < 0)
			return rc;
	return mlflow_validate_unique_params(b->p, b->np, err);
}

int mlflow_runs_log_batch(struct mlflow_call *c, struct error *err)
{
	struct batch b = { NULL, NULL, NULL, NULL, NULL, NULL, 0, 0, 0 };
	struct store_run run = STORE_RUN_INIT;
	struct store_batch sb;
	const char *run_id = NULL;
	int rc;

	if ((rc = mlflow_req_run_id(c, &run_id, err)) < 0 ||
	    (rc = mlflow_req_array(c, "metrics", &b.metrics, err)) < 0 ||
	    (rc = mlflow_req_array(c, "params", &b.params, err)) < 0 ||
	    (rc = mlflow_req_array(c, "tags", &b.tags, err)) < 0)
		goto out;
	b.nm = json_array_size(b.metrics);
	b.np = json_array_size(b.params);
	b.nt = json_array_size(b.tags);
	/*
	 * MLflow's order: limits, the run, then every entity; nothing is written before. The store
	 * checks the run in the write's transaction; the run is read here only to answer for it
	 * first when an entity is bad, or with MLflow's message when the store refuses it.
	 */
	if ((rc = mlflow_validate_batch_limits(b.nm, b.np, b.nt, err)) < 0)
		goto out;
	if ((rc = batch_parse(&b, err)) < 0) {
		int run_rc = mlflow_get_active_run(c, &run, run_id, err);

		rc = run_rc < 0 ? run_rc : rc;
		goto out;
	}
	sb = (struct store_batch){ b.m, b.nm, b.p, b.np, b.t, b.nt };
	rc = param_conflict(store_run_log_batch(c->st, run_id, &sb, err), err);
	if ((rc == ERR_NOTFOUND || rc == ERR_INVALID) &&
	    mlflow_get_active_run(c, &run, run_id, err) >= 0)
		rc = error_set(err, ERR_CONFLICT, "run '%s' changed while logging to it", run_id);
out:
	free(b.m);
	free(b.p);
	free(b.t);
	store_run_release(&run);
	return rc;
}
