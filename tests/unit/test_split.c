/*
 * Unit tests for ml/split: the PRNG against published reference outputs, per-class split sizes
 * worked out by hand from scikit-learn 1.2.1's algorithms and checked against sklearn's own
 * (tests/data/reference/sklearn_supplement.json), and the properties every split must have.
 */
#include "util/common.h"
#include "helpers.h"
#include "ml/split.h"
#include "util/json.h"

#include <math.h>

static void test_rng_reference(void **state)
{
	/* splitmix64 from state 0: its published first outputs, which become our state */
	static const uint64_t sm0[] = { 0xe220a8397b1dcdafULL, 0x6e789e6aa1b965f4ULL,
					0x06c45d188009454fULL, 0xf88bb8a8724c81ecULL };
	/* xoshiro256** from state {1, 2, 3, 4}: outputs of Vigna's reference implementation */
	static const uint64_t ref[] = { 11520ULL,
					0ULL,
					1509978240ULL,
					1215971899390074240ULL,
					1216172134540287360ULL,
					607988272756665600ULL,
					16172922978634559625ULL,
					8476171486693032832ULL,
					10595114339597558777ULL,
					2904607092377533576ULL };
	struct split_rng rng;

	(void)state;
	split_rng_seed(&rng, 0);
	for (size_t i = 0; i < 4; i++)
		assert_true(rng.s[i] == sm0[i]);
	for (size_t i = 0; i < 4; i++)
		rng.s[i] = i + 1;
	for (size_t i = 0; i < ARRAY_SIZE(ref); i++)
		assert_true(split_rng_next(&rng) == ref[i]);
}

static void test_rng_below(void **state)
{
	struct split_rng rng;
	size_t hits[7] = { 0 };
	size_t v[10];

	(void)state;
	split_rng_seed(&rng, 99);
	for (int i = 0; i < 70000; i++)
		hits[split_rng_below(&rng, 7)]++;
	/* 10000 expected each; 5 standard deviations is about 450 */
	for (size_t i = 0; i < 7; i++)
		assert_in_range(hits[i], 9500, 10500);
	assert_true(split_rng_below(&rng, 1) == 0);
	for (size_t i = 0; i < 10; i++)
		v[i] = i;
	split_rng_shuffle(&rng, v, 10);
	for (size_t i = 0; i < 10; i++) {
		size_t seen = 0;

		for (size_t j = 0; j < 10; j++)
			seen += v[j] == i;
		assert_int_equal(seen, 1);
	}
}

/* y with counts[c] rows of labels[c], interleaved round-robin so no class is contiguous. */
static int *make_y(const int *labels, const size_t *counts, size_t k, size_t *n)
{
	size_t total = 0, left[8];
	int *y;

	assert_true(k <= 8);
	for (size_t c = 0; c < k; c++) {
		left[c] = counts[c];
		total += counts[c];
	}
	y = xmalloc(total * sizeof(*y));
	*n = 0;
	while (*n < total) {
		for (size_t c = 0; c < k; c++) {
			if (left[c]) {
				y[(*n)++] = labels[c];
				left[c]--;
			}
		}
	}
	return y;
}

/* Checks that s is a partition of 0..n-1 into ascending train and test lists. */
static void check_partition(const struct split_indices *s, size_t n)
{
	unsigned char *seen = xcalloc(n, 1);

	assert_int_equal(s->n_train + s->n_test, n);
	for (size_t i = 0; i < s->n_train; i++) {
		assert_true(s->train[i] < n);
		assert_true(i == 0 || s->train[i - 1] < s->train[i]);
		seen[s->train[i]]++;
	}
	for (size_t i = 0; i < s->n_test; i++) {
		assert_true(s->test[i] < n);
		assert_true(i == 0 || s->test[i - 1] < s->test[i]);
		seen[s->test[i]]++;
	}
	for (size_t i = 0; i < n; i++)
		assert_int_equal(seen[i], 1);
	free(seen);
}

static void test_counts(const struct split_indices *s, const int *y, const int *labels, size_t k,
			size_t *out)
{
	for (size_t c = 0; c < k; c++) {
		out[c] = 0;
		for (size_t i = 0; i < s->n_test; i++)
			out[c] += y[s->test[i]] == labels[c];
	}
}

/*
 * Hand derivations from sklearn 1.2.1: train_test_split(stratify=y) makes n_test =
 * ceil(test_size * n), n_train = n - n_test, then StratifiedShuffleSplit gives class c
 * n_train_c = _approximate_mode(counts, n_train): floor(count_c / n * n_train) in doubles, plus
 * one for the largest remainders until the sum is n_train. The test rows of class c are the
 * other count_c - n_train_c (the second _approximate_mode over the remaining rows is exact,
 * since what remains adds up to n_test).
 */
static const struct holdout_case {
	int labels[3];
	size_t counts[3];
	size_t k;
	double test_size;
	size_t test[3]; /* expected test rows per class */
} holdout_cases[] = {
	/* n 10, n_test ceil(2.5) = 3, n_train 7: 6/10*7 = 4.2, 4/10*7 = 2.8 -> floors 4 + 2 = 6,
	 * the one left goes to remainder .8 (class 1): train 4, 3 -> test 2, 1 */
	{ { 0, 1 }, { 6, 4 }, 2, 0.25, { 2, 1 } },
	/* n 25: 0.28 * 25 is 7.000000000000001 in doubles, so n_test = 8 and n_train 17:
	 * 15/25*17 = 10.2, 10/25*17 = 6.8 -> 10 + 6, extra to class 1: train 10, 7 -> test 5, 3 */
	{ { 0, 1 }, { 15, 10 }, 2, 0.28, { 5, 3 } },
	/* n 15, n_test ceil(3.0) = 3, n_train 12: 7/15*12 = 5.6000000000000005, 5/15*12 = 4.0
	 * (exactly, after rounding), 3/15*12 = 2.4000000000000004 -> 5 + 4 + 2 = 11, the extra to
	 * remainder .6 (class 0): train 6, 4, 2 -> test 1, 1, 1 */
	{ { 0, 1, 2 }, { 7, 5, 3 }, 3, 0.2, { 1, 1, 1 } },
	/* labels -1, 3, 7 with 90, 8, 2 rows: n_test 20, n_train 80: 72, 6.4, 1.6 -> 72 + 6 + 1,
	 * the extra to remainder .6 (label 7): train 72, 6, 2 -> test 18, 2, 0 (no test row of
	 * label 7, as in sklearn) */
	{ { -1, 3, 7 }, { 90, 8, 2 }, 3, 0.2, { 18, 2, 0 } },
};

static const json_t *sklearn_holdout(const json_t *sup, size_t i)
{
	const json_t *arr = json_object_get(json_object_get(sup, "split"), "holdout_stratified");

	assert_non_null(json_array_get(arr, i));
	return json_array_get(arr, i);
}

static json_t *load_supplement(void)
{
	char *path = test_data_path("reference/sklearn_supplement.json");
	struct error err = ERROR_INIT;
	json_t *j = NULL;

	if (json_load_path(&j, path, 16u << 20, &err))
		fail_msg("%s", err.msg);
	free(path);
	return j;
}

static void test_holdout_stratified_sizes(void **state)
{
	json_t *sup = load_supplement();
	struct error err = ERROR_INIT;

	(void)state;
	for (size_t h = 0; h < ARRAY_SIZE(holdout_cases); h++) {
		const struct holdout_case *hc = &holdout_cases[h];
		const json_t *seen = json_object_get(sklearn_holdout(sup, h), "test_counts_seen");
		size_t n, got[3];
		int *y = make_y(hc->labels, hc->counts, hc->k, &n);

		/* sklearn made these exact counts for every seed */
		assert_int_equal(json_array_size(seen), 1);
		for (size_t c = 0; c < hc->k; c++)
			assert_int_equal(
			    json_integer_value(json_array_get(json_array_get(seen, 0), c)),
			    hc->test[c]);
		for (uint64_t seed = 1; seed <= 5; seed++) {
			struct split_indices s = SPLIT_INDICES_INIT;

			assert_int_equal(
			    split_holdout_stratified(&s, y, n, hc->test_size, seed, &err), 0);
			check_partition(&s, n);
			test_counts(&s, y, hc->labels, hc->k, got);
			for (size_t c = 0; c < hc->k; c++)
				assert_int_equal(got[c], hc->test[c]);
			split_indices_release(&s);
		}
		free(y);
	}
	json_decref(sup);
}

static void test_holdout_stratified_tie(void **state)
{
	/*
	 * Three classes of 3: n_test ceil(4.5) = 5, n_train 4; each class gets 3/9*4 = 1.33 ->
	 * floor 1, and the one train row left over goes to one of three equal remainders, chosen
	 * at random by sklearn and by us: test counts are a permutation of 2, 2, 1.
	 */
	static const int labels[] = { 0, 1, 2 };
	static const size_t counts[] = { 3, 3, 3 };
	json_t *sup = load_supplement();
	const json_t *seen = json_object_get(sklearn_holdout(sup, 4), "test_counts_seen");
	struct error err = ERROR_INIT;
	size_t n, got[3], ones_at[3] = { 0 };
	int *y = make_y(labels, counts, 3, &n);

	(void)state;
	assert_int_equal(json_array_size(seen), 3); /* sklearn: all three orders occur */
	for (uint64_t seed = 0; seed < 60; seed++) {
		struct split_indices s = SPLIT_INDICES_INIT;
		size_t ones = 0;

		assert_int_equal(split_holdout_stratified(&s, y, n, 0.5, seed, &err), 0);
		check_partition(&s, n);
		assert_int_equal(s.n_test, 5);
		test_counts(&s, y, labels, 3, got);
		for (size_t c = 0; c < 3; c++) {
			assert_true(got[c] == 1 || got[c] == 2);
			if (got[c] == 1) {
				ones++;
				ones_at[c]++;
			}
		}
		assert_int_equal(ones, 1);
		split_indices_release(&s);
	}
	for (size_t c = 0; c < 3; c++)
		assert_true(ones_at[c] >
			    0); /* the tie is broken at random, not always the same way */
	free(y);
	json_decref(sup);
}

static int same_split(const struct split_indices *a, const struct split_indices *b)
{
	return a->n_test == b->n_test && !memcmp(a->test, b->test, a->n_test * sizeof(*a->test));
}

static void test_holdout_determinism(void **state)
{
	static const int labels[] = { -1, 3, 7 };
	static const size_t counts[] = { 90, 8, 2 };
	struct split_indices a = SPLIT_INDICES_INIT, b = SPLIT_INDICES_INIT;
	struct split_indices c = SPLIT_INDICES_INIT;
	struct error err = ERROR_INIT;
	size_t n;
	int *y = make_y(labels, counts, 3, &n);

	(void)state;
	assert_int_equal(split_holdout_stratified(&a, y, n, 0.2, 42, &err), 0);
	assert_int_equal(split_holdout_stratified(&b, y, n, 0.2, 42, &err), 0);
	assert_int_equal(split_holdout_stratified(&c, y, n, 0.2, 43, &err), 0);
	assert_true(same_split(&a, &b));
	assert_false(same_split(&a, &c));
	/* plain holdout: n_test = ceil(0.25 * 10) = 3 */
	assert_int_equal(split_holdout(&a, 10, 0.25, 42, &err), 0);
	assert_int_equal(split_holdout(&b, 10, 0.25, 42, &err), 0);
	check_partition(&a, 10);
	assert_int_equal(a.n_test, 3);
	assert_true(same_split(&a, &b));
	assert_int_equal(split_holdout(&c, 100, 0.25, 1, &err), 0);
	assert_int_equal(split_holdout(&b, 100, 0.25, 2, &err), 0);
	assert_int_equal(c.n_test, 25);
	assert_false(same_split(&b, &c));
	split_indices_release(&a);
	split_indices_release(&b);
	split_indices_release(&c);
	split_indices_release(NULL);
	free(y);
}

static void expect_invalid(int ret, const struct error *err, const char *msg)
{
	assert_int_equal(ret, ERR_INVALID);
	if (!strstr(err->msg, msg))
		fail_msg("message '%s' lacks '%s'", err->msg, msg);
}

static void test_holdout_errors(void **state)
{
	static const int y1[] = { 0, 0, 0, 1, 1 }, y2[] = { 0, 0, 1, 1, 1, 2 };
	static const int y3[] = { 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2 };
	static const int y4[] = { 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 2 };
	struct split_indices s = SPLIT_INDICES_INIT;
	struct error err = ERROR_INIT;
	size_t tr = 0, te = 0;

	(void)state;
	assert_int_equal(split_holdout_sizes(&tr, &te, 25, 0.28, &err), 0);
	assert_true(tr == 17 && te == 8);
	expect_invalid(split_holdout_sizes(&tr, &te, 10, 0.0, &err), &err,
		       "test size must be between 0 and 1, got 0");
	expect_invalid(split_holdout_sizes(&tr, &te, 10, 1.0, &err), &err, "got 1");
	expect_invalid(split_holdout_sizes(&tr, &te, 10, NAN, &err), &err, "got nan");
	/* ceil(0.9 * 3) = 3 test rows out of 3 */
	expect_invalid(split_holdout(&s, 3, 0.9, 1, &err), &err,
		       "with 3 rows and test size 0.9 the train set would be empty");
	expect_invalid(split_holdout_stratified(&s, y2, 6, 0.5, 1, &err), &err,
		       "class 2 has only 1 row");
	/* ceil(0.1 * 15) = 2 test rows for 3 classes */
	expect_invalid(split_holdout_stratified(&s, y3, 15, 0.1, 1, &err), &err,
		       "the test set (2 rows) would be smaller than the number of classes (3)");
	/* ceil(0.8 * 12) = 10 test rows leave 2 train rows for 3 classes */
	expect_invalid(split_holdout_stratified(&s, y4, 12, 0.8, 1, &err), &err,
		       "the train set (2 rows)");
	assert_null(s.train);
	assert_int_equal(split_holdout_stratified(&s, y1, 5, 0.4, 1, &err), 0);
	split_indices_release(&s);
}

/* fold_class[f * k + c]: rows of class labels[c] in fold f. */
static void fold_class_counts(size_t *out, const int *fold_of, const int *y, size_t n, size_t folds,
			      const int *labels, size_t k)
{
	memset(out, 0, folds * k * sizeof(*out));
	for (size_t i = 0; i < n; i++) {
		assert_true(fold_of[i] >= 0 && (size_t)fold_of[i] < folds);
		for (size_t c = 0; c < k; c++) {
			if (y[i] == labels[c])
				out[(size_t)fold_of[i] * k + c]++;
		}
	}
}

/*
 * Hand derivations from sklearn 1.2.1's StratifiedKFold._make_test_folds: classes are numbered
 * in order of first appearance in y, the numbers sorted, and fold f takes sorted positions
 * f, f + k, f + 2k, ...; a class's share of each fold is how many of its positions fall there.
 */
static const struct kfold_case {
	int y[20];
	size_t n, k;
	int labels[3]; /* ascending, as in the supplement */
	size_t nl;
	size_t expect[5][3]; /* [fold][label] */
} kfold_cases[] = {
	/* label 5 appears first, so it is class 0 (positions 0-4) and label 2 (7 rows) class 1
	 * (positions 5-11). k 3: fold 0 = 0,3,6,9 -> 5,5,2,2; fold 1 = 1,4,7,10 -> 5,5,2,2;
	 * fold 2 = 2,5,8,11 -> 5,2,2,2. Per fold (label 2, label 5): (2,2), (2,2), (3,1).
	 * Numbering by value (label 2 first) would give (3,1), (2,2), (2,2) instead. */
	{ { 5, 2, 5, 2, 5, 2, 5, 2, 5, 2, 2, 2 },
	  12,
	  3,
	  { 2, 5 },
	  2,
	  { { 2, 2 }, { 2, 2 }, { 3, 1 } } },
	/* 10, 6, 3 rows; k 5: class 0 holds positions 0-9 -> 2 per fold; class 1 positions 10-15
	 * -> folds 0,1,2,3,4,0; class 2 positions 16-18 -> folds 1,2,3 */
	{ { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 2, 2, 2 },
	  19,
	  5,
	  { 0, 1, 2 },
	  3,
	  { { 2, 2, 0 }, { 2, 1, 1 }, { 2, 1, 1 }, { 2, 1, 1 }, { 2, 1, 0 } } },
	/* 8 and 2 rows, k 4: class 0 positions 0-7 -> 2 per fold; class 1 positions 8, 9 -> folds
	 * 0, 1 (sklearn only warns that class 1 has fewer rows than folds) */
	{ { 0, 0, 0, 0, 0, 0, 0, 0, 1, 1 },
	  10,
	  4,
	  { 0, 1 },
	  2,
	  { { 2, 1 }, { 2, 1 }, { 2, 0 }, { 2, 0 } } },
};

static void test_kfold_stratified_sizes(void **state)
{
	json_t *sup = load_supplement();
	const json_t *arr = json_object_get(json_object_get(sup, "split"), "kfold_stratified");
	struct error err = ERROR_INIT;

	(void)state;
	for (size_t t = 0; t < ARRAY_SIZE(kfold_cases); t++) {
		const struct kfold_case *kc = &kfold_cases[t];
		const json_t *sk = json_object_get(json_array_get(arr, t), "fold_class_counts");
		int fold_of[20];
		size_t got[5 * 3];

		assert_int_equal(json_array_size(sk), kc->k);
		for (size_t f = 0; f < kc->k; f++) {
			for (size_t c = 0; c < kc->nl; c++)
				assert_int_equal(
				    json_integer_value(json_array_get(json_array_get(sk, f), c)),
				    kc->expect[f][c]);
		}
		for (uint64_t seed = 0; seed < 5; seed++) {
			assert_int_equal(
			    split_kfold_stratified(fold_of, kc->y, kc->n, kc->k, seed, &err), 0);
			fold_class_counts(got, fold_of, kc->y, kc->n, kc->k, kc->labels, kc->nl);
			for (size_t f = 0; f < kc->k; f++) {
				for (size_t c = 0; c < kc->nl; c++)
					assert_int_equal(got[f * kc->nl + c], kc->expect[f][c]);
			}
		}
	}
	json_decref(sup);
}

static void test_kfold_sizes(void **state)
{
	/* KFold: the first n % k folds get n / k + 1 rows: 10/3 -> 4,3,3; 23/5 -> 5,5,5,4,4 */
	static const struct {
		size_t n, k, sizes[7];
	} cases[] = { { 10, 3, { 4, 3, 3 } },
		      { 7, 7, { 1, 1, 1, 1, 1, 1, 1 } },
		      { 23, 5, { 5, 5, 5, 4, 4 } } };
	json_t *sup = load_supplement();
	const json_t *arr = json_object_get(json_object_get(sup, "split"), "kfold");
	struct error err = ERROR_INIT;

	(void)state;
	for (size_t t = 0; t < ARRAY_SIZE(cases); t++) {
		const json_t *sk = json_object_get(json_array_get(arr, t), "fold_sizes");
		int fold_of[23];

		assert_int_equal(split_kfold(fold_of, cases[t].n, cases[t].k, 7, &err), 0);
		for (size_t f = 0; f < cases[t].k; f++) {
			struct split_indices s = SPLIT_INDICES_INIT;

			assert_int_equal(json_integer_value(json_array_get(sk, f)),
					 cases[t].sizes[f]);
			split_fold_indices(&s, fold_of, cases[t].n, (int)f);
			check_partition(&s, cases[t].n);
			assert_int_equal(s.n_test, cases[t].sizes[f]);
			split_indices_release(&s);
		}
	}
	json_decref(sup);
}

static void test_kfold_properties(void **state)
{
	static const int labels[] = { 0, 1, 2 };
	static const size_t counts[] = { 120, 50, 30 };
	struct error err = ERROR_INIT;
	size_t n, covered = 0;
	int *y = make_y(labels, counts, 3, &n);
	int *a = xmalloc(n * sizeof(*a)), *b = xmalloc(n * sizeof(*b));
	int *c = xmalloc(n * sizeof(*c));

	(void)state;
	assert_int_equal(split_kfold_stratified(a, y, n, 5, 42, &err), 0);
	assert_int_equal(split_kfold_stratified(b, y, n, 5, 42, &err), 0);
	assert_int_equal(split_kfold_stratified(c, y, n, 5, 43, &err), 0);
	assert_memory_equal(a, b, n * sizeof(*a));
	assert_memory_not_equal(a, c, n * sizeof(*a));
	/* the folds' test sets are disjoint (one fold per row) and cover every row */
	for (int f = 0; f < 5; f++) {
		struct split_indices s = SPLIT_INDICES_INIT;

		split_fold_indices(&s, a, n, f);
		check_partition(&s, n);
		assert_int_equal(s.n_test, 40); /* 24 + 10 + 6 per fold */
		covered += s.n_test;
		split_indices_release(&s);
	}
	assert_int_equal(covered, n);
	assert_int_equal(split_kfold(a, n, 5, 42, &err), 0);
	assert_int_equal(split_kfold(b, n, 5, 42, &err), 0);
	assert_int_equal(split_kfold(c, n, 5, 41, &err), 0);
	assert_memory_equal(a, b, n * sizeof(*a));
	assert_memory_not_equal(a, c, n * sizeof(*a));
	free(y);
	free(a);
	free(b);
	free(c);
}

static void test_kfold_errors(void **state)
{
	static const int y[] = { 0, 0, 0, 1, 1, 1 };
	struct error err = ERROR_INIT;
	int fold_of[6];

	(void)state;
	expect_invalid(split_kfold(fold_of, 6, 1, 1, &err), &err, "need at least 2 folds, got 1");
	expect_invalid(split_kfold(fold_of, 6, 7, 1, &err), &err,
		       "cannot make 7 folds out of 6 rows");
	expect_invalid(split_kfold_stratified(fold_of, y, 6, 4, 1, &err), &err,
		       "cannot make 4 folds: no class has that many rows (largest: 3)");
	assert_int_equal(split_kfold_stratified(fold_of, y, 6, 3, 1, &err), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rng_reference),
		cmocka_unit_test(test_rng_below),
		cmocka_unit_test(test_holdout_stratified_sizes),
		cmocka_unit_test(test_holdout_stratified_tie),
		cmocka_unit_test(test_holdout_determinism),
		cmocka_unit_test(test_holdout_errors),
		cmocka_unit_test(test_kfold_stratified_sizes),
		cmocka_unit_test(test_kfold_sizes),
		cmocka_unit_test(test_kfold_properties),
		cmocka_unit_test(test_kfold_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
