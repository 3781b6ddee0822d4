/*
 * push and fetch: find what the destination lacks with one listing, move those objects on a
 * work pool, and account for every object (present, moved, missing, failed) in stats and report.
 */
#include "util/common.h"
#include "data/transfer.h"
#include "data/cas.h"
#include "data/remote.h"
#include "util/log.h"
#include "util/progress.h"
#include "util/strbuf.h"
#include "util/workpool.h"

#define HEX_LEN 64
#define MAX_DEFAULT_JOBS 64

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

struct job {
	struct cas *cas;
	struct remote *r;
	struct item **todo;
	struct progress *progress;
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

static void item_fail(struct item *it, enum item_state state, const struct error *e)
{
	it->state = state;
	it->code = e->code ? e->code : ERR_INTERNAL;
	it->msg = xstrdup(e->msg);
}

static int push_one(size_t i, void *data, struct error *err)
{
	struct job *job = data;
	struct item *it = job->todo[i];
	struct object_source *src = NULL;
	struct error e = ERROR_INIT;
	int rc;

	(void)err;
	rc = object_source_open(&src, job->cas, it->hex, &e);
	if (rc == ERR_NOTFOUND) {
		item_fail(it, ITEM_MISSING, &e);
	} else if (rc) {
		item_fail(it, ITEM_FAILED, &e);
	} else if (job->r->ops->put(job->r, it->hex, src, &e)) {
		item_fail(it, ITEM_FAILED, &e);
	} else {
		it->state = ITEM_DONE;
		it->bytes = object_source_size(src);
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
	if (rc == ERR_NOTFOUND)
		item_fail(it, ITEM_MISSING, &e);
	else if (rc)
		item_fail(it, ITEM_FAILED, &e);
	else {
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

int transfer_push(struct cas *cas, struct remote *r, const char *const *hexes, size_t n,
		  const struct transfer_opts *opts, struct transfer_stats *stats,
		  struct strbuf *report, struct error *err)
{
	struct job job = { .cas = cas, .r = r };
	struct transfer_stats s = { 0 };
	struct error serr = ERROR_INIT;
	struct item *items = NULL;
	struct mark m = { 0 };
	size_t nr = 0;
	int rc;

	rc = collect(&items, &nr, hexes, n, err);
	if (rc)
		goto out;
	s.wanted = nr;
	m.items = items;
	m.n = nr;
	if (nr && (rc = r->ops->list(r, mark_present, &m, err)))
		goto out;
	rc = move(&job, items, nr, "push", opts, push_one, err);
	if (rc)
		goto out;
	rc = account(&s, items, nr, report, "pushing to", r->name, err);
	/* even a partial push makes what it moved durable */
	if (s.transferred)
		rc = keep_first(rc, remote_sync(r, &serr), &serr, err);
out:
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
