/* Recursive listing of the regular files of a directory, refusing links and special files. */
#include "util/common.h"
#include "data/walk.h"
#include "util/strbuf.h"

#include <dirent.h>
#include <fcntl.h>

const char *walk_kind_name(mode_t mode)
{
	if (S_ISLNK(mode))
		return "a symbolic link";
	if (S_ISSOCK(mode))
		return "a socket";
	if (S_ISFIFO(mode))
		return "a FIFO";
	if (S_ISCHR(mode) || S_ISBLK(mode))
		return "a device";
	if (S_ISDIR(mode))
		return "a directory";
	return "a regular file";
}

static int refuse(const char *top, const char *rel, mode_t mode, struct error *err)
{
	return error_set(err, ERR_INVALID,
			 "'%s/%s' is %s; only regular files and directories can be versioned", top,
			 rel, walk_kind_name(mode));
}

/* Walks the directory open at dirfd; prefix is its path relative to the top ("" at the top). */
static int walk_fd(struct walk_list *out, int fd, const char *top, struct strbuf *prefix,
		   struct error *err)
{
	DIR *d = fdopendir(fd);
	struct dirent *de;
	int rc = 0;

	if (!d) {
		close(fd);
		return error_errno(err, ERR_IO, errno, "cannot read directory '%s/%s'", top,
				   prefix->buf);
	}
	while (!rc && (errno = 0, de = readdir(d))) {
		size_t keep = prefix->len;
		struct stat st;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (prefix->len)
			strbuf_addch(prefix, '/');
		strbuf_addstr(prefix, de->d_name);
		if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW)) {
			rc = error_errno(err, ERR_IO, errno, "cannot stat '%s/%s'", top,
					 prefix->buf);
		} else if (S_ISREG(st.st_mode)) {
			ALLOC_GROW(out->items, out->nr + 1, out->alloc);
			out->items[out->nr].relpath = xstrdup(prefix->buf);
			out->items[out->nr++].st = st;
		} else if (S_ISDIR(st.st_mode)) {
			int sub = openat(fd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);

			if (sub < 0)
				rc = error_errno(err, ERR_IO, errno,
						 "cannot open directory '%s/%s'", top, prefix->buf);
			else
				rc = walk_fd(out, sub, top, prefix, err);
		} else {
			rc = refuse(top, prefix->buf, st.st_mode, err);
		}
		strbuf_setlen(prefix, keep);
	}
	if (!rc && errno)
		rc = error_errno(err, ERR_IO, errno, "cannot read directory '%s/%s'", top,
				 prefix->buf);
	closedir(d);
	return rc;
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct walk_entry *)a)->relpath,
		      ((const struct walk_entry *)b)->relpath);
}

int walk_files(struct walk_list *out, const char *dir, struct error *err)
{
	struct strbuf prefix = STRBUF_INIT;
	size_t first = out->nr;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
	int rc;

	if (fd < 0)
		return error_errno(err, errno == ENOENT ? ERR_NOTFOUND : ERR_IO, errno,
				   "cannot open directory '%s'", dir);
	rc = walk_fd(out, fd, dir, &prefix, err);
	strbuf_release(&prefix);
	if (rc) {
		for (size_t i = first; i < out->nr; i++)
			free(out->items[i].relpath);
		out->nr = first;
		return rc;
	}
	if (out->nr > first)
		qsort(out->items + first, out->nr - first, sizeof(*out->items), cmp_entry);
	return 0;
}

void walk_list_release(struct walk_list *list)
{
	for (size_t i = 0; i < list->nr; i++)
		free(list->items[i].relpath);
	free(list->items);
	list->items = NULL;
	list->nr = list->alloc = 0;
}
