/*
 * `ferry repro`: runs the stale stages of a pipeline in dependency order, independent stages in
 * parallel, each as a tracked run, restoring outputs from the run cache when a stage's inputs
 * match an earlier execution. What happens is reported through hooks (this layer prints
 * nothing): the CLI prints events and the stages' output lines with a stage prefix.
 *
 * A stage runs with its previous outputs moved aside (into .ferry/tmp/); when it fails, what it
 * wrote is removed and the previous outputs are moved back, and ferry.lock is not touched. Only
 * a stage that succeeded and produced every declared output updates ferry.lock, under a lock,
 * re-reading the file first so concurrent repros of other stages are not lost.
 */
#ifndef FERRY_PIPELINE_EXEC_H
#define FERRY_PIPELINE_EXEC_H

#include <signal.h>
#include <stddef.h>

#include "pipeline/dag.h"
#include "pipeline/pipeline.h"
#include "util/id.h"

struct cas;
struct error;
struct store;

enum stage_outcome {
	OUTCOME_UP_TO_DATE,
	OUTCOME_WOULD_RUN, /* --dry-run */
	OUTCOME_RAN,
	OUTCOME_RESTORED, /* from the run cache */
	OUTCOME_FAILED,
	OUTCOME_SKIPPED, /* a stage it depends on failed */
	OUTCOME_NOT_SELECTED,
};
const char *stage_outcome_name(enum stage_outcome o);

struct stage_result {
	enum stage_outcome outcome;
	char *why;   /* reasons it was stale ("" if not); owned */
	char *error; /* the failure, for OUTCOME_FAILED; owned */
	char run_id[ID_HEX_LEN + 1];
	double seconds;
};

enum repro_event {
	EVENT_RUNNING,	/* detail: why */
	EVENT_RESTORED, /* detail: why */
	EVENT_UP_TO_DATE,
	EVENT_WAITING,	/* detail: the path whose lock is busy */
	EVENT_FINISHED, /* detail: run id */
	EVENT_FAILED,	/* detail: the error */
	EVENT_SKIPPED,	/* detail: why ("stage 'x' failed", "interrupted") */
};

struct repro_hooks {
	/* a line (without '\n') the stage wrote; is_err: on stderr. Called under a mutex. */
	void (*output)(void *data, const char *stage, int is_err, const char *line, size_t len);
	void (*event)(void *data, const char *stage, enum repro_event ev, const char *detail);
	void *data;
};

struct repro_env {
	const char *root;	/* absolute project root */
	const char *ferry_dir;	/* root/.ferry */
	struct store *store;	/* stat cache, registry; borrowed */
	struct store *tracking; /* runs; borrowed (may be store); NULL: no runs recorded */
	struct cas *cas;	/* outputs and the run cache; borrowed */
	const char *experiment; /* NULL: "Default" */
	const char *git_commit; /* NULL outside git */
	int git_dirty;
};

struct repro_options {
	int jobs; /* stages at once; <= 0: 1 */
	int force;
	int dry_run;
	int no_run_cache;
	const char *const *targets; /* stage names; none: all */
	size_t ntargets;
	/*
	 * Set (to a signal number) by the caller's signal handler: no stage starts any more, and
	 * running commands get that signal; their stages fail and are undone. May be NULL.
	 */
	const volatile sig_atomic_t *stop;
};

/*
 * Runs the pipeline p (with its graph d). results gets one entry per stage of p (in p's
 * order; caller releases with stage_results_free). Returns 0 when every selected stage is up
 * to date, ran or was restored; ERR_CONFLICT ("stage 'x' failed: ...") when a stage failed (the
 * results say which); other errors for problems before anything ran.
 */
int pipeline_repro(struct stage_result **results, const struct repro_env *env,
		   const struct pipeline *p, const struct dag *d, const struct repro_options *o,
		   const struct repro_hooks *hooks, struct error *err);

/*
 * What `ferry status` and --dry-run show: for the selected stages, whether each is stale and
 * why, without running anything; a stage whose upstream is stale is stale too ("upstream stage
 * 'x' will run"). results as above (OUTCOME_WOULD_RUN or OUTCOME_UP_TO_DATE).
 */
int pipeline_plan(struct stage_result **results, const struct repro_env *env,
		  const struct pipeline *p, const struct dag *d, const struct repro_options *o,
		  struct error *err);

void stage_results_free(struct stage_result *r, size_t n);

#endif
