/*
 * What every command sees: the parsed global options, the project and store opened for it
 * (per the command's flags), and the error it fills on failure. Only src/cli prints or exits.
 */
#ifndef FERRY_CLI_CLI_H
#define FERRY_CLI_CLI_H

#include "util/error.h"

struct project;
struct store;

enum command_flags {
	NEED_PROJECT = 1 << 0, /* find the project root (walking up) and load its config */
	NEED_STORE = 1 << 1,   /* also open the store; implies NEED_PROJECT */
	/*
	 * open the tracking store (runs, params, metrics): the server $FERRY_TRACKING_URI names
	 * (http:// or https://), else the project's store (then it implies NEED_STORE)
	 */
	NEED_TRACKING = 1 << 2,
};

struct ctx {
	int json;		 /* --json: machine-readable output on stdout */
	int quiet;		 /* -q: no progress, no chatter */
	int verbose;		 /* -v: more detail; repeated for more */
	struct project *project; /* owned by main.c; set when NEED_PROJECT */
	struct store *store;	 /* owned by main.c; set when NEED_STORE */
	struct store *tracking;	 /* owned by main.c; set when NEED_TRACKING (may be store) */
	struct error err;	 /* filled by a failing command, printed by main.c */
	int exit_code;		 /* a successful command's exit status if not 0 (ferry run) */
	int json_printed;	 /* --json: the command's document, error included, is out */
};

/* A command returns 0, a negative ERR_* with ctx->err filled, or CLI_DONE (exit 0, e.g. --help). */
#define CLI_DONE 1

struct command {
	const char *name;
	int (*fn)(int argc, const char **argv, struct ctx *ctx);
	enum command_flags flags;
	const char *summary; /* one line for `ferry help` */
};

/* THE command table, in src/cli/commands.c; terminated by a NULL name. */
extern const struct command commands[];
const struct command *command_find(const char *name);

/*
 * Opens what flags ask for (the project, the store) unless ctx already has it; in main.c.
 * Sub-command dispatch calls it, so a family can mix commands that need a project with ones
 * that do not (`ferry data profile FILE`).
 */
int cli_open(struct ctx *ctx, enum command_flags flags);

/*
 * For commands that work anywhere but record what they learn in a project when run in one:
 * opens the project and its store if the current directory is inside one, and the tracking
 * store there or wherever $FERRY_TRACKING_URI names a server; else does nothing.
 */
int cli_open_if_project(struct ctx *ctx);

/* True if argv asks for help (-h/--help before "--"): such a run opens nothing. */
int cli_wants_help(int argc, const char **argv);

/* Runs argv[0] as a command of the table; used by main.c and `ferry help CMD`. */
int command_run(int argc, const char **argv, struct ctx *ctx);

/* Sub-command tables inside a command family (git's OPT_SUBCOMMAND). */
struct subcommand {
	const char *name;
	int (*fn)(int argc, const char **argv, struct ctx *ctx);
	enum command_flags flags; /* what to open before running it (not for --help) */
	const char *summary;
};

/*
 * Dispatches argv[1] among subs (NULL-name terminated); `family` names the parent for messages
 * and help. No sub-command or -h lists them; an unknown one is a usage error with a suggestion.
 */
int subcommand_dispatch(int argc, const char **argv, const struct subcommand *subs,
			const char *family, struct ctx *ctx);

/* Exit code for a command's result: 0 ok, 2 usage errors, 1 every other failure. */
int cli_exit_code(int rc);

/* Prints the error in ctx->err to stderr ("error: ..."), and as JSON on stdout with --json. */
void cli_report_error(const struct ctx *ctx, int rc);

/* Command entry points, one family per file. */
int cmd_help(int argc, const char **argv, struct ctx *ctx);
int cmd_version(int argc, const char **argv, struct ctx *ctx);
int cmd_init(int argc, const char **argv, struct ctx *ctx);
int cmd_store(int argc, const char **argv, struct ctx *ctx);
int cmd_config(int argc, const char **argv, struct ctx *ctx);
int cmd_data(int argc, const char **argv, struct ctx *ctx);
int cmd_remote(int argc, const char **argv, struct ctx *ctx);
int cmd_train(int argc, const char **argv, struct ctx *ctx);
int cmd_eval(int argc, const char **argv, struct ctx *ctx);
int cmd_predict(int argc, const char **argv, struct ctx *ctx);
int cmd_runs(int argc, const char **argv, struct ctx *ctx);
int cmd_log(int argc, const char **argv, struct ctx *ctx);
int cmd_run(int argc, const char **argv, struct ctx *ctx);
int cmd_server(int argc, const char **argv, struct ctx *ctx);
int cmd_models(int argc, const char **argv, struct ctx *ctx);
int cmd_serve(int argc, const char **argv, struct ctx *ctx);
int cmd_monitor(int argc, const char **argv, struct ctx *ctx);
/* 'ferry monitor run' and 'ferry monitor history' (cmd_monitor_run.c), dispatched by cmd_monitor. */
int cmd_monitor_run(int argc, const char **argv, struct ctx *ctx);
int cmd_monitor_history(int argc, const char **argv, struct ctx *ctx);
int cmd_repro(int argc, const char **argv, struct ctx *ctx);
int cmd_retrain(int argc, const char **argv, struct ctx *ctx);
int cmd_status(int argc, const char **argv, struct ctx *ctx);
int cmd_metrics(int argc, const char **argv, struct ctx *ctx);
int cmd_params(int argc, const char **argv, struct ctx *ctx);

#endif
