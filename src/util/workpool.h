/*
 * A parallel for-loop over n items on a fixed set of threads: the shape every "hash these
 * 20,000 files" or "push these objects" job has. Items are handed out dynamically (an atomic
 * counter), so uneven item costs balance themselves.
 */
#ifndef FERRY_UTIL_WORKPOOL_H
#define FERRY_UTIL_WORKPOOL_H

#include <stddef.h>

struct error;

/* Number of online CPUs (at least 1). */
int workpool_cpus(void);

/*
 * Calls fn(i, data, err_i) for i in [0, n) on min(jobs, n) threads (jobs <= 0: the CPU count);
 * the caller's thread is one of them, so with one thread everything runs in the caller's thread.
 * fn must be thread-safe. If stop_on_error, the first failure stops handing out new items (items
 * already started finish). Returns 0 if every call returned 0, else the code and message of the
 * failing item with the lowest index: without stop_on_error every item runs, so which error is
 * reported does not depend on timing. fn's err_i is private to each call; a failure that leaves
 * it empty is reported as "work item N failed (CODE)".
 */
int workpool_run(size_t n, int jobs, int stop_on_error,
		 int (*fn)(size_t i, void *data, struct error *err), void *data, struct error *err);

#endif
