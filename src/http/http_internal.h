/*
 * What server.c shares with the routing and response helpers of src/http; not for handlers.
 */
#ifndef FERRY_HTTP_HTTP_INTERNAL_H
#define FERRY_HTTP_HTTP_INTERNAL_H

#include "http/http.h"

/* An empty response: status 0, no content type, empty body, no headers, file_fd -1. */
void http_response_init(struct http_response *resp);
/* Frees the body and header values and closes file_fd; resp is then as after init. */
void http_response_release(struct http_response *resp);

/* The status an ERR_* code maps to without a mapper (400, 404, 409, 413, 501 or 500). */
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

#endif
