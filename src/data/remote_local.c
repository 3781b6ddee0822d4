/*
 * The local directory transport: a remote that is a directory (another disk, a mounted share) in
 * the cache's layout. put streams an upload into <root>/tmp and verifies it; publish makes a
 * whole batch durable with one syncfs, only then renames it into place, and fsyncs the
 * directories that gained names: no name ever points at bytes a crash could lose.
 */
#include "util/common.h"
#include "data/remote.h"
#include "data/cas.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/strbuf.h"

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <time.h>

#define COPY_CHUNK 65536
#define FANOUT 256
#define HEX_LEN 64

struct remote_local {
	struct remote base;
	char *root;
	char *objects; /* root/objects/sha256 */
	char *tmp;     /* root/tmp */
	/*
	 * One publish at a time: a publish that finds objects/<xx> made by another must not report
	 * its objects durable before the directories above <xx> are synced.
	 */
	pthread_mutex_t publish_lock;
	bool made_root;	    /* open created root: its parent needs a sync (under publish_lock) */
	bool parents_dirty; /* directories were created whose parents are not synced yet (ditto) */
};

struct remote_staged {
	char hex[HEX_LEN + 1];
	char *tmp;   /* the complete, verified, read-only upload: root/tmp/<hex>.XXXXXX */
	int renamed; /* publish gave it its name */
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

/* Digests come validated from callers; a malformed one here would name a path outside root. */
static void check_hex(const char *hex)
{
	for (size_t i = 0; i < HEX_LEN; i++)
		if (hexval(hex[i]) < 0)
			BUG("not an object digest: '%.64s'", hex);
	if (hex[HEX_LEN])
		BUG("not an object digest: '%.80s'", hex);
}

static void object_path(struct strbuf *out, const struct remote_local *rl, const char *hex)
{
	check_hex(hex);
	strbuf_addf(out, "%s/%.2s/%s", rl->objects, hex, hex + 2);
}

static int local_open(struct remote **out, const char *url, struct error *err)
{
	struct remote_local *rl = NULL;
	char *root = NULL;
	int rc, made;

	rc = remote_url_local_path(&root, url, err);
	if (rc)
		goto out;
	made = !mkdir(root, 0777);
	if (!made && errno != EEXIST) {
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
	pthread_mutex_init(&rl->publish_lock, NULL);
	rl->made_root = rl->parents_dirty = made;
	*out = &rl->base;
out:
	free(root);
	return rc;
}

static void local_close(struct remote *r)
{
	struct remote_local *rl = local_of(r);

	pthread_mutex_destroy(&rl->publish_lock);
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

	check_hex(hex);
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
		if (fs_write_all(fd, buf, (size_t)n))
			return error_errno(err, ERR_IO, errno, "remote '%s': cannot write '%s'",
					   rl->base.name, tmp);
	}
	return object_source_verify(src, err);
}

static int local_put(struct remote *r, struct remote_staged **out, const char *hex,
		     struct object_source *src, struct error *err)
{
	struct remote_local *rl = local_of(r);
	struct remote_staged *s;
	struct strbuf tmp = STRBUF_INIT;
	int fd = -1, rc;

	rc = open_tmp(&fd, rl, hex, &tmp, err);
	if (rc)
		goto out;
	rc = copy_source(fd, tmp.buf, rl, src, err);
	if (rc)
		goto out;
	/* no fsync here: publish makes the whole batch durable at once, before naming any of it */
	if (fchmod(fd, 0444)) {
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
	s = xcalloc(1, sizeof(*s));
	memcpy(s->hex, hex, HEX_LEN + 1);
	s->tmp = strbuf_detach(&tmp, NULL);
	*out = s;
out:
	if (fd >= 0)
		close(fd);
	if (tmp.len)
		unlink(tmp.buf);
	strbuf_release(&tmp);
	return rc;
}

static void staged_free(struct remote_staged *s)
{
	if (!s)
		return;
	free(s->tmp);
	free(s);
}

static void local_discard(struct remote *r, struct remote_staged *s)
{
	(void)r;
	if (s && !s->renamed)
		unlink(s->tmp);
	staged_free(s);
}

/* One syncfs of the file system the uploads are on: every staged object's bytes are durable. */
static int sync_uploads(struct remote_local *rl, struct error *err)
{
	int fd, rc = 0;

	fd = open(rl->tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return error_errno(err, ERR_IO, errno, "remote '%s': cannot open '%s'",
				   rl->base.name, rl->tmp);
	if (syncfs(fd))
		rc = error_errno(err, ERR_IO, errno, "remote '%s': cannot sync '%s' to disk",
				 rl->base.name, rl->root);
	close(fd);
	return rc;
}

/* Renames a staged upload to its object's name, creating objects/<xx> on first use. */
static int rename_staged(struct remote_local *rl, struct remote_staged *s, struct error *err)
{
	struct strbuf dest = STRBUF_INIT, dir = STRBUF_INIT;
	int rc = 0, ok;

	object_path(&dest, rl, s->hex);
	ok = !rename(s->tmp, dest.buf);
	if (!ok && errno == ENOENT) {
		strbuf_add(&dir, dest.buf, dest.len - (HEX_LEN - 2) - 1);
		rl->parents_dirty = true;
		rc = fs_mkdir_p(dir.buf, 0777, err);
		if (rc) {
			error_prefix(err, "remote '%s'", rl->base.name);
			goto out;
		}
		ok = !rename(s->tmp, dest.buf);
	}
	if (!ok) {
		rc = error_errno(err, ERR_IO, errno, "remote '%s': cannot rename '%s' to '%s'",
				 rl->base.name, s->tmp, dest.buf);
		goto out;
	}
	s->renamed = 1;
out:
	strbuf_release(&dest);
	strbuf_release(&dir);
	return rc;
}

static int sync_dir(struct remote_local *rl, const char *dir, struct error *err)
{
	int rc = fs_fsync_dir(dir, err);

	return rc ? error_prefix(err, "remote '%s'", rl->base.name) : 0;
}

/* Makes the names given so far durable: each objects/<xx> in touched, and new directories. */
static int sync_names(struct remote_local *rl, const bool touched[FANOUT], struct error *err)
{
	struct strbuf dir = STRBUF_INIT;
	int rc = 0;

	for (int xx = 0; xx < FANOUT && !rc; xx++) {
		if (!touched[xx])
			continue;
		strbuf_reset(&dir);
		strbuf_addf(&dir, "%s/%02x", rl->objects, (unsigned)xx);
		rc = sync_dir(rl, dir.buf, err);
	}
	if (!rc && rl->parents_dirty) {
		strbuf_reset(&dir);
		strbuf_addf(&dir, "%s/objects", rl->root);
		rc = sync_dir(rl, rl->objects, err);
		if (!rc)
			rc = sync_dir(rl, dir.buf, err);
		if (!rc)
			rc = sync_dir(rl, rl->root, err);
		if (!rc && rl->made_root) {
			strbuf_reset(&dir);
			strbuf_add(&dir, rl->root, (size_t)(strrchr(rl->root, '/') - rl->root));
			rc = sync_dir(rl, dir.len ? dir.buf : "/", err);
		}
		if (!rc)
			rl->parents_dirty = rl->made_root = false;
	}
	strbuf_release(&dir);
	return rc;
}

/*
 * The order is what makes a crash safe: (1) syncfs, so every staged object's bytes are on disk;
 * (2) rename each into place; (3) fsync the directories that gained names. A crash before (2)
 * leaves only files in tmp/; during (2) or (3), names that may or may not survive, each pointing
 * at durable, verified bytes. Objects count as published only after (3).
 */
static int local_publish(struct remote *r, struct remote_staged **staged, size_t n,
			 void (*fn)(void *data, size_t i, const struct error *e), void *data,
			 struct error *err)
{
	struct remote_local *rl = local_of(r);
	struct error e = ERROR_INIT, names = ERROR_INIT, first = ERROR_INIT;
	bool touched[FANOUT] = { false };
	int bytes_rc, names_rc = 0;

	if (!n)
		return 0;
	pthread_mutex_lock(&rl->publish_lock);
	bytes_rc = sync_uploads(rl, &first);
	for (size_t i = 0; i < n && !bytes_rc; i++) {
		if (!rename_staged(rl, staged[i], &e)) {
			touched[fanout_index(staged[i]->hex)] = true;
			continue;
		}
		fn(data, i, &e);
		if (!first.code)
			first = e;
	}
	if (!bytes_rc)
		names_rc = sync_names(rl, touched, &names);
	pthread_mutex_unlock(&rl->publish_lock);
	if (names_rc && !first.code)
		first = names;
	for (size_t i = 0; i < n; i++) {
		/* (an object whose rename failed has been told already) */
		if (bytes_rc)
			fn(data, i, &first);
		else if (staged[i]->renamed)
			fn(data, i, names_rc ? &names : NULL);
		local_discard(r, staged[i]);
	}
	if (first.code && err)
		*err = first;
	return first.code;
}

static int local_clean(struct remote *r, int max_age_s, struct error *err)
{
	struct remote_local *rl = local_of(r);
	time_t now = time(NULL);
	struct dirent *de;
	DIR *d;
	int rc = 0;

	d = opendir(rl->tmp);
	if (!d)
		return errno == ENOENT
			   ? 0
			   : error_errno(err, ERR_IO, errno, "remote '%s': cannot list '%s'",
					 r->name, rl->tmp);
	while ((errno = 0, de = readdir(d))) {
		struct stat st;

		/*
		 * mtime: put writes every upload itself, so that is when its last byte arrived; a
		 * live push publishes within seconds of that
		 */
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) ||
		    !S_ISREG(st.st_mode) || now - st.st_mtime < max_age_s)
			continue;
		if (!unlinkat(dirfd(d), de->d_name, 0))
			log_debug("remote '%s': removed stale upload '%s/%s'", r->name, rl->tmp,
				  de->d_name);
		else if (errno != ENOENT && !rc)
			rc = error_errno(err, ERR_IO, errno, "remote '%s': cannot remove '%s/%s'",
					 r->name, rl->tmp, de->d_name);
	}
	if (errno && !rc)
		rc = error_errno(err, ERR_IO, errno, "remote '%s': cannot list '%s'", r->name,
				 rl->tmp);
	closedir(d);
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

const struct remote_ops remote_local_ops = {
	.scheme = "file",
	.open = local_open,
	.close = local_close,
	.list = local_list,
	.has = local_has,
	.put = local_put,
	.publish = local_publish,
	.discard = local_discard,
	.clean = local_clean,
	.get = local_get,
};
