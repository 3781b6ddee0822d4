/*
 * What the commands that record runs share (train, run, log): the command line as text, and
 * starting a run with the project's git state.
 */
#ifndef FERRY_CLI_TRACK_COMMON_H
#define FERRY_CLI_TRACK_COMMON_H

#include "util/id.h"

struct ctx;
struct store;
struct store_run;

/* "ferry train --data 'a b.csv' ...": argv joined, quoted where a shell needs it; caller frees. */
char *cli_command_line(const char *prefix, int argc, const char **argv);

/*
 * Starts a run in the tracking store (ctx->tracking must be open) with the git state of the
 * project root (of the current directory outside a project); experiment and name may be NULL
 * (Default, generated).
 */
int cli_run_start(struct ctx *ctx, char run_id[ID_HEX_LEN + 1], const char *experiment,
		  const char *name, const char *command, const char *source);

/*
 * The run `what` names in st: a full id, an id prefix of at least 6 digits, or a run name;
 * ERR_NOTFOUND without one, ERR_INVALID when several match.
 */
int cli_resolve_run(struct ctx *ctx, struct store *st, struct store_run *out, const char *what);

#endif
