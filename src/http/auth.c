/*
 * Bearer tokens: reading one from a file, and checking a request's credentials against it in
 * constant time.
 */
#include "util/common.h"
#include "http/http_internal.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/strbuf.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#define TOKEN_FILE_MAX 4096
/* Shorter tokens are accepted with a warning: 16 random characters are already ~95 bits. */
#define TOKEN_SHORT 16

void http_token_digest(unsigned char out[32], const char *token, size_t len)
{
	unsigned int n = 0;

	if (!EVP_Digest(token, len, out, &n, EVP_sha256(), NULL) || n != 32)
		BUG("sha256 of a token failed");
}

/*
 * Digests have one length whatever the token's, so comparing them leaks neither the token's
 * length nor where a guess first differs.
 */
int http_token_matches(const unsigned char want[32], const char *token, size_t len)
{
	unsigned char got[32];
	int same;

	http_token_digest(got, token, len);
	same = !CRYPTO_memcmp(want, got, sizeof(got));
	OPENSSL_cleanse(got, sizeof(got));
	return same;
}

/* Warns when others than the owner may read a regular file holding a secret. */
static void warn_if_readable(const char *path)
{
	struct stat st;

	if (stat(path, &st) || !S_ISREG(st.st_mode) || !(st.st_mode & S_IROTH))
		return;
	log_warn("token file '%s' is readable by every user (mode %04o): chmod 600 it unless "
		 "only this service can reach it",
		 path, (unsigned)(st.st_mode & 07777));
}

int http_token_read(char **out, const char *path, struct error *err)
{
	struct strbuf sb = STRBUF_INIT;
	const char *p, *end, *nl;
	size_t len;
	int rc;

	if ((rc = fs_read_file(&sb, path, TOKEN_FILE_MAX, err)) < 0)
		goto out;
	p = sb.buf;
	nl = memchr(p, '\n', sb.len);
	end = nl ? nl : p + sb.len;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	while (end > p && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		end--;
	len = (size_t)(end - p);
	if (!len) {
		rc = error_set(err, ERR_INVALID, "token file '%s': the first line is empty", path);
		goto out;
	}
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)p[i] < 0x21 || (unsigned char)p[i] > 0x7e) {
			rc = error_set(err, ERR_INVALID,
				       "token file '%s': the token may only hold visible ASCII "
				       "characters (byte %zu is 0x%02x)",
				       path, i + 1, (unsigned char)p[i]);
			goto out;
		}
	if (len < TOKEN_SHORT)
		log_warn("token file '%s': a token of %zu characters is easy to guess; use a long "
			 "random one (openssl rand -hex 32)",
			 path, len);
	warn_if_readable(path);
	*out = xstrndup(p, len);
out:
	if (sb.alloc)
		OPENSSL_cleanse(sb.buf, sb.alloc);
	strbuf_release(&sb);
	return rc;
}
