/*
 * The workspace side of data versioning: tracked paths (each with a PATH.ferry pointer file),
 * and the operations users run on them: add, status, checkout, diff, and the object sets that
 * push, pull, gc and verify work on. Unchanged files are not re-hashed: a stat cache in the
 * store remembers (size, mtime, ctime, inode) -> digest.
 */
#ifndef FERRY_DATA_WORKSPACE_H
#define FERRY_DATA_WORKSPACE_H

#include <stddef.h>
#include <stdint.h>

#include "data/cas.h"
#include "data/manifest.h"
#include "data/pointer.h"

struct error;
struct store;
struct strbuf;

struct workspace {
	char *root;	     /* absolute project root; owned */
	char *ferry_dir;     /* root/.ferry; owned */
	struct cas *cas;     /* owned */
	struct store *store; /* borrowed */
	int jobs;	     /* parallel hashing/linking; <= 0: the CPU count */
	int quiet;	     /* no progress bars */
};

int workspace_open(struct workspace **out, const char *root, const char *cache_dir,
		   const char *link_order, struct store *st, struct error *err);
void workspace_free(struct workspace *ws);

/*
 * Turns a user's path argument (relative to cwd, or absolute) into a path relative to the
 * project root, lexically normalised. ERR_INVALID if it is outside the project, is the root, or
 * lies inside .ferry/ or .git/. Caller frees *out.
 */
int workspace_relpath(char **out, const struct workspace *ws, const char *cwd, const char *arg,
		      struct error *err);

/* A tracked path: its pointer file's content. */
struct tracked {
	char *path; /* data path relative to the root; owned */
	struct pointer ptr;
};

struct tracked_list {
	struct tracked *items;
	size_t nr, alloc;
};
#define TRACKED_LIST_INIT                                                                          \
	{                                                                                          \
		NULL, 0, 0                                                                         \
	}
void tracked_list_release(struct tracked_list *list);

/*
 * The tracked paths named by args (each a data path, its pointer file, or a directory holding
 * pointer files), or every pointer file in the project when nargs is 0; sorted by path.
 * ERR_NOTFOUND for an argument that names nothing tracked; pointer files that do not parse are
 * errors naming file:line:col.
 */
int workspace_tracked(struct tracked_list *out, struct workspace *ws, const char *cwd,
		      const char *const *args, size_t nargs, struct error *err);

struct add_result {
	char *path; /* relative to the root; owned */
	struct pointer ptr;
	size_t hashed; /* files read and hashed */
	size_t reused; /* files whose digest came from the stat cache */
	int changed;   /* the pointer file's digest changed (or it is new) */
};
void add_result_release(struct add_result *r);

/*
 * Adds the file or directory at arg: content into the cache, PATH.ferry written (its desc kept),
 * PATH listed in the .gitignore beside it, the version recorded in the store's datasets with
 * git_commit (may be NULL). Symlinks and special files are refused.
 */
int workspace_add(struct workspace *ws, const char *cwd, const char *arg, const char *git_commit,
		  struct add_result *out, struct error *err);

enum data_state {
	DATA_UP_TO_DATE,   /* workspace matches the pointer and the cache has every object */
	DATA_MODIFIED,	   /* workspace differs from the pointer */
	DATA_MISSING,	   /* the data is not in the workspace */
	DATA_NOT_IN_CACHE, /* workspace matches, but objects are missing from the cache */
};
const char *data_state_name(enum data_state s);

struct status_result {
	enum data_state state;
	char hex[SHA256_HEX_SIZE]; /* the workspace's digest (empty when missing) */
	uint64_t size;
	uint64_t nfiles;
	uint64_t missing_objects; /* objects of the pointer's version absent from the cache */
	struct manifest current;  /* directories: the workspace's manifest */
};
void status_result_release(struct status_result *r);

int workspace_status(struct workspace *ws, const struct tracked *t, struct status_result *out,
		     struct error *err);

/* One line of a diff between a pointer's version and the workspace. */
struct diff_entry {
	char op;    /* 'A' added, 'D' deleted, 'M' modified */
	char *path; /* relative to the root; owned */
	char old_hex[SHA256_HEX_SIZE], new_hex[SHA256_HEX_SIZE];
	uint64_t old_size, new_size;
};
struct diff_list {
	struct diff_entry *items;
	size_t nr, alloc;
};
void diff_list_release(struct diff_list *list);

/*
 * What changed in the workspace relative to t's pointer, file by file (directories need the
 * pointer's manifest in the cache; ERR_NOTFOUND otherwise).
 */
int workspace_diff(struct workspace *ws, const struct tracked *t, struct diff_list *out,
		   struct error *err);

struct checkout_result {
	size_t written; /* files written */
	size_t removed; /* files removed from a tracked directory */
	size_t kept;	/* files already right */
};

/*
 * Makes the workspace match t's pointer. Refuses (ERR_CONFLICT, listing them) to overwrite or
 * delete workspace content that is not in the cache, unless force. ERR_NOTFOUND if an object is
 * missing from the cache ("run 'ferry data pull'").
 */
int workspace_checkout(struct workspace *ws, const struct tracked *t, int force,
		       struct checkout_result *out, struct error *err);

/*
 * Appends to hexes (64-hex strings, caller frees each) the objects t's pointer needs: the
 * object itself and, for a directory, every file in its manifest. If the manifest is not in the
 * cache, only its own digest is appended and *incomplete is set (fetch it, then ask again).
 */
int workspace_objects(struct workspace *ws, const struct pointer *p, char ***hexes, size_t *n,
		      size_t *alloc, int *incomplete, struct error *err);

#endif
