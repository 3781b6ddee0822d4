/*
 * ferry's own steps in a pipeline (train:, eval:, register:), run in-process through the same
 * library functions as `ferry train`, `ferry eval` and `ferry models register`, so a pipeline
 * needs no shell script and no second ferry process.
 */
#ifndef FERRY_PIPELINE_STEPS_H
#define FERRY_PIPELINE_STEPS_H

#include <jansson.h>
#include <pthread.h>

#include "pipeline/pipeline.h"

struct cas;
struct error;
struct store;

struct step_env {
	const char *root;	/* absolute project root: the steps' paths are relative to it */
	struct store *store;	/* the registry's store; may be NULL (register then fails) */
	struct store *tracking; /* where run_id lives; NULL: nothing recorded */
	struct cas *cas;	/* the project's object cache (register keeps the files there) */
	pthread_mutex_t *mu;	/* held around every store call; may be NULL */
	const char *run_id;	/* the stage's run, or "" */
	/* a line of output for the user (no '\n'), e.g. "metric.accuracy=0.9" */
	void (*say)(void *data, const char *line);
	void *data;
};

/*
 * Runs the built-in step of st (st->kind != STAGE_CMD). train writes the model directory (and
 * the metrics file when given) and records the run's params, metrics and training data; eval
 * writes the metrics file; register adds the model directory as the next version of the name.
 * Errors are those of the underlying functions (files named with line:col).
 */
int step_run(const struct stage *st, const struct step_env *env, struct error *err);

#endif
