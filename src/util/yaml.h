/*
 * YAML on libfyaml: loading one document with "NAME:LINE:COL: ..." errors and nothing printed by
 * the library, node positions and kind names for semantic errors, atomic emitting.
 */
#ifndef FERRY_UTIL_YAML_H
#define FERRY_UTIL_YAML_H

#include <libfyaml.h>
#include <stddef.h>

struct error;
struct strbuf;

/*
 * Parses buf (len bytes, copied) as a single YAML document into *out. The caller owns the
 * document and everything in it and frees it with fy_document_destroy(). An empty stream (only
 * comments or whitespace) gives a document whose root is NULL. Rejected with ERR_INVALID and
 * "NAME:LINE:COL: <what>" (1-based): syntax errors, duplicate keys, more than one document, NUL
 * bytes and invalid UTF-8. Aliases are left unresolved (no expansion). *out is untouched on failure. Later
 * diagnostics libfyaml makes on the document are discarded, never printed.
 */
int yaml_load_buffer(struct fy_document **out, const char *name, const char *buf, size_t len,
		     struct error *err);

/*
 * Reads path (at most max_size bytes) and parses it as yaml_load_buffer does, naming errors by
 * path. ERR_NOTFOUND, ERR_TOOBIG and ERR_IO come from reading, ERR_INVALID from parsing.
 */
int yaml_load_file(struct fy_document **out, const char *path, size_t max_size, struct error *err);

/*
 * The 1-based line and column where node starts in its input (a mapping or sequence starts at
 * its first key or item, or its opening bracket). 0 and 0 for NULL or a node built in memory
 * without a position.
 */
void yaml_node_mark(struct fy_node *node, int *line, int *col);

/*
 * What node is, for messages like "expected a string, got a mapping": "a mapping", "a sequence",
 * "an alias", "null" (NULL, an empty value, or plain null/Null/NULL/~) or "a string" (any other
 * scalar).
 */
const char *yaml_node_kind_name(struct fy_node *node);

/*
 * A scalar node's text as a new string (the caller frees it), or NULL if node is NULL, an
 * alias or not a scalar. The text holds no NUL: yaml_load_buffer rejects NUL bytes.
 */
char *yaml_scalar_dup(struct fy_node *node);

/*
 * Reports a semantic problem at node's position: sets err to ERR_INVALID with
 * "NAME:LINE:COL: <message>" and returns ERR_INVALID.
 */
/*
 * Appends s as a YAML double-quoted scalar with escapes, so any text reads back unchanged.
 * (Single-quoted scalars with runs of '' are misread by libfyaml 0.7.12; found by fuzzing.)
 */
void yaml_add_quoted(struct strbuf *out, const char *s);
/*
 * Appends s as a plain scalar when it is one unambiguously (letters, digits and . _ / ~ + @ = ,
 * % - :, not ending in ':'), as yaml_add_quoted otherwise: hand-written files keep their look and
 * any other text still reads back unchanged.
 */
void yaml_add_scalar(struct strbuf *out, const char *s);

int yaml_error_at(struct error *err, const char *name, struct fy_node *node, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/*
 * Emits doc (block style, 2-space indent) and writes it to path via fs_write_atomic (mode
 * 0644). ERR_INTERNAL if libfyaml cannot emit it, ERR_IO if it cannot be written.
 */
int yaml_emit_file_atomic(struct fy_document *doc, const char *path, struct error *err);

#endif
