/* ferry.yaml: parsing stages into struct pipeline, with positions in every error. */
#include "util/common.h"
#include "pipeline/pipeline.h"
#include "util/fs.h"
#include "util/strbuf.h"
#include "util/suggest.h"
#include "util/yaml.h"

#include <ctype.h>

const char *stage_kind_name(enum stage_kind kind)
{
	static const char *const names[] = { "cmd", "train", "eval", "register" };

	return names[kind];
}

/* Paths ------------------------------------------------------------------------------------- */

int pipeline_path(char **out, const char *wdir, const char *rel, const char *what,
		  struct error *err)
{
	struct strbuf sb = STRBUF_INIT;
	char *joined;
	const char *p;
	int rc = 0;

	if (!*rel)
		return error_set(err, ERR_INVALID, "%s: expected a path, got an empty string",
				 what);
	if (rel[0] == '/')
		return error_set(err, ERR_INVALID,
				 "%s: '%s' is absolute; paths are relative to the stage's wdir",
				 what, rel);
	for (p = rel; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return error_set(err, ERR_INVALID,
					 "%s: '%s' holds a control character; paths may not", what,
					 rel);
	joined = *wdir ? xstrfmt("%s/%s", wdir, rel) : xstrdup(rel);
	for (p = joined; *p;) {
		size_t n = strcspn(p, "/");

		if (n == 0 || (n == 1 && p[0] == '.')) {
			/* "//" or "." */
		} else if (n == 2 && p[0] == '.' && p[1] == '.') {
			char *slash;

			if (!sb.len) {
				rc = error_set(err, ERR_INVALID, "%s: '%s' leaves the project",
					       what, rel);
				goto out;
			}
			slash = strrchr(sb.buf, '/');
			strbuf_setlen(&sb, slash ? (size_t)(slash - sb.buf) : 0);
		} else {
			if (sb.len)
				strbuf_addch(&sb, '/');
			strbuf_add(&sb, p, n);
		}
		p += n;
		if (*p == '/')
			p++;
	}
	if (!sb.len)
		rc = error_set(err, ERR_INVALID,
			       "%s: '%s' is the project root; name a file or "
			       "directory inside it",
			       what, rel);
	else if (skip_prefix(sb.buf, ".ferry", &p) && (!*p || *p == '/'))
		rc = error_set(err, ERR_INVALID, "%s: '%s' is inside .ferry/", what, rel);
	else if (skip_prefix(sb.buf, ".git", &p) && (!*p || *p == '/'))
		rc = error_set(err, ERR_INVALID, "%s: '%s' is inside .git/", what, rel);
out:
	free(joined);
	if (rc)
		strbuf_release(&sb);
	else
		*out = strbuf_detach(&sb, NULL);
	return rc;
}

static int path_list_has(const struct path_list *l, const char *path)
{
	for (size_t i = 0; i < l->nr; i++)
		if (!strcmp(l->v[i], path))
			return 1;
	return 0;
}

static void path_list_add(struct path_list *l, const char *path)
{
	ALLOC_GROW(l->v, l->nr + 1, l->alloc);
	l->v[l->nr++] = xstrdup(path);
}

static void path_list_release(struct path_list *l)
{
	for (size_t i = 0; i < l->nr; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* Parsing ----------------------------------------------------------------------------------- */

struct parser {
	const char *name;
	struct error *err;
	struct stage *st; /* the stage being parsed */
};

static int at(struct parser *ps, struct fy_node *node, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* An error at node, prefixed with the stage's name when inside one. */
static int at(struct parser *ps, struct fy_node *node, const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (ps->st)
		return yaml_error_at(ps->err, ps->name, node, "stage '%s': %s", ps->st->name, msg);
	return yaml_error_at(ps->err, ps->name, node, "%s", msg);
}

static int want_string(char **out, struct parser *ps, struct fy_node *node, const char *key)
{
	char *s = yaml_scalar_dup(node);

	if (!s || !*s) {
		const char *got = s ? "an empty string" : yaml_node_kind_name(node);

		free(s);
		return at(ps, node, "key '%s': expected a non-empty string, got %s", key, got);
	}
	*out = s;
	return 0;
}

/* One path (a scalar), made relative to the repository root; *out is the caller's. */
static int want_path(char **out, struct parser *ps, struct fy_node *node, const char *key)
{
	char *s = NULL;
	int rc = want_string(&s, ps, node, key);

	if (!rc && (rc = pipeline_path(out, ps->st->wdir, s, key, ps->err)))
		rc = at(ps, node, "%s", ps->err->msg);
	free(s);
	return rc;
}

/* A path, or a sequence of paths, appended to l (relative to wdir). */
static int want_paths(struct path_list *l, struct parser *ps, struct fy_node *node, const char *key)
{
	struct fy_node *item;
	void *iter = NULL;

	if (!fy_node_is_sequence(node)) {
		char *path = NULL;
		int rc = want_path(&path, ps, node, key);

		if (!rc && !path_list_has(l, path))
			path_list_add(l, path);
		free(path);
		return rc;
	}
	while ((item = fy_node_sequence_iterate(node, &iter))) {
		int rc;

		if (fy_node_is_sequence(item))
			return at(ps, item, "key '%s': expected a path, got a sequence", key);
		if ((rc = want_paths(l, ps, item, key)))
			return rc;
	}
	return 0;
}

static void add_param(struct stage *st, const char *file, const char *key)
{
	for (size_t i = 0; i < st->nparams; i++)
		if (!strcmp(st->params[i].file, file) && !strcmp(st->params[i].key, key))
			return;
	st->params = xreallocarray(st->params, st->nparams + 1, sizeof(*st->params));
	st->params[st->nparams].file = xstrdup(file);
	st->params[st->nparams++].key = xstrdup(key);
}

/* params: [key, {file: [key...]}]; keys without a file are params.yaml's (beside wdir). */
static int parse_params(struct parser *ps, struct fy_node *node)
{
	struct fy_node *item;
	void *iter = NULL;
	char *deffile = NULL;
	int rc = pipeline_path(&deffile, ps->st->wdir, "params.yaml", "params", ps->err);

	if (rc)
		return rc;
	if (!fy_node_is_sequence(node)) {
		rc = at(ps, node, "key 'params': expected a sequence, got %s",
			yaml_node_kind_name(node));
		goto out;
	}
	while (!rc && (item = fy_node_sequence_iterate(node, &iter))) {
		struct fy_node_pair *pair;
		void *it2 = NULL;
		char *key = NULL;

		if (!fy_node_is_mapping(item)) {
			if (!(rc = want_string(&key, ps, item, "params")))
				add_param(ps->st, deffile, key);
			free(key);
			continue;
		}
		while (!rc && (pair = fy_node_mapping_iterate(item, &it2))) {
			struct fy_node *keys = fy_node_pair_value(pair), *k;
			char *file = NULL;
			void *it3 = NULL;

			/* One file per key: a sequence as key ({[a, b]: [k]}) is an error. */
			rc = want_path(&file, ps, fy_node_pair_key(pair), "params");
			if (!rc && !fy_node_is_sequence(keys))
				rc = at(ps, keys ? keys : item,
					"key 'params': file '%s': expected a sequence of keys, "
					"got %s",
					file, yaml_node_kind_name(keys));
			while (!rc && (k = fy_node_sequence_iterate(keys, &it3))) {
				if (!(rc = want_string(&key, ps, k, "params")))
					add_param(ps->st, file, key);
				free(key);
				key = NULL;
			}
			free(file);
		}
	}
out:
	free(deffile);
	return rc;
}

static int parse_cmd(struct parser *ps, struct fy_node *node)
{
	struct fy_node *item;
	void *iter = NULL;
	struct strbuf text = STRBUF_INIT;
	int rc = 0;

	if (!fy_node_is_sequence(node)) {
		ps->st->cmd = xcalloc(1, sizeof(char *));
		rc = want_string(&ps->st->cmd[0], ps, node, "cmd");
		ps->st->ncmd = rc ? 0 : 1;
	} else {
		while (!rc && (item = fy_node_sequence_iterate(node, &iter))) {
			char *s = NULL;

			if (!(rc = want_string(&s, ps, item, "cmd"))) {
				ps->st->cmd =
				    xreallocarray(ps->st->cmd, ps->st->ncmd + 1, sizeof(char *));
				ps->st->cmd[ps->st->ncmd++] = s;
			}
		}
		if (!rc && !ps->st->ncmd)
			rc = at(ps, node, "key 'cmd': expected at least one command");
	}
	for (size_t i = 0; !rc && i < ps->st->ncmd; i++) {
		if (i)
			strbuf_addch(&text, '\n');
		strbuf_addstr(&text, ps->st->cmd[i]);
	}
	if (!rc)
		ps->st->cmd_text = strbuf_detach(&text, NULL);
	strbuf_release(&text);
	return rc;
}

/* Built-in steps ---------------------------------------------------------------------------- */

enum opt_type {
	OPT_DEP,     /* a path the step reads: a dep */
	OPT_OUT,     /* a path the step writes: an out */
	OPT_METRICS, /* a JSON metrics file the step writes: an out and a metrics file */
	OPT_PARAMS,  /* FILE[:SECTION]: a params dependency on SECTION (or the whole file) */
	OPT_STR,
	OPT_NUM,
	OPT_LIST, /* a string or a sequence of strings */
	OPT_MAP,  /* a mapping of scalars: --param KEY=VALUE */
};

struct step_opt {
	const char *name;
	enum opt_type type;
	int required;
};

static const struct step_opt train_opts[] = {
	{ "data", OPT_DEP, 1 },	      { "target", OPT_STR, 1 },	     { "out", OPT_OUT, 1 },
	{ "model", OPT_STR, 0 },      { "task", OPT_STR, 0 },	     { "test_size", OPT_NUM, 0 },
	{ "cv", OPT_NUM, 0 },	      { "seed", OPT_NUM, 0 },	     { "params", OPT_PARAMS, 0 },
	{ "param", OPT_MAP, 0 },      { "drop", OPT_LIST, 0 },	     { "na", OPT_STR, 0 },
	{ "experiment", OPT_STR, 0 }, { "metrics", OPT_METRICS, 0 }, { NULL, OPT_STR, 0 },
};
static const struct step_opt eval_opts[] = {
	{ "model", OPT_DEP, 1 }, { "data", OPT_DEP, 1 },   { "metrics", OPT_METRICS, 1 },
	{ "na", OPT_STR, 0 },	 { "unseen", OPT_STR, 0 }, { NULL, OPT_STR, 0 },
};
static const struct step_opt register_opts[] = {
	{ "model", OPT_DEP, 1 },
	{ "name", OPT_STR, 1 },
	{ "description", OPT_STR, 0 },
	{ NULL, OPT_STR, 0 },
};

static const struct step_opt *step_opts(enum stage_kind kind)
{
	return kind == STAGE_TRAIN ? train_opts : kind == STAGE_EVAL ? eval_opts : register_opts;
}

static const struct step_opt *find_opt(const struct step_opt *opts, const char *name)
{
	for (; opts->name; opts++)
		if (!strcmp(opts->name, name))
			return opts;
	return NULL;
}

static int unknown_key(struct parser *ps, struct fy_node *node, const char *key, const char *where,
		       const char *const *cands, size_t n)
{
	const char *s = suggest_closest(key, cands, n);

	if (s)
		return at(ps, node, "unknown key '%s' in %s; did you mean '%s'?", key, where, s);
	return at(ps, node, "unknown key '%s' in %s", key, where);
}

static int step_value(struct parser *ps, const struct step_opt *o, struct fy_node *v, json_t *step)
{
	struct stage *st = ps->st;
	char *s = NULL, *path = NULL;
	int rc = 0;

	if (o->type == OPT_LIST && fy_node_is_sequence(v)) {
		json_t *arr = json_array();
		struct fy_node *item;
		void *iter = NULL;

		while (!rc && (item = fy_node_sequence_iterate(v, &iter)))
			if (!(rc = want_string(&s, ps, item, o->name))) {
				json_array_append_new(arr, json_string(s));
				free(s);
				s = NULL;
			}
		json_object_set_new(step, o->name, arr);
		return rc;
	}
	if (o->type == OPT_MAP) {
		json_t *map = json_object();
		struct fy_node_pair *pair;
		void *iter = NULL;

		if (!fy_node_is_mapping(v))
			rc = at(ps, v, "%s: key '%s': expected a mapping, got %s",
				stage_kind_name(st->kind), o->name, yaml_node_kind_name(v));
		while (!rc && (pair = fy_node_mapping_iterate(v, &iter))) {
			char *k = yaml_scalar_dup(fy_node_pair_key(pair)),
			     *val = yaml_scalar_dup(fy_node_pair_value(pair));

			if (!k || !val)
				rc = at(ps, fy_node_pair_value(pair) ? fy_node_pair_value(pair) : v,
					"%s: key '%s': expected scalar keys and values",
					stage_kind_name(st->kind), o->name);
			else
				json_object_set_new(map, k, json_string(val));
			free(k);
			free(val);
		}
		json_object_set_new(step, o->name, map);
		return rc;
	}
	if ((rc = want_string(&s, ps, v, o->name)))
		return rc;
	if (o->type == OPT_NUM) {
		char *end = NULL;

		errno = 0;
		(void)strtod(s, &end);
		if (errno || end == s || *end)
			rc = at(ps, v, "%s: key '%s': expected a number, got '%s'",
				stage_kind_name(st->kind), o->name, s);
	} else if (o->type == OPT_DEP || o->type == OPT_OUT || o->type == OPT_METRICS) {
		if ((rc = pipeline_path(&path, st->wdir, s, o->name, ps->err)))
			rc = at(ps, v, "%s", ps->err->msg);
		else if (o->type == OPT_DEP && !path_list_has(&st->deps, path))
			path_list_add(&st->deps, path);
		else if (o->type != OPT_DEP && !path_list_has(&st->outs, path))
			path_list_add(&st->outs, path);
		if (!rc && o->type == OPT_METRICS && !path_list_has(&st->metrics, path))
			path_list_add(&st->metrics, path);
	} else if (o->type == OPT_PARAMS) {
		char *colon = strrchr(s, ':'), *file = NULL;

		if (colon)
			*colon = '\0';
		if ((rc = pipeline_path(&file, st->wdir, s, o->name, ps->err))) {
			rc = at(ps, v, "%s", ps->err->msg);
		} else {
			add_param(st, file, colon ? colon + 1 : "");
			/* the step reads the file itself, from the root */
			path = colon ? xstrfmt("%s:%s", file, colon + 1) : xstrdup(file);
		}
		if (colon)
			*colon = ':';
		free(file);
	}
	json_object_set_new(step, o->name, json_string(path ? path : s));
	free(s);
	free(path);
	return rc;
}

static int parse_step(struct parser *ps, struct fy_node *node, enum stage_kind kind)
{
	const struct step_opt *opts = step_opts(kind);
	const char *cands[16];
	struct fy_node_pair *pair;
	void *iter = NULL;
	size_t n = 0;
	int rc = 0;

	ps->st->kind = kind;
	ps->st->step = json_object();
	for (const struct step_opt *o = opts; o->name; o++)
		cands[n++] = o->name;
	if (!fy_node_is_mapping(node))
		return at(ps, node, "key '%s': expected a mapping of options, got %s",
			  stage_kind_name(kind), yaml_node_kind_name(node));
	while (!rc && (pair = fy_node_mapping_iterate(node, &iter))) {
		struct fy_node *k = fy_node_pair_key(pair), *v = fy_node_pair_value(pair);
		char *key = yaml_scalar_dup(k);
		const struct step_opt *o = key ? find_opt(opts, key) : NULL;
		char where[32];

		snprintf(where, sizeof(where), "'%s'", stage_kind_name(kind));
		if (!key)
			rc = at(ps, k, "expected a string key, got %s", yaml_node_kind_name(k));
		else if (!o)
			rc = unknown_key(ps, k, key, where, cands, n);
		else
			rc = step_value(ps, o, v ? v : node, ps->st->step);
		free(key);
	}
	for (const struct step_opt *o = opts; !rc && o->name; o++)
		if (o->required && !json_object_get(ps->st->step, o->name))
			rc = at(ps, node, "%s: missing key '%s'", stage_kind_name(kind), o->name);
	if (!rc) {
		char *j = json_dumps(ps->st->step, JSON_SORT_KEYS | JSON_COMPACT);

		ps->st->cmd_text = xstrfmt("ferry %s %s", stage_kind_name(kind), j);
		free(j);
	}
	return rc;
}

/* Stages ------------------------------------------------------------------------------------ */

static const char *const stage_keys[] = { "cmd",  "deps", "params", "outs", "metrics",
					  "wdir", "desc", "train",  "eval", "register" };

static int valid_stage_name(const char *s)
{
	if (!*s || strlen(s) > 100)
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("_-.", *s))
			return 0;
	return 1;
}

static struct fy_node *lookup(struct fy_node *map, const char *key)
{
	return fy_node_mapping_lookup_by_string(map, key, FY_NT);
}

static int parse_stage(struct parser *ps, struct fy_node *knode, struct fy_node *body)
{
	struct stage *st = ps->st;
	struct fy_node_pair *pair;
	struct fy_node *v;
	void *iter = NULL;
	int rc = 0, nsteps = 0;

	yaml_node_mark(knode, &st->line, &st->col);
	if (!valid_stage_name(st->name))
		return at(ps, knode, "invalid stage name; use letters, digits, '_', '-' and '.'");
	if (!body || !fy_node_is_mapping(body))
		return at(ps, body ? body : knode, "expected a mapping, got %s",
			  yaml_node_kind_name(body));
	while ((pair = fy_node_mapping_iterate(body, &iter))) {
		struct fy_node *k = fy_node_pair_key(pair);
		char *key = yaml_scalar_dup(k);
		int known = 0;

		for (size_t i = 0; key && i < ARRAY_SIZE(stage_keys); i++)
			known |= !strcmp(key, stage_keys[i]);
		if (!known) {
			rc = key ? unknown_key(ps, k, key, "a stage", stage_keys,
					       ARRAY_SIZE(stage_keys))
				 : at(ps, k, "expected a string key");
			free(key);
			return rc;
		}
		nsteps += !strcmp(key, "cmd") || !strcmp(key, "train") || !strcmp(key, "eval") ||
			  !strcmp(key, "register");
		free(key);
	}
	if (nsteps != 1)
		return at(ps, knode,
			  nsteps ? "has more than one of 'cmd', 'train', 'eval' and 'register'"
				 : "needs 'cmd' (or a built-in step: 'train', 'eval', 'register')");
	st->wdir = xstrdup("");
	if ((v = lookup(body, "wdir"))) {
		char *s = NULL;

		free(st->wdir);
		st->wdir = NULL;
		rc = want_string(&s, ps, v, "wdir");
		if (!rc && strcmp(s, ".") &&
		    (rc = pipeline_path(&st->wdir, "", s, "wdir", ps->err)))
			rc = at(ps, v, "%s", ps->err->msg);
		if (!st->wdir)
			st->wdir = xstrdup("");
		free(s);
		if (rc)
			return rc;
	}
	if ((v = lookup(body, "deps")) && (rc = want_paths(&st->deps, ps, v, "deps")))
		return rc;
	if ((v = lookup(body, "outs")) && (rc = want_paths(&st->outs, ps, v, "outs")))
		return rc;
	if ((v = lookup(body, "metrics")) && (rc = want_paths(&st->metrics, ps, v, "metrics")))
		return rc;
	if ((v = lookup(body, "params")) && (rc = parse_params(ps, v)))
		return rc;
	if ((v = lookup(body, "cmd")))
		rc = parse_cmd(ps, v);
	else if ((v = lookup(body, "train")))
		rc = parse_step(ps, v, STAGE_TRAIN);
	else if ((v = lookup(body, "eval")))
		rc = parse_step(ps, v, STAGE_EVAL);
	else
		rc = parse_step(ps, lookup(body, "register"), STAGE_REGISTER);
	/* metrics files are outputs too (cached and restored like them) */
	for (size_t i = 0; !rc && i < st->metrics.nr; i++)
		if (!path_list_has(&st->outs, st->metrics.v[i]))
			path_list_add(&st->outs, st->metrics.v[i]);
	for (size_t i = 0; !rc && i < st->outs.nr; i++)
		if (path_list_has(&st->deps, st->outs.v[i]))
			rc = at(ps, knode, "'%s' is both a dep and an out", st->outs.v[i]);
	return rc;
}

static void stage_release(struct stage *st)
{
	free(st->name);
	for (size_t i = 0; i < st->ncmd; i++)
		free(st->cmd[i]);
	free(st->cmd);
	free(st->wdir);
	path_list_release(&st->deps);
	path_list_release(&st->outs);
	path_list_release(&st->metrics);
	for (size_t i = 0; i < st->nparams; i++) {
		free(st->params[i].file);
		free(st->params[i].key);
	}
	free(st->params);
	json_decref(st->step);
	free(st->cmd_text);
}

void pipeline_release(struct pipeline *p)
{
	for (size_t i = 0; i < p->nr; i++)
		stage_release(&p->stages[i]);
	free(p->stages);
	free(p->file);
	fy_document_destroy(p->doc);
	memset(p, 0, sizeof(*p));
}

static int parse_stages(struct pipeline *p, struct parser *ps, struct fy_node *stages)
{
	struct fy_node_pair *pair;
	void *iter = NULL;
	int rc = 0;

	if (!fy_node_is_mapping(stages))
		return at(ps, stages, "key 'stages': expected a mapping of stage names, got %s",
			  yaml_node_kind_name(stages));
	while (!rc && (pair = fy_node_mapping_iterate(stages, &iter))) {
		struct fy_node *k = fy_node_pair_key(pair);
		char *name = yaml_scalar_dup(k);

		if (!name)
			return at(ps, k, "expected a stage name, got %s", yaml_node_kind_name(k));
		p->stages = xreallocarray(p->stages, p->nr + 1, sizeof(*p->stages));
		memset(&p->stages[p->nr], 0, sizeof(*p->stages));
		p->stages[p->nr].name = name;
		ps->st = &p->stages[p->nr++];
		rc = parse_stage(ps, k, fy_node_pair_value(pair));
		ps->st = NULL;
	}
	return rc;
}

int pipeline_parse(struct pipeline *out, const char *name, const char *buf, size_t len,
		   struct error *err)
{
	static const char *const top_keys[] = { "stages", "retrain" };
	struct pipeline p = PIPELINE_INIT;
	struct parser ps = { name, err, NULL };
	struct fy_node_pair *pair;
	struct fy_node *root;
	void *iter = NULL;
	int rc = yaml_load_buffer(&p.doc, name, buf, len, err);

	if (rc)
		return rc;
	p.file = xstrdup(name);
	root = fy_document_root(p.doc);
	if (!root) {
		rc = error_set(err, ERR_INVALID, "%s: empty; expected a mapping with 'stages'",
			       name);
		goto out;
	}
	if (!fy_node_is_mapping(root)) {
		rc = at(&ps, root, "expected a mapping with 'stages', got %s",
			yaml_node_kind_name(root));
		goto out;
	}
	while (!rc && (pair = fy_node_mapping_iterate(root, &iter))) {
		struct fy_node *k = fy_node_pair_key(pair);
		char *key = yaml_scalar_dup(k);

		if (!key)
			rc = at(&ps, k, "expected a string key, got %s", yaml_node_kind_name(k));
		else if (!strcmp(key, "stages"))
			rc = parse_stages(&p, &ps, fy_node_pair_value(pair));
		else if (!strcmp(key, "retrain"))
			p.retrain = fy_node_pair_value(pair); /* the retraining module's */
		else
			rc = unknown_key(&ps, k, key, "ferry.yaml", top_keys, ARRAY_SIZE(top_keys));
		free(key);
	}
out:
	if (rc) {
		pipeline_release(&p);
		return rc;
	}
	*out = p;
	return 0;
}

int pipeline_load(struct pipeline *out, const char *root, struct error *err)
{
	char *path = fs_path_join(root, PIPELINE_FILE);
	struct strbuf buf = STRBUF_INIT;
	int rc = fs_read_file(&buf, path, PIPELINE_MAX_SIZE, err);

	if (rc == ERR_NOTFOUND)
		rc = error_set(err, ERR_NOTFOUND,
			       "no " PIPELINE_FILE " in '%s'; declare the pipeline's stages there "
			       "(see docs/pipelines.md)",
			       root);
	if (!rc)
		rc = pipeline_parse(out, PIPELINE_FILE, buf.buf ? buf.buf : "", buf.len, err);
	strbuf_release(&buf);
	free(path);
	return rc;
}

const struct stage *pipeline_find(const struct pipeline *p, const char *name)
{
	for (size_t i = 0; i < p->nr; i++)
		if (!strcmp(p->stages[i].name, name))
			return &p->stages[i];
	return NULL;
}
