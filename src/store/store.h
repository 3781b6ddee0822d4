/*
 * The metadata store: experiments, runs, params, metrics, tags and datasets (the model registry's
 * part is store/store_registry.h), behind one API whatever the backend (git's ref_storage_be).
 *
 * Contract for every function below unless it says otherwise:
 * - returns 0 on success or a negative ERR_* code with err filled (err may be NULL);
 * - never prints, never exits; on failure out-parameters are left untouched;
 * - strings passed in are borrowed for the duration of the call only;
 * - results are the caller's: release them with the matching *_release(), which is a no-op on a
 *   zero-initialised or already released value;
 * - a struct store is not shared between threads; open one per thread or process (SQLite
 *   serialises writers across processes by itself);
 * - times are milliseconds since the Unix epoch, UTC (util/id.h time_now_ms()).
 * Common codes: ERR_NOTFOUND (no such experiment/run/dataset), ERR_EXISTS (a unique name is
 * taken), ERR_CONFLICT (a write-once value would change), ERR_INVALID (malformed argument),
 * ERR_STORE (the database failed; the message names what was being done).
 */
#ifndef FERRY_STORE_STORE_H
#define FERRY_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/error.h"
#include "util/id.h"
#include "util/sha256.h"
#include "util/strbuf.h"

struct store;

/* Opening ------------------------------------------------------------------------------------- */

/*
 * Opens the store named by uri:
 *   "sqlite:PATH"        PATH relative to the current directory, or absolute;
 *   "PATH"               a bare file path (no "scheme:" prefix);
 *   "http://HOST:PORT[/PATH]", "https://..."  a remote MLflow-compatible tracking server (ferry
 *                        server, mlflow server) through its REST API: experiments, runs, params,
 *                        metrics, tags, run inputs and search. Nothing is sent before the first
 *                        call, so an unreachable server fails there (ERR_STORE naming the uri).
 *                        The server picks run ids; the stat cache and dataset profiles are
 *                        ERR_UNSUPPORTED; dataset ids live only as long as the handle (the API
 *                        records datasets with the run using them). MLflow's client settings
 *                        are read from the environment: MLFLOW_TRACKING_TOKEN (or _USERNAME and
 *                        _PASSWORD), MLFLOW_TRACKING_INSECURE_TLS, MLFLOW_TRACKING_SERVER_CERT_PATH,
 *                        MLFLOW_HTTP_REQUEST_TIMEOUT (s, default 120), _MAX_RETRIES (default 4)
 *                        and _BACKOFF_FACTOR (s, default 0.5): 408, 429 and 5xx answers and
 *                        broken connections are retried after factor * 2^n seconds;
 *   "postgresql://...", "postgres://..."  recognised, ERR_UNSUPPORTED for now.
 * Anything else is ERR_INVALID, including MLflow's "sqlite:///x.db" (relative there, absolute
 * if read as sqlite:PATH). Creates the database file if missing (not its directory) and
 * applies pending schema migrations; several processes may do this at once. A database whose
 * schema is newer than this binary, a file that is not a database, or another program's SQLite
 * database is ERR_STORE.
 */
int store_open(struct store **out, const char *uri, struct error *err);
/* Closes and frees st; NULL is fine. */
void store_close(struct store *st);
/* "sqlite": borrowed, static. */
const char *store_backend_name(const struct store *st);

struct store_info {
	const char *backend; /* borrowed, static */
	char *location;	     /* the database file's path as given */
	int schema_version;
	int latest_schema_version; /* what this binary knows */
	int64_t experiments, runs, metrics, datasets, registered_models, model_versions;
};
#define STORE_INFO_INIT                                                                            \
	{                                                                                          \
		.location = NULL                                                                   \
	}

int store_info(struct store *st, struct store_info *out, struct error *err);
void store_info_release(struct store_info *info);

/*
 * Integrity check (SQLite: PRAGMA integrity_check and foreign_key_check). Appends each problem
 * found to report, one per line; returns 0 if the store is consistent, ERR_STORE if not.
 */
int store_check(struct store *st, struct strbuf *report, struct error *err);

/* Shared shapes ------------------------------------------------------------------------------- */

/* A key/value pair passed in (params, tags). */
struct store_kv {
	const char *key;
	const char *value;
};

/* A key/value pair handed back; both strings are the caller's (value may be NULL for tags). */
struct store_pair {
	char *key;
	char *value;
};

struct store_pairs {
	struct store_pair *items;
	size_t nr, alloc;
};
#define STORE_PAIRS_INIT                                                                           \
	{                                                                                          \
		NULL, 0, 0                                                                         \
	}
void store_pairs_release(struct store_pairs *pairs);

/* Which lifecycle stage list functions return. */
enum store_view {
	STORE_VIEW_ACTIVE = 1 << 0,
	STORE_VIEW_DELETED = 1 << 1,
	STORE_VIEW_ALL = STORE_VIEW_ACTIVE | STORE_VIEW_DELETED,
};

/* Experiments --------------------------------------------------------------------------------- */

/* The experiment every store starts with, named "Default". */
#define STORE_DEFAULT_EXPERIMENT_ID "0"

struct store_experiment {
	char *id; /* "0", "1", ...: MLflow's string ids */
	char *name;
	char *artifact_location; /* NULL when unset */
	bool deleted;
	int64_t creation_time;
	int64_t last_update_time;
};
#define STORE_EXPERIMENT_INIT                                                                      \
	{                                                                                          \
		.id = NULL                                                                         \
	}
void store_experiment_release(struct store_experiment *exp);

struct store_experiments {
	struct store_experiment *items;
	size_t nr, alloc;
};
#define STORE_EXPERIMENTS_INIT                                                                     \
	{                                                                                          \
		NULL, 0, 0                                                                         \
	}
void store_experiments_release(struct store_experiments *list);

/*
 * Creates an experiment; *out_id receives its id (caller frees). The name must be non-empty and
 * unused (ERR_EXISTS). artifact_location may be NULL.
 */
int store_experiment_create(struct store *st, char **out_id, const char *name,
			    const char *artifact_location, struct error *err);
/* ERR_INVALID for an id that is not a number, ERR_NOTFOUND for one that does not exist. */
int store_experiment_get(struct store *st, struct store_experiment *out, const char *id,
			 struct error *err);
int store_experiment_get_by_name(struct store *st, struct store_experiment *out, const char *name,
				 struct error *err);
/* In ascending id order. */
int store_experiment_list(struct store *st, struct store_experiments *out, enum store_view view,
			  struct error *err);

/* Runs ---------------------------------------------------------------------------------------- */

enum store_run_status {
	STORE_RUN_RUNNING,
	STORE_RUN_SCHEDULED,
	STORE_RUN_FINISHED,
	STORE_RUN_FAILED,
	STORE_RUN_KILLED,
};

/* "RUNNING", "SCHEDULED", ...: MLflow's names. */
const char *store_run_status_name(enum store_run_status status);
/* Parses a status name (case-insensitive); ERR_INVALID listing the valid names otherwise. */
int store_run_status_parse(enum store_run_status *out, const char *name, struct error *err);

/* What store_run_create needs; NULL strings are stored as absent. */
struct store_new_run {
	const char *id;		   /* NULL: a fresh id_new(); else 32 lowercase hex digits */
	const char *experiment_id; /* NULL: STORE_DEFAULT_EXPERIMENT_ID */
	const char *name;
	const char *user;
	int64_t start_time; /* 0: now */
	enum store_run_status status;
	const char *artifact_uri;
	const char *source_git_commit; /* the commit the code was at, NULL outside git */
	bool source_dirty;	       /* the work tree had uncommitted changes */
	const char *command;	       /* the command line that ran */
	const struct store_kv *tags;   /* set in the same transaction */
	size_t nr_tags;
};

struct store_run {
	char id[ID_HEX_LEN + 1];
	char *experiment_id;
	char *name;
	char *user;
	enum store_run_status status;
	int64_t start_time;
	int64_t end_time; /* 0 while unset */
	bool deleted;
	char *artifact_uri;
	char *source_git_commit;
	bool source_dirty;
	char *command;
};
#define STORE_RUN_INIT                                                                             \
	{                                                                                          \
		.experiment_id = NULL                                                              \
	}
void store_run_release(struct store_run *run);

struct store_runs {
	struct store_run *items;
	size_t nr, alloc;
};
#define STORE_RUNS_INIT                                                                            \
	{                                                                                          \
		NULL, 0, 0                                                                         \
	}
void store_runs_release(struct store_runs *list);

/*
 * Creates a run and returns its id in out_id. ERR_NOTFOUND if the experiment does not exist,
 * ERR_EXISTS if a given id is taken, ERR_INVALID for a malformed id or an empty tag key.
 */
int store_run_create(struct store *st, char out_id[ID_HEX_LEN + 1], const struct store_new_run *run,
		     struct error *err);
int store_run_get(struct store *st, struct store_run *out, const char *run_id, struct error *err);
/* Runs of one experiment (NULL: all), newest start_time first, then by id. */
int store_run_list(struct store *st, struct store_runs *out, const char *experiment_id,
		   enum store_view view, struct error *err);
/* Sets the status, and the end time unless end_time is 0. */
int store_run_set_status(struct store *st, const char *run_id, enum store_run_status status,
			 int64_t end_time, struct error *err);

/*
 * Params are write-once: logging the value a key already has is fine, a different value is
 * ERR_CONFLICT naming the key and both values. A batch is one transaction: all or nothing.
 * A missing run is ERR_NOTFOUND.
 */
int store_run_log_params(struct store *st, const char *run_id, const struct store_kv *params,
			 size_t nr, struct error *err);
int store_run_log_param(struct store *st, const char *run_id, const char *key, const char *value,
			struct error *err);
/* All params of a run, by key. */
int store_run_params(struct store *st, struct store_pairs *out, const char *run_id,
		     struct error *err);

/* Tags may be overwritten; value may be NULL. Batch semantics as for params. */
int store_run_set_tags(struct store *st, const char *run_id, const struct store_kv *tags, size_t nr,
		       struct error *err);
int store_run_set_tag(struct store *st, const char *run_id, const char *key, const char *value,
		      struct error *err);
int store_run_tags(struct store *st, struct store_pairs *out, const char *run_id,
		   struct error *err);

/* A metric point passed in. value may be NaN or infinite. */
struct store_metric {
	const char *key;
	double value;
	int64_t timestamp;
	int64_t step;
};

/* A metric point handed back; key is the caller's. */
struct store_metric_point {
	char *key;
	double value;
	int64_t timestamp;
	int64_t step;
};

struct store_metric_points {
	struct store_metric_point *items;
	size_t nr, alloc;
};
#define STORE_METRIC_POINTS_INIT                                                                   \
	{                                                                                          \
		NULL, 0, 0                                                                         \
	}
void store_metric_points_release(struct store_metric_points *list);

/*
 * Logs a batch of points in one transaction (all or nothing). The history keeps every distinct
 * point (an identical point logged twice is stored once); the latest value per key is the point
 * with the greatest (step, timestamp, value), as MLflow defines it. A missing run is ERR_NOTFOUND,
 * an empty key ERR_INVALID (checked before anything is written).
 */
int store_run_log_metrics(struct store *st, const char *run_id, const struct store_metric *metrics,
			  size_t nr, struct error *err);
/*
 * store_run_log_metrics into a run that must also be active, checked in the write's own
 * transaction where the backend can (no separate read first): ERR_INVALID if it is deleted.
 */
int store_run_log_metrics_active(struct store *st, const char *run_id,
				 const struct store_metric *metrics, size_t nr, struct error *err);
/* Every point of one key, by step then timestamp. ERR_NOTFOUND if the run does not exist. */
int store_metric_history(struct store *st, struct store_metric_points *out, const char *run_id,
			 const char *key, struct error *err);
/* The latest point of each key of a run, by key. */
int store_run_latest_metrics(struct store *st, struct store_metric_points *out, const char *run_id,
			     struct error *err);

/* Datasets ------------------------------------------------------------------------------------ */

/* What store_dataset_record needs; NULL strings are stored as absent. */
struct store_new_dataset {
	const char *name;     /* NULL: path. With digest, identifies the dataset version */
	const char *path;     /* where ferry found it, relative to the project */
	const char *digest;   /* content digest, e.g. sha256 hex; required */
	int64_t size;	      /* bytes; -1 unknown */
	int64_t created_time; /* 0: now */
	const char *git_commit;
	const char *source_type; /* MLflow's dataset source fields, NULL for ferry's own data */
	const char *source;
	const char *schema_json;
	const char *profile_json;
};

struct store_dataset {
	int64_t id;
	char *name;
	char *path;
	char *digest;
	int64_t size; /* -1 unknown */
	int64_t created_time;
	char *git_commit;
	char *source_type;
	char *source;
	char *context; /* store_run_inputs() only: how the run used it, NULL if unsaid */
};
#define STORE_DATASET_INIT                                                                         \
	{                                                                                          \
		.name = NULL                                                                       \
	}
void store_dataset_release(struct store_dataset *ds);

struct store_datasets {
	struct store_dataset *items;
	size_t nr, alloc;
};
#define STORE_DATASETS_INIT                                                                        \
	{                                                                                          \
		NULL, 0, 0                                                                         \
	}
void store_datasets_release(struct store_datasets *list);

/*
 * Records a dataset version and returns its id. Idempotent: recording the same (name, digest)
 * again returns the existing id and keeps the first record's other fields.
 */
int store_dataset_record(struct store *st, int64_t *out_id, const struct store_new_dataset *ds,
			 struct error *err);
int store_dataset_get(struct store *st, struct store_dataset *out, int64_t id, struct error *err);
/*
 * Stores profile_json (a dataset profile, ml's reference for drift checks) with every recorded
 * version whose digest is digest; *updated is how many there were (0 if none: not an error).
 */
int store_dataset_set_profile(struct store *st, int64_t *updated, const char *digest,
			      const char *profile_json, struct error *err);
/*
 * Links a dataset to a run as one of its inputs; context ("training", ...) may be NULL. Linking
 * again updates a non-NULL context. ERR_NOTFOUND if the run or the dataset does not exist.
 */
int store_run_add_input(struct store *st, const char *run_id, int64_t dataset_id,
			const char *context, struct error *err);
/* The datasets a run read, by id, with their context. */
int store_run_inputs(struct store *st, struct store_datasets *out, const char *run_id,
		     struct error *err);

/* Stat cache (data versioning) -------------------------------------------------------------- */

/* What a file looked like when it was hashed. */
struct store_stat_entry {
	const char *path; /* relative to the project root; borrowed (owned by the store on load) */
	uint64_t size;
	int64_t mtime_ns, ctime_ns;
	uint64_t inode;
	char hex[SHA256_HEX_SIZE];
	int64_t recorded_ns; /* when the file was stat'ed */
};

/*
 * Calls fn for every entry whose path is prefix or lies under prefix/ ("" for all), in path
 * byte order; stops and returns fn's value when it is non-zero. The entry is valid only during
 * the call.
 */
int store_statcache_load(struct store *st, const char *prefix,
			 int (*fn)(const struct store_stat_entry *e, void *data), void *data,
			 struct error *err);
/* Inserts or replaces entries, all in one transaction. */
int store_statcache_put(struct store *st, const struct store_stat_entry *entries, size_t n,
			struct error *err);

/* MLflow tracking server operations ------------------------------------------------------------
 * What the REST API needs beyond the above (src/api/mlflow*.c; SQLite: store_sqlite_tracking.c).
 */

/* Renames an experiment and touches its last_update_time. ERR_EXISTS if new_name is taken. */
int store_experiment_rename(struct store *st, const char *id, const char *new_name,
			    struct error *err);
/*
 * Soft-deletes (deleted) or restores an experiment together with its runs, as MLflow does.
 * ERR_NOTFOUND unless the experiment exists in the other lifecycle stage.
 */
int store_experiment_set_deleted(struct store *st, const char *id, bool deleted, struct error *err);
/* Sets (overwrites) an experiment tag; ERR_NOTFOUND if the experiment does not exist. */
int store_experiment_set_tag(struct store *st, const char *id, const char *key, const char *value,
			     struct error *err);
/* An experiment's tags, by key. */
int store_experiment_tags(struct store *st, struct store_pairs *out, const char *id,
			  struct error *err);

/* What store_run_update changes; a false flag or NULL name leaves that field alone. */
struct store_run_changes {
	bool set_status;
	enum store_run_status status;
	bool set_end_time;
	int64_t end_time;
	const char *name; /* also sets tag mlflow.runName, in the same transaction */
};
int store_run_update(struct store *st, const char *run_id, const struct store_run_changes *c,
		     struct error *err);
/* Soft-deletes or restores a run (deleted_time set or cleared). ERR_NOTFOUND without the run. */
int store_run_set_deleted(struct store *st, const char *run_id, bool deleted, struct error *err);
/* Removes a tag; ERR_NOTFOUND if the run or the tag does not exist. */
int store_run_delete_tag(struct store *st, const char *run_id, const char *key, struct error *err);
/* Like store_metric_history, from point offset on, at most limit points (limit < 0: all). */
int store_metric_history_page(struct store *st, struct store_metric_points *out, const char *run_id,
			      const char *key, int64_t offset, int64_t limit, struct error *err);

/* One log-batch request. */
struct store_batch {
	const struct store_metric *metrics;
	size_t nr_metrics;
	const struct store_kv *params;
	size_t nr_params;
	const struct store_kv *tags;
	size_t nr_tags;
};
/*
 * Logs params, then metrics, then tags in ONE transaction: all or nothing, with the semantics of
 * store_run_log_params, store_run_log_metrics and store_run_set_tags. The run must be active
 * (checked in that transaction): ERR_NOTFOUND without it, ERR_INVALID if it is deleted.
 */
int store_run_log_batch(struct store *st, const char *run_id, const struct store_batch *b,
			struct error *err);

/* Search (MLflow runs/search, experiments/search) ---------------------------------------------
 * The queries and their filter/order AST are in store/search.h (parsed by src/track/filter.c).
 */
struct store_run_search;
struct store_experiment_search;

/*
 * Runs matching q, in q's order, from row q->offset on: at most max_results of them. When more
 * rows follow, *next_page_token gets MLflow's token for them (caller frees), else NULL.
 * ERR_INVALID for max_results above SEARCH_MAX_RESULTS_THRESHOLD or below 0, a negative offset,
 * an experiment id that is not a number, or a malformed query.
 */
int store_run_search(struct store *st, struct store_runs *out, char **next_page_token,
		     const struct store_run_search *q, struct error *err);
/* The same for experiments. */
int store_experiment_search(struct store *st, struct store_experiments *out, char **next_page_token,
			    const struct store_experiment_search *q, struct error *err);

/* Run artifacts -------------------------------------------------------------------------------
 * Files a run produced, by path relative to the run's artifact root ("model/model.json"); their
 * bytes live in the object cache under digest (src/track/artifacts.h puts them there). Paths
 * are '/'-separated, relative, without empty, "." or ".." segments (ERR_INVALID otherwise); a
 * path is a file or a directory of the run, never both (ERR_CONFLICT). SQLite:
 * store_sqlite_artifacts.c. Backends without them answer ERR_UNSUPPORTED.
 */

/* One artifact passed in. */
struct store_new_artifact {
	const char *path;
	const char *digest; /* sha256 hex, 64 lowercase digits */
	int64_t size;	    /* bytes, >= 0 */
};

/* One artifact or directory handed back; strings are the caller's. */
struct store_artifact {
	char *path;   /* store_artifact_list: the name within the listed directory */
	bool is_dir;  /* store_artifact_list only: a directory (digest NULL, size -1) */
	char *digest; /* NULL for a directory */
	int64_t size;
	int64_t created_time;
};
#define STORE_ARTIFACT_INIT                                                                        \
	{                                                                                          \
		.path = NULL                                                                       \
	}
void store_artifact_release(struct store_artifact *a);

struct store_artifacts {
	struct store_artifact *items;
	size_t nr, alloc;
};
#define STORE_ARTIFACTS_INIT                                                                       \
	{                                                                                          \
		NULL, 0, 0                                                                         \
	}
void store_artifacts_release(struct store_artifacts *list);

/*
 * Records artifacts of a run in one transaction (all or nothing); a path the run has already is
 * replaced. ERR_NOTFOUND if the run does not exist, ERR_CONFLICT if a path is a directory of the
 * run (or has a file of the run as a parent), ERR_INVALID for a bad path, digest or size.
 */
int store_artifact_record(struct store *st, const char *run_id,
			  const struct store_new_artifact *artifacts, size_t nr, struct error *err);
/*
 * The direct children of directory dir of a run ("" or NULL: the root), as MLflow lists them:
 * files with their digest and size, and sub-directories (is_dir), by name. A dir that does not
 * exist (or is a file) lists nothing. ERR_NOTFOUND if the run does not exist.
 */
int store_artifact_list(struct store *st, struct store_artifacts *out, const char *run_id,
			const char *dir, struct error *err);
/* Every file of a run at or under dir ("" or NULL: all), with full paths, by path. */
int store_artifact_list_all(struct store *st, struct store_artifacts *out, const char *run_id,
			    const char *dir, struct error *err);
/* One file (full path). ERR_NOTFOUND naming the path if the run has no such file. */
int store_artifact_get(struct store *st, struct store_artifact *out, const char *run_id,
		       const char *path, struct error *err);
/*
 * Removes the file path of a run, or every file under directory path ("": all of them);
 * *deleted (may be NULL) gets how many. Removing nothing is not an error.
 */
int store_artifact_delete(struct store *st, int64_t *deleted, const char *run_id, const char *path,
			  struct error *err);
/*
 * Calls fn with every distinct digest any artifact of any run (deleted runs too) refers to: the
 * cache objects gc must keep. Stops and returns fn's value when it is non-zero.
 */
int store_artifact_digests(struct store *st, int (*fn)(const char *hex, void *data), void *data,
			   struct error *err);

#endif
