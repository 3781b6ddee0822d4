/* `ferry run -- CMD ARGS...`: track any command as a run. */
#include "util/common.h"
#include "cli/artifact_common.h"
#include "cli/cli.h"
#include "cli/options.h"
#include "cli/track_common.h"
#include "project/project.h"
#include "track/tracking.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/yaml.h"

#include <fcntl.h>
#include <libfyaml.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

extern char **environ;

static const char *const run_usage[] = {
	"ferry run [--experiment NAME] [--name NAME] [--metrics FILE] -- CMD [ARGS...]",
	"",
	"Runs CMD as a tracked run: exports FERRY_RUN_ID and MLFLOW_RUN_ID (and, when",
	"FERRY_TRACKING_URI names a server, MLFLOW_TRACKING_URI) so that code using ferry log or",
	"MLflow logs into it; records the git state, the params in ./params.yaml (if any), the",
	"metrics in the JSON --metrics FILE after CMD ends, and CMD's output (also shown as it",
	"comes). The run ends FINISHED (exit 0), FAILED (other exit codes) or KILLED (a signal);",
	"SIGTERM and SIGHUP are passed on to CMD, and SIGINT too unless it came from a terminal",
	"(which sends it to CMD itself). ferry run exits with CMD's exit code.",
	NULL,
};

static volatile sig_atomic_t child_pid, got_signal;
static int forward_sigint;

static void on_signal(int sig)
{
	got_signal = sig;
	if (child_pid > 0 && (sig != SIGINT || forward_sigint))
		kill((pid_t)child_pid, sig);
}

static void set_handlers(void (*fn)(int))
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fn;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

/* Params from a YAML file: every scalar, nested keys joined with '.'. */
static void collect_params(struct fy_node *node, struct strbuf *prefix, json_t *out)
{
	struct fy_node_pair *pair;
	void *iter = NULL;
	size_t len = prefix->len;

	if (fy_node_is_scalar(node)) {
		size_t n;
		const char *v = fy_node_get_scalar(node, &n);

		if (len)
			json_object_set_new(out, prefix->buf, json_stringn(v, n));
		return;
	}
	if (!fy_node_is_mapping(node))
		return;
	while ((pair = fy_node_mapping_iterate(node, &iter))) {
		struct fy_node *k = fy_node_pair_key(pair);
		size_t n;
		const char *key = k && fy_node_is_scalar(k) ? fy_node_get_scalar(k, &n) : NULL;

		if (!key || !fy_node_pair_value(pair))
			continue;
		if (len)
			strbuf_addch(prefix, '.');
		strbuf_add(prefix, key, n);
		collect_params(fy_node_pair_value(pair), prefix, out);
		strbuf_setlen(prefix, len);
	}
}

static int log_params_file(struct ctx *ctx, const char *run_id, const char *path)
{
	struct fy_document *doc = NULL;
	struct strbuf prefix = STRBUF_INIT;
	json_t *params = json_object();
	int rc;

	rc = yaml_load_file(&doc, path, 4u << 20, &ctx->err);
	if (!rc && fy_document_root(doc))
		collect_params(fy_document_root(doc), &prefix, params);
	if (!rc)
		rc = track_log_params_json(ctx->tracking, run_id, params, &ctx->err);
	fy_document_destroy(doc);
	strbuf_release(&prefix);
	json_decref(params);
	return rc;
}

static void setenv_run(const char *run_id)
{
	const char *uri = getenv("FERRY_TRACKING_URI");

	setenv("FERRY_RUN_ID", run_id, 1);
	setenv("MLFLOW_RUN_ID", run_id, 1);
	if (uri && (!strncmp(uri, "http://", 7) || !strncmp(uri, "https://", 8)))
		setenv("MLFLOW_TRACKING_URI", uri, 1);
}

/* Copies what arrives on fd to out and to the log; 0 at EOF. */
static int pump(int fd, int out, int log)
{
	char buf[65536];
	ssize_t n = read(fd, buf, sizeof(buf));

	if (n <= 0)
		return n < 0 && errno == EINTR ? 1 : 0;
	if (fs_write_all(out, buf, (size_t)n) || (log >= 0 && fs_write_all(log, buf, (size_t)n)))
		return 1; /* a closed terminal must not kill the run: keep draining */
	return 1;
}

/* Spawns argv with stdout and stderr through pipes, tees them; the wait status in *status. */
static int spawn_and_wait(struct ctx *ctx, const char **argv, int log, int *status)
{
	posix_spawn_file_actions_t fa;
	int outp[2] = { -1, -1 }, errp[2] = { -1, -1 }, rc = 0, open_fds = 2;
	pid_t pid;

	if (pipe2(outp, O_CLOEXEC) || pipe2(errp, O_CLOEXEC))
		return error_errno(&ctx->err, ERR_IO, errno, "cannot create pipes");
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, outp[1], STDOUT_FILENO);
	posix_spawn_file_actions_adddup2(&fa, errp[1], STDERR_FILENO);
	set_handlers(on_signal);
	rc = posix_spawnp(&pid, argv[0], &fa, NULL, (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(outp[1]);
	close(errp[1]);
	if (rc) {
		rc = error_errno(&ctx->err, ERR_NOTFOUND, rc, "cannot run '%s'", argv[0]);
		goto out;
	}
	child_pid = pid;
	while (open_fds) {
		struct pollfd p[2] = { { outp[0], POLLIN, 0 }, { errp[0], POLLIN, 0 } };

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[0].revents && outp[0] >= 0 && !pump(outp[0], STDOUT_FILENO, log)) {
			close(outp[0]);
			outp[0] = -1;
			open_fds--;
		}
		if (p[1].revents && errp[0] >= 0 && !pump(errp[0], STDERR_FILENO, log)) {
			close(errp[0]);
			errp[0] = -1;
			open_fds--;
		}
	}
	while (waitpid(pid, status, 0) < 0 && errno == EINTR)
		;
	child_pid = 0;
out:
	set_handlers(SIG_DFL);
	if (outp[0] >= 0)
		close(outp[0]);
	if (errp[0] >= 0)
		close(errp[0]);
	return rc;
}

int cmd_run(int argc, const char **argv, struct ctx *ctx)
{
	const char *experiment = NULL, *name = NULL, *metrics = NULL;
	struct option opts[] = {
		OPT_STRING(0, "experiment", &experiment, "NAME", "the run's experiment"),
		OPT_STRING(0, "name", &name, "NAME", "the run's name (default: generated)"),
		OPT_STRING(0, "metrics", &metrics, "FILE",
			   "JSON metrics CMD writes, logged at the end"),
		OPT_END(),
	};
	char run_id[ID_HEX_LEN + 1] = "", *command = NULL, *logdir = NULL, *logpath = NULL;
	const char **child_argv = NULL;
	enum store_run_status end = STORE_RUN_FAILED;
	int nargs, rc, status = 0, log = -1;

	rc = parse_options(&nargs, argc, argv, opts, run_usage, ctx);
	if (rc)
		return rc;
	if (!nargs)
		return error_set(&ctx->err, ERR_USAGE,
				 "'ferry run' needs a command: ferry run -- CMD");
	command = cli_command_line("", nargs, argv);
	forward_sigint = !isatty(STDIN_FILENO);
	rc = cli_run_start(ctx, run_id, experiment, name, command, argv[0]);
	if (rc)
		goto out;
	if (!ctx->quiet)
		fprintf(stderr, "ferry: run %s started\n", run_id);
	if (fs_exists("params.yaml") && (rc = log_params_file(ctx, run_id, "params.yaml")))
		goto out;
	logdir = xstrfmt("%s/runs/%s", ctx->project->dir, run_id);
	logpath = xstrfmt("%s/output.log", logdir);
	if (!fs_mkdir_p(logdir, 0777, &ctx->err))
		log = open(logpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	setenv_run(run_id);
	/* parse_options moved the command to the front; what follows it is not CMD's */
	child_argv = xcalloc((size_t)nargs + 1, sizeof(*child_argv));
	memcpy(child_argv, argv, (size_t)nargs * sizeof(*child_argv));
	rc = spawn_and_wait(ctx, child_argv, log, &status);
	if (rc)
		goto out;
	if (WIFSIGNALED(status) || got_signal) {
		end = STORE_RUN_KILLED;
		ctx->exit_code = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : 128 + got_signal;
	} else {
		ctx->exit_code = WEXITSTATUS(status);
		end = ctx->exit_code ? STORE_RUN_FAILED : STORE_RUN_FINISHED;
	}
	if (metrics && fs_exists(metrics)) {
		json_t *m = NULL;

		rc = json_load_path(&m, metrics, 64u << 20, &ctx->err);
		if (!rc)
			rc = track_log_metrics_json(ctx->tracking, run_id, m, 0, &ctx->err);
		json_decref(m);
	}
	if (!rc && log >= 0) {
		struct store_kv tag = { "ferry.output.path", logpath };

		rc = store_run_set_tag(ctx->tracking, run_id, tag.key, tag.value, &ctx->err);
	}
	/* the log stays for tail and grep; the artifact is what the store and ferry server keep */
	if (!rc && log >= 0)
		rc = cli_log_artifact_file(ctx, run_id, "output.log", logpath);
out:
	if (log >= 0)
		close(log);
	if (run_id[0]) {
		struct error ignored = ERROR_INIT;

		if (track_run_end(ctx->tracking, run_id, rc ? STORE_RUN_FAILED : end,
				  rc ? &ignored : &ctx->err) &&
		    !rc)
			rc = ERR_STORE;
		if (!ctx->quiet)
			fprintf(stderr, "ferry: run %s %s\n", run_id,
				store_run_status_name(rc ? STORE_RUN_FAILED : end));
	}
	free(child_argv);
	free(command);
	free(logdir);
	free(logpath);
	return rc;
}
