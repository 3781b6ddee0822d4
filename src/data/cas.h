/*
 * The content-addressed object cache: .ferry/cache/objects/sha256/<2 hex>/<62 hex>, each object
 * the exact bytes whose plain SHA-256 is its name (checkable with sha256sum), immutable and
 * read-only (0444). Objects enter only through a temporary file that is given the object's name
 * once complete (and, for received data, verified), so a crash or a full disk never leaves a
 * partial object under its name. The temporary file is unnamed (O_TMPFILE, named by linkat)
 * where the file system allows, so an interrupted writer leaves nothing behind; elsewhere it is
 * a file in .ferry/cache/tmp/ linked into place, and cas_clean_tmp removes leftovers.
 */
#ifndef FERRY_DATA_CAS_H
#define FERRY_DATA_CAS_H

#include <stdint.h>
#include <sys/types.h>

#include "util/sha256.h"

struct error;
struct strbuf;

/* How a workspace file and its object share bytes, tried in the configured order. */
enum link_kind {
	LINK_REFLINK,  /* FICLONE: copy-on-write clone; safe and instant where supported */
	LINK_HARDLINK, /* one inode; the workspace file becomes read-only (see docs) */
	LINK_COPY,     /* plain copy; always works */
};

#define LINK_MAX_ORDER 3

struct cas {
	char *dir;     /* the cache directory, e.g. /repo/.ferry/cache; owned */
	char *objects; /* dir/objects/sha256; owned */
	char *tmp;     /* dir/tmp; owned */
	enum link_kind order[LINK_MAX_ORDER];
	int norder;
};

/*
 * Parses a link order such as "reflink,copy" or "reflink,hardlink,copy" (the config value
 * cache.link); ERR_INVALID naming the bad word otherwise.
 */
int cas_parse_link_order(enum link_kind out[LINK_MAX_ORDER], int *nout, const char *spec,
			 struct error *err);
const char *link_kind_name(enum link_kind kind);

/* Opens (creating its directories if needed) the cache at dir; free with cas_free. */
int cas_open(struct cas **out, const char *dir, const char *link_order, struct error *err);
void cas_free(struct cas *cas);

/* Path of an object (whether or not it exists); caller frees. hex: 64 lowercase hex digits. */
char *cas_object_path(const struct cas *cas, const char *hex);

/*
 * 1 if the object exists, 0 if not (no verification; an empty file under the name of non-empty
 * content, which a crash before cas_sync can leave, counts as absent).
 */
int cas_has(const struct cas *cas, const char *hex);

/*
 * Hashes the file at path and makes sure its content is in the cache, sharing bytes with the
 * workspace file by the first link kind that works (reflink, hardlink, copy per the order). The
 * workspace file's content is never changed; with a hardlink it becomes the object's inode and
 * loses write permission. Fills out_hex and out_size. Streams the file (bounded memory).
 * Errors name the path: ERR_NOTFOUND, ERR_IO (including ENOSPC: no partial object is left).
 * Thread-safe: many threads may add at once, also the same content.
 */
int cas_add_file(struct cas *cas, const char *path, char out_hex[SHA256_HEX_SIZE],
		 uint64_t *out_size, struct error *err);

/* Stores a buffer (a directory manifest) as an object; fills out_hex. */
int cas_add_buffer(struct cas *cas, const void *data, size_t len, char out_hex[SHA256_HEX_SIZE],
		   struct error *err);

/*
 * Reads an object into out (appending), at most max_size bytes, verifying its digest:
 * ERR_NOTFOUND if missing, ERR_INVALID "cache object sha256:<hex> is corrupted ..." on mismatch.
 */
int cas_read(struct cas *cas, const char *hex, struct strbuf *out, size_t max_size,
	     struct error *err);

/*
 * Puts object hex at dest (a workspace path) by the configured link order, atomically (a temp
 * file beside dest, renamed over it), with mode 0644 (0755 if executable; read-only for a
 * hardlink). Creates dest's parent directories. *used (may be NULL) tells the link kind used.
 * ERR_NOTFOUND if the object is missing.
 */
int cas_checkout(struct cas *cas, const char *hex, const char *dest, int executable,
		 enum link_kind *used, struct error *err);

/* Re-hashes an object: 0 if intact, ERR_NOTFOUND if missing, ERR_INVALID if corrupted. */
int cas_verify(struct cas *cas, const char *hex, struct error *err);

/* Removes an object (gc). A missing object is not an error. */
int cas_remove(struct cas *cas, const char *hex, struct error *err);

/*
 * Calls fn for every object in the cache (hex digest, size in bytes); stops and returns fn's
 * value if it is non-zero. Ignores temporary files and anything not shaped like an object.
 */
int cas_foreach(struct cas *cas, int (*fn)(const char *hex, uint64_t size, void *data), void *data,
		struct error *err);
/* The same without sizes: no stat per object where the file system reports entry types. */
int cas_foreach_name(struct cas *cas, int (*fn)(const char *hex, void *data), void *data,
		     struct error *err);
/*
 * How many of the n digests in hexes (duplicates count each time) the cache lacks, from one
 * listing of the cache's directories (only those the digests fall in, read on up to jobs
 * threads; <= 0: the CPU count) rather than a stat per object: as cas_foreach_name, entry types
 * are trusted. *out is set on success.
 */
int cas_count_missing(struct cas *cas, const char *const *hexes, size_t n, int jobs, uint64_t *out,
		      struct error *err);

/*
 * Receiving an object from elsewhere (a remote): open a writer, feed it bytes, and commit; the
 * object enters the cache only if the bytes hash to the expected digest (ERR_INVALID otherwise,
 * nothing kept). Abort discards. One writer per thread.
 */
struct cas_writer;
int cas_writer_open(struct cas_writer **out, struct cas *cas, const char *expected_hex,
		    struct error *err);
int cas_writer_write(struct cas_writer *w, const void *data, size_t len, struct error *err);
int cas_writer_commit(struct cas_writer *w, struct error *err); /* frees w */
void cas_writer_abort(struct cas_writer *w);			/* frees w; NULL ok */

/*
 * Makes every object written since the last call durable (one syncfs of the cache's filesystem
 * instead of an fsync per object); call before writing a pointer file that refers to them.
 */
int cas_sync(struct cas *cas, struct error *err);

/* Removes temporary files older than max_age_s left by interrupted writers (gc). */
int cas_clean_tmp(struct cas *cas, int max_age_s, struct error *err);

/*
 * For tests: 1 makes every temporary object a named file in tmp/ (linked into place), as on
 * file systems without O_TMPFILE or without /proc; 0 restores the default. Process-wide.
 */
void cas_force_named_tmp(int force);

#endif
