/* Shared CLI plumbing: exit codes, error reporting, sub-command dispatch. */
#include "util/common.h"
#include "cli/cli.h"
#include "cli/options.h"
#include "cli/output.h"
#include "util/suggest.h"

#include <jansson.h>

int cli_exit_code(int rc)
{
	if (rc >= 0)
		return 0;
	return rc == ERR_USAGE ? 2 : 1;
}

void cli_report_error(const struct ctx *ctx, int rc)
{
	const char *msg = ctx->err.msg[0] ? ctx->err.msg : "operation failed";

	fprintf(stderr, "error: %s\n", msg);
	/* one JSON document per command: a command that printed its own carried the error in it */
	if (ctx->json && !ctx->json_printed) {
		json_t *j = json_pack("{s:{s:s,s:s}}", "error", "code", error_code_name(rc),
				      "message", msg);

		output_json(j);
		json_decref(j);
	}
}

static void list_subcommands(FILE *fp, const struct subcommand *subs, const char *family)
{
	fprintf(fp, "usage: ferry %s <command> [<args>]\n\n", family);
	for (const struct subcommand *s = subs; s->name; s++)
		fprintf(fp, "    %-14s%s\n", s->name, s->summary);
	fprintf(fp, "\nRun 'ferry %s <command> --help' for one command's options.\n", family);
}

int subcommand_dispatch(int argc, const char **argv, const struct subcommand *subs,
			const char *family, struct ctx *ctx)
{
	const char *names[64];
	const char *best;
	size_t n = 0;

	if (argc < 2) {
		list_subcommands(stderr, subs, family);
		return error_set(&ctx->err, ERR_USAGE, "'ferry %s' needs a sub-command", family);
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		list_subcommands(stdout, subs, family);
		return CLI_DONE;
	}
	for (const struct subcommand *s = subs; s->name; s++) {
		if (!strcmp(s->name, argv[1])) {
			int rc = cli_wants_help(argc - 1, argv + 1) ? 0 : cli_open(ctx, s->flags);

			return rc ? rc : s->fn(argc - 1, argv + 1, ctx);
		}
		if (n < ARRAY_SIZE(names))
			names[n++] = s->name;
	}
	best = suggest_closest(argv[1], names, n);
	if (best)
		return error_set(&ctx->err, ERR_USAGE,
				 "'%s' is not a 'ferry %s' command; did you mean '%s'?", argv[1],
				 family, best);
	return error_set(&ctx->err, ERR_USAGE,
			 "'%s' is not a 'ferry %s' command; see 'ferry %s --help'", argv[1], family,
			 family);
}
