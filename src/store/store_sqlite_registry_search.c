/*
 * The SQLite model registry, part four: registered-models/search, model-versions/search and
 * get-latest-versions. Searches become one SELECT through the shared query builder
 * (store_sqlite_query.c): bound parameters only, rows read straight from the result.
 */
#include "util/common.h"
#include "store/store_sqlite_internal.h"

/* What a registry filter allows, so that the shared builder never sees a shape it BUG()s on. */
static bool string_op(const struct search_cond *c)
{
	return c->type == SEARCH_VALUE_STRING &&
	       (c->op == SEARCH_OP_EQ || c->op == SEARCH_OP_NE || c->op == SEARCH_OP_LIKE ||
		c->op == SEARCH_OP_ILIKE);
}

static bool id_op(const struct search_cond *c)
{
	if (c->type == SEARCH_VALUE_LIST)
		return c->op == SEARCH_OP_IN || c->op == SEARCH_OP_NOT_IN;
	return c->type == SEARCH_VALUE_STRING && (c->op == SEARCH_OP_EQ || c->op == SEARCH_OP_NE);
}

static bool number_op(const struct search_cond *c)
{
	return c->type == SEARCH_VALUE_NUMBER && c->op <= SEARCH_OP_GE;
}

static int bad_cond(const struct search_cond *c, const char *what, struct error *err)
{
	return error_set(err, ERR_INVALID, "'%s' cannot be searched that way in %s",
			 c->key ? c->key : "?", what);
}

/*
 * "EXISTS (a tag of the row with the key whose value matches)": like MLflow's join per tag, a
 * tag condition holds only for rows that have the key.
 */
static void tag_cond(struct store_sql *q, const char *table, const char *match,
		     const struct search_cond *c)
{
	store_sql_where_and(q);
	strbuf_addf(&q->where, "EXISTS (SELECT 1 FROM %s t WHERE %s AND t.key = ?%zu AND ", table,
		    match, store_sql_bind_text(q, c->key));
	store_sql_string_cond(q, "t.value", c);
	strbuf_addch(&q->where, ')');
}

/* The tie-breakers after the caller's terms, unless the caller ordered by them already. */
static void order_tail(struct store_sql *q, bool by_name, const char *name_col,
		       const char *version_col)
{
	if (!by_name)
		strbuf_addf(&q->order, "%s%s", q->order.len ? ", " : "", name_col);
	if (version_col)
		strbuf_addf(&q->order, "%s%s DESC", q->order.len ? ", " : "", version_col);
}

/* Registered models ---------------------------------------------------------------------------- */

static const char *model_column(enum search_attr attr)
{
	switch (attr) {
	case SEARCH_ATTR_MODEL_NAME:
		return "m.name";
	case SEARCH_ATTR_CREATION_TIME:
		return "m.creation_time";
	case SEARCH_ATTR_LAST_UPDATE_TIME:
		return "m.last_updated_time";
	default:
		return NULL;
	}
}

static int model_cond(struct store_sql *q, const struct search_cond *c, struct error *err)
{
	if (c->entity == SEARCH_TAG && string_op(c)) {
		tag_cond(q, "registered_model_tags", "t.name = m.name", c);
		return 0;
	}
	if (c->entity != SEARCH_ATTRIBUTE || c->attr != SEARCH_ATTR_MODEL_NAME || !string_op(c))
		return bad_cond(c, "registered models", err);
	store_sql_where_and(q);
	store_sql_string_cond(q, "m.name", c);
	return 0;
}

static int build_model_search(struct store_sql *q, const struct store_model_search *s,
			      struct error *err)
{
	bool by_name = false;
	int rc;

	for (size_t i = 0; s->filter && i < s->filter->nr; i++)
		if ((rc = model_cond(q, &s->filter->items[i], err)) < 0)
			return rc;
	for (size_t i = 0; s->order && i < s->order->nr; i++) {
		const struct search_order *o = &s->order->items[i];
		const char *col = o->entity == SEARCH_ATTRIBUTE ? model_column(o->attr) : NULL;

		if (!col)
			return error_set(err, ERR_INVALID, "Invalid order_by entity: %s",
					 o->key ? o->key : "?");
		by_name |= o->attr == SEARCH_ATTR_MODEL_NAME;
		strbuf_addf(&q->order, "%s%s%s", q->order.len ? ", " : "", col,
			    o->ascending ? "" : " DESC");
	}
	order_tail(q, by_name, "m.name", NULL);
	return 0;
}

static int read_models(struct store *st, struct store_models *list, sqlite3_stmt *stmt,
		       const char *what, struct error *err)
{
	int rc;

	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		struct store_model *m;

		ALLOC_GROW(list->items, list->nr + 1, list->alloc);
		m = &list->items[list->nr++];
		m->name = store_sqlite_col_str(stmt, 0);
		m->description = store_sqlite_col_str(stmt, 1);
		m->creation_time = sqlite3_column_int64(stmt, 2);
		m->last_updated_time = sqlite3_column_int64(stmt, 3);
	}
	return rc == SQLITE_DONE ? 0 : store_sqlite_error(st, err, "%s", what);
}

int store_sqlite_model_search(struct store *st, struct store_models *out, char **next_page_token,
			      const struct store_model_search *s, struct error *err)
{
	static const char what[] = "searching registered models";
	struct store_models list = STORE_MODELS_INIT;
	sqlite3_stmt *stmt = NULL;
	struct store_sql q;
	int rc;

	store_sql_init(&q);
	/* One row more than asked tells whether there is a next page. */
	if ((rc = build_model_search(&q, s, err)) < 0 ||
	    (rc = store_sql_prepare(st, &stmt,
				    "SELECT m.name, m.description, m.creation_time, "
				    "m.last_updated_time FROM registered_models m",
				    &q, s->max_results + 1, s->offset, what, err)) < 0 ||
	    (rc = read_models(st, &list, stmt, what, err)) < 0)
		goto out;
	*next_page_token = NULL;
	if (list.nr > (size_t)s->max_results) {
		store_model_release(&list.items[--list.nr]);
		*next_page_token = search_page_token_encode(s->offset + s->max_results);
	}
	*out = list;
	memset(&list, 0, sizeof(list));
out:
	sqlite3_finalize(stmt);
	store_models_release(&list);
	store_sql_release(&q);
	return rc;
}

/* Model versions ------------------------------------------------------------------------------- */

static int version_cond(struct store_sql *q, const struct search_cond *c, struct error *err)
{
	static const char what[] = "model versions";

	if (c->entity == SEARCH_TAG) {
		if (!string_op(c))
			return bad_cond(c, what, err);
		tag_cond(q, "model_version_tags", "t.name = v.name AND t.version = v.version", c);
		return 0;
	}
	if (c->entity != SEARCH_ATTRIBUTE)
		return bad_cond(c, what, err);
	store_sql_where_and(q);
	if (c->attr == SEARCH_ATTR_MODEL_NAME && string_op(c))
		store_sql_string_cond(q, "v.name", c);
	else if (c->attr == SEARCH_ATTR_SOURCE_PATH && string_op(c))
		store_sql_string_cond(q, "v.source", c);
	else if (c->attr == SEARCH_ATTR_RUN_ID && id_op(c))
		store_sql_string_cond(q, "v.run_id", c);
	else if (c->attr == SEARCH_ATTR_VERSION_NUMBER && number_op(c))
		store_sql_number_cond(q, "v.version", c);
	else
		return bad_cond(c, what, err);
	return 0;
}

static const char *version_column(enum search_attr attr)
{
	switch (attr) {
	case SEARCH_ATTR_MODEL_NAME:
		return "v.name";
	case SEARCH_ATTR_VERSION_NUMBER:
		return "v.version";
	case SEARCH_ATTR_CREATION_TIME:
		return "v.creation_time";
	case SEARCH_ATTR_LAST_UPDATE_TIME:
		return "v.last_updated_time";
	default:
		return NULL;
	}
}

static int build_version_search(struct store_sql *q, const struct store_model_search *s,
				struct error *err)
{
	bool by_name = false, by_version = false;
	int rc;

	for (size_t i = 0; s->filter && i < s->filter->nr; i++)
		if ((rc = version_cond(q, &s->filter->items[i], err)) < 0)
			return rc;
	for (size_t i = 0; s->order && i < s->order->nr; i++) {
		const struct search_order *o = &s->order->items[i];
		const char *col = o->entity == SEARCH_ATTRIBUTE ? version_column(o->attr) : NULL;

		if (!col)
			return error_set(err, ERR_INVALID, "Invalid order_by entity: %s",
					 o->key ? o->key : "?");
		by_name |= o->attr == SEARCH_ATTR_MODEL_NAME;
		by_version |= o->attr == SEARCH_ATTR_VERSION_NUMBER;
		strbuf_addf(&q->order, "%s%s%s", q->order.len ? ", " : "", col,
			    o->ascending ? "" : " DESC");
	}
	order_tail(q, by_name, "v.name", by_version ? NULL : "v.version");
	return 0;
}

static int read_versions(struct store *st, struct store_model_versions *list, sqlite3_stmt *stmt,
			 const char *what, struct error *err)
{
	int rc;

	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		ALLOC_GROW(list->items, list->nr + 1, list->alloc);
		store_sqlite_read_version(stmt, &list->items[list->nr++]);
	}
	return rc == SQLITE_DONE ? 0 : store_sqlite_error(st, err, "%s", what);
}

int store_sqlite_model_version_search(struct store *st, struct store_model_versions *out,
				      char **next_page_token, const struct store_model_search *s,
				      struct error *err)
{
	static const char what[] = "searching model versions";
	struct store_model_versions list = STORE_MODEL_VERSIONS_INIT;
	sqlite3_stmt *stmt = NULL;
	struct store_sql q;
	int rc;

	store_sql_init(&q);
	if ((rc = build_version_search(&q, s, err)) < 0 ||
	    (rc = store_sql_prepare(st, &stmt,
				    "SELECT " STORE_SQLITE_VERSION_COLUMNS " FROM model_versions v",
				    &q, s->max_results + 1, s->offset, what, err)) < 0 ||
	    (rc = read_versions(st, &list, stmt, what, err)) < 0)
		goto out;
	*next_page_token = NULL;
	if (list.nr > (size_t)s->max_results) {
		store_model_version_release(&list.items[--list.nr]);
		*next_page_token = search_page_token_encode(s->offset + s->max_results);
	}
	*out = list;
	memset(&list, 0, sizeof(list));
out:
	sqlite3_finalize(stmt);
	store_model_versions_release(&list);
	store_sql_release(&q);
	return rc;
}

/* Latest versions ------------------------------------------------------------------------------ */

/* The newest version per stage, in stage order, keeping the stages asked for. */
static int read_latest(struct store *st, struct store_model_versions *out, const char *name,
		       const enum store_stage *stages, size_t nr, struct error *err)
{
	static const char what[] = "reading the latest versions of a registered model";
	struct store_model_versions list = STORE_MODEL_VERSIONS_INIT;
	struct store_model_version v;
	sqlite3_stmt *q = NULL;
	int rc;

	if ((rc = store_sqlite_model_exists(st, name, err)) < 0 ||
	    (rc = store_sqlite_prepare(
		 st, &q,
		 "SELECT " STORE_SQLITE_VERSION_COLUMNS " FROM model_versions v WHERE "
		 "v.name = ?1 AND v.version = (SELECT max(w.version) FROM model_versions w "
		 "WHERE w.name = ?1 AND w.current_stage = v.current_stage) ORDER BY CASE "
		 "v.current_stage WHEN 'None' THEN 0 WHEN 'Staging' THEN 1 WHEN 'Production' "
		 "THEN 2 ELSE 3 END",
		 what, err)) < 0)
		goto out;
	store_sqlite_bind_str(q, 1, name);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		bool wanted = false;

		store_sqlite_read_version(q, &v);
		for (size_t i = 0; i < nr && !wanted; i++)
			wanted = stages[i] == v.stage;
		if (!wanted) {
			store_model_version_release(&v);
			continue;
		}
		ALLOC_GROW(list.items, list.nr + 1, list.alloc);
		list.items[list.nr++] = v;
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
	store_model_versions_release(&list);
	return rc;
}

int store_sqlite_model_latest_versions(struct store *st, struct store_model_versions *out,
				       const char *name, const enum store_stage *stages, size_t nr,
				       struct error *err)
{
	bool began = false;
	int rc;

	if ((rc = store_sqlite_read_begin(st, &began, "reading the latest versions", err)) < 0)
		return rc;
	rc = read_latest(st, out, name, stages, nr, err);
	store_sqlite_read_end(st, began);
	return rc;
}
