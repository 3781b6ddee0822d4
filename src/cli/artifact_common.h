/*
 * Run artifacts for the commands that record runs (train, run, runs): the project's object
 * cache opened for them, and logging files into a run when the run lives in the project's store.
 */
#ifndef FERRY_CLI_ARTIFACT_COMMON_H
#define FERRY_CLI_ARTIFACT_COMMON_H

#include <stddef.h>

struct cas;
struct ctx;

/*
 * Opens the project's object cache for run artifacts (link order reflink,copy: a hardlink would
 * make the run's files read-only). Needs ctx->project. Free with cas_free.
 */
int cli_artifact_cas(struct cas **out, struct ctx *ctx);

/*
 * True if runs of ctx->tracking keep artifacts in this project's cache: the tracking store is
 * the project's own store (not a tracking server).
 */
int cli_artifacts_local(const struct ctx *ctx);

/*
 * When cli_artifacts_local: logs the files under dir as artifacts prefix/<relative path> of
 * run_id (*nfiles, may be NULL, gets how many), or the file file as artifact path. Otherwise
 * logs nothing and, unless quiet, says so on stderr.
 */
int cli_log_artifact_dir(struct ctx *ctx, const char *run_id, const char *prefix, const char *dir,
			 size_t *nfiles);
int cli_log_artifact_file(struct ctx *ctx, const char *run_id, const char *path, const char *file);

#endif
