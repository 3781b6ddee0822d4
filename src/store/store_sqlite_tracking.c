/*
 * The SQLite side of what MLflow's tracking REST API needs beyond store_sqlite.c: experiment
 * rename/delete/restore/tags, run update/delete/restore, tag removal, paged metric history and
 * log-batch as one transaction.
 */
#include "util/common.h"
#include "store/store_sqlite_internal.h"

#include <math.h>

#define LATEST_PUT_SQL                                                                             \
	"INSERT INTO latest_metrics (run_id, key, step, timestamp, value, is_nan) "                \
	"VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (run_id, key) DO UPDATE SET "                 \
	"step = excluded.step, timestamp = excluded.timestamp, "                                   \
	"value = excluded.value, is_nan = excluded.is_nan "                                        \
	"WHERE (excluded.step, excluded.timestamp, excluded.value) > "                             \
	"(latest_metrics.step, latest_metrics.timestamp, latest_metrics.value)"

#define RUN_TAG_PUT_SQL                                                                            \
	"INSERT INTO run_tags (run_id, key, value) VALUES (?1, ?2, ?3) "                           \
	"ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value"

/* Statements here run rarely enough to be prepared per call. */
static int prepare(struct store *st, sqlite3_stmt **out, const char *sql, const char *what,
		   struct error *err)
{
	if (sqlite3_prepare_v2(store_sqlite_db(st), sql, -1, out, NULL) != SQLITE_OK)
		return store_sqlite_error(st, err, "%s: preparing a statement", what);
	return 0;
}

static int bind_str(sqlite3_stmt *q, int i, const char *v)
{
	return v ? sqlite3_bind_text(q, i, v, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(q, i);
}

/* Runs a prepared write to completion; *changes (may be NULL) gets the rows it changed. */
static int step_write(struct store *st, sqlite3_stmt *q, int *changes, const char *what,
		      struct error *err)
{
	int rc = sqlite3_step(q);

	if (rc != SQLITE_DONE)
		return store_sqlite_error(st, err, "%s", what);
	if (changes)
		*changes = sqlite3_changes(store_sqlite_db(st));
	return 0;
}

/* The same, for a run that must also be active; inside the write transaction that needs it. */
static int run_must_be_active(struct store *st, const char *run_id, struct error *err)
{
	sqlite3_stmt *q = NULL;
	int rc;

	if ((rc = store_sqlite_stmt(st, &q, SQ_RUN_ACTIVE,
				    "SELECT lifecycle_stage = 'active' FROM runs WHERE run_id = ?1",
				    "looking up a run", err)) < 0)
		goto out;
	sqlite3_bind_text(q, 1, run_id, -1, SQLITE_STATIC);
	rc = sqlite3_step(q);
	if (rc == SQLITE_DONE)
		rc = error_set(err, ERR_NOTFOUND, "no run with id '%s'", run_id);
	else if (rc != SQLITE_ROW)
		rc = store_sqlite_error(st, err, "looking up run '%s'", run_id);
	else if (!sqlite3_column_int(q, 0))
		rc = error_set(err, ERR_INVALID, "run '%s' is deleted", run_id);
	else
		rc = 0;
out:
	store_sqlite_stmt_done(q);
	return rc;
}

/* Experiments --------------------------------------------------------------------------------- */

int store_sqlite_experiment_rename(struct store *st, int64_t id, const char *new_name,
				   struct error *err)
{
	sqlite3_stmt *q = NULL;
	int rc, changes = 0;

	if ((rc = prepare(st, &q,
			  "UPDATE experiments SET name = ?2, last_update_time = ?3 "
			  "WHERE experiment_id = ?1",
			  "renaming an experiment", err)) < 0)
		goto out;
	sqlite3_bind_int64(q, 1, id);
	bind_str(q, 2, new_name);
	sqlite3_bind_int64(q, 3, time_now_ms());
	rc = sqlite3_step(q);
	if (rc == SQLITE_CONSTRAINT_UNIQUE) {
		rc = error_set(err, ERR_EXISTS, "experiment '%s' already exists", new_name);
		goto out;
	}
	if (rc != SQLITE_DONE) {
		rc = store_sqlite_error(st, err, "renaming experiment '%" PRId64 "'", id);
		goto out;
	}
	changes = sqlite3_changes(store_sqlite_db(st));
	rc = changes ? 0 : error_set(err, ERR_NOTFOUND, "no experiment with id '%" PRId64 "'", id);
out:
	sqlite3_finalize(q);
	return rc;
}

/* Moves the experiment's runs to stage, as MLflow does when the experiment moves. */
static int experiment_runs_stage(struct store *st, int64_t id, const char *stage, int64_t now,
				 struct error *err)
{
	sqlite3_stmt *q = NULL;
	int rc;

	if ((rc = prepare(st, &q,
			  "UPDATE runs SET lifecycle_stage = ?2, deleted_time = "
			  "CASE WHEN ?2 = 'deleted' THEN ?3 ELSE NULL END WHERE experiment_id = ?1",
			  "moving an experiment's runs", err)) < 0)
		goto out;
	sqlite3_bind_int64(q, 1, id);
	bind_str(q, 2, stage);
	sqlite3_bind_int64(q, 3, now);
	rc = step_write(st, q, NULL, "moving the runs of an experiment", err);
out:
	sqlite3_finalize(q);
	return rc;
}

int store_sqlite_experiment_set_deleted(struct store *st, int64_t id, bool deleted,
					struct error *err)
{
	const char *to = deleted ? "deleted" : "active", *from = deleted ? "active" : "deleted";
	static const char what[] = "changing an experiment's lifecycle stage";
	int64_t now = time_now_ms();
	sqlite3_stmt *q = NULL;
	int rc, changes = 0;

	if ((rc = store_sqlite_begin(st, what, err)) < 0)
		goto out;
	if ((rc = prepare(st, &q,
			  "UPDATE experiments SET lifecycle_stage = ?2, last_update_time = ?3 "
			  "WHERE experiment_id = ?1 AND lifecycle_stage = ?4",
			  what, err)) < 0)
		goto out;
	sqlite3_bind_int64(q, 1, id);
	bind_str(q, 2, to);
	sqlite3_bind_int64(q, 3, now);
	bind_str(q, 4, from);
	if ((rc = step_write(st, q, &changes, what, err)) < 0)
		goto out;
	if (!changes) {
		rc = error_set(err, ERR_NOTFOUND, "no %s experiment with id '%" PRId64 "'", from,
			       id);
		goto out;
	}
	if ((rc = experiment_runs_stage(st, id, to, now, err)) < 0)
		goto out;
	rc = store_sqlite_commit(st, what, err);
out:
	sqlite3_finalize(q);
	if (rc < 0)
		store_sqlite_rollback(st);
	return rc;
}

int store_sqlite_experiment_set_tag(struct store *st, int64_t id, const char *key,
				    const char *value, struct error *err)
{
	sqlite3_stmt *q = NULL;
	int rc;

	if ((rc = prepare(st, &q,
			  "INSERT INTO experiment_tags (experiment_id, key, value) "
			  "VALUES (?1, ?2, ?3) ON CONFLICT (experiment_id, key) "
			  "DO UPDATE SET value = excluded.value",
			  "setting an experiment tag", err)) < 0)
		goto out;
	sqlite3_bind_int64(q, 1, id);
	bind_str(q, 2, key);
	bind_str(q, 3, value);
	rc = sqlite3_step(q);
	if (rc == SQLITE_DONE)
		rc = 0;
	else if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
		rc = error_set(err, ERR_NOTFOUND, "no experiment with id '%" PRId64 "'", id);
	else
		rc = store_sqlite_error(st, err, "setting tag '%s' on experiment '%" PRId64 "'",
					key, id);
out:
	sqlite3_finalize(q);
	return rc;
}

int store_sqlite_experiment_tags(struct store *st, struct store_pairs *out, int64_t id,
				 struct error *err)
{
	sqlite3_stmt *q = NULL;
	int rc;

	if ((rc = prepare(st, &q,
			  "SELECT key, value FROM experiment_tags WHERE experiment_id = ?1 "
			  "ORDER BY key",
			  "reading experiment tags", err)) < 0)
		goto out;
	sqlite3_bind_int64(q, 1, id);
	if (store_sqlite_read_pairs(out, q))
		rc =
		    store_sqlite_error(st, err, "reading the tags of experiment '%" PRId64 "'", id);
out:
	sqlite3_finalize(q);
	return rc;
}

/* Runs ---------------------------------------------------------------------------------------- */

static int put_run_tag(struct store *st, sqlite3_stmt **q, const char *run_id, const char *key,
		       const char *value, struct error *err)
{
	int rc;

	if (!*q && (rc = prepare(st, q, RUN_TAG_PUT_SQL, "setting a tag", err)) < 0)
		return rc;
	sqlite3_reset(*q);
	bind_str(*q, 1, run_id);
	bind_str(*q, 2, key);
	bind_str(*q, 3, value);
	return step_write(st, *q, NULL, "setting a run tag", err);
}

static int update_run_row(struct store *st, const char *run_id, const struct store_run_changes *c,
			  struct error *err)
{
	sqlite3_stmt *q = NULL;
	int rc, changes = 0;

	if ((rc = prepare(st, &q,
			  "UPDATE runs SET status = CASE WHEN ?2 THEN ?3 ELSE status END, "
			  "end_time = CASE WHEN ?4 THEN ?5 ELSE end_time END, "
			  "name = coalesce(?6, name) WHERE run_id = ?1",
			  "updating a run", err)) < 0)
		goto out;
	bind_str(q, 1, run_id);
	sqlite3_bind_int(q, 2, c->set_status);
	bind_str(q, 3, store_run_status_name(c->status));
	sqlite3_bind_int(q, 4, c->set_end_time);
	sqlite3_bind_int64(q, 5, c->end_time);
	bind_str(q, 6, c->name);
	if ((rc = step_write(st, q, &changes, "updating a run", err)) < 0)
		goto out;
	if (!changes)
		rc = error_set(err, ERR_NOTFOUND, "no run with id '%s'", run_id);
out:
	sqlite3_finalize(q);
	return rc;
}

int store_sqlite_run_update(struct store *st, const char *run_id, const struct store_run_changes *c,
			    struct error *err)
{
	static const char what[] = "updating a run";
	sqlite3_stmt *tag = NULL;
	int rc;

	if ((rc = store_sqlite_begin(st, what, err)) < 0 ||
	    (rc = update_run_row(st, run_id, c, err)) < 0)
		goto out;
	if (c->name && (rc = put_run_tag(st, &tag, run_id, "mlflow.runName", c->name, err)) < 0)
		goto out;
	rc = store_sqlite_commit(st, what, err);
out:
	sqlite3_finalize(tag);
	if (rc < 0)
		store_sqlite_rollback(st);
	return rc;
}

int store_sqlite_run_set_deleted(struct store *st, const char *run_id, bool deleted,
				 struct error *err)
{
	sqlite3_stmt *q = NULL;
	int rc, changes = 0;

	if ((rc = prepare(st, &q,
			  "UPDATE runs SET lifecycle_stage = ?2, deleted_time = ?3 "
			  "WHERE run_id = ?1",
			  "deleting a run", err)) < 0)
		goto out;
	bind_str(q, 1, run_id);
	bind_str(q, 2, deleted ? "deleted" : "active");
	if (deleted)
		sqlite3_bind_int64(q, 3, time_now_ms());
	else
		sqlite3_bind_null(q, 3);
	if ((rc = step_write(st, q, &changes, "changing a run's lifecycle stage", err)) < 0)
		goto out;
	if (!changes)
		rc = error_set(err, ERR_NOTFOUND, "no run with id '%s'", run_id);
out:
	sqlite3_finalize(q);
	return rc;
}

int store_sqlite_run_delete_tag(struct store *st, const char *run_id, const char *key,
				struct error *err)
{
	sqlite3_stmt *q = NULL;
	int rc, changes = 0;

	if ((rc = store_sqlite_run_exists(st, run_id, err)) < 0 ||
	    (rc = prepare(st, &q, "DELETE FROM run_tags WHERE run_id = ?1 AND key = ?2",
			  "deleting a tag", err)) < 0)
		goto out;
	bind_str(q, 1, run_id);
	bind_str(q, 2, key);
	if ((rc = step_write(st, q, &changes, "deleting a run tag", err)) < 0)
		goto out;
	if (!changes)
		rc = error_set(err, ERR_NOTFOUND, "no tag '%s' on run '%s'", key, run_id);
out:
	sqlite3_finalize(q);
	return rc;
}

/* Metrics ------------------------------------------------------------------------------------- */

int store_sqlite_metric_history_page(struct store *st, struct store_metric_points *out,
				     const char *run_id, const char *key, int64_t offset,
				     int64_t limit, struct error *err)
{
	struct store_metric_points list = STORE_METRIC_POINTS_INIT;
	sqlite3_stmt *q = NULL;
	int rc;

	if ((rc = store_sqlite_run_exists(st, run_id, err)) < 0 ||
	    (rc = prepare(st, &q,
			  "SELECT key, value, timestamp, step, is_nan FROM metrics "
			  "WHERE run_id = ?1 AND key = ?2 ORDER BY step, timestamp, value "
			  "LIMIT ?3 OFFSET ?4",
			  "reading the metric history", err)) < 0)
		goto out;
	bind_str(q, 1, run_id);
	bind_str(q, 2, key);
	sqlite3_bind_int64(q, 3, limit < 0 ? -1 : limit);
	sqlite3_bind_int64(q, 4, offset);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct store_metric_point *p;

		ALLOC_GROW(list.items, list.nr + 1, list.alloc);
		p = &list.items[list.nr++];
		p->key = xstrdup((const char *)sqlite3_column_text(q, 0));
		p->value = sqlite3_column_int(q, 4) ? NAN : sqlite3_column_double(q, 1);
		p->timestamp = sqlite3_column_int64(q, 2);
		p->step = sqlite3_column_int64(q, 3);
	}
	if (rc != SQLITE_DONE) {
		rc = store_sqlite_error(st, err, "reading the history of metric '%s' of run '%s'",
					key, run_id);
		goto out;
	}
	*out = list;
	memset(&list, 0, sizeof(list));
	rc = 0;
out:
	sqlite3_finalize(q);
	store_metric_points_release(&list);
	return rc;
}

/* Log-batch ----------------------------------------------------------------------------------- */

/* The statements of one batch, the connection's cached ones, taken on first use. */
struct batch_stmts {
	sqlite3_stmt *param_put, *param_get, *metric, *metrics, *latest, *tag;
};

static int batch_param(struct store *st, struct batch_stmts *s, const char *run_id,
		       const struct store_kv *p, struct error *err)
{
	const char *old;
	int rc, changes = 0;

	if ((!s->param_put &&
	     (rc = store_sqlite_stmt(st, &s->param_put, SQ_PARAM_PUT,
				     "INSERT INTO params (run_id, key, value) VALUES (?1, ?2, ?3) "
				     "ON CONFLICT (run_id, key) DO NOTHING",
				     "logging a param", err)) < 0) ||
	    (!s->param_get &&
	     (rc = store_sqlite_stmt(st, &s->param_get, SQ_PARAM_GET,
				     "SELECT value FROM params WHERE run_id = ?1 AND key = ?2",
				     "logging a param", err)) < 0))
		return rc;
	sqlite3_reset(s->param_put);
	bind_str(s->param_put, 1, run_id);
	bind_str(s->param_put, 2, p->key);
	bind_str(s->param_put, 3, p->value);
	if ((rc = step_write(st, s->param_put, &changes, "logging a param", err)) < 0 || changes)
		return rc;
	sqlite3_reset(s->param_get);
	bind_str(s->param_get, 1, run_id);
	bind_str(s->param_get, 2, p->key);
	if (sqlite3_step(s->param_get) != SQLITE_ROW)
		return store_sqlite_error(st, err, "reading param '%s' of run '%s'", p->key,
					  run_id);
	old = (const char *)sqlite3_column_text(s->param_get, 0);
	if (old && !strcmp(old, p->value))
		rc = 0;
	else
		rc = error_set(err, ERR_CONFLICT,
			       "param '%s' of run '%s' is already '%s'; it cannot change to '%s'",
			       p->key, run_id, old ? old : "", p->value);
	sqlite3_reset(s->param_get);
	return rc;
}

/* Binds point m to ?i .. ?i+4 (key, step, timestamp, value, is_nan). */
static void bind_point(sqlite3_stmt *q, int i, const struct store_metric *m)
{
	bool nan = isnan(m->value);

	/* Static: the key outlives the statement's use, and every use binds it again. */
	sqlite3_bind_text(q, i, m->key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, i + 1, m->step);
	sqlite3_bind_int64(q, i + 2, m->timestamp);
	/* SQLite stores a NaN REAL as NULL: keep 0 and a flag, as MLflow does. */
	sqlite3_bind_double(q, i + 3, nan ? 0.0 : m->value);
	sqlite3_bind_int(q, i + 4, nan);
}

static int batch_metric_stmt(struct store *st, sqlite3_stmt *q, const char *run_id,
			     const struct store_metric *m, struct error *err)
{
	sqlite3_reset(q);
	sqlite3_bind_text(q, 1, run_id, -1, SQLITE_STATIC);
	bind_point(q, 2, m);
	return step_write(st, q, NULL, "recording a metric", err);
}

/*
 * METRIC_ROWS points to one INSERT: its rows go in one after another, each with its own ON
 * CONFLICT check (a point repeated inside the statement is stored once, as with one insert per
 * point), while the statement's own cost (step, reset, the run id's binding) is paid once. That
 * cost was a third of a 500-point batch's inserts. A bare ? takes the number after the greatest
 * so far, so row r's key is ?(2 + 5r).
 */
#define METRIC_ROWS 50
#define METRIC_ROW ", (?1, ?, ?, ?, ?, ?)"
#define METRIC_ROW2 METRIC_ROW METRIC_ROW
#define METRIC_ROW8 METRIC_ROW2 METRIC_ROW2 METRIC_ROW2 METRIC_ROW2
#define METRIC_ROW16 METRIC_ROW8 METRIC_ROW8
#define METRIC_PUT_MANY_SQL                                                                        \
	"INSERT INTO metrics (run_id, key, step, timestamp, value, is_nan) VALUES "                \
	"(?1, ?, ?, ?, ?, ?)" METRIC_ROW16 METRIC_ROW16 METRIC_ROW16 METRIC_ROW                    \
	" ON CONFLICT DO NOTHING"

static int batch_metric_rows(struct store *st, sqlite3_stmt *q, const char *run_id,
			     const struct store_metric *m, struct error *err)
{
	sqlite3_reset(q);
	sqlite3_bind_text(q, 1, run_id, -1, SQLITE_STATIC);
	for (int r = 0; r < METRIC_ROWS; r++)
		bind_point(q, 2 + 5 * r, &m[r]);
	return step_write(st, q, NULL, "recording metrics", err);
}

/* A point of the batch, with its place in it. */
struct batch_point {
	const struct store_metric *m;
	size_t i;
};

/* By key, then by place in the batch. */
static int point_by_key(const void *a, const void *b)
{
	const struct batch_point *x = a, *y = b;
	int c = strcmp(x->m->key, y->m->key);

	return c ? c : (x->i > y->i) - (x->i < y->i);
}

/* LATEST_PUT_SQL's order, on the stored value (a NaN is stored as 0 with is_nan set). */
static bool point_after(const struct store_metric *a, const struct store_metric *b)
{
	double va = isnan(a->value) ? 0.0 : a->value, vb = isnan(b->value) ? 0.0 : b->value;

	if (a->step != b->step)
		return a->step > b->step;
	if (a->timestamp != b->timestamp)
		return a->timestamp > b->timestamp;
	return va > vb;
}

/*
 * Raises latest_metrics once per key, with the key's greatest point of the batch (the first
 * of equals, as one upsert per point would leave it): the upsert keeps the greater of what is
 * stored and what comes, so that gives the same row with one statement per key, not per point.
 * A batch of 500 points of one metric spent half its time on the 499 redundant upserts.
 */
static int batch_latest(struct store *st, struct batch_stmts *s, const char *run_id,
			const struct store_batch *b, struct error *err)
{
	struct batch_point *pts = xcalloc(b->nr_metrics, sizeof(*pts));
	int rc = 0;

	for (size_t i = 0; i < b->nr_metrics; i++)
		pts[i] = (struct batch_point){ &b->metrics[i], i };
	qsort(pts, b->nr_metrics, sizeof(*pts), point_by_key);
	for (size_t i = 0; i < b->nr_metrics && rc >= 0;) {
		const struct store_metric *best = pts[i].m;
		size_t j = i + 1;

		for (; j < b->nr_metrics && !strcmp(pts[j].m->key, best->key); j++)
			if (point_after(pts[j].m, best))
				best = pts[j].m;
		rc = batch_metric_stmt(st, s->latest, run_id, best, err);
		i = j;
	}
	free(pts);
	return rc;
}

static int batch_metrics(struct store *st, struct batch_stmts *s, const char *run_id,
			 const struct store_batch *b, struct error *err)
{
	size_t i;
	int rc;

	if (!b->nr_metrics)
		return 0;
	if ((!s->metric && (rc = store_sqlite_stmt(
				st, &s->metric, SQ_METRIC_PUT,
				"INSERT INTO metrics (run_id, key, step, timestamp, value, "
				"is_nan) VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO NOTHING",
				"recording a metric", err)) < 0) ||
	    (!s->latest && (rc = store_sqlite_stmt(st, &s->latest, SQ_LATEST_PUT, LATEST_PUT_SQL,
						   "recording a metric", err)) < 0))
		return rc;
	if (b->nr_metrics >= METRIC_ROWS && !s->metrics &&
	    (rc = store_sqlite_stmt(st, &s->metrics, SQ_METRIC_PUT_MANY, METRIC_PUT_MANY_SQL,
				    "recording metrics", err)) < 0)
		return rc;
	for (i = 0; i + METRIC_ROWS <= b->nr_metrics; i += METRIC_ROWS)
		if ((rc = batch_metric_rows(st, s->metrics, run_id, &b->metrics[i], err)) < 0)
			return rc;
	for (; i < b->nr_metrics; i++)
		if ((rc = batch_metric_stmt(st, s->metric, run_id, &b->metrics[i], err)) < 0)
			return rc;
	return batch_latest(st, s, run_id, b, err);
}

static int batch_write(struct store *st, struct batch_stmts *s, const char *run_id,
		       const struct store_batch *b, struct error *err)
{
	int rc;

	for (size_t i = 0; i < b->nr_params; i++)
		if ((rc = batch_param(st, s, run_id, &b->params[i], err)) < 0)
			return rc;
	if ((rc = batch_metrics(st, s, run_id, b, err)) < 0)
		return rc;
	if (b->nr_tags && (rc = store_sqlite_stmt(st, &s->tag, SQ_RUN_TAG_PUT, RUN_TAG_PUT_SQL,
						  "setting a tag", err)) < 0)
		return rc;
	for (size_t i = 0; i < b->nr_tags; i++)
		if ((rc = put_run_tag(st, &s->tag, run_id, b->tags[i].key, b->tags[i].value, err)) <
		    0)
			return rc;
	return 0;
}

int store_sqlite_run_log_batch(struct store *st, const char *run_id, const struct store_batch *b,
			       struct error *err)
{
	struct batch_stmts s = { NULL, NULL, NULL, NULL, NULL, NULL };
	char what[128];
	int rc;

	snprintf(what, sizeof(what), "logging a batch for run '%s'", run_id);
	if ((rc = store_sqlite_begin(st, what, err)) < 0 ||
	    (rc = run_must_be_active(st, run_id, err)) < 0 ||
	    (rc = batch_write(st, &s, run_id, b, err)) < 0)
		goto out;
	rc = store_sqlite_commit(st, what, err);
out:
	/* Cached: reset them, and let go of the request's strings bound SQLITE_STATIC. */
	store_sqlite_stmt_done(s.param_put);
	store_sqlite_stmt_done(s.param_get);
	store_sqlite_stmt_done(s.metric);
	store_sqlite_stmt_done(s.metrics);
	store_sqlite_stmt_done(s.latest);
	store_sqlite_stmt_done(s.tag);
	if (rc < 0)
		store_sqlite_rollback(st);
	return rc;
}
