/*
 * Filesystem helpers: crash-safe whole-file replacement, capped reads, directory creation and
 * removal, path joining. Errors name the path and carry strerror text.
 */
#ifndef FERRY_UTIL_FS_H
#define FERRY_UTIL_FS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct strbuf;

/*
 * Replaces path with data atomically: writes a temporary ".<base>.tmp-XXXXXX" in the same
 * directory, fsyncs it, sets mode (exactly, umask is not applied), renames it over path and
 * fsyncs the directory. Readers see either the old or the new content, never a mix. On failure
 * before the rename the temporary file is removed and path is untouched. ERR_IO on failure.
 */
int fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode, struct error *err);

/*
 * The same, streamed: fs_atomic_begin creates the temporary file (write to a->fd),
 * fs_atomic_commit sets mode, fsyncs, renames it over path and fsyncs the directory,
 * fs_atomic_abort removes it. Every begin is followed by exactly one commit or abort; a failed
 * commit has aborted already.
 */
struct fs_atomic {
	int fd;
	char *path, *tmp, *dir; /* owned */
};

#define FS_ATOMIC_INIT                                                                             \
	{                                                                                          \
		-1, NULL, NULL, NULL                                                               \
	}

int fs_atomic_begin(struct fs_atomic *a, const char *path, struct error *err);
int fs_atomic_commit(struct fs_atomic *a, mode_t mode, struct error *err);
void fs_atomic_abort(struct fs_atomic *a);

/*
 * Appends the content of path to out. ERR_NOTFOUND if it does not exist, ERR_TOOBIG if it holds
 * more than max_size bytes, ERR_IO otherwise (a directory, no permission...). On failure out is
 * as it was.
 */
/* Writes all len bytes to fd, retrying short writes and EINTR; -1 with errno set on failure. */
int fs_write_all(int fd, const void *data, size_t len);

int fs_read_file(struct strbuf *out, const char *path, size_t max_size, struct error *err);

/* mkdir -p: creates path and missing parents with mode (less the umask). ERR_IO on failure. */
int fs_mkdir_p(const char *path, mode_t mode, struct error *err);

/* True if path is a directory, following symlinks. */
int fs_is_dir(const char *path);

/* True if something exists at path; a dangling symlink counts (lstat succeeds). */
int fs_exists(const char *path);

/*
 * fsync(2)s a directory so that renames and creations in it are durable. Filesystems that do not
 * support syncing directories (EINVAL) are not an error. ERR_IO on failure.
 */
int fs_fsync_dir(const char *dir, struct error *err);

/*
 * rm -rf: removes path and, if it is a directory, everything below it. Symlinks are removed,
 * never followed. A missing path is success. ERR_IO naming the entry that could not be removed.
 */
int fs_remove_tree(const char *path, struct error *err);

/*
 * Joins a and b with exactly one '/' between them; an empty a gives b, an absolute b gives b.
 * Returns a new string the caller frees.
 */
char *fs_path_join(const char *a, const char *b);

/*
 * Collapses "//", "." and ".." in an absolute path lexically (symlinks are not resolved: the
 * path stays the one the user wrote); "/.." is "/". Caller frees.
 */
char *fs_path_normalize(const char *abs);

/*
 * Canonical absolute path of path (symlinks, "." and ".." resolved) into *out, which the caller
 * frees. ERR_NOTFOUND if a component does not exist, ERR_IO otherwise; *out untouched on failure.
 */
int fs_realpath(char **out, const char *path, struct error *err);

/*
 * True if rel is a safe relative path to join under a directory (run artifacts, request paths):
 * not empty, no leading '/', no backslash or control character, and no empty, "." or ".."
 * segment ("a//b", "a/", "./a" and "a/../b" are all refused).
 */
bool fs_relpath_is_safe(const char *rel);

#endif
