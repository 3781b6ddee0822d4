/*
 * ferry's entry point: global options, then dispatch through the command table (src/cli/commands.c),
 * opening the project and store a command needs, and turning results into exit codes.
 */
#include "util/common.h"
#include "cli/cli.h"
#include "project/project.h"
#include "store/store.h"
#include "util/log.h"

#include <locale.h>

static const char main_usage[] =
    "usage: ferry [-C DIR] [--json] [-q] [-v] <command> [<args>]\n"
    "\n"
    "Run 'ferry help' for the list of commands, 'ferry help <command>' for one.\n";

/* Parses options that precede the command; returns the index of the command or -1 on error. */
static int parse_global(int argc, const char **argv, struct ctx *ctx, const char **chdir_to,
			int *show_help)
{
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (a[0] != '-')
			break;
		if (!strcmp(a, "-C")) {
			if (++i >= argc) {
				error_set(&ctx->err, ERR_USAGE,
					  "option '-C' requires a value (DIR)");
				return -1;
			}
			*chdir_to = argv[i];
		} else if (!strcmp(a, "--json")) {
			ctx->json = 1;
		} else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
			ctx->quiet = 1;
		} else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
			ctx->verbose++;
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			*show_help = 1;
		} else if (!strcmp(a, "--version")) {
			return -2;
		} else {
			error_set(&ctx->err, ERR_USAGE, "unknown option '%s'", a);
			return -1;
		}
	}
	return i;
}

/*
 * The tracking server $FERRY_TRACKING_URI names, NULL when it is unset or empty (the project's
 * store tracks then); anything but http(s):// is ERR_INVALID.
 */
static int tracking_uri(const char **out, struct error *err)
{
	const char *uri = getenv("FERRY_TRACKING_URI");

	*out = NULL;
	if (!uri || !*uri)
		return 0;
	if (strncmp(uri, "http://", 7) && strncmp(uri, "https://", 8))
		return error_set(
		    err, ERR_INVALID,
		    "FERRY_TRACKING_URI='%s': expected a tracking server's "
		    "http://HOST:PORT or https://... (unset it to track in the project)",
		    uri);
	*out = uri;
	return 0;
}

static int open_project(struct ctx *ctx, enum command_flags flags)
{
	char *uri = NULL;
	char cwd[PATH_MAX];
	int rc;

	if (!(flags & (NEED_PROJECT | NEED_STORE)) || ctx->store ||
	    (ctx->project && !(flags & NEED_STORE)))
		return 0;
	if (!getcwd(cwd, sizeof(cwd)))
		return error_errno(&ctx->err, ERR_IO, errno, "cannot get the current directory");
	rc = ctx->project ? 0 : project_open(&ctx->project, cwd, &ctx->err);
	if (!rc)
		log_debug("project root '%s'", ctx->project->root);
	if (rc || !(flags & NEED_STORE))
		return rc;
	rc = project_store_uri(&uri, ctx->project, &ctx->err);
	if (!rc) {
		log_debug("opening store '%s'", uri);
		rc = store_open(&ctx->store, uri, &ctx->err);
	}
	free(uri);
	return rc;
}

int cli_open(struct ctx *ctx, enum command_flags flags)
{
	const char *remote = NULL;
	int rc;

	if ((flags & NEED_TRACKING) && !ctx->tracking) {
		if ((rc = tracking_uri(&remote, &ctx->err)) < 0)
			return rc;
		if (!remote)
			flags |= NEED_STORE;
	}
	if ((rc = open_project(ctx, flags)) || !(flags & NEED_TRACKING) || ctx->tracking)
		return rc;
	if (!remote) {
		ctx->tracking = ctx->store;
		return 0;
	}
	log_debug("tracking on '%s' (FERRY_TRACKING_URI)", remote);
	return store_open(&ctx->tracking, remote, &ctx->err);
}

int cli_open_if_project(struct ctx *ctx)
{
	char *root = NULL;
	char cwd[PATH_MAX];
	struct error ignored = ERROR_INIT;
	const char *remote = NULL;
	int rc;

	if (!getcwd(cwd, sizeof(cwd)))
		return error_errno(&ctx->err, ERR_IO, errno, "cannot get the current directory");
	rc = project_find_root(&root, cwd, &ignored);
	free(root);
	if (rc != ERR_NOTFOUND)
		return cli_open(ctx, NEED_STORE | NEED_TRACKING);
	/* outside a project, a tracking server still records what happens */
	if ((rc = tracking_uri(&remote, &ctx->err)) < 0 || !remote)
		return rc;
	return cli_open(ctx, NEED_TRACKING);
}

/* Help must work outside a project, so a command asked for help opens nothing. */
int cli_wants_help(int argc, const char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			return 1;
	return 0;
}

int command_run(int argc, const char **argv, struct ctx *ctx)
{
	const struct command *cmd = command_find(argv[0]);
	int rc;

	if (!cmd)
		BUG("command_run: no command '%s'", argv[0]);
	if (!cli_wants_help(argc, argv)) {
		rc = cli_open(ctx, cmd->flags);
		if (rc)
			return rc;
	}
	return cmd->fn(argc, argv, ctx);
}

static void apply_verbosity(const struct ctx *ctx)
{
	if (ctx->verbose >= 2)
		log_set_level(LOG_TRACE);
	else if (ctx->verbose == 1)
		log_set_level(LOG_DEBUG);
	else if (ctx->quiet)
		log_set_level(LOG_ERROR);
}

int main(int argc, char **argv_mut)
{
	const char **argv = (const char **)argv_mut;
	struct ctx ctx = { 0 };
	const char *chdir_to = NULL;
	const char *version_argv[] = { "version", NULL };
	int show_help = 0, rc, first;

	setlocale(LC_ALL, "C");
	log_init_from_env();
	first = parse_global(argc, argv, &ctx, &chdir_to, &show_help);
	if (first == -2) {
		first = 0;
		argc = 1;
		argv = version_argv;
	} else if (first < 0) {
		cli_report_error(&ctx, ERR_USAGE);
		fputs(main_usage, stderr);
		return 2;
	} else if (first >= argc) {
		if (show_help) {
			const char *help_argv[] = { "help", NULL };

			return cli_exit_code(cmd_help(1, help_argv, &ctx));
		}
		fputs(main_usage, stderr);
		return 2;
	}
	apply_verbosity(&ctx);
	if (chdir_to && chdir(chdir_to)) {
		error_errno(&ctx.err, ERR_USAGE, errno, "cannot change to '%s'", chdir_to);
		cli_report_error(&ctx, ERR_USAGE);
		return 2;
	}
	argc -= first;
	argv += first;
	if (!command_find(argv[0])) {
		rc = cmd_help(argc, argv, &ctx); /* reports the unknown command with a suggestion */
	} else if (show_help) {
		const char *help_argv[] = { "help", argv[0], NULL };

		rc = cmd_help(2, help_argv, &ctx);
	} else {
		log_debug("running command '%s'", argv[0]);
		rc = command_run(argc, argv, &ctx);
	}
	if (rc < 0)
		cli_report_error(&ctx, rc);
	if (ctx.tracking != ctx.store)
		store_close(ctx.tracking);
	store_close(ctx.store);
	project_free(ctx.project);
	return rc >= 0 && ctx.exit_code ? ctx.exit_code : cli_exit_code(rc);
}
