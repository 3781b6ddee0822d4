/*
 * MLflow's search filter and order_by syntax (SearchUtils in mlflow/utils/search_utils.py):
 * parsed and validated into the store's search AST (store/search.h), with MLflow's messages.
 *
 * Filters are comparisons joined by AND (any case), no OR and no parentheses:
 *   metrics.acc > 0.9 and params.model = 'lr' and tags.`my tag` LIKE 'a%'
 *   attributes.run_id IN ('ab12...', 'cd34...') and datasets.context = 'training'
 * order_by terms are "<entity>.<key> [ASC|DESC]" or a bare attribute ("start_time DESC").
 * Page tokens are in store/search.h (search_page_token_decode / _encode).
 *
 * Every function returns 0 and fills *out (the caller releases it with search_filter_release or
 * search_orders_release), or ERR_INVALID with MLflow's message and *out untouched. NULL or empty
 * filters give an empty filter; a NULL order_by list (nr 0) an empty order.
 */
#ifndef FERRY_TRACK_FILTER_H
#define FERRY_TRACK_FILTER_H

#include <stddef.h>

#include "store/search.h"
#include "util/error.h"

/* runs/search: metrics, params, tags, attributes and datasets. */
int filter_parse_runs(struct search_filter *out, const char *filter, struct error *err);
/* runs/search's order_by list; duplicates ("created" and "start_time" too) are refused. */
int filter_parse_run_order(struct search_orders *out, const char *const *order_by, size_t nr,
			   struct error *err);

/* experiments/search: name, creation_time, last_update_time and tags.<key>. */
int filter_parse_experiments(struct search_filter *out, const char *filter, struct error *err);
/* experiments/search's order_by: name, experiment_id, creation_time, last_update_time. */
int filter_parse_experiment_order(struct search_orders *out, const char *const *order_by, size_t nr,
				  struct error *err);

#endif
