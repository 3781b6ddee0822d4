/*
 * Many processes sharing one SQLite store: they race to create and migrate a fresh database,
 * then write runs, batched metrics and params at once. Every write must succeed (no "database
 * is locked") and the counts must come out exact.
 */
#include "util/common.h"
#include "store/migrations.h"
#include "store/store.h"
#include "helpers.h"

#include <sqlite3.h>
#include <sys/wait.h>

#define NPROC 8
#define NRUNS 25
#define NKEYS 4
#define NSTEPS 5 /* NKEYS * NSTEPS = 20 metric points per run, logged as one batch */
#define NPARAMS 5

/* What a child did wrong, for the parent to report; empty when all went well. */
static char *log_path(const char *dir, int n)
{
	char name[32];

	snprintf(name, sizeof(name), "child-%d.log", n);
	return test_path(dir, name);
}

static int child_run(struct store *st, const char *exp_id, int n, int r, struct error *err)
{
	struct store_metric points[NKEYS * NSTEPS];
	char keys[NKEYS][8], name[32], pkey[8], pval[32];
	struct store_new_run in = { .experiment_id = exp_id, .name = name, .user = "child" };
	char id[ID_HEX_LEN + 1];
	int rc;

	snprintf(name, sizeof(name), "child-%d-run-%d", n, r);
	if ((rc = store_run_create(st, id, &in, err)) < 0)
		return rc;
	for (int k = 0; k < NKEYS; k++) {
		snprintf(keys[k], sizeof(keys[k]), "m%d", k);
		for (int s = 0; s < NSTEPS; s++)
			points[k * NSTEPS + s] = (struct store_metric){
				.key = keys[k],
				.value = n * 1000.0 + r * 10 + s,
				.timestamp = 1700000000000 + s,
				.step = s,
			};
	}
	if ((rc = store_run_log_metrics(st, id, points, ARRAY_SIZE(points), err)) < 0)
		return rc;
	/* One transaction per param: many small writes are where lock contention shows. */
	for (int p = 0; p < NPARAMS; p++) {
		snprintf(pkey, sizeof(pkey), "p%d", p);
		snprintf(pval, sizeof(pval), "%d.%d", n, p);
		if ((rc = store_run_log_param(st, id, pkey, pval, err)) < 0)
			return rc;
	}
	return store_run_set_status(st, id, STORE_RUN_FINISHED, time_now_ms(), err);
}

static int child_main(const char *uri, int n, bool work, struct error *err)
{
	struct store *st = NULL;
	char exp_name[32];
	char *exp_id = NULL;
	int rc;

	if ((rc = store_open(&st, uri, err)) < 0)
		goto out;
	if (!work)
		goto out;
	snprintf(exp_name, sizeof(exp_name), "child-%d", n);
	if ((rc = store_experiment_create(st, &exp_id, exp_name, NULL, err)) < 0)
		goto out;
	for (int r = 0; r < NRUNS; r++)
		if ((rc = child_run(st, exp_id, n, r, err)) < 0)
			goto out;
out:
	free(exp_id);
	store_close(st);
	return rc;
}

/*
 * Forks nproc children that wait on a pipe so they start together, then open uri (and do the
 * workload if work). Asserts every child exited 0 and left no message mentioning a lock.
 */
static void run_children(const char *dir, const char *uri, int nproc, bool work)
{
	pid_t pids[NPROC * 2];
	int gate[2];

	assert_true(nproc <= (int)ARRAY_SIZE(pids));
	assert_int_equal(pipe(gate), 0);
	fflush(NULL);
	for (int n = 0; n < nproc; n++) {
		pids[n] = fork();
		assert_true(pids[n] >= 0);
		if (pids[n] == 0) {
			struct error err = ERROR_INIT;
			char *path = log_path(dir, n);
			FILE *log = fopen(path, "w");
			char c;
			int rc;

			close(gate[1]);
			while (read(gate[0], &c, 1) < 0 && errno == EINTR)
				;
			rc = child_main(uri, n, work, &err);
			if (rc && log)
				fprintf(log, "child %d: %s (%s)\n", n, err.msg,
					error_code_name(rc));
			if (log)
				fclose(log);
			_exit(rc ? 1 : 0);
		}
	}
	close(gate[0]);
	close(gate[1]); /* go */
	for (int n = 0; n < nproc; n++) {
		char *path = log_path(dir, n);
		FILE *fp;
		char line[512] = "";
		int status;

		assert_int_equal(waitpid(pids[n], &status, 0), pids[n]);
		fp = fopen(path, "r");
		assert_non_null(fp);
		if (!fgets(line, sizeof(line), fp))
			line[0] = '\0';
		fclose(fp);
		remove(path);
		free(path);
		if (strstr(line, "locked") || strstr(line, "busy"))
			fail_msg("a child hit a lock: %s", line);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			fail_msg("child %d failed (status %d): %s", n, status, line);
	}
}

static char *uri_for(const char *path)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_addf(&sb, "sqlite:%s", path);
	return strbuf_detach(&sb, NULL);
}

/* Fresh databases opened by many processes at once: migrated exactly once, every time. */
static void test_concurrent_creation(void **state)
{
	char *dir = test_tmpdir();

	(void)state;
	for (int round = 0; round < 5; round++) {
		char name[32];
		char *path, *uri;

		snprintf(name, sizeof(name), "fresh-%d.db", round);
		path = test_path(dir, name);
		uri = uri_for(path);
		run_children(dir, uri, NPROC * 2, false);
		assert_int_equal(test_db_int(path, "SELECT count(*) FROM schema_version"),
				 migration_count);
		assert_int_equal(test_db_int(path, "SELECT count(*) FROM experiments"), 1);
		free(path);
		free(uri);
	}
	test_tmpdir_remove(dir);
}

static void test_concurrent_writers(void **state)
{
	char *dir = test_tmpdir();
	char *path = test_path(dir, "shared.db");
	char *uri = uri_for(path);
	struct store_info info = STORE_INFO_INIT;
	struct strbuf report = STRBUF_INIT;
	struct error err = ERROR_INIT;
	struct store *st = NULL;

	(void)state;
	run_children(dir, uri, NPROC, true);

	if (store_open(&st, uri, &err) || store_info(st, &info, &err) ||
	    store_check(st, &report, &err))
		fail_msg("%s\n%s", err.msg, report.buf);
	assert_int_equal(info.experiments, 1 + NPROC);
	assert_int_equal(info.runs, NPROC * NRUNS);
	assert_int_equal(info.metrics, NPROC * NRUNS * NKEYS * NSTEPS);
	assert_int_equal(test_db_int(path, "SELECT count(*) FROM latest_metrics"),
			 NPROC * NRUNS * NKEYS);
	assert_int_equal(test_db_int(path, "SELECT count(*) FROM latest_metrics WHERE step <> 4"),
			 0);
	assert_int_equal(test_db_int(path, "SELECT count(*) FROM params"), NPROC * NRUNS * NPARAMS);
	assert_int_equal(test_db_int(path, "SELECT count(*) FROM runs WHERE status = 'FINISHED'"),
			 NPROC * NRUNS);
	assert_int_equal(test_db_int(path, "SELECT count(DISTINCT experiment_id) FROM runs"),
			 NPROC);
	assert_int_equal(test_db_int(path, "SELECT count(*) FROM schema_version"), migration_count);
	store_info_release(&info);
	strbuf_release(&report);
	store_close(st);
	free(uri);
	free(path);
	test_tmpdir_remove(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_concurrent_creation),
		cmocka_unit_test(test_concurrent_writers),
	};

	return cmocka_run_group_tests_name("store_concurrency", tests, NULL, NULL);
}
