/*
 * prom_bench: the cost of http/prom's hot path (counter increment, histogram observe) from 1 and
 * from 8 threads, on one shared series and on one series per thread, plus the resolve-by-labels
 * path and a render. Prints ns per operation; not a test (see bench/README.md).
 *
 * usage: prom_bench [MILLIONS_OF_OPS_PER_CASE]   (default 16)
 */
#include "util/common.h"
#include "http/prom.h"

#include <pthread.h>
#include <time.h>

#define MAX_THREADS 8
#define REPEATS 5

enum op {
	OP_COUNTER_INC,
	OP_OBSERVE,
	OP_COUNTER_LABELS,
	OP_OBSERVE_LABELS,
};

struct bench_case {
	const char *name;
	enum op op;
	int threads;
	bool shared; /* one series for all threads, or one each */
};

struct run {
	const struct bench_case *bc;
	struct prom_family *counter, *hist;
	struct prom_child *children[MAX_THREADS];
	const char *ids[MAX_THREADS];
	uint64_t ops; /* per thread */
	pthread_barrier_t start;
};

/*
 * Each thread times itself: with more threads than CPUs the main thread may not run again until
 * the workers are done, so its own clock would miss their work.
 */
struct worker {
	struct run *run;
	int id;
	double start, end, cpu;
};

/* Inference-like latencies: mostly sub-millisecond, a few slow ones. */
static const double latencies[8] = { 8e-5, 1.2e-4, 2e-4, 3.1e-4, 4.5e-4, 7e-4, 2.2e-3, 0.04 };

static double now(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct run *run = w->run;
	struct prom_child *c = run->children[run->bc->shared ? 0 : w->id];
	const char *const *labels = &run->ids[run->bc->shared ? 0 : w->id];
	uint64_t n = run->ops;
	double cpu0;

	pthread_barrier_wait(&run->start);
	w->start = now(CLOCK_MONOTONIC);
	cpu0 = now(CLOCK_THREAD_CPUTIME_ID);
	switch (run->bc->op) {
	case OP_COUNTER_INC:
		for (uint64_t i = 0; i < n; i++)
			prom_counter_inc(c);
		break;
	case OP_OBSERVE:
		for (uint64_t i = 0; i < n; i++)
			prom_histogram_observe(c, latencies[i & 7]);
		break;
	case OP_COUNTER_LABELS:
		for (uint64_t i = 0; i < n; i++)
			prom_counter_add_labels(run->counter, labels, 1);
		break;
	case OP_OBSERVE_LABELS:
		for (uint64_t i = 0; i < n; i++)
			prom_histogram_observe_labels(run->hist, labels, latencies[i & 7]);
		break;
	}
	w->cpu = now(CLOCK_THREAD_CPUTIME_ID) - cpu0;
	w->end = now(CLOCK_MONOTONIC);
	return NULL;
}

/* One timed run: wall and CPU seconds for run->ops per thread. */
static void run_once(struct run *run, double *wall, double *cpu)
{
	struct worker w[MAX_THREADS];
	pthread_t t[MAX_THREADS];
	int threads = run->bc->threads;
	double first = 1e300, last = 0;

	if (pthread_barrier_init(&run->start, NULL, (unsigned)threads + 1))
		BUG("pthread_barrier_init failed");
	for (int i = 0; i < threads; i++) {
		w[i].run = run;
		w[i].id = i;
		if (pthread_create(&t[i], NULL, worker_main, &w[i]))
			BUG("pthread_create failed");
	}
	pthread_barrier_wait(&run->start);
	*cpu = 0;
	for (int i = 0; i < threads; i++) {
		pthread_join(t[i], NULL);
		first = w[i].start < first ? w[i].start : first;
		last = w[i].end > last ? w[i].end : last;
		*cpu += w[i].cpu;
	}
	*wall = last - first;
	pthread_barrier_destroy(&run->start);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void bench(const struct bench_case *bc, uint64_t total_ops)
{
	static const char *const ids[MAX_THREADS] = {
		"t0", "t1", "t2", "t3", "t4", "t5", "t6", "t7"
	};
	struct prom_registry *r = prom_registry_new();
	struct run run = { 0 };
	double wall[REPEATS], cpu[REPEATS];
	bool hist = bc->op == OP_OBSERVE || bc->op == OP_OBSERVE_LABELS;

	run.bc = bc;
	run.ops = total_ops / (uint64_t)bc->threads;
	run.counter = prom_counter_new(r, "ferry_bench_total", "Bench.",
				       (const char *const[]){ "thread", NULL });
	run.hist = prom_histogram_new(r, "ferry_bench_seconds", "Bench.",
				      (const char *const[]){ "thread", NULL }, prom_latency_buckets,
				      PROM_LATENCY_NBUCKETS);
	for (int i = 0; i < MAX_THREADS; i++) {
		run.ids[i] = ids[i];
		run.children[i] = prom_child(hist ? run.hist : run.counter, &ids[i]);
	}
	for (int k = 0; k < REPEATS; k++)
		run_once(&run, &wall[k], &cpu[k]);
	/* every increment must have landed */
	{
		uint64_t sum = 0;

		for (int i = 0; i < MAX_THREADS; i++)
			sum += hist ? prom_histogram_count(run.children[i])
				    : (uint64_t)prom_value(run.children[i]);
		if (sum != run.ops * (uint64_t)bc->threads * REPEATS)
			BUG("lost updates: %" PRIu64, sum);
	}
	total_ops = run.ops * (uint64_t)bc->threads;
	qsort(wall, REPEATS, sizeof(*wall), cmp_double);
	qsort(cpu, REPEATS, sizeof(*cpu), cmp_double);
	printf("%-44s %2d %9.1f %9.1f %9.1f\n", bc->name, bc->threads,
	       wall[REPEATS / 2] * 1e9 / (double)total_ops, wall[0] * 1e9 / (double)total_ops,
	       cpu[REPEATS / 2] * 1e9 / (double)total_ops);
	prom_registry_free(r);
}

/* Time of one render of a registry the size of a busy server's. */
static void bench_render(void)
{
	struct prom_registry *r = prom_registry_new();
	struct prom_family *req, *lat;
	struct strbuf sb = STRBUF_INIT;
	double t0, best = 1e9;
	char code[8], route[16];

	req = prom_counter_new(r, "ferry_http_requests_total", "Requests.",
			       (const char *const[]){ "route", "code", NULL });
	lat = prom_histogram_new(r, "ferry_http_request_duration_seconds", "Latency.",
				 (const char *const[]){ "route", NULL }, prom_latency_buckets,
				 PROM_LATENCY_NBUCKETS);
	for (int i = 0; i < 20; i++) {
		snprintf(route, sizeof(route), "/route%d", i);
		for (int c = 0; c < 5; c++) {
			snprintf(code, sizeof(code), "%d", 200 + c * 100);
			prom_counter_add_labels(req, (const char *const[]){ route, code }, i * c);
		}
		for (int k = 0; k < 1000; k++)
			prom_histogram_observe_labels(lat, (const char *const[]){ route },
						      latencies[k & 7] * (1 + i));
	}
	prom_process_metrics(r);
	for (int k = 0; k < 50; k++) {
		strbuf_reset(&sb);
		t0 = now(CLOCK_MONOTONIC);
		prom_render(r, &sb);
		t0 = now(CLOCK_MONOTONIC) - t0;
		if (t0 < best)
			best = t0;
	}
	printf("render: 100 counter + 20 histogram series + process metrics: %zu bytes, "
	       "best of 50 %.1f us\n",
	       sb.len, best * 1e6);
	strbuf_release(&sb);
	prom_registry_free(r);
}

int main(int argc, char **argv)
{
	static const struct bench_case cases[] = {
		{ "counter inc, one series", OP_COUNTER_INC, 1, true },
		{ "counter inc, one shared series", OP_COUNTER_INC, 8, true },
		{ "counter inc, a series per thread", OP_COUNTER_INC, 8, false },
		{ "histogram observe, one series", OP_OBSERVE, 1, true },
		{ "histogram observe, one shared series", OP_OBSERVE, 8, true },
		{ "histogram observe, a series per thread", OP_OBSERVE, 8, false },
		{ "counter add by labels (lookup), one series", OP_COUNTER_LABELS, 1, true },
		{ "counter add by labels (lookup), shared", OP_COUNTER_LABELS, 8, true },
		{ "observe by labels (lookup), shared", OP_OBSERVE_LABELS, 8, true },
	};
	uint64_t millions = 16;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	if (argc > 1) {
		char *end;

		millions = strtoull(argv[1], &end, 10);
		if (*end || !millions) {
			fprintf(stderr, "usage: prom_bench [MILLIONS_OF_OPS_PER_CASE]\n");
			return 2;
		}
	}
	printf("prom_bench: %" PRIu64 "M ops per case (split over its threads), %ld CPUs, "
	       "median of %d runs\n",
	       millions, cpus, REPEATS);
	printf("%-44s %2s %9s %9s %9s\n", "case", "th", "wall ns", "best", "CPU ns");
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		/* the lookup path is ~10x slower: fewer ops keep the run short */
		uint64_t ops = millions * 1000000;

		if (cases[i].op == OP_COUNTER_LABELS || cases[i].op == OP_OBSERVE_LABELS)
			ops /= 8;
		bench(&cases[i], ops);
	}
	bench_render();
	return 0;
}
