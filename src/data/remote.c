/*
 * Remotes: URL checking and dispatch to a transport by scheme, and object_source, the verified
 * reader a transport uploads a cache object through.
 */
#include "util/common.h"
#include "data/remote.h"
#include "data/cas.h"
#include "util/fs.h"
#include "util/sha256.h"
#include "util/strbuf.h"

#include <fcntl.h>

#define URL_FORMS "a directory path (/abs/path or relative/path) or file:///abs/path"

enum url_kind {
	URL_LOCAL, /* a plain path */
	URL_FILE,  /* file://... */
};

/* Length of an RFC 3986 scheme followed by "://" at the start of url, or 0. */
static size_t scheme_len(const char *url)
{
	size_t i = 0;

	if (!((url[0] >= 'a' && url[0] <= 'z') || (url[0] >= 'A' && url[0] <= 'Z')))
		return 0;
	while (url[i] && (strchr("+-.", url[i]) || (url[i] >= 'a' && url[i] <= 'z') ||
			  (url[i] >= 'A' && url[i] <= 'Z') || (url[i] >= '0' && url[i] <= '9')))
		i++;
	return strncmp(url + i, "://", 3) ? 0 : i;
}

/* Sorts url into a kind; the errors of remote_url_check. */
static int classify(enum url_kind *out, const char *url, struct error *err)
{
	size_t n;
	const char *colon, *slash;

	if (!url || !*url)
		return error_set(err, ERR_INVALID, "remote URL is empty: expected " URL_FORMS);
	n = scheme_len(url);
	if (n == 4 && !strncasecmp(url, "file", 4)) {
		*out = URL_FILE;
		return 0;
	}
	if (n == 2 && !strncasecmp(url, "s3", 2))
		return error_set(err, ERR_UNSUPPORTED,
				 "cannot use remote URL '%s': s3 remotes are not built yet", url);
	if (n)
		return error_set(err, ERR_INVALID,
				 "cannot use remote URL '%s': expected " URL_FORMS, url);
	/* "host:path" is how scp and git name ssh remotes: refuse rather than make a local dir */
	colon = strchr(url, ':');
	slash = strchr(url, '/');
	if (colon && (!slash || colon < slash))
		return error_set(err, ERR_INVALID,
				 "cannot use remote URL '%s': expected " URL_FORMS
				 " (write './%s' for a directory whose name holds ':')",
				 url, url);
	*out = URL_LOCAL;
	return 0;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The path of a file:// URL, percent-decoded, into out. */
static int file_url_path(struct strbuf *out, const char *url, struct error *err)
{
	const char *p = url + strlen("file://");

	if (!strncasecmp(p, "localhost/", strlen("localhost/")))
		p += strlen("localhost");
	if (*p != '/')
		return error_set(
		    err, ERR_INVALID,
		    "cannot use remote URL '%s': a file URL names a local directory as "
		    "file:///abs/path (no host)",
		    url);
	for (; *p; p++) {
		int hi, lo;

		if (*p != '%') {
			strbuf_addch(out, *p);
			continue;
		}
		hi = hexval(p[1]);
		lo = hi < 0 ? -1 : hexval(p[2]);
		if (lo < 0 || (hi == 0 && lo == 0))
			return error_set(err, ERR_INVALID,
					 "cannot use remote URL '%s': bad percent-escape '%.3s'",
					 url, p);
		strbuf_addch(out, hi * 16 + lo);
		p += 2;
	}
	return 0;
}

int remote_url_check(const char *url, struct error *err)
{
	struct strbuf path = STRBUF_INIT;
	enum url_kind kind;
	int rc;

	rc = classify(&kind, url, err);
	if (!rc && kind == URL_FILE)
		rc = file_url_path(&path, url, err);
	strbuf_release(&path);
	return rc;
}

int remote_url_local_path(char **out, const char *url, struct error *err)
{
	struct strbuf path = STRBUF_INIT;
	enum url_kind kind;
	char *cwd = NULL;
	int rc;

	rc = classify(&kind, url, err);
	if (rc)
		goto out;
	if (kind == URL_FILE) {
		rc = file_url_path(&path, url, err);
		if (rc)
			goto out;
	} else if (url[0] == '/') {
		strbuf_addstr(&path, url);
	} else {
		cwd = getcwd(NULL, 0);
		if (!cwd) {
			rc = error_errno(err, ERR_IO, errno,
					 "cannot resolve remote URL '%s': no current directory",
					 url);
			goto out;
		}
		strbuf_addf(&path, "%s/%s", cwd, url);
	}
	while (path.len > 1 && path.buf[path.len - 1] == '/')
		strbuf_setlen(&path, path.len - 1);
	*out = strbuf_detach(&path, NULL);
out:
	free(cwd);
	strbuf_release(&path);
	return rc;
}

int remote_open(struct remote **out, const char *name, const char *url, struct error *err)
{
	const struct remote_ops *ops = &remote_local_ops;
	struct remote *r = NULL;
	enum url_kind kind;
	int rc;

	rc = classify(&kind, url, err);
	if (rc)
		goto out;
	rc = ops->open(&r, url, err);
	if (rc) {
		error_prefix(err, "remote '%s'", name ? name : url);
		goto out;
	}
	r->ops = ops;
	r->name = xstrdup(name ? name : url);
	r->url = xstrdup(url);
	*out = r;
out:
	return rc;
}

void remote_close(struct remote *r)
{
	if (!r)
		return;
	free(r->name);
	free(r->url);
	r->name = r->url = NULL;
	r->ops->close(r);
}

struct object_source {
	int fd;
	char *path;
	char hex[SHA256_HEX_SIZE];
	uint64_t size;
	struct sha256_ctx ctx;
	int finished; /* ctx finalised by object_source_verify */
	int intact;
};

int object_source_open(struct object_source **out, struct cas *cas, const char *hex,
		       struct error *err)
{
	struct object_source *src = xcalloc(1, sizeof(*src));
	struct stat st;
	int rc = 0;

	src->fd = -1;
	src->path = cas_object_path(cas, hex);
	snprintf(src->hex, sizeof(src->hex), "%s", hex);
	src->fd = open(src->path, O_RDONLY | O_CLOEXEC);
	if (src->fd < 0 && errno == ENOENT) {
		rc = error_set(err, ERR_NOTFOUND, "cache object sha256:%s is missing", hex);
		goto out;
	}
	if (src->fd < 0 || fstat(src->fd, &st)) {
		rc = error_errno(err, ERR_IO, errno, "cannot open cache object '%s'", src->path);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = error_set(err, ERR_INVALID, "cache object '%s' is not a regular file",
			       src->path);
		goto out;
	}
	src->size = (uint64_t)st.st_size;
	sha256_init(&src->ctx);
	*out = src;
	src = NULL;
out:
	object_source_free(src);
	return rc;
}

void object_source_free(struct object_source *src)
{
	if (!src)
		return;
	if (src->fd >= 0)
		close(src->fd);
	sha256_release(&src->ctx);
	free(src->path);
	free(src);
}

long object_source_read(struct object_source *src, void *buf, size_t len, struct error *err)
{
	ssize_t n;

	if (src->finished)
		BUG("object_source_read after object_source_verify");
	if (len > LONG_MAX)
		len = LONG_MAX;
	do {
		n = read(src->fd, buf, len);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return error_errno(err, ERR_IO, errno, "cannot read cache object '%s'", src->path);
	sha256_update(&src->ctx, buf, (size_t)n);
	return (long)n;
}

int object_source_verify(struct object_source *src, struct error *err)
{
	unsigned char digest[SHA256_DIGEST_SIZE];
	char hex[SHA256_HEX_SIZE];

	if (!src->finished) {
		sha256_final(&src->ctx, digest);
		sha256_hex(digest, hex);
		src->intact = !strcmp(hex, src->hex);
		src->finished = 1;
	}
	if (!src->intact)
		return error_set(err, ERR_INVALID,
				 "cache object sha256:%s is corrupted; not pushing it (run 'ferry "
				 "data verify')",
				 src->hex);
	return 0;
}

uint64_t object_source_size(const struct object_source *src)
{
	return src->size;
}
