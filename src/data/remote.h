/*
 * Remotes: where cache objects are pushed to and pulled from, behind a transport interface
 * (a local directory or file:// URL now; S3 later). A remote holds objects in the cache's own
 * layout, <root>/objects/sha256/<2 hex>/<62 hex>, and makes an object visible under its name only
 * once it is complete and its digest verified, so an interrupted push is finished by re-running it.
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
 * A transport. list, has, put, get and sync may be called from several threads at once on one
 * handle; errors name the remote and the object or path. A missing object is ERR_NOTFOUND.
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
	 * Uploads src as object hex; atomic and verified (see object_source). The object's bytes
	 * are durable when put returns; the directory entry naming it once sync returns.
	 */
	int (*put)(struct remote *r, const char *hex, struct object_source *src, struct error *err);
	/* Downloads object hex into w (which verifies on commit; the caller commits). */
	int (*get)(struct remote *r, const char *hex, struct cas_writer *w, struct error *err);
	/* Makes every object put so far durable; NULL when put alone is durable. */
	int (*sync)(struct remote *r, struct error *err);
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

/* Calls r->ops->sync if the transport has one: after a batch of puts, before reporting success. */
int remote_sync(struct remote *r, struct error *err);

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
