/* flock(2)-based locks on output paths, taken in a global order. */
#include "util/common.h"
#include "pipeline/flock.h"
#include "util/fs.h"
#include "util/sha256.h"

#include <fcntl.h>
#include <sys/file.h>

struct want {
	const char *path;
	int exclusive;
};

static int cmp_want(const void *a, const void *b)
{
	return strcmp(((const struct want *)a)->path, ((const struct want *)b)->path);
}

static int take_one(int *out, const char *dir, const struct want *w,
		    void (*waiting)(const char *path, void *data), void *data, struct error *err)
{
	char hex[SHA256_HEX_SIZE], *path;
	int fd, op = w->exclusive ? LOCK_EX : LOCK_SH;

	/* named by digest: any path, however long or odd, gives a short safe file name */
	sha256_buffer(w->path, strlen(w->path), hex);
	path = xstrfmt("%s/%.32s.lock", dir, hex);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		int rc = error_errno(err, ERR_IO, errno, "cannot open lock file '%s'", path);

		free(path);
		return rc;
	}
	free(path);
	if (flock(fd, op | LOCK_NB)) {
		if (waiting)
			waiting(w->path, data);
		while (flock(fd, op))
			if (errno != EINTR) {
				int rc =
				    error_errno(err, ERR_IO, errno, "cannot lock '%s'", w->path);

				close(fd);
				return rc;
			}
	}
	*out = fd;
	return 0;
}

int pipe_locks_take(struct pipe_locks *out, const char *ferry_dir, char *const *writes, size_t nw,
		    char *const *reads, size_t nr, void (*waiting)(const char *path, void *data),
		    void *data, struct error *err)
{
	struct want *w = xcalloc(nw + nr + 1, sizeof(*w));
	/* under tmp/, which .ferry/.gitignore already keeps out of git */
	char *dir = fs_path_join(ferry_dir, "tmp/locks");
	struct pipe_locks l = { xcalloc(nw + nr + 1, sizeof(int)), 0 };
	size_t n = 0;
	int rc = fs_mkdir_p(dir, 0777, err);

	for (size_t i = 0; i < nw; i++)
		w[n++] = (struct want){ writes[i], 1 };
	for (size_t i = 0; i < nr; i++)
		w[n++] = (struct want){ reads[i], 0 };
	if (n)
		qsort(w, n, sizeof(*w), cmp_want);
	for (size_t i = 0; !rc && i < n; i++) {
		/* the same path twice (read and written): one exclusive lock */
		if (i + 1 < n && !strcmp(w[i].path, w[i + 1].path)) {
			w[i + 1].exclusive |= w[i].exclusive;
			continue;
		}
		if (!(rc = take_one(&l.fds[l.n], dir, &w[i], waiting, data, err)))
			l.n++;
	}
	free(w);
	free(dir);
	if (rc) {
		pipe_locks_release(&l);
		return rc;
	}
	*out = l;
	return 0;
}

void pipe_locks_release(struct pipe_locks *l)
{
	for (size_t i = 0; i < l->n; i++)
		close(l->fds[i]);
	free(l->fds);
	l->fds = NULL;
	l->n = 0;
}
