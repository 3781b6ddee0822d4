/*
 * The executor: a small scheduler (worker threads take any selected stage whose upstream stages
 * are done), and per stage: locks, staleness, run cache, the tracked run, the command or step
 * with the previous outputs set aside, then the outputs into the cache and ferry.lock.
 */
#include "util/common.h"
#include "pipeline/exec.h"
#include "data/cas.h"
#include "pipeline/flock.h"
#include "pipeline/lock.h"
#include "pipeline/runcache.h"
#include "pipeline/state.h"
#include "pipeline/steps.h"
#include "store/store.h"
#include "track/tracking.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/strbuf.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <pthread.h>
#include <spawn.h>
#include <sys/wait.h>
#include <time.h>

extern char **environ;

/* The name under .ferry/locks/ of the lock around read-modify-write of ferry.lock. */
#define LOCKFILE_LOCK "\001" LOCK_FILE

const char *stage_outcome_name(enum stage_outcome o)
{
	static const char *const names[] = { "up-to-date", "would-run", "ran",	       "restored",
					     "failed",	   "skipped",	"not-selected" };

	return names[o];
}

void stage_results_free(struct stage_result *r, size_t n)
{
	for (size_t i = 0; r && i < n; i++) {
		free(r[i].why);
		free(r[i].error);
	}
	free(r);
}

enum slot {
	PENDING,
	RUNNING,
	DONE
};

struct sched {
	const struct repro_env *env;
	const struct pipeline *p;
	const struct dag *d;
	const struct repro_options *o;
	const struct repro_hooks *hooks;
	struct stage_result *res;
	enum slot *slot;
	int *sel;
	pthread_mutex_t mu; /* slot, res */
	pthread_cond_t cv;
	pthread_mutex_t store_mu; /* the store connections and the object cache's sync */
	pthread_mutex_t out_mu;	  /* hooks */
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void emit(struct sched *s, const char *stage, enum repro_event ev, const char *detail)
{
	if (!s->hooks || !s->hooks->event)
		return;
	pthread_mutex_lock(&s->out_mu);
	s->hooks->event(s->hooks->data, stage, ev, detail);
	pthread_mutex_unlock(&s->out_mu);
}

static void emit_line(struct sched *s, const char *stage, int is_err, const char *line, size_t len)
{
	if (!s->hooks || !s->hooks->output)
		return;
	pthread_mutex_lock(&s->out_mu);
	s->hooks->output(s->hooks->data, stage, is_err, line, len);
	pthread_mutex_unlock(&s->out_mu);
}

/* One stage's work ------------------------------------------------------------------------------ */

struct job {
	struct sched *s;
	const struct stage *st;
	size_t index;
	char run_id[ID_HEX_LEN + 1];
	char *backup; /* .ferry/tmp/repro-PID-STAGE, holding the previous outputs */
	int *moved;   /* moved[i]: outs.v[i] was moved into backup */
};

static void waiting(const char *path, void *data)
{
	struct job *j = data;

	emit(j->s, j->st->name, EVENT_WAITING, path);
}

/* The outputs of upstream stages that this stage reads: the paths other repros write. */
static void upstream_outs(struct path_list *reads, const struct sched *s, size_t i)
{
	for (size_t k = 0; k < s->d->nup[i]; k++) {
		const struct stage *up = &s->p->stages[s->d->up[i][k]];

		for (size_t a = 0; a < up->outs.nr; a++)
			for (size_t b = 0; b < s->p->stages[i].deps.nr; b++)
				if (dag_paths_overlap(up->outs.v[a], s->p->stages[i].deps.v[b])) {
					ALLOC_GROW(reads->v, reads->nr + 1, reads->alloc);
					reads->v[reads->nr++] = up->outs.v[a];
					break;
				}
	}
}

/* Previous outputs go aside, so that a failure can put them back and nothing half-written stays. */
static int set_aside(struct job *j, struct error *err)
{
	const struct stage *st = j->st;
	int rc = 0;

	j->backup = xstrfmt("%s/tmp/repro-%ld-%s", j->s->env->ferry_dir, (long)getpid(), st->name);
	j->moved = xcalloc(st->outs.nr + 1, sizeof(int));
	if ((rc = fs_remove_tree(j->backup, err)) || (rc = fs_mkdir_p(j->backup, 0777, err)))
		return rc;
	for (size_t i = 0; !rc && i < st->outs.nr; i++) {
		char *path = fs_path_join(j->s->env->root, st->outs.v[i]);
		char *slot = xstrfmt("%s/%zu", j->backup, i), *parent = xstrdup(path);

		if (fs_exists(path)) {
			if (rename(path, slot))
				rc = error_errno(err, ERR_IO, errno, "cannot move '%s' aside",
						 st->outs.v[i]);
			else
				j->moved[i] = 1;
		}
		/* commands may expect the output's directory to exist, as DVC makes it */
		*strrchr(parent, '/') = '\0';
		if (!rc)
			rc = fs_mkdir_p(parent, 0777, err);
		free(parent);
		free(path);
		free(slot);
	}
	return rc;
}

/* After a failure: what the stage wrote goes, the previous outputs come back. */
static void put_back(struct job *j)
{
	struct error ignored = ERROR_INIT;

	for (size_t i = 0; j->moved && i < j->st->outs.nr; i++) {
		char *path = fs_path_join(j->s->env->root, j->st->outs.v[i]);
		char *slot = xstrfmt("%s/%zu", j->backup, i);

		fs_remove_tree(path, &ignored);
		if (j->moved[i] && rename(slot, path))
			emit(j->s, j->st->name, EVENT_FAILED,
			     "could not restore a previous output; it is kept under .ferry/tmp/");
		free(path);
		free(slot);
	}
	if (j->backup)
		fs_remove_tree(j->backup, &ignored);
}

static void drop_backup(struct job *j)
{
	struct error ignored = ERROR_INIT;

	if (j->backup)
		fs_remove_tree(j->backup, &ignored);
}

/* Commands -------------------------------------------------------------------------------------- */

struct linebuf {
	struct strbuf sb;
	int fd, is_err;
};

static void flush_lines(struct job *j, struct linebuf *lb, int all)
{
	char *start = lb->sb.buf, *nl;
	size_t used = 0;

	while (lb->sb.len > used && (nl = memchr(start, '\n', lb->sb.len - used))) {
		emit_line(j->s, j->st->name, lb->is_err, start, (size_t)(nl - start));
		used += (size_t)(nl - start) + 1;
		start = nl + 1;
	}
	if (all && lb->sb.len > used) {
		emit_line(j->s, j->st->name, lb->is_err, start, lb->sb.len - used);
		used = lb->sb.len;
	}
	if (used) {
		memmove(lb->sb.buf, lb->sb.buf + used, lb->sb.len - used);
		strbuf_setlen(&lb->sb, lb->sb.len - used);
	}
}

static char **child_env(const struct job *j)
{
	size_t n = 0, k = 0;
	char **envp;

	while (environ[n])
		n++;
	envp = xcalloc(n + 5, sizeof(char *));
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "FERRY_RUN_ID=", 13) &&
		    strncmp(environ[i], "MLFLOW_RUN_ID=", 14) &&
		    strncmp(environ[i], "FERRY_STAGE=", 12) &&
		    strncmp(environ[i], "FERRY_ROOT=", 11))
			envp[k++] = xstrdup(environ[i]);
	if (j->run_id[0]) {
		envp[k++] = xstrfmt("FERRY_RUN_ID=%s", j->run_id);
		envp[k++] = xstrfmt("MLFLOW_RUN_ID=%s", j->run_id);
	}
	envp[k++] = xstrfmt("FERRY_STAGE=%s", j->st->name);
	envp[k++] = xstrfmt("FERRY_ROOT=%s", j->s->env->root);
	return envp;
}

static void free_env(char **envp)
{
	for (size_t i = 0; envp[i]; i++)
		free(envp[i]);
	free(envp);
}

/* Runs one shell command in the stage's wdir; its output goes line by line to the hooks. */
static int run_command(struct job *j, const char *cmd, struct error *err)
{
	const char *argv[] = { "/bin/sh", "-c", cmd, NULL };
	char *cwd = fs_path_join(j->s->env->root, j->st->wdir);
	char **envp = child_env(j);
	struct linebuf lb[2] = { { STRBUF_INIT, -1, 0 }, { STRBUF_INIT, -1, 1 } };
	int outp[2] = { -1, -1 }, errp[2] = { -1, -1 }, rc = 0, status = 0, forwarded = 0;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	pid_t pid;

	if (pipe2(outp, O_CLOEXEC) || pipe2(errp, O_CLOEXEC)) {
		rc = error_errno(err, ERR_IO, errno, "cannot create pipes");
		goto out;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, outp[1], STDOUT_FILENO);
	posix_spawn_file_actions_adddup2(&fa, errp[1], STDERR_FILENO);
	posix_spawn_file_actions_addchdir_np(&fa, cwd);
	/* its own process group: a signal reaches the whole command, pipelines and all */
	posix_spawnattr_init(&attr);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
	posix_spawnattr_setpgroup(&attr, 0);
	rc = posix_spawn(&pid, argv[0], &fa, &attr, (char *const *)argv, envp);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	close(outp[1]);
	close(errp[1]);
	if (rc) {
		rc = error_errno(err, ERR_IO, rc, "stage '%s': cannot run /bin/sh in '%s'",
				 j->st->name, *j->st->wdir ? j->st->wdir : ".");
		goto out;
	}
	lb[0].fd = outp[0];
	lb[1].fd = errp[0];
	while (lb[0].fd >= 0 || lb[1].fd >= 0) {
		struct pollfd pf[2] = { { lb[0].fd, POLLIN, 0 }, { lb[1].fd, POLLIN, 0 } };
		const volatile sig_atomic_t *stop = j->s->o->stop;

		/* ferry's signal (a terminal's ^C, a scheduler's SIGTERM) is passed on, once */
		if (stop && *stop && !forwarded) {
			kill(-pid, (int)*stop);
			forwarded = 1;
		}
		if (poll(pf, 2, 200) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (int k = 0; k < 2; k++) {
			char buf[16384];
			ssize_t n;

			if (lb[k].fd < 0 || !pf[k].revents)
				continue;
			n = read(lb[k].fd, buf, sizeof(buf));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				close(lb[k].fd);
				lb[k].fd = -1;
				continue;
			}
			strbuf_add(&lb[k].sb, buf, (size_t)n);
			flush_lines(j, &lb[k], 0);
		}
	}
	flush_lines(j, &lb[0], 1);
	flush_lines(j, &lb[1], 1);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFSIGNALED(status))
		rc = error_set(err, ERR_CONFLICT, "stage '%s': '%s' was killed by signal %d",
			       j->st->name, cmd, WTERMSIG(status));
	else if (WEXITSTATUS(status))
		rc = error_set(err, ERR_CONFLICT, "stage '%s': '%s' exited with status %d",
			       j->st->name, cmd, WEXITSTATUS(status));
out:
	for (int k = 0; k < 2; k++) {
		if (lb[k].fd >= 0)
			close(lb[k].fd);
		strbuf_release(&lb[k].sb);
	}
	free_env(envp);
	free(cwd);
	return rc;
}

static void say_line(void *data, const char *line)
{
	struct job *j = data;

	emit_line(j->s, j->st->name, 0, line, strlen(line));
}

static int execute(struct job *j, struct error *err)
{
	int rc = 0;

	if (j->st->kind == STAGE_CMD) {
		for (size_t i = 0; !rc && i < j->st->ncmd; i++)
			rc = run_command(j, j->st->cmd[i], err);
	} else {
		struct step_env se = { j->s->env->root,
				       j->s->env->store,
				       j->s->env->tracking,
				       j->s->env->cas,
				       &j->s->store_mu,
				       j->run_id,
				       say_line,
				       j };

		rc = step_run(j->st, &se, err);
	}
	for (size_t i = 0; !rc && i < j->st->outs.nr; i++) {
		char *path = fs_path_join(j->s->env->root, j->st->outs.v[i]);

		if (!fs_exists(path))
			rc = error_set(err, ERR_CONFLICT,
				       "stage '%s' did not produce its output '%s'", j->st->name,
				       j->st->outs.v[i]);
		free(path);
	}
	return rc;
}

/* Tracking -------------------------------------------------------------------------------------- */

static int run_begin(struct job *j, const struct stage_state *state, struct error *err)
{
	const struct repro_env *env = j->s->env;
	struct track_run_options o = { env->experiment, j->st->name,	j->st->cmd_text,
				       env->git_commit, env->git_dirty, "ferry repro" };
	json_t *params = json_object();
	int rc;

	pthread_mutex_lock(&j->s->store_mu);
	rc = track_run_start(env->tracking, j->run_id, &o, err);
	if (!rc)
		rc = store_run_set_tag(env->tracking, j->run_id, "ferry.pipeline.stage",
				       j->st->name, err);
	/* built-in steps log the parameters they actually used themselves */
	for (size_t i = 0; j->st->kind == STAGE_CMD && i < state->now.nparams; i++) {
		const struct lock_param *p = &state->now.params[i];
		char *key = ends_with(p->file, "params.yaml") && !strchr(p->file, '/')
				? xstrdup(p->key)
				: xstrfmt("%s:%s", p->file, p->key);

		json_object_set_new(params, key, json_string(p->value));
		free(key);
	}
	if (!rc)
		rc = track_log_params_json(env->tracking, j->run_id, params, err);
	for (size_t i = 0; !rc && j->st->kind == STAGE_CMD && i < state->now.ndeps; i++) {
		const struct lock_entry *d = &state->now.deps[i];
		char *digest = xstrfmt("sha256:%s", d->hex);
		struct store_new_dataset ds = { 0 };
		int64_t id;

		ds.name = ds.path = d->path;
		ds.digest = digest;
		ds.size = (int64_t)d->size;
		ds.git_commit = env->git_commit;
		rc = store_dataset_record(env->tracking, &id, &ds, err);
		if (!rc)
			rc = store_run_add_input(env->tracking, j->run_id, id, "pipeline", err);
		free(digest);
	}
	pthread_mutex_unlock(&j->s->store_mu);
	json_decref(params);
	return rc;
}

static int log_metrics(struct job *j, struct error *err)
{
	int rc = 0;

	for (size_t i = 0; !rc && j->st->kind == STAGE_CMD && i < j->st->metrics.nr; i++) {
		char *path = fs_path_join(j->s->env->root, j->st->metrics.v[i]);
		json_t *m = NULL;

		rc = json_load_path(&m, path, 64u << 20, err);
		if (!rc) {
			pthread_mutex_lock(&j->s->store_mu);
			rc = track_log_metrics_json(j->s->env->tracking, j->run_id, m, 0, err);
			pthread_mutex_unlock(&j->s->store_mu);
		}
		json_decref(m);
		free(path);
	}
	return rc;
}

static void run_end(struct job *j, int ok)
{
	struct error ignored = ERROR_INIT;

	pthread_mutex_lock(&j->s->store_mu);
	track_run_end(j->s->env->tracking, j->run_id, ok ? STORE_RUN_FINISHED : STORE_RUN_FAILED,
		      &ignored);
	pthread_mutex_unlock(&j->s->store_mu);
}

/* ferry.lock ------------------------------------------------------------------------------------ */

static int update_lockfile(struct job *j, const struct lock_stage *st, struct error *err)
{
	const struct pipeline *p = j->s->p;
	char name[] = LOCKFILE_LOCK, *key = name;
	const char **keep = xcalloc(p->nr + 1, sizeof(char *));
	struct pipe_locks l = PIPE_LOCKS_INIT;
	struct lockfile lf = LOCKFILE_INIT;
	int rc = pipe_locks_take(&l, j->s->env->ferry_dir, &key, 1, NULL, 0, NULL, NULL, err);

	for (size_t i = 0; i < p->nr; i++)
		keep[i] = p->stages[i].name;
	/* re-read under the lock: another repro may have recorded other stages meanwhile */
	if (!rc)
		rc = lock_load(&lf, j->s->env->root, err);
	if (!rc) {
		lock_put(&lf, st, keep, p->nr);
		rc = lock_save(&lf, j->s->env->root, err);
	}
	pipe_locks_release(&l);
	lockfile_release(&lf);
	free(keep);
	return rc;
}

/* Hashes the outputs into the cache: the state ferry.lock records and the run cache keeps. */
static int collect_outs(struct job *j, struct lock_stage *now, struct pipe_env *pe,
			struct error *err)
{
	int rc = 0;

	for (size_t i = 0; i < now->nouts; i++)
		free(now->outs[i].path);
	free(now->outs);
	now->outs = xcalloc(j->st->outs.nr + 1, sizeof(*now->outs));
	now->nouts = 0;
	for (size_t i = 0; !rc && i < j->st->outs.nr; i++)
		if (!(rc = pipe_hash(&now->outs[now->nouts], pe, j->st->outs.v[i], 1, err)))
			now->nouts++;
	if (!rc) {
		pthread_mutex_lock(&j->s->store_mu);
		rc = cas_sync(j->s->env->cas, err);
		pthread_mutex_unlock(&j->s->store_mu);
	}
	return rc;
}

static int try_run_cache(struct job *j, struct lock_stage *now, const char *key, struct error *err)
{
	struct lock_entry *outs = NULL;
	size_t n = 0;
	int rc = runcache_get(&outs, &n, j->s->env->cas, key, j->st, err);

	if (rc <= 0)
		return rc;
	rc = set_aside(j, err);
	for (size_t i = 0; !rc && i < n; i++)
		rc = runcache_restore(j->s->env->cas, j->s->env->root, &outs[i], err);
	if (rc) {
		put_back(j);
	} else {
		drop_backup(j);
		for (size_t i = 0; i < now->nouts; i++)
			free(now->outs[i].path);
		free(now->outs);
		now->outs = outs;
		now->nouts = n;
		outs = NULL;
	}
	for (size_t i = 0; outs && i < n; i++)
		free(outs[i].path);
	free(outs);
	return rc ? rc : 1;
}

/* Runs (or restores) one stage whose upstream stages are done. */
static int do_stage(struct job *j, struct error *err)
{
	struct sched *s = j->s;
	const struct stage *st = j->st;
	struct stage_result *res = &s->res[j->index];
	struct pipe_env pe = { s->env->root, s->env->store, s->env->cas, &s->store_mu, 0 };
	struct path_list reads = { 0 };
	struct pipe_locks locks = PIPE_LOCKS_INIT;
	struct stage_state state = STAGE_STATE_INIT;
	struct lockfile lf = LOCKFILE_INIT;
	char key[SHA256_HEX_SIZE];
	int rc, ran = 0;

	upstream_outs(&reads, s, j->index);
	rc = pipe_locks_take(&locks, s->env->ferry_dir, st->outs.v, st->outs.nr, reads.v, reads.nr,
			     waiting, j, err);
	/* checked under the locks: a concurrent repro may just have brought it up to date */
	if (!rc)
		rc = lock_load(&lf, s->env->root, err);
	if (!rc)
		rc = stage_check(&state, &pe, st, lock_find(&lf, st->name), err);
	if (rc)
		goto out;
	if (s->o->force && !state.stale) {
		state.stale = 1;
		strbuf_addstr(&state.why, "forced");
	}
	res->why = xstrdup(state.why.buf ? state.why.buf : "");
	if (!state.stale) {
		res->outcome = OUTCOME_UP_TO_DATE;
		emit(s, st->name, EVENT_UP_TO_DATE, NULL);
		goto out;
	}
	if (state.missing_dep) {
		for (size_t i = 0; i < st->deps.nr; i++) {
			char *path = fs_path_join(s->env->root, st->deps.v[i]);
			int there = fs_exists(path);

			free(path);
			if (!there) {
				rc = error_set(err, ERR_NOTFOUND,
					       "stage '%s': dep '%s' does not exist (and no stage "
					       "makes it)",
					       st->name, st->deps.v[i]);
				goto out;
			}
		}
	}
	runcache_key(key, st, &state.now);
	if (!s->o->force && !s->o->no_run_cache) {
		rc = try_run_cache(j, &state.now, key, err);
		if (rc < 0)
			goto out;
		if (rc == 1) {
			emit(s, st->name, EVENT_RESTORED, res->why);
			res->outcome = OUTCOME_RESTORED;
			rc = update_lockfile(j, &state.now, err);
			goto out;
		}
	}
	emit(s, st->name, EVENT_RUNNING, res->why);
	if (s->env->tracking && (rc = run_begin(j, &state, err)))
		goto out;
	memcpy(res->run_id, j->run_id, sizeof(res->run_id));
	ran = 1;
	if (!(rc = set_aside(j, err)))
		rc = execute(j, err);
	if (!rc && s->env->tracking)
		rc = log_metrics(j, err);
	if (!rc)
		rc = collect_outs(j, &state.now, &pe, err);
	if (!rc)
		rc = runcache_put(s->env->cas, key, state.now.outs, state.now.nouts, err);
	if (!rc)
		rc = update_lockfile(j, &state.now, err);
	if (rc)
		put_back(j);
	else
		drop_backup(j);
	res->outcome = rc ? OUTCOME_FAILED : OUTCOME_RAN;
out:
	if (ran && s->env->tracking && j->run_id[0])
		run_end(j, !rc);
	if (!rc && ran)
		emit(s, st->name, EVENT_FINISHED, j->run_id);
	pipe_locks_release(&locks);
	stage_state_release(&state);
	lockfile_release(&lf);
	free(reads.v);
	return rc;
}

/* Scheduling ------------------------------------------------------------------------------------ */

/* 1 if a selected stage stage i depends on failed or was skipped (its name into *failed). */
static int upstream_failed(const struct sched *s, size_t i, size_t *failed)
{
	for (size_t u = 0; u < s->d->nup[i]; u++) {
		size_t up = s->d->up[i][u];
		enum stage_outcome oc = s->res[up].outcome;

		if (s->sel[up] && s->slot[up] == DONE &&
		    (oc == OUTCOME_FAILED || oc == OUTCOME_SKIPPED)) {
			*failed = up;
			return 1;
		}
	}
	return 0;
}

static int upstream_done(const struct sched *s, size_t i)
{
	for (size_t u = 0; u < s->d->nup[i]; u++)
		if (s->sel[s->d->up[i][u]] && s->slot[s->d->up[i][u]] != DONE)
			return 0;
	return 1;
}

/*
 * The next stage that can start, or n if none can now; stages below a failure are marked
 * skipped on the way (in topological order, so a skip propagates in one pass).
 */
static size_t pick(struct sched *s, int *all_done)
{
	size_t n = s->p->nr, failed;

	*all_done = 1;
	for (size_t k = 0; k < n; k++) {
		size_t i = s->d->order[k];

		if (!s->sel[i] || s->slot[i] == DONE)
			continue;
		if (s->slot[i] == PENDING && s->o->stop && *s->o->stop) {
			s->slot[i] = DONE;
			s->res[i].outcome = OUTCOME_SKIPPED;
			s->res[i].error = xstrdup("interrupted");
			emit(s, s->p->stages[i].name, EVENT_SKIPPED, s->res[i].error);
			continue;
		}
		if (s->slot[i] == PENDING && upstream_failed(s, i, &failed)) {
			s->slot[i] = DONE;
			s->res[i].outcome = OUTCOME_SKIPPED;
			s->res[i].error = xstrfmt("stage '%s' failed", s->p->stages[failed].name);
			emit(s, s->p->stages[i].name, EVENT_SKIPPED, s->res[i].error);
			continue;
		}
		*all_done = 0;
		if (s->slot[i] == PENDING && upstream_done(s, i))
			return i;
	}
	return n;
}

static void *worker(void *data)
{
	struct sched *s = data;

	pthread_mutex_lock(&s->mu);
	for (;;) {
		int all_done;
		size_t i = pick(s, &all_done);
		struct job j;
		struct error err = ERROR_INIT;
		double t0;
		int rc;

		if (all_done)
			break;
		if (i == s->p->nr) {
			pthread_cond_wait(&s->cv, &s->mu);
			continue;
		}
		s->slot[i] = RUNNING;
		pthread_mutex_unlock(&s->mu);
		memset(&j, 0, sizeof(j));
		j.s = s;
		j.st = &s->p->stages[i];
		j.index = i;
		t0 = now_s();
		rc = do_stage(&j, &err);
		free(j.backup);
		free(j.moved);
		pthread_mutex_lock(&s->mu);
		s->res[i].seconds = now_s() - t0;
		if (rc) {
			s->res[i].outcome = OUTCOME_FAILED;
			s->res[i].error = xstrdup(err.msg);
		}
		s->slot[i] = DONE;
		pthread_cond_broadcast(&s->cv);
		if (rc) {
			pthread_mutex_unlock(&s->mu);
			emit(s, s->p->stages[i].name, EVENT_FAILED, err.msg);
			pthread_mutex_lock(&s->mu);
		}
	}
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

static struct stage_result *new_results(const struct pipeline *p, const int *sel)
{
	struct stage_result *r = xcalloc(p->nr + 1, sizeof(*r));

	for (size_t i = 0; i < p->nr; i++)
		r[i].outcome = sel[i] ? OUTCOME_UP_TO_DATE : OUTCOME_NOT_SELECTED;
	return r;
}

int pipeline_repro(struct stage_result **results, const struct repro_env *env,
		   const struct pipeline *p, const struct dag *d, const struct repro_options *o,
		   const struct repro_hooks *hooks, struct error *err)
{
	struct sched s = { env,
			   p,
			   d,
			   o,
			   hooks,
			   NULL,
			   NULL,
			   NULL,
			   PTHREAD_MUTEX_INITIALIZER,
			   PTHREAD_COND_INITIALIZER,
			   PTHREAD_MUTEX_INITIALIZER,
			   PTHREAD_MUTEX_INITIALIZER };
	size_t nthreads = o->jobs > 1 ? (size_t)o->jobs : 1;
	pthread_t *tids;
	size_t started = 0;
	int rc;

	if (o->dry_run)
		return pipeline_plan(results, env, p, d, o, err);
	s.sel = xcalloc(p->nr + 1, sizeof(int));
	s.slot = xcalloc(p->nr + 1, sizeof(enum slot));
	rc = dag_select(s.sel, d, p, o->targets, o->ntargets, err);
	if (rc) {
		free(s.sel);
		free(s.slot);
		return rc;
	}
	s.res = new_results(p, s.sel);
	if (nthreads > p->nr)
		nthreads = p->nr ? p->nr : 1;
	tids = xcalloc(nthreads, sizeof(*tids));
	/* the calling thread is one of the workers */
	for (size_t t = 1; t < nthreads; t++)
		if (!pthread_create(&tids[t], NULL, worker, &s))
			started++;
	worker(&s);
	for (size_t t = 1; t <= started; t++)
		pthread_join(tids[t], NULL);
	free(tids);
	for (size_t k = 0; !rc && k < p->nr; k++) {
		size_t i = d->order[k];

		if (s.res[i].outcome == OUTCOME_FAILED)
			rc = error_set(err, ERR_CONFLICT, "%s", s.res[i].error);
	}
	if (!rc && o->stop && *o->stop)
		rc = error_set(err, ERR_CONFLICT, "interrupted by signal %d", (int)*o->stop);
	*results = s.res;
	free(s.sel);
	free(s.slot);
	pthread_mutex_destroy(&s.mu);
	pthread_mutex_destroy(&s.store_mu);
	pthread_mutex_destroy(&s.out_mu);
	pthread_cond_destroy(&s.cv);
	return rc;
}

/* Planning ------------------------------------------------------------------------------------- */

int pipeline_plan(struct stage_result **results, const struct repro_env *env,
		  const struct pipeline *p, const struct dag *d, const struct repro_options *o,
		  struct error *err)
{
	struct pipe_env pe = { env->root, env->store, env->cas, NULL, 0 };
	struct lockfile lf = LOCKFILE_INIT;
	struct stage_result *res = NULL;
	int *sel = xcalloc(p->nr + 1, sizeof(int));
	int rc = dag_select(sel, d, p, o->targets, o->ntargets, err);

	if (!rc)
		rc = lock_load(&lf, env->root, err);
	if (!rc)
		res = new_results(p, sel);
	for (size_t k = 0; !rc && k < p->nr; k++) {
		size_t i = d->order[k];
		const struct stage *st = &p->stages[i];
		struct stage_state state = STAGE_STATE_INIT;
		int upstream = 0;

		if (!sel[i])
			continue;
		if ((rc = stage_check(&state, &pe, st, lock_find(&lf, st->name), err)))
			break;
		for (size_t u = 0; u < d->nup[i]; u++)
			if (res[d->up[i][u]].outcome == OUTCOME_WOULD_RUN) {
				if (state.why.len)
					strbuf_addstr(&state.why, "; ");
				strbuf_addf(&state.why, "upstream stage '%s' will run",
					    p->stages[d->up[i][u]].name);
				upstream = state.stale = 1;
			}
		if (o->force && !state.stale) {
			strbuf_addstr(&state.why, "forced");
			state.stale = 1;
		}
		if (state.stale && !upstream && !state.missing_dep && !o->force &&
		    !o->no_run_cache) {
			char key[SHA256_HEX_SIZE];
			struct lock_entry *outs = NULL;
			size_t n = 0;

			runcache_key(key, st, &state.now);
			rc = runcache_get(&outs, &n, env->cas, key, st, err);
			if (rc == 1)
				strbuf_addstr(&state.why, " (outputs in the run cache)");
			for (size_t x = 0; x < n; x++)
				free(outs[x].path);
			free(outs);
			rc = rc < 0 ? rc : 0;
		}
		res[i].outcome = state.stale ? OUTCOME_WOULD_RUN : OUTCOME_UP_TO_DATE;
		res[i].why = xstrdup(state.why.buf ? state.why.buf : "");
		stage_state_release(&state);
	}
	lockfile_release(&lf);
	free(sel);
	if (rc) {
		stage_results_free(res, p->nr);
		return rc;
	}
	*results = res;
	return 0;
}
