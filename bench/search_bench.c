/*
 * Times runs/search (track/filter.c + store_run_search) on a store of N runs (100,000 by
 * default), each with 3 metrics, 3 params and 3 tags, against the target: a metric
 * filter plus order under 50 ms. The store is filled with one raw SQLite transaction (the
 * store's schema, made by store_open) so that filling takes seconds, not minutes.
 *
 *     bench/search_bench DIR [RUNS] [REPEATS]
 */
#include "util/common.h"
#include "store/search.h"
#include "store/store.h"
#include "track/filter.h"

#include <sqlite3.h>
#include <time.h>

struct query {
	const char *name;
	const char *filter;
	const char *order[2];
	size_t nr_order;
	int64_t max_results;
};

static const struct query queries[] = {
	{ "metric filter + param filter, order by the metric (the issue's case)",
	  "metrics.f1 > 0.8 and params.model = 'xgboost'",
	  { "metrics.f1 DESC" },
	  1,
	  100 },
	{ "metric filter, order by another metric",
	  "metrics.f1 > 0.5",
	  { "metrics.loss", NULL },
	  1,
	  100 },
	{ "no filter, default order (start_time DESC)", "", { NULL }, 0, 100 },
	{ "no filter, order by a metric", "", { "metrics.acc DESC" }, 1, 100 },
	{ "tag LIKE, order by a param", "tags.team LIKE 'team-1%'", { "params.lr" }, 1, 100 },
	{ "narrow: run name and status",
	  "attributes.run_name = 'run-4242' and status = 'FINISHED'",
	  { NULL },
	  0,
	  100 },
	{ "the issue's case, 1000 results",
	  "metrics.f1 > 0.8 and params.model = 'xgboost'",
	  { "metrics.f1 DESC" },
	  1,
	  1000 },
};

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void check_sql(sqlite3 *db, int rc, const char *what)
{
	if (rc != SQLITE_OK && rc != SQLITE_DONE) {
		fprintf(stderr, "search_bench: %s: %s\n", what, sqlite3_errmsg(db));
		exit(1);
	}
}

static void prep(sqlite3 *db, sqlite3_stmt **q, const char *sql)
{
	check_sql(db, sqlite3_prepare_v2(db, sql, -1, q, NULL), sql);
}

static void step(sqlite3 *db, sqlite3_stmt *q)
{
	check_sql(db, sqlite3_step(q), sqlite3_sql(q));
	sqlite3_reset(q);
}

static void put_kv(sqlite3 *db, sqlite3_stmt *q, const char *run, const char *key, const char *v)
{
	sqlite3_bind_text(q, 1, run, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 3, v, -1, SQLITE_TRANSIENT);
	step(db, q);
}

static void put_metric(sqlite3 *db, sqlite3_stmt *hist, sqlite3_stmt *latest, const char *run,
		       const char *key, double v, int64_t ts)
{
	sqlite3_stmt *qs[2] = { hist, latest };

	for (int i = 0; i < 2; i++) {
		sqlite3_bind_text(qs[i], 1, run, -1, SQLITE_STATIC);
		sqlite3_bind_text(qs[i], 2, key, -1, SQLITE_STATIC);
		sqlite3_bind_int64(qs[i], 3, ts);
		sqlite3_bind_double(qs[i], 4, v);
		step(db, qs[i]);
	}
}

/* Fills experiment 1 with n runs. */
static void fill(const char *path, long n)
{
	static const char *const models[] = { "xgboost", "lr", "rf", "svm" };
	sqlite3_stmt *run, *param, *tag, *hist, *latest;
	uint64_t seed = 42;
	sqlite3 *db;
	char id[33], buf[64];

	check_sql(NULL, sqlite3_open(path, &db), "open");
	check_sql(db, sqlite3_exec(db, "BEGIN", NULL, NULL, NULL), "begin");
	prep(db, &run,
	     "INSERT INTO runs (run_id, experiment_id, name, user_id, status, start_time, "
	     "end_time, artifact_uri) VALUES (?1, 1, ?2, 'bench', ?3, ?4, ?4 + 1000, "
	     "'mlflow-artifacts:/1/' || ?1 || '/artifacts')");
	prep(db, &param, "INSERT INTO params (run_id, key, value) VALUES (?1, ?2, ?3)");
	prep(db, &tag, "INSERT INTO run_tags (run_id, key, value) VALUES (?1, ?2, ?3)");
	prep(
	    db, &hist,
	    "INSERT INTO metrics (run_id, key, step, timestamp, value) VALUES (?1, ?2, 0, ?3, ?4)");
	prep(db, &latest,
	     "INSERT INTO latest_metrics (run_id, key, step, timestamp, value) VALUES "
	     "(?1, ?2, 0, ?3, ?4)");
	for (long i = 0; i < n; i++) {
		int64_t t = 1700000000000LL + i * 1000 + (int64_t)(splitmix(&seed) % 997);

		snprintf(id, sizeof(id), "%016" PRIx64 "%016" PRIx64, splitmix(&seed),
			 splitmix(&seed));
		snprintf(buf, sizeof(buf), "run-%ld", i);
		sqlite3_bind_text(run, 1, id, -1, SQLITE_STATIC);
		sqlite3_bind_text(run, 2, buf, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(run, 3, i % 10 ? "FINISHED" : "FAILED", -1, SQLITE_STATIC);
		sqlite3_bind_int64(run, 4, t);
		step(db, run);
		put_metric(db, hist, latest, id, "f1", (double)(splitmix(&seed) % 10000) / 1e4, t);
		put_metric(db, hist, latest, id, "acc", (double)(splitmix(&seed) % 10000) / 1e4, t);
		put_metric(db, hist, latest, id, "loss", (double)(splitmix(&seed) % 10000) / 1e3,
			   t);
		put_kv(db, param, id, "model", models[splitmix(&seed) % 4]);
		snprintf(buf, sizeof(buf), "0.%03d", (int)(splitmix(&seed) % 1000));
		put_kv(db, param, id, "lr", buf);
		snprintf(buf, sizeof(buf), "%d", (int)(splitmix(&seed) % 12));
		put_kv(db, param, id, "depth", buf);
		snprintf(buf, sizeof(buf), "team-%d", (int)(splitmix(&seed) % 50));
		put_kv(db, tag, id, "team", buf);
		snprintf(buf, sizeof(buf), "run-%ld", i);
		put_kv(db, tag, id, "mlflow.runName", buf);
		put_kv(db, tag, id, "mlflow.user", "bench");
	}
	sqlite3_finalize(run);
	sqlite3_finalize(param);
	sqlite3_finalize(tag);
	sqlite3_finalize(hist);
	sqlite3_finalize(latest);
	check_sql(db, sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), "commit");
	sqlite3_close(db);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* One search, parsing included, as the API handler would do it; returns the runs found. */
static size_t search(struct store *st, const struct query *qd)
{
	static const char *const exps[] = { "1" };
	struct search_filter f = SEARCH_FILTER_INIT;
	struct search_orders o = SEARCH_ORDERS_INIT;
	struct store_runs runs = STORE_RUNS_INIT;
	struct error err = ERROR_INIT;
	struct store_run_search q;
	char *token = NULL;
	size_t n;

	memset(&q, 0, sizeof(q));
	q.experiment_ids = exps;
	q.nr_experiment_ids = 1;
	q.max_results = qd->max_results;
	if (filter_parse_runs(&f, qd->filter, &err) ||
	    filter_parse_run_order(&o, qd->order, qd->nr_order, &err) ||
	    store_run_search(st, &runs, &token, (q.filter = &f, q.order = &o, &q), &err)) {
		fprintf(stderr, "search_bench: %s: %s\n", qd->filter, err.msg);
		exit(1);
	}
	n = runs.nr;
	store_runs_release(&runs);
	search_filter_release(&f);
	search_orders_release(&o);
	free(token);
	return n;
}

/* The database and its WAL files. */
static void remove_db(const char *path)
{
	static const char *const suffixes[] = { "", "-wal", "-shm" };

	for (size_t i = 0; i < ARRAY_SIZE(suffixes); i++) {
		char *p = xstrfmt("%s%s", path, suffixes[i]);

		unlink(p);
		free(p);
	}
}

int main(int argc, char **argv)
{
	struct error err = ERROR_INIT;
	struct store *st = NULL;
	long n = argc > 2 ? strtol(argv[2], NULL, 10) : 100000;
	int repeats = argc > 3 ? (int)strtol(argv[3], NULL, 10) : 21;
	double t0, *times;
	char *path, *uri, *exp = NULL;

	if (argc < 2 || n <= 0 || repeats <= 0) {
		fprintf(stderr, "usage: search_bench DIR [RUNS] [REPEATS]\n");
		return 2;
	}
	path = xstrfmt("%s/search-bench.db", argv[1]);
	uri = xstrfmt("sqlite:%s", path);
	if (access(path, F_OK) == 0) {
		fprintf(stderr, "search_bench: %s exists; give an empty directory\n", path);
		return 1;
	}
	if (store_open(&st, uri, &err) || store_experiment_create(st, &exp, "bench", NULL, &err)) {
		fprintf(stderr, "search_bench: %s\n", err.msg);
		return 1;
	}
	free(exp);
	t0 = now_ms();
	fill(path, n);
	printf("filled %ld runs (3 metrics, 3 params, 3 tags each) in %.1f s\n", n,
	       (now_ms() - t0) / 1e3);
	times = xcalloc((size_t)repeats, sizeof(*times));
	for (size_t i = 0; i < ARRAY_SIZE(queries); i++) {
		size_t found = search(st, &queries[i]); /* warm the page cache */

		for (int r = 0; r < repeats; r++) {
			t0 = now_ms();
			search(st, &queries[i]);
			times[r] = now_ms() - t0;
		}
		qsort(times, (size_t)repeats, sizeof(*times), cmp_double);
		printf("%-72s %4zu runs  median %7.2f ms  min %7.2f  max %7.2f\n", queries[i].name,
		       found, times[repeats / 2], times[0], times[repeats - 1]);
	}
	free(times);
	store_close(st);
	if (getenv("SEARCH_BENCH_KEEP"))
		printf("kept %s\n", path);
	else
		remove_db(path);
	free(path);
	free(uri);
	return 0;
}
