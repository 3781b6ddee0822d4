/*
 * MLflow request parsing: the body or query string into one JSON object, as mlflow/server/
 * handlers.py's _get_request_message does, and typed field getters with its messages.
 */
#include "util/common.h"
#include "api/mlflow_internal.h"
#include "util/strbuf.h"

#include <ctype.h>
#include <math.h>

#define HINT "See the API docs for more information about request parameters."

int mlflow_missing(struct error *err, const char *key)
{
	return error_set(err, ERR_INVALID, "Missing value for required parameter '%s'. " HINT, key);
}

/* Python's type names, for "Hint: Value was of type '...'". */
static const char *py_type(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "dict";
	case JSON_ARRAY:
		return "list";
	case JSON_STRING:
		return "str";
	case JSON_INTEGER:
		return "int";
	case JSON_REAL:
		return "float";
	case JSON_TRUE:
	case JSON_FALSE:
		return "bool";
	case JSON_NULL:
		return "NoneType";
	}
	return "object";
}

static int invalid(struct error *err, const char *key, const json_t *v)
{
	char *text = json_is_string(v) ? xstrdup(json_string_value(v))
				       : json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	int rc = error_set(err, ERR_INVALID,
			   "Invalid value %s for parameter '%s' supplied. Hint: Value was of type "
			   "'%s'. " HINT,
			   text ? text : "?", key, py_type(v));

	free(text);
	return rc;
}

/* Content types ------------------------------------------------------------------------------- */

static int check_content_type(struct mlflow_call *c, struct error *err)
{
	const char *ct = c->http->content_type;
	size_t len;

	if (!ct)
		return error_set(err, ERR_INVALID, "Bad Request. Content-Type header is missing.");
	len = strcspn(ct, ";");
	while (len && (ct[len - 1] == ' ' || ct[len - 1] == '\t'))
		len--;
	if (len == strlen("application/json") && !strncasecmp(ct, "application/json", len))
		return 0;
	return error_set(err, ERR_INVALID,
			 "Bad Request. Content-Type must be one of ['application/json'].");
}

/* Query strings ------------------------------------------------------------------------------- */

/* Adds value under key: a second value makes a list (repeated keys), as does list_form. */
static void query_add(json_t *obj, const char *key, const char *value, bool list_form)
{
	json_t *old = json_object_get(obj, key);

	if (!old) {
		json_t *v = json_string(value ? value : "");

		if (!v)
			v = json_string("");
		if (list_form) {
			json_t *a = json_array();

			json_array_append_new(a, v);
			v = a;
		}
		json_object_set_new(obj, key, v);
		return;
	}
	if (!json_is_array(old)) {
		json_t *a = json_array();

		json_array_append(a, old);
		json_object_set_new(obj, key, a);
		old = a;
	}
	json_array_append_new(old, json_string(value ? value : ""));
}

/* querystring_parser's "x[]" and "x[0]" forms name the list x. */
static json_t *query_object(const struct http_request *req)
{
	json_t *obj = json_object();
	struct strbuf key = STRBUF_INIT;

	for (size_t i = 0; i < req->nquery; i++) {
		const char *k = req->query[i].key, *br = strchr(k, '[');
		bool list_form = false;

		strbuf_reset(&key);
		if (br && ends_with(k, "]") && br > k) {
			strbuf_add(&key, k, (size_t)(br - k));
			list_form = true;
		} else {
			strbuf_addstr(&key, k);
		}
		query_add(obj, key.buf, req->query[i].value, list_form);
	}
	strbuf_release(&key);
	return obj;
}

/* Bodies -------------------------------------------------------------------------------------- */

static int parse_body(struct mlflow_call *c, json_t **out, struct error *err)
{
	json_error_t jerr;
	json_t *j;

	if (!c->http->body_len) {
		*out = json_object();
		return 0;
	}
	j = json_loadb(c->http->body, c->http->body_len, JSON_DECODE_ANY, &jerr);
	if (!j)
		return mlflow_fail(c, err, "BAD_REQUEST", 400,
				   "Bad Request. Malformed JSON body: %s (line %d, column %d)",
				   jerr.text, jerr.line, jerr.column);
	/* Older clients post their JSON double-encoded as a string. */
	if (json_is_string(j)) {
		json_t *inner =
		    json_loadb(json_string_value(j), json_string_length(j), JSON_DECODE_ANY, &jerr);

		json_decref(j);
		if (!inner)
			return mlflow_fail(c, err, "BAD_REQUEST", 400,
					   "Bad Request. Malformed JSON body: %s", jerr.text);
		j = inner;
	}
	if (json_is_null(j)) {
		json_decref(j);
		j = json_object();
	}
	if (!json_is_object(j)) {
		json_decref(j);
		return error_set(err, ERR_INVALID,
				 "Invalid request body: expected a JSON object. " HINT);
	}
	*out = j;
	return 0;
}

/* The routes whose POST bodies the handler reads with mlflow_fastparse.c first. */
static bool fast_route(const char *path)
{
	return path && (ends_with(path, "/2.0/mlflow/runs/log-batch") ||
			ends_with(path, "/2.0/mlflow/runs/log-metric"));
}

int mlflow_request_parse(struct mlflow_call *c, json_t **out, struct error *err)
{
	const char *m = c->http->method;
	int rc;

	if (!strcmp(m, "GET") && c->http->nquery) {
		*out = query_object(c->http);
		return 0;
	}
	if (!strcmp(m, "POST") || !strcmp(m, "PUT") || !strcmp(m, "PATCH") ||
	    (!strcmp(m, "DELETE") && c->http->body_len))
		if ((rc = check_content_type(c, err)) < 0)
			return rc;
	if (!strcmp(m, "POST") && c->http->body_len && fast_route(c->http->path)) {
		c->body_deferred = true;
		*out = json_object();
		return 0;
	}
	return parse_body(c, out, err);
}

int mlflow_request_parse_deferred(struct mlflow_call *c, struct error *err)
{
	json_t *j = NULL;
	int rc;

	if (!c->body_deferred)
		return 0;
	c->body_deferred = false;
	if ((rc = parse_body(c, &j, err)) < 0)
		return rc;
	json_decref(c->req);
	c->req = j;
	return 0;
}

/* Field getters ------------------------------------------------------------------------------- */

int mlflow_obj_string(const json_t *obj, const char *key, const char **out, bool required,
		      struct error *err)
{
	json_t *v = json_object_get(obj, key);

	if (!v || json_is_null(v) || (json_is_string(v) && !json_string_length(v) && required))
		return required ? mlflow_missing(err, key) : 0;
	if (!json_is_string(v))
		return invalid(err, key, v);
	*out = json_string_value(v);
	return 0;
}

bool mlflow_parse_int64(const char *s, int64_t *out)
{
	char *end;
	long long v;

	while (*s == ' ')
		s++;
	if (!*s)
		return false;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end)
		return false;
	*out = (int64_t)v;
	return true;
}

int mlflow_obj_int64(const json_t *obj, const char *key, int64_t *out, bool *present, bool required,
		     struct error *err)
{
	json_t *v = json_object_get(obj, key);
	double d;

	if (present)
		*present = false;
	if (!v || json_is_null(v))
		return required ? mlflow_missing(err, key) : 0;
	if (json_is_integer(v)) {
		*out = json_integer_value(v);
	} else if (json_is_real(v)) {
		d = json_real_value(v);
		if (d != floor(d) || fabs(d) > 9.2e18)
			return invalid(err, key, v);
		*out = (int64_t)d;
	} else if (!json_is_string(v) || !mlflow_parse_int64(json_string_value(v), out)) {
		return invalid(err, key, v);
	}
	if (present)
		*present = true;
	return 0;
}

/* protobuf's JSON doubles: numbers, or strings "NaN", "Infinity", "-Infinity", "1.5". */
bool mlflow_parse_double(const char *s, double *out)
{
	char *end;

	if (!strcmp(s, "NaN")) {
		*out = NAN;
		return true;
	}
	if (!strcmp(s, "Infinity") || !strcmp(s, "-Infinity")) {
		*out = *s == '-' ? -INFINITY : INFINITY;
		return true;
	}
	if (!*s || isspace((unsigned char)*s))
		return false;
	errno = 0;
	*out = strtod(s, &end);
	return !*end && (isfinite(*out) || errno != ERANGE);
}

int mlflow_obj_double(const json_t *obj, const char *key, double *out, bool required,
		      struct error *err)
{
	json_t *v = json_object_get(obj, key);

	if (!v || json_is_null(v))
		return required ? mlflow_missing(err, key) : 0;
	if (json_is_number(v))
		*out = json_number_value(v);
	else if (!json_is_string(v) || !mlflow_parse_double(json_string_value(v), out))
		return invalid(err, key, v);
	return 0;
}

int mlflow_req_string(struct mlflow_call *c, const char *key, const char **out, bool required,
		      struct error *err)
{
	return mlflow_obj_string(c->req, key, out, required, err);
}

int mlflow_req_int64(struct mlflow_call *c, const char *key, int64_t *out, bool *present,
		     bool required, struct error *err)
{
	return mlflow_obj_int64(c->req, key, out, present, required, err);
}

int mlflow_req_double(struct mlflow_call *c, const char *key, double *out, bool required,
		      struct error *err)
{
	return mlflow_obj_double(c->req, key, out, required, err);
}

int mlflow_req_array(struct mlflow_call *c, const char *key, json_t **out, struct error *err)
{
	json_t *v = json_object_get(c->req, key);

	if (!v || json_is_null(v)) {
		*out = NULL;
		return 0;
	}
	if (!json_is_array(v)) {
		json_t *a;

		/* A single value of a repeated field is promoted to a list. */
		if (json_is_object(v) || json_is_array(v))
			return invalid(err, key, v);
		a = json_array();
		json_array_append(a, v);
		json_object_set_new(c->req, key, a);
		v = a;
	}
	*out = v;
	return 0;
}

int mlflow_req_run_id(struct mlflow_call *c, const char **out, struct error *err)
{
	const char *id = NULL;
	int rc;

	if ((rc = mlflow_req_string(c, "run_id", &id, false, err)) < 0)
		return rc;
	if (!id || !*id) {
		if ((rc = mlflow_req_string(c, "run_uuid", &id, false, err)) < 0)
			return rc;
	}
	if (!id || !*id)
		return mlflow_missing(err, "run_id");
	*out = id;
	return 0;
}
