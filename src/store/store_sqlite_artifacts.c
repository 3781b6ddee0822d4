/*
 * The SQLite side of run artifacts: the artifacts table (run_id, path, digest, size,
 * created_time) as a file tree per run, listed one directory level at a time like MLflow's.
 */
#include "util/common.h"
#include "store/store_sqlite_internal.h"
#include "util/strbuf.h"

/* Statements here run rarely enough to be prepared per call. */
static int prepare(struct store *st, sqlite3_stmt **out, const char *sql, const char *what,
		   struct error *err)
{
	if (sqlite3_prepare_v2(store_sqlite_db(st), sql, -1, out, NULL) != SQLITE_OK)
		return store_sqlite_error(st, err, "%s: preparing a statement", what);
	return 0;
}

static void bind_str(sqlite3_stmt *q, int i, const char *v)
{
	sqlite3_bind_text(q, i, v, -1, SQLITE_TRANSIENT);
}

static char *col_strdup(sqlite3_stmt *q, int i)
{
	const unsigned char *v = sqlite3_column_text(q, i);

	return v ? xstrdup((const char *)v) : NULL;
}

/* 1 if the query bound so far has a row, 0 if not, an ERR_STORE otherwise; resets q. */
static int exists(struct store *st, sqlite3_stmt *q, const char *what, struct error *err)
{
	int rc = sqlite3_step(q);

	if (rc == SQLITE_ROW)
		rc = 1;
	else if (rc == SQLITE_DONE)
		rc = 0;
	else
		rc = store_sqlite_error(st, err, "%s", what);
	sqlite3_reset(q);
	return rc;
}

static int run_must_exist(struct store *st, const char *run_id, struct error *err)
{
	sqlite3_stmt *q = NULL;
	int rc;

	if ((rc = prepare(st, &q, "SELECT 1 FROM runs WHERE run_id = ?1", "looking up a run",
			  err)) < 0)
		return rc;
	bind_str(q, 1, run_id);
	rc = exists(st, q, "looking up a run", err);
	sqlite3_finalize(q);
	if (rc == 0)
		return error_set(err, ERR_NOTFOUND, "no run with id '%s'", run_id);
	return rc < 0 ? rc : 0;
}

/*
 * Binds the range of paths strictly under directory dir ("dir/" <= path < "dir0": '0' follows
 * '/' in byte order) to parameters lo and lo + 1.
 */
static void bind_under(sqlite3_stmt *q, int lo, const char *dir)
{
	char *from = xstrfmt("%s/", dir), *to = xstrfmt("%s0", dir);

	bind_str(q, lo, from);
	bind_str(q, lo + 1, to);
	free(from);
	free(to);
}

/* Prepared once per record call: is path a directory, is it a file. */
struct record_stmts {
	sqlite3_stmt *is_dir, *is_file, *put;
};

/* ERR_CONFLICT when path is a directory of the run or lies under one of its files. */
static int check_tree(struct store *st, struct record_stmts *s, const char *run_id,
		      const char *path, struct error *err)
{
	static const char what[] = "checking an artifact path";
	struct strbuf parent = STRBUF_INIT;
	int rc;

	bind_str(s->is_dir, 1, run_id);
	bind_under(s->is_dir, 2, path);
	if ((rc = exists(st, s->is_dir, what, err)) != 0) {
		if (rc > 0)
			rc = error_set(err, ERR_CONFLICT,
				       "artifact path '%s' of run '%s' is a directory", path,
				       run_id);
		goto out;
	}
	for (const char *slash = strchr(path, '/'); slash; slash = strchr(slash + 1, '/')) {
		strbuf_reset(&parent);
		strbuf_add(&parent, path, (size_t)(slash - path));
		bind_str(s->is_file, 1, run_id);
		bind_str(s->is_file, 2, parent.buf);
		if ((rc = exists(st, s->is_file, what, err)) != 0) {
			if (rc > 0)
				rc =
				    error_set(err, ERR_CONFLICT,
					      "artifact path '%s' of run '%s' is under '%s', which "
					      "is a file",
					      path, run_id, parent.buf);
			goto out;
		}
	}
out:
	strbuf_release(&parent);
	return rc;
}

static int record_one(struct store *st, struct record_stmts *s, const char *run_id,
		      const struct store_new_artifact *a, int64_t now, struct error *err)
{
	int rc;

	if ((rc = check_tree(st, s, run_id, a->path, err)) < 0)
		return rc;
	bind_str(s->put, 1, run_id);
	bind_str(s->put, 2, a->path);
	bind_str(s->put, 3, a->digest);
	sqlite3_bind_int64(s->put, 4, a->size);
	sqlite3_bind_int64(s->put, 5, now);
	rc = sqlite3_step(s->put);
	if (rc != SQLITE_DONE)
		rc = store_sqlite_error(st, err, "recording artifact '%s'", a->path);
	else
		rc = 0;
	sqlite3_reset(s->put);
	return rc;
}

int store_sqlite_artifact_record(struct store *st, const char *run_id,
				 const struct store_new_artifact *artifacts, size_t nr,
				 struct error *err)
{
	static const char what[] = "recording run artifacts";
	struct record_stmts s = { NULL, NULL, NULL };
	int64_t now = time_now_ms();
	int rc;

	if ((rc = store_sqlite_begin(st, what, err)) < 0)
		goto out;
	if ((rc = run_must_exist(st, run_id, err)) < 0 ||
	    (rc = prepare(st, &s.is_dir,
			  "SELECT 1 FROM artifacts WHERE run_id = ?1 AND path >= ?2 AND path < ?3 "
			  "LIMIT 1",
			  what, err)) < 0 ||
	    (rc = prepare(st, &s.is_file, "SELECT 1 FROM artifacts WHERE run_id = ?1 AND path = ?2",
			  what, err)) < 0 ||
	    (rc = prepare(st, &s.put,
			  "INSERT INTO artifacts (run_id, path, digest, size, created_time) "
			  "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (run_id, path) DO UPDATE SET "
			  "digest = excluded.digest, size = excluded.size, "
			  "created_time = excluded.created_time",
			  what, err)) < 0)
		goto out;
	for (size_t i = 0; i < nr; i++)
		if ((rc = record_one(st, &s, run_id, &artifacts[i], now, err)) < 0)
			goto out;
	rc = store_sqlite_commit(st, what, err);
out:
	sqlite3_finalize(s.is_dir);
	sqlite3_finalize(s.is_file);
	sqlite3_finalize(s.put);
	if (rc < 0)
		store_sqlite_rollback(st);
	return rc;
}

/* Listing ------------------------------------------------------------------------------------- */

static struct store_artifact *list_add(struct store_artifacts *out)
{
	ALLOC_GROW(out->items, out->nr + 1, out->alloc);
	memset(&out->items[out->nr], 0, sizeof(out->items[0]));
	return &out->items[out->nr++];
}

/* Adds the row (path relative to the listed directory: rel) as a file or as its top directory. */
static void add_child(struct store_artifacts *out, sqlite3_stmt *q, const char *rel)
{
	const char *slash = strchr(rel, '/');
	struct store_artifact *a;

	if (slash) {
		size_t n = (size_t)(slash - rel);
		struct store_artifact *last = out->nr ? &out->items[out->nr - 1] : NULL;

		/* paths sharing a prefix are adjacent in byte order: one entry per directory */
		if (last && last->is_dir && strlen(last->path) == n && !strncmp(last->path, rel, n))
			return;
		a = list_add(out);
		a->path = xstrndup(rel, n);
		a->is_dir = true;
		a->size = -1;
		return;
	}
	a = list_add(out);
	a->path = xstrdup(rel);
	a->digest = col_strdup(q, 1);
	a->size = sqlite3_column_int64(q, 2);
	a->created_time = sqlite3_column_int64(q, 3);
}

static void add_full(struct store_artifacts *out, sqlite3_stmt *q)
{
	struct store_artifact *a = list_add(out);

	a->path = col_strdup(q, 0);
	a->digest = col_strdup(q, 1);
	a->size = sqlite3_column_int64(q, 2);
	a->created_time = sqlite3_column_int64(q, 3);
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(((const struct store_artifact *)a)->path,
		      ((const struct store_artifact *)b)->path);
}

int store_sqlite_artifact_list(struct store *st, struct store_artifacts *out, const char *run_id,
			       const char *dir, bool all, struct error *err)
{
	struct store_artifacts list = STORE_ARTIFACTS_INIT;
	size_t skip = *dir ? strlen(dir) + 1 : 0;
	sqlite3_stmt *q = NULL;
	int rc;

	if ((rc = run_must_exist(st, run_id, err)) < 0)
		goto out;
	if ((rc =
		 prepare(st, &q,
			 "SELECT path, digest, size, created_time FROM artifacts WHERE run_id = ?1 "
			 "AND (?2 IS NULL OR path >= ?2 AND path < ?3 OR path = ?4) ORDER BY path",
			 "listing run artifacts", err)) < 0)
		goto out;
	bind_str(q, 1, run_id);
	if (*dir)
		bind_under(q, 2, dir);
	/* with all, dir may name a single file; a listing of a directory never holds itself */
	if (all && *dir)
		bind_str(q, 4, dir);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		const char *path = (const char *)sqlite3_column_text(q, 0);

		if (all)
			add_full(&list, q);
		else if (path && strlen(path) > skip)
			add_child(&list, q, path + skip);
	}
	if (rc != SQLITE_DONE) {
		rc = store_sqlite_error(st, err, "listing the artifacts of run '%s'", run_id);
		goto out;
	}
	rc = 0;
	/* by name, as MLflow sorts: "a" (a directory) before "a.txt" though "a.txt" < "a/x" */
	if (!all && list.nr)
		qsort(list.items, list.nr, sizeof(list.items[0]), cmp_name);
	*out = list;
	memset(&list, 0, sizeof(list));
out:
	sqlite3_finalize(q);
	store_artifacts_release(&list);
	return rc;
}

int store_sqlite_artifact_get(struct store *st, struct store_artifact *out, const char *run_id,
			      const char *path, struct error *err)
{
	sqlite3_stmt *q = NULL;
	int rc;

	if ((rc = prepare(st, &q,
			  "SELECT path, digest, size, created_time FROM artifacts "
			  "WHERE run_id = ?1 AND path = ?2",
			  "looking up a run artifact", err)) < 0)
		goto out;
	bind_str(q, 1, run_id);
	bind_str(q, 2, path);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		memset(out, 0, sizeof(*out));
		out->path = col_strdup(q, 0);
		out->digest = col_strdup(q, 1);
		out->size = sqlite3_column_int64(q, 2);
		out->created_time = sqlite3_column_int64(q, 3);
		rc = 0;
	} else if (rc == SQLITE_DONE) {
		rc = run_must_exist(st, run_id, err);
		if (!rc)
			rc = error_set(err, ERR_NOTFOUND, "run '%s' has no artifact '%s'", run_id,
				       path);
	} else {
		rc = store_sqlite_error(st, err, "looking up artifact '%s' of run '%s'", path,
					run_id);
	}
out:
	sqlite3_finalize(q);
	return rc;
}

int store_sqlite_artifact_delete(struct store *st, int64_t *deleted, const char *run_id,
				 const char *path, struct error *err)
{
	static const char what[] = "deleting run artifacts";
	sqlite3_stmt *q = NULL;
	int rc;

	if ((rc = store_sqlite_begin(st, what, err)) < 0)
		goto out;
	if ((rc = run_must_exist(st, run_id, err)) < 0 ||
	    (rc = prepare(st, &q,
			  "DELETE FROM artifacts WHERE run_id = ?1 AND "
			  "(?2 IS NULL OR path = ?2 OR path >= ?3 AND path < ?4)",
			  what, err)) < 0)
		goto out;
	bind_str(q, 1, run_id);
	if (*path) {
		bind_str(q, 2, path);
		bind_under(q, 3, path);
	}
	if (sqlite3_step(q) != SQLITE_DONE) {
		rc =
		    store_sqlite_error(st, err, "deleting artifact '%s' of run '%s'", path, run_id);
		goto out;
	}
	*deleted = sqlite3_changes(store_sqlite_db(st));
	rc = store_sqlite_commit(st, what, err);
out:
	sqlite3_finalize(q);
	if (rc < 0)
		store_sqlite_rollback(st);
	return rc;
}

int store_sqlite_artifact_digests(struct store *st, int (*fn)(const char *hex, void *data),
				  void *data, struct error *err)
{
	sqlite3_stmt *q = NULL;
	int rc;

	if ((rc = prepare(st, &q, "SELECT DISTINCT digest FROM artifacts WHERE digest IS NOT NULL",
			  "listing artifact digests", err)) < 0)
		return rc;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		const char *hex = (const char *)sqlite3_column_text(q, 0);

		if (hex && (rc = fn(hex, data)) != 0)
			goto out;
	}
	rc = rc == SQLITE_DONE ? 0 : store_sqlite_error(st, err, "listing artifact digests");
out:
	sqlite3_finalize(q);
	return rc;
}
