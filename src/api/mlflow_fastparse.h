/*
 * The hot MLflow write requests, runs/log-batch and runs/log-metric, decoded straight from the
 * JSON body into store_metric / store_kv arrays, without building a jansson tree (json_loadb was
 * a third of a 500-point batch's CPU).
 */
#ifndef FERRY_API_MLFLOW_FASTPARSE_H
#define FERRY_API_MLFLOW_FASTPARSE_H

#include <stddef.h>

#include "store/store.h"
#include "util/error.h"

/*
 * A log request's fields as mlflow_request.c's getters would read them from json_loadb's tree:
 * run_id is run_id when non-empty, else run_uuid, else NULL; a metric's missing or null fields
 * are protobuf's defaults (key "", 0); log-metric's step defaults to 0. The strings point into
 * `strings` (fast parser) or into the caller's jansson tree; the arrays and `strings` are owned.
 */
struct mlflow_logreq {
	const char *run_id;
	struct store_metric *metrics;
	struct store_kv *params, *tags;
	size_t nr_metrics, nr_params, nr_tags;
	size_t alloc_metrics, alloc_params, alloc_tags;
	char *strings;
};
#define MLFLOW_LOGREQ_INIT                                                                         \
	{                                                                                          \
		NULL, NULL, NULL, NULL, 0, 0, 0, 0, 0, 0, NULL                                     \
	}
void mlflow_logreq_release(struct mlflow_logreq *r);

/*
 * Decode a log-batch (run_id, run_uuid, metrics, params, tags) or log-metric (run_id, run_uuid,
 * key, value, timestamp, step) body. They take only bodies they decode exactly as the jansson
 * path does, and decline every other one with ERR_UNSUPPORTED (err says where and why): every
 * body jansson refuses or whose fields MLflow's getters refuse (so the caller falls back to the
 * jansson path for MLflow's message), and a few valid ones kept simple (a known field given
 * twice, nesting deeper than 32 in an unknown field, a repeated field given as one value).
 * Field values are not validated (names, lengths, limits): the caller does that on both paths.
 * On failure *out is released.
 */
int mlflow_fastparse_log_batch(struct mlflow_logreq *out, const char *body, size_t len,
			       struct error *err);
int mlflow_fastparse_log_metric(struct mlflow_logreq *out, const char *body, size_t len,
				struct error *err);

#endif
