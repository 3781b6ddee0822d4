/*
 * SHA-256 through OpenSSL's EVP interface: streaming contexts, whole buffers and whole files,
 * with digests as 32 raw bytes or 64 lowercase hex digits.
 */
#ifndef FERRY_UTIL_SHA256_H
#define FERRY_UTIL_SHA256_H

#include <stddef.h>

#define SHA256_DIGEST_SIZE 32
#define SHA256_HEX_SIZE 65 /* 64 hex digits and a NUL */

/* A streaming hash. Owns an OpenSSL context from sha256_init until sha256_final/release. */
struct sha256_ctx {
	void *md; /* EVP_MD_CTX */
};

#define SHA256_CTX_INIT                                                                            \
	{                                                                                          \
		NULL                                                                               \
	}

/*
 * init starts a hash, update feeds it, final writes the digest and frees the context; release
 * frees a context abandoned before final (a no-op after final or on SHA256_CTX_INIT). OpenSSL
 * failing to hash is a program error (BUG), so these do not return errors.
 */
void sha256_init(struct sha256_ctx *ctx);
void sha256_update(struct sha256_ctx *ctx, const void *data, size_t len);
void sha256_final(struct sha256_ctx *ctx, unsigned char digest[SHA256_DIGEST_SIZE]);
void sha256_release(struct sha256_ctx *ctx);

/* Formats digest as 64 lowercase hex digits and a NUL. */
void sha256_hex(const unsigned char digest[SHA256_DIGEST_SIZE], char out[SHA256_HEX_SIZE]);

/* The hex digest of len bytes at data. */
void sha256_buffer(const void *data, size_t len, char out_hex[SHA256_HEX_SIZE]);

/*
 * The hex digest of the file at path, read in 1 MiB chunks. ERR_NOTFOUND if it does not exist,
 * ERR_IO if it cannot be read; out_hex is untouched on failure.
 */
int sha256_file(char out_hex[SHA256_HEX_SIZE], const char *path, struct error *err);

#endif
