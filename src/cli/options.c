/* Table-driven option parsing and generated --help for every command. */
#include "util/common.h"
#include "cli/options.h"
#include "cli/cli.h"
#include "util/parse.h"
#include "util/strbuf.h"
#include "util/suggest.h"

/* Options every command accepts; their values live in struct ctx. */
static const struct option common_opts_template[] = {
	OPT_BOOL(0, "json", NULL, "machine-readable output on stdout"),
	OPT_BOOL('q', "quiet", NULL, "no progress or chatter"),
	OPT_COUNT('v', "verbose", NULL, "more detail (repeat for more)"),
	OPT_BOOL('h', "help", NULL, "show this help"),
	OPT_END(),
};

enum {
	COMMON_JSON,
	COMMON_QUIET,
	COMMON_VERBOSE,
	COMMON_HELP,
	COMMON_COUNT
};

static const struct option *find_long(const struct option *opts, const char *name, size_t len)
{
	for (; opts->type != OPTION_END; opts++)
		if (opts->long_name && strlen(opts->long_name) == len &&
		    !memcmp(opts->long_name, name, len))
			return opts;
	return NULL;
}

static const struct option *find_short(const struct option *opts, int c)
{
	for (; opts->type != OPTION_END; opts++)
		if (opts->short_name && opts->short_name == c)
			return opts;
	return NULL;
}

static int unknown_long(const char *arg, size_t len, const struct option *opts,
			const struct option *common, struct ctx *ctx)
{
	const char *names[128];
	size_t n = 0;
	char word[128];
	const char *best;
	const struct option *lists[] = { opts, common };

	for (size_t l = 0; l < ARRAY_SIZE(lists); l++)
		for (const struct option *o = lists[l]; o->type != OPTION_END && n < 128; o++)
			if (o->long_name)
				names[n++] = o->long_name;
	snprintf(word, sizeof(word), "%.*s", (int)len, arg);
	best = suggest_closest(word, names, n);
	if (best)
		return error_set(&ctx->err, ERR_USAGE,
				 "unknown option '--%s'; did you mean '--%s'?", word, best);
	return error_set(&ctx->err, ERR_USAGE, "unknown option '--%s'", word);
}

static int set_value(const struct option *o, const char *value, int negated, struct ctx *ctx)
{
	int64_t n;

	switch (o->type) {
	case OPTION_BOOL:
		*(int *)o->value = !negated;
		return 0;
	case OPTION_COUNT:
		*(int *)o->value += 1;
		return 0;
	case OPTION_STRING:
		*(const char **)o->value = value;
		return 0;
	case OPTION_INT:
		if (parse_int64(value, &n))
			return error_set(&ctx->err, ERR_USAGE,
					 "option '--%s' expects an integer, got '%s'", o->long_name,
					 value);
		*(int64_t *)o->value = n;
		return 0;
	case OPTION_LIST: {
		struct option_list *l = o->value;

		ALLOC_GROW(l->v, l->nr + 1, l->alloc);
		l->v[l->nr++] = value;
		return 0;
	}
	case OPTION_END:
		break;
	}
	BUG("option type %d", o->type);
}

static int takes_value(const struct option *o)
{
	return o->type == OPTION_STRING || o->type == OPTION_INT || o->type == OPTION_LIST;
}

static const char *option_name(const struct option *o, char *buf, size_t size)
{
	if (o->long_name)
		snprintf(buf, size, "--%s", o->long_name);
	else
		snprintf(buf, size, "-%c", o->short_name);
	return buf;
}

/* Parses one "--name[=value]" argument; *i advances past a separate value. */
static int parse_long(int argc, const char **argv, int *i, const struct option *opts,
		      const struct option *common, struct ctx *ctx)
{
	const char *arg = argv[*i] + 2, *eq = strchr(arg, '='), *value = NULL;
	size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
	const struct option *o = find_long(opts, arg, len);
	int negated = 0;

	if (!o)
		o = find_long(common, arg, len);
	if (!o && len > 3 && !memcmp(arg, "no-", 3)) {
		o = find_long(opts, arg + 3, len - 3);
		if (o && o->type != OPTION_BOOL)
			o = NULL;
		negated = o != NULL;
	}
	if (!o)
		return unknown_long(arg, len, opts, common, ctx);
	if (takes_value(o)) {
		if (eq)
			value = eq + 1;
		else if (*i + 1 < argc)
			value = argv[++*i];
		else
			return error_set(&ctx->err, ERR_USAGE,
					 "option '--%s' requires a value (%s)", o->long_name,
					 o->argh ? o->argh : "VALUE");
	} else if (eq) {
		return error_set(&ctx->err, ERR_USAGE, "option '--%s' takes no value",
				 o->long_name);
	}
	return set_value(o, value, negated, ctx);
}

/* Parses a cluster of short options such as "-qv" or "-j4" / "-j 4". */
static int parse_short(int argc, const char **argv, int *i, const struct option *opts,
		       const struct option *common, struct ctx *ctx)
{
	const char *p = argv[*i] + 1;
	char name[64];

	for (; *p; p++) {
		const struct option *o = find_short(opts, *p);

		if (!o)
			o = find_short(common, *p);
		if (!o)
			return error_set(&ctx->err, ERR_USAGE, "unknown switch '-%c'", *p);
		if (!takes_value(o)) {
			int rc = set_value(o, NULL, 0, ctx);

			if (rc)
				return rc;
			continue;
		}
		if (p[1])
			return set_value(o, p + 1, 0, ctx);
		if (*i + 1 >= argc)
			return error_set(&ctx->err, ERR_USAGE, "option '%s' requires a value (%s)",
					 option_name(o, name, sizeof(name)),
					 o->argh ? o->argh : "VALUE");
		return set_value(o, argv[++*i], 0, ctx);
	}
	return 0;
}

int parse_options(int *nargs, int argc, const char **argv, const struct option *opts,
		  const char *const *usage, struct ctx *ctx)
{
	struct option common[COMMON_COUNT + 1];
	int help = 0, npos = 0, rc = 0;
	static const struct option no_opts[] = { OPT_END() };

	if (!opts)
		opts = no_opts;
	memcpy(common, common_opts_template, sizeof(common));
	common[COMMON_JSON].value = &ctx->json;
	common[COMMON_QUIET].value = &ctx->quiet;
	common[COMMON_VERBOSE].value = &ctx->verbose;
	common[COMMON_HELP].value = &help;

	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];

		if (!strcmp(arg, "--")) {
			while (++i < argc)
				argv[npos++] = argv[i];
			break;
		}
		if (arg[0] == '-' && arg[1] == '-')
			rc = parse_long(argc, argv, &i, opts, common, ctx);
		else if (arg[0] == '-' && arg[1])
			rc = parse_short(argc, argv, &i, opts, common, ctx);
		else
			argv[npos++] = arg;
		if (rc)
			return rc;
		if (help) {
			usage_print(usage, opts);
			return CLI_DONE;
		}
	}
	*nargs = npos;
	return 0;
}

static void print_option_table(const struct option *opts)
{
	struct strbuf left = STRBUF_INIT;

	for (const struct option *o = opts; o->type != OPTION_END; o++) {
		strbuf_reset(&left);
		strbuf_addstr(&left, "    ");
		if (o->short_name)
			strbuf_addf(&left, "-%c%s", o->short_name, o->long_name ? ", " : "");
		else
			strbuf_addstr(&left, "    ");
		if (o->long_name)
			strbuf_addf(&left, "--%s", o->long_name);
		if (takes_value(o))
			strbuf_addf(&left, o->long_name ? "=%s" : " %s",
				    o->argh ? o->argh : "VALUE");
		if (left.len >= 30)
			printf("%s\n%30s%s\n", left.buf, "", o->help);
		else
			printf("%-30s%s\n", left.buf, o->help);
	}
	strbuf_release(&left);
}

void usage_print(const char *const *usage, const struct option *opts)
{
	int text = 0; /* after an empty line, usage lines are description, printed as they are */

	for (int i = 0; usage && usage[i]; i++) {
		text |= !usage[i][0];
		if (text)
			printf("%s\n", usage[i]);
		else
			printf("%s %s\n", i ? "   or:" : "usage:", usage[i]);
	}
	if (opts && opts->type != OPTION_END) {
		printf("\n");
		print_option_table(opts);
	}
	printf("\ncommon options:\n");
	print_option_table(common_opts_template);
}
