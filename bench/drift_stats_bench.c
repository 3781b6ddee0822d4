/*
 * Times ferry's native drift statistics on two raw float64 files (reference and current, written
 * by bench/drift_stats.sh): the reference is sorted once beforehand, every timed run copies the
 * current window and sorts it, then computes KS (auto: asymp at this size), Wasserstein
 * (Evidently's normed score) or Jensen-Shannon on Sturges bins. CPU time per run
 * (CLOCK_PROCESS_CPUTIME_ID), median of the runs, and the values, one line per statistic:
 *   <name> <median seconds> <value> [<p-value>]
 * A benchmark, not a test. usage: drift_stats_bench REF.f64 CUR.f64 REPEATS
 */
#include "util/common.h"
#include "monitor/drift_stats.h"

#include <math.h>
#include <time.h>

static double cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double *read_f64(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	long size;
	double *x;

	if (!f || fseek(f, 0, SEEK_END) || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) {
		fprintf(stderr, "drift_stats_bench: cannot read %s\n", path);
		exit(1);
	}
	*n = (size_t)size / sizeof(double);
	x = xmalloc(*n * sizeof(double));
	if (fread(x, sizeof(double), *n, f) != *n) {
		fprintf(stderr, "drift_stats_bench: short read on %s\n", path);
		exit(1);
	}
	fclose(f);
	return x;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *t, int n)
{
	qsort(t, (size_t)n, sizeof(*t), cmp_double);
	return n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
}

enum bench_stat {
	STAT_SORT,
	STAT_KS,
	STAT_WASSERSTEIN,
	STAT_JS
};

/* One timed run: copy and sort the window, then the statistic. */
static double run(enum bench_stat s, const double *ref, size_t n1, const double *cur_raw,
		  double *cur, size_t n2, double *value, double *pvalue)
{
	double t0 = cpu_now();
	struct error err = ERROR_INIT;

	memcpy(cur, cur_raw, n2 * sizeof(double));
	drift_sort(cur, n2);
	if (s == STAT_KS) {
		struct ks_result r;

		if (drift_ks_2samp(ref, n1, cur, n2, KS_AUTO, &r, &err)) {
			fprintf(stderr, "drift_stats_bench: %s\n", err.msg);
			exit(1);
		}
		*value = r.statistic;
		*pvalue = r.pvalue;
	} else if (s == STAT_WASSERSTEIN) {
		*value = drift_wasserstein_norm(ref, n1, cur, n2);
	} else if (s == STAT_JS) {
		struct drift_bins b;
		double *rs, *cs;

		if (drift_bins_numeric(&b, ref, n1, cur, n2, &err)) {
			fprintf(stderr, "drift_stats_bench: %s\n", err.msg);
			exit(1);
		}
		rs = xmalloc(b.n * sizeof(double));
		cs = xmalloc(b.n * sizeof(double));
		drift_shares(rs, b.ref_counts, b.n, n1, false);
		drift_shares(cs, b.cur_counts, b.n, n2, false);
		*value = drift_jensenshannon(rs, cs, b.n);
		free(rs);
		free(cs);
		drift_bins_release(&b);
	}
	return cpu_now() - t0;
}

int main(int argc, char **argv)
{
	static const char *const names[] = { "sort", "ks", "wasserstein", "jensenshannon" };
	size_t n1, n2;
	double *ref, *cur_raw, *cur, *t;
	long repeats;

	if (argc != 4 || (repeats = strtol(argv[3], NULL, 10)) < 1) {
		fprintf(stderr, "usage: drift_stats_bench REF.f64 CUR.f64 REPEATS\n");
		return 2;
	}
	ref = read_f64(argv[1], &n1);
	cur_raw = read_f64(argv[2], &n2);
	cur = xmalloc(n2 * sizeof(double));
	t = xmalloc((size_t)repeats * sizeof(double));
	drift_sort(ref, n1); /* once, as a stored reference is */
	for (int s = STAT_SORT; s <= STAT_JS; s++) {
		double value = NAN, pvalue = NAN;

		for (long r = 0; r < repeats; r++)
			t[r] = run((enum bench_stat)s, ref, n1, cur_raw, cur, n2, &value, &pvalue);
		printf("%s %.6f %.17g %.17g\n", names[s], median(t, (int)repeats), value, pvalue);
	}
	free(t);
	free(cur);
	free(cur_raw);
	free(ref);
	return 0;
}
