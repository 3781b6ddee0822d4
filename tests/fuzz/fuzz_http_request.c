/*
 * Fuzz target: the header checks run before any handler (body framing, request ids, bearer
 * credentials) on header blocks made of the input's "name: value" lines; an odd first byte
 * means HTTP/1.0. Whatever the framing check accepts must frame the body one way only.
 */
#include "util/common.h"
#include "http/http_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Aborts unless h holds at most one framing header, well formed. */
static void check_framing(const struct http_header *h, size_t n)
{
	size_t ncl = 0, nte = 0;

	for (size_t i = 0; i < n; i++) {
		if (!strcasecmp(h[i].name, "content-length") && ++ncl &&
		    (!*h[i].value || strspn(h[i].value, "0123456789") != strlen(h[i].value)))
			abort();
		if (!strcasecmp(h[i].name, "transfer-encoding") && ++nte &&
		    strcasecmp(h[i].value, "chunked"))
			abort();
	}
	if (ncl + nte > 1)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = xstrndup((const char *)data, size), *line = text, *next, *colon;
	struct http_header h[64];
	size_t n = 0, len;

	for (; line && n < ARRAY_SIZE(h); line = next) {
		if ((next = strchr(line, '\n')))
			*next++ = '\0';
		if ((colon = strchr(line, ':'))) {
			*colon++ = '\0';
			h[n++] = (struct http_header){ line, colon + strspn(colon, " \t") };
		}
	}
	if (!http_headers_problem(h, n, size && (data[0] & 1)))
		check_framing(h, n);
	for (size_t i = 0; i < n; i++) {
		const char *cred = http_bearer_credentials(h[i].value, &len);

		if (http_request_id_is_valid(h[i].value) &&
		    (strlen(h[i].value) > HTTP_REQUEST_ID_MAX || strpbrk(h[i].value, " \t")))
			abort();
		if (cred && (!len || memchr(cred, ' ', len) || memchr(cred, '\t', len)))
			abort();
	}
	free(text);
	return 0;
}
