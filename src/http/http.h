/*
 * ferry's HTTP server, on libmicrohttpd: the tracking server (MLflow REST API) and, later, the
 * inference server are route tables of handlers behind it. The server owns connections,
 * limits, timeouts, TLS and the checks every request passes before a handler (body framing,
 * bearer token); a handler sees one whole request and fills one response.
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

/*
 * Request headers, for the req a handler was called with, on the handler's thread, during the
 * call (the server keeps them aside rather than in struct http_request, so that code filling
 * one itself, as tests do, still compiles): the value of the first header called name (ASCII
 * case-insensitive), or NULL if there is none or req is not a request the server is handling.
 * Values are as libmicrohttpd parsed them (leading blanks dropped, trailing ones kept);
 * repeated headers are not joined. Before any handler runs the server has refused with 400 a request whose header names
 * are not tokens, whose values hold control characters, or whose body framing is ambiguous
 * (see http_options).
 */
const char *http_header_get(const struct http_request *req, const char *name);

#define HTTP_REQUEST_ID_MAX 128

/*
 * The request's id, under the same conditions as http_header_get (NULL otherwise): the
 * client's X-Request-Id when it is 1 to HTTP_REQUEST_ID_MAX visible ASCII characters
 * (0x21..0x7e), else 32 random lowercase hex digits. The server sends it back as X-Request-Id
 * on every response it makes (unless the handler set that header itself; not on the few
 * responses libmicrohttpd makes itself: see http_options), and names it in its log lines.
 */
const char *http_request_id(const struct http_request *req);

/* True if s is acceptable as a client's X-Request-Id (see http_request_id). */
int http_request_id_is_valid(const char *s);

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

enum http_route_flags {
	/* path is a prefix ending in '/', and req->route_rest is what follows it */
	HTTP_ROUTE_PREFIX = 1 << 0,
	/* answered without the bearer token (http_options.token): health probes */
	HTTP_ROUTE_PUBLIC = 1 << 1,
};

/*
 * A route: method (NULL = any), a path, and enum http_route_flags. A "GET" route also answers
 * HEAD (the server drops the body). flags took the place of a boolean `prefix` whose 1 is
 * HTTP_ROUTE_PREFIX, so positional initialisers { "GET", "/p/", 1, fn } keep their meaning
 * (a field added at the end would trip -Wmissing-field-initializers in every route table).
 */
struct http_route {
	const char *method;
	const char *path;
	int flags;
	http_handler fn;
};

/*
 * The routes of one server, tried in order, and how to turn a handler's error into a response
 * (e.g. MLflow's {"error_code", "message"} with its status table). The mapper fills resp's
 * status, body, content type and headers; it runs on a fresh response and must be thread-safe.
 * Without a mapper, errors are {"error": {"code", "message"}} (code is error_code_name()) with
 * status by ERR_ code: ERR_INVALID/ERR_USAGE 400, ERR_NOTFOUND 404, ERR_EXISTS 409,
 * ERR_TOOBIG 413, ERR_AUTH 401, ERR_UNSUPPORTED 501, anything else 500.
 *
 * Errors the server finds itself also go through the mapper, then get their status forced:
 * unknown path 404 (ERR_NOTFOUND), known path with another method 405 (ERR_UNSUPPORTED, plus an
 * Allow header), body over max_body 413 (ERR_TOOBIG), bad path, query, headers or body framing
 * 400 (ERR_INVALID), missing or wrong bearer token 401 (ERR_AUTH, plus WWW-Authenticate).
 *
 * routes, the route strings and data are borrowed: they must outlive the server.
 */
struct http_routes {
	const struct http_route *routes;
	size_t nroutes;
	void *data; /* passed to every handler */
	void (*map_error)(struct http_response *resp, int code, const char *message);
};

/*
 * Limits a client cannot talk its way around (libmicrohttpd answers some of them itself, with a
 * short HTML body and without X-Request-Id or the route table's error shape):
 * - request line and headers over about 7.5 KiB (libmicrohttpd's per-connection memory): 414
 *   for the line, 431 for the headers, from libmicrohttpd; malformed request lines and headers
 *   and HTTP/1.1 requests without Host: 400, from libmicrohttpd;
 * - body framing (request smuggling): two Content-Length headers, a Content-Length that is not
 *   plain decimal digits, Transfer-Encoding other than one "chunked" (any case), both
 *   Content-Length and Transfer-Encoding, Transfer-Encoding in HTTP/1.0, a header name that is
 *   not a token ("Transfer-Encoding : chunked") or that libmicrohttpd glued a folded line
 *   to ("Content-Length: 5\r\n x" becomes "Content-Lengthx"): 400 before the body is read,
 *   and the connection is closed so that nothing after it is taken for a request;
 * - timeout_seconds bounds the time to receive a request, not only silences: a connection gets
 *   timeout_seconds from its opening (or the end of its previous request) to its whole request
 *   line and headers, then timeout_seconds plus a second per HTTP_MIN_BODY_RATE bytes received
 *   for the body, however slowly bytes trickle in; libmicrohttpd also closes a connection idle
 *   for timeout_seconds (also while a response waits for a client that stopped reading);
 * - max_connections: at the limit the server stops accepting, so further connections wait in
 *   the kernel's listen backlog, unserved, until one closes (the limit is on all workers
 *   together).
 */
#define HTTP_MIN_BODY_RATE 1024

struct http_options {
	const char *host;	  /* "127.0.0.1" by default */
	uint16_t port;		  /* 0: any free port (see http_server_port) */
	unsigned threads;	  /* worker threads; 0: the CPU count */
	size_t max_body;	  /* bytes; a bigger request gets 413 (default 64 MiB) */
	unsigned max_connections; /* default 1024; more wait unserved (see above) */
	unsigned timeout_seconds; /* per-request receive deadline and idle timeout (default 60) */
	/*
	 * Bearer token (NULL: none). When set, a request to any route without HTTP_ROUTE_PUBLIC,
	 * and to any unknown path, needs "Authorization: Bearer <token>", compared in constant
	 * time; otherwise 401 with WWW-Authenticate: Bearer, before its body is read. Only a
	 * digest of it is kept. Use a long random one: failures are not rate-limited.
	 */
	const char *token;
	/*
	 * PEM files (NULL: plain HTTP): the certificate, optionally followed by its chain, and
	 * its unencrypted private key. Read and checked at start (ERR_NOTFOUND, ERR_IO, or
	 * ERR_INVALID when they do not parse or do not match), then served with TLS 1.2 and 1.3
	 * only; ERR_UNSUPPORTED if libmicrohttpd was built without TLS. Both or neither
	 * (ERR_USAGE).
	 */
	const char *tls_cert;
	const char *tls_key;
};

#define HTTP_OPTIONS_INIT                                                                          \
	{                                                                                          \
		"127.0.0.1", 0, 0, 64u << 20, 1024, 60, NULL, NULL, NULL                           \
	}

struct http_server;

/*
 * Starts serving in background threads (opts->threads workers, each with its own epoll loop,
 * and one thread accepting connections and handing each to the worker with the fewest open
 * connections; HTTP/1.1 keep-alive). opts may be NULL for the defaults; 0 in max_body, max_connections or
 * timeout_seconds means the default too. The process must not die of SIGPIPE when a client goes
 * away: if SIGPIPE has the default disposition, this sets it to SIG_IGN (process-wide, and left
 * so after stop; MHD also blocks it in its own threads). libmicrohttpd's diagnostics go to
 * util/log: warnings for resource trouble (connection limit, memory, accept), info for what one
 * client did wrong. ERR_IO when the address cannot be resolved or bound, the TLS errors above,
 * ERR_INVALID for an empty token, ERR_INTERNAL if the daemon fails to start.
 */
int http_server_start(struct http_server **out, const struct http_options *opts,
		      const struct http_routes *routes, struct error *err);
/* The port actually bound (useful with port 0). */
uint16_t http_server_port(const struct http_server *s);

/*
 * Starts a graceful stop without waiting: the listening socket is closed, so new connections
 * are refused (ECONNREFUSED), while requests in flight, and requests arriving on connections
 * already open, are still served, each response with "Connection: close" so that keep-alive
 * connections end after their current request. Handlers keep running until http_server_stop
 * returns, so the caller's state must outlive that. Idempotent; NULL is fine.
 */
void http_server_quiesce(struct http_server *s);

/*
 * Quiesces s if that has not been done, waits (HTTP_STOP_WAIT_MS at most) for the requests
 * being read or handled to complete, then closes every connection and frees s. A handler still
 * running after the wait is waited for, but its response is not sent. NULL is fine.
 */
#define HTTP_STOP_WAIT_MS 5000
void http_server_stop(struct http_server *s);

/*
 * Reads a bearer token from path: its first line, without surrounding blanks and the line
 * end; at most 4 KiB, of visible ASCII characters only (ERR_INVALID if empty or otherwise).
 * A file others may read is accepted with a warning in the log rather than refused, because
 * container secrets are mounted world-readable by default (Docker 0444, Kubernetes 0644);
 * chmod 600 (or defaultMode: 0400) on shared hosts. *out is the caller's, to free.
 */
int http_token_read(char **out, const char *path, struct error *err);

/*
 * True if rel is a safe relative path to join under a directory: not empty, no leading '/', no
 * backslash or control character, and no empty, "." or ".." segment ("a//b", "a/", "./a" and
 * "a/../b" are all refused). Handlers that turn request data into file paths must check it.
 */
int http_path_is_safe(const char *rel);

#endif
