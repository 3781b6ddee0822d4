/* `ferry help [COMMAND [SUBCOMMAND]]`: the command list, or one command's generated usage. */
#include "util/common.h"
#include "cli/cli.h"
#include "util/suggest.h"

static void list_commands(void)
{
	printf("usage: ferry [-C DIR] [--json] [-q] [-v] <command> [<args>]\n\n");
	printf("ferry takes a model from a notebook to production and keeps it healthy there.\n\n");
	printf("commands:\n");
	for (const struct command *c = commands; c->name; c++)
		printf("    %-12s%s\n", c->name, c->summary);
	printf("\nglobal options (before the command):\n");
	printf("    -C DIR        run as if started in DIR\n");
	printf("    --json        machine-readable output on stdout\n");
	printf("    -q, --quiet   no progress or chatter\n");
	printf("    -v            more detail; FERRY_LOG=debug does the same\n");
	printf("\nRun 'ferry help <command>' or 'ferry <command> --help' for one command.\n");
}

static int unknown_command(const char *name, struct ctx *ctx)
{
	const char *names[64];
	const char *best;
	size_t n = 0;

	for (const struct command *c = commands; c->name && n < ARRAY_SIZE(names); c++)
		names[n++] = c->name;
	best = suggest_closest(name, names, n);
	if (best)
		return error_set(&ctx->err, ERR_USAGE,
				 "'%s' is not a ferry command; did you mean '%s'?", name, best);
	return error_set(&ctx->err, ERR_USAGE, "'%s' is not a ferry command; see 'ferry help'",
			 name);
}

int cmd_help(int argc, const char **argv, struct ctx *ctx)
{
	const char *sub_argv[4];
	int n = 0;

	if (strcmp(argv[0], "help"))
		return unknown_command(argv[0], ctx); /* main.c routes unknown commands here */
	if (argc < 2) {
		list_commands();
		return 0;
	}
	if (!command_find(argv[1]))
		return unknown_command(argv[1], ctx);
	if (!strcmp(argv[1], "help")) {
		list_commands();
		return 0;
	}
	/* `ferry help store info` is `ferry store info --help`. */
	sub_argv[n++] = argv[1];
	if (argc > 2)
		sub_argv[n++] = argv[2];
	sub_argv[n++] = "--help";
	sub_argv[n] = NULL;
	return command_run(n, sub_argv, ctx);
}
