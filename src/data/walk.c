/* Recursive listing of the regular files of a directory, refusing links and special files. */
#include "util/common.h"
#include "data/walk.h"
#include "util/strbuf.h"
#include "util/workpool.h"

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

/* One directory of a level of the walk: its files and the subdirectories for the next level. */
struct dir_job {
	char *rel; /* relative to the top, "" for the top itself */
	struct walk_list files;
	char **subdirs;
	size_t nsub, suballoc;
};

struct level {
	int topfd;
	const char *top;
	struct dir_job *jobs;
};

static void add_subdir(struct dir_job *job, const char *rel)
{
	ALLOC_GROW(job->subdirs, job->nsub + 1, job->suballoc);
	job->subdirs[job->nsub++] = xstrdup(rel);
}

/* Lists one directory: regular files into job->files, directories into job->subdirs. */
static int read_dir(size_t i, void *data, struct error *err)
{
	struct level *lv = data;
	struct dir_job *job = &lv->jobs[i];
	struct strbuf path = STRBUF_INIT;
	struct dirent *de;
	DIR *d = NULL;
	int fd, rc = 0;

	fd = *job->rel ? openat(lv->topfd, job->rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW)
		       : dup(lv->topfd);
	if (fd < 0 || !(d = fdopendir(fd))) {
		rc = error_errno(err, ERR_IO, errno, "cannot open directory '%s/%s'", lv->top,
				 job->rel);
		if (fd >= 0)
			close(fd);
		return rc;
	}
	while (!rc && (errno = 0, de = readdir(d))) {
		struct stat st;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		/* no printf here: this runs once per file */
		strbuf_reset(&path);
		if (*job->rel) {
			strbuf_addstr(&path, job->rel);
			strbuf_addch(&path, '/');
		}
		strbuf_addstr(&path, de->d_name);
		if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW)) {
			rc = error_errno(err, ERR_IO, errno, "cannot stat '%s/%s'", lv->top,
					 path.buf);
		} else if (S_ISREG(st.st_mode)) {
			ALLOC_GROW(job->files.items, job->files.nr + 1, job->files.alloc);
			job->files.items[job->files.nr].relpath = xstrdup(path.buf);
			job->files.items[job->files.nr++].st = st;
		} else if (S_ISDIR(st.st_mode)) {
			add_subdir(job, path.buf);
		} else {
			rc = refuse(lv->top, path.buf, st.st_mode, err);
		}
	}
	if (!rc && errno)
		rc = error_errno(err, ERR_IO, errno, "cannot read directory '%s/%s'", lv->top,
				 job->rel);
	closedir(d);
	strbuf_release(&path);
	return rc;
}

static void release_jobs(struct dir_job *jobs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(jobs[i].rel);
		walk_list_release(&jobs[i].files);
		for (size_t j = 0; j < jobs[i].nsub; j++)
			free(jobs[i].subdirs[j]);
		free(jobs[i].subdirs);
	}
	free(jobs);
}

/*
 * Breadth first, one level of directories at a time, the directories of a level listed in
 * parallel: most of a walk is fstatat() calls, which scale with threads on a warm cache.
 */
static int walk_levels(struct walk_list *out, int topfd, const char *top, struct error *err)
{
	struct level lv = { topfd, top, NULL };
	char **dirs = xmalloc(sizeof(*dirs));
	size_t ndirs = 1;
	int rc = 0;

	dirs[0] = xstrdup("");
	while (!rc && ndirs) {
		char **next = NULL;
		size_t nnext = 0, alloc = 0;

		lv.jobs = xcalloc(ndirs, sizeof(*lv.jobs));
		for (size_t i = 0; i < ndirs; i++)
			lv.jobs[i].rel = dirs[i];
		free(dirs);
		rc = workpool_run(ndirs, 0, 1, read_dir, &lv, err);
		for (size_t i = 0; !rc && i < ndirs; i++) {
			struct dir_job *job = &lv.jobs[i];

			for (size_t j = 0; j < job->files.nr; j++) {
				ALLOC_GROW(out->items, out->nr + 1, out->alloc);
				out->items[out->nr++] = job->files.items[j];
			}
			job->files.nr = 0;
			for (size_t j = 0; j < job->nsub; j++) {
				ALLOC_GROW(next, nnext + 1, alloc);
				next[nnext++] = job->subdirs[j];
			}
			job->nsub = 0;
		}
		release_jobs(lv.jobs, ndirs);
		dirs = next;
		ndirs = nnext;
	}
	for (size_t i = 0; i < ndirs; i++)
		free(dirs[i]);
	free(dirs);
	return rc;
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct walk_entry *)a)->relpath,
		      ((const struct walk_entry *)b)->relpath);
}

int walk_files(struct walk_list *out, const char *dir, struct error *err)
{
	size_t first = out->nr;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	int rc;

	if (fd < 0)
		return error_errno(err, errno == ENOENT ? ERR_NOTFOUND : ERR_IO, errno,
				   "cannot open directory '%s'", dir);
	rc = walk_levels(out, fd, dir, err);
	close(fd);
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
