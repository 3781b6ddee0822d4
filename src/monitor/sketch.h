/*
 * Streaming column sketches for live monitoring: a KLL quantile sketch of doubles, exact
 * category counts with a cap, and a column summary (count, missing, mean, min, max) built on
 * them. Every structure has a fixed memory bound set at creation and merges with another of the
 * same parameters, so sketches of time blocks, threads or processes combine.
 *
 * KLL (Karnin, Lang, Liberty 2016, "Optimal quantile approximation in streams"), laid out as
 * Apache DataSketches' KllDoublesSketch: levels of items, an item at level h standing for 2^h
 * values; level h holds at most max(8, ceil(k (2/3)^(H-1-h))) items (H levels); a full level is
 * sorted and halved (every other item, from a random offset, moves up one level). The coin flips
 * come from a xorshift generator seeded at creation: the same values in the same order give the
 * same sketch. Rank error: with k = 200 the normalised rank error of any rank or CDF query is
 * below kll_rank_error() = 2.446 / k^0.9433 (1.65% at k = 200) with 99% confidence, the bound
 * DataSketches measured for this layout ("getNormalizedRankError(k, true)"); while no item was
 * ever compacted (n fits in the sketch) answers are exact and the error is 0. A merged sketch
 * has the error of one sketch of the same k over all the values.
 *
 * Memory: a KLL of parameter k holds at most ~3k + 8 log2(n / k) items (6.4 KiB at k = 200 for a
 * million values); catcount holds at most cap keys of at most CATCOUNT_KEY_MAX bytes.
 *
 * Threads: none of these lock; the owner serialises access (live.c holds a mutex).
 * Ownership: *_new returns the caller's object, freed with *_free (NULL is fine).
 */
#ifndef FERRY_MONITOR_SKETCH_H
#define FERRY_MONITOR_SKETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- KLL quantile sketch --------------------------------------------------------------- */

#define KLL_DEFAULT_K 200
#define KLL_MIN_K 8
#define KLL_MAX_K 65535

struct kll;

/* k in [KLL_MIN_K, KLL_MAX_K] (other values are a BUG); seed: the coin flips' seed. */
struct kll *kll_new(unsigned k, uint64_t seed);
void kll_free(struct kll *s);
/* Empties s (keeps its memory and k; the generator restarts from the seed). */
void kll_reset(struct kll *s);

/* Adds one value; non-finite values are a BUG (callers count them as missing). */
void kll_update(struct kll *s, double v);
/* Adds every value of src to dst (same k, else BUG); src is unchanged. */
void kll_merge(struct kll *dst, const struct kll *src);

unsigned kll_k(const struct kll *s);
uint64_t kll_n(const struct kll *s);
/* Items kept (each standing for a power-of-two number of values). */
size_t kll_retained(const struct kll *s);
/* True while no value was compacted away: every query is exact. */
bool kll_is_exact(const struct kll *s);
/* Smallest and largest value seen (exact); NaN when empty. */
double kll_min(const struct kll *s);
double kll_max(const struct kll *s);

/* The normalised rank error bound (99% confidence) of s's answers: 0 when exact. */
double kll_rank_error(const struct kll *s);
/* The same bound for parameter k once compaction happened. */
double kll_rank_error_k(unsigned k);

/* Estimated fraction of values <= x (0 when empty). */
double kll_cdf(const struct kll *s, double x);
/*
 * Estimated q-quantile, q in [0, 1]: the smallest retained item whose cumulative weight reaches
 * q n (q = 0: the minimum, q = 1: the maximum); NaN when empty.
 */
double kll_quantile(const struct kll *s, double q);

/*
 * The sketch as a weighted sample: its retained items ascending in values, weights[i] the
 * values each stands for (summing to kll_n). Both arrays hold kll_retained(s) entries, are new
 * and the caller's (free); returns the count (0: both NULL).
 */
size_t kll_sorted(const struct kll *s, double **values, uint64_t **weights);

/* ---- category counts -------------------------------------------------------------------- */

/* Longer keys are counted under their first CATCOUNT_KEY_MAX bytes. */
#define CATCOUNT_KEY_MAX 128

struct catcount;

/* Counts up to cap distinct keys exactly; values of further keys go to the "other" count. */
struct catcount *catcount_new(size_t cap);
void catcount_free(struct catcount *c);
void catcount_reset(struct catcount *c);
void catcount_add(struct catcount *c, const char *key, size_t len, uint64_t n);
/* Adds src's counts (src's "other" to dst's "other"; keys past dst's cap too). */
void catcount_merge(struct catcount *dst, const struct catcount *src);
/* Distinct keys kept, and the key / count of the i-th in first-seen order (key borrowed). */
size_t catcount_size(const struct catcount *c);
const char *catcount_key(const struct catcount *c, size_t i, uint64_t *count);
/* Count of key (0 if absent), values counted as "other", and every value added. */
uint64_t catcount_get(const struct catcount *c, const char *key, size_t len);
uint64_t catcount_other(const struct catcount *c);
uint64_t catcount_total(const struct catcount *c);

/* ---- a column's summary ----------------------------------------------------------------- */

/* Numeric columns track up to this many distinct values exactly (for low-cardinality tests). */
#define COLSKETCH_DISTINCT_MAX 32

struct colsketch_options {
	bool categorical; /* string keys (catcount) instead of numbers (KLL) */
	unsigned k;	  /* KLL parameter; 0: KLL_DEFAULT_K */
	size_t cap;	  /* categories kept; 0: 256 */
	uint64_t seed;
};

struct colsketch {
	bool categorical;
	uint64_t count, missing; /* values seen and missing / non-finite ones */
	double mean, m2; /* numeric: Welford's running mean and sum of squares (Chan merge) */
	struct kll *kll; /* numeric */
	/* numeric: distinct values while there are at most COLSKETCH_DISTINCT_MAX, else overflow */
	double distinct[COLSKETCH_DISTINCT_MAX];
	uint64_t distinct_count[COLSKETCH_DISTINCT_MAX];
	size_t ndistinct;
	bool distinct_overflow;
	struct catcount *cats; /* categorical */
};

void colsketch_init(struct colsketch *c, const struct colsketch_options *o);
void colsketch_release(struct colsketch *c);
void colsketch_reset(struct colsketch *c);
/* A numeric value (NaN / inf count as missing) and a categorical one (NULL: missing). */
void colsketch_add_number(struct colsketch *c, double v);
void colsketch_add_key(struct colsketch *c, const char *key, size_t len);
void colsketch_add_missing(struct colsketch *c);
/* Adds src into dst (made with the same options). */
void colsketch_merge(struct colsketch *dst, const struct colsketch *src);
/* Population variance (ddof 0) of the numeric values; NaN when empty. */
double colsketch_variance(const struct colsketch *c);

#endif
