/*
 * Unit tests for monitor/sketch: KLL ranks against exact ranks of the same seeded data (sorted
 * here) within the documented bound, merge of parts against the whole, determinism, the memory
 * bound; capped category counts; column summaries against two-pass statistics.
 */
#include "util/common.h"
#include "helpers.h"
#include "monitor/sketch.h"

#include <math.h>

static uint64_t rng_state;

static double uniform01(void)
{
	uint64_t z = rng_state;

	z ^= z << 13, z ^= z >> 7, z ^= z << 17;
	rng_state = z;
	return (double)(z >> 11) / 9007199254740992.0;
}

/* Seeded data with ties and a heavy tail: shapes that trip quantile sketches. */
static double *make_data(size_t n, uint64_t seed)
{
	double *x = xmalloc(n * sizeof(*x));

	rng_state = seed;
	for (size_t i = 0; i < n; i++) {
		double u = uniform01();

		switch (i % 3) {
		case 0:
			x[i] = floor(u * 50); /* ties */
			break;
		case 1:
			x[i] = -log(1 - u) * 100; /* exponential tail */
			break;
		default:
			x[i] = u * 10 - 5;
		}
	}
	return x;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Exact fraction of sorted[0..n) <= x. */
static double exact_cdf(const double *sorted, size_t n, double x)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (sorted[mid] <= x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (double)lo / (double)n;
}

/* Largest |sketch CDF - exact CDF| over every distinct data value. */
static double max_rank_error(const struct kll *s, const double *sorted, size_t n)
{
	double worst = 0;

	for (size_t i = 0; i < n; i++) {
		double e;

		if (i + 1 < n && sorted[i + 1] == sorted[i])
			continue;
		e = fabs(kll_cdf(s, sorted[i]) - exact_cdf(sorted, n, sorted[i]));
		if (e > worst)
			worst = e;
	}
	return worst;
}

static void test_exact_when_small(void **state)
{
	double xs[] = { 5, 1, 3, 3, 9, -2, 7 };
	struct kll *s = kll_new(200, 1);

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(xs); i++)
		kll_update(s, xs[i]);
	assert_true(kll_is_exact(s));
	assert_true(kll_rank_error(s) == 0);
	assert_int_equal(kll_n(s), 7);
	/* ranks counted by hand: values <= 3 are -2, 1, 3, 3 */
	assert_true(kll_cdf(s, 3) == 4.0 / 7);
	assert_true(kll_cdf(s, -3) == 0);
	assert_true(kll_cdf(s, 9) == 1);
	assert_true(kll_min(s) == -2 && kll_max(s) == 9);
	/* median of 7: the 4th smallest, 3 */
	assert_true(kll_quantile(s, 0.5) == 3);
	assert_true(kll_quantile(s, 0) == -2 && kll_quantile(s, 1) == 9);
	kll_free(s);
}

static void test_rank_error_bound(void **state)
{
	size_t n = 200000;
	unsigned ks[] = { 200, 64 };

	(void)state;
	/* DataSketches' published figure for k = 200: 1.65% */
	assert_true(fabs(kll_rank_error_k(200) - 0.0165) < 0.0005);
	for (size_t t = 0; t < ARRAY_SIZE(ks); t++) {
		for (uint64_t seed = 1; seed <= 3; seed++) {
			double *x = make_data(n, seed * 7919);
			struct kll *s = kll_new(ks[t], seed);
			double err;

			for (size_t i = 0; i < n; i++)
				kll_update(s, x[i]);
			qsort(x, n, sizeof(*x), cmp_d);
			assert_false(kll_is_exact(s));
			err = max_rank_error(s, x, n);
			assert_true(err <= kll_rank_error(s));
			/* and it is a sketch: far fewer items than values */
			assert_true(kll_retained(s) < 3 * ks[t] + 8 * 20);
			assert_true(kll_min(s) == x[0] && kll_max(s) == x[n - 1]);
			kll_free(s);
			free(x);
		}
	}
}

/* Ten sketches of consecutive parts merged: the same bound as one sketch of the whole. */
static void test_merge_parts(void **state)
{
	size_t n = 100000, parts = 10;
	double *x = make_data(n, 4242);
	struct kll *whole = kll_new(200, 9), *merged = kll_new(200, 9);
	double eps = kll_rank_error_k(200), worst = 0;

	(void)state;
	for (size_t p = 0; p < parts; p++) {
		struct kll *part = kll_new(200, 100 + p);

		for (size_t i = p * (n / parts); i < (p + 1) * (n / parts); i++) {
			kll_update(part, x[i]);
			kll_update(whole, x[i]);
		}
		kll_merge(merged, part);
		kll_free(part);
	}
	assert_int_equal(kll_n(merged), n);
	assert_int_equal(kll_n(whole), n);
	qsort(x, n, sizeof(*x), cmp_d);
	assert_true(max_rank_error(merged, x, n) <= eps);
	assert_true(max_rank_error(whole, x, n) <= eps);
	for (size_t i = 0; i < n; i += 97) {
		double d = fabs(kll_cdf(merged, x[i]) - kll_cdf(whole, x[i]));

		if (d > worst)
			worst = d;
	}
	assert_true(worst <= 2 * eps);
	assert_true(kll_min(merged) == x[0] && kll_max(merged) == x[n - 1]);
	kll_free(whole);
	kll_free(merged);
	free(x);
}

static void test_deterministic_and_reset(void **state)
{
	size_t n = 50000;
	double *x = make_data(n, 77);
	struct kll *a = kll_new(100, 5), *b = kll_new(100, 5);
	double *va, *vb;
	uint64_t *wa, *wb, sum = 0;
	size_t na, nb;

	(void)state;
	for (size_t i = 0; i < n; i++) {
		kll_update(a, x[i]);
		kll_update(b, x[i]);
	}
	na = kll_sorted(a, &va, &wa);
	nb = kll_sorted(b, &vb, &wb);
	assert_int_equal(na, nb);
	assert_memory_equal(va, vb, na * sizeof(*va));
	for (size_t i = 0; i < na; i++)
		sum += wa[i];
	assert_int_equal(sum, n);
	for (size_t i = 1; i < na; i++)
		assert_true(va[i - 1] <= va[i]);
	free(va), free(vb), free(wa), free(wb);
	kll_reset(a);
	assert_int_equal(kll_n(a), 0);
	assert_true(kll_is_exact(a));
	assert_true(isnan(kll_quantile(a, 0.5)));
	kll_update(a, 1);
	assert_true(kll_quantile(a, 0.5) == 1);
	kll_free(a);
	kll_free(b);
	free(x);
}

static void test_catcount(void **state)
{
	struct catcount *c = catcount_new(3), *d = catcount_new(3);
	uint64_t n;

	(void)state;
	catcount_add(c, "no", 2, 1);
	catcount_add(c, "yes", 3, 1);
	catcount_add(c, "no", 2, 1);
	catcount_add(c, "maybe", 5, 1);
	catcount_add(c, "other1", 6, 1); /* past the cap */
	catcount_add(c, "other2", 6, 2);
	catcount_add(c, "yes", 3, 1); /* known keys still count after the cap */
	assert_int_equal(catcount_size(c), 3);
	assert_int_equal(catcount_get(c, "no", 2), 2);
	assert_int_equal(catcount_get(c, "yes", 3), 2);
	assert_int_equal(catcount_get(c, "other1", 6), 0);
	assert_int_equal(catcount_other(c), 3);
	assert_int_equal(catcount_total(c), 8);
	assert_string_equal(catcount_key(c, 0, &n), "no");
	assert_int_equal(n, 2);
	catcount_add(d, "yes", 3, 5);
	catcount_add(d, "zz", 2, 1);
	catcount_merge(d, c);
	/* d kept yes, zz, then no from c; maybe went to other with c's other */
	assert_int_equal(catcount_get(d, "yes", 3), 7);
	assert_int_equal(catcount_get(d, "no", 2), 2);
	assert_int_equal(catcount_other(d), 1 + 3);
	assert_int_equal(catcount_total(d), 6 + 8);
	catcount_reset(c);
	assert_int_equal(catcount_total(c), 0);
	assert_int_equal(catcount_get(c, "no", 2), 0);
	catcount_free(c);
	catcount_free(d);
}

static void test_colsketch(void **state)
{
	struct colsketch_options o = { false, 200, 0, 3 };
	struct colsketch a, b, whole;
	size_t n = 5000;
	double *x = make_data(n, 99), mean = 0, var = 0;

	(void)state;
	colsketch_init(&a, &o);
	colsketch_init(&b, &o);
	colsketch_init(&whole, &o);
	for (size_t i = 0; i < n; i++) {
		colsketch_add_number(i < n / 3 ? &a : &b, x[i]);
		colsketch_add_number(&whole, x[i]);
		mean += x[i];
	}
	colsketch_add_number(&a, NAN);
	colsketch_add_missing(&b);
	mean /= (double)n;
	for (size_t i = 0; i < n; i++)
		var += (x[i] - mean) * (x[i] - mean);
	var /= (double)n;
	colsketch_merge(&a, &b);
	assert_int_equal(a.count, n);
	assert_int_equal(a.missing, 2);
	assert_true(fabs(a.mean - mean) <= 1e-9 * fabs(mean));
	assert_true(fabs(colsketch_variance(&a) - var) <= 1e-9 * var);
	assert_true(fabs(colsketch_variance(&whole) - var) <= 1e-9 * var);
	assert_true(a.distinct_overflow);
	colsketch_reset(&b);
	for (int i = 0; i < 10; i++)
		colsketch_add_number(&b, i % 3);
	assert_false(b.distinct_overflow);
	assert_int_equal(b.ndistinct, 3);
	assert_int_equal(b.distinct_count[0] + b.distinct_count[1] + b.distinct_count[2], 10);
	colsketch_release(&a);
	colsketch_release(&b);
	colsketch_release(&whole);
	free(x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exact_when_small),
		cmocka_unit_test(test_rank_error_bound),
		cmocka_unit_test(test_merge_parts),
		cmocka_unit_test(test_deterministic_and_reset),
		cmocka_unit_test(test_catcount),
		cmocka_unit_test(test_colsketch),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
