/*
 * MLflow's runs/log-model (the mlflow.log-model.history tag) and runs/log-inputs (datasets a run
 * used, with their mlflow.data.context tag).
 */
#include "util/common.h"
#include "api/mlflow_internal.h"
#include "util/strbuf.h"

#define MODEL_HISTORY_TAG "mlflow.log-model.history"

/* The model history tag's new value: the old list (if any) with model appended. */
static char *model_history(const struct store_pairs *tags, json_t *model)
{
	struct strbuf sb = STRBUF_INIT;
	json_t *list = NULL;

	for (size_t i = 0; i < tags->nr; i++)
		if (!strcmp(tags->items[i].key, MODEL_HISTORY_TAG) && tags->items[i].value)
			list = json_loads(tags->items[i].value, 0, NULL);
	if (!json_is_array(list)) {
		json_decref(list);
		list = json_array();
	}
	json_array_append(list, model);
	mlflow_json_write(&sb, list, -1);
	json_decref(list);
	return strbuf_detach(&sb, NULL);
}

static int parse_model(json_t **out, const char *text, struct error *err)
{
	static const char *const fields[] = { "artifact_path", "flavors", "utc_time_created",
					      "run_id" };
	struct strbuf missing = STRBUF_INIT;
	json_t *model = json_loads(text, JSON_DECODE_ANY, NULL);

	if (!json_is_object(model)) {
		json_decref(model);
		return error_set(err, ERR_INVALID,
				 "Malformed model info. \n %s \n is not a valid JSON.", text);
	}
	for (size_t i = 0; i < ARRAY_SIZE(fields); i++)
		if (!json_object_get(model, fields[i]))
			strbuf_addf(&missing, "%s'%s'", missing.len ? ", " : "", fields[i]);
	if (missing.len) {
		error_set(err, ERR_INVALID, "Model json is missing mandatory fields: {%s}",
			  missing.buf);
		strbuf_release(&missing);
		json_decref(model);
		return ERR_INVALID;
	}
	*out = model;
	return 0;
}

int mlflow_runs_log_model(struct mlflow_call *c, struct error *err)
{
	struct store_pairs tags = STORE_PAIRS_INIT;
	struct store_run run = STORE_RUN_INIT;
	const char *run_id = NULL, *text = NULL;
	json_t *model = NULL;
	char *value = NULL;
	int rc;

	if ((rc = mlflow_req_run_id(c, &run_id, err)) < 0 ||
	    (rc = mlflow_req_string(c, "model_json", &text, true, err)) < 0 ||
	    (rc = parse_model(&model, text, err)) < 0 ||
	    (rc = mlflow_get_active_run(c, &run, run_id, err)) < 0 ||
	    (rc = store_run_tags(c->st, &tags, run_id, err)) < 0)
		goto out;
	value = model_history(&tags, model);
	rc = store_run_set_tag(c->st, run_id, MODEL_HISTORY_TAG, value, err);
out:
	free(value);
	json_decref(model);
	store_pairs_release(&tags);
	store_run_release(&run);
	return rc;
}

/* A DatasetInput: {"tags": [{key, value}], "dataset": {name, digest, source_type, ...}}. */
static int log_input(struct mlflow_call *c, const char *run_id, const json_t *in, struct error *err)
{
	struct store_new_dataset ds = { .size = -1 };
	const json_t *d = json_object_get(in, "dataset"), *tags = json_object_get(in, "tags");
	const char *context = NULL;
	int64_t id = 0;
	size_t i;
	json_t *t;
	int rc;

	if (!json_is_object(d))
		return mlflow_missing(err, "dataset");
	if ((rc = mlflow_obj_string(d, "name", &ds.name, true, err)) < 0 ||
	    (rc = mlflow_obj_string(d, "digest", &ds.digest, true, err)) < 0 ||
	    (rc = mlflow_obj_string(d, "source_type", &ds.source_type, true, err)) < 0 ||
	    (rc = mlflow_obj_string(d, "source", &ds.source, true, err)) < 0 ||
	    (rc = mlflow_obj_string(d, "schema", &ds.schema_json, false, err)) < 0 ||
	    (rc = mlflow_obj_string(d, "profile", &ds.profile_json, false, err)) < 0)
		return rc;
	json_array_foreach(tags, i, t) {
		const char *key = json_string_value(json_object_get(t, "key"));

		if (key && !strcmp(key, "mlflow.data.context"))
			context = json_string_value(json_object_get(t, "value"));
	}
	if ((rc = store_dataset_record(c->st, &id, &ds, err)) < 0)
		return rc;
	return store_run_add_input(c->st, run_id, id, context, err);
}

int mlflow_runs_log_inputs(struct mlflow_call *c, struct error *err)
{
	struct store_run run = STORE_RUN_INIT;
	const char *run_id = NULL;
	json_t *datasets = NULL, *in;
	size_t i;
	int rc;

	if ((rc = mlflow_req_string(c, "run_id", &run_id, true, err)) < 0 ||
	    (rc = mlflow_req_array(c, "datasets", &datasets, err)) < 0 ||
	    (rc = mlflow_get_active_run(c, &run, run_id, err)) < 0)
		goto out;
	json_array_foreach(datasets, i, in)
		if ((rc = log_input(c, run_id, in, err)) < 0)
			goto out;
out:
	store_run_release(&run);
	return rc;
}
