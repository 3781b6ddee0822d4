/* Metrics and params of the pipeline, in the workspace or at a git revision, and their diff. */
#include "util/common.h"
#include "pipeline/diff.h"
#include "pipeline/state.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/parse.h"
#include "util/strbuf.h"
#include "util/subprocess.h"
#include "util/yaml.h"

#define FILE_MAX_SIZE (16u << 20)

void pvalues_release(struct pvalues *pv)
{
	for (size_t i = 0; i < pv->nr; i++) {
		free(pv->v[i].path);
		free(pv->v[i].key);
		free(pv->v[i].value);
	}
	free(pv->v);
	memset(pv, 0, sizeof(*pv));
}

static void pv_add(struct pvalues *pv, const char *path, const char *key, char *value)
{
	ALLOC_GROW(pv->v, pv->nr + 1, pv->alloc);
	pv->v[pv->nr].path = xstrdup(path);
	pv->v[pv->nr].key = xstrdup(key);
	pv->v[pv->nr++].value = value;
}

static int cmp_pv(const void *a, const void *b)
{
	const struct pvalue *x = a, *y = b;
	int c = strcmp(x->path, y->path);

	return c ? c : strcmp(x->key, y->key);
}

int pipe_read_at(struct strbuf *out, const char *root, const char *rev, const char *path,
		 struct error *err)
{
	struct subprocess_result r = SUBPROCESS_RESULT_INIT;
	char *spec;
	int rc;

	if (!rev) {
		char *abs = fs_path_join(root, path);

		rc = fs_read_file(out, abs, FILE_MAX_SIZE, err);
		free(abs);
		return rc;
	}
	spec = xstrfmt("%s:./%s", rev, path);
	{
		const char *argv[] = { "git", "show", spec, NULL };

		rc = subprocess_run(&r, argv, root, NULL, FILE_MAX_SIZE, err);
	}
	if (!rc && r.exit_code) {
		const char *verify[] = { "git", "rev-parse", "--verify", "--quiet", NULL, NULL };
		struct subprocess_result v = SUBPROCESS_RESULT_INIT;
		char *commit = xstrfmt("%s^{commit}", rev);
		struct error ignored = ERROR_INIT;

		verify[4] = commit;
		if (!subprocess_run(&v, verify, root, NULL, 4096, &ignored) && v.exit_code)
			rc = error_set(err, ERR_NOTFOUND, "'%s' is not a git revision here", rev);
		else
			rc =
			    error_set(err, ERR_NOTFOUND, "'%s' is not in revision '%s'", path, rev);
		subprocess_result_release(&v);
		free(commit);
	}
	if (!rc)
		strbuf_add(out, r.out.buf ? r.out.buf : "", r.out.len);
	subprocess_result_release(&r);
	free(spec);
	return rc;
}

static void flatten(struct pvalues *out, const char *path, json_t *j, struct strbuf *prefix)
{
	size_t len = prefix->len;
	const char *key;
	json_t *v;

	if (json_is_number(j)) {
		char buf[FORMAT_DOUBLE_SIZE];

		format_double(buf, json_number_value(j));
		pv_add(out, path, prefix->buf ? prefix->buf : "", xstrdup(buf));
		return;
	}
	if (json_is_boolean(j)) {
		pv_add(out, path, prefix->buf ? prefix->buf : "",
		       xstrdup(json_is_true(j) ? "1" : "0"));
		return;
	}
	json_object_foreach(j, key, v) {
		if (len)
			strbuf_addch(prefix, '.');
		strbuf_addstr(prefix, key);
		flatten(out, path, v, prefix);
		strbuf_setlen(prefix, len);
	}
}

int pipe_metrics_parse(struct pvalues *out, const char *path, const char *buf, size_t len,
		       struct error *err)
{
	struct strbuf prefix = STRBUF_INIT;
	json_t *j = NULL;
	int rc = json_load_buffer(&j, path, buf, len, err);

	if (!rc && !json_is_object(j))
		rc = error_set(err, ERR_INVALID, "%s: expected a JSON object of metrics", path);
	if (!rc)
		flatten(out, path, j, &prefix);
	json_decref(j);
	strbuf_release(&prefix);
	return rc;
}

int pipe_metrics(struct pvalues *out, const struct pipeline *p, const char *root, const char *rev,
		 struct error *err)
{
	struct pvalues pv = PVALUES_INIT;
	int rc = 0;

	for (size_t i = 0; !rc && i < p->nr; i++)
		for (size_t k = 0; !rc && k < p->stages[i].metrics.nr; k++) {
			struct strbuf buf = STRBUF_INIT;
			const char *path = p->stages[i].metrics.v[k];

			rc = pipe_read_at(&buf, root, rev, path, err);
			if (rc == ERR_NOTFOUND && !strstr(err->msg, "not a git revision"))
				rc = 0; /* not written yet, or not committed then */
			else if (!rc)
				rc = pipe_metrics_parse(&pv, path, buf.buf ? buf.buf : "", buf.len,
							err);
			strbuf_release(&buf);
		}
	if (rc) {
		pvalues_release(&pv);
		return rc;
	}
	if (pv.nr)
		qsort(pv.v, pv.nr, sizeof(*pv.v), cmp_pv);
	*out = pv;
	return 0;
}

/* Two stages declaring the same key (or one inside another's section) list it once. */
static void dedup(struct pvalues *pv)
{
	size_t k = 0;

	for (size_t i = 0; i < pv->nr; i++) {
		if (k && !cmp_pv(&pv->v[k - 1], &pv->v[i])) {
			free(pv->v[i].path);
			free(pv->v[i].key);
			free(pv->v[i].value);
			continue;
		}
		pv->v[k++] = pv->v[i];
	}
	pv->nr = k;
}

/* A params value: a mapping becomes one entry per leaf ("train" -> "train.C", ...). */
static void add_leaves(struct pvalues *pv, const char *file, struct fy_node *node,
		       struct strbuf *key)
{
	struct fy_node_pair *pair;
	void *iter = NULL;
	size_t len = key->len;

	if (!fy_node_is_mapping(node)) {
		char *v = pipe_param_lookup(node, "");

		pv_add(pv, file, key->buf ? key->buf : "", v);
		return;
	}
	while ((pair = fy_node_mapping_iterate(node, &iter))) {
		struct fy_node *k = fy_node_pair_key(pair);
		size_t n;
		const char *name = k && fy_node_is_scalar(k) ? fy_node_get_scalar(k, &n) : NULL;

		if (!name || !fy_node_pair_value(pair))
			continue;
		if (key->len)
			strbuf_addch(key, '.');
		strbuf_add(key, name, n);
		add_leaves(pv, file, fy_node_pair_value(pair), key);
		strbuf_setlen(key, len);
	}
}

/* The node at a dotted key, as pipe_param_lookup finds it. */
static struct fy_node *node_at(struct fy_node *node, const char *key)
{
	const char *p = key;

	while (*p && node) {
		struct fy_node *next = NULL;
		size_t n = strlen(p);

		if (!fy_node_is_mapping(node))
			return NULL;
		while (n && !next) {
			char *k = xstrndup(p, n);

			next = fy_node_mapping_lookup_by_string(node, k, FY_NT);
			free(k);
			if (!next) {
				while (n && p[n - 1] != '.')
					n--;
				if (n)
					n--;
			}
		}
		node = next;
		p += n;
		if (*p == '.')
			p++;
	}
	return node;
}

int pipe_params(struct pvalues *out, const struct pipeline *p, const char *root, const char *rev,
		struct error *err)
{
	struct pvalues pv = PVALUES_INIT;
	int rc = 0;

	for (size_t i = 0; !rc && i < p->nr; i++)
		for (size_t k = 0; !rc && k < p->stages[i].nparams; k++) {
			const struct stage_param *sp = &p->stages[i].params[k];
			struct strbuf buf = STRBUF_INIT;
			struct fy_document *doc = NULL;
			struct fy_node *node = NULL;

			rc = pipe_read_at(&buf, root, rev, sp->file, err);
			if (rc == ERR_NOTFOUND && !strstr(err->msg, "not a git revision")) {
				rc = 0;
			} else if (!rc) {
				rc = yaml_load_buffer(&doc, sp->file, buf.buf ? buf.buf : "",
						      buf.len, err);
				if (!rc && fy_document_root(doc))
					node = node_at(fy_document_root(doc), sp->key);
				if (node) {
					struct strbuf key = STRBUF_INIT;

					strbuf_addstr(&key, sp->key);
					add_leaves(&pv, sp->file, node, &key);
					strbuf_release(&key);
				}
			}
			fy_document_destroy(doc);
			strbuf_release(&buf);
		}
	if (rc) {
		pvalues_release(&pv);
		return rc;
	}
	if (pv.nr)
		qsort(pv.v, pv.nr, sizeof(*pv.v), cmp_pv);
	dedup(&pv);
	*out = pv;
	return 0;
}

void pvalues_diff(struct pchange **out, size_t *n, const struct pvalues *a, const struct pvalues *b,
		  int all)
{
	size_t i = 0, j = 0;

	*n = 0;
	*out = xcalloc(a->nr + b->nr + 1, sizeof(**out));
	while (i < a->nr || j < b->nr) {
		int c = i == a->nr ? 1 : j == b->nr ? -1 : cmp_pv(&a->v[i], &b->v[j]);
		struct pchange ch = { 0 };

		if (c < 0) {
			ch = (struct pchange){ a->v[i].path, a->v[i].key, a->v[i].value, NULL };
			i++;
		} else if (c > 0) {
			ch = (struct pchange){ b->v[j].path, b->v[j].key, NULL, b->v[j].value };
			j++;
		} else {
			ch = (struct pchange){ a->v[i].path, a->v[i].key, a->v[i].value,
					       b->v[j].value };
			i++;
			j++;
			if (!all && !strcmp(ch.old, ch.new_))
				continue;
		}
		(*out)[(*n)++] = ch;
	}
}
