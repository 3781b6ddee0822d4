/*
 * The live monitor's sketches on their own (monitor/sketch.h): ns per value for a KLL update,
 * a numeric column summary (KLL + mean/M2 + distinct tracking) and a categorical one, and the
 * cost of merging a window of ten blocks, on seeded data. A benchmark, not a test: nothing
 * asserts on time. Built and run by bench/serve_monitor.sh.
 *
 * usage: sketch_bench [MILLIONS_OF_VALUES]   (default 4)
 */
#include "util/common.h"
#include "monitor/sketch.h"

#include <math.h>
#include <time.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t rng = 0x2545f4914f6cdd1dULL;

static double uniform01(void)
{
	rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
	return (double)(rng >> 11) / 9007199254740992.0;
}

int main(int argc, char **argv)
{
	size_t n = (size_t)((argc > 1 ? strtod(argv[1], NULL) : 4) * 1e6);
	double *x = xmalloc(n * sizeof(*x)), t, sink = 0;
	static const char *const states[] = { "KS", "OH", "NJ", "OK", "AL", "MA", "MO", "LA",
					      "WV", "IN", "RI", "IA", "MT", "NY", "ID", "VT" };
	struct colsketch_options num = { false, KLL_DEFAULT_K, 0, 1 };
	struct colsketch_options cat = { true, 0, 256, 2 };
	struct colsketch cs, cc, merged;
	struct kll *s = kll_new(KLL_DEFAULT_K, 1), *blocks[10], *w;

	for (size_t i = 0; i < n; i++)
		x[i] = -log(1 - uniform01()) * 100;

	t = now();
	for (size_t i = 0; i < n; i++)
		kll_update(s, x[i]);
	t = now() - t;
	printf("kll_update (k=%d)                 %6.1f ns/value  (%zu values, %zu items kept)\n",
	       KLL_DEFAULT_K, t / (double)n * 1e9, n, kll_retained(s));

	colsketch_init(&cs, &num);
	t = now();
	for (size_t i = 0; i < n; i++)
		colsketch_add_number(&cs, x[i]);
	t = now() - t;
	printf("colsketch_add_number                %6.1f ns/value\n", t / (double)n * 1e9);

	colsketch_init(&cc, &cat);
	t = now();
	for (size_t i = 0; i < n; i++) {
		const char *k = states[i & 15];

		colsketch_add_key(&cc, k, 2);
	}
	t = now() - t;
	printf("colsketch_add_key (16 keys)         %6.1f ns/value\n", t / (double)n * 1e9);

	/* a scrape: ten blocks of 500 values merged, as live_report does per column */
	for (int b = 0; b < 10; b++) {
		blocks[b] = kll_new(KLL_DEFAULT_K, 10 + (uint64_t)b);
		for (size_t i = 0; i < 500; i++)
			kll_update(blocks[b], x[(size_t)b * 500 + i]);
	}
	t = now();
	for (int rep = 0; rep < 1000; rep++) {
		w = kll_new(KLL_DEFAULT_K, 99);
		for (int b = 0; b < 10; b++)
			kll_merge(w, blocks[b]);
		sink += kll_quantile(w, 0.5);
		kll_free(w);
	}
	t = now() - t;
	printf("merge of 10 blocks x 500 + median   %6.1f us/column/scrape\n", t / 1000 * 1e6);
	colsketch_init(&merged, &num);
	colsketch_merge(&merged, &cs);
	printf("(checksum %g %g)\n", sink, merged.mean);
	for (int b = 0; b < 10; b++)
		kll_free(blocks[b]);
	colsketch_release(&cs);
	colsketch_release(&cc);
	colsketch_release(&merged);
	kll_free(s);
	free(x);
	return 0;
}
