/*
 * What store backends share (git's refs-internal.h): the base struct every backend embeds first
 * and the ops table store.c dispatches through. Not for use outside src/store.
 */
#ifndef FERRY_STORE_STORE_INTERNAL_H
#define FERRY_STORE_STORE_INTERNAL_H

#include "store/store.h"
#include "store/store_registry.h"

/*
 * One per backend. Every op has the contract of the store.h function of the same name; store.c
 * has already checked the arguments that are the same for every backend (non-NULL, non-empty
 * keys, batch sizes), so ops only check what depends on their storage.
 */
struct store_ops {
	const char *name;
	/* The backend's server picks run ids (http): store.c refuses a run id given by a caller. */
	bool server_run_ids;

	/* location: the backend-specific part of the uri (a file path for sqlite). */
	int (*open)(struct store **out, const char *location, struct error *err);
	void (*close)(struct store *st);
	int (*info)(struct store *st, struct store_info *out, struct error *err);
	int (*check)(struct store *st, struct strbuf *report, struct error *err);

	int (*experiment_create)(struct store *st, char **out_id, const char *name,
				 const char *artifact_location, struct error *err);
	int (*experiment_get)(struct store *st, struct store_experiment *out, int64_t id,
			      struct error *err);
	int (*experiment_get_by_name)(struct store *st, struct store_experiment *out,
				      const char *name, struct error *err);
	int (*experiment_list)(struct store *st, struct store_experiments *out,
			       enum store_view view, struct error *err);

	/*
	 * run->id and run->experiment_id are filled in (and validated) by store.c; the id the run
	 * got goes to out_id (run->id, unless server_run_ids).
	 */
	int (*run_create)(struct store *st, char out_id[ID_HEX_LEN + 1],
			  const struct store_new_run *run, int64_t experiment_id,
			  struct error *err);
	int (*run_get)(struct store *st, struct store_run *out, const char *run_id,
		       struct error *err);
	/* experiment_id < 0: every experiment. */
	int (*run_list)(struct store *st, struct store_runs *out, int64_t experiment_id,
			enum store_view view, struct error *err);
	int (*run_set_status)(struct store *st, const char *run_id, enum store_run_status status,
			      int64_t end_time, struct error *err);
	int (*run_log_params)(struct store *st, const char *run_id, const struct store_kv *params,
			      size_t nr, struct error *err);
	int (*run_params)(struct store *st, struct store_pairs *out, const char *run_id,
			  struct error *err);
	int (*run_set_tags)(struct store *st, const char *run_id, const struct store_kv *tags,
			    size_t nr, struct error *err);
	int (*run_tags)(struct store *st, struct store_pairs *out, const char *run_id,
			struct error *err);
	int (*run_log_metrics)(struct store *st, const char *run_id,
			       const struct store_metric *metrics, size_t nr, struct error *err);
	/* Optional: store.c reads the run first without it. */
	int (*run_log_metrics_active)(struct store *st, const char *run_id,
				      const struct store_metric *metrics, size_t nr,
				      struct error *err);
	int (*metric_history)(struct store *st, struct store_metric_points *out, const char *run_id,
			      const char *key, struct error *err);
	int (*run_latest_metrics)(struct store *st, struct store_metric_points *out,
				  const char *run_id, struct error *err);

	int (*dataset_record)(struct store *st, int64_t *out_id, const struct store_new_dataset *ds,
			      struct error *err);
	int (*dataset_get)(struct store *st, struct store_dataset *out, int64_t id,
			   struct error *err);
	int (*dataset_set_profile)(struct store *st, int64_t *updated, const char *digest,
				   const char *profile_json, struct error *err);
	int (*run_add_input)(struct store *st, const char *run_id, int64_t dataset_id,
			     const char *context, struct error *err);
	int (*run_inputs)(struct store *st, struct store_datasets *out, const char *run_id,
			  struct error *err);

	int (*statcache_load)(struct store *st, const char *prefix,
			      int (*fn)(const struct store_stat_entry *e, void *data), void *data,
			      struct error *err);
	int (*statcache_put)(struct store *st, const struct store_stat_entry *entries, size_t n,
			     struct error *err);

	/* MLflow tracking server operations (experiment ids already parsed by store.c). */
	int (*experiment_rename)(struct store *st, int64_t id, const char *new_name,
				 struct error *err);
	int (*experiment_set_deleted)(struct store *st, int64_t id, bool deleted,
				      struct error *err);
	int (*experiment_set_tag)(struct store *st, int64_t id, const char *key, const char *value,
				  struct error *err);
	int (*experiment_tags)(struct store *st, struct store_pairs *out, int64_t id,
			       struct error *err);
	int (*run_update)(struct store *st, const char *run_id, const struct store_run_changes *c,
			  struct error *err);
	int (*run_set_deleted)(struct store *st, const char *run_id, bool deleted,
			       struct error *err);
	int (*run_delete_tag)(struct store *st, const char *run_id, const char *key,
			      struct error *err);
	int (*metric_history_page)(struct store *st, struct store_metric_points *out,
				   const char *run_id, const char *key, int64_t offset,
				   int64_t limit, struct error *err);
	int (*run_log_batch)(struct store *st, const char *run_id, const struct store_batch *b,
			     struct error *err);

	/* Search (store/search.h); max_results, offset and experiment ids checked by store.c. */
	int (*run_search)(struct store *st, struct store_runs *out, char **next_page_token,
			  const struct store_run_search *q, struct error *err);
	int (*experiment_search)(struct store *st, struct store_experiments *out,
				 char **next_page_token, const struct store_experiment_search *q,
				 struct error *err);

	/* Run artifacts (paths, digests and sizes checked by store.c); NULL: ERR_UNSUPPORTED. */
	int (*artifact_record)(struct store *st, const char *run_id,
			       const struct store_new_artifact *artifacts, size_t nr,
			       struct error *err);
	/* all: every file at or under dir with full paths; else dir's direct children */
	int (*artifact_list)(struct store *st, struct store_artifacts *out, const char *run_id,
			     const char *dir, bool all, struct error *err);
	int (*artifact_get)(struct store *st, struct store_artifact *out, const char *run_id,
			    const char *path, struct error *err);
	int (*artifact_delete)(struct store *st, int64_t *deleted, const char *run_id,
			       const char *path, struct error *err);
	int (*artifact_digests)(struct store *st, int (*fn)(const char *hex, void *data),
				void *data, struct error *err);

	/*
	 * Model registry (store/store_registry.h); NULL: ERR_UNSUPPORTED. store_registry.c has
	 * checked names (non-empty), versions (>= 1), aliases (store_alias_check), tag keys,
	 * stages, the search limits (max_results is the effective one) and archive_existing's
	 * stage. Out-parameters are never NULL here (store_registry.c passes its own), and stages
	 * for model_latest_versions are never empty (none means all four).
	 */
	int (*model_create)(struct store *st, const char *name, const char *description,
			    const struct store_kv *tags, size_t nr_tags, struct error *err);
	int (*model_get)(struct store *st, struct store_model *out, const char *name,
			 struct error *err);
	int (*model_rename)(struct store *st, const char *name, const char *new_name,
			    struct error *err);
	int (*model_update)(struct store *st, const char *name, const char *description,
			    struct error *err);
	int (*model_delete)(struct store *st, const char *name, struct error *err);
	int (*model_set_tag)(struct store *st, const char *name, const char *key, const char *value,
			     struct error *err);
	int (*model_delete_tag)(struct store *st, const char *name, const char *key,
				struct error *err);
	int (*model_tags)(struct store *st, struct store_pairs *out, const char *name,
			  struct error *err);
	int (*model_aliases)(struct store *st, struct store_pairs *out, const char *name,
			     struct error *err);
	int (*model_search)(struct store *st, struct store_models *out, char **next_page_token,
			    const struct store_model_search *q, struct error *err);
	int (*model_version_create)(struct store *st, int64_t *out_version,
				    const struct store_new_model_version *nv, struct error *err);
	int (*model_version_get)(struct store *st, struct store_model_version *out,
				 const char *name, int64_t version, struct error *err);
	int (*model_version_update)(struct store *st, const char *name, int64_t version,
				    const char *description, struct error *err);
	int (*model_version_delete)(struct store *st, const char *name, int64_t version,
				    struct error *err);
	int (*model_version_set_tag)(struct store *st, const char *name, int64_t version,
				     const char *key, const char *value, struct error *err);
	int (*model_version_delete_tag)(struct store *st, const char *name, int64_t version,
					const char *key, struct error *err);
	int (*model_version_tags)(struct store *st, struct store_pairs *out, const char *name,
				  int64_t version, struct error *err);
	int (*model_version_aliases)(struct store *st, struct store_pairs *out, const char *name,
				     int64_t version, struct error *err);
	int (*model_version_datasets)(struct store *st, struct store_datasets *out,
				      const char *name, int64_t version, struct error *err);
	int (*model_latest_versions)(struct store *st, struct store_model_versions *out,
				     const char *name, const enum store_stage *stages, size_t nr,
				     struct error *err);
	int (*model_version_search)(struct store *st, struct store_model_versions *out,
				    char **next_page_token, const struct store_model_search *q,
				    struct error *err);
	int (*model_version_transition)(struct store *st, struct store_model_version *out,
					const char *name, int64_t version, enum store_stage stage,
					bool archive_existing, const char *user, const char *reason,
					struct error *err);
	int (*alias_get)(struct store *st, int64_t *out_version, const char *name,
			 const char *alias, struct error *err);
	int (*alias_set)(struct store *st, int64_t *out_from, const struct store_alias_move *m,
			 struct error *err);
	int (*alias_rollback)(struct store *st, int64_t *out_from, int64_t *out_to,
			      const char *name, const char *alias, const char *user,
			      const char *reason, struct error *err);
	int (*model_history)(struct store *st, struct store_registry_events *out, const char *name,
			     struct error *err);
};

/* The first member of every backend's handle. */
struct store {
	const struct store_ops *ops;
	char *location; /* owned; freed by the backend's close */
};

extern const struct store_ops store_sqlite_ops;
extern const struct store_ops store_http_ops;

/* Formats an experiment id as MLflow does ("0", "1", ...); the caller frees. */
char *store_experiment_id_str(int64_t id);

/*
 * Monitoring (store/store_monitor.h): store_monitor.c checks the arguments and calls these for
 * SQLite stores (store_sqlite_monitor.c); other backends answer ERR_UNSUPPORTED.
 */
struct store_new_monitor_result;
struct store_monitor_results;
struct store_alert_state;
struct store_alert_state_put;
struct store_new_alert_event;
struct store_alert_events;
int store_sqlite_monitor_record(struct store *st, int64_t *out_result_id, int64_t *event_ids,
				const struct store_new_monitor_result *r,
				const struct store_alert_state_put *states, size_t n_states,
				const struct store_new_alert_event *events, size_t n_events,
				struct error *err);
int store_sqlite_monitor_results(struct store *st, struct store_monitor_results *out,
				 const char *model, int64_t limit, bool with_report,
				 struct error *err);
int store_sqlite_alert_state_get(struct store *st, struct store_alert_state *out, const char *model,
				 const char *rule, struct error *err);
int store_sqlite_alert_event_set_webhook(struct store *st, int64_t event_id, const char *status,
					 const char *detail, struct error *err);
int store_sqlite_alert_events(struct store *st, struct store_alert_events *out, const char *model,
			      int64_t limit, struct error *err);

#endif
