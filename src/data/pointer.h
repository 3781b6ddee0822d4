/*
 * Pointer files: PATH.ferry, the small YAML file committed to git in place of the data at PATH:
 *
 *     # ferry data pointer: commit this file; 'ferry data checkout' restores the data
 *     digest: sha256:<64 hex>
 *     size: <bytes>          (a directory: total bytes of its files)
 *     files: <count>         (directories only)
 *     desc: <free text>      (optional; kept when the data is re-added)
 *
 * Read strictly: unknown keys, bad digests or sizes are errors naming file:line:col.
 */
#ifndef FERRY_DATA_POINTER_H
#define FERRY_DATA_POINTER_H

#include <stddef.h>
#include <stdint.h>

#include "util/sha256.h"

struct error;
struct strbuf;

#define POINTER_SUFFIX ".ferry"
#define POINTER_MAX_SIZE (64 * 1024)

struct pointer {
	char hex[SHA256_HEX_SIZE];
	uint64_t size;
	int is_dir;	 /* 1 when "files" is present */
	uint64_t nfiles; /* directories only */
	char *desc;	 /* owned; NULL when absent */
};
#define POINTER_INIT                                                                               \
	{                                                                                          \
		{ 0 }, 0, 0, 0, NULL                                                               \
	}

int pointer_parse(struct pointer *out, const char *name, const char *buf, size_t len,
		  struct error *err);
/* Reads PATH.ferry; ERR_NOTFOUND if it does not exist. */
int pointer_load(struct pointer *out, const char *pointer_path, struct error *err);
void pointer_format(const struct pointer *p, struct strbuf *out);
/* Writes atomically (temp file, fsync, rename, fsync dir). */
int pointer_write(const struct pointer *p, const char *pointer_path, struct error *err);
void pointer_release(struct pointer *p);

/* "sha256:<hex>" <-> hex. digest_parse: ERR_INVALID unless exactly that shape (lowercase). */
int digest_parse(char out_hex[SHA256_HEX_SIZE], const char *s);

#endif
