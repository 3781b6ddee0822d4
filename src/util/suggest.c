/* Edit distance (optimal string alignment) and the closest-candidate rule for suggestions. */
#include "util/common.h"
#include "util/strbuf.h"
#include "util/suggest.h"

static int min3(int a, int b, int c)
{
	int m = a < b ? a : b;

	return m < c ? m : c;
}

/* Three rolling rows of the dynamic-programming matrix: two back is needed for transpositions. */
int edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	int *rows = xcalloc(3 * (lb + 1), sizeof(*rows));
	int *prev2 = rows, *prev = rows + lb + 1, *cur = rows + 2 * (lb + 1), *tmp;
	int result;

	for (size_t j = 0; j <= lb; j++)
		prev[j] = (int)j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = (int)i;
		for (size_t j = 1; j <= lb; j++) {
			int cost = a[i - 1] != b[j - 1];

			cur[j] = min3(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    prev2[j - 2] + 1 < cur[j])
				cur[j] = prev2[j - 2] + 1;
		}
		tmp = prev2;
		prev2 = prev;
		prev = cur;
		cur = tmp;
	}
	result = prev[lb];
	free(rows);
	return result;
}

static const char *unique_prefix_match(const char *word, const char *const *candidates, size_t n)
{
	const char *found = NULL;

	for (size_t i = 0; i < n; i++) {
		if (!candidates[i] || !skip_prefix(candidates[i], word, NULL))
			continue;
		if (found)
			return NULL;
		found = candidates[i];
	}
	return found;
}

const char *suggest_closest(const char *word, const char *const *candidates, size_t n)
{
	size_t len = strlen(word);
	int limit = len / 3 > 1 ? (int)(len / 3) : 1;
	const char *best = NULL;
	int best_dist = INT_MAX;

	if (!len)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		int d;

		if (!candidates[i])
			continue;
		d = edit_distance(word, candidates[i]);
		if (d < best_dist) {
			best_dist = d;
			best = candidates[i];
		}
	}
	if (best && best_dist <= limit)
		return best;
	return unique_prefix_match(word, candidates, n);
}
