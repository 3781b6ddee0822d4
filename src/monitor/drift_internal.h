/*
 * Private to drift_report.c and drift_current.c: the prepared reference columns, the current
 * side's per-column accumulators, and the string-keyed count map both use.
 */
#ifndef FERRY_MONITOR_DRIFT_INTERNAL_H
#define FERRY_MONITOR_DRIFT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "monitor/drift_report.h"

/* Distinct categories a current column may add to its reference's (later ones: "other"). */
#define DRIFT_NEW_CATEGORIES 65536

/* Strings with a count each, in insertion order; open addressing on a power-of-two table. */
struct drift_strmap {
	char **keys;
	uint64_t *counts;
	size_t n, alloc;
	uint32_t *slots; /* index + 1, 0 empty */
	size_t nslots;
};

/* Index of s (len bytes), added with count 0 when add is set and absent; -1 when absent. */
long drift_strmap_find(struct drift_strmap *m, const char *s, size_t len, bool add);
void drift_strmap_release(struct drift_strmap *m);

/* Doubles with a count each, for current values a reference lacks; capped at DRIFT_NEW_VALUES. */
struct drift_valset {
	double *v;
	uint64_t *counts;
	size_t n;
	bool overflow; /* a value was not recorded: more than DRIFT_NEW_VALUES distinct */
};

struct drift_ref_column {
	char *name;
	enum column_type type; /* of the table column */
	bool numeric;	       /* Evidently's kind */
	uint64_t count, missing;
	/* numeric and boolean columns */
	double *sorted;	  /* count values, ascending */
	double *u;	  /* k distinct values, ascending */
	uint64_t *ucount; /* count per distinct value */
	size_t k;
	double mean, std; /* std with ddof 0 */
	/* categorical columns: keys in first-seen order with their counts */
	struct drift_strmap cats;
};

struct drift_reference {
	size_t ncols;
	struct drift_ref_column *cols;
	uint64_t rows;
};

struct drift_cur_column {
	char *name;
	long ref; /* index into the reference, -1 when only this side has the column */
	uint64_t count, missing;
	char *mismatch; /* why the types differ (skipped), NULL when they agree */
	/* numeric and boolean reference columns */
	double *vals; /* raw values while exact */
	size_t nvals, alloc;
	bool sorted;
	uint64_t *eq;		   /* streaming: values equal to u[j] (k) */
	uint64_t *gap;		   /* values strictly between u[j-1] and u[j] (k + 1) */
	long double *gsum;	   /* their sum (k + 1) */
	struct drift_valset fresh; /* values the reference lacks */
	double min, max;	   /* streaming: running; exact: set when sorted */
	long double sum;
	/* categorical reference columns: the reference's keys first, then new ones */
	struct drift_strmap cats;
	uint64_t other;		   /* values past DRIFT_NEW_CATEGORIES new categories */
	bool all_number, all_bool; /* every value so far reads as one (table_load's typing) */
};

struct drift_current {
	const struct drift_reference *ref;
	char *source;
	size_t ncols;
	struct drift_cur_column *cols;
	uint64_t rows;
	uint64_t exact_values; /* budget of raw numeric values */
	uint64_t kept;	       /* raw numeric values held */
	bool exact;
};

/* Sorts the raw values of every exact column (in place, in parallel). */
void drift_current_sort(struct drift_current *c, int jobs);

#endif
