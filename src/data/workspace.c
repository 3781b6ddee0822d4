/*
 * Data versioning in the workspace: resolving paths, finding pointer files, and scanning tracked
 * data with the stat cache so that unchanged files are never re-read.
 */
#include "util/common.h"
#include "data/workspace.h"
#include "data/gitignore.h"
#include "data/walk.h"
#include "store/store.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/progress.h"
#include "util/strbuf.h"
#include "util/workpool.h"

#include <dirent.h>
#include <fcntl.h>
#include <time.h>

/*
 * A stat cache entry is trusted only if the file's mtime is older than the moment its stat was
 * taken by more than this: a file changed twice within one timestamp tick (ext4 stamps with a
 * coarse clock) keeps its mtime, so a fresh entry could hide the second change (git's
 * "racily clean" problem).
 */
#define RACY_NS (50LL * 1000 * 1000)

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int64_t mtime_ns(const struct stat *st)
{
	return (int64_t)st->st_mtim.tv_sec * 1000000000LL + st->st_mtim.tv_nsec;
}

static int64_t ctime_ns(const struct stat *st)
{
	return (int64_t)st->st_ctim.tv_sec * 1000000000LL + st->st_ctim.tv_nsec;
}

int workspace_open(struct workspace **out, const char *root, const char *cache_dir,
		   const char *link_order, struct store *st, struct error *err)
{
	struct workspace *ws = xcalloc(1, sizeof(*ws));
	int rc;

	ws->root = xstrdup(root);
	ws->ferry_dir = fs_path_join(root, ".ferry");
	ws->store = st;
	rc = cas_open(&ws->cas, cache_dir, link_order, err);
	if (rc) {
		workspace_free(ws);
		return rc;
	}
	*out = ws;
	return 0;
}

void workspace_free(struct workspace *ws)
{
	if (!ws)
		return;
	cas_free(ws->cas);
	free(ws->root);
	free(ws->ferry_dir);
	free(ws);
}

/* Paths ---------------------------------------------------------------------------------------- */

int workspace_relpath(char **out, const struct workspace *ws, const char *cwd, const char *arg,
		      struct error *err)
{
	char *joined = arg[0] == '/' ? xstrdup(arg) : fs_path_join(cwd, arg);
	char *abs = fs_path_normalize(joined);
	const char *rel;
	int rc = 0;

	if (!skip_prefix(abs, ws->root, &rel) || (*rel && *rel != '/')) {
		rc = error_set(err, ERR_INVALID, "'%s' is outside the project at '%s'", arg,
			       ws->root);
	} else if (!*rel || !rel[1]) {
		rc = error_set(err, ERR_INVALID,
			       "'%s' is the project root; name a file or directory "
			       "inside it",
			       arg);
	} else if (skip_prefix(rel + 1, ".ferry", NULL) && (rel[7] == '\0' || rel[7] == '/')) {
		rc = error_set(err, ERR_INVALID, "'%s' is inside .ferry/, ferry's own directory",
			       arg);
	} else if (skip_prefix(rel + 1, ".git", NULL) && (rel[5] == '\0' || rel[5] == '/')) {
		rc = error_set(err, ERR_INVALID, "'%s' is inside .git/", arg);
	} else {
		*out = xstrdup(rel + 1);
	}
	free(joined);
	free(abs);
	return rc;
}

static char *abs_path(const struct workspace *ws, const char *rel)
{
	return fs_path_join(ws->root, rel);
}

static char *pointer_path_of(const struct workspace *ws, const char *rel)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_addf(&sb, "%s/%s" POINTER_SUFFIX, ws->root, rel);
	return strbuf_detach(&sb, NULL);
}

/* Tracked paths --------------------------------------------------------------------------------- */

void tracked_list_release(struct tracked_list *list)
{
	for (size_t i = 0; i < list->nr; i++) {
		free(list->items[i].path);
		pointer_release(&list->items[i].ptr);
	}
	free(list->items);
	memset(list, 0, sizeof(*list));
}

static int tracked_add(struct tracked_list *list, const struct workspace *ws, const char *rel,
		       struct error *err)
{
	char *pp = pointer_path_of(ws, rel);
	struct pointer p = POINTER_INIT;
	int rc = pointer_load(&p, pp, err);

	free(pp);
	if (rc)
		return rc;
	for (size_t i = 0; i < list->nr; i++)
		if (!strcmp(list->items[i].path, rel)) {
			pointer_release(&p);
			return 0; /* named twice */
		}
	ALLOC_GROW(list->items, list->nr + 1, list->alloc);
	list->items[list->nr].path = xstrdup(rel);
	list->items[list->nr++].ptr = p;
	return 0;
}

/*
 * Finds pointer files under the directory rel ("" for the root), skipping .git, .ferry and
 * directories that are themselves tracked data (their content is described by their pointer).
 */
static int find_pointers(struct tracked_list *list, const struct workspace *ws, struct strbuf *rel,
			 struct error *err)
{
	char *dir = rel->len ? abs_path(ws, rel->buf) : xstrdup(ws->root);
	DIR *d = opendir(dir);
	struct dirent *de;
	int rc = 0;

	if (!d) {
		rc = error_errno(err, ERR_IO, errno, "cannot read directory '%s'", dir);
		free(dir);
		return rc;
	}
	while (!rc && (de = readdir(d))) {
		size_t keep = rel->len, nlen = strlen(de->d_name);
		struct stat st;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
		    (!rel->len && (!strcmp(de->d_name, ".git") || !strcmp(de->d_name, ".ferry"))))
			continue;
		if (rel->len)
			strbuf_addch(rel, '/');
		strbuf_addstr(rel, de->d_name);
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW)) {
			/* vanished meanwhile */
		} else if (S_ISREG(st.st_mode) && ends_with(de->d_name, POINTER_SUFFIX) &&
			   nlen > strlen(POINTER_SUFFIX)) {
			strbuf_setlen(rel, rel->len - strlen(POINTER_SUFFIX));
			rc = tracked_add(list, ws, rel->buf, err);
		} else if (S_ISDIR(st.st_mode) && strcmp(de->d_name, ".git")) {
			struct strbuf ptr = STRBUF_INIT;
			struct stat pst;

			strbuf_addf(&ptr, "%s" POINTER_SUFFIX, de->d_name);
			if (fstatat(dirfd(d), ptr.buf, &pst, AT_SYMLINK_NOFOLLOW))
				rc = find_pointers(list, ws, rel, err);
			strbuf_release(&ptr);
		}
		strbuf_setlen(rel, keep);
	}
	closedir(d);
	free(dir);
	return rc;
}

static int cmp_tracked(const void *a, const void *b)
{
	return strcmp(((const struct tracked *)a)->path, ((const struct tracked *)b)->path);
}

/* One argument: a data path, its pointer file, or a directory holding pointer files. */
static int tracked_from_arg(struct tracked_list *list, struct workspace *ws, const char *cwd,
			    const char *arg, struct error *err)
{
	struct strbuf sb = STRBUF_INIT;
	char *rel = NULL, *pp = NULL, *abs = NULL;
	int rc = workspace_relpath(&rel, ws, cwd, arg, err);

	if (rc)
		return rc;
	if (ends_with(rel, POINTER_SUFFIX) && strlen(rel) > strlen(POINTER_SUFFIX)) {
		abs = abs_path(ws, rel);
		if (fs_exists(abs))
			rel[strlen(rel) - strlen(POINTER_SUFFIX)] = '\0';
		free(abs);
	}
	pp = pointer_path_of(ws, rel);
	abs = abs_path(ws, rel);
	if (fs_exists(pp)) {
		rc = tracked_add(list, ws, rel, err);
	} else if (fs_is_dir(abs)) {
		size_t before = list->nr;

		strbuf_addstr(&sb, rel);
		rc = find_pointers(list, ws, &sb, err);
		if (!rc && list->nr == before)
			rc = error_set(err, ERR_NOTFOUND, "no data is tracked under '%s'", arg);
	} else {
		rc = error_set(err, ERR_NOTFOUND,
			       "'%s' is not tracked by ferry (no '%s" POINTER_SUFFIX
			       "'); run 'ferry data add %s' first",
			       arg, rel, arg);
	}
	strbuf_release(&sb);
	free(rel);
	free(pp);
	free(abs);
	return rc;
}

int workspace_tracked(struct tracked_list *out, struct workspace *ws, const char *cwd,
		      const char *const *args, size_t nargs, struct error *err)
{
	struct tracked_list list = TRACKED_LIST_INIT;
	struct strbuf rel = STRBUF_INIT;
	int rc = 0;

	if (!nargs)
		rc = find_pointers(&list, ws, &rel, err);
	for (size_t i = 0; !rc && i < nargs; i++)
		rc = tracked_from_arg(&list, ws, cwd, args[i], err);
	strbuf_release(&rel);
	if (rc) {
		tracked_list_release(&list);
		return rc;
	}
	if (list.nr)
		qsort(list.items, list.nr, sizeof(*list.items), cmp_tracked);
	*out = list;
	return 0;
}

/* Scanning: the workspace's digests, from the stat cache where it can be trusted ---------------- */

static int entry_trusted(const struct store_stat_entry *e, const struct walk_stat *st)
{
	return e->size == st->size && e->mtime_ns == st->mtime_ns && e->ctime_ns == st->ctime_ns &&
	       e->inode == st->ino && e->mtime_ns < e->recorded_ns - RACY_NS;
}

struct scan_item {
	struct walk_file f; /* f.path: relative to the root, in the listing's arena */
	char hex[SHA256_HEX_SIZE];
	unsigned char need_hash;
	unsigned char record; /* unchanged while hashed: its stat may enter the cache */
};

struct scan_result {
	int is_dir;
	char hex[SHA256_HEX_SIZE];
	uint64_t size, nfiles;
	struct manifest m; /* directories */
	size_t hashed, reused;
};

static void scan_result_release(struct scan_result *r)
{
	manifest_release(&r->m);
	memset(r, 0, sizeof(*r));
}

struct scan_job {
	struct workspace *ws;
	struct scan_item *items;
	size_t *todo;
	struct walk_stat *after; /* per todo entry: the stat after hashing */
	int add;
	struct progress *progress;
};

static int scan_one(size_t i, void *data, struct error *err)
{
	struct scan_job *job = data;
	struct scan_item *it = &job->items[job->todo[i]];
	char *path = abs_path(job->ws, it->f.path);
	uint64_t size = 0;
	struct stat after;
	int rc;

	if (job->add)
		rc = cas_add_file(job->ws->cas, path, it->hex, &size, err);
	else
		rc = sha256_file(it->hex, path, err);
	/* Changed while we read it? Then its stat must not vouch for this digest. */
	if (!rc && !lstat(path, &after)) {
		struct walk_stat *a = &job->after[i];

		walk_stat_from(a, &after);
		it->record = a->size == it->f.st.size && a->mtime_ns == it->f.st.mtime_ns &&
			     a->ino == it->f.st.ino;
	}
	progress_add(job->progress, it->f.st.size);
	free(path);
	return rc;
}

/* Lists what rel holds: itself if a file, its files (sorted by path) if a directory. */
static int list_items(struct scan_item **out, struct walk_scan *files, int *is_dir,
		      const struct workspace *ws, const char *rel, struct error *err)
{
	char *path = abs_path(ws, rel);
	struct stat st;
	int rc = 0;

	*is_dir = 0;
	if (lstat(path, &st)) {
		rc = error_errno(err, errno == ENOENT ? ERR_NOTFOUND : ERR_IO, errno,
				 "cannot stat '%s'", path);
	} else if (S_ISREG(st.st_mode)) {
		files->items = xcalloc(1, sizeof(*files->items));
		files->arena = xstrdup(rel);
		files->items[0].path = files->arena;
		walk_stat_from(&files->items[0].st, &st);
		files->items[0].executable = (st.st_mode & S_IXUSR) != 0;
		files->nr = 1;
	} else if (S_ISDIR(st.st_mode)) {
		*is_dir = 1;
		rc = walk_scan_dir(files, path, rel, err);
	} else {
		rc = error_set(err, ERR_INVALID,
			       "'%s' is %s; only regular files and directories can be versioned",
			       path, walk_kind_name(st.st_mode));
	}
	if (!rc) {
		*out = xcalloc(files->nr ? files->nr : 1, sizeof(**out));
		for (size_t i = 0; i < files->nr; i++)
			(*out)[i].f = files->items[i];
	}
	free(path);
	return rc;
}

static int hash_items(struct workspace *ws, struct scan_item *items, size_t n, int add,
		      size_t *hashed, int64_t recorded, struct error *err)
{
	struct scan_job job = { ws, items, xcalloc(n ? n : 1, sizeof(size_t)), NULL, add, NULL };
	struct store_stat_entry *entries = NULL;
	uint64_t bytes = 0;
	size_t todo = 0, k = 0;
	int rc;

	for (size_t i = 0; i < n; i++)
		if (items[i].need_hash) {
			job.todo[todo++] = i;
			bytes += items[i].f.st.size;
		}
	*hashed = todo;
	if (!todo) {
		free(job.todo);
		return 0;
	}
	job.after = xcalloc(todo, sizeof(*job.after));
	if (todo > 1 || bytes > (64 << 20))
		job.progress =
		    progress_start(add ? "adding" : "hashing", bytes, PROGRESS_BYTES, ws->quiet);
	rc = workpool_run(todo, ws->jobs, 1, scan_one, &job, err);
	progress_finish(job.progress);
	if (rc)
		goto out;
	entries = xcalloc(todo, sizeof(*entries));
	for (size_t t = 0; t < todo; t++) {
		const struct scan_item *it = &items[job.todo[t]];
		const struct walk_stat *a = &job.after[t];

		if (!it->record)
			continue;
		entries[k].path = it->f.path;
		entries[k].size = a->size;
		entries[k].mtime_ns = a->mtime_ns;
		entries[k].ctime_ns = a->ctime_ns;
		entries[k].inode = a->ino;
		memcpy(entries[k].hex, it->hex, SHA256_HEX_SIZE);
		entries[k++].recorded_ns = recorded;
	}
	rc = store_statcache_put(ws->store, entries, k, err);
out:
	free(entries);
	free(job.after);
	free(job.todo);
	return rc;
}

/*
 * The stat cache's rows against the listing, both in path byte order: one merge pass instead
 * of a search per file. Rows out of order would only be missed (their files re-hashed).
 */
struct cache_merge {
	struct workspace *ws;
	struct scan_item *items;
	size_t n, next, reused;
	int add;
};

static int merge_row(const struct store_stat_entry *e, void *data)
{
	struct cache_merge *m = data;
	struct scan_item *it;
	int c = -1;

	while (m->next < m->n && (c = strcmp(m->items[m->next].f.path, e->path)) < 0)
		m->next++;
	if (c)
		return 0;
	it = &m->items[m->next++];
	if (entry_trusted(e, &it->f.st) && (!m->add || cas_has(m->ws->cas, e->hex))) {
		memcpy(it->hex, e->hex, SHA256_HEX_SIZE);
		it->need_hash = 0;
		m->reused++;
	}
	return 0;
}

/* The manifest of the scanned directory (items in path order, each under rel "/"). */
static void build_manifest(struct manifest *m, const struct scan_item *items, size_t n,
			   size_t prefix)
{
	m->items = xcalloc(n ? n : 1, sizeof(*m->items));
	m->alloc = n ? n : 1;
	for (size_t i = 0; i < n; i++) {
		struct manifest_entry *e = &m->items[i];

		e->path = xstrdup(items[i].f.path + prefix);
		memcpy(e->hex, items[i].hex, SHA256_HEX_SIZE);
		e->size = items[i].f.st.size;
		e->executable = items[i].f.executable;
	}
	m->nr = n;
	manifest_sort(m); /* a no-op but for its checks: the listing is sorted */
}

/* Digests of everything at rel; with add, their content also goes into the cache. */
static int scan(struct workspace *ws, const char *rel, int add, struct scan_result *out,
		struct error *err)
{
	struct walk_scan files = WALK_SCAN_INIT;
	struct cache_merge merge = { ws, NULL, 0, 0, 0, add };
	struct scan_item *items = NULL;
	struct strbuf text = STRBUF_INIT;
	size_t n = 0, prefix = strlen(rel) + 1;
	int64_t started = now_ns();
	int rc;

	memset(out, 0, sizeof(*out));
	rc = list_items(&items, &files, &out->is_dir, ws, rel, err);
	if (rc)
		goto out;
	n = files.nr;
	for (size_t i = 0; i < n; i++)
		items[i].need_hash = 1;
	merge.items = items;
	merge.n = n;
	rc = store_statcache_load(ws->store, rel, merge_row, &merge, err);
	if (!rc)
		rc = hash_items(ws, items, n, add, &out->hashed, started, err);
	if (rc)
		goto out;
	out->reused = merge.reused;
	if (!out->is_dir) {
		memcpy(out->hex, items[0].hex, SHA256_HEX_SIZE);
		out->size = items[0].f.st.size;
		goto out;
	}
	build_manifest(&out->m, items, n, prefix);
	manifest_serialize(&out->m, &text);
	if (add)
		rc = cas_add_buffer(ws->cas, text.buf, text.len, out->hex, err);
	else
		sha256_buffer(text.buf, text.len, out->hex);
	out->size = manifest_total_size(&out->m);
	out->nfiles = out->m.nr;
out:
	if (rc)
		scan_result_release(out);
	strbuf_release(&text);
	free(items);
	walk_scan_release(&files);
	return rc;
}

/* Add ------------------------------------------------------------------------------------------ */

void add_result_release(struct add_result *r)
{
	free(r->path);
	pointer_release(&r->ptr);
	memset(r, 0, sizeof(*r));
}

/* Data inside a tracked directory belongs to that directory's pointer, not to its own. */
static int refuse_nested(const struct workspace *ws, const char *rel, const char *arg,
			 struct error *err)
{
	char *up = xstrdup(rel), *slash;
	int rc = 0;

	while (!rc && (slash = strrchr(up, '/'))) {
		char *pp;

		*slash = '\0';
		pp = pointer_path_of(ws, up);
		if (fs_exists(pp))
			rc = error_set(
			    err, ERR_INVALID,
			    "'%s' is inside the tracked directory '%s'; re-add '%s' instead", arg,
			    up, up);
		free(pp);
	}
	free(up);
	return rc;
}

static int refuse_pointers_inside(const struct scan_result *res, const char *rel, struct error *err)
{
	for (size_t i = 0; i < res->m.nr; i++)
		if (ends_with(res->m.items[i].path, POINTER_SUFFIX))
			return error_set(err, ERR_INVALID,
					 "'%s' holds tracked data ('%s/%s'); add its parts "
					 "separately, or remove that pointer file first",
					 rel, rel, res->m.items[i].path);
	return 0;
}

static int record_dataset(struct workspace *ws, const char *rel, const struct pointer *p,
			  const char *git_commit, struct error *err)
{
	struct strbuf digest = STRBUF_INIT;
	struct store_new_dataset ds = { 0 };
	int64_t id;
	int rc;

	strbuf_addf(&digest, "sha256:%s", p->hex);
	ds.name = rel;
	ds.path = rel;
	ds.digest = digest.buf;
	ds.size = (int64_t)p->size;
	ds.git_commit = git_commit;
	rc = store_dataset_record(ws->store, &id, &ds, err);
	strbuf_release(&digest);
	return rc;
}

static int ignore_in_git(struct workspace *ws, const char *rel, struct error *err)
{
	char *tmp = fs_path_join(ws->ferry_dir, "tmp");
	char *lock = fs_path_join(tmp, "gitignore.lock");
	char *abs = abs_path(ws, rel);
	int rc = fs_mkdir_p(tmp, 0755, err);

	if (!rc)
		rc = gitignore_add(abs, lock, err);
	free(tmp);
	free(lock);
	free(abs);
	return rc;
}

int workspace_add(struct workspace *ws, const char *cwd, const char *arg, const char *git_commit,
		  struct add_result *out, struct error *err)
{
	struct scan_result res = { 0 };
	struct pointer p = POINTER_INIT;
	struct error ignored = ERROR_INIT;
	char *rel = NULL, *pp = NULL;
	int rc = workspace_relpath(&rel, ws, cwd, arg, err);

	if (rc)
		return rc;
	if (ends_with(rel, POINTER_SUFFIX)) {
		rc = error_set(err, ERR_INVALID,
			       "'%s' is a ferry pointer file; add the data it describes", arg);
		goto out;
	}
	rc = refuse_nested(ws, rel, arg, err);
	if (!rc)
		rc = scan(ws, rel, 1, &res, err);
	if (!rc && res.is_dir)
		rc = refuse_pointers_inside(&res, rel, err);
	/* Objects are durable before a pointer names them. */
	if (!rc)
		rc = cas_sync(ws->cas, err);
	if (rc)
		goto out;
	pp = pointer_path_of(ws, rel);
	if (pointer_load(&p, pp, &ignored) == 0)
		out->changed = strcmp(p.hex, res.hex) != 0;
	else
		out->changed = 1;
	memcpy(p.hex, res.hex, SHA256_HEX_SIZE);
	p.size = res.size;
	p.is_dir = res.is_dir;
	p.nfiles = res.nfiles;
	rc = pointer_write(&p, pp, err);
	if (!rc)
		rc = ignore_in_git(ws, rel, err);
	if (!rc)
		rc = record_dataset(ws, rel, &p, git_commit, err);
	if (rc)
		goto out;
	out->path = rel;
	rel = NULL;
	out->ptr = p;
	memset(&p, 0, sizeof(p));
	out->hashed = res.hashed;
	out->reused = res.reused;
out:
	scan_result_release(&res);
	pointer_release(&p);
	free(rel);
	free(pp);
	return rc;
}

/* Objects of a version ------------------------------------------------------------------------- */

/* Reads and parses a directory's manifest from the cache. */
static int load_manifest(struct workspace *ws, const char *hex, const char *rel,
			 struct manifest *out, struct error *err)
{
	struct strbuf text = STRBUF_INIT;
	char name[ERROR_MSG_SIZE];
	int rc = cas_read(ws->cas, hex, &text, MANIFEST_MAX_SIZE, err);

	if (rc == ERR_NOTFOUND)
		rc = error_set(err, ERR_NOTFOUND,
			       "the manifest of '%s' (sha256:%s) is not in the cache; run 'ferry "
			       "data pull %s'",
			       rel, hex, rel);
	snprintf(name, sizeof(name), "manifest of '%s'", rel);
	if (!rc)
		rc = manifest_parse(out, name, text.buf, text.len, err);
	strbuf_release(&text);
	return rc;
}

int workspace_objects(struct workspace *ws, const struct pointer *p, char ***hexes, size_t *n,
		      size_t *alloc, int *incomplete, struct error *err)
{
	struct manifest m = MANIFEST_INIT;
	int rc;

	ALLOC_GROW(*hexes, *n + 1, *alloc);
	(*hexes)[(*n)++] = xstrdup(p->hex);
	if (!p->is_dir)
		return 0;
	if (!cas_has(ws->cas, p->hex)) {
		*incomplete = 1;
		return 0;
	}
	rc = load_manifest(ws, p->hex, "a directory", &m, err);
	if (rc)
		return rc;
	ALLOC_GROW(*hexes, *n + m.nr, *alloc);
	for (size_t i = 0; i < m.nr; i++)
		(*hexes)[(*n)++] = xstrdup(m.items[i].hex);
	manifest_release(&m);
	return 0;
}

struct presence {
	struct cas *cas;
	const char *const *hexes;
	_Atomic uint64_t missing;
};

static int check_present(size_t i, void *data, struct error *err)
{
	struct presence *pr = data;

	(void)err;
	if (!cas_has(pr->cas, pr->hexes[i]))
		pr->missing++;
	return 0;
}

/*
 * How many of the n objects in hexes the cache lacks. For many objects, listing the cache once
 * (256 directory reads, on the pool's threads) is several times cheaper than a stat per object.
 */
static int missing_among(struct workspace *ws, const char *const *hexes, size_t n, uint64_t *out,
			 struct error *err)
{
	struct presence pr = { ws->cas, hexes, 0 };
	int rc;

	if (n >= 512)
		return cas_count_missing(ws->cas, hexes, n, ws->jobs, out, err);
	rc = workpool_run(n, ws->jobs, 0, check_present, &pr, err);
	*out = pr.missing;
	return rc;
}

/*
 * How many of p's objects the cache lacks (a directory without its manifest: all of them).
 * known: the directory's manifest when the caller already has it (the workspace matches p).
 */
static int count_missing(struct workspace *ws, const struct pointer *p,
			 const struct manifest *known, uint64_t *out, struct error *err)
{
	const char **known_hexes = NULL;
	char **hexes = NULL;
	size_t n = 0, alloc = 0;
	int incomplete = 0, rc = 0;

	if (known && p->is_dir) {
		known_hexes = xcalloc(known->nr + 1, sizeof(*known_hexes));
		known_hexes[n++] = p->hex;
		for (size_t i = 0; i < known->nr; i++)
			known_hexes[n++] = known->items[i].hex;
		rc = missing_among(ws, known_hexes, n, out, err);
		free(known_hexes);
		return rc;
	}
	rc = workspace_objects(ws, p, &hexes, &n, &alloc, &incomplete, err);
	if (!rc)
		rc = missing_among(ws, (const char *const *)hexes, n, out, err);
	if (incomplete)
		*out = p->nfiles + 1;
	for (size_t i = 0; i < n; i++)
		free(hexes[i]);
	free(hexes);
	return rc;
}

/* Status --------------------------------------------------------------------------------------- */

const char *data_state_name(enum data_state s)
{
	switch (s) {
	case DATA_UP_TO_DATE:
		return "up to date";
	case DATA_MODIFIED:
		return "modified";
	case DATA_MISSING:
		return "missing";
	case DATA_NOT_IN_CACHE:
		return "not in cache";
	}
	BUG("data state %d", (int)s);
}

void status_result_release(struct status_result *r)
{
	manifest_release(&r->current);
	memset(r, 0, sizeof(*r));
}

int workspace_status(struct workspace *ws, const struct tracked *t, struct status_result *out,
		     struct error *err)
{
	struct scan_result res = { 0 };
	struct error scan_err = ERROR_INIT;
	int rc = scan(ws, t->path, 0, &res, &scan_err);

	memset(out, 0, sizeof(*out));
	if (rc == ERR_NOTFOUND) {
		out->state = DATA_MISSING;
		return count_missing(ws, &t->ptr, NULL, &out->missing_objects, err);
	}
	if (rc) {
		*err = scan_err;
		return rc;
	}
	memcpy(out->hex, res.hex, SHA256_HEX_SIZE);
	out->size = res.size;
	out->nfiles = res.nfiles;
	out->current = res.m;
	memset(&res.m, 0, sizeof(res.m));
	if (strcmp(res.hex, t->ptr.hex) || res.is_dir != t->ptr.is_dir) {
		out->state = DATA_MODIFIED;
	} else {
		rc = count_missing(ws, &t->ptr, &out->current, &out->missing_objects, err);
		out->state = out->missing_objects ? DATA_NOT_IN_CACHE : DATA_UP_TO_DATE;
	}
	scan_result_release(&res);
	return rc;
}

/* Diff ----------------------------------------------------------------------------------------- */

void diff_list_release(struct diff_list *list)
{
	for (size_t i = 0; i < list->nr; i++)
		free(list->items[i].path);
	free(list->items);
	memset(list, 0, sizeof(*list));
}

static void diff_push(struct diff_list *list, char op, const char *rel, const char *name,
		      const struct manifest_entry *old, const struct manifest_entry *cur)
{
	struct diff_entry *d;
	struct strbuf path = STRBUF_INIT;

	ALLOC_GROW(list->items, list->nr + 1, list->alloc);
	d = &list->items[list->nr++];
	memset(d, 0, sizeof(*d));
	d->op = op;
	strbuf_addstr(&path, rel);
	if (name)
		strbuf_addf(&path, "/%s", name);
	d->path = strbuf_detach(&path, NULL);
	if (old) {
		memcpy(d->old_hex, old->hex, SHA256_HEX_SIZE);
		d->old_size = old->size;
	}
	if (cur) {
		memcpy(d->new_hex, cur->hex, SHA256_HEX_SIZE);
		d->new_size = cur->size;
	}
}

/* Merges two sorted manifests into A/D/M entries. */
static void diff_manifests(struct diff_list *out, const char *rel, const struct manifest *old,
			   const struct manifest *cur)
{
	size_t i = 0, j = 0;

	while (i < old->nr || j < cur->nr) {
		int c = i >= old->nr   ? 1
			: j >= cur->nr ? -1
				       : strcmp(old->items[i].path, cur->items[j].path);

		if (c < 0) {
			diff_push(out, 'D', rel, old->items[i].path, &old->items[i], NULL);
			i++;
		} else if (c > 0) {
			diff_push(out, 'A', rel, cur->items[j].path, NULL, &cur->items[j]);
			j++;
		} else {
			if (strcmp(old->items[i].hex, cur->items[j].hex))
				diff_push(out, 'M', rel, cur->items[j].path, &old->items[i],
					  &cur->items[j]);
			i++;
			j++;
		}
	}
}

int workspace_diff(struct workspace *ws, const struct tracked *t, struct diff_list *out,
		   struct error *err)
{
	struct status_result st = { 0 };
	struct manifest old = MANIFEST_INIT, none = MANIFEST_INIT;
	struct manifest_entry was = { NULL, { 0 }, t->ptr.size, 0 }, now = { 0 };
	int rc = workspace_status(ws, t, &st, err);

	if (rc)
		return rc;
	if (st.state == DATA_UP_TO_DATE || st.state == DATA_NOT_IN_CACHE)
		goto out;
	memcpy(was.hex, t->ptr.hex, SHA256_HEX_SIZE);
	if (!t->ptr.is_dir && (st.state == DATA_MISSING || !st.nfiles)) {
		memcpy(now.hex, st.hex, SHA256_HEX_SIZE);
		now.size = st.size;
		diff_push(out, st.state == DATA_MISSING ? 'D' : 'M', t->path, NULL, &was,
			  st.state == DATA_MISSING ? NULL : &now);
		goto out;
	}
	rc = t->ptr.is_dir ? load_manifest(ws, t->ptr.hex, t->path, &old, err) : 0;
	if (!rc)
		diff_manifests(out, t->path, &old, st.state == DATA_MISSING ? &none : &st.current);
out:
	manifest_release(&old);
	status_result_release(&st);
	return rc;
}

/* Checkout ------------------------------------------------------------------------------------- */

struct checkout_item {
	char *rel; /* owned */
	const struct manifest_entry *want;
	struct stat after;
	int written;
};

struct checkout_job {
	struct workspace *ws;
	struct checkout_item *items;
};

static int checkout_one(size_t i, void *data, struct error *err)
{
	struct checkout_job *job = data;
	struct checkout_item *it = &job->items[i];
	char *path = abs_path(job->ws, it->rel);
	int rc = cas_checkout(job->ws->cas, it->want->hex, path, it->want->executable, NULL, err);

	if (!rc && !lstat(path, &it->after))
		it->written = 1;
	free(path);
	return rc;
}

/* Content the workspace would lose: not what we want there, and not in the cache either. */
static int lost(struct workspace *ws, const struct manifest_entry *cur,
		const struct manifest_entry *want)
{
	return cur && (!want || strcmp(cur->hex, want->hex)) && !cas_has(ws->cas, cur->hex);
}

static void note_conflict(struct strbuf *list, size_t *count, const char *rel, const char *name)
{
	if (++*count <= 5)
		strbuf_addf(list, "%s'%s%s%s'", *count > 1 ? ", " : "", rel, name ? "/" : "",
			    name ? name : "");
}

static int remove_file(struct workspace *ws, const char *rel, const char *name, struct error *err)
{
	struct strbuf path = STRBUF_INIT;
	int rc = 0;

	strbuf_addf(&path, "%s/%s/%s", ws->root, rel, name);
	if (unlink(path.buf) && errno != ENOENT)
		rc = error_errno(err, ERR_IO, errno, "cannot remove '%s'", path.buf);
	strbuf_release(&path);
	return rc;
}

static int record_checkout(struct workspace *ws, struct checkout_item *items, size_t n,
			   int64_t recorded, struct error *err)
{
	struct store_stat_entry *entries = xcalloc(n ? n : 1, sizeof(*entries));
	size_t k = 0;
	int rc;

	for (size_t i = 0; i < n; i++) {
		if (!items[i].written)
			continue;
		entries[k].path = items[i].rel;
		entries[k].size = (uint64_t)items[i].after.st_size;
		entries[k].mtime_ns = mtime_ns(&items[i].after);
		entries[k].ctime_ns = ctime_ns(&items[i].after);
		entries[k].inode = (uint64_t)items[i].after.st_ino;
		memcpy(entries[k].hex, items[i].want->hex, SHA256_HEX_SIZE);
		entries[k++].recorded_ns = recorded;
	}
	rc = store_statcache_put(ws->store, entries, k, err);
	free(entries);
	return rc;
}

/*
 * Plans and applies a checkout of want (the pointer's files; a single unnamed entry for a file
 * pointer) over cur (the workspace's, empty if missing).
 */
static int apply_checkout(struct workspace *ws, const struct tracked *t,
			  const struct manifest *want, const struct manifest *cur, int force,
			  struct checkout_result *out, struct error *err)
{
	struct checkout_item *items = xcalloc(want->nr ? want->nr : 1, sizeof(*items));
	struct strbuf conflicts = STRBUF_INIT;
	struct checkout_job job = { ws, items };
	size_t n = 0, nconflicts = 0;
	int64_t started = now_ns();
	int rc = 0;

	for (size_t i = 0; i < want->nr; i++) {
		const struct manifest_entry *w = &want->items[i];
		const struct manifest_entry *c =
		    t->ptr.is_dir ? manifest_find(cur, w->path) : (cur->nr ? cur->items : NULL);

		if (c && !strcmp(c->hex, w->hex)) {
			out->kept++;
			continue;
		}
		if (!cas_has(ws->cas, w->hex)) {
			rc =
			    error_set(err, ERR_NOTFOUND,
				      "'%s': object sha256:%s is not in the cache; run 'ferry data "
				      "pull %s'",
				      t->path, w->hex, t->path);
			goto out;
		}
		if (!force && lost(ws, c, w))
			note_conflict(&conflicts, &nconflicts, t->path,
				      t->ptr.is_dir ? w->path : NULL);
		items[n].rel = t->ptr.is_dir ? fs_path_join(t->path, w->path) : xstrdup(t->path);
		items[n++].want = w;
	}
	for (size_t i = 0; t->ptr.is_dir && i < cur->nr; i++)
		if (!manifest_find(want, cur->items[i].path) && !force &&
		    lost(ws, &cur->items[i], NULL))
			note_conflict(&conflicts, &nconflicts, t->path, cur->items[i].path);
	if (nconflicts) {
		rc = error_set(err, ERR_CONFLICT,
			       "checkout would lose workspace changes that are not in the cache: "
			       "%s%s; run 'ferry data add' to keep them or use --force",
			       conflicts.buf, nconflicts > 5 ? ", ..." : "");
		goto out;
	}
	rc = workpool_run(n, ws->jobs, 1, checkout_one, &job, err);
	for (size_t i = 0; i < n; i++)
		out->written += (size_t)items[i].written;
	for (size_t i = 0; !rc && t->ptr.is_dir && i < cur->nr; i++)
		if (!manifest_find(want, cur->items[i].path)) {
			rc = remove_file(ws, t->path, cur->items[i].path, err);
			out->removed += !rc;
		}
	if (!rc)
		rc = record_checkout(ws, items, n, started, err);
out:
	for (size_t i = 0; i < n; i++)
		free(items[i].rel);
	free(items);
	strbuf_release(&conflicts);
	return rc;
}

int workspace_checkout(struct workspace *ws, const struct tracked *t, int force,
		       struct checkout_result *out, struct error *err)
{
	struct manifest want = MANIFEST_INIT, cur = MANIFEST_INIT;
	struct scan_result res = { 0 };
	struct error scan_err = ERROR_INIT;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = scan(ws, t->path, 0, &res, &scan_err);
	if (rc && rc != ERR_NOTFOUND) {
		*err = scan_err;
		return rc;
	}
	if (!rc && res.is_dir) {
		cur = res.m;
		memset(&res.m, 0, sizeof(res.m));
	} else if (!rc) {
		manifest_add(&cur, "", res.hex, res.size, 0);
	}
	/* A file pointer is checked out as a one-entry manifest whose path is the file itself. */
	if (t->ptr.is_dir) {
		rc = load_manifest(ws, t->ptr.hex, t->path, &want, err);
	} else {
		rc = 0;
		manifest_add(&want, "", t->ptr.hex, t->ptr.size, 0);
	}
	if (!rc && !t->ptr.is_dir != !res.is_dir && cur.nr && !force)
		rc = error_set(err, ERR_CONFLICT,
			       "'%s' is a %s in the workspace but the pointer names a %s; move it "
			       "away or use --force",
			       t->path, res.is_dir ? "directory" : "file",
			       t->ptr.is_dir ? "directory" : "file");
	if (!rc)
		rc = apply_checkout(ws, t, &want, &cur, force, out, err);
	manifest_release(&want);
	manifest_release(&cur);
	scan_result_release(&res);
	return rc;
}
