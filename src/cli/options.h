/*
 * Command-line options declared as data (git's parse-options): each command lists its options
 * in an array, parse_options() fills the variables they point at, and --help is generated from
 * the same array, so usage text cannot drift from what is accepted.
 */
#ifndef FERRY_CLI_OPTIONS_H
#define FERRY_CLI_OPTIONS_H

#include <stdint.h>

struct ctx;

enum option_type {
	OPTION_END,
	OPTION_BOOL,   /* int *: set to 1; --no-<long> sets 0 */
	OPTION_COUNT,  /* int *: incremented each time */
	OPTION_STRING, /* const char **: borrowed from argv */
	OPTION_INT,    /* int64_t *: strictly parsed */
	OPTION_LIST,   /* struct option_list *: each use appends (borrowed from argv) */
};

/* The values of a repeatable option, in order; free v (not the strings) when done. */
struct option_list {
	const char **v;
	size_t nr, alloc;
};

#define OPTION_LIST_INIT                                                                           \
	{                                                                                          \
		NULL, 0, 0                                                                         \
	}

struct option {
	enum option_type type;
	int short_name;	       /* 0 for none */
	const char *long_name; /* NULL for none */
	void *value;
	const char *argh; /* placeholder in help, e.g. "DIR" */
	const char *help;
};

#define OPT_BOOL(s, l, v, h)                                                                       \
	{                                                                                          \
		OPTION_BOOL, (s), (l), (v), NULL, (h)                                              \
	}
#define OPT_COUNT(s, l, v, h)                                                                      \
	{                                                                                          \
		OPTION_COUNT, (s), (l), (v), NULL, (h)                                             \
	}
#define OPT_STRING(s, l, v, a, h)                                                                  \
	{                                                                                          \
		OPTION_STRING, (s), (l), (v), (a), (h)                                             \
	}
#define OPT_INT(s, l, v, a, h)                                                                     \
	{                                                                                          \
		OPTION_INT, (s), (l), (v), (a), (h)                                                \
	}
#define OPT_LIST(s, l, v, a, h)                                                                    \
	{                                                                                          \
		OPTION_LIST, (s), (l), (v), (a), (h)                                               \
	}
#define OPT_END()                                                                                  \
	{                                                                                          \
		OPTION_END, 0, NULL, NULL, NULL, NULL                                              \
	}

/*
 * Parses argv[1..] (argv[0] is the command name) against opts plus the options every command
 * takes (--json, -q, -v, -h/--help, which set ctx). Positional arguments are moved to the front
 * of argv, starting at argv[0], and *nargs receives their number; "--" ends option parsing.
 *
 * usage: NULL-terminated lines such as "ferry init [options]", printed by --help.
 * Returns 0; CLI_DONE after printing help (the command returns it: exit 0); ERR_USAGE with
 * ctx->err set ("unknown option '--frce'; did you mean '--force'?").
 */
int parse_options(int *nargs, int argc, const char **argv, const struct option *opts,
		  const char *const *usage, struct ctx *ctx);

/* Prints the usage lines and the options table to stdout. */
void usage_print(const char *const *usage, const struct option *opts);

#endif
