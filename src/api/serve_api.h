/*
 * The inference server's routes (`ferry serve`): MLflow's scoring protocol (/invocations, /ping,
 * /health, /version), the Open Inference Protocol v2 (/v2/...), KServe v1 (/v1/models/...),
 * ground-truth feedback (POST /feedback) and Prometheus metrics (GET /metrics). Every
 * prediction is scored with the engine's current model (serve/serve.h), so a hot swap is
 * invisible to clients, and appended to the inference log when there is one.
 */
#ifndef FERRY_API_SERVE_API_H
#define FERRY_API_SERVE_API_H

#include "http/http.h"

struct error;
struct infer_log;
struct serve_engine;
struct served_model;

struct serve_api_options {
	struct serve_engine *engine; /* borrowed; must outlive the api */
	struct infer_log *log;	     /* borrowed; NULL: predictions are not logged */
	/*
	 * The engine's models carry live monitors (serve_engine_options.monitor): every scored
	 * row feeds the current model's, /feedback joins labels with it, and /metrics exports
	 * its drift and quality gauges (ferry_feature_drift_score, ferry_live_quality, ...).
	 */
	bool monitored;
};

struct serve_api;

int serve_api_new(struct serve_api **out, const struct serve_api_options *o, struct error *err);
/* Frees the api; the server using its routes must be stopped first. NULL is fine. */
void serve_api_free(struct serve_api *api);
/* The route table for http_server_start (borrowed from api). */
void serve_api_routes(struct http_routes *out, struct serve_api *api);
/* Updates the model info metric after a swap (the engine's event callback calls it). */
void serve_api_model_changed(struct serve_api *api, const struct served_model *sm);

#endif
