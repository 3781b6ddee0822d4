/*
 * What server.c shares with the routing and response helpers of src/http; not for handlers.
 */
#ifndef FERRY_HTTP_HTTP_INTERNAL_H
#define FERRY_HTTP_HTTP_INTERNAL_H

#include "http/http.h"

#include <stdatomic.h>

/* An empty response: status 0, no content type, empty body, no headers, file_fd -1. */
void http_response_init(struct http_response *resp);
/* Frees the body and header values and closes file_fd; resp is then as after init. */
void http_response_release(struct http_response *resp);

/* The status an ERR_* code maps to without a mapper (400, 401, 404, 409, 413, 501 or 500). */
int http_status_of(int code);

/*
 * Releases resp and fills it with the error for code and message: through routes->map_error if
 * set, else the default JSON shape. force_status (0: none) overrides the status chosen.
 */
void http_error_response(const struct http_routes *routes, struct http_response *resp, int code,
			 const char *message, int force_status);

/*
 * The first route matching method and path, with *rest set to what follows a prefix ("" for
 * exact routes). NULL if none: then allow holds the methods of the routes whose path matched
 * ("GET, POST"), empty when the path is unknown.
 */
const struct http_route *http_route_find(const struct http_routes *routes, const char *method,
					 const char *path, const char **rest, struct strbuf *allow);

/* 0 if a decoded request path may reach a handler, else a static reason for the 400. */
const char *http_request_path_problem(const char *path);

/* One request header as libmicrohttpd parsed it; borrowed from its connection's memory. */
struct http_header {
	const char *name;
	const char *value;
};

/*
 * NULL if a request's headers may reach a handler, else a static reason for the 400: names
 * must be tokens (and not a framing header's name with a folded line glued to it), values free
 * of control characters but tab, and the body framing unambiguous
 * (at most one Content-Length, of decimal digits only; at most one Transfer-Encoding, exactly
 * "chunked" in any case, never with Content-Length nor in HTTP/1.0: see http_options).
 */
const char *http_headers_problem(const struct http_header *h, size_t n, int http10);

/*
 * The credentials of an Authorization value with the Bearer scheme (any case), blanks around
 * them dropped: a pointer into value and *len, or NULL for another scheme, no credentials, or
 * credentials with a blank inside.
 */
const char *http_bearer_credentials(const char *value, size_t *len);

/*
 * Makes headers and id what http_header_get and http_request_id answer for req on this thread,
 * until http_request_unbind. The server brackets each handler call with them.
 */
void http_request_bind(const struct http_request *req, const struct http_header *h, size_t n,
		       const char *id);
void http_request_unbind(void);

/* Milliseconds on the monotonic clock. */
int64_t http_now_ms(void);

/*
 * Slow-client deadlines: a thread that shuts down the socket of any registered connection
 * whose deadline has passed, so that its worker sees the end of the stream and closes it.
 * A deadline is owned by its connection; only the reaper thread reads cut.
 */
struct http_deadline {
	int fd;
	_Atomic int64_t at_ms; /* 0: none */
	int cut;
	struct http_deadline *prev, *next;
};

struct http_reaper;

/* ERR_INTERNAL if the thread cannot be started. */
int http_reaper_start(struct http_reaper **out, struct error *err);
/* Registers d (fd set, no deadline yet) until http_reaper_remove, called before fd is closed. */
void http_reaper_add(struct http_reaper *r, struct http_deadline *d, int fd);
void http_reaper_remove(struct http_reaper *r, struct http_deadline *d);
/* Sets d's deadline (0: none); any thread may call it. */
void http_deadline_set(struct http_deadline *d, int64_t at_ms);
/* Stops and joins the thread, then frees r; deadlines still registered are forgotten. */
void http_reaper_stop(struct http_reaper *r);

/*
 * TLS material for libmicrohttpd: both PEM files read and checked with OpenSSL (they parse,
 * the key is not encrypted and matches the certificate) so that a mistake gets a message
 * better than the daemon failing to start. Errors as in http_options.
 */
struct http_tls {
	char *cert; /* NUL-terminated PEM */
	char *key;  /* NUL-terminated PEM, wiped when released */
};

int http_tls_load(struct http_tls *out, const char *cert_path, const char *key_path,
		  struct error *err);
void http_tls_release(struct http_tls *tls);

/* SHA-256 of a token, kept instead of the token; matching compares digests in constant time. */
void http_token_digest(unsigned char out[32], const char *token, size_t len);
int http_token_matches(const unsigned char want[32], const char *token, size_t len);

#endif
