/* Data versioning's questions to git, asked through the git command. */
#include "util/common.h"
#include "data/git.h"
#include "util/strbuf.h"
#include "util/subprocess.h"

#define GIT_MAX_OUTPUT (512UL * 1024 * 1024)

/* Runs git in root; a non-zero exit is ERR_IO with git's first stderr line. */
static int run_git(struct subprocess_result *res, const char *root, const char *const *argv,
		   const char *input, struct error *err)
{
	int rc = subprocess_run(res, argv, root, input, GIT_MAX_OUTPUT, err);

	if (rc)
		return rc == ERR_NOTFOUND ? error_prefix(err, "git is needed here: ") : rc;
	if (res->exit_code || res->signal) {
		strbuf_trim(&res->err);
		rc = error_set(err, ERR_IO, "git %s failed: %.*s", argv[1],
			       (int)strcspn(res->err.buf, "\n"), res->err.buf);
		subprocess_result_release(res);
	}
	return rc;
}

int git_head(char out[41], const char *dir, struct error *err)
{
	const char *argv[] = { "git", "rev-parse", "--verify", "-q", "HEAD", NULL };
	struct subprocess_result res = SUBPROCESS_RESULT_INIT;
	struct error ignored = ERROR_INIT;
	int rc = subprocess_run(&res, argv, dir, NULL, 4096, &ignored);

	(void)err;
	if (rc || res.exit_code || res.signal || res.out.len < 40) {
		rc = 1; /* no git, not a repository, or no commit yet: nothing to record */
		goto out;
	}
	memcpy(out, res.out.buf, 40);
	out[40] = '\0';
out:
	subprocess_result_release(&res);
	return rc;
}

int git_dirty(const char *dir)
{
	/* tracked files only: untracked scratch files do not make a source "dirty" */
	const char *argv[] = { "git", "status", "--porcelain", "--untracked-files=no", NULL };
	struct subprocess_result res = SUBPROCESS_RESULT_INIT;
	struct error ignored = ERROR_INIT;
	int rc = subprocess_run(&res, argv, dir, NULL, 1u << 20, &ignored);
	int dirty = !rc && !res.exit_code && !res.signal && res.out.len > 0;

	subprocess_result_release(&res);
	return dirty;
}

void git_pointer_log_release(struct git_pointer_log *log)
{
	for (size_t i = 0; i < log->nr; i++) {
		free(log->items[i].date);
		free(log->items[i].subject);
		free(log->items[i].content);
	}
	free(log->items);
	memset(log, 0, sizeof(*log));
}

/*
 * Reads `git cat-file --batch` output: for each request either "<oid> <type> <size>\n<data>\n"
 * or "<request> missing\n". Calls fn(index, data, len) for found objects.
 */
static int parse_batch(const struct strbuf *out, size_t count,
		       int (*fn)(size_t i, const char *data, size_t len, void *ctx), void *ctx,
		       struct error *err)
{
	const char *p = out->buf, *end = out->buf + out->len;

	for (size_t i = 0; i < count && p < end; i++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		unsigned long long size;
		char type[16];
		int rc;

		if (!nl)
			break;
		if (nl - p >= 8 && !memcmp(nl - 8, " missing", 8)) {
			p = nl + 1;
			continue;
		}
		if (sscanf(p, "%*s %15s %llu", type, &size) != 2 || size > (size_t)(end - nl - 1))
			return error_set(err, ERR_IO, "unexpected output from git cat-file");
		rc = strcmp(type, "blob") ? 0 : fn(i, nl + 1, (size_t)size, ctx);
		if (rc)
			return rc;
		p = nl + 1 + size + 1;
	}
	return 0;
}

static int keep_content(size_t i, const char *data, size_t len, void *ctx)
{
	struct git_pointer_log *log = ctx;

	log->items[i].content = xstrndup(data, len);
	return 0;
}

static int read_versions(struct git_pointer_log *log, const char *root, const char *path,
			 struct error *err)
{
	const char *argv[] = { "git", "cat-file", "--batch", NULL };
	struct subprocess_result res = SUBPROCESS_RESULT_INIT;
	struct strbuf input = STRBUF_INIT;
	int rc;

	for (size_t i = 0; i < log->nr; i++)
		strbuf_addf(&input, "%s:%s\n", log->items[i].commit, path);
	rc = run_git(&res, root, argv, input.buf, err);
	if (!rc)
		rc = parse_batch(&res.out, log->nr, keep_content, log, err);
	subprocess_result_release(&res);
	strbuf_release(&input);
	return rc;
}

int git_pointer_log(struct git_pointer_log *out, const char *root, const char *path,
		    struct error *err)
{
	const char *argv[] = { "git", "log", "--format=%H%x1f%cI%x1f%s%x1e", "--", path, NULL };
	struct subprocess_result res = SUBPROCESS_RESULT_INIT;
	struct git_pointer_log log = { 0 };
	char *rec, *save = NULL;
	int rc = run_git(&res, root, argv, NULL, err);

	if (rc)
		return rc;
	for (rec = strtok_r(res.out.buf, "\x1e", &save); rec; rec = strtok_r(NULL, "\x1e", &save)) {
		char *f1, *f2;

		rec += strspn(rec, "\n");
		f1 = strchr(rec, '\x1f');
		f2 = f1 ? strchr(f1 + 1, '\x1f') : NULL;
		if (!f2 || f1 - rec != 40)
			continue;
		ALLOC_GROW(log.items, log.nr + 1, log.alloc);
		memset(&log.items[log.nr], 0, sizeof(log.items[0]));
		memcpy(log.items[log.nr].commit, rec, 40);
		log.items[log.nr].date = xstrndup(f1 + 1, (size_t)(f2 - f1 - 1));
		log.items[log.nr].subject = xstrdup(f2 + 1);
		log.nr++;
	}
	subprocess_result_release(&res);
	rc = read_versions(&log, root, path, err);
	if (rc) {
		git_pointer_log_release(&log);
		return rc;
	}
	*out = log;
	return 0;
}

struct blob_walk {
	char **paths;
	int (*fn)(const char *path, const char *text, size_t len, void *data);
	void *data;
};

static int call_blob(size_t i, const char *data, size_t len, void *ctx)
{
	struct blob_walk *w = ctx;

	return w->fn(w->paths[i], data, len, w->data);
}

int git_all_pointer_blobs(const char *root,
			  int (*fn)(const char *path, const char *text, size_t len, void *data),
			  void *data, struct error *err)
{
	const char *list_argv[] = { "git", "rev-list", "--all", "--objects", NULL };
	const char *cat_argv[] = { "git", "cat-file", "--batch", NULL };
	struct subprocess_result res = SUBPROCESS_RESULT_INIT, cat = SUBPROCESS_RESULT_INIT;
	struct strbuf input = STRBUF_INIT;
	struct blob_walk w = { NULL, fn, data };
	size_t n = 0, alloc = 0;
	char *line, *save = NULL;
	int rc = run_git(&res, root, list_argv, NULL, err);

	if (rc)
		return rc;
	/* rev-list --objects prints each object once: "<oid> <path>" for blobs and trees. */
	for (line = strtok_r(res.out.buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		const char *space = strchr(line, ' ');

		if (!space || !ends_with(space + 1, ".ferry"))
			continue;
		ALLOC_GROW(w.paths, n + 1, alloc);
		w.paths[n++] = xstrdup(space + 1);
		strbuf_add(&input, line, (size_t)(space - line));
		strbuf_addch(&input, '\n');
	}
	if (n) {
		rc = run_git(&cat, root, cat_argv, input.buf, err);
		if (!rc)
			rc = parse_batch(&cat.out, n, call_blob, &w, err);
	}
	for (size_t i = 0; i < n; i++)
		free(w.paths[i]);
	free(w.paths);
	subprocess_result_release(&res);
	subprocess_result_release(&cat);
	strbuf_release(&input);
	return rc;
}
