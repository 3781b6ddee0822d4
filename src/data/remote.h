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
struct cas_writer;

/*
 * The bytes of one object being uploaded, read from the local cache and hashed as they are read.
 * A transport calls object_source_read until it returns 0, then object_source_verify before it
 * makes the object visible: a corrupted local object is never published.
 */
struct object_source;
/* Returns bytes read (0 at end) or a negative ERR_*. */
long object_source_read(struct object_source *src, void *buf, size_t len, struct error *err);
/* 0 if the bytes read so far hash to the object's name, ERR_INVALID otherwise. */
int object_source_verify(struct object_source *src, struct error *err);
uint64_t object_source_size(const struct object_source *src);

struct remote;

struct remote_ops {
	const char *scheme; /* "file" */
	int (*open)(struct remote **out, const char *url, struct error *err);
	void (*close)(struct remote *r);
	/* Calls fn for each object present; for a bulk "what is missing" check. */
	int (*list)(struct remote *r, int (*fn)(const char *hex, void *data), void *data,
		    struct error *err);
	int (*has)(struct remote *r, const char *hex, int *out, struct error *err);
	/* Uploads src as object hex; atomic and verified (see object_source). */
	int (*put)(struct remote *r, const char *hex, struct object_source *src, struct error *err);
	/* Downloads object hex into w (which verifies on commit; the caller commits). */
	int (*get)(struct remote *r, const char *hex, struct cas_writer *w, struct error *err);
};

/* The first member of every transport's handle. */
struct remote {
	const struct remote_ops *ops;
	char *name; /* owned */
	char *url;  /* owned */
};

/*
 * Opens the remote NAME at URL: a local directory path (absolute, or relative to the current
 * directory) or file:///path. "s3://..." is recognised and ERR_UNSUPPORTED for now; anything
 * else is ERR_INVALID. The directory is created if missing (its parent must exist).
 */
int remote_open(struct remote **out, const char *name, const char *url, struct error *err);
void remote_close(struct remote *r);

/* Checks a URL's shape without touching it (for `ferry remote add`). */
int remote_url_check(const char *url, struct error *err);

#endif
