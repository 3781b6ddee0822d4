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
	{ "cache.link", KEY_STRING, offsetof(struct config, cache_link) },
	{ "default_remote", KEY_STRING, offsetof(struct config, default_remote) },
};

const char *const config_keys[] = {
	"version", "store", "cache.dir", "cache.link", "default_remote", NULL,
};

#define DEFAULT_STORE "sqlite:ferry.db"
#define DEFAULT_CACHE_DIR "cache"
#define DEFAULT_CACHE_LINK "reflink,copy"

void config_init_defaults(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->version = CONFIG_VERSION;
	cfg->store = xstrdup(DEFAULT_STORE);
	cfg->cache_dir = xstrdup(DEFAULT_CACHE_DIR);
	cfg->cache_link = xstrdup(DEFAULT_CACHE_LINK);
}

static void remotes_release(struct config *cfg)
{
	for (size_t i = 0; i < cfg->nr_remotes; i++) {
		free(cfg->remotes[i].name);
		free(cfg->remotes[i].url);
	}
	free(cfg->remotes);
	cfg->remotes = NULL;
	cfg->nr_remotes = cfg->alloc_remotes = 0;
}

void config_release(struct config *cfg)
{
	free(cfg->store);
	free(cfg->cache_dir);
	free(cfg->cache_link);
	free(cfg->default_remote);
	remotes_release(cfg);
	memset(cfg, 0, sizeof(*cfg));
}

void config_format(const struct config *cfg, struct strbuf *out)
{
	strbuf_addstr(out,
		      "# ferry project configuration: commit this file.\n"
		      "# .ferry/.gitignore keeps the store and the object cache out of git.\n");
	strbuf_addf(out, "version: %ld\n\n", cfg->version);
	strbuf_addstr(out,
		      "# Metadata store: sqlite:PATH (relative to .ferry/) or, later,\n"
		      "# postgresql://... The environment variable FERRY_STORE overrides it.\n");
	strbuf_addstr(out, "store: ");
	yaml_add_scalar(out, cfg->store);
	strbuf_addstr(out, "\n\n");
	strbuf_addstr(out,
		      "cache:\n"
		      "  # Content-addressed object cache, relative to .ferry/ unless absolute.\n");
	strbuf_addstr(out, "  dir: ");
	yaml_add_scalar(out, cfg->cache_dir);
	strbuf_addch(out, '\n');
	strbuf_addstr(out, "  # How workspace files share bytes with the cache, in order:\n"
			   "  # reflink (copy-on-write), hardlink (read-only files), copy.\n");
	strbuf_addstr(out, "  link: ");
	yaml_add_scalar(out, cfg->cache_link);
	strbuf_addch(out, '\n');
	if (!cfg->nr_remotes)
		return;
	strbuf_addstr(out, "\n# Where 'ferry data push' and 'pull' send and fetch objects.\n");
	if (cfg->default_remote) {
		strbuf_addstr(out, "default_remote: ");
		yaml_add_scalar(out, cfg->default_remote);
		strbuf_addch(out, '\n');
	}
	strbuf_addstr(out, "remotes:\n");
	for (size_t i = 0; i < cfg->nr_remotes; i++) {
		strbuf_addstr(out, "  ");
		yaml_add_scalar(out, cfg->remotes[i].name);
		strbuf_addstr(out, ":\n    url: ");
		yaml_add_quoted(out, cfg->remotes[i].url);
		strbuf_addch(out, '\n');
	}
}

const char *config_default_text(void)
{
	static char *text;
	struct config cfg;
	struct strbuf sb = STRBUF_INIT;

	if (!text) {
		config_init_defaults(&cfg);
		config_format(&cfg, &sb);
		config_release(&cfg);
		text = strbuf_detach(&sb, NULL);
	}
	return text;
}

int config_save(const struct config *cfg, const char *path, struct error *err)
{
	struct strbuf sb = STRBUF_INIT;
	int rc;

	config_format(cfg, &sb);
	rc = fs_write_atomic(path, sb.buf, sb.len, 0644, err);
	strbuf_release(&sb);
	return rc;
}

const struct config_remote *config_remote_find(const struct config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->nr_remotes; i++)
		if (!strcmp(cfg->remotes[i].name, name))
			return &cfg->remotes[i];
	return NULL;
}

int config_remote_name_check(const char *name, struct error *err)
{
	static const char allowed[] = "abcdefghijklmnopqrstuvwxyz"
				      "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-";
	size_t len = strlen(name);

	if (!len || len > 64 || name[0] == '.' || name[0] == '-' || strspn(name, allowed) != len)
		return error_set(err, ERR_INVALID,
				 "invalid remote name '%s': use letters, digits, '.', '_' and '-' "
				 "(at most 64, not starting with '.' or '-')",
				 name);
	return 0;
}

int config_remote_add(struct config *cfg, const char *name, const char *url, struct error *err)
{
	int rc = config_remote_name_check(name, err);

	if (rc)
		return rc;
	if (config_remote_find(cfg, name))
		return error_set(err, ERR_EXISTS, "remote '%s' already exists", name);
	ALLOC_GROW(cfg->remotes, cfg->nr_remotes + 1, cfg->alloc_remotes);
	cfg->remotes[cfg->nr_remotes].name = xstrdup(name);
	cfg->remotes[cfg->nr_remotes].url = xstrdup(url);
	cfg->nr_remotes++;
	if (!cfg->default_remote)
		cfg->default_remote = xstrdup(name);
	return 0;
}

int config_remote_remove(struct config *cfg, const char *name, struct error *err)
{
	const struct config_remote *r = config_remote_find(cfg, name);
	size_t i;

	if (!r)
		return error_set(err, ERR_NOTFOUND, "no remote named '%s'", name);
	i = (size_t)(r - cfg->remotes);
	free(cfg->remotes[i].name);
	free(cfg->remotes[i].url);
	memmove(&cfg->remotes[i], &cfg->remotes[i + 1],
		(cfg->nr_remotes - i - 1) * sizeof(*cfg->remotes));
	cfg->nr_remotes--;
	if (cfg->default_remote && !strcmp(cfg->default_remote, name)) {
		free(cfg->default_remote);
		cfg->default_remote = NULL;
	}
	return 0;
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

static int unknown_key(struct error *err, const char *name, struct fy_node *node, const char *path)
{
	const char *all[ARRAY_SIZE(key_specs) + 4];
	size_t n = 0;
	const char *best;
	int line, col;

	for (size_t i = 0; i < ARRAY_SIZE(key_specs); i++)
		all[n++] = key_specs[i].path;
	all[n++] = "cache";
	all[n++] = "remotes";
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
		return yaml_error_at(err, name, node ? node : at, "key '%s': expected %s, got %s",
				     spec->path, spec->type == KEY_INT ? "an integer" : "a string",
				     node ? yaml_node_kind_name(node) : "nothing");
	text = fy_node_get_scalar(node, &len);
	copy = xstrndup(text, len);
	if (spec->type == KEY_STRING) {
		char **slot = (char **)((char *)cfg + spec->offset);

		if (!*copy) {
			free(copy);
			return yaml_error_at(err, name, node,
					     "key '%s': expected a non-empty string", spec->path);
		}
		free(*slot);
		*slot = copy;
		return 0;
	}
	errno = 0;
	n = strtol(copy, &end, 10);
	if (errno || end == copy || *end) {
		int rc = yaml_error_at(err, name, node, "key '%s': expected an integer, got '%s'",
				       spec->path, copy);

		free(copy);
		return rc;
	}
	free(copy);
	*(long *)((char *)cfg + spec->offset) = n;
	return 0;
}

/* remotes: { NAME: { url: URL }, ... } */
static int parse_remote(struct config *cfg, struct fy_node *knode, struct fy_node *vnode,
			const char *name, struct error *err)
{
	struct error name_err = ERROR_INIT;
	struct fy_node_pair *pair;
	void *iter = NULL;
	char *rname = NULL, *url = NULL;
	const char *text;
	size_t len;
	int rc = 0;

	if (!knode || !fy_node_is_scalar(knode))
		return yaml_error_at(err, name, knode ? knode : vnode,
				     "remote names must be plain strings");
	text = fy_node_get_scalar(knode, &len);
	rname = xstrndup(text, len);
	if (config_remote_name_check(rname, &name_err))
		rc = yaml_error_at(err, name, knode, "%s", name_err.msg);
	else if (!vnode || !fy_node_is_mapping(vnode))
		rc = yaml_error_at(err, name, vnode ? vnode : knode,
				   "key 'remotes.%s': expected a mapping with 'url', got %s", rname,
				   vnode ? yaml_node_kind_name(vnode) : "nothing");
	while (!rc && (pair = fy_node_mapping_iterate(vnode, &iter))) {
		struct fy_node *k = fy_node_pair_key(pair), *v = fy_node_pair_value(pair);
		const char *kt = k && fy_node_is_scalar(k) ? fy_node_get_scalar(k, &len) : NULL;

		if (!kt || len != 3 || memcmp(kt, "url", 3)) {
			rc = yaml_error_at(err, name, k ? k : vnode,
					   "unknown key in 'remotes.%s' (expected 'url')", rname);
		} else if (!v || !fy_node_is_scalar(v) || fy_node_is_null(v)) {
			rc = yaml_error_at(err, name, v ? v : k,
					   "key 'remotes.%s.url': expected a string", rname);
		} else {
			text = fy_node_get_scalar(v, &len);
			free(url);
			url = xstrndup(text, len);
		}
	}
	if (!rc && !url)
		rc = yaml_error_at(err, name, vnode, "remote '%s' has no 'url'", rname);
	if (!rc && config_remote_find(cfg, rname))
		rc = yaml_error_at(err, name, knode, "remote '%s' is defined twice", rname);
	if (!rc)
		rc = config_remote_add(cfg, rname, url, err);
	free(rname);
	free(url);
	return rc;
}

static int parse_remotes(struct config *cfg, struct fy_node *map, struct fy_node *at,
			 const char *name, struct error *err)
{
	struct fy_node_pair *pair;
	void *iter = NULL;
	int rc = 0;

	if (!map || !fy_node_is_mapping(map))
		return yaml_error_at(err, name, map ? map : at,
				     "key 'remotes': expected a mapping, got %s",
				     map ? yaml_node_kind_name(map) : "nothing");
	remotes_release(cfg);
	while (!rc && (pair = fy_node_mapping_iterate(map, &iter)))
		rc = parse_remote(cfg, fy_node_pair_key(pair), fy_node_pair_value(pair), name, err);
	return rc;
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
			return yaml_error_at(err, name, knode ? knode : map,
					     "keys must be plain strings");
		key = fy_node_get_scalar(knode, &klen);
		if (*prefix)
			strbuf_addf(&path, "%s.", prefix);
		strbuf_add(&path, key, klen);
		spec = find_spec(path.buf);
		if (!strcmp(path.buf, "remotes")) {
			rc = parse_remotes(cfg, vnode, knode, name, err);
		} else if (spec) {
			rc = set_scalar(cfg, spec, vnode, knode, name, err);
		} else if (is_section(path.buf)) {
			if (vnode && fy_node_is_mapping(vnode))
				rc = walk_mapping(cfg, vnode, path.buf, name, err);
			else
				rc = yaml_error_at(err, name, vnode ? vnode : knode,
						   "key '%s': expected a mapping, got %s", path.buf,
						   vnode ? yaml_node_kind_name(vnode) : "null");
		} else {
			rc = unknown_key(err, name, knode, path.buf);
		}
		strbuf_release(&path);
	}
	return rc;
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static void config_copy(struct config *dst, const struct config *src)
{
	memset(dst, 0, sizeof(*dst));
	dst->version = src->version;
	dst->store = dup_or_null(src->store);
	dst->cache_dir = dup_or_null(src->cache_dir);
	dst->cache_link = dup_or_null(src->cache_link);
	for (size_t i = 0; i < src->nr_remotes; i++)
		config_remote_add(dst, src->remotes[i].name, src->remotes[i].url, NULL);
	free(dst->default_remote);
	dst->default_remote = dup_or_null(src->default_remote);
}

/* Checks that hold across keys, once the whole file is read. */
static int config_validate(const struct config *cfg, const char *name, struct error *err)
{
	if (cfg->version != CONFIG_VERSION)
		return error_set(
		    err, ERR_INVALID,
		    "%s: config version %ld is not supported by this ferry (expected %d)", name,
		    cfg->version, CONFIG_VERSION);
	if (cfg->default_remote && !config_remote_find(cfg, cfg->default_remote))
		return error_set(err, ERR_INVALID, "%s: default_remote '%s' is not among 'remotes'",
				 name, cfg->default_remote);
	return 0;
}

int config_parse(struct config *cfg, const char *name, const char *buf, size_t len,
		 struct error *err)
{
	struct fy_document *doc = NULL;
	struct fy_node *root;
	struct config tmp;
	int rc;

	rc = yaml_load_buffer(&doc, name, buf, len, err);
	if (rc)
		return rc;
	config_copy(&tmp, cfg);
	root = fy_document_root(doc);
	if (!root || fy_node_is_null(root)) {
		rc = error_set(err, ERR_INVALID,
			       "%s: the file is empty; expected a mapping with 'version: %d'", name,
			       CONFIG_VERSION);
		goto out;
	}
	if (!fy_node_is_mapping(root)) {
		rc = yaml_error_at(err, name, root, "expected a mapping of keys, got %s",
				   yaml_node_kind_name(root));
		goto out;
	}
	rc = walk_mapping(&tmp, root, "", name, err);
	if (!rc)
		rc = config_validate(&tmp, name, err);
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
	const char *rest, *v;
	char *rname;

	if (skip_prefix(key, "remotes.", &rest) && ends_with(rest, ".url")) {
		const struct config_remote *r;

		rname = xstrndup(rest, strlen(rest) - 4);
		r = config_remote_find(cfg, rname);
		free(rname);
		return r ? xstrdup(r->url) : NULL;
	}
	if (!spec)
		return NULL;
	if (spec->type == KEY_INT) {
		struct strbuf sb = STRBUF_INIT;

		strbuf_addf(&sb, "%ld", *(const long *)((const char *)cfg + spec->offset));
		return strbuf_detach(&sb, NULL);
	}
	v = *(char *const *)((const char *)cfg + spec->offset);
	return v ? xstrdup(v) : NULL;
}
