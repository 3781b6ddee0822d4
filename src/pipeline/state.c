/* A stage's state now (deps, params, cmd, outs) and why it differs from ferry.lock. */
#include "util/common.h"
#include "pipeline/state.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/yaml.h"

/* Params ---------------------------------------------------------------------------------------- */

static json_t *node_json(struct fy_node *n)
{
	if (!n || fy_node_is_alias(n))
		return json_null();
	if (fy_node_is_scalar(n)) {
		size_t len;
		const char *s = fy_node_get_scalar(n, &len);

		return json_stringn(s ? s : "", s ? len : 0);
	}
	if (fy_node_is_sequence(n)) {
		json_t *arr = json_array();
		struct fy_node *item;
		void *iter = NULL;

		while ((item = fy_node_sequence_iterate(n, &iter)))
			json_array_append_new(arr, node_json(item));
		return arr;
	} else {
		json_t *obj = json_object();
		struct fy_node_pair *pair;
		void *iter = NULL;

		while ((pair = fy_node_mapping_iterate(n, &iter))) {
			size_t len;
			struct fy_node *k = fy_node_pair_key(pair);
			const char *s =
			    k && fy_node_is_scalar(k) ? fy_node_get_scalar(k, &len) : NULL;
			char *key = s ? xstrndup(s, len) : xstrdup("?");

			json_object_set_new(obj, key, node_json(fy_node_pair_value(pair)));
			free(key);
		}
		return obj;
	}
}

char *pipe_param_lookup(struct fy_node *node, const char *key)
{
	const char *p = key;

	/* try the longest dotted prefix that is a key, so "a.b" may be one key or two */
	while (*p && node) {
		struct fy_node *next = NULL;
		size_t n = strlen(p);

		if (!fy_node_is_mapping(node))
			return NULL;
		for (;;) {
			char *k = xstrndup(p, n);

			next = fy_node_mapping_lookup_by_string(node, k, FY_NT);
			free(k);
			if (next || !n)
				break;
			while (n && p[n - 1] != '.')
				n--;
			if (n)
				n--; /* drop the dot */
			if (!n)
				break;
		}
		if (!next)
			return NULL;
		node = next;
		p += n;
		if (*p == '.')
			p++;
	}
	if (!node)
		return NULL;
	if (fy_node_is_scalar(node) && !fy_node_is_alias(node)) {
		size_t len;
		const char *s = fy_node_get_scalar(node, &len);

		return xstrndup(s ? s : "", s ? len : 0);
	} else {
		json_t *j = node_json(node);
		char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);

		json_decref(j);
		return s ? s : xstrdup("null");
	}
}

int pipe_param_value(char **out, const char *root, const char *file, const char *key,
		     struct error *err)
{
	char *path = fs_path_join(root, file);
	struct fy_document *doc = NULL;
	int rc = yaml_load_file(&doc, path, 16u << 20, err);
	char *v = NULL;

	if (rc == ERR_NOTFOUND)
		rc = error_set(err, ERR_NOTFOUND, "params file '%s' does not exist", file);
	if (!rc &&
	    !(v = fy_document_root(doc) ? pipe_param_lookup(fy_document_root(doc), key) : NULL))
		rc = error_set(err, ERR_NOTFOUND, "params file '%s' has no key '%s'", file, key);
	if (!rc)
		*out = v;
	fy_document_destroy(doc);
	free(path);
	return rc;
}

/* Comparing ------------------------------------------------------------------------------------ */

void stage_state_release(struct stage_state *s)
{
	lock_stage_release(&s->now);
	strbuf_release(&s->why);
	s->stale = s->missing_dep = 0;
}

static void reason(struct strbuf *why, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void reason(struct strbuf *why, const char *fmt, ...)
{
	va_list ap;

	if (why->len)
		strbuf_addstr(why, "; ");
	va_start(ap, fmt);
	strbuf_vaddf(why, fmt, ap);
	va_end(ap);
}

static const struct lock_entry *find_entry(const struct lock_entry *e, size_t n, const char *path)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(e[i].path, path))
			return &e[i];
	return NULL;
}

static const struct lock_param *find_param(const struct lock_stage *st, const char *file,
					   const char *key)
{
	for (size_t i = 0; i < st->nparams; i++)
		if (!strcmp(st->params[i].file, file) && !strcmp(st->params[i].key, key))
			return &st->params[i];
	return NULL;
}

static void short_value(struct strbuf *sb, const char *v)
{
	if (strlen(v) > 40)
		strbuf_addf(sb, "%.37s...", v);
	else
		strbuf_addstr(sb, v);
}

int stage_compare(const struct lock_stage *now, const struct lock_stage *locked, struct strbuf *why)
{
	size_t before = why->len;

	if (!locked) {
		reason(why, "never run");
		return 1;
	}
	if (strcmp(now->cmd, locked->cmd))
		reason(why, "cmd changed");
	for (size_t i = 0; i < now->ndeps; i++) {
		const struct lock_entry *old =
		    find_entry(locked->deps, locked->ndeps, now->deps[i].path);

		if (!old)
			reason(why, "dep '%s' added", now->deps[i].path);
		else if (strcmp(old->hex, now->deps[i].hex))
			reason(why, "dep '%s' changed", now->deps[i].path);
	}
	for (size_t i = 0; i < locked->ndeps; i++)
		if (!find_entry(now->deps, now->ndeps, locked->deps[i].path))
			reason(why, "dep '%s' removed", locked->deps[i].path);
	for (size_t i = 0; i < now->nparams; i++) {
		const struct lock_param *p = &now->params[i];
		const struct lock_param *old = find_param(locked, p->file, p->key);

		if (!old) {
			reason(why, "param '%s:%s' added", p->file, p->key);
		} else if (strcmp(old->value, p->value)) {
			struct strbuf sb = STRBUF_INIT;

			short_value(&sb, old->value);
			strbuf_addstr(&sb, " -> ");
			short_value(&sb, p->value);
			reason(why, "param '%s%s%s' changed (%s)", p->file, *p->key ? ":" : "",
			       p->key, sb.buf);
			strbuf_release(&sb);
		}
	}
	for (size_t i = 0; i < locked->nparams; i++)
		if (!find_param(now, locked->params[i].file, locked->params[i].key))
			reason(why, "param '%s:%s' removed", locked->params[i].file,
			       locked->params[i].key);
	for (size_t i = 0; i < locked->nouts; i++) {
		const struct lock_entry *cur =
		    find_entry(now->outs, now->nouts, locked->outs[i].path);

		if (!cur)
			reason(why, "out '%s' missing", locked->outs[i].path);
		else if (strcmp(cur->hex, locked->outs[i].hex))
			reason(why, "out '%s' modified", locked->outs[i].path);
	}
	for (size_t i = 0; i < now->nouts; i++)
		if (!find_entry(locked->outs, locked->nouts, now->outs[i].path))
			reason(why, "out '%s' added", now->outs[i].path);
	return why->len > before;
}

static struct lock_entry *push_entry(struct lock_entry **v, size_t *n)
{
	*v = xreallocarray(*v, *n + 1, sizeof(**v));
	memset(&(*v)[*n], 0, sizeof(**v));
	return &(*v)[(*n)++];
}

int stage_check(struct stage_state *out, struct pipe_env *env, const struct stage *st,
		const struct lock_stage *locked, struct error *err)
{
	struct lock_stage *now = &out->now;
	int rc = 0;

	now->name = xstrdup(st->name);
	now->cmd = xstrdup(st->cmd_text);
	for (size_t i = 0; !rc && i < st->deps.nr; i++) {
		struct lock_entry e;

		rc = pipe_hash(&e, env, st->deps.v[i], 0, err);
		if (rc == ERR_NOTFOUND) {
			out->missing_dep = 1;
			reason(&out->why, "dep '%s' missing", st->deps.v[i]);
			rc = 0;
		} else if (!rc) {
			*push_entry(&now->deps, &now->ndeps) = e;
		}
	}
	for (size_t i = 0; !rc && i < st->nparams; i++) {
		char *v = NULL;

		rc = pipe_param_value(&v, env->root, st->params[i].file, st->params[i].key, err);
		if (!rc) {
			now->params =
			    xreallocarray(now->params, now->nparams + 1, sizeof(*now->params));
			now->params[now->nparams].file = xstrdup(st->params[i].file);
			now->params[now->nparams].key = xstrdup(st->params[i].key);
			now->params[now->nparams++].value = v;
		}
	}
	for (size_t i = 0; !rc && i < st->outs.nr; i++) {
		struct lock_entry e;

		rc = pipe_hash(&e, env, st->outs.v[i], 0, err);
		if (rc == ERR_NOTFOUND) {
			if (!locked)
				rc = 0; /* "never run" says it all */
			else if (!find_entry(locked->outs, locked->nouts, st->outs.v[i]))
				reason(&out->why, "out '%s' missing", st->outs.v[i]);
			rc = 0;
		} else if (!rc) {
			*push_entry(&now->outs, &now->nouts) = e;
		}
	}
	if (rc) {
		stage_state_release(out);
		return rc;
	}
	/* a missing dep is already a reason: compare the rest without repeating it */
	if (out->missing_dep) {
		out->stale = 1;
		if (locked) {
			struct lock_stage tmp;

			lock_stage_copy(&tmp, locked);
			size_t k = 0;

			for (size_t i = 0; i < tmp.ndeps; i++) {
				if (find_entry(now->deps, now->ndeps, tmp.deps[i].path))
					tmp.deps[k++] = tmp.deps[i];
				else
					free(tmp.deps[i].path);
			}
			tmp.ndeps = k;
			stage_compare(now, &tmp, &out->why);
			lock_stage_release(&tmp);
		}
		return 0;
	}
	out->stale = stage_compare(now, locked, &out->why);
	return 0;
}
