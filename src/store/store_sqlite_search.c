/*
 * runs/search and experiments/search on SQLite: the search AST (store/search.h) becomes one
 * SELECT of ids with numbered, bound parameters (no user text is ever part of the SQL), then the
 * rows are read through the backend's own getters inside the same read transaction.
 */
#include "util/common.h"
#include "store/search.h"
#include "store/store_sqlite_internal.h"

/* SQLite's default SQLITE_MAX_VARIABLE_NUMBER is 32766; stay clear of it. */
#define MAX_BINDS 30000
/* SQLite joins at most 64 tables; one is runs, the rest is ours. */
#define MAX_ALIASES 60

enum bind_type {
	BIND_TEXT,
	BIND_DOUBLE,
	BIND_INT,
};

struct bind {
	enum bind_type type;
	const char *text; /* borrowed from the query, or owned below */
	char *owned;
	double d;
	int64_t i;
};

/* A metric, param or tag joined once per key, as a1, a2, ... */
struct alias {
	enum search_entity entity;
	const char *key; /* borrowed */
	bool inner;	 /* a filter needs the key: an inner join, the value is never NULL */
	bool no_nan;	 /* a filter excludes NaN (metrics) */
};

struct sql {
	struct strbuf joins, where, order;
	struct bind *binds;
	size_t nr_binds, alloc_binds;
	struct alias aliases[MAX_ALIASES];
	size_t nr_aliases;
};

static void sql_init(struct sql *q)
{
	memset(q, 0, sizeof(*q));
	strbuf_init(&q->joins, 0);
	strbuf_init(&q->where, 0);
	strbuf_init(&q->order, 0);
}

static void sql_release(struct sql *q)
{
	strbuf_release(&q->joins);
	strbuf_release(&q->where);
	strbuf_release(&q->order);
	for (size_t i = 0; i < q->nr_binds; i++)
		free(q->binds[i].owned);
	free(q->binds);
}

/* Adds a parameter and returns its number for "?N". */
static size_t bind_add(struct sql *q, enum bind_type type, const char *text, double d, int64_t i)
{
	struct bind *b;

	ALLOC_GROW(q->binds, q->nr_binds + 1, q->alloc_binds);
	b = &q->binds[q->nr_binds++];
	memset(b, 0, sizeof(*b));
	b->type = type;
	b->text = text;
	b->d = d;
	b->i = i;
	return q->nr_binds;
}

static size_t bind_text(struct sql *q, const char *text)
{
	return bind_add(q, BIND_TEXT, text, 0, 0);
}

static size_t bind_owned(struct sql *q, char *text)
{
	size_t n = bind_add(q, BIND_TEXT, text, 0, 0);

	q->binds[n - 1].owned = text;
	return n;
}

static size_t bind_double(struct sql *q, double d)
{
	return bind_add(q, BIND_DOUBLE, NULL, d, 0);
}

static size_t bind_int(struct sql *q, int64_t i)
{
	return bind_add(q, BIND_INT, NULL, 0, i);
}

static void where_and(struct sql *q)
{
	strbuf_addstr(&q->where, q->where.len ? " AND " : " WHERE ");
}

/* Finds or adds the alias of (entity, key); its number is the index + 1. */
static int alias_get(size_t *out, struct sql *q, enum search_entity entity, const char *key,
		     struct error *err)
{
	for (size_t i = 0; i < q->nr_aliases; i++) {
		if (q->aliases[i].entity == entity && !strcmp(q->aliases[i].key, key)) {
			*out = i + 1;
			return 0;
		}
	}
	if (q->nr_aliases == MAX_ALIASES)
		return error_set(err, ERR_INVALID,
				 "search filter and order_by name more than %d metrics, params "
				 "and tags",
				 MAX_ALIASES);
	q->aliases[q->nr_aliases].entity = entity;
	q->aliases[q->nr_aliases].key = key;
	q->aliases[q->nr_aliases].inner = false;
	q->aliases[q->nr_aliases].no_nan = false;
	*out = ++q->nr_aliases;
	return 0;
}

static const char *const sql_ops[] = {
	[SEARCH_OP_EQ] = "=",  [SEARCH_OP_NE] = "!=", [SEARCH_OP_LT] = "<",
	[SEARCH_OP_LE] = "<=", [SEARCH_OP_GT] = ">",  [SEARCH_OP_GE] = ">=",
};

/*
 * Appends "<col> <op> <value>" for a string or list condition. LIKE is case-sensitive: SQLite's
 * own LIKE folds ASCII case, so it becomes the equivalent GLOB; ILIKE folds both sides, whatever
 * PRAGMA case_sensitive_like says.
 */
static void string_cond(struct sql *q, const char *col, const struct search_cond *c)
{
	struct strbuf *w = &q->where;

	switch (c->op) {
	case SEARCH_OP_EQ:
	case SEARCH_OP_NE:
		strbuf_addf(w, "%s %s ?%zu", col, sql_ops[c->op], bind_text(q, c->str));
		break;
	case SEARCH_OP_LIKE:
		strbuf_addf(w, "%s GLOB ?%zu", col, bind_owned(q, search_like_to_glob(c->str)));
		break;
	case SEARCH_OP_ILIKE:
		strbuf_addf(w, "lower(%s) LIKE lower(?%zu)", col, bind_text(q, c->str));
		break;
	case SEARCH_OP_IN:
	case SEARCH_OP_NOT_IN:
		strbuf_addf(w, "%s %sIN (", col, c->op == SEARCH_OP_NOT_IN ? "NOT " : "");
		for (size_t i = 0; i < c->nr_list; i++)
			strbuf_addf(w, "%s?%zu", i ? ", " : "", bind_text(q, c->list[i]));
		strbuf_addch(w, ')');
		break;
	default:
		BUG("string condition with operator %d", (int)c->op);
	}
}

static void number_cond(struct sql *q, const char *col, const struct search_cond *c)
{
	if (c->op > SEARCH_OP_GE || c->type != SEARCH_VALUE_NUMBER)
		BUG("numeric condition with operator %d", (int)c->op);
	strbuf_addf(&q->where, "%s %s ?%zu", col, sql_ops[c->op], bind_double(q, c->num));
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
static int keyed_cond(struct sql *q, const struct search_cond *c, struct error *err)
{
	char col[32];
	size_t a = 0;
	int rc;

	if ((rc = alias_get(&a, q, c->entity, c->key, err)) < 0)
		return rc;
	q->aliases[a - 1].inner = true;
	snprintf(col, sizeof(col), "a%zu.value", a);
	where_and(q);
	if (c->entity != SEARCH_METRIC) {
		string_cond(q, col, c);
		return 0;
	}
	/* NaN is stored as 0 with is_nan set; like IEEE NaN it only ever differs. */
	if (c->op == SEARCH_OP_NE) {
		strbuf_addf(&q->where, "(a%zu.is_nan OR ", a);
		number_cond(q, col, c);
		strbuf_addch(&q->where, ')');
		return 0;
	}
	q->aliases[a - 1].no_nan = true;
	strbuf_addf(&q->where, "a%zu.is_nan = 0 AND ", a);
	number_cond(q, col, c);
	return 0;
}

static void dataset_cond(struct sql *q, const struct search_cond *c)
{
	const char *col = c->attr == SEARCH_ATTR_DATASET_NAME	  ? "d.name"
			  : c->attr == SEARCH_ATTR_DATASET_DIGEST ? "d.digest"
								  : "i.context";

	where_and(q);
	strbuf_addstr(&q->where, "EXISTS (SELECT 1 FROM run_inputs i JOIN datasets d ON "
				 "d.dataset_id = i.dataset_id WHERE i.run_id = r.run_id AND ");
	string_cond(q, col, c);
	strbuf_addch(&q->where, ')');
}

static int run_cond(struct sql *q, const struct search_cond *c, struct error *err)
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
		where_and(q);
		if (c->type == SEARCH_VALUE_NUMBER)
			number_cond(q, col, c);
		else
			string_cond(q, col, c);
		return 0;
	}
	BUG("unknown search entity %d", (int)c->entity);
}

/* Runs without the key last, then NaN metrics, then the values, in either direction. */
static int run_order(struct sql *q, const struct search_order *o, struct error *err)
{
	const char *dir = o->ascending ? "" : " DESC";
	const struct alias *al;
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
static void emit_joins(struct sql *q, bool experiments)
{
	for (size_t i = 0; i < q->nr_aliases; i++) {
		const struct alias *al = &q->aliases[i];

		if (experiments)
			strbuf_addf(&q->joins,
				    " JOIN experiment_tags a%zu ON a%zu.experiment_id = "
				    "e.experiment_id AND a%zu.key = ?%zu",
				    i + 1, i + 1, i + 1, bind_text(q, al->key));
		else
			strbuf_addf(&q->joins,
				    " %sJOIN %s a%zu ON a%zu.run_id = r.run_id AND a%zu.key = ?%zu",
				    al->inner ? "" : "LEFT ", entity_table(al->entity), i + 1,
				    i + 1, i + 1, bind_text(q, al->key));
	}
}

static void view_cond(struct sql *q, const char *col, enum store_view view)
{
	if (!view)
		view = STORE_VIEW_ACTIVE;
	if (view == STORE_VIEW_ALL)
		return;
	where_and(q);
	strbuf_addf(&q->where, "%s = '%s'", col, view == STORE_VIEW_DELETED ? "deleted" : "active");
}

/* Experiment ids were checked by store.c: decimal numbers. */
static void experiments_cond(struct sql *q, const struct store_run_search *s)
{
	if (!s->experiment_ids)
		return;
	where_and(q);
	strbuf_addstr(&q->where, "r.experiment_id IN (");
	for (size_t i = 0; i < s->nr_experiment_ids; i++)
		strbuf_addf(&q->where, "%s?%zu", i ? ", " : "",
			    bind_int(q, strtoll(s->experiment_ids[i], NULL, 10)));
	strbuf_addch(&q->where, ')');
}

static int build_run_search(struct sql *q, const struct store_run_search *s, struct error *err)
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

static int bind_all(sqlite3_stmt *stmt, const struct sql *q)
{
	for (size_t i = 0; i < q->nr_binds; i++) {
		const struct bind *b = &q->binds[i];
		int n = (int)i + 1, rc;

		if (b->type == BIND_TEXT)
			rc = sqlite3_bind_text(stmt, n, b->text, -1, SQLITE_STATIC);
		else if (b->type == BIND_DOUBLE)
			rc = sqlite3_bind_double(stmt, n, b->d);
		else
			rc = sqlite3_bind_int64(stmt, n, b->i);
		if (rc != SQLITE_OK)
			return rc;
	}
	return SQLITE_OK;
}

/*
 * Runs "<select><joins><where> ORDER BY <order> LIMIT ? OFFSET ?" and collects the first column
 * of each row as text into ids (up to limit rows).
 */
static int select_ids(struct store *st, char ***ids, size_t *nr, const char *select, struct sql *q,
		      int64_t limit, int64_t offset, const char *what, struct error *err)
{
	struct strbuf sql = STRBUF_INIT;
	sqlite3_stmt *stmt = NULL;
	size_t alloc = 0, lim, off;
	int rc;

	lim = bind_int(q, limit);
	off = bind_int(q, offset);
	if (q->nr_binds > MAX_BINDS) {
		rc = error_set(err, ERR_INVALID,
			       "%s: the filter has too many values (%zu, at most %d)", what,
			       q->nr_binds, MAX_BINDS);
		goto out;
	}
	strbuf_addf(&sql, "%s%s%s ORDER BY %s LIMIT ?%zu OFFSET ?%zu", select, q->joins.buf,
		    q->where.buf, q->order.buf, lim, off);
	if (sqlite3_prepare_v2(store_sqlite_db(st), sql.buf, (int)sql.len, &stmt, NULL) !=
		SQLITE_OK ||
	    bind_all(stmt, q) != SQLITE_OK) {
		rc = store_sqlite_error(st, err, "%s", what);
		goto out;
	}
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(stmt, 0);

		ALLOC_GROW(*ids, *nr + 1, alloc);
		(*ids)[(*nr)++] = xstrdup(t ? (const char *)t : "");
	}
	rc = rc == SQLITE_DONE ? 0 : store_sqlite_error(st, err, "%s", what);
out:
	sqlite3_finalize(stmt);
	strbuf_release(&sql);
	return rc;
}

static void free_ids(char **ids, size_t nr)
{
	for (size_t i = 0; i < nr; i++)
		free(ids[i]);
	free(ids);
}

/*
 * A read transaction, so that the ids and the rows read after them come from one snapshot.
 * *began is false if the caller already had a transaction open.
 */
static int read_begin(struct store *st, bool *began, const char *what, struct error *err)
{
	*began = false;
	if (!sqlite3_get_autocommit(store_sqlite_db(st)))
		return 0;
	if (sqlite3_exec(store_sqlite_db(st), "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		return store_sqlite_error(st, err, "%s: starting a transaction", what);
	*began = true;
	return 0;
}

static void read_end(struct store *st, bool began)
{
	if (began && !sqlite3_get_autocommit(store_sqlite_db(st)))
		sqlite3_exec(store_sqlite_db(st), "COMMIT", NULL, NULL, NULL);
}

int store_sqlite_run_search(struct store *st, struct store_runs *out, char **next_page_token,
			    const struct store_run_search *s, struct error *err)
{
	static const char what[] = "searching runs";
	struct store_runs list = STORE_RUNS_INIT;
	struct sql q;
	char **ids = NULL;
	size_t nr = 0, want = (size_t)s->max_results;
	bool began = false;
	int rc;

	sql_init(&q);
	if ((rc = build_run_search(&q, s, err)) < 0 || (rc = read_begin(st, &began, what, err)) < 0)
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
	read_end(st, began);
	free_ids(ids, nr);
	store_runs_release(&list);
	sql_release(&q);
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

static int experiment_cond(struct sql *q, const struct search_cond *c, struct error *err)
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
		where_and(q);
		string_cond(q, tag, c);
		return 0;
	}
	if (c->entity != SEARCH_ATTRIBUTE || !(col = experiment_column(c->attr)) ||
	    c->type == SEARCH_VALUE_LIST)
		return error_set(err, ERR_INVALID, "'%s' cannot be searched in experiments",
				 c->key);
	where_and(q);
	if (c->type == SEARCH_VALUE_NUMBER)
		number_cond(q, col, c);
	else
		string_cond(q, col, c);
	return 0;
}

static int build_experiment_search(struct sql *q, const struct store_experiment_search *s,
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
	struct sql q;
	char **ids = NULL;
	size_t nr = 0, want = (size_t)s->max_results;
	bool began = false;
	int rc;

	sql_init(&q);
	if ((rc = build_experiment_search(&q, s, err)) < 0 ||
	    (rc = read_begin(st, &began, what, err)) < 0)
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
	read_end(st, began);
	free_ids(ids, nr);
	store_experiments_release(&list);
	sql_release(&q);
	return rc;
}
