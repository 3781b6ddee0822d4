/*
 * `ferry serve MODEL`: the inference server. Serves until SIGINT or SIGTERM (then stops
 * accepting, finishes the requests in flight and flushes the inference log); SIGHUP makes it
 * check at once whether the model's alias or stage has moved.
 */
#include "util/common.h"
#include "api/serve_api.h"
#include "cli/cli.h"
#include "cli/options.h"
#include "http/http.h"
#include "monitor/infer_log.h"
#include "monitor/live.h"
#include "project/project.h"
#include "serve/serve.h"
#include "util/fs.h"

#include <ctype.h>
#include <signal.h>
#include <stdatomic.h>

static const char *const serve_usage[] = {
	"ferry serve MODEL [--host ADDR] [--port N] [--threads N] [options]",
	"",
	"Serves predictions of MODEL (a model directory, or models:/NAME/3, models:/NAME@ALIAS,",
	"models:/NAME/STAGE, models:/NAME/latest) over HTTP in three protocols: MLflow's",
	"(POST /invocations, GET /ping, /health, /version), the Open Inference Protocol v2",
	"(/v2/models/NAME/infer, ...) and KServe v1 (/v1/models/NAME:predict), plus POST",
	"/feedback (ground truth for a request id) and GET /metrics (Prometheus). When MODEL names",
	"an alias, a stage or latest, the server follows it: a new version is loaded and verified",
	"in the background and swapped in without failing a request (SIGHUP: check now).",
	"Inside a project every prediction is logged to .ferry/inference/NAME/ (--log-dir DIR",
	"elsewhere, --no-log for none), for `ferry monitor`.",
	"Live monitoring (--no-monitor: off): the last --monitor-window rows are sketched and",
	"compared with the model's training data; /metrics exports per-feature drift scores,",
	"the dataset drift share, prediction drift and, from /feedback labels, live quality.",
	NULL,
};

struct serve_args {
	const char *host, *token_file, *tls_cert, *tls_key, *log_dir;
	int64_t port, threads, poll_ms, max_body_mb, monitor_window;
	int no_log, no_monitor;
};

/* The engine's news, for the operator; the api's model metric follows swaps. */
struct events {
	_Atomic(struct serve_api *) api;
	int quiet;
};

static void on_event(void *data, const char *what, const struct served_model *now,
		     const char *error)
{
	struct events *ev = data;
	struct serve_api *api = atomic_load(&ev->api);

	if (!strcmp(what, "swapped") && api)
		serve_api_model_changed(api, now);
	if (ev->quiet && !error)
		return;
	if (!error && now && now->live)
		fprintf(stderr, "ferry serve: live monitoring of version %s: %s\n",
			now->version_text, live_monitor_note(now->live));
	if (error)
		fprintf(stderr, "ferry serve: %s: %s (still serving %s version %s)\n", what, error,
			now ? now->name : "?", now ? now->version_text : "?");
	else
		fprintf(stderr, "ferry serve: %s to %s version %s (%s)\n", what, now->name,
			now->version_text, now->m.digest);
}

static int check_args(const struct serve_args *a, struct ctx *ctx)
{
	if (a->port < 0 || a->port > 65535)
		return error_set(&ctx->err, ERR_USAGE, "--port must be 0..65535, got %" PRId64,
				 a->port);
	if (a->threads < 0 || a->threads > 1024)
		return error_set(&ctx->err, ERR_USAGE, "--threads must be 0..1024, got %" PRId64,
				 a->threads);
	if (a->poll_ms < 100 || a->poll_ms > 3600000)
		return error_set(&ctx->err, ERR_USAGE,
				 "--poll-ms must be 100..3600000, got %" PRId64, a->poll_ms);
	if (a->max_body_mb < 1 || a->max_body_mb > 4096)
		return error_set(&ctx->err, ERR_USAGE,
				 "--max-body-mb must be 1..4096, got %" PRId64, a->max_body_mb);
	if (!a->tls_cert != !a->tls_key)
		return error_set(&ctx->err, ERR_USAGE, "--tls-cert and --tls-key go together");
	if (a->monitor_window < 10 || a->monitor_window > 10000000)
		return error_set(&ctx->err, ERR_USAGE,
				 "--monitor-window must be 10..10000000, got %" PRId64,
				 a->monitor_window);
	if (a->no_log && a->log_dir)
		return error_set(&ctx->err, ERR_USAGE, "--no-log and --log-dir exclude each other");
	return 0;
}

/* Where predictions are logged: --log-dir, else the project's .ferry/inference/NAME. */
static char *log_dir_for(const struct serve_args *a, struct ctx *ctx, const char *name)
{
	char *base, *dir, *safe;

	if (a->no_log)
		return NULL;
	if (a->log_dir)
		return xstrdup(a->log_dir);
	if (!ctx->project)
		return NULL;
	/* a model name is any text: keep what is safe in a file name, and never "." or ".." */
	safe = xstrdup(name);
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

static int serve(const struct serve_args *a, const char *uri, struct ctx *ctx)
{
	struct serve_engine_options eo = { 0 };
	struct http_options ho = HTTP_OPTIONS_INIT;
	struct serve_api_options ao = { 0 };
	struct live_options lo = LIVE_OPTIONS_INIT;
	struct events ev = { NULL, ctx->quiet };
	struct serve_engine *engine = NULL;
	struct http_server *server = NULL;
	struct infer_log *log = NULL;
	struct serve_api *api = NULL;
	struct served_model *sm = NULL;
	struct http_routes routes;
	char *store_uri = NULL, *cache = NULL, *models_dir = NULL, *token = NULL, *dir = NULL;
	struct error ignored = ERROR_INIT;
	sigset_t set, old;
	int rc, sig = 0;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	/* blocked before any thread starts, so every thread inherits it and sigwait gets them */
	pthread_sigmask(SIG_BLOCK, &set, &old);
	if ((rc = cli_open_if_project(ctx)))
		goto out;
	if (ctx->project) {
		if ((rc = project_store_uri(&store_uri, ctx->project, &ctx->err)))
			goto out;
		cache = project_cache_dir(ctx->project);
		models_dir = fs_path_join(ctx->project->dir, "models");
	}
	lo.window = (size_t)a->monitor_window;
	eo.uri = uri;
	eo.store_uri = store_uri;
	eo.cache_dir = cache;
	eo.models_dir = models_dir;
	eo.poll_ms = (unsigned)a->poll_ms;
	eo.monitor = a->no_monitor ? NULL : &lo;
	eo.root = ctx->project ? ctx->project->root : NULL;
	eo.on_event = on_event;
	eo.event_data = &ev;
	if ((rc = serve_engine_start(&engine, &eo, &ctx->err)))
		goto out;
	sm = serve_engine_acquire(engine);
	if ((dir = log_dir_for(a, ctx, sm->name)) &&
	    (rc = infer_log_open(&log, dir, NULL, &ctx->err)))
		goto out;
	ao.engine = engine;
	ao.log = log;
	ao.monitored = !a->no_monitor;
	if ((rc = serve_api_new(&api, &ao, &ctx->err)))
		goto out;
	atomic_store(&ev.api, api);
	if (a->token_file && (rc = http_token_read(&token, a->token_file, &ctx->err)))
		goto out;
	ho.host = a->host;
	ho.port = (uint16_t)a->port;
	ho.threads = (unsigned)a->threads;
	ho.max_body = (size_t)a->max_body_mb << 20;
	ho.token = token;
	ho.tls_cert = a->tls_cert;
	ho.tls_key = a->tls_key;
	serve_api_routes(&routes, api);
	if ((rc = http_server_start(&server, &ho, &routes, &ctx->err)))
		goto out;
	if (!ctx->quiet)
		fprintf(stderr,
			"ferry serve: %s version %s (%s) from %s, scored by %s; logging to %s\n",
			sm->name, *sm->version_text ? sm->version_text : "-", sm->m.digest, sm->dir,
			sm->scorer, dir ? dir : "(no inference log)");
	/* a coarse reference or none (no drift gauges): say so and why, even when quiet */
	if (sm->live && (!ctx->quiet || !live_monitor_reference_is_exact(sm->live)))
		fprintf(stderr, "ferry serve: live monitoring: %s\n", live_monitor_note(sm->live));
	printf("listening on %s://%s:%u\n", a->tls_cert ? "https" : "http", ho.host,
	       (unsigned)http_server_port(server));
	fflush(stdout);
	for (;;) {
		if (sigwait(&set, &sig))
			continue;
		if (sig != SIGHUP)
			break;
		serve_engine_poke(engine);
	}
	if (!ctx->quiet)
		fprintf(stderr, "ferry serve: stopping: finishing requests in flight\n");
	http_server_quiesce(server);
out:
	/* the server first (it drains requests), then what its handlers use */
	http_server_stop(server);
	if (log && (infer_log_close(log, rc ? &ignored : &ctx->err) && !rc))
		rc = ctx->err.code ? ctx->err.code : ERR_IO;
	atomic_store(&ev.api, NULL);
	serve_engine_stop(engine);
	serve_api_free(api);
	served_model_unref(sm);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	free(store_uri);
	free(cache);
	free(models_dir);
	free(token);
	free(dir);
	return rc;
}

int cmd_serve(int argc, const char **argv, struct ctx *ctx)
{
	struct serve_args a = {
		"127.0.0.1", NULL, NULL, NULL, NULL, 8080, 0, 2000, 64, 5000, 0, 0
	};
	const struct option opts[] = {
		OPT_STRING(0, "host", &a.host, "ADDR", "address to listen on (default 127.0.0.1)"),
		OPT_INT(0, "port", &a.port, "N", "port to listen on (default 8080; 0: any free)"),
		OPT_INT(0, "threads", &a.threads, "N", "worker threads (default: the CPU count)"),
		OPT_STRING(0, "token-file", &a.token_file, "FILE",
			   "require 'Authorization: Bearer <token>' (token: FILE's first line)"),
		OPT_STRING(0, "tls-cert", &a.tls_cert, "FILE", "serve HTTPS: certificate (PEM)"),
		OPT_STRING(0, "tls-key", &a.tls_key, "FILE", "serve HTTPS: private key (PEM)"),
		OPT_STRING(0, "log-dir", &a.log_dir, "DIR", "where to log predictions"),
		OPT_BOOL(0, "no-log", &a.no_log, "do not log predictions"),
		OPT_INT(0, "poll-ms", &a.poll_ms, "MS",
			"how often to check whether the alias moved (default 2000)"),
		OPT_INT(0, "max-body-mb", &a.max_body_mb, "N",
			"largest request body in MiB (default 64; more: 413)"),
		OPT_INT(0, "monitor-window", &a.monitor_window, "N",
			"rows the live drift scores cover (default 5000)"),
		OPT_BOOL(0, "no-monitor", &a.no_monitor,
			 "no live drift or quality on /metrics (nor their cost)"),
		OPT_END(),
	};
	int nargs, rc;

	if ((rc = parse_options(&nargs, argc, argv, opts, serve_usage, ctx)))
		return rc;
	if (nargs != 1)
		return error_set(&ctx->err, ERR_USAGE, "'ferry serve' takes one MODEL");
	if ((rc = check_args(&a, ctx)))
		return rc;
	return serve(&a, argv[0], ctx);
}
