/* Filesystem helpers: atomic replace via temp file + rename, capped reads, mkdir -p, rm -rf. */
#include "util/common.h"
#include "util/fs.h"
#include "util/strbuf.h"

#include <dirent.h>
#include <fcntl.h>

#define READ_CHUNK 65536

int fs_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Splits path into a directory part ("." when there is none) and a base name. */
static void split_path(const char *path, struct strbuf *dir, const char **base)
{
	const char *slash = strrchr(path, '/');

	if (!slash) {
		strbuf_addstr(dir, ".");
		*base = path;
	} else if (slash == path) {
		strbuf_addstr(dir, "/");
		*base = slash + 1;
	} else {
		strbuf_add(dir, path, (size_t)(slash - path));
		*base = slash + 1;
	}
}

int fs_atomic_begin(struct fs_atomic *a, const char *path, struct error *err)
{
	struct strbuf dir = STRBUF_INIT, tmp = STRBUF_INIT;
	const char *base;
	int fd;

	split_path(path, &dir, &base);
	if (!*base) {
		strbuf_release(&dir);
		return error_set(err, ERR_INVALID, "cannot write '%s': not a file name", path);
	}
	strbuf_addf(&tmp, "%s/.%s.tmp-XXXXXX", dir.buf, base);
	fd = mkostemp(tmp.buf, O_CLOEXEC);
	if (fd < 0) {
		int rc = error_errno(err, ERR_IO, errno, "cannot create a temporary file for '%s'",
				     path);

		strbuf_release(&tmp);
		strbuf_release(&dir);
		return rc;
	}
	a->fd = fd;
	a->path = xstrdup(path);
	a->tmp = strbuf_detach(&tmp, NULL);
	a->dir = strbuf_detach(&dir, NULL);
	return 0;
}

static void atomic_release(struct fs_atomic *a)
{
	free(a->path);
	free(a->tmp);
	free(a->dir);
	*a = (struct fs_atomic)FS_ATOMIC_INIT;
}

void fs_atomic_abort(struct fs_atomic *a)
{
	if (!a->tmp)
		return;
	if (a->fd >= 0)
		close(a->fd);
	unlink(a->tmp);
	atomic_release(a);
}

int fs_atomic_commit(struct fs_atomic *a, mode_t mode, struct error *err)
{
	int fd = a->fd, rc;

	a->fd = -1;
	if (fchmod(fd, mode) || fsync(fd)) {
		rc = error_errno(err, ERR_IO, errno, "cannot write '%s'", a->tmp);
		close(fd);
		goto fail;
	}
	if (close(fd)) {
		rc = error_errno(err, ERR_IO, errno, "cannot write '%s'", a->tmp);
		goto fail;
	}
	if (rename(a->tmp, a->path)) {
		rc = error_errno(err, ERR_IO, errno, "cannot rename '%s' to '%s'", a->tmp, a->path);
		goto fail;
	}
	rc = fs_fsync_dir(a->dir, err);
	atomic_release(a);
	return rc;
fail:
	fs_atomic_abort(a);
	return rc;
}

int fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode, struct error *err)
{
	struct fs_atomic a = FS_ATOMIC_INIT;
	int rc = fs_atomic_begin(&a, path, err);

	if (rc)
		return rc;
	if (fs_write_all(a.fd, data, len)) {
		rc = error_errno(err, ERR_IO, errno, "cannot write '%s'", a.tmp);
		fs_atomic_abort(&a);
		return rc;
	}
	return fs_atomic_commit(&a, mode, err);
}

static int toobig(struct error *err, const char *path, size_t max_size)
{
	return error_set(err, ERR_TOOBIG, "'%s' is larger than the limit of %zu bytes", path,
			 max_size);
}

int fs_read_file(struct strbuf *out, const char *path, size_t max_size, struct error *err)
{
	size_t old_len = out->len, got = 0;
	struct stat st;
	int fd, rc = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return error_errno(err, errno == ENOENT ? ERR_NOTFOUND : ERR_IO, errno,
				   "cannot open '%s'", path);
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (uintmax_t)st.st_size > max_size) {
		rc = toobig(err, path, max_size);
		goto out;
	}
	/* files that grow, and pipes or /proc files whose size is unknown, are capped while read */
	for (;;) {
		ssize_t n;

		strbuf_grow(out, READ_CHUNK);
		n = read(fd, out->buf + out->len, READ_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = error_errno(err, ERR_IO, errno, "cannot read '%s'", path);
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
		strbuf_setlen(out, out->len + (size_t)n);
		if (got > max_size) {
			rc = toobig(err, path, max_size);
			goto out;
		}
	}
out:
	if (rc)
		strbuf_setlen(out, old_len);
	close(fd);
	return rc;
}

static int mkdir_one(const char *path, mode_t mode, struct error *err)
{
	if (mkdir(path, mode) == 0)
		return 0;
	if (errno == EEXIST && fs_is_dir(path))
		return 0;
	if (errno == EEXIST)
		return error_set(err, ERR_IO, "cannot create directory '%s': a file is in the way",
				 path);
	return error_errno(err, ERR_IO, errno, "cannot create directory '%s'", path);
}

int fs_mkdir_p(const char *path, mode_t mode, struct error *err)
{
	struct strbuf sb = STRBUF_INIT;
	int rc = 0;

	if (!*path)
		return error_set(err, ERR_INVALID, "cannot create a directory with an empty name");
	if (fs_is_dir(path))
		return 0;
	strbuf_addstr(&sb, path);
	/* create each ancestor in turn; the leading '/' of an absolute path is not a component */
	for (size_t i = 1; i <= sb.len && !rc; i++) {
		if (i < sb.len && sb.buf[i] != '/')
			continue;
		if (sb.buf[i - 1] == '/')
			continue;
		sb.buf[i] = '\0';
		rc = mkdir_one(sb.buf, mode, err);
		if (i < sb.len)
			sb.buf[i] = '/';
	}
	strbuf_release(&sb);
	return rc;
}

int fs_is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int fs_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

int fs_fsync_dir(const char *dir, struct error *err)
{
	int fd, rc = 0;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return error_errno(err, ERR_IO, errno, "cannot open directory '%s'", dir);
	if (fsync(fd) && errno != EINVAL)
		rc = error_errno(err, ERR_IO, errno, "cannot sync directory '%s'", dir);
	close(fd);
	return rc;
}

static int remove_at(int dirfd, const char *name, struct strbuf *path, struct error *err);

/* Empties the directory open as fd; path names it for messages and is restored on return. */
static int remove_entries(int fd, struct strbuf *path, struct error *err)
{
	size_t len = path->len;
	struct dirent *de;
	DIR *d;
	int rc = 0;

	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return error_errno(err, ERR_IO, errno, "cannot read directory '%s'", path->buf);
	}
	while (!rc) {
		errno = 0;
		de = readdir(d);
		if (!de) {
			if (errno)
				rc = error_errno(err, ERR_IO, errno, "cannot read directory '%s'",
						 path->buf);
			break;
		}
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		strbuf_addf(path, "/%s", de->d_name);
		rc = remove_at(dirfd(d), de->d_name, path, err);
		strbuf_setlen(path, len);
	}
	closedir(d);
	return rc;
}

/* Removes name (relative to dirfd) and what is below it, never crossing a symlink. */
static int remove_at(int dirfd, const char *name, struct strbuf *path, struct error *err)
{
	struct stat st;
	int fd, rc;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW)) {
		if (errno == ENOENT)
			return 0;
		return error_errno(err, ERR_IO, errno, "cannot remove '%s'", path->buf);
	}
	if (!S_ISDIR(st.st_mode)) {
		if (unlinkat(dirfd, name, 0) && errno != ENOENT)
			return error_errno(err, ERR_IO, errno, "cannot remove '%s'", path->buf);
		return 0;
	}
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return error_errno(err, ERR_IO, errno, "cannot open directory '%s'", path->buf);
	rc = remove_entries(fd, path, err);
	if (!rc && unlinkat(dirfd, name, AT_REMOVEDIR) && errno != ENOENT)
		rc = error_errno(err, ERR_IO, errno, "cannot remove directory '%s'", path->buf);
	return rc;
}

int fs_remove_tree(const char *path, struct error *err)
{
	struct strbuf sb = STRBUF_INIT;
	char *name;
	int rc;

	/* "link/" would make the kernel follow the symlink: strip trailing slashes first */
	strbuf_addstr(&sb, path);
	while (sb.len > 1 && sb.buf[sb.len - 1] == '/')
		strbuf_setlen(&sb, sb.len - 1);
	if (!strcmp(sb.buf, "/")) {
		strbuf_release(&sb);
		return error_set(err, ERR_INVALID, "refusing to remove '/'");
	}
	/* sb grows as the walk descends, so the name needs its own copy */
	name = xstrdup(sb.buf);
	rc = remove_at(AT_FDCWD, name, &sb, err);
	free(name);
	strbuf_release(&sb);
	return rc;
}

char *fs_path_join(const char *a, const char *b)
{
	struct strbuf sb = STRBUF_INIT;
	size_t la = strlen(a);

	if (!la || b[0] == '/')
		return xstrdup(b);
	strbuf_add(&sb, a, la);
	while (sb.len > 1 && sb.buf[sb.len - 1] == '/')
		strbuf_setlen(&sb, sb.len - 1);
	if (sb.buf[sb.len - 1] != '/' && *b)
		strbuf_addch(&sb, '/');
	strbuf_addstr(&sb, b);
	return strbuf_detach(&sb, NULL);
}

int fs_realpath(char **out, const char *path, struct error *err)
{
	char *res = realpath(path, NULL);

	if (!res)
		return error_errno(err, errno == ENOENT ? ERR_NOTFOUND : ERR_IO, errno,
				   "cannot resolve '%s'", path);
	*out = res;
	return 0;
}

/* Collapses "//", "." and ".." in an absolute path (lexically, as the user wrote it). */
char *fs_path_normalize(const char *abs)
{
	struct strbuf out = STRBUF_INIT;
	const char *p = abs;

	while (*p) {
		size_t len;

		while (*p == '/')
			p++;
		len = strcspn(p, "/");
		if (!len)
			break;
		if (len == 1 && p[0] == '.') {
			/* skip */
		} else if (len == 2 && p[0] == '.' && p[1] == '.') {
			char *slash = strrchr(out.buf, '/');

			strbuf_setlen(&out, slash ? (size_t)(slash - out.buf) : 0);
		} else {
			strbuf_addch(&out, '/');
			strbuf_add(&out, p, len);
		}
		p += len;
	}
	if (!out.len)
		strbuf_addch(&out, '/');
	return strbuf_detach(&out, NULL);
}

bool fs_relpath_is_safe(const char *rel)
{
	const char *seg = rel;

	if (!rel || !*rel || *rel == '/')
		return false;
	for (const char *p = rel; *p; p++)
		if (*p == '\\' || (unsigned char)*p < 0x20 || *p == 0x7f)
			return false;
	for (;;) {
		size_t n = strcspn(seg, "/");

		if (!n || (n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.'))
			return false;
		if (!seg[n])
			return true;
		seg += n + 1;
	}
}
