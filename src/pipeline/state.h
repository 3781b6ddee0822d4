/*
 * A stage's state now versus ferry.lock: the digests of its deps and outs (files and
 * directories, from the store's stat cache where a file's size, mtime, ctime and inode are
 * unchanged, so an unchanged 1 GB dataset is not re-read), its params' values, its command, and
 * the reasons it is stale ("dep 'data/x.csv' changed", "param 'params.yaml:train.C' changed",
 * "cmd changed", "out 'model' missing", "never run").
 */
#ifndef FERRY_PIPELINE_STATE_H
#define FERRY_PIPELINE_STATE_H

#include <pthread.h>
#include <stddef.h>

#include "pipeline/lock.h"
#include "pipeline/pipeline.h"
#include "util/strbuf.h"

struct cas;
struct error;
struct store;

/* What hashing needs; borrowed. */
struct pipe_env {
	const char *root;    /* absolute project root */
	struct store *store; /* the stat cache's store; NULL: hash everything */
	struct cas *cas;     /* the object cache outputs go into */
	pthread_mutex_t *mu; /* serialises store calls between threads; may be NULL */
	int jobs;	     /* threads for hashing a directory's files (<= 0: CPUs) */
};

/*
 * The digest of rel (a file or a directory, root-relative) now, into *out (path set, caller
 * releases with free(out->path)). With add, the content also goes into env->cas (a directory's
 * manifest too) by reflink or copy, never a hardlink: outputs stay writable. ERR_NOTFOUND if
 * rel does not exist; ERR_INVALID for symlinks and special files.
 */
int pipe_hash(struct lock_entry *out, struct pipe_env *env, const char *rel, int add,
	      struct error *err);

/*
 * The value of key in the YAML file root/file, as canonical text: a scalar's text as written,
 * a mapping or sequence as compact JSON with keys in file order and scalars as strings. key is
 * dotted ("train.C"); "" means the whole document. ERR_NOTFOUND naming the file and key.
 */
int pipe_param_value(char **out, const char *root, const char *file, const char *key,
		     struct error *err);
/* The same from a document already parsed (root node); NULL into *out if the key is absent. */
char *pipe_param_lookup(struct fy_node *root, const char *key);

struct stage_state {
	struct lock_stage now; /* name, cmd, deps, params; outs that exist */
	int stale;
	int missing_dep;   /* a dep does not exist (cannot run unless an upstream makes it) */
	struct strbuf why; /* the reasons, "; "-separated */
};
#define STAGE_STATE_INIT                                                                           \
	{                                                                                          \
		{ 0 }, 0, 0, STRBUF_INIT                                                           \
	}
void stage_state_release(struct stage_state *s);

/*
 * Computes st's state and compares it with locked (NULL: never run). A missing params file or
 * key is an error (ERR_NOTFOUND naming it); a missing dep is a reason, with missing_dep set.
 */
int stage_check(struct stage_state *out, struct pipe_env *env, const struct stage *st,
		const struct lock_stage *locked, struct error *err);

/*
 * Compares a computed state with the locked one and appends the reasons to why; returns 1 if
 * stale. For unit tests and stage_check.
 */
int stage_compare(const struct lock_stage *now, const struct lock_stage *locked,
		  struct strbuf *why);

#endif
