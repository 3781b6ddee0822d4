/*
 * Statement helpers shared by the store_sqlite_*.c files: building search queries from the
 * search AST (store/search.h) with numbered, bound parameters only, so no user text is ever
 * part of the SQL (runs/experiments and registry searches), and small one-off statements.
 */
#include "util/common.h"
#include "store/store_sqlite_internal.h"

/* SQLite's default SQLITE_MAX_VARIABLE_NUMBER is 32766; stay clear of it. */
#define MAX_BINDS 30000

void store_sql_init(struct store_sql *q)
{
	memset(q, 0, sizeof(*q));
	strbuf_init(&q->joins, 0);
	strbuf_init(&q->where, 0);
	strbuf_init(&q->order, 0);
}

void store_sql_release(struct store_sql *q)
{
	strbuf_release(&q->joins);
	strbuf_release(&q->where);
	strbuf_release(&q->order);
	for (size_t i = 0; i < q->nr_binds; i++)
		free(q->binds[i].owned);
	free(q->binds);
}

static size_t bind_add(struct store_sql *q, enum store_sql_bind_type type, const char *text,
		       double d, int64_t i)
{
	struct store_sql_bind *b;

	ALLOC_GROW(q->binds, q->nr_binds + 1, q->alloc_binds);
	b = &q->binds[q->nr_binds++];
	memset(b, 0, sizeof(*b));
	b->type = type;
	b->text = text;
	b->d = d;
	b->i = i;
	return q->nr_binds;
}

size_t store_sql_bind_text(struct store_sql *q, const char *text)
{
	return bind_add(q, STORE_SQL_BIND_TEXT, text, 0, 0);
}

size_t store_sql_bind_owned(struct store_sql *q, char *text)
{
	size_t n = bind_add(q, STORE_SQL_BIND_TEXT, text, 0, 0);

	q->binds[n - 1].owned = text;
	return n;
}

size_t store_sql_bind_double(struct store_sql *q, double d)
{
	return bind_add(q, STORE_SQL_BIND_DOUBLE, NULL, d, 0);
}

size_t store_sql_bind_int(struct store_sql *q, int64_t i)
{
	return bind_add(q, STORE_SQL_BIND_INT, NULL, 0, i);
}

void store_sql_where_and(struct store_sql *q)
{
	strbuf_addstr(&q->where, q->where.len ? " AND " : " WHERE ");
}

static const char *const sql_ops[] = {
	[SEARCH_OP_EQ] = "=",  [SEARCH_OP_NE] = "!=", [SEARCH_OP_LT] = "<",
	[SEARCH_OP_LE] = "<=", [SEARCH_OP_GT] = ">",  [SEARCH_OP_GE] = ">=",
};

/*
 * LIKE is case-sensitive: SQLite's own LIKE folds ASCII case, so it becomes the equivalent
 * GLOB; ILIKE folds both sides, whatever PRAGMA case_sensitive_like says.
 */
void store_sql_string_cond(struct store_sql *q, const char *col, const struct search_cond *c)
{
	struct strbuf *w = &q->where;

	switch (c->op) {
	case SEARCH_OP_EQ:
	case SEARCH_OP_NE:
		strbuf_addf(w, "%s %s ?%zu", col, sql_ops[c->op], store_sql_bind_text(q, c->str));
		break;
	case SEARCH_OP_LIKE:
		strbuf_addf(w, "%s GLOB ?%zu", col,
			    store_sql_bind_owned(q, search_like_to_glob(c->str)));
		break;
	case SEARCH_OP_ILIKE:
		strbuf_addf(w, "lower(%s) LIKE lower(?%zu)", col, store_sql_bind_text(q, c->str));
		break;
	case SEARCH_OP_IN:
	case SEARCH_OP_NOT_IN:
		strbuf_addf(w, "%s %sIN (", col, c->op == SEARCH_OP_NOT_IN ? "NOT " : "");
		for (size_t i = 0; i < c->nr_list; i++)
			strbuf_addf(w, "%s?%zu", i ? ", " : "", store_sql_bind_text(q, c->list[i]));
		strbuf_addch(w, ')');
		break;
	default:
		BUG("string condition with operator %d", (int)c->op);
	}
}

void store_sql_number_cond(struct store_sql *q, const char *col, const struct search_cond *c)
{
	if (c->op > SEARCH_OP_GE || c->type != SEARCH_VALUE_NUMBER)
		BUG("numeric condition with operator %d", (int)c->op);
	strbuf_addf(&q->where, "%s %s ?%zu", col, sql_ops[c->op], store_sql_bind_double(q, c->num));
}

static int bind_all(sqlite3_stmt *stmt, const struct store_sql *q)
{
	for (size_t i = 0; i < q->nr_binds; i++) {
		const struct store_sql_bind *b = &q->binds[i];
		int n = (int)i + 1, rc;

		if (b->type == STORE_SQL_BIND_TEXT)
			rc = sqlite3_bind_text(stmt, n, b->text, -1, SQLITE_STATIC);
		else if (b->type == STORE_SQL_BIND_DOUBLE)
			rc = sqlite3_bind_double(stmt, n, b->d);
		else
			rc = sqlite3_bind_int64(stmt, n, b->i);
		if (rc != SQLITE_OK)
			return rc;
	}
	return SQLITE_OK;
}

int store_sql_prepare(struct store *st, sqlite3_stmt **out, const char *select, struct store_sql *q,
		      int64_t limit, int64_t offset, const char *what, struct error *err)
{
	struct strbuf sql = STRBUF_INIT;
	sqlite3_stmt *stmt = NULL;
	size_t lim, off;
	int rc;

	lim = store_sql_bind_int(q, limit);
	off = store_sql_bind_int(q, offset);
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
	*out = stmt;
	stmt = NULL;
	rc = 0;
out:
	sqlite3_finalize(stmt);
	strbuf_release(&sql);
	return rc;
}

int store_sqlite_read_begin(struct store *st, bool *began, const char *what, struct error *err)
{
	*began = false;
	if (!sqlite3_get_autocommit(store_sqlite_db(st)))
		return 0;
	if (sqlite3_exec(store_sqlite_db(st), "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		return store_sqlite_error(st, err, "%s: starting a transaction", what);
	*began = true;
	return 0;
}

void store_sqlite_read_end(struct store *st, bool began)
{
	if (began && !sqlite3_get_autocommit(store_sqlite_db(st)))
		sqlite3_exec(store_sqlite_db(st), "COMMIT", NULL, NULL, NULL);
}

int store_sqlite_prepare(struct store *st, sqlite3_stmt **out, const char *sql, const char *what,
			 struct error *err)
{
	if (sqlite3_prepare_v2(store_sqlite_db(st), sql, -1, out, NULL) != SQLITE_OK)
		return store_sqlite_error(st, err, "%s: preparing a statement", what);
	return 0;
}

void store_sqlite_bind_str(sqlite3_stmt *q, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(q, i, v, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(q, i);
}

char *store_sqlite_col_str(sqlite3_stmt *q, int i)
{
	const unsigned char *t = sqlite3_column_text(q, i);

	return t ? xstrdup((const char *)t) : NULL;
}

int store_sqlite_step_write(struct store *st, sqlite3_stmt *q, int *changes, const char *what,
			    struct error *err)
{
	if (sqlite3_step(q) != SQLITE_DONE)
		return store_sqlite_error(st, err, "%s", what);
	if (changes)
		*changes = sqlite3_changes(store_sqlite_db(st));
	return 0;
}

int store_sqlite_has_row(struct store *st, sqlite3_stmt *q, const char *what, struct error *err)
{
	int rc = sqlite3_step(q);

	if (rc == SQLITE_ROW)
		rc = 1;
	else if (rc == SQLITE_DONE)
		rc = 0;
	else
		rc = store_sqlite_error(st, err, "%s", what);
	sqlite3_finalize(q);
	return rc;
}

int store_sqlite_pairs_final(struct store *st, struct store_pairs *out, sqlite3_stmt *q,
			     const char *what, struct error *err)
{
	int rc = store_sqlite_read_pairs(out, q) ? store_sqlite_error(st, err, "%s", what) : 0;

	sqlite3_finalize(q);
	return rc;
}
