/*
 * The model registry's workflows on top of the store (store/store_registry.h): registering a
 * trained model as a new version, resolving a model URI to a version, turning a version into
 * a verified model directory on disk, and tracing a version back to its run and data.
 *
 * A ferry version's files are the artifacts of a run (source "runs:/<run id>/model"), stored in
 * the object cache; source_digest is the model artifact's digest (ml/model.h), which loading
 * verifies. A model registered from a directory gets a run of its own that holds its files, so
 * every version is immutable and self-contained whatever happens to the directory later.
 *
 * Contract as in store.h: 0 or a negative ERR_* with err filled, nothing printed; results are
 * the caller's to release.
 */
#ifndef FERRY_REGISTRY_REGISTRY_H
#define FERRY_REGISTRY_REGISTRY_H

#include <jansson.h>
#include <stdint.h>

#include "registry/model_uri.h"
#include "store/store_registry.h"
#include "util/id.h"

struct cas;
struct error;
struct strbuf;

/* Where a run keeps its model: MLflow's log_model default, and what `ferry train` logs. */
#define REGISTRY_MODEL_ARTIFACT_PATH "model"

struct registry_register_options {
	const char *name;	 /* the registered model; created when missing */
	const char *run_id;	 /* registry_register_run: the run whose model to register */
	const char *description; /* may be NULL */
	const char *user;	 /* may be NULL */
	const struct store_kv *tags;
	size_t nr_tags;
};

/*
 * Registers the ferry model the run logged under model/ as the next version of o->name: source
 * runs:/<run>/model, its artifact digest, signature and evaluation metrics (a snapshot in the
 * version) and the run's input datasets. ERR_NOTFOUND without the run; ERR_INVALID when the run
 * has no ferry model (model/model.json) or it does not read. *out_version gets the number.
 */
int registry_register_run(struct store *st, struct cas *cas, int64_t *out_version,
			  const struct registry_register_options *o, struct error *err);

/*
 * Registers the model artifact directory dir: loads and verifies it, records a run for it (in
 * experiment "Default", named "register <name>", with the model's trainer parameters, metrics
 * and training data as its input) holding the files as artifacts under model/, then registers
 * that run as above. run_id (may be NULL) gets the run's id.
 */
int registry_register_dir(struct store *st, struct cas *cas, int64_t *out_version,
			  char run_id[ID_HEX_LEN + 1], const char *dir,
			  const struct registry_register_options *o, struct error *err);

/*
 * The version a reference names: a number, an alias, the newest version in a stage, or the
 * newest version of all (MODEL_REF_LATEST). A path reference is ERR_INVALID (callers handle
 * paths themselves). ERR_NOTFOUND naming what is missing (model, version, alias, no version in
 * the stage).
 */
int registry_resolve(struct store *st, struct store_model_version *out, const struct model_ref *ref,
		     struct error *err);

/*
 * Makes the files of version v available as a model directory under models_dir (created if
 * missing): models_dir/<artifact digest hex>, checked out from the object cache into a
 * temporary sibling, verified by loading it (weights and artifact digest) against
 * v->source_digest, and renamed into place; an existing directory is verified and reused.
 * Concurrent callers are safe. out gets the directory's path. ERR_UNSUPPORTED for a version
 * whose source is not a ferry model logged as run artifacts.
 */
int registry_materialize(struct store *st, struct cas *cas, const struct store_model_version *v,
			 const char *models_dir, struct strbuf *out, struct error *err);

/*
 * The lineage of version v as a JSON object (the caller's): the version (source, digest,
 * stage, aliases, metrics snapshot), its run (status, times, command, git commit and dirty
 * flag, params, metrics, environment tags), and its training datasets (path, digest, size,
 * context) with, when project_root is a git work tree, every commit of the dataset's pointer
 * file (PATH.ferry) and whether the version's digest is the one that commit recorded. A run
 * deleted since registration leaves "run": null; datasets come from the version itself.
 */
int registry_lineage(struct store *st, const char *project_root,
		     const struct store_model_version *v, json_t **out, struct error *err);

#endif
