/* Unit tests for util/id: random hex ids and ISO-8601 timestamps. */
#include "util/common.h"
#include "helpers.h"
#include "util/id.h"

#include <sys/wait.h>
#include <unistd.h>

static void test_id_new(void **state)
{
	char a[ID_HEX_LEN + 1], b[ID_HEX_LEN + 1];
	struct error err = ERROR_INIT;

	(void)state;
	assert_int_equal(id_new(a, &err), 0);
	assert_int_equal(id_new(b, &err), 0);
	assert_int_equal(strlen(a), 32);
	assert_int_equal(strspn(a, "0123456789abcdef"), 32);
	assert_true(id_is_valid(a));
	/* 128 random bits: a collision here means the random source is broken */
	assert_string_not_equal(a, b);
}

static int cmp_id(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* Ids come from a buffer of random bytes per thread: across its refills they stay distinct. */
static void test_id_new_many(void **state)
{
	enum {
		N = 2000
	}; /* 2000 x 16 bytes: the 4 KiB buffer is refilled seven times */
	char(*ids)[ID_HEX_LEN + 1] = xcalloc(N, sizeof(*ids));
	struct error err = ERROR_INIT;

	(void)state;
	for (size_t i = 0; i < N; i++) {
		assert_int_equal(id_new(ids[i], &err), 0);
		assert_true(id_is_valid(ids[i]));
	}
	qsort(ids, N, sizeof(*ids), cmp_id);
	for (size_t i = 1; i < N; i++)
		assert_string_not_equal(ids[i - 1], ids[i]);
	free(ids);
}

/*
 * A forked child must not hand out the ids its parent will: both inherit the same buffered
 * bytes, so without a refill in the child its next id equals the parent's next id.
 */
static void test_id_new_after_fork(void **state)
{
	char first[ID_HEX_LEN + 1], parent[ID_HEX_LEN + 1], child[ID_HEX_LEN + 1] = "";
	struct error err = ERROR_INIT;
	int fds[2], status;
	pid_t pid;

	(void)state;
	assert_int_equal(id_new(first, &err), 0); /* the buffer is filled before the fork */
	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char id[ID_HEX_LEN + 1];

		close(fds[0]);
		_exit(id_new(id, NULL) == 0 && write(fds[1], id, ID_HEX_LEN) == ID_HEX_LEN ? 0 : 1);
	}
	close(fds[1]);
	assert_int_equal(read(fds[0], child, ID_HEX_LEN), ID_HEX_LEN);
	close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(id_new(parent, &err), 0);
	assert_true(id_is_valid(child));
	assert_string_not_equal(child, parent);
	assert_string_not_equal(child, first);
}

static void test_id_is_valid(void **state)
{
	(void)state;
	assert_true(id_is_valid("0123456789abcdef0123456789abcdef"));
	assert_false(id_is_valid("0123456789ABCDEF0123456789abcdef"));
	assert_false(id_is_valid("0123456789abcdef0123456789abcde"));
	assert_false(id_is_valid("0123456789abcdef0123456789abcdef0"));
	assert_false(id_is_valid("0123456789abcdef0123456789abcdeg"));
	assert_false(id_is_valid(""));
}

static void test_time(void **state)
{
	char buf[32];
	int64_t now = time_now_ms();

	(void)state;
	/* 2020-01-01T00:00:00Z is 1577836800000 ms: the clock is at least that late */
	assert_true(now > INT64_C(1577836800000));
	time_format_iso8601(0, buf, sizeof(buf));
	assert_string_equal(buf, "1970-01-01T00:00:00.000Z");
	/* 1700000000123 ms = 2023-11-14T22:13:20.123Z (date -u -d @1700000000) */
	time_format_iso8601(INT64_C(1700000000123), buf, sizeof(buf));
	assert_string_equal(buf, "2023-11-14T22:13:20.123Z");
	/* 951782400000 ms = 2000-02-29T00:00:00Z, a leap day */
	time_format_iso8601(INT64_C(951782400000), buf, sizeof(buf));
	assert_string_equal(buf, "2000-02-29T00:00:00.000Z");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_id_new),
		cmocka_unit_test(test_id_new_many),
		cmocka_unit_test(test_id_new_after_fork),
		cmocka_unit_test(test_id_is_valid),
		cmocka_unit_test(test_time),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
