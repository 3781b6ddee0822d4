/* Unit tests for util/log: level names, $FERRY_LOG handling, message format, whole lines. */
#include "util/common.h"
#include "helpers.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/strbuf.h"

#include <fcntl.h>
#include <pthread.h>

static char *capture_path;
static int saved_fd = -1;

static void capture_start(void)
{
	int fd = open(capture_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	fflush(stderr);
	saved_fd = dup(STDERR_FILENO);
	assert_int_equal(dup2(fd, STDERR_FILENO), STDERR_FILENO);
	close(fd);
}

/* Restores stderr and returns what was written to it (caller releases). */
static void capture_end(struct strbuf *out)
{
	struct error err = ERROR_INIT;

	fflush(stderr);
	assert_int_equal(dup2(saved_fd, STDERR_FILENO), STDERR_FILENO);
	close(saved_fd);
	assert_int_equal(fs_read_file(out, capture_path, 1 << 24, &err), 0);
}

static void test_parse_level(void **state)
{
	static const struct {
		const char *s;
		enum log_level level;
	} ok[] = { { "error", LOG_ERROR }, { "warn", LOG_WARN },   { "WARNING", LOG_WARN },
		   { "Info", LOG_INFO },   { "debug", LOG_DEBUG }, { "TRACE", LOG_TRACE } };
	static const char *const bad[] = { "", "verbose", "3", "warn ", "debugging" };
	enum log_level level;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
		level = LOG_ERROR;
		assert_int_equal(log_parse_level(ok[i].s, &level), 0);
		assert_int_equal(level, ok[i].level);
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		level = LOG_TRACE;
		assert_int_equal(log_parse_level(bad[i], &level), ERR_INVALID);
		assert_int_equal(level, LOG_TRACE);
	}
	assert_string_equal(log_level_name(LOG_ERROR), "error");
	assert_string_equal(log_level_name(LOG_WARN), "warn");
	assert_string_equal(log_level_name(LOG_TRACE), "trace");
}

/* Must run before anything else logs: the environment is read once per process. */
static void test_env_invalid_warns_once(void **state)
{
	struct strbuf out = STRBUF_INIT;

	(void)state;
	setenv("FERRY_LOG", "loud", 1);
	capture_start();
	log_init_from_env();
	log_init_from_env();
	log_info("not shown at warn");
	log_warn("shown %d", 1);
	capture_end(&out);
	assert_string_equal(out.buf, "ferry: warn: FERRY_LOG: unknown level 'loud' (expected "
				     "error, warn, info, debug or trace); using 'warn'\n"
				     "ferry: warn: shown 1\n");
	assert_int_equal(log_get_level(), LOG_WARN);
	strbuf_release(&out);
}

static void test_levels_and_format(void **state)
{
	struct strbuf out = STRBUF_INIT;
	char expect[256];
	int line;

	(void)state;
	log_set_level(LOG_DEBUG);
	assert_true(log_enabled(LOG_DEBUG));
	assert_false(log_enabled(LOG_TRACE));
	capture_start();
	log_error("boom: %s", "disk full");
	log_info("already ends in a newline\n");
	line = __LINE__ + 1;
	log_debug("n=%d", 5);
	log_trace("not shown at debug");
	capture_end(&out);
	snprintf(expect, sizeof(expect),
		 "ferry: error: boom: disk full\n"
		 "ferry: info: already ends in a newline\n"
		 "ferry: debug: test_log.c:%d: n=5\n",
		 line);
	assert_string_equal(out.buf, expect);
	strbuf_reset(&out);

	log_set_level(LOG_ERROR);
	capture_start();
	log_warn("quiet");
	log_error("loud");
	capture_end(&out);
	assert_string_equal(out.buf, "ferry: error: loud\n");
	strbuf_release(&out);
}

#define THREADS 4
#define PER_THREAD 500

static void *log_worker(void *arg)
{
	int id = (int)(intptr_t)arg;

	for (int i = 0; i < PER_THREAD; i++)
		log_info("thread %d message %d with some padding to make lines longer", id, i);
	return NULL;
}

/* Messages from concurrent threads come out as whole lines. */
static void test_threads_whole_lines(void **state)
{
	struct strbuf out = STRBUF_INIT;
	pthread_t th[THREADS];
	int counts[THREADS] = { 0 };
	char *p, *nl;

	(void)state;
	log_set_level(LOG_INFO);
	capture_start();
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, log_worker, (void *)(intptr_t)i), 0);
	for (int i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	capture_end(&out);
	for (p = out.buf; (nl = strchr(p, '\n')); p = nl + 1) {
		int id, n, used = 0;

		*nl = '\0';
		assert_int_equal(sscanf(p,
					"ferry: info: thread %d message %d with some padding to "
					"make lines longer%n",
					&id, &n, &used),
				 2);
		assert_int_equal((size_t)used, strlen(p));
		assert_true(id >= 0 && id < THREADS);
		counts[id]++;
	}
	assert_string_equal(p, "");
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(counts[i], PER_THREAD);
	strbuf_release(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_level),
		cmocka_unit_test(test_env_invalid_warns_once),
		cmocka_unit_test(test_levels_and_format),
		cmocka_unit_test(test_threads_whole_lines),
	};
	char *dir = test_tmpdir();
	int rc;

	capture_path = test_path(dir, "stderr");
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	free(capture_path);
	test_tmpdir_remove(dir);
	return rc;
}
