/*
 * Data drift between a reference table and a current table, column by column, with Evidently's
 * defaults (test per column, thresholds, dataset drift when the share of drifted columns is
 * >= drift_share) and per-column overrides. The statistics are in drift_stats.h.
 *
 * Column kinds as Evidently's legacy ColumnMapping sees them: numeric table columns are
 * "numerical" unless every value is integral and there are at most 5 distinct reference values
 * (then "categorical"); boolean and categorical table columns are "categorical".
 *
 * Verdict per column: drift / no drift, or "insufficient data" (fewer than min_rows non-missing
 * values on a side: no test is run and the column does not count), "skipped" (by config, or
 * all values missing on a side, or a type mismatch between the sides; the reason is in note).
 * Columns of only one side are reported as skipped with a note naming the side.
 *
 * Exact and streaming results. A reference is prepared once (struct drift_reference: each
 * numeric column sorted, its distinct values and counts; each categorical column's counts) and
 * compared with a current side fed in batches (struct drift_current). The current side keeps
 * its numeric values while rows * numeric columns <= exact_values (DRIFT_EXACT_VALUES by
 * default, 32 Mi values = 256 MiB): then every statistic is computed from the raw values, exactly
 * as drift_stats.h (scipy) computes it. Beyond that budget the values are folded into counts per
 * reference gap: for each distinct reference value u_j, the current values equal to u_j, and
 * the count and sum of those strictly between u_j and u_j+1 (and below the first and above the
 * last), plus the current minimum and maximum and up to DRIFT_NEW_VALUES distinct values that
 * the reference lacks. Memory is O(distinct reference values + DRIFT_NEW_VALUES) per column,
 * whatever the current size. From those counts:
 *  - exact: KS D and its p-value, chisquare, z, Jensen-Shannon, PSI and KL on per-value bins
 *    (while the current side has at most DRIFT_NEW_VALUES values the reference lacks), every
 *    categorical statistic, counts, missing values, means, n_unique (same condition);
 *  - Wasserstein: exact except inside a reference gap where the two CDFs cross; there the
 *    integral is bounded from the gap's count and sum, and the midpoint is reported with the
 *    half-width of the interval in score_error (the distance is exact when score_error is 0);
 *  - Sturges bins (PSI, KL, JS of numeric columns with > 20 distinct reference values, opt-in
 *    tests) and the 10 chart bins: a gap's current count is split across the bins its range
 *    straddles in proportion to length (approximate; score_error is NaN: no bound).
 * column.exact tells which path a column took.
 *
 * Ownership: a report is the caller's, freed with drift_report_free; strings are owned by it.
 */
#ifndef FERRY_MONITOR_DRIFT_REPORT_H
#define FERRY_MONITOR_DRIFT_REPORT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "monitor/drift_stats.h"
#include "table/csv.h"
#include "table/table.h"

struct error;

/* Per-column override: test and/or threshold (NaN: the test's default), or skip it. */
struct drift_column_config {
	const char *column;
	enum drift_test test; /* DRIFT_TEST_DEFAULT: Evidently's choice */
	double threshold;     /* NaN: the chosen test's default */
	bool skip;
};

struct drift_options {
	double drift_share;   /* dataset drift when share >= this; 0 means 0.5 */
	enum drift_test test; /* every column (unless overridden); DEFAULT: Evidently's choice */
	double threshold;     /* every column; NaN: the test's default */
	const struct drift_column_config *columns;
	size_t n_columns;
	uint64_t min_rows; /* fewer non-missing values on a side: insufficient data; 0 means 1 */
	int jobs;	   /* columns tested in parallel; 0: every CPU */
};

#define DRIFT_OPTIONS_INIT                                                                         \
	{                                                                                          \
		0.5, DRIFT_TEST_DEFAULT, NAN, NULL, 0, 1, 0                                        \
	}

enum drift_verdict {
	DRIFT_VERDICT_NONE = 0,	    /* tested: no drift */
	DRIFT_VERDICT_DRIFT,	    /* tested: drift */
	DRIFT_VERDICT_INSUFFICIENT, /* too few values to test */
	DRIFT_VERDICT_SKIPPED,	    /* not tested: see note */
};

const char *drift_verdict_name(enum drift_verdict v); /* "no_drift", "drift", ... */

struct drift_column_result {
	char *name;
	bool numeric;	      /* Evidently's kind: numerical (true) or categorical */
	enum drift_test test; /* the test run (never DEFAULT once tested) */
	double score;	      /* p-value or distance; NaN when not tested */
	double statistic;     /* KS D, chi-square, z; NaN for the distances */
	double threshold;
	enum drift_verdict verdict;
	char *note;		       /* why skipped / insufficient; NULL otherwise */
	uint64_t ref_count, cur_count; /* non-missing values */
	uint64_t ref_missing, cur_missing;
	/* distinct values of ref and cur combined; 0 when not counted (more than 5 distinct
	 * reference values and a test that does not count per value: the choice needs no more) */
	uint64_t n_unique;
	/* for charts: equal-width bins (numeric) or categories, shares of each side */
	size_t n_bins;
	double *bin_edges; /* n_bins + 1, numeric only */
	char **bin_labels; /* n_bins category names, categorical only */
	double *ref_share, *cur_share;
	double ref_mean, cur_mean; /* numeric only */
	bool exact;		   /* from raw values (see above) */
	double score_error;	   /* bound on |score - exact score|: 0 exact, NaN unknown */
};

struct drift_report {
	uint64_t ref_rows, cur_rows;
	size_t n_columns;
	struct drift_column_result *columns;
	size_t n_tested;  /* columns with verdict NONE or DRIFT */
	size_t n_drifted; /* columns with verdict DRIFT */
	double share;	  /* n_drifted / n_tested; NaN when nothing was tested */
	double drift_share;
	bool dataset_drift;	    /* share >= drift_share */
	enum drift_verdict verdict; /* DRIFT, NONE, or INSUFFICIENT when nothing was tested */
	bool exact;		    /* every tested column exact */
};

/*
 * Compares the columns of cur with the same-named columns of ref (all of ref's columns, in
 * ref's order). ERR_INVALID for bad options (unknown override column, threshold out of range)
 * naming the field; *out untouched on failure.
 */
int drift_report_tables(struct drift_report **out, const struct table *ref, const struct table *cur,
			const struct drift_options *o, struct error *err);

void drift_report_free(struct drift_report *r);

/* ---- a prepared reference and a current side fed in batches ------------------------------- */

#define DRIFT_EXACT_VALUES (32u << 20) /* numeric current values kept for exact results */
#define DRIFT_NEW_VALUES 4096	       /* distinct current values outside the reference, tracked */

struct drift_reference;
struct drift_current;

/* Prepares every column of ref (ref can be freed afterwards). Never fails but for memory. */
struct drift_reference *drift_reference_new(const struct table *ref);
void drift_reference_free(struct drift_reference *r);

/*
 * A current side with the columns names (n, in the order batches give them; copied), compared
 * with ref (which must outlive it). exact_values: 0 means DRIFT_EXACT_VALUES. source names the
 * data in notes.
 */
struct drift_current *drift_current_new(const struct drift_reference *ref, const char *source,
					const char *const *names, size_t n, uint64_t exact_values);
void drift_current_free(struct drift_current *c);

/*
 * Adds nrows CSV records (nrows * n fields, as csv_next_batch gives them). Missing: empty fields
 * and na_tokens; "nan"/"inf" in a numeric column are dropped too (Evidently drops them) and
 * counted as missing. A value that does not fit the reference column's type (text in a numeric
 * column, a non-boolean in a boolean one) makes that column a type mismatch (skipped, the first
 * such value named in the note), as table_load would type the column differently. Never fails.
 */
void drift_current_add_fields(struct drift_current *c, const struct csv_field *fields, size_t nrows,
			      const char *const *na_tokens, size_t n_na);

/* Adds every row of t, whose columns must be those given to drift_current_new (by name). */
int drift_current_add_table(struct drift_current *c, const struct table *t, struct error *err);

/* Rows added so far; true while every column still holds raw values. */
uint64_t drift_current_rows(const struct drift_current *c);
bool drift_current_exact(const struct drift_current *c);

/*
 * The report of ref against what cur was fed: columns of ref in ref's order, then columns only
 * the current side has (skipped). Sorts cur's raw values in place: feed nothing more after.
 * Errors as drift_report_tables.
 */
int drift_report_finish(struct drift_report **out, const struct drift_reference *ref,
			struct drift_current *cur, const struct drift_options *o,
			struct error *err);

/* The report as JSON (a new reference): dataset fields, then "columns": [...]. */
json_t *drift_report_to_json(const struct drift_report *r);

#endif
