/*
 * Run artifacts: bytes into the object cache, rows into the store, and back out verified
 * (contract in track/artifacts.h).
 */
#include "util/common.h"
#include "track/artifacts.h"
#include "data/cas.h"
#include "util/fs.h"
#include "util/strbuf.h"

#include <dirent.h>
#include <fcntl.h>

#define READ_CHUNK (1u << 20)

int track_artifact_check_path(const char *path, struct error *err)
{
	if (!path || !fs_relpath_is_safe(path))
		return error_set(err, ERR_INVALID,
				 "invalid artifact path '%s': expected a relative path without "
				 "empty, '.' or '..' segments",
				 path ? path : "");
	return 0;
}

/* Makes the objects durable, then records the rows referring to them. */
static int record(struct store *st, struct cas *cas, const char *run_id,
		  const struct store_new_artifact *a, size_t nr, struct error *err)
{
	int rc = cas_sync(cas, err);

	return rc ? rc : store_artifact_record(st, run_id, a, nr, err);
}

int track_artifact_put_buffer(struct store *st, struct cas *cas, const char *run_id,
			      const char *path, const void *data, size_t len,
			      char out_hex[SHA256_HEX_SIZE], struct error *err)
{
	char hex[SHA256_HEX_SIZE];
	struct store_new_artifact a;
	int rc;

	if ((rc = track_artifact_check_path(path, err)) < 0 ||
	    (rc = cas_add_buffer(cas, data, len, hex, err)) < 0)
		return rc;
	a = (struct store_new_artifact){ path, hex, (int64_t)len };
	if ((rc = record(st, cas, run_id, &a, 1, err)) < 0)
		return rc;
	if (out_hex)
		memcpy(out_hex, hex, SHA256_HEX_SIZE);
	return 0;
}

/* Adds the regular file at file (after stat) to the cache. */
static int add_regular(struct cas *cas, const char *file, char hex[SHA256_HEX_SIZE], uint64_t *size,
		       struct error *err)
{
	struct stat sb;

	if (stat(file, &sb))
		return error_errno(err, errno == ENOENT ? ERR_NOTFOUND : ERR_IO, errno,
				   "cannot read '%s'", file);
	if (!S_ISREG(sb.st_mode))
		return error_set(err, ERR_INVALID, "'%s' is not a regular file", file);
	return cas_add_file(cas, file, hex, size, err);
}

int track_artifact_put_file(struct store *st, struct cas *cas, const char *run_id, const char *path,
			    const char *file, char out_hex[SHA256_HEX_SIZE], struct error *err)
{
	char hex[SHA256_HEX_SIZE];
	struct store_new_artifact a;
	uint64_t size = 0;
	int rc;

	if ((rc = track_artifact_check_path(path, err)) < 0 ||
	    (rc = add_regular(cas, file, hex, &size, err)) < 0)
		return rc;
	a = (struct store_new_artifact){ path, hex, (int64_t)size };
	if ((rc = record(st, cas, run_id, &a, 1, err)) < 0)
		return rc;
	if (out_hex)
		memcpy(out_hex, hex, SHA256_HEX_SIZE);
	return 0;
}

/* Directories ------------------------------------------------------------------------------- */

struct dir_entries {
	struct store_new_artifact *items;
	char **paths, **digests; /* owned: what items point to */
	size_t nr, alloc, alloc_paths, alloc_digests;
};

static void dir_entries_release(struct dir_entries *e)
{
	for (size_t i = 0; i < e->nr; i++) {
		free(e->paths[i]);
		free(e->digests[i]);
	}
	free(e->items);
	free(e->paths);
	free(e->digests);
	memset(e, 0, sizeof(*e));
}

static int dir_add_file(struct dir_entries *e, struct cas *cas, const char *file, const char *path,
			struct error *err)
{
	char hex[SHA256_HEX_SIZE];
	uint64_t size = 0;
	int rc;

	if ((rc = track_artifact_check_path(path, err)) < 0 ||
	    (rc = add_regular(cas, file, hex, &size, err)) < 0)
		return rc;
	ALLOC_GROW(e->items, e->nr + 1, e->alloc);
	ALLOC_GROW(e->paths, e->nr + 1, e->alloc_paths);
	ALLOC_GROW(e->digests, e->nr + 1, e->alloc_digests);
	e->paths[e->nr] = xstrdup(path);
	e->digests[e->nr] = xstrdup(hex);
	e->items[e->nr] =
	    (struct store_new_artifact){ e->paths[e->nr], e->digests[e->nr], (int64_t)size };
	e->nr++;
	return 0;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in dir but "." and "..", sorted (a stable order of rows and errors). */
static int read_names(char ***out, size_t *nr, const char *dir, struct error *err)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, alloc = 0;

	if (!d)
		return error_errno(err, errno == ENOENT ? ERR_NOTFOUND : ERR_IO, errno,
				   "cannot read directory '%s'", dir);
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		ALLOC_GROW(names, n + 1, alloc);
		names[n++] = xstrdup(de->d_name);
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), cmp_name);
	*out = names;
	*nr = n;
	return 0;
}

static int walk(struct dir_entries *e, struct cas *cas, const char *dir, const char *prefix,
		int depth, struct error *err)
{
	char **names = NULL;
	size_t n = 0;
	int rc;

	if (depth > 64)
		return error_set(err, ERR_INVALID, "'%s': directories nested too deep", dir);
	if ((rc = read_names(&names, &n, dir, err)) < 0)
		return rc;
	for (size_t i = 0; !rc && i < n; i++) {
		char *file = fs_path_join(dir, names[i]);
		char *path = *prefix ? xstrfmt("%s/%s", prefix, names[i]) : xstrdup(names[i]);
		struct stat sb;

		if (lstat(file, &sb))
			rc = error_errno(err, ERR_IO, errno, "cannot stat '%s'", file);
		else if (S_ISDIR(sb.st_mode))
			rc = walk(e, cas, file, path, depth + 1, err);
		else
			rc =
			    dir_add_file(e, cas, file, path, err); /* follows a symlink to a file */
		free(file);
		free(path);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}

int track_artifact_put_dir(struct store *st, struct cas *cas, const char *run_id,
			   const char *prefix, const char *dir, size_t *nfiles, struct error *err)
{
	struct dir_entries e = { 0 };
	int rc;

	if (prefix && *prefix && (rc = track_artifact_check_path(prefix, err)) < 0)
		return rc;
	if ((rc = walk(&e, cas, dir, prefix ? prefix : "", 0, err)) < 0)
		goto out;
	if (e.nr && (rc = record(st, cas, run_id, e.items, e.nr, err)) < 0)
		goto out;
	if (nfiles)
		*nfiles = e.nr;
out:
	dir_entries_release(&e);
	return rc;
}

/* Reading ----------------------------------------------------------------------------------- */

/* Hashes fd from its start and compares with hex; leaves fd at offset 0. */
static int verify_fd(int fd, const char *hex, struct error *err)
{
	struct sha256_ctx ctx = SHA256_CTX_INIT;
	unsigned char digest[SHA256_DIGEST_SIZE];
	char got[SHA256_HEX_SIZE];
	char *buf = xmalloc(READ_CHUNK);
	ssize_t n;
	int rc = 0;

	sha256_init(&ctx);
	while ((n = read(fd, buf, READ_CHUNK)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = error_errno(err, ERR_IO, errno, "cannot read cache object sha256:%s",
					 hex);
			sha256_release(&ctx);
			goto out;
		}
		sha256_update(&ctx, buf, (size_t)n);
	}
	sha256_final(&ctx, digest);
	sha256_hex(digest, got);
	if (strcmp(got, hex))
		rc = error_set(err, ERR_INVALID,
			       "cache object sha256:%s is corrupted (its content hashes to %s)",
			       hex, got);
	else if (lseek(fd, 0, SEEK_SET) < 0)
		rc = error_errno(err, ERR_IO, errno, "cannot rewind cache object sha256:%s", hex);
out:
	free(buf);
	return rc;
}

int track_artifact_open(int *out_fd, struct store_artifact *info, struct store *st, struct cas *cas,
			const char *run_id, const char *path, struct error *err)
{
	struct store_artifact a = STORE_ARTIFACT_INIT;
	char *object = NULL;
	int fd = -1, rc;

	if ((rc = track_artifact_check_path(path, err)) < 0 ||
	    (rc = store_artifact_get(st, &a, run_id, path, err)) < 0)
		goto out;
	object = cas_object_path(cas, a.digest);
	fd = open(object, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = error_errno(err, errno == ENOENT ? ERR_NOTFOUND : ERR_IO, errno,
				 "artifact '%s' of run '%s': cache object sha256:%s", path, run_id,
				 a.digest);
		goto out;
	}
	if ((rc = verify_fd(fd, a.digest, err)) < 0) {
		error_prefix(err, "artifact '%s' of run '%s': ", path, run_id);
		goto out;
	}
	*out_fd = fd;
	fd = -1;
	if (info) {
		*info = a;
		memset(&a, 0, sizeof(a));
	}
out:
	if (fd >= 0)
		close(fd);
	free(object);
	store_artifact_release(&a);
	return rc;
}

int track_artifact_read(struct store *st, struct cas *cas, const char *run_id, const char *path,
			struct strbuf *out, size_t max_size, struct error *err)
{
	struct store_artifact a = STORE_ARTIFACT_INIT;
	int rc;

	if ((rc = track_artifact_check_path(path, err)) < 0 ||
	    (rc = store_artifact_get(st, &a, run_id, path, err)) < 0)
		goto out;
	if (a.size >= 0 && (uint64_t)a.size > max_size) {
		rc = error_set(err, ERR_TOOBIG,
			       "artifact '%s' of run '%s' has %" PRId64 " bytes, more than %zu",
			       path, run_id, a.size, max_size);
		goto out;
	}
	if ((rc = cas_read(cas, a.digest, out, max_size, err)) < 0)
		error_prefix(err, "artifact '%s' of run '%s': ", path, run_id);
out:
	store_artifact_release(&a);
	return rc;
}

int track_artifact_checkout(struct store *st, struct cas *cas, const char *run_id, const char *path,
			    const char *dest, struct error *err)
{
	struct fs_atomic at = FS_ATOMIC_INIT;
	char *buf = NULL, *parent = NULL, *slash;
	int fd = -1, rc;
	ssize_t n;

	if ((rc = track_artifact_open(&fd, NULL, st, cas, run_id, path, err)) < 0)
		goto out;
	parent = xstrdup(dest);
	slash = strrchr(parent, '/');
	if (slash && slash != parent) {
		*slash = '\0';
		if ((rc = fs_mkdir_p(parent, 0777, err)) < 0)
			goto out;
	}
	if ((rc = fs_atomic_begin(&at, dest, err)) < 0)
		goto out;
	buf = xmalloc(READ_CHUNK);
	while ((n = read(fd, buf, READ_CHUNK)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || fs_write_all(at.fd, buf, (size_t)n)) {
			rc = n < 0 ? error_errno(err, ERR_IO, errno,
						 "cannot read artifact '%s' of run '%s'", path,
						 run_id)
				   : error_errno(err, ERR_IO, errno, "cannot write '%s'", dest);
			fs_atomic_abort(&at);
			goto out;
		}
	}
	rc = fs_atomic_commit(&at, 0644, err);
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	free(parent);
	return rc;
}
