/*
 * Times xgb_walk_predict against xgb_predict (libxgboost's C API) on an xgboost model artifact:
 * single-row calls and batches of 1000 rows, the rows being DATA encoded by the model's own
 * preprocessing. Checks first that both give the same bytes on every row. Prints medians of wall
 * time and of the process's CPU time (libxgboost's OpenMP threads included) per call.
 *
 *     bench/xgb_walk_bench MODEL_DIR DATA.csv [REPEATS]
 */
#include "util/common.h"
#include "ml/model.h"
#include "ml/xgb_walk.h"
#include "table/table.h"

#include <time.h>

#define BATCH 1000

static double now_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Medians of a case, ns per call: wall clock and CPU time of the whole process. */
struct timing {
	double wall, cpu;
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void die(const char *what, const struct error *err)
{
	fprintf(stderr, "xgb_walk_bench: %s: %s\n", what, err->msg);
	exit(1);
}

/* The rows of the CSV at path through m's preprocessing; *n rows of m->pre.width. */
static double *encode(const struct model *m, const char *path, size_t *n)
{
	struct error err = ERROR_INIT;
	struct table *t = NULL;
	size_t *cols = xcalloc(m->pre.nfeatures, sizeof(*cols)), *rows;
	double *X;

	if (table_load(&t, path, NULL, &err))
		die("loading the data", &err);
	for (size_t f = 0; f < m->pre.nfeatures; f++)
		if (table_find(&cols[f], t, m->pre.features[f].name, &err))
			die("finding a feature", &err);
	rows = xmalloc(t->nrows * sizeof(*rows));
	for (size_t i = 0; i < t->nrows; i++)
		rows[i] = i;
	X = xmalloc(t->nrows * m->pre.width * sizeof(*X));
	preprocess_transform(&m->pre, t, cols, rows, t->nrows, X);
	*n = t->nrows;
	free(rows);
	free(cols);
	table_free(t);
	return X;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return v[n / 2];
}

/* `calls` calls of f over rows cycling through X, `repeats` times. */
static struct timing time_calls(int (*f)(const void *, const double *, size_t, double *,
					 struct error *),
				const void *ctx, const double *X, size_t n, size_t d,
				size_t rows_per_call, size_t calls, int repeats, double *out)
{
	double *wall = xmalloc((size_t)repeats * sizeof(*wall));
	double *cpu = xmalloc((size_t)repeats * sizeof(*cpu));
	struct error err = ERROR_INIT;
	struct timing res;
	size_t at = 0;

	for (int r = 0; r < repeats; r++) {
		double start = now_ns(CLOCK_MONOTONIC), cstart = now_ns(CLOCK_PROCESS_CPUTIME_ID);

		for (size_t c = 0; c < calls; c++) {
			if (at + rows_per_call > n)
				at = 0;
			if (f(ctx, X + at * d, rows_per_call, out, &err))
				die("predicting", &err);
			at += rows_per_call;
		}
		wall[r] = (now_ns(CLOCK_MONOTONIC) - start) / (double)calls;
		cpu[r] = (now_ns(CLOCK_PROCESS_CPUTIME_ID) - cstart) / (double)calls;
	}
	res.wall = median(wall, repeats);
	res.cpu = median(cpu, repeats);
	free(wall);
	free(cpu);
	return res;
}

static void print_case(const char *name, struct timing capi, struct timing walk)
{
	printf("%-19s %10.2f us %10.2f us %7.1fx %10.2f us %10.2f us %7.1fx\n", name,
	       capi.wall / 1e3, walk.wall / 1e3, capi.wall / walk.wall, capi.cpu / 1e3,
	       walk.cpu / 1e3, capi.cpu / walk.cpu);
}

static int call_walker(const void *ctx, const double *X, size_t n, double *out, struct error *err)
{
	return xgb_walk_predict(ctx, X, n, out, err);
}

static int call_capi(const void *ctx, const double *X, size_t n, double *out, struct error *err)
{
	return xgb_predict(ctx, X, n, out, err);
}

int main(int argc, char **argv)
{
	struct model m;
	struct error err = ERROR_INIT;
	struct xgb_walk *w = NULL;
	struct xgb_walk_info info;
	size_t n = 0, d;
	struct timing walk1, capi1, walkb, capib;
	double *X, *out;
	int repeats = argc > 3 ? (int)strtol(argv[3], NULL, 10) : 7;

	if (argc < 3 || repeats < 1) {
		fprintf(stderr, "usage: xgb_walk_bench MODEL_DIR DATA.csv [REPEATS]\n");
		return 2;
	}
	model_init(&m);
	if (model_load(&m, argv[1], &err))
		die("loading the model", &err);
	if (m.kind != MODEL_XGBOOST) {
		fprintf(stderr, "xgb_walk_bench: '%s' is not an xgboost model\n", argv[1]);
		return 1;
	}
	X = encode(&m, argv[2], &n);
	d = m.pre.width;
	if (n < BATCH) {
		fprintf(stderr, "xgb_walk_bench: need at least %d rows, '%s' has %zu\n", BATCH,
			argv[2], n);
		return 1;
	}
	if (xgb_walk_load(&w, &m.xgb, &err))
		die("loading the walker", &err);
	xgb_walk_info(w, &info);
	if (xgb_walk_verify(w, &m.xgb, X, n, &err))
		die("verifying", &err);
	printf("model: %zu trees, %zu nodes, %zu features, %d rounds; %zu rows, identical "
	       "predictions on all of them\n",
	       info.n_trees, info.n_nodes, info.n_features, info.n_rounds, n);
	out = xmalloc(BATCH * (model_output_width(&m) + 1) * sizeof(*out));

	walk1 = time_calls(call_walker, w, X, n, d, 1, 20000, repeats, out);
	capi1 = time_calls(call_capi, &m.xgb, X, n, d, 1, 2000, repeats, out);
	walkb = time_calls(call_walker, w, X, n, d, BATCH, 50, repeats, out);
	capib = time_calls(call_capi, &m.xgb, X, n, d, BATCH, 20, repeats, out);

	printf("%-19s %13s %13s %8s %13s %13s %8s\n", "per call (median)", "C API wall",
	       "walker wall", "ratio", "C API CPU", "walker CPU", "ratio");
	print_case("1 row", capi1, walk1);
	print_case("1000 rows", capib, walkb);
	printf("rows/s in batches of 1000 (wall): C API %.0f, walker %.0f\n",
	       BATCH / capib.wall * 1e9, BATCH / walkb.wall * 1e9);

	free(out);
	free(X);
	xgb_walk_free(w);
	model_release(&m);
	return 0;
}
