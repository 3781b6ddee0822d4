/*
 * runs/search and experiments/search on SQLite: the search AST (store/search.h) becomes one
 * SELECT of ids with numbered, bound parameters (no user text is ever part of the SQL), then the
 * rows are read through the backend's own getters inside the same read transaction.
 */
#include "util/common.h"
#include "store/search.h"
#include "store/store_sqlite_internal.h"

/* Finds or adds the alias of (entity, key); its number is the index + 1. */
static int alias_get(size_t *out, struct store_sql *q, enum search_entity entity, const char *key,
		     struct error *err)
{
	for (size_t i = 0; i < q->nr_aliases; i++) {
		if (q->aliases[i].entity == entity && !strcmp(q->aliases[i].key, key)) {
			*out = i + 1;
			return 0;
		}
	}
	if (q->nr_aliases == STORE_SQL_MAX_ALIASES)
		return error_set(err, ERR_INVALID,
				 "search filter and order_by name more than %d metrics, params "
				 "and tags",
				 STORE_SQL_MAX_ALIASES);
	q->aliases[q->nr_aliases].entity = entity;
	q->aliases[q->nr_aliases].key = key;
	q->aliases[q->nr_aliases].inner = false;
	q->aliases[q->nr_aliases].no_nan = false;
	*out = ++q->nr_aliases;
	return 0;
}

static const char *run_column(enum search_attr attr)
{
	switch (attr) {
	case SEARCH_ATTR_RUN_ID:
		return "r.run_id";
	case SEARCH_ATTR_RUN_NAME:
		return "r.name";
	case SEARCH_ATTR_STATUS:
		return "r.status";
	case SEARCH_ATTR_USER_ID:
		return "r.user_id";
	case SEARCH_ATTR_ARTIFACT_URI:
		return "r.artifact_uri";
	case SEARCH_ATTR_START_TIME:
		return "r.start_time";
	case SEARCH_ATTR_END_TIME:
		return "r.end_time";
	default:
		return NULL;
	}
}

static bool run_column_nullable(enum search_attr attr)
{
	return attr != SEARCH_ATTR_RUN_ID && attr != SEARCH_ATTR_STATUS &&
	       attr != SEARCH_ATTR_START_TIME;
}

static const char *entity_table(enum search_entity entity)
{
	switch (entity) {
	case SEARCH_METRIC:
		return "latest_metrics";
	case SEARCH_PARAM:
		return "params";
	case SEARCH_TAG:
		return "run_tags";
	default:
		BUG("no table for search entity %d", (int)entity);
	}
}

/* A metric, param or tag condition: on the key's alias, which becomes an inner join. */
static int keyed_cond(struct store_sql *q, const struct search_cond *c, struct error *err)
{
	char col[32];
	size_t a = 0;
	int rc;

	if ((rc = alias_get(&a, q, c->entity, c->key, err)) < 0)
		return rc;
	q->aliases[a - 1].inner = true;
	snprintf(col, sizeof(col), "a%zu.value", a);
	store_sql_where_and(q);
	if (c->entity != SEARCH_METRIC) {
		store_sql_string_cond(q, col, c);
		return 0;
	}
	/* NaN is stored as 0 with is_nan set; like IEEE NaN it only ever differs. */
	if (c->op == SEARCH_OP_NE) {
		strbuf_addf(&q->where, "(a%zu.is_nan OR ", a);
		store_sql_number_cond(q, col, c);
		strbuf_addch(&q->where, ')');
		return 0;
	}
	q->aliases[a - 1].no_nan = true;
	strbuf_addf(&q->where, "a%zu.is_nan = 0 AND ", a);
	store_sql_number_cond(q, col, c);
	return 0;
}

static void dataset_cond(struct store_sql *q, const struct search_cond *c)
{
	const char *col = c->attr == SEARCH_ATTR_DATASET_NAME	  ? "d.name"
			  : c->attr == SEARCH_ATTR_DATASET_DIGEST ? "d.digest"
								  : "i.context";

	store_sql_where_and(q);
	strbuf_addstr(&q->where, "EXISTS (SELECT 1 FROM run_inputs i JOIN datasets d ON "
				 "d.dataset_id = i.dataset_id WHERE i.run_id = r.run_id AND ");
	store_sql_string_cond(q, col, c);
	strbuf_addch(&q->where, ')');
}

static int run_cond(struct store_sql *q, const struct search_cond *c, struct error *err)
{
	const char *col;

	switch (c->entity) {
	case SEARCH_METRIC:
	case SEARCH_PARAM:
	case SEARCH_TAG:
		return keyed_cond(q, c, err);
	case SEARCH_DATASET:
		dataset_cond(q, c);
		return 0;
	case SEARCH_ATTRIBUTE:
		if (!(col = run_column(c->attr)))
			return error_set(err, ERR_INVALID, "'%s' is not an attribute of runs",
					 c->key);
		store_sql_where_and(q);
		if (c->type == SEARCH_VALUE_NUMBER)
			store_sql_number_cond(q, col, c);
		else
			store_sql_string_cond(q, col, c);
		return 0;
	}
	BUG("unknown search entity %d", (int)c->entity);
}

/* Runs without the key last, then NaN metrics, then the values, in either direction. */
static int run_order(struct store_sql *q, const struct search_order *o, struct error *err)
{
	const char *dir = o->ascending ? "" : " DESC";
	const struct store_sql_alias *al;
	const char *col;
	size_t a = 0;
	int rc;

	if (q->order.len)
		strbuf_addstr(&q->order, ", ");
	if (o->entity == SEARCH_ATTRIBUTE) {
		if (!(col = run_column(o->attr)))
			return error_set(err, ERR_INVALID, "'%s' is not an attribute of runs",
					 o->key);
		if (run_column_nullable(o->attr))
			strbuf_addf(&q->order, "%s IS NULL, ", col);
		strbuf_addf(&q->order, "%s%s", col, dir);
		return 0;
	}
	if (o->entity == SEARCH_DATASET)
		return error_set(err, ERR_INVALID, "Invalid identifier type 'dataset'");
	if ((rc = alias_get(&a, q, o->entity, o->key, err)) < 0)
		return rc;
	al = &q->aliases[a - 1];
	if (o->entity == SEARCH_METRIC && !al->inner)
		strbuf_addf(&q->order,
			    "CASE WHEN a%zu.run_id IS NULL THEN 2 WHEN a%zu.is_nan THEN 1 ELSE 0 "
			    "END, ",
			    a, a);
	else if (o->entity == SEARCH_METRIC && !al->no_nan)
		strbuf_addf(&q->order, "a%zu.is_nan, ", a);
	else if (!al->inner)
		strbuf_addf(&q->order, "a%zu.value IS NULL, ", a);
	strbuf_addf(&q->order, "a%zu.value%s", a, dir);
	return 0;
}

/* One join per alias: on runs (r.run_id), or on experiments (their tags only). */
static void emit_joins(struct store_sql *q, bool experiments)
{
	for (size_t i = 0; i < q->nr_aliases; i++) {
		const struct store_sql_alias *al = &q->aliases[i];

		if (experiments)
			strbuf_addf(&q->joins,
				    " JOIN experiment_tags a%zu ON a%zu.experiment_id = "
				    "e.experiment_id AND a%zu.key = ?%zu",
				    i + 1, i + 1, i + 1, store_sql_bind_text(q, al->key));
		else
			strbuf_addf(&q->joins,
				    " %sJOIN %s a%zu ON a%zu.run_id = r.run_id AND a%zu.key = ?%zu",
				    al->inner ? "" : "LEFT ", entity_table(al->entity), i + 1,
				    i + 1, i + 1, store_sql_bind_text(q, al->key));
	}
}

static void view_cond(struct store_sql *q, const char *col, enum store_view view)
{
	if (!view)
		view = STORE_VIEW_ACTIVE;
	if (view == STORE_VIEW_ALL)
		return;
	store_sql_where_and(q);
	strbuf_addf(&q->where, "%s = '%s'", col, view == STORE_VIEW_DELETED ? "deleted" : "active");
}

/* Experiment ids were checked by store.c: decimal numbers. */
static void experiments_cond(struct store_sql *q, const struct store_run_search *s)
{
	if (!s->experiment_ids)
		return;
	store_sql_where_and(q);
	strbuf_addstr(&q->where, "r.experiment_id IN (");
	for (size_t i = 0; i < s->nr_experiment_ids; i++)
		strbuf_addf(&q->where, "%s?%zu", i ? ", " : "",
			    store_sql_bind_int(q, strtoll(s->experiment_ids[i], NULL, 10)));
	strbuf_addch(&q->where, ')');
}

static int build_run_search(struct store_sql *q, const struct store_run_search *s,
			    struct error *err)
{
	bool start_time = false;
	int rc;

	experiments_cond(q, s);
	view_cond(q, "r.lifecycle_stage", s->view);
	for (size_t i = 0; s->filter && i < s->filter->nr; i++)
		if ((rc = run_cond(q, &s->filter->items[i], err)) < 0)
			return rc;
	for (size_t i = 0; s->order && i < s->order->nr; i++) {
		const struct search_order *o = &s->order->items[i];

		start_time |= o->entity == SEARCH_ATTRIBUTE && o->attr == SEARCH_ATTR_START_TIME;
		if ((rc = run_order(q, o, err)) < 0)
			return rc;
	}
	if (!start_time)
		strbuf_addf(&q->order, "%sr.start_time DESC", q->order.len ? ", " : "");
	strbuf_addstr(&q->order, ", r.run_id");
	emit_joins(q, false);
	return 0;
}

/* Executing ----------------------------------------------------------------------------------- */

/*
 * Runs "<select><joins><where> ORDER BY <order> LIMIT ? OFFSET ?" and collects the first column
 * of each row as text into ids (up to limit rows).
 */
static int select_ids(struct store *st, char ***ids, size_t *nr, const char *select,
		      struct store_sql *q, int64_t limit, int64_t offset, const char *what,
		      struct error *err)
{
	sqlite3_stmt *stmt = NULL;
	size_t alloc = 0;
	int rc;

	if ((rc = store_sql_prepare(st, &stmt, select, q, limit, offset, what, err)) < 0)
		goto out;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(stmt, 0);

		ALLOC_GROW(*ids, *nr + 1, alloc);
		(*ids)[(*nr)++] = xstrdup(t ? (const char *)t : "");
	}
	rc = rc == SQLITE_DONE ? 0 : store_sqlite_error(st, err, "%s", what);
out:
	sqlite3_finalize(stmt);
	return rc;
}

static void free_ids(char **ids, size_t nr)
{
	for (size_t i = 0; i < nr; i++)
		free(ids[i]);
	free(ids);
}

int store_sqlite_run_search(struct store *st, struct store_runs *out, char **next_page_token,
			    const struct store_run_search *s, struct error *err)
{
	static const char what[] = "searching runs";
	struct store_runs list = STORE_RUNS_INIT;
	struct store_sql q;
	char **ids = NULL;
	size_t nr = 0, want = (size_t)s->max_results;
	bool began = false;
	int rc;

	store_sql_init(&q);
	if ((rc = build_run_search(&q, s, err)) < 0 ||
	    (rc = store_sqlite_read_begin(st, &began, what, err)) < 0)
		goto out;
	/* One row more than asked tells whether there is a next page. */
	rc = select_ids(st, &ids, &nr, "SELECT r.run_id FROM runs r", &q, s->max_results + 1,
			s->offset, what, err);
	if (rc < 0)
		goto out;
	ALLOC_GROW(list.items, nr < want ? nr : want, list.alloc);
	for (size_t i = 0; i < nr && i < want; i++) {
		memset(&list.items[i], 0, sizeof(list.items[i]));
		if ((rc = st->ops->run_get(st, &list.items[i], ids[i], err)) < 0)
			goto out;
		list.nr++;
	}
	*next_page_token = nr > want ? search_page_token_encode(s->offset + s->max_results) : NULL;
	*out = list;
	memset(&list, 0, sizeof(list));
out:
	store_sqlite_read_end(st, began);
	free_ids(ids, nr);
	store_runs_release(&list);
	store_sql_release(&q);
	return rc;
}

/* Experiments --------------------------------------------------------------------------------- */

static const char *experiment_column(enum search_attr attr)
{
	switch (attr) {
	case SEARCH_ATTR_EXPERIMENT_ID:
		return "e.experiment_id";
	case SEARCH_ATTR_EXPERIMENT_NAME:
		return "e.name";
	case SEARCH_ATTR_CREATION_TIME:
		return "e.creation_time";
	case SEARCH_ATTR_LAST_UPDATE_TIME:
		return "e.last_update_time";
	default:
		return NULL;
	}
}

static int experiment_cond(struct store_sql *q, const struct search_cond *c, struct error *err)
{
	const char *col;
	char tag[32];
	size_t a = 0;
	int rc;

	if (c->entity == SEARCH_TAG) {
		if ((rc = alias_get(&a, q, SEARCH_TAG, c->key, err)) < 0)
			return rc;
		q->aliases[a - 1].inner = true;
		snprintf(tag, sizeof(tag), "a%zu.value", a);
		store_sql_where_and(q);
		store_sql_string_cond(q, tag, c);
		return 0;
	}
	if (c->entity != SEARCH_ATTRIBUTE || !(col = experiment_column(c->attr)) ||
	    c->type == SEARCH_VALUE_LIST)
		return error_set(err, ERR_INVALID, "'%s' cannot be searched in experiments",
				 c->key);
	store_sql_where_and(q);
	if (c->type == SEARCH_VALUE_NUMBER)
		store_sql_number_cond(q, col, c);
	else
		store_sql_string_cond(q, col, c);
	return 0;
}

static int build_experiment_search(struct store_sql *q, const struct store_experiment_search *s,
				   struct error *err)
{
	bool id = false;
	int rc;

	view_cond(q, "e.lifecycle_stage", s->view);
	for (size_t i = 0; s->filter && i < s->filter->nr; i++)
		if ((rc = experiment_cond(q, &s->filter->items[i], err)) < 0)
			return rc;
	for (size_t i = 0; s->order && i < s->order->nr; i++) {
		const struct search_order *o = &s->order->items[i];
		const char *col = experiment_column(o->attr);

		if (o->entity != SEARCH_ATTRIBUTE || !col)
			return error_set(err, ERR_INVALID, "Invalid order_by entity: %s", o->key);
		id |= o->attr == SEARCH_ATTR_EXPERIMENT_ID;
		strbuf_addf(&q->order, "%s%s%s", q->order.len ? ", " : "", col,
			    o->ascending ? "" : " DESC");
	}
	/* MLflow's default, and its tie-breaker (descending) after an order of the caller's. */
	if (!s->order || !s->order->nr)
		strbuf_addstr(&q->order, "e.creation_time DESC, e.experiment_id");
	else if (!id)
		strbuf_addstr(&q->order, ", e.experiment_id DESC");
	emit_joins(q, true);
	return 0;
}

int store_sqlite_experiment_search(struct store *st, struct store_experiments *out,
				   char **next_page_token, const struct store_experiment_search *s,
				   struct error *err)
{
	static const char what[] = "searching experiments";
	struct store_experiments list = STORE_EXPERIMENTS_INIT;
	struct store_sql q;
	char **ids = NULL;
	size_t nr = 0, want = (size_t)s->max_results;
	bool began = false;
	int rc;

	store_sql_init(&q);
	if ((rc = build_experiment_search(&q, s, err)) < 0 ||
	    (rc = store_sqlite_read_begin(st, &began, what, err)) < 0)
		goto out;
	rc = select_ids(st, &ids, &nr, "SELECT e.experiment_id FROM experiments e", &q,
			s->max_results + 1, s->offset, what, err);
	if (rc < 0)
		goto out;
	ALLOC_GROW(list.items, nr < want ? nr : want, list.alloc);
	for (size_t i = 0; i < nr && i < want; i++) {
		memset(&list.items[i], 0, sizeof(list.items[i]));
		if ((rc = st->ops->experiment_get(st, &list.items[i], strtoll(ids[i], NULL, 10),
						  err)) < 0)
			goto out;
		list.nr++;
	}
	*next_page_token = nr > want ? search_page_token_encode(s->offset + s->max_results) : NULL;
	*out = list;
	memset(&list, 0, sizeof(list));
out:
	store_sqlite_read_end(st, began);
	free_ids(ids, nr);
	store_experiments_release(&list);
	store_sql_release(&q);
	return rc;
}
