/* `ferry config list|get KEY`: show the project configuration as ferry reads it. */
#include "util/common.h"
#include "cli/cli.h"
#include "cli/options.h"
#include "cli/output.h"
#include "project/project.h"
#include "util/suggest.h"

static const char *const list_usage[] = {
	"ferry config list",
	"",
	"Prints every configuration key with the value in effect (file or default).",
	NULL,
};

static const char *const get_usage[] = {
	"ferry config get KEY",
	"",
	"Prints one key's value, e.g. 'ferry config get store'.",
	NULL,
};

static int config_list_cmd(int argc, const char **argv, struct ctx *ctx)
{
	json_t *out;
	int nargs, rc = parse_options(&nargs, argc, argv, NULL, list_usage, ctx);

	if (rc)
		return rc;
	if (nargs > 0)
		return error_set(&ctx->err, ERR_USAGE, "'ferry config list' takes no arguments");
	out = json_object();
	for (int i = 0; config_keys[i]; i++) {
		char *v = config_get(&ctx->project->config, config_keys[i]);

		json_object_set_new(out, config_keys[i], json_string(v));
		free(v);
	}
	if (ctx->json)
		output_json(out);
	else
		output_fields(out);
	json_decref(out);
	return 0;
}

static int config_get_cmd(int argc, const char **argv, struct ctx *ctx)
{
	const char *best;
	char *v;
	size_t n = 0;
	int nargs, rc = parse_options(&nargs, argc, argv, NULL, get_usage, ctx);

	if (rc)
		return rc;
	if (nargs != 1)
		return error_set(&ctx->err, ERR_USAGE, "'ferry config get' takes exactly one KEY");
	v = config_get(&ctx->project->config, argv[0]);
	if (!v) {
		while (config_keys[n])
			n++;
		best = suggest_closest(argv[0], config_keys, n);
		if (best)
			return error_set(&ctx->err, ERR_NOTFOUND,
					 "unknown config key '%s'; did you mean '%s'?", argv[0],
					 best);
		return error_set(&ctx->err, ERR_NOTFOUND, "unknown config key '%s'", argv[0]);
	}
	if (ctx->json) {
		json_t *out = json_pack("{s:s}", argv[0], v);

		output_json(out);
		json_decref(out);
	} else {
		printf("%s\n", v);
	}
	free(v);
	return 0;
}

static const struct subcommand config_subcommands[] = {
	{ "list", config_list_cmd, NEED_PROJECT, "every key with the value in effect" },
	{ "get", config_get_cmd, NEED_PROJECT, "one key's value" },
	{ NULL, NULL, 0, NULL },
};

int cmd_config(int argc, const char **argv, struct ctx *ctx)
{
	return subcommand_dispatch(argc, argv, config_subcommands, "config", ctx);
}
