/*
 * MLflow 2.x tracking REST API (/api/2.0/mlflow/... and the UI's /ajax-api/2.0/mlflow/...) on
 * ferry's store, so MLflow clients work unchanged against `ferry server`. Also /health and
 * /version. Responses are byte-shaped like MLflow 2.10.2's (docs: protocols.md 2.1-2.3).
 */
#ifndef FERRY_API_MLFLOW_H
#define FERRY_API_MLFLOW_H

#include "http/http.h"

struct error;
struct mlflow_api;

/* The MLflow version ferry reports on /version (what the recorded server said). */
#define MLFLOW_COMPAT_VERSION "2.10.2"

/*
 * Creates the API state for the store at store_uri (store_open's syntax). Handlers run on the
 * server's threads and a store is not shared between threads, so the API keeps a pool of up to
 * max_stores open stores (0: 16); the first is opened here, so a bad uri fails now.
 */
int mlflow_api_new(struct mlflow_api **out, const char *store_uri, unsigned max_stores,
		   struct error *err);
/*
 * Serves run artifacts (the mlflow-artifacts proxy: PUT/GET/DELETE and listings) from the
 * object cache at cache_dir (created if missing), e.g. the project's .ferry/cache. Without it,
 * uploads and downloads answer 501 NOT_IMPLEMENTED; listings and deletes need only the store.
 * ERR_IO if the cache cannot be opened. Call before the server starts.
 */
int mlflow_api_serve_artifacts(struct mlflow_api *api, const char *cache_dir, struct error *err);
/* Why artifacts are not served, for the 501's message (borrowed: must outlive api). */
void mlflow_api_no_artifacts(struct mlflow_api *api, const char *reason);
/* Closes the pooled stores and frees api; NULL is fine. No request may be in flight. */
void mlflow_api_free(struct mlflow_api *api);

/* Fills routes with the MLflow route table, its error mapper and api as handler data. */
void mlflow_routes(struct http_routes *routes, struct mlflow_api *api);

#endif
