/*
 * The SQLite model registry, part two: one version at a time. Reading, describing and deleting a
 * version (refused while an alias points at it), its tags, aliases and training datasets.
 */
#include "util/common.h"
#include "store/store_sqlite_internal.h"

int store_sqlite_model_version_get(struct store *st, struct store_model_version *out,
				   const char *name, int64_t version, struct error *err)
{
	sqlite3_stmt *q = NULL;
	int rc;

	if ((rc = store_sqlite_prepare(st, &q,
				       "SELECT " STORE_SQLITE_VERSION_COLUMNS " FROM "
				       "model_versions v WHERE v.name = ?1 AND v.version = ?2",
				       "reading a model version", err)) < 0)
		return rc;
	store_sqlite_bind_str(q, 1, name);
	sqlite3_bind_int64(q, 2, version);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		store_sqlite_read_version(q, out);
		rc = 0;
	} else if (rc == SQLITE_DONE) {
		rc = store_sqlite_version_notfound(name, version, err);
	} else {
		rc = store_sqlite_error(st, err, "reading version %" PRId64 " of model '%s'",
					version, name);
	}
	sqlite3_finalize(q);
	return rc;
}

/* Like MLflow, this touches the version only, not the model. */
int store_sqlite_model_version_update(struct store *st, const char *name, int64_t version,
				      const char *description, struct error *err)
{
	sqlite3_stmt *q = NULL;
	int rc, changes = 0;

	if ((rc = store_sqlite_prepare(st, &q,
				       "UPDATE model_versions SET description = ?3, "
				       "last_updated_time = ?4 WHERE name = ?1 AND version = ?2",
				       "updating a model version", err)) < 0)
		return rc;
	store_sqlite_bind_str(q, 1, name);
	sqlite3_bind_int64(q, 2, version);
	store_sqlite_bind_str(q, 3, description);
	sqlite3_bind_int64(q, 4, time_now_ms());
	rc = store_sqlite_step_write(st, q, &changes, "updating a model version", err);
	sqlite3_finalize(q);
	if (rc == 0 && !changes)
		rc = store_sqlite_version_notfound(name, version, err);
	return rc;
}

/* ERR_CONFLICT naming the aliases that point at the version, if any do. */
static int refuse_aliased(struct store *st, const char *name, int64_t version, struct error *err)
{
	static const char what[] = "reading the aliases of a model version";
	struct strbuf list = STRBUF_INIT;
	sqlite3_stmt *q = NULL;
	int rc, n = 0;

	if ((rc = store_sqlite_prepare(st, &q,
				       "SELECT alias FROM model_aliases WHERE name = ?1 AND "
				       "version = ?2 ORDER BY alias",
				       what, err)) < 0)
		return rc;
	store_sqlite_bind_str(q, 1, name);
	sqlite3_bind_int64(q, 2, version);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW)
		strbuf_addf(&list, "%s'%s'", n++ ? ", " : "",
			    (const char *)sqlite3_column_text(q, 0));
	if (rc != SQLITE_DONE)
		rc = store_sqlite_error(st, err, "%s", what);
	else if (n)
		rc =
		    error_set(err, ERR_CONFLICT,
			      "version %" PRId64 " of model '%s' is the target of alias%s %s: move "
			      "or delete the alias%s first",
			      version, name, n > 1 ? "es" : "", list.buf, n > 1 ? "es" : "");
	else
		rc = 0;
	sqlite3_finalize(q);
	strbuf_release(&list);
	return rc;
}

static int delete_version_row(struct store *st, const char *name, int64_t version,
			      struct error *err)
{
	sqlite3_stmt *q = NULL;
	int rc;

	if ((rc = store_sqlite_prepare(st, &q,
				       "DELETE FROM model_versions WHERE name = ?1 AND "
				       "version = ?2",
				       "deleting a model version", err)) < 0)
		return rc;
	store_sqlite_bind_str(q, 1, name);
	sqlite3_bind_int64(q, 2, version);
	rc = store_sqlite_step_write(st, q, NULL, "deleting a model version", err);
	sqlite3_finalize(q);
	return rc;
}

/* The alias check and the delete share one write transaction: no alias can appear between. */
int store_sqlite_model_version_delete(struct store *st, const char *name, int64_t version,
				      struct error *err)
{
	static const char what[] = "deleting a model version";
	int rc;

	if ((rc = store_sqlite_begin(st, what, err)) < 0 ||
	    (rc = store_sqlite_version_exists(st, name, version, err)) < 0 ||
	    (rc = refuse_aliased(st, name, version, err)) < 0 ||
	    (rc = delete_version_row(st, name, version, err)) < 0 ||
	    (rc = store_sqlite_model_touch(st, name, time_now_ms(), err)) < 0)
		goto out;
	rc = store_sqlite_commit(st, what, err);
out:
	if (rc < 0)
		store_sqlite_rollback(st);
	return rc;
}

/* Like MLflow, tags change neither the version's nor the model's last_updated_time. */
int store_sqlite_model_version_set_tag(struct store *st, const char *name, int64_t version,
				       const char *key, const char *value, struct error *err)
{
	struct store_kv kv = { key, value };

	return store_sqlite_version_put_tags(st, name, version, &kv, 1, err);
}

int store_sqlite_model_version_delete_tag(struct store *st, const char *name, int64_t version,
					  const char *key, struct error *err)
{
	sqlite3_stmt *q = NULL;
	int rc, changes = 0;

	if ((rc = store_sqlite_version_exists(st, name, version, err)) < 0 ||
	    (rc = store_sqlite_prepare(st, &q,
				       "DELETE FROM model_version_tags WHERE name = ?1 AND "
				       "version = ?2 AND key = ?3",
				       "deleting a model version tag", err)) < 0)
		return rc;
	store_sqlite_bind_str(q, 1, name);
	sqlite3_bind_int64(q, 2, version);
	store_sqlite_bind_str(q, 3, key);
	rc = store_sqlite_step_write(st, q, &changes, "deleting a model version tag", err);
	sqlite3_finalize(q);
	if (rc == 0 && !changes)
		rc =
		    error_set(err, ERR_NOTFOUND, "no tag '%s' on version %" PRId64 " of model '%s'",
			      key, version, name);
	return rc;
}

/* The (key, value) rows of sql, which takes ?1 name and ?2 version, for an existing version. */
static int version_pairs(struct store *st, struct store_pairs *out, const char *sql,
			 const char *name, int64_t version, const char *what, struct error *err)
{
	sqlite3_stmt *q = NULL;
	int rc;

	if ((rc = store_sqlite_version_exists(st, name, version, err)) < 0 ||
	    (rc = store_sqlite_prepare(st, &q, sql, what, err)) < 0)
		return rc;
	store_sqlite_bind_str(q, 1, name);
	sqlite3_bind_int64(q, 2, version);
	return store_sqlite_pairs_final(st, out, q, what, err);
}

int store_sqlite_model_version_tags(struct store *st, struct store_pairs *out, const char *name,
				    int64_t version, struct error *err)
{
	return version_pairs(st, out,
			     "SELECT key, value FROM model_version_tags WHERE name = ?1 AND "
			     "version = ?2 ORDER BY key",
			     name, version, "reading model version tags", err);
}

int store_sqlite_model_version_aliases(struct store *st, struct store_pairs *out, const char *name,
				       int64_t version, struct error *err)
{
	return version_pairs(st, out,
			     "SELECT alias, NULL FROM model_aliases WHERE name = ?1 AND "
			     "version = ?2 ORDER BY alias",
			     name, version, "reading model version aliases", err);
}

/* The dataset ids and contexts of a version, the datasets read through the backend's getter. */
static int read_version_datasets(struct store *st, struct store_datasets *out, const char *name,
				 int64_t version, struct error *err)
{
	static const char what[] = "reading the datasets of a model version";
	struct store_datasets list = STORE_DATASETS_INIT;
	sqlite3_stmt *q = NULL;
	int rc;

	if ((rc = store_sqlite_version_exists(st, name, version, err)) < 0 ||
	    (rc = store_sqlite_prepare(st, &q,
				       "SELECT dataset_id, context FROM model_version_datasets "
				       "WHERE name = ?1 AND version = ?2 ORDER BY dataset_id",
				       what, err)) < 0)
		goto out;
	store_sqlite_bind_str(q, 1, name);
	sqlite3_bind_int64(q, 2, version);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct store_dataset *d;

		ALLOC_GROW(list.items, list.nr + 1, list.alloc);
		d = &list.items[list.nr];
		memset(d, 0, sizeof(*d));
		if ((rc = st->ops->dataset_get(st, d, sqlite3_column_int64(q, 0), err)) < 0)
			goto out;
		list.nr++;
		free(d->context);
		d->context = store_sqlite_col_str(q, 1);
	}
	if (rc != SQLITE_DONE) {
		rc = store_sqlite_error(st, err, "%s", what);
		goto out;
	}
	*out = list;
	memset(&list, 0, sizeof(list));
	rc = 0;
out:
	sqlite3_finalize(q);
	store_datasets_release(&list);
	return rc;
}

int store_sqlite_model_version_datasets(struct store *st, struct store_datasets *out,
					const char *name, int64_t version, struct error *err)
{
	bool began = false;
	int rc;

	if ((rc = store_sqlite_read_begin(st, &began, "reading the datasets of a model version",
					  err)) < 0)
		return rc;
	rc = read_version_datasets(st, out, name, version, err);
	store_sqlite_read_end(st, began);
	return rc;
}
