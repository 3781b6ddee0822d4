/*
 * Recording runs: starting one with its source (git commit, dirty flag, command line), user and
 * environment, logging what a command learned (params, metrics, inputs, artifacts), and ending
 * it with a status. Built on the store; MLflow's conventions for names and tags, so runs look
 * the same to MLflow clients reading them through `ferry server`.
 */
#ifndef FERRY_TRACK_TRACKING_H
#define FERRY_TRACK_TRACKING_H

#include <jansson.h>
#include <stddef.h>

#include "store/store.h"
#include "util/id.h"

struct error;

struct track_run_options {
	const char *experiment; /* experiment name; NULL: "Default". Created when missing */
	const char *name;	/* NULL: a generated "adjective-noun-NNN", as MLflow names runs */
	const char *command;	/* the command line, recorded as the run's command */
	const char *git_commit; /* NULL outside git */
	int git_dirty;
	const char *source_name; /* tag mlflow.source.name, e.g. "ferry train" or a script */
};

/*
 * Creates a RUNNING run with tags mlflow.runName, mlflow.user, mlflow.source.name,
 * mlflow.source.type (LOCAL), mlflow.source.git.commit, ferry.source.dirty and the
 * environment (ferry.env.*: ferry version, OS, machine, compiler, C library and linked
 * libraries' versions). Its id goes to run_id.
 */
int track_run_start(struct store *st, char run_id[ID_HEX_LEN + 1],
		    const struct track_run_options *o, struct error *err);

/* Ends a run: status (FINISHED, FAILED, KILLED) and end time now. */
int track_run_end(struct store *st, const char *run_id, enum store_run_status status,
		  struct error *err);

/* Who is running ferry: $USER, else the account's name, else "unknown" (static storage). */
const char *track_user_name(void);

/* A name like MLflow's: "<adjective>-<noun>-<0..999>", from seed. */
void track_run_name(char *out, size_t size, uint64_t seed);

/*
 * Logs every number in obj as a metric at step (nested objects flatten with '.': {"a": {"b":
 * 1}} is "a.b"; non-numbers are skipped), all in one transaction. Booleans count as 0/1.
 */
int track_log_metrics_json(struct store *st, const char *run_id, const json_t *obj, int64_t step,
			   struct error *err);

/* Logs every scalar of obj as a param (flattened as above; numbers as their JSON text). */
int track_log_params_json(struct store *st, const char *run_id, const json_t *obj,
			  struct error *err);

#endif
