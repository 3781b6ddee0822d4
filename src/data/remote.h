/*
 * Remotes: where cache objects are pushed to and pulled from, behind a transport interface
 * (a local directory or file:// URL now; S3 later). A remote holds objects in the cache's own
 * layout, <root>/objects/sha256/<2 hex>/<62 hex>. An object becomes visible under its name only
 * once its bytes are complete, verified and durable, so a crash or kill -9 never leaves a torn or
 * wrong object there, and an interrupted push is finished by re-running it.
 */
#ifndef FERRY_DATA_REMOTE_H
#define FERRY_DATA_REMOTE_H

#include <stddef.h>
#include <stdint.h>

struct error;
struct cas;
struct cas_writer;

/*
 * The bytes of one object being uploaded, read from the local cache and hashed as they are read.
 * A transport calls object_source_read until it returns 0, then object_source_verify before it
 * makes the object visible: a corrupted local object is never published.
 */
struct object_source;
/*
 * Opens cache object hex (64 lowercase hex digits) of cas for reading. ERR_NOTFOUND "cache object
 * sha256:<hex> is missing" if it is not in the cache, ERR_IO if it cannot be opened. Free with
 * object_source_free (NULL is fine). A source is used by one thread at a time.
 */
int object_source_open(struct object_source **out, struct cas *cas, const char *hex,
		       struct error *err);
void object_source_free(struct object_source *src);
/* Returns bytes read (0 at end) or a negative ERR_*. */
long object_source_read(struct object_source *src, void *buf, size_t len, struct error *err);
/*
 * 0 if the bytes read so far hash to the object's name, ERR_INVALID "cache object sha256:<hex> is
 * corrupted; not pushing it (run 'ferry data verify')" otherwise. Ends the reading: calling
 * object_source_read afterwards is a BUG.
 */
int object_source_verify(struct object_source *src, struct error *err);
/* The object file's size when it was opened. */
uint64_t object_source_size(const struct object_source *src);

struct remote;

/*
 * An object put has uploaded and verified but that is not published yet: opaque, owned by the
 * transport until publish or discard consumes it.
 */
struct remote_staged;

/*
 * A transport. Every op may be called from several threads at once on one handle; errors name
 * the remote and the object or path. A missing object is ERR_NOTFOUND.
 *
 * Pushing is two steps so that durability is paid per batch, not per object: put uploads and
 * verifies each object into a staging area, then publish makes a batch of them visible. The
 * invariant every transport keeps: no object is visible under its name before its bytes are
 * verified and durable. (A transport whose single upload is already atomic, verified and durable,
 * as an S3 PUT with a checksum is, may name the object in put; its publish only reports.)
 */
struct remote_ops {
	const char *scheme; /* "file" */
	int (*open)(struct remote **out, const char *url, struct error *err);
	void (*close)(struct remote *r);
	/* Calls fn for each object present; for a bulk "what is missing" check. */
	int (*list)(struct remote *r, int (*fn)(const char *hex, void *data), void *data,
		    struct error *err);
	int (*has)(struct remote *r, const char *hex, int *out, struct error *err);
	/*
	 * Uploads src as object hex into the staging area and verifies it (see object_source);
	 * nothing is visible yet and the bytes need not be durable. On success *out must be given
	 * to publish or discard exactly once. On failure nothing is left staged.
	 */
	int (*put)(struct remote *r, struct remote_staged **out, const char *hex,
		   struct object_source *src, struct error *err);
	/*
	 * Publishes staged[0..n) and consumes all of them: makes their bytes durable, then gives
	 * each its name, then makes the names durable. Calls fn(data, i, e) once for each
	 * staged[i] when its fate is settled: e is NULL if the object is now on the remote durably
	 * (bytes and name), else why not; a failed object is not left staged. Returns 0 if every
	 * object was published, else the first failure's code with its message in err.
	 */
	int (*publish)(struct remote *r, struct remote_staged **staged, size_t n,
		       void (*fn)(void *data, size_t i, const struct error *e), void *data,
		       struct error *err);
	/* Drops a staged object without publishing it; NULL is fine. */
	void (*discard)(struct remote *r, struct remote_staged *s);
	/*
	 * Removes from the staging area what interrupted pushes left there: anything last written
	 * more than max_age_s ago. NULL when the transport leaves nothing behind.
	 */
	int (*clean)(struct remote *r, int max_age_s, struct error *err);
	/* Downloads object hex into w (which verifies on commit; the caller commits). */
	int (*get)(struct remote *r, const char *hex, struct cas_writer *w, struct error *err);
};

/*
 * The first member of every transport's handle. ops->open allocates the handle and sets ops;
 * remote_open then fills name and url; remote_close frees them and calls ops->close, which frees
 * the handle.
 */
struct remote {
	const struct remote_ops *ops;
	char *name; /* owned */
	char *url;  /* owned */
};

/*
 * Opens the remote NAME at URL: a local directory path (absolute, or relative to the current
 * directory) or file:///path. "s3://..." is recognised and ERR_UNSUPPORTED for now; anything
 * else is ERR_INVALID. The directory is created if missing (its parent must exist). NAME (the
 * URL when NULL) is copied and names the remote in error messages. Close with remote_close (NULL
 * is fine).
 */
int remote_open(struct remote **out, const char *name, const char *url, struct error *err);
void remote_close(struct remote *r);

/* Checks a URL's shape without touching it (for `ferry remote add`). */
int remote_url_check(const char *url, struct error *err);

/*
 * For transports. The absolute directory a local URL names, into *out (caller frees): "/abs",
 * "rel" (joined to the current directory, not resolved further) or "file:///abs" (percent-escapes
 * decoded; "file://localhost/abs" too), trailing slashes dropped. The URL errors of
 * remote_url_check; ERR_INVALID for a URL that is not local. *out untouched on failure.
 */
int remote_url_local_path(char **out, const char *url, struct error *err);

/* The local directory transport (remote_local.c): scheme "file". */
extern const struct remote_ops remote_local_ops;

#endif
