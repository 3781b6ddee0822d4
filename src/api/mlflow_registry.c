/*
 * MLflow's registered-models endpoints: create, get, search, rename, update, delete, set-tag,
 * delete-tag, get-latest-versions and the alias routes, answering as MLflow 2.10.2 does.
 */
#include "util/common.h"
#include "api/mlflow_registry_internal.h"
#include "store/search.h"
#include "track/filter.h"

#define MODEL_SEARCH_MAX 1000

/* Sets out.registered_model to model name as it is now. */
static int reply_model(struct mlflow_call *c, const char *name, struct error *err)
{
	struct store_model m = STORE_MODEL_INIT;
	json_t *j = NULL;
	int rc;

	if ((rc = store_model_get(c->st, &m, name, err)) < 0 ||
	    (rc = mlflow_render_registered_model(c, &j, &m, err)) < 0)
		goto out;
	json_object_set_new(c->out, "registered_model", j);
out:
	store_model_release(&m);
	return rc;
}

int mlflow_registered_models_create(struct mlflow_call *c, struct error *err)
{
	const char *name = NULL, *description = NULL;
	struct store_kv *tags = NULL;
	size_t nr_tags = 0;
	int rc;

	if ((rc = mlflow_req_string(c, "name", &name, true, err)) < 0 ||
	    (rc = mlflow_req_string(c, "description", &description, false, err)) < 0 ||
	    (rc = mlflow_req_registry_tags(c, "Registered model", &tags, &nr_tags, err)) < 0 ||
	    (rc = store_model_create(c->st, name, description && *description ? description : NULL,
				     tags, nr_tags, err)) < 0)
		goto out;
	rc = reply_model(c, name, err);
out:
	free(tags);
	return rc;
}

int mlflow_registered_models_get(struct mlflow_call *c, struct error *err)
{
	const char *name = NULL;
	int rc;

	if ((rc = mlflow_req_string(c, "name", &name, true, err)) < 0)
		return rc;
	return reply_model(c, name, err);
}

int mlflow_registered_models_rename(struct mlflow_call *c, struct error *err)
{
	const char *name = NULL, *new_name = NULL;
	int rc;

	if ((rc = mlflow_req_string(c, "name", &name, true, err)) < 0 ||
	    (rc = mlflow_req_string(c, "new_name", &new_name, true, err)) < 0 ||
	    (rc = store_model_rename(c->st, name, new_name, err)) < 0)
		return rc;
	return reply_model(c, new_name, err);
}

int mlflow_registered_models_update(struct mlflow_call *c, struct error *err)
{
	const char *name = NULL, *description = NULL;
	int rc;

	if ((rc = mlflow_req_string(c, "name", &name, true, err)) < 0 ||
	    (rc = mlflow_req_string(c, "description", &description, false, err)) < 0 ||
	    (rc = store_model_update(c->st, name, description && *description ? description : NULL,
				     err)) < 0)
		return rc;
	return reply_model(c, name, err);
}

int mlflow_registered_models_delete(struct mlflow_call *c, struct error *err)
{
	const char *name = NULL;
	int rc;

	if ((rc = mlflow_req_string(c, "name", &name, true, err)) < 0)
		return rc;
	return store_model_delete(c->st, name, err);
}

int mlflow_registered_models_set_tag(struct mlflow_call *c, struct error *err)
{
	const char *name = NULL, *key = NULL, *value = NULL;
	int rc;

	if ((rc = mlflow_req_string(c, "name", &name, true, err)) < 0 ||
	    (rc = mlflow_req_string(c, "key", &key, true, err)) < 0 ||
	    (rc = mlflow_req_string(c, "value", &value, false, err)) < 0 ||
	    (rc = mlflow_validate_registry_tag("Registered model", key, value, err)) < 0)
		return rc;
	return store_model_set_tag(c->st, name, key, value ? value : "", err);
}

int mlflow_registered_models_delete_tag(struct mlflow_call *c, struct error *err)
{
	struct store_model m = STORE_MODEL_INIT;
	const char *name = NULL, *key = NULL;
	int rc;

	if ((rc = mlflow_req_string(c, "name", &name, true, err)) < 0 ||
	    (rc = mlflow_req_string(c, "key", &key, true, err)) < 0 ||
	    (rc = mlflow_validate_key("tag", key, err)) < 0)
		return rc;
	rc = store_model_delete_tag(c->st, name, key, err);
	/* MLflow deletes a tag that is not there without complaint, not so a missing model. */
	if (rc == ERR_NOTFOUND && (rc = store_model_get(c->st, &m, name, err)) == 0)
		error_clear(err);
	store_model_release(&m);
	return rc;
}

/* Search -------------------------------------------------------------------------------------- */

/* An order_by field named twice: MLflow's SQL store raises it without an error code. */
static int order_failed(struct mlflow_call *c, int rc, struct error *err)
{
	char msg[ERROR_MSG_SIZE];

	if (rc != ERR_CONFLICT)
		return rc;
	snprintf(msg, sizeof(msg), "%s", err->msg);
	return mlflow_fail(c, err, "INTERNAL_ERROR", 500, "%s", msg);
}

static int render_models(struct mlflow_call *c, const struct store_models *list, struct error *err)
{
	json_t *a;
	int rc;

	if (!list->nr)
		return 0;
	a = json_array();
	json_object_set_new(c->out, "registered_models", a);
	for (size_t i = 0; i < list->nr; i++) {
		json_t *m = NULL;

		if ((rc = mlflow_render_registered_model(c, &m, &list->items[i], err)) < 0)
			return rc;
		json_array_append_new(a, m);
	}
	return 0;
}

int mlflow_registered_models_search(struct mlflow_call *c, struct error *err)
{
	struct search_filter filter = SEARCH_FILTER_INIT;
	struct search_orders order = SEARCH_ORDERS_INIT;
	struct store_model_search q = { NULL, NULL, 0, 0 };
	struct store_models list = STORE_MODELS_INIT;
	const char *text = NULL, *token = NULL, **order_by = NULL;
	size_t nr_order = 0;
	bool present = false;
	char *next = NULL;
	int rc;

	if ((rc = mlflow_req_string(c, "filter", &text, false, err)) < 0 ||
	    (rc = mlflow_req_max_results(c, &q.max_results, &present, MODEL_SEARCH_MAX, err)) < 0 ||
	    (rc = mlflow_req_strings(c, "order_by", &order_by, &nr_order, err)) < 0 ||
	    (rc = mlflow_req_string(c, "page_token", &token, false, err)) < 0)
		goto out;
	/* MLflow checks the filter, then order_by, then the page token; max_results 0 is 100. */
	if ((rc = filter_parse_models(&filter, text, err)) < 0 ||
	    (rc = order_failed(c, filter_parse_model_order(&order, order_by, nr_order, err), err)) <
		0 ||
	    (rc = search_page_token_decode(&q.offset, token, err)) < 0)
		goto out;
	q.filter = &filter;
	q.order = order.nr ? &order : NULL;
	if ((rc = store_model_search(c->st, &list, &next, &q, err)) < 0 ||
	    (rc = render_models(c, &list, err)) < 0)
		goto out;
	if (next && *next)
		json_object_set_new(c->out, "next_page_token", json_string(next));
out:
	free(next);
	free(order_by);
	store_models_release(&list);
	search_filter_release(&filter);
	search_orders_release(&order);
	return rc;
}

/* Latest versions ------------------------------------------------------------------------------ */

static int parse_stages(struct mlflow_call *c, bool wanted[], struct error *err)
{
	const char **stages = NULL;
	size_t nr = 0;
	int rc;

	if ((rc = mlflow_req_strings(c, "stages", &stages, &nr, err)) < 0)
		return rc;
	for (size_t i = 0; i <= STORE_STAGE_ARCHIVED; i++)
		wanted[i] = !nr;
	for (size_t i = 0; i < nr; i++) {
		enum store_stage s;

		if ((rc = store_stage_parse(&s, stages[i], err)) < 0)
			break;
		wanted[s] = true;
	}
	free(stages);
	return rc;
}

/* MLflow filters the model's latest_versions by stage, so the order is theirs. */
int mlflow_registered_models_get_latest_versions(struct mlflow_call *c, struct error *err)
{
	struct store_model_versions latest = STORE_MODEL_VERSIONS_INIT;
	struct store_model m = STORE_MODEL_INIT;
	bool wanted[STORE_STAGE_ARCHIVED + 1];
	const char *name = NULL;
	json_t *a = NULL;
	int rc;

	if ((rc = mlflow_req_string(c, "name", &name, true, err)) < 0 ||
	    (rc = parse_stages(c, wanted, err)) < 0 ||
	    (rc = store_model_get(c->st, &m, name, err)) < 0 ||
	    (rc = mlflow_latest_versions(c, &latest, name, err)) < 0)
		goto out;
	for (size_t i = 0; i < latest.nr; i++) {
		json_t *v = NULL;

		if (!wanted[latest.items[i].stage])
			continue;
		if ((rc = mlflow_render_model_version(c, &v, &latest.items[i], false, err)) < 0)
			goto out;
		if (!a)
			a = json_array();
		json_array_append_new(a, v);
	}
	if (a)
		json_object_set_new(c->out, "model_versions", a);
	a = NULL;
out:
	json_decref(a);
	store_model_release(&m);
	store_model_versions_release(&latest);
	return rc;
}

/* Aliases -------------------------------------------------------------------------------------- */

int mlflow_registered_models_alias_set(struct mlflow_call *c, struct error *err)
{
	struct store_alias_move move = { .expect = STORE_ALIAS_ANY };
	const char *version = NULL;
	int rc;

	if ((rc = mlflow_req_string(c, "name", &move.name, true, err)) < 0 ||
	    (rc = mlflow_req_string(c, "alias", &move.alias, true, err)) < 0 ||
	    (rc = mlflow_req_string(c, "version", &version, true, err)) < 0 ||
	    (rc = mlflow_validate_alias(move.alias, err)) < 0 ||
	    (rc = mlflow_parse_version(&move.version, version, err)) < 0)
		return rc;
	/* version 0 would remove the alias; MLflow looks the version up first */
	if (move.version < 1)
		return mlflow_version_notfound(move.name, move.version, err);
	rc = store_alias_set(c->st, NULL, &move, err);
	if (rc == ERR_NOTFOUND)
		rc = mlflow_version_notfound(move.name, move.version, err);
	return rc;
}

int mlflow_registered_models_alias_get(struct mlflow_call *c, struct error *err)
{
	struct store_model_version v = STORE_MODEL_VERSION_INIT;
	const char *name = NULL, *alias = NULL;
	int64_t version = 0;
	json_t *j = NULL;
	int rc;

	if ((rc = mlflow_req_string(c, "name", &name, true, err)) < 0 ||
	    (rc = mlflow_req_string(c, "alias", &alias, true, err)) < 0 ||
	    (rc = mlflow_validate_alias(alias, err)) < 0)
		goto out;
	/* 2.10.2 answers a missing alias (or model) with INVALID_PARAMETER_VALUE, a 400. */
	if ((rc = store_alias_get(c->st, &version, name, alias, err)) == ERR_NOTFOUND)
		rc = mlflow_fail(c, err, "INVALID_PARAMETER_VALUE", 400,
				 "Registered model alias %s not found.", alias);
	if (rc < 0 || (rc = mlflow_get_model_version(c, &v, name, version, err)) < 0 ||
	    (rc = mlflow_render_model_version(c, &j, &v, true, err)) < 0)
		goto out;
	json_object_set_new(c->out, "model_version", j);
out:
	store_model_version_release(&v);
	return rc;
}

int mlflow_registered_models_alias_delete(struct mlflow_call *c, struct error *err)
{
	struct store_alias_move move = { .expect = STORE_ALIAS_ANY, .version = 0 };
	struct store_model m = STORE_MODEL_INIT;
	int rc;

	if ((rc = mlflow_req_string(c, "name", &move.name, true, err)) < 0 ||
	    (rc = mlflow_req_string(c, "alias", &move.alias, true, err)) < 0 ||
	    (rc = mlflow_validate_alias(move.alias, err)) < 0 ||
	    (rc = store_model_get(c->st, &m, move.name, err)) < 0)
		goto out;
	/* MLflow removes an alias that is not there without complaint. */
	if ((rc = store_alias_set(c->st, NULL, &move, err)) == ERR_NOTFOUND) {
		error_clear(err);
		rc = 0;
	}
out:
	store_model_release(&m);
	return rc;
}
