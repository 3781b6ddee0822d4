/*
 * Training parameters: key=value lists from the command line and YAML params files, checked
 * against one table of what each trainer takes.
 */
#include "util/common.h"
#include "ml/params.h"
#include "util/parse.h"
#include "util/suggest.h"
#include "util/yaml.h"

#include <libfyaml.h>
#include <math.h>

#define PARAMS_FILE_MAX (4u << 20)

void param_list_release(struct param_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->nr; i++) {
		free(l->v[i].key);
		free(l->v[i].value);
		free(l->v[i].origin);
	}
	free(l->v);
	*l = (struct param_list)PARAM_LIST_INIT;
}

static void add(struct param_list *l, const char *key, size_t klen, const char *value, size_t vlen,
		char *origin)
{
	struct param *p;

	ALLOC_GROW(l->v, l->nr + 1, l->alloc);
	p = &l->v[l->nr++];
	p->key = xstrndup(key, klen);
	p->value = xstrndup(value, vlen);
	p->origin = origin;
}

int param_list_add_arg(struct param_list *l, const char *arg, struct error *err)
{
	const char *eq = strchr(arg, '=');

	if (!eq || eq == arg)
		return error_set(err, ERR_USAGE, "--param '%s': expected KEY=VALUE", arg);
	add(l, arg, (size_t)(eq - arg), eq + 1, strlen(eq + 1), xstrdup("--param"));
	return 0;
}

static int add_mapping(struct param_list *l, struct fy_node *map, const char *file,
		       struct error *err)
{
	struct fy_node_pair *pair;
	void *iter = NULL;

	while ((pair = fy_node_mapping_iterate(map, &iter))) {
		struct fy_node *k = fy_node_pair_key(pair), *v = fy_node_pair_value(pair);
		const char *key, *value;
		size_t klen, vlen;
		int line, col;

		if (!k || !fy_node_is_scalar(k))
			return yaml_error_at(err, file, k, "expected a parameter name");
		if (!v || !fy_node_is_scalar(v) || fy_node_is_null(v))
			return yaml_error_at(err, file, v ? v : k,
					     "parameter values must be scalars, got %s",
					     yaml_node_kind_name(v));
		key = fy_node_get_scalar(k, &klen);
		value = fy_node_get_scalar(v, &vlen);
		yaml_node_mark(v, &line, &col);
		add(l, key, klen, value, vlen, xstrfmt("%s:%d:%d", file, line, col));
	}
	return 0;
}

/* "params.yaml:1:1: no section 'trian'; did you mean 'train'?" naming the mapping searched. */
static int no_section(struct fy_node *map, const char *file, const char *name, struct error *err)
{
	const char *keys[64], *near = NULL;
	struct fy_node_pair *pair;
	void *iter = NULL;
	size_t n = 0;

	while (map && fy_node_is_mapping(map) && n < ARRAY_SIZE(keys) &&
	       (pair = fy_node_mapping_iterate(map, &iter))) {
		struct fy_node *k = fy_node_pair_key(pair);

		if (k && fy_node_is_scalar(k))
			keys[n++] = fy_node_get_scalar0(k);
	}
	near = suggest_closest(name, keys, n);
	if (!map)
		return error_set(err, ERR_INVALID, "%s: no section '%s' (the file is empty)", file,
				 name);
	return yaml_error_at(err, file, map, "no section '%s'%s%s%s", name,
			     near ? "; did you mean '" : "", near ? near : "", near ? "'?" : "");
}

int param_list_load(struct param_list *l, const char *spec, struct error *err)
{
	const char *colon = strrchr(spec, ':');
	char *file = colon ? xstrndup(spec, (size_t)(colon - spec)) : xstrdup(spec);
	char *section = colon ? xstrdup(colon + 1) : NULL;
	struct fy_document *doc = NULL;
	struct fy_node *node;
	int ret;

	ret = yaml_load_file(&doc, file, PARAMS_FILE_MAX, err);
	if (ret)
		goto out;
	node = fy_document_root(doc);
	for (char *s = section, *dot; s && *s; s = dot ? dot + 1 : NULL) {
		struct fy_node *next;

		dot = strchr(s, '.');
		if (dot)
			*dot = '\0';
		next = node && fy_node_is_mapping(node)
			   ? fy_node_mapping_lookup_by_string(node, s, strlen(s))
			   : NULL;
		if (!next) {
			ret = no_section(node, file, s, err);
			goto out;
		}
		node = next;
	}
	if (!node || !fy_node_is_mapping(node)) {
		ret = yaml_error_at(err, file, node, "expected a mapping of parameters, got %s",
				    yaml_node_kind_name(node));
		goto out;
	}
	ret = add_mapping(l, node, file, err);
out:
	fy_document_destroy(doc);
	free(file);
	free(section);
	return ret;
}

static const char *const kind_names[] = { "logreg", "linear", "xgboost" };

const char *model_kind_name(enum model_kind kind)
{
	return kind_names[kind];
}

int model_kind_parse(enum model_kind *out, const char *s, struct error *err)
{
	const char *near;

	for (size_t i = 0; i < ARRAY_SIZE(kind_names); i++)
		if (!strcmp(s, kind_names[i])) {
			*out = (enum model_kind)i;
			return 0;
		}
	near = suggest_closest(s, kind_names, ARRAY_SIZE(kind_names));
	return error_set(err, ERR_USAGE, "unknown model '%s'%s%s%s (logreg, linear or xgboost)", s,
			 near ? "; did you mean '" : "", near ? near : "", near ? "'?" : "");
}

void trainer_config_init(struct trainer_config *c, enum model_kind kind)
{
	static const struct logreg_params logreg = LOGREG_PARAMS_INIT;
	static const struct linear_params linear = LINEAR_PARAMS_INIT;
	static const struct xgb_params xgb = XGB_PARAMS_INIT;

	memset(c, 0, sizeof(*c));
	c->kind = kind;
	c->logreg = logreg;
	c->linear = linear;
	c->xgb = xgb;
	c->threshold = 0.5;
	c->validation_fraction = 0.1;
}

void trainer_config_release(struct trainer_config *c)
{
	if (!c)
		return;
	free(c->tree_method);
	c->tree_method = NULL;
	c->xgb.tree_method = NULL;
}

enum ptype {
	P_INT,
	P_DOUBLE,
	P_BOOL,
	P_SOLVER,
	P_TREE_METHOD
};

/* One parameter: which models take it, where it lives, and its range [lo, hi]. */
struct param_spec {
	const char *name;
	unsigned models; /* bit (1 << kind) */
	enum ptype type;
	size_t offset;
	double lo, hi;
	int lo_open; /* lo itself is not allowed */
};

#define LR (1u << MODEL_LOGREG)
#define LIN (1u << MODEL_LINEAR)
#define XGB (1u << MODEL_XGBOOST)
#define AT(field) offsetof(struct trainer_config, field)

static const struct param_spec specs[] = {
	{ "C", LR, P_DOUBLE, AT(logreg.C), 0, HUGE_VAL, 1 },
	{ "solver", LR, P_SOLVER, AT(logreg.solver), 0, 0, 0 },
	{ "max_iter", LR, P_INT, AT(logreg.max_iter), 1, 1e7, 0 },
	{ "tol", LR, P_DOUBLE, AT(logreg.tol), 0, 1, 1 },
	{ "ftol", LR, P_DOUBLE, AT(logreg.ftol), 0, 1, 0 },
	{ "fit_intercept", LR, P_BOOL, AT(logreg.fit_intercept), 0, 1, 0 },
	{ "alpha", LIN, P_DOUBLE, AT(linear.alpha), 0, HUGE_VAL, 0 },
	{ "fit_intercept", LIN, P_BOOL, AT(linear.fit_intercept), 0, 1, 0 },
	{ "n_estimators", XGB, P_INT, AT(xgb.n_estimators), 1, 1e6, 0 },
	{ "max_depth", XGB, P_INT, AT(xgb.max_depth), 0, 64, 0 },
	{ "eta", XGB, P_DOUBLE, AT(xgb.eta), 0, 1, 1 },
	{ "learning_rate", XGB, P_DOUBLE, AT(xgb.eta), 0, 1, 1 },
	{ "subsample", XGB, P_DOUBLE, AT(xgb.subsample), 0, 1, 1 },
	{ "colsample_bytree", XGB, P_DOUBLE, AT(xgb.colsample_bytree), 0, 1, 1 },
	{ "min_child_weight", XGB, P_DOUBLE, AT(xgb.min_child_weight), 0, HUGE_VAL, 0 },
	{ "tree_method", XGB, P_TREE_METHOD, 0, 0, 0, 0 },
	{ "nthread", XGB, P_INT, AT(xgb.nthread), 0, 4096, 0 },
	{ "early_stopping_rounds", XGB, P_INT, AT(xgb.early_stopping_rounds), 0, 1e6, 0 },
	{ "validation_fraction", XGB, P_DOUBLE, AT(validation_fraction), 0, 0.9, 1 },
	{ "threshold", LR | XGB, P_DOUBLE, AT(threshold), 0, 1, 0 },
};

/* A parameter from the command line is a usage error (exit 2); one from a file, bad input. */
static int code_of(const struct param *p)
{
	return strcmp(p->origin, "--param") ? ERR_INVALID : ERR_USAGE;
}

static int bad_value(struct error *err, const struct param *p, const char *expected)
{
	return error_set(err, code_of(p), "parameter '%s' (from %s): expected %s, got '%s'", p->key,
			 p->origin, expected, p->value);
}

static int apply_one(struct trainer_config *c, const struct param_spec *s, const struct param *p,
		     struct error *err)
{
	char *field = (char *)c + s->offset;
	char range[96];
	int64_t i;
	double d;
	int b;

	if (s->type == P_INT || s->type == P_DOUBLE) {
		const char *what = s->type == P_INT ? "an integer" : "a number";

		if (isinf(s->hi))
			snprintf(range, sizeof(range), "%s %s %g", what,
				 s->lo_open ? "above" : "of at least", s->lo);
		else if (s->lo_open)
			snprintf(range, sizeof(range), "%s above %g and at most %g", what, s->lo,
				 s->hi);
		else
			snprintf(range, sizeof(range), "%s from %g to %g", what, s->lo, s->hi);
	}
	switch (s->type) {
	case P_INT:
		if (parse_int64(p->value, &i) || (double)i < s->lo || (double)i > s->hi ||
		    (s->lo_open && (double)i == s->lo))
			return bad_value(err, p, range);
		{
			int v = (int)i;

			memcpy(field, &v, sizeof(v));
		}
		return 0;
	case P_DOUBLE:
		if (parse_double(p->value, &d) || d < s->lo || d > s->hi ||
		    (s->lo_open && d == s->lo))
			return bad_value(err, p, range);
		memcpy(field, &d, sizeof(d));
		return 0;
	case P_BOOL:
		if (parse_bool(p->value, &b))
			return bad_value(err, p, "true or false");
		memcpy(field, &b, sizeof(b));
		return 0;
	case P_SOLVER:
		if (!strcmp(p->value, "lbfgs"))
			c->logreg.solver = LOGREG_LBFGS;
		else if (!strcmp(p->value, "newton"))
			c->logreg.solver = LOGREG_NEWTON;
		else
			return bad_value(err, p, "lbfgs or newton");
		return 0;
	case P_TREE_METHOD:
		if (strcmp(p->value, "exact") && strcmp(p->value, "approx") &&
		    strcmp(p->value, "hist") && strcmp(p->value, "auto"))
			return bad_value(err, p, "auto, exact, approx or hist");
		free(c->tree_method);
		c->tree_method = xstrdup(p->value);
		c->xgb.tree_method = c->tree_method;
		return 0;
	}
	BUG("parameter type %d", s->type);
}

static int unknown(const struct trainer_config *c, const struct param *p, struct error *err)
{
	const char *names[ARRAY_SIZE(specs)];
	const char *near;
	size_t n = 0;

	for (size_t i = 0; i < ARRAY_SIZE(specs); i++)
		if (specs[i].models & (1u << c->kind))
			names[n++] = specs[i].name;
	near = suggest_closest(p->key, names, n);
	return error_set(err, code_of(p), "unknown parameter '%s' for %s (from %s)%s%s%s", p->key,
			 model_kind_name(c->kind), p->origin, near ? "; did you mean '" : "",
			 near ? near : "", near ? "'?" : "");
}

int trainer_config_apply(struct trainer_config *c, const struct param_list *l, struct error *err)
{
	for (size_t i = 0; i < l->nr; i++) {
		const struct param *p = &l->v[i];
		size_t j;
		int ret;

		for (j = 0; j < ARRAY_SIZE(specs); j++)
			if ((specs[j].models & (1u << c->kind)) && !strcmp(specs[j].name, p->key))
				break;
		if (j == ARRAY_SIZE(specs))
			return unknown(c, p, err);
		ret = apply_one(c, &specs[j], p, err);
		if (ret)
			return ret;
	}
	if (c->kind == MODEL_XGBOOST && c->xgb.tree_method && !strcmp(c->xgb.tree_method, "auto"))
		c->xgb.tree_method = NULL; /* libxgboost's own default */
	return 0;
}

json_t *trainer_config_to_json(const struct trainer_config *c)
{
	switch (c->kind) {
	case MODEL_LOGREG:
		return json_pack("{s:f, s:s, s:i, s:f, s:f, s:b, s:f}", "C", c->logreg.C, "solver",
				 c->logreg.solver == LOGREG_NEWTON ? "newton" : "lbfgs", "max_iter",
				 c->logreg.max_iter, "tol", c->logreg.tol, "ftol", c->logreg.ftol,
				 "fit_intercept", c->logreg.fit_intercept, "threshold",
				 c->threshold);
	case MODEL_LINEAR:
		return json_pack("{s:f, s:b}", "alpha", c->linear.alpha, "fit_intercept",
				 c->linear.fit_intercept);
	case MODEL_XGBOOST: {
		json_t *j = json_pack("{s:i, s:I, s:i, s:i, s:f}", "n_estimators",
				      c->xgb.n_estimators, "seed", (json_int_t)c->xgb.seed,
				      "nthread", c->xgb.nthread, "early_stopping_rounds",
				      c->xgb.early_stopping_rounds, "threshold", c->threshold);

		/* unset ones are libxgboost's defaults: say so rather than guess their values */
		if (c->xgb.max_depth >= 0)
			json_object_set_new(j, "max_depth", json_integer(c->xgb.max_depth));
		if (c->xgb.eta >= 0)
			json_object_set_new(j, "eta", json_real(c->xgb.eta));
		if (c->xgb.subsample >= 0)
			json_object_set_new(j, "subsample", json_real(c->xgb.subsample));
		if (c->xgb.colsample_bytree >= 0)
			json_object_set_new(j, "colsample_bytree",
					    json_real(c->xgb.colsample_bytree));
		if (c->xgb.min_child_weight >= 0)
			json_object_set_new(j, "min_child_weight",
					    json_real(c->xgb.min_child_weight));
		if (c->xgb.tree_method)
			json_object_set_new(j, "tree_method", json_string(c->xgb.tree_method));
		if (c->xgb.early_stopping_rounds)
			json_object_set_new(j, "validation_fraction",
					    json_real(c->validation_fraction));
		return j;
	}
	}
	BUG("model kind %d", c->kind);
}
