/* SHA-256 on OpenSSL EVP: the digest method is fetched once and shared by all contexts. */
#include "util/common.h"
#include "util/sha256.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <pthread.h>

#define FILE_CHUNK (1024 * 1024)

static EVP_MD *sha256_md;
static pthread_once_t sha256_md_once = PTHREAD_ONCE_INIT;

/* An explicit fetch avoids OpenSSL 3 looking the algorithm up again on every init. */
static void sha256_md_fetch(void)
{
	sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
	if (!sha256_md)
		BUG("OpenSSL has no SHA256 implementation");
}

void sha256_init(struct sha256_ctx *ctx)
{
	EVP_MD_CTX *md;

	pthread_once(&sha256_md_once, sha256_md_fetch);
	md = EVP_MD_CTX_new();
	if (!md || !EVP_DigestInit_ex(md, sha256_md, NULL))
		BUG("cannot start a SHA-256 digest");
	ctx->md = md;
}

void sha256_update(struct sha256_ctx *ctx, const void *data, size_t len)
{
	if (len && !EVP_DigestUpdate(ctx->md, data, len))
		BUG("SHA-256 update failed");
}

void sha256_final(struct sha256_ctx *ctx, unsigned char digest[SHA256_DIGEST_SIZE])
{
	unsigned int n = 0;

	if (!EVP_DigestFinal_ex(ctx->md, digest, &n) || n != SHA256_DIGEST_SIZE)
		BUG("SHA-256 final failed");
	sha256_release(ctx);
}

void sha256_release(struct sha256_ctx *ctx)
{
	EVP_MD_CTX_free(ctx->md);
	ctx->md = NULL;
}

void sha256_hex(const unsigned char digest[SHA256_DIGEST_SIZE], char out[SHA256_HEX_SIZE])
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < SHA256_DIGEST_SIZE; i++) {
		out[2 * i] = hex[digest[i] >> 4];
		out[2 * i + 1] = hex[digest[i] & 0xf];
	}
	out[2 * SHA256_DIGEST_SIZE] = '\0';
}

void sha256_buffer(const void *data, size_t len, char out_hex[SHA256_HEX_SIZE])
{
	struct sha256_ctx ctx = SHA256_CTX_INIT;
	unsigned char digest[SHA256_DIGEST_SIZE];

	sha256_init(&ctx);
	sha256_update(&ctx, data, len);
	sha256_final(&ctx, digest);
	sha256_hex(digest, out_hex);
}

int sha256_file(char out_hex[SHA256_HEX_SIZE], const char *path, struct error *err)
{
	struct sha256_ctx ctx = SHA256_CTX_INIT;
	unsigned char digest[SHA256_DIGEST_SIZE];
	unsigned char *buf = NULL;
	int fd, rc = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return error_errno(err, errno == ENOENT ? ERR_NOTFOUND : ERR_IO, errno,
				   "cannot open '%s'", path);
	buf = xmalloc(FILE_CHUNK);
	sha256_init(&ctx);
	for (;;) {
		ssize_t n = read(fd, buf, FILE_CHUNK);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = error_errno(err, ERR_IO, errno, "cannot read '%s'", path);
			goto out;
		}
		if (n == 0)
			break;
		sha256_update(&ctx, buf, (size_t)n);
	}
	sha256_final(&ctx, digest);
	sha256_hex(digest, out_hex);
out:
	sha256_release(&ctx);
	free(buf);
	close(fd);
	return rc;
}
