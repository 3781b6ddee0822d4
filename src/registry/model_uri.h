/*
 * Model references: the "models:/NAME/3" URIs (and plain directory paths) that serve, predict,
 * eval and promote accept, and the shorter "NAME/3", "NAME@alias" that `ferry models` commands take.
 * Parsing only: registry_resolve (registry.h) turns a reference into a version.
 *
 * models:/ URIs follow MLflow 2.10.2's _parse_model_uri (mlflow/store/artifact/utils/models.py):
 *   models:/NAME/3            MODEL_REF_VERSION   a digit-only suffix
 *   models:/NAME/latest       MODEL_REF_LATEST    "latest" in any case
 *   models:/NAME/Production   MODEL_REF_STAGE     any other suffix; None, Staging, Production,
 *                                                 Archived in any case
 *   models:/NAME@champion     MODEL_REF_ALIAS     split at the last '@'
 * The scheme is matched in any case ("MODELS:/m/1"), as Python's urlparse lowercases it. Anything
 * not starting with "models:" is MODEL_REF_PATH, kept byte for byte. As in MLflow, these are
 * refused with MLflow's own message ("Not a proper models:/ URI: URI. Models URIs must be of the
 * form ..."): no '/' after the scheme ("models:m/1"), nothing after it ("models:/"), more than
 * one '/' in the path ("models:/a/b/c"), a blank name or suffix or alias ("models:/ /1",
 * "models:/m/", "models:/m@"), and a bare name ("models:/m": MLflow 2.10.2 has no URI for a whole
 * model; MLflow 3 reads it as a model id, which ferry does not have).
 *
 * Where ferry is stricter than MLflow, which passes these through to fail later or silently:
 *  - a digit-only suffix must be 1..INT64_MAX ("models:/m/0", overflow), and a suffix that starts
 *    with a digit or a sign is a bad version rather than an unknown stage ("models:/m/1x",
 *    "models:/m/-1"): "model uri 'URI': version 'S' is not a positive integer" (or "is too large");
 *  - stages and aliases are checked here, with the store's (MLflow's) messages, unchanged:
 *    store_stage_parse and store_alias_check (store/store_registry.h);
 *  - a registry named in the URI ("models://profile@databricks/m/1") is ERR_UNSUPPORTED, since
 *    ferry has one store ("models:///m/1", an empty one, is accepted as MLflow does);
 *  - a query ("models:/m/1?x=y", which MLflow silently drops) is refused.
 * '#' and ';' are ordinary characters, as in MLflow (no fragments, no path parameters).
 *
 * Model names: anything not blank (ASCII whitespace only) without '/'. MLflow's store accepts any
 * non-empty name, but one with '/' cannot be named by a URI, in MLflow or here. A name may
 * contain '@': aliases cannot (store_alias_check), so the last '@' always starts the alias, as
 * MLflow's rsplit does ("models:/a@b@prod" is model "a@b", alias "prod"; "models:/a@b/3" is
 * version 3 of "a@b"). In the short form this means a bare name with an '@' is always read as
 * NAME@alias: such a model is named with a suffix or an alias only.
 *
 * Errors are ERR_INVALID (ERR_UNSUPPORTED as above) with err filled and *out untouched. The
 * input is echoed in messages, cut to its first 200 bytes.
 */
#ifndef FERRY_REGISTRY_MODEL_URI_H
#define FERRY_REGISTRY_MODEL_URI_H

#include <stdbool.h>
#include <stdint.h>

#include "store/store_registry.h"

struct error;
struct strbuf;

#define MODEL_URI_SCHEME "models:"

enum model_ref_kind {
	MODEL_REF_PATH,	     /* path: a model directory on disk */
	MODEL_REF_VERSION,   /* name, version */
	MODEL_REF_ALIAS,     /* name, alias */
	MODEL_REF_STAGE,     /* name, stage: the newest version in that stage */
	MODEL_REF_LATEST,    /* name: the newest version of all */
	MODEL_REF_NAME_ONLY, /* name: the registered model itself (short form only) */
};

/* Owns its strings; fields that do not apply to kind are NULL / 0 / STORE_STAGE_NONE. */
struct model_ref {
	enum model_ref_kind kind;
	char *name;
	int64_t version; /* >= 1 */
	char *alias;
	enum store_stage stage;
	char *path;
};
#define MODEL_REF_INIT                                                                             \
	{                                                                                          \
		.kind = MODEL_REF_PATH                                                             \
	}

/* Frees the strings and reinitialises r; a no-op on a MODEL_REF_INIT value or NULL. */
void model_ref_release(struct model_ref *r);

/*
 * Reads a "models:/..." URI or, for anything else, a path (see above). An empty string (or NULL)
 * is ERR_INVALID ("model uri is empty").
 */
int model_uri_parse(struct model_ref *out, const char *uri, struct error *err);

/*
 * Reads ferry's command-line shorthand: "NAME/3", "NAME/latest", "NAME/Staging", "NAME@alias",
 * and with allow_bare_name "NAME" (MODEL_REF_NAME_ONLY); the suffix rules are the URI's. Text
 * starting with "models:" is read as a URI (so commands take either), but never a path. Errors
 * are "model reference 'TEXT': expected NAME, NAME/VERSION, NAME/STAGE, NAME/latest or
 * NAME@ALIAS" (NAME first only with allow_bare_name), "model reference 'churn' names no version:
 * expected churn/VERSION, churn/STAGE, churn/latest or churn@ALIAS" for a bare name without
 * allow_bare_name, or as for URIs.
 */
int model_ref_parse_short(struct model_ref *out, const char *text, bool allow_bare_name,
			  struct error *err);

/*
 * Appends r's canonical text to out: "models:/NAME/3", "models:/NAME@alias",
 * "models:/NAME/Production" (the stage as store_stage_name spells it), "models:/NAME/latest", or
 * the path. model_uri_parse reads it back as the same reference, unless the name has a '?',
 * which no models:/ URI can carry (it starts a query; there is no escaping, as in MLflow). A
 * MODEL_REF_NAME_ONLY has no models:/ form and is written as the bare name, which only
 * model_ref_parse_short reads back.
 */
void model_ref_format(const struct model_ref *r, struct strbuf *out);

/*
 * Appends r in the short form: "NAME/3", "NAME@alias", "NAME/Production", "NAME/latest",
 * "NAME", or the path (for messages; model_ref_parse_short does not read paths).
 * model_ref_parse_short reads it back as the same reference, unless the name starts with
 * "models:" (then it reads a URI; use model_ref_format).
 */
void model_ref_format_short(const struct model_ref *r, struct strbuf *out);

/* Whether a and b name the same thing: same kind and the same fields for that kind. */
bool model_ref_equal(const struct model_ref *a, const struct model_ref *b);

#endif
