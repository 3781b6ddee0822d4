/*
 * MLflow's runs lifecycle endpoints: create (MLflow's run names and artifact URIs), get,
 * update, delete, restore, set-tag and delete-tag.
 */
#include "util/common.h"
#include "api/mlflow_internal.h"
#include "track/tracking.h"
#include "util/strbuf.h"

#define RUN_NAME_TAG "mlflow.runName"

/* The request's tags[] as store pairs (borrowed from the request), validated. */
static int request_tags(struct store_kv **out, size_t *nr, json_t *tags, struct error *err)
{
	struct store_kv *kv = NULL;
	size_t i, n = tags ? json_array_size(tags) : 0;
	json_t *t;
	int rc = 0;

	if (n)
		kv = xcalloc(n, sizeof(*kv));
	json_array_foreach(tags, i, t) {
		if ((rc = mlflow_obj_string(t, "key", &kv[i].key, true, err)) < 0 ||
		    (rc = mlflow_obj_string(t, "value", &kv[i].value, false, err)) < 0 ||
		    (rc = mlflow_validate_tag(kv[i].key, kv[i].value, err)) < 0) {
			free(kv);
			return rc;
		}
		if (!kv[i].value)
			kv[i].value = "";
	}
	*out = kv;
	*nr = n;
	return 0;
}

static const char *find_tag(const struct store_kv *kv, size_t nr, const char *key)
{
	for (size_t i = 0; i < nr; i++)
		if (!strcmp(kv[i].key, key))
			return kv[i].value;
	return NULL;
}

/* MLflow's _generate_random_name: "adjective-noun-NNN". */
static void random_name(char *out, size_t size, const char *run_id)
{
	uint64_t seed = 0;

	for (size_t i = 0; i < 16 && run_id[i]; i++)
		seed = seed << 4 |
		       (uint64_t)(run_id[i] <= '9' ? run_id[i] - '0' : run_id[i] - 'a' + 10);
	track_run_name(out, size, seed);
}

/* append_to_uri_path(location, run_id, "artifacts") */
static char *artifact_uri(const char *location, const char *run_id)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_addstr(&sb, location);
	if (!ends_with(location, "/"))
		strbuf_addch(&sb, '/');
	strbuf_addf(&sb, "%s/artifacts", run_id);
	return strbuf_detach(&sb, NULL);
}

struct create_req {
	const char *exp_id, *user, *name;
	int64_t start_time;
	struct store_kv *tags;
	size_t nr_tags;
};

static int parse_create(struct mlflow_call *c, struct create_req *r, struct error *err)
{
	json_t *tags = NULL;
	const char *tag_name;
	int rc;

	if ((rc = mlflow_req_string(c, "experiment_id", &r->exp_id, false, err)) < 0 ||
	    (rc = mlflow_req_string(c, "user_id", &r->user, false, err)) < 0 ||
	    (rc = mlflow_req_string(c, "run_name", &r->name, false, err)) < 0 ||
	    (rc = mlflow_req_int64(c, "start_time", &r->start_time, NULL, false, err)) < 0 ||
	    (rc = mlflow_req_array(c, "tags", &tags, err)) < 0 ||
	    (rc = request_tags(&r->tags, &r->nr_tags, tags, err)) < 0)
		return rc;
	if (!r->exp_id || !*r->exp_id)
		r->exp_id = STORE_DEFAULT_EXPERIMENT_ID;
	if (r->name && !*r->name)
		r->name = NULL;
	tag_name = find_tag(r->tags, r->nr_tags, RUN_NAME_TAG);
	if (r->name && tag_name && strcmp(r->name, tag_name))
		return error_set(err, ERR_INVALID,
				 "Both 'run_name' argument and 'mlflow.runName' tag are specified, "
				 "but with different values (run_name='%s', mlflow.runName='%s').",
				 r->name, tag_name);
	if (!r->name)
		r->name = tag_name;
	return 0;
}

static int check_experiment(struct mlflow_call *c, char **location, const char *id,
			    struct error *err)
{
	struct store_experiment exp = STORE_EXPERIMENT_INIT;
	int rc;

	if ((rc = mlflow_get_experiment(c, &exp, id, err)) < 0)
		return rc;
	if (exp.deleted)
		rc = error_set(err, ERR_INVALID,
			       "The experiment %s must be in the 'active' state. Current state is "
			       "deleted.",
			       id);
	else
		*location = mlflow_experiment_location(&exp);
	store_experiment_release(&exp);
	return rc;
}

int mlflow_runs_create(struct mlflow_call *c, struct error *err)
{
	struct create_req r = { NULL, NULL, NULL, 0, NULL, 0 };
	struct store_new_run run = { .status = STORE_RUN_RUNNING };
	char id[ID_HEX_LEN + 1], out_id[ID_HEX_LEN + 1], name[96];
	char *location = NULL, *uri = NULL;
	json_t *j = NULL;
	int rc;

	if ((rc = parse_create(c, &r, err)) < 0 ||
	    (rc = check_experiment(c, &location, r.exp_id, err)) < 0 || (rc = id_new(id, err)) < 0)
		goto out;
	if (!r.name) {
		random_name(name, sizeof(name), id);
		r.name = name;
	}
	if (!find_tag(r.tags, r.nr_tags, RUN_NAME_TAG)) {
		r.tags = xreallocarray(r.tags, r.nr_tags + 1, sizeof(*r.tags));
		r.tags[r.nr_tags].key = RUN_NAME_TAG;
		r.tags[r.nr_tags++].value = r.name;
	}
	uri = artifact_uri(location, id);
	run.id = id;
	run.experiment_id = r.exp_id;
	run.name = r.name;
	run.user = r.user ? r.user : "";
	run.start_time = r.start_time;
	run.artifact_uri = uri;
	run.tags = r.tags;
	run.nr_tags = r.nr_tags;
	if ((rc = store_run_create(c->st, out_id, &run, err)) < 0 ||
	    (rc = mlflow_render_run(c, &j, out_id, false, err)) < 0)
		goto out;
	json_object_set_new(c->out, "run", j);
out:
	free(r.tags);
	free(location);
	free(uri);
	return rc;
}

int mlflow_runs_get(struct mlflow_call *c, struct error *err)
{
	const char *run_id = NULL;
	json_t *j = NULL;
	int rc;

	if ((rc = mlflow_req_run_id(c, &run_id, err)) < 0 ||
	    (rc = mlflow_render_run(c, &j, run_id, true, err)) < 0)
		return rc;
	json_object_set_new(c->out, "run", j);
	return 0;
}

static int parse_status(struct mlflow_call *c, struct store_run_changes *ch, struct error *err)
{
	json_t *v = json_object_get(c->req, "status");
	static const char *const names[] = { "RUNNING", "SCHEDULED", "FINISHED", "FAILED",
					     "KILLED" };
	int rc;

	if (!v || json_is_null(v))
		return 0;
	/* protobuf takes an enum's number too: RUNNING = 1 ... KILLED = 5 */
	if (json_is_integer(v) && json_integer_value(v) >= 1 && json_integer_value(v) <= 5)
		rc = store_run_status_parse(&ch->status, names[json_integer_value(v) - 1], NULL);
	else if (json_is_string(v))
		rc = store_run_status_parse(&ch->status, json_string_value(v), NULL);
	else
		rc = ERR_INVALID;
	if (rc < 0)
		return error_set(err, ERR_INVALID,
				 "Invalid value for parameter 'status' supplied: expected one of "
				 "RUNNING, SCHEDULED, FINISHED, FAILED, KILLED");
	ch->set_status = true;
	return 0;
}

int mlflow_runs_update(struct mlflow_call *c, struct error *err)
{
	struct store_run_changes ch = { false, STORE_RUN_RUNNING, false, 0, NULL };
	struct store_run run = STORE_RUN_INIT;
	const char *run_id = NULL;
	int rc;

	if ((rc = mlflow_req_run_id(c, &run_id, err)) < 0 || (rc = parse_status(c, &ch, err)) < 0 ||
	    (rc = mlflow_req_int64(c, "end_time", &ch.end_time, &ch.set_end_time, false, err)) <
		0 ||
	    (rc = mlflow_req_string(c, "run_name", &ch.name, false, err)) < 0 ||
	    (rc = mlflow_get_active_run(c, &run, run_id, err)) < 0)
		goto out;
	if (ch.name && !*ch.name)
		ch.name = NULL;
	store_run_release(&run);
	if ((rc = store_run_update(c->st, run_id, &ch, err)) < 0 ||
	    (rc = mlflow_get_run(c, &run, run_id, err)) < 0)
		goto out;
	json_object_set_new(c->out, "run_info", mlflow_render_run_info(&run));
out:
	store_run_release(&run);
	return rc;
}

static int set_deleted(struct mlflow_call *c, bool deleted, struct error *err)
{
	const char *run_id = NULL;
	int rc;

	if ((rc = mlflow_req_run_id(c, &run_id, err)) < 0)
		return rc;
	rc = store_run_set_deleted(c->st, run_id, deleted, err);
	if (rc == ERR_NOTFOUND)
		rc = error_set(err, ERR_NOTFOUND, "Run with id=%s not found", run_id);
	return rc;
}

int mlflow_runs_delete(struct mlflow_call *c, struct error *err)
{
	return set_deleted(c, true, err);
}

int mlflow_runs_restore(struct mlflow_call *c, struct error *err)
{
	return set_deleted(c, false, err);
}

int mlflow_runs_set_tag(struct mlflow_call *c, struct error *err)
{
	struct store_run run = STORE_RUN_INIT;
	const char *run_id = NULL, *key = NULL, *value = NULL;
	int rc;

	if ((rc = mlflow_req_run_id(c, &run_id, err)) < 0 ||
	    (rc = mlflow_req_string(c, "key", &key, true, err)) < 0 ||
	    (rc = mlflow_req_string(c, "value", &value, true, err)) < 0 ||
	    (rc = mlflow_validate_tag(key, value, err)) < 0 ||
	    (rc = mlflow_get_active_run(c, &run, run_id, err)) < 0)
		goto out;
	/* MLflow keeps the run's name and its mlflow.runName tag in step. */
	if (!strcmp(key, RUN_NAME_TAG)) {
		struct store_run_changes ch = { false, STORE_RUN_RUNNING, false, 0, value };

		rc = store_run_update(c->st, run_id, &ch, err);
	} else {
		rc = store_run_set_tag(c->st, run_id, key, value, err);
	}
out:
	store_run_release(&run);
	return rc;
}

int mlflow_runs_delete_tag(struct mlflow_call *c, struct error *err)
{
	struct store_run run = STORE_RUN_INIT;
	const char *run_id = NULL, *key = NULL;
	int rc;

	if ((rc = mlflow_req_run_id(c, &run_id, err)) < 0 ||
	    (rc = mlflow_req_string(c, "key", &key, true, err)) < 0 ||
	    (rc = mlflow_get_active_run(c, &run, run_id, err)) < 0)
		goto out;
	rc = store_run_delete_tag(c->st, run_id, key, err);
	if (rc == ERR_NOTFOUND)
		rc = error_set(err, ERR_NOTFOUND, "No tag with name: %s in run with id %s", key,
			       run_id);
out:
	store_run_release(&run);
	return rc;
}
