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

/*
 * registered-models/search: name (=, !=, LIKE, ILIKE) and tags.<key> (the same), with the
 * messages of SearchModelUtils and of MLflow's SQL registry store, which checks comparators only
 * after every condition parsed.
 */
int filter_parse_models(struct search_filter *out, const char *filter, struct error *err);
/*
 * registered-models/search's order_by as MLflow's SQL store takes it: name, last_updated_timestamp
 * or its alias timestamp (both SEARCH_ATTR_LAST_UPDATE_TIME). creation_timestamp is refused as
 * MLflow refuses it. A field named twice is ERR_CONFLICT, not ERR_INVALID: MLflow answers that one
 * with a 500 INTERNAL_ERROR, and callers that mimic it need to tell.
 */
int filter_parse_model_order(struct search_orders *out, const char *const *order_by, size_t nr,
			     struct error *err);

/*
 * model-versions/search: name, source_path (=, !=, LIKE, ILIKE), run_id (those and IN),
 * version_number (numeric comparators; a quoted number counts as the number) and tags.<key>.
 */
int filter_parse_model_versions(struct search_filter *out, const char *filter, struct error *err);
/*
 * model-versions/search's order_by: name, version_number, creation_timestamp,
 * last_updated_timestamp; a field named twice is ERR_CONFLICT as for models.
 */
int filter_parse_model_version_order(struct search_orders *out, const char *const *order_by,
				     size_t nr, struct error *err);

#endif
