/*
 * ferry's HTTP server, on libmicrohttpd: the tracking server (MLflow REST API) and, later, the
 * inference server are route tables of handlers behind it. The server owns connections,
 * limits and timeouts; a handler sees one whole request and fills one response.
 */
#ifndef FERRY_HTTP_HTTP_H
#define FERRY_HTTP_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "util/strbuf.h"

struct error;

/*
 * One query-string parameter, percent-decoded ('+' too, as a space); repeated keys appear once
 * per value, in order ("stages=A&stages=B"); a key without '=' has the value "".
 */
struct http_param {
	const char *key;
	const char *value;
};

/*
 * A complete request; everything is borrowed and valid during the handler call only.
 *
 * The path is percent-decoded (as libmicrohttpd does: "%2F" becomes '/', '+' stays '+'), so it
 * may hold characters the raw URL could not. The server answers 400 itself, before any handler,
 * when the path does not start with '/', contains a ".." segment, or encodes a NUL ("%00"), and
 * when a query key or value encodes a NUL. Handlers that map any part of a request (route_rest,
 * a query value, a body field) to a file must still check it with http_path_is_safe().
 */
struct http_request {
	const char *method;	/* "GET", "POST", ... */
	const char *path;	/* percent-decoded, without the query string */
	const char *route_rest; /* the part of path after the matched route prefix ("" if none) */
	const struct http_param *query;
	size_t nquery;
	const char *content_type; /* NULL if absent */
	const char *body;	  /* NUL-terminated copy of the body (may contain NULs) */
	size_t body_len;
};

/* Query lookups: the first value of key, or NULL. */
const char *http_query_get(const struct http_request *req, const char *key);

#define HTTP_MAX_HEADERS 8

/*
 * What a handler fills. status 0 means 200; anything outside 200..599 is answered as 500.
 * Headers: content type plus up to HTTP_MAX_HEADERS extra. The server initialises it (empty
 * body, file_fd -1) before the handler runs and releases everything afterwards, also when the
 * handler fails: a failed handler's partial response is discarded.
 */
struct http_response {
	int status;
	const char *content_type; /* static string; default "application/json" */
	struct strbuf body;
	const char *header_names[HTTP_MAX_HEADERS]; /* static strings */
	char *header_values[HTTP_MAX_HEADERS]; /* owned (xstrdup'ed); freed with the response */
	size_t nheaders;
	/*
	 * a file to send instead of body (artifact downloads): when file_fd >= 0 the response owns
	 * it (closed by the server, also on failure) and sends file_size bytes from offset 0
	 */
	int file_fd;
	uint64_t file_size;
};

/* Adds a header (value copied). More than HTTP_MAX_HEADERS is a BUG(). */
void http_response_header(struct http_response *resp, const char *name, const char *value);

/*
 * A handler: 0 after filling resp; a negative ERR_* with err filled makes the server answer
 * with err mapped through the route table's error mapper (see struct http_routes).
 * Handlers run on the server's worker threads, several at once, so they must be thread-safe;
 * a slow one also delays the other connections served by its worker.
 */
typedef int (*http_handler)(const struct http_request *req, struct http_response *resp, void *data,
			    struct error *err);

/*
 * A route: method (NULL = any) and either an exact path or a prefix (prefix = 1: path is a
 * prefix ending in '/', and req->route_rest is what follows it). A "GET" route also answers
 * HEAD (the server drops the body).
 */
struct http_route {
	const char *method;
	const char *path;
	int prefix;
	http_handler fn;
};

/*
 * The routes of one server, tried in order, and how to turn a handler's error into a response
 * (e.g. MLflow's {"error_code", "message"} with its status table). The mapper fills resp's
 * status, body, content type and headers; it runs on a fresh response and must be thread-safe.
 * Without a mapper, errors are {"error": {"code", "message"}} (code is error_code_name()) with
 * status by ERR_ code: ERR_INVALID/ERR_USAGE 400, ERR_NOTFOUND 404, ERR_EXISTS 409,
 * ERR_TOOBIG 413, ERR_UNSUPPORTED 501, anything else 500.
 *
 * Errors the server finds itself also go through the mapper, then get their status forced:
 * unknown path 404 (ERR_NOTFOUND), known path with another method 405 (ERR_UNSUPPORTED, plus an
 * Allow header), body over max_body 413 (ERR_TOOBIG), bad path or query 400 (ERR_INVALID).
 *
 * routes, the route strings and data are borrowed: they must outlive the server.
 */
struct http_routes {
	const struct http_route *routes;
	size_t nroutes;
	void *data; /* passed to every handler */
	void (*map_error)(struct http_response *resp, int code, const char *message);
};

struct http_options {
	const char *host;	  /* "127.0.0.1" by default */
	uint16_t port;		  /* 0: any free port (see http_server_port) */
	unsigned threads;	  /* worker threads; 0: the CPU count */
	size_t max_body;	  /* bytes; a bigger request gets 413 (default 64 MiB) */
	unsigned max_connections; /* default 1024; more are refused */
	unsigned timeout_seconds; /* idle connection timeout (default 60) */
};

#define HTTP_OPTIONS_INIT                                                                          \
	{                                                                                          \
		"127.0.0.1", 0, 0, 64u << 20, 1024, 60                                             \
	}

struct http_server;

/*
 * Starts serving in background threads (opts->threads workers, each with its own epoll loop;
 * HTTP/1.1 keep-alive). opts may be NULL for the defaults; 0 in max_body, max_connections or
 * timeout_seconds means the default too. The process must not die of SIGPIPE when a client goes
 * away: if SIGPIPE has the default disposition, this sets it to SIG_IGN (process-wide, and left
 * so after stop; MHD also blocks it in its own threads). libmicrohttpd's diagnostics go to
 * util/log: warnings for resource trouble (connection limit, memory, accept), info for what one
 * client did wrong. ERR_IO when the address cannot be resolved or bound, ERR_INTERNAL if the
 * daemon fails to start.
 */
int http_server_start(struct http_server **out, const struct http_options *opts,
		      const struct http_routes *routes, struct error *err);
/* The port actually bound (useful with port 0). */
uint16_t http_server_port(const struct http_server *s);
/*
 * Stops accepting, waits (a few seconds at most) for requests already being read or handled,
 * then closes every connection and frees s. NULL is fine.
 */
void http_server_stop(struct http_server *s);

/*
 * True if rel is a safe relative path to join under a directory: not empty, no leading '/', no
 * backslash or control character, and no empty, "." or ".." segment ("a//b", "a/", "./a" and
 * "a/../b" are all refused). Handlers that turn request data into file paths must check it.
 */
int http_path_is_safe(const char *rel);

#endif
