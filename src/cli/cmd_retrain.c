/*
 * `ferry retrain [NAME] [--dry-run] [--watch]`: the self-retraining loop over the policies of
 * ferry.yaml's `retrain:` section (retrain/retrain.h does one pass; this file prints, loops and
 * chooses the exit status).
 */
#include "util/common.h"
#include "cli/artifact_common.h"
#include "cli/cli.h"
#include "cli/options.h"
#include "cli/output.h"
#include "data/cas.h"
#include "project/project.h"
#include "retrain/retrain.h"
#include "track/tracking.h"
#include "util/fs.h"
#include "util/xalloc.h"

#include <math.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

/* Exit codes (1 error and 2 usage come from cli_exit_code). */
#define EXIT_REJECTED 3

static const char *const retrain_usage[] = {
	"ferry retrain [NAME] [--dry-run] [--force] [--json]",
	"ferry retrain --watch [NAME] [--interval DURATION]",
	"",
	"Checks the retraining triggers of model NAME (every model of ferry.yaml's 'retrain:'",
	"section without NAME) against the monitoring results `ferry monitor run` stored since",
	"the champion got its alias. When one fires: trains a challenger on the current data",
	"(`ferry train`, or `ferry repro STAGE`) and registers it as the next version, scores",
	"challenger and champion on the policy's held-out data, checks the gate, moves the alias",
	"when it passes or keeps the champion otherwise, and records the decision with evidence",
	"(trigger values, both metric sets) in `ferry models history`. See docs/retraining.md.",
	"",
	"--dry-run prints the triggers with their values and the training that would run.",
	"--watch repeats every --interval (default: each policy's interval) until SIGTERM or",
	"SIGINT, which let the current pass finish.",
	"",
	"Exit status: 0 nothing to do, promoted, or a dry run; 3 a challenger was rejected (the",
	"champion stays); 1 an error; 2 a usage error. --watch exits 0 when stopped.",
	NULL,
};

struct args {
	int dry_run, force, watch, no_wait;
	const char *interval, *file;
};

static volatile sig_atomic_t stop_signal;

static void on_stop(int sig)
{
	stop_signal = sig;
}

/* ---- printing ------------------------------------------------------------------------------- */

static void print_triggers(const struct retrain_outcome *r)
{
	for (size_t i = 0; i < r->check.nr; i++) {
		const struct retrain_trigger_check *t = &r->check.items[i];
		const char *state = t->truth == ALERT_TRUE    ? "FIRES"
				    : t->truth == ALERT_FALSE ? "quiet"
							      : "unknown";

		printf("  trigger %-12s %-7s %s\n", t->trigger->name, state,
		       t->detail ? t->detail : "");
	}
}

static void print_metrics(const struct retrain_outcome *r)
{
	const char *key;
	json_t *v;

	printf("  %-12s %14s", "metric", "challenger");
	if (r->champion_metrics)
		printf(" %14s", "champion");
	printf("\n");
	json_object_foreach(r->challenger_metrics, key, v) {
		const json_t *w = json_object_get(r->champion_metrics, key);

		printf("  %-12s %14.6g", key, json_number_value(v));
		if (r->champion_metrics)
			printf(" %14.6g", json_is_number(w) ? json_number_value(w) : NAN);
		printf("\n");
	}
}

/* What the pass found; failed: only as far as the triggers (the error says the rest). */
static void print_outcome(const struct retrain_policy *p, const struct retrain_outcome *r,
			  bool failed)
{
	printf("model %s@%s: champion ", p->model, p->alias);
	if (r->champion)
		printf("v%" PRId64, r->champion);
	else
		printf("(none)");
	printf(", %zu monitoring result(s) since its promotion\n", r->check.counted);
	print_triggers(r);
	if (failed) {
		if (r->command)
			printf("ran: %s\n", r->command);
		fflush(stdout);
		return;
	}
	switch (r->decision) {
	case RETRAIN_NOTHING:
		printf("nothing to do: no trigger fires\n");
		break;
	case RETRAIN_COOLDOWN:
		printf("cooling down: the last retraining was less than the cooldown ago "
		       "(%.0fs left)\n",
		       (double)r->check.cooldown_left_ms / 1000.0);
		break;
	case RETRAIN_WOULD_RUN:
		printf("would run: %s\n", r->command);
		printf("then score both on %s and check the gate '%s'\n", p->holdout, p->gate);
		break;
	case RETRAIN_PROMOTED:
	case RETRAIN_REJECTED:
		printf("trained challenger v%" PRId64 " (run %s)\n", r->challenger, r->run_id);
		printf("scored on %s:\n", p->holdout);
		print_metrics(r);
		printf("gate '%s':\n%s", p->gate, r->gate_report.buf);
		if (r->decision == RETRAIN_PROMOTED)
			printf("PROMOTED: %s@%s -> v%" PRId64 "\n", p->model, p->alias,
			       r->challenger);
		else
			printf("REJECTED: v%" PRId64 " archived, %s@%s stays at v%" PRId64 "\n",
			       r->challenger, p->model, p->alias, r->champion);
		break;
	}
	fflush(stdout);
}

/* ---- one pass over the policies ------------------------------------------------------------- */

static void on_waiting(const char *model, void *data)
{
	struct ctx *ctx = data;

	if (!ctx->quiet)
		fprintf(stderr, "waiting for another 'ferry retrain' of model '%s' to finish\n",
			model);
}

/* One pass for policy p; *rejected set when its challenger lost. */
static int run_policy(struct ctx *ctx, struct cas *cas, const struct retrain_policy *p,
		      const struct args *a, const char *exe, json_t *results, bool *rejected)
{
	struct retrain_outcome r = RETRAIN_OUTCOME_INIT;
	struct retrain_options o = { 0 };
	char *models_dir = fs_path_join(ctx->project->dir, "models");
	int rc;

	o.policy = p;
	o.root = ctx->project->root;
	o.ferry_dir = ctx->project->dir;
	o.models_dir = models_dir;
	o.exe = exe;
	o.user = track_user_name();
	o.dry_run = a->dry_run;
	o.force = a->force;
	o.no_wait = a->no_wait;
	o.waiting = on_waiting;
	o.data = ctx;
	rc = retrain_run(ctx->store, cas, &o, &r, &ctx->err);
	if (!rc || r.check.nr) {
		if (ctx->json) {
			json_t *j = retrain_outcome_json(&o, &r);

			if (rc) {
				/* whatever the pass had decided did not happen */
				json_object_set_new(j, "decision", json_string("error"));
				json_object_set_new(j, "error", json_string(ctx->err.msg));
			}
			json_array_append_new(results, j);
		} else if (!ctx->quiet || rc || r.decision >= RETRAIN_PROMOTED) {
			print_outcome(p, &r, rc != 0);
		}
	}
	*rejected = !rc && r.decision == RETRAIN_REJECTED;
	retrain_outcome_release(&r);
	free(models_dir);
	return rc;
}

/* Runs the selected policies once; the first error ends the pass. */
static int run_pass(struct ctx *ctx, struct cas *cas, const struct retrain_policies *ps,
		    const char *name, const struct args *a, const char *exe, bool *rejected)
{
	json_t *results = ctx->json ? json_array() : NULL;
	int rc = 0;

	*rejected = false;
	for (size_t i = 0; i < ps->nr && !rc; i++) {
		bool lost = false;

		if (name && strcmp(ps->items[i].model, name))
			continue;
		rc = run_policy(ctx, cas, &ps->items[i], a, exe, results, &lost);
		*rejected |= lost;
	}
	if (ctx->json) {
		output_json(results);
		json_decref(results);
	}
	return rc;
}

/* ---- watching --------------------------------------------------------------------------------- */

/* Sleeps ms in short steps so that SIGTERM ends the wait at once; false when signalled. */
static bool wait_ms(int64_t ms)
{
	while (ms > 0 && !stop_signal) {
		int64_t step = ms < 200 ? ms : 200;
		struct timespec ts = { (time_t)(step / 1000), (long)(step % 1000) * 1000000L };

		nanosleep(&ts, NULL);
		ms -= step;
	}
	return !stop_signal;
}

/* The shortest interval of the selected policies (or --interval). */
static int64_t watch_interval(const struct retrain_policies *ps, const char *name, int64_t given)
{
	int64_t ms = given;

	for (size_t i = 0; !given && i < ps->nr; i++)
		if ((!name || !strcmp(ps->items[i].model, name)) &&
		    (!ms || ps->items[i].interval_ms < ms))
			ms = ps->items[i].interval_ms;
	return ms ? ms : RETRAIN_DEFAULT_INTERVAL_MS;
}

/*
 * A pass that fails (a training error, a store busy for too long) is reported and the next
 * one tried: a watcher that dies on the first bad day closes no loop.
 */
static int watch(struct ctx *ctx, struct cas *cas, const struct retrain_policies *ps,
		 const char *name, const struct args *a, const char *exe, int64_t every_ms)
{
	stop_signal = 0;
	signal(SIGTERM, on_stop);
	signal(SIGINT, on_stop);
	while (!stop_signal) {
		int64_t started = time_now_ms();
		bool rejected;

		if (run_pass(ctx, cas, ps, name, a, exe, &rejected)) {
			fprintf(stderr, "error: %s\n", ctx->err.msg);
			fflush(stderr);
			error_clear(&ctx->err);
		}
		if (!wait_ms(every_ms - (time_now_ms() - started)))
			break;
	}
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	if (!ctx->quiet)
		fprintf(stderr, "stopped on signal %d\n", (int)stop_signal);
	return 0;
}

/* ---- the command ------------------------------------------------------------------------------ */

/* The ferry binary running now, to train the challenger with the same code. */
static char *self_exe(void)
{
	char buf[4096];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);

	if (n <= 0)
		return xstrdup("ferry");
	buf[n] = '\0';
	return xstrdup(buf);
}

static int load_policies(struct retrain_policies *ps, struct ctx *ctx, const char *file,
			 const char *name)
{
	char *path = file ? xstrdup(file) : fs_path_join(ctx->project->root, "ferry.yaml");
	int rc = retrain_policies_load(ps, path, &ctx->err);

	if (rc == ERR_NOTFOUND)
		rc = error_set(&ctx->err, ERR_NOTFOUND,
			       "'%s' does not exist: retraining policies live in its 'retrain:' "
			       "section (see docs/retraining.md)",
			       path);
	else if (!rc && !ps->nr)
		rc = error_set(&ctx->err, ERR_NOTFOUND,
			       "'%s' has no 'retrain:' section (see docs/retraining.md)", path);
	else if (!rc && name && !retrain_policies_find(ps, name))
		rc = error_set(&ctx->err, ERR_NOTFOUND,
			       "'%s' has no retraining policy for model '%s'", path, name);
	free(path);
	return rc;
}

int cmd_retrain(int argc, const char **argv, struct ctx *ctx)
{
	struct args a = { 0 };
	struct option opts[] = {
		OPT_BOOL(0, "dry-run", &a.dry_run,
			 "check the triggers and say what would run; change nothing"),
		OPT_BOOL(0, "force", &a.force,
			 "retrain even if no trigger fires (or cooling down)"),
		OPT_BOOL(0, "watch", &a.watch, "repeat until SIGTERM/SIGINT"),
		OPT_STRING(0, "interval", &a.interval, "DURATION",
			   "--watch: time between passes (default: the policies' interval)"),
		OPT_BOOL(0, "no-wait", &a.no_wait,
			 "fail instead of waiting when another pass of the model runs"),
		OPT_STRING(0, "file", &a.file, "FILE", "the policies (default: ferry.yaml)"),
		OPT_END(),
	};
	struct retrain_policies ps = RETRAIN_POLICIES_INIT;
	struct cas *cas = NULL;
	const char *name = NULL;
	char *exe = NULL;
	int64_t every = 0;
	bool rejected = false;
	int nargs, rc = parse_options(&nargs, argc, argv, opts, retrain_usage, ctx);

	if (rc)
		goto out;
	if (nargs > 1) {
		rc =
		    error_set(&ctx->err, ERR_USAGE, "'ferry retrain' takes at most one model name");
		goto out;
	}
	name = nargs ? argv[0] : NULL;
	if (a.interval && (!a.watch || retrain_parse_duration(&every, a.interval, false))) {
		rc = error_set(&ctx->err, ERR_USAGE,
			       a.watch ? "--interval expects a duration such as 30s, 10m or 1h, "
					 "got '%s'"
				       : "--interval goes with --watch ('%s')",
			       a.interval);
		goto out;
	}
	if (a.watch && a.dry_run) {
		rc = error_set(&ctx->err, ERR_USAGE, "--watch and --dry-run do not go together");
		goto out;
	}
	if ((rc = cli_open(ctx, NEED_STORE)) || (rc = load_policies(&ps, ctx, a.file, name)) ||
	    (rc = cli_artifact_cas(&cas, ctx)))
		goto out;
	exe = self_exe();
	if (a.watch)
		rc = watch(ctx, cas, &ps, name, &a, exe, watch_interval(&ps, name, every));
	else
		rc = run_pass(ctx, cas, &ps, name, &a, exe, &rejected);
	if (!rc && rejected)
		ctx->exit_code = EXIT_REJECTED;
out:
	free(exe);
	cas_free(cas);
	retrain_policies_release(&ps);
	return rc;
}
