/*
 * Registering models and loading registered versions (registry/registry.h). A version's files
 * are run artifacts in the object cache; what is registered is what model.json says, checked
 * against its own digest first.
 */
#include "util/common.h"
#include "registry/registry.h"

#include <errno.h>

#include "data/cas.h"
#include "ml/model.h"
#include "track/artifacts.h"
#include "track/tracking.h"
#include "util/fs.h"
#include "util/strbuf.h"

#define MODEL_JSON_MAX (64u << 20)

/* model.json of a run's model, parsed and checked against the artifact digest it carries. */
static int read_model_json(struct store *st, struct cas *cas, const char *run_id, json_t **out,
			   struct error *err)
{
	struct strbuf text = STRBUF_INIT;
	struct store_run run = STORE_RUN_INIT;
	char computed[MODEL_DIGEST_SIZE];
	const char *digest;
	json_error_t jerr;
	json_t *doc = NULL;
	int rc;

	if ((rc = store_run_get(st, &run, run_id, err)))
		goto out;
	rc = track_artifact_read(st, cas, run_id, REGISTRY_MODEL_ARTIFACT_PATH "/model.json", &text,
				 MODEL_JSON_MAX, err);
	if (rc == ERR_NOTFOUND) {
		rc =
		    error_set(err, ERR_INVALID,
			      "run %s has no ferry model: no artifact " REGISTRY_MODEL_ARTIFACT_PATH
			      "/model.json (register a model directory with --artifact DIR)",
			      run_id);
		goto out;
	}
	if (rc)
		goto out;
	doc = json_loadb(text.buf, text.len, 0, &jerr);
	if (!doc || !json_is_object(doc)) {
		rc = error_set(
		    err, ERR_INVALID,
		    "run %s: " REGISTRY_MODEL_ARTIFACT_PATH "/model.json: line %d column %d: %s",
		    run_id, jerr.line, jerr.column, doc ? "expected an object" : jerr.text);
		goto out;
	}
	digest = json_string_value(json_object_get(doc, "digest"));
	model_digest_of(doc, computed);
	if (!digest || strcmp(digest, computed)) {
		rc = error_set(err, ERR_INVALID,
			       "run %s: " REGISTRY_MODEL_ARTIFACT_PATH
			       "/model.json: its digest field %s does not match its content (%s)",
			       run_id, digest ? digest : "(missing)", computed);
		goto out;
	}
	*out = doc;
	doc = NULL;
out:
	json_decref(doc);
	store_run_release(&run);
	strbuf_release(&text);
	return rc;
}

/* The numeric evaluation metrics of model.json, as compact JSON text (NULL if none). */
static char *metrics_snapshot(const json_t *doc)
{
	const json_t *metrics = json_object_get(json_object_get(doc, "evaluation"), "metrics");
	json_t *numbers = json_object();
	const char *key;
	json_t *v;
	char *text;

	json_object_foreach((json_t *)metrics, key, v) {
		if (json_is_number(v))
			json_object_set(numbers, key, v);
	}
	text =
	    json_object_size(numbers) ? json_dumps(numbers, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(numbers);
	return text;
}

int registry_register_run(struct store *st, struct cas *cas, int64_t *out_version,
			  const struct registry_register_options *o, struct error *err)
{
	struct store_datasets inputs = STORE_DATASETS_INIT;
	struct store_new_model_version nv = { 0 };
	struct store_version_dataset *vds = NULL;
	char *source = NULL, *metrics = NULL, *signature = NULL;
	json_t *doc = NULL;
	int rc;

	if ((rc = read_model_json(st, cas, o->run_id, &doc, err)) ||
	    (rc = store_run_inputs(st, &inputs, o->run_id, err)))
		goto out;
	vds = xcalloc(inputs.nr ? inputs.nr : 1, sizeof(*vds));
	for (size_t i = 0; i < inputs.nr; i++)
		vds[i] =
		    (struct store_version_dataset){ inputs.items[i].id, inputs.items[i].context };
	source = xstrfmt("runs:/%s/" REGISTRY_MODEL_ARTIFACT_PATH, o->run_id);
	metrics = metrics_snapshot(doc);
	if (json_object_get(doc, "signature"))
		signature =
		    json_dumps(json_object_get(doc, "signature"), JSON_COMPACT | JSON_SORT_KEYS);
	nv.name = o->name;
	nv.create_model = true;
	nv.source = source;
	nv.source_digest = json_string_value(json_object_get(doc, "digest"));
	nv.run_id = o->run_id;
	nv.description = o->description;
	nv.user = o->user;
	nv.metrics_json = metrics;
	nv.signature_json = signature;
	nv.tags = o->tags;
	nv.nr_tags = o->nr_tags;
	nv.datasets = vds;
	nv.nr_datasets = inputs.nr;
	rc = store_model_version_create(st, out_version, &nv, err);
out:
	free(source);
	free(metrics);
	free(signature);
	free(vds);
	json_decref(doc);
	store_datasets_release(&inputs);
	return rc;
}

/* A run that holds a model directory's files and what its model.json says about training. */
static int record_dir_run(struct store *st, struct cas *cas, const char *run_id, const char *dir,
			  const struct model *m, struct error *err)
{
	const json_t *data = json_object_get(m->meta, "data");
	const json_t *trainer = json_object_get(m->meta, "trainer");
	const json_t *metrics = json_object_get(json_object_get(m->meta, "evaluation"), "metrics");
	struct store_new_dataset ds = { 0 };
	struct store_kv tags[2];
	int64_t dataset_id;
	int rc;

	tags[0] = (struct store_kv){ "ferry.model.path", dir };
	tags[1] = (struct store_kv){ "ferry.model.digest", m->digest };
	if ((rc = store_run_set_tags(st, run_id, tags, ARRAY_SIZE(tags), err)))
		return rc;
	if (json_is_object(json_object_get(trainer, "params")) &&
	    (rc = track_log_params_json(st, run_id, json_object_get(trainer, "params"), err)))
		return rc;
	if (json_is_string(json_object_get(trainer, "name")) &&
	    (rc = store_run_log_param(st, run_id, "model",
				      json_string_value(json_object_get(trainer, "name")), err)))
		return rc;
	if (json_is_object(metrics) && (rc = track_log_metrics_json(st, run_id, metrics, 0, err)))
		return rc;
	ds.path = json_string_value(json_object_get(data, "path"));
	ds.name = ds.path;
	ds.digest = json_string_value(json_object_get(data, "digest"));
	ds.size = -1;
	if (ds.path && ds.digest &&
	    ((rc = store_dataset_record(st, &dataset_id, &ds, err)) ||
	     (rc = store_run_add_input(st, run_id, dataset_id, "training", err))))
		return rc;
	return track_artifact_put_dir(st, cas, run_id, REGISTRY_MODEL_ARTIFACT_PATH, dir, NULL,
				      err);
}

int registry_register_dir(struct store *st, struct cas *cas, int64_t *out_version,
			  char run_id[ID_HEX_LEN + 1], const char *dir,
			  const struct registry_register_options *o, struct error *err)
{
	struct registry_register_options ro = *o;
	struct track_run_options to = { 0 };
	struct error ignored = ERROR_INIT;
	char id[ID_HEX_LEN + 1];
	char *name = xstrfmt("register %s", o->name);
	struct model m;
	int rc;

	model_init(&m);
	if ((rc = model_load(&m, dir, err)))
		goto out;
	to.name = name;
	to.source_name = "ferry models register";
	if ((rc = track_run_start(st, id, &to, err)))
		goto out;
	rc = record_dir_run(st, cas, id, dir, &m, err);
	if (!rc) {
		ro.run_id = id;
		rc = registry_register_run(st, cas, out_version, &ro, err);
	}
	/* the run says how it ended, even when the error is what gets reported */
	if (track_run_end(st, id, rc ? STORE_RUN_FAILED : STORE_RUN_FINISHED,
			  rc ? &ignored : err) &&
	    !rc)
		rc = err && err->code ? err->code : ERR_STORE;
	if (!rc && run_id)
		memcpy(run_id, id, sizeof(id));
out:
	model_release(&m);
	free(name);
	return rc;
}

int registry_resolve(struct store *st, struct store_model_version *out, const struct model_ref *ref,
		     struct error *err)
{
	struct store_model_versions list = STORE_MODEL_VERSIONS_INIT;
	const struct store_model_version *newest = NULL;
	struct store_model model = STORE_MODEL_INIT;
	int64_t version;
	int rc;

	switch (ref->kind) {
	case MODEL_REF_VERSION:
		return store_model_version_get(st, out, ref->name, ref->version, err);
	case MODEL_REF_ALIAS:
		if ((rc = store_model_get(st, &model, ref->name, err)))
			break;
		rc = store_alias_get(st, &version, ref->name, ref->alias, err);
		if (rc == ERR_NOTFOUND)
			rc = error_set(err, ERR_NOTFOUND, "model '%s' has no alias '%s'", ref->name,
				       ref->alias);
		if (!rc)
			rc = store_model_version_get(st, out, ref->name, version, err);
		break;
	case MODEL_REF_STAGE:
	case MODEL_REF_LATEST:
		rc = ref->kind == MODEL_REF_STAGE
			 ? store_model_latest_versions(st, &list, ref->name, &ref->stage, 1, err)
			 : store_model_latest_versions(st, &list, ref->name, NULL, 0, err);
		if (rc)
			break;
		for (size_t i = 0; i < list.nr; i++)
			if (!newest || list.items[i].version > newest->version)
				newest = &list.items[i];
		if (!newest) {
			rc = ref->kind == MODEL_REF_STAGE
				 ? error_set(err, ERR_NOTFOUND,
					     "model '%s' has no version in stage %s", ref->name,
					     store_stage_name(ref->stage))
				 : error_set(err, ERR_NOTFOUND, "model '%s' has no versions",
					     ref->name);
			break;
		}
		rc = store_model_version_get(st, out, ref->name, newest->version, err);
		break;
	default:
		rc = error_set(err, ERR_INVALID, "'%s' is a path, not a registered model",
			       ref->path ? ref->path : "");
	}
	store_model_release(&model);
	store_model_versions_release(&list);
	return rc;
}

/* "runs:/<id>/<path>" into its run id and path (path borrowed from source). */
static int parse_runs_source(char run_id[ID_HEX_LEN + 1], const char **path,
			     const struct store_model_version *v, struct error *err)
{
	const char *rest;

	if (!v->source || !skip_prefix(v->source, "runs:/", &rest) ||
	    strlen(rest) < ID_HEX_LEN + 2 || rest[ID_HEX_LEN] != '/' || !v->source_digest ||
	    strncmp(v->source_digest, "sha256:", 7))
		return error_set(err, ERR_UNSUPPORTED,
				 "version %" PRId64 " of model '%s' comes from '%s', which is not "
				 "a ferry model logged with a run: ferry cannot load it",
				 v->version, v->name, v->source ? v->source : "");
	memcpy(run_id, rest, ID_HEX_LEN);
	run_id[ID_HEX_LEN] = '\0';
	*path = rest + ID_HEX_LEN + 1;
	return 0;
}

/* 0 if dir holds the model with artifact digest digest. */
static int verify_dir(const char *dir, const struct store_model_version *v, struct error *err)
{
	struct model m;
	int rc;

	model_init(&m);
	rc = model_load(&m, dir, err);
	if (!rc && strcmp(m.digest, v->source_digest))
		rc = error_set(err, ERR_INVALID,
			       "version %" PRId64
			       " of model '%s': its files give artifact digest %s, "
			       "the registry recorded %s",
			       v->version, v->name, m.digest, v->source_digest);
	model_release(&m);
	return rc;
}

static int checkout_files(struct store *st, struct cas *cas, const char *run_id, const char *path,
			  const char *tmp, struct error *err)
{
	struct store_artifacts files = STORE_ARTIFACTS_INIT;
	size_t plen = strlen(path);
	int rc;

	if ((rc = store_artifact_list_all(st, &files, run_id, path, err)))
		return rc;
	if (!files.nr)
		rc = error_set(err, ERR_NOTFOUND, "run %s has no artifacts under '%s'", run_id,
			       path);
	for (size_t i = 0; !rc && i < files.nr; i++) {
		const char *rel = files.items[i].path + plen + (plen ? 1 : 0);
		char *dest = fs_path_join(tmp, rel);

		rc = track_artifact_checkout(st, cas, run_id, files.items[i].path, dest, err);
		free(dest);
	}
	store_artifacts_release(&files);
	return rc;
}

int registry_materialize(struct store *st, struct cas *cas, const struct store_model_version *v,
			 const char *models_dir, struct strbuf *out, struct error *err)
{
	char run_id[ID_HEX_LEN + 1];
	struct error ignored = ERROR_INIT;
	char *dir = NULL, *tmp = NULL;
	const char *path = NULL;
	int rc;

	if ((rc = parse_runs_source(run_id, &path, v, err)))
		return rc;
	dir = fs_path_join(models_dir, v->source_digest + strlen("sha256:"));
	if (fs_is_dir(dir)) {
		if (!verify_dir(dir, v, &ignored))
			goto done;
		/* damaged (someone edited it): rebuilt below, the old copy removed */
		if ((rc = fs_remove_tree(dir, err)))
			goto out;
	}
	if ((rc = fs_mkdir_p(models_dir, 0755, err)))
		goto out;
	tmp = xstrfmt("%s/.tmp-XXXXXX", models_dir);
	if (!mkdtemp(tmp)) {
		rc = error_set(err, ERR_IO, "%s: cannot create a directory: %s", models_dir,
			       strerror(errno));
		free(tmp);
		tmp = NULL;
		goto out;
	}
	if ((rc = checkout_files(st, cas, run_id, path, tmp, err)) ||
	    (rc = verify_dir(tmp, v, err)))
		goto out;
	if (rename(tmp, dir)) {
		/* another process materialised it first: use theirs, verified */
		if ((errno != ENOTEMPTY && errno != EEXIST) || verify_dir(dir, v, &ignored)) {
			rc = error_set(err, ERR_IO, "%s: cannot rename into place: %s", dir,
				       strerror(errno));
			goto out;
		}
	} else {
		free(tmp);
		tmp = NULL;
		if ((rc = fs_fsync_dir(models_dir, err)))
			goto out;
	}
done:
	strbuf_addstr(out, dir);
out:
	if (tmp)
		fs_remove_tree(tmp, &ignored);
	free(tmp);
	free(dir);
	return rc;
}
