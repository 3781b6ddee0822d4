/*
 * Directory manifests: the object that names a tracked directory's content. Its digest is the
 * directory's digest. Text, one line per file, sorted by path bytes (see docs/data-formats.md):
 *
 *     ferry-manifest 1
 *     <64 hex digest> <size> <mode 644|755> <path, escaped>
 *
 * Paths are relative with '/' separators; '\\', '\n', '\t' and '\r' in them are written as
 * "\\\\", "\\n", "\\t", "\\r" so every entry is one line.
 */
#ifndef FERRY_DATA_MANIFEST_H
#define FERRY_DATA_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

#include "util/sha256.h"

struct error;
struct strbuf;

#define MANIFEST_MAX_SIZE (1024UL * 1024 * 1024)

struct manifest_entry {
	char *path; /* owned; relative, '/'-separated, no "." or ".." components */
	char hex[SHA256_HEX_SIZE];
	uint64_t size;
	int executable;
};

struct manifest {
	struct manifest_entry *items;
	size_t nr, alloc;
};
#define MANIFEST_INIT                                                                              \
	{                                                                                          \
		NULL, 0, 0                                                                         \
	}

/* Appends an entry (path is copied). */
void manifest_add(struct manifest *m, const char *path, const char *hex, uint64_t size,
		  int executable);
/* Sorts by path bytes; duplicate paths are a BUG. */
void manifest_sort(struct manifest *m);
/* Serialises a sorted manifest (appends to out); unsorted entries or unsafe paths are a BUG. */
void manifest_serialize(const struct manifest *m, struct strbuf *out);
/* Sum of sizes. */
uint64_t manifest_total_size(const struct manifest *m);
/* Binary search in a sorted manifest; NULL if absent. */
const struct manifest_entry *manifest_find(const struct manifest *m, const char *path);

/*
 * Parses manifest bytes; name is used in messages ("NAME:LINE: expected ..."). Rejects bad
 * headers, digests, sizes, modes, unsafe paths ("..", absolute, empty components), unsorted or
 * duplicate entries, a path below another entry (a file cannot be a directory), sizes summing
 * past 2^64, raw tab/CR/NUL bytes, unknown escapes and a missing final newline: whatever it
 * accepts, manifest_serialize gives back byte for byte. ERR_TOOBIG above MANIFEST_MAX_SIZE.
 * On success *out (MANIFEST_INIT or a manifest to replace) is released and filled; on failure
 * it is untouched.
 */
int manifest_parse(struct manifest *out, const char *name, const char *buf, size_t len,
		   struct error *err);

void manifest_release(struct manifest *m);

#endif
