/*
 * Unit tests for util/subprocess: exit codes, signals, both streams at 1 MiB (which deadlock a
 * reader that drains one pipe before the other), stdin feeding, missing programs, output caps.
 */
#include "util/common.h"
#include "helpers.h"
#include "util/subprocess.h"

#include <signal.h>

#define MIB (1024 * 1024)

static void run_ok(struct subprocess_result *r, const char *const argv[], const char *cwd,
		   const char *in)
{
	struct error err = ERROR_INIT;
	int rc = subprocess_run(r, argv, cwd, in, 4 * MIB, &err);

	if (rc)
		fail_msg("subprocess_run: %s", err.msg);
}

static void test_exit_codes_and_streams(void **state)
{
	struct subprocess_result r = SUBPROCESS_RESULT_INIT;
	const char *const ok[] = { "sh", "-c", "echo out; echo err >&2", NULL };
	const char *const three[] = { "/bin/sh", "-c", "printf partial; exit 3", NULL };
	const char *const args[] = { "printf", "%s|", "a b", "c", "$HOME", NULL };

	(void)state;
	run_ok(&r, ok, NULL, NULL);
	assert_int_equal(r.exit_code, 0);
	assert_int_equal(r.signal, 0);
	assert_string_equal(r.out.buf, "out\n");
	assert_string_equal(r.err.buf, "err\n");
	subprocess_result_release(&r);

	run_ok(&r, three, NULL, NULL);
	assert_int_equal(r.exit_code, 3);
	assert_string_equal(r.out.buf, "partial");
	subprocess_result_release(&r);

	/* no shell in between: arguments arrive verbatim */
	run_ok(&r, args, NULL, NULL);
	assert_string_equal(r.out.buf, "a b|c|$HOME|");
	subprocess_result_release(&r);
}

static void test_signal_death(void **state)
{
	struct subprocess_result r = SUBPROCESS_RESULT_INIT;
	const char *const argv[] = { "sh", "-c", "kill -TERM $$", NULL };

	(void)state;
	run_ok(&r, argv, NULL, NULL);
	assert_int_equal(r.exit_code, -1);
	assert_int_equal(r.signal, SIGTERM);
	subprocess_result_release(&r);
}

static int all_bytes(const struct strbuf *sb, char c)
{
	for (size_t i = 0; i < sb->len; i++)
		if (sb->buf[i] != c)
			return 0;
	return 1;
}

static void test_large_output_both_streams(void **state)
{
	struct subprocess_result r = SUBPROCESS_RESULT_INIT;
	/* 1 MiB of 'b' on stderr first, then 1 MiB of 'a' on stdout */
	const char *const argv[] = { "sh", "-c",
				     "head -c 1048576 /dev/zero | tr '\\000' b >&2;"
				     "head -c 1048576 /dev/zero | tr '\\000' a",
				     NULL };

	(void)state;
	run_ok(&r, argv, NULL, NULL);
	assert_int_equal(r.exit_code, 0);
	assert_int_equal(r.out.len, MIB);
	assert_int_equal(r.err.len, MIB);
	assert_true(all_bytes(&r.out, 'a'));
	assert_true(all_bytes(&r.err, 'b'));
	subprocess_result_release(&r);
}

static void test_stdin(void **state)
{
	struct subprocess_result r = SUBPROCESS_RESULT_INIT;
	const char *const cat[] = { "cat", NULL };
	const char *const wc[] = { "wc", "-c", NULL };
	const char *const ignore[] = { "sh", "-c", "exit 0", NULL };
	size_t size = 2 * MIB + 3;
	char *big = xmalloc(size + 1);

	(void)state;
	for (size_t i = 0; i < size; i++)
		big[i] = (char)('a' + i % 26);
	big[size] = '\0';
	/* cat echoes while we still write: both pipes fill unless fed and drained together */
	run_ok(&r, cat, NULL, big);
	assert_int_equal(r.out.len, size);
	assert_memory_equal(r.out.buf, big, size);
	subprocess_result_release(&r);

	run_ok(&r, wc, NULL, "12345");
	assert_int_equal(strtol(r.out.buf, NULL, 10), 5);
	subprocess_result_release(&r);

	/* no stdin_data: the child reads /dev/null */
	run_ok(&r, cat, NULL, NULL);
	assert_int_equal(r.out.len, 0);
	subprocess_result_release(&r);

	/* a child that never reads its stdin: EPIPE, not a SIGPIPE that kills us */
	run_ok(&r, ignore, NULL, big);
	assert_int_equal(r.exit_code, 0);
	subprocess_result_release(&r);
	free(big);
}

static void test_cwd(void **state)
{
	struct subprocess_result r = SUBPROCESS_RESULT_INIT;
	const char *const pwd[] = { "sh", "-c", "pwd -P", NULL };
	char *dir = test_tmpdir();
	char *real = realpath(dir, NULL);
	char *missing = test_path(dir, "missing");
	struct error err = ERROR_INIT;

	(void)state;
	run_ok(&r, pwd, dir, NULL);
	assert_int_equal(r.out.len, strlen(real) + 1);
	assert_memory_equal(r.out.buf, real, strlen(real));
	subprocess_result_release(&r);
	assert_int_equal(subprocess_run(&r, pwd, missing, NULL, 100, &err), ERR_NOTFOUND);
	assert_non_null(strstr(err.msg, missing));
	free(real);
	free(missing);
	test_tmpdir_remove(dir);
}

static void test_missing_program(void **state)
{
	struct subprocess_result r = SUBPROCESS_RESULT_INIT;
	const char *const bare[] = { "ferry-no-such-program-xyz", "arg", NULL };
	const char *const path[] = { "/nonexistent/dir/prog", NULL };
	struct error err = ERROR_INIT;

	(void)state;
	assert_int_equal(subprocess_run(&r, bare, NULL, NULL, 100, &err), ERR_NOTFOUND);
	assert_string_equal(err.msg, "cannot run 'ferry-no-such-program-xyz': command not found");
	assert_int_equal(subprocess_run(&r, path, NULL, NULL, 100, &err), ERR_NOTFOUND);
	assert_non_null(strstr(err.msg, "'/nonexistent/dir/prog'"));
	assert_non_null(strstr(err.msg, strerror(ENOENT)));
	assert_int_equal(r.out.len, 0);
	assert_int_equal(r.out.alloc, 0);
}

static void test_output_cap(void **state)
{
	struct subprocess_result r = SUBPROCESS_RESULT_INIT;
	/* never ends on its own: only the kill stops it */
	const char *const yes[] = { "yes", NULL };
	const char *const noisy[] = { "sh", "-c", "echo short; head -c 5000 /dev/zero >&2", NULL };
	struct error err = ERROR_INIT;

	(void)state;
	assert_int_equal(subprocess_run(&r, yes, NULL, NULL, 1000, &err), ERR_TOOBIG);
	assert_string_equal(err.msg, "the output of 'yes' exceeds the limit of 1000 bytes");
	assert_int_equal(subprocess_run(&r, noisy, NULL, NULL, 1000, &err), ERR_TOOBIG);
	assert_string_equal(err.msg, "the error output of 'sh' exceeds the limit of 1000 bytes");
	assert_int_equal(r.out.alloc, 0); /* untouched */
	/* exactly at the cap is fine */
	{
		const char *const exact[] = { "head", "-c", "1000", "/dev/zero", NULL };

		assert_int_equal(subprocess_run(&r, exact, NULL, NULL, 1000, &err), 0);
		assert_int_equal(r.out.len, 1000);
		subprocess_result_release(&r);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exit_codes_and_streams),
		cmocka_unit_test(test_signal_death),
		cmocka_unit_test(test_large_output_both_streams),
		cmocka_unit_test(test_stdin),
		cmocka_unit_test(test_cwd),
		cmocka_unit_test(test_missing_program),
		cmocka_unit_test(test_output_cap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
