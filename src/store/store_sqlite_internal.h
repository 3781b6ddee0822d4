/*
 * What the SQLite backend's files share: store_sqlite.c owns the connection and its helpers;
 * store_sqlite_*.c files add ops through these accessors. Not for use outside src/store.
 */
#ifndef FERRY_STORE_STORE_SQLITE_INTERNAL_H
#define FERRY_STORE_STORE_SQLITE_INTERNAL_H

#include <sqlite3.h>

#include "store/store_internal.h"

/* The connection of a SQLite store (st must come from store_sqlite_ops.open). */
sqlite3 *store_sqlite_db(struct store *st);

/* ERR_STORE with "<what>: <SQLite's message>"; call before anything else touches the handle. */
int store_sqlite_error(struct store *st, struct error *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Statements of the store_sqlite_*.c files that run on every request of their kind, cached per
 * connection like store_sqlite.c's own.
 */
enum store_sqlite_stmt {
	SQ_RUN_ACTIVE,
	SQ_PARAM_PUT,
	SQ_PARAM_GET,
	SQ_METRIC_PUT,
	SQ_LATEST_PUT,
	SQ_RUN_TAG_PUT,
	SQ__COUNT
};

/*
 * The connection's statement for slot id, prepared from sql on first use (a slot always gets the
 * same sql). The caller resets it and clears its bindings when done (store_sqlite_stmt_done).
 */
int store_sqlite_stmt(struct store *st, sqlite3_stmt **out, enum store_sqlite_stmt id,
		      const char *sql, const char *what, struct error *err);
/* sqlite3_reset + sqlite3_clear_bindings; NULL is fine. */
void store_sqlite_stmt_done(sqlite3_stmt *q);

/*
 * Steps the bound statement q over (key, value) rows into *out (value may be NULL): 0, or the
 * failing sqlite3_step code with *out untouched (the caller reports it).
 */
int store_sqlite_read_pairs(struct store_pairs *out, sqlite3_stmt *q);

/* BEGIN IMMEDIATE (with the backend's busy retries), COMMIT, and ROLLBACK if still open. */
int store_sqlite_begin(struct store *st, const char *what, struct error *err);
int store_sqlite_commit(struct store *st, const char *what, struct error *err);
void store_sqlite_rollback(struct store *st);

/* MLflow tracking ops, in store_sqlite_tracking.c (contracts in store.h). */
int store_sqlite_experiment_rename(struct store *st, int64_t id, const char *new_name,
				   struct error *err);
int store_sqlite_experiment_set_deleted(struct store *st, int64_t id, bool deleted,
					struct error *err);
int store_sqlite_experiment_set_tag(struct store *st, int64_t id, const char *key,
				    const char *value, struct error *err);
int store_sqlite_experiment_tags(struct store *st, struct store_pairs *out, int64_t id,
				 struct error *err);
int store_sqlite_run_update(struct store *st, const char *run_id, const struct store_run_changes *c,
			    struct error *err);
int store_sqlite_run_set_deleted(struct store *st, const char *run_id, bool deleted,
				 struct error *err);
int store_sqlite_run_delete_tag(struct store *st, const char *run_id, const char *key,
				struct error *err);
int store_sqlite_metric_history_page(struct store *st, struct store_metric_points *out,
				     const char *run_id, const char *key, int64_t offset,
				     int64_t limit, struct error *err);
int store_sqlite_run_log_batch(struct store *st, const char *run_id, const struct store_batch *b,
			       struct error *err);

/* Search ops, in store_sqlite_search.c (contracts in store.h; queries in store/search.h). */
int store_sqlite_run_search(struct store *st, struct store_runs *out, char **next_page_token,
			    const struct store_run_search *q, struct error *err);
int store_sqlite_experiment_search(struct store *st, struct store_experiments *out,
				   char **next_page_token, const struct store_experiment_search *q,
				   struct error *err);

/* Run artifacts, in store_sqlite_artifacts.c (contracts in store.h and store_internal.h). */
int store_sqlite_artifact_record(struct store *st, const char *run_id,
				 const struct store_new_artifact *artifacts, size_t nr,
				 struct error *err);
int store_sqlite_artifact_list(struct store *st, struct store_artifacts *out, const char *run_id,
			       const char *dir, bool all, struct error *err);
int store_sqlite_artifact_get(struct store *st, struct store_artifact *out, const char *run_id,
			      const char *path, struct error *err);
int store_sqlite_artifact_delete(struct store *st, int64_t *deleted, const char *run_id,
				 const char *path, struct error *err);
int store_sqlite_artifact_digests(struct store *st, int (*fn)(const char *hex, void *data),
				  void *data, struct error *err);

/* 0 if run_id is a run of this store, else ERR_NOTFOUND "no run with id '...'". */
int store_sqlite_run_exists(struct store *st, const char *run_id, struct error *err);

#endif
