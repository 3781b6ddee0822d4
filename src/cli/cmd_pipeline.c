/*
 * The pipeline commands: `ferry repro`, `ferry status`, `ferry metrics show|diff` and
 * `ferry params diff`, over ferry.yaml and ferry.lock (src/pipeline/).
 */
#include "util/common.h"
#include "cli/cli.h"
#include "cli/options.h"
#include "cli/output.h"
#include "data/cas.h"
#include "data/git.h"
#include "pipeline/dag.h"
#include "pipeline/diff.h"
#include "pipeline/exec.h"
#include "pipeline/pipeline.h"
#include "project/project.h"
#include "util/parse.h"

#include <signal.h>

/* What every pipeline command loads: ferry.yaml, its graph, the object cache. */
struct pipe_cli {
	struct pipeline p;
	struct dag d;
	struct cas *cas;
	char git_commit[41];
	struct repro_env env;
};
#define PIPE_CLI_INIT                                                                              \
	{                                                                                          \
		PIPELINE_INIT, DAG_INIT, NULL, "",                                                 \
		{                                                                                  \
			0                                                                          \
		}                                                                                  \
	}

static int pipe_cli_open(struct pipe_cli *pc, struct ctx *ctx, int with_cas)
{
	struct project *proj = ctx->project;
	int rc = pipeline_load(&pc->p, proj->root, &ctx->err);

	if (!rc)
		rc = dag_build(&pc->d, &pc->p, &ctx->err);
	if (!rc && with_cas) {
		char *cache = project_cache_dir(proj);

		/* never hardlinks: a stage's outputs stay writable files of its own */
		rc = cas_open(&pc->cas, cache, "reflink,copy", &ctx->err);
		free(cache);
	}
	pc->env.root = proj->root;
	pc->env.ferry_dir = proj->dir;
	pc->env.store = ctx->store;
	pc->env.tracking = ctx->tracking;
	pc->env.cas = pc->cas;
	if (!git_head(pc->git_commit, proj->root, &ctx->err)) {
		pc->env.git_commit = pc->git_commit;
		pc->env.git_dirty = git_dirty(proj->root);
	}
	return rc;
}

static void pipe_cli_release(struct pipe_cli *pc)
{
	dag_release(&pc->d);
	pipeline_release(&pc->p);
	cas_free(pc->cas);
}

static json_t *results_json(const struct pipe_cli *pc, const struct stage_result *r)
{
	json_t *arr = json_array();

	for (size_t k = 0; k < pc->p.nr; k++) {
		size_t i = pc->d.order[k];
		json_t *o;

		if (r[i].outcome == OUTCOME_NOT_SELECTED)
			continue;
		o = json_pack("{s:s, s:s, s:s}", "stage", pc->p.stages[i].name, "outcome",
			      stage_outcome_name(r[i].outcome), "why", r[i].why ? r[i].why : "");
		if (r[i].run_id[0])
			json_object_set_new(o, "run_id", json_string(r[i].run_id));
		if (r[i].error)
			json_object_set_new(o, "error", json_string(r[i].error));
		if (r[i].outcome == OUTCOME_RAN || r[i].outcome == OUTCOME_RESTORED)
			json_object_set_new(o, "seconds", json_real(r[i].seconds));
		json_array_append_new(arr, o);
	}
	return json_pack("{s:o}", "stages", arr);
}

/* repro ------------------------------------------------------------------------------------------ */

static const char *const repro_usage[] = {
	"ferry repro [STAGE...] [-j N] [--force] [--dry-run] [--no-run-cache]",
	"",
	"Runs the stale stages of ferry.yaml (of the named stages and what they depend on),",
	"in dependency order, independent ones in parallel with -j. A stage is stale when its",
	"cmd, a dep, a param or an out differs from ferry.lock; when its deps, params and cmd",
	"match an earlier execution, its outputs come back from the run cache instead of running",
	"it. Each stage that runs is a tracked run. A failed stage keeps its previous outputs and",
	"ferry.lock as they were. --dry-run prints what would run and why.",
	NULL,
};

static void on_output(void *data, const char *stage, int is_err, const char *line, size_t len)
{
	const struct ctx *ctx = data;
	FILE *fp = is_err || ctx->json ? stderr : stdout;

	fprintf(fp, "[%s] %.*s\n", stage, (int)len, line);
	fflush(fp);
}

static void on_event(void *data, const char *stage, enum repro_event ev, const char *detail)
{
	const struct ctx *ctx = data;

	if (ctx->quiet && ev != EVENT_FAILED && ev != EVENT_WAITING && ev != EVENT_SKIPPED)
		return;
	switch (ev) {
	case EVENT_RUNNING:
		fprintf(stderr, "ferry: running stage '%s': %s\n", stage, detail);
		break;
	case EVENT_RESTORED:
		fprintf(stderr, "ferry: restored stage '%s' from the run cache (%s)\n", stage,
			detail);
		break;
	case EVENT_UP_TO_DATE:
		fprintf(stderr, "ferry: stage '%s' is up to date\n", stage);
		break;
	case EVENT_WAITING:
		fprintf(stderr,
			"ferry: stage '%s': waiting for another ferry repro holding '%s'...\n",
			stage, detail);
		break;
	case EVENT_FINISHED:
		fprintf(stderr, "ferry: stage '%s' done (run %s)\n", stage, detail);
		break;
	case EVENT_FAILED:
		fprintf(stderr, "ferry: stage '%s' failed: %s\n", stage, detail);
		break;
	case EVENT_SKIPPED:
		fprintf(stderr, "ferry: stage '%s' not run: %s\n", stage, detail);
		break;
	}
}

static volatile sig_atomic_t stop_signal;

static void on_stop(int sig)
{
	stop_signal = sig;
}

/*
 * Interrupted, ferry must live to put the previous outputs back: the signal is recorded, no
 * stage starts any more, and the running commands get it too.
 */
static void catch_signals(void (*fn)(int))
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fn;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

static void print_plan(const struct pipe_cli *pc, const struct stage_result *r, const char *verb)
{
	int any = 0;

	for (size_t k = 0; k < pc->p.nr; k++) {
		size_t i = pc->d.order[k];

		if (r[i].outcome != OUTCOME_WOULD_RUN)
			continue;
		printf("%s%s: %s\n", verb, pc->p.stages[i].name, r[i].why);
		any = 1;
	}
	if (!any)
		printf("pipeline is up to date\n");
}

int cmd_repro(int argc, const char **argv, struct ctx *ctx)
{
	int64_t jobs = 1;
	int force = 0, dry_run = 0, no_run_cache = 0;
	const char *experiment = NULL;
	struct option opts[] = {
		OPT_INT('j', "jobs", &jobs, "N", "stages to run at once (default 1)"),
		OPT_BOOL('f', "force", &force, "run the stages even if they are up to date"),
		OPT_BOOL(0, "dry-run", &dry_run, "print what would run and why; run nothing"),
		OPT_BOOL(0, "no-run-cache", &no_run_cache,
			 "run stale stages even if the run cache has their outputs"),
		OPT_STRING(0, "experiment", &experiment, "NAME",
			   "the experiment of the stages' runs (default: Default)"),
		OPT_END(),
	};
	struct pipe_cli pc = PIPE_CLI_INIT;
	struct repro_options o = { 0 };
	struct repro_hooks hooks = { on_output, on_event, ctx };
	struct stage_result *res = NULL;
	int nargs, rc = parse_options(&nargs, argc, argv, opts, repro_usage, ctx);

	if (rc)
		return rc;
	if (jobs < 1 || jobs > 256)
		return error_set(&ctx->err, ERR_USAGE, "-j expects 1 to 256, got %" PRId64, jobs);
	if ((rc = cli_open(ctx, dry_run ? NEED_STORE : NEED_STORE | NEED_TRACKING)) ||
	    (rc = pipe_cli_open(&pc, ctx, 1)))
		goto out;
	pc.env.experiment = experiment;
	o.jobs = (int)jobs;
	o.force = force;
	o.dry_run = dry_run;
	o.no_run_cache = no_run_cache;
	o.targets = argv;
	o.ntargets = (size_t)nargs;
	o.stop = &stop_signal;
	catch_signals(on_stop);
	rc = pipeline_repro(&res, &pc.env, &pc.p, &pc.d, &o, &hooks, &ctx->err);
	catch_signals(SIG_DFL);
	if (res && ctx->json) {
		json_t *j = results_json(&pc, res);

		/* the failure goes into the stages' document, not into a second one after it */
		if (rc < 0)
			json_object_set_new(
			    j, "error",
			    json_pack("{s:s,s:s}", "code", error_code_name(rc), "message",
				      ctx->err.msg[0] ? ctx->err.msg : "operation failed"));
		output_json(j);
		json_decref(j);
		ctx->json_printed = 1;
	} else if (res && dry_run) {
		print_plan(&pc, res, "would run ");
	}
out:
	stage_results_free(res, pc.p.nr);
	pipe_cli_release(&pc);
	return rc;
}

/* status ----------------------------------------------------------------------------------------- */

static const char *const status_usage[] = {
	"ferry status [STAGE...]",
	"",
	"Prints the pipeline's stale stages and why (\"dep 'data/x.csv' changed\", \"param",
	"'params.yaml:train.C' changed (1 -> 2)\", \"out 'model' missing\", \"never run\"); a",
	"stage below a stale one is stale too. Nothing is run or written.",
	NULL,
};

int cmd_status(int argc, const char **argv, struct ctx *ctx)
{
	struct option opts[] = { OPT_END() };
	struct pipe_cli pc = PIPE_CLI_INIT;
	struct repro_options o = { 0 };
	struct stage_result *res = NULL;
	int nargs, rc = parse_options(&nargs, argc, argv, opts, status_usage, ctx);

	if (rc)
		return rc;
	if ((rc = cli_open(ctx, NEED_STORE)) || (rc = pipe_cli_open(&pc, ctx, 1)))
		goto out;
	o.targets = argv;
	o.ntargets = (size_t)nargs;
	rc = pipeline_plan(&res, &pc.env, &pc.p, &pc.d, &o, &ctx->err);
	if (!rc && ctx->json) {
		json_t *j = results_json(&pc, res);

		output_json(j);
		json_decref(j);
	} else if (!rc) {
		print_plan(&pc, res, "");
	}
out:
	stage_results_free(res, pc.p.nr);
	pipe_cli_release(&pc);
	return rc;
}

/* metrics and params ------------------------------------------------------------------------------ */

static void print_diff(const struct pchange *ch, size_t n, const char *rev, const char *what,
		       int numeric, int json)
{
	json_t *arr = json_array();

	if (!json && n)
		printf("%-24s %-28s %-14s %-14s%s\n", "Path", what, rev, "workspace",
		       numeric ? " Change" : "");
	for (size_t i = 0; i < n; i++) {
		double a, b;
		char change[FORMAT_DOUBLE_SIZE] = "-";
		int both = numeric && ch[i].old && ch[i].new_ && !parse_double(ch[i].old, &a) &&
			   !parse_double(ch[i].new_, &b);

		if (both)
			format_double(change, b - a);
		if (json) {
			json_t *o = json_pack("{s:s, s:s, s:s?, s:s?}", "path", ch[i].path, "key",
					      ch[i].key, "old", ch[i].old, "new", ch[i].new_);

			if (both)
				json_object_set_new(o, "change", json_real(b - a));
			json_array_append_new(arr, o);
			continue;
		}
		printf("%-24s %-28s %-14s %-14s%s%s\n", ch[i].path,
		       *ch[i].key ? ch[i].key : "(all)", ch[i].old ? ch[i].old : "-",
		       ch[i].new_ ? ch[i].new_ : "-", numeric ? " " : "", numeric ? change : "");
	}
	if (json)
		output_json(arr);
	else if (!n)
		printf("no %s changed\n", numeric ? "metrics" : "params");
	json_decref(arr);
}

static int diff_cmd(int argc, const char **argv, struct ctx *ctx, int metrics,
		    const char *const *usage)
{
	int all = 0;
	struct option opts[] = {
		OPT_BOOL('a', "all", &all, "also list the values that did not change"),
		OPT_END(),
	};
	struct pipe_cli pc = PIPE_CLI_INIT;
	struct pvalues old = PVALUES_INIT, cur = PVALUES_INIT;
	struct pchange *ch = NULL;
	size_t n = 0;
	const char *rev = "HEAD";
	int nargs, rc = parse_options(&nargs, argc, argv, opts, usage, ctx);

	if (rc)
		return rc;
	if (nargs > 1)
		return error_set(&ctx->err, ERR_USAGE, "expected at most one revision, got %d",
				 nargs);
	if (nargs)
		rev = argv[0];
	if ((rc = cli_open(ctx, NEED_PROJECT)) || (rc = pipe_cli_open(&pc, ctx, 0)))
		goto out;
	rc = metrics ? pipe_metrics(&old, &pc.p, ctx->project->root, rev, &ctx->err)
		     : pipe_params(&old, &pc.p, ctx->project->root, rev, &ctx->err);
	if (!rc)
		rc = metrics ? pipe_metrics(&cur, &pc.p, ctx->project->root, NULL, &ctx->err)
			     : pipe_params(&cur, &pc.p, ctx->project->root, NULL, &ctx->err);
	if (rc)
		goto out;
	pvalues_diff(&ch, &n, &old, &cur, all);
	print_diff(ch, n, rev, metrics ? "Metric" : "Param", metrics, ctx->json);
out:
	free(ch);
	pvalues_release(&old);
	pvalues_release(&cur);
	pipe_cli_release(&pc);
	return rc;
}

static const char *const metrics_diff_usage[] = {
	"ferry metrics diff [REV] [--all]",
	"",
	"Compares the numbers in the pipeline's metrics files in the workspace with REV",
	"(default HEAD): path, metric, old value, new value and the change.",
	NULL,
};

static int metrics_diff(int argc, const char **argv, struct ctx *ctx)
{
	return diff_cmd(argc, argv, ctx, 1, metrics_diff_usage);
}

static const char *const metrics_show_usage[] = {
	"ferry metrics show",
	"",
	"Prints every number in the pipeline's metrics files (nested keys joined with '.').",
	NULL,
};

static int metrics_show(int argc, const char **argv, struct ctx *ctx)
{
	struct option opts[] = { OPT_END() };
	struct pipe_cli pc = PIPE_CLI_INIT;
	struct pvalues cur = PVALUES_INIT;
	int nargs, rc = parse_options(&nargs, argc, argv, opts, metrics_show_usage, ctx);

	if (rc)
		return rc;
	if (nargs)
		return error_set(&ctx->err, ERR_USAGE, "unexpected argument '%s'", argv[0]);
	if ((rc = cli_open(ctx, NEED_PROJECT)) || (rc = pipe_cli_open(&pc, ctx, 0)) ||
	    (rc = pipe_metrics(&cur, &pc.p, ctx->project->root, NULL, &ctx->err)))
		goto out;
	if (ctx->json) {
		json_t *j = json_object();

		for (size_t i = 0; i < cur.nr; i++) {
			json_t *file = json_object_get(j, cur.v[i].path);
			double v = 0;

			if (!file)
				json_object_set_new(j, cur.v[i].path, file = json_object());
			parse_double(cur.v[i].value, &v);
			json_object_set_new(file, cur.v[i].key, json_real(v));
		}
		output_json(j);
		json_decref(j);
	} else {
		for (size_t i = 0; i < cur.nr; i++)
			printf("%s\t%s\t%s\n", cur.v[i].path, cur.v[i].key, cur.v[i].value);
	}
out:
	pvalues_release(&cur);
	pipe_cli_release(&pc);
	return rc;
}

static const struct subcommand metrics_subcommands[] = {
	{ "show", metrics_show, 0, "the numbers in the pipeline's metrics files" },
	{ "diff", metrics_diff, 0, "compare them with a git revision (default HEAD)" },
	{ NULL, NULL, 0, NULL },
};

int cmd_metrics(int argc, const char **argv, struct ctx *ctx)
{
	return subcommand_dispatch(argc, argv, metrics_subcommands, "metrics", ctx);
}

static const char *const params_diff_usage[] = {
	"ferry params diff [REV] [--all]",
	"",
	"Compares the params the pipeline's stages declare in the workspace with REV (default",
	"HEAD): file, key, old value and new value.",
	NULL,
};

static int params_diff(int argc, const char **argv, struct ctx *ctx)
{
	return diff_cmd(argc, argv, ctx, 0, params_diff_usage);
}

static const struct subcommand params_subcommands[] = {
	{ "diff", params_diff, 0, "compare the stages' params with a git revision" },
	{ NULL, NULL, 0, NULL },
};

int cmd_params(int argc, const char **argv, struct ctx *ctx)
{
	return subcommand_dispatch(argc, argv, params_subcommands, "params", ctx);
}
