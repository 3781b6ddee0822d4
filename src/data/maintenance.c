/*
 * gc and verify over the object cache. What is referenced: the workspace's pointer files (with
 * all_commits, every commit's) and the store's run artifacts.
 */
#include "util/common.h"
#include "data/maintenance.h"
#include "data/git.h"
#include "data/workspace.h"
#include "store/store.h"
#include "util/progress.h"
#include "util/strbuf.h"
#include "util/workpool.h"

#include <pthread.h>

struct hex_set {
	char **items;
	size_t nr, alloc;
};

static void hex_set_release(struct hex_set *s)
{
	for (size_t i = 0; i < s->nr; i++)
		free(s->items[i]);
	free(s->items);
	memset(s, 0, sizeof(*s));
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void hex_set_finish(struct hex_set *s)
{
	size_t k = 0;

	if (!s->nr)
		return;
	qsort(s->items, s->nr, sizeof(*s->items), cmp_str);
	for (size_t i = 0; i < s->nr; i++) {
		if (k && !strcmp(s->items[k - 1], s->items[i]))
			free(s->items[i]);
		else
			s->items[k++] = s->items[i];
	}
	s->nr = k;
}

static int hex_set_has(const struct hex_set *s, const char *hex)
{
	return s->nr && bsearch(&hex, s->items, s->nr, sizeof(*s->items), cmp_str) != NULL;
}

/* Every object the workspace's pointer files reference (directories: with their files). */
static int workspace_refs(struct workspace *ws, struct hex_set *set, struct error *err)
{
	struct tracked_list list = TRACKED_LIST_INIT;
	int incomplete = 0;
	int rc = workspace_tracked(&list, ws, ws->root, NULL, 0, err);

	for (size_t i = 0; !rc && i < list.nr; i++)
		rc = workspace_objects(ws, &list.items[i].ptr, &set->items, &set->nr, &set->alloc,
				       &incomplete, err);
	tracked_list_release(&list);
	return rc;
}

static int add_artifact_ref(const char *hex, void *data)
{
	struct hex_set *set = data;

	ALLOC_GROW(set->items, set->nr + 1, set->alloc);
	set->items[set->nr++] = xstrdup(hex);
	return 0;
}

/*
 * Every object a run artifact in the store refers to (track/artifacts.h). A store that keeps
 * no artifacts (ERR_UNSUPPORTED) refers to none.
 */
static int artifact_refs(struct workspace *ws, struct hex_set *set, struct error *err)
{
	struct error e = ERROR_INIT;
	int rc;

	if (!ws->store)
		return 0;
	rc = store_artifact_digests(ws->store, add_artifact_ref, set, &e);
	if (rc == ERR_UNSUPPORTED)
		return 0;
	if (rc < 0 && !err)
		return rc;
	if (rc < 0) {
		*err = e;
		return error_prefix(err, "reading the run artifacts' objects: ");
	}
	return 0;
}

struct commit_refs {
	struct workspace *ws;
	struct hex_set *set;
	struct error *err;
};

static int add_blob_refs(const char *path, const char *text, size_t len, void *data)
{
	struct commit_refs *cr = data;
	struct pointer p = POINTER_INIT;
	int incomplete = 0, rc;

	/* A pointer that no longer parses protects nothing; it cannot name an object anyway. */
	if (pointer_parse(&p, path, text, len, cr->err))
		return 0;
	rc = workspace_objects(cr->ws, &p, &cr->set->items, &cr->set->nr, &cr->set->alloc,
			       &incomplete, cr->err);
	pointer_release(&p);
	return rc;
}

struct gc_walk {
	struct workspace *ws;
	const struct hex_set *keep;
	int dry_run;
	struct gc_stats *stats;
	struct strbuf *report;
	struct error *err;
};

static int gc_one(const char *hex, uint64_t size, void *data)
{
	struct gc_walk *w = data;
	int rc;

	if (hex_set_has(w->keep, hex)) {
		w->stats->kept++;
		return 0;
	}
	if (w->dry_run) {
		strbuf_addf(w->report, "sha256:%s %" PRIu64 "\n", hex, size);
	} else {
		rc = cas_remove(w->ws->cas, hex, w->err);
		if (rc)
			return rc;
	}
	w->stats->removed++;
	w->stats->removed_bytes += size;
	return 0;
}

int data_gc(struct workspace *ws, int all_commits, const struct pointer *extra, size_t nextra,
	    int dry_run, struct gc_stats *stats, struct strbuf *report, struct error *err)
{
	struct hex_set keep = { 0 };
	struct commit_refs cr = { ws, &keep, err };
	struct gc_walk walk = { ws, &keep, dry_run, stats, report, err };
	int incomplete = 0, rc;

	memset(stats, 0, sizeof(*stats));
	rc = workspace_refs(ws, &keep, err);
	for (size_t i = 0; !rc && i < nextra; i++)
		rc = workspace_objects(ws, &extra[i], &keep.items, &keep.nr, &keep.alloc,
				       &incomplete, err);
	if (!rc)
		rc = artifact_refs(ws, &keep, err);
	if (!rc && all_commits)
		rc = git_all_pointer_blobs(ws->root, add_blob_refs, &cr, err);
	if (rc)
		goto out;
	hex_set_finish(&keep);
	stats->referenced = keep.nr;
	rc = cas_foreach(ws->cas, gc_one, &walk, err);
	if (!rc && !dry_run)
		rc = cas_clean_tmp(ws->cas, 3600, err);
out:
	hex_set_release(&keep);
	return rc;
}

struct verify_job {
	struct workspace *ws;
	struct hex_set objects;
	struct strbuf *report;
	pthread_mutex_t lock;
	struct verify_stats *stats;
	struct progress *progress;
};

static int collect_object(const char *hex, uint64_t size, void *data)
{
	struct hex_set *set = data;

	(void)size;
	ALLOC_GROW(set->items, set->nr + 1, set->alloc);
	set->items[set->nr++] = xstrdup(hex);
	return 0;
}

static int verify_one(size_t i, void *data, struct error *err)
{
	struct verify_job *job = data;
	struct error e = ERROR_INIT;
	int rc = cas_verify(job->ws->cas, job->objects.items[i], &e);

	(void)err;
	progress_add(job->progress, 1);
	if (!rc)
		return 0;
	pthread_mutex_lock(&job->lock);
	strbuf_addf(job->report, "%s\n", e.msg);
	job->stats->corrupted++;
	pthread_mutex_unlock(&job->lock);
	return 0;
}

int data_verify(struct workspace *ws, struct verify_stats *stats, struct strbuf *report,
		struct error *err)
{
	struct verify_job job = { ws, { 0 }, report, PTHREAD_MUTEX_INITIALIZER, stats, NULL };
	struct hex_set refs = { 0 };
	int rc;

	memset(stats, 0, sizeof(*stats));
	rc = cas_foreach(ws->cas, collect_object, &job.objects, err);
	if (rc)
		goto out;
	hex_set_finish(&job.objects);
	stats->checked = job.objects.nr;
	job.progress = progress_start("verifying", job.objects.nr, PROGRESS_COUNT, ws->quiet);
	rc = workpool_run(job.objects.nr, ws->jobs, 0, verify_one, &job, err);
	progress_finish(job.progress);
	if (!rc)
		rc = workspace_refs(ws, &refs, err);
	if (!rc)
		rc = artifact_refs(ws, &refs, err);
	if (rc)
		goto out;
	hex_set_finish(&refs);
	for (size_t i = 0; i < refs.nr; i++)
		if (!hex_set_has(&job.objects, refs.items[i])) {
			strbuf_addf(report, "cache object sha256:%s is missing\n", refs.items[i]);
			stats->missing++;
		}
	if (stats->corrupted || stats->missing)
		rc =
		    error_set(err, ERR_INVALID,
			      "the cache has %" PRIu64 " corrupted and %" PRIu64 " missing objects",
			      stats->corrupted, stats->missing);
out:
	hex_set_release(&job.objects);
	hex_set_release(&refs);
	return rc;
}
