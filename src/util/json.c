/* jansson wrappers: positioned parse errors, field-naming typed getters, atomic pretty dumps. */
#include "util/common.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/strbuf.h"

static size_t utf8_chars(const char *s, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			n++;
	return n;
}

/*
 * jansson's column is that of the last character it read, which is the end of the token its
 * message quotes ("invalid token near 'tru'"): move it back to the token's first character.
 */
static int error_column(const json_error_t *je)
{
	const char *near = strstr(je->text, " near '");
	size_t len = strlen(je->text), tok_len, chars;
	int col = je->column;

	if (near && len >= 2 && je->text[len - 1] == '\'') {
		near += strlen(" near '");
		tok_len = (size_t)(je->text + len - 1 - near);
		chars = utf8_chars(near, tok_len);
		if (!memchr(near, '\n', tok_len) && chars <= (size_t)col)
			col = col - (int)chars + 1;
	}
	return col < 1 ? 1 : col;
}

int json_load_buffer(json_t **out, const char *name, const char *buf, size_t len, struct error *err)
{
	json_error_t je;
	json_t *j;

	j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	if (!j)
		return error_set(err, ERR_INVALID, "%s:%d:%d: %s", name, je.line < 1 ? 1 : je.line,
				 error_column(&je), je.text);
	*out = j;
	return 0;
}

int json_load_path(json_t **out, const char *path, size_t max_size, struct error *err)
{
	struct strbuf sb = STRBUF_INIT;
	int rc;

	rc = fs_read_file(&sb, path, max_size, err);
	if (!rc)
		rc = json_load_buffer(out, path, sb.buf, sb.len, err);
	strbuf_release(&sb);
	return rc;
}

const char *json_type_name(const json_t *j)
{
	switch (json_typeof(j)) {
	case JSON_OBJECT:
		return "object";
	case JSON_ARRAY:
		return "array";
	case JSON_STRING:
		return "string";
	case JSON_INTEGER:
	case JSON_REAL:
		return "number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "boolean";
	case JSON_NULL:
		return "null";
	}
	return "unknown";
}

/* 1 and *v set if obj[key] holds a non-null value, 0 if absent and optional, or an error. */
static int field(const json_t *obj, const char *key, int required, json_t **v, struct error *err)
{
	if (!json_is_object(obj))
		return error_set(err, ERR_INVALID, "reading field '%s': expected an object, got %s",
				 key, obj ? json_type_name(obj) : "nothing");
	*v = json_object_get(obj, key);
	if (*v && !json_is_null(*v))
		return 1;
	if (required)
		return error_set(err, ERR_INVALID, "missing required field '%s'", key);
	return 0;
}

static int wrong_type(const char *key, const char *expected, const json_t *v, struct error *err)
{
	return error_set(err, ERR_INVALID, "field '%s': expected %s, got %s", key, expected,
			 json_type_name(v));
}

int json_get_string(const json_t *obj, const char *key, const char **out, int required,
		    struct error *err)
{
	json_t *v = NULL;
	int rc = field(obj, key, required, &v, err);

	if (rc <= 0)
		return rc;
	if (!json_is_string(v))
		return wrong_type(key, "a string", v, err);
	*out = json_string_value(v);
	return 0;
}

int json_get_int(const json_t *obj, const char *key, int64_t *out, int required, struct error *err)
{
	json_t *v = NULL;
	int rc = field(obj, key, required, &v, err);

	if (rc <= 0)
		return rc;
	if (!json_is_integer(v))
		return wrong_type(key, "an integer", v, err);
	*out = (int64_t)json_integer_value(v);
	return 0;
}

int json_get_double(const json_t *obj, const char *key, double *out, int required,
		    struct error *err)
{
	json_t *v = NULL;
	int rc = field(obj, key, required, &v, err);

	if (rc <= 0)
		return rc;
	if (!json_is_number(v))
		return wrong_type(key, "a number", v, err);
	*out = json_number_value(v);
	return 0;
}

int json_get_bool(const json_t *obj, const char *key, int *out, int required, struct error *err)
{
	json_t *v = NULL;
	int rc = field(obj, key, required, &v, err);

	if (rc <= 0)
		return rc;
	if (!json_is_boolean(v))
		return wrong_type(key, "a boolean", v, err);
	*out = json_is_true(v);
	return 0;
}

int json_dump_file_atomic(const json_t *j, const char *path, struct error *err)
{
	char *text = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	struct strbuf sb = STRBUF_INIT;
	int rc;

	if (!text)
		return error_set(err, ERR_INVALID, "cannot encode JSON for '%s'", path);
	strbuf_addstr(&sb, text);
	strbuf_addch(&sb, '\n');
	rc = fs_write_atomic(path, sb.buf, sb.len, 0644, err);
	strbuf_release(&sb);
	free(text);
	return rc;
}

char *json_dumps_compact(const json_t *j)
{
	char *text;

	if (!j)
		return NULL;
	text = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
	/* a cycle or running out of memory: neither is the user's doing */
	if (!text)
		BUG("cannot encode JSON");
	return text;
}
