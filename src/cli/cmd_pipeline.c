/* Placeholder until the pipeline commands land (replaced by its owner this session). */
#include "util/common.h"
#include "cli/cli.h"
#include "util/error.h"

#define PLACEHOLDER(fn, what)                                                                      \
	int fn(int argc, const char **argv, struct ctx *ctx)                                       \
	{                                                                                          \
		(void)argc;                                                                        \
		(void)argv;                                                                        \
		return error_set(&ctx->err, ERR_UNSUPPORTED, what " is not built yet");            \
	}
PLACEHOLDER(cmd_repro, "ferry repro")
PLACEHOLDER(cmd_status, "ferry status")
PLACEHOLDER(cmd_metrics, "ferry metrics")
PLACEHOLDER(cmd_params, "ferry params")
