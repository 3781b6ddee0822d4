/* Route calls for the MLflow API tests (mlflow_call.h). */
#include "util/common.h"
#include "mlflow_call.h"
#include "helpers.h"
#include "util/strbuf.h"

void mlflow_test_call(const struct http_routes *routes, struct mlflow_answer *ans,
		      const char *method, const char *path, const char *ctype, const char *body,
		      const struct http_param *query, size_t nquery)
{
	struct http_request req = {
		method, path, "", query, nquery, ctype, body ? body : "", body ? strlen(body) : 0
	};
	struct http_response resp = { 0 };
	struct error err = ERROR_INIT;
	const struct http_route *r = NULL;
	int rc;

	strbuf_init(&resp.body, 0);
	for (size_t i = 0; i < routes->nroutes && !r; i++)
		if (!strcmp(routes->routes[i].path, path) &&
		    !strcmp(routes->routes[i].method, method))
			r = &routes->routes[i];
	if (!r)
		fail_msg("no route %s %s", method, path);
	rc = r->fn(&req, &resp, routes->data, &err);
	if (rc < 0)
		routes->map_error(&resp, rc, err.msg);
	ans->status = resp.status ? resp.status : 200;
	free(ans->body);
	ans->body = xstrdup(resp.body.buf);
	json_decref(ans->json);
	ans->json = json_loads(ans->body, JSON_DECODE_ANY, NULL);
	strbuf_release(&resp.body);
}

void mlflow_answer_release(struct mlflow_answer *ans)
{
	json_decref(ans->json);
	free(ans->body);
	memset(ans, 0, sizeof(*ans));
}
