/*
 * Cache maintenance: gc (remove objects nothing references) and verify (re-hash objects, find
 * corrupted and missing ones).
 */
#ifndef FERRY_DATA_MAINTENANCE_H
#define FERRY_DATA_MAINTENANCE_H

#include <stddef.h>
#include <stdint.h>

struct error;
struct pointer;
struct strbuf;
struct workspace;

struct gc_stats {
	uint64_t kept, removed, removed_bytes;
	uint64_t referenced; /* distinct objects the scope references */
};

/*
 * Removes every cache object not referenced by a pointer file in the workspace (all_commits:
 * or by any pointer file in any git commit reachable from a ref), nor by a run artifact in the
 * workspace's store (ws->store, when set), nor by one of the nextra pointers in extra (what
 * the caller keeps alive otherwise: the pipeline's run cache), and stale temporary files.
 * dry_run: only count, and list would-be removals in report ("sha256:<hex> <size>" lines).
 */
int data_gc(struct workspace *ws, int all_commits, const struct pointer *extra, size_t nextra,
	    int dry_run, struct gc_stats *stats, struct strbuf *report, struct error *err);

struct verify_stats {
	uint64_t checked, corrupted, missing;
};

/*
 * Re-hashes every cache object (in parallel) and checks that every object the workspace's
 * pointer files and its store's run artifacts reference is present. Problems go to report, one per line. Returns 0 when all
 * is well, ERR_INVALID when something is corrupted or missing.
 */
int data_verify(struct workspace *ws, struct verify_stats *stats, struct strbuf *report,
		struct error *err);

#endif
