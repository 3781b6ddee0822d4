/*
 * MLflow's experiments endpoints: create, get, get-by-name, update (rename), delete, restore,
 * set-experiment-tag.
 */
#include "util/common.h"
#include "api/mlflow_internal.h"

/* Checks the request's tags[] ({key, value} objects) as MLflow does. */
static int check_tags(json_t *tags, struct error *err)
{
	size_t i;
	json_t *t;
	int rc;

	json_array_foreach(tags, i, t) {
		const char *key = NULL, *value = NULL;

		if ((rc = mlflow_obj_string(t, "key", &key, true, err)) < 0 ||
		    (rc = mlflow_obj_string(t, "value", &value, false, err)) < 0 ||
		    (rc = mlflow_validate_tag(key, value, err)) < 0)
			return rc;
	}
	return 0;
}

/* Sets checked tags on experiment id. */
static int set_tags(struct mlflow_call *c, const char *id, json_t *tags, struct error *err)
{
	size_t i;
	json_t *t;
	int rc;

	json_array_foreach(tags, i, t) {
		const char *key = json_string_value(json_object_get(t, "key"));
		const char *value = json_string_value(json_object_get(t, "value"));

		if ((rc = store_experiment_set_tag(c->st, id, key, value ? value : "", err)) < 0)
			return rc;
	}
	return 0;
}

int mlflow_experiments_create(struct mlflow_call *c, struct error *err)
{
	const char *name = NULL, *location = NULL;
	json_t *tags = NULL;
	char *id = NULL;
	int rc;

	if ((rc = mlflow_req_string(c, "name", &name, true, err)) < 0 ||
	    (rc = mlflow_req_string(c, "artifact_location", &location, false, err)) < 0 ||
	    (rc = mlflow_req_array(c, "tags", &tags, err)) < 0)
		goto out;
	/* Tags are checked before the experiment exists, so a bad one creates nothing. */
	if (tags && (rc = check_tags(tags, err)) < 0)
		goto out;
	rc =
	    store_experiment_create(c->st, &id, name, location && *location ? location : NULL, err);
	if (rc == ERR_EXISTS)
		rc = error_set(err, ERR_EXISTS, "Experiment(name=%s) already exists.", name);
	if (rc < 0 || (tags && (rc = set_tags(c, id, tags, err)) < 0))
		goto out;
	json_object_set_new(c->out, "experiment_id", json_string(id));
out:
	free(id);
	return rc;
}

static int reply_experiment(struct mlflow_call *c, const struct store_experiment *exp,
			    struct error *err)
{
	json_t *j = NULL;
	int rc;

	if ((rc = mlflow_render_experiment(c, &j, exp, err)) < 0)
		return rc;
	json_object_set_new(c->out, "experiment", j);
	return 0;
}

int mlflow_experiments_get(struct mlflow_call *c, struct error *err)
{
	struct store_experiment exp = STORE_EXPERIMENT_INIT;
	const char *id = NULL;
	int rc;

	if ((rc = mlflow_req_string(c, "experiment_id", &id, true, err)) < 0 ||
	    (rc = mlflow_get_experiment(c, &exp, id, err)) < 0)
		goto out;
	rc = reply_experiment(c, &exp, err);
out:
	store_experiment_release(&exp);
	return rc;
}

int mlflow_experiments_get_by_name(struct mlflow_call *c, struct error *err)
{
	struct store_experiment exp = STORE_EXPERIMENT_INIT;
	const char *name = NULL;
	int rc;

	if ((rc = mlflow_req_string(c, "experiment_name", &name, true, err)) < 0)
		goto out;
	rc = store_experiment_get_by_name(c->st, &exp, name, err);
	if (rc == ERR_NOTFOUND)
		rc = error_set(err, ERR_NOTFOUND, "Could not find experiment with name '%s'", name);
	if (rc < 0)
		goto out;
	rc = reply_experiment(c, &exp, err);
out:
	store_experiment_release(&exp);
	return rc;
}

int mlflow_experiments_update(struct mlflow_call *c, struct error *err)
{
	struct store_experiment exp = STORE_EXPERIMENT_INIT;
	const char *id = NULL, *new_name = NULL;
	int rc;

	if ((rc = mlflow_req_string(c, "experiment_id", &id, true, err)) < 0 ||
	    (rc = mlflow_req_string(c, "new_name", &new_name, true, err)) < 0 ||
	    (rc = mlflow_get_experiment(c, &exp, id, err)) < 0)
		goto out;
	if (exp.deleted) {
		rc = mlflow_fail(c, err, "INVALID_STATE", 500,
				 "Cannot rename a non-active experiment.");
		goto out;
	}
	rc = store_experiment_rename(c->st, id, new_name, err);
	if (rc == ERR_EXISTS)
		rc = error_set(err, ERR_EXISTS, "Experiment(name=%s) already exists.", new_name);
out:
	store_experiment_release(&exp);
	return rc;
}

static int set_deleted(struct mlflow_call *c, bool deleted, struct error *err)
{
	const char *id = NULL;
	int rc;

	if ((rc = mlflow_req_string(c, "experiment_id", &id, true, err)) < 0)
		return rc;
	rc = store_experiment_set_deleted(c->st, id, deleted, err);
	if (rc == ERR_NOTFOUND || rc == ERR_INVALID)
		rc = error_set(err, ERR_NOTFOUND, "No Experiment with id=%s exists", id);
	return rc;
}

int mlflow_experiments_delete(struct mlflow_call *c, struct error *err)
{
	return set_deleted(c, true, err);
}

int mlflow_experiments_restore(struct mlflow_call *c, struct error *err)
{
	return set_deleted(c, false, err);
}

int mlflow_experiments_set_tag(struct mlflow_call *c, struct error *err)
{
	struct store_experiment exp = STORE_EXPERIMENT_INIT;
	const char *id = NULL, *key = NULL, *value = NULL;
	int rc;

	if ((rc = mlflow_req_string(c, "experiment_id", &id, true, err)) < 0 ||
	    (rc = mlflow_req_string(c, "key", &key, true, err)) < 0 ||
	    (rc = mlflow_req_string(c, "value", &value, false, err)) < 0 ||
	    (rc = mlflow_validate_tag(key, value, err)) < 0 ||
	    (rc = mlflow_get_experiment(c, &exp, id, err)) < 0)
		goto out;
	if (exp.deleted) {
		rc = error_set(err, ERR_INVALID,
			       "The experiment %s must be in the 'active' state. Current state is "
			       "deleted.",
			       id);
		goto out;
	}
	rc = store_experiment_set_tag(c->st, id, key, value ? value : "", err);
out:
	store_experiment_release(&exp);
	return rc;
}
