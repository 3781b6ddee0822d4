/* Placeholder until 'ferry retrain' lands (replaced by its owner this session). */
#include "util/common.h"
#include "cli/cli.h"
#include "util/error.h"

int cmd_retrain(int argc, const char **argv, struct ctx *ctx)
{
	(void)argc;
	(void)argv;
	return error_set(&ctx->err, ERR_UNSUPPORTED, "ferry retrain is not built yet");
}
