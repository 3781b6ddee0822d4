/* The inference engine: the served model, hot swap and scoring (serve/serve.h). */
#include "util/common.h"
#include "serve/serve.h"

#include <errno.h>
#include <math.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "data/cas.h"
#include "ml/xgb_walk.h"
#include "monitor/live.h"
#include "registry/model_uri.h"
#include "registry/registry.h"
#include "store/store.h"
#include "util/strbuf.h"

struct serve_engine {
	struct serve_engine_options o;
	struct model_ref ref;
	pthread_mutex_t lock; /* guards current */
	struct served_model *current;
	pthread_t watcher;
	bool watching;
	int wake[2]; /* pipe: poke and stop write a byte */
	atomic_bool stopping;
	atomic_uint_fast64_t swaps, failures;
};

void served_model_ref(struct served_model *sm)
{
	atomic_fetch_add_explicit((_Atomic int *)&sm->refs, 1, memory_order_relaxed);
}

void served_model_unref(struct served_model *sm)
{
	if (!sm ||
	    atomic_fetch_sub_explicit((_Atomic int *)&sm->refs, 1, memory_order_acq_rel) != 1)
		return;
	live_monitor_free(sm->live); /* it borrows sm->m */
	xgb_walk_free(sm->walk);
	model_release(&sm->m);
	free(sm->name);
	free(sm->version_text);
	free(sm->uri);
	free(sm->dir);
	free(sm);
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	while (slash && !slash[1] && slash > path) {
		/* "models/churn/": the name is the last non-empty segment */
		const char *p = slash - 1;

		while (p > path && *p != '/')
			p--;
		return *p == '/' ? p + 1 : p;
	}
	return slash ? slash + 1 : path;
}

/*
 * Rows to check the tree walker against libxgboost with: missing values, zeros, and values of
 * every magnitude on both sides of 0 (a fixed sequence, so a failure can be reproduced).
 */
static double *sample_rows(size_t n, size_t width)
{
	double *X = xmalloc(n * width * sizeof(*X));
	uint64_t z = 0x9e3779b97f4a7c15ULL;

	for (size_t i = 0; i < n * width; i++) {
		double u;

		z ^= z << 13, z ^= z >> 7, z ^= z << 17;
		u = (double)(z >> 11) / 9007199254740992.0; /* [0, 1) */
		switch (z % 6) {
		case 0:
			X[i] = NAN;
			break;
		case 1:
			X[i] = 0;
			break;
		case 2:
			X[i] = u < 0.5 ? 1 : -1;
			break;
		case 3:
			X[i] = (u - 0.5) * 10;
			break;
		case 4:
			X[i] = (u - 0.5) * 2000;
			break;
		default:
			X[i] = (u - 0.5) * 2e6;
		}
	}
	return X;
}

/*
 * xgboost models are scored by walking their trees natively (tens of times faster per row than
 * libxgboost's C API), once the walker gives libxgboost's exact bits on sample rows; if it does
 * not, or does not cover the model, the C API serves it.
 */
static void setup_walker(struct served_model *sm)
{
	struct error ignored = ERROR_INIT;
	struct xgb_walk *w = NULL;
	size_t n = 512, width = sm->m.pre.width;
	double *X;

	sm->scorer = "libxgboost";
	if (sm->m.kind != MODEL_XGBOOST || xgb_walk_load(&w, &sm->m.xgb, &ignored))
		return;
	X = sample_rows(n, width);
	if (!xgb_walk_verify(w, &sm->m.xgb, X, n, &ignored)) {
		sm->walk = w;
		sm->scorer = "native tree walker (checked against libxgboost)";
		w = NULL;
	}
	free(X);
	xgb_walk_free(w);
}

/* Resolves the reference and loads that version (or the directory). */
static int load(struct served_model **out, const struct serve_engine_options *o,
		const struct model_ref *ref, struct store *st, struct cas *cas, struct error *err)
{
	struct store_model_version v = STORE_MODEL_VERSION_INIT;
	struct served_model *sm = xcalloc(1, sizeof(*sm));
	struct strbuf dir = STRBUF_INIT;
	int rc = 0;

	model_init(&sm->m);
	if (ref->kind == MODEL_REF_PATH) {
		strbuf_addstr(&dir, ref->path);
		sm->name = xstrdup(base_name(ref->path));
		sm->version_text = xstrdup("");
	} else {
		if ((rc = registry_resolve(st, &v, ref, err)) ||
		    (rc = registry_materialize(st, cas, &v, o->models_dir, &dir, err)))
			goto out;
		sm->name = xstrdup(v.name);
		sm->version = v.version;
		sm->version_text = xstrfmt("%" PRId64, v.version);
	}
	if ((rc = model_load(&sm->m, dir.buf, err)))
		goto out;
	if (sm->m.kind == MODEL_XGBOOST)
		setup_walker(sm);
	else
		sm->scorer = model_kind_name(sm->m.kind);
	/* the reference is summarised once per version, before it serves a request */
	if (o->monitor &&
	    (rc = live_monitor_open(&sm->live, &sm->m, o->cache_dir, o->root, o->monitor, err)))
		goto out;
	sm->uri = xstrdup(o->uri);
	sm->dir = strbuf_detach(&dir, NULL);
	sm->refs = 1;
	*out = sm;
	sm = NULL;
out:
	if (sm) {
		sm->refs = 1;
		served_model_unref(sm);
	}
	strbuf_release(&dir);
	store_model_version_release(&v);
	return rc;
}

/* The version the reference names now (0 for a path). */
static int resolve_version(int64_t *out, const struct model_ref *ref, struct store *st,
			   struct error *err)
{
	struct store_model_version v = STORE_MODEL_VERSION_INIT;
	int rc = registry_resolve(st, &v, ref, err);

	if (!rc)
		*out = v.version;
	store_model_version_release(&v);
	return rc;
}

static void publish(struct serve_engine *e, struct served_model *sm)
{
	struct served_model *old;

	pthread_mutex_lock(&e->lock);
	old = e->current;
	e->current = sm;
	pthread_mutex_unlock(&e->lock);
	served_model_unref(old);
}

struct served_model *serve_engine_acquire(struct serve_engine *e)
{
	struct served_model *sm;

	pthread_mutex_lock(&e->lock);
	sm = e->current;
	served_model_ref(sm);
	pthread_mutex_unlock(&e->lock);
	return sm;
}

static void event(struct serve_engine *e, const char *what, const struct served_model *sm,
		  const char *error)
{
	if (e->o.on_event)
		e->o.on_event(e->o.event_data, what, sm, error);
}

/* One check: has the reference moved? Then load the new version and swap it in. */
static void check(struct serve_engine *e, struct store *st, struct cas *cas)
{
	struct error err = ERROR_INIT;
	struct served_model *cur = serve_engine_acquire(e), *next = NULL;
	int64_t version;

	if (resolve_version(&version, &e->ref, st, &err)) {
		/* e.g. the alias was deleted: keep serving what we have */
		event(e, "unresolved", cur, err.msg);
		goto out;
	}
	if (version == cur->version)
		goto out;
	if (load(&next, &e->o, &e->ref, st, cas, &err)) {
		atomic_fetch_add(&e->failures, 1);
		event(e, "load-failed", cur, err.msg);
		goto out;
	}
	publish(e, next);
	atomic_fetch_add(&e->swaps, 1);
	event(e, "swapped", next, NULL);
out:
	served_model_unref(cur);
}

static void *watch(void *arg)
{
	struct serve_engine *e = arg;
	struct error err = ERROR_INIT;
	struct store *st = NULL;
	struct cas *cas = NULL;

	if (store_open(&st, e->o.store_uri, &err) ||
	    cas_open(&cas, e->o.cache_dir, "reflink,copy", &err)) {
		event(e, "watch-failed", NULL, err.msg);
		goto out;
	}
	while (!atomic_load(&e->stopping)) {
		struct pollfd p = { e->wake[0], POLLIN, 0 };
		char buf[64];

		if (poll(&p, 1, (int)e->o.poll_ms) > 0) {
			while (read(e->wake[0], buf, sizeof(buf)) > 0)
				;
		}
		if (atomic_load(&e->stopping))
			break;
		check(e, st, cas);
	}
out:
	cas_free(cas);
	store_close(st);
	return NULL;
}

int serve_engine_start(struct serve_engine **out, const struct serve_engine_options *o,
		       struct error *err)
{
	struct serve_engine *e = xcalloc(1, sizeof(*e));
	struct store *st = NULL;
	struct cas *cas = NULL;
	int rc;

	e->o = *o;
	if (!e->o.poll_ms)
		e->o.poll_ms = 2000;
	e->wake[0] = e->wake[1] = -1;
	pthread_mutex_init(&e->lock, NULL);
	if ((rc = model_uri_parse(&e->ref, o->uri, err)))
		goto out;
	if (e->ref.kind != MODEL_REF_PATH) {
		if (!o->store_uri) {
			rc = error_set(err, ERR_USAGE,
				       "'%s' names a registered model: run ferry "
				       "serve inside the project that has it",
				       o->uri);
			goto out;
		}
		if ((rc = store_open(&st, o->store_uri, err)) ||
		    (rc = cas_open(&cas, o->cache_dir, "reflink,copy", err)))
			goto out;
	}
	if ((rc = load(&e->current, &e->o, &e->ref, st, cas, err)))
		goto out;
	/* a number or a directory never moves; aliases, stages and latest do */
	if (e->ref.kind == MODEL_REF_PATH || e->ref.kind == MODEL_REF_VERSION)
		goto out;
	if (pipe2(e->wake, O_CLOEXEC | O_NONBLOCK)) {
		rc = error_set(err, ERR_IO, "cannot create a pipe: %s", strerror(errno));
		goto out;
	}
	if ((errno = pthread_create(&e->watcher, NULL, watch, e))) {
		rc = error_set(err, ERR_INTERNAL, "cannot start the model watcher: %s",
			       strerror(errno));
		goto out;
	}
	e->watching = true;
out:
	cas_free(cas);
	store_close(st);
	if (rc) {
		serve_engine_stop(e);
		return rc;
	}
	*out = e;
	return 0;
}

void serve_engine_poke(struct serve_engine *e)
{
	char c = 1;

	if (e && e->wake[1] >= 0 && write(e->wake[1], &c, 1) < 0) {
		/* full pipe: a check is pending anyway */
	}
}

void serve_engine_stop(struct serve_engine *e)
{
	if (!e)
		return;
	atomic_store(&e->stopping, true);
	serve_engine_poke(e);
	if (e->watching)
		pthread_join(e->watcher, NULL);
	if (e->wake[0] >= 0)
		close(e->wake[0]);
	if (e->wake[1] >= 0)
		close(e->wake[1]);
	served_model_unref(e->current);
	model_ref_release(&e->ref);
	pthread_mutex_destroy(&e->lock);
	free(e);
}

void serve_engine_counts(const struct serve_engine *e, uint64_t *swaps, uint64_t *failures)
{
	*swaps = atomic_load(&((struct serve_engine *)e)->swaps);
	*failures = atomic_load(&((struct serve_engine *)e)->failures);
}

int serve_map_columns(const struct served_model *sm, const char *const *names, size_t ncols,
		      size_t *colmap, struct error *err)
{
	const struct preprocess *pre = &sm->m.pre;

	if (names)
		return preprocess_map_columns(colmap, pre, names, ncols, "request", err);
	if (ncols != pre->nfeatures)
		return error_set(err, ERR_INVALID,
				 "the request has %zu columns without names; the model takes %zu "
				 "(its signature's inputs, in order)",
				 ncols, pre->nfeatures);
	for (size_t f = 0; f < pre->nfeatures; f++)
		colmap[f] = f;
	return 0;
}

int serve_score_mapped(const struct served_model *sm, const size_t *colmap, size_t ncols,
		       size_t nrows, const struct csv_field *fields, double *out, size_t *labels,
		       struct error *err)
{
	const struct preprocess *pre = &sm->m.pre;
	double *X = xmalloc((nrows ? nrows : 1) * (pre->width ? pre->width : 1) * sizeof(*X));
	size_t width = model_output_width(&sm->m);
	int rc = 0;

	for (size_t r = 0; !rc && r < nrows; r++)
		rc = preprocess_encode_fields(pre, colmap, fields + r * ncols, "request", NULL, 0,
					      UNSEEN_ERROR, X + r * pre->width, err);
	if (!rc && nrows)
		rc = sm->walk ? xgb_walk_predict(sm->walk, X, nrows, out, err)
			      : model_predict(&sm->m, X, nrows, out, err);
	if (!rc && labels && sm->m.target.task != TASK_REGRESSION)
		for (size_t r = 0; r < nrows; r++)
			labels[r] = (size_t)model_decide(&sm->m, out + r * width);
	free(X);
	return rc;
}

int serve_score(const struct served_model *sm, const char *const *names, size_t ncols, size_t nrows,
		const struct csv_field *fields, double *out, size_t *labels, struct error *err)
{
	size_t nfeatures = sm->m.pre.nfeatures;
	size_t *colmap = xmalloc((nfeatures ? nfeatures : 1) * sizeof(*colmap));
	int rc = serve_map_columns(sm, names, ncols, colmap, err);

	if (!rc)
		rc = serve_score_mapped(sm, colmap, ncols, nrows, fields, out, labels, err);
	free(colmap);
	return rc;
}
