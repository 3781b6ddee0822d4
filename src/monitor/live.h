/*
 * Live monitoring inside `ferry serve`: one monitor per served model version keeps streaming
 * sketches (monitor/sketch.h) of the traffic it scores and of its predictions, joins ground truth
 * that arrives later through /feedback, and computes at report time (a /metrics scrape) per
 * feature drift scores with Evidently's default test, the share of drifted features, prediction
 * drift and the realised quality of the last labelled predictions.
 *
 * Reference: summarised once when the monitor is made. From the model's exact training rows
 * (monitor_reference_load) each numeric feature keeps its values sorted (above
 * LIVE_REF_MAX_POINTS values, that many evenly spaced order statistics: a rank error of
 * 1 / LIVE_REF_MAX_POINTS), its distinct values when there are few, and its population std; each
 * categorical or boolean feature its category counts; and the model's predictions on those rows
 * are the reference of prediction drift. Without the rows, the training data profile stored in
 * model.json ("data"."profile") is the coarser fallback: numeric values are rebuilt from its
 * 10-bin histogram (uniform inside each bin), categories from its top counts (the rest pooled
 * as one "other" key on both sides), and there is no prediction reference. Neither: no drift,
 * quality only; live_monitor_note() says which and why.
 *
 * Window: the current traffic is a ring of `blocks` sketch blocks of window / blocks rows each;
 * when the newest block is full the oldest is emptied and becomes the newest, so the drift scores
 * cover the last window - window / blocks + 1 to window rows (all rows until the window first
 * fills). A report merges the blocks.
 *
 * Scores (Evidently's _get_default_stattest on the reference's non-missing count and the distinct
 * values of both sides): wasserstein = the integral of |F_ref - F_cur| over the reference and
 * sketch CDFs divided by max(std_ref, 0.001) (error at most rank error x value range / std);
 * ks = D = max |F_ref - F_cur| at every jump point, p = kstwo.sf(max(D - eps, 0),
 * round(n1 n2 / (n1 + n2))) with eps the window sketch's rank error (exact while the window's
 * sketch holds every value: eps 0; a D within the sketch's error never alarms); jensenshannon,
 * chisquare and z on category counts (exact up to the category cap) or on the exact distinct
 * values of low-cardinality numeric features.
 *
 * Quality: predictions are remembered by request id (a hash of it: 64-bit, collisions ignored)
 * in a ring of LIVE pending rows; the oldest are evicted (counted) when it is full. A feedback
 * label for a known id is joined and the pair enters a ring of the last `labelled` labelled rows,
 * over which accuracy, precision, recall, F1 (positive class: the second class, as the model's
 * probability_<class> column; macro averages for multiclass) and ROC AUC (binary) are computed,
 * as scikit-learn defines them (zero_division=0); regression gets mae and rmse.
 *
 * Threads: live_observe, live_feedback and live_report may be called from any threads at once
 * (one mutex; live_observe parses outside it and holds it only to update sketches).
 * Ownership: the monitor borrows the model, which must outlive it; live_monitor_free frees it.
 */
#ifndef FERRY_MONITOR_LIVE_H
#define FERRY_MONITOR_LIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ml/model.h"
#include "table/csv.h"
#include "table/table.h"

struct error;

#define LIVE_REF_MAX_POINTS 100000

struct live_options {
	size_t window;	    /* rows the drift scores cover; 0: 5000 */
	size_t blocks;	    /* the window slides by window / blocks rows; 0: 10 */
	unsigned k;	    /* KLL parameter; 0: KLL_DEFAULT_K */
	size_t categories;  /* category keys kept per column (at least the reference's); 0: 256 */
	size_t pending;	    /* predicted rows awaiting labels; 0: 100000 */
	size_t labelled;    /* labelled rows the quality covers; 0: the window */
	double drift_share; /* dataset drift when this share of features drifted; 0: 0.5 */
	size_t min_rows;    /* no drift scores below this many window rows; 0: min(100, window) */
};

#define LIVE_OPTIONS_INIT                                                                          \
	{                                                                                          \
		0, 0, 0, 0, 0, 0, 0, 0                                                             \
	}

struct live_monitor;

/*
 * A monitor for model m. reference: its training rows (borrowed during the call only), or NULL
 * for the fallback on m's stored profile. ERR_INVALID for options out of range (window < blocks,
 * blocks 0 after defaults...); never fails for lack of a reference.
 */
int live_monitor_new(struct live_monitor **out, const struct model *m,
		     const struct table *reference, const struct live_options *o,
		     struct error *err);

/*
 * live_monitor_new with the reference found by monitor_reference_load(m, cache_dir, root); when
 * that fails, the fallback, and the reason goes into the note.
 */
int live_monitor_open(struct live_monitor **out, const struct model *m, const char *cache_dir,
		      const char *root, const struct live_options *o, struct error *err);

void live_monitor_free(struct live_monitor *mon);

/* One line for the operator: where the reference came from, or why there is none. */
const char *live_monitor_note(const struct live_monitor *mon);
/* Whether drift is computed (a reference of either kind); from the exact training rows. */
bool live_monitor_has_reference(const struct live_monitor *mon);
bool live_monitor_reference_is_exact(const struct live_monitor *mon);

/*
 * Records nrows scored rows: fields (nrows x ncols, row-major) named by names (NULL: the
 * model's features in order), as serve_score took them, and their outputs (nrows x
 * model_output_width) and decided classes (classification; else NULL). request_id (may be NULL:
 * nothing awaits feedback) keys the rows for live_feedback. Never fails: values that do not
 * parse count as missing.
 */
void live_observe(struct live_monitor *mon, const char *const *names, size_t ncols, size_t nrows,
		  const struct csv_field *fields, const double *outputs, const size_t *labels,
		  const char *request_id);
/*
 * live_observe with the columns already matched: colmap[f] is the column of the model's
 * feature f (serve_map_columns), or colmap is NULL when they did not match (every value then
 * counts as missing).
 */
void live_observe_mapped(struct live_monitor *mon, const size_t *colmap, size_t ncols, size_t nrows,
			 const struct csv_field *fields, const double *outputs,
			 const size_t *labels, const char *request_id);

enum live_feedback_result {
	LIVE_FEEDBACK_MATCHED,
	LIVE_FEEDBACK_UNKNOWN, /* no prediction with that id waits (never seen, evicted, joined) */
	LIVE_FEEDBACK_INVALID, /* labels are not the model's classes / numbers, or not one per row */
};

/*
 * Ground truth for the rows of request_id: nlabels texts, one per row of that request (a
 * class as the model names it: "yes", "1"; a number for regression). Counted either way.
 */
enum live_feedback_result live_feedback(struct live_monitor *mon, const char *request_id,
					const char *const *labels, size_t nlabels);

struct live_drift {
	const char *name;   /* feature name (borrowed from the model), or "prediction" */
	const char *method; /* drift_test_name() of the test used */
	double score, threshold;
	bool detected;
};

#define LIVE_MAX_QUALITY 8

struct live_report {
	uint64_t window_rows; /* rows the current window holds */
	uint64_t observed_rows;
	bool drift;		     /* drift computed: a reference and min_rows window rows */
	size_t nfeatures;	     /* features with a score (those with values on both sides) */
	struct live_drift *features; /* nfeatures */
	double drift_share;	     /* drifted / scored features */
	bool dataset_drift;	     /* drift_share >= the option */
	bool prediction_drift;	     /* prediction drift computed */
	struct live_drift prediction;
	uint64_t labelled; /* labelled rows the quality covers */
	size_t nquality;
	struct {
		const char
		    *metric; /* "accuracy", "precision", "recall", "f1", "roc_auc", "mae", ... */
		double value;
	} quality[LIVE_MAX_QUALITY];
	uint64_t feedback_matched, feedback_unknown, feedback_invalid, evicted;
};

/* Computes the report (the caller's; live_report_release). */
void live_report(struct live_monitor *mon, struct live_report *out);
void live_report_release(struct live_report *r);

#endif
