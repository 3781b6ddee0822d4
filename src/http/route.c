/*
 * Matching a request to a route, the checks a path must pass before any handler sees it, and
 * the small lookups handlers use.
 */
#include "util/common.h"
#include "http/http_internal.h"

static int method_matches(const char *want, const char *method)
{
	if (!want)
		return 1;
	if (!strcmp(want, method))
		return 1;
	return !strcmp(method, "HEAD") && !strcmp(want, "GET");
}

static int path_matches(const struct http_route *r, const char *path, const char **rest)
{
	if (!(r->flags & HTTP_ROUTE_PREFIX)) {
		*rest = "";
		return !strcmp(r->path, path);
	}
	return skip_prefix(path, r->path, rest);
}

/* Appends method to the comma-separated list unless it is there already. */
static void allow_add(struct strbuf *allow, const char *method)
{
	const char *p = allow->buf;
	size_t n = strlen(method);

	while (*p) {
		if (!strncmp(p, method, n) && (p[n] == ',' || !p[n]))
			return;
		p = strchr(p, ',');
		if (!p)
			break;
		p += 2;
	}
	if (allow->len)
		strbuf_addstr(allow, ", ");
	strbuf_addstr(allow, method);
}

const struct http_route *http_route_find(const struct http_routes *routes, const char *method,
					 const char *path, const char **rest, struct strbuf *allow)
{
	for (size_t i = 0; i < routes->nroutes; i++) {
		const struct http_route *r = &routes->routes[i];
		const char *tail;

		if (!path_matches(r, path, &tail))
			continue;
		if (method_matches(r->method, method)) {
			*rest = tail;
			return r;
		}
		allow_add(allow, r->method);
	}
	return NULL;
}

/* True if the segment [s, s + n) is "." or "..". */
static int is_dot_segment(const char *s, size_t n)
{
	return (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.');
}

const char *http_request_path_problem(const char *path)
{
	if (path[0] != '/')
		return "request path must start with '/'";
	for (const char *seg = path + 1;;) {
		size_t n = strcspn(seg, "/");

		if (n == 2 && seg[0] == '.' && seg[1] == '.')
			return "request path must not contain '..' segments";
		if (!seg[n])
			return NULL;
		seg += n + 1;
	}
}

int http_path_is_safe(const char *rel)
{
	const char *seg = rel;

	if (!rel || !*rel || *rel == '/')
		return 0;
	for (const char *p = rel; *p; p++)
		if (*p == '\\' || (unsigned char)*p < 0x20 || *p == 0x7f)
			return 0;
	for (;;) {
		size_t n = strcspn(seg, "/");

		if (!n || is_dot_segment(seg, n))
			return 0;
		if (!seg[n])
			return 1;
		seg += n + 1;
	}
}

const char *http_query_get(const struct http_request *req, const char *key)
{
	for (size_t i = 0; i < req->nquery; i++)
		if (!strcmp(req->query[i].key, key))
			return req->query[i].value;
	return NULL;
}
