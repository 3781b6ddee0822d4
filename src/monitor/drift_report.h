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
 * Ownership: a report is the caller's, freed with drift_report_free; strings are owned by it.
 */
#ifndef FERRY_MONITOR_DRIFT_REPORT_H
#define FERRY_MONITOR_DRIFT_REPORT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "monitor/drift_stats.h"
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
	uint64_t n_unique; /* distinct values of ref and cur combined */
	/* for charts: equal-width bins (numeric) or categories, shares of each side */
	size_t n_bins;
	double *bin_edges; /* n_bins + 1, numeric only */
	char **bin_labels; /* n_bins category names, categorical only */
	double *ref_share, *cur_share;
	double ref_mean, cur_mean; /* numeric only */
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
};

/*
 * Compares the columns of cur with the same-named columns of ref (all of ref's columns, in
 * ref's order). ERR_INVALID for bad options (unknown override column, threshold out of range)
 * naming the field; *out untouched on failure.
 */
int drift_report_tables(struct drift_report **out, const struct table *ref, const struct table *cur,
			const struct drift_options *o, struct error *err);

void drift_report_free(struct drift_report *r);

/* The report as JSON (a new reference): dataset fields, then "columns": [...]. */
json_t *drift_report_to_json(const struct drift_report *r);

#endif
