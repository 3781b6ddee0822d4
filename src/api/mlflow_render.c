/*
 * MLflow's protobuf messages as its server renders them (proto JSON, field-number order,
 * unset fields omitted, int64 as numbers), and the lookups every handler shares.
 */
#include "util/common.h"
#include "api/mlflow_internal.h"
#include "util/strbuf.h"

/* Lookups ------------------------------------------------------------------------------------- */

int mlflow_get_run(struct mlflow_call *c, struct store_run *out, const char *run_id,
		   struct error *err)
{
	int rc = store_run_get(c->st, out, run_id, err);

	if (rc == ERR_NOTFOUND)
		return error_set(err, ERR_NOTFOUND, "Run with id=%s not found", run_id);
	return rc;
}

int mlflow_get_active_run(struct mlflow_call *c, struct store_run *out, const char *run_id,
			  struct error *err)
{
	int rc = mlflow_get_run(c, out, run_id, err);

	if (rc < 0 || !out->deleted)
		return rc;
	store_run_release(out);
	return error_set(err, ERR_INVALID,
			 "The run %s must be in the 'active' state. Current state is deleted.",
			 run_id);
}

int mlflow_get_experiment(struct mlflow_call *c, struct store_experiment *out, const char *id,
			  struct error *err)
{
	int rc = store_experiment_get(c->st, out, id, err);

	if (rc == ERR_NOTFOUND || rc == ERR_INVALID)
		return error_set(err, ERR_NOTFOUND, "No Experiment with id=%s exists", id);
	return rc;
}

/* Messages ------------------------------------------------------------------------------------ */

char *mlflow_experiment_location(const struct store_experiment *exp)
{
	struct strbuf sb = STRBUF_INIT;

	if (exp->artifact_location && *exp->artifact_location)
		return xstrdup(exp->artifact_location);
	strbuf_addf(&sb, "mlflow-artifacts:/%s", exp->id);
	return strbuf_detach(&sb, NULL);
}

void mlflow_render_pairs(json_t *obj, const char *name, const struct store_pairs *pairs)
{
	json_t *a;

	if (!pairs->nr)
		return;
	a = json_array();
	for (size_t i = 0; i < pairs->nr; i++) {
		json_t *kv = json_object();

		json_object_set_new(kv, "key", json_string(pairs->items[i].key));
		if (pairs->items[i].value)
			json_object_set_new(kv, "value", json_string(pairs->items[i].value));
		json_array_append_new(a, kv);
	}
	json_object_set_new(obj, name, a);
}

int mlflow_render_experiment(struct mlflow_call *c, json_t **out,
			     const struct store_experiment *exp, struct error *err)
{
	struct store_pairs tags = STORE_PAIRS_INIT;
	char *location = NULL;
	json_t *j;
	int rc;

	if ((rc = store_experiment_tags(c->st, &tags, exp->id, err)) < 0)
		return rc;
	location = mlflow_experiment_location(exp);
	j = json_object();
	json_object_set_new(j, "experiment_id", json_string(exp->id));
	json_object_set_new(j, "name", json_string(exp->name));
	json_object_set_new(j, "artifact_location", json_string(location));
	json_object_set_new(j, "lifecycle_stage", json_string(exp->deleted ? "deleted" : "active"));
	json_object_set_new(j, "last_update_time", json_integer(exp->last_update_time));
	json_object_set_new(j, "creation_time", json_integer(exp->creation_time));
	mlflow_render_pairs(j, "tags", &tags);
	*out = j;
	free(location);
	store_pairs_release(&tags);
	return 0;
}

json_t *mlflow_render_run_info(const struct store_run *run)
{
	json_t *j = json_object();
	char *root;

	json_object_set_new(j, "run_uuid", json_string(run->id));
	json_object_set_new(j, "experiment_id", json_string(run->experiment_id));
	if (run->name)
		json_object_set_new(j, "run_name", json_string(run->name));
	json_object_set_new(j, "user_id", json_string(run->user ? run->user : ""));
	json_object_set_new(j, "status", json_string(store_run_status_name(run->status)));
	json_object_set_new(j, "start_time", json_integer(run->start_time));
	if (run->end_time)
		json_object_set_new(j, "end_time", json_integer(run->end_time));
	root = mlflow_run_root_uri(run);
	json_object_set_new(j, "artifact_uri", json_string(root));
	free(root);
	json_object_set_new(j, "lifecycle_stage", json_string(run->deleted ? "deleted" : "active"));
	json_object_set_new(j, "run_id", json_string(run->id));
	return j;
}

json_t *mlflow_render_metric(const struct store_metric_point *p)
{
	json_t *j = json_object();

	json_object_set_new(j, "key", json_string(p->key));
	json_object_set_new(j, "value", mlflow_json_double(p->value));
	json_object_set_new(j, "timestamp", json_integer(p->timestamp));
	json_object_set_new(j, "step", json_integer(p->step));
	return j;
}

static int render_data(struct mlflow_call *c, json_t **out, const char *run_id, struct error *err)
{
	struct store_metric_points metrics = STORE_METRIC_POINTS_INIT;
	struct store_pairs params = STORE_PAIRS_INIT, tags = STORE_PAIRS_INIT;
	json_t *j = NULL;
	int rc;

	if ((rc = store_run_latest_metrics(c->st, &metrics, run_id, err)) < 0 ||
	    (rc = store_run_params(c->st, &params, run_id, err)) < 0 ||
	    (rc = store_run_tags(c->st, &tags, run_id, err)) < 0)
		goto out;
	j = json_object();
	if (metrics.nr) {
		json_t *a = json_array();

		for (size_t i = 0; i < metrics.nr; i++)
			json_array_append_new(a, mlflow_render_metric(&metrics.items[i]));
		json_object_set_new(j, "metrics", a);
	}
	mlflow_render_pairs(j, "params", &params);
	mlflow_render_pairs(j, "tags", &tags);
	*out = j;
out:
	store_metric_points_release(&metrics);
	store_pairs_release(&params);
	store_pairs_release(&tags);
	return rc;
}

static json_t *render_dataset_input(const struct store_dataset *ds)
{
	json_t *in = json_object(), *d = json_object();

	if (ds->context && *ds->context) {
		json_t *tags = json_array(), *tag = json_object();

		json_object_set_new(tag, "key", json_string("mlflow.data.context"));
		json_object_set_new(tag, "value", json_string(ds->context));
		json_array_append_new(tags, tag);
		json_object_set_new(in, "tags", tags);
	}
	json_object_set_new(d, "name", json_string(ds->name ? ds->name : ""));
	json_object_set_new(d, "digest", json_string(ds->digest ? ds->digest : ""));
	json_object_set_new(d, "source_type", json_string(ds->source_type ? ds->source_type : ""));
	json_object_set_new(d, "source", json_string(ds->source ? ds->source : ""));
	json_object_set_new(in, "dataset", d);
	return in;
}

static int render_inputs(struct mlflow_call *c, json_t **out, const char *run_id, struct error *err)
{
	struct store_datasets list = STORE_DATASETS_INIT;
	json_t *j;
	int rc;

	if ((rc = store_run_inputs(c->st, &list, run_id, err)) < 0)
		return rc;
	j = json_object();
	if (list.nr) {
		json_t *a = json_array();

		for (size_t i = 0; i < list.nr; i++)
			json_array_append_new(a, render_dataset_input(&list.items[i]));
		json_object_set_new(j, "dataset_inputs", a);
	}
	*out = j;
	store_datasets_release(&list);
	return 0;
}

int mlflow_render_run(struct mlflow_call *c, json_t **out, const char *run_id, bool inputs,
		      struct error *err)
{
	struct store_run run = STORE_RUN_INIT;
	json_t *j = NULL, *data = NULL, *in = NULL;
	int rc;

	if ((rc = mlflow_get_run(c, &run, run_id, err)) < 0 ||
	    (rc = render_data(c, &data, run_id, err)) < 0 ||
	    (inputs && (rc = render_inputs(c, &in, run_id, err)) < 0))
		goto out;
	j = json_object();
	json_object_set_new(j, "info", mlflow_render_run_info(&run));
	json_object_set_new(j, "data", data);
	data = NULL;
	if (in) {
		json_object_set_new(j, "inputs", in);
		in = NULL;
	}
	*out = j;
out:
	json_decref(data);
	json_decref(in);
	store_run_release(&run);
	return rc;
}
