/*
 * Threads of one process writing to one SQLite store at once, each with its own connection, as
 * the tracking server's workers do (log-batch, log-metric into an active run), some of them
 * writes that must fail (missing run, deleted run, a batch whose second param changes). Each
 * write must get its own answer, a failed one must leave nothing behind (not even the batch's
 * first, new param), and every write answered 0 must be stored, exactly once.
 */
#include "util/common.h"
#include "store/store.h"
#include "helpers.h"

#include <pthread.h>

#define NTHREADS 8
#define NITER 150

struct shared {
	const char *uri, *run, *deleted;
};

struct worker {
	const struct shared *sh;
	int n;
	int ok_points; /* points of the good run answered 0 */
	char failure[ERROR_MSG_SIZE + 128];
};

enum kind {
	GOOD,
	MISSING_RUN,
	DELETED_RUN,
	PARAM_CHANGE
};

static enum kind kind_of(int n, int i)
{
	int r = (n * 7 + i * 13) % 10;

	return r < 6 ? GOOD : r == 6 ? MISSING_RUN : r == 7 ? DELETED_RUN : PARAM_CHANGE;
}

/* Step of point k of write i of thread n: unique across the test. */
static int64_t step_of(int n, int i, int k)
{
	return ((int64_t)n * NITER + i) * 4 + k;
}

static int one_write(struct worker *w, struct store *st, int i, struct error *err)
{
	struct store_metric pts[3];
	/* a new param first: written, then undone when the second one conflicts */
	char fresh[32];
	struct store_kv params[2] = { { fresh, "v" }, { "p", "changed" } };
	const char *run = w->sh->run;
	enum kind kind = kind_of(w->n, i);
	struct store_batch b = { pts, 3, NULL, 0, NULL, 0 };

	snprintf(fresh, sizeof(fresh), "q%d-%d", w->n, i);
	for (int k = 0; k < 3; k++)
		pts[k] =
		    (struct store_metric){ "m", k * 0.5, 1700000000000 + i, step_of(w->n, i, k) };
	if (kind == MISSING_RUN)
		run = "ffffffffffffffffffffffffffffffff";
	else if (kind == DELETED_RUN)
		run = w->sh->deleted;
	else if (kind == PARAM_CHANGE)
		b = (struct store_batch){ pts, 3, params, 2, NULL, 0 };
	/* half the writes as log-metric (one point), half as log-batch */
	if (i % 2 && kind != PARAM_CHANGE)
		return store_run_log_metrics_active(st, run, pts, 1, err);
	return store_run_log_batch(st, run, &b, err);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct error err = ERROR_INIT;
	struct store *st = NULL;
	static const int want[] = { [GOOD] = 0,
				    [MISSING_RUN] = ERR_NOTFOUND,
				    [DELETED_RUN] = ERR_INVALID,
				    [PARAM_CHANGE] = ERR_CONFLICT };

	if (store_open(&st, w->sh->uri, &err)) {
		snprintf(w->failure, sizeof(w->failure), "store_open: %s", err.msg);
		return NULL;
	}
	for (int i = 0; i < NITER && !w->failure[0]; i++) {
		enum kind kind = kind_of(w->n, i);
		int rc = one_write(w, st, i, &err);

		if (rc != want[kind])
			snprintf(w->failure, sizeof(w->failure),
				 "thread %d write %d (kind %d): got %d (%s), want %d", w->n, i,
				 (int)kind, rc, rc ? err.msg : "", want[kind]);
		else if (kind == GOOD)
			w->ok_points += i % 2 ? 1 : 3;
	}
	store_close(st);
	return NULL;
}

static void test_each_write_its_own_answer(void **state)
{
	char *dir = test_tmpdir(), *db = test_path(dir, "ferry.db"), uri[600];
	struct store_new_run in = { .name = "r", .user = "u" };
	struct store_metric_points hist = STORE_METRIC_POINTS_INIT;
	struct store_pairs params = STORE_PAIRS_INIT;
	char run[ID_HEX_LEN + 1], deleted[ID_HEX_LEN + 1];
	struct worker w[NTHREADS];
	pthread_t th[NTHREADS];
	struct error err = ERROR_INIT;
	struct store *st = NULL;
	struct shared sh = { uri, run, deleted };
	char *exp = NULL;
	int want_points = 0;

	(void)state;
	snprintf(uri, sizeof(uri), "sqlite:%s", db);
	if (store_open(&st, uri, &err) || store_experiment_create(st, &exp, "e", NULL, &err))
		fail_msg("setup: %s", err.msg);
	in.experiment_id = exp;
	if (store_run_create(st, run, &in, &err) || store_run_create(st, deleted, &in, &err) ||
	    store_run_set_deleted(st, deleted, true, &err) ||
	    store_run_log_param(st, run, "p", "original", &err))
		fail_msg("setup: %s", err.msg);
	for (int n = 0; n < NTHREADS; n++) {
		w[n] = (struct worker){ &sh, n, 0, "" };
		assert_int_equal(pthread_create(&th[n], NULL, worker_main, &w[n]), 0);
	}
	for (int n = 0; n < NTHREADS; n++) {
		pthread_join(th[n], NULL);
		if (w[n].failure[0])
			fail_msg("%s", w[n].failure);
		want_points += w[n].ok_points;
	}
	/* exactly the points answered 0: none of a failed write, none twice */
	assert_int_equal(store_metric_history(st, &hist, run, "m", &err), 0);
	assert_int_equal(hist.nr, want_points);
	for (size_t i = 0; i < hist.nr; i++) {
		int64_t s = hist.items[i].step, n = s / 4 / NITER, it = s / 4 % NITER;

		assert_int_equal(kind_of((int)n, (int)it), GOOD);
		assert_true(i == 0 || hist.items[i - 1].step < s);
	}
	store_metric_points_release(&hist);
	assert_int_equal(store_run_params(st, &params, run, &err), 0);
	assert_int_equal(params.nr, 1); /* "p" alone: no param of a failed batch */
	assert_string_equal(params.items[0].value, "original");
	store_pairs_release(&params);
	assert_int_equal(store_metric_history(st, &hist, deleted, "m", &err), 0);
	assert_int_equal(hist.nr, 0);
	store_metric_points_release(&hist);
	free(exp);
	store_close(st);
	free(db);
	test_tmpdir_remove(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_each_write_its_own_answer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
