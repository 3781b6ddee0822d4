/* `ferry remote add|list|remove|default`: where data push and pull go (in config.yaml). */
#include "util/common.h"
#include "cli/cli.h"
#include "cli/data_common.h"
#include "cli/options.h"
#include "cli/output.h"
#include "data/remote.h"
#include "project/project.h"
#include "util/fs.h"

static const char *const add_usage[] = {
	"ferry remote add [--default] NAME URL",
	"",
	"URL: a directory (absolute or relative to here) or file:///path; s3:// comes later.",
	"The first remote becomes the default.",
	NULL,
};

static int remote_add(int argc, const char **argv, struct ctx *ctx)
{
	struct config *cfg = &ctx->project->config;
	int make_default = 0;
	struct option opts[] = {
		OPT_BOOL(0, "default", &make_default, "make it the default remote"),
		OPT_END(),
	};
	char *url = NULL;
	int nargs, rc = parse_options(&nargs, argc, argv, opts, add_usage, ctx);

	if (rc)
		return rc;
	if (nargs != 2)
		return error_set(&ctx->err, ERR_USAGE, "'ferry remote add' takes NAME and URL");
	rc = remote_url_check(argv[1], &ctx->err);
	if (rc)
		return rc;
	/* A relative directory is relative to where the user stands, not to later commands. */
	if (argv[1][0] != '/' && !strstr(argv[1], "://")) {
		char *joined = fs_path_join(data_cwd(), argv[1]);

		url = fs_path_normalize(joined);
		free(joined);
	} else {
		url = xstrdup(argv[1]);
	}
	if (!rc)
		rc = config_remote_add(cfg, argv[0], url, &ctx->err);
	if (!rc && make_default) {
		free(cfg->default_remote);
		cfg->default_remote = xstrdup(argv[0]);
	}
	if (!rc)
		rc = config_save(cfg, ctx->project->config_path, &ctx->err);
	if (!rc && !ctx->quiet && !ctx->json)
		printf("added remote '%s' -> %s%s\n", argv[0], url,
		       !strcmp(cfg->default_remote, argv[0]) ? " (default)" : "");
	free(url);
	return rc;
}

static const char *const list_usage[] = { "ferry remote list", NULL };

static int remote_list(int argc, const char **argv, struct ctx *ctx)
{
	const struct config *cfg = &ctx->project->config;
	json_t *out = json_array();
	int nargs, rc = parse_options(&nargs, argc, argv, NULL, list_usage, ctx);

	if (rc)
		goto out;
	for (size_t i = 0; i < cfg->nr_remotes; i++) {
		int is_default =
		    cfg->default_remote && !strcmp(cfg->default_remote, cfg->remotes[i].name);

		json_array_append_new(out,
				      json_pack("{s:s,s:s,s:b}", "name", cfg->remotes[i].name,
						"url", cfg->remotes[i].url, "default", is_default));
		if (!ctx->json)
			printf("%s%s\t%s\n", cfg->remotes[i].name, is_default ? " (default)" : "",
			       cfg->remotes[i].url);
	}
	if (ctx->json)
		output_json(out);
out:
	json_decref(out);
	return rc;
}

static const char *const remove_usage[] = { "ferry remote remove NAME", NULL };

static int remote_remove(int argc, const char **argv, struct ctx *ctx)
{
	int nargs, rc = parse_options(&nargs, argc, argv, NULL, remove_usage, ctx);

	if (rc)
		return rc;
	if (nargs != 1)
		return error_set(&ctx->err, ERR_USAGE, "'ferry remote remove' takes one NAME");
	rc = config_remote_remove(&ctx->project->config, argv[0], &ctx->err);
	if (!rc)
		rc = config_save(&ctx->project->config, ctx->project->config_path, &ctx->err);
	return rc;
}

static const char *const default_usage[] = { "ferry remote default NAME", NULL };

static int remote_default(int argc, const char **argv, struct ctx *ctx)
{
	struct config *cfg = &ctx->project->config;
	int nargs, rc = parse_options(&nargs, argc, argv, NULL, default_usage, ctx);

	if (rc)
		return rc;
	if (nargs != 1)
		return error_set(&ctx->err, ERR_USAGE, "'ferry remote default' takes one NAME");
	if (!config_remote_find(cfg, argv[0]))
		return error_set(&ctx->err, ERR_NOTFOUND, "no remote named '%s'", argv[0]);
	free(cfg->default_remote);
	cfg->default_remote = xstrdup(argv[0]);
	return config_save(cfg, ctx->project->config_path, &ctx->err);
}

static const struct subcommand remote_subcommands[] = {
	{ "add", remote_add, NEED_PROJECT, "add a remote" },
	{ "list", remote_list, NEED_PROJECT, "list remotes" },
	{ "remove", remote_remove, NEED_PROJECT, "remove a remote" },
	{ "default", remote_default, NEED_PROJECT, "choose the default remote" },
	{ NULL, NULL, 0, NULL },
};

int cmd_remote(int argc, const char **argv, struct ctx *ctx)
{
	return subcommand_dispatch(argc, argv, remote_subcommands, "remote", ctx);
}
