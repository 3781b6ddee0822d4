/*
 * The model registry handlers' shared part: version numbers, tag and alias rules with MLflow's
 * messages (mlflow/utils/validation.py), and RegisteredModel / ModelVersion rendering.
 */
#include "util/common.h"
#include "api/mlflow_registry_internal.h"
#include "store/search.h"

#include <ctype.h>

#define HINT "See the API docs for more information about request parameters."
#define TAG_KEY_MAX 250
#define TAG_VALUE_MAX 5000
#define ALIAS_MAX 255
/* The most versions MLflow's version search hands out at once: all of one model fit. */
#define ALL_VERSIONS 200000

/* Requests ------------------------------------------------------------------------------------ */

bool mlflow_req_is_query(const struct mlflow_call *c)
{
	return !strcmp(c->http->method, "GET") && c->http->nquery;
}

/* Python's int(text): blanks around, a sign, decimal digits. */
int mlflow_parse_version(int64_t *out, const char *text, struct error *err)
{
	const char *p = text;
	char *end = NULL;
	long long v;

	while (isspace((unsigned char)*p))
		p++;
	if (*p == '+' || *p == '-' ? isdigit((unsigned char)p[1]) : isdigit((unsigned char)*p)) {
		errno = 0;
		v = strtoll(p, &end, 10);
		while (isspace((unsigned char)*end))
			end++;
		if (!errno && !*end) {
			*out = (int64_t)v;
			return 0;
		}
	}
	return error_set(err, ERR_INVALID, "Model version must be an integer, got '%s'", text);
}

int mlflow_req_version(struct mlflow_call *c, int64_t *out, struct error *err)
{
	const char *text = NULL;
	int rc;

	if ((rc = mlflow_req_string(c, "version", &text, true, err)) < 0)
		return rc;
	return mlflow_parse_version(out, text, err);
}

int mlflow_req_strings(struct mlflow_call *c, const char *key, const char ***out, size_t *nr,
		       struct error *err)
{
	const char **list = NULL;
	json_t *a = NULL, *v;
	size_t i;
	int rc;

	if ((rc = mlflow_req_array(c, key, &a, err)) < 0)
		return rc;
	*nr = a ? json_array_size(a) : 0;
	if (*nr)
		list = xcalloc(*nr, sizeof(*list));
	json_array_foreach(a, i, v) {
		if (!json_is_string(v)) {
			free(list);
			return error_set(err, ERR_INVALID,
					 "Invalid value for parameter '%s' supplied: expected a "
					 "list of strings. " HINT,
					 key);
		}
		list[i] = json_string_value(v);
	}
	*out = list;
	return 0;
}

int mlflow_req_max_results(struct mlflow_call *c, int64_t *out, bool *present, int64_t max,
			   struct error *err)
{
	json_t *v = json_object_get(c->req, "max_results");
	char *text;
	int rc;

	if ((rc = mlflow_req_int64(c, "max_results", out, present, false, err)) < 0)
		return rc;
	if (!*present || mlflow_req_is_query(c) || *out <= max)
		return 0;
	text = json_is_string(v) ? xstrdup(json_string_value(v))
				 : json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	rc = error_set(err, ERR_INVALID,
		       "Invalid value %s for parameter 'max_results' supplied. Hint: Value was of "
		       "type '%s'. " HINT,
		       text ? text : "?",
		       json_is_string(v) ? "str"
		       : json_is_real(v) ? "float"
					 : "int");
	free(text);
	return rc;
}

int mlflow_req_registry_tags(struct mlflow_call *c, const char *kind, struct store_kv **out,
			     size_t *nr, struct error *err)
{
	struct store_kv *kv = NULL;
	json_t *tags = NULL, *t;
	size_t i, n;
	int rc;

	if ((rc = mlflow_req_array(c, "tags", &tags, err)) < 0)
		return rc;
	n = tags ? json_array_size(tags) : 0;
	if (n)
		kv = xcalloc(n, sizeof(*kv));
	json_array_foreach(tags, i, t) {
		if ((rc = mlflow_obj_string(t, "key", &kv[i].key, true, err)) < 0 ||
		    (rc = mlflow_obj_string(t, "value", &kv[i].value, false, err)) < 0 ||
		    (rc = mlflow_validate_registry_tag(kind, kv[i].key, kv[i].value, err)) < 0) {
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

/* Validation ---------------------------------------------------------------------------------- */

/* Python's len() of a str: code points. */
static size_t utf8_len(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

static int length_limit(const char *what, size_t limit, const char *value, struct error *err)
{
	size_t len;

	if (!value || (len = utf8_len(value)) <= limit)
		return 0;
	return error_set(err, ERR_INVALID,
			 "%s '%.250s' had length %zu, which exceeded length limit of %zu", what,
			 value, len, limit);
}

int mlflow_validate_registry_tag(const char *kind, const char *key, const char *value,
				 struct error *err)
{
	char what[64];
	int rc;

	if ((rc = mlflow_validate_key("tag", key, err)) < 0)
		return rc;
	snprintf(what, sizeof(what), "%s key", kind);
	if ((rc = length_limit(what, TAG_KEY_MAX, key, err)) < 0)
		return rc;
	snprintf(what, sizeof(what), "%s value", kind);
	return length_limit(what, TAG_VALUE_MAX, value, err);
}

int mlflow_validate_alias(const char *alias, struct error *err)
{
	const unsigned char *p;
	int rc;

	if (!alias || !*alias)
		return error_set(err, ERR_INVALID, "Registered model alias name cannot be empty.");
	/* ^[\w\-]*$ with Python's Unicode \w: the store refuses non-ASCII later, in its words */
	for (p = (const unsigned char *)alias; *p; p++)
		if (!isalnum(*p) && *p != '_' && *p != '-' && *p < 0x80)
			return error_set(err, ERR_INVALID,
					 "Invalid alias name: '%s'. Names may only contain "
					 "alphanumerics, underscores (_), and dashes (-).",
					 alias);
	if ((rc = length_limit("Registered model alias name", ALIAS_MAX, alias, err)) < 0)
		return rc;
	if (!strcasecmp(alias, "latest"))
		return error_set(err, ERR_INVALID,
				 "'latest' alias name (case insensitive) is reserved.");
	if ((alias[0] == 'v' || alias[0] == 'V') && alias[1] &&
	    strspn(alias + 1, "0123456789") == strlen(alias + 1))
		return error_set(err, ERR_INVALID, "Version alias name '%s' is reserved.", alias);
	return store_alias_check(alias, err);
}

/* Lookups ------------------------------------------------------------------------------------- */

int mlflow_version_notfound(const char *name, int64_t version, struct error *err)
{
	return error_set(err, ERR_NOTFOUND,
			 "Model Version (name=%s, version=%" PRId64 ") not found", name, version);
}

int mlflow_get_model_version(struct mlflow_call *c, struct store_model_version *out,
			     const char *name, int64_t version, struct error *err)
{
	if (version < 1)
		return mlflow_version_notfound(name, version, err);
	return store_model_version_get(c->st, out, name, version, err);
}

/* Rendering ----------------------------------------------------------------------------------- */

static const char *or_empty(const char *s)
{
	return s ? s : "";
}

int mlflow_render_model_version(struct mlflow_call *c, json_t **out,
				const struct store_model_version *v, bool aliases,
				struct error *err)
{
	struct store_pairs tags = STORE_PAIRS_INIT, names = STORE_PAIRS_INIT;
	char version[24];
	json_t *j;
	int rc;

	if ((rc = store_model_version_tags(c->st, &tags, v->name, v->version, err)) < 0 ||
	    (aliases &&
	     (rc = store_model_version_aliases(c->st, &names, v->name, v->version, err)) < 0))
		goto out;
	snprintf(version, sizeof(version), "%" PRId64, v->version);
	j = json_object();
	json_object_set_new(j, "name", json_string(v->name));
	json_object_set_new(j, "version", json_string(version));
	json_object_set_new(j, "creation_timestamp", json_integer(v->creation_time));
	json_object_set_new(j, "last_updated_timestamp", json_integer(v->last_updated_time));
	if (v->user && *v->user)
		json_object_set_new(j, "user_id", json_string(v->user));
	json_object_set_new(j, "current_stage", json_string(store_stage_name(v->stage)));
	json_object_set_new(j, "description", json_string(or_empty(v->description)));
	json_object_set_new(j, "source", json_string(or_empty(v->source)));
	json_object_set_new(j, "run_id", json_string(or_empty(v->run_id)));
	json_object_set_new(j, "status",
			    json_string(v->status && *v->status ? v->status : "READY"));
	if (v->status_message && *v->status_message)
		json_object_set_new(j, "status_message", json_string(v->status_message));
	mlflow_render_pairs(j, "tags", &tags);
	json_object_set_new(j, "run_link", json_string(or_empty(v->run_link)));
	if (names.nr) {
		json_t *a = json_array();

		for (size_t i = 0; i < names.nr; i++)
			json_array_append_new(a, json_string(names.items[i].key));
		json_object_set_new(j, "aliases", a);
	}
	*out = j;
out:
	store_pairs_release(&tags);
	store_pairs_release(&names);
	return rc;
}

/* Every version of model name, version 1 first. */
static int all_versions(struct mlflow_call *c, struct store_model_versions *out, const char *name,
			struct error *err)
{
	struct search_cond cond = { .entity = SEARCH_ATTRIBUTE,
				    .attr = SEARCH_ATTR_MODEL_NAME,
				    .op = SEARCH_OP_EQ,
				    .type = SEARCH_VALUE_STRING };
	struct search_order by = { .entity = SEARCH_ATTRIBUTE,
				   .attr = SEARCH_ATTR_VERSION_NUMBER,
				   .ascending = true };
	struct search_filter filter = { &cond, 1, 1 };
	struct search_orders order = { &by, 1, 1 };
	struct store_model_search q = { &filter, &order, ALL_VERSIONS, 0 };
	char *token = NULL;
	int rc;

	cond.key = xstrdup("name");
	cond.str = xstrdup(name);
	by.key = xstrdup("version_number");
	rc = store_model_version_search(c->st, out, &token, &q, err);
	free(token);
	free(cond.key);
	free(cond.str);
	free(by.key);
	return rc;
}

int mlflow_latest_versions(struct mlflow_call *c, struct store_model_versions *out,
			   const char *name, struct error *err)
{
	struct store_model_versions all = STORE_MODEL_VERSIONS_INIT,
				    latest = STORE_MODEL_VERSIONS_INIT;
	size_t slot[STORE_STAGE_ARCHIVED + 1];
	int rc;

	if ((rc = all_versions(c, &all, name, err)) < 0)
		return rc;
	for (size_t s = 0; s < ARRAY_SIZE(slot); s++)
		slot[s] = SIZE_MAX;
	for (size_t i = 0; i < all.nr; i++) {
		struct store_model_version *v = &all.items[i];
		size_t s = (size_t)v->stage;

		if (s >= ARRAY_SIZE(slot))
			continue;
		if (slot[s] == SIZE_MAX) {
			ALLOC_GROW(latest.items, latest.nr + 1, latest.alloc);
			slot[s] = latest.nr++;
		} else if (v->version > latest.items[slot[s]].version) {
			store_model_version_release(&latest.items[slot[s]]);
		} else {
			continue;
		}
		latest.items[slot[s]] = *v;
		memset(v, 0, sizeof(*v));
	}
	store_model_versions_release(&all);
	*out = latest;
	return 0;
}

static json_t *render_aliases(const struct store_pairs *aliases)
{
	json_t *a = json_array();

	for (size_t i = 0; i < aliases->nr; i++) {
		json_t *o = json_object();

		json_object_set_new(o, "alias", json_string(aliases->items[i].key));
		json_object_set_new(o, "version", json_string(or_empty(aliases->items[i].value)));
		json_array_append_new(a, o);
	}
	return a;
}

static int render_latest(struct mlflow_call *c, json_t *j, const char *name, struct error *err)
{
	struct store_model_versions latest = STORE_MODEL_VERSIONS_INIT;
	json_t *a = NULL;
	int rc;

	if ((rc = mlflow_latest_versions(c, &latest, name, err)) < 0 || !latest.nr)
		goto out;
	a = json_array();
	for (size_t i = 0; i < latest.nr; i++) {
		json_t *v = NULL;

		if ((rc = mlflow_render_model_version(c, &v, &latest.items[i], false, err)) < 0)
			goto out;
		json_array_append_new(a, v);
	}
	json_object_set_new(j, "latest_versions", a);
	a = NULL;
out:
	json_decref(a);
	store_model_versions_release(&latest);
	return rc;
}

int mlflow_render_registered_model(struct mlflow_call *c, json_t **out, const struct store_model *m,
				   struct error *err)
{
	struct store_pairs tags = STORE_PAIRS_INIT, aliases = STORE_PAIRS_INIT;
	json_t *j = json_object();
	int rc;

	json_object_set_new(j, "name", json_string(m->name));
	json_object_set_new(j, "creation_timestamp", json_integer(m->creation_time));
	json_object_set_new(j, "last_updated_timestamp", json_integer(m->last_updated_time));
	if (m->description && *m->description)
		json_object_set_new(j, "description", json_string(m->description));
	if ((rc = render_latest(c, j, m->name, err)) < 0 ||
	    (rc = store_model_tags(c->st, &tags, m->name, err)) < 0 ||
	    (rc = store_model_aliases(c->st, &aliases, m->name, err)) < 0)
		goto out;
	mlflow_render_pairs(j, "tags", &tags);
	if (aliases.nr)
		json_object_set_new(j, "aliases", render_aliases(&aliases));
	*out = j;
	j = NULL;
out:
	json_decref(j);
	store_pairs_release(&tags);
	store_pairs_release(&aliases);
	return rc;
}
