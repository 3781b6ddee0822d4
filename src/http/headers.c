/*
 * Request headers: the checks that keep ambiguous body framing (request smuggling) away from
 * handlers, request ids, bearer credentials, and the header lookups handlers use.
 */
#include "util/common.h"
#include "http/http_internal.h"

#include <time.h>

/* The request a handler on this thread is serving, and what the server keeps aside for it. */
static _Thread_local struct {
	const struct http_request *req;
	const struct http_header *headers;
	size_t nheaders;
	const char *id;
} bound;

/* RFC 9110 5.6.2: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" /
 * "_" / "`" / "|" / "~" / DIGIT / ALPHA */
static int is_tchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

static int is_token(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!is_tchar((unsigned char)*s))
			return 0;
	return 1;
}

/* Field values may hold visible characters, blanks and obs-text, but no other control. */
static int value_is_clean(const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return 0;
	}
	return 1;
}

static int is_digits(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

/*
 * libmicrohttpd 0.9.75 glues a folded line (obs-fold: a line starting with a blank) to the
 * previous header's name, so "Content-Length: 40\r\n x" reaches us as "Content-Lengthx" and
 * the body is taken for the next request. Other folds are harmless or leave a blank or a colon
 * in the name, which is not a token.
 */
static int is_mangled_framing(const char *name)
{
	return (!strncasecmp(name, "Content-Length", 14) && name[14]) ||
	       (!strncasecmp(name, "Transfer-Encoding", 17) && name[17]);
}

const char *http_headers_problem(const struct http_header *h, size_t n, int http10)
{
	size_t ncl = 0, nte = 0;

	for (size_t i = 0; i < n; i++) {
		/*
		 * libmicrohttpd keeps "Transfer-Encoding :" as a header of another name and frames
		 * the body by Content-Length, while a proxy in front may have read it as chunked
		 */
		if (!is_token(h[i].name) || is_mangled_framing(h[i].name))
			return "malformed header name";
		if (!value_is_clean(h[i].value))
			return "control character in a header value";
		if (!strcasecmp(h[i].name, "Content-Length")) {
			if (ncl++)
				return "more than one Content-Length header";
			if (!is_digits(h[i].value))
				return "Content-Length is not a decimal number";
		} else if (!strcasecmp(h[i].name, "Transfer-Encoding")) {
			if (nte++)
				return "more than one Transfer-Encoding header";
			/* anything else makes libmicrohttpd read the body until the connection ends */
			if (strcasecmp(h[i].value, "chunked") != 0)
				return "unsupported Transfer-Encoding (only chunked)";
		}
	}
	if (ncl && nte)
		return "both Content-Length and Transfer-Encoding";
	if (nte && http10)
		return "Transfer-Encoding in an HTTP/1.0 request";
	return NULL;
}

int http_request_id_is_valid(const char *s)
{
	size_t n = 0;

	for (; s[n]; n++)
		if ((unsigned char)s[n] < 0x21 || (unsigned char)s[n] > 0x7e ||
		    n >= HTTP_REQUEST_ID_MAX)
			return 0;
	return n > 0;
}

const char *http_bearer_credentials(const char *value, size_t *len)
{
	const char *p = value, *end;

	if (strncasecmp(p, "Bearer", 6) != 0 || (p[6] != ' ' && p[6] != '\t'))
		return NULL;
	p += 6;
	p += strspn(p, " \t");
	end = p + strcspn(p, " \t");
	if (end == p || end[strspn(end, " \t")])
		return NULL;
	*len = (size_t)(end - p);
	return p;
}

void http_request_bind(const struct http_request *req, const struct http_header *h, size_t n,
		       const char *id)
{
	bound.req = req;
	bound.headers = h;
	bound.nheaders = n;
	bound.id = id;
}

void http_request_unbind(void)
{
	memset(&bound, 0, sizeof(bound));
}

const char *http_header_get(const struct http_request *req, const char *name)
{
	if (!req || req != bound.req)
		return NULL;
	for (size_t i = 0; i < bound.nheaders; i++)
		if (!strcasecmp(bound.headers[i].name, name))
			return bound.headers[i].value;
	return NULL;
}

const char *http_request_id(const struct http_request *req)
{
	return req && req == bound.req ? bound.id : NULL;
}

int64_t http_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
