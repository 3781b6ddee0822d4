/* `ferry store info|check`: look inside the metadata store. */
#include "util/common.h"
#include "cli/cli.h"
#include "cli/options.h"
#include "cli/output.h"
#include "store/store.h"
#include "util/strbuf.h"

static const char *const info_usage[] = {
	"ferry store info",
	"",
	"Shows the store's backend, location, schema version and how many records it holds.",
	NULL,
};

static const char *const check_usage[] = {
	"ferry store check",
	"",
	"Verifies the store's integrity and foreign keys; exits 1 and lists problems if any.",
	NULL,
};

static int store_info_cmd(int argc, const char **argv, struct ctx *ctx)
{
	struct store_info info = { 0 };
	json_t *out;
	int nargs, rc = parse_options(&nargs, argc, argv, NULL, info_usage, ctx);

	if (rc)
		return rc;
	if (nargs > 0)
		return error_set(&ctx->err, ERR_USAGE, "'ferry store info' takes no arguments");
	rc = store_info(ctx->store, &info, &ctx->err);
	if (rc)
		return rc;
	out = json_pack("{s:s,s:s,s:i,s:i,s:{s:I,s:I,s:I,s:I,s:I,s:I}}", "backend", info.backend,
			"location", info.location, "schema_version", info.schema_version,
			"latest_schema_version", info.latest_schema_version, "counts",
			"experiments", (json_int_t)info.experiments, "runs", (json_int_t)info.runs,
			"metrics", (json_int_t)info.metrics, "datasets", (json_int_t)info.datasets,
			"registered_models", (json_int_t)info.registered_models, "model_versions",
			(json_int_t)info.model_versions);
	if (ctx->json) {
		output_json(out);
	} else {
		json_t *counts = json_incref(json_object_get(out, "counts"));

		json_object_del(out, "counts");
		output_fields(out);
		printf("\nrecords:\n");
		output_fields(counts);
		json_decref(counts);
	}
	json_decref(out);
	store_info_release(&info);
	return 0;
}

static int store_check_cmd(int argc, const char **argv, struct ctx *ctx)
{
	struct strbuf report = STRBUF_INIT;
	int nargs, rc = parse_options(&nargs, argc, argv, NULL, check_usage, ctx);

	if (rc)
		return rc;
	if (nargs > 0)
		return error_set(&ctx->err, ERR_USAGE, "'ferry store check' takes no arguments");
	rc = store_check(ctx->store, &report, &ctx->err);
	if (ctx->json) {
		json_t *out = json_pack("{s:b,s:s}", "ok", rc == 0, "problems", report.buf);

		output_json(out);
		json_decref(out);
	} else if (report.len) {
		fputs(report.buf, stdout);
	} else if (!rc && !ctx->quiet) {
		printf("store is consistent\n");
	}
	strbuf_release(&report);
	return rc;
}

static const struct subcommand store_subcommands[] = {
	{ "info", store_info_cmd, NEED_STORE,
	  "backend, location, schema version and record counts" },
	{ "check", store_check_cmd, NEED_STORE, "verify integrity and foreign keys" },
	{ NULL, NULL, 0, NULL },
};

int cmd_store(int argc, const char **argv, struct ctx *ctx)
{
	return subcommand_dispatch(argc, argv, store_subcommands, "store", ctx);
}
