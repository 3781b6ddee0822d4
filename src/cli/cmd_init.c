/* `ferry init [DIR]`: make a directory (normally a git repository's top) a ferry project. */
#include "util/common.h"
#include "cli/cli.h"
#include "cli/options.h"
#include "cli/output.h"
#include "project/project.h"
#include "util/fs.h"

static const char *const init_usage[] = {
	"ferry init [DIR]",
	"",
	"Creates .ferry/ in DIR (default: the current directory): config.yaml to commit, and the",
	"metadata store and object cache, which .ferry/.gitignore keeps out of git.",
	NULL,
};

int cmd_init(int argc, const char **argv, struct ctx *ctx)
{
	struct project_init_result res = { 0 };
	char *dir = NULL;
	json_t *out = NULL;
	int nargs, rc = parse_options(&nargs, argc, argv, NULL, init_usage, ctx);

	if (rc)
		return rc;
	if (nargs > 1)
		return error_set(&ctx->err, ERR_USAGE, "'ferry init' takes at most one directory");
	if (nargs == 1) {
		rc = fs_mkdir_p(argv[0], 0755, &ctx->err);
		if (rc)
			return rc;
	}
	rc = fs_realpath(&dir, nargs == 1 ? argv[0] : ".", &ctx->err);
	if (rc)
		return rc;
	rc = project_init(&res, dir, &ctx->err);
	if (rc)
		goto out;
	out = json_pack("{s:s,s:s+,s:b,s:i}", "root", res.root, "config", res.root,
			"/" PROJECT_DIR "/config.yaml", "git", res.in_git, "schema_version",
			res.schema_version);
	if (ctx->json) {
		output_json(out);
	} else if (!ctx->quiet) {
		printf("Initialized ferry project in %s/%s\n", res.root, PROJECT_DIR);
		printf("  commit %s/config.yaml; the store and cache stay local\n", PROJECT_DIR);
		if (!res.in_git)
			printf(
			    "hint: '%s' is not in a git repository; ferry records the git commit "
			    "of data and runs, so run 'git init' to get lineage\n",
			    res.root);
	}
out:
	json_decref(out);
	project_init_result_release(&res);
	free(dir);
	return rc;
}
