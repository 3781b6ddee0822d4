/*
 * posix_spawn with three pipes and a poll loop: stdin is written while stdout and stderr are
 * drained, so neither side can fill a pipe and wait on the other.
 */
#include "util/common.h"
#include "util/fs.h"
#include "util/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <time.h>

#define READ_CHUNK 65536

struct child {
	pid_t pid;
	int in_fd, out_fd, err_fd; /* our ends; -1 once closed */
	const char *in_data;
	size_t in_left;
};

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void close_pair(int p[2])
{
	close_fd(&p[0]);
	close_fd(&p[1]);
}

static int set_nonblock(int fd)
{
	int flags = fcntl(fd, F_GETFL);

	return flags < 0 ? -1 : fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

static int spawn_error(struct error *err, const char *prog, int rc)
{
	if (rc == ENOENT && !strchr(prog, '/'))
		return error_set(err, ERR_NOTFOUND, "cannot run '%s': command not found", prog);
	return error_errno(err, rc == ENOENT ? ERR_NOTFOUND : ERR_IO, rc, "cannot run '%s'", prog);
}

/* The child gets default SIGPIPE handling and an empty signal mask whatever ours are. */
static void spawn_attr(posix_spawnattr_t *attr)
{
	sigset_t none, pipe_sig;

	sigemptyset(&none);
	sigemptyset(&pipe_sig);
	sigaddset(&pipe_sig, SIGPIPE);
	posix_spawnattr_init(attr);
	posix_spawnattr_setsigmask(attr, &none);
	posix_spawnattr_setsigdefault(attr, &pipe_sig);
	posix_spawnattr_setflags(attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
}

static int spawn(struct child *c, const char *const argv[], const char *cwd, int feed_stdin,
		 struct error *err)
{
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, errp[2] = { -1, -1 }, rc = 0;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;

	if ((feed_stdin && pipe2(in, O_CLOEXEC)) || pipe2(out, O_CLOEXEC) ||
	    pipe2(errp, O_CLOEXEC)) {
		rc = error_errno(err, ERR_IO, errno, "cannot run '%s': cannot create pipes",
				 argv[0]);
		goto out;
	}
	posix_spawn_file_actions_init(&fa);
	if (feed_stdin)
		posix_spawn_file_actions_adddup2(&fa, in[0], STDIN_FILENO);
	else
		posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
	posix_spawn_file_actions_adddup2(&fa, errp[1], STDERR_FILENO);
	if (cwd)
		posix_spawn_file_actions_addchdir_np(&fa, cwd);
	spawn_attr(&attr);
	if (strchr(argv[0], '/'))
		rc = posix_spawn(&c->pid, argv[0], &fa, &attr, (char *const *)argv, environ);
	else
		rc = posix_spawnp(&c->pid, argv[0], &fa, &attr, (char *const *)argv, environ);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	if (rc) {
		c->pid = -1;
		rc = spawn_error(err, argv[0], rc);
		goto out;
	}
	c->in_fd = in[1];
	c->out_fd = out[0];
	c->err_fd = errp[0];
	in[1] = out[0] = errp[0] = -1;
	if ((c->in_fd >= 0 && set_nonblock(c->in_fd)) || set_nonblock(c->out_fd) ||
	    set_nonblock(c->err_fd))
		rc = error_errno(err, ERR_IO, errno, "cannot run '%s': fcntl", argv[0]);
out:
	close_pair(in);
	close_pair(out);
	close_pair(errp);
	return rc;
}

/*
 * write(2) that turns a closed pipe into EPIPE without the process-killing SIGPIPE: block it
 * in this thread and swallow the instance the write raised.
 */
static ssize_t write_nosigpipe(int fd, const void *buf, size_t len)
{
	static const struct timespec zero = { 0, 0 };
	sigset_t pipe_sig, old, pending;
	int was_pending, saved;
	ssize_t n;

	sigemptyset(&pipe_sig);
	sigaddset(&pipe_sig, SIGPIPE);
	sigpending(&pending);
	was_pending = sigismember(&pending, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_sig, &old);
	n = write(fd, buf, len);
	saved = errno;
	if (n < 0 && saved == EPIPE && !was_pending)
		sigtimedwait(&pipe_sig, NULL, &zero);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	errno = saved;
	return n;
}

static int feed_stdin(struct child *c, const char *prog, struct error *err)
{
	ssize_t n = write_nosigpipe(c->in_fd, c->in_data, c->in_left);

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	/* the child closed its stdin: what it did not read, it did not want */
	if (n < 0 && errno == EPIPE) {
		close_fd(&c->in_fd);
		return 0;
	}
	if (n < 0)
		return error_errno(err, ERR_IO, errno, "cannot write to '%s'", prog);
	c->in_data += n;
	c->in_left -= (size_t)n;
	if (!c->in_left)
		close_fd(&c->in_fd);
	return 0;
}

static int drain(int *fd, struct strbuf *sb, size_t max_output, const char *prog,
		 const char *stream, struct error *err)
{
	ssize_t n;

	strbuf_grow(sb, READ_CHUNK);
	n = read(*fd, sb->buf + sb->len, READ_CHUNK);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (n < 0)
		return error_errno(err, ERR_IO, errno, "cannot read the %s of '%s'", stream, prog);
	if (n == 0) {
		close_fd(fd);
		return 0;
	}
	strbuf_setlen(sb, sb->len + (size_t)n);
	if (sb->len > max_output)
		return error_set(err, ERR_TOOBIG, "the %s of '%s' exceeds the limit of %zu bytes",
				 stream, prog, max_output);
	return 0;
}

static int pump(struct child *c, struct subprocess_result *r, size_t max_output, const char *prog,
		struct error *err)
{
	int rc = 0;

	while (!rc && (c->in_fd >= 0 || c->out_fd >= 0 || c->err_fd >= 0)) {
		struct pollfd pfd[3] = { { c->in_fd, POLLOUT, 0 },
					 { c->out_fd, POLLIN, 0 },
					 { c->err_fd, POLLIN, 0 } };

		/* poll ignores negative fds, so closed streams simply drop out */
		if (poll(pfd, 3, -1) < 0) {
			if (errno != EINTR)
				rc = error_errno(err, ERR_IO, errno, "cannot wait for '%s'", prog);
			continue;
		}
		if (pfd[0].revents)
			rc = feed_stdin(c, prog, err);
		if (!rc && pfd[1].revents)
			rc = drain(&c->out_fd, &r->out, max_output, prog, "output", err);
		if (!rc && pfd[2].revents)
			rc = drain(&c->err_fd, &r->err, max_output, prog, "error output", err);
	}
	return rc;
}

static int wait_child(pid_t pid, int *status)
{
	while (waitpid(pid, status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return 0;
}

int subprocess_run(struct subprocess_result *out, const char *const argv[], const char *cwd,
		   const char *stdin_data, size_t max_output, struct error *err)
{
	struct subprocess_result r = SUBPROCESS_RESULT_INIT;
	struct child c = { -1, -1, -1, -1, stdin_data, stdin_data ? strlen(stdin_data) : 0 };
	int status = 0, rc;

	if (!argv || !argv[0])
		BUG("subprocess_run without a program");
	if (cwd && !fs_is_dir(cwd))
		return error_set(err, ERR_NOTFOUND,
				 "cannot run '%s': directory '%s' does not exist", argv[0], cwd);
	rc = spawn(&c, argv, cwd, stdin_data != NULL, err);
	if (!rc) {
		if (c.in_fd >= 0 && !c.in_left)
			close_fd(&c.in_fd);
		rc = pump(&c, &r, max_output, argv[0], err);
	}
	if (c.pid > 0) {
		if (rc)
			kill(c.pid, SIGKILL);
		if (wait_child(c.pid, &status) && !rc)
			rc = error_errno(err, ERR_IO, errno, "cannot wait for '%s'", argv[0]);
	}
	if (rc)
		goto out;
	r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	r.signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
	*out = r;
	strbuf_init(&r.out, 0);
	strbuf_init(&r.err, 0);
out:
	close_fd(&c.in_fd);
	close_fd(&c.out_fd);
	close_fd(&c.err_fd);
	subprocess_result_release(&r);
	return rc;
}

void subprocess_result_release(struct subprocess_result *r)
{
	strbuf_release(&r->out);
	strbuf_release(&r->err);
	r->exit_code = 0;
	r->signal = 0;
}
