/*
 * MLflow's search filter and order_by strings parsed into store/search.h's AST, with the checks
 * and messages of SearchUtils / SearchExperimentsUtils / SearchModelUtils /
 * SearchModelVersionUtils (mlflow/utils/search_utils.py, 2.10) and of the registry's SQL store.
 */
#include "util/common.h"
#include "track/filter.h"
#include "util/strbuf.h"

#include <ctype.h>
#include <math.h>

enum filter_kind {
	KIND_RUNS,
	KIND_EXPERIMENTS,
	KIND_MODELS,
	KIND_MODEL_VERSIONS,
};

/* The sets MLflow prints in its messages (Python set reprs; their order is MLflow's hash order). */
#define ENTITY_TYPES "['metric', 'parameter', 'tag', 'attribute', 'dataset']"
#define EXPERIMENT_ENTITY_TYPES "('attribute', 'tag', 'tags')"
#define RUN_ATTRIBUTE_KEYS                                                                         \
	"{'artifact_uri', 'created', 'Created', 'end_time', 'run_id', 'run_name', 'run name', "    \
	"'Run name', 'Run Name', 'start_time', 'status', 'user_id'}"
#define DATASET_KEYS "{'name', 'digest', 'context'}"
#define EXPERIMENT_FILTER_KEYS "{'name', 'creation_time', 'last_update_time'}"
#define EXPERIMENT_ORDER_KEYS "{'name', 'experiment_id', 'creation_time', 'last_update_time'}"
#define NUMERIC_OPS "{'>', '<', '<=', '=', '>=', '!='}"
#define STRING_OPS "{'!=', '=', 'LIKE', 'ILIKE'}"
#define LIST_OPS "{'!=', '=', 'LIKE', 'ILIKE', 'IN', 'NOT IN'}"
#define REGISTRY_ENTITY_TYPES EXPERIMENT_ENTITY_TYPES
#define MODEL_FILTER_KEYS "{'name'}"
#define VERSION_FILTER_KEYS "{'name', 'version_number', 'run_id', 'source_path'}"
#define VERSION_NUMERIC_KEYS "{'version_number', 'creation_timestamp', 'last_updated_timestamp'}"
#define MODEL_ORDER_KEYS "{'name', 'timestamp'}"
#define VERSION_ORDER_KEYS                                                                         \
	"{'name', 'version_number', 'creation_timestamp', 'last_updated_timestamp'}"

/* Names ---------------------------------------------------------------------------------------- */

struct entity_name {
	const char *name;
	enum search_entity entity;
};

static const struct entity_name entity_names[] = {
	{ "metric", SEARCH_METRIC },
	{ "metrics", SEARCH_METRIC },
	{ "parameter", SEARCH_PARAM },
	{ "parameters", SEARCH_PARAM },
	{ "param", SEARCH_PARAM },
	{ "params", SEARCH_PARAM },
	{ "tag", SEARCH_TAG },
	{ "tags", SEARCH_TAG },
	{ "attribute", SEARCH_ATTRIBUTE },
	{ "attributes", SEARCH_ATTRIBUTE },
	{ "attr", SEARCH_ATTRIBUTE },
	{ "run", SEARCH_ATTRIBUTE },
	{ "dataset", SEARCH_DATASET },
	{ "datasets", SEARCH_DATASET },
};

enum attr_flags {
	A_NUMERIC = 1 << 0,
	A_FILTER = 1 << 1, /* may appear in a filter */
	A_ORDER = 1 << 2,  /* may appear in order_by */
};

struct attr_name {
	const char *name; /* as written */
	enum search_attr attr;
	const char *canonical;
	unsigned flags;
};

/* RunInfo's searchable attributes plus MLflow's aliases (translate_key_alias). */
static const struct attr_name run_attrs[] = {
	{ "run_id", SEARCH_ATTR_RUN_ID, "run_id", A_FILTER | A_ORDER },
	{ "run_name", SEARCH_ATTR_RUN_NAME, "run_name", A_FILTER | A_ORDER },
	{ "run name", SEARCH_ATTR_RUN_NAME, "run_name", A_FILTER | A_ORDER },
	{ "Run name", SEARCH_ATTR_RUN_NAME, "run_name", A_FILTER | A_ORDER },
	{ "Run Name", SEARCH_ATTR_RUN_NAME, "run_name", A_FILTER | A_ORDER },
	{ "status", SEARCH_ATTR_STATUS, "status", A_FILTER | A_ORDER },
	{ "user_id", SEARCH_ATTR_USER_ID, "user_id", A_FILTER | A_ORDER },
	{ "artifact_uri", SEARCH_ATTR_ARTIFACT_URI, "artifact_uri", A_FILTER | A_ORDER },
	{ "start_time", SEARCH_ATTR_START_TIME, "start_time", A_NUMERIC | A_FILTER | A_ORDER },
	{ "created", SEARCH_ATTR_START_TIME, "start_time", A_NUMERIC | A_FILTER | A_ORDER },
	{ "Created", SEARCH_ATTR_START_TIME, "start_time", A_NUMERIC | A_FILTER | A_ORDER },
	{ "end_time", SEARCH_ATTR_END_TIME, "end_time", A_NUMERIC | A_FILTER | A_ORDER },
};

static const struct attr_name dataset_attrs[] = {
	{ "name", SEARCH_ATTR_DATASET_NAME, "name", A_FILTER },
	{ "digest", SEARCH_ATTR_DATASET_DIGEST, "digest", A_FILTER },
	{ "context", SEARCH_ATTR_DATASET_CONTEXT, "context", A_FILTER },
};

static const struct attr_name experiment_attrs[] = {
	{ "name", SEARCH_ATTR_EXPERIMENT_NAME, "name", A_FILTER | A_ORDER },
	{ "creation_time", SEARCH_ATTR_CREATION_TIME, "creation_time",
	  A_NUMERIC | A_FILTER | A_ORDER },
	{ "last_update_time", SEARCH_ATTR_LAST_UPDATE_TIME, "last_update_time",
	  A_NUMERIC | A_FILTER | A_ORDER },
	{ "experiment_id", SEARCH_ATTR_EXPERIMENT_ID, "experiment_id", A_ORDER },
};

/* registered-models/search filters on the name only; its SQL store orders by name or time. */
static const struct attr_name model_attrs[] = {
	{ "name", SEARCH_ATTR_MODEL_NAME, "name", A_FILTER | A_ORDER },
	/* "timestamp" is last_updated_timestamp to MLflow's SQL store (VALID_TIMESTAMP_ORDER_BY_KEYS) */
	{ "timestamp", SEARCH_ATTR_LAST_UPDATE_TIME, "last_updated_timestamp", A_ORDER },
	{ "last_updated_timestamp", SEARCH_ATTR_LAST_UPDATE_TIME, "last_updated_timestamp",
	  A_ORDER },
};

static const struct attr_name version_attrs[] = {
	{ "name", SEARCH_ATTR_MODEL_NAME, "name", A_FILTER | A_ORDER },
	{ "version_number", SEARCH_ATTR_VERSION_NUMBER, "version_number",
	  A_NUMERIC | A_FILTER | A_ORDER },
	{ "run_id", SEARCH_ATTR_RUN_ID, "run_id", A_FILTER },
	{ "source_path", SEARCH_ATTR_SOURCE_PATH, "source_path", A_FILTER },
	{ "creation_timestamp", SEARCH_ATTR_CREATION_TIME, "creation_timestamp",
	  A_NUMERIC | A_ORDER },
	{ "last_updated_timestamp", SEARCH_ATTR_LAST_UPDATE_TIME, "last_updated_timestamp",
	  A_NUMERIC | A_ORDER },
};

static const struct attr_name *find_attr(const struct attr_name *table, size_t n, const char *name,
					 unsigned need)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(table[i].name, name) && (table[i].flags & need))
			return &table[i];
	return NULL;
}

static const char *const op_names[] = {
	[SEARCH_OP_EQ] = "=",	       [SEARCH_OP_NE] = "!=",	    [SEARCH_OP_LT] = "<",
	[SEARCH_OP_LE] = "<=",	       [SEARCH_OP_GT] = ">",	    [SEARCH_OP_GE] = ">=",
	[SEARCH_OP_LIKE] = "LIKE",     [SEARCH_OP_ILIKE] = "ILIKE", [SEARCH_OP_IN] = "IN",
	[SEARCH_OP_NOT_IN] = "NOT IN",
};

/* Comparators are matched in upper case, as MLflow does (`like` is LIKE). */
static int find_op(enum search_op *out, const char *text)
{
	char up[16];
	size_t n = strlen(text);

	if (n >= sizeof(up))
		return -1;
	for (size_t i = 0; i <= n; i++)
		up[i] = (char)toupper((unsigned char)text[i]);
	for (size_t i = 0; i < ARRAY_SIZE(op_names); i++) {
		if (!strcmp(op_names[i], up)) {
			*out = (enum search_op)i;
			return 0;
		}
	}
	return -1;
}

static bool op_numeric(enum search_op op)
{
	return op <= SEARCH_OP_GE;
}

static bool op_string(enum search_op op)
{
	return op == SEARCH_OP_EQ || op == SEARCH_OP_NE || op == SEARCH_OP_LIKE ||
	       op == SEARCH_OP_ILIKE;
}

static bool op_list(enum search_op op)
{
	return op == SEARCH_OP_IN || op == SEARCH_OP_NOT_IN;
}

/* Lexing -------------------------------------------------------------------------------------- */

/* sqlparse's name characters: \w, plus '$'; non-ASCII bytes count as letters. */
static bool is_word(int c)
{
	return isalnum(c) || c == '_' || c == '$' || c >= 0x80;
}

static const char *skip_ws(const char *p)
{
	while (isspace((unsigned char)*p))
		p++;
	return p;
}

/* True if the word at p is kw (any case) and ends there. */
static bool keyword_at(const char *p, const char *kw)
{
	size_t n = strlen(kw);

	return !strncasecmp(p, kw, n) && !is_word((unsigned char)p[n]) && p[n] != '.';
}

/*
 * Scans a quoted string starting at *p (the quote q). A doubled quote stands for one; a
 * backslash keeps itself and the character after it (sqlparse does not end the string there,
 * and MLflow passes both on). Returns the end (past the closing quote) or NULL if unterminated;
 * *out (may be NULL) gets the contents.
 */
static const char *scan_quoted(const char *p, char q, char **out)
{
	struct strbuf sb = STRBUF_INIT;

	for (p++;; p++) {
		if (!*p) {
			strbuf_release(&sb);
			return NULL;
		}
		if (*p == '\\' && p[1]) {
			strbuf_addch(&sb, *p++);
		} else if (*p == q) {
			if (p[1] != q)
				break;
			p++;
		}
		strbuf_addch(&sb, *p);
	}
	if (out)
		*out = strbuf_detach(&sb, NULL);
	else
		strbuf_release(&sb);
	return p + 1;
}

/*
 * An identifier: words, dots and "..." or `...` parts, without spaces. Returns its end, or p if
 * there is none, or NULL if a quote is unterminated.
 */
static const char *scan_ident(const char *p)
{
	while (*p) {
		if (*p == '"' || *p == '`') {
			if (!(p = scan_quoted(p, *p, NULL)))
				return NULL;
		} else if (is_word((unsigned char)*p) || *p == '.') {
			p++;
		} else {
			break;
		}
	}
	return p;
}

/* The end of a parenthesised group at p, nested groups and quotes included; NULL if open. */
static const char *scan_parens(const char *p)
{
	int depth = 0;

	while (*p) {
		if (*p == '\'' || *p == '"' || *p == '`') {
			if (!(p = scan_quoted(p, *p, NULL)))
				return NULL;
			continue;
		}
		if (*p == '(')
			depth++;
		else if (*p == ')' && --depth == 0)
			return p + 1;
		p++;
	}
	return NULL;
}

/*
 * sqlparse's numbers: -?\d+(\.\d+)?E-?\d+, -?(\d+\.\d*|\.\d+), -?\d+, not followed by a letter
 * or '_'. Returns the end, or NULL.
 */
static const char *scan_number(const char *p)
{
	const char *s = p, *digits;

	if (*s == '-')
		s++;
	digits = s;
	while (isdigit((unsigned char)*s))
		s++;
	if (*s == '.') {
		const char *frac = ++s;

		while (isdigit((unsigned char)*s))
			s++;
		if (s == frac && frac - 1 == digits)
			return NULL; /* "." alone */
		if ((*s == 'e' || *s == 'E') && s > frac && frac - 1 > digits) {
			const char *e = s + 1;

			if (*e == '-')
				e++;
			if (isdigit((unsigned char)*e)) {
				while (isdigit((unsigned char)*e))
					e++;
				s = e;
			}
		}
	} else if (s == digits) {
		return NULL;
	} else if (*s == 'e' || *s == 'E') {
		const char *e = s + 1;

		if (*e == '-')
			e++;
		if (isdigit((unsigned char)*e)) {
			while (isdigit((unsigned char)*e))
				e++;
			s = e;
		}
	}
	if (is_word((unsigned char)*s) || *s == '.')
		return NULL;
	return s;
}

/* Comparators: a run of < > = !, or LIKE, ILIKE, IN, NOT <word>. Returns the end or NULL. */
static const char *scan_op(const char *p, struct strbuf *op)
{
	const char *s = p;

	strbuf_reset(op);
	if (*s && strchr("<>=!", *s)) {
		while (*s && strchr("<>=!", *s))
			s++;
		strbuf_add(op, p, (size_t)(s - p));
		return s;
	}
	if (keyword_at(s, "LIKE") || keyword_at(s, "ILIKE") || keyword_at(s, "IN")) {
		while (is_word((unsigned char)*s))
			s++;
		strbuf_add(op, p, (size_t)(s - p));
		return s;
	}
	if (keyword_at(s, "NOT")) {
		const char *w = skip_ws(s + 3), *e = w;

		while (isalpha((unsigned char)*e))
			e++;
		if (e == w)
			return NULL;
		strbuf_add(op, s, 3);
		strbuf_addch(op, ' ');
		strbuf_add(op, w, (size_t)(e - w));
		return e;
	}
	return NULL;
}

/* A comparison as written, before validation. */
enum raw_type {
	RAW_NUMBER,
	RAW_STRING,  /* '...' */
	RAW_DSTRING, /* "...": an identifier to sqlparse, taken as a string by MLflow */
	RAW_LIST,
	RAW_WORD, /* unquoted: MLflow refuses it as a string */
};

struct raw_cond {
	char *ident; /* as written */
	char *op;    /* as written */
	enum raw_type type;
	char *text; /* the value as written */
	char *str;  /* the string, unquoted */
	char **list;
	size_t nr_list;
	bool bad_list; /* the list holds something other than quoted strings */
};

static void raw_cond_release(struct raw_cond *r)
{
	free(r->ident);
	free(r->op);
	free(r->text);
	free(r->str);
	for (size_t i = 0; i < r->nr_list; i++)
		free(r->list[i]);
	free(r->list);
	memset(r, 0, sizeof(*r));
}

/* A list value "('a', 'b')" between p and end; bad_list on anything but strings and commas. */
static void parse_list(struct raw_cond *r, const char *p, const char *end)
{
	size_t alloc = 0;

	p = skip_ws(p + 1);
	while (p < end - 1) {
		char *s = NULL;
		const char *q;

		if (*p != '\'' || !(q = scan_quoted(p, '\'', &s)) || q > end - 1) {
			free(s);
			r->bad_list = true;
			return;
		}
		ALLOC_GROW(r->list, r->nr_list + 1, alloc);
		r->list[r->nr_list++] = s;
		p = skip_ws(q);
		if (*p == ',' && r->nr_list) {
			p = skip_ws(p + 1);
			if (p >= end - 1)
				r->bad_list = true;
		} else if (p < end - 1) {
			r->bad_list = true;
			return;
		}
	}
}

/* The value at p; returns its end or NULL if there is none. */
static const char *scan_value(struct raw_cond *r, const char *p)
{
	const char *e;

	if (*p == '\'' || *p == '"') {
		if (!(e = scan_quoted(p, *p, &r->str)))
			return NULL;
		r->type = *p == '\'' ? RAW_STRING : RAW_DSTRING;
	} else if (*p == '(') {
		if (!(e = scan_parens(p)))
			return NULL;
		r->type = RAW_LIST;
		parse_list(r, p, e);
	} else if ((e = scan_number(p))) {
		r->type = RAW_NUMBER;
	} else if (is_word((unsigned char)*p) || *p == '.') {
		for (e = p; is_word((unsigned char)*e) || *e == '.';)
			e++;
		r->type = RAW_WORD;
	} else {
		return NULL;
	}
	r->text = xstrndup(p, (size_t)(e - p));
	return e;
}

/* Words that start no comparison: sqlparse's keywords standing alone (OR, NOT, ...). */
static bool is_stray_keyword(const char *p, const char *end)
{
	static const char *const words[] = { "OR",   "NOT",   "XOR",	 "IS",	 "NULL", "IN",
					     "LIKE", "ILIKE", "BETWEEN", "TRUE", "FALSE" };
	size_t n = (size_t)(end - p);

	for (size_t i = 0; i < ARRAY_SIZE(words); i++)
		if (strlen(words[i]) == n && !strncasecmp(p, words[i], n))
			return true;
	return false;
}

/* Appends "'text'" to the list of invalid clauses. */
static void add_invalid(struct strbuf *bad, const char *p, const char *end)
{
	while (end > p && isspace((unsigned char)end[-1]))
		end--;
	if (bad->len)
		strbuf_addstr(bad, ", ");
	strbuf_addf(bad, "'%.*s'", (int)(end - p), p);
}

/* Where an unparseable clause ends: at the next AND outside quotes, or the end. */
static const char *clause_end(const char *p)
{
	while (*p) {
		if (*p == '\'' || *p == '"' || *p == '`') {
			const char *q = scan_quoted(p, *p, NULL);

			if (!q)
				return p + strlen(p);
			p = q;
			continue;
		}
		if ((p[-1] == ' ' || p[-1] == '\t' || p[-1] == '\n') && keyword_at(p, "AND"))
			return p;
		p++;
	}
	return p;
}

/*
 * Scans one comparison at p into r. Returns the end; on a syntax error, appends the clause to bad
 * and returns where scanning resumes.
 */
static const char *scan_comparison(struct raw_cond *r, const char *p, struct strbuf *bad)
{
	struct strbuf op = STRBUF_INIT;
	const char *start = p, *e, *v;

	if (*p == '(') {
		e = scan_parens(p);
		e = e ? e : p + strlen(p);
		add_invalid(bad, p, e);
		return e;
	}
	e = scan_ident(p);
	if (e && e > p && is_stray_keyword(p, e)) {
		add_invalid(bad, p, e);
		return e;
	}
	if (!e || e == p)
		goto invalid;
	v = scan_op(skip_ws(e), &op);
	if (!v)
		goto invalid;
	r->ident = xstrndup(p, (size_t)(e - p));
	r->op = strbuf_detach(&op, NULL);
	v = scan_value(r, skip_ws(v));
	if (!v)
		goto invalid;
	return v;
invalid:
	strbuf_release(&op);
	raw_cond_release(r);
	e = clause_end(start + 1);
	add_invalid(bad, start, e);
	return e;
}

/* Validation ----------------------------------------------------------------------------------- */

/* Splits an identifier at its first '.' outside quotes; *key is NULL without one. */
static void split_ident(const char *ident, char **entity, char **key)
{
	const char *p = ident;

	*entity = NULL;
	*key = NULL;
	while (*p) {
		if (*p == '"' || *p == '`') {
			const char *q = scan_quoted(p, *p, NULL);

			p = q ? q : p + strlen(p);
			continue;
		}
		if (*p == '.') {
			*entity = xstrndup(ident, (size_t)(p - ident));
			*key = xstrdup(p + 1);
			return;
		}
		p++;
	}
	*key = xstrdup(ident);
}

/* MLflow's _strip_quotes then _trim_backticks, in place. */
static void unquote_key(char *key)
{
	size_t n = strlen(key);

	if (n >= 2 && (key[0] == '"' || key[0] == '\'') && key[n - 1] == key[0]) {
		memmove(key, key + 1, n - 2);
		key[n -= 2] = '\0';
	}
	if (n >= 2 && key[0] == '`' && key[n - 1] == '`') {
		memmove(key, key + 1, n - 2);
		key[n - 2] = '\0';
	}
}

static int find_entity(enum search_entity *out, char *name, struct error *err)
{
	unquote_key(name); /* `metrics`.a */
	for (size_t i = 0; i < ARRAY_SIZE(entity_names); i++) {
		if (!strcmp(entity_names[i].name, name)) {
			*out = entity_names[i].entity;
			return 0;
		}
	}
	return error_set(err, ERR_INVALID, "Invalid entity type '%s'. Valid values are %s", name,
			 ENTITY_TYPES);
}

/*
 * Resolves (entity, key) for runs: entity as written (NULL for a bare attribute), key unquoted.
 * need is A_FILTER or A_ORDER.
 */
static int run_ident(struct search_cond *c, char *entity, const char *key, unsigned need,
		     struct error *err)
{
	const struct attr_name *a;
	int rc;

	c->entity = SEARCH_ATTRIBUTE;
	if (entity && (rc = find_entity(&c->entity, entity, err)) < 0)
		return rc;
	if (c->entity == SEARCH_ATTRIBUTE) {
		if (!(a = find_attr(run_attrs, ARRAY_SIZE(run_attrs), key, need)))
			return error_set(
			    err, ERR_INVALID,
			    "Invalid attribute key '%s' specified. Valid keys are '%s'", key,
			    RUN_ATTRIBUTE_KEYS);
	} else if (c->entity == SEARCH_DATASET) {
		if (!(a = find_attr(dataset_attrs, ARRAY_SIZE(dataset_attrs), key, A_FILTER)))
			return error_set(err, ERR_INVALID,
					 "Invalid dataset key '%s' specified. Valid keys are '%s'",
					 key, DATASET_KEYS);
	} else {
		c->attr = SEARCH_ATTR_NONE;
		c->key = xstrdup(key);
		return 0;
	}
	c->attr = a->attr;
	c->key = xstrdup(a->canonical);
	return 0;
}

/* Resolves (entity, key) for experiments: attributes (bare or "attribute.") and tags. */
static int experiment_ident(struct search_cond *c, const char *entity, const char *key,
			    unsigned need, const char *valid_keys, struct error *err)
{
	const struct attr_name *a;

	c->entity = SEARCH_ATTRIBUTE;
	if (entity) {
		if (strcmp(entity, "attribute") && strcmp(entity, "tag") && strcmp(entity, "tags"))
			return error_set(err, ERR_INVALID,
					 "Invalid entity type '%s'. Valid entity types are %s",
					 entity, EXPERIMENT_ENTITY_TYPES);
		if (strcmp(entity, "attribute"))
			c->entity = SEARCH_TAG;
	}
	if (c->entity == SEARCH_TAG) {
		c->key = xstrdup(key);
		return 0;
	}
	if (!(a = find_attr(experiment_attrs, ARRAY_SIZE(experiment_attrs), key, need)))
		return error_set(err, ERR_INVALID,
				 "Invalid attribute key '%s' specified. Valid keys are '%s'", key,
				 valid_keys);
	c->attr = a->attr;
	c->key = xstrdup(a->canonical);
	return 0;
}

static bool attr_numeric(enum search_attr attr)
{
	return attr == SEARCH_ATTR_START_TIME || attr == SEARCH_ATTR_END_TIME ||
	       attr == SEARCH_ATTR_CREATION_TIME || attr == SEARCH_ATTR_LAST_UPDATE_TIME;
}

/* Takes r's value into c as a number. */
static void take_number(struct search_cond *c, const struct raw_cond *r)
{
	c->type = SEARCH_VALUE_NUMBER;
	c->num = strtod(r->text, NULL); /* overflow gives ±inf, as Python's float() */
}

static int take_string(struct search_cond *c, struct raw_cond *r, struct error *err)
{
	if (r->type == RAW_WORD)
		return error_set(err, ERR_INVALID,
				 "Parameter value is either not quoted or unidentified quote types "
				 "used for string value %s. Use either single or double quotes.",
				 r->text);
	c->type = SEARCH_VALUE_STRING;
	c->str = r->str;
	r->str = NULL;
	return 0;
}

/* Takes a list, keeping what can be a run id when lower_only (MLflow drops upper-case ids). */
static int take_list(struct search_cond *c, struct raw_cond *r, bool lower_only, struct error *err)
{
	if (!r->nr_list && !r->bad_list)
		return error_set(err, ERR_INVALID,
				 "While parsing a list in the query, expected a non-empty list of "
				 "string values, but got empty list");
	if (r->bad_list)
		return error_set(err, ERR_INVALID,
				 "While parsing a list in the query, expected string value, "
				 "punctuation, or whitespace, but got different type in list: %s",
				 r->text);
	c->type = SEARCH_VALUE_LIST;
	c->list = xcalloc(r->nr_list, sizeof(*c->list));
	for (size_t i = 0; i < r->nr_list; i++) {
		bool upper = false;

		for (const char *s = r->list[i]; lower_only && *s; s++)
			upper |= isupper((unsigned char)*s) != 0;
		if (upper)
			continue;
		c->list[c->nr_list++] = r->list[i];
		r->list[i] = NULL;
	}
	return 0;
}

/* MLflow's _get_value for runs: the value's type must suit the entity. */
static int run_value(struct search_cond *c, struct raw_cond *r, struct error *err)
{
	switch (c->entity) {
	case SEARCH_METRIC:
		if (r->type != RAW_NUMBER)
			return error_set(err, ERR_INVALID,
					 "Expected numeric value type for metric. Found %s",
					 r->text);
		take_number(c, r);
		return 0;
	case SEARCH_PARAM:
	case SEARCH_TAG:
		if (r->type == RAW_NUMBER || r->type == RAW_LIST)
			return error_set(err, ERR_INVALID,
					 "Expected a quoted string value for %s (e.g. 'my-value'). "
					 "Got value %s",
					 c->entity == SEARCH_PARAM ? "parameter" : "tag", r->text);
		return take_string(c, r, err);
	case SEARCH_ATTRIBUTE:
		if (attr_numeric(c->attr)) {
			if (r->type != RAW_NUMBER)
				return error_set(err, ERR_INVALID,
						 "Expected numeric value type for numeric "
						 "attribute: %s. Found %s",
						 c->key, r->text);
			take_number(c, r);
			return 0;
		}
		if (r->type == RAW_LIST) {
			if (c->attr != SEARCH_ATTR_RUN_ID)
				return error_set(err, ERR_INVALID,
						 "Only the 'run_id' attribute supports comparison "
						 "with a list of quoted string values.");
			return take_list(c, r, true, err);
		}
		if (r->type == RAW_NUMBER)
			return error_set(err, ERR_INVALID,
					 "Expected a quoted string value for attributes. Got value "
					 "%s",
					 r->text);
		return take_string(c, r, err);
	case SEARCH_DATASET:
		if (r->type == RAW_LIST)
			return take_list(c, r, false, err);
		if (r->type == RAW_NUMBER)
			return error_set(err, ERR_INVALID,
					 "Expected a quoted string value for dataset attributes. "
					 "Got value %s",
					 r->text);
		return take_string(c, r, err);
	}
	BUG("unknown search entity %d", (int)c->entity);
}

/* MLflow's is_metric / is_param / ... checks of the comparator, with their messages. */
static int run_op(struct search_cond *c, const char *op, struct error *err)
{
	bool found = find_op(&c->op, op) == 0;

	switch (c->entity) {
	case SEARCH_METRIC:
		if (!found || !op_numeric(c->op))
			return error_set(err, ERR_INVALID, "Invalid comparator '%s' not one of '%s",
					 op, NUMERIC_OPS);
		return 0;
	case SEARCH_PARAM:
		if (!found || !op_string(c->op))
			return error_set(err, ERR_INVALID,
					 "Invalid comparator '%s' not one of '%s'", op, STRING_OPS);
		return 0;
	case SEARCH_TAG:
		if (!found || !op_string(c->op))
			return error_set(err, ERR_INVALID, "Invalid comparator '%s' not one of '%s",
					 op, STRING_OPS);
		return 0;
	case SEARCH_ATTRIBUTE:
		if (attr_numeric(c->attr)) {
			if (!found || !op_numeric(c->op))
				return error_set(err, ERR_INVALID,
						 "Invalid comparator '%s' not one of '%s", op,
						 NUMERIC_OPS);
		} else if (!found || !(op_string(c->op) || op_list(c->op))) {
			return error_set(err, ERR_INVALID,
					 "Invalid comparator '%s' not one of '%s'", op, LIST_OPS);
		}
		return 0;
	case SEARCH_DATASET:
		if (!found || !(op_string(c->op) || op_list(c->op)))
			return error_set(err, ERR_INVALID, "Invalid comparator '%s' not one of '%s",
					 op, LIST_OPS);
		return 0;
	}
	BUG("unknown search entity %d", (int)c->entity);
}

/* IN and NOT IN take a list, and only they do. */
static int check_list_op(const struct search_cond *c, const struct raw_cond *r, struct error *err)
{
	if (op_list(c->op) && c->type != SEARCH_VALUE_LIST)
		return error_set(err, ERR_INVALID,
				 "Comparator '%s' expects a list of quoted strings such as "
				 "('a', 'b'). Got value %s",
				 op_names[c->op], r->text);
	if (!op_list(c->op) && c->type == SEARCH_VALUE_LIST)
		return error_set(err, ERR_INVALID,
				 "Comparator '%s' cannot compare with a list of values %s; use IN "
				 "or NOT IN",
				 r->op, r->text);
	return 0;
}

static int run_cond(struct search_cond *c, struct raw_cond *r, struct error *err)
{
	char *entity = NULL, *key = NULL;
	int rc;

	split_ident(r->ident, &entity, &key);
	unquote_key(key);
	if ((rc = run_ident(c, entity, key, A_FILTER, err)) >= 0 &&
	    (rc = run_value(c, r, err)) >= 0 && (rc = run_op(c, r->op, err)) >= 0)
		rc = check_list_op(c, r, err);
	free(entity);
	free(key);
	return rc;
}

static int experiment_cond(struct search_cond *c, struct raw_cond *r, struct error *err)
{
	char *entity = NULL, *key = NULL;
	bool found;
	int rc;

	split_ident(r->ident, &entity, &key);
	unquote_key(key);
	rc = experiment_ident(c, entity, key, A_FILTER, EXPERIMENT_FILTER_KEYS, err);
	free(entity);
	free(key);
	if (rc < 0 || (rc = run_value(c, r, err)) < 0)
		return rc;
	found = find_op(&c->op, r->op) == 0;
	if (c->entity == SEARCH_TAG && (!found || !op_string(c->op)))
		return error_set(err, ERR_INVALID, "Invalid comparator for tag: %s", r->op);
	if (c->entity == SEARCH_ATTRIBUTE && attr_numeric(c->attr) &&
	    (!found || !op_numeric(c->op)))
		return error_set(err, ERR_INVALID, "Invalid comparator for numeric attribute: %s",
				 r->op);
	if (c->entity == SEARCH_ATTRIBUTE && !attr_numeric(c->attr) &&
	    (!found || !op_string(c->op)))
		return error_set(err, ERR_INVALID, "Invalid comparator for string attribute: %s",
				 r->op);
	return 0;
}

/* Registry filters ----------------------------------------------------------------------------- */

/*
 * MLflow's _get_model_search_identifier / _get_model_version_search_identifier: the entity as
 * written (attribute, tag or tags), an attribute key checked before its quotes come off.
 */
static int registry_ident(struct search_cond *c, const char *entity, char *key,
			  enum filter_kind kind, struct error *err)
{
	bool models = kind == KIND_MODELS;
	const struct attr_name *a;

	c->entity = SEARCH_ATTRIBUTE;
	if (entity) {
		if (strcmp(entity, "attribute") && strcmp(entity, "tag") && strcmp(entity, "tags"))
			return error_set(err, ERR_INVALID,
					 "Invalid entity type '%s'. Valid entity types are %s",
					 entity, REGISTRY_ENTITY_TYPES);
		if (strcmp(entity, "attribute"))
			c->entity = SEARCH_TAG;
	}
	if (c->entity == SEARCH_TAG) {
		unquote_key(key);
		c->key = xstrdup(key);
		return 0;
	}
	a = models ? find_attr(model_attrs, ARRAY_SIZE(model_attrs), key, A_FILTER)
		   : find_attr(version_attrs, ARRAY_SIZE(version_attrs), key, A_FILTER);
	if (!a)
		return error_set(err, ERR_INVALID,
				 "Invalid attribute key '%s' specified. Valid keys are '%s'", key,
				 models ? MODEL_FILTER_KEYS : VERSION_FILTER_KEYS);
	c->attr = a->attr;
	c->key = xstrdup(a->canonical);
	return 0;
}

/*
 * version_number = '3': MLflow hands the string to SQL, where the integer column's affinity
 * makes it the number 3; text that is no number would compare as text, which the store cannot
 * express, so it is refused.
 */
static int version_number_string(struct search_cond *c, struct raw_cond *r, struct error *err)
{
	const char *s = r->str ? r->str : "";
	char *end = NULL;
	double v;

	if (r->type == RAW_WORD)
		return take_string(c, r, err);
	errno = 0;
	v = strtod(s, &end);
	while (end && isspace((unsigned char)*end))
		end++;
	if (end == s || !end || *end || !isfinite(v))
		return error_set(err, ERR_INVALID,
				 "Expected a numeric value for attribute version_number. Found %s",
				 r->text);
	c->type = SEARCH_VALUE_NUMBER;
	c->num = v;
	return 0;
}

/* SearchModelUtils._get_value / SearchModelVersionUtils._get_value. */
static int registry_value(struct search_cond *c, struct raw_cond *r, enum filter_kind kind,
			  struct error *err)
{
	if (c->entity == SEARCH_TAG) {
		if (r->type == RAW_NUMBER || r->type == RAW_LIST)
			return error_set(
			    err, ERR_INVALID,
			    "Expected a quoted string value for tag (e.g. 'my-value'). "
			    "Got value %s",
			    r->text);
		return take_string(c, r, err);
	}
	if (r->type == RAW_LIST) {
		if (c->attr != SEARCH_ATTR_RUN_ID)
			return error_set(
			    err, ERR_INVALID,
			    "Only the 'run_id' attribute supports comparison with a list "
			    "of quoted string values.");
		return take_list(c, r, true, err);
	}
	if (r->type == RAW_NUMBER) {
		if (kind == KIND_MODELS)
			return error_set(
			    err, ERR_INVALID,
			    "Expected a quoted string value or a list of quoted string "
			    "values for attributes. Got value %s",
			    r->text);
		if (c->attr != SEARCH_ATTR_VERSION_NUMBER)
			return error_set(err, ERR_INVALID,
					 "Only the '%s' attributes support comparison with numeric "
					 "values.",
					 VERSION_NUMERIC_KEYS);
		take_number(c, r);
		return 0;
	}
	if (c->attr == SEARCH_ATTR_VERSION_NUMBER)
		return version_number_string(c, r, err);
	return take_string(c, r, err);
}

static int registry_cond(struct search_cond *c, struct raw_cond *r, enum filter_kind kind,
			 struct error *err)
{
	char *entity = NULL, *key = NULL;
	int rc;

	split_ident(r->ident, &entity, &key);
	rc = registry_ident(c, entity, key, kind, err);
	free(entity);
	free(key);
	return rc < 0 ? rc : registry_value(c, r, kind, err);
}

/*
 * The comparators, checked by MLflow's SQL store once every condition has parsed (so a bad value
 * anywhere is reported before a bad comparator). Messages show the comparator upper-cased.
 */
static int registry_op(struct search_cond *c, const struct raw_cond *r, struct error *err)
{
	bool found = find_op(&c->op, r->op) == 0;
	char up[64];
	size_t i;

	for (i = 0; r->op[i] && i + 1 < sizeof(up); i++)
		up[i] = (char)toupper((unsigned char)r->op[i]);
	up[i] = '\0';
	if (c->entity == SEARCH_TAG) {
		if (!found || !op_string(c->op))
			return error_set(err, ERR_INVALID, "Invalid comparator for tag: %s", up);
	} else if (c->attr == SEARCH_ATTR_VERSION_NUMBER) {
		if (!found || !op_numeric(c->op))
			return error_set(err, ERR_INVALID,
					 "Invalid comparator for attribute %s: %s", c->key, up);
	} else if (!found || !(op_string(c->op) ||
			       (c->op == SEARCH_OP_IN && c->attr == SEARCH_ATTR_RUN_ID))) {
		return error_set(err, ERR_INVALID, "Invalid comparator for attribute: %s", up);
	}
	return check_list_op(c, r, err);
}

/* Filters ------------------------------------------------------------------------------------- */

static int parse_filter(struct search_filter *out, const char *filter, enum filter_kind kind,
			struct error *err)
{
	struct search_filter f = SEARCH_FILTER_INIT;
	struct raw_cond *raw = NULL;
	size_t nr_raw = 0, alloc_raw = 0;
	struct strbuf bad = STRBUF_INIT;
	const char *p = filter ? filter : "";
	int rc = 0;

	for (p = skip_ws(p); *p; p = skip_ws(p)) {
		if (keyword_at(p, "AND")) {
			p += 3;
			continue;
		}
		ALLOC_GROW(raw, nr_raw + 1, alloc_raw);
		memset(&raw[nr_raw], 0, sizeof(raw[nr_raw]));
		p = scan_comparison(&raw[nr_raw], p, &bad);
		if (raw[nr_raw].ident)
			nr_raw++;
	}
	if (bad.len) {
		rc = error_set(err, ERR_INVALID, "Invalid clause(s) in filter string: %s", bad.buf);
		goto out;
	}
	for (size_t i = 0; i < nr_raw; i++) {
		struct search_cond *c;

		ALLOC_GROW(f.items, f.nr + 1, f.alloc);
		c = &f.items[f.nr++];
		memset(c, 0, sizeof(*c));
		if (kind == KIND_RUNS)
			rc = run_cond(c, &raw[i], err);
		else if (kind == KIND_EXPERIMENTS)
			rc = experiment_cond(c, &raw[i], err);
		else
			rc = registry_cond(c, &raw[i], kind, err);
		if (rc < 0)
			goto out;
	}
	for (size_t i = 0; (kind == KIND_MODELS || kind == KIND_MODEL_VERSIONS) && i < f.nr; i++)
		if ((rc = registry_op(&f.items[i], &raw[i], err)) < 0)
			goto out;
	*out = f;
	memset(&f, 0, sizeof(f));
out:
	for (size_t i = 0; i < nr_raw; i++)
		raw_cond_release(&raw[i]);
	free(raw);
	strbuf_release(&bad);
	search_filter_release(&f);
	return rc;
}

int filter_parse_runs(struct search_filter *out, const char *filter, struct error *err)
{
	return parse_filter(out, filter, KIND_RUNS, err);
}

int filter_parse_experiments(struct search_filter *out, const char *filter, struct error *err)
{
	return parse_filter(out, filter, KIND_EXPERIMENTS, err);
}

int filter_parse_models(struct search_filter *out, const char *filter, struct error *err)
{
	return parse_filter(out, filter, KIND_MODELS, err);
}

int filter_parse_model_versions(struct search_filter *out, const char *filter, struct error *err)
{
	return parse_filter(out, filter, KIND_MODEL_VERSIONS, err);
}

/* order_by ------------------------------------------------------------------------------------ */

/*
 * Python's shlex.split (POSIX mode) of s, where MLflow has made backticks double quotes: words
 * split on whitespace, quotes removed, backslash escapes. -1 on an unterminated quote.
 */
static int shlex_split(char ***out, size_t *nr, const char *s)
{
	struct strbuf word = STRBUF_INIT;
	char **words = NULL;
	size_t alloc = 0, n = 0;
	bool in_word = false;
	int rc = -1;

	for (const char *p = s;; p++) {
		if (!*p || isspace((unsigned char)*p)) {
			if (in_word) {
				ALLOC_GROW(words, n + 1, alloc);
				words[n++] = strbuf_detach(&word, NULL);
				in_word = false;
			}
			if (!*p)
				break;
			continue;
		}
		in_word = true;
		if (*p == '\\' && p[1]) {
			strbuf_addch(&word, *++p);
		} else if (*p == '\'') {
			const char *e = strchr(p + 1, '\'');

			if (!e)
				goto out;
			strbuf_add(&word, p + 1, (size_t)(e - p - 1));
			p = e;
		} else if (*p == '"' || *p == '`') {
			for (p++; *p != '"' && *p != '`'; p++) {
				if (!*p)
					goto out;
				if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
					p++;
				strbuf_addch(&word, *p);
			}
		} else {
			strbuf_addch(&word, *p);
		}
	}
	*out = words;
	*nr = n;
	words = NULL;
	n = 0;
	rc = 0;
out:
	for (size_t i = 0; i < n; i++)
		free(words[i]);
	free(words);
	strbuf_release(&word);
	return rc;
}

/*
 * sqlparse must see one identifier, maybe followed by a word: outside quotes only name
 * characters, dots and spaces.
 */
static bool order_chars_ok(const char *s)
{
	for (const char *p = s; *p;) {
		if (*p == '"' || *p == '`') {
			const char *q = scan_quoted(p, *p, NULL);

			if (!q)
				return false;
			p = q;
		} else if (is_word((unsigned char)*p) || *p == '.' || isspace((unsigned char)*p)) {
			p++;
		} else {
			return false;
		}
	}
	return true;
}

/* Splits "<identifier> [ASC|DESC]" (MLflow's _parse_order_by_string). */
static int order_words(char **ident, bool *ascending, const char *clause, struct error *err)
{
	char **words = NULL;
	size_t n = 0;
	int rc = 0;

	if (!order_chars_ok(clause) || shlex_split(&words, &n, clause) < 0 || n == 0 || n > 2) {
		rc = error_set(err, ERR_INVALID,
			       "Invalid order_by clause '%s'. Could not be parsed.", clause);
		goto out;
	}
	*ascending = true;
	if (n == 2) {
		if (strcasecmp(words[1], "asc") && strcasecmp(words[1], "desc")) {
			rc = error_set(err, ERR_INVALID,
				       "Invalid ordering key in order_by clause '%s'.", clause);
			goto out;
		}
		*ascending = !strcasecmp(words[1], "asc");
	}
	*ident = words[0];
	words[0] = NULL;
out:
	for (size_t i = 0; i < n; i++)
		free(words[i]);
	free(words);
	return rc;
}

/* Splits an unquoted "entity.key" of order_by at its first dot, as MLflow does. */
static void split_order_ident(char *ident, char **entity, const char **key)
{
	char *dot = strchr(ident, '.');

	*entity = NULL;
	*key = ident;
	if (dot) {
		*dot = '\0';
		*entity = ident;
		*key = dot + 1;
	}
}

static int order_ident(struct search_order *o, char *ident, enum filter_kind kind,
		       struct error *err)
{
	struct search_cond c;
	char *entity;
	const char *key;
	int rc;

	memset(&c, 0, sizeof(c));
	split_order_ident(ident, &entity, &key);
	if (kind == KIND_RUNS) {
		rc = run_ident(&c, entity, key, A_ORDER, err);
		if (rc >= 0 && c.entity == SEARCH_DATASET)
			rc = error_set(err, ERR_INVALID, "Invalid identifier type 'dataset'");
	} else {
		rc = experiment_ident(&c, entity, key, A_ORDER, EXPERIMENT_ORDER_KEYS, err);
		if (rc >= 0 && c.entity == SEARCH_TAG)
			rc = error_set(err, ERR_INVALID, "Invalid order_by entity: tag");
	}
	if (rc >= 0) {
		o->entity = c.entity;
		o->attr = c.attr;
		o->key = c.key;
		c.key = NULL;
	}
	free(c.key);
	return rc;
}

static bool same_order_field(const struct search_order *a, const struct search_order *b)
{
	if (a->entity != b->entity)
		return false;
	if (a->entity == SEARCH_ATTRIBUTE)
		return a->attr == b->attr;
	return !strcmp(a->key, b->key);
}

static int duplicate_error(const char *const *order_by, size_t nr, int code, struct error *err)
{
	struct strbuf sb = STRBUF_INIT;
	int rc;

	for (size_t i = 0; i < nr; i++)
		strbuf_addf(&sb, "%s'%s'", i ? ", " : "", order_by[i]);
	rc = error_set(err, code, "`order_by` contains duplicate fields: [%s]", sb.buf);
	strbuf_release(&sb);
	return rc;
}

static int parse_order(struct search_orders *out, const char *const *order_by, size_t nr,
		       enum filter_kind kind, struct error *err)
{
	struct search_orders o = SEARCH_ORDERS_INIT;
	char *ident = NULL;
	int rc = 0;

	for (size_t i = 0; i < nr; i++) {
		struct search_order *t;
		bool asc = true;

		free(ident);
		ident = NULL;
		if ((rc = order_words(&ident, &asc, order_by[i] ? order_by[i] : "", err)) < 0)
			goto out;
		ALLOC_GROW(o.items, o.nr + 1, o.alloc);
		t = &o.items[o.nr];
		memset(t, 0, sizeof(*t));
		t->ascending = asc;
		if ((rc = order_ident(t, ident, kind, err)) < 0)
			goto out;
		o.nr++;
		for (size_t j = 0; kind == KIND_RUNS && j + 1 < o.nr; j++) {
			if (same_order_field(&o.items[j], t)) {
				rc = duplicate_error(order_by, nr, ERR_INVALID, err);
				goto out;
			}
		}
	}
	*out = o;
	memset(&o, 0, sizeof(o));
out:
	free(ident);
	search_orders_release(&o);
	return rc;
}

int filter_parse_run_order(struct search_orders *out, const char *const *order_by, size_t nr,
			   struct error *err)
{
	return parse_order(out, order_by, nr, KIND_RUNS, err);
}

int filter_parse_experiment_order(struct search_orders *out, const char *const *order_by, size_t nr,
				  struct error *err)
{
	return parse_order(out, order_by, nr, KIND_EXPERIMENTS, err);
}

/*
 * registered-models/search's order_by as MLflow's SQL store takes it: name, or timestamp and
 * last_updated_timestamp, which both mean the last update time.
 */
static int model_order_ident(struct search_order *o, const char *ident, struct error *err)
{
	const struct attr_name *a = find_attr(model_attrs, ARRAY_SIZE(model_attrs), ident, A_ORDER);

	if (!a)
		return error_set(err, ERR_INVALID,
				 "Invalid order by key '%s' specified. Valid keys are '%s'", ident,
				 MODEL_ORDER_KEYS);
	o->entity = SEARCH_ATTRIBUTE;
	o->attr = a->attr;
	o->key = xstrdup(a->canonical);
	return 0;
}

/*
 * model-versions/search's order_by: SearchExperimentsUtils._get_identifier's entity and key
 * checks, then the SQL store's, which takes tags.<key> for the attribute of that name.
 */
static int version_order_ident(struct search_order *o, char *ident, struct error *err)
{
	const struct attr_name *a;
	const char *key;
	char *entity, *k;
	int rc = 0;

	split_order_ident(ident, &entity, &key);
	if (entity && strcmp(entity, "attribute") && strcmp(entity, "tag") &&
	    strcmp(entity, "tags"))
		return error_set(err, ERR_INVALID,
				 "Invalid entity type '%s'. Valid entity types are %s", entity,
				 REGISTRY_ENTITY_TYPES);
	k = xstrdup(key);
	unquote_key(k);
	a = find_attr(version_attrs, ARRAY_SIZE(version_attrs), k, A_ORDER);
	if (!a && (!entity || !strcmp(entity, "attribute")))
		rc = error_set(err, ERR_INVALID,
			       "Invalid attribute key '%s' specified. Valid keys are '%s'", k,
			       VERSION_ORDER_KEYS);
	else if (!a)
		rc = error_set(err, ERR_INVALID,
			       "Invalid order by key '%s' specified. Valid keys are %s", k,
			       VERSION_ORDER_KEYS);
	if (a) {
		o->entity = SEARCH_ATTRIBUTE;
		o->attr = a->attr;
		o->key = xstrdup(a->canonical);
	}
	free(k);
	return rc;
}

static int parse_registry_order(struct search_orders *out, const char *const *order_by, size_t nr,
				enum filter_kind kind, struct error *err)
{
	struct search_orders o = SEARCH_ORDERS_INIT;
	char *ident = NULL;
	int rc = 0;

	for (size_t i = 0; i < nr; i++) {
		struct search_order *t;
		bool asc = true;

		free(ident);
		ident = NULL;
		if ((rc = order_words(&ident, &asc, order_by[i] ? order_by[i] : "", err)) < 0)
			goto out;
		ALLOC_GROW(o.items, o.nr + 1, o.alloc);
		t = &o.items[o.nr];
		memset(t, 0, sizeof(*t));
		t->ascending = asc;
		rc = kind == KIND_MODELS ? model_order_ident(t, ident, err)
					 : version_order_ident(t, ident, err);
		if (rc < 0)
			goto out;
		o.nr++;
		for (size_t j = 0; j + 1 < o.nr; j++) {
			if (o.items[j].attr == t->attr) {
				rc = duplicate_error(order_by, nr, ERR_CONFLICT, err);
				goto out;
			}
		}
	}
	*out = o;
	memset(&o, 0, sizeof(o));
out:
	free(ident);
	search_orders_release(&o);
	return rc;
}

int filter_parse_model_order(struct search_orders *out, const char *const *order_by, size_t nr,
			     struct error *err)
{
	return parse_registry_order(out, order_by, nr, KIND_MODELS, err);
}

int filter_parse_model_version_order(struct search_orders *out, const char *const *order_by,
				     size_t nr, struct error *err)
{
	return parse_registry_order(out, order_by, nr, KIND_MODEL_VERSIONS, err);
}
