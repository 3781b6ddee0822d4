/*
 * MLflow's logging endpoints: runs/log-metric, runs/log-parameter and runs/log-batch, the
 * batch validated as a whole (limits, names, lengths, duplicates) before one transaction.
 */
#include "util/common.h"
#include "api/mlflow_internal.h"

#include <math.h>

#define CHANGING_PARAMS "Changing param values is not allowed. "

static int metric_from_json(struct mlflow_call *c, struct mlflow_logreq *out, struct error *err)
{
	struct store_metric m = { NULL, 0, 0, 0 };
	const char *run_id = NULL;
	int rc;

	if ((rc = mlflow_request_parse_deferred(c, err)) < 0 ||
	    (rc = mlflow_req_run_id(c, &run_id, err)) < 0 ||
	    (rc = mlflow_req_string(c, "key", &m.key, true, err)) < 0 ||
	    (rc = mlflow_req_double(c, "value", &m.value, true, err)) < 0 ||
	    (rc = mlflow_req_int64(c, "timestamp", &m.timestamp, NULL, true, err)) < 0 ||
	    (rc = mlflow_req_int64(c, "step", &m.step, NULL, false, err)) < 0)
		return rc;
	out->run_id = run_id;
	out->metrics = xmalloc(sizeof(*out->metrics));
	out->metrics[0] = m;
	out->nr_metrics = out->alloc_metrics = 1;
	return 0;
}

int mlflow_log_metric_request(struct mlflow_call *c, struct mlflow_logreq *out, struct error *err)
{
	struct error declined = ERROR_INIT;
	int rc;

	*out = (struct mlflow_logreq)MLFLOW_LOGREQ_INIT;
	if (c->body_deferred &&
	    !mlflow_fastparse_log_metric(out, c->http->body, c->http->body_len, &declined))
		rc = out->run_id ? 0 : mlflow_missing(err, "run_id");
	else
		rc = metric_from_json(c, out, err);
	if (rc >= 0 && (rc = mlflow_validate_metric(out->metrics[0].key, err)) >= 0)
		out->metrics[0].value = mlflow_metric_value(out->metrics[0].value);
	return rc;
}

int mlflow_runs_log_metric(struct mlflow_call *c, struct error *err)
{
	struct mlflow_logreq r = MLFLOW_LOGREQ_INIT;
	struct store_run run = STORE_RUN_INIT;
	int rc;

	if ((rc = mlflow_log_metric_request(c, &r, err)) < 0)
		goto out;
	/*
	 * The run is checked in the write's transaction (one lock round, not two); when that
	 * refuses, reading the run gives MLflow's own message for why.
	 */
	rc = store_run_log_metrics_active(c->st, r.run_id, r.metrics, 1, err);
	if ((rc == ERR_NOTFOUND || rc == ERR_INVALID) &&
	    mlflow_get_active_run(c, &run, r.run_id, err) >= 0)
		rc = error_set(err, ERR_CONFLICT, "run '%s' changed while logging to it", r.run_id);
out:
	store_run_release(&run);
	mlflow_logreq_release(&r);
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

/* MLflow's checks of one entity, once its fields are read. */
static int check_metric(struct store_metric *m, struct error *err)
{
	m->value = mlflow_metric_value(m->value);
	return mlflow_validate_metric(m->key, err);
}

static int check_kv(const struct store_kv *kv, bool param, struct error *err)
{
	return param ? mlflow_validate_param(kv->key, kv->value, err)
		     : mlflow_validate_tag(kv->key, kv->value, err);
}

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
	return check_metric(m, err);
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
	return check_kv(kv, param, err);
}

/* The entities read from jansson's tree, each checked as soon as it is read (MLflow's order). */
static int batch_entities_json(struct mlflow_logreq *b, json_t *metrics, json_t *params,
			       json_t *tags, struct error *err)
{
	size_t i;
	json_t *j;
	int rc;

	b->metrics = xcalloc(b->nr_metrics + 1, sizeof(*b->metrics));
	b->params = xcalloc(b->nr_params + 1, sizeof(*b->params));
	b->tags = xcalloc(b->nr_tags + 1, sizeof(*b->tags));
	json_array_foreach(metrics, i, j)
		if ((rc = batch_metric(&b->metrics[i], j, err)) < 0)
			return rc;
	json_array_foreach(params, i, j)
		if ((rc = batch_kv(&b->params[i], j, true, err)) < 0)
			return rc;
	json_array_foreach(tags, i, j)
		if ((rc = batch_kv(&b->tags[i], j, false, err)) < 0)
			return rc;
	return mlflow_validate_unique_params(b->params, b->nr_params, err);
}

/* The same checks on entities the fast parser read (it declines any it cannot type). */
static int batch_entities_check(struct mlflow_logreq *b, struct error *err)
{
	int rc;

	for (size_t i = 0; i < b->nr_metrics; i++)
		if ((rc = check_metric(&b->metrics[i], err)) < 0)
			return rc;
	for (size_t i = 0; i < b->nr_params; i++)
		if ((rc = check_kv(&b->params[i], true, err)) < 0)
			return rc;
	for (size_t i = 0; i < b->nr_tags; i++)
		if ((rc = check_kv(&b->tags[i], false, err)) < 0)
			return rc;
	return mlflow_validate_unique_params(b->params, b->nr_params, err);
}

static int batch_from_json(struct mlflow_call *c, struct mlflow_logreq *out, bool *entity_error,
			   struct error *err)
{
	json_t *metrics = NULL, *params = NULL, *tags = NULL;
	int rc;

	if ((rc = mlflow_request_parse_deferred(c, err)) < 0 ||
	    (rc = mlflow_req_run_id(c, &out->run_id, err)) < 0 ||
	    (rc = mlflow_req_array(c, "metrics", &metrics, err)) < 0 ||
	    (rc = mlflow_req_array(c, "params", &params, err)) < 0 ||
	    (rc = mlflow_req_array(c, "tags", &tags, err)) < 0)
		return rc;
	out->nr_metrics = json_array_size(metrics);
	out->nr_params = json_array_size(params);
	out->nr_tags = json_array_size(tags);
	if ((rc = mlflow_validate_batch_limits(out->nr_metrics, out->nr_params, out->nr_tags,
					       err)) < 0)
		return rc;
	*entity_error = (rc = batch_entities_json(out, metrics, params, tags, err)) < 0;
	return rc;
}

int mlflow_log_batch_request(struct mlflow_call *c, struct mlflow_logreq *out, bool *entity_error,
			     struct error *err)
{
	struct error declined = ERROR_INIT;
	int rc;

	*out = (struct mlflow_logreq)MLFLOW_LOGREQ_INIT;
	*entity_error = false;
	/* MLflow's order: the run id, limits, then every entity; nothing is written before. */
	if (c->body_deferred &&
	    !mlflow_fastparse_log_batch(out, c->http->body, c->http->body_len, &declined)) {
		if (!out->run_id)
			rc = mlflow_missing(err, "run_id");
		else if ((rc = mlflow_validate_batch_limits(out->nr_metrics, out->nr_params,
							    out->nr_tags, err)) >= 0)
			*entity_error = (rc = batch_entities_check(out, err)) < 0;
	} else {
		rc = batch_from_json(c, out, entity_error, err);
	}
	return rc;
}

int mlflow_runs_log_batch(struct mlflow_call *c, struct error *err)
{
	struct mlflow_logreq b = MLFLOW_LOGREQ_INIT;
	struct store_run run = STORE_RUN_INIT;
	struct store_batch sb;
	bool entity_error = false;
	int rc;

	/*
	 * The store checks the run in the write's transaction; the run is read here only to
	 * answer for it first when an entity is bad, or with MLflow's message when the store
	 * refuses it.
	 */
	if ((rc = mlflow_log_batch_request(c, &b, &entity_error, err)) < 0) {
		if (entity_error) {
			int run_rc = mlflow_get_active_run(c, &run, b.run_id, err);

			rc = run_rc < 0 ? run_rc : rc;
		}
		goto out;
	}
	sb = (struct store_batch){
		b.metrics, b.nr_metrics, b.params, b.nr_params, b.tags, b.nr_tags
	};
	rc = param_conflict(store_run_log_batch(c->st, b.run_id, &sb, err), err);
	if ((rc == ERR_NOTFOUND || rc == ERR_INVALID) &&
	    mlflow_get_active_run(c, &run, b.run_id, err) >= 0)
		rc = error_set(err, ERR_CONFLICT, "run '%s' changed while logging to it", b.run_id);
out:
	mlflow_logreq_release(&b);
	store_run_release(&run);
	return rc;
}
