/*
 * Dataset profiles: per-column summary statistics of a loaded table, the reference later data
 * checks and drift monitoring compare against. Deterministic: one table, one profile, one JSON.
 *
 * Definitions follow pandas/numpy so that results can be checked against them:
 *  - count: non-missing values; missing: the rest;
 *  - mean; std: sample standard deviation (ddof = 1, pandas' .std()), two-pass and compensated;
 *  - quantiles at PROFILE_QUANTILES, numpy's default "linear" method: h = (n - 1) q, then
 *    x[floor h] + (h - floor h) (x[floor h + 1] - x[floor h]) (numpy's _lerp);
 *  - histogram: numpy.histogram(x, bins) over [min, max] (min == max: [min - 0.5, max + 0.5]),
 *    equal-width bins, each closed on the left, the last also on the right; a range doubles
 *    cannot split (max - min overflows, or 1e300 +- 0.5), where numpy refuses, puts every
 *    value in the first bin;
 *  - top: the most frequent values with their counts, most frequent first, ties in first-seen
 *    order (booleans: "false" before "true"); other: the count of all the rest.
 */
#ifndef FERRY_TABLE_PROFILE_H
#define FERRY_TABLE_PROFILE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "table/table.h"

struct error;

#define PROFILE_NQUANTILES 7
/* 0, 0.05, 0.25, 0.5, 0.75, 0.95, 1 */
extern const double profile_quantiles[PROFILE_NQUANTILES];

#define PROFILE_FORMAT_VERSION 1

struct profile_options {
	size_t top;  /* category counts kept per column (0 is fine: all in "other") */
	size_t bins; /* histogram bins, at least 1 */
};

#define PROFILE_OPTIONS_INIT                                                                       \
	{                                                                                          \
		50, 10                                                                             \
	}

struct category_count {
	char *value; /* owned */
	uint64_t count;
};

struct column_profile {
	char *name; /* owned */
	enum column_type type;
	uint64_t count, missing;
	/* numeric and boolean columns, when count > 0 (boolean: only mean, the share of true) */
	double min, max, mean;
	double std; /* when count > 1 */
	/* numeric columns, when count > 0 */
	double quantiles[PROFILE_NQUANTILES];
	size_t nbins;
	double *edges;	  /* nbins + 1 */
	uint64_t *counts; /* nbins */
	/* categorical and boolean columns */
	uint64_t unique; /* distinct values present */
	struct category_count *top;
	size_t ntop;
	uint64_t other;
};

struct profile {
	uint64_t rows;
	size_t ncols;
	struct column_profile *cols;
};

/*
 * Profiles every column of t into *out (free with profile_free); opts may be NULL for the
 * defaults. ERR_INVALID if opts->bins is 0. *out untouched on failure.
 */
int profile_compute(struct profile **out, const struct table *t, const struct profile_options *opts,
		    struct error *err);
void profile_free(struct profile *p);

/*
 * The profile as JSON (a new reference): {"format_version", "rows", "columns": [...]}, each
 * column {"name", "type", "count", "missing", then by type: numeric "min", "max", "mean",
 * "std", "quantiles" {"0": ..., "0.05": ..., ...}, "histogram" {"edges", "counts"};
 * categorical "unique", "top" [{"value", "count"}], "other"; boolean "mean", "unique", "top",
 * "other"}. Keys in that order; statistics that do not exist (no values, std of one value) or
 * overflow a double (the mean of 1e308 and 1e308) are null.
 */
json_t *profile_to_json(const struct profile *p);

#endif
