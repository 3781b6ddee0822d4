/*
 * Seeded train/test splits: holdout and k-fold, stratified or not, with the per-class sizes that
 * scikit-learn 1.2.1 gives (train_test_split(stratify=y), StratifiedKFold, KFold). Which rows go
 * where comes from ferry's own PRNG, identical on every platform, not from numpy's.
 */
#ifndef FERRY_ML_SPLIT_H
#define FERRY_ML_SPLIT_H

#include <stddef.h>
#include <stdint.h>

struct error;

/*
 * xoshiro256** (Blackman and Vigna, 2018) seeded by running splitmix64 from the 64-bit seed, as
 * its authors recommend. Integer arithmetic only, so a seed gives the same stream everywhere.
 */
struct split_rng {
	uint64_t s[4];
};

void split_rng_seed(struct split_rng *rng, uint64_t seed);
uint64_t split_rng_next(struct split_rng *rng);
/* Uniform in [0, bound), without modulo bias (rejection sampling); 0 when bound <= 1. */
uint64_t split_rng_below(struct split_rng *rng, uint64_t bound);
/* Fisher-Yates shuffle of n indices, drawing j = split_rng_below(i + 1) for i = n-1 .. 1. */
void split_rng_shuffle(struct split_rng *rng, size_t *v, size_t n);

/* Row indices of one split, each list ascending. The struct owns both arrays. */
struct split_indices {
	size_t *train;
	size_t n_train;
	size_t *test;
	size_t n_test;
};

#define SPLIT_INDICES_INIT                                                                         \
	{                                                                                          \
		NULL, 0, NULL, 0                                                                   \
	}

/* Frees both arrays and reinitialises s; a no-op on NULL. */
void split_indices_release(struct split_indices *s);

/*
 * The sizes train_test_split gives for a float test_size in (0, 1): n_test = ceil(test_size * n)
 * in double arithmetic (so 0.28 * 25 = 7.000000000000001 gives 8) and n_train = n - n_test.
 * ERR_INVALID when test_size is outside (0, 1) or the train set would be empty.
 */
int split_holdout_sizes(size_t *n_train, size_t *n_test, size_t n, double test_size,
			struct error *err);

/*
 * Shuffled holdout (train_test_split without stratify): a random n_test rows form the test set.
 * *out is released and overwritten on success.
 */
int split_holdout(struct split_indices *out, size_t n, double test_size, uint64_t seed,
		  struct error *err);

/*
 * Stratified holdout (train_test_split(stratify=y), i.e. StratifiedShuffleSplit): classes are
 * the distinct values of y in ascending order; each class c with n_c rows gets n_train_c train
 * rows from sklearn's _approximate_mode(counts, n_train): floor(n_c / n * n_train), plus one
 * for the classes with the largest remainders until the sizes add up to n_train. Its other rows
 * are the test rows. Where remainders tie across that cut, sklearn picks at random and so do
 * we (with our PRNG), so such a class may get the extra row in one and not the other. Within a
 * class the test rows are a uniform random subset. ERR_INVALID, as in sklearn, when a class has
 * fewer than 2 rows or the train or test set would be smaller than the number of classes.
 */
int split_holdout_stratified(struct split_indices *out, const int *y, size_t n, double test_size,
			     uint64_t seed, struct error *err);

/*
 * Shuffled k-fold (KFold(shuffle=True)): fold_of[i] becomes the fold (0..k-1) whose test set
 * holds row i. The first n % k folds have n / k + 1 rows, the rest n / k. ERR_INVALID when
 * k < 2 or k > n.
 */
int split_kfold(int *fold_of, size_t n, size_t k, uint64_t seed, struct error *err);

/*
 * Stratified shuffled k-fold (StratifiedKFold(shuffle=True)) into fold_of (n entries). Per-class
 * fold sizes are sklearn 1.2.1's exactly: classes numbered in order of first appearance in y,
 * rows sorted by that number, and fold f takes sorted positions f, f + k, f + 2k, ...; the fold
 * labels of each class are then shuffled over its rows. ERR_INVALID when k < 2, k > n, or k
 * exceeds the size of every class (a class smaller than k just leaves some folds without it,
 * where sklearn warns).
 */
int split_kfold_stratified(int *fold_of, const int *y, size_t n, size_t k, uint64_t seed,
			   struct error *err);

/* The train (fold_of[i] != fold) and test (== fold) rows of one fold. *out as split_holdout. */
void split_fold_indices(struct split_indices *out, const int *fold_of, size_t n, int fold);

#endif
