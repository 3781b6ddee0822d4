/*
 * `ferry metrics show|diff` and `ferry params diff`: the values of the pipeline's metrics files
 * (every number, nested keys joined with '.') and of its params (the keys its stages declare),
 * in the workspace or at a git revision (read with `git show REV:./PATH` in the project root),
 * and their differences.
 */
#ifndef FERRY_PIPELINE_DIFF_H
#define FERRY_PIPELINE_DIFF_H

#include <stddef.h>

#include "pipeline/pipeline.h"

struct error;
struct strbuf;

/* One value: path (a metrics file, or a params file), key, and its text (NULL if absent). */
struct pvalue {
	char *path, *key, *value; /* owned */
};
struct pvalues {
	struct pvalue *v;
	size_t nr, alloc;
};
#define PVALUES_INIT                                                                               \
	{                                                                                          \
		NULL, 0, 0                                                                         \
	}
void pvalues_release(struct pvalues *pv);

/*
 * Reads path (root-relative) at rev into out: ERR_NOTFOUND if the file is not in rev (or rev
 * does not exist: the message says which), ERR_IO if git cannot be run. rev NULL: the workspace.
 */
int pipe_read_at(struct strbuf *out, const char *root, const char *rev, const char *path,
		 struct error *err);

/* The pipeline's metrics at rev (NULL: workspace), sorted by path and key; missing files skipped. */
int pipe_metrics(struct pvalues *out, const struct pipeline *p, const char *root, const char *rev,
		 struct error *err);

/* The params the stages declare, at rev (NULL: workspace); missing files and keys skipped. */
int pipe_params(struct pvalues *out, const struct pipeline *p, const char *root, const char *rev,
		struct error *err);

/* Flattens the numbers of a JSON metrics document into out (used by pipe_metrics; for tests). */
int pipe_metrics_parse(struct pvalues *out, const char *path, const char *buf, size_t len,
		       struct error *err);

struct pchange {
	const char *path, *key; /* borrowed from the inputs */
	const char *old, *new_; /* NULL when absent on that side */
};

/*
 * The keys whose values differ between a (old) and b (new), both sorted as above; all keys
 * when all is set. *out is an array the caller frees (not its strings).
 */
void pvalues_diff(struct pchange **out, size_t *n, const struct pvalues *a, const struct pvalues *b,
		  int all);

#endif
