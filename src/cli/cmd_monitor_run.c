/*
 * `ferry monitor run MODEL`: one monitoring pass over the inference log `ferry serve` writes
 * (or one every --every until SIGTERM): drift, live quality from delayed labels, the result
 * stored in the project's store, alert rules with webhooks. `ferry monitor history MODEL`:
 * the stored results and alert events, newest first.
 */
#include "util/common.h"
#include "cli/cli.h"
#include "cli/models_common.h"
#include "cli/options.h"
#include "cli/output.h"
#include "monitor/monitor_config.h"
#include "monitor/monitor_run.h"
#include "monitor/window.h"
#include "project/project.h"
#include "store/store_monitor.h"
#include "util/fs.h"
#include "util/id.h"
#include "util/parse.h"
#include "util/strbuf.h"

#include <ctype.h>
#include <math.h>
#include <signal.h>
#include <time.h>

/* Exit codes of `ferry monitor run` (1 error and 2 usage come from cli_exit_code). */
#define EXIT_FIRING 3

#define DEFAULT_WINDOW 1000

static const char *const run_usage[] = {
	"ferry monitor run MODEL [--window N | --since DURATION] [options]",
	"",
	"Reads the predictions `ferry serve` logged for MODEL (the last N, default 1000, or those",
	"of the last DURATION such as 30m, 1h, 2d) and the ground truth POSTed to /feedback for",
	"them however late, then reports data drift against the model's training data, prediction",
	"drift, and live quality (accuracy, precision, recall, F1, ROC AUC as `ferry eval` names",
	"them) next to the quality recorded at training. Inside a project the result is stored",
	"(see `ferry monitor history`) and the alert rules of monitor.yaml are evaluated: a rule",
	"notifies (prints, POSTs its webhook) when it starts or stops firing, after `for N "
	"windows`",
	"in a row (default 2).",
	"",
	"MODEL is a model directory or models:/NAME/VERSION, models:/NAME@ALIAS.",
	"",
	"Exit status: 0 no alert firing; 3 an alert is firing after the (last) pass; 1 an error;",
	"2 a usage error.",
	NULL,
};

struct run_args {
	const char *since, *config, *log_dir, *reference, *webhook, *every;
	int64_t window, min_rows;
};

static volatile sig_atomic_t stop_signal;

static void on_stop(int sig)
{
	stop_signal = sig;
}

static int load_config(struct monitor_config *c, const char *path, struct ctx *ctx)
{
	char *def = NULL;
	int rc = 0;

	monitor_config_init(c);
	if (path)
		return monitor_config_load(c, path, &ctx->err);
	if (!ctx->project)
		return 0;
	def = fs_path_join(ctx->project->root, "monitor.yaml");
	if (!access(def, F_OK))
		rc = monitor_config_load(c, def, &ctx->err);
	free(def);
	return rc;
}

/* The name `ferry serve` logs under: the registered name, else the directory's base name. */
static char *model_name_of(const char *dir, const struct store_model_version *v)
{
	const char *end, *start;

	if (v->name)
		return xstrdup(v->name);
	end = dir + strlen(dir);
	while (end > dir + 1 && end[-1] == '/')
		end--;
	start = end;
	while (start > dir && start[-1] != '/')
		start--;
	return xstrndup(start, (size_t)(end - start));
}

/* .ferry/inference/NAME with NAME made safe as `ferry serve` makes it (cmd_serve.c). */
static char *default_log_dir(struct ctx *ctx, const char *name)
{
	char *safe = xstrdup(name), *base, *dir;

	for (char *p = safe; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("._-", *p))
			*p = '_';
	if (!strcmp(safe, ".") || !strcmp(safe, ".."))
		safe[0] = '_';
	base = fs_path_join(ctx->project->dir, "inference");
	dir = fs_path_join(base, safe);
	free(base);
	free(safe);
	return dir;
}

/* ---- printing ------------------------------------------------------------------------------ */

static double num(const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);

	return json_is_number(v) ? json_number_value(v) : NAN;
}

static void print_window(const json_t *j)
{
	const json_t *w = json_object_get(j, "window");
	const json_t *version = json_object_get(j, "version");

	printf("model %s", json_string_value(json_object_get(j, "model")));
	if (json_is_integer(version))
		printf(" v%" JSON_INTEGER_FORMAT, json_integer_value(version));
	printf(" (%.19s)\n", json_string_value(json_object_get(j, "digest")));
	printf("window: %.0f predictions, %.0f labelled", num(w, "rows"), num(w, "labelled"));
	if (json_is_string(json_object_get(w, "start")))
		printf(", %s .. %s", json_string_value(json_object_get(w, "start")),
		       json_string_value(json_object_get(w, "end")));
	printf("\n");
}

static void print_drift(const json_t *j)
{
	const json_t *d = json_object_get(j, "drift"),
		     *cols = json_object_get(j, "drifted_columns");
	const json_t *pd = json_object_get(j, "prediction_drift"), *c;
	size_t i;

	if (!json_is_object(d) || !num(d, "n_tested")) {
		printf("data drift: insufficient data\n");
		return;
	}
	printf("data drift: %s (%.0f of %.0f columns drifted, share %.3g, dataset drift at >= %g)",
	       json_is_true(json_object_get(d, "dataset_drift")) ? "yes" : "no",
	       num(d, "n_drifted"), num(d, "n_tested"), num(d, "share"), num(d, "drift_share"));
	json_array_foreach(cols, i, c)
		printf("%s%s", i ? ", " : ": ", json_string_value(c));
	printf("\n");
	if (json_is_object(pd))
		printf("prediction drift: %s (%s %.3g, threshold %g)\n",
		       json_is_true(json_object_get(pd, "drift")) ? "yes" : "no",
		       json_string_value(json_object_get(pd, "test")), num(pd, "score"),
		       num(pd, "threshold"));
}

static void print_quality(const json_t *j)
{
	static const char *const keys[] = { "accuracy", "precision", "recall", "f1",
					    "roc_auc",	"rmse",	     "mae",    "r2" };
	const json_t *q = json_object_get(j, "quality"),
		     *ref = json_object_get(j, "reference_quality");

	if (!json_is_object(q)) {
		printf("quality: not enough labelled predictions\n");
		return;
	}
	printf("quality on %.0f labelled predictions (reference: at training):\n", num(q, "rows"));
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		if (!json_object_get(q, keys[i]))
			continue;
		printf("  %-9s %.4g", keys[i], num(q, keys[i]));
		if (!isnan(num(ref, keys[i])))
			printf("  (reference %.4g)", num(ref, keys[i]));
		printf("\n");
	}
}

static void print_alerts(const struct monitor_run_result *r)
{
	for (size_t i = 0; i < r->n_alerts; i++) {
		const struct monitor_alert *a = &r->alerts[i];

		if (a->summary) {
			printf("%s", a->summary);
			if (a->webhook != STORE_WEBHOOK_NONE)
				printf("  [webhook %s: %s]", store_webhook_status_name(a->webhook),
				       a->webhook_detail ? a->webhook_detail : "");
			printf("\n");
		} else {
			printf("alert %s: %s (%s is %s", a->name,
			       a->firing ? "firing" : "not firing", a->when,
			       alert_truth_name(a->truth));
			if (a->truth != ALERT_UNKNOWN && a->metric)
				printf(", %s = %.4g", a->metric, a->value);
			else if (a->metric)
				printf(": no %s in this window", a->metric);
			printf("; %" PRId64 " of %u windows)\n", a->streak, a->windows);
		}
	}
}

static void print_result(const struct monitor_run_result *r)
{
	const json_t *notes = json_object_get(r->json, "notes"), *n;
	size_t i;

	print_window(r->json);
	print_drift(r->json);
	print_quality(r->json);
	json_array_foreach(notes, i, n)
		printf("note: %s\n", json_string_value(n));
	print_alerts(r);
	fflush(stdout);
}

/* ---- run ----------------------------------------------------------------------------------- */

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

static int run_passes(struct monitor_run_options *o, int64_t every_ms, int64_t since_dur,
		      struct ctx *ctx)
{
	int rc = 0;

	for (;;) {
		struct monitor_run_result *r = NULL;
		int64_t started = time_now_ms();

		o->now_ms = 0;
		if (since_dur)
			o->since_ms = started - since_dur;
		if ((rc = monitor_run(&r, o, &ctx->err)) < 0)
			return rc;
		if (ctx->json)
			output_json(r->json);
		else
			print_result(r);
		ctx->exit_code = r->firing ? EXIT_FIRING : 0;
		monitor_run_result_free(r);
		if (!every_ms || !wait_ms(every_ms - (time_now_ms() - started)))
			return 0;
	}
}

static int check_args(const struct run_args *a, int nargs, int64_t *since_ms, int64_t *every_ms,
		      struct ctx *ctx)
{
	struct error e = ERROR_INIT;

	if (nargs != 1)
		return error_set(
		    &ctx->err, ERR_USAGE,
		    "'ferry monitor run' takes one MODEL (a directory or models:/ URI)");
	if (a->since && a->window)
		return error_set(&ctx->err, ERR_USAGE,
				 "give --window N or --since DURATION, not both");
	if (a->window < 0 || a->min_rows < 0)
		return error_set(&ctx->err, ERR_USAGE, "--window and --min-rows must be positive");
	if (a->since && window_parse_duration(since_ms, a->since, &e))
		return error_set(&ctx->err, ERR_USAGE, "--since: %s", e.msg);
	if (a->every && window_parse_duration(every_ms, a->every, &e))
		return error_set(&ctx->err, ERR_USAGE, "--every: %s", e.msg);
	return 0;
}

int cmd_monitor_run(int argc, const char **argv, struct ctx *ctx)
{
	struct run_args a = { 0 };
	const struct option opts[] = {
		OPT_INT(0, "window", &a.window, "N", "the last N predictions (default 1000)"),
		OPT_STRING(0, "since", &a.since, "DURATION",
			   "predictions of the last 30m, 1h, 2d..."),
		OPT_STRING(0, "config", &a.config, "FILE",
			   "monitoring config (default monitor.yaml)"),
		OPT_STRING(0, "log-dir", &a.log_dir, "DIR",
			   "the inference log (default .ferry/inference/NAME)"),
		OPT_STRING(0, "reference", &a.reference, "FILE",
			   "reference data instead of the model's training data"),
		OPT_STRING(0, "webhook", &a.webhook, "URL",
			   "POST alerts here (overrides the config)"),
		OPT_STRING(0, "every", &a.every, "DURATION",
			   "run again every DURATION until SIGTERM"),
		OPT_INT(0, "min-rows", &a.min_rows, "N",
			"fewer predictions (or labels) are insufficient data (default 30)"),
		OPT_END(),
	};
	struct monitor_config cfg;
	struct monitor_run_options o = { 0 };
	struct store_model_version v = STORE_MODEL_VERSION_INIT;
	struct strbuf dir = STRBUF_INIT;
	char *name = NULL, *log_dir = NULL, *cache = NULL;
	int64_t since_dur = 0, every_ms = 0;
	int nargs = 0, rc;

	monitor_config_init(&cfg);
	if ((rc = parse_options(&nargs, argc, argv, opts, run_usage, ctx)) ||
	    (rc = check_args(&a, nargs, &since_dur, &every_ms, ctx)) ||
	    (rc = cli_open_if_project(ctx)) || (rc = load_config(&cfg, a.config, ctx)) ||
	    (rc = cli_model_dir(ctx, &dir, argv[0], &v)))
		goto out;
	name = model_name_of(dir.buf, &v);
	if (!a.log_dir && !ctx->project) {
		rc = error_set(&ctx->err, ERR_USAGE,
			       "outside a project, give the inference log with --log-dir DIR");
		goto out;
	}
	log_dir = a.log_dir ? xstrdup(a.log_dir) : default_log_dir(ctx, name);
	cache = ctx->project ? project_cache_dir(ctx->project) : NULL;
	o.model_dir = dir.buf;
	o.model_name = name;
	o.model_version = v.version;
	o.log_dir = log_dir;
	o.window_rows = (uint64_t)a.window;
	if (!a.window && !a.since) {
		o.window_rows = cfg.window_rows;
		since_dur = cfg.since_ms;
		if (!o.window_rows && !since_dur)
			o.window_rows = DEFAULT_WINDOW;
	}
	o.config = &cfg;
	o.reference_path = a.reference;
	o.cache_dir = cache;
	o.root = ctx->project ? ctx->project->root : NULL;
	o.webhook_url = a.webhook;
	o.min_rows = (uint64_t)a.min_rows;
	o.store = ctx->store;
	stop_signal = 0;
	signal(SIGTERM, on_stop);
	signal(SIGINT, on_stop);
	rc = run_passes(&o, every_ms, since_dur, ctx);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
out:
	monitor_config_free(&cfg);
	store_model_version_release(&v);
	strbuf_release(&dir);
	free(name);
	free(log_dir);
	free(cache);
	return rc;
}

/* ---- history ------------------------------------------------------------------------------- */

static const char *const history_usage[] = {
	"ferry monitor history MODEL [--limit N]",
	"",
	"The stored results of `ferry monitor run` for MODEL (a name, or models:/NAME...), newest",
	"first: window, verdict, drifted columns and live quality; then the alert events.",
	NULL,
};

/* "churn" from "churn", "models:/churn/3", "models:/churn@prod". */
static char *history_name(const char *arg)
{
	const char *p = arg;

	if (!strncmp(p, "models:/", 8))
		p += 8;
	return xstrndup(p, strcspn(p, "/@"));
}

static json_t *time_json(int64_t ms)
{
	char buf[40];

	if (ms <= 0)
		return json_null();
	time_format_iso8601(ms, buf, sizeof(buf));
	return json_string(buf);
}

static json_t *parsed(const char *text)
{
	json_t *j = text ? json_loads(text, 0, NULL) : NULL;

	return j ? j : json_null();
}

static json_t *result_json(const struct store_monitor_result *r)
{
	json_t *j = json_object();

	json_object_set_new(j, "id", json_integer(r->id));
	json_object_set_new(j, "time", time_json(r->created_time));
	json_object_set_new(j, "version", r->version ? json_integer(r->version) : json_null());
	json_object_set_new(j, "digest", r->digest ? json_string(r->digest) : json_null());
	json_object_set_new(j, "window_start", time_json(r->window_start));
	json_object_set_new(j, "window_end", time_json(r->window_end));
	json_object_set_new(j, "rows", json_integer(r->rows));
	json_object_set_new(j, "labelled", json_integer(r->labelled));
	json_object_set_new(j, "skipped", json_integer(r->skipped));
	json_object_set_new(j, "verdict", json_string(r->verdict));
	json_object_set_new(j, "drift_share",
			    isnan(r->drift_share) ? json_null() : json_real(r->drift_share));
	json_object_set_new(j, "n_tested", json_integer(r->n_tested));
	json_object_set_new(j, "n_drifted", json_integer(r->n_drifted));
	json_object_set_new(j, "drifted_columns", parsed(r->drifted_columns));
	json_object_set_new(j, "quality", parsed(r->quality_json));
	return j;
}

static json_t *event_json(const struct store_alert_event *e)
{
	json_t *j = json_object();

	json_object_set_new(j, "id", json_integer(e->id));
	json_object_set_new(j, "time", time_json(e->event_time));
	json_object_set_new(j, "rule", json_string(e->rule));
	json_object_set_new(j, "when", json_string(e->when));
	json_object_set_new(j, "state", json_string(e->firing ? "firing" : "resolved"));
	json_object_set_new(j, "version", e->version ? json_integer(e->version) : json_null());
	json_object_set_new(j, "metric", e->metric ? json_string(e->metric) : json_null());
	json_object_set_new(j, "value", isnan(e->value) ? json_null() : json_real(e->value));
	json_object_set_new(j, "threshold",
			    isnan(e->threshold) ? json_null() : json_real(e->threshold));
	json_object_set_new(j, "result_id",
			    e->result_id ? json_integer(e->result_id) : json_null());
	json_object_set_new(j, "webhook", json_string(store_webhook_status_name(e->webhook)));
	json_object_set_new(j, "webhook_detail",
			    e->webhook_detail ? json_string(e->webhook_detail) : json_null());
	return j;
}

static void print_history(const json_t *results, const json_t *events)
{
	const json_t *r, *e, *c;
	size_t i, k;

	if (!json_array_size(results))
		printf("no monitoring results\n");
	json_array_foreach(results, i, r) {
		const json_t *q = json_object_get(r, "quality");
		const json_t *v = json_object_get(r, "version");

		printf("%s  %s%-4" JSON_INTEGER_FORMAT " %6.0f rows %6.0f labelled  %-17s",
		       json_string_value(json_object_get(r, "time")),
		       json_is_integer(v) ? "v" : "v?",
		       json_is_integer(v) ? json_integer_value(v) : 0, num(r, "rows"),
		       num(r, "labelled"), json_string_value(json_object_get(r, "verdict")));
		if (!isnan(num(r, "drift_share")))
			printf(" share %.3g", num(r, "drift_share"));
		if (json_is_object(q) && !isnan(num(q, "f1")))
			printf(" f1 %.3g", num(q, "f1"));
		if (json_is_object(q) && !isnan(num(q, "accuracy")))
			printf(" accuracy %.3g", num(q, "accuracy"));
		if (json_is_object(q) && !isnan(num(q, "rmse")))
			printf(" rmse %.4g", num(q, "rmse"));
		json_array_foreach(json_object_get(r, "drifted_columns"), k, c)
			printf("%s%s", k ? ", " : " drifted: ", json_string_value(c));
		printf("\n");
	}
	json_array_foreach(events, i, e) {
		printf("%s  %s %s: %s", json_string_value(json_object_get(e, "time")),
		       !strcmp(json_string_value(json_object_get(e, "state")), "firing")
			   ? "ALERT"
			   : "RESOLVED",
		       json_string_value(json_object_get(e, "rule")),
		       json_string_value(json_object_get(e, "when")));
		if (!isnan(num(e, "value")))
			printf(" (%s = %.4g)", json_string_value(json_object_get(e, "metric")),
			       num(e, "value"));
		printf("  webhook %s\n", json_string_value(json_object_get(e, "webhook")));
	}
}

int cmd_monitor_history(int argc, const char **argv, struct ctx *ctx)
{
	int64_t limit = 20;
	const struct option opts[] = {
		OPT_INT(0, "limit", &limit, "N", "results and events to show (default 20)"),
		OPT_END(),
	};
	struct store_monitor_results results = STORE_MONITOR_RESULTS_INIT;
	struct store_alert_events events = STORE_ALERT_EVENTS_INIT;
	json_t *jr = NULL, *je = NULL, *doc = NULL;
	char *name = NULL;
	int nargs = 0, rc;

	if ((rc = parse_options(&nargs, argc, argv, opts, history_usage, ctx)))
		return rc;
	if (nargs != 1)
		return error_set(&ctx->err, ERR_USAGE, "'ferry monitor history' takes one MODEL");
	if (limit <= 0)
		return error_set(&ctx->err, ERR_USAGE, "--limit must be positive");
	if ((rc = cli_open(ctx, NEED_STORE)))
		return rc;
	name = history_name(argv[0]);
	if ((rc = store_monitor_results(ctx->store, &results, name, limit, false, &ctx->err)) ||
	    (rc = store_alert_events(ctx->store, &events, name, limit, &ctx->err)))
		goto out;
	jr = json_array();
	je = json_array();
	for (size_t i = 0; i < results.nr; i++)
		json_array_append_new(jr, result_json(&results.items[i]));
	for (size_t i = 0; i < events.nr; i++)
		json_array_append_new(je, event_json(&events.items[i]));
	if (ctx->json) {
		doc = json_pack("{s:s, s:O, s:O}", "model", name, "results", jr, "alerts", je);
		output_json(doc);
	} else {
		print_history(jr, je);
	}
out:
	json_decref(doc);
	json_decref(jr);
	json_decref(je);
	store_monitor_results_release(&results);
	store_alert_events_release(&events);
	free(name);
	return rc;
}
