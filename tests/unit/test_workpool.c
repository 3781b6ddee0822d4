/*
 * Unit tests for util/workpool: every item runs exactly once on any number of threads, the
 * reported error is the lowest failing index's, and stop_on_error stops handing out items.
 */
#include "util/common.h"
#include "helpers.h"
#include "util/workpool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#define N 100000

struct counts {
	atomic_uint_least64_t sum;
	atomic_int runs[N];
	atomic_int calls;
	pthread_t caller;
	atomic_int foreign; /* calls made outside the caller's thread */
	size_t fail[3];	    /* indexes that fail (0: none) */
	int sleep_us;
};

static int visit(size_t i, void *data, struct error *err)
{
	struct counts *c = data;

	atomic_fetch_add(&c->sum, i);
	atomic_fetch_add(&c->runs[i], 1);
	atomic_fetch_add(&c->calls, 1);
	if (!pthread_equal(pthread_self(), c->caller))
		atomic_fetch_add(&c->foreign, 1);
	if (c->sleep_us) {
		struct timespec ts = { 0, c->sleep_us * 1000L };

		nanosleep(&ts, NULL);
	}
	for (int k = 0; k < 3; k++)
		if (c->fail[k] && c->fail[k] == i)
			return error_set(err, k == 1 ? ERR_NOTFOUND : ERR_IO, "item %zu failed", i);
	return 0;
}

static struct counts *counts_new(void)
{
	struct counts *c = xcalloc(1, sizeof(*c));

	c->caller = pthread_self();
	return c;
}

static void test_sums(void **state)
{
	static const int jobs[] = { 1, 2, 8, 0, -3 };

	(void)state;
	for (size_t j = 0; j < ARRAY_SIZE(jobs); j++) {
		struct counts *c = counts_new();
		struct error err = ERROR_INIT;

		assert_int_equal(workpool_run(N, jobs[j], 0, visit, c, &err), 0);
		assert_true(atomic_load(&c->sum) == (uint64_t)N * (N - 1) / 2);
		for (size_t i = 0; i < N; i++)
			if (atomic_load(&c->runs[i]) != 1)
				fail_msg("jobs %d: item %zu ran %d times", jobs[j], i,
					 atomic_load(&c->runs[i]));
		if (jobs[j] == 1)
			assert_int_equal(atomic_load(&c->foreign), 0); /* the caller's thread */
		free(c);
	}
}

/* Slow items on 8 threads: the other threads really take part. */
static void test_parallel(void **state)
{
	struct counts *c = counts_new();
	struct error err = ERROR_INIT;

	(void)state;
	c->sleep_us = 2000;
	assert_int_equal(workpool_run(64, 8, 0, visit, c, &err), 0);
	assert_int_equal(atomic_load(&c->calls), 64);
	assert_true(atomic_load(&c->foreign) > 0);
	free(c);
}

static void test_first_error_is_lowest_index(void **state)
{
	(void)state;
	for (int round = 0; round < 20; round++) {
		struct counts *c = counts_new();
		struct error err = ERROR_INIT;

		/* 70000 fails first in time on most threads; 500 has the lowest index */
		c->fail[0] = 70000;
		c->fail[1] = 500;
		c->fail[2] = 90000;
		assert_int_equal(workpool_run(N, 8, 0, visit, c, &err), ERR_NOTFOUND);
		assert_int_equal(err.code, ERR_NOTFOUND);
		assert_string_equal(err.msg, "item 500 failed");
		/* without stop_on_error every item still runs */
		assert_int_equal(atomic_load(&c->calls), N);
		free(c);
	}
}

static void test_stop_on_error(void **state)
{
	struct counts *c = counts_new();
	struct error err = ERROR_INIT;

	(void)state;
	/* one thread: items 0..10 run, then nothing */
	c->fail[0] = 10;
	assert_int_equal(workpool_run(N, 1, 1, visit, c, &err), ERR_IO);
	assert_string_equal(err.msg, "item 10 failed");
	assert_int_equal(atomic_load(&c->calls), 11);
	free(c);
	/* several threads: the ones busy finish their item, then all stop */
	c = counts_new();
	c->fail[0] = 10;
	c->sleep_us = 200;
	assert_int_equal(workpool_run(10000, 4, 1, visit, c, &err), ERR_IO);
	assert_string_equal(err.msg, "item 10 failed");
	assert_true(atomic_load(&c->calls) < 100);
	assert_int_equal(atomic_load(&c->runs[10]), 1);
	free(c);
}

static int fail_silently(size_t i, void *data, struct error *err)
{
	(void)data;
	(void)err;
	return i == 3 ? ERR_CONFLICT : 0;
}

static int never(size_t i, void *data, struct error *err)
{
	(void)i;
	(void)data;
	(void)err;
	fail_msg("called for an empty range");
	return 0;
}

static void test_edges(void **state)
{
	struct error err = ERROR_INIT;

	(void)state;
	assert_true(workpool_cpus() >= 1);
	assert_int_equal(workpool_run(0, 4, 1, never, NULL, &err), 0);
	assert_int_equal(workpool_run(5, 2, 0, fail_silently, NULL, &err), ERR_CONFLICT);
	assert_string_equal(err.msg, "work item 3 failed (conflict)");
	assert_int_equal(workpool_run(5, 64, 0, fail_silently, NULL, NULL), ERR_CONFLICT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sums),
		cmocka_unit_test(test_parallel),
		cmocka_unit_test(test_first_error_is_lowest_index),
		cmocka_unit_test(test_stop_on_error),
		cmocka_unit_test(test_edges),
	};

	return cmocka_run_group_tests_name("workpool", tests, NULL, NULL);
}
