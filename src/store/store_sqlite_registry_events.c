/*
 * The SQLite model registry, part three: what model_events records. Stage transitions, alias
 * moves with compare-and-swap, rollback along the history, and reading the history. Each write
 * reads what it decides on inside its own BEGIN IMMEDIATE transaction, so writers in other
 * processes serialise and every decision sees the state it changes.
 */
#include "util/common.h"
#include "store/store_sqlite_internal.h"

/* Binds NULL for 0: "no version" in the history. */
static void bind_version(sqlite3_stmt *q, int i, int64_t v)
{
	if (v)
		sqlite3_bind_int64(q, i, v);
	else
		sqlite3_bind_null(q, i);
}

/* Runs a prepared statement that returns no rows, then finalizes it. */
static int run_write(struct store *st, sqlite3_stmt *q, const char *what, struct error *err)
{
	int rc = store_sqlite_step_write(st, q, NULL, what, err);

	sqlite3_finalize(q);
	return rc;
}

static int alias_notfound(const char *alias, struct error *err)
{
	return error_set(err, ERR_NOTFOUND, "Registered model alias %s not found.", alias);
}

/* One row of model_events; 0 versions and NULL strings are stored as NULL. */
struct event {
	const char *name;
	const char *kind; /* "alias_move", "alias_rollback" or "stage" */
	const char *alias;
	int64_t from_version, to_version;
	int64_t version;
	const char *from_stage, *to_stage;
	const char *user;
	int64_t time;
	const char *reason;
};

/* Appends e to the history; *out_id (may be NULL) gets its id. */
static int add_event(struct store *st, int64_t *out_id, const struct event *e, struct error *err)
{
	static const char what[] = "recording a registry event";
	sqlite3_stmt *q = NULL;
	int rc;

	if ((rc = store_sqlite_prepare(st, &q,
				       "INSERT INTO model_events (name, kind, alias, "
				       "from_version, to_version, version, from_stage, to_stage, "
				       "user_id, changed_time, reason) VALUES (?1, ?2, ?3, ?4, ?5, "
				       "?6, ?7, ?8, ?9, ?10, ?11)",
				       what, err)) < 0)
		return rc;
	store_sqlite_bind_str(q, 1, e->name);
	store_sqlite_bind_str(q, 2, e->kind);
	store_sqlite_bind_str(q, 3, e->alias);
	bind_version(q, 4, e->from_version);
	bind_version(q, 5, e->to_version);
	bind_version(q, 6, e->version);
	store_sqlite_bind_str(q, 7, e->from_stage);
	store_sqlite_bind_str(q, 8, e->to_stage);
	store_sqlite_bind_str(q, 9, e->user);
	sqlite3_bind_int64(q, 10, e->time);
	store_sqlite_bind_str(q, 11, e->reason);
	if ((rc = run_write(st, q, what, err)) == 0 && out_id)
		*out_id = sqlite3_last_insert_rowid(store_sqlite_db(st));
	return rc;
}

/* Stages --------------------------------------------------------------------------------------- */

static int version_stage(struct store *st, enum store_stage *out, const char *name, int64_t version,
			 struct error *err)
{
	static const char what[] = "reading the stage of a model version";
	sqlite3_stmt *q = NULL;
	int rc;

	if ((rc = store_sqlite_prepare(st, &q,
				       "SELECT current_stage FROM model_versions WHERE name = ?1 "
				       "AND version = ?2",
				       what, err)) < 0)
		return rc;
	store_sqlite_bind_str(q, 1, name);
	sqlite3_bind_int64(q, 2, version);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW)
		rc = store_stage_parse(out, (const char *)sqlite3_column_text(q, 0), err);
	else if (rc == SQLITE_DONE)
		rc = store_sqlite_version_notfound(name, version, err);
	else
		rc = store_sqlite_error(st, err, "%s", what);
	sqlite3_finalize(q);
	return rc;
}

/*
 * Archives every other version of the model in stage, oldest first: one history row each (the
 * same user and reason as the transition that caused it), then the rows themselves.
 */
static int archive_others(struct store *st, const char *name, int64_t version,
			  enum store_stage stage, const char *user, const char *reason, int64_t now,
			  struct error *err)
{
	static const char what[] = "archiving model versions";
	sqlite3_stmt *q = NULL;
	int rc;

	if ((rc = store_sqlite_prepare(st, &q,
				       "INSERT INTO model_events (name, kind, version, from_stage, "
				       "to_stage, user_id, changed_time, reason) SELECT name, "
				       "'stage', version, current_stage, 'Archived', ?4, ?5, ?6 "
				       "FROM model_versions WHERE name = ?1 AND current_stage = ?2 "
				       "AND version <> ?3 ORDER BY version",
				       what, err)) < 0)
		return rc;
	store_sqlite_bind_str(q, 1, name);
	store_sqlite_bind_str(q, 2, store_stage_name(stage));
	sqlite3_bind_int64(q, 3, version);
	store_sqlite_bind_str(q, 4, user);
	sqlite3_bind_int64(q, 5, now);
	store_sqlite_bind_str(q, 6, reason);
	if ((rc = run_write(st, q, what, err)) < 0 ||
	    (rc = store_sqlite_prepare(st, &q,
				       "UPDATE model_versions SET current_stage = 'Archived', "
				       "last_updated_time = ?4 WHERE name = ?1 AND "
				       "current_stage = ?2 AND version <> ?3",
				       what, err)) < 0)
		return rc;
	store_sqlite_bind_str(q, 1, name);
	store_sqlite_bind_str(q, 2, store_stage_name(stage));
	sqlite3_bind_int64(q, 3, version);
	sqlite3_bind_int64(q, 4, now);
	return run_write(st, q, what, err);
}

static int set_stage(struct store *st, const char *name, int64_t version, enum store_stage stage,
		     int64_t now, struct error *err)
{
	static const char what[] = "changing the stage of a model version";
	sqlite3_stmt *q = NULL;
	int rc;

	if ((rc = store_sqlite_prepare(st, &q,
				       "UPDATE model_versions SET current_stage = ?3, "
				       "last_updated_time = ?4 WHERE name = ?1 AND version = ?2",
				       what, err)) < 0)
		return rc;
	store_sqlite_bind_str(q, 1, name);
	sqlite3_bind_int64(q, 2, version);
	store_sqlite_bind_str(q, 3, store_stage_name(stage));
	sqlite3_bind_int64(q, 4, now);
	return run_write(st, q, what, err);
}

/*
 * MLflow touches the version and the model even when the stage does not change; the history
 * records changes only, as for aliases.
 */
static int transition(struct store *st, const char *name, int64_t version, enum store_stage stage,
		      bool archive_existing, const char *user, const char *reason,
		      struct error *err)
{
	enum store_stage from = STORE_STAGE_NONE;
	int64_t now = time_now_ms();
	struct event e = {
		.name = name,
		.kind = "stage",
		.version = version,
		.to_stage = store_stage_name(stage),
		.user = user,
		.time = now,
		.reason = reason,
	};
	int rc;

	if ((rc = version_stage(st, &from, name, version, err)) < 0 ||
	    (archive_existing &&
	     (rc = archive_others(st, name, version, stage, user, reason, now, err)) < 0) ||
	    (rc = set_stage(st, name, version, stage, now, err)) < 0)
		return rc;
	e.from_stage = store_stage_name(from);
	if (from != stage && (rc = add_event(st, NULL, &e, err)) < 0)
		return rc;
	return store_sqlite_model_touch(st, name, now, err);
}

int store_sqlite_model_version_transition(struct store *st, struct store_model_version *out,
					  const char *name, int64_t version, enum store_stage stage,
					  bool archive_existing, const char *user,
					  const char *reason, struct error *err)
{
	static const char what[] = "transitioning a model version";
	struct store_model_version v = STORE_MODEL_VERSION_INIT;
	int rc;

	if ((rc = store_sqlite_begin(st, what, err)) < 0 ||
	    (rc = transition(st, name, version, stage, archive_existing, user, reason, err)) < 0 ||
	    (rc = st->ops->model_version_get(st, &v, name, version, err)) < 0 ||
	    (rc = store_sqlite_commit(st, what, err)) < 0)
		goto out;
	*out = v;
	memset(&v, 0, sizeof(v));
out:
	if (rc < 0)
		store_sqlite_rollback(st);
	store_model_version_release(&v);
	return rc;
}

/* Aliases -------------------------------------------------------------------------------------- */

/* Where alias points now: *out 0 when it does not exist. */
static int alias_current(struct store *st, int64_t *out, const char *name, const char *alias,
			 struct error *err)
{
	static const char what[] = "reading a model alias";
	sqlite3_stmt *q = NULL;
	int rc;

	if ((rc = store_sqlite_prepare(st, &q,
				       "SELECT version FROM model_aliases WHERE name = ?1 AND "
				       "alias = ?2",
				       what, err)) < 0)
		return rc;
	store_sqlite_bind_str(q, 1, name);
	store_sqlite_bind_str(q, 2, alias);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW || rc == SQLITE_DONE) {
		*out = rc == SQLITE_ROW ? sqlite3_column_int64(q, 0) : 0;
		rc = 0;
	} else {
		rc = store_sqlite_error(st, err, "%s '%s' of model '%s'", what, alias, name);
	}
	sqlite3_finalize(q);
	return rc;
}

/* Points alias at version, or removes it (version 0). */
static int alias_write(struct store *st, const char *name, const char *alias, int64_t version,
		       struct error *err)
{
	static const char what[] = "changing a model alias";
	sqlite3_stmt *q = NULL;
	int rc;

	if ((rc = store_sqlite_prepare(
		 st, &q,
		 version ? "INSERT INTO model_aliases (name, alias, version) VALUES (?1, ?2, ?3) "
			   "ON CONFLICT (name, alias) DO UPDATE SET version = excluded.version"
			 : "DELETE FROM model_aliases WHERE name = ?1 AND alias = ?2",
		 what, err)) < 0)
		return rc;
	store_sqlite_bind_str(q, 1, name);
	store_sqlite_bind_str(q, 2, alias);
	if (version)
		sqlite3_bind_int64(q, 3, version);
	return run_write(st, q, what, err);
}

int store_sqlite_alias_get(struct store *st, int64_t *out_version, const char *name,
			   const char *alias, struct error *err)
{
	int64_t version = 0;
	int rc;

	if ((rc = store_sqlite_model_exists(st, name, err)) < 0 ||
	    (rc = alias_current(st, &version, name, alias, err)) < 0)
		return rc;
	if (!version)
		return alias_notfound(alias, err);
	*out_version = version;
	return 0;
}

/* The compare-and-swap of store_alias_set: ERR_CONFLICT saying what happened meanwhile. */
static int check_expect(const struct store_alias_move *m, int64_t current, struct error *err)
{
	if (m->expect == STORE_ALIAS_ANY || m->expect == current)
		return 0;
	if (!current)
		return error_set(err, ERR_CONFLICT,
				 "alias '%s' of model '%s' does not exist, not at version %" PRId64
				 ": someone removed it meanwhile",
				 m->alias, m->name, m->expect);
	if (!m->expect)
		return error_set(err, ERR_CONFLICT,
				 "alias '%s' of model '%s' already exists (it points to version "
				 "%" PRId64 "): someone created it meanwhile",
				 m->alias, m->name, current);
	return error_set(err, ERR_CONFLICT,
			 "alias '%s' of model '%s' points to version %" PRId64 ", not %" PRId64
			 ": someone moved it meanwhile",
			 m->alias, m->name, current, m->expect);
}

static int alias_move(struct store *st, int64_t *from, const struct store_alias_move *m,
		      struct error *err)
{
	struct event e = {
		.name = m->name,
		.kind = "alias_move",
		.alias = m->alias,
		.to_version = m->version,
		.user = m->user,
		.time = time_now_ms(),
		.reason = m->reason,
	};
	int rc;

	if ((rc = store_sqlite_model_exists(st, m->name, err)) < 0 ||
	    (rc = alias_current(st, from, m->name, m->alias, err)) < 0 ||
	    (rc = check_expect(m, *from, err)) < 0)
		return rc;
	if (!m->version && !*from)
		return alias_notfound(m->alias, err);
	if (m->version && (rc = store_sqlite_version_exists(st, m->name, m->version, err)) < 0)
		return rc;
	if (m->version == *from)
		return 0;
	e.from_version = *from;
	if ((rc = alias_write(st, m->name, m->alias, m->version, err)) < 0)
		return rc;
	return add_event(st, NULL, &e, err);
}

int store_sqlite_alias_set(struct store *st, int64_t *out_from, const struct store_alias_move *m,
			   struct error *err)
{
	static const char what[] = "moving a model alias";
	int64_t from = 0;
	int rc;

	if ((rc = store_sqlite_begin(st, what, err)) < 0 ||
	    (rc = alias_move(st, &from, m, err)) < 0 ||
	    (rc = store_sqlite_commit(st, what, err)) < 0)
		goto out;
	*out_from = from;
out:
	if (rc < 0)
		store_sqlite_rollback(st);
	return rc;
}

/* Rollback ------------------------------------------------------------------------------------- */

/* The latest alias_move of alias that no rollback has undone yet. */
struct undo {
	int64_t id; /* 0: none */
	int64_t from_version, to_version;
};

static int last_move(struct store *st, struct undo *out, const char *name, const char *alias,
		     struct error *err)
{
	static const char what[] = "reading the history of a model alias";
	sqlite3_stmt *q = NULL;
	int rc;

	if ((rc = store_sqlite_prepare(st, &q,
				       "SELECT id, coalesce(from_version, 0), "
				       "coalesce(to_version, 0) FROM model_events WHERE name = ?1 "
				       "AND alias = ?2 AND kind = 'alias_move' AND undone_by IS "
				       "NULL ORDER BY id DESC LIMIT 1",
				       what, err)) < 0)
		return rc;
	store_sqlite_bind_str(q, 1, name);
	store_sqlite_bind_str(q, 2, alias);
	memset(out, 0, sizeof(*out));
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		out->id = sqlite3_column_int64(q, 0);
		out->from_version = sqlite3_column_int64(q, 1);
		out->to_version = sqlite3_column_int64(q, 2);
	}
	rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : store_sqlite_error(st, err, "%s", what);
	sqlite3_finalize(q);
	return rc;
}

/* Whether the history allows going back from current, and to which version. */
static int rollback_target(struct store *st, const struct undo *u, int64_t current,
			   const char *name, const char *alias, struct error *err)
{
	int rc;

	if (!u->id)
		return error_set(
		    err, ERR_CONFLICT,
		    "nothing to roll back to: alias '%s' of model '%s' has no recorded "
		    "move",
		    alias, name);
	if (u->to_version != current)
		return error_set(err, ERR_CONFLICT,
				 "cannot roll back alias '%s' of model '%s': it points to version "
				 "%" PRId64
				 " but its last recorded move took it to version %" PRId64
				 ", so it was changed outside the history; set it explicitly",
				 alias, name, current, u->to_version);
	if (!u->from_version)
		return error_set(err, ERR_CONFLICT,
				 "nothing to roll back to: alias '%s' of model '%s' was created at "
				 "version %" PRId64,
				 alias, name, current);
	rc = store_sqlite_version_exists(st, name, u->from_version, err);
	if (rc == ERR_NOTFOUND)
		return error_set(err, ERR_CONFLICT,
				 "cannot roll back alias '%s' of model '%s' to version %" PRId64
				 ": version %" PRId64 " has been deleted",
				 alias, name, u->from_version, u->from_version);
	return rc;
}

static int mark_undone(struct store *st, int64_t move_id, int64_t by, struct error *err)
{
	static const char what[] = "marking an alias move as rolled back";
	sqlite3_stmt *q = NULL;
	int rc;

	if ((rc = store_sqlite_prepare(
		 st, &q, "UPDATE model_events SET undone_by = ?2 WHERE id = ?1", what, err)) < 0)
		return rc;
	sqlite3_bind_int64(q, 1, move_id);
	sqlite3_bind_int64(q, 2, by);
	return run_write(st, q, what, err);
}

static int rollback(struct store *st, int64_t *from, int64_t *to, const char *name,
		    const char *alias, const char *user, const char *reason, struct error *err)
{
	struct undo u;
	struct event e = {
		.name = name,
		.kind = "alias_rollback",
		.alias = alias,
		.user = user,
		.time = time_now_ms(),
		.reason = reason,
	};
	int64_t id = 0;
	int rc;

	if ((rc = store_sqlite_model_exists(st, name, err)) < 0 ||
	    (rc = alias_current(st, from, name, alias, err)) < 0)
		return rc;
	if (!*from)
		return alias_notfound(alias, err);
	if ((rc = last_move(st, &u, name, alias, err)) < 0 ||
	    (rc = rollback_target(st, &u, *from, name, alias, err)) < 0)
		return rc;
	*to = u.from_version;
	e.from_version = *from;
	e.to_version = *to;
	if ((rc = alias_write(st, name, alias, *to, err)) < 0 ||
	    (rc = add_event(st, &id, &e, err)) < 0)
		return rc;
	return mark_undone(st, u.id, id, err);
}

int store_sqlite_alias_rollback(struct store *st, int64_t *out_from, int64_t *out_to,
				const char *name, const char *alias, const char *user,
				const char *reason, struct error *err)
{
	static const char what[] = "rolling back a model alias";
	int64_t from = 0, to = 0;
	int rc;

	if ((rc = store_sqlite_begin(st, what, err)) < 0 ||
	    (rc = rollback(st, &from, &to, name, alias, user, reason, err)) < 0 ||
	    (rc = store_sqlite_commit(st, what, err)) < 0)
		goto out;
	*out_from = from;
	*out_to = to;
out:
	if (rc < 0)
		store_sqlite_rollback(st);
	return rc;
}

/* History -------------------------------------------------------------------------------------- */

static void read_event(sqlite3_stmt *q, struct store_registry_event *e)
{
	const unsigned char *kind = sqlite3_column_text(q, 1);
	const unsigned char *from = sqlite3_column_text(q, 7), *to = sqlite3_column_text(q, 8);

	memset(e, 0, sizeof(*e));
	e->id = sqlite3_column_int64(q, 0);
	if (kind && !strcmp((const char *)kind, "stage"))
		e->kind = STORE_EVENT_STAGE;
	else if (kind && !strcmp((const char *)kind, "alias_rollback"))
		e->kind = STORE_EVENT_ALIAS_ROLLBACK;
	else
		e->kind = STORE_EVENT_ALIAS_MOVE;
	e->alias = store_sqlite_col_str(q, 2);
	e->from_version = sqlite3_column_int64(q, 3); /* NULL reads as 0: none */
	e->to_version = sqlite3_column_int64(q, 4);
	e->undone = sqlite3_column_int(q, 5);
	e->version = sqlite3_column_int64(q, 6);
	/* The schema's CHECK allows the four names only; NULL for alias events. */
	if (from)
		store_stage_parse(&e->from_stage, (const char *)from, NULL);
	if (to)
		store_stage_parse(&e->to_stage, (const char *)to, NULL);
	e->user = store_sqlite_col_str(q, 9);
	e->time = sqlite3_column_int64(q, 10);
	e->reason = store_sqlite_col_str(q, 11);
}

static int read_history(struct store *st, struct store_registry_events *out, const char *name,
			struct error *err)
{
	static const char what[] = "reading the history of a registered model";
	struct store_registry_events list = STORE_REGISTRY_EVENTS_INIT;
	sqlite3_stmt *q = NULL;
	int rc;

	if ((rc = store_sqlite_model_exists(st, name, err)) < 0 ||
	    (rc = store_sqlite_prepare(st, &q,
				       "SELECT id, kind, alias, from_version, to_version, "
				       "undone_by IS NOT NULL, version, from_stage, to_stage, "
				       "user_id, changed_time, reason FROM model_events "
				       "WHERE name = ?1 ORDER BY id",
				       what, err)) < 0)
		goto out;
	store_sqlite_bind_str(q, 1, name);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		ALLOC_GROW(list.items, list.nr + 1, list.alloc);
		read_event(q, &list.items[list.nr++]);
	}
	if (rc != SQLITE_DONE) {
		rc = store_sqlite_error(st, err, "%s '%s'", what, name);
		goto out;
	}
	*out = list;
	memset(&list, 0, sizeof(list));
	rc = 0;
out:
	sqlite3_finalize(q);
	store_registry_events_release(&list);
	return rc;
}

int store_sqlite_model_history(struct store *st, struct store_registry_events *out,
			       const char *name, struct error *err)
{
	bool began = false;
	int rc;

	if ((rc = store_sqlite_read_begin(st, &began, "reading the history of a registered model",
					  err)) < 0)
		return rc;
	rc = read_history(st, out, name, err);
	store_sqlite_read_end(st, began);
	return rc;
}
