/*
 * `ferry server`: the MLflow-compatible tracking server on the project's store (or --store),
 * serving until SIGINT or SIGTERM, then stopping cleanly.
 */
#include "util/common.h"
#include "api/mlflow.h"
#include "cli/cli.h"
#include "cli/options.h"
#include "http/http.h"
#include "project/project.h"
#include "util/fs.h"
#include "util/strbuf.h"

#include <signal.h>

static const char *const server_usage[] = {
	"ferry server [--host ADDR] [--port N] [--store URI] [--workers N] [TLS and token options]",
	"",
	"Serves the MLflow 2.x tracking REST API (/api/2.0/mlflow/...) on the project's store, so",
	"MLflow clients work unchanged with MLFLOW_TRACKING_URI=http://ADDR:PORT, and the",
	"artifact proxy (/api/2.0/mlflow-artifacts/...) on the project's object cache. Runs until",
	"interrupted (SIGINT or SIGTERM), then stops accepting connections and lets the requests",
	"in flight finish (5 seconds at most) before exiting.",
	"",
	"With --token-file every request needs 'Authorization: Bearer TOKEN', TOKEN being the",
	"file's first line (MLflow clients send it from MLFLOW_TRACKING_TOKEN); others get 401.",
	"With --tls-cert and --tls-key (PEM files) it serves HTTPS instead of HTTP. Use both",
	"before listening on anything but 127.0.0.1.",
	NULL,
};

struct server_args {
	const char *host, *store, *token_file, *tls_cert, *tls_key;
	int64_t port, workers;
};

static int check_args(const struct server_args *a, struct ctx *ctx)
{
	if (a->port < 0 || a->port > 65535)
		return error_set(&ctx->err, ERR_USAGE, "--port must be 0..65535, got %" PRId64,
				 a->port);
	if (a->workers < 0 || a->workers > 1024)
		return error_set(&ctx->err, ERR_USAGE, "--workers must be 0..1024, got %" PRId64,
				 a->workers);
	if (!a->tls_cert != !a->tls_key)
		return error_set(&ctx->err, ERR_USAGE, "--tls-cert and --tls-key go together");
	return 0;
}

/* True if two store uris name the same SQLite file (or are the same text). */
static bool same_store(const char *a, const char *b)
{
	char *ra = NULL, *rb = NULL;
	bool same;

	skip_prefix(a, "sqlite:", &a);
	skip_prefix(b, "sqlite:", &b);
	if (!strcmp(a, b))
		return true;
	same = !fs_realpath(&ra, a, NULL) && !fs_realpath(&rb, b, NULL) && !strcmp(ra, rb);
	free(ra);
	free(rb);
	return same;
}

/*
 * Artifacts live in a project's object cache and `ferry data gc` keeps what the project's store
 * refers to: serve them only for the project's own store.
 */
static int setup_artifacts(struct mlflow_api *api, const struct server_args *a, const char *uri,
			   struct ctx *ctx)
{
	char *project_uri = NULL, *cache = NULL;
	int rc = 0;

	static const char *const no_project = "they live in a project's object cache, and "
					      "--store was given outside a project";
	static const char *const other_store = "--store is not the store of the project they "
					       "would be kept in (run 'ferry server' there "
					       "without --store)";
	const char *why = NULL;

	if (a->store && cli_open(ctx, NEED_PROJECT) < 0)
		why = no_project;
	else if (a->store && (project_store_uri(&project_uri, ctx->project, &ctx->err) < 0 ||
			      !same_store(project_uri, uri)))
		why = other_store;
	if (why) {
		error_clear(&ctx->err);
		mlflow_api_no_artifacts(api, why);
		if (!ctx->quiet)
			fprintf(stderr, "ferry server: not serving artifacts: %s\n", why);
		goto out;
	}
	cache = project_cache_dir(ctx->project);
	rc = mlflow_api_serve_artifacts(api, cache, &ctx->err);
	if (!rc && !ctx->quiet)
		fprintf(stderr, "ferry server: artifacts in the object cache '%s'\n", cache);
out:
	free(project_uri);
	free(cache);
	return rc;
}

/* --store, else the project's store (which needs a project). */
static int store_uri(char **out, const struct server_args *a, struct ctx *ctx)
{
	int rc;

	if (a->store) {
		*out = xstrdup(a->store);
		return 0;
	}
	if ((rc = cli_open(ctx, NEED_PROJECT)) < 0)
		return rc;
	return project_store_uri(out, ctx->project, &ctx->err);
}

/* True for addresses only this machine can reach. */
static bool is_loopback(const char *host)
{
	return !strcmp(host, "localhost") || !strncmp(host, "127.", 4) || !strcmp(host, "::1");
}

/* Waits for SIGINT or SIGTERM, which the caller has blocked in every thread. */
static void wait_for_signal(const sigset_t *set)
{
	int sig = 0;

	while (sigwait(set, &sig))
		;
}

static int serve(const struct server_args *a, const char *uri, struct ctx *ctx)
{
	struct http_options opts = HTTP_OPTIONS_INIT;
	struct http_server *server = NULL;
	struct mlflow_api *api = NULL;
	struct http_routes routes;
	char *token = NULL;
	sigset_t set, old;
	int rc;

	opts.host = a->host;
	opts.port = (uint16_t)a->port;
	opts.threads = (unsigned)a->workers;
	opts.tls_cert = a->tls_cert;
	opts.tls_key = a->tls_key;
	if (a->token_file && (rc = http_token_read(&token, a->token_file, &ctx->err)) < 0)
		return rc;
	opts.token = token;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	/* Blocked before the server's threads start, so they inherit it and sigwait gets it. */
	pthread_sigmask(SIG_BLOCK, &set, &old);
	if ((rc = mlflow_api_new(&api, uri, opts.threads ? opts.threads + 1 : 0, &ctx->err)) < 0 ||
	    (rc = setup_artifacts(api, a, uri, ctx)) < 0)
		goto out;
	mlflow_routes(&routes, api);
	if ((rc = http_server_start(&server, &opts, &routes, &ctx->err)) < 0)
		goto out;
	if (!ctx->quiet)
		fprintf(stderr, "ferry server: MLflow tracking API on store '%s'%s\n", uri,
			token ? " (bearer token required)" : "");
	if (!ctx->quiet && (!token || !a->tls_cert) && !is_loopback(opts.host))
		fprintf(stderr, "ferry server: warning: listening on '%s' without %s\n", opts.host,
			!token ? "a token (--token-file): anyone who can connect can write"
			       : "TLS (--tls-cert): the token crosses the network in clear");
	printf("listening on %s://%s:%u\n", a->tls_cert ? "https" : "http", opts.host,
	       (unsigned)http_server_port(server));
	fflush(stdout);
	wait_for_signal(&set);
	if (!ctx->quiet)
		fprintf(stderr, "ferry server: stopping\n");
out:
	http_server_stop(server);
	mlflow_api_free(api);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (token)
		explicit_bzero(token, strlen(token));
	free(token);
	return rc;
}

int cmd_server(int argc, const char **argv, struct ctx *ctx)
{
	struct server_args a = { "127.0.0.1", NULL, NULL, NULL, NULL, 5000, 0 };
	const struct option opts[] = {
		OPT_STRING(0, "host", &a.host, "ADDR", "address to listen on (default 127.0.0.1)"),
		OPT_INT(0, "port", &a.port, "N", "port to listen on (default 5000; 0: any free)"),
		OPT_STRING(0, "store", &a.store, "URI",
			   "store to serve (default: the project's store)"),
		OPT_INT(0, "workers", &a.workers, "N", "worker threads (default: the CPU count)"),
		OPT_STRING(0, "token-file", &a.token_file, "FILE",
			   "require 'Authorization: Bearer' with the token in FILE's first line"),
		OPT_STRING(0, "tls-cert", &a.tls_cert, "FILE",
			   "serve HTTPS with this PEM certificate (and chain)"),
		OPT_STRING(0, "tls-key", &a.tls_key, "FILE",
			   "the certificate's unencrypted PEM private key"),
		OPT_END(),
	};
	char *uri = NULL;
	int nargs, rc;

	if ((rc = parse_options(&nargs, argc, argv, opts, server_usage, ctx)))
		return rc;
	if (nargs > 0)
		return error_set(&ctx->err, ERR_USAGE, "'ferry server' takes no arguments");
	if ((rc = check_args(&a, ctx)) < 0 || (rc = store_uri(&uri, &a, ctx)) < 0)
		goto out;
	rc = serve(&a, uri, ctx);
out:
	free(uri);
	return rc;
}
