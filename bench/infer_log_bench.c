/*
 * Times monitor/infer_log's request path: appends/s of ~450-byte prediction records from 1 and 8
 * threads into a log with the default options (64 MiB buffer, 200 ms flushes), and the cost of
 * one append (p50/p99/p99.9/max, each call timed). Then the close (what was still buffered is
 * written and synced) and the writer's disk throughput. Each case runs twice: the row's inputs
 * handed over as typed cells (what ferry serve does), and as a jansson object built for the
 * append and freed after it (what it did before; the build is inside the timed call).
 *
 *     bench/infer_log_bench DIR [RECORDS_PER_THREAD] [RATE_PER_SECOND]
 *
 * With a rate, every thread paces its appends to RATE/threads per second (the server's steady
 * state, where the writer keeps up); without, it appends as fast as it can (a burst: the buffer
 * fills faster than the disk drains it, and records beyond the cap are dropped and counted).
 */
#include "util/common.h"
#include "monitor/infer_log.h"
#include "util/fs.h"

#include <pthread.h>
#include <time.h>

struct worker {
	struct infer_log *log;
	int thread;
	long n;
	double interval_ns; /* 0: as fast as possible */
	double *lat_ns;
	long dropped;
};

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static const char *const names[] = { "age",	      "plan", "monthly_charges",
				     "tenure_months", "city", "score" };

/* A request's row as the server has it parsed: 6 features, numbers and categories. */
static void request_row(struct infer_cell *c, uint64_t *rng)
{
	static const char *const plans[] = { "basic", "pro", "enterprise" };
	static const char *const cities[] = { "Paris", "Zürich", "Osaka", "Lima" };
	uint64_t r = splitmix(rng);

	c[0] = (struct infer_cell){ INFER_CELL_NUMBER, false, (double)(18 + r % 60), NULL, 0 };
	c[1] =
	    (struct infer_cell){ INFER_CELL_STRING, false, 0, plans[r % 3], strlen(plans[r % 3]) };
	c[2] =
	    (struct infer_cell){ INFER_CELL_NUMBER, false, (double)(r % 12000) / 100.0, NULL, 0 };
	c[3] = (struct infer_cell){ INFER_CELL_NUMBER, false, (double)(r % 72), NULL, 0 };
	c[4] = (struct infer_cell){ INFER_CELL_STRING, false, 0, cities[(r >> 8) % 4],
				    strlen(cities[(r >> 8) % 4]) };
	c[5] = (struct infer_cell){ INFER_CELL_NUMBER, false,
				    (double)(r >> 11) / 9007199254740992.0, NULL, 0 };
}

/* What ferry serve did per logged row before it handed cells over: a jansson object. */
static json_t *row_tree(const struct infer_cell *c)
{
	json_t *o = json_object();

	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		json_object_set_new(o, names[i],
				    c[i].type == INFER_CELL_NUMBER
					? json_real(c[i].num)
					: json_stringn(c[i].str, c[i].len));
	return o;
}

/* 1: every append builds (and frees) the row's jansson object first, as the server did. */
static int mode_tree;

/* Sleeps until deadline_ns when it is far enough ahead to sleep (a spin would take a CPU). */
static void pace(double deadline_ns)
{
	double ahead = deadline_ns - now_ns();

	if (ahead > 500e3) {
		struct timespec ts = { (time_t)(ahead / 1e9),
				       (long)((long long)ahead % 1000000000) };

		nanosleep(&ts, NULL);
	}
}

static void *run(void *arg)
{
	static const char *const classes[] = { "no", "yes" };
	struct worker *w = arg;
	uint64_t rng = 0x1234 + (uint64_t)w->thread;
	struct infer_cell rows[64][ARRAY_SIZE(names)];
	double start = now_ns();
	char id[40];

	for (int i = 0; i < 64; i++)
		request_row(rows[i], &rng);
	for (long i = 0; i < w->n; i++) {
		struct infer_record r = { 0 };
		struct error err = ERROR_INIT;
		double p = (double)(splitmix(&rng) >> 11) / 9007199254740992.0;
		double proba[2] = { 1 - p, p }, t0, t1;

		/* a UUID-sized request id */
		snprintf(id, sizeof(id), "%08x-%04x-4%03x-8%03x-%012" PRIx64, (unsigned)w->thread,
			 (unsigned)(i >> 16) & 0xffff, (unsigned)i & 0xfff,
			 (unsigned)(i >> 12) & 0xfff,
			 (uint64_t)(splitmix(&rng) & 0xffffffffffffULL));
		r.request_id = id;
		r.model = "churn";
		r.version = 7;
		r.digest =
		    "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
		r.latency_us = 150 + (int64_t)(splitmix(&rng) % 400);
		r.columns = names;
		r.n_columns = ARRAY_SIZE(names);
		r.label = p >= 0.5 ? "yes" : "no";
		r.classes = classes;
		r.probabilities = proba;
		r.n_classes = 2;
		if (w->interval_ns)
			pace(start + (double)i * w->interval_ns);
		t0 = now_ns();
		if (mode_tree)
			r.inputs = row_tree(rows[i % 64]);
		else
			r.cells = rows[i % 64];
		if (infer_log_append_prediction(w->log, &r, &err))
			w->dropped++;
		json_decref((json_t *)r.inputs);
		t1 = now_ns();
		w->lat_ns[i] = t1 - t0;
	}
	return NULL;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int bench(const char *base, int threads, long per_thread, double rate)
{
	struct infer_log *log = NULL;
	struct infer_log_stats st;
	struct error err = ERROR_INIT;
	struct worker *w = calloc((size_t)threads, sizeof(*w));
	pthread_t *th = calloc((size_t)threads, sizeof(*th));
	double *all = malloc(sizeof(double) * (size_t)(threads * per_thread));
	char *dir = xstrfmt("%s/t%d-%s", base, threads, rate ? "paced" : "burst");
	double t0, t1, t2;
	long total = threads * per_thread, dropped = 0;
	int rc = 1;

	if (fs_remove_tree(dir, &err) || infer_log_open(&log, dir, NULL, &err)) {
		fprintf(stderr, "infer_log_bench: %s\n", err.msg);
		goto out;
	}
	t0 = now_ns();
	for (int t = 0; t < threads; t++) {
		w[t] = (struct worker){
			log, t, per_thread, rate ? 1e9 * threads / rate : 0, all + t * per_thread, 0
		};
		pthread_create(&th[t], NULL, run, &w[t]);
	}
	for (int t = 0; t < threads; t++) {
		pthread_join(th[t], NULL);
		dropped += w[t].dropped;
	}
	t1 = now_ns();
	infer_log_stats(log, &st);
	printf("%s, %d thread%s, %s: %ld appends in %.3f s = %.0f appends/s, %" PRIu64
	       " written by then, %ld dropped (buffer full), %.1f MiB buffered\n",
	       mode_tree ? "jansson tree" : "typed cells ", threads, threads > 1 ? "s" : " ",
	       rate ? "paced" : "burst", total, (t1 - t0) / 1e9, (double)total / ((t1 - t0) / 1e9),
	       st.written, dropped, (double)st.buffered_bytes / (1 << 20));
	if (infer_log_close(log, &err)) {
		fprintf(stderr, "infer_log_bench: %s\n", err.msg);
		goto out;
	}
	t2 = now_ns();
	qsort(all, (size_t)total, sizeof(double), cmp_double);
	printf(
	    "    one append: p50 %.2f us, p99 %.2f us, p99.9 %.2f us, max %.0f us; close %.3f s; "
	    "%.0f bytes/record; writer %.0f MiB/s over the run\n",
	    all[total / 2] / 1e3, all[total * 99 / 100] / 1e3, all[total * 999 / 1000] / 1e3,
	    all[total - 1] / 1e3, (t2 - t1) / 1e9,
	    (double)(st.bytes_written + st.buffered_bytes) / (double)(total - dropped),
	    (double)(st.bytes_written + st.buffered_bytes) / (1 << 20) / ((t2 - t0) / 1e9));
	if (!getenv("INFER_LOG_BENCH_KEEP"))
		fs_remove_tree(dir, &err);
	rc = 0;
out:
	free(dir);
	free(all);
	free(th);
	free(w);
	return rc;
}

int main(int argc, char **argv)
{
	long n = argc > 2 ? strtol(argv[2], NULL, 10) : 250000;
	double rate = argc > 3 ? strtod(argv[3], NULL) : 50000;

	if (argc < 2 || n <= 0 || rate < 0) {
		fprintf(stderr, "usage: infer_log_bench DIR [RECORDS_PER_THREAD] [RATE]\n");
		return 2;
	}
	/* the two ways of handing a row over, interleaved so that the machine's load hits both */
	for (int threads = 1; threads <= 8; threads += 7) {
		for (mode_tree = 1; mode_tree >= 0; mode_tree--)
			if (bench(argv[1], threads, n, 0))
				return 1;
		for (mode_tree = 1; rate && mode_tree >= 0; mode_tree--)
			if (bench(argv[1], threads, (long)(rate * 5 / threads), rate))
				return 1;
	}
	return 0;
}
