/*
 * JSON on jansson: loading with "NAME:LINE:COL: ..." errors and duplicate keys rejected, typed
 * field getters whose errors name the field, and deterministic atomic dumps.
 */
#ifndef FERRY_UTIL_JSON_H
#define FERRY_UTIL_JSON_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Parses buf (len bytes, need not be NUL-terminated) into *out, which the caller json_decref()s.
 * The top level must be an object or an array; duplicate object keys, NUL bytes in strings and
 * invalid UTF-8 are rejected. name is used in messages: "NAME:LINE:COL: <what>", with LINE and
 * COL 1-based and COL counting characters. ERR_INVALID on failure; *out untouched.
 */
int json_load_buffer(json_t **out, const char *name, const char *buf, size_t len,
		     struct error *err);

/*
 * Reads path (at most max_size bytes) and parses it as json_load_buffer does, naming errors by
 * path. (Not json_load_file: jansson has a function of that name.) ERR_NOTFOUND, ERR_TOOBIG and ERR_IO come from reading, ERR_INVALID from parsing.
 */
int json_load_path(json_t **out, const char *path, size_t max_size, struct error *err);

/*
 * Typed getters for obj[key]. The value is borrowed from obj (strings live as long as obj).
 * When the key is missing or null: ERR_INVALID "missing required field 'key'" if required,
 * else 0 with *out untouched. A value of another type is ERR_INVALID with a message such as
 * "field 'key': expected a string, got number"; so is obj not being an object. json_get_int
 * takes integers only (not 3.0), json_get_double takes integers and reals.
 */
int json_get_string(const json_t *obj, const char *key, const char **out, int required,
		    struct error *err);
int json_get_int(const json_t *obj, const char *key, int64_t *out, int required, struct error *err);
int json_get_double(const json_t *obj, const char *key, double *out, int required,
		    struct error *err);
/* *out becomes 1 or 0. */
int json_get_bool(const json_t *obj, const char *key, int *out, int required, struct error *err);

/* The JSON type of j as messages name it: "object", "array", "string", "number", ... */
const char *json_type_name(const json_t *j);

/*
 * Writes j to path via fs_write_atomic (mode 0644): 2-space indent, keys sorted, a trailing
 * newline. ERR_IO on failure, ERR_INVALID if j cannot be encoded.
 */
int json_dump_file_atomic(const json_t *j, const char *path, struct error *err);

/* j as one compact line (keys in insertion order) that the caller frees; NULL if j is NULL. */
char *json_dumps_compact(const json_t *j);

#endif
