/*
 * push and fetch: find what the destination lacks with one listing, move those objects on a
 * work pool, and account for every object (present, moved, missing, failed) in stats and report.
 * A push publishes what the workers stage in batches, so durability costs one sync per batch.
 */
#include "util/common.h"
#include "data/transfer.h"
#include "data/cas.h"
#include "data/remote.h"
#include "util/log.h"
#include "util/progress.h"
#include "util/strbuf.h"
#include "util/workpool.h"

#include <pthread.h>
#include <time.h>

#define HEX_LEN 64
#define MAX_DEFAULT_JOBS 64
/*
 * A push publishes staged objects PUBLISH_BATCH at a time (for a local remote: one syncfs, not an
 * fsync per object), or sooner once the oldest has waited PUBLISH_WAIT_NS, so that a killed push
 * loses little finished work.
 */
#define PUBLISH_BATCH 2048
#define PUBLISH_WAIT_NS 1000000000LL
/* Staged uploads this old can only be left over from a killed push. */
#define STALE_UPLOAD_S 3600

enum item_state {
	ITEM_TODO,
	ITEM_PRESENT, /* already at the destination */
	ITEM_DONE,
	ITEM_MISSING, /* not at the source */
	ITEM_FAILED,
};

struct item {
	const char *hex; /* borrowed from the caller's array */
	enum item_state state;
	int code;  /* ITEM_FAILED, ITEM_MISSING: the error */
	char *msg; /* ITEM_FAILED, ITEM_MISSING: owned */
	uint64_t bytes;
};

/* Objects staged on the remote, waiting to be published. */
struct batch {
	struct remote_staged **staged;
	struct item **items; /* items[i] is what staged[i] holds */
	size_t n;
	int64_t first_ns; /* when staged[0] was staged (monotonic clock) */
};

struct job {
	struct cas *cas;
	struct remote *r;
	struct item **todo;
	struct progress *progress;
	pthread_mutex_t lock; /* push: guards pending */
	struct batch pending;
};

static int is_hex64(const char *s)
{
	size_t i;

	for (i = 0; i < HEX_LEN && ((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'));
	     i++)
		;
	return i == HEX_LEN && !s[i];
}

static int cmp_item(const void *a, const void *b)
{
	return strcmp(((const struct item *)a)->hex, ((const struct item *)b)->hex);
}

/* The distinct digests of hexes, sorted, as items into *out; ERR_INVALID for a malformed one. */
static int collect(struct item **out, size_t *nout, const char *const *hexes, size_t n,
		   struct error *err)
{
	struct item *items = xcalloc(n ? n : 1, sizeof(*items));
	size_t nr = 0;

	for (size_t i = 0; i < n; i++) {
		if (!is_hex64(hexes[i])) {
			free(items);
			return error_set(err, ERR_INVALID,
					 "'%.80s' is not a sha256 digest (64 lowercase hex digits)",
					 hexes[i]);
		}
		items[i].hex = hexes[i];
	}
	qsort(items, n, sizeof(*items), cmp_item);
	for (size_t i = 0; i < n; i++)
		if (!nr || strcmp(items[nr - 1].hex, items[i].hex))
			items[nr++] = items[i];
	*out = items;
	*nout = nr;
	return 0;
}

static void items_free(struct item *items, size_t n)
{
	for (size_t i = 0; items && i < n; i++)
		free(items[i].msg);
	free(items);
}

struct mark {
	struct item *items;
	size_t n;
};

static int mark_present(const char *hex, void *data)
{
	struct mark *m = data;
	struct item key = { .hex = hex };
	struct item *it = bsearch(&key, m->items, m->n, sizeof(key), cmp_item);

	if (it)
		it->state = ITEM_PRESENT;
	return 0;
}

static void item_fail(struct item *it, const struct error *e)
{
	it->state = ITEM_FAILED;
	it->code = e->code ? e->code : ERR_INTERNAL;
	it->msg = xstrdup(e->msg);
}

/* Records an object the source does not have; msg (owned) says where it was looked for. */
static void item_missing(struct item *it, char *msg)
{
	it->state = ITEM_MISSING;
	it->code = ERR_NOTFOUND;
	it->msg = msg;
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Only now does an item count as moved: publish says it is on the remote, durably. */
static void published(void *data, size_t i, const struct error *e)
{
	struct batch *b = data;

	if (e)
		item_fail(b->items[i], e);
	else
		b->items[i]->state = ITEM_DONE;
}

/* Publishes b and empties it; the outcome of each object lands in its item. */
static void publish_batch(struct job *job, struct batch *b)
{
	struct error e = ERROR_INIT;

	if (b->n && job->r->ops->publish(job->r, b->staged, b->n, published, b, &e))
		log_debug("publishing %zu objects to remote '%s': %s", b->n, job->r->name, e.msg);
	free(b->staged);
	free(b->items);
	*b = (struct batch){ 0 };
}

/* Adds a staged object to the pending batch; the worker that fills the batch publishes it. */
static void add_staged(struct job *job, struct item *it, struct remote_staged *staged)
{
	struct batch *p = &job->pending, full = { 0 };
	int64_t now = now_ns();

	pthread_mutex_lock(&job->lock);
	if (!p->n) {
		p->staged = xcalloc(PUBLISH_BATCH, sizeof(*p->staged));
		p->items = xcalloc(PUBLISH_BATCH, sizeof(*p->items));
		p->first_ns = now;
	}
	p->staged[p->n] = staged;
	p->items[p->n++] = it;
	if (p->n == PUBLISH_BATCH || now - p->first_ns >= PUBLISH_WAIT_NS) {
		full = *p;
		*p = (struct batch){ 0 };
	}
	pthread_mutex_unlock(&job->lock);
	publish_batch(job, &full);
}

static int push_one(size_t i, void *data, struct error *err)
{
	struct job *job = data;
	struct item *it = job->todo[i];
	struct object_source *src = NULL;
	struct remote_staged *staged = NULL;
	struct error e = ERROR_INIT;
	int rc;

	(void)err;
	rc = object_source_open(&src, job->cas, it->hex, &e);
	if (rc == ERR_NOTFOUND) {
		item_missing(it, xstrdup("not in the local cache"));
	} else if (rc) {
		item_fail(it, &e);
	} else if (job->r->ops->put(job->r, &staged, it->hex, src, &e)) {
		item_fail(it, &e);
	} else {
		it->bytes = object_source_size(src);
		add_staged(job, it, staged);
	}
	object_source_free(src);
	progress_add(job->progress, 1);
	return 0;
}

/* The size of a cache object, for the byte count (0 if it cannot be seen). */
static uint64_t cache_size(struct cas *cas, const char *hex)
{
	char *path = cas_object_path(cas, hex);
	struct stat st;
	uint64_t size = stat(path, &st) ? 0 : (uint64_t)st.st_size;

	free(path);
	return size;
}

static int fetch_one(size_t i, void *data, struct error *err)
{
	struct job *job = data;
	struct item *it = job->todo[i];
	struct cas_writer *w = NULL;
	struct error e = ERROR_INIT;
	int rc;

	(void)err;
	rc = cas_writer_open(&w, job->cas, it->hex, &e);
	if (!rc) {
		rc = job->r->ops->get(job->r, it->hex, w, &e);
		if (rc)
			cas_writer_abort(w);
		else if ((rc = cas_writer_commit(w, &e)))
			error_prefix(&e, "from remote '%s'", job->r->name);
	}
	if (rc == ERR_NOTFOUND) {
		struct strbuf msg = STRBUF_INIT;

		strbuf_addf(&msg, "not on remote '%s'", job->r->name);
		item_missing(it, strbuf_detach(&msg, NULL));
	} else if (rc) {
		item_fail(it, &e);
	} else {
		it->state = ITEM_DONE;
		it->bytes = cache_size(job->cas, it->hex);
	}
	progress_add(job->progress, 1);
	return 0;
}

static int default_jobs(const struct transfer_opts *opts)
{
	int jobs = 4 * workpool_cpus();

	if (opts && opts->jobs > 0)
		return opts->jobs;
	return jobs > MAX_DEFAULT_JOBS ? MAX_DEFAULT_JOBS : jobs;
}

/* Runs fn over the items still to move; fills job->todo. */
static int move(struct job *job, struct item *items, size_t n, const char *title,
		const struct transfer_opts *opts, int (*fn)(size_t, void *, struct error *),
		struct error *err)
{
	size_t ntodo = 0;
	int rc;

	job->todo = xcalloc(n ? n : 1, sizeof(*job->todo));
	for (size_t i = 0; i < n; i++)
		if (items[i].state == ITEM_TODO)
			job->todo[ntodo++] = &items[i];
	log_debug("%s: %zu of %zu objects to move", title, ntodo, n);
	job->progress = progress_start(title, ntodo, PROGRESS_COUNT, opts && opts->quiet);
	rc = workpool_run(ntodo, default_jobs(opts), 0, fn, job, err);
	progress_finish(job->progress);
	free(job->todo);
	job->todo = NULL;
	return rc;
}

/*
 * Fills stats and report from the items and, if some object did not arrive, err: the first
 * failure's code (or ERR_NOTFOUND when objects were only missing).
 */
static int account(struct transfer_stats *out, struct item *items, size_t n, struct strbuf *report,
		   const char *what, const char *name, struct error *err)
{
	const struct item *first = NULL;
	struct transfer_stats s = { .wanted = n };

	for (size_t i = 0; i < n; i++) {
		const struct item *it = &items[i];

		s.present += it->state == ITEM_PRESENT;
		s.transferred += it->state == ITEM_DONE;
		s.bytes += it->state == ITEM_DONE ? it->bytes : 0;
		s.missing += it->state == ITEM_MISSING;
		s.failed += it->state == ITEM_FAILED;
		if (it->state != ITEM_MISSING && it->state != ITEM_FAILED)
			continue;
		if (report)
			strbuf_addf(report, "sha256:%s: %s\n", it->hex, it->msg);
		if (!first || (first->state == ITEM_MISSING && it->state == ITEM_FAILED))
			first = it;
	}
	*out = s;
	if (!first)
		return 0;
	return error_set(err, first->state == ITEM_FAILED ? first->code : ERR_NOTFOUND,
			 "%s remote '%s': %" PRIu64 " of %" PRIu64 " objects not moved (%" PRIu64
			 " missing, %" PRIu64 " failed); first: %s",
			 what, name, s.missing + s.failed, s.wanted, s.missing, s.failed,
			 first->msg);
}

/* rc if it is an error, else the error of a later step (code, with its message in e). */
static int keep_first(int rc, int code, const struct error *e, struct error *err)
{
	if (rc || !code)
		return rc;
	if (err)
		*err = *e;
	return code;
}

/* Removes what killed pushes left on r; a failure there does not stop this push. */
static void clean_remote(struct remote *r)
{
	struct error e = ERROR_INIT;

	if (r->ops->clean && r->ops->clean(r, STALE_UPLOAD_S, &e))
		log_warn("%s", e.msg);
}

int transfer_push(struct cas *cas, struct remote *r, const char *const *hexes, size_t n,
		  const struct transfer_opts *opts, struct transfer_stats *stats,
		  struct strbuf *report, struct error *err)
{
	struct job job = { .cas = cas, .r = r };
	struct transfer_stats s = { 0 };
	struct item *items = NULL;
	struct mark m = { 0 };
	size_t nr = 0;
	int rc;

	pthread_mutex_init(&job.lock, NULL);
	rc = collect(&items, &nr, hexes, n, err);
	if (rc)
		goto out;
	s.wanted = nr;
	m.items = items;
	m.n = nr;
	clean_remote(r);
	if (nr && (rc = r->ops->list(r, mark_present, &m, err)))
		goto out;
	rc = move(&job, items, nr, "push", opts, push_one, err);
	if (rc)
		goto out;
	/* even a partial push publishes what it staged */
	publish_batch(&job, &job.pending);
	rc = account(&s, items, nr, report, "pushing to", r->name, err);
out:
	for (size_t i = 0; i < job.pending.n; i++)
		r->ops->discard(r, job.pending.staged[i]);
	free(job.pending.staged);
	free(job.pending.items);
	pthread_mutex_destroy(&job.lock);
	if (stats)
		*stats = s;
	items_free(items, nr);
	return rc;
}

int transfer_fetch(struct cas *cas, struct remote *r, const char *const *hexes, size_t n,
		   const struct transfer_opts *opts, struct transfer_stats *stats,
		   struct strbuf *report, struct error *err)
{
	struct job job = { .cas = cas, .r = r };
	struct transfer_stats s = { 0 };
	struct error serr = ERROR_INIT;
	struct item *items = NULL;
	size_t nr = 0;
	int rc;

	rc = collect(&items, &nr, hexes, n, err);
	if (rc)
		goto out;
	s.wanted = nr;
	for (size_t i = 0; i < nr; i++)
		if (cas_has(cas, items[i].hex))
			items[i].state = ITEM_PRESENT;
	rc = move(&job, items, nr, "fetch", opts, fetch_one, err);
	if (rc)
		goto out;
	rc = account(&s, items, nr, report, "fetching from", r->name, err);
	if (s.transferred)
		rc = keep_first(rc, cas_sync(cas, &serr), &serr, err);
out:
	if (stats)
		*stats = s;
	items_free(items, nr);
	return rc;
}
