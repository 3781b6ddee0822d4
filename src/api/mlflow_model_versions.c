/*
 * MLflow's model-versions endpoints: create, get, search, update, transition-stage, delete,
 * set-tag, delete-tag and get-download-uri, answering as MLflow 2.10.2 does.
 */
#include "util/common.h"
#include "api/mlflow_registry_internal.h"
#include "store/search.h"
#include "track/filter.h"
#include "util/strbuf.h"

#include <ctype.h>

#define VERSION_SEARCH_MAX 200000
/* SearchModelVersions.max_results' default in model_registry.proto */
#define VERSION_SEARCH_DEFAULT 200000

/* The name and version every model-versions request names. */
static int name_version(struct mlflow_call *c, const char **name, int64_t *version,
			struct error *err)
{
	int rc;

	if ((rc = mlflow_req_string(c, "name", name, true, err)) < 0)
		return rc;
	return mlflow_req_version(c, version, err);
}

/* Sets out.model_version to version of name as it is now. */
static int reply_version(struct mlflow_call *c, const char *name, int64_t version, bool aliases,
			 struct error *err)
{
	struct store_model_version v = STORE_MODEL_VERSION_INIT;
	json_t *j = NULL;
	int rc;

	if ((rc = mlflow_get_model_version(c, &v, name, version, err)) < 0 ||
	    (rc = mlflow_render_model_version(c, &j, &v, aliases, err)) < 0)
		goto out;
	json_object_set_new(c->out, "model_version", j);
out:
	store_model_version_release(&v);
	return rc;
}

/* Create -------------------------------------------------------------------------------------- */

/* urllib.parse's scheme: a letter, then letters, digits, '+', '-', '.', up to a ':'. */
static size_t scheme_len(const char *uri)
{
	size_t n = 0;

	if (!isalpha((unsigned char)uri[0]))
		return 0;
	while (isalnum((unsigned char)uri[n]) || uri[n] == '+' || uri[n] == '-' || uri[n] == '.')
		n++;
	return uri[n] == ':' ? n : 0;
}

/*
 * MLflow 2.10.2's _validate_source: a local path or file: URI would let a client point the
 * registry at the server's own files. MLflow takes one inside a local run artifact directory;
 * ferry's runs have none on the server, so every local source is refused.
 */
static int check_source(const char *source, struct error *err)
{
	size_t n = scheme_len(source);

	if (n && !(n == 4 && !strncasecmp(source, "file", 4)))
		return 0;
	return error_set(err, ERR_INVALID,
			 "Invalid model version source: '%s'. To use a local path as a model "
			 "version source, the run_id request parameter has to be specified and the "
			 "local path has to be contained within the artifact directory of the run "
			 "specified by the run_id.",
			 source);
}

static const char *nonempty(const char *s)
{
	return s && *s ? s : NULL;
}

int mlflow_model_versions_create(struct mlflow_call *c, struct error *err)
{
	struct store_new_model_version nv = { .name = NULL };
	struct store_kv *tags = NULL;
	int64_t version = 0;
	int rc;

	if ((rc = mlflow_req_string(c, "name", &nv.name, true, err)) < 0 ||
	    (rc = mlflow_req_string(c, "source", &nv.source, true, err)) < 0 ||
	    (rc = mlflow_req_string(c, "run_id", &nv.run_id, false, err)) < 0 ||
	    (rc = mlflow_req_string(c, "run_link", &nv.run_link, false, err)) < 0 ||
	    (rc = mlflow_req_string(c, "description", &nv.description, false, err)) < 0 ||
	    (rc = mlflow_req_registry_tags(c, "Model version", &tags, &nv.nr_tags, err)) < 0 ||
	    (rc = check_source(nv.source, err)) < 0)
		goto out;
	nv.run_id = nonempty(nv.run_id);
	nv.run_link = nonempty(nv.run_link);
	nv.description = nonempty(nv.description);
	nv.tags = tags;
	if ((rc = store_model_version_create(c->st, &version, &nv, err)) < 0)
		goto out;
	rc = reply_version(c, nv.name, version, true, err);
out:
	free(tags);
	return rc;
}

/* Get, update, delete ------------------------------------------------------------------------- */

int mlflow_model_versions_get(struct mlflow_call *c, struct error *err)
{
	const char *name = NULL;
	int64_t version = 0;
	int rc;

	if ((rc = name_version(c, &name, &version, err)) < 0)
		return rc;
	return reply_version(c, name, version, true, err);
}

int mlflow_model_versions_update(struct mlflow_call *c, struct error *err)
{
	const char *name = NULL, *description = NULL;
	int64_t version = 0;
	int rc;

	if ((rc = name_version(c, &name, &version, err)) < 0 ||
	    (rc = mlflow_req_string(c, "description", &description, false, err)) < 0)
		return rc;
	if (version < 1)
		return mlflow_version_notfound(name, version, err);
	if ((rc = store_model_version_update(c->st, name, version, nonempty(description), err)) < 0)
		return rc;
	return reply_version(c, name, version, true, err);
}

/* A version an alias points to is refused (ERR_CONFLICT, a 400): ferry's deviation. */
int mlflow_model_versions_delete(struct mlflow_call *c, struct error *err)
{
	const char *name = NULL;
	int64_t version = 0;
	int rc;

	if ((rc = name_version(c, &name, &version, err)) < 0)
		return rc;
	if (version < 1)
		return mlflow_version_notfound(name, version, err);
	return store_model_version_delete(c->st, name, version, err);
}

/* Stages -------------------------------------------------------------------------------------- */

/* archive_existing_versions: a JSON boolean, false when absent. */
static int req_bool(struct mlflow_call *c, const char *key, bool *out, struct error *err)
{
	json_t *v = json_object_get(c->req, key);
	char *text;
	int rc;

	*out = false;
	if (!v || json_is_null(v))
		return 0;
	if (json_is_boolean(v)) {
		*out = json_is_true(v);
		return 0;
	}
	text = json_is_string(v) ? xstrdup(json_string_value(v))
				 : json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	rc = error_set(err, ERR_INVALID,
		       "Invalid value %s for parameter '%s' supplied. Hint: Value was of type "
		       "'%s'. See the API docs for more information about request parameters.",
		       text ? text : "?", key,
		       json_is_string(v)   ? "str"
		       : json_is_real(v)   ? "float"
		       : json_is_array(v)  ? "list"
		       : json_is_object(v) ? "dict"
					   : "int");
	free(text);
	return rc;
}

int mlflow_model_versions_transition_stage(struct mlflow_call *c, struct error *err)
{
	const char *name = NULL, *version_text = NULL, *stage_text = NULL;
	enum store_stage stage = STORE_STAGE_NONE;
	int64_t version = 0;
	bool archive = false;
	json_t *j = NULL;
	struct store_model_version v = STORE_MODEL_VERSION_INIT;
	int rc;

	if ((rc = mlflow_req_string(c, "name", &name, true, err)) < 0 ||
	    (rc = mlflow_req_string(c, "version", &version_text, true, err)) < 0 ||
	    (rc = mlflow_req_string(c, "stage", &stage_text, true, err)) < 0 ||
	    (rc = req_bool(c, "archive_existing_versions", &archive, err)) < 0 ||
	    (rc = store_stage_parse(&stage, stage_text, err)) < 0)
		goto out;
	/* MLflow raises this one without an error code: a 500, naming the stage as written. */
	if (archive && stage != STORE_STAGE_STAGING && stage != STORE_STAGE_PRODUCTION) {
		rc =
		    mlflow_fail(c, err, "INTERNAL_ERROR", 500,
				"Model version transition cannot archive existing model versions "
				"because '%s' is not an Active stage. Valid stages are ['Staging', "
				"'Production']",
				stage_text);
		goto out;
	}
	if ((rc = mlflow_parse_version(&version, version_text, err)) < 0)
		goto out;
	if (version < 1) {
		rc = mlflow_version_notfound(name, version, err);
		goto out;
	}
	if ((rc = store_model_version_transition(c->st, &v, name, version, stage, archive, NULL,
						 NULL, err)) < 0 ||
	    (rc = mlflow_render_model_version(c, &j, &v, true, err)) < 0)
		goto out;
	json_object_set_new(c->out, "model_version", j);
out:
	store_model_version_release(&v);
	return rc;
}

/* Tags ---------------------------------------------------------------------------------------- */

int mlflow_model_versions_set_tag(struct mlflow_call *c, struct error *err)
{
	const char *name = NULL, *version_text = NULL, *key = NULL, *value = NULL;
	int64_t version = 0;
	int rc;

	/* MLflow checks the version before the tag */
	if ((rc = mlflow_req_string(c, "name", &name, true, err)) < 0 ||
	    (rc = mlflow_req_string(c, "version", &version_text, true, err)) < 0 ||
	    (rc = mlflow_req_string(c, "key", &key, true, err)) < 0 ||
	    (rc = mlflow_req_string(c, "value", &value, false, err)) < 0 ||
	    (rc = mlflow_parse_version(&version, version_text, err)) < 0 ||
	    (rc = mlflow_validate_registry_tag("Model version", key, value, err)) < 0)
		return rc;
	if (version < 1)
		return mlflow_version_notfound(name, version, err);
	return store_model_version_set_tag(c->st, name, version, key, value ? value : "", err);
}

int mlflow_model_versions_delete_tag(struct mlflow_call *c, struct error *err)
{
	struct store_model_version v = STORE_MODEL_VERSION_INIT;
	const char *name = NULL, *key = NULL;
	int64_t version = 0;
	int rc;

	if ((rc = name_version(c, &name, &version, err)) < 0 ||
	    (rc = mlflow_req_string(c, "key", &key, true, err)) < 0 ||
	    (rc = mlflow_validate_key("tag", key, err)) < 0)
		return rc;
	if (version < 1)
		return mlflow_version_notfound(name, version, err);
	rc = store_model_version_delete_tag(c->st, name, version, key, err);
	/* MLflow deletes a tag that is not there without complaint, not so a missing version. */
	if (rc == ERR_NOTFOUND &&
	    (rc = store_model_version_get(c->st, &v, name, version, err)) == 0)
		error_clear(err);
	store_model_version_release(&v);
	return rc;
}

/* Download URI -------------------------------------------------------------------------------- */

/*
 * runs:/<run_id>/<path> as the run's artifact root joined with path, as MLflow resolves such a
 * source; a run the store does not have leaves the source as it is. Caller frees.
 */
static char *download_uri(struct mlflow_call *c, const char *source)
{
	struct store_run run = STORE_RUN_INIT;
	struct error ignored = ERROR_INIT;
	struct strbuf sb = STRBUF_INIT;
	const char *p, *path;
	char *run_id, *root;

	if (strncmp(source, "runs:/", 6))
		return xstrdup(source);
	p = source + 6 + strspn(source + 6, "/");
	path = p + strcspn(p, "/");
	run_id = xstrndup(p, (size_t)(path - p));
	if (!*run_id || store_run_get(c->st, &run, run_id, &ignored) < 0) {
		free(run_id);
		return xstrdup(source);
	}
	root = mlflow_run_root_uri(&run);
	strbuf_addstr(&sb, root);
	path += strspn(path, "/");
	if (*path) {
		while (sb.len && sb.buf[sb.len - 1] == '/')
			strbuf_setlen(&sb, sb.len - 1);
		strbuf_addf(&sb, "/%s", path);
	}
	free(root);
	free(run_id);
	store_run_release(&run);
	return strbuf_detach(&sb, NULL);
}

int mlflow_model_versions_get_download_uri(struct mlflow_call *c, struct error *err)
{
	struct store_model_version v = STORE_MODEL_VERSION_INIT;
	const char *name = NULL;
	int64_t version = 0;
	char *uri;
	int rc;

	if ((rc = name_version(c, &name, &version, err)) < 0 ||
	    (rc = mlflow_get_model_version(c, &v, name, version, err)) < 0)
		goto out;
	uri = download_uri(c, v.source ? v.source : "");
	json_object_set_new(c->out, "artifact_uri", json_string(uri));
	free(uri);
out:
	store_model_version_release(&v);
	return rc;
}

/* Search -------------------------------------------------------------------------------------- */

/* The order MLflow's SQL store applies when the request names none. */
static const char *const default_order[] = { "last_updated_timestamp DESC", "name ASC",
					     "version_number DESC" };

static int render_versions(struct mlflow_call *c, const struct store_model_versions *list,
			   struct error *err)
{
	json_t *a;
	int rc;

	if (!list->nr)
		return 0;
	a = json_array();
	json_object_set_new(c->out, "model_versions", a);
	for (size_t i = 0; i < list->nr; i++) {
		json_t *v = NULL;

		if ((rc = mlflow_render_model_version(c, &v, &list->items[i], false, err)) < 0)
			return rc;
		json_array_append_new(a, v);
	}
	return 0;
}

/* A field named twice in order_by: MLflow's SQL store raises it without an error code. */
static int parse_order(struct mlflow_call *c, struct search_orders *out, const char **order_by,
		       size_t nr, struct error *err)
{
	char msg[ERROR_MSG_SIZE];
	int rc;

	if (!nr)
		rc = filter_parse_model_version_order(out, default_order, ARRAY_SIZE(default_order),
						      err);
	else
		rc = filter_parse_model_version_order(out, order_by, nr, err);
	if (rc != ERR_CONFLICT)
		return rc;
	snprintf(msg, sizeof(msg), "%s", err->msg);
	return mlflow_fail(c, err, "INTERNAL_ERROR", 500, "%s", msg);
}

int mlflow_model_versions_search(struct mlflow_call *c, struct error *err)
{
	struct search_filter filter = SEARCH_FILTER_INIT;
	struct search_orders order = SEARCH_ORDERS_INIT;
	struct store_model_search q = { NULL, NULL, 0, 0 };
	struct store_model_versions list = STORE_MODEL_VERSIONS_INIT;
	const char *text = NULL, *token = NULL, **order_by = NULL;
	size_t nr_order = 0;
	bool present = false;
	char *next = NULL;
	int rc;

	if ((rc = mlflow_req_string(c, "filter", &text, false, err)) < 0 ||
	    (rc = mlflow_req_max_results(c, &q.max_results, &present, VERSION_SEARCH_MAX, err)) <
		0 ||
	    (rc = mlflow_req_strings(c, "order_by", &order_by, &nr_order, err)) < 0 ||
	    (rc = mlflow_req_string(c, "page_token", &token, false, err)) < 0)
		goto out;
	if (!present)
		q.max_results = VERSION_SEARCH_DEFAULT;
	else if (q.max_results < 1) {
		rc = error_set(err, ERR_INVALID,
			       "Invalid value for max_results. It must be a positive integer, but "
			       "got %" PRId64,
			       q.max_results);
		goto out;
	}
	if ((rc = filter_parse_model_versions(&filter, text, err)) < 0 ||
	    (rc = parse_order(c, &order, order_by, nr_order, err)) < 0 ||
	    (rc = search_page_token_decode(&q.offset, token, err)) < 0)
		goto out;
	q.filter = &filter;
	q.order = &order;
	if ((rc = store_model_version_search(c->st, &list, &next, &q, err)) < 0 ||
	    (rc = render_versions(c, &list, err)) < 0)
		goto out;
	if (next && *next)
		json_object_set_new(c->out, "next_page_token", json_string(next));
out:
	free(next);
	free(order_by);
	store_model_versions_release(&list);
	search_filter_release(&filter);
	search_orders_release(&order);
	return rc;
}
