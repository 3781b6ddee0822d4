/* Strict reader for .ferry/config.yaml: a table of known keys drives parsing and messages. */
#include "util/common.h"
#include "project/config.h"
#include "util/fs.h"
#include "util/strbuf.h"
#include "util/suggest.h"
#include "util/yaml.h"

#include <libfyaml.h>

enum key_type {
	KEY_INT,
	KEY_STRING
};

struct key_spec {
	const char *path; /* dotted, e.g. "cache.dir" */
	enum key_type type;
	size_t offset; /* into struct config */
};

static const struct key_spec key_specs[] = {
	{ "version", KEY_INT, offsetof(struct config, version) },
	{ "store", KEY_STRING, offsetof(struct config, store) },
	{ "cache.dir", KEY_STRING, offsetof(struct config, cache_dir) },
};

const char *const config_keys[] = { "version", "store", "cache.dir", NULL };

static const char default_text[] =
    "# ferry project configuration: commit this file.\n"
    "# .ferry/.gitignore keeps the store and the object cache out of git.\n"
    "version: 1\n"
    "\n"
    "# Metadata store: sqlite:PATH (relative to .ferry/) or, later, postgresql://...\n"
    "# The environment variable FERRY_STORE overrides it.\n"
    "store: sqlite:ferry.db\n"
    "\n"
    "cache:\n"
    "  # Content-addressed object cache, relative to .ferry/ unless absolute.\n"
    "  dir: cache\n";

const char *config_default_text(void)
{
	return default_text;
}

void config_init_defaults(struct config *cfg)
{
	cfg->version = CONFIG_VERSION;
	cfg->store = xstrdup("sqlite:ferry.db");
	cfg->cache_dir = xstrdup("cache");
}

void config_release(struct config *cfg)
{
	free(cfg->store);
	free(cfg->cache_dir);
	memset(cfg, 0, sizeof(*cfg));
}

static const struct key_spec *find_spec(const char *path)
{
	for (size_t i = 0; i < ARRAY_SIZE(key_specs); i++)
		if (!strcmp(key_specs[i].path, path))
			return &key_specs[i];
	return NULL;
}

/* True if some key lives under path ("cache" for "cache.dir"). */
static int is_section(const char *path)
{
	size_t len = strlen(path);

	for (size_t i = 0; i < ARRAY_SIZE(key_specs); i++)
		if (!strncmp(key_specs[i].path, path, len) && key_specs[i].path[len] == '.')
			return 1;
	return 0;
}

/* Reports a problem at node's position: "NAME:LINE:COL: <fmt...>". */
__attribute__((format(printf, 4, 5))) static int
node_error(struct error *err, const char *name, struct fy_node *node, const char *fmt, ...)
{
	int line, col;
	char msg[200];
	va_list ap;

	yaml_node_mark(node, &line, &col);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return error_set(err, ERR_INVALID, "%s:%d:%d: %s", name, line, col, msg);
}

static int unknown_key(struct error *err, const char *name, struct fy_node *node, const char *path)
{
	const char *all[ARRAY_SIZE(key_specs) + 4];
	size_t n = 0;
	const char *best;
	int line, col;

	for (size_t i = 0; i < ARRAY_SIZE(key_specs); i++)
		all[n++] = key_specs[i].path;
	all[n++] = "cache";
	best = suggest_closest(path, all, n);
	yaml_node_mark(node, &line, &col);
	if (best)
		return error_set(err, ERR_INVALID, "%s:%d:%d: unknown key '%s'; did you mean '%s'?",
				 name, line, col, path, best);
	return error_set(err, ERR_INVALID, "%s:%d:%d: unknown key '%s'", name, line, col, path);
}

/* at: where to point messages when node is NULL (an empty value: "key:" alone). */
static int set_scalar(struct config *cfg, const struct key_spec *spec, struct fy_node *node,
		      struct fy_node *at, const char *name, struct error *err)
{
	size_t len;
	const char *text;
	char *end, *copy;
	long n;

	if (!node || !fy_node_is_scalar(node) || fy_node_is_null(node))
		return node_error(err, name, node ? node : at, "key '%s': expected %s, got %s",
				  spec->path, spec->type == KEY_INT ? "an integer" : "a string",
				  node ? yaml_node_kind_name(node) : "nothing");
	text = fy_node_get_scalar(node, &len);
	copy = xstrndup(text, len);
	if (spec->type == KEY_STRING) {
		char **slot = (char **)((char *)cfg + spec->offset);

		if (!*copy) {
			free(copy);
			return node_error(err, name, node, "key '%s': expected a non-empty string",
					  spec->path);
		}
		free(*slot);
		*slot = copy;
		return 0;
	}
	errno = 0;
	n = strtol(copy, &end, 10);
	if (errno || end == copy || *end) {
		int rc = node_error(err, name, node, "key '%s': expected an integer, got '%s'",
				    spec->path, copy);

		free(copy);
		return rc;
	}
	free(copy);
	*(long *)((char *)cfg + spec->offset) = n;
	return 0;
}

static int walk_mapping(struct config *cfg, struct fy_node *map, const char *prefix,
			const char *name, struct error *err)
{
	struct fy_node_pair *pair;
	void *iter = NULL;
	int rc = 0;

	while (!rc && (pair = fy_node_mapping_iterate(map, &iter))) {
		struct fy_node *knode = fy_node_pair_key(pair), *vnode = fy_node_pair_value(pair);
		struct strbuf path = STRBUF_INIT;
		const struct key_spec *spec;
		const char *key;
		size_t klen;

		if (!knode || !fy_node_is_scalar(knode))
			return node_error(err, name, knode ? knode : map,
					  "keys must be plain strings");
		key = fy_node_get_scalar(knode, &klen);
		if (*prefix)
			strbuf_addf(&path, "%s.", prefix);
		strbuf_add(&path, key, klen);
		spec = find_spec(path.buf);
		if (spec) {
			rc = set_scalar(cfg, spec, vnode, knode, name, err);
		} else if (is_section(path.buf)) {
			if (vnode && fy_node_is_mapping(vnode))
				rc = walk_mapping(cfg, vnode, path.buf, name, err);
			else
				rc = node_error(err, name, vnode ? vnode : knode,
						"key '%s': expected a mapping, got %s", path.buf,
						vnode ? yaml_node_kind_name(vnode) : "null");
		} else {
			rc = unknown_key(err, name, knode, path.buf);
		}
		strbuf_release(&path);
	}
	return rc;
}

static void config_copy(struct config *dst, const struct config *src)
{
	dst->version = src->version;
	dst->store = xstrdup(src->store);
	dst->cache_dir = xstrdup(src->cache_dir);
}

int config_parse(struct config *cfg, const char *name, const char *buf, size_t len,
		 struct error *err)
{
	struct fy_document *doc = NULL;
	struct fy_node *root;
	struct config tmp = { 0 };
	int rc;

	rc = yaml_load_buffer(&doc, name, buf, len, err);
	if (rc)
		return rc;
	config_copy(&tmp, cfg);
	root = fy_document_root(doc);
	if (!root || fy_node_is_null(root)) {
		rc = error_set(err, ERR_INVALID,
			       "%s: the file is empty; expected a mapping with "
			       "'version: %d'",
			       name, CONFIG_VERSION);
		goto out;
	}
	if (!fy_node_is_mapping(root)) {
		rc = node_error(err, name, root, "expected a mapping of keys, got %s",
				yaml_node_kind_name(root));
		goto out;
	}
	rc = walk_mapping(&tmp, root, "", name, err);
	if (!rc && tmp.version != CONFIG_VERSION)
		rc =
		    error_set(err, ERR_INVALID,
			      "%s: config version %ld is not supported by this ferry (expected %d)",
			      name, tmp.version, CONFIG_VERSION);
	if (!rc) {
		config_release(cfg);
		*cfg = tmp;
		memset(&tmp, 0, sizeof(tmp));
	}
out:
	config_release(&tmp);
	fy_document_destroy(doc);
	return rc;
}

int config_load(struct config *cfg, const char *path, struct error *err)
{
	struct strbuf buf = STRBUF_INIT;
	int rc = fs_read_file(&buf, path, CONFIG_MAX_SIZE, err);

	if (!rc)
		rc = config_parse(cfg, path, buf.buf, buf.len, err);
	strbuf_release(&buf);
	return rc;
}

char *config_get(const struct config *cfg, const char *key)
{
	const struct key_spec *spec = find_spec(key);
	struct strbuf sb = STRBUF_INIT;

	if (!spec)
		return NULL;
	if (spec->type == KEY_INT)
		strbuf_addf(&sb, "%ld", *(const long *)((const char *)cfg + spec->offset));
	else
		strbuf_addstr(&sb, *(char *const *)((const char *)cfg + spec->offset));
	return strbuf_detach(&sb, NULL);
}
