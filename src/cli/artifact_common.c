/* The project's object cache for run artifacts, and logging files into a run. */
#include "util/common.h"
#include "cli/artifact_common.h"
#include "cli/cli.h"
#include "data/cas.h"
#include "project/project.h"
#include "track/artifacts.h"

int cli_artifact_cas(struct cas **out, struct ctx *ctx)
{
	char *cache;
	int rc;

	if (!ctx->project)
		return error_set(&ctx->err, ERR_USAGE, "run artifacts need a ferry project");
	cache = project_cache_dir(ctx->project);
	rc = cas_open(out, cache, "reflink,copy", &ctx->err);
	free(cache);
	return rc;
}

int cli_artifacts_local(const struct ctx *ctx)
{
	return ctx->project && ctx->store && ctx->tracking == ctx->store;
}

static int skipped(const struct ctx *ctx, const char *what)
{
	if (!ctx->quiet)
		fprintf(stderr,
			"note: %s not logged as a run artifact: the run is on a tracking "
			"server, and artifacts are kept in a project's store only\n",
			what);
	return 0;
}

int cli_log_artifact_dir(struct ctx *ctx, const char *run_id, const char *prefix, const char *dir,
			 size_t *nfiles)
{
	struct cas *cas = NULL;
	int rc;

	if (!cli_artifacts_local(ctx))
		return skipped(ctx, dir);
	if (!(rc = cli_artifact_cas(&cas, ctx)))
		rc =
		    track_artifact_put_dir(ctx->store, cas, run_id, prefix, dir, nfiles, &ctx->err);
	cas_free(cas);
	return rc;
}

int cli_log_artifact_file(struct ctx *ctx, const char *run_id, const char *path, const char *file)
{
	struct cas *cas = NULL;
	int rc;

	if (!cli_artifacts_local(ctx))
		return skipped(ctx, file);
	if (!(rc = cli_artifact_cas(&cas, ctx)))
		rc = track_artifact_put_file(ctx->store, cas, run_id, path, file, NULL, &ctx->err);
	cas_free(cas);
	return rc;
}
