/*
 * Moving objects between the local cache and a remote: only the missing ones, in parallel, with
 * progress, verifying every object's digest (a sent object is re-hashed as it is read; a received
 * one is hashed before it enters the cache). Re-running after an interruption finishes the job.
 */
#ifndef FERRY_DATA_TRANSFER_H
#define FERRY_DATA_TRANSFER_H

#include <stddef.h>
#include <stdint.h>

struct cas;
struct error;
struct remote;
struct strbuf;

struct transfer_opts {
	int jobs;  /* parallel transfers; <= 0 means 4 x cores, capped at 64 */
	int quiet; /* no progress bar */
};

struct transfer_stats {
	uint64_t wanted;      /* distinct objects asked for */
	uint64_t present;     /* already at the destination: skipped */
	uint64_t transferred; /* objects moved */
	uint64_t bytes;	      /* bytes moved */
	uint64_t failed;      /* objects that could not be moved (see report) */
	uint64_t missing;     /* not at the source at all */
};

/*
 * Pushes the objects named in hexes (64-hex strings; duplicates allowed) from cas to r.
 * Objects missing locally are counted in stats->missing and listed in report; corrupted local
 * objects are never sent and are listed in report. Returns 0 if every wanted object is now on
 * the remote, ERR_IO (or the first error's code) otherwise, with err summarising.
 */
int transfer_push(struct cas *cas, struct remote *r, const char *const *hexes, size_t n,
		  const struct transfer_opts *opts, struct transfer_stats *stats,
		  struct strbuf *report, struct error *err);

/* The reverse: fetches the objects in hexes from r into cas (missing remotely: stats->missing). */
int transfer_fetch(struct cas *cas, struct remote *r, const char *const *hexes, size_t n,
		   const struct transfer_opts *opts, struct transfer_stats *stats,
		   struct strbuf *report, struct error *err);

#endif
