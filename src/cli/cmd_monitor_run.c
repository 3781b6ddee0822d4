/* Placeholder until 'ferry monitor run' and 'history' land (replaced by its owner this session). */
#include "util/common.h"
#include "cli/cli.h"
#include "util/error.h"

int cmd_monitor_run(int argc, const char **argv, struct ctx *ctx)
{
	(void)argc;
	(void)argv;
	return error_set(&ctx->err, ERR_UNSUPPORTED, "ferry monitor run is not built yet");
}

int cmd_monitor_history(int argc, const char **argv, struct ctx *ctx)
{
	(void)argc;
	(void)argv;
	return error_set(&ctx->err, ERR_UNSUPPORTED, "ferry monitor history is not built yet");
}
