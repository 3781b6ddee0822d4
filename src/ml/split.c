/*
 * Holdout and k-fold splits with scikit-learn 1.2.1's per-class sizes and a portable PRNG
 * (xoshiro256** seeded by splitmix64) choosing the rows.
 */
#include "util/common.h"
#include "ml/split.h"

#include <math.h>

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void split_rng_seed(struct split_rng *rng, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		rng->s[i] = splitmix64(&seed);
}

uint64_t split_rng_next(struct split_rng *rng)
{
	uint64_t *s = rng->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

uint64_t split_rng_below(struct split_rng *rng, uint64_t bound)
{
	uint64_t threshold, r;

	if (bound <= 1)
		return 0;
	/* values below 2^64 mod bound would make the low residues more likely */
	threshold = (0 - bound) % bound;
	do
		r = split_rng_next(rng);
	while (r < threshold);
	return r % bound;
}

void split_rng_shuffle(struct split_rng *rng, size_t *v, size_t n)
{
	for (size_t i = n; i > 1; i--) {
		size_t j = (size_t)split_rng_below(rng, i);
		size_t t = v[i - 1];

		v[i - 1] = v[j];
		v[j] = t;
	}
}

void split_indices_release(struct split_indices *s)
{
	if (!s)
		return;
	free(s->train);
	free(s->test);
	memset(s, 0, sizeof(*s));
}

int split_holdout_sizes(size_t *n_train, size_t *n_test, size_t n, double test_size,
			struct error *err)
{
	double t;

	if (!(test_size > 0.0 && test_size < 1.0))
		return error_set(err, ERR_INVALID, "test size must be between 0 and 1, got %g",
				 test_size);
	t = ceil(test_size * (double)n);
	if (t >= (double)n)
		return error_set(err, ERR_INVALID,
				 "with %zu rows and test size %g the train set would be empty", n,
				 test_size);
	*n_test = (size_t)t;
	*n_train = n - *n_test;
	return 0;
}

/* Fills out from a per-row mark (1 = test), both lists ascending. */
static void indices_from_marks(struct split_indices *out, const unsigned char *is_test, size_t n,
			       size_t n_test)
{
	struct split_indices s = SPLIT_INDICES_INIT;

	s.train = xmalloc((n - n_test ? n - n_test : 1) * sizeof(*s.train));
	s.test = xmalloc((n_test ? n_test : 1) * sizeof(*s.test));
	for (size_t i = 0; i < n; i++) {
		if (is_test[i])
			s.test[s.n_test++] = i;
		else
			s.train[s.n_train++] = i;
	}
	split_indices_release(out);
	*out = s;
}

/* Marks `take` rows chosen uniformly at random out of rows[0..m) (partial Fisher-Yates). */
static void mark_random(unsigned char *is_test, size_t *rows, size_t m, size_t take,
			struct split_rng *rng)
{
	for (size_t i = 0; i < take; i++) {
		size_t j = i + (size_t)split_rng_below(rng, m - i);
		size_t t = rows[i];

		rows[i] = rows[j];
		rows[j] = t;
		is_test[rows[i]] = 1;
	}
}

int split_holdout(struct split_indices *out, size_t n, double test_size, uint64_t seed,
		  struct error *err)
{
	struct split_rng rng;
	size_t n_train = 0, n_test = 0, *rows;
	unsigned char *is_test;
	int ret = split_holdout_sizes(&n_train, &n_test, n, test_size, err);

	if (ret)
		return ret;
	split_rng_seed(&rng, seed);
	rows = xmalloc(n * sizeof(*rows));
	is_test = xcalloc(n, 1);
	for (size_t i = 0; i < n; i++)
		rows[i] = i;
	mark_random(is_test, rows, n, n_test, &rng);
	indices_from_marks(out, is_test, n, n_test);
	free(rows);
	free(is_test);
	return 0;
}

/* Rows grouped by class: rows[start[c] .. start[c] + count[c]) are class c's, ascending. */
struct class_groups {
	size_t n_classes;
	size_t *rows;
	size_t *start;
	size_t *count;
	int *label;
};

struct label_row {
	int label;
	size_t row;
};

static int cmp_label_row(const void *a, const void *b)
{
	const struct label_row *x = a, *y = b;

	if (x->label != y->label)
		return (x->label > y->label) - (x->label < y->label);
	return (x->row > y->row) - (x->row < y->row);
}

/* Groups rows by the distinct values of y, in ascending order of value (np.unique). */
static void group_classes(struct class_groups *g, const int *y, size_t n)
{
	struct label_row *lr = xmalloc(n * sizeof(*lr));

	for (size_t i = 0; i < n; i++) {
		lr[i].label = y[i];
		lr[i].row = i;
	}
	qsort(lr, n, sizeof(*lr), cmp_label_row);
	g->n_classes = 0;
	g->rows = xmalloc(n * sizeof(*g->rows));
	g->start = xmalloc(n * sizeof(*g->start));
	g->count = xcalloc(n, sizeof(*g->count));
	g->label = xmalloc(n * sizeof(*g->label));
	for (size_t i = 0; i < n; i++) {
		if (i == 0 || lr[i].label != lr[i - 1].label) {
			g->start[g->n_classes] = i;
			g->label[g->n_classes] = lr[i].label;
			g->n_classes++;
		}
		g->rows[i] = lr[i].row;
		g->count[g->n_classes - 1]++;
	}
	free(lr);
}

static void class_groups_release(struct class_groups *g)
{
	free(g->rows);
	free(g->start);
	free(g->count);
	free(g->label);
}

struct remainder {
	double value;
	size_t cls;
};

static int cmp_remainder_desc(const void *a, const void *b)
{
	const struct remainder *x = a, *y = b;

	if (x->value != y->value)
		return (x->value < y->value) - (x->value > y->value);
	return (x->cls > y->cls) - (x->cls < y->cls);
}

/*
 * sklearn's _approximate_mode: out[c] = floor(count[c] / total * draws), computed with the same
 * double operations in the same order, then one more for the classes with the largest
 * remainders until the sum is draws; among equal remainders straddling the cut the classes are
 * drawn at random.
 */
static void approximate_mode(size_t *out, const size_t *count, size_t k, size_t total, size_t draws,
			     struct split_rng *rng)
{
	struct remainder *rem = xmalloc(k * sizeof(*rem));
	size_t floored = 0, need;

	for (size_t c = 0; c < k; c++) {
		double cont = (double)count[c] / (double)total * (double)draws;
		double fl = floor(cont);

		out[c] = (size_t)fl;
		floored += out[c];
		rem[c].value = cont - fl;
		rem[c].cls = c;
	}
	need = draws - floored;
	qsort(rem, k, sizeof(*rem), cmp_remainder_desc);
	for (size_t i = 0; i < k && need > 0;) {
		size_t j = i;

		while (j < k && rem[j].value == rem[i].value)
			j++;
		if (j - i <= need) {
			for (size_t m = i; m < j; m++)
				out[rem[m].cls]++;
			need -= j - i;
			i = j;
			continue;
		}
		/* a tie straddles the cut: draw `need` of the tied classes */
		for (size_t m = 0; m < need; m++) {
			size_t pick = i + m + (size_t)split_rng_below(rng, j - i - m);
			struct remainder t = rem[i + m];

			rem[i + m] = rem[pick];
			rem[pick] = t;
			out[rem[i + m].cls]++;
		}
		need = 0;
	}
	free(rem);
}

static int check_strata(const struct class_groups *g, size_t n_train, size_t n_test,
			struct error *err)
{
	for (size_t c = 0; c < g->n_classes; c++) {
		if (g->count[c] < 2)
			return error_set(err, ERR_INVALID,
					 "class %d has only %zu row: a stratified split needs at "
					 "least 2 per class",
					 g->label[c], g->count[c]);
	}
	if (n_train < g->n_classes || n_test < g->n_classes)
		return error_set(err, ERR_INVALID,
				 "the %s set (%zu rows) would be smaller than the number of "
				 "classes (%zu)",
				 n_train < g->n_classes ? "train" : "test",
				 n_train < g->n_classes ? n_train : n_test, g->n_classes);
	return 0;
}

int split_holdout_stratified(struct split_indices *out, const int *y, size_t n, double test_size,
			     uint64_t seed, struct error *err)
{
	struct class_groups g = { 0, NULL, NULL, NULL, NULL };
	struct split_rng rng;
	size_t n_train = 0, n_test = 0, *train_c = NULL;
	unsigned char *is_test = NULL;
	int ret = split_holdout_sizes(&n_train, &n_test, n, test_size, err);

	if (ret)
		return ret;
	group_classes(&g, y, n);
	ret = check_strata(&g, n_train, n_test, err);
	if (ret)
		goto out;
	split_rng_seed(&rng, seed);
	train_c = xmalloc(g.n_classes * sizeof(*train_c));
	approximate_mode(train_c, g.count, g.n_classes, n, n_train, &rng);
	is_test = xcalloc(n, 1);
	for (size_t c = 0; c < g.n_classes; c++)
		mark_random(is_test, g.rows + g.start[c], g.count[c], g.count[c] - train_c[c],
			    &rng);
	indices_from_marks(out, is_test, n, n_test);
out:
	class_groups_release(&g);
	free(train_c);
	free(is_test);
	return ret;
}

static int check_folds(size_t n, size_t k, struct error *err)
{
	if (k < 2)
		return error_set(err, ERR_INVALID, "need at least 2 folds, got %zu", k);
	if (k > n)
		return error_set(err, ERR_INVALID, "cannot make %zu folds out of %zu rows", k, n);
	if (k > INT_MAX)
		return error_set(err, ERR_INVALID, "too many folds: %zu", k);
	return 0;
}

int split_kfold(int *fold_of, size_t n, size_t k, uint64_t seed, struct error *err)
{
	struct split_rng rng;
	size_t *perm, pos = 0;
	int ret = check_folds(n, k, err);

	if (ret)
		return ret;
	split_rng_seed(&rng, seed);
	perm = xmalloc(n * sizeof(*perm));
	for (size_t i = 0; i < n; i++)
		perm[i] = i;
	split_rng_shuffle(&rng, perm, n);
	for (size_t f = 0; f < k; f++) {
		size_t size = n / k + (f < n % k);

		for (size_t i = 0; i < size; i++)
			fold_of[perm[pos++]] = (int)f;
	}
	free(perm);
	return 0;
}

/*
 * Orders the classes of g by first appearance in y, as StratifiedKFold numbers them: order[r]
 * is the class (index into g) with rank r.
 */
static size_t *first_appearance_order(const struct class_groups *g)
{
	size_t k = g->n_classes;
	size_t *order = xmalloc(k * sizeof(*order));

	/* g's rows are ascending within a class, so a class's first row is rows[start] */
	for (size_t c = 0; c < k; c++)
		order[c] = c;
	for (size_t i = 1; i < k; i++) {
		size_t c = order[i], j = i;

		while (j > 0 && g->rows[g->start[order[j - 1]]] > g->rows[g->start[c]]) {
			order[j] = order[j - 1];
			j--;
		}
		order[j] = c;
	}
	return order;
}

int split_kfold_stratified(int *fold_of, const int *y, size_t n, size_t k, uint64_t seed,
			   struct error *err)
{
	struct class_groups g = { 0, NULL, NULL, NULL, NULL };
	struct split_rng rng;
	size_t *order = NULL, *labels = NULL, largest = 0, pos = 0;
	int ret = check_folds(n, k, err);

	if (ret)
		return ret;
	group_classes(&g, y, n);
	for (size_t c = 0; c < g.n_classes; c++)
		largest = g.count[c] > largest ? g.count[c] : largest;
	if (k > largest) {
		ret = error_set(err, ERR_INVALID,
				"cannot make %zu folds: no class has that many rows (largest: %zu)",
				k, largest);
		goto out;
	}
	split_rng_seed(&rng, seed);
	order = first_appearance_order(&g);
	labels = xmalloc(n * sizeof(*labels));
	for (size_t r = 0; r < g.n_classes; r++) {
		size_t c = order[r], m = g.count[c];

		/* sorted position pos + i goes to fold (pos + i) % k */
		for (size_t i = 0; i < m; i++)
			labels[i] = (pos + i) % k;
		pos += m;
		split_rng_shuffle(&rng, labels, m);
		for (size_t i = 0; i < m; i++)
			fold_of[g.rows[g.start[c] + i]] = (int)labels[i];
	}
out:
	class_groups_release(&g);
	free(order);
	free(labels);
	return ret;
}

void split_fold_indices(struct split_indices *out, const int *fold_of, size_t n, int fold)
{
	unsigned char *is_test = xcalloc(n ? n : 1, 1);
	size_t n_test = 0;

	for (size_t i = 0; i < n; i++) {
		is_test[i] = fold_of[i] == fold;
		n_test += is_test[i];
	}
	indices_from_marks(out, is_test, n, n_test);
	free(is_test);
}
