/*
 * Run artifacts: files a run produced, their bytes stored content-addressed in the object cache
 * (data/cas.h: deduplicated, immutable, verified on read) and their paths in the store's
 * artifacts table. Paths are relative to the run's artifact root ("model/model.json").
 *
 * Objects are made durable (cas_sync) before the store refers to them, so a crash never leaves
 * a row without its bytes. Open the cache with link order "reflink,copy" (the default): a
 * hardlink would make the run's source files read-only. `ferry data gc` keeps every object an
 * artifact refers to (store_artifact_digests).
 */
#ifndef FERRY_TRACK_ARTIFACTS_H
#define FERRY_TRACK_ARTIFACTS_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"
#include "util/sha256.h"

struct cas;
struct error;
struct strbuf;

/* ERR_INVALID "invalid artifact path '...'" unless path is relative, without '.', '..' or empty
 * segments, backslashes or control characters. */
int track_artifact_check_path(const char *path, struct error *err);

/*
 * Stores len bytes at data as artifact path of the run (replacing what path held). out_hex (may
 * be NULL) gets the digest. ERR_NOTFOUND if the run does not exist, ERR_CONFLICT if path is a
 * directory of the run or lies under one of its files.
 */
int track_artifact_put_buffer(struct store *st, struct cas *cas, const char *run_id,
			      const char *path, const void *data, size_t len,
			      char out_hex[SHA256_HEX_SIZE], struct error *err);

/* The same with the content of the regular file at file (streamed: bounded memory). */
int track_artifact_put_file(struct store *st, struct cas *cas, const char *run_id, const char *path,
			    const char *file, char out_hex[SHA256_HEX_SIZE], struct error *err);

/*
 * Stores every regular file under directory dir (recursively; symlinks to regular files are
 * followed, other symlinks and special files are ERR_INVALID) as artifacts prefix/<relative
 * path> (prefix "" or NULL: at the root), all rows in one transaction. *nfiles (may be NULL)
 * gets how many. An empty directory stores nothing.
 */
int track_artifact_put_dir(struct store *st, struct cas *cas, const char *run_id,
			   const char *prefix, const char *dir, size_t *nfiles, struct error *err);

/*
 * Appends artifact path's bytes to out, at most max_size of them (ERR_TOOBIG beyond), verified
 * against the recorded digest: ERR_NOTFOUND without the artifact or its cache object,
 * ERR_INVALID if the object is corrupted.
 */
int track_artifact_read(struct store *st, struct cas *cas, const char *run_id, const char *path,
			struct strbuf *out, size_t max_size, struct error *err);

/*
 * Opens artifact path's cache object for reading after verifying its digest (so what is read is
 * what was stored), positioned at offset 0: *out_fd is the caller's to close, info (may be NULL)
 * gets the store's row. Errors as track_artifact_read.
 */
int track_artifact_open(int *out_fd, struct store_artifact *info, struct store *st, struct cas *cas,
			const char *run_id, const char *path, struct error *err);

/*
 * Writes artifact path to the file dest (atomically, mode 0644, parents created), verified.
 * Errors as track_artifact_read, ERR_IO naming dest.
 */
int track_artifact_checkout(struct store *st, struct cas *cas, const char *run_id, const char *path,
			    const char *dest, struct error *err);

#endif
