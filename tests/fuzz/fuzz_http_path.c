/* Fuzz target: http_path_is_safe on arbitrary bytes; a path it accepts has no '..' segment. */
#include "util/common.h"
#include "http/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = xstrndup((const char *)data, size);

	if (http_path_is_safe(s)) {
		/* an accepted path never climbs out: no ".." segment anywhere */
		for (const char *p = s; *p; p++)
			if (p[0] == '.' && p[1] == '.' && (p == s || p[-1] == '/') &&
			    (p[2] == '/' || !p[2]))
				abort();
		if (s[0] == '/')
			abort();
	}
	free(s);
	return 0;
}
