/* `ferry version`: ferry's version and the run-time versions of the libraries it links. */
#include "util/common.h"
#include "cli/cli.h"
#include "cli/options.h"
#include "cli/output.h"
#include "util/versions.h"

static const char *const version_usage[] = { "ferry version [--json]", NULL };

int cmd_version(int argc, const char **argv, struct ctx *ctx)
{
	int nargs, rc = parse_options(&nargs, argc, argv, NULL, version_usage, ctx);
	json_t *libs, *out;
	const char *key;
	json_t *v;

	if (rc)
		return rc;
	if (nargs > 0)
		return error_set(&ctx->err, ERR_USAGE, "'ferry version' takes no arguments");
	libs = versions_libraries();
	if (ctx->json) {
		out = json_pack("{s:s,s:o}", "ferry", FERRY_VERSION, "libraries", libs);
		output_json(out);
		json_decref(out);
		return 0;
	}
	printf("ferry %s\n", FERRY_VERSION);
	json_object_foreach(libs, key, v)
		printf("  %-14s%s\n", key, json_string_value(v));
	json_decref(libs);
	return 0;
}
