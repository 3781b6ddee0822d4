/* Streaming column sketches: KLL quantiles, capped category counts, column summaries (sketch.h). */
#include "util/common.h"
#include "monitor/sketch.h"

#include <math.h>

/* ---- KLL -------------------------------------------------------------------------------- */

#define KLL_MIN_WIDTH 8 /* DataSketches' m: no level is ever smaller */
#define KLL_MAX_LEVELS 61

struct kll_level {
	double *items; /* level 0 in arrival order, the others ascending */
	size_t n, alloc;
};

struct kll {
	unsigned k;
	uint64_t n, seed, rng;
	double min, max;
	bool compacted;
	size_t nlevels, retained;
	size_t capacity; /* total_capacity(nlevels), kept: it is checked on every update */
	struct kll_level levels[KLL_MAX_LEVELS];
};

static void set_levels(struct kll *s, size_t nlevels);

static uint64_t rng_next(struct kll *s)
{
	uint64_t z = s->rng;

	z ^= z << 13, z ^= z >> 7, z ^= z << 17;
	s->rng = z;
	return z;
}

struct kll *kll_new(unsigned k, uint64_t seed)
{
	struct kll *s;

	if (k < KLL_MIN_K || k > KLL_MAX_K)
		BUG("kll_new: k %u out of range", k);
	s = xcalloc(1, sizeof(*s));
	s->k = k;
	s->seed = seed;
	kll_reset(s);
	return s;
}

void kll_free(struct kll *s)
{
	if (!s)
		return;
	for (size_t h = 0; h < KLL_MAX_LEVELS; h++)
		free(s->levels[h].items);
	free(s);
}

void kll_reset(struct kll *s)
{
	for (size_t h = 0; h < KLL_MAX_LEVELS; h++)
		s->levels[h].n = 0;
	s->n = 0;
	set_levels(s, 1);
	s->retained = 0;
	s->compacted = false;
	s->min = s->max = NAN;
	/* xorshift must not start at 0 */
	s->rng = s->seed * 0x9e3779b97f4a7c15ULL + 0x632be59bd9b4e019ULL;
	if (!s->rng)
		s->rng = 1;
}

/* Level h's capacity when there are nlevels: k (2/3)^depth, at least KLL_MIN_WIDTH. */
static size_t level_capacity(unsigned k, size_t nlevels, size_t h)
{
	double c = ceil((double)k * pow(2.0 / 3.0, (double)(nlevels - 1 - h)));

	return c < KLL_MIN_WIDTH ? KLL_MIN_WIDTH : (size_t)c;
}

static size_t total_capacity(const struct kll *s)
{
	size_t t = 0;

	for (size_t h = 0; h < s->nlevels; h++)
		t += level_capacity(s->k, s->nlevels, h);
	return t;
}

static void set_levels(struct kll *s, size_t nlevels)
{
	s->nlevels = nlevels;
	s->capacity = total_capacity(s);
}

static void level_reserve(struct kll_level *l, size_t n)
{
	ALLOC_GROW(l->items, n, l->alloc);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/*
 * Sorts doubles ascending: quicksort (median of three, the smaller side first, so the stack stays
 * O(log n)) finished by insertion sort; about twice as fast as qsort with a comparison callback
 * on the level-0 buffers compaction sorts.
 */
static void sort_doubles(double *a, size_t n)
{
	while (n > 16) {
		double x = a[0], y = a[n / 2], z = a[n - 1], pivot, t;
		size_t i = 0, j = n - 1;

		pivot = x < y ? (y < z ? y : (x < z ? z : x)) : (x < z ? x : (y < z ? z : y));
		for (;;) {
			while (a[i] < pivot)
				i++;
			while (a[j] > pivot)
				j--;
			if (i >= j)
				break;
			t = a[i], a[i] = a[j], a[j] = t;
			i++, j--;
		}
		/* [0, j] <= pivot <= [j + 1, n) */
		if (j + 1 < n - j - 1) {
			sort_doubles(a, j + 1);
			a += j + 1, n -= j + 1;
		} else {
			sort_doubles(a + j + 1, n - j - 1);
			n = j + 1;
		}
	}
	for (size_t i = 1; i < n; i++) {
		double v = a[i];
		size_t k = i;

		for (; k > 0 && a[k - 1] > v; k--)
			a[k] = a[k - 1];
		a[k] = v;
	}
}

/* Merges ascending src[0..n) into level l (ascending), in place from the back. */
static void level_merge_sorted(struct kll_level *l, const double *src, size_t n)
{
	size_t i = l->n, j = n, at = l->n + n;

	level_reserve(l, at);
	while (j > 0) {
		if (i > 0 && l->items[i - 1] > src[j - 1])
			l->items[--at] = l->items[--i];
		else
			l->items[--at] = src[--j];
	}
	l->n += n;
}

/*
 * Halves level h: sorted, an odd item stays, and of each pair the one at a random offset (one
 * coin per compaction, as DataSketches) moves up with double weight.
 */
static void compact_level(struct kll *s, size_t h)
{
	struct kll_level *l = &s->levels[h];
	size_t odd = l->n & 1, pairs = l->n / 2, off = (size_t)(rng_next(s) >> 63);
	double *up;

	if (h + 1 >= s->nlevels) {
		if (s->nlevels >= KLL_MAX_LEVELS)
			BUG("kll: too many levels");
		set_levels(s, s->nlevels + 1);
	}
	if (h == 0)
		sort_doubles(l->items, l->n);
	/* the odd item is the first; the pairs follow it */
	up = xmalloc((pairs ? pairs : 1) * sizeof(*up));
	for (size_t i = 0; i < pairs; i++)
		up[i] = l->items[odd + 2 * i + off];
	level_merge_sorted(&s->levels[h + 1], up, pairs);
	free(up);
	l->n = odd;
	s->retained -= pairs;
	s->compacted = true;
}

/* Compacts the lowest full levels until the items fit the levels' capacities. */
static void compress(struct kll *s)
{
	while (s->retained >= s->capacity) {
		size_t h = 0;

		while (h < s->nlevels && s->levels[h].n < level_capacity(s->k, s->nlevels, h))
			h++;
		if (h == s->nlevels)
			BUG("kll: over capacity without a full level");
		compact_level(s, h);
	}
}

void kll_update(struct kll *s, double v)
{
	struct kll_level *l0 = &s->levels[0];

	if (!isfinite(v))
		BUG("kll_update: non-finite value");
	if (!s->n || v < s->min)
		s->min = v;
	if (!s->n || v > s->max)
		s->max = v;
	s->n++;
	level_reserve(l0, l0->n + 1);
	l0->items[l0->n++] = v;
	s->retained++;
	if (s->retained >= s->capacity)
		compress(s);
}

void kll_merge(struct kll *dst, const struct kll *src)
{
	if (dst->k != src->k)
		BUG("kll_merge: k %u and %u", dst->k, src->k);
	if (!src->n)
		return;
	if (src->nlevels > dst->nlevels)
		set_levels(dst, src->nlevels);
	for (size_t h = 0; h < src->nlevels; h++) {
		const struct kll_level *from = &src->levels[h];
		struct kll_level *to = &dst->levels[h];

		if (!from->n)
			continue;
		if (h == 0) {
			level_reserve(to, to->n + from->n);
			memcpy(to->items + to->n, from->items, from->n * sizeof(double));
			to->n += from->n;
		} else {
			level_merge_sorted(to, from->items, from->n);
		}
		dst->retained += from->n;
	}
	if (!dst->n || src->min < dst->min)
		dst->min = src->min;
	if (!dst->n || src->max > dst->max)
		dst->max = src->max;
	dst->n += src->n;
	dst->compacted |= src->compacted;
	compress(dst);
}

unsigned kll_k(const struct kll *s)
{
	return s->k;
}

uint64_t kll_n(const struct kll *s)
{
	return s->n;
}

size_t kll_retained(const struct kll *s)
{
	return s->retained;
}

bool kll_is_exact(const struct kll *s)
{
	return !s->compacted;
}

double kll_min(const struct kll *s)
{
	return s->min;
}

double kll_max(const struct kll *s)
{
	return s->max;
}

double kll_rank_error_k(unsigned k)
{
	/* DataSketches' empirical fit for the double-sided (PMF / CDF) error at 99% confidence */
	return 2.446 / pow((double)k, 0.9433);
}

double kll_rank_error(const struct kll *s)
{
	return s->compacted ? kll_rank_error_k(s->k) : 0;
}

double kll_cdf(const struct kll *s, double x)
{
	uint64_t below = 0;

	if (!s->n)
		return 0;
	for (size_t h = 0; h < s->nlevels; h++) {
		const struct kll_level *l = &s->levels[h];
		uint64_t c = 0;

		if (h == 0) {
			for (size_t i = 0; i < l->n; i++)
				c += l->items[i] <= x;
		} else {
			size_t lo = 0, hi = l->n; /* first item > x */

			while (lo < hi) {
				size_t mid = lo + (hi - lo) / 2;

				if (l->items[mid] <= x)
					lo = mid + 1;
				else
					hi = mid;
			}
			c = lo;
		}
		below += c << h;
	}
	return (double)below / (double)s->n;
}

struct weighted {
	double v;
	uint64_t w;
};

static int cmp_weighted(const void *a, const void *b)
{
	return cmp_double(&((const struct weighted *)a)->v, &((const struct weighted *)b)->v);
}

size_t kll_sorted(const struct kll *s, double **values, uint64_t **weights)
{
	struct weighted *all;
	size_t at = 0;

	*values = NULL;
	*weights = NULL;
	if (!s->retained)
		return 0;
	all = xmalloc(s->retained * sizeof(*all));
	for (size_t h = 0; h < s->nlevels; h++)
		for (size_t i = 0; i < s->levels[h].n; i++)
			all[at++] = (struct weighted){ s->levels[h].items[i], (uint64_t)1 << h };
	qsort(all, at, sizeof(*all), cmp_weighted);
	*values = xmalloc(at * sizeof(**values));
	*weights = xmalloc(at * sizeof(**weights));
	for (size_t i = 0; i < at; i++) {
		(*values)[i] = all[i].v;
		(*weights)[i] = all[i].w;
	}
	free(all);
	return at;
}

double kll_quantile(const struct kll *s, double q)
{
	double *v, target, result;
	uint64_t *w, cum = 0;
	size_t n;

	if (!s->n)
		return NAN;
	if (q <= 0)
		return s->min;
	if (q >= 1)
		return s->max;
	n = kll_sorted(s, &v, &w);
	target = q * (double)s->n;
	result = v[n - 1];
	for (size_t i = 0; i < n; i++) {
		cum += w[i];
		if ((double)cum >= target) {
			result = v[i];
			break;
		}
	}
	free(v);
	free(w);
	return result;
}

/* ---- category counts -------------------------------------------------------------------- */

struct catcount {
	size_t cap, n;
	char **keys; /* first-seen order */
	size_t *lens;
	uint64_t *counts;
	uint32_t *slots; /* open addressing: index + 1, 0 empty */
	size_t nslots;
	uint64_t other, total;
};

static uint64_t hash_bytes(const char *s, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 0x100000001b3ULL;
	return h;
}

struct catcount *catcount_new(size_t cap)
{
	struct catcount *c = xcalloc(1, sizeof(*c));

	if (!cap || cap > (1u << 20))
		BUG("catcount_new: cap %zu", cap);
	c->cap = cap;
	c->nslots = 16;
	while (c->nslots < 2 * cap)
		c->nslots *= 2;
	c->slots = xcalloc(c->nslots, sizeof(*c->slots));
	c->keys = xcalloc(cap, sizeof(*c->keys));
	c->lens = xcalloc(cap, sizeof(*c->lens));
	c->counts = xcalloc(cap, sizeof(*c->counts));
	return c;
}

void catcount_reset(struct catcount *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->keys[i]);
	memset(c->slots, 0, c->nslots * sizeof(*c->slots));
	c->n = 0;
	c->other = c->total = 0;
}

void catcount_free(struct catcount *c)
{
	if (!c)
		return;
	catcount_reset(c);
	free(c->slots);
	free(c->keys);
	free(c->lens);
	free(c->counts);
	free(c);
}

/* The slot holding key, or the empty slot where it would go. */
static size_t find_slot(const struct catcount *c, const char *key, size_t len)
{
	size_t mask = c->nslots - 1, i = (size_t)hash_bytes(key, len) & mask;

	while (c->slots[i]) {
		size_t at = c->slots[i] - 1;

		if (c->lens[at] == len && !memcmp(c->keys[at], key, len))
			break;
		i = (i + 1) & mask;
	}
	return i;
}

void catcount_add(struct catcount *c, const char *key, size_t len, uint64_t n)
{
	size_t slot;

	if (len > CATCOUNT_KEY_MAX)
		len = CATCOUNT_KEY_MAX;
	c->total += n;
	slot = find_slot(c, key, len);
	if (c->slots[slot]) {
		c->counts[c->slots[slot] - 1] += n;
		return;
	}
	if (c->n == c->cap) {
		c->other += n;
		return;
	}
	c->keys[c->n] = xmalloc(len + 1);
	memcpy(c->keys[c->n], key, len);
	c->keys[c->n][len] = '\0';
	c->lens[c->n] = len;
	c->counts[c->n] = n;
	c->slots[slot] = (uint32_t)++c->n;
}

void catcount_merge(struct catcount *dst, const struct catcount *src)
{
	for (size_t i = 0; i < src->n; i++)
		catcount_add(dst, src->keys[i], src->lens[i], src->counts[i]);
	dst->other += src->other;
	dst->total += src->other;
}

size_t catcount_size(const struct catcount *c)
{
	return c->n;
}

const char *catcount_key(const struct catcount *c, size_t i, uint64_t *count)
{
	if (count)
		*count = c->counts[i];
	return c->keys[i];
}

uint64_t catcount_get(const struct catcount *c, const char *key, size_t len)
{
	size_t slot;

	if (len > CATCOUNT_KEY_MAX)
		len = CATCOUNT_KEY_MAX;
	slot = find_slot(c, key, len);
	return c->slots[slot] ? c->counts[c->slots[slot] - 1] : 0;
}

uint64_t catcount_other(const struct catcount *c)
{
	return c->other;
}

uint64_t catcount_total(const struct catcount *c)
{
	return c->total;
}

/* ---- column summaries ------------------------------------------------------------------- */

void colsketch_init(struct colsketch *c, const struct colsketch_options *o)
{
	memset(c, 0, sizeof(*c));
	c->categorical = o->categorical;
	if (o->categorical)
		c->cats = catcount_new(o->cap ? o->cap : 256);
	else
		c->kll = kll_new(o->k ? o->k : KLL_DEFAULT_K, o->seed);
}

void colsketch_release(struct colsketch *c)
{
	kll_free(c->kll);
	catcount_free(c->cats);
	memset(c, 0, sizeof(*c));
}

void colsketch_reset(struct colsketch *c)
{
	c->count = c->missing = 0;
	c->mean = c->m2 = 0;
	c->ndistinct = 0;
	c->distinct_overflow = false;
	if (c->kll)
		kll_reset(c->kll);
	if (c->cats)
		catcount_reset(c->cats);
}

static void distinct_add(struct colsketch *c, double v, uint64_t n)
{
	if (c->distinct_overflow)
		return;
	for (size_t i = 0; i < c->ndistinct; i++)
		if (c->distinct[i] == v) {
			c->distinct_count[i] += n;
			return;
		}
	if (c->ndistinct == COLSKETCH_DISTINCT_MAX) {
		c->distinct_overflow = true;
		return;
	}
	c->distinct[c->ndistinct] = v;
	c->distinct_count[c->ndistinct++] = n;
}

void colsketch_add_number(struct colsketch *c, double v)
{
	double d;

	if (!isfinite(v) || c->categorical) {
		c->missing++;
		return;
	}
	c->count++;
	d = v - c->mean;
	c->mean += d / (double)c->count;
	c->m2 += d * (v - c->mean);
	kll_update(c->kll, v);
	distinct_add(c, v, 1);
}

void colsketch_add_key(struct colsketch *c, const char *key, size_t len)
{
	if (!key || !c->categorical) {
		c->missing++;
		return;
	}
	c->count++;
	catcount_add(c->cats, key, len, 1);
}

void colsketch_add_missing(struct colsketch *c)
{
	c->missing++;
}

void colsketch_merge(struct colsketch *dst, const struct colsketch *src)
{
	uint64_t n = dst->count + src->count;

	if (dst->categorical != src->categorical)
		BUG("colsketch_merge: numeric and categorical");
	dst->missing += src->missing;
	if (!src->count)
		return;
	if (!dst->categorical) {
		/* Chan et al.'s parallel update of mean and M2 */
		double d = src->mean - dst->mean;

		dst->m2 += src->m2 + d * d * (double)dst->count * (double)src->count / (double)n;
		dst->mean += d * (double)src->count / (double)n;
		kll_merge(dst->kll, src->kll);
		if (src->distinct_overflow)
			dst->distinct_overflow = true;
		for (size_t i = 0; i < src->ndistinct; i++)
			distinct_add(dst, src->distinct[i], src->distinct_count[i]);
	} else {
		catcount_merge(dst->cats, src->cats);
	}
	dst->count = n;
}

double colsketch_variance(const struct colsketch *c)
{
	return c->count ? c->m2 / (double)c->count : NAN;
}
