/*
 * MLflow's runs/search and experiments/search: the request's filter and order_by parsed by
 * src/track/filter.c, the query run by the store, the results rendered as Run / Experiment.
 */
#include "util/common.h"
#include "api/mlflow_internal.h"
#include "store/search.h"
#include "track/filter.h"

/* ViewType by name or number (ACTIVE_ONLY = 1, DELETED_ONLY = 2, ALL = 3). */
static int parse_view(struct mlflow_call *c, const char *key, enum store_view *out,
		      struct error *err)
{
	static const struct {
		const char *name;
		enum store_view view;
	} views[] = {
		{ "ACTIVE_ONLY", STORE_VIEW_ACTIVE },
		{ "DELETED_ONLY", STORE_VIEW_DELETED },
		{ "ALL", STORE_VIEW_ALL },
	};
	json_t *v = json_object_get(c->req, key);

	*out = STORE_VIEW_ACTIVE;
	if (!v || json_is_null(v))
		return 0;
	for (size_t i = 0; i < ARRAY_SIZE(views); i++)
		if ((json_is_string(v) && !strcmp(json_string_value(v), views[i].name)) ||
		    (json_is_integer(v) && json_integer_value(v) == (json_int_t)i + 1) ||
		    (json_is_string(v) && json_string_value(v)[0] == (char)('1' + i) &&
		     !json_string_value(v)[1])) {
			*out = views[i].view;
			return 0;
		}
	return error_set(err, ERR_INVALID,
			 "Invalid value for parameter '%s' supplied: expected ACTIVE_ONLY, "
			 "DELETED_ONLY or ALL",
			 key);
}

/* A repeated string field as a NULL-free array of borrowed strings (caller frees the array). */
static int string_list(struct mlflow_call *c, const char *key, const char ***out, size_t *nr,
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
					 "list of strings",
					 key);
		}
		list[i] = json_string_value(v);
	}
	*out = list;
	return 0;
}

struct common_query {
	const char *filter, *token;
	const char **order_by;
	size_t nr_order;
	int64_t max_results, offset;
	enum store_view view;
};

static int parse_common(struct mlflow_call *c, struct common_query *q, const char *view_key,
			struct error *err)
{
	int rc;

	if ((rc = mlflow_req_string(c, "filter", &q->filter, false, err)) < 0 ||
	    (rc = mlflow_req_string(c, "page_token", &q->token, false, err)) < 0 ||
	    (rc = mlflow_req_int64(c, "max_results", &q->max_results, NULL, false, err)) < 0 ||
	    (rc = parse_view(c, view_key, &q->view, err)) < 0 ||
	    (rc = search_page_token_decode(&q->offset, q->token, err)) < 0)
		return rc;
	return string_list(c, "order_by", &q->order_by, &q->nr_order, err);
}

static void set_token(struct mlflow_call *c, const char *token)
{
	if (token && *token)
		json_object_set_new(c->out, "next_page_token", json_string(token));
}

static int render_runs(struct mlflow_call *c, const struct store_runs *runs, struct error *err)
{
	json_t *a;
	int rc;

	if (!runs->nr)
		return 0;
	a = json_array();
	json_object_set_new(c->out, "runs", a);
	for (size_t i = 0; i < runs->nr; i++) {
		json_t *run = NULL;

		if ((rc = mlflow_render_run(c, &run, runs->items[i].id, true, err)) < 0)
			return rc;
		json_array_append_new(a, run);
	}
	return 0;
}

int mlflow_runs_search(struct mlflow_call *c, struct error *err)
{
	struct common_query q = { NULL, NULL, NULL, 0, 0, 0, STORE_VIEW_ACTIVE };
	struct search_filter filter = SEARCH_FILTER_INIT;
	struct search_orders order = SEARCH_ORDERS_INIT;
	struct store_run_search s = { .experiment_ids = NULL };
	struct store_runs runs = STORE_RUNS_INIT;
	const char **ids = NULL;
	size_t nr_ids = 0;
	char *next = NULL;
	int rc;

	if ((rc = parse_common(c, &q, "run_view_type", err)) < 0 ||
	    (rc = string_list(c, "experiment_ids", &ids, &nr_ids, err)) < 0 ||
	    (rc = filter_parse_runs(&filter, q.filter, err)) < 0 ||
	    (rc = filter_parse_run_order(&order, q.order_by, q.nr_order, err)) < 0)
		goto out;
	/* No experiment ids: MLflow searches none, so the answer is empty. */
	if (!nr_ids)
		goto out;
	s.experiment_ids = ids;
	s.nr_experiment_ids = nr_ids;
	s.view = q.view;
	s.filter = &filter;
	s.order = &order;
	s.max_results = q.max_results;
	s.offset = q.offset;
	s.filter_text = q.filter;
	s.order_by_text = q.order_by;
	s.nr_order_by_text = q.nr_order;
	if ((rc = store_run_search(c->st, &runs, &next, &s, err)) < 0 ||
	    (rc = render_runs(c, &runs, err)) < 0)
		goto out;
	set_token(c, next);
out:
	free(next);
	free(ids);
	free(q.order_by);
	store_runs_release(&runs);
	search_filter_release(&filter);
	search_orders_release(&order);
	return rc;
}

static int render_experiments(struct mlflow_call *c, const struct store_experiments *list,
			      struct error *err)
{
	json_t *a;
	int rc;

	if (!list->nr)
		return 0;
	a = json_array();
	json_object_set_new(c->out, "experiments", a);
	for (size_t i = 0; i < list->nr; i++) {
		json_t *e = NULL;

		if ((rc = mlflow_render_experiment(c, &e, &list->items[i], err)) < 0)
			return rc;
		json_array_append_new(a, e);
	}
	return 0;
}

int mlflow_experiments_search(struct mlflow_call *c, struct error *err)
{
	struct common_query q = { NULL, NULL, NULL, 0, 0, 0, STORE_VIEW_ACTIVE };
	struct search_filter filter = SEARCH_FILTER_INIT;
	struct search_orders order = SEARCH_ORDERS_INIT;
	struct store_experiments list = STORE_EXPERIMENTS_INIT;
	struct store_experiment_search s = { .view = STORE_VIEW_ACTIVE };
	char *next = NULL;
	int rc;

	if ((rc = parse_common(c, &q, "view_type", err)) < 0 ||
	    (rc = filter_parse_experiments(&filter, q.filter, err)) < 0 ||
	    (rc = filter_parse_experiment_order(&order, q.order_by, q.nr_order, err)) < 0)
		goto out;
	s.view = q.view;
	s.filter = &filter;
	s.order = order.nr ? &order : NULL;
	s.max_results = q.max_results;
	s.offset = q.offset;
	s.filter_text = q.filter;
	s.order_by_text = q.order_by;
	s.nr_order_by_text = q.nr_order;
	if ((rc = store_experiment_search(c->st, &list, &next, &s, err)) < 0 ||
	    (rc = render_experiments(c, &list, err)) < 0)
		goto out;
	set_token(c, next);
out:
	free(next);
	free(q.order_by);
	store_experiments_release(&list);
	search_filter_release(&filter);
	search_orders_release(&order);
	return rc;
}
