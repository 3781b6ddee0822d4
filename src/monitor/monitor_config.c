/*
 * monitor.yaml: drift overrides, the window, alert rules (kept as text) and the webhook, with
 * every error naming FILE:LINE:COL and what was expected there.
 */
#include "util/common.h"
#include "monitor/monitor_config.h"
#include "util/fs.h"
#include "util/parse.h"
#include "util/suggest.h"
#include "util/yaml.h"

#include <math.h>

#define MONITOR_CONFIG_MAX_SIZE (1u << 20)
#define DEFAULT_WEBHOOK_TIMEOUT_MS 5000u

struct parser {
	const char *name;
	struct monitor_config *c;
	struct drift_column_config *cols; /* owned until moved into c */
	size_t ncols;
	struct error *err;
};

void monitor_config_init(struct monitor_config *c)
{
	struct drift_options d = DRIFT_OPTIONS_INIT;

	memset(c, 0, sizeof(*c));
	c->drift = d;
	c->webhook_timeout_ms = DEFAULT_WEBHOOK_TIMEOUT_MS;
}

void monitor_config_free(struct monitor_config *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->drift.n_columns; i++)
		free((char *)c->drift.columns[i].column);
	free((void *)c->drift.columns);
	for (size_t i = 0; i < c->n_alerts; i++) {
		free(c->alerts[i].name);
		free(c->alerts[i].when);
	}
	free(c->alerts);
	free(c->webhook_url);
	monitor_config_init(c);
}

/* The text of a non-null scalar (a new string), or NULL. */
static char *scalar_dup(struct fy_node *node)
{
	const char *text;
	size_t len;

	if (!node || !fy_node_is_scalar(node) || fy_node_is_null(node))
		return NULL;
	text = fy_node_get_scalar(node, &len);
	if (!text || memchr(text, '\0', len))
		return NULL;
	return xstrndup(text, len);
}

static int expected(struct parser *p, struct fy_node *node, struct fy_node *key, const char *field,
		    const char *what)
{
	char *text = scalar_dup(node);
	int rc;

	if (text)
		rc = yaml_error_at(p->err, p->name, node, "'%s' must be %s, got '%.60s'", field,
				   what, text);
	else
		rc = yaml_error_at(p->err, p->name, node ? node : key, "'%s' must be %s, got %s",
				   field, what, yaml_node_kind_name(node));
	free(text);
	return rc;
}

static int unknown_key(struct parser *p, struct fy_node *key, const char *k, const char *section,
		       const char *const *keys, size_t n)
{
	const char *best = suggest_closest(k, keys, n);
	char list[256] = "";

	if (best)
		return yaml_error_at(p->err, p->name, key,
				     "unknown key '%s' in %s; did you mean '%s'?", k, section,
				     best);
	for (size_t i = 0; i < n; i++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i ? ", " : "",
			 keys[i]);
	return yaml_error_at(p->err, p->name, key, "unknown key '%s' in %s (expected %s)", k,
			     section, list);
}

static int get_double(struct parser *p, double *out, struct fy_node *v, struct fy_node *key,
		      const char *field, double lo, double hi, bool lo_open)
{
	char *text = scalar_dup(v);
	double x;
	int rc = 0;

	if (!text || parse_double(text, &x) || x > hi || x < lo || (lo_open && x == lo)) {
		char what[96];

		snprintf(what, sizeof(what), "a number in %c%g, %g]", lo_open ? '(' : '[', lo, hi);
		rc = expected(p, v, key, field, what);
	} else {
		*out = x;
	}
	free(text);
	return rc;
}

static int get_count(struct parser *p, uint64_t *out, struct fy_node *v, struct fy_node *key,
		     const char *field)
{
	char *text = scalar_dup(v);
	int rc = 0;

	if (!text || parse_uint64(text, out) || !*out)
		rc = expected(p, v, key, field, "a positive integer");
	free(text);
	return rc;
}

static int get_test(struct parser *p, enum drift_test *out, struct fy_node *v, struct fy_node *key,
		    const char *field)
{
	char *text = scalar_dup(v);
	struct error e = ERROR_INIT;
	int rc = 0;

	if (!text)
		rc = expected(p, v, key, field, "a test name");
	else if (!strcmp(text, "default"))
		*out = DRIFT_TEST_DEFAULT;
	else if (drift_test_parse(out, text, &e))
		rc = yaml_error_at(p->err, p->name, v, "'%s': %s", field, e.msg);
	free(text);
	return rc;
}

static int get_bool(struct parser *p, bool *out, struct fy_node *v, struct fy_node *key,
		    const char *field)
{
	char *text = scalar_dup(v);
	int b, rc = 0;

	if (!text || parse_bool(text, &b))
		rc = expected(p, v, key, field, "true or false");
	else
		*out = b;
	free(text);
	return rc;
}

/* "250ms", "90s", "30m", "1h", "2d", "1w": a positive integer and a unit. */
static int get_duration(struct parser *p, int64_t *out, struct fy_node *v, struct fy_node *key,
			const char *field)
{
	static const struct {
		const char *unit;
		int64_t ms;
	} units[] = { { "ms", 1 },	{ "s", 1000 },	   { "m", 60000 },
		      { "h", 3600000 }, { "d", 86400000 }, { "w", 604800000 } };
	char *text = scalar_dup(v);
	int rc = ERR_INVALID;

	if (text) {
		size_t digits = strspn(text, "0123456789");
		int64_t n;

		for (size_t i = 0; i < ARRAY_SIZE(units) && rc; i++) {
			char num[24];

			if (!digits || digits >= sizeof(num) ||
			    strcmp(text + digits, units[i].unit))
				continue;
			memcpy(num, text, digits);
			num[digits] = '\0';
			if (!parse_int64(num, &n) && n > 0 && n <= INT64_MAX / units[i].ms) {
				*out = n * units[i].ms;
				rc = 0;
			}
		}
	}
	if (rc)
		rc = expected(p, v, key, field, "a duration such as 250ms, 90s, 30m, 1h, 2d or 1w");
	free(text);
	return rc;
}

static int each_pair(struct parser *p, struct fy_node *map, struct fy_node *key, const char *field,
		     int (*fn)(struct parser *, struct fy_node *k, const char *name,
			       struct fy_node *v, void *data),
		     void *data)
{
	struct fy_node_pair *pair;
	void *iter = NULL;
	int rc = 0;

	if (!map || !fy_node_is_mapping(map))
		return expected(p, map, key, field, "a mapping");
	while (!rc && (pair = fy_node_mapping_iterate(map, &iter))) {
		struct fy_node *k = fy_node_pair_key(pair);
		char *name = scalar_dup(k);

		if (!name || !*name)
			rc = yaml_error_at(p->err, p->name, k,
					   "keys in '%s' must be non-empty strings", field);
		else
			rc = fn(p, k, name, fy_node_pair_value(pair), data);
		free(name);
	}
	return rc;
}

static const char *const column_keys[] = { "test", "threshold", "skip" };

static int column_pair(struct parser *p, struct fy_node *k, const char *name, struct fy_node *v,
		       void *data)
{
	struct drift_column_config *c = data;

	if (!strcmp(name, "test"))
		return get_test(p, &c->test, v, k, "test");
	if (!strcmp(name, "threshold"))
		return get_double(p, &c->threshold, v, k, "threshold", 0, 1e300, true);
	if (!strcmp(name, "skip"))
		return get_bool(p, &c->skip, v, k, "skip");
	return unknown_key(p, k, name, "a column override", column_keys, ARRAY_SIZE(column_keys));
}

static int columns_pair(struct parser *p, struct fy_node *k, const char *name, struct fy_node *v,
			void *data)
{
	struct drift_column_config *c;

	(void)data;
	p->cols = xrealloc(p->cols, (p->ncols + 1) * sizeof(*p->cols));
	c = &p->cols[p->ncols++];
	c->column = xstrdup(name);
	c->test = DRIFT_TEST_DEFAULT;
	c->threshold = NAN;
	c->skip = false;
	return each_pair(p, v, k, name, column_pair, c);
}

static const char *const drift_keys[] = { "share", "test", "threshold", "min_rows", "columns" };

static int drift_pair(struct parser *p, struct fy_node *k, const char *name, struct fy_node *v,
		      void *data)
{
	struct drift_options *d = &p->c->drift;

	(void)data;
	if (!strcmp(name, "share"))
		return get_double(p, &d->drift_share, v, k, "share", 0, 1, true);
	if (!strcmp(name, "test"))
		return get_test(p, &d->test, v, k, "test");
	if (!strcmp(name, "threshold"))
		return get_double(p, &d->threshold, v, k, "threshold", 0, 1e300, true);
	if (!strcmp(name, "min_rows"))
		return get_count(p, &d->min_rows, v, k, "min_rows");
	if (!strcmp(name, "columns"))
		return each_pair(p, v, k, "columns", columns_pair, NULL);
	return unknown_key(p, k, name, "'drift'", drift_keys, ARRAY_SIZE(drift_keys));
}

static const char *const webhook_keys[] = { "url", "timeout" };

static int webhook_pair(struct parser *p, struct fy_node *k, const char *name, struct fy_node *v,
			void *data)
{
	struct monitor_config *c = p->c;
	int64_t ms;
	int rc;

	(void)data;
	if (!strcmp(name, "url")) {
		char *url = scalar_dup(v);

		if (!url || (strncmp(url, "http://", 7) && strncmp(url, "https://", 8))) {
			free(url);
			return expected(p, v, k, "url", "an http:// or https:// URL");
		}
		free(c->webhook_url);
		c->webhook_url = url;
		return 0;
	}
	if (!strcmp(name, "timeout")) {
		if ((rc = get_duration(p, &ms, v, k, "timeout")))
			return rc;
		if (ms > 600000)
			return expected(p, v, k, "timeout", "at most 10m");
		c->webhook_timeout_ms = (unsigned)ms;
		return 0;
	}
	return unknown_key(p, k, name, "'webhook'", webhook_keys, ARRAY_SIZE(webhook_keys));
}

static const char *const alert_keys[] = { "name", "when" };

static int alert_pair(struct parser *p, struct fy_node *k, const char *name, struct fy_node *v,
		      void *data)
{
	struct monitor_alert_rule *a = data;
	char **dst = !strcmp(name, "name") ? &a->name : !strcmp(name, "when") ? &a->when : NULL;

	if (!dst)
		return unknown_key(p, k, name, "an alert", alert_keys, ARRAY_SIZE(alert_keys));
	free(*dst);
	*dst = scalar_dup(v);
	if (!*dst || !**dst)
		return expected(p, v, k, name, "a non-empty string");
	return 0;
}

static int parse_alerts(struct parser *p, struct fy_node *seq, struct fy_node *key)
{
	struct monitor_config *c = p->c;
	struct fy_node *item;
	void *iter = NULL;
	int rc = 0;

	if (!seq || !fy_node_is_sequence(seq))
		return expected(p, seq, key, "alerts", "a list of {name, when}");
	while (!rc && (item = fy_node_sequence_iterate(seq, &iter))) {
		struct monitor_alert_rule *a;

		c->alerts = xrealloc(c->alerts, (c->n_alerts + 1) * sizeof(*c->alerts));
		a = &c->alerts[c->n_alerts++];
		memset(a, 0, sizeof(*a));
		if ((rc = each_pair(p, item, key, "alerts", alert_pair, a)))
			break;
		if (!a->name || !a->when)
			rc = yaml_error_at(p->err, p->name, item,
					   "an alert needs 'name' and 'when'");
		for (size_t i = 0; !rc && i + 1 < c->n_alerts; i++)
			if (!strcmp(c->alerts[i].name, a->name))
				rc = yaml_error_at(p->err, p->name, item,
						   "duplicate alert name '%s'", a->name);
	}
	return rc;
}

static const char *const top_keys[] = { "drift", "window", "since", "alerts", "webhook" };

static int top_pair(struct parser *p, struct fy_node *k, const char *name, struct fy_node *v,
		    void *data)
{
	(void)data;
	if (!strcmp(name, "drift"))
		return each_pair(p, v, k, "drift", drift_pair, NULL);
	if (!strcmp(name, "window")) {
		char *text = scalar_dup(v);
		bool rows = text && strspn(text, "0123456789") == strlen(text);

		free(text);
		if (rows)
			return get_count(p, &p->c->window_rows, v, k, "window");
		return get_duration(p, &p->c->since_ms, v, k, "window");
	}
	if (!strcmp(name, "since"))
		return get_duration(p, &p->c->since_ms, v, k, "since");
	if (!strcmp(name, "alerts"))
		return parse_alerts(p, v, k);
	if (!strcmp(name, "webhook"))
		return each_pair(p, v, k, "webhook", webhook_pair, NULL);
	return unknown_key(p, k, name, "the monitoring config", top_keys, ARRAY_SIZE(top_keys));
}

int monitor_config_parse(struct monitor_config *c, const char *name, const char *text, size_t len,
			 struct error *err)
{
	struct parser p = { name, NULL, NULL, 0, err };
	struct fy_document *doc = NULL;
	struct fy_node *root;
	int rc;

	monitor_config_init(c);
	p.c = c;
	if ((rc = yaml_load_buffer(&doc, name, text, len, err)))
		return rc;
	root = fy_document_root(doc);
	if (root && !fy_node_is_null(root))
		rc = each_pair(&p, root, NULL, "the monitoring config", top_pair, NULL);
	/* the columns go in even on failure, so that monitor_config_free releases them */
	c->drift.columns = p.cols;
	c->drift.n_columns = p.ncols;
	for (size_t i = 0; !rc && i < p.ncols; i++)
		for (size_t j = 0; !rc && j < i; j++)
			if (!strcmp(p.cols[i].column, p.cols[j].column))
				rc = error_set(err, ERR_INVALID,
					       "%s: column '%s' is configured twice", name,
					       p.cols[i].column);
	fy_document_destroy(doc);
	if (rc)
		monitor_config_free(c);
	return rc;
}

int monitor_config_load(struct monitor_config *c, const char *path, struct error *err)
{
	struct strbuf buf = STRBUF_INIT;
	int rc;

	monitor_config_init(c);
	rc = fs_read_file(&buf, path, MONITOR_CONFIG_MAX_SIZE, err);
	if (!rc)
		rc = monitor_config_parse(c, path, buf.buf, buf.len, err);
	strbuf_release(&buf);
	return rc;
}
