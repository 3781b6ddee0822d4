/*
 * Filling and releasing struct http_response, and the error responses every server shares:
 * the route table's mapper or ferry's default {"error": {"code", "message"}} JSON.
 */
#include "util/common.h"
#include "http/http_internal.h"

void http_response_init(struct http_response *resp)
{
	memset(resp, 0, sizeof(*resp));
	strbuf_init(&resp->body, 0);
	resp->file_fd = -1;
}

void http_response_release(struct http_response *resp)
{
	strbuf_release(&resp->body);
	for (size_t i = 0; i < resp->nheaders; i++)
		free(resp->header_values[i]);
	if (resp->file_fd >= 0)
		close(resp->file_fd);
	http_response_init(resp);
}

void http_response_header(struct http_response *resp, const char *name, const char *value)
{
	if (resp->nheaders >= HTTP_MAX_HEADERS)
		BUG("http_response_header: more than %d headers ('%s')", HTTP_MAX_HEADERS, name);
	resp->header_names[resp->nheaders] = name;
	resp->header_values[resp->nheaders] = xstrdup(value);
	resp->nheaders++;
}

int http_status_of(int code)
{
	switch (code) {
	case ERR_INVALID:
	case ERR_USAGE:
		return 400;
	case ERR_NOTFOUND:
		return 404;
	case ERR_EXISTS:
		return 409;
	case ERR_TOOBIG:
		return 413;
	case ERR_AUTH:
		return 401;
	case ERR_UNSUPPORTED:
		return 501;
	default:
		return 500;
	}
}

/* A JSON string literal of s; bytes >= 0x80 pass through (messages are UTF-8 already). */
static void add_json_string(struct strbuf *sb, const char *s)
{
	strbuf_addch(sb, '"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			strbuf_addch(sb, '\\');
			strbuf_addch(sb, c);
		} else if (c < 0x20 || c == 0x7f) {
			strbuf_addf(sb, "\\u%04x", c);
		} else {
			strbuf_addch(sb, c);
		}
	}
	strbuf_addch(sb, '"');
}

static void default_error(struct http_response *resp, int code, const char *message)
{
	resp->status = http_status_of(code);
	resp->content_type = "application/json";
	strbuf_addstr(&resp->body, "{\"error\":{\"code\":");
	add_json_string(&resp->body, error_code_name(code));
	strbuf_addstr(&resp->body, ",\"message\":");
	add_json_string(&resp->body, message);
	strbuf_addstr(&resp->body, "}}");
}

void http_error_response(const struct http_routes *routes, struct http_response *resp, int code,
			 const char *message, int force_status)
{
	http_response_release(resp);
	if (!message || !*message)
		message = error_code_name(code);
	if (routes->map_error)
		routes->map_error(resp, code, message);
	else
		default_error(resp, code, message);
	if (force_status)
		resp->status = force_status;
}
