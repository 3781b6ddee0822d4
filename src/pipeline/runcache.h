/*
 * The run cache: what a stage produced, keyed by a digest of everything that determines it (its
 * command, wdir, deps' digests and params' values), so that going back to an earlier state
 * (a revert, a branch switch) restores the outputs from the object cache instead of running
 * the stage again. Entries are small text files under .ferry/cache/runs/<2 hex>/<62 hex>, one
 * line per output: "<64 hex> <size> <nfiles or -> <path>", written atomically; the outputs'
 * bytes are objects in the cache (directories by their manifests).
 */
#ifndef FERRY_PIPELINE_RUNCACHE_H
#define FERRY_PIPELINE_RUNCACHE_H

#include "pipeline/lock.h"
#include "pipeline/pipeline.h"

struct cas;
struct error;

/* The key of a stage's state (name, cmd, deps, params of now; outs ignored): 64 hex. */
void runcache_key(char out[SHA256_HEX_SIZE], const struct stage *st, const struct lock_stage *now);

/* Records outs (nouts entries) under key. */
int runcache_put(struct cas *cas, const char *key, const struct lock_entry *outs, size_t nouts,
		 struct error *err);

/*
 * Looks key up: 1 with *outs filled (caller frees each path and the array) when there is an
 * entry for exactly the paths of st's outs and every object it needs is in the cache; 0 when
 * not (a miss); negative on errors reading a corrupt entry (ERR_INVALID naming it).
 */
int runcache_get(struct lock_entry **outs, size_t *nouts, struct cas *cas, const char *key,
		 const struct stage *st, struct error *err);

/*
 * Calls fn for each output of each entry, for `ferry data gc` to keep what the run cache needs.
 * An entry that does not parse is skipped (runcache_get would refuse it: it keeps nothing
 * alive) and counted in *skipped. Stops at fn's first non-zero return, which it returns.
 */
int runcache_foreach_out(struct cas *cas, int (*fn)(const struct lock_entry *out, void *data),
			 void *data, size_t *skipped, struct error *err);

/*
 * Puts out (a file or a directory) at root/out->path from the object cache, replacing what is
 * there atomically for a file and by a rename of a complete sibling directory for a directory.
 */
int runcache_restore(struct cas *cas, const char *root, const struct lock_entry *out,
		     struct error *err);

#endif
