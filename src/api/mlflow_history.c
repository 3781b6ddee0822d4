/* MLflow's metrics/get-history: every point of one metric of a run, paged by offset tokens. */
#include "util/common.h"
#include "api/mlflow_internal.h"
#include "store/search.h"

int mlflow_metrics_get_history(struct mlflow_call *c, struct error *err)
{
	struct store_metric_points points = STORE_METRIC_POINTS_INIT;
	const char *run_id = NULL, *key = NULL, *token = NULL;
	int64_t max_results = -1, offset = 0;
	bool paged = false;
	int rc;

	if ((rc = mlflow_req_run_id(c, &run_id, err)) < 0 ||
	    (rc = mlflow_req_string(c, "metric_key", &key, true, err)) < 0 ||
	    (rc = mlflow_req_int64(c, "max_results", &max_results, &paged, false, err)) < 0 ||
	    (rc = mlflow_req_string(c, "page_token", &token, false, err)) < 0 ||
	    (rc = search_page_token_decode(&offset, token, err)) < 0)
		goto out;
	if (!paged || max_results <= 0)
		max_results = -1;
	/* One point more than asked tells whether another page follows. */
	rc = store_metric_history_page(c->st, &points, run_id, key, offset,
				       max_results < 0 ? -1 : max_results + 1, err);
	if (rc == ERR_NOTFOUND)
		rc = error_set(err, ERR_NOTFOUND, "Run with id=%s not found", run_id);
	if (rc < 0)
		goto out;
	if (points.nr) {
		json_t *a = json_array();
		size_t n = points.nr;

		if (max_results >= 0 && n > (size_t)max_results)
			n = (size_t)max_results;
		for (size_t i = 0; i < n; i++)
			json_array_append_new(a, mlflow_render_metric(&points.items[i]));
		json_object_set_new(c->out, "metrics", a);
	}
	if (max_results >= 0 && points.nr > (size_t)max_results) {
		char *next = search_page_token_encode(offset + max_results);

		json_object_set_new(c->out, "next_page_token", json_string(next));
		free(next);
	}
out:
	store_metric_points_release(&points);
	return rc;
}
