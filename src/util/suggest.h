/*
 * "Did you mean ...?" for mistyped commands, options and config keys: an edit distance and git's
 * rule for when a candidate is close enough to suggest.
 */
#ifndef FERRY_UTIL_SUGGEST_H
#define FERRY_UTIL_SUGGEST_H

#include <stddef.h>

/*
 * Optimal-string-alignment Damerau-Levenshtein distance between a and b: the number of
 * single-byte insertions, deletions, substitutions and adjacent transpositions, case-sensitive.
 */
int edit_distance(const char *a, const char *b);

/*
 * The candidate closest to word, or NULL if none is close enough. A candidate qualifies when its
 * distance is at most max(1, strlen(word) / 3); the smallest distance wins, the earliest
 * candidate on ties. Failing that, a candidate that word is a prefix of is returned if it is the
 * only one. The result is borrowed from candidates. NULL entries in candidates are skipped.
 */
const char *suggest_closest(const char *word, const char *const *candidates, size_t n);

#endif
