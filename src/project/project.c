/* Finding, opening and creating ferry projects (.ferry/ directories). */
#include "util/common.h"
#include "project/project.h"
#include "store/store.h"
#include "util/fs.h"
#include "util/strbuf.h"

/*
 * Entries of .ferry/.gitignore: the store, the cache, the checked-out registered models
 * (models/), the inference logs (inference/), `ferry run`'s output logs (runs/) and the
 * challengers `ferry retrain` trains (retrain/) are local; config.yaml is committed.
 */
static const char project_gitignore[] =
    "# Local state of this ferry project; config.yaml is the only file to commit.\n"
    "/ferry.db\n"
    "/ferry.db-*\n"
    "/cache/\n"
    "/tmp/\n"
    "/models/\n"
    "/inference/\n"
    "/runs/\n"
    "/retrain/\n";

/* Returns a malloc'd copy of path without its last component, or NULL at the root. */
static char *parent_dir(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash || slash == path)
		return path[1] ? xstrdup("/") : NULL;
	return xstrndup(path, (size_t)(slash - path));
}

/*
 * Finds the nearest ancestor-or-self of start that contains name (a directory when need_dir;
 * .git may also be a file in worktrees); NULL if none.
 */
static char *find_upwards(const char *start, const char *name, int need_dir)
{
	char *dir = xstrdup(start);

	while (dir) {
		char *candidate = fs_path_join(dir, name);
		int found = need_dir ? fs_is_dir(candidate) : fs_exists(candidate);
		char *up;

		free(candidate);
		if (found)
			return dir;
		up = parent_dir(dir);
		free(dir);
		dir = up;
	}
	return NULL;
}

int project_find_root(char **out, const char *start, struct error *err)
{
	char *root = find_upwards(start, PROJECT_DIR, 1);

	if (!root)
		return error_set(
		    err, ERR_NOTFOUND,
		    "not a ferry project (or any parent up to /): '%s'; run 'ferry init' "
		    "at the top of your repository first",
		    start);
	*out = root;
	return 0;
}

void project_free(struct project *p)
{
	if (!p)
		return;
	free(p->root);
	free(p->dir);
	free(p->config_path);
	config_release(&p->config);
	free(p);
}

int project_open(struct project **out, const char *start, struct error *err)
{
	struct project *p = xcalloc(1, sizeof(*p));
	int rc;

	rc = project_find_root(&p->root, start, err);
	if (rc)
		goto out;
	p->dir = fs_path_join(p->root, PROJECT_DIR);
	p->config_path = fs_path_join(p->dir, "config.yaml");
	config_init_defaults(&p->config);
	rc = config_load(&p->config, p->config_path, err);
	if (rc == ERR_NOTFOUND)
		rc = error_set(
		    err, ERR_INVALID,
		    "'%s' is missing; the project at '%s' is damaged (restore it from git)",
		    p->config_path, p->root);
out:
	if (rc) {
		project_free(p);
		return rc;
	}
	*out = p;
	return 0;
}

/* Resolves a relative path against base; absolute paths are returned as they are. */
static char *resolve(const char *base, const char *path)
{
	return path[0] == '/' ? xstrdup(path) : fs_path_join(base, path);
}

static int store_uri_in(char **out, const char *dir, const char *uri, struct error *err)
{
	struct strbuf sb = STRBUF_INIT;
	const char *path;
	char *abs;

	(void)err;
	if (!skip_prefix(uri, "sqlite:", &path)) {
		*out = xstrdup(uri); /* other schemes are the store's to judge */
		return 0;
	}
	abs = resolve(dir, path);
	strbuf_addf(&sb, "sqlite:%s", abs);
	free(abs);
	*out = strbuf_detach(&sb, NULL);
	return 0;
}

int project_store_uri(char **out, const struct project *p, struct error *err)
{
	const char *env = getenv("FERRY_STORE");

	if (env && *env)
		return store_uri_in(out, p->root, env, err);
	return store_uri_in(out, p->dir, p->config.store, err);
}

char *project_cache_dir(const struct project *p)
{
	return resolve(p->dir, p->config.cache_dir);
}

void project_init_result_release(struct project_init_result *r)
{
	free(r->root);
	memset(r, 0, sizeof(*r));
}

static int refuse_existing(const char *dir, struct error *err)
{
	char *root = find_upwards(dir, PROJECT_DIR, 0);
	int rc = 0;

	if (root && !strcmp(root, dir))
		rc = error_set(err, ERR_EXISTS, "'%s' is already a ferry project ('%s/%s' exists)",
			       dir, dir, PROJECT_DIR);
	else if (root)
		rc = error_set(err, ERR_EXISTS,
			       "refusing to create a nested project: '%s' is inside the ferry "
			       "project at '%s'",
			       dir, root);
	free(root);
	return rc;
}

/* Fills the temporary directory with everything .ferry/ holds. */
static int populate(const char *tmp, int *schema_version, struct error *err)
{
	char *config = fs_path_join(tmp, "config.yaml");
	char *ignore = fs_path_join(tmp, ".gitignore");
	char *cache = fs_path_join(tmp, "cache");
	char *db = fs_path_join(tmp, "ferry.db");
	struct strbuf uri = STRBUF_INIT;
	struct store *st = NULL;
	struct store_info info = { 0 };
	const char *text = config_default_text();
	int rc;

	rc = fs_write_atomic(config, text, strlen(text), 0644, err);
	if (!rc)
		rc = fs_write_atomic(ignore, project_gitignore, strlen(project_gitignore), 0644,
				     err);
	if (!rc)
		rc = fs_mkdir_p(cache, 0755, err);
	if (rc)
		goto out;
	strbuf_addf(&uri, "sqlite:%s", db);
	rc = store_open(&st, uri.buf, err);
	if (!rc)
		rc = store_info(st, &info, err);
	if (!rc)
		*schema_version = info.schema_version;
out:
	store_info_release(&info);
	store_close(st);
	strbuf_release(&uri);
	free(config);
	free(ignore);
	free(cache);
	free(db);
	return rc;
}

int project_init(struct project_init_result *out, const char *dir, struct error *err)
{
	struct strbuf tmp = STRBUF_INIT;
	char *final = fs_path_join(dir, PROJECT_DIR);
	char *git = find_upwards(dir, ".git", 0);
	int rc, schema_version = 0;

	rc = refuse_existing(dir, err);
	if (rc)
		goto out;
	strbuf_addf(&tmp, "%s/.ferry-init-XXXXXX", dir);
	if (!mkdtemp(tmp.buf)) {
		rc = error_errno(err, ERR_IO, errno, "cannot create a directory in '%s'", dir);
		goto out;
	}
	rc = populate(tmp.buf, &schema_version, err);
	if (!rc && chmod(tmp.buf, 0755))
		rc = error_errno(err, ERR_IO, errno, "cannot set permissions on '%s'", tmp.buf);
	if (!rc && rename(tmp.buf, final)) {
		if (errno == EEXIST || errno == ENOTEMPTY)
			rc = error_set(err, ERR_EXISTS,
				       "'%s' appeared while initialising; "
				       "another 'ferry init' ran at the same time",
				       final);
		else
			rc = error_errno(err, ERR_IO, errno, "cannot rename '%s' to '%s'", tmp.buf,
					 final);
	}
	if (rc) {
		struct error ignored = ERROR_INIT;

		fs_remove_tree(tmp.buf, &ignored);
		goto out;
	}
	rc = fs_fsync_dir(dir, err);
	if (rc)
		goto out;
	out->root = xstrdup(dir);
	out->in_git = git != NULL;
	out->schema_version = schema_version;
out:
	strbuf_release(&tmp);
	free(final);
	free(git);
	return rc;
}
