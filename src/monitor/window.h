/*
 * A window of production traffic read back from the inference log (monitor/infer_log.h): the
 * last N predictions of a model, or those since a time, with the ground truth that POST
 * /feedback delivered for them, joined by request id however much later it arrived (feedback
 * is read from the window's first record to the end of the log).
 *
 * Joining: the server logs one prediction record per row, all rows of a request under its
 * request id. A feedback label that is a JSON array of as many labels as the request had rows
 * labels them in order; any other label labels a request of one row. Anything else (a scalar
 * for a request of several rows, an array of the wrong length) is never guessed: it is counted
 * as ambiguous. When a request gets feedback twice, the later one wins (a correction). Labels
 * are joined before a last-N window is cut, so a request whose first rows fall before the
 * window keeps the labels of its rows inside it. Feedback for predictions older than the
 * window's start is normal (counted as unmatched, with feedback for unknown requests).
 *
 * The inputs become a table with the model's feature columns, typed as the model was trained
 * (numeric and boolean features as numbers, booleans 0/1; categorical as text; JSON numbers
 * in a categorical column are written in their shortest form). A missing key or null is a
 * missing value; a value of the wrong kind (text in a numeric column) is missing too and
 * counted in bad_values.
 *
 * Ownership: a window is the caller's (monitor_window_free) and owns everything in it.
 */
#ifndef FERRY_MONITOR_WINDOW_H
#define FERRY_MONITOR_WINDOW_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ml/preprocess.h"
#include "ml/target.h"
#include "table/table.h"

struct error;

/* Most predictions one window holds (a --since over a busy log is refused beyond it). */
#define WINDOW_MAX_ROWS 2000000u

struct window_options {
	const char *dir;		   /* the inference log directory */
	const char *model;		   /* only predictions of this model name; NULL: any */
	uint64_t last_n;		   /* the last N predictions (0: no limit) */
	int64_t since_ms;		   /* predictions at or after this time (0: no limit) */
	const struct preprocess *features; /* the columns to take and their types */
	const struct target *target;	   /* the class order of probabilities */
	uint64_t max_rows;		   /* 0: WINDOW_MAX_ROWS */
};

struct monitor_window {
	size_t n;	      /* predictions in the window */
	struct table *inputs; /* n rows, the model's features; NULL when n == 0 */
	/* predictions: classification fills labels (and proba when logged), regression values */
	char **pred_labels;  /* n, owned; NULL for regression */
	double *pred_values; /* n; NULL for classification */
	double *proba;	     /* n x k in target class order; NaN where not logged */
	size_t k;	     /* target->nclasses (0 for regression) */
	/* ground truth: labels[i] the label as text (NULL: none yet) */
	char **labels;
	size_t labelled;
	int64_t start_ms, end_ms; /* times of the first and last prediction (0 when empty) */
	int64_t version;	  /* of the newest prediction (0: unknown) */
	char *digest;		  /* of the newest prediction (NULL: unknown) */
	uint64_t versions_seen;	  /* distinct (version, digest) pairs in the window */
	/* what was skipped */
	uint64_t damaged;	     /* damaged log lines and torn bytes' records (reader stats) */
	uint64_t other_models;	     /* predictions of other model names */
	uint64_t bad_values;	     /* input values of the wrong kind, taken as missing */
	uint64_t feedback_records;   /* feedback records read (from the window's start on) */
	uint64_t feedback_unmatched; /* for no prediction read: older than the window, or unknown */
	uint64_t feedback_ambiguous; /* a label that does not fit its request's rows */
};

/*
 * Reads the window o describes into *out. ERR_NOTFOUND (naming the directory and saying that
 * `ferry serve` writes it) when the log does not exist, ERR_TOOBIG beyond max_rows, ERR_IO.
 * An empty window is not an error (n == 0).
 */
int monitor_window_read(struct monitor_window **out, const struct window_options *o,
			struct error *err);

void monitor_window_free(struct monitor_window *w);

/*
 * A duration such as "90s", "30m", "1h", "2d", "1w" or "250ms" (a positive integer and a unit)
 * in milliseconds. ERR_INVALID naming the text and the units otherwise.
 */
int window_parse_duration(int64_t *out_ms, const char *s, struct error *err);

/* The text of a JSON label: a string as is, numbers in their shortest form, true/false. */
char *window_label_text(const json_t *label);

#endif
