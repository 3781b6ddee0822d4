/*
 * ferry.lock: for each stage, the state of its last successful run (the digests of its deps and
 * outs, the values of its params, its command), so that a pipeline's state is reproducible
 * from git. YAML written by hand in a fixed shape: stages sorted by name, paths and params
 * sorted, every string double-quoted, so that git diffs show exactly what changed.
 *
 *     schema: 1
 *     stages:
 *       "train":
 *         cmd: "python train.py"
 *         deps:
 *           - path: "data/train.csv"
 *             sha256: "<64 hex>"
 *             size: 1234
 *         params:
 *           "params.yaml":
 *             "train.C": "1.0"
 *         outs:
 *           - path: "model"
 *             sha256: "<64 hex of the directory's manifest>"
 *             size: 5678
 *             nfiles: 3
 */
#ifndef FERRY_PIPELINE_LOCK_H
#define FERRY_PIPELINE_LOCK_H

#include <stddef.h>
#include <stdint.h>

#include "util/sha256.h"

struct error;
struct strbuf;

#define LOCK_FILE "ferry.lock"
#define LOCK_MAX_SIZE (64u << 20)

/* A dep or out as it was: a file (nfiles 0) or a directory (its manifest's digest). */
struct lock_entry {
	char *path; /* root-relative; owned */
	char hex[SHA256_HEX_SIZE];
	uint64_t size;
	uint64_t nfiles; /* 0 for a file; a directory's file count otherwise */
	int is_dir;
};

struct lock_param {
	char *file, *key; /* owned */
	char *value;	  /* canonical text (see state.h); owned */
};

struct lock_stage {
	char *name, *cmd; /* owned */
	struct lock_entry *deps, *outs;
	size_t ndeps, nouts;
	struct lock_param *params;
	size_t nparams;
};

struct lockfile {
	struct lock_stage *stages; /* sorted by name once serialised or parsed */
	size_t nr;
};
#define LOCKFILE_INIT                                                                              \
	{                                                                                          \
		NULL, 0                                                                            \
	}

/*
 * Parses ferry.lock bytes ("NAME:LINE:COL: ..." errors; ERR_INVALID): unknown keys, digests
 * that are not 64 lowercase hex digits, sizes that are not integers, duplicate stages, paths
 * or params. An empty stream is an empty lock file. *out untouched on failure.
 */
int lock_parse(struct lockfile *out, const char *name, const char *buf, size_t len,
	       struct error *err);

/* Reads root/ferry.lock; a missing file is an empty lock file. */
int lock_load(struct lockfile *out, const char *root, struct error *err);

/* Sorts everything and appends the text to out; whatever lock_parse accepts reads back equal. */
void lock_serialize(struct lockfile *lf, struct strbuf *out);

/* Writes root/ferry.lock atomically (temp file, fsync, rename). */
int lock_save(struct lockfile *lf, const char *root, struct error *err);

/* The stage called name, or NULL. */
struct lock_stage *lock_find(struct lockfile *lf, const char *name);

/*
 * Replaces (or adds) the stage named st->name with a deep copy of st. Stages whose names are
 * not in keep (nkeep names; NULL keeps all) are dropped: stages removed from ferry.yaml.
 */
void lock_put(struct lockfile *lf, const struct lock_stage *st, const char *const *keep,
	      size_t nkeep);

/* Sorts a stage's deps and outs by path and its params by file and key. */
void lock_stage_sort(struct lock_stage *st);
void lock_stage_copy(struct lock_stage *dst, const struct lock_stage *src);
void lock_stage_release(struct lock_stage *st);
void lockfile_release(struct lockfile *lf);

#endif
