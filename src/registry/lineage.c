/*
 * A version's lineage (registry_lineage in registry/registry.h): version -> run -> params,
 * metrics, source, environment -> training data -> the pointer file's history in git. This is
 * the answer to "which dataset gave us that F1?".
 */
#include "util/common.h"
#include "registry/registry.h"

#include "data/git.h"
#include "data/pointer.h"
#include "util/fs.h"

static json_t *json_str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *json_parse_or_null(const char *text)
{
	json_t *j = text ? json_loads(text, 0, NULL) : NULL;

	return j ? j : json_null();
}

static json_t *pairs_object(const struct store_pairs *pairs)
{
	json_t *obj = json_object();

	for (size_t i = 0; i < pairs->nr; i++)
		json_object_set_new(obj, pairs->items[i].key,
				    json_str_or_null(pairs->items[i].value));
	return obj;
}

static json_t *version_json(struct store *st, const struct store_model_version *v,
			    struct error *err, int *rc)
{
	struct store_pairs aliases = STORE_PAIRS_INIT;
	json_t *j = json_pack(
	    "{s:s, s:I, s:o, s:o, s:s, s:I, s:o, s:o, s:o}", "name", v->name, "version",
	    (json_int_t)v->version, "source", json_str_or_null(v->source), "digest",
	    json_str_or_null(v->source_digest), "stage", store_stage_name(v->stage), "created",
	    (json_int_t)v->creation_time, "user", json_str_or_null(v->user), "description",
	    json_str_or_null(v->description), "metrics", json_parse_or_null(v->metrics_json));
	json_t *list = json_array();

	*rc = store_model_version_aliases(st, &aliases, v->name, v->version, err);
	for (size_t i = 0; i < aliases.nr; i++)
		json_array_append_new(list, json_string(aliases.items[i].key));
	json_object_set_new(j, "aliases", list);
	store_pairs_release(&aliases);
	return j;
}

/* The run as lineage shows it; NULL when it no longer exists. */
static int run_json(json_t **out, struct store *st, const char *run_id, struct error *err)
{
	struct store_run run = STORE_RUN_INIT;
	struct store_pairs params = STORE_PAIRS_INIT, tags = STORE_PAIRS_INIT;
	struct store_metric_points metrics = STORE_METRIC_POINTS_INIT;
	json_t *m, *env;
	int rc;

	*out = NULL;
	rc = store_run_get(st, &run, run_id, err);
	if (rc == ERR_NOTFOUND)
		return 0;
	if (rc || (rc = store_run_params(st, &params, run_id, err)) ||
	    (rc = store_run_tags(st, &tags, run_id, err)) ||
	    (rc = store_run_latest_metrics(st, &metrics, run_id, err)))
		goto out;
	m = json_object();
	for (size_t i = 0; i < metrics.nr; i++)
		json_object_set_new(m, metrics.items[i].key, json_real(metrics.items[i].value));
	env = json_object();
	for (size_t i = 0; i < tags.nr; i++) {
		const char *name;

		if (skip_prefix(tags.items[i].key, "ferry.env.", &name) && tags.items[i].value)
			json_object_set_new(env, name, json_string(tags.items[i].value));
	}
	*out =
	    json_pack("{s:s, s:o, s:s, s:I, s:o, s:o, s:o, s:b, s:o, s:o, s:o}", "id", run.id,
		      "name", json_str_or_null(run.name), "status",
		      store_run_status_name(run.status), "start_time", (json_int_t)run.start_time,
		      "end_time", run.end_time ? json_integer(run.end_time) : json_null(),
		      "command", json_str_or_null(run.command), "git_commit",
		      json_str_or_null(run.source_git_commit), "git_dirty", run.source_dirty,
		      "params", pairs_object(&params), "metrics", m, "environment", env);
out:
	store_run_release(&run);
	store_pairs_release(&params);
	store_pairs_release(&tags);
	store_metric_points_release(&metrics);
	return rc;
}

/*
 * Every commit of PATH.ferry, newest first, with the digest it recorded and whether that is
 * the digest the model was trained on. Outside git, or for data never tracked: an empty list.
 */
static json_t *pointer_history(const char *root, const char *path, const char *digest)
{
	struct git_pointer_log log = { 0 };
	struct error ignored = ERROR_INIT;
	char *pointer_path = xstrfmt("%s.ferry", path);
	json_t *list = json_array();

	if (root && !git_pointer_log(&log, root, pointer_path, &ignored)) {
		for (size_t i = 0; i < log.nr; i++) {
			const struct git_pointer_version *gv = &log.items[i];
			struct pointer p = POINTER_INIT;
			json_t *entry = json_pack("{s:s, s:o, s:o}", "commit", gv->commit, "date",
						  json_str_or_null(gv->date), "subject",
						  json_str_or_null(gv->subject));

			if (gv->content && !pointer_parse(&p, pointer_path, gv->content,
							  strlen(gv->content), &ignored)) {
				char *d = xstrfmt("sha256:%s", p.hex);

				json_object_set_new(entry, "digest", json_string(d));
				json_object_set_new(entry, "matches",
						    json_boolean(digest && !strcmp(d, digest)));
				free(d);
			} else {
				json_object_set_new(entry, "digest", json_null());
				json_object_set_new(entry, "matches", json_false());
			}
			pointer_release(&p);
			json_array_append_new(list, entry);
		}
	}
	git_pointer_log_release(&log);
	free(pointer_path);
	return list;
}

static int datasets_json(json_t **out, struct store *st, const char *root,
			 const struct store_model_version *v, struct error *err)
{
	struct store_datasets list = STORE_DATASETS_INIT;
	json_t *arr;
	int rc;

	if ((rc = store_model_version_datasets(st, &list, v->name, v->version, err)))
		return rc;
	arr = json_array();
	for (size_t i = 0; i < list.nr; i++) {
		const struct store_dataset *d = &list.items[i];
		const char *path = d->path ? d->path : d->name;

		json_array_append_new(arr,
				      json_pack("{s:o, s:s, s:o, s:o, s:o, s:o}", "path",
						json_str_or_null(path), "digest", d->digest, "size",
						d->size >= 0 ? json_integer(d->size) : json_null(),
						"context", json_str_or_null(d->context),
						"git_commit", json_str_or_null(d->git_commit),
						"history", pointer_history(root, path, d->digest)));
	}
	store_datasets_release(&list);
	*out = arr;
	return 0;
}

int registry_lineage(struct store *st, const char *project_root,
		     const struct store_model_version *v, json_t **out, struct error *err)
{
	json_t *version = NULL, *run = NULL, *datasets = NULL;
	int rc = 0;

	version = version_json(st, v, err, &rc);
	if (!rc && v->run_id)
		rc = run_json(&run, st, v->run_id, err);
	if (!rc)
		rc = datasets_json(&datasets, st, project_root, v, err);
	if (rc) {
		json_decref(version);
		json_decref(run);
		return rc;
	}
	*out = json_pack("{s:o, s:o, s:o}", "version", version, "run", run ? run : json_null(),
			 "datasets", datasets);
	return 0;
}
