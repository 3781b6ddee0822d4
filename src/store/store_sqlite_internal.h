/*
 * What the SQLite backend's files share: store_sqlite.c owns the connection and its helpers;
 * store_sqlite_*.c files add ops through these accessors. Not for use outside src/store.
 */
#ifndef FERRY_STORE_STORE_SQLITE_INTERNAL_H
#define FERRY_STORE_STORE_SQLITE_INTERNAL_H

#include <sqlite3.h>

#include "store/search.h"
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
	SQ_METRIC_PUT_MANY,
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

/* Search queries (store_sqlite_query.c) -------------------------------------------------------
 * A SELECT built from the search AST (store/search.h) with numbered, bound parameters only: the
 * caller appends conditions to where (after store_sql_where_and), terms to order and joins to
 * joins, binding every value through store_sql_bind_*, then store_sql_prepare assembles it.
 */

/* SQLite joins at most 64 tables; one is the searched table, the rest is the callers'. */
#define STORE_SQL_MAX_ALIASES 60

enum store_sql_bind_type {
	STORE_SQL_BIND_TEXT,
	STORE_SQL_BIND_DOUBLE,
	STORE_SQL_BIND_INT,
};

struct store_sql_bind {
	enum store_sql_bind_type type;
	const char *text; /* borrowed from the query, or owned below */
	char *owned;
	double d;
	int64_t i;
};

/* A metric, param or tag joined once per key, as a1, a2, ... (runs and experiments search). */
struct store_sql_alias {
	enum search_entity entity;
	const char *key; /* borrowed */
	bool inner;	 /* a filter needs the key: an inner join, the value is never NULL */
	bool no_nan;	 /* a filter excludes NaN (metrics) */
};

struct store_sql {
	struct strbuf joins, where, order;
	struct store_sql_bind *binds;
	size_t nr_binds, alloc_binds;
	struct store_sql_alias aliases[STORE_SQL_MAX_ALIASES];
	size_t nr_aliases;
};

void store_sql_init(struct store_sql *q);
void store_sql_release(struct store_sql *q);
/*
 * Add a parameter and return its number for "?N". Text is borrowed (it must outlive the
 * statement) except with _owned, which takes it over.
 */
size_t store_sql_bind_text(struct store_sql *q, const char *text);
size_t store_sql_bind_owned(struct store_sql *q, char *text);
size_t store_sql_bind_double(struct store_sql *q, double d);
size_t store_sql_bind_int(struct store_sql *q, int64_t i);
/* Appends " WHERE " before the first condition, " AND " before the others. */
void store_sql_where_and(struct store_sql *q);
/*
 * Appends "<col> <op> <value>" for a condition with a string (=, !=, LIKE, ILIKE) or a list
 * (IN, NOT IN), or with a number (=, !=, <, <=, >, >=); any other shape is a BUG(), so callers
 * check what their parser may hand them first.
 */
void store_sql_string_cond(struct store_sql *q, const char *col, const struct search_cond *c);
void store_sql_number_cond(struct store_sql *q, const char *col, const struct search_cond *c);
/*
 * Prepares "<select><joins><where> ORDER BY <order> LIMIT ? OFFSET ?" with every parameter
 * bound; *out is the caller's to finalize, valid while q lives. ERR_INVALID when the query has
 * too many parameters for SQLite.
 */
int store_sql_prepare(struct store *st, sqlite3_stmt **out, const char *select, struct store_sql *q,
		      int64_t limit, int64_t offset, const char *what, struct error *err);

/*
 * A read transaction, so that several reads come from one snapshot; *began is false if the
 * caller already had a transaction open, and read_end then leaves it alone.
 */
int store_sqlite_read_begin(struct store *st, bool *began, const char *what, struct error *err);
void store_sqlite_read_end(struct store *st, bool began);

/*
 * One-off statements (store_sqlite_query.c), for ops that run rarely enough to be prepared per
 * call: prepare (ERR_STORE naming what), bind a string (NULL binds NULL; copied), read a text
 * column (NULL stays NULL; the caller frees).
 */
int store_sqlite_prepare(struct store *st, sqlite3_stmt **out, const char *sql, const char *what,
			 struct error *err);
void store_sqlite_bind_str(sqlite3_stmt *q, int i, const char *v);
char *store_sqlite_col_str(sqlite3_stmt *q, int i);
/* Steps a bound write to SQLITE_DONE; *changes (may be NULL) gets the rows it changed. */
int store_sqlite_step_write(struct store *st, sqlite3_stmt *q, int *changes, const char *what,
			    struct error *err);
/* Steps the bound query q once and finalizes it: 1 for a row, 0 for none, or ERR_STORE. */
int store_sqlite_has_row(struct store *st, sqlite3_stmt *q, const char *what, struct error *err);
/* store_sqlite_read_pairs over the bound query q, then finalizes it; ERR_STORE naming what. */
int store_sqlite_pairs_final(struct store *st, struct store_pairs *out, sqlite3_stmt *q,
			     const char *what, struct error *err);

/* Model registry (contracts in store/store_registry.h and store_internal.h) --------------------
 * Models and version creation in store_sqlite_registry.c; reading, editing and deleting versions
 * in store_sqlite_registry_versions.c; stages, aliases, rollback and history in
 * store_sqlite_registry_events.c; searches and latest versions in store_sqlite_registry_search.c.
 */
int store_sqlite_model_create(struct store *st, const char *name, const char *description,
			      const struct store_kv *tags, size_t nr_tags, struct error *err);
int store_sqlite_model_get(struct store *st, struct store_model *out, const char *name,
			   struct error *err);
int store_sqlite_model_rename(struct store *st, const char *name, const char *new_name,
			      struct error *err);
int store_sqlite_model_update(struct store *st, const char *name, const char *description,
			      struct error *err);
int store_sqlite_model_delete(struct store *st, const char *name, struct error *err);
int store_sqlite_model_set_tag(struct store *st, const char *name, const char *key,
			       const char *value, struct error *err);
int store_sqlite_model_delete_tag(struct store *st, const char *name, const char *key,
				  struct error *err);
int store_sqlite_model_tags(struct store *st, struct store_pairs *out, const char *name,
			    struct error *err);
int store_sqlite_model_aliases(struct store *st, struct store_pairs *out, const char *name,
			       struct error *err);
int store_sqlite_model_version_create(struct store *st, int64_t *out_version,
				      const struct store_new_model_version *nv, struct error *err);
int store_sqlite_model_version_get(struct store *st, struct store_model_version *out,
				   const char *name, int64_t version, struct error *err);
int store_sqlite_model_version_update(struct store *st, const char *name, int64_t version,
				      const char *description, struct error *err);
int store_sqlite_model_version_delete(struct store *st, const char *name, int64_t version,
				      struct error *err);
int store_sqlite_model_version_set_tag(struct store *st, const char *name, int64_t version,
				       const char *key, const char *value, struct error *err);
int store_sqlite_model_version_delete_tag(struct store *st, const char *name, int64_t version,
					  const char *key, struct error *err);
int store_sqlite_model_version_tags(struct store *st, struct store_pairs *out, const char *name,
				    int64_t version, struct error *err);
int store_sqlite_model_version_aliases(struct store *st, struct store_pairs *out, const char *name,
				       int64_t version, struct error *err);
int store_sqlite_model_version_datasets(struct store *st, struct store_datasets *out,
					const char *name, int64_t version, struct error *err);
int store_sqlite_model_latest_versions(struct store *st, struct store_model_versions *out,
				       const char *name, const enum store_stage *stages, size_t nr,
				       struct error *err);
int store_sqlite_model_search(struct store *st, struct store_models *out, char **next_page_token,
			      const struct store_model_search *q, struct error *err);
int store_sqlite_model_version_search(struct store *st, struct store_model_versions *out,
				      char **next_page_token, const struct store_model_search *q,
				      struct error *err);
int store_sqlite_model_version_transition(struct store *st, struct store_model_version *out,
					  const char *name, int64_t version, enum store_stage stage,
					  bool archive_existing, const char *user,
					  const char *reason, struct error *err);
int store_sqlite_alias_get(struct store *st, int64_t *out_version, const char *name,
			   const char *alias, struct error *err);
int store_sqlite_alias_set(struct store *st, int64_t *out_from, const struct store_alias_move *m,
			   struct error *err);
int store_sqlite_alias_rollback(struct store *st, int64_t *out_from, int64_t *out_to,
				const char *name, const char *alias, const char *user,
				const char *reason, struct error *err);
int store_sqlite_model_history(struct store *st, struct store_registry_events *out,
			       const char *name, struct error *err);

/* Shared by the store_sqlite_registry*.c files. */
/* ERR_NOTFOUND with MLflow's messages. */
int store_sqlite_model_notfound(const char *name, struct error *err);
int store_sqlite_version_notfound(const char *name, int64_t version, struct error *err);
/* Sets a version's tags (overwriting); ERR_NOTFOUND without the version. */
int store_sqlite_version_put_tags(struct store *st, const char *name, int64_t version,
				  const struct store_kv *tags, size_t nr, struct error *err);
/* 0 if the registered model (version) exists, else ERR_NOTFOUND with MLflow's message. */
int store_sqlite_model_exists(struct store *st, const char *name, struct error *err);
int store_sqlite_version_exists(struct store *st, const char *name, int64_t version,
				struct error *err);
/* Sets the model's last_updated_time to now (ms). */
int store_sqlite_model_touch(struct store *st, const char *name, int64_t now, struct error *err);
/* Reads a row of STORE_SQLITE_VERSION_COLUMNS (from column 0) into out. */
#define STORE_SQLITE_VERSION_COLUMNS                                                               \
	"v.name, v.version, v.creation_time, v.last_updated_time, v.description, v.user_id, "      \
	"v.current_stage, v.source, v.source_digest, v.run_id, v.run_link, v.status, "             \
	"v.status_message, v.metrics_json, v.signature_json"
void store_sqlite_read_version(sqlite3_stmt *q, struct store_model_version *out);

#endif
