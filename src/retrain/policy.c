/* Parsing the `retrain:` section of ferry.yaml into retraining policies (retrain/policy.h). */
#include "util/common.h"
#include "retrain/policy.h"
#include "registry/gate.h"
#include "store/store_registry.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/parse.h"
#include "util/strbuf.h"
#include "util/xalloc.h"
#include "util/yaml.h"

/* ferry.yaml is small; a bigger file is a mistake, not a policy */
#define POLICY_FILE_MAX (4u << 20)

struct parser {
	const char *file;
	struct error *err;
	const char *model; /* the policy being parsed, for messages */
};

const char *retrain_trigger_kind_name(enum retrain_trigger_kind k)
{
	switch (k) {
	case RETRAIN_WHEN:
		return "when";
	case RETRAIN_SCHEDULE:
		return "schedule";
	case RETRAIN_NEW_DATA:
		return "new_data";
	}
	BUG("unknown trigger kind %d", (int)k);
}

int retrain_parse_duration(int64_t *out, const char *text, bool allow_zero)
{
	static const struct {
		const char *unit;
		int64_t ms;
	} units[] = { { "ms", 1 },	{ "s", 1000 },	   { "m", 60000 },
		      { "h", 3600000 }, { "d", 86400000 }, { "w", 604800000 } };
	size_t digits = text ? strspn(text, "0123456789") : 0;
	char num[24];
	int64_t n;

	if (!digits || digits >= sizeof(num))
		return ERR_INVALID;
	memcpy(num, text, digits);
	num[digits] = '\0';
	if (parse_int64(num, &n) || n < 0 || (!n && !allow_zero))
		return ERR_INVALID;
	for (size_t i = 0; i < ARRAY_SIZE(units); i++)
		if (!strcmp(text + digits, units[i].unit)) {
			if (n > INT64_MAX / units[i].ms)
				return ERR_INVALID;
			*out = n * units[i].ms;
			return 0;
		}
	return ERR_INVALID;
}

static int at(struct parser *ps, struct fy_node *node, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* "FILE:LINE:COL: retrain.MODEL.FIELD: message" */
static int at(struct parser *ps, struct fy_node *node, const char *field, const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (ps->model)
		return yaml_error_at(ps->err, ps->file, node, "retrain.%.60s%s%s: %s", ps->model,
				     field ? "." : "", field ? field : "", msg);
	return yaml_error_at(ps->err, ps->file, node, "retrain%s%s: %s", field ? "." : "",
			     field ? field : "", msg);
}

static int want_string(char **out, struct parser *ps, struct fy_node *node, const char *field)
{
	char *s = yaml_scalar_dup(node);

	if (!s || !*s) {
		free(s);
		return at(ps, node, field, "expected a non-empty string, got %s",
			  yaml_node_kind_name(node));
	}
	free(*out);
	*out = s;
	return 0;
}

static int want_duration(int64_t *out, struct parser *ps, struct fy_node *node, const char *field,
			 bool allow_zero)
{
	char *s = yaml_scalar_dup(node);
	int rc = 0;

	if (!s || retrain_parse_duration(out, s, allow_zero))
		rc = at(ps, node, field,
			"expected a duration such as 30s, 10m, 1h or 7d, got %s%.40s%s",
			s ? "'" : "", s ? s : yaml_node_kind_name(node), s ? "'" : "");
	free(s);
	return rc;
}

/* at() for limits: the same message, ERR_TOOBIG. */
static int too_big(struct parser *ps, struct fy_node *node, const char *field, const char *what)
{
	char msg[sizeof(ps->err->msg)];

	at(ps, node, field, "%s", what);
	memcpy(msg, ps->err->msg, sizeof(msg));
	return error_set(ps->err, ERR_TOOBIG, "%s", msg);
}

static int unknown_key(struct parser *ps, struct fy_node *k, const char *key, const char *where,
		       const char *known)
{
	return at(ps, k, where, "unknown key '%.60s': expected one of %s", key, known);
}

/* One item of triggers: a mapping with name and exactly one of when, schedule, new_data. */
static int parse_trigger(struct parser *ps, struct retrain_trigger *t, struct fy_node *item)
{
	struct fy_node_pair *pair;
	void *iter = NULL;
	int rc = 0, kinds = 0;

	if (!fy_node_is_mapping(item))
		return at(ps, item, "triggers",
			  "expected a mapping with one of when, schedule or new_data, got %s",
			  yaml_node_kind_name(item));
	while (!rc && (pair = fy_node_mapping_iterate(item, &iter))) {
		struct fy_node *k = fy_node_pair_key(pair), *v = fy_node_pair_value(pair);
		char *key = yaml_scalar_dup(k);

		if (!key)
			rc = at(ps, k, "triggers", "expected a string key, got %s",
				yaml_node_kind_name(k));
		else if (!strcmp(key, "name"))
			rc = want_string(&t->name, ps, v, "triggers.name");
		else if (!strcmp(key, "when") || !strcmp(key, "schedule") ||
			 !strcmp(key, "new_data")) {
			kinds++;
			t->kind = !strcmp(key, "when")	     ? RETRAIN_WHEN
				  : !strcmp(key, "schedule") ? RETRAIN_SCHEDULE
							     : RETRAIN_NEW_DATA;
			if (kinds > 1)
				rc = at(ps, k, "triggers",
					"a trigger has one of when, schedule or new_data");
			else if (t->kind == RETRAIN_SCHEDULE)
				rc = want_duration(&t->every_ms, ps, v, "triggers.schedule", false);
			else if (t->kind == RETRAIN_NEW_DATA) {
				char *s = yaml_scalar_dup(v);
				int b = 0;

				if (!s || parse_bool(s, &b) || !b)
					rc = at(
					    ps, v, "triggers.new_data",
					    "expected true (leave the trigger out to disable it)");
				free(s);
			} else {
				char *text = yaml_scalar_dup(v);
				struct error e = ERROR_INIT;

				if (!text || !*text)
					rc =
					    at(ps, v, "triggers.when",
					       "expected a condition such as 'drift_share >= 0.3', "
					       "got %s",
					       yaml_node_kind_name(v));
				else if (alert_rule_parse(&t->rule, key, text, &e))
					rc = at(ps, v, "triggers.when", "%s", e.msg);
				else if (!t->rule.windows_given)
					t->rule.windows =
					    1; /* retraining is not a pager: one window */
				free(text);
			}
		} else
			rc = unknown_key(ps, k, key, "triggers", "name, when, schedule, new_data");
		free(key);
	}
	if (!rc && !kinds)
		rc = at(ps, item, "triggers", "expected one of when, schedule or new_data");
	if (!rc && !t->name)
		t->name = xstrdup(retrain_trigger_kind_name(t->kind));
	return rc;
}

static int parse_triggers(struct parser *ps, struct retrain_policy *p, struct fy_node *node)
{
	struct fy_node *item;
	void *iter = NULL;
	int rc = 0;

	if (!fy_node_is_sequence(node) || !fy_node_sequence_item_count(node))
		return at(ps, node, "triggers", "expected a non-empty list of triggers, got %s",
			  yaml_node_kind_name(node));
	while (!rc && (item = fy_node_sequence_iterate(node, &iter))) {
		if (p->n_triggers >= RETRAIN_MAX_TRIGGERS) {
			return too_big(ps, item, "triggers", "more than 64 triggers");
		}
		p->triggers = xreallocarray(p->triggers, p->n_triggers + 1, sizeof(*p->triggers));
		p->triggers[p->n_triggers] = (struct retrain_trigger){ .rule = ALERT_RULE_INIT };
		rc = parse_trigger(ps, &p->triggers[p->n_triggers++], item);
	}
	for (size_t i = 0; !rc && i < p->n_triggers; i++)
		for (size_t j = 0; j < i; j++)
			if (!strcmp(p->triggers[i].name, p->triggers[j].name))
				return at(ps, node, "triggers",
					  "two triggers are named '%.60s': give them names",
					  p->triggers[i].name);
	return rc;
}

static int parse_params(struct parser *ps, struct retrain_train *t, struct fy_node *node)
{
	struct fy_node_pair *pair;
	void *iter = NULL;

	if (!fy_node_is_mapping(node))
		return at(ps, node, "train.params", "expected a mapping of parameters, got %s",
			  yaml_node_kind_name(node));
	while ((pair = fy_node_mapping_iterate(node, &iter))) {
		struct fy_node *k = fy_node_pair_key(pair), *v = fy_node_pair_value(pair);
		char *key = yaml_scalar_dup(k), *value = yaml_scalar_dup(v);

		if (!key || !*key || !value || !*value || strchr(key, '=')) {
			free(key);
			free(value);
			return at(ps, v, "train.params",
				  "expected NAME: VALUE with a scalar value, got %s",
				  yaml_node_kind_name(v));
		}
		if (t->n_params >= RETRAIN_MAX_PARAMS) {
			free(key);
			free(value);
			return too_big(ps, k, "train.params", "more than 256 parameters");
		}
		t->params = xreallocarray(t->params, t->n_params + 1, sizeof(*t->params));
		t->params[t->n_params++] = (struct retrain_param){ key, value };
	}
	return 0;
}

static int parse_train(struct parser *ps, struct retrain_train *t, struct fy_node *node)
{
	struct fy_node_pair *pair;
	void *iter = NULL;
	int rc = 0;

	if (!fy_node_is_mapping(node))
		return at(ps, node, "train", "expected a mapping with data and target, got %s",
			  yaml_node_kind_name(node));
	while (!rc && (pair = fy_node_mapping_iterate(node, &iter))) {
		struct fy_node *k = fy_node_pair_key(pair), *v = fy_node_pair_value(pair);
		char *key = yaml_scalar_dup(k), *s = NULL;
		double d;

		if (!key)
			rc = at(ps, k, "train", "expected a string key, got %s",
				yaml_node_kind_name(k));
		else if (!strcmp(key, "data"))
			rc = want_string(&t->data, ps, v, "train.data");
		else if (!strcmp(key, "target"))
			rc = want_string(&t->target, ps, v, "train.target");
		else if (!strcmp(key, "model"))
			rc = want_string(&t->model, ps, v, "train.model");
		else if (!strcmp(key, "params"))
			rc = parse_params(ps, t, v);
		else if (!strcmp(key, "seed")) {
			s = yaml_scalar_dup(v);
			if (!s || parse_int64(s, &t->seed) || t->seed < 0)
				rc = at(ps, v, "train.seed", "expected a non-negative integer");
		} else if (!strcmp(key, "test_size")) {
			s = yaml_scalar_dup(v);
			if (!s || parse_double(s, &d) || !(d > 0 && d < 1))
				rc = at(ps, v, "train.test_size",
					"expected a number between 0 and 1 (exclusive)");
			else {
				free(t->test_size);
				t->test_size = s;
				s = NULL;
			}
		} else
			rc = unknown_key(ps, k, key, "train",
					 "data, target, model, params, seed, test_size");
		free(s);
		free(key);
	}
	if (!rc && (!t->data || !t->target))
		rc = at(ps, node, "train", "needs data and target");
	return rc;
}

/* stage: NAME, or {name: NAME, model: DIR} */
static int parse_stage(struct parser *ps, struct retrain_policy *p, struct fy_node *node)
{
	struct fy_node_pair *pair;
	void *iter = NULL;
	int rc = 0;

	if (!fy_node_is_mapping(node))
		return want_string(&p->stage, ps, node, "stage");
	while (!rc && (pair = fy_node_mapping_iterate(node, &iter))) {
		struct fy_node *k = fy_node_pair_key(pair), *v = fy_node_pair_value(pair);
		char *key = yaml_scalar_dup(k);

		if (key && !strcmp(key, "name"))
			rc = want_string(&p->stage, ps, v, "stage.name");
		else if (key && !strcmp(key, "model"))
			rc = want_string(&p->stage_model, ps, v, "stage.model");
		else
			rc = at(ps, k, "stage", "unknown key '%.60s': expected name or model",
				key ? key : yaml_node_kind_name(k));
		free(key);
	}
	if (!rc && !p->stage)
		rc = at(ps, node, "stage", "needs name (a stage of ferry.yaml)");
	return rc;
}

static int parse_field(struct parser *ps, struct retrain_policy *p, struct fy_node *k,
		       struct fy_node *v, const char *key)
{
	if (!strcmp(key, "alias")) {
		struct error e = ERROR_INIT;
		int rc = want_string(&p->alias, ps, v, "alias");

		if (!rc && store_alias_check(p->alias, &e))
			rc = at(ps, v, "alias", "%s", e.msg);
		return rc;
	}
	if (!strcmp(key, "triggers"))
		return parse_triggers(ps, p, v);
	if (!strcmp(key, "train")) {
		p->has_train = true;
		return parse_train(ps, &p->train, v);
	}
	if (!strcmp(key, "stage"))
		return parse_stage(ps, p, v);
	if (!strcmp(key, "gate")) {
		struct gate g = GATE_INIT;
		struct error e = ERROR_INIT;
		int rc = want_string(&p->gate, ps, v, "gate");

		if (!rc && gate_parse(&g, p->gate, &e))
			rc = at(ps, v, "gate", "%s", e.msg);
		gate_release(&g);
		return rc;
	}
	if (!strcmp(key, "holdout"))
		return want_string(&p->holdout, ps, v, "holdout");
	if (!strcmp(key, "cooldown"))
		return want_duration(&p->cooldown_ms, ps, v, "cooldown", true);
	if (!strcmp(key, "interval"))
		return want_duration(&p->interval_ms, ps, v, "interval", false);
	if (!strcmp(key, "experiment"))
		return want_string(&p->experiment, ps, v, "experiment");
	return unknown_key(ps, k, key, NULL,
			   "alias, triggers, train, stage, gate, holdout, cooldown, interval, "
			   "experiment");
}

static int parse_policy(struct parser *ps, struct retrain_policy *p, struct fy_node *node)
{
	struct fy_node_pair *pair;
	void *iter = NULL;
	int rc = 0, col;

	yaml_node_mark(node, &p->line, &col);
	p->cooldown_ms = RETRAIN_DEFAULT_COOLDOWN_MS;
	p->interval_ms = RETRAIN_DEFAULT_INTERVAL_MS;
	p->train.seed = -1;
	if (!fy_node_is_mapping(node))
		return at(ps, node, NULL,
			  "expected a mapping with triggers, train, gate, holdout, "
			  "got %s",
			  yaml_node_kind_name(node));
	while (!rc && (pair = fy_node_mapping_iterate(node, &iter))) {
		struct fy_node *k = fy_node_pair_key(pair);
		char *key = yaml_scalar_dup(k);

		rc = key ? parse_field(ps, p, k, fy_node_pair_value(pair), key)
			 : at(ps, k, NULL, "expected a string key, got %s", yaml_node_kind_name(k));
		free(key);
	}
	if (rc)
		return rc;
	if (!p->n_triggers)
		return at(ps, node, NULL, "needs triggers (when, schedule or new_data)");
	if (p->has_train == !!p->stage)
		return at(ps, node, NULL,
			  "needs exactly one of train (how to train the challenger) or stage");
	if (!p->gate || !p->holdout)
		return at(ps, node, NULL,
			  "needs gate (e.g. 'f1 >= champion - 0.01') and holdout (labelled data "
			  "both models are scored on)");
	if (!p->alias)
		p->alias = xstrdup(RETRAIN_DEFAULT_ALIAS);
	if (!p->experiment)
		p->experiment = xstrdup(RETRAIN_DEFAULT_EXPERIMENT);
	return 0;
}

static void policy_release(struct retrain_policy *p)
{
	for (size_t i = 0; i < p->n_triggers; i++) {
		free(p->triggers[i].name);
		alert_rule_release(&p->triggers[i].rule);
	}
	free(p->triggers);
	for (size_t i = 0; i < p->train.n_params; i++) {
		free(p->train.params[i].key);
		free(p->train.params[i].value);
	}
	free(p->train.params);
	free(p->train.data);
	free(p->train.target);
	free(p->train.model);
	free(p->train.test_size);
	free(p->model);
	free(p->alias);
	free(p->stage);
	free(p->stage_model);
	free(p->gate);
	free(p->holdout);
	free(p->experiment);
}

void retrain_policies_release(struct retrain_policies *ps)
{
	if (!ps)
		return;
	for (size_t i = 0; i < ps->nr; i++)
		policy_release(&ps->items[i]);
	free(ps->items);
	*ps = (struct retrain_policies)RETRAIN_POLICIES_INIT;
}

static int parse_section(struct parser *ps, struct retrain_policies *out, struct fy_node *node)
{
	struct fy_node_pair *pair;
	void *iter = NULL;
	int rc = 0;

	if (!fy_node_is_mapping(node))
		return at(ps, node, NULL, "expected a mapping of registered model names, got %s",
			  yaml_node_kind_name(node));
	while (!rc && (pair = fy_node_mapping_iterate(node, &iter))) {
		struct fy_node *k = fy_node_pair_key(pair);
		struct retrain_policy *p;
		char *name = yaml_scalar_dup(k);

		if (!name || !*name) {
			free(name);
			return at(ps, k, NULL, "expected a registered model name, got %s",
				  yaml_node_kind_name(k));
		}
		if (out->nr >= RETRAIN_MAX_POLICIES) {
			free(name);
			return too_big(ps, k, NULL, "more than 1000 policies");
		}
		out->items = xreallocarray(out->items, out->nr + 1, sizeof(*out->items));
		p = &out->items[out->nr++];
		memset(p, 0, sizeof(*p));
		p->model = name;
		ps->model = name;
		rc = parse_policy(ps, p, fy_node_pair_value(pair));
		ps->model = NULL;
	}
	return rc;
}

int retrain_policies_parse(struct retrain_policies *out, const char *name, const char *buf,
			   size_t len, struct error *err)
{
	struct retrain_policies ps = RETRAIN_POLICIES_INIT;
	struct parser p = { name, err, NULL };
	struct fy_document *doc = NULL;
	struct fy_node *root, *section;
	int rc = yaml_load_buffer(&doc, name, buf, len, err);

	if (rc)
		return rc;
	root = fy_document_root(doc);
	if (root && !fy_node_is_mapping(root)) {
		rc = yaml_error_at(err, name, root, "expected a mapping at the top, got %s",
				   yaml_node_kind_name(root));
		goto out;
	}
	section = root ? fy_node_mapping_lookup_by_string(root, "retrain", FY_NT) : NULL;
	if (section && fy_node_is_scalar(section) && !fy_node_get_scalar_length(section))
		section = NULL; /* "retrain:" with nothing after it */
	if (section)
		rc = parse_section(&p, &ps, section);
out:
	fy_document_destroy(doc);
	if (rc) {
		retrain_policies_release(&ps);
		return rc;
	}
	*out = ps;
	return 0;
}

int retrain_policies_load(struct retrain_policies *out, const char *path, struct error *err)
{
	struct strbuf buf = STRBUF_INIT;
	int rc = fs_read_file(&buf, path, POLICY_FILE_MAX, err);

	if (!rc)
		rc = retrain_policies_parse(out, path, buf.buf, buf.len, err);
	strbuf_release(&buf);
	return rc;
}

const struct retrain_policy *retrain_policies_find(const struct retrain_policies *ps,
						   const char *model)
{
	for (size_t i = 0; i < ps->nr; i++)
		if (!strcmp(ps->items[i].model, model))
			return &ps->items[i];
	return NULL;
}
