/*
 * Unit tests for util/progress: the line format (expected strings worked out by hand in the
 * comments), silence off a terminal, and drawing on a pseudo-terminal.
 */
#include "util/common.h"
#include "helpers.h"
#include "util/progress.h"
#include "util/strbuf.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <time.h>

static void expect_line(const char *title, uint64_t done, uint64_t total, double elapsed,
			enum progress_unit unit, int width, const char *expect)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_addstr(&sb, "keep|");
	progress_format(&sb, title, done, total, elapsed, unit, width);
	assert_true(skip_prefix(sb.buf, "keep|", NULL));
	assert_string_equal(sb.buf + 5, expect);
	strbuf_release(&sb);
}

static void test_format_counts(void **state)
{
	(void)state;
	/*
	 * 42/100 after 3.5 s: 12.0/s; 58 left / 12 per s = 4.83 s -> ETA 0:05. The stats take 31
	 * columns, "Hashing: " 9, the brackets 3: 80 - 43 leaves 37, capped to a 30-wide bar with
	 * floor(42 * 30 / 100) = 12 '=' then '>' and 17 spaces.
	 */
	expect_line("Hashing", 42, 100, 3.5, PROGRESS_COUNT, 80,
		    "Hashing: [============>                 ]  42% (42/100), 12.0/s, ETA 0:05");
	/* 45 columns leave 2 for a bar: no bar, the 40-character line fits */
	expect_line("Hashing", 42, 100, 3.5, PROGRESS_COUNT, 45,
		    "Hashing:  42% (42/100), 12.0/s, ETA 0:05");
	/* 20 columns: cut */
	expect_line("Hashing", 42, 100, 3.5, PROGRESS_COUNT, 20, "Hashing:  42% (42/10");
	/* complete: no ETA; 100/4 = 25.0/s; 60 - 34 = 26-wide full bar, exactly 60 columns */
	expect_line("Hashing", 100, 100, 4.0, PROGRESS_COUNT, 60,
		    "Hashing: [==========================] 100% (100/100), 25.0/s");
	/* unknown total: count and rate only (1234 / 2 = 617.0/s) */
	expect_line("Reading rows", 1234, 0, 2.0, PROGRESS_COUNT, 80,
		    "Reading rows: 1234, 617.0/s");
	/* nothing elapsed: no rate, no ETA */
	expect_line("Hashing", 0, 10, 0.0, PROGRESS_COUNT, 0, "Hashing:   0% (0/10)");
	/* 1/7201 is 0%; 7200 left at 1.0/s = 2 hours */
	expect_line("Big", 1, 7201, 1.0, PROGRESS_COUNT, 0,
		    "Big:   0% (1/7201), 1.0/s, ETA 2:00:00");
	/* 90 s left: 1:30 */
	expect_line("Mid", 10, 100, 10.0, PROGRESS_COUNT, 0, "Mid:  10% (10/100), 1.0/s, ETA 1:30");
	/* past the total: 100%, no ETA */
	expect_line("X", 150, 100, 1.0, PROGRESS_COUNT, 0, "X: 100% (150/100), 150.0/s");
}

static void test_format_bytes(void **state)
{
	(void)state;
	/* 1.5 MiB of 3 MiB in 0.75 s: 2 MiB/s, 0.75 s left -> 0:01 */
	expect_line("Pushing", 1572864, 3145728, 0.75, PROGRESS_BYTES, 0,
		    "Pushing:  50% (1.5 MiB/3.0 MiB), 2.0 MiB/s, ETA 0:01");
	/* below 1 KiB in bytes; 1536 left at 512 B/s = 3 s */
	expect_line("Up", 512, 2048, 1.0, PROGRESS_BYTES, 0,
		    "Up:  25% (512 B/2.0 KiB), 512 B/s, ETA 0:03");
	expect_line("Up", 1023, 0, 0.0, PROGRESS_BYTES, 0, "Up: 1023 B");
	expect_line("Up", 1536, 0, 0.0, PROGRESS_BYTES, 0, "Up: 1.5 KiB");
	/* 3 GiB in 2 s */
	expect_line("Copy", UINT64_C(3221225472), 0, 2.0, PROGRESS_BYTES, 0,
		    "Copy: 3.0 GiB, 1.5 GiB/s");
	/* 5 TiB */
	expect_line("Copy", UINT64_C(5497558138880), 0, 0.0, PROGRESS_BYTES, 0, "Copy: 5.0 TiB");
}

struct worker_arg {
	struct progress *p;
	int n;
};

static void *worker(void *arg)
{
	struct worker_arg *w = arg;

	for (int i = 0; i < w->n; i++)
		progress_add(w->p, 1);
	return NULL;
}

/* Off a terminal (a file here) nothing is drawn, also with threads hammering the counter. */
static void test_silent_off_tty(void **state)
{
	char *dir = test_tmpdir();
	char *path = test_path(dir, "stderr");
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600), saved = dup(STDERR_FILENO);
	struct worker_arg w;
	pthread_t th[4];
	struct stat st;

	(void)state;
	assert_true(fd >= 0 && saved >= 0);
	assert_int_equal(dup2(fd, STDERR_FILENO), STDERR_FILENO);
	close(fd);
	w.p = progress_start("Hashing", 40000, PROGRESS_COUNT, 0);
	w.n = 10000;
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&th[i], NULL, worker, &w), 0);
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	progress_update(w.p, 40000);
	progress_finish(w.p);
	progress_update(NULL, 1);
	progress_add(NULL, 1);
	progress_finish(NULL);
	fflush(stderr);
	assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
	close(saved);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 0);
	free(path);
	test_tmpdir_remove(dir);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static void read_available(int fd, struct strbuf *sb)
{
	struct pollfd pfd = { fd, POLLIN, 0 };
	char buf[4096];

	while (poll(&pfd, 1, 200) > 0) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n <= 0)
			break;
		strbuf_add(sb, buf, (size_t)n);
	}
}

/* On a terminal: nothing in the first half second, then redraws, then a final line. */
static void test_draws_on_tty(void **state)
{
	struct strbuf got = STRBUF_INIT;
	int master, slave, saved;
	struct progress *p;

	(void)state;
	master = posix_openpt(O_RDWR | O_NOCTTY);
	assert_true(master >= 0);
	assert_int_equal(grantpt(master), 0);
	assert_int_equal(unlockpt(master), 0);
	slave = open(ptsname(master), O_RDWR | O_NOCTTY);
	assert_true(slave >= 0);
	saved = dup(STDERR_FILENO);
	assert_int_equal(dup2(slave, STDERR_FILENO), STDERR_FILENO);
	close(slave);

	p = progress_start("Hashing", 10, PROGRESS_COUNT, 0);
	progress_update(p, 1);
	read_available(master, &got);
	assert_int_equal(got.len, 0); /* too early */
	sleep_ms(600);
	progress_update(p, 4);
	read_available(master, &got);
	assert_non_null(strstr(got.buf, "\rHashing: "));
	assert_non_null(strstr(got.buf, "40% (4/10)"));
	assert_null(strchr(got.buf, '\n'));
	progress_update(p, 10);
	progress_finish(p);
	strbuf_reset(&got);
	read_available(master, &got);
	/* the terminal turns "\n" into "\r\n" */
	assert_non_null(strstr(got.buf, "100% (10/10)"));
	assert_true(ends_with(got.buf, "\033[K\r\n"));

	assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
	close(saved);
	close(master);
	strbuf_release(&got);
}

/* quiet wins over a terminal */
static void test_quiet_on_tty(void **state)
{
	struct strbuf got = STRBUF_INIT;
	int master, slave, saved;
	struct progress *p;

	(void)state;
	master = posix_openpt(O_RDWR | O_NOCTTY);
	assert_true(master >= 0);
	assert_int_equal(grantpt(master), 0);
	assert_int_equal(unlockpt(master), 0);
	slave = open(ptsname(master), O_RDWR | O_NOCTTY);
	saved = dup(STDERR_FILENO);
	assert_int_equal(dup2(slave, STDERR_FILENO), STDERR_FILENO);
	close(slave);
	p = progress_start("Hashing", 10, PROGRESS_COUNT, 1);
	sleep_ms(600);
	progress_update(p, 5);
	progress_finish(p);
	read_available(master, &got);
	assert_int_equal(got.len, 0);
	assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
	close(saved);
	close(master);
	strbuf_release(&got);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_counts),  cmocka_unit_test(test_format_bytes),
		cmocka_unit_test(test_silent_off_tty), cmocka_unit_test(test_draws_on_tty),
		cmocka_unit_test(test_quiet_on_tty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
