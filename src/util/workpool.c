/*
 * workpool: a parallel for-loop on pthreads. Workers take item indexes from an atomic counter;
 * the caller's thread is one of the workers, and waiting is only pthread_join (no spinning).
 */
#include "util/common.h"
#include "util/workpool.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

struct workpool {
	size_t n;
	int stop_on_error;
	int (*fn)(size_t i, void *data, struct error *err);
	void *data;
	atomic_size_t next;
	atomic_int stop;
	pthread_mutex_t lock; /* guards the fields below */
	int failed;
	size_t fail_index;
	int fail_rc;
	struct error fail_err;
};

int workpool_cpus(void)
{
	cpu_set_t set;
	long n;

	/* the affinity mask is what a container or taskset really gives us */
	if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
		return CPU_COUNT(&set);
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : (n > INT_MAX ? INT_MAX : (int)n);
}

/* Keeps the failure with the lowest index, so the reported error does not depend on timing. */
static void record_failure(struct workpool *wp, size_t i, int rc, const struct error *e)
{
	pthread_mutex_lock(&wp->lock);
	if (!wp->failed || i < wp->fail_index) {
		wp->failed = 1;
		wp->fail_index = i;
		wp->fail_rc = rc;
		wp->fail_err = *e;
		if (!wp->fail_err.msg[0])
			snprintf(wp->fail_err.msg, sizeof(wp->fail_err.msg),
				 "work item %zu failed (%s)", i, error_code_name(rc));
	}
	pthread_mutex_unlock(&wp->lock);
}

static void *worker(void *arg)
{
	struct workpool *wp = arg;

	while (!atomic_load_explicit(&wp->stop, memory_order_relaxed)) {
		size_t i = atomic_fetch_add_explicit(&wp->next, 1, memory_order_relaxed);
		struct error e = ERROR_INIT;
		int rc;

		if (i >= wp->n)
			break;
		rc = wp->fn(i, wp->data, &e);
		if (rc) {
			record_failure(wp, i, rc, &e);
			if (wp->stop_on_error)
				atomic_store_explicit(&wp->stop, 1, memory_order_relaxed);
		}
	}
	return NULL;
}

int workpool_run(size_t n, int jobs, int stop_on_error,
		 int (*fn)(size_t i, void *data, struct error *err), void *data, struct error *err)
{
	struct workpool wp = { .n = n, .stop_on_error = stop_on_error, .fn = fn, .data = data };
	pthread_t *threads = NULL;
	size_t nthreads, started = 0;
	int rc = 0;

	if (!n)
		return 0;
	if (jobs <= 0)
		jobs = workpool_cpus();
	nthreads = (size_t)jobs < n ? (size_t)jobs : n;
	atomic_init(&wp.next, 0);
	atomic_init(&wp.stop, 0);
	pthread_mutex_init(&wp.lock, NULL);
	threads = xcalloc(nthreads, sizeof(*threads));
	/*
	 * The caller is worker 0. A thread that cannot be started is not an error: the items are
	 * shared dynamically, so fewer workers still finish them all.
	 */
	for (size_t t = 1; t < nthreads; t++) {
		if (pthread_create(&threads[started], NULL, worker, &wp))
			break;
		started++;
	}
	worker(&wp);
	for (size_t t = 0; t < started; t++)
		pthread_join(threads[t], NULL);
	if (wp.failed) {
		rc = wp.fail_rc;
		if (err) {
			*err = wp.fail_err;
			err->code = rc;
		}
	}
	pthread_mutex_destroy(&wp.lock);
	free(threads);
	return rc;
}
