/*
 * The local directory transport: a remote that is a directory (another disk, a mounted share) in
 * the cache's layout. An upload is written to <root>/tmp, verified, fsynced and only then renamed
 * under its name; the directories that gained names are fsynced once per batch, in sync.
 */
#include "util/common.h"
#include "data/remote.h"
#include "data/cas.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/strbuf.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdatomic.h>

#define COPY_CHUNK 65536
#define FANOUT 256
#define HEX_LEN 64

struct remote_local {
	struct remote base;
	char *root;
	char *objects;		     /* root/objects/sha256 */
	char *tmp;		     /* root/tmp */
	atomic_bool touched[FANOUT]; /* objects/<xx> gained a name since the last sync */
	atomic_bool made_dirs;	     /* a directory was created under root since the last sync */
};

static struct remote_local *local_of(struct remote *r)
{
	return (struct remote_local *)r;
}

static int hexval(int c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static int fanout_index(const char *hex)
{
	return hexval(hex[0]) * 16 + hexval(hex[1]);
}

static void object_path(struct strbuf *out, const struct remote_local *rl, const char *hex)
{
	strbuf_addf(out, "%s/%.2s/%s", rl->objects, hex, hex + 2);
}

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int local_open(struct remote **out, const char *url, struct error *err)
{
	struct remote_local *rl = NULL;
	char *root = NULL;
	int rc;

	rc = remote_url_local_path(&root, url, err);
	if (rc)
		goto out;
	if (mkdir(root, 0777) && errno != EEXIST) {
		rc = error_errno(err, ERR_IO, errno, "cannot create directory '%s'", root);
		goto out;
	}
	if (!fs_is_dir(root)) {
		rc = error_set(err, ERR_INVALID, "'%s' is not a directory", root);
		goto out;
	}
	rl = xcalloc(1, sizeof(*rl));
	rl->base.ops = &remote_local_ops;
	rl->objects = fs_path_join(root, "objects/sha256");
	rl->tmp = fs_path_join(root, "tmp");
	rl->root = root;
	root = NULL;
	for (size_t i = 0; i < FANOUT; i++)
		atomic_init(&rl->touched[i], false);
	atomic_init(&rl->made_dirs, false);
	*out = &rl->base;
out:
	free(root);
	return rc;
}

static void local_close(struct remote *r)
{
	struct remote_local *rl = local_of(r);

	free(rl->root);
	free(rl->objects);
	free(rl->tmp);
	free(rl);
}

/* Calls fn for each object file in objects/<xx>. */
static int list_fanout(struct remote_local *rl, int xx, int (*fn)(const char *hex, void *data),
		       void *data, struct error *err)
{
	char hex[HEX_LEN + 1];
	struct strbuf dir = STRBUF_INIT;
	struct dirent *de;
	DIR *d;
	int rc = 0;

	snprintf(hex, sizeof(hex), "%02x", (unsigned)xx);
	strbuf_addf(&dir, "%s/%s", rl->objects, hex);
	d = opendir(dir.buf);
	if (!d) {
		if (errno != ENOENT)
			rc = error_errno(err, ERR_IO, errno, "remote '%s': cannot list '%s'",
					 rl->base.name, dir.buf);
		goto out;
	}
	while ((errno = 0, de = readdir(d))) {
		size_t i;

		for (i = 0; i < HEX_LEN - 2 && hexval(de->d_name[i]) >= 0; i++)
			;
		if (i != HEX_LEN - 2 || de->d_name[i] || de->d_type == DT_DIR)
			continue;
		memcpy(hex + 2, de->d_name, HEX_LEN - 2 + 1);
		rc = fn(hex, data);
		if (rc)
			goto out;
	}
	if (errno)
		rc = error_errno(err, ERR_IO, errno, "remote '%s': cannot list '%s'", rl->base.name,
				 dir.buf);
out:
	if (d)
		closedir(d);
	strbuf_release(&dir);
	return rc;
}

static int local_list(struct remote *r, int (*fn)(const char *hex, void *data), void *data,
		      struct error *err)
{
	int rc = 0;

	for (int xx = 0; xx < FANOUT && !rc; xx++)
		rc = list_fanout(local_of(r), xx, fn, data, err);
	return rc;
}

static int local_has(struct remote *r, const char *hex, int *out, struct error *err)
{
	struct strbuf path = STRBUF_INIT;
	struct stat st;
	int rc = 0;

	object_path(&path, local_of(r), hex);
	if (!stat(path.buf, &st))
		*out = 1;
	else if (errno == ENOENT)
		*out = 0;
	else
		rc = error_errno(err, ERR_IO, errno, "remote '%s': cannot look at '%s'", r->name,
				 path.buf);
	strbuf_release(&path);
	return rc;
}

/* Creates <root>/tmp/<hex>.XXXXXX (and tmp itself if missing); fills tmp with its name. */
static int open_tmp(int *out, struct remote_local *rl, const char *hex, struct strbuf *tmp,
		    struct error *err)
{
	int fd, rc;

	strbuf_addf(tmp, "%s/%s.XXXXXX", rl->tmp, hex);
	fd = mkostemp(tmp->buf, O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		rc = fs_mkdir_p(rl->tmp, 0777, err);
		if (rc)
			return error_prefix(err, "remote '%s'", rl->base.name);
		strbuf_reset(tmp);
		strbuf_addf(tmp, "%s/%s.XXXXXX", rl->tmp, hex);
		fd = mkostemp(tmp->buf, O_CLOEXEC);
	}
	if (fd < 0) {
		rc = error_errno(err, ERR_IO, errno, "remote '%s': cannot create a file in '%s'",
				 rl->base.name, rl->tmp);
		strbuf_reset(tmp);
		return rc;
	}
	*out = fd;
	return 0;
}

/* Streams src into fd and checks it: a corrupted cache object stops here. */
static int copy_source(int fd, const char *tmp, struct remote_local *rl, struct object_source *src,
		       struct error *err)
{
	char buf[COPY_CHUNK];

	for (;;) {
		long n = object_source_read(src, buf, sizeof(buf), err);

		if (n < 0)
			return (int)n;
		if (n == 0)
			break;
		if (write_all(fd, buf, (size_t)n))
			return error_errno(err, ERR_IO, errno, "remote '%s': cannot write '%s'",
					   rl->base.name, tmp);
	}
	return object_source_verify(src, err);
}

/* Renames tmp to the object's name, creating objects/<xx> on first use. */
static int publish(struct remote_local *rl, const char *tmp, const char *hex, struct error *err)
{
	struct strbuf dest = STRBUF_INIT, dir = STRBUF_INIT;
	int rc = 0, ok;

	object_path(&dest, rl, hex);
	ok = !rename(tmp, dest.buf);
	if (!ok && errno == ENOENT) {
		strbuf_add(&dir, dest.buf, dest.len - (HEX_LEN - 2) - 1);
		rc = fs_mkdir_p(dir.buf, 0777, err);
		if (rc) {
			error_prefix(err, "remote '%s'", rl->base.name);
			goto out;
		}
		atomic_store(&rl->made_dirs, true);
		ok = !rename(tmp, dest.buf);
	}
	if (!ok) {
		rc = error_errno(err, ERR_IO, errno, "remote '%s': cannot rename '%s' to '%s'",
				 rl->base.name, tmp, dest.buf);
		goto out;
	}
	atomic_store(&rl->touched[fanout_index(hex)], true);
out:
	strbuf_release(&dest);
	strbuf_release(&dir);
	return rc;
}

static int local_put(struct remote *r, const char *hex, struct object_source *src,
		     struct error *err)
{
	struct remote_local *rl = local_of(r);
	struct strbuf tmp = STRBUF_INIT;
	int fd = -1, rc;

	rc = open_tmp(&fd, rl, hex, &tmp, err);
	if (rc)
		goto out;
	rc = copy_source(fd, tmp.buf, rl, src, err);
	if (rc)
		goto out;
	/* the bytes are durable before a name points at them: a crash leaves no torn object */
	if (fchmod(fd, 0444) || fsync(fd)) {
		rc = error_errno(err, ERR_IO, errno, "remote '%s': cannot write '%s'", r->name,
				 tmp.buf);
		goto out;
	}
	rc = close(fd);
	fd = -1;
	if (rc) {
		rc = error_errno(err, ERR_IO, errno, "remote '%s': cannot write '%s'", r->name,
				 tmp.buf);
		goto out;
	}
	rc = publish(rl, tmp.buf, hex, err);
	if (!rc)
		strbuf_reset(&tmp);
out:
	if (fd >= 0)
		close(fd);
	if (tmp.len)
		unlink(tmp.buf);
	strbuf_release(&tmp);
	return rc;
}

static int local_get(struct remote *r, const char *hex, struct cas_writer *w, struct error *err)
{
	struct strbuf path = STRBUF_INIT;
	char buf[COPY_CHUNK];
	int fd, rc = 0;

	object_path(&path, local_of(r), hex);
	fd = open(path.buf, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			rc = error_set(err, ERR_NOTFOUND, "remote '%s' has no object sha256:%s",
				       r->name, hex);
		else
			rc = error_errno(err, ERR_IO, errno, "remote '%s': cannot open '%s'",
					 r->name, path.buf);
		goto out;
	}
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = error_errno(err, ERR_IO, errno, "remote '%s': cannot read '%s'",
					 r->name, path.buf);
			goto out;
		}
		if (n == 0)
			break;
		rc = cas_writer_write(w, buf, (size_t)n, err);
		if (rc)
			goto out;
	}
out:
	if (fd >= 0)
		close(fd);
	strbuf_release(&path);
	return rc;
}

static int sync_dir(struct remote_local *rl, const char *dir, struct error *err)
{
	int rc = fs_fsync_dir(dir, err);

	return rc ? error_prefix(err, "remote '%s'", rl->base.name) : 0;
}

static int local_sync(struct remote *r, struct error *err)
{
	struct remote_local *rl = local_of(r);
	struct strbuf dir = STRBUF_INIT;
	int rc = 0, n = 0;

	for (int xx = 0; xx < FANOUT; xx++) {
		if (!atomic_exchange(&rl->touched[xx], false))
			continue;
		strbuf_reset(&dir);
		strbuf_addf(&dir, "%s/%02x", rl->objects, (unsigned)xx);
		rc = sync_dir(rl, dir.buf, err);
		if (rc) {
			atomic_store(&rl->touched[xx], true);
			goto out;
		}
		n++;
	}
	if (atomic_exchange(&rl->made_dirs, false)) {
		char *objects = fs_path_join(rl->root, "objects");

		rc = sync_dir(rl, rl->objects, err);
		if (!rc)
			rc = sync_dir(rl, objects, err);
		if (!rc)
			rc = sync_dir(rl, rl->root, err);
		if (rc)
			atomic_store(&rl->made_dirs, true);
		free(objects);
	}
	log_debug("remote '%s': synced %d object directories", r->name, n);
out:
	strbuf_release(&dir);
	return rc;
}

const struct remote_ops remote_local_ops = {
	.scheme = "file",
	.open = local_open,
	.close = local_close,
	.list = local_list,
	.has = local_has,
	.put = local_put,
	.get = local_get,
	.sync = local_sync,
};
