/*
 * The SQLite store backend: one connection per struct store, WAL mode, every statement prepared
 * once and cached, writes in BEGIN IMMEDIATE transactions, migrations from schema/ at open.
 */
#include "util/common.h"
#include "store/migrations.h"
#include "store/store_internal.h"
#include "store/store_sqlite_internal.h"

#include <libgen.h>
#include <math.h>
#include <sqlite3.h>
#include <time.h>

/* How long SQLite's busy handler waits for another process's lock, per attempt. */
#define BUSY_TIMEOUT_MS 10000
/* How long our own retry loop keeps trying where the busy handler does not apply. */
#define RETRY_DEADLINE_MS 30000
#define RETRY_FIRST_DELAY_US 1000
#define RETRY_MAX_DELAY_US 100000

enum stmt_id {
	ST_EXPERIMENT_INSERT,
	ST_EXPERIMENT_BY_ID,
	ST_EXPERIMENT_BY_NAME,
	ST_EXPERIMENT_LIST,
	ST_EXPERIMENT_STAGE,
	ST_RUN_INSERT,
	ST_RUN_GET,
	ST_RUN_LIST,
	ST_RUN_LIST_EXPERIMENT,
	ST_RUN_EXISTS,
	ST_RUN_SET_STATUS,
	ST_PARAM_INSERT,
	ST_PARAM_GET,
	ST_PARAM_LIST,
	ST_TAG_PUT,
	ST_TAG_LIST,
	ST_METRIC_INSERT,
	ST_LATEST_PUT,
	ST_RUN_ACTIVE,
	ST_METRIC_HISTORY,
	ST_LATEST_LIST,
	ST_DATASET_INSERT,
	ST_DATASET_FIND,
	ST_DATASET_GET,
	ST_DATASET_EXISTS,
	ST_DATASET_SET_PROFILE,
	ST_INPUT_PUT,
	ST_INPUT_LIST,
	ST_INFO_COUNTS,
	ST_STAT_LOAD,
	ST_STAT_PUT,
	ST_TX_BEGIN,
	ST_TX_COMMIT,
	ST__COUNT
};

#define EXPERIMENT_COLUMNS                                                                         \
	"experiment_id, name, artifact_location, lifecycle_stage, creation_time, last_update_time"
#define RUN_COLUMNS                                                                                \
	"run_id, experiment_id, name, user_id, status, start_time, end_time, lifecycle_stage, "    \
	"artifact_uri, source_git_commit, source_dirty, command"
#define DATASET_COLUMNS                                                                            \
	"d.dataset_id, d.name, d.path, d.digest, d.size, d.created_time, d.git_commit, "           \
	"d.source_type, d.source"

static const char *const stmt_sql[ST__COUNT] = {
	[ST_EXPERIMENT_INSERT] = "INSERT INTO experiments (name, artifact_location, "
				 "lifecycle_stage, creation_time, last_update_time) "
				 "VALUES (?1, ?2, 'active', ?3, ?3)",
	[ST_EXPERIMENT_BY_ID] =
	    "SELECT " EXPERIMENT_COLUMNS " FROM experiments WHERE experiment_id = ?1",
	[ST_EXPERIMENT_BY_NAME] = "SELECT " EXPERIMENT_COLUMNS " FROM experiments WHERE name = ?1",
	[ST_EXPERIMENT_LIST] = "SELECT " EXPERIMENT_COLUMNS " FROM experiments WHERE "
			       "((?1 & 1 AND lifecycle_stage = 'active') OR "
			       "(?1 & 2 AND lifecycle_stage = 'deleted')) ORDER BY experiment_id",
	[ST_EXPERIMENT_STAGE] = "SELECT lifecycle_stage FROM experiments WHERE experiment_id = ?1",
	[ST_RUN_INSERT] = "INSERT INTO runs (run_id, experiment_id, name, user_id, status, "
			  "start_time, lifecycle_stage, artifact_uri, source_git_commit, "
			  "source_dirty, command) "
			  "VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'active', ?7, ?8, ?9, ?10)",
	[ST_RUN_GET] = "SELECT " RUN_COLUMNS " FROM runs WHERE run_id = ?1",
	[ST_RUN_ACTIVE] = "SELECT lifecycle_stage = 'active' FROM runs WHERE run_id = ?1",
	[ST_TX_BEGIN] = "BEGIN IMMEDIATE",
	[ST_TX_COMMIT] = "COMMIT",
	[ST_RUN_LIST] = "SELECT " RUN_COLUMNS " FROM runs WHERE "
			"((?1 & 1 AND lifecycle_stage = 'active') OR "
			"(?1 & 2 AND lifecycle_stage = 'deleted')) "
			"ORDER BY start_time DESC, run_id",
	[ST_RUN_LIST_EXPERIMENT] = "SELECT " RUN_COLUMNS " FROM runs WHERE experiment_id = ?2 AND "
				   "((?1 & 1 AND lifecycle_stage = 'active') OR "
				   "(?1 & 2 AND lifecycle_stage = 'deleted')) "
				   "ORDER BY start_time DESC, run_id",
	[ST_RUN_EXISTS] = "SELECT 1 FROM runs WHERE run_id = ?1",
	[ST_RUN_SET_STATUS] = "UPDATE runs SET status = ?2, end_time = coalesce(?3, end_time) "
			      "WHERE run_id = ?1",
	[ST_PARAM_INSERT] = "INSERT INTO params (run_id, key, value) VALUES (?1, ?2, ?3) "
			    "ON CONFLICT (run_id, key) DO NOTHING",
	[ST_PARAM_GET] = "SELECT value FROM params WHERE run_id = ?1 AND key = ?2",
	[ST_PARAM_LIST] = "SELECT key, value FROM params WHERE run_id = ?1 ORDER BY key",
	[ST_TAG_PUT] = "INSERT INTO run_tags (run_id, key, value) VALUES (?1, ?2, ?3) "
		       "ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value",
	[ST_TAG_LIST] = "SELECT key, value FROM run_tags WHERE run_id = ?1 ORDER BY key",
	[ST_METRIC_INSERT] = "INSERT INTO metrics (run_id, key, step, timestamp, value, is_nan) "
			     "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO NOTHING",
	/* MLflow's rule: the latest point is the greatest (step, timestamp, value). */
	[ST_LATEST_PUT] =
	    "INSERT INTO latest_metrics (run_id, key, step, timestamp, value, is_nan) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (run_id, key) DO UPDATE SET "
	    "step = excluded.step, timestamp = excluded.timestamp, "
	    "value = excluded.value, is_nan = excluded.is_nan "
	    "WHERE (excluded.step, excluded.timestamp, excluded.value) > "
	    "(latest_metrics.step, latest_metrics.timestamp, latest_metrics.value)",
	[ST_METRIC_HISTORY] = "SELECT key, value, timestamp, step, is_nan FROM metrics "
			      "WHERE run_id = ?1 AND key = ?2 ORDER BY step, timestamp, value",
	[ST_LATEST_LIST] = "SELECT key, value, timestamp, step, is_nan FROM latest_metrics "
			   "WHERE run_id = ?1 ORDER BY key",
	[ST_DATASET_INSERT] = "INSERT INTO datasets (name, digest, path, size, created_time, "
			      "git_commit, source_type, source, schema_json, profile_json) "
			      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) "
			      "ON CONFLICT (name, digest) DO NOTHING",
	[ST_DATASET_FIND] = "SELECT dataset_id FROM datasets WHERE name = ?1 AND digest = ?2",
	[ST_DATASET_GET] = "SELECT " DATASET_COLUMNS ", NULL FROM datasets d WHERE dataset_id = ?1",
	[ST_DATASET_EXISTS] = "SELECT 1 FROM datasets WHERE dataset_id = ?1",
	[ST_DATASET_SET_PROFILE] = "UPDATE datasets SET profile_json = ?2 WHERE digest = ?1",
	/*
	 * ?1 itself, or the range [?1 "/", ?1 "0"): '0' follows '/' in byte order; '' is every
	 * path (a blob sorts after all text). Written as one range over [?1, ?1 "0") so that it
	 * searches the primary key (an OR of the cases scanned the whole table for each tracked
	 * path); siblings such as ?1 ".csv" in that range are filtered out.
	 */
	[ST_STAT_LOAD] = "SELECT path, size, mtime_ns, ctime_ns, inode, digest, recorded_ns "
			 "FROM stat_cache WHERE path >= ?1 AND "
			 "path < (CASE WHEN ?1 = '' THEN x'ff' ELSE ?1 || '0' END) AND "
			 "(?1 = '' OR path = ?1 OR path >= ?1 || '/') ORDER BY path",
	[ST_STAT_PUT] = "INSERT OR REPLACE INTO stat_cache (path, size, mtime_ns, ctime_ns, inode, "
			"digest, recorded_ns) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[ST_INPUT_PUT] = "INSERT INTO run_inputs (run_id, dataset_id, context) VALUES (?1, ?2, ?3) "
			 "ON CONFLICT (run_id, dataset_id) DO UPDATE SET "
			 "context = coalesce(excluded.context, run_inputs.context)",
	[ST_INPUT_LIST] = "SELECT " DATASET_COLUMNS ", i.context FROM run_inputs i "
			  "JOIN datasets d ON d.dataset_id = i.dataset_id "
			  "WHERE i.run_id = ?1 ORDER BY d.dataset_id",
	[ST_INFO_COUNTS] =
	    "SELECT (SELECT count(*) FROM experiments), (SELECT count(*) FROM runs), "
	    "(SELECT count(*) FROM metrics), (SELECT count(*) FROM datasets), "
	    "(SELECT count(*) FROM registered_models), "
	    "(SELECT count(*) FROM model_versions), "
	    "(SELECT coalesce(max(version), 0) FROM schema_version)",
};

struct store_sqlite {
	struct store base;
	sqlite3 *db;
	sqlite3_stmt *stmts[ST__COUNT];
	sqlite3_stmt *extra[SQ__COUNT]; /* store_sqlite_stmt's */
};

static struct store_sqlite *sq(struct store *st)
{
	return (struct store_sqlite *)st;
}

/* Errors -------------------------------------------------------------------------------------- */

/* ERR_STORE with "<what>: <SQLite's message>"; call before anything else touches the handle. */
static int db_error(struct store_sqlite *s, struct error *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int db_error(struct store_sqlite *s, struct error *err, const char *fmt, ...)
{
	char what[ERROR_MSG_SIZE];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return error_set(err, ERR_STORE, "%s: %s", what, sqlite3_errmsg(s->db));
}

static bool is_busy(int rc)
{
	return (rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED;
}

/* Retrying --------------------------------------------------------------------------------------
 * The busy handler covers most waits, but not all: a connection that must upgrade a lock while
 * another waits on it gets SQLITE_BUSY at once (deadlock avoidance), which happens when several
 * processes create and switch a fresh database to WAL together. Those are retried here with a
 * jittered exponential backoff so the processes do not retry in lockstep.
 */
struct retry {
	int64_t deadline_ms;
	long delay_us;
};

static int64_t monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void retry_init(struct retry *r)
{
	r->deadline_ms = monotonic_ms() + RETRY_DEADLINE_MS;
	r->delay_us = RETRY_FIRST_DELAY_US;
}

/* Sleeps and returns true if rc is worth another attempt. */
static bool retry_again(struct retry *r, int rc)
{
	struct timespec ts;
	unsigned int jitter;
	long sleep_us;

	if (!is_busy(rc) || monotonic_ms() >= r->deadline_ms)
		return false;
	sqlite3_randomness(sizeof(jitter), &jitter);
	sleep_us = r->delay_us / 2 + (long)(jitter % (unsigned int)(r->delay_us / 2 + 1));
	ts.tv_sec = sleep_us / 1000000;
	ts.tv_nsec = (sleep_us % 1000000) * 1000;
	nanosleep(&ts, NULL);
	if (r->delay_us < RETRY_MAX_DELAY_US)
		r->delay_us *= 2;
	return true;
}

/* sqlite3_exec of trusted, parameterless SQL (pragmas, BEGIN, migrations) with retries. */
static int exec_retry(struct store_sqlite *s, const char *sql)
{
	struct retry r;
	int rc;

	retry_init(&r);
	do {
		rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
	} while (retry_again(&r, rc));
	return rc;
}

/*
 * Runs a trusted query that yields one row and hands back its first column as a number and/or
 * as text (either may be NULL); no row gives 0 and "". Retried like exec_retry.
 */
static int query_one(struct store_sqlite *s, const char *sql, int64_t *num, char *text, size_t size,
		     const char *what, struct error *err)
{
	sqlite3_stmt *q = NULL;
	struct retry r;
	int rc;

	retry_init(&r);
	do {
		sqlite3_finalize(q);
		q = NULL;
		rc = sqlite3_prepare_v2(s->db, sql, -1, &q, NULL);
		if (rc == SQLITE_OK)
			rc = sqlite3_step(q);
	} while (retry_again(&r, rc));
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		rc = db_error(s, err, "%s", what);
		goto out;
	}
	if (num)
		*num = rc == SQLITE_ROW ? sqlite3_column_int64(q, 0) : 0;
	if (text) {
		const unsigned char *t = rc == SQLITE_ROW ? sqlite3_column_text(q, 0) : NULL;

		snprintf(text, size, "%s", t ? (const char *)t : "");
	}
	rc = 0;
out:
	sqlite3_finalize(q);
	return rc;
}

/* Transactions -------------------------------------------------------------------------------- */

/*
 * exec_retry of a cached statement: BEGIN and COMMIT run on every write, and sqlite3_exec
 * parsed them each time (~1% of a log-metric's server CPU).
 */
static int step_retry(struct store_sqlite *s, enum stmt_id id)
{
	struct retry r;
	int rc;

	if (!s->stmts[id] &&
	    (rc = sqlite3_prepare_v3(s->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT,
				     &s->stmts[id], NULL)) != SQLITE_OK)
		return rc;
	retry_init(&r);
	do {
		rc = sqlite3_step(s->stmts[id]);
		if (rc == SQLITE_DONE)
			rc = SQLITE_OK;
		sqlite3_reset(s->stmts[id]);
	} while (retry_again(&r, rc));
	return rc;
}

/*
 * Every write that spans statements starts with BEGIN IMMEDIATE: it takes the write lock up
 * front, where the busy handler can wait for it. A deferred transaction that reads and then
 * writes cannot be saved by waiting, as its snapshot may be stale by then.
 */
static int tx_begin(struct store_sqlite *s, const char *what, struct error *err)
{
	if (step_retry(s, ST_TX_BEGIN) != SQLITE_OK)
		return db_error(s, err, "%s: starting a transaction", what);
	return 0;
}

static int tx_commit(struct store_sqlite *s, const char *what, struct error *err)
{
	if (step_retry(s, ST_TX_COMMIT) != SQLITE_OK)
		return db_error(s, err, "%s: committing", what);
	return 0;
}

/* After a failure: undoes what is left of the transaction, if SQLite has not already. */
static void tx_rollback(struct store_sqlite *s)
{
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

/* Statements ---------------------------------------------------------------------------------- */

static int stmt_get(struct store_sqlite *s, sqlite3_stmt **out, enum stmt_id id, const char *what,
		    struct error *err)
{
	if (!s->stmts[id] && sqlite3_prepare_v3(s->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT,
						&s->stmts[id], NULL) != SQLITE_OK)
		return db_error(s, err, "%s: preparing a statement", what);
	*out = s->stmts[id];
	return 0;
}

int store_sqlite_stmt(struct store *st, sqlite3_stmt **out, enum store_sqlite_stmt id,
		      const char *sql, const char *what, struct error *err)
{
	struct store_sqlite *s = sq(st);

	if (!s->extra[id] && sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
						&s->extra[id], NULL) != SQLITE_OK)
		return db_error(s, err, "%s: preparing a statement", what);
	*out = s->extra[id];
	return 0;
}

/* Makes a cached statement ready for its next use and drops its read lock; NULL is fine. */
static void stmt_done(sqlite3_stmt *q)
{
	if (!q)
		return;
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
}

/* Binds NULL for a NULL string; the text must outlive the statement's use (SQLITE_STATIC). */
static int bind_text(sqlite3_stmt *q, int i, const char *v)
{
	return v ? sqlite3_bind_text(q, i, v, -1, SQLITE_STATIC) : sqlite3_bind_null(q, i);
}

/* Binds NULL for 0 (absent times). */
static int bind_time(sqlite3_stmt *q, int i, int64_t v)
{
	return v ? sqlite3_bind_int64(q, i, v) : sqlite3_bind_null(q, i);
}

static char *col_str(sqlite3_stmt *q, int i)
{
	const unsigned char *t = sqlite3_column_text(q, i);

	return t ? xstrdup((const char *)t) : NULL;
}

/* True for the extended codes of UNIQUE and PRIMARY KEY violations. */
static bool is_unique_violation(int rc)
{
	return rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY;
}

/* ERR_NOTFOUND unless the run exists. */
static int run_exists(struct store_sqlite *s, const char *run_id, struct error *err)
{
	sqlite3_stmt *q = NULL;
	int rc;

	if ((rc = stmt_get(s, &q, ST_RUN_EXISTS, "looking up a run", err)) < 0)
		goto out;
	if (bind_text(q, 1, run_id)) {
		rc = db_error(s, err, "looking up run '%s'", run_id);
		goto out;
	}
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW)
		rc = 0;
	else if (rc == SQLITE_DONE)
		rc = error_set(err, ERR_NOTFOUND, "no run with id '%s'", run_id);
	else
		rc = db_error(s, err, "looking up run '%s'", run_id);
out:
	stmt_done(q);
	return rc;
}

int store_sqlite_run_exists(struct store *st, const char *run_id, struct error *err)
{
	return run_exists(sq(st), run_id, err);
}

/* Opening and migrations ---------------------------------------------------------------------- */

static int open_error(struct store_sqlite *s, const char *path, struct error *err)
{
	struct stat st;
	char *copy = xstrdup(path);
	const char *dir = dirname(copy);
	int rc;

	if (s->db && sqlite3_errcode(s->db) == SQLITE_CANTOPEN && stat(dir, &st) < 0)
		rc = error_set(err, ERR_STORE,
			       "cannot open store '%s': directory '%s' does not exist", path, dir);
	else if (s->db)
		rc = db_error(s, err, "cannot open store '%s'", path);
	else
		rc = error_set(err, ERR_STORE, "cannot open store '%s': out of memory", path);
	free(copy);
	return rc;
}

static int configure(struct store_sqlite *s, struct error *err)
{
	const char *path = s->base.location;
	char what[ERROR_MSG_SIZE];
	char mode[16];
	int64_t fk;
	int rc;

	snprintf(what, sizeof(what), "opening store '%s'", path);
	rc = query_one(s, "PRAGMA journal_mode = WAL", NULL, mode, sizeof(mode), what, err);
	if (rc < 0)
		return rc;
	/* ":memory:" databases cannot be WAL; they have no other process to share with either. */
	if (strcmp(mode, "wal") && strcmp(mode, "memory"))
		return error_set(err, ERR_STORE,
				 "opening store '%s': cannot switch to WAL mode (journal mode is "
				 "'%s')",
				 path, mode);
	/*
	 * Reads through a memory map instead of copies into the page cache: searches that scan
	 * many runs took half their time copying pages (100k runs: 260-320 ms -> 150-170 ms).
	 * Checkpoints every 8,000 WAL pages (32 MB), not 1,000: the writer whose commit crosses
	 * the mark copies the pages back and fdatasyncs inside its request, which was the server's
	 * p99 (log-batch of 5: p99 5-9 ms -> under 1 ms).
	 */
	if (exec_retry(s, "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; "
			  "PRAGMA mmap_size = 268435456; PRAGMA wal_autocheckpoint = 8000") !=
	    SQLITE_OK)
		return db_error(s, err, "%s: setting pragmas", what);
	if ((rc = query_one(s, "PRAGMA foreign_keys", &fk, NULL, 0, what, err)) < 0)
		return rc;
	if (fk != 1)
		return error_set(err, ERR_STORE,
				 "opening store '%s': this SQLite does not enforce foreign keys",
				 path);
	return 0;
}

static int latest_version(void)
{
	return migration_count ? migrations[migration_count - 1].version : 0;
}

static int schema_version(struct store_sqlite *s, int64_t *out, struct error *err)
{
	char what[ERROR_MSG_SIZE];
	int64_t exists;
	int rc;

	snprintf(what, sizeof(what), "opening store '%s': reading the schema version",
		 s->base.location);
	rc = query_one(s,
		       "SELECT count(*) FROM sqlite_master "
		       "WHERE type = 'table' AND name = 'schema_version'",
		       &exists, NULL, 0, what, err);
	if (rc < 0)
		return rc;
	if (!exists) {
		*out = 0;
		return 0;
	}
	return query_one(s, "SELECT coalesce(max(version), 0) FROM schema_version", out, NULL, 0,
			 what, err);
}

static int newer_schema(int64_t version, struct error *err)
{
	return error_set(err, ERR_STORE,
			 "store schema version %" PRId64 " is newer than this ferry (%d); "
			 "upgrade ferry",
			 version, latest_version());
}

/*
 * Refuses another program's database: tables but no schema_version. One statement, so one
 * snapshot: a migration committing meanwhile is seen whole or not at all.
 */
static int check_foreign(struct store_sqlite *s, struct error *err)
{
	char what[ERROR_MSG_SIZE];
	int64_t tables;
	int rc;

	snprintf(what, sizeof(what), "opening store '%s'", s->base.location);
	rc = query_one(s,
		       "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND "
		       "name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND NOT EXISTS "
		       "(SELECT 1 FROM sqlite_master WHERE name = 'schema_version')",
		       &tables, NULL, 0, what, err);
	if (rc < 0)
		return rc;
	if (tables)
		return error_set(err, ERR_STORE,
				 "opening store '%s': this SQLite database is not a ferry store "
				 "(it has %" PRId64 " tables of its own)",
				 s->base.location, tables);
	return 0;
}

static int record_migration(struct store_sqlite *s, const struct migration *m, const char *what,
			    struct error *err)
{
	sqlite3_stmt *q = NULL;
	int rc;

	rc = sqlite3_prepare_v2(s->db,
				"INSERT INTO schema_version (version, name, applied_at) "
				"VALUES (?1, ?2, ?3)",
				-1, &q, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int(q, 1, m->version) || bind_text(q, 2, m->name) ||
		     sqlite3_bind_int64(q, 3, time_now_ms());
	if (rc == SQLITE_OK)
		rc = sqlite3_step(q);
	if (rc != SQLITE_DONE)
		rc = db_error(s, err, "%s: recording migration %s", what, m->name);
	else
		rc = 0;
	sqlite3_finalize(q);
	return rc;
}

/*
 * Applies one migration in its own transaction. The version is read again under the write lock:
 * another process opening the same fresh database may have applied it meanwhile.
 */
static int apply_migration(struct store_sqlite *s, const struct migration *m, struct error *err)
{
	char what[ERROR_MSG_SIZE];
	int64_t version;
	int rc;

	snprintf(what, sizeof(what), "opening store '%s'", s->base.location);
	if ((rc = tx_begin(s, what, err)) < 0 || (rc = check_foreign(s, err)) < 0)
		goto out;
	if (sqlite3_exec(s->db,
			 "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, "
			 "name TEXT NOT NULL, applied_at INTEGER NOT NULL)",
			 NULL, NULL, NULL) != SQLITE_OK) {
		rc = db_error(s, err, "%s: creating the schema_version table", what);
		goto out;
	}
	if ((rc = schema_version(s, &version, err)) < 0)
		goto out;
	if (version > latest_version()) {
		rc = newer_schema(version, err);
		goto out;
	}
	if (version >= m->version)
		goto done;
	if (sqlite3_exec(s->db, m->sql, NULL, NULL, NULL) != SQLITE_OK) {
		rc = db_error(s, err, "%s: applying migration %s", what, m->name);
		goto out;
	}
	if ((rc = record_migration(s, m, what, err)) < 0)
		goto out;
done:
	rc = tx_commit(s, what, err);
out:
	if (rc < 0)
		tx_rollback(s);
	return rc;
}

static int migrate(struct store_sqlite *s, struct error *err)
{
	int64_t version;
	int rc;

	if ((rc = schema_version(s, &version, err)) < 0)
		return rc;
	if (version > latest_version())
		return newer_schema(version, err);
	for (int i = 0; i < migration_count; i++) {
		if (i && migrations[i].version <= migrations[i - 1].version)
			BUG("migrations out of order: %s after %s", migrations[i].name,
			    migrations[i - 1].name);
		if (migrations[i].version <= version)
			continue;
		if ((rc = apply_migration(s, &migrations[i], err)) < 0)
			return rc;
	}
	return 0;
}

static void sqlite_free(struct store_sqlite *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < ARRAY_SIZE(s->stmts); i++)
		sqlite3_finalize(s->stmts[i]);
	for (size_t i = 0; i < ARRAY_SIZE(s->extra); i++)
		sqlite3_finalize(s->extra[i]);
	sqlite3_close_v2(s->db);
	free(s->base.location);
	free(s);
}

static int sqlite_open(struct store **out, const char *path, struct error *err)
{
	struct store_sqlite *s = xcalloc(1, sizeof(*s));
	int rc;

	s->base.ops = &store_sqlite_ops;
	s->base.location = xstrdup(path);
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
	    SQLITE_OK) {
		rc = open_error(s, path, err);
		goto out;
	}
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
	/* Checked before configure() switches the file to WAL, which would change it. */
	if ((rc = check_foreign(s, err)) < 0 || (rc = configure(s, err)) < 0 ||
	    (rc = migrate(s, err)) < 0)
		goto out;
	*out = &s->base;
	s = NULL;
out:
	sqlite_free(s);
	return rc;
}

static void sqlite_close(struct store *st)
{
	sqlite_free(sq(st));
}

/* Info and check ------------------------------------------------------------------------------ */

static int sqlite_info(struct store *st, struct store_info *out, struct error *err)
{
	struct store_sqlite *s = sq(st);
	sqlite3_stmt *q = NULL;
	int rc;

	if ((rc = stmt_get(s, &q, ST_INFO_COUNTS, "counting store contents", err)) < 0)
		goto out;
	if (sqlite3_step(q) != SQLITE_ROW) {
		rc = db_error(s, err, "counting store contents");
		goto out;
	}
	memset(out, 0, sizeof(*out));
	out->backend = st->ops->name;
	out->location = xstrdup(st->location);
	out->experiments = sqlite3_column_int64(q, 0);
	out->runs = sqlite3_column_int64(q, 1);
	out->metrics = sqlite3_column_int64(q, 2);
	out->datasets = sqlite3_column_int64(q, 3);
	out->registered_models = sqlite3_column_int64(q, 4);
	out->model_versions = sqlite3_column_int64(q, 5);
	out->schema_version = sqlite3_column_int(q, 6);
	out->latest_schema_version = latest_version();
	rc = 0;
out:
	stmt_done(q);
	return rc;
}

/* Appends each row of a check pragma to report; *problems counts them. */
static int check_pragma(struct store_sqlite *s, const char *sql, bool fk, struct strbuf *report,
			int *problems, struct error *err)
{
	sqlite3_stmt *q = NULL;
	int rc;

	if (sqlite3_prepare_v2(s->db, sql, -1, &q, NULL) != SQLITE_OK) {
		rc = db_error(s, err, "checking store '%s'", s->base.location);
		goto out;
	}
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		const char *a = (const char *)sqlite3_column_text(q, 0);

		if (!fk && a && !strcmp(a, "ok"))
			continue;
		(*problems)++;
		if (!fk)
			strbuf_addf(report, "integrity: %s\n", a ? a : "(unknown problem)");
		else if (sqlite3_column_type(q, 1) == SQLITE_NULL)
			strbuf_addf(report,
				    "foreign key: a row of '%s' refers to a missing row of "
				    "'%s'\n",
				    a, (const char *)sqlite3_column_text(q, 2));
		else
			strbuf_addf(report,
				    "foreign key: row %" PRId64 " of '%s' refers to a missing row "
				    "of '%s'\n",
				    (int64_t)sqlite3_column_int64(q, 1), a,
				    (const char *)sqlite3_column_text(q, 2));
	}
	if (rc != SQLITE_DONE)
		rc = db_error(s, err, "checking store '%s'", s->base.location);
	else
		rc = 0;
out:
	sqlite3_finalize(q);
	return rc;
}

/*
 * metrics has no foreign key to runs (schema 0006: the writers check the run): its orphans in
 * foreign_key_check's (table, rowid, parent) shape.
 */
#define METRICS_ORPHANS_SQL                                                                        \
	"SELECT 'metrics', NULL, 'runs' FROM metrics m "                                           \
	"WHERE NOT EXISTS (SELECT 1 FROM runs r WHERE r.run_id = m.run_id)"

static int sqlite_check(struct store *st, struct strbuf *report, struct error *err)
{
	struct store_sqlite *s = sq(st);
	int problems = 0;
	int rc;

	if ((rc = check_pragma(s, "PRAGMA integrity_check", false, report, &problems, err)) < 0 ||
	    (rc = check_pragma(s, "PRAGMA foreign_key_check", true, report, &problems, err)) < 0 ||
	    (rc = check_pragma(s, METRICS_ORPHANS_SQL, true, report, &problems, err)) < 0)
		return rc;
	if (problems)
		return error_set(err, ERR_STORE, "store '%s' is inconsistent: %d problem%s found",
				 st->location, problems, problems == 1 ? "" : "s");
	return 0;
}

/* Experiments --------------------------------------------------------------------------------- */

static void read_experiment(sqlite3_stmt *q, struct store_experiment *out)
{
	const unsigned char *stage = sqlite3_column_text(q, 3);

	out->id = store_experiment_id_str(sqlite3_column_int64(q, 0));
	out->name = col_str(q, 1);
	out->artifact_location = col_str(q, 2);
	out->deleted = stage && !strcmp((const char *)stage, "deleted");
	out->creation_time = sqlite3_column_int64(q, 4);
	out->last_update_time = sqlite3_column_int64(q, 5);
}

static int sqlite_experiment_create(struct store *st, char **out_id, const char *name,
				    const char *artifact_location, struct error *err)
{
	struct store_sqlite *s = sq(st);
	sqlite3_stmt *q = NULL;
	int rc;

	if ((rc = stmt_get(s, &q, ST_EXPERIMENT_INSERT, "creating an experiment", err)) < 0)
		goto out;
	if (bind_text(q, 1, name) || bind_text(q, 2, artifact_location) ||
	    sqlite3_bind_int64(q, 3, time_now_ms())) {
		rc = db_error(s, err, "creating experiment '%s'", name);
		goto out;
	}
	rc = sqlite3_step(q);
	if (rc == SQLITE_DONE) {
		*out_id = store_experiment_id_str(sqlite3_last_insert_rowid(s->db));
		rc = 0;
	} else if (is_unique_violation(rc)) {
		rc = error_set(err, ERR_EXISTS, "experiment '%s' already exists", name);
	} else {
		rc = db_error(s, err, "creating experiment '%s'", name);
	}
out:
	stmt_done(q);
	return rc;
}

static int sqlite_experiment_get(struct store *st, struct store_experiment *out, int64_t id,
				 struct error *err)
{
	struct store_sqlite *s = sq(st);
	sqlite3_stmt *q = NULL;
	int rc;

	if ((rc = stmt_get(s, &q, ST_EXPERIMENT_BY_ID, "reading an experiment", err)) < 0)
		goto out;
	if (sqlite3_bind_int64(q, 1, id)) {
		rc = db_error(s, err, "reading experiment '%" PRId64 "'", id);
		goto out;
	}
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		read_experiment(q, out);
		rc = 0;
	} else if (rc == SQLITE_DONE) {
		rc = error_set(err, ERR_NOTFOUND, "no experiment with id '%" PRId64 "'", id);
	} else {
		rc = db_error(s, err, "reading experiment '%" PRId64 "'", id);
	}
out:
	stmt_done(q);
	return rc;
}

static int sqlite_experiment_get_by_name(struct store *st, struct store_experiment *out,
					 const char *name, struct error *err)
{
	struct store_sqlite *s = sq(st);
	sqlite3_stmt *q = NULL;
	int rc;

	if ((rc = stmt_get(s, &q, ST_EXPERIMENT_BY_NAME, "reading an experiment", err)) < 0)
		goto out;
	if (bind_text(q, 1, name)) {
		rc = db_error(s, err, "reading experiment '%s'", name);
		goto out;
	}
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		read_experiment(q, out);
		rc = 0;
	} else if (rc == SQLITE_DONE) {
		rc = error_set(err, ERR_NOTFOUND, "no experiment named '%s'", name);
	} else {
		rc = db_error(s, err, "reading experiment '%s'", name);
	}
out:
	stmt_done(q);
	return rc;
}

static int sqlite_experiment_list(struct store *st, struct store_experiments *out,
				  enum store_view view, struct error *err)
{
	struct store_sqlite *s = sq(st);
	struct store_experiments list = STORE_EXPERIMENTS_INIT;
	sqlite3_stmt *q = NULL;
	int rc;

	if ((rc = stmt_get(s, &q, ST_EXPERIMENT_LIST, "listing experiments", err)) < 0)
		goto out;
	if (sqlite3_bind_int(q, 1, (int)view)) {
		rc = db_error(s, err, "listing experiments");
		goto out;
	}
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		ALLOC_GROW(list.items, list.nr + 1, list.alloc);
		read_experiment(q, &list.items[list.nr++]);
	}
	if (rc != SQLITE_DONE) {
		rc = db_error(s, err, "listing experiments");
		goto out;
	}
	*out = list;
	memset(&list, 0, sizeof(list));
	rc = 0;
out:
	stmt_done(q);
	store_experiments_release(&list);
	return rc;
}

/* Runs ---------------------------------------------------------------------------------------- */

static int read_run(sqlite3_stmt *q, struct store_run *out, struct error *err)
{
	const char *id = (const char *)sqlite3_column_text(q, 0);
	const char *status = (const char *)sqlite3_column_text(q, 4);
	const char *stage = (const char *)sqlite3_column_text(q, 7);
	enum store_run_status st;

	if (!id || strlen(id) != ID_HEX_LEN)
		return error_set(err, ERR_STORE, "a run has a malformed id '%s'", id ? id : "");
	if (!status || store_run_status_parse(&st, status, NULL) < 0)
		return error_set(err, ERR_STORE, "run '%s' has an unknown status '%s'", id,
				 status ? status : "");
	memcpy(out->id, id, ID_HEX_LEN + 1);
	out->experiment_id = store_experiment_id_str(sqlite3_column_int64(q, 1));
	out->name = col_str(q, 2);
	out->user = col_str(q, 3);
	out->status = st;
	out->start_time = sqlite3_column_int64(q, 5);
	out->end_time = sqlite3_column_int64(q, 6);
	out->deleted = stage && !strcmp(stage, "deleted");
	out->artifact_uri = col_str(q, 8);
	out->source_git_commit = col_str(q, 9);
	out->source_dirty = sqlite3_column_int(q, 10) != 0;
	out->command = col_str(q, 11);
	return 0;
}

/* ERR_NOTFOUND unless the experiment exists, ERR_INVALID if it is deleted. */
static int experiment_active(struct store_sqlite *s, int64_t id, struct error *err)
{
	sqlite3_stmt *q = NULL;
	int rc;

	if ((rc = stmt_get(s, &q, ST_EXPERIMENT_STAGE, "looking up an experiment", err)) < 0)
		goto out;
	if (sqlite3_bind_int64(q, 1, id)) {
		rc = db_error(s, err, "looking up experiment '%" PRId64 "'", id);
		goto out;
	}
	rc = sqlite3_step(q);
	if (rc == SQLITE_DONE)
		rc = error_set(err, ERR_NOTFOUND, "no experiment with id '%" PRId64 "'", id);
	else if (rc != SQLITE_ROW)
		rc = db_error(s, err, "looking up experiment '%" PRId64 "'", id);
	else if (!strcmp((const char *)sqlite3_column_text(q, 0), "deleted"))
		rc = error_set(err, ERR_INVALID, "experiment '%" PRId64 "' is deleted", id);
	else
		rc = 0;
out:
	stmt_done(q);
	return rc;
}

static int put_tag(struct store_sqlite *s, const char *run_id, const struct store_kv *tag,
		   struct error *err)
{
	sqlite3_stmt *q = NULL;
	int rc;

	if ((rc = stmt_get(s, &q, ST_TAG_PUT, "setting a tag", err)) < 0)
		goto out;
	if (bind_text(q, 1, run_id) || bind_text(q, 2, tag->key) || bind_text(q, 3, tag->value)) {
		rc = db_error(s, err, "setting tag '%s' on run '%s'", tag->key, run_id);
		goto out;
	}
	rc = sqlite3_step(q);
	if (rc == SQLITE_DONE)
		rc = 0;
	else if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
		rc = error_set(err, ERR_NOTFOUND, "no run with id '%s'", run_id);
	else
		rc = db_error(s, err, "setting tag '%s' on run '%s'", tag->key, run_id);
out:
	stmt_done(q);
	return rc;
}

static int insert_run(struct store_sqlite *s, const struct store_new_run *run, int64_t exp,
		      struct error *err)
{
	sqlite3_stmt *q = NULL;
	int rc;

	if ((rc = stmt_get(s, &q, ST_RUN_INSERT, "creating a run", err)) < 0)
		goto out;
	if (bind_text(q, 1, run->id) || sqlite3_bind_int64(q, 2, exp) ||
	    bind_text(q, 3, run->name) || bind_text(q, 4, run->user) ||
	    bind_text(q, 5, store_run_status_name(run->status)) ||
	    sqlite3_bind_int64(q, 6, run->start_time) || bind_text(q, 7, run->artifact_uri) ||
	    bind_text(q, 8, run->source_git_commit) || sqlite3_bind_int(q, 9, run->source_dirty) ||
	    bind_text(q, 10, run->command)) {
		rc = db_error(s, err, "creating run '%s'", run->id);
		goto out;
	}
	rc = sqlite3_step(q);
	if (rc == SQLITE_DONE)
		rc = 0;
	else if (is_unique_violation(rc))
		rc = error_set(err, ERR_EXISTS, "run '%s' already exists", run->id);
	else
		rc =
		    db_error(s, err, "creating run '%s' in experiment '%" PRId64 "'", run->id, exp);
out:
	stmt_done(q);
	return rc;
}

static int sqlite_run_create(struct store *st, char out_id[ID_HEX_LEN + 1],
			     const struct store_new_run *run, int64_t exp, struct error *err)
{
	struct store_sqlite *s = sq(st);
	char what[128];
	int rc;

	snprintf(what, sizeof(what), "creating run '%s'", run->id);
	if ((rc = tx_begin(s, what, err)) < 0 || (rc = experiment_active(s, exp, err)) < 0 ||
	    (rc = insert_run(s, run, exp, err)) < 0)
		goto out;
	for (size_t i = 0; i < run->nr_tags; i++)
		if ((rc = put_tag(s, run->id, &run->tags[i], err)) < 0)
			goto out;
	if ((rc = tx_commit(s, what, err)) >= 0)
		memcpy(out_id, run->id, ID_HEX_LEN + 1);
out:
	if (rc < 0)
		tx_rollback(s);
	return rc;
}

static int sqlite_run_get(struct store *st, struct store_run *out, const char *run_id,
			  struct error *err)
{
	struct store_sqlite *s = sq(st);
	struct store_run run = STORE_RUN_INIT;
	sqlite3_stmt *q = NULL;
	int rc;

	if ((rc = stmt_get(s, &q, ST_RUN_GET, "reading a run", err)) < 0)
		goto out;
	if (bind_text(q, 1, run_id)) {
		rc = db_error(s, err, "reading run '%s'", run_id);
		goto out;
	}
	rc = sqlite3_step(q);
	if (rc == SQLITE_DONE) {
		rc = error_set(err, ERR_NOTFOUND, "no run with id '%s'", run_id);
		goto out;
	} else if (rc != SQLITE_ROW) {
		rc = db_error(s, err, "reading run '%s'", run_id);
		goto out;
	}
	if ((rc = read_run(q, &run, err)) < 0)
		goto out;
	*out = run;
	memset(&run, 0, sizeof(run));
out:
	stmt_done(q);
	store_run_release(&run);
	return rc;
}

static int sqlite_run_list(struct store *st, struct store_runs *out, int64_t exp,
			   enum store_view view, struct error *err)
{
	struct store_sqlite *s = sq(st);
	struct store_runs list = STORE_RUNS_INIT;
	sqlite3_stmt *q = NULL;
	int rc;

	rc = stmt_get(s, &q, exp < 0 ? ST_RUN_LIST : ST_RUN_LIST_EXPERIMENT, "listing runs", err);
	if (rc < 0)
		goto out;
	if (sqlite3_bind_int(q, 1, (int)view) || (exp >= 0 && sqlite3_bind_int64(q, 2, exp))) {
		rc = db_error(s, err, "listing runs");
		goto out;
	}
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		ALLOC_GROW(list.items, list.nr + 1, list.alloc);
		memset(&list.items[list.nr], 0, sizeof(list.items[list.nr]));
		if ((rc = read_run(q, &list.items[list.nr++], err)) < 0)
			goto out;
	}
	if (rc != SQLITE_DONE) {
		rc = db_error(s, err, "listing runs");
		goto out;
	}
	*out = list;
	memset(&list, 0, sizeof(list));
	rc = 0;
out:
	stmt_done(q);
	store_runs_release(&list);
	return rc;
}

static int sqlite_run_set_status(struct store *st, const char *run_id, enum store_run_status status,
				 int64_t end_time, struct error *err)
{
	struct store_sqlite *s = sq(st);
	const char *name = store_run_status_name(status);
	sqlite3_stmt *q = NULL;
	int rc;

	if ((rc = stmt_get(s, &q, ST_RUN_SET_STATUS, "updating a run", err)) < 0)
		goto out;
	if (bind_text(q, 1, run_id) || bind_text(q, 2, name) || bind_time(q, 3, end_time)) {
		rc = db_error(s, err, "setting status %s on run '%s'", name, run_id);
		goto out;
	}
	if (sqlite3_step(q) != SQLITE_DONE)
		rc = db_error(s, err, "setting status %s on run '%s'", name, run_id);
	else if (!sqlite3_changes(s->db))
		rc = error_set(err, ERR_NOTFOUND, "no run with id '%s'", run_id);
	else
		rc = 0;
out:
	stmt_done(q);
	return rc;
}

/* Params -------------------------------------------------------------------------------------- */

/* Called when a param insert changed nothing: fine if the stored value is the same. */
static int param_compare(struct store_sqlite *s, const char *run_id, const struct store_kv *p,
			 struct error *err)
{
	sqlite3_stmt *q = NULL;
	const char *old;
	int rc;

	if ((rc = stmt_get(s, &q, ST_PARAM_GET, "logging a param", err)) < 0)
		goto out;
	if (bind_text(q, 1, run_id) || bind_text(q, 2, p->key) || sqlite3_step(q) != SQLITE_ROW) {
		rc = db_error(s, err, "logging param '%s' for run '%s'", p->key, run_id);
		goto out;
	}
	old = (const char *)sqlite3_column_text(q, 0);
	if (old && !strcmp(old, p->value))
		rc = 0;
	else
		rc = error_set(err, ERR_CONFLICT,
			       "param '%s' of run '%s' is already '%s'; it cannot change to '%s'",
			       p->key, run_id, old ? old : "", p->value);
out:
	stmt_done(q);
	return rc;
}

static int put_param(struct store_sqlite *s, const char *run_id, const struct store_kv *p,
		     struct error *err)
{
	sqlite3_stmt *q = NULL;
	int rc;

	if ((rc = stmt_get(s, &q, ST_PARAM_INSERT, "logging a param", err)) < 0)
		goto out;
	if (bind_text(q, 1, run_id) || bind_text(q, 2, p->key) || bind_text(q, 3, p->value)) {
		rc = db_error(s, err, "logging param '%s' for run '%s'", p->key, run_id);
		goto out;
	}
	rc = sqlite3_step(q);
	if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
		rc = error_set(err, ERR_NOTFOUND, "no run with id '%s'", run_id);
	else if (rc != SQLITE_DONE)
		rc = db_error(s, err, "logging param '%s' for run '%s'", p->key, run_id);
	else
		rc = sqlite3_changes(s->db) ? 0 : 1;
out:
	stmt_done(q);
	/* The statement must be reset before param_compare starts another. */
	if (rc == 1)
		rc = param_compare(s, run_id, p, err);
	return rc;
}

static int sqlite_run_log_params(struct store *st, const char *run_id,
				 const struct store_kv *params, size_t nr, struct error *err)
{
	struct store_sqlite *s = sq(st);
	char what[128];
	int rc;

	snprintf(what, sizeof(what), "logging params for run '%s'", run_id);
	if ((rc = tx_begin(s, what, err)) < 0)
		goto out;
	for (size_t i = 0; i < nr; i++)
		if ((rc = put_param(s, run_id, &params[i], err)) < 0)
			goto out;
	rc = tx_commit(s, what, err);
out:
	if (rc < 0)
		tx_rollback(s);
	return rc;
}

int store_sqlite_read_pairs(struct store_pairs *out, sqlite3_stmt *q)
{
	struct store_pairs list = STORE_PAIRS_INIT;
	int rc;

	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		ALLOC_GROW(list.items, list.nr + 1, list.alloc);
		list.items[list.nr].key = col_str(q, 0);
		list.items[list.nr].value = col_str(q, 1);
		list.nr++;
	}
	if (rc != SQLITE_DONE) {
		store_pairs_release(&list);
		return rc;
	}
	*out = list;
	return 0;
}

/* Reads (key, value) rows of a run's params or tags into out. */
static int list_pairs(struct store_sqlite *s, struct store_pairs *out, enum stmt_id id,
		      const char *run_id, const char *what, struct error *err)
{
	sqlite3_stmt *q = NULL;
	int rc;

	if ((rc = run_exists(s, run_id, err)) < 0 || (rc = stmt_get(s, &q, id, what, err)) < 0)
		goto out;
	if (bind_text(q, 1, run_id)) {
		rc = db_error(s, err, "%s of run '%s'", what, run_id);
		goto out;
	}
	if (store_sqlite_read_pairs(out, q))
		rc = db_error(s, err, "%s of run '%s'", what, run_id);
out:
	stmt_done(q);
	return rc;
}

static int sqlite_run_params(struct store *st, struct store_pairs *out, const char *run_id,
			     struct error *err)
{
	return list_pairs(sq(st), out, ST_PARAM_LIST, run_id, "reading the params", err);
}

/* Tags ---------------------------------------------------------------------------------------- */

static int sqlite_run_set_tags(struct store *st, const char *run_id, const struct store_kv *tags,
			       size_t nr, struct error *err)
{
	struct store_sqlite *s = sq(st);
	char what[128];
	int rc;

	snprintf(what, sizeof(what), "setting tags on run '%s'", run_id);
	if ((rc = tx_begin(s, what, err)) < 0)
		goto out;
	for (size_t i = 0; i < nr; i++)
		if ((rc = put_tag(s, run_id, &tags[i], err)) < 0)
			goto out;
	rc = tx_commit(s, what, err);
out:
	if (rc < 0)
		tx_rollback(s);
	return rc;
}

static int sqlite_run_tags(struct store *st, struct store_pairs *out, const char *run_id,
			   struct error *err)
{
	return list_pairs(sq(st), out, ST_TAG_LIST, run_id, "reading the tags", err);
}

/* Metrics ------------------------------------------------------------------------------------- */

/* Binds a point to ?1..?6 of an insert into metrics or latest_metrics. */
static int bind_metric(sqlite3_stmt *q, const char *run_id, const struct store_metric *m)
{
	bool nan = isnan(m->value);

	/* SQLite stores a NaN REAL as NULL: keep 0 and a flag, as MLflow does. */
	return bind_text(q, 1, run_id) || bind_text(q, 2, m->key) ||
	       sqlite3_bind_int64(q, 3, m->step) || sqlite3_bind_int64(q, 4, m->timestamp) ||
	       sqlite3_bind_double(q, 5, nan ? 0.0 : m->value) || sqlite3_bind_int(q, 6, nan);
}

static int put_metric(struct store_sqlite *s, enum stmt_id id, const char *run_id,
		      const struct store_metric *m, struct error *err)
{
	sqlite3_stmt *q = NULL;
	int rc;

	if ((rc = stmt_get(s, &q, id, "recording a metric", err)) < 0)
		goto out;
	if (bind_metric(q, run_id, m)) {
		rc = db_error(s, err, "recording metric '%s' for run '%s'", m->key, run_id);
		goto out;
	}
	rc = sqlite3_step(q);
	if (rc == SQLITE_DONE)
		rc = 0;
	else if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
		rc = error_set(err, ERR_NOTFOUND, "no run with id '%s'", run_id);
	else
		rc = db_error(s, err, "recording metric '%s' for run '%s'", m->key, run_id);
out:
	stmt_done(q);
	return rc;
}

/* Inside the write transaction, so that the run cannot change before the points land. */
static int run_active(struct store_sqlite *s, const char *run_id, struct error *err)
{
	sqlite3_stmt *q = NULL;
	int rc;

	if ((rc = stmt_get(s, &q, ST_RUN_ACTIVE, "looking up a run", err)) < 0)
		goto out;
	if (bind_text(q, 1, run_id)) {
		rc = db_error(s, err, "looking up run '%s'", run_id);
		goto out;
	}
	rc = sqlite3_step(q);
	if (rc == SQLITE_DONE)
		rc = error_set(err, ERR_NOTFOUND, "no run with id '%s'", run_id);
	else if (rc != SQLITE_ROW)
		rc = db_error(s, err, "looking up run '%s'", run_id);
	else if (!sqlite3_column_int(q, 0))
		rc = error_set(err, ERR_INVALID, "run '%s' is deleted", run_id);
	else
		rc = 0;
out:
	stmt_done(q);
	return rc;
}

static int log_metrics(struct store_sqlite *s, const char *run_id,
		       const struct store_metric *metrics, size_t nr, bool active,
		       struct error *err)
{
	char what[128];
	int rc;

	snprintf(what, sizeof(what), "recording metrics for run '%s'", run_id);
	if ((rc = tx_begin(s, what, err)) < 0 || (active && (rc = run_active(s, run_id, err)) < 0))
		goto out;
	for (size_t i = 0; i < nr; i++)
		if ((rc = put_metric(s, ST_METRIC_INSERT, run_id, &metrics[i], err)) < 0 ||
		    (rc = put_metric(s, ST_LATEST_PUT, run_id, &metrics[i], err)) < 0)
			goto out;
	rc = tx_commit(s, what, err);
out:
	if (rc < 0)
		tx_rollback(s);
	return rc;
}

static int sqlite_run_log_metrics(struct store *st, const char *run_id,
				  const struct store_metric *metrics, size_t nr, struct error *err)
{
	return log_metrics(sq(st), run_id, metrics, nr, false, err);
}

static int sqlite_run_log_metrics_active(struct store *st, const char *run_id,
					 const struct store_metric *metrics, size_t nr,
					 struct error *err)
{
	return log_metrics(sq(st), run_id, metrics, nr, true, err);
}

/* Reads (key, value, timestamp, step, is_nan) rows into out. */
static int list_points(struct store_sqlite *s, struct store_metric_points *out, sqlite3_stmt *q,
		       const char *what, const char *run_id, struct error *err)
{
	struct store_metric_points list = STORE_METRIC_POINTS_INIT;
	int rc;

	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct store_metric_point *p;

		ALLOC_GROW(list.items, list.nr + 1, list.alloc);
		p = &list.items[list.nr++];
		p->key = col_str(q, 0);
		p->value = sqlite3_column_int(q, 4) ? NAN : sqlite3_column_double(q, 1);
		p->timestamp = sqlite3_column_int64(q, 2);
		p->step = sqlite3_column_int64(q, 3);
	}
	if (rc != SQLITE_DONE) {
		rc = db_error(s, err, "%s of run '%s'", what, run_id);
		goto out;
	}
	*out = list;
	memset(&list, 0, sizeof(list));
	rc = 0;
out:
	store_metric_points_release(&list);
	return rc;
}

static int sqlite_metric_history(struct store *st, struct store_metric_points *out,
				 const char *run_id, const char *key, struct error *err)
{
	static const char what[] = "reading the metric history";
	struct store_sqlite *s = sq(st);
	sqlite3_stmt *q = NULL;
	int rc;

	if ((rc = run_exists(s, run_id, err)) < 0 ||
	    (rc = stmt_get(s, &q, ST_METRIC_HISTORY, what, err)) < 0)
		goto out;
	if (bind_text(q, 1, run_id) || bind_text(q, 2, key)) {
		rc = db_error(s, err, "%s of run '%s'", what, run_id);
		goto out;
	}
	rc = list_points(s, out, q, what, run_id, err);
out:
	stmt_done(q);
	return rc;
}

static int sqlite_run_latest_metrics(struct store *st, struct store_metric_points *out,
				     const char *run_id, struct error *err)
{
	static const char what[] = "reading the latest metrics";
	struct store_sqlite *s = sq(st);
	sqlite3_stmt *q = NULL;
	int rc;

	if ((rc = run_exists(s, run_id, err)) < 0 ||
	    (rc = stmt_get(s, &q, ST_LATEST_LIST, what, err)) < 0)
		goto out;
	if (bind_text(q, 1, run_id)) {
		rc = db_error(s, err, "%s of run '%s'", what, run_id);
		goto out;
	}
	rc = list_points(s, out, q, what, run_id, err);
out:
	stmt_done(q);
	return rc;
}

/* Datasets ------------------------------------------------------------------------------------ */

static void read_dataset(sqlite3_stmt *q, struct store_dataset *out)
{
	out->id = sqlite3_column_int64(q, 0);
	out->name = col_str(q, 1);
	out->path = col_str(q, 2);
	out->digest = col_str(q, 3);
	out->size = sqlite3_column_type(q, 4) == SQLITE_NULL ? -1 : sqlite3_column_int64(q, 4);
	out->created_time = sqlite3_column_int64(q, 5);
	out->git_commit = col_str(q, 6);
	out->source_type = col_str(q, 7);
	out->source = col_str(q, 8);
	out->context = col_str(q, 9);
}

static int insert_dataset(struct store_sqlite *s, const struct store_new_dataset *ds,
			  struct error *err)
{
	sqlite3_stmt *q = NULL;
	int rc;

	if ((rc = stmt_get(s, &q, ST_DATASET_INSERT, "recording a dataset", err)) < 0)
		goto out;
	if (bind_text(q, 1, ds->name) || bind_text(q, 2, ds->digest) || bind_text(q, 3, ds->path) ||
	    (ds->size >= 0 ? sqlite3_bind_int64(q, 4, ds->size) : sqlite3_bind_null(q, 4)) ||
	    bind_time(q, 5, ds->created_time) || bind_text(q, 6, ds->git_commit) ||
	    bind_text(q, 7, ds->source_type) || bind_text(q, 8, ds->source) ||
	    bind_text(q, 9, ds->schema_json) || bind_text(q, 10, ds->profile_json) ||
	    sqlite3_step(q) != SQLITE_DONE)
		rc = db_error(s, err, "recording dataset '%s'", ds->name);
out:
	stmt_done(q);
	return rc;
}

static int find_dataset(struct store_sqlite *s, int64_t *out_id, const struct store_new_dataset *ds,
			struct error *err)
{
	sqlite3_stmt *q = NULL;
	int rc;

	if ((rc = stmt_get(s, &q, ST_DATASET_FIND, "recording a dataset", err)) < 0)
		goto out;
	if (bind_text(q, 1, ds->name) || bind_text(q, 2, ds->digest) ||
	    sqlite3_step(q) != SQLITE_ROW) {
		rc = db_error(s, err, "recording dataset '%s'", ds->name);
		goto out;
	}
	*out_id = sqlite3_column_int64(q, 0);
out:
	stmt_done(q);
	return rc;
}

static int sqlite_dataset_record(struct store *st, int64_t *out_id,
				 const struct store_new_dataset *ds, struct error *err)
{
	struct store_sqlite *s = sq(st);
	char what[ERROR_MSG_SIZE];
	int64_t id = 0;
	int rc;

	snprintf(what, sizeof(what), "recording dataset '%s'", ds->name);
	if ((rc = tx_begin(s, what, err)) < 0 || (rc = insert_dataset(s, ds, err)) < 0 ||
	    (rc = find_dataset(s, &id, ds, err)) < 0 || (rc = tx_commit(s, what, err)) < 0)
		goto out;
	*out_id = id;
out:
	if (rc < 0)
		tx_rollback(s);
	return rc;
}

static int sqlite_dataset_get(struct store *st, struct store_dataset *out, int64_t id,
			      struct error *err)
{
	struct store_sqlite *s = sq(st);
	sqlite3_stmt *q = NULL;
	int rc;

	if ((rc = stmt_get(s, &q, ST_DATASET_GET, "reading a dataset", err)) < 0)
		goto out;
	if (sqlite3_bind_int64(q, 1, id)) {
		rc = db_error(s, err, "reading dataset %" PRId64, id);
		goto out;
	}
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		read_dataset(q, out);
		rc = 0;
	} else if (rc == SQLITE_DONE) {
		rc = error_set(err, ERR_NOTFOUND, "no dataset with id %" PRId64, id);
	} else {
		rc = db_error(s, err, "reading dataset %" PRId64, id);
	}
out:
	stmt_done(q);
	return rc;
}

static int sqlite_dataset_set_profile(struct store *st, int64_t *updated, const char *digest,
				      const char *profile_json, struct error *err)
{
	struct store_sqlite *s = sq(st);
	sqlite3_stmt *q = NULL;
	int rc;

	if ((rc = stmt_get(s, &q, ST_DATASET_SET_PROFILE, "storing a dataset profile", err)) < 0)
		goto out;
	if (bind_text(q, 1, digest) || bind_text(q, 2, profile_json)) {
		rc = db_error(s, err, "storing the profile of dataset %s", digest);
		goto out;
	}
	rc = sqlite3_step(q);
	if (rc != SQLITE_DONE) {
		rc = db_error(s, err, "storing the profile of dataset %s", digest);
		goto out;
	}
	*updated = sqlite3_changes64(s->db);
	rc = 0;
out:
	stmt_done(q);
	return rc;
}

/* After a foreign key failure: says which side of the link is missing. */
static int missing_input_side(struct store_sqlite *s, const char *run_id, int64_t dataset_id,
			      struct error *err)
{
	int rc = run_exists(s, run_id, err);

	if (rc < 0)
		return rc;
	return error_set(err, ERR_NOTFOUND, "no dataset with id %" PRId64, dataset_id);
}

static int sqlite_run_add_input(struct store *st, const char *run_id, int64_t dataset_id,
				const char *context, struct error *err)
{
	struct store_sqlite *s = sq(st);
	sqlite3_stmt *q = NULL;
	int rc;

	if ((rc = stmt_get(s, &q, ST_INPUT_PUT, "linking a dataset to a run", err)) < 0)
		goto out;
	if (bind_text(q, 1, run_id) || sqlite3_bind_int64(q, 2, dataset_id) ||
	    bind_text(q, 3, context)) {
		rc =
		    db_error(s, err, "linking dataset %" PRId64 " to run '%s'", dataset_id, run_id);
		goto out;
	}
	rc = sqlite3_step(q);
	if (rc == SQLITE_DONE)
		rc = 0;
	else if (rc != SQLITE_CONSTRAINT_FOREIGNKEY)
		rc =
		    db_error(s, err, "linking dataset %" PRId64 " to run '%s'", dataset_id, run_id);
out:
	stmt_done(q);
	if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
		rc = missing_input_side(s, run_id, dataset_id, err);
	return rc;
}

static int sqlite_run_inputs(struct store *st, struct store_datasets *out, const char *run_id,
			     struct error *err)
{
	static const char what[] = "reading the inputs";
	struct store_sqlite *s = sq(st);
	struct store_datasets list = STORE_DATASETS_INIT;
	sqlite3_stmt *q = NULL;
	int rc;

	if ((rc = run_exists(s, run_id, err)) < 0 ||
	    (rc = stmt_get(s, &q, ST_INPUT_LIST, what, err)) < 0)
		goto out;
	if (bind_text(q, 1, run_id)) {
		rc = db_error(s, err, "%s of run '%s'", what, run_id);
		goto out;
	}
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		ALLOC_GROW(list.items, list.nr + 1, list.alloc);
		read_dataset(q, &list.items[list.nr++]);
	}
	if (rc != SQLITE_DONE) {
		rc = db_error(s, err, "%s of run '%s'", what, run_id);
		goto out;
	}
	*out = list;
	memset(&list, 0, sizeof(list));
	rc = 0;
out:
	stmt_done(q);
	store_datasets_release(&list);
	return rc;
}

/* Stat cache ---------------------------------------------------------------------------------- */

static int sqlite_statcache_load(struct store *st, const char *prefix,
				 int (*fn)(const struct store_stat_entry *e, void *data),
				 void *data, struct error *err)
{
	struct store_sqlite *s = sq(st);
	struct store_stat_entry e;
	sqlite3_stmt *q = NULL;
	const unsigned char *hex;
	int rc;

	if ((rc = stmt_get(s, &q, ST_STAT_LOAD, "reading the stat cache", err)) < 0)
		goto out;
	if (sqlite3_bind_text(q, 1, prefix, -1, SQLITE_STATIC)) {
		rc = db_error(s, err, "reading the stat cache under '%s'", prefix);
		goto out;
	}
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		e.path = (const char *)sqlite3_column_text(q, 0);
		e.size = (uint64_t)sqlite3_column_int64(q, 1);
		e.mtime_ns = sqlite3_column_int64(q, 2);
		e.ctime_ns = sqlite3_column_int64(q, 3);
		e.inode = (uint64_t)sqlite3_column_int64(q, 4);
		hex = sqlite3_column_text(q, 5);
		snprintf(e.hex, sizeof(e.hex), "%s", hex ? (const char *)hex : "");
		e.recorded_ns = sqlite3_column_int64(q, 6);
		if (!e.path)
			continue;
		if ((rc = fn(&e, data)) != 0)
			goto out;
	}
	rc = rc == SQLITE_DONE ? 0 : db_error(s, err, "reading the stat cache under '%s'", prefix);
out:
	stmt_done(q);
	return rc;
}

static int sqlite_statcache_put(struct store *st, const struct store_stat_entry *entries, size_t n,
				struct error *err)
{
	struct store_sqlite *s = sq(st);
	static const char what[] = "updating the stat cache";
	sqlite3_stmt *q = NULL;
	int rc;

	if ((rc = tx_begin(s, what, err)) < 0 || (rc = stmt_get(s, &q, ST_STAT_PUT, what, err)) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		const struct store_stat_entry *e = &entries[i];

		sqlite3_reset(q);
		if (sqlite3_bind_text(q, 1, e->path, -1, SQLITE_STATIC) ||
		    sqlite3_bind_int64(q, 2, (sqlite3_int64)e->size) ||
		    sqlite3_bind_int64(q, 3, e->mtime_ns) ||
		    sqlite3_bind_int64(q, 4, e->ctime_ns) ||
		    sqlite3_bind_int64(q, 5, (sqlite3_int64)e->inode) ||
		    sqlite3_bind_text(q, 6, e->hex, -1, SQLITE_STATIC) ||
		    sqlite3_bind_int64(q, 7, e->recorded_ns) || sqlite3_step(q) != SQLITE_DONE) {
			rc = db_error(s, err, "%s for '%s'", what, e->path);
			goto out;
		}
	}
	stmt_done(q);
	q = NULL;
	rc = tx_commit(s, what, err);
out:
	stmt_done(q);
	if (rc < 0)
		tx_rollback(s);
	return rc;
}

const struct store_ops store_sqlite_ops = {
	.name = "sqlite",
	.open = sqlite_open,
	.close = sqlite_close,
	.info = sqlite_info,
	.check = sqlite_check,
	.experiment_create = sqlite_experiment_create,
	.experiment_get = sqlite_experiment_get,
	.experiment_get_by_name = sqlite_experiment_get_by_name,
	.experiment_list = sqlite_experiment_list,
	.run_create = sqlite_run_create,
	.run_get = sqlite_run_get,
	.run_list = sqlite_run_list,
	.run_set_status = sqlite_run_set_status,
	.run_log_params = sqlite_run_log_params,
	.run_params = sqlite_run_params,
	.run_set_tags = sqlite_run_set_tags,
	.run_tags = sqlite_run_tags,
	.run_log_metrics = sqlite_run_log_metrics,
	.run_log_metrics_active = sqlite_run_log_metrics_active,
	.metric_history = sqlite_metric_history,
	.run_latest_metrics = sqlite_run_latest_metrics,
	.dataset_record = sqlite_dataset_record,
	.dataset_set_profile = sqlite_dataset_set_profile,
	.dataset_get = sqlite_dataset_get,
	.run_add_input = sqlite_run_add_input,
	.run_inputs = sqlite_run_inputs,
	.statcache_load = sqlite_statcache_load,
	.statcache_put = sqlite_statcache_put,
	.experiment_rename = store_sqlite_experiment_rename,
	.experiment_set_deleted = store_sqlite_experiment_set_deleted,
	.experiment_set_tag = store_sqlite_experiment_set_tag,
	.experiment_tags = store_sqlite_experiment_tags,
	.run_update = store_sqlite_run_update,
	.run_set_deleted = store_sqlite_run_set_deleted,
	.run_delete_tag = store_sqlite_run_delete_tag,
	.metric_history_page = store_sqlite_metric_history_page,
	.run_log_batch = store_sqlite_run_log_batch,
	.run_search = store_sqlite_run_search,
	.experiment_search = store_sqlite_experiment_search,
	.artifact_record = store_sqlite_artifact_record,
	.artifact_list = store_sqlite_artifact_list,
	.artifact_get = store_sqlite_artifact_get,
	.artifact_delete = store_sqlite_artifact_delete,
	.artifact_digests = store_sqlite_artifact_digests,
	.model_create = store_sqlite_model_create,
	.model_get = store_sqlite_model_get,
	.model_rename = store_sqlite_model_rename,
	.model_update = store_sqlite_model_update,
	.model_delete = store_sqlite_model_delete,
	.model_set_tag = store_sqlite_model_set_tag,
	.model_delete_tag = store_sqlite_model_delete_tag,
	.model_tags = store_sqlite_model_tags,
	.model_aliases = store_sqlite_model_aliases,
	.model_search = store_sqlite_model_search,
	.model_version_create = store_sqlite_model_version_create,
	.model_version_get = store_sqlite_model_version_get,
	.model_version_update = store_sqlite_model_version_update,
	.model_version_delete = store_sqlite_model_version_delete,
	.model_version_set_tag = store_sqlite_model_version_set_tag,
	.model_version_delete_tag = store_sqlite_model_version_delete_tag,
	.model_version_tags = store_sqlite_model_version_tags,
	.model_version_aliases = store_sqlite_model_version_aliases,
	.model_version_datasets = store_sqlite_model_version_datasets,
	.model_latest_versions = store_sqlite_model_latest_versions,
	.model_version_search = store_sqlite_model_version_search,
	.model_version_transition = store_sqlite_model_version_transition,
	.alias_get = store_sqlite_alias_get,
	.alias_set = store_sqlite_alias_set,
	.alias_rollback = store_sqlite_alias_rollback,
	.model_history = store_sqlite_model_history,
};

/* For the other store_sqlite_*.c files (store_sqlite_internal.h). */
sqlite3 *store_sqlite_db(struct store *st)
{
	return sq(st)->db;
}

int store_sqlite_error(struct store *st, struct error *err, const char *fmt, ...)
{
	char what[ERROR_MSG_SIZE];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return db_error(sq(st), err, "%s", what);
}

int store_sqlite_begin(struct store *st, const char *what, struct error *err)
{
	return tx_begin(sq(st), what, err);
}

int store_sqlite_commit(struct store *st, const char *what, struct error *err)
{
	return tx_commit(sq(st), what, err);
}

void store_sqlite_rollback(struct store *st)
{
	tx_rollback(sq(st));
}

void store_sqlite_stmt_done(sqlite3_stmt *q)
{
	stmt_done(q);
}
