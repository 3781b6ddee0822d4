/*
 * The inference engine behind `ferry serve`: the model being served, swapped without stopping
 * (hot swap), and scoring a batch of rows with it. Protocol-neutral: src/api/serve_*.c turn
 * requests into rows of text fields and results into responses.
 *
 * Hot swap: the served model is an immutable, reference-counted snapshot. A request takes a
 * reference for its whole life (served_acquire), so a swap never pulls a model from under a
 * request in flight; the old model is freed when its last request ends. A watcher thread
 * re-resolves the model URI (an alias, a stage, latest) every poll interval, or at once after
 * serve_engine_poke (SIGHUP), and loads, verifies and publishes a new version in the
 * background; a version that fails to load is logged and the current one stays.
 */
#ifndef FERRY_SERVE_SERVE_H
#define FERRY_SERVE_SERVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ml/model.h"
#include "table/csv.h"

struct error;
struct live_monitor;
struct live_options;
struct xgb_walk;

/* One loaded model version; read-only once published. */
struct served_model {
	struct model m;
	struct xgb_walk *walk; /* native tree walker for xgboost models; NULL: the C API */
	const char *scorer;    /* static: what scores it, for people ("native tree walker ...") */
	char *name;	       /* registered model name, or the directory's base name */
	int64_t version;       /* 0 for a plain directory */
	char *version_text;    /* "3", or "" */
	char *uri;	       /* what was asked for */
	char *dir;	       /* where its files are */
	struct live_monitor *live; /* live drift and quality (monitor/live.h); NULL: off */
	int refs;		   /* atomic */
};

/* Takes / drops a reference; the last drop frees the model. */
void served_model_ref(struct served_model *sm);
void served_model_unref(struct served_model *sm);

struct serve_engine_options {
	const char *uri;	/* a model directory or models:/NAME/3, @alias, /Stage, /latest */
	const char *store_uri;	/* the project's store (models:/ URIs); NULL for a directory */
	const char *cache_dir;	/* the project's object cache */
	const char *models_dir; /* where versions are checked out (.ferry/models) */
	unsigned poll_ms;	/* how often the watcher re-resolves the URI (0: 2000) */
	/*
	 * Live monitoring of every version loaded (NULL: off): its reference is found through
	 * cache_dir and root (the project's root, for a relative training data path; NULL: the
	 * current directory) when the version is loaded.
	 */
	const struct live_options *monitor;
	const char *root;
	/* called from the watcher thread after a swap or a failed load; may be NULL */
	void (*on_event)(void *data, const char *what, const struct served_model *now,
			 const char *error);
	void *event_data;
};

struct serve_engine;

/*
 * Loads the model the URI names (failing if it cannot: nothing is served yet) and, for a URI
 * that can move (alias, stage, latest), starts the watcher.
 */
int serve_engine_start(struct serve_engine **out, const struct serve_engine_options *o,
		       struct error *err);
/* Stops the watcher and drops the engine's reference; NULL is fine. */
void serve_engine_stop(struct serve_engine *e);
/* The current model with a reference taken: pass it to served_model_unref when done. */
struct served_model *serve_engine_acquire(struct serve_engine *e);
/* Asks the watcher to check the URI now (async-signal-safe: SIGHUP calls it). */
void serve_engine_poke(struct serve_engine *e);
/* Swaps counted so far, and failed loads. */
void serve_engine_counts(const struct serve_engine *e, uint64_t *swaps, uint64_t *failures);

/*
 * Scores nrows rows of ncols text fields (row-major; an empty one is missing; one marked
 * CSV_FIELD_NUMBER, table/csv.h, is its num).
 * names: the rows' column names, matched to the model's features by name (extra columns are
 * ignored); NULL: the columns are the model's features in signature order (ncols must equal
 * their number). out gets nrows x model_output_width values (probabilities per class, or the
 * value) and labels (may be NULL; classification) the decided class per row. Errors are
 * ERR_INVALID naming the row (1-based) and the column: a missing column, a value that is not a
 * number, an unseen category.
 */
int serve_score(const struct served_model *sm, const char *const *names, size_t ncols, size_t nrows,
		const struct csv_field *fields, double *out, size_t *labels, struct error *err);

/*
 * serve_score in two steps, for a caller that needs the column map too (the server hands it
 * to the live monitor, so that names are matched once per request): colmap (one entry per
 * feature of sm's model) gets the column of each feature, with serve_score's errors for
 * missing columns; serve_score_mapped then scores with it.
 */
int serve_map_columns(const struct served_model *sm, const char *const *names, size_t ncols,
		      size_t *colmap, struct error *err);
int serve_score_mapped(const struct served_model *sm, const size_t *colmap, size_t ncols,
		       size_t nrows, const struct csv_field *fields, double *out, size_t *labels,
		       struct error *err);

#endif
