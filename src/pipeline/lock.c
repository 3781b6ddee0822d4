/* ferry.lock: a fixed-shape YAML writer and a strict reader of the same shape. */
#include "util/common.h"
#include "pipeline/lock.h"
#include "util/fs.h"
#include "util/parse.h"
#include "util/strbuf.h"
#include "util/yaml.h"

/* Memory -------------------------------------------------------------------------------------- */

static void entries_release(struct lock_entry *e, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(e[i].path);
	free(e);
}

void lock_stage_release(struct lock_stage *st)
{
	free(st->name);
	free(st->cmd);
	entries_release(st->deps, st->ndeps);
	entries_release(st->outs, st->nouts);
	for (size_t i = 0; i < st->nparams; i++) {
		free(st->params[i].file);
		free(st->params[i].key);
		free(st->params[i].value);
	}
	free(st->params);
	memset(st, 0, sizeof(*st));
}

void lockfile_release(struct lockfile *lf)
{
	for (size_t i = 0; i < lf->nr; i++)
		lock_stage_release(&lf->stages[i]);
	free(lf->stages);
	memset(lf, 0, sizeof(*lf));
}

static struct lock_entry *entries_copy(const struct lock_entry *e, size_t n)
{
	struct lock_entry *c = xcalloc(n ? n : 1, sizeof(*c));

	for (size_t i = 0; i < n; i++) {
		c[i] = e[i];
		c[i].path = xstrdup(e[i].path);
	}
	return c;
}

void lock_stage_copy(struct lock_stage *dst, const struct lock_stage *src)
{
	dst->name = xstrdup(src->name);
	dst->cmd = xstrdup(src->cmd ? src->cmd : "");
	dst->deps = entries_copy(src->deps, src->ndeps);
	dst->ndeps = src->ndeps;
	dst->outs = entries_copy(src->outs, src->nouts);
	dst->nouts = src->nouts;
	dst->params = xcalloc(src->nparams ? src->nparams : 1, sizeof(*dst->params));
	for (size_t i = 0; i < src->nparams; i++) {
		dst->params[i].file = xstrdup(src->params[i].file);
		dst->params[i].key = xstrdup(src->params[i].key);
		dst->params[i].value = xstrdup(src->params[i].value);
	}
	dst->nparams = src->nparams;
}

struct lock_stage *lock_find(struct lockfile *lf, const char *name)
{
	for (size_t i = 0; i < lf->nr; i++)
		if (!strcmp(lf->stages[i].name, name))
			return &lf->stages[i];
	return NULL;
}

void lock_put(struct lockfile *lf, const struct lock_stage *st, const char *const *keep,
	      size_t nkeep)
{
	struct lock_stage copy, *old;
	size_t k = 0;

	/* copied first: st may be one of lf's own stages */
	lock_stage_copy(&copy, st);
	old = lock_find(lf, copy.name);
	if (old) {
		lock_stage_release(old);
	} else {
		lf->stages = xreallocarray(lf->stages, lf->nr + 1, sizeof(*lf->stages));
		old = &lf->stages[lf->nr++];
	}
	*old = copy;
	for (size_t i = 0; i < lf->nr; i++) {
		int kept = !keep;

		for (size_t j = 0; !kept && j < nkeep; j++)
			kept = !strcmp(keep[j], lf->stages[i].name);
		if (kept)
			lf->stages[k++] = lf->stages[i];
		else
			lock_stage_release(&lf->stages[i]);
	}
	lf->nr = k;
}

/* Writing ------------------------------------------------------------------------------------- */

static int cmp_stage(const void *a, const void *b)
{
	return strcmp(((const struct lock_stage *)a)->name, ((const struct lock_stage *)b)->name);
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct lock_entry *)a)->path, ((const struct lock_entry *)b)->path);
}

static int cmp_param(const void *a, const void *b)
{
	const struct lock_param *x = a, *y = b;
	int c = strcmp(x->file, y->file);

	return c ? c : strcmp(x->key, y->key);
}

void lock_stage_sort(struct lock_stage *st)
{
	if (st->ndeps)
		qsort(st->deps, st->ndeps, sizeof(*st->deps), cmp_entry);
	if (st->nouts)
		qsort(st->outs, st->nouts, sizeof(*st->outs), cmp_entry);
	if (st->nparams)
		qsort(st->params, st->nparams, sizeof(*st->params), cmp_param);
}

static void put_entries(struct strbuf *out, const char *key, const struct lock_entry *e, size_t n)
{
	if (!n)
		return;
	strbuf_addf(out, "    %s:\n", key);
	for (size_t i = 0; i < n; i++) {
		strbuf_addstr(out, "      - path: ");
		yaml_add_quoted(out, e[i].path);
		strbuf_addf(out, "\n        sha256: \"%s\"\n        size: %" PRIu64 "\n", e[i].hex,
			    e[i].size);
		if (e[i].is_dir)
			strbuf_addf(out, "        nfiles: %" PRIu64 "\n", e[i].nfiles);
	}
}

void lock_serialize(struct lockfile *lf, struct strbuf *out)
{
	if (lf->nr)
		qsort(lf->stages, lf->nr, sizeof(*lf->stages), cmp_stage);
	strbuf_addstr(out, "# Written by 'ferry repro': each stage's last successful run. "
			   "Commit it with ferry.yaml.\nschema: 1\nstages:");
	strbuf_addstr(out, lf->nr ? "\n" : " {}\n");
	for (size_t s = 0; s < lf->nr; s++) {
		struct lock_stage *st = &lf->stages[s];
		const char *file = NULL;

		lock_stage_sort(st);
		strbuf_addstr(out, "  ");
		yaml_add_quoted(out, st->name);
		strbuf_addstr(out, ":\n    cmd: ");
		yaml_add_quoted(out, st->cmd ? st->cmd : "");
		strbuf_addch(out, '\n');
		put_entries(out, "deps", st->deps, st->ndeps);
		if (st->nparams)
			strbuf_addstr(out, "    params:\n");
		for (size_t i = 0; i < st->nparams; i++) {
			if (!file || strcmp(file, st->params[i].file)) {
				file = st->params[i].file;
				strbuf_addstr(out, "      ");
				yaml_add_quoted(out, file);
				strbuf_addstr(out, ":\n");
			}
			strbuf_addstr(out, "        ");
			yaml_add_quoted(out, st->params[i].key);
			strbuf_addstr(out, ": ");
			yaml_add_quoted(out, st->params[i].value);
			strbuf_addch(out, '\n');
		}
		put_entries(out, "outs", st->outs, st->nouts);
	}
}

int lock_save(struct lockfile *lf, const char *root, struct error *err)
{
	struct strbuf text = STRBUF_INIT;
	char *path = fs_path_join(root, LOCK_FILE);
	int rc;

	lock_serialize(lf, &text);
	rc = fs_write_atomic(path, text.buf, text.len, 0644, err);
	strbuf_release(&text);
	free(path);
	return rc;
}

/* Reading ------------------------------------------------------------------------------------- */

struct reader {
	const char *name;
	struct error *err;
};

static char *str_of(struct fy_node *n)
{
	size_t len;
	const char *s;

	if (!n || !fy_node_is_scalar(n) || fy_node_is_alias(n))
		return NULL;
	s = fy_node_get_scalar(n, &len);
	return s ? xstrndup(s, len) : NULL;
}

static int need_str(char **out, struct reader *r, struct fy_node *n, struct fy_node *parent,
		    const char *what)
{
	if (!(*out = str_of(n)))
		return yaml_error_at(r->err, r->name, n ? n : parent,
				     "%s: expected a string, got %s", what, yaml_node_kind_name(n));
	return 0;
}

static int need_u64(uint64_t *out, struct reader *r, struct fy_node *n, struct fy_node *parent,
		    const char *what)
{
	char *s = NULL;
	int rc = need_str(&s, r, n, parent, what);

	if (!rc && parse_uint64(s, out))
		rc = yaml_error_at(r->err, r->name, n,
				   "%s: expected a non-negative integer, got '%s'", what, s);
	free(s);
	return rc;
}

static int is_hex64(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return i == 64;
}

/* Checks that every key of map is one of keys (n of them). */
static int only_keys(struct reader *r, struct fy_node *map, const char *const *keys, size_t n,
		     const char *where)
{
	struct fy_node_pair *pair;
	void *iter = NULL;

	if (!fy_node_is_mapping(map))
		return yaml_error_at(r->err, r->name, map, "%s: expected a mapping, got %s", where,
				     yaml_node_kind_name(map));
	while ((pair = fy_node_mapping_iterate(map, &iter))) {
		char *k = str_of(fy_node_pair_key(pair));
		int ok = 0;

		for (size_t i = 0; k && i < n; i++)
			ok |= !strcmp(k, keys[i]);
		if (!ok) {
			int rc = yaml_error_at(r->err, r->name, fy_node_pair_key(pair),
					       "%s: unexpected key '%s'", where, k ? k : "?");

			free(k);
			return rc;
		}
		free(k);
	}
	return 0;
}

static struct fy_node *get(struct fy_node *map, const char *key)
{
	return fy_node_mapping_lookup_by_string(map, key, FY_NT);
}

static int read_entry(struct lock_entry *e, struct reader *r, struct fy_node *n, const char *where)
{
	static const char *const keys[] = { "path", "sha256", "size", "nfiles" };
	char *hex = NULL;
	int rc = only_keys(r, n, keys, ARRAY_SIZE(keys), where);

	if (!rc)
		rc = need_str(&e->path, r, get(n, "path"), n, "path");
	if (!rc && !*e->path)
		rc = yaml_error_at(r->err, r->name, get(n, "path"), "path: expected a path");
	if (!rc && !(rc = need_str(&hex, r, get(n, "sha256"), n, "sha256")) && !is_hex64(hex))
		rc = yaml_error_at(r->err, r->name, get(n, "sha256"),
				   "sha256: expected 64 lowercase hex digits, got '%s'", hex);
	if (!rc)
		memcpy(e->hex, hex, SHA256_HEX_SIZE);
	if (!rc)
		rc = need_u64(&e->size, r, get(n, "size"), n, "size");
	if (!rc && get(n, "nfiles")) {
		e->is_dir = 1;
		rc = need_u64(&e->nfiles, r, get(n, "nfiles"), n, "nfiles");
	}
	free(hex);
	return rc;
}

static int read_entries(struct lock_entry **out, size_t *nout, struct reader *r,
			struct fy_node *seq, const char *where)
{
	struct fy_node *item;
	void *iter = NULL;
	int rc = 0;

	if (!seq)
		return 0;
	if (!fy_node_is_sequence(seq))
		return yaml_error_at(r->err, r->name, seq, "%s: expected a sequence, got %s", where,
				     yaml_node_kind_name(seq));
	*out = xcalloc((size_t)fy_node_sequence_item_count(seq) + 1, sizeof(**out));
	while (!rc && (item = fy_node_sequence_iterate(seq, &iter))) {
		rc = read_entry(&(*out)[*nout], r, item, where);
		for (size_t i = 0; !rc && i < *nout; i++)
			if (!strcmp((*out)[i].path, (*out)[*nout].path))
				rc =
				    yaml_error_at(r->err, r->name, item, "%s: '%s' is listed twice",
						  where, (*out)[i].path);
		(*nout)++;
	}
	return rc;
}

static int read_params(struct lock_stage *st, struct reader *r, struct fy_node *map)
{
	struct fy_node_pair *fp;
	void *it = NULL;
	int rc = 0;

	if (!map)
		return 0;
	if (!fy_node_is_mapping(map))
		return yaml_error_at(r->err, r->name, map, "params: expected a mapping, got %s",
				     yaml_node_kind_name(map));
	while (!rc && (fp = fy_node_mapping_iterate(map, &it))) {
		struct fy_node *keys = fy_node_pair_value(fp);
		struct fy_node_pair *kp;
		void *it2 = NULL;
		char *file = NULL;

		rc = need_str(&file, r, fy_node_pair_key(fp), map, "params");
		if (!rc && (!keys || !fy_node_is_mapping(keys)))
			rc = yaml_error_at(r->err, r->name, keys ? keys : fy_node_pair_key(fp),
					   "params: '%s': expected a mapping of keys, got %s", file,
					   yaml_node_kind_name(keys));
		while (!rc && (kp = fy_node_mapping_iterate(keys, &it2))) {
			struct lock_param *p;

			st->params = xreallocarray(st->params, st->nparams + 1, sizeof(*p));
			p = &st->params[st->nparams++];
			memset(p, 0, sizeof(*p));
			p->file = xstrdup(file);
			rc = need_str(&p->key, r, fy_node_pair_key(kp), keys, "params key");
			if (!rc)
				rc = need_str(&p->value, r, fy_node_pair_value(kp), keys,
					      "params value");
		}
		free(file);
	}
	return rc;
}

static int read_stage(struct lock_stage *st, struct reader *r, struct fy_node *n)
{
	static const char *const keys[] = { "cmd", "deps", "params", "outs" };
	int rc = only_keys(r, n, keys, ARRAY_SIZE(keys), st->name);

	if (!rc)
		rc = need_str(&st->cmd, r, get(n, "cmd"), n, "cmd");
	if (!rc)
		rc = read_entries(&st->deps, &st->ndeps, r, get(n, "deps"), "deps");
	if (!rc)
		rc = read_params(st, r, get(n, "params"));
	if (!rc)
		rc = read_entries(&st->outs, &st->nouts, r, get(n, "outs"), "outs");
	for (size_t i = 0; !rc && i < st->nparams; i++)
		for (size_t j = 0; !rc && j < i; j++)
			if (!cmp_param(&st->params[i], &st->params[j]))
				rc = yaml_error_at(r->err, r->name, get(n, "params"),
						   "params: '%s' key '%s' is listed twice",
						   st->params[i].file, st->params[i].key);
	return rc;
}

static int read_root(struct lockfile *lf, struct reader *r, struct fy_node *root)
{
	static const char *const keys[] = { "schema", "stages" };
	struct fy_node *stages, *schema;
	struct fy_node_pair *pair;
	void *iter = NULL;
	uint64_t version = 0;
	int rc = only_keys(r, root, keys, ARRAY_SIZE(keys), LOCK_FILE);

	if (rc)
		return rc;
	schema = get(root, "schema");
	if ((rc = need_u64(&version, r, schema, root, "schema")))
		return rc;
	if (version != 1)
		return yaml_error_at(r->err, r->name, schema,
				     "schema %" PRIu64 " is not known to this ferry (it reads 1)",
				     version);
	stages = get(root, "stages");
	if (!stages)
		return 0;
	if (!fy_node_is_mapping(stages))
		return yaml_error_at(r->err, r->name, stages, "stages: expected a mapping, got %s",
				     yaml_node_kind_name(stages));
	while (!rc && (pair = fy_node_mapping_iterate(stages, &iter))) {
		struct lock_stage *st;

		lf->stages = xreallocarray(lf->stages, lf->nr + 1, sizeof(*st));
		st = &lf->stages[lf->nr++];
		memset(st, 0, sizeof(*st));
		rc = need_str(&st->name, r, fy_node_pair_key(pair), stages, "stage name");
		if (!rc)
			rc = read_stage(st, r, fy_node_pair_value(pair));
	}
	return rc;
}

int lock_parse(struct lockfile *out, const char *name, const char *buf, size_t len,
	       struct error *err)
{
	struct lockfile lf = LOCKFILE_INIT;
	struct fy_document *doc = NULL;
	struct reader r = { name, err };
	int rc = yaml_load_buffer(&doc, name, buf, len, err);

	if (!rc && fy_document_root(doc))
		rc = read_root(&lf, &r, fy_document_root(doc));
	fy_document_destroy(doc);
	if (rc) {
		lockfile_release(&lf);
		return rc;
	}
	*out = lf;
	return 0;
}

int lock_load(struct lockfile *out, const char *root, struct error *err)
{
	char *path = fs_path_join(root, LOCK_FILE);
	struct strbuf buf = STRBUF_INIT;
	int rc = fs_read_file(&buf, path, LOCK_MAX_SIZE, err);

	if (rc == ERR_NOTFOUND) {
		*out = (struct lockfile)LOCKFILE_INIT;
		rc = 0;
	} else if (!rc) {
		rc = lock_parse(out, LOCK_FILE, buf.buf ? buf.buf : "", buf.len, err);
	}
	strbuf_release(&buf);
	free(path);
	return rc;
}
