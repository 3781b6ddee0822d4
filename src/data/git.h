/*
 * What data versioning asks of git, through the git command (util/subprocess): the current
 * commit, a pointer file's history, and every pointer file in every commit (gc --all-commits).
 */
#ifndef FERRY_DATA_GIT_H
#define FERRY_DATA_GIT_H

#include <stddef.h>

struct error;
struct strbuf;

/* The HEAD commit of the repository holding dir (40 hex) in out; 1 if not a git repo or no commit yet. */
int git_head(char out[41], const char *dir, struct error *err);

/* 1 if tracked files in the work tree of dir differ from HEAD (untracked ones do not count). */
int git_dirty(const char *dir);

struct git_pointer_version {
	char commit[41];
	char *date;    /* committer date, ISO 8601; owned */
	char *subject; /* owned */
	char *content; /* the pointer file's text at that commit; owned; NULL if deleted there */
};

struct git_pointer_log {
	struct git_pointer_version *items;
	size_t nr, alloc;
};

/* The commits that changed path (relative to root), newest first, with the file at each. */
int git_pointer_log(struct git_pointer_log *out, const char *root, const char *path,
		    struct error *err);
void git_pointer_log_release(struct git_pointer_log *log);

/*
 * Calls fn with the text of every distinct *.ferry blob reachable from any ref (gc
 * --all-commits); fn's path is the blob's path in one commit that has it.
 */
int git_all_pointer_blobs(const char *root,
			  int (*fn)(const char *path, const char *text, size_t len, void *data),
			  void *data, struct error *err);

#endif
