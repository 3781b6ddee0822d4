/*
 * TLS material: the certificate and key PEM files read into memory for libmicrohttpd (which
 * serves TLS with GnuTLS), checked first with OpenSSL because libmicrohttpd only says that the
 * daemon did not start.
 */
#include "util/common.h"
#include "http/http_internal.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/strbuf.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

/* Certificate chains and keys are a few KiB; anything this big is the wrong file. */
#define PEM_MAX (1u << 20)

/* Refuses to ask for a passphrase: OpenSSL would otherwise prompt on the terminal. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

static int read_pem(char **out, const char *path, const char *what, struct error *err)
{
	struct strbuf sb = STRBUF_INIT;
	int rc = fs_read_file(&sb, path, PEM_MAX, err);

	if (rc < 0)
		return error_prefix(err, "TLS %s: ", what);
	if (memchr(sb.buf, '\0', sb.len)) {
		OPENSSL_cleanse(sb.buf, sb.len);
		strbuf_release(&sb);
		return error_set(err, ERR_INVALID, "TLS %s '%s' is not a PEM file", what, path);
	}
	*out = strbuf_detach(&sb, NULL);
	return 0;
}

static void warn_if_expired(X509 *x, const char *path)
{
	if (X509_cmp_current_time(X509_get0_notAfter(x)) < 0)
		log_warn("TLS certificate '%s' has expired: clients will refuse it", path);
	else if (X509_cmp_current_time(X509_get0_notBefore(x)) > 0)
		log_warn("TLS certificate '%s' is not valid yet: clients will refuse it", path);
}

static int check_pair(const struct http_tls *tls, const char *cert_path, const char *key_path,
		      struct error *err)
{
	BIO *cb = BIO_new_mem_buf(tls->cert, -1), *kb = BIO_new_mem_buf(tls->key, -1);
	X509 *x = NULL;
	EVP_PKEY *key = NULL;
	int rc = 0;

	if (!cb || !kb) {
		rc = error_set(err, ERR_INTERNAL, "cannot read TLS files: out of memory");
		goto out;
	}
	x = PEM_read_bio_X509(cb, NULL, no_passphrase, NULL);
	if (!x) {
		rc = error_set(err, ERR_INVALID,
			       "TLS certificate '%s' holds no PEM certificate (BEGIN CERTIFICATE)",
			       cert_path);
		goto out;
	}
	key = PEM_read_bio_PrivateKey(kb, NULL, no_passphrase, NULL);
	if (!key) {
		rc = error_set(err, ERR_INVALID,
			       "TLS key '%s' holds no unencrypted PEM private key (encrypted keys "
			       "are not supported)",
			       key_path);
		goto out;
	}
	if (X509_check_private_key(x, key) != 1) {
		rc = error_set(err, ERR_INVALID,
			       "TLS key '%s' does not belong to the certificate in '%s'", key_path,
			       cert_path);
		goto out;
	}
	warn_if_expired(x, cert_path);
out:
	ERR_clear_error();
	EVP_PKEY_free(key);
	X509_free(x);
	BIO_free(kb);
	BIO_free(cb);
	return rc;
}

int http_tls_load(struct http_tls *out, const char *cert_path, const char *key_path,
		  struct error *err)
{
	struct http_tls tls = { NULL, NULL };
	int rc;

	if ((rc = read_pem(&tls.cert, cert_path, "certificate", err)) < 0 ||
	    (rc = read_pem(&tls.key, key_path, "key", err)) < 0 ||
	    (rc = check_pair(&tls, cert_path, key_path, err)) < 0) {
		http_tls_release(&tls);
		return rc;
	}
	*out = tls;
	return 0;
}

void http_tls_release(struct http_tls *tls)
{
	if (tls->key)
		OPENSSL_cleanse(tls->key, strlen(tls->key));
	free(tls->key);
	free(tls->cert);
	tls->key = tls->cert = NULL;
}
