/*
 * Digests of stage deps and outs with the store's stat cache: the same cache and the same
 * digests (file SHA-256, directory manifest SHA-256) as `ferry data`, so a dataset added with
 * `ferry data add` is hashed once for both.
 */
#include "util/common.h"
#include "data/cas.h"
#include "data/manifest.h"
#include "data/walk.h"
#include "pipeline/state.h"
#include "store/store.h"
#include "util/fs.h"
#include "util/strbuf.h"
#include "util/workpool.h"

#include <time.h>

/* As workspace.c: a stat taken within this of the file's mtime cannot vouch for its content. */
#define RACY_NS (50LL * 1000 * 1000)

static int64_t ns_of(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * 1000000000LL + ts->tv_nsec;
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ns_of(&ts);
}

struct item {
	char *rel;
	struct stat st;
	char hex[SHA256_HEX_SIZE];
	int need, record;
};

struct index {
	struct item *items;
	size_t n;
	size_t reused;
};

static int cmp_item(const void *key, const void *elem)
{
	return strcmp(key, ((const struct item *)elem)->rel);
}

/* Statcache rows arrive in path order, as the items are: look each up by binary search. */
static int take_entry(const struct store_stat_entry *e, void *data)
{
	struct index *idx = data;
	struct item *it = bsearch(e->path, idx->items, idx->n, sizeof(*it), cmp_item);

	if (it && e->size == (uint64_t)it->st.st_size && e->mtime_ns == ns_of(&it->st.st_mtim) &&
	    e->ctime_ns == ns_of(&it->st.st_ctim) && e->inode == (uint64_t)it->st.st_ino &&
	    e->mtime_ns < e->recorded_ns - RACY_NS) {
		memcpy(it->hex, e->hex, SHA256_HEX_SIZE);
		it->need = 0;
	}
	return 0;
}

struct hash_job {
	struct pipe_env *env;
	struct item *items;
	size_t *todo;
	int add;
};

static int hash_one(size_t i, void *data, struct error *err)
{
	struct hash_job *job = data;
	struct item *it = &job->items[job->todo[i]];
	char *path = fs_path_join(job->env->root, it->rel);
	struct stat after;
	uint64_t size;
	int rc = job->add ? cas_add_file(job->env->cas, path, it->hex, &size, err)
			  : sha256_file(it->hex, path, err);

	it->record = !rc && !lstat(path, &after) && after.st_size == it->st.st_size &&
		     ns_of(&after.st_mtim) == ns_of(&it->st.st_mtim) &&
		     after.st_ino == it->st.st_ino;
	if (it->record)
		it->st = after;
	free(path);
	return rc;
}

static void lock_mu(struct pipe_env *env)
{
	if (env->mu)
		pthread_mutex_lock(env->mu);
}

static void unlock_mu(struct pipe_env *env)
{
	if (env->mu)
		pthread_mutex_unlock(env->mu);
}

static int use_cache(struct pipe_env *env, struct index *idx, const char *rel, struct error *err)
{
	int rc = 0;

	if (!env->store)
		return 0;
	lock_mu(env);
	rc = store_statcache_load(env->store, rel, take_entry, idx, err);
	unlock_mu(env);
	return rc;
}

static int record(struct pipe_env *env, struct index *idx, int64_t started, struct error *err)
{
	struct store_stat_entry *e = xcalloc(idx->n + 1, sizeof(*e));
	size_t k = 0;
	int rc = 0;

	for (size_t i = 0; i < idx->n; i++) {
		struct item *it = &idx->items[i];

		if (!it->need || !it->record)
			continue;
		e[k].path = it->rel;
		e[k].size = (uint64_t)it->st.st_size;
		e[k].mtime_ns = ns_of(&it->st.st_mtim);
		e[k].ctime_ns = ns_of(&it->st.st_ctim);
		e[k].inode = (uint64_t)it->st.st_ino;
		memcpy(e[k].hex, it->hex, SHA256_HEX_SIZE);
		e[k++].recorded_ns = started;
	}
	if (k && env->store) {
		lock_mu(env);
		rc = store_statcache_put(env->store, e, k, err);
		unlock_mu(env);
	}
	free(e);
	return rc;
}

/* Lists rel: itself if a file, its files (sorted) if a directory. */
static int list(struct index *idx, int *is_dir, struct pipe_env *env, const char *rel,
		struct error *err)
{
	char *path = fs_path_join(env->root, rel);
	struct walk_list files = WALK_LIST_INIT;
	struct stat st;
	int rc = 0;

	*is_dir = 0;
	if (lstat(path, &st)) {
		rc = error_errno(err, errno == ENOENT || errno == ENOTDIR ? ERR_NOTFOUND : ERR_IO,
				 errno, "cannot stat '%s'", rel);
	} else if (S_ISREG(st.st_mode)) {
		idx->items = xcalloc(1, sizeof(*idx->items));
		idx->items[0].rel = xstrdup(rel);
		idx->items[0].st = st;
		idx->n = 1;
	} else if (S_ISDIR(st.st_mode)) {
		*is_dir = 1;
		rc = walk_files(&files, path, err);
		idx->items = xcalloc(files.nr + 1, sizeof(*idx->items));
		for (size_t i = 0; !rc && i < files.nr; i++) {
			idx->items[i].rel = xstrfmt("%s/%s", rel, files.items[i].relpath);
			idx->items[i].st = files.items[i].st;
		}
		idx->n = rc ? 0 : files.nr;
	} else {
		rc = error_set(err, ERR_INVALID,
			       "'%s' is %s; only regular files and directories "
			       "can be deps and outs",
			       rel, walk_kind_name(st.st_mode));
	}
	for (size_t i = 0; i < idx->n; i++)
		idx->items[i].need = 1;
	walk_list_release(&files);
	free(path);
	return rc;
}

static int finish(struct lock_entry *out, struct pipe_env *env, struct index *idx, int is_dir,
		  int add, struct error *err)
{
	struct manifest m = MANIFEST_INIT;
	struct strbuf text = STRBUF_INIT;
	size_t skip = strlen(out->path) + 1;
	int rc = 0;

	if (!is_dir) {
		memcpy(out->hex, idx->items[0].hex, SHA256_HEX_SIZE);
		out->size = (uint64_t)idx->items[0].st.st_size;
		return 0;
	}
	for (size_t i = 0; i < idx->n; i++)
		manifest_add(&m, idx->items[i].rel + skip, idx->items[i].hex,
			     (uint64_t)idx->items[i].st.st_size,
			     (idx->items[i].st.st_mode & S_IXUSR) != 0);
	manifest_sort(&m);
	manifest_serialize(&m, &text);
	if (add)
		rc = cas_add_buffer(env->cas, text.buf, text.len, out->hex, err);
	else
		sha256_buffer(text.buf, text.len, out->hex);
	out->is_dir = 1;
	out->size = manifest_total_size(&m);
	out->nfiles = m.nr;
	manifest_release(&m);
	strbuf_release(&text);
	return rc;
}

int pipe_hash(struct lock_entry *out, struct pipe_env *env, const char *rel, int add,
	      struct error *err)
{
	struct index idx = { 0 };
	struct lock_entry e = { 0 };
	struct hash_job job = { env, NULL, NULL, add };
	int64_t started = now_ns();
	size_t ntodo = 0;
	int is_dir = 0, rc = list(&idx, &is_dir, env, rel, err);

	if (!rc)
		rc = use_cache(env, &idx, rel, err);
	if (rc)
		goto out;
	job.items = idx.items;
	job.todo = xcalloc(idx.n + 1, sizeof(size_t));
	for (size_t i = 0; i < idx.n; i++) {
		/* outputs must be in the cache: the stat cache only knows the digest */
		if (!idx.items[i].need && add && !cas_has(env->cas, idx.items[i].hex))
			idx.items[i].need = 1;
		if (idx.items[i].need)
			job.todo[ntodo++] = i;
	}
	rc = workpool_run(ntodo, env->jobs, 1, hash_one, &job, err);
	if (!rc)
		rc = record(env, &idx, started, err);
	e.path = xstrdup(rel);
	if (!rc)
		rc = finish(&e, env, &idx, is_dir, add, err);
out:
	for (size_t i = 0; i < idx.n; i++)
		free(idx.items[i].rel);
	free(idx.items);
	free(job.todo);
	if (rc) {
		free(e.path);
		return rc;
	}
	*out = e;
	return 0;
}
