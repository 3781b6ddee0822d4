/*
 * Search queries over runs and experiments (MLflow's runs/search and experiments/search): the
 * validated filter and order_by AST that src/track/filter.c parses and the store executes, and
 * the page tokens MLflow clients hand back. Backend-neutral; defined here so the store depends on
 * nothing above it.
 */
#ifndef FERRY_STORE_SEARCH_H
#define FERRY_STORE_SEARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"
#include "util/error.h"

/* What a condition or an order_by term is about. */
enum search_entity {
	SEARCH_METRIC, /* latest value of a run's metric; key is the metric key */
	SEARCH_PARAM,  /* key is the param key */
	SEARCH_TAG,    /* a run's (or, for experiments, an experiment's) tag; key is the tag key */
	SEARCH_ATTRIBUTE, /* a column of the run or experiment: see attr */
	SEARCH_DATASET,	  /* a dataset the run used as input: see attr */
};

/* Attributes, MLflow's aliases resolved ("created" is start_time, "Run name" run_name). */
enum search_attr {
	SEARCH_ATTR_NONE,
	/* runs */
	SEARCH_ATTR_RUN_ID,
	SEARCH_ATTR_RUN_NAME,
	SEARCH_ATTR_STATUS,
	SEARCH_ATTR_USER_ID,
	SEARCH_ATTR_ARTIFACT_URI,
	SEARCH_ATTR_START_TIME,
	SEARCH_ATTR_END_TIME,
	/* datasets of a run */
	SEARCH_ATTR_DATASET_NAME,
	SEARCH_ATTR_DATASET_DIGEST,
	SEARCH_ATTR_DATASET_CONTEXT,
	/* experiments */
	SEARCH_ATTR_EXPERIMENT_ID,
	SEARCH_ATTR_EXPERIMENT_NAME,
	SEARCH_ATTR_CREATION_TIME,
	SEARCH_ATTR_LAST_UPDATE_TIME,
	/* registered models and model versions (store/store_registry.h); also CREATION_TIME,
	 * LAST_UPDATE_TIME (MLflow's *_timestamp) and RUN_ID */
	SEARCH_ATTR_MODEL_NAME,
	SEARCH_ATTR_VERSION_NUMBER,
	SEARCH_ATTR_SOURCE_PATH,
};

enum search_op {
	SEARCH_OP_EQ,
	SEARCH_OP_NE,
	SEARCH_OP_LT,
	SEARCH_OP_LE,
	SEARCH_OP_GT,
	SEARCH_OP_GE,
	SEARCH_OP_LIKE,	 /* case-sensitive; % any run of characters, _ one character */
	SEARCH_OP_ILIKE, /* the same, ignoring ASCII case */
	SEARCH_OP_IN,
	SEARCH_OP_NOT_IN,
};

enum search_value_type {
	SEARCH_VALUE_NUMBER, /* num */
	SEARCH_VALUE_STRING, /* str */
	SEARCH_VALUE_LIST,   /* list of nr_list strings: IN and NOT IN only */
};

/*
 * One comparison `<entity>.<key> <op> <value>`. A valid condition (what the parser produces)
 * has: a number for metrics and the numeric attributes (start_time, end_time, creation_time,
 * last_update_time), a string for everything else, a list exactly with IN / NOT IN, and an op
 * the entity allows. A metric or param or tag condition holds only for runs that have the key.
 */
struct search_cond {
	enum search_entity entity;
	enum search_attr attr; /* SEARCH_ATTRIBUTE and SEARCH_DATASET; else SEARCH_ATTR_NONE */
	char *key;	       /* metric/param/tag key; the canonical attribute name otherwise */
	enum search_op op;
	enum search_value_type type;
	double num;
	char *str;
	char **list;
	size_t nr_list;
};

/* A conjunction: a run matches when every condition holds; none matches everything. */
struct search_filter {
	struct search_cond *items;
	size_t nr, alloc;
};
#define SEARCH_FILTER_INIT                                                                         \
	{                                                                                          \
		NULL, 0, 0                                                                         \
	}
void search_filter_release(struct search_filter *f);

/* One order_by term; metrics, params, tags (by key) or attributes. */
struct search_order {
	enum search_entity entity;
	enum search_attr attr; /* SEARCH_ATTRIBUTE only */
	char *key;
	bool ascending;
};

struct search_orders {
	struct search_order *items;
	size_t nr, alloc;
};
#define SEARCH_ORDERS_INIT                                                                         \
	{                                                                                          \
		NULL, 0, 0                                                                         \
	}
void search_orders_release(struct search_orders *o);

/* MLflow's limits on max_results for runs/search and experiments/search. */
#define SEARCH_MAX_RESULTS_DEFAULT 1000
#define SEARCH_MAX_RESULTS_THRESHOLD 50000

/*
 * A runs/search query for store_run_search(). Everything is borrowed for the call.
 * Ordering: the order terms in turn (runs without the key last, NaN metrics after numbers,
 * whatever the direction), then start_time DESC unless start_time was one of them, then run_id.
 */
struct store_run_search {
	/* NULL: every experiment; else these nr_experiment_ids ids (none: no runs) */
	const char *const *experiment_ids;
	size_t nr_experiment_ids;
	enum store_view view;		    /* 0: STORE_VIEW_ACTIVE */
	const struct search_filter *filter; /* NULL: no filter */
	const struct search_orders *order;  /* NULL: the default order */
	/* 0: SEARCH_MAX_RESULTS_DEFAULT; at most SEARCH_MAX_RESULTS_THRESHOLD */
	int64_t max_results;
	int64_t offset; /* rows to skip: what search_page_token_decode() gave */
	/*
	 * filter and order as the text they were parsed from, for a backend that hands the query
	 * on (http); a remote store refuses a non-empty filter or order without it.
	 */
	const char *filter_text;
	const char *const *order_by_text;
	size_t nr_order_by_text;
};

/* An experiments/search query for store_experiment_search(); same conventions. */
struct store_experiment_search {
	enum store_view view;
	/* Attributes (name, creation_time, last_update_time) and tags. */
	const struct search_filter *filter;
	const struct search_orders *order; /* NULL: creation_time DESC, experiment_id */
	int64_t max_results;
	int64_t offset;
	const char *filter_text; /* as for runs */
	const char *const *order_by_text;
	size_t nr_order_by_text;
};

/*
 * Page tokens as MLflow makes them: base64 of the JSON text {"offset": N}. encode returns a new
 * string (caller frees). decode accepts NULL or "" as offset 0, and MLflow's tokens, and fails
 * with ERR_INVALID and MLflow's message ("Invalid page token, ...") for anything else, including
 * offsets that are not positive.
 */
char *search_page_token_encode(int64_t offset);
int search_page_token_decode(int64_t *out, const char *token, struct error *err);

/*
 * Checks max_results as MLflow does (runs/search: ERR_INVALID above the threshold, or below 0)
 * and returns the effective value through *out (0 becomes the default).
 */
int search_max_results(int64_t *out, int64_t max_results, struct error *err);

/*
 * Translates an SQL LIKE pattern (% and _, no escape character) into a GLOB pattern matching the
 * same strings case-sensitively; the caller frees.
 */
char *search_like_to_glob(const char *like);

#endif
