/*
 * The SQLite model registry, part one: registered models with their tags, and creating versions
 * (numbers, tags, training datasets) in one transaction; tables of schema/0001 and 0004.
 * Helpers the other store_sqlite_registry*.c files share are here too.
 */
#include "util/common.h"
#include "store/store_sqlite_internal.h"

static bool is_unique_violation(int rc)
{
	return rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY;
}

int store_sqlite_model_notfound(const char *name, struct error *err)
{
	return error_set(err, ERR_NOTFOUND, "Registered Model with name=%s not found", name);
}

int store_sqlite_version_notfound(const char *name, int64_t version, struct error *err)
{
	return error_set(err, ERR_NOTFOUND,
			 "Model Version (name=%s, version=%" PRId64 ") not found", name, version);
}

int store_sqlite_model_exists(struct store *st, const char *name, struct error *err)
{
	static const char what[] = "looking up a registered model";
	sqlite3_stmt *q = NULL;
	int rc;

	if ((rc = store_sqlite_prepare(st, &q, "SELECT 1 FROM registered_models WHERE name = ?1",
				       what, err)) < 0)
		return rc;
	store_sqlite_bind_str(q, 1, name);
	rc = store_sqlite_has_row(st, q, what, err);
	return rc == 0 ? store_sqlite_model_notfound(name, err) : rc < 0 ? rc : 0;
}

int store_sqlite_version_exists(struct store *st, const char *name, int64_t version,
				struct error *err)
{
	static const char what[] = "looking up a model version";
	sqlite3_stmt *q = NULL;
	int rc;

	if ((rc = store_sqlite_prepare(st, &q,
				       "SELECT 1 FROM model_versions WHERE name = ?1 AND "
				       "version = ?2",
				       what, err)) < 0)
		return rc;
	store_sqlite_bind_str(q, 1, name);
	sqlite3_bind_int64(q, 2, version);
	rc = store_sqlite_has_row(st, q, what, err);
	return rc == 0 ? store_sqlite_version_notfound(name, version, err) : rc < 0 ? rc : 0;
}

/* Sets a model's last_updated_time, as MLflow does when a version comes, goes or moves. */
int store_sqlite_model_touch(struct store *st, const char *name, int64_t now, struct error *err)
{
	static const char what[] = "updating a registered model";
	sqlite3_stmt *q = NULL;
	int rc;

	if ((rc = store_sqlite_prepare(st, &q,
				       "UPDATE registered_models SET last_updated_time = ?2 "
				       "WHERE name = ?1",
				       what, err)) < 0)
		return rc;
	store_sqlite_bind_str(q, 1, name);
	sqlite3_bind_int64(q, 2, now);
	rc = store_sqlite_step_write(st, q, NULL, what, err);
	sqlite3_finalize(q);
	return rc;
}

void store_sqlite_read_version(sqlite3_stmt *q, struct store_model_version *out)
{
	const unsigned char *stage = sqlite3_column_text(q, 6);

	memset(out, 0, sizeof(*out));
	out->name = store_sqlite_col_str(q, 0);
	out->version = sqlite3_column_int64(q, 1);
	out->creation_time = sqlite3_column_int64(q, 2);
	out->last_updated_time = sqlite3_column_int64(q, 3);
	out->description = store_sqlite_col_str(q, 4);
	out->user = store_sqlite_col_str(q, 5);
	/* The schema's CHECK allows the four names only. */
	if (!stage || store_stage_parse(&out->stage, (const char *)stage, NULL) < 0)
		out->stage = STORE_STAGE_NONE;
	out->source = store_sqlite_col_str(q, 7);
	out->source_digest = store_sqlite_col_str(q, 8);
	out->run_id = store_sqlite_col_str(q, 9);
	out->run_link = store_sqlite_col_str(q, 10);
	out->status = store_sqlite_col_str(q, 11);
	out->status_message = store_sqlite_col_str(q, 12);
	out->metrics_json = store_sqlite_col_str(q, 13);
	out->signature_json = store_sqlite_col_str(q, 14);
}

/* Registered models ---------------------------------------------------------------------------- */

static int put_model_tags(struct store *st, const char *name, const struct store_kv *tags,
			  size_t nr, struct error *err)
{
	static const char what[] = "setting a registered model tag";
	sqlite3_stmt *q = NULL;
	int rc = 0;

	if (nr && (rc = store_sqlite_prepare(st, &q,
					     "INSERT INTO registered_model_tags (name, key, value) "
					     "VALUES (?1, ?2, ?3) ON CONFLICT (name, key) "
					     "DO UPDATE SET value = excluded.value",
					     what, err)) < 0)
		return rc;
	for (size_t i = 0; i < nr && rc == 0; i++) {
		sqlite3_reset(q);
		store_sqlite_bind_str(q, 1, name);
		store_sqlite_bind_str(q, 2, tags[i].key);
		store_sqlite_bind_str(q, 3, tags[i].value);
		rc = sqlite3_step(q);
		if (rc == SQLITE_DONE)
			rc = 0;
		else if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
			rc = store_sqlite_model_notfound(name, err);
		else
			rc = store_sqlite_error(st, err, "setting tag '%s' on model '%s'",
						tags[i].key, name);
	}
	sqlite3_finalize(q);
	return rc;
}

/* Inserts the model row; with if_missing, an existing model is fine and left alone. */
static int insert_model(struct store *st, const char *name, const char *description,
			bool if_missing, int64_t now, struct error *err)
{
	sqlite3_stmt *q = NULL;
	int rc;

	if ((rc = store_sqlite_prepare(
		 st, &q,
		 if_missing ? "INSERT INTO registered_models (name, creation_time, "
			      "last_updated_time, description) VALUES (?1, ?2, ?2, ?3) "
			      "ON CONFLICT (name) DO NOTHING"
			    : "INSERT INTO registered_models (name, creation_time, "
			      "last_updated_time, description) VALUES (?1, ?2, ?2, ?3)",
		 "creating a registered model", err)) < 0)
		return rc;
	store_sqlite_bind_str(q, 1, name);
	sqlite3_bind_int64(q, 2, now);
	store_sqlite_bind_str(q, 3, description);
	rc = sqlite3_step(q);
	if (rc == SQLITE_DONE)
		rc = 0;
	else if (is_unique_violation(rc))
		rc = error_set(err, ERR_EXISTS, "Registered Model (name=%s) already exists.", name);
	else
		rc = store_sqlite_error(st, err, "creating registered model '%s'", name);
	sqlite3_finalize(q);
	return rc;
}

int store_sqlite_model_create(struct store *st, const char *name, const char *description,
			      const struct store_kv *tags, size_t nr_tags, struct error *err)
{
	static const char what[] = "creating a registered model";
	int rc;

	if ((rc = store_sqlite_begin(st, what, err)) < 0 ||
	    (rc = insert_model(st, name, description, false, time_now_ms(), err)) < 0 ||
	    (rc = put_model_tags(st, name, tags, nr_tags, err)) < 0)
		goto out;
	rc = store_sqlite_commit(st, what, err);
out:
	if (rc < 0)
		store_sqlite_rollback(st);
	return rc;
}

int store_sqlite_model_get(struct store *st, struct store_model *out, const char *name,
			   struct error *err)
{
	sqlite3_stmt *q = NULL;
	int rc;

	if ((rc = store_sqlite_prepare(st, &q,
				       "SELECT name, description, creation_time, "
				       "last_updated_time FROM registered_models WHERE name = ?1",
				       "reading a registered model", err)) < 0)
		return rc;
	store_sqlite_bind_str(q, 1, name);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		out->name = store_sqlite_col_str(q, 0);
		out->description = store_sqlite_col_str(q, 1);
		out->creation_time = sqlite3_column_int64(q, 2);
		out->last_updated_time = sqlite3_column_int64(q, 3);
		rc = 0;
	} else if (rc == SQLITE_DONE) {
		rc = store_sqlite_model_notfound(name, err);
	} else {
		rc = store_sqlite_error(st, err, "reading registered model '%s'", name);
	}
	sqlite3_finalize(q);
	return rc;
}

/*
 * The rows that refer to the model follow by ON UPDATE CASCADE (tags, versions and through them
 * their tags, datasets and aliases, and the history). MLflow touches every version too.
 */
static int rename_rows(struct store *st, const char *name, const char *new_name, int64_t now,
		       struct error *err)
{
	sqlite3_stmt *q = NULL;
	int rc, changes = 0;

	if ((rc = store_sqlite_prepare(st, &q,
				       "UPDATE registered_models SET name = ?2, "
				       "last_updated_time = ?3 WHERE name = ?1",
				       "renaming a registered model", err)) < 0)
		return rc;
	store_sqlite_bind_str(q, 1, name);
	store_sqlite_bind_str(q, 2, new_name);
	sqlite3_bind_int64(q, 3, now);
	rc = sqlite3_step(q);
	if (rc == SQLITE_DONE)
		rc = sqlite3_changes(store_sqlite_db(st)) ? 0
							  : store_sqlite_model_notfound(name, err);
	else if (is_unique_violation(rc))
		rc = error_set(err, ERR_EXISTS, "Registered Model (name=%s) already exists.",
			       new_name);
	else
		rc = store_sqlite_error(st, err, "renaming registered model '%s'", name);
	sqlite3_finalize(q);
	q = NULL;
	if (rc < 0 || (rc = store_sqlite_prepare(st, &q,
						 "UPDATE model_versions SET last_updated_time = ?2 "
						 "WHERE name = ?1",
						 "renaming a registered model", err)) < 0)
		return rc;
	store_sqlite_bind_str(q, 1, new_name);
	sqlite3_bind_int64(q, 2, now);
	rc = store_sqlite_step_write(st, q, &changes, "touching the versions of a renamed model",
				     err);
	sqlite3_finalize(q);
	return rc;
}

int store_sqlite_model_rename(struct store *st, const char *name, const char *new_name,
			      struct error *err)
{
	static const char what[] = "renaming a registered model";
	int rc;

	if ((rc = store_sqlite_begin(st, what, err)) < 0 ||
	    (rc = rename_rows(st, name, new_name, time_now_ms(), err)) < 0)
		goto out;
	rc = store_sqlite_commit(st, what, err);
out:
	if (rc < 0)
		store_sqlite_rollback(st);
	return rc;
}

int store_sqlite_model_update(struct store *st, const char *name, const char *description,
			      struct error *err)
{
	sqlite3_stmt *q = NULL;
	int rc, changes = 0;

	if ((rc = store_sqlite_prepare(st, &q,
				       "UPDATE registered_models SET description = ?2, "
				       "last_updated_time = ?3 WHERE name = ?1",
				       "updating a registered model", err)) < 0)
		return rc;
	store_sqlite_bind_str(q, 1, name);
	store_sqlite_bind_str(q, 2, description);
	sqlite3_bind_int64(q, 3, time_now_ms());
	rc = store_sqlite_step_write(st, q, &changes, "updating a registered model", err);
	sqlite3_finalize(q);
	if (rc == 0 && !changes)
		rc = store_sqlite_model_notfound(name, err);
	return rc;
}

/* One statement: the foreign keys' ON DELETE CASCADE takes everything else along. */
int store_sqlite_model_delete(struct store *st, const char *name, struct error *err)
{
	sqlite3_stmt *q = NULL;
	int rc, changes = 0;

	if ((rc = store_sqlite_prepare(st, &q, "DELETE FROM registered_models WHERE name = ?1",
				       "deleting a registered model", err)) < 0)
		return rc;
	store_sqlite_bind_str(q, 1, name);
	rc = store_sqlite_step_write(st, q, &changes, "deleting a registered model", err);
	sqlite3_finalize(q);
	if (rc == 0 && !changes)
		rc = store_sqlite_model_notfound(name, err);
	return rc;
}

int store_sqlite_model_set_tag(struct store *st, const char *name, const char *key,
			       const char *value, struct error *err)
{
	struct store_kv kv = { key, value };

	return put_model_tags(st, name, &kv, 1, err);
}

int store_sqlite_model_delete_tag(struct store *st, const char *name, const char *key,
				  struct error *err)
{
	sqlite3_stmt *q = NULL;
	int rc, changes = 0;

	if ((rc = store_sqlite_model_exists(st, name, err)) < 0 ||
	    (rc = store_sqlite_prepare(st, &q,
				       "DELETE FROM registered_model_tags WHERE name = ?1 AND "
				       "key = ?2",
				       "deleting a registered model tag", err)) < 0)
		return rc;
	store_sqlite_bind_str(q, 1, name);
	store_sqlite_bind_str(q, 2, key);
	rc = store_sqlite_step_write(st, q, &changes, "deleting a registered model tag", err);
	sqlite3_finalize(q);
	if (rc == 0 && !changes)
		rc =
		    error_set(err, ERR_NOTFOUND, "no tag '%s' on registered model '%s'", key, name);
	return rc;
}

int store_sqlite_model_tags(struct store *st, struct store_pairs *out, const char *name,
			    struct error *err)
{
	static const char what[] = "reading registered model tags";
	sqlite3_stmt *q = NULL;
	int rc;

	if ((rc = store_sqlite_model_exists(st, name, err)) < 0 ||
	    (rc = store_sqlite_prepare(st, &q,
				       "SELECT key, value FROM registered_model_tags "
				       "WHERE name = ?1 ORDER BY key",
				       what, err)) < 0)
		return rc;
	store_sqlite_bind_str(q, 1, name);
	return store_sqlite_pairs_final(st, out, q, what, err);
}

int store_sqlite_model_aliases(struct store *st, struct store_pairs *out, const char *name,
			       struct error *err)
{
	static const char what[] = "reading registered model aliases";
	sqlite3_stmt *q = NULL;
	int rc;

	if ((rc = store_sqlite_model_exists(st, name, err)) < 0 ||
	    (rc = store_sqlite_prepare(st, &q,
				       "SELECT alias, CAST(version AS TEXT) FROM model_aliases "
				       "WHERE name = ?1 ORDER BY alias",
				       what, err)) < 0)
		return rc;
	store_sqlite_bind_str(q, 1, name);
	return store_sqlite_pairs_final(st, out, q, what, err);
}

/* Model versions ------------------------------------------------------------------------------- */

static int run_must_exist(struct store *st, const char *run_id, struct error *err)
{
	static const char what[] = "looking up a run";
	sqlite3_stmt *q = NULL;
	int rc;

	if ((rc = store_sqlite_prepare(st, &q, "SELECT 1 FROM runs WHERE run_id = ?1", what, err)) <
	    0)
		return rc;
	store_sqlite_bind_str(q, 1, run_id);
	rc = store_sqlite_has_row(st, q, what, err);
	return rc == 0	? error_set(err, ERR_NOTFOUND, "Run with id=%s not found", run_id)
	       : rc < 0 ? rc
			: 0;
}

/* Takes the model's next version number under the write lock; ERR_NOTFOUND without it. */
static int next_version(struct store *st, int64_t *out, const char *name, int64_t now,
			struct error *err)
{
	static const char what[] = "numbering a model version";
	sqlite3_stmt *q = NULL;
	int rc;

	if ((rc = store_sqlite_prepare(st, &q,
				       "UPDATE registered_models SET last_version = "
				       "last_version + 1, last_updated_time = ?2 WHERE name = ?1 "
				       "RETURNING last_version",
				       what, err)) < 0)
		return rc;
	store_sqlite_bind_str(q, 1, name);
	sqlite3_bind_int64(q, 2, now);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		*out = sqlite3_column_int64(q, 0);
		rc = sqlite3_step(q) == SQLITE_DONE ? 0 : store_sqlite_error(st, err, "%s", what);
	} else if (rc == SQLITE_DONE) {
		rc = store_sqlite_model_notfound(name, err);
	} else {
		rc = store_sqlite_error(st, err, "%s of '%s'", what, name);
	}
	sqlite3_finalize(q);
	return rc;
}

static int insert_version(struct store *st, const struct store_new_model_version *nv,
			  int64_t version, int64_t now, struct error *err)
{
	sqlite3_stmt *q = NULL;
	int rc;

	if ((rc = store_sqlite_prepare(
		 st, &q,
		 "INSERT INTO model_versions (name, version, creation_time, last_updated_time, "
		 "description, user_id, current_stage, source, source_digest, run_id, run_link, "
		 "status, metrics_json, signature_json) VALUES (?1, ?2, ?3, ?3, ?4, ?5, 'None', "
		 "?6, ?7, ?8, ?9, 'READY', ?10, ?11)",
		 "creating a model version", err)) < 0)
		return rc;
	store_sqlite_bind_str(q, 1, nv->name);
	sqlite3_bind_int64(q, 2, version);
	sqlite3_bind_int64(q, 3, now);
	store_sqlite_bind_str(q, 4, nv->description);
	store_sqlite_bind_str(q, 5, nv->user);
	store_sqlite_bind_str(q, 6, nv->source);
	store_sqlite_bind_str(q, 7, nv->source_digest);
	store_sqlite_bind_str(q, 8, nv->run_id);
	store_sqlite_bind_str(q, 9, nv->run_link);
	store_sqlite_bind_str(q, 10, nv->metrics_json);
	store_sqlite_bind_str(q, 11, nv->signature_json);
	rc = store_sqlite_step_write(st, q, NULL, "creating a model version", err);
	sqlite3_finalize(q);
	return rc;
}

int store_sqlite_version_put_tags(struct store *st, const char *name, int64_t version,
				  const struct store_kv *tags, size_t nr, struct error *err)
{
	sqlite3_stmt *q = NULL;
	int rc = 0;

	if (nr && (rc = store_sqlite_prepare(st, &q,
					     "INSERT INTO model_version_tags (name, version, key, "
					     "value) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (name, "
					     "version, key) DO UPDATE SET value = excluded.value",
					     "setting a model version tag", err)) < 0)
		return rc;
	for (size_t i = 0; i < nr && rc == 0; i++) {
		sqlite3_reset(q);
		store_sqlite_bind_str(q, 1, name);
		sqlite3_bind_int64(q, 2, version);
		store_sqlite_bind_str(q, 3, tags[i].key);
		store_sqlite_bind_str(q, 4, tags[i].value);
		rc = sqlite3_step(q);
		if (rc == SQLITE_DONE)
			rc = 0;
		else if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
			rc = store_sqlite_version_notfound(name, version, err);
		else
			rc = store_sqlite_error(
			    st, err, "setting tag '%s' on version %" PRId64 " of model '%s'",
			    tags[i].key, version, name);
	}
	sqlite3_finalize(q);
	return rc;
}

static int put_version_datasets(struct store *st, const struct store_new_model_version *nv,
				int64_t version, struct error *err)
{
	sqlite3_stmt *q = NULL;
	int rc = 0;

	if (nv->nr_datasets &&
	    (rc = store_sqlite_prepare(st, &q,
				       "INSERT INTO model_version_datasets (name, version, "
				       "dataset_id, context) VALUES (?1, ?2, ?3, ?4) ON CONFLICT "
				       "(name, version, dataset_id) DO UPDATE SET context = "
				       "coalesce(excluded.context, context)",
				       "linking a dataset to a model version", err)) < 0)
		return rc;
	for (size_t i = 0; i < nv->nr_datasets && rc == 0; i++) {
		const struct store_version_dataset *d = &nv->datasets[i];

		sqlite3_reset(q);
		store_sqlite_bind_str(q, 1, nv->name);
		sqlite3_bind_int64(q, 2, version);
		sqlite3_bind_int64(q, 3, d->dataset_id);
		store_sqlite_bind_str(q, 4, d->context);
		rc = sqlite3_step(q);
		if (rc == SQLITE_DONE)
			rc = 0;
		else if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
			rc = error_set(err, ERR_NOTFOUND, "no dataset with id %" PRId64,
				       d->dataset_id);
		else
			rc =
			    store_sqlite_error(st, err, "linking dataset %" PRId64 " to model '%s'",
					       d->dataset_id, nv->name);
	}
	sqlite3_finalize(q);
	return rc;
}

int store_sqlite_model_version_create(struct store *st, int64_t *out_version,
				      const struct store_new_model_version *nv, struct error *err)
{
	static const char what[] = "creating a model version";
	int64_t now = time_now_ms(), version = 0;
	int rc;

	if ((rc = store_sqlite_begin(st, what, err)) < 0 ||
	    (nv->create_model && (rc = insert_model(st, nv->name, NULL, true, now, err)) < 0) ||
	    (rc = next_version(st, &version, nv->name, now, err)) < 0 ||
	    (nv->run_id && (rc = run_must_exist(st, nv->run_id, err)) < 0) ||
	    (rc = insert_version(st, nv, version, now, err)) < 0 ||
	    (rc = store_sqlite_version_put_tags(st, nv->name, version, nv->tags, nv->nr_tags,
						err)) < 0 ||
	    (rc = put_version_datasets(st, nv, version, err)) < 0 ||
	    (rc = store_sqlite_commit(st, what, err)) < 0)
		goto out;
	*out_version = version;
out:
	if (rc < 0)
		store_sqlite_rollback(st);
	return rc;
}
