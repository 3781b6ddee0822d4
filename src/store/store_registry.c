/*
 * The model registry's front end (store/store_registry.h): MLflow's name, alias and stage
 * rules, the argument checks every backend would make the same way, dispatch through struct
 * store_ops, and releasing what the registry hands out.
 */
#include "util/common.h"
#include "store/store_internal.h"
#include "store/store_registry.h"

#include <ctype.h>

/* MLflow's limits for registered-models/search and model-versions/search. */
#define MODEL_SEARCH_DEFAULT 100
#define MODEL_SEARCH_MAX 1000
#define VERSION_SEARCH_DEFAULT 10000
#define VERSION_SEARCH_MAX 200000
#define ALIAS_MAX_LEN 255

static int unsupported(const struct store *st, struct error *err)
{
	return error_set(err, ERR_UNSUPPORTED, "the %s store has no model registry", st->ops->name);
}

/* Stages, names and aliases -------------------------------------------------------------------- */

static const char *const stage_names[] = {
	[STORE_STAGE_NONE] = "None",
	[STORE_STAGE_STAGING] = "Staging",
	[STORE_STAGE_PRODUCTION] = "Production",
	[STORE_STAGE_ARCHIVED] = "Archived",
};

const char *store_stage_name(enum store_stage stage)
{
	if ((size_t)stage >= ARRAY_SIZE(stage_names))
		BUG("unknown model stage %d", (int)stage);
	return stage_names[stage];
}

int store_stage_parse(enum store_stage *out, const char *name, struct error *err)
{
	for (size_t i = 0; name && i < ARRAY_SIZE(stage_names); i++) {
		if (!strcasecmp(name, stage_names[i])) {
			*out = (enum store_stage)i;
			return 0;
		}
	}
	return error_set(err, ERR_INVALID,
			 "Invalid Model Version stage: %s. Value must be one of None, Staging, "
			 "Production, Archived.",
			 name ? name : "");
}

int store_model_name_check(const char *name, struct error *err)
{
	if (!name || !*name)
		return error_set(err, ERR_INVALID, "Registered model name cannot be empty.");
	return 0;
}

/* MLflow's ^[vV]\d+$: what it reserves for "version N" references. */
static bool version_shaped(const char *alias)
{
	const char *p = alias + 1;

	if (*alias != 'v' && *alias != 'V')
		return false;
	if (!*p)
		return false;
	for (; *p; p++)
		if (!isdigit((unsigned char)*p))
			return false;
	return true;
}

int store_alias_check(const char *alias, struct error *err)
{
	size_t len;

	if (!alias || !*alias)
		return error_set(err, ERR_INVALID, "Registered model alias name cannot be empty.");
	len = strlen(alias);
	for (const char *p = alias; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-')
			return error_set(err, ERR_INVALID,
					 "Invalid alias name: '%.300s'. Names may only contain "
					 "alphanumerics, underscores (_), and dashes (-).",
					 alias);
	if (len > ALIAS_MAX_LEN)
		return error_set(err, ERR_INVALID,
				 "Registered model alias name '%.64s...' had length %zu, which "
				 "exceeded length limit of %d",
				 alias, len, ALIAS_MAX_LEN);
	if (!strcasecmp(alias, "latest"))
		return error_set(err, ERR_INVALID,
				 "Invalid alias name: '%s'. 'latest' alias name (case insensitive) "
				 "is reserved.",
				 alias);
	if (version_shaped(alias))
		return error_set(err, ERR_INVALID, "Version alias name '%s' is reserved.", alias);
	return 0;
}

static int check_version(const char *name, int64_t version, struct error *err)
{
	if (version < 1)
		return error_set(err, ERR_INVALID,
				 "invalid version %" PRId64 " of model '%s': versions start at 1",
				 version, name);
	return 0;
}

static int check_name_version(const char *name, int64_t version, struct error *err)
{
	int rc = store_model_name_check(name, err);

	return rc < 0 ? rc : check_version(name, version, err);
}

static int check_tag_key(const char *key, struct error *err)
{
	if (!key || !*key)
		return error_set(err, ERR_INVALID, "tag key must not be empty");
	return 0;
}

static int check_tags(const struct store_kv *tags, size_t nr, struct error *err)
{
	int rc;

	for (size_t i = 0; i < nr; i++)
		if ((rc = check_tag_key(tags[i].key, err)) < 0)
			return rc;
	return 0;
}

/* Registered models ---------------------------------------------------------------------------- */

int store_model_create(struct store *st, const char *name, const char *description,
		       const struct store_kv *tags, size_t nr_tags, struct error *err)
{
	int rc;

	if ((rc = store_model_name_check(name, err)) < 0 ||
	    (rc = check_tags(tags, nr_tags, err)) < 0)
		return rc;
	if (!st->ops->model_create)
		return unsupported(st, err);
	return st->ops->model_create(st, name, description, tags, nr_tags, err);
}

int store_model_get(struct store *st, struct store_model *out, const char *name, struct error *err)
{
	int rc;

	if ((rc = store_model_name_check(name, err)) < 0)
		return rc;
	if (!st->ops->model_get)
		return unsupported(st, err);
	return st->ops->model_get(st, out, name, err);
}

int store_model_rename(struct store *st, const char *name, const char *new_name, struct error *err)
{
	int rc;

	if ((rc = store_model_name_check(name, err)) < 0 ||
	    (rc = store_model_name_check(new_name, err)) < 0)
		return rc;
	if (!st->ops->model_rename)
		return unsupported(st, err);
	return st->ops->model_rename(st, name, new_name, err);
}

int store_model_update(struct store *st, const char *name, const char *description,
		       struct error *err)
{
	int rc;

	if ((rc = store_model_name_check(name, err)) < 0)
		return rc;
	if (!st->ops->model_update)
		return unsupported(st, err);
	return st->ops->model_update(st, name, description, err);
}

int store_model_delete(struct store *st, const char *name, struct error *err)
{
	int rc;

	if ((rc = store_model_name_check(name, err)) < 0)
		return rc;
	if (!st->ops->model_delete)
		return unsupported(st, err);
	return st->ops->model_delete(st, name, err);
}

int store_model_set_tag(struct store *st, const char *name, const char *key, const char *value,
			struct error *err)
{
	int rc;

	if ((rc = store_model_name_check(name, err)) < 0 || (rc = check_tag_key(key, err)) < 0)
		return rc;
	if (!st->ops->model_set_tag)
		return unsupported(st, err);
	return st->ops->model_set_tag(st, name, key, value, err);
}

int store_model_delete_tag(struct store *st, const char *name, const char *key, struct error *err)
{
	int rc;

	if ((rc = store_model_name_check(name, err)) < 0 || (rc = check_tag_key(key, err)) < 0)
		return rc;
	if (!st->ops->model_delete_tag)
		return unsupported(st, err);
	return st->ops->model_delete_tag(st, name, key, err);
}

int store_model_tags(struct store *st, struct store_pairs *out, const char *name, struct error *err)
{
	int rc;

	if ((rc = store_model_name_check(name, err)) < 0)
		return rc;
	if (!st->ops->model_tags)
		return unsupported(st, err);
	return st->ops->model_tags(st, out, name, err);
}

int store_model_aliases(struct store *st, struct store_pairs *out, const char *name,
			struct error *err)
{
	int rc;

	if ((rc = store_model_name_check(name, err)) < 0)
		return rc;
	if (!st->ops->model_aliases)
		return unsupported(st, err);
	return st->ops->model_aliases(st, out, name, err);
}

/* MLflow's max_results rules, with its messages; *out gets the effective limit. */
static int check_limits(int64_t *out, const struct store_model_search *q, int64_t def, int64_t max,
			struct error *err)
{
	if (q->max_results < 0)
		return error_set(err, ERR_INVALID,
				 "Invalid value for max_results. It must be a positive integer, "
				 "but got %" PRId64,
				 q->max_results);
	if (q->max_results > max)
		return error_set(err, ERR_INVALID,
				 "Invalid value for request parameter max_results. It must be at "
				 "most %" PRId64 ", but got value %" PRId64,
				 max, q->max_results);
	if (q->offset < 0)
		return error_set(err, ERR_INVALID, "negative search offset %" PRId64, q->offset);
	*out = q->max_results ? q->max_results : def;
	return 0;
}

int store_model_search(struct store *st, struct store_models *out, char **next_page_token,
		       const struct store_model_search *q, struct error *err)
{
	struct store_model_search s = *q;
	int rc;

	if ((rc = check_limits(&s.max_results, q, MODEL_SEARCH_DEFAULT, MODEL_SEARCH_MAX, err)) < 0)
		return rc;
	if (!st->ops->model_search)
		return unsupported(st, err);
	return st->ops->model_search(st, out, next_page_token, &s, err);
}

/* Model versions ------------------------------------------------------------------------------- */

int store_model_version_create(struct store *st, int64_t *out_version,
			       const struct store_new_model_version *nv, struct error *err)
{
	int rc;

	if ((rc = store_model_name_check(nv->name, err)) < 0 ||
	    (rc = check_tags(nv->tags, nv->nr_tags, err)) < 0)
		return rc;
	if (!nv->source || !*nv->source)
		return error_set(err, ERR_INVALID, "a version of model '%s' needs a source",
				 nv->name);
	if (nv->run_id && !*nv->run_id)
		return error_set(err, ERR_INVALID, "an empty run id for a version of model '%s'",
				 nv->name);
	if (!st->ops->model_version_create)
		return unsupported(st, err);
	return st->ops->model_version_create(st, out_version, nv, err);
}

int store_model_version_get(struct store *st, struct store_model_version *out, const char *name,
			    int64_t version, struct error *err)
{
	int rc;

	if ((rc = check_name_version(name, version, err)) < 0)
		return rc;
	if (!st->ops->model_version_get)
		return unsupported(st, err);
	return st->ops->model_version_get(st, out, name, version, err);
}

int store_model_version_update(struct store *st, const char *name, int64_t version,
			       const char *description, struct error *err)
{
	int rc;

	if ((rc = check_name_version(name, version, err)) < 0)
		return rc;
	if (!st->ops->model_version_update)
		return unsupported(st, err);
	return st->ops->model_version_update(st, name, version, description, err);
}

int store_model_version_delete(struct store *st, const char *name, int64_t version,
			       struct error *err)
{
	int rc;

	if ((rc = check_name_version(name, version, err)) < 0)
		return rc;
	if (!st->ops->model_version_delete)
		return unsupported(st, err);
	return st->ops->model_version_delete(st, name, version, err);
}

int store_model_version_set_tag(struct store *st, const char *name, int64_t version,
				const char *key, const char *value, struct error *err)
{
	int rc;

	if ((rc = check_name_version(name, version, err)) < 0 || (rc = check_tag_key(key, err)) < 0)
		return rc;
	if (!st->ops->model_version_set_tag)
		return unsupported(st, err);
	return st->ops->model_version_set_tag(st, name, version, key, value, err);
}

int store_model_version_delete_tag(struct store *st, const char *name, int64_t version,
				   const char *key, struct error *err)
{
	int rc;

	if ((rc = check_name_version(name, version, err)) < 0 || (rc = check_tag_key(key, err)) < 0)
		return rc;
	if (!st->ops->model_version_delete_tag)
		return unsupported(st, err);
	return st->ops->model_version_delete_tag(st, name, version, key, err);
}

int store_model_version_tags(struct store *st, struct store_pairs *out, const char *name,
			     int64_t version, struct error *err)
{
	int rc;

	if ((rc = check_name_version(name, version, err)) < 0)
		return rc;
	if (!st->ops->model_version_tags)
		return unsupported(st, err);
	return st->ops->model_version_tags(st, out, name, version, err);
}

int store_model_version_aliases(struct store *st, struct store_pairs *out, const char *name,
				int64_t version, struct error *err)
{
	int rc;

	if ((rc = check_name_version(name, version, err)) < 0)
		return rc;
	if (!st->ops->model_version_aliases)
		return unsupported(st, err);
	return st->ops->model_version_aliases(st, out, name, version, err);
}

int store_model_version_datasets(struct store *st, struct store_datasets *out, const char *name,
				 int64_t version, struct error *err)
{
	int rc;

	if ((rc = check_name_version(name, version, err)) < 0)
		return rc;
	if (!st->ops->model_version_datasets)
		return unsupported(st, err);
	return st->ops->model_version_datasets(st, out, name, version, err);
}

int store_model_latest_versions(struct store *st, struct store_model_versions *out,
				const char *name, const enum store_stage *stages, size_t nr,
				struct error *err)
{
	static const enum store_stage all[] = { STORE_STAGE_NONE, STORE_STAGE_STAGING,
						STORE_STAGE_PRODUCTION, STORE_STAGE_ARCHIVED };
	int rc;

	if ((rc = store_model_name_check(name, err)) < 0)
		return rc;
	for (size_t i = 0; i < nr; i++)
		store_stage_name(stages[i]); /* BUG()s on a stage that is not one */
	if (!st->ops->model_latest_versions)
		return unsupported(st, err);
	if (!nr) {
		stages = all;
		nr = ARRAY_SIZE(all);
	}
	return st->ops->model_latest_versions(st, out, name, stages, nr, err);
}

int store_model_version_search(struct store *st, struct store_model_versions *out,
			       char **next_page_token, const struct store_model_search *q,
			       struct error *err)
{
	struct store_model_search s = *q;
	int rc;

	if ((rc = check_limits(&s.max_results, q, VERSION_SEARCH_DEFAULT, VERSION_SEARCH_MAX,
			       err)) < 0)
		return rc;
	if (!st->ops->model_version_search)
		return unsupported(st, err);
	return st->ops->model_version_search(st, out, next_page_token, &s, err);
}

int store_model_version_transition(struct store *st, struct store_model_version *out,
				   const char *name, int64_t version, enum store_stage stage,
				   bool archive_existing, const char *user, const char *reason,
				   struct error *err)
{
	struct store_model_version v = STORE_MODEL_VERSION_INIT;
	int rc;

	if ((rc = check_name_version(name, version, err)) < 0)
		return rc;
	if (archive_existing && stage != STORE_STAGE_STAGING && stage != STORE_STAGE_PRODUCTION)
		return error_set(err, ERR_INVALID,
				 "Model version transition cannot archive existing model versions "
				 "because '%s' is not an Active stage. Valid stages are "
				 "['Staging', 'Production']",
				 store_stage_name(stage));
	store_stage_name(stage); /* BUG()s on a stage that is not one */
	if (!st->ops->model_version_transition)
		return unsupported(st, err);
	rc = st->ops->model_version_transition(st, &v, name, version, stage, archive_existing, user,
					       reason, err);
	if (rc == 0 && out) {
		*out = v;
		return 0;
	}
	store_model_version_release(&v);
	return rc;
}

/* Aliases -------------------------------------------------------------------------------------- */

int store_alias_get(struct store *st, int64_t *out_version, const char *name, const char *alias,
		    struct error *err)
{
	int rc;

	if ((rc = store_model_name_check(name, err)) < 0 ||
	    (rc = store_alias_check(alias, err)) < 0)
		return rc;
	if (!st->ops->alias_get)
		return unsupported(st, err);
	return st->ops->alias_get(st, out_version, name, alias, err);
}

int store_alias_set(struct store *st, int64_t *out_from, const struct store_alias_move *m,
		    struct error *err)
{
	int64_t from = 0;
	int rc;

	if ((rc = store_model_name_check(m->name, err)) < 0 ||
	    (rc = store_alias_check(m->alias, err)) < 0)
		return rc;
	if (m->version < 0)
		return error_set(err, ERR_INVALID,
				 "invalid version %" PRId64 " for alias '%s' of model '%s'",
				 m->version, m->alias, m->name);
	if (m->expect < STORE_ALIAS_ANY)
		return error_set(err, ERR_INVALID,
				 "invalid expected version %" PRId64
				 " for alias '%s' of model '%s'",
				 m->expect, m->alias, m->name);
	if (!st->ops->alias_set)
		return unsupported(st, err);
	if ((rc = st->ops->alias_set(st, &from, m, err)) < 0)
		return rc;
	if (out_from)
		*out_from = from;
	return 0;
}

int store_alias_rollback(struct store *st, int64_t *out_from, int64_t *out_to, const char *name,
			 const char *alias, const char *user, const char *reason, struct error *err)
{
	int64_t from = 0, to = 0;
	int rc;

	if ((rc = store_model_name_check(name, err)) < 0 ||
	    (rc = store_alias_check(alias, err)) < 0)
		return rc;
	if (!st->ops->alias_rollback)
		return unsupported(st, err);
	if ((rc = st->ops->alias_rollback(st, &from, &to, name, alias, user, reason, err)) < 0)
		return rc;
	if (out_from)
		*out_from = from;
	if (out_to)
		*out_to = to;
	return 0;
}

int store_model_history(struct store *st, struct store_registry_events *out, const char *name,
			struct error *err)
{
	int rc;

	if ((rc = store_model_name_check(name, err)) < 0)
		return rc;
	if (!st->ops->model_history)
		return unsupported(st, err);
	return st->ops->model_history(st, out, name, err);
}

/* Releasing ------------------------------------------------------------------------------------ */

void store_model_release(struct store_model *m)
{
	if (!m)
		return;
	free(m->name);
	free(m->description);
	memset(m, 0, sizeof(*m));
}

void store_models_release(struct store_models *list)
{
	if (!list)
		return;
	for (size_t i = 0; i < list->nr; i++)
		store_model_release(&list->items[i]);
	free(list->items);
	memset(list, 0, sizeof(*list));
}

void store_model_version_release(struct store_model_version *v)
{
	if (!v)
		return;
	free(v->name);
	free(v->description);
	free(v->user);
	free(v->source);
	free(v->source_digest);
	free(v->run_id);
	free(v->run_link);
	free(v->status);
	free(v->status_message);
	free(v->metrics_json);
	free(v->signature_json);
	memset(v, 0, sizeof(*v));
}

void store_model_versions_release(struct store_model_versions *list)
{
	if (!list)
		return;
	for (size_t i = 0; i < list->nr; i++)
		store_model_version_release(&list->items[i]);
	free(list->items);
	memset(list, 0, sizeof(*list));
}

void store_registry_events_release(struct store_registry_events *list)
{
	if (!list)
		return;
	for (size_t i = 0; i < list->nr; i++) {
		free(list->items[i].alias);
		free(list->items[i].user);
		free(list->items[i].reason);
	}
	free(list->items);
	memset(list, 0, sizeof(*list));
}
