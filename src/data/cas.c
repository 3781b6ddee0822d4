/*
 * The object cache: content-addressed files under objects/sha256/<2>/<62>, shared with workspace
 * files by reflink, hardlink or copy. An object is written into a temporary file, made read-only
 * and then given its name in one step: linkat(2) of an unnamed O_TMPFILE file (made in the
 * object's own directory when the digest is known in advance, so the link stays in one
 * directory), or link(2) of a named file in tmp/ where O_TMPFILE or /proc is missing. A link,
 * unlike a rename, never replaces an object that is there with the right size.
 *
 * Durability. Objects are not fsynced one by one: 20,000 fsyncs would cost seconds, and the
 * cache does not need them. A name is a promise about bytes that anyone can check, and nothing
 * refers to an object until the caller writes a pointer file or a store record; callers call
 * cas_sync() (one syncfs() of the cache's file system) before that, which makes every object
 * written so far durable at once. A crash before cas_sync() can leave an object under its name
 * that is empty or short (ext4, XFS and btrfs may commit the name before delayed-allocated
 * data), but such an object is referenced by nothing yet: cas_has() treats an empty object whose
 * digest is not the empty content's as absent, cas_add_file() and the writers replace an object
 * of the wrong size, and cas_verify() finds anything subtler. Unnamed temporaries vanish in a
 * crash; named ones are left in tmp/ for cas_clean_tmp().
 *
 * Concurrency. struct cas is read-only after cas_open (but for the process-wide O_TMPFILE
 * probe), all state of an operation is on its own stack, and an object appears complete in one
 * atomic step. Two threads adding the same content both succeed: the second link finds the
 * object (EEXIST, same size: identical by its name) and leaves it as it is.
 */
#include "util/common.h"
#include "data/cas.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/strbuf.h"
#include "util/workpool.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <pthread.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <time.h>

#define CAS_BUF_SIZE (1024 * 1024)
/* From this size a copy runs in a second thread while the caller's thread hashes it. */
#define CAS_PARALLEL_MIN (16 * 1024 * 1024)
#define CAS_COPY_CHUNK (4 * 1024 * 1024)
#define OBJECT_MODE 0444
#define DEFAULT_LINK_ORDER "reflink,copy"
#define EMPTY_HEX "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define TRY_NEXT 1    /* a link kind is not possible here: try the next one */
#define FOUND_EQUAL 2 /* the object was there already: nothing to store */

static const char *const link_names[] = { "reflink", "hardlink", "copy" };

const char *link_kind_name(enum link_kind kind)
{
	if ((unsigned)kind >= ARRAY_SIZE(link_names))
		BUG("bad link kind %d", (int)kind);
	return link_names[kind];
}

int cas_parse_link_order(enum link_kind out[LINK_MAX_ORDER], int *nout, const char *spec,
			 struct error *err)
{
	enum link_kind kinds[LINK_MAX_ORDER];
	const char *p = spec;
	int n = 0;

	for (;;) {
		size_t len = strcspn(p, ",");
		size_t k;

		for (k = 0; k < ARRAY_SIZE(link_names); k++)
			if (strlen(link_names[k]) == len && !memcmp(p, link_names[k], len))
				break;
		if (k == ARRAY_SIZE(link_names))
			return error_set(err, ERR_INVALID,
					 "unknown link kind '%.*s' in '%s' (expected reflink, "
					 "hardlink or copy, separated by commas)",
					 (int)len, p, spec);
		for (int i = 0; i < n; i++)
			if (kinds[i] == (enum link_kind)k)
				return error_set(err, ERR_INVALID,
						 "link kind '%s' is listed twice in '%s'",
						 link_names[k], spec);
		kinds[n++] = (enum link_kind)k;
		if (!p[len])
			break;
		p += len + 1;
	}
	memcpy(out, kinds, sizeof(kinds[0]) * (size_t)n);
	*nout = n;
	return 0;
}

/*
 * A digit's value + 1, 0 for anything else: lowercase hex only. A table, not comparisons: the
 * comparisons' branch on digit-or-letter is a coin toss per character and mispredicts half the
 * time, which made checking 20,000 names cost milliseconds.
 */
static const unsigned char hex_value[256] = {
	['0'] = 1,  ['1'] = 2,	['2'] = 3,  ['3'] = 4,	['4'] = 5,  ['5'] = 6,
	['6'] = 7,  ['7'] = 8,	['8'] = 9,  ['9'] = 10, ['a'] = 11, ['b'] = 12,
	['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
};

/* 1 if the len bytes at s are lowercase hex digits. */
static int all_hex(const char *s, size_t len)
{
	unsigned bad = 0;

	for (size_t i = 0; i < len; i++)
		bad |= hex_value[(unsigned char)s[i]] == 0;
	return !bad;
}

static int is_object_hex(const char *hex)
{
	return strnlen(hex, SHA256_HEX_SIZE) == SHA256_HEX_SIZE - 1 &&
	       all_hex(hex, SHA256_HEX_SIZE - 1);
}

static int bad_hex(struct error *err, const char *hex)
{
	return error_set(err, ERR_INVALID,
			 "'%.70s' is not an object name (64 lowercase hex digits)", hex);
}

int cas_open(struct cas **out, const char *dir, const char *link_order, struct error *err)
{
	struct cas *cas = xcalloc(1, sizeof(*cas));
	int rc;

	rc = cas_parse_link_order(cas->order, &cas->norder,
				  link_order ? link_order : DEFAULT_LINK_ORDER, err);
	if (rc)
		goto out;
	cas->dir = xstrdup(dir);
	cas->objects = fs_path_join(dir, "objects/sha256");
	cas->tmp = fs_path_join(dir, "tmp");
	rc = fs_mkdir_p(cas->objects, 0777, err);
	if (!rc)
		rc = fs_mkdir_p(cas->tmp, 0777, err);
	if (rc)
		goto out;
	*out = cas;
	cas = NULL;
out:
	cas_free(cas);
	return rc;
}

void cas_free(struct cas *cas)
{
	if (!cas)
		return;
	free(cas->dir);
	free(cas->objects);
	free(cas->tmp);
	free(cas);
}

static void object_path(struct strbuf *sb, const struct cas *cas, const char *hex)
{
	strbuf_addf(sb, "%s/%.2s/%s", cas->objects, hex, hex + 2);
}

char *cas_object_path(const struct cas *cas, const char *hex)
{
	struct strbuf sb = STRBUF_INIT;

	if (!is_object_hex(hex))
		BUG("cas_object_path: '%s' is not an object name", hex);
	object_path(&sb, cas, hex);
	return strbuf_detach(&sb, NULL);
}

/* 1 if the object is there with the right size (size UINT64_MAX: any size but a wrong 0). */
static int object_present(const struct cas *cas, const char *hex, uint64_t size)
{
	struct strbuf path = STRBUF_INIT;
	struct stat st;
	int ok;

	object_path(&path, cas, hex);
	ok = stat(path.buf, &st) == 0 && S_ISREG(st.st_mode);
	if (ok && size != UINT64_MAX)
		ok = (uint64_t)st.st_size == size;
	else if (ok && st.st_size == 0)
		ok = !strcmp(hex, EMPTY_HEX); /* what a crash before cas_sync leaves */
	strbuf_release(&path);
	return ok;
}

int cas_has(const struct cas *cas, const char *hex)
{
	return is_object_hex(hex) && object_present(cas, hex, UINT64_MAX);
}

/* A page-aligned buffer: reads into unaligned memory are measurably slower. */
struct abuf {
	void *raw;
	unsigned char *p;
	size_t size;
};

static void abuf_alloc(struct abuf *b, size_t size)
{
	b->raw = xmalloc(size + 4095);
	b->p = (unsigned char *)(((uintptr_t)b->raw + 4095) & ~(uintptr_t)4095);
	b->size = size;
}

static void abuf_free(struct abuf *b)
{
	free(b->raw);
	b->raw = NULL;
	b->p = NULL;
}

/* Hashes fd from offset 0 to its end through buf: 0, or -1 with errno; *hashed gets the bytes. */
static int hash_fd(int fd, struct abuf *buf, char hex[SHA256_HEX_SIZE], uint64_t *hashed)
{
	struct sha256_ctx ctx = SHA256_CTX_INIT;
	unsigned char digest[SHA256_DIGEST_SIZE];
	uint64_t off = 0;

	sha256_init(&ctx);
	for (;;) {
		ssize_t n = pread(fd, buf->p, buf->size, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			sha256_release(&ctx);
			return -1;
		}
		if (n == 0)
			break;
		sha256_update(&ctx, buf->p, (size_t)n);
		off += (uint64_t)n;
	}
	sha256_final(&ctx, digest);
	sha256_hex(digest, hex);
	*hashed = off;
	return 0;
}

/* Six characters [A-Za-z0-9] for a temporary name, as mkstemp makes them. */
static void random_suffix(char out[7])
{
	static const char chars[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	unsigned char r[6];

	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
		uint64_t x = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32) ^ (uintptr_t)r;

		for (size_t i = 0; i < sizeof(r); i++, x >>= 7)
			r[i] = (unsigned char)x;
	}
	for (int i = 0; i < 6; i++)
		out[i] = chars[r[i] % (sizeof(chars) - 1)];
	out[6] = '\0';
}

/*
 * Hardlinks target (following a symlink) to a new name "<prefix>XXXXXX", set in tmp. Returns 0,
 * or -1 with errno.
 */
static int link_tmp(const char *target, const char *prefix, struct strbuf *tmp)
{
	for (int tries = 0; tries < 100; tries++) {
		char suffix[7];

		random_suffix(suffix);
		strbuf_reset(tmp);
		strbuf_addf(tmp, "%s%s", prefix, suffix);
		if (linkat(AT_FDCWD, target, AT_FDCWD, tmp->buf, AT_SYMLINK_FOLLOW) == 0)
			return 0;
		if (errno != EEXIST)
			break;
	}
	strbuf_reset(tmp);
	return -1;
}

/* Errors meaning "this file system (pair) cannot do that": fall back to the next link kind. */
static int link_unsupported(int e)
{
	return e == EXDEV || e == EOPNOTSUPP || e == ENOTSUP || e == EINVAL || e == ENOTTY ||
	       e == ENOSYS || e == EPERM || e == EMLINK || e == EACCES || e == ETXTBSY;
}

/* Whether /proc/self/fd lets linkat(2) give a name to an unnamed (O_TMPFILE) file. */
static int proc_fd_ok;
static int force_named_tmp;
static pthread_once_t proc_fd_once = PTHREAD_ONCE_INIT;

static void check_proc_fd(void)
{
	proc_fd_ok = !force_named_tmp && access("/proc/self/fd", X_OK) == 0;
}

void cas_force_named_tmp(int force)
{
	pthread_once(&proc_fd_once, check_proc_fd);
	force_named_tmp = force;
	check_proc_fd();
}

/* mkdir of an object's subdirectory, objects/sha256/<2>; many threads may race to it. */
static int make_subdir(const struct cas *cas, const char *hex, struct error *err)
{
	struct strbuf dir = STRBUF_INIT;
	int rc = 0;

	strbuf_addf(&dir, "%s/%.2s", cas->objects, hex);
	if (mkdir(dir.buf, 0777) && errno != EEXIST)
		rc = error_errno(err, ERR_IO, errno, "cannot create directory '%s'", dir.buf);
	strbuf_release(&dir);
	return rc;
}

/*
 * A temporary object being written. Where the file system allows, it has no name at all
 * (O_TMPFILE) and linkat(2) names it once complete: a crash or an error leaves nothing behind,
 * and when its digest is known in advance it is made in the object's own directory. Elsewhere
 * it is a named file in tmp/ that is renamed into place.
 */
struct tmpobj {
	int fd;
	struct strbuf name; /* empty while unnamed */
};
#define TMPOBJ_INIT                                                                                \
	{                                                                                          \
		-1, STRBUF_INIT                                                                    \
	}

static int tmpobj_named(const struct cas *cas, struct tmpobj *t, struct error *err)
{
	strbuf_reset(&t->name);
	strbuf_addf(&t->name, "%s/obj-XXXXXX", cas->tmp);
	t->fd = mkostemp(t->name.buf, O_CLOEXEC);
	if (t->fd < 0) {
		int e = errno;

		strbuf_reset(&t->name);
		return error_errno(err, ERR_IO, e, "cannot create a temporary file in '%s'",
				   cas->tmp);
	}
	return 0;
}

/* hex (may be NULL) is the digest the content is expected to have. */
static int tmpobj_create(const struct cas *cas, const char *hex, struct tmpobj *t,
			 struct error *err)
{
	struct strbuf dir = STRBUF_INIT;
	int rc = 0;

	pthread_once(&proc_fd_once, check_proc_fd);
	if (!proc_fd_ok)
		return tmpobj_named(cas, t, err);
	if (hex)
		strbuf_addf(&dir, "%s/%.2s", cas->objects, hex);
	else
		strbuf_addstr(&dir, cas->tmp);
	t->fd = open(dir.buf, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (t->fd < 0 && errno == ENOENT && hex && !(rc = make_subdir(cas, hex, err)))
		t->fd = open(dir.buf, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (rc || t->fd >= 0)
		goto out;
	/* EISDIR and EINVAL: kernels and file systems without O_TMPFILE */
	if (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)
		rc = tmpobj_named(cas, t, err);
	else
		rc = error_errno(err, ERR_IO, errno, "cannot create a temporary file in '%s'",
				 dir.buf);
out:
	strbuf_release(&dir);
	return rc;
}

static void tmpobj_discard(struct tmpobj *t)
{
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
	if (t->name.len)
		unlink(t->name.buf);
	strbuf_release(&t->name);
}

/*
 * Gives the file src (a path, or "/proc/self/fd/N" with AT_SYMLINK_FOLLOW in flags) the name of
 * object hex (of size bytes), creating its subdirectory on first use: 0 when linked, FOUND_EQUAL
 * when an object of the right size was there already (kept: its name says it is identical), -1
 * with errno on failure. An object of the wrong size, torn by a crash before cas_sync, is
 * replaced. A link, unlike a rename, never replaces a good object, so a hardlinked workspace
 * file stays the object it became.
 */
static int link_as_object(const struct cas *cas, const char *src, int flags, const char *hex,
			  uint64_t size)
{
	struct strbuf path = STRBUF_INIT;
	int rc = -1, e = EEXIST;

	object_path(&path, cas, hex);
	for (int tries = 0; tries < 4 && rc < 0; tries++) {
		rc = linkat(AT_FDCWD, src, AT_FDCWD, path.buf, flags);
		e = errno;
		if (rc == 0 || (e != ENOENT && e != EEXIST))
			break;
		if (e == ENOENT && make_subdir(cas, hex, NULL))
			break;
		if (e == EEXIST && object_present(cas, hex, size))
			rc = FOUND_EQUAL;
		else if (e == EEXIST)
			unlink(path.buf);
	}
	strbuf_release(&path);
	errno = e;
	return rc;
}

/* link_as_object for an open file. */
static int link_fd_as_object(const struct cas *cas, int fd, const char *hex, uint64_t size)
{
	char proc[64];

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	return link_as_object(cas, proc, AT_SYMLINK_FOLLOW, hex, size);
}

/* Makes a complete, read-only temporary object visible as object hex; t is discarded. */
static int tmpobj_publish(const struct cas *cas, struct tmpobj *t, const char *hex, uint64_t size,
			  struct error *err)
{
	int rc = 0;

	/* a named file is closed first: close reports delayed write errors (NFS, quotas) */
	if (t->name.len && t->fd >= 0) {
		rc = close(t->fd);
		t->fd = -1;
		if (rc) {
			rc = error_errno(err, ERR_IO, errno, "cannot write '%s'", t->name.buf);
			tmpobj_discard(t);
			return rc;
		}
	}
	if ((t->name.len ? link_as_object(cas, t->name.buf, 0, hex, size)
			 : link_fd_as_object(cas, t->fd, hex, size)) < 0)
		rc = error_errno(err, ERR_IO, errno, "cannot store object sha256:%s in '%s'", hex,
				 cas->objects);
	tmpobj_discard(t);
	return rc;
}

/* One cas_add_file call: the workspace file and what is known about it so far. */
struct add_job {
	struct cas *cas;
	const char *path;
	int fd;
	struct stat st; /* when opened */
	struct abuf buf;
	int whole;     /* the whole file is in buf.p[0..st.st_size) and hashed */
	int hashed;    /* hex is the digest of the file as read */
	int exists;    /* the object is already in the cache: nothing to publish */
	int published; /* a hardlink made the workspace file the object */
	int chmodded;  /* the workspace file was made read-only for a hardlink */
	char hex[SHA256_HEX_SIZE];
	struct tmpobj t; /* the temporary object, once there is one */
};

static int add_io_error(struct add_job *job, int e, const char *what, struct error *err)
{
	return error_errno(err, ERR_IO, e, "cannot %s '%s' into the cache", what, job->path);
}

/* Reads a small file whole into buf and hashes it; job->whole stays 0 if it does not fit. */
static int read_small(struct add_job *job, struct error *err)
{
	size_t got = 0;

	for (;;) {
		ssize_t n = pread(job->fd, job->buf.p + got, job->buf.size - got, (off_t)got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return error_errno(err, ERR_IO, errno, "cannot read '%s'", job->path);
		if (n == 0)
			break;
		got += (size_t)n;
		if (got == job->buf.size)
			return 0; /* it grew: handled as a large file, and then as a change */
		if (got == (size_t)job->st.st_size)
			break; /* a regular file read short is at its end; a later growth shows in fstat */
	}
	if (got != (size_t)job->st.st_size)
		return error_set(err, ERR_CONFLICT, "'%s' changed while it was being added",
				 job->path);
	sha256_buffer(job->buf.p, got, job->hex);
	job->whole = job->hashed = 1;
	return 0;
}

static int hash_workspace_file(struct add_job *job, struct error *err)
{
	uint64_t n;

	if (job->hashed)
		return 0;
	if (hash_fd(job->fd, &job->buf, job->hex, &n))
		return error_errno(err, ERR_IO, errno, "cannot read '%s'", job->path);
	if (n != (uint64_t)job->st.st_size)
		return error_set(err, ERR_CONFLICT, "'%s' changed while it was being added",
				 job->path);
	job->hashed = 1;
	return 0;
}

/* The workspace file must not have changed while it was read, or the digest may not be its. */
static int check_unchanged(struct add_job *job, struct error *err)
{
	struct stat now;

	if (fstat(job->fd, &now))
		return error_errno(err, ERR_IO, errno, "cannot stat '%s'", job->path);
	if (now.st_size != job->st.st_size || now.st_mtim.tv_sec != job->st.st_mtim.tv_sec ||
	    now.st_mtim.tv_nsec != job->st.st_mtim.tv_nsec)
		return error_set(err, ERR_CONFLICT, "'%s' changed while it was being added",
				 job->path);
	return 0;
}

static int try_reflink(struct add_job *job, struct error *err)
{
	char expected[SHA256_HEX_SIZE];
	uint64_t n;
	int rc;

	if (job->t.fd < 0 &&
	    (rc = tmpobj_create(job->cas, job->whole ? job->hex : NULL, &job->t, err)))
		return rc;
	if (ioctl(job->t.fd, FICLONE, job->fd)) {
		if (link_unsupported(errno))
			return TRY_NEXT; /* the empty temporary file serves a copy */
		return add_io_error(job, errno, "clone", err);
	}
	/* the clone is a snapshot nobody else writes: its digest is exactly right */
	memcpy(expected, job->hex, SHA256_HEX_SIZE);
	if (hash_fd(job->t.fd, &job->buf, job->hex, &n))
		return error_errno(err, ERR_IO, errno, "cannot read the clone of '%s'", job->path);
	if ((job->hashed && strcmp(expected, job->hex)) || n != (uint64_t)job->st.st_size)
		return error_set(err, ERR_CONFLICT, "'%s' changed while it was being added",
				 job->path);
	job->hashed = 1;
	if (fchmod(job->t.fd, OBJECT_MODE))
		return add_io_error(job, errno, "clone", err);
	return 0;
}

/* Whether the object hex is the workspace file's own inode (another adder linked it). */
static int object_is_workspace_file(struct add_job *job)
{
	struct strbuf path = STRBUF_INIT;
	struct stat st;
	int same;

	object_path(&path, job->cas, job->hex);
	same =
	    stat(path.buf, &st) == 0 && st.st_ino == job->st.st_ino && st.st_dev == job->st.st_dev;
	strbuf_release(&path);
	return same;
}

/* Gives the workspace file its mode back after a hardlink that did not happen. */
static void restore_mode(struct add_job *job)
{
	if (job->chmodded && !object_is_workspace_file(job))
		fchmod(job->fd, job->st.st_mode & 07777);
	job->chmodded = 0;
}

/*
 * The fallback without /proc: link the workspace file by path into tmp/ and check the name
 * still leads to the inode that was hashed. Returns what link_as_object does next, or TRY_NEXT.
 */
static int hardlink_by_path(struct add_job *job, struct error *err)
{
	struct strbuf prefix = STRBUF_INIT;
	struct stat st;
	int rc;

	strbuf_addf(&prefix, "%s/link-", job->cas->tmp);
	rc = link_tmp(job->path, prefix.buf, &job->t.name);
	strbuf_release(&prefix);
	if (rc)
		return link_unsupported(errno) ? TRY_NEXT : add_io_error(job, errno, "link", err);
	if (lstat(job->t.name.buf, &st) || st.st_ino != job->st.st_ino ||
	    st.st_dev != job->st.st_dev)
		return error_set(err, ERR_CONFLICT, "'%s' was replaced while it was being added",
				 job->path);
	rc = link_as_object(job->cas, job->t.name.buf, 0, job->hex, (uint64_t)job->st.st_size);
	tmpobj_discard(&job->t);
	return rc < 0 ? add_io_error(job, errno, "link", err) : rc;
}

/*
 * Makes the workspace file itself the object: read-only first, then checked unchanged since it
 * was hashed, then linked in by its open descriptor, so exactly the inode that was hashed.
 */
static int try_hardlink(struct add_job *job, struct error *err)
{
	int rc;

	rc = hash_workspace_file(job, err);
	if (rc)
		return rc;
	if (object_present(job->cas, job->hex, (uint64_t)job->st.st_size)) {
		job->exists = 1;
		return 0;
	}
	tmpobj_discard(&job->t); /* an empty one from a reflink attempt */
	if ((job->st.st_mode & 07777) != OBJECT_MODE) {
		if (fchmod(job->fd, OBJECT_MODE))
			return errno == EPERM ? TRY_NEXT : add_io_error(job, errno, "link", err);
		job->chmodded = 1;
	}
	rc = check_unchanged(job, err);
	if (rc)
		return rc;
	pthread_once(&proc_fd_once, check_proc_fd);
	if (proc_fd_ok) {
		rc = link_fd_as_object(job->cas, job->fd, job->hex, (uint64_t)job->st.st_size);
		if (rc < 0)
			rc = link_unsupported(errno) ? TRY_NEXT
						     : add_io_error(job, errno, "link", err);
	} else {
		rc = hardlink_by_path(job, err);
	}
	if (rc == 0) {
		job->published = 1;
		return 0;
	}
	/* FOUND_EQUAL: another adder stored the content first; this file stays as it was */
	if (rc == FOUND_EQUAL || rc == TRY_NEXT)
		restore_mode(job);
	if (rc != FOUND_EQUAL)
		return rc;
	job->exists = 1;
	return 0;
}

/* Copies [0, size) of in to out, reporting progress to a hashing thread. */
struct copier {
	int in, out;
	uint64_t size;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	uint64_t copied; /* the fields from here on are guarded by lock */
	int done;
	int errnum; /* why the copy failed; 0 and short set: the source shrank */
	int short_read;
	int stop; /* the hasher gave up */
};

/*
 * Copies up to len bytes at off from in to out (same offset): the count, 0 at the end of in, or
 * -1 with errno. copy_file_range copies inside the kernel (and shares extents where the file
 * system can); where the pair of files refuses it, *use_cfr becomes 0 and bounce is used.
 */
static ssize_t copy_chunk(int in, int out, uint64_t off, size_t len, int *use_cfr,
			  struct abuf *bounce)
{
	ssize_t n;

	if (*use_cfr) {
		loff_t in_off = (loff_t)off, out_off = (loff_t)off;

		n = copy_file_range(in, &in_off, out, &out_off, len, 0);
		if (n >= 0 || off ||
		    !(errno == EXDEV || errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP ||
		      errno == EBADF))
			return n;
		*use_cfr = 0;
	}
	if (!bounce->p)
		abuf_alloc(bounce, CAS_BUF_SIZE);
	if (len > bounce->size)
		len = bounce->size;
	n = pread(in, bounce->p, len, (off_t)off);
	if (n > 0) {
		ssize_t w = pwrite(out, bounce->p, (size_t)n, (off_t)off);

		if (w < 0)
			return -1;
		n = w; /* a short write is retried from there */
	}
	return n;
}

static void *copier_run(void *arg)
{
	struct copier *c = arg;
	struct abuf bounce = { NULL, NULL, 0 };
	uint64_t pos = 0;
	int use_cfr = 1, errnum = 0, short_read = 0;

	while (pos < c->size) {
		size_t want =
		    c->size - pos < CAS_COPY_CHUNK ? (size_t)(c->size - pos) : CAS_COPY_CHUNK;
		ssize_t n = copy_chunk(c->in, c->out, pos, want, &use_cfr, &bounce);
		int stop;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			errnum = n < 0 ? errno : 0;
			short_read = n == 0;
			break;
		}
		pos += (uint64_t)n;
		pthread_mutex_lock(&c->lock);
		c->copied = pos;
		stop = c->stop;
		pthread_cond_signal(&c->cond);
		pthread_mutex_unlock(&c->lock);
		if (stop)
			break;
	}
	pthread_mutex_lock(&c->lock);
	c->done = 1;
	c->errnum = errnum;
	c->short_read = short_read;
	pthread_cond_signal(&c->cond);
	pthread_mutex_unlock(&c->lock);
	abuf_free(&bounce);
	return NULL;
}

/* Hashes the temporary copy as the copier fills it: -1 with errno if it cannot be read. */
static int hash_behind(struct copier *c, struct abuf *buf, struct sha256_ctx *ctx)
{
	uint64_t hashed = 0;

	for (;;) {
		uint64_t upto;
		int done;

		pthread_mutex_lock(&c->lock);
		while (c->copied == hashed && !c->done)
			pthread_cond_wait(&c->cond, &c->lock);
		upto = c->copied;
		done = c->done;
		pthread_mutex_unlock(&c->lock);
		while (hashed < upto) {
			size_t want =
			    upto - hashed < buf->size ? (size_t)(upto - hashed) : buf->size;
			ssize_t n = pread(c->out, buf->p, want, (off_t)hashed);

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				if (n == 0)
					errno = EIO;
				return -1;
			}
			sha256_update(ctx, buf->p, (size_t)n);
			hashed += (uint64_t)n;
		}
		if (done)
			return 0;
	}
}

/*
 * Copies the workspace file into the temporary object and hashes the copy (not the workspace
 * file, which may change meanwhile): the digest always names the bytes stored. Large files are
 * copied in a second thread while this one hashes, so the copy costs about one hash.
 */
static int copy_and_hash(struct add_job *job, struct error *err)
{
	struct copier c = { .in = job->fd, .out = job->t.fd, .size = (uint64_t)job->st.st_size };
	struct sha256_ctx ctx = SHA256_CTX_INIT;
	unsigned char digest[SHA256_DIGEST_SIZE];
	pthread_t thread;
	int threaded = 0, hash_rc = 0, hash_errno = 0, rc = 0;

	pthread_mutex_init(&c.lock, NULL);
	pthread_cond_init(&c.cond, NULL);
	sha256_init(&ctx);
	if (c.size >= CAS_PARALLEL_MIN)
		threaded = pthread_create(&thread, NULL, copier_run, &c) == 0;
	if (!threaded)
		copier_run(&c);
	hash_rc = hash_behind(&c, &job->buf, &ctx);
	hash_errno = errno;
	if (threaded) {
		pthread_mutex_lock(&c.lock);
		c.stop = 1;
		pthread_mutex_unlock(&c.lock);
		pthread_join(thread, NULL);
	}
	if (c.errnum)
		rc = add_io_error(job, c.errnum, "copy", err);
	else if (c.short_read)
		rc = error_set(err, ERR_CONFLICT, "'%s' changed while it was being added",
			       job->path);
	else if (hash_rc)
		rc =
		    error_errno(err, ERR_IO, hash_errno, "cannot read the copy of '%s'", job->path);
	if (rc)
		goto out;
	sha256_final(&ctx, digest);
	sha256_hex(digest, job->hex);
	job->hashed = 1;
out:
	sha256_release(&ctx);
	pthread_cond_destroy(&c.cond);
	pthread_mutex_destroy(&c.lock);
	return rc;
}

static int try_copy(struct add_job *job, struct error *err)
{
	int rc = 0;

	if (job->t.fd < 0 &&
	    (rc = tmpobj_create(job->cas, job->whole ? job->hex : NULL, &job->t, err)))
		return rc;
	if (job->whole) {
		if (fs_write_all(job->t.fd, job->buf.p, (size_t)job->st.st_size))
			return add_io_error(job, errno, "copy", err);
	} else {
		rc = copy_and_hash(job, err);
		if (rc)
			return rc;
	}
	if (fchmod(job->t.fd, OBJECT_MODE))
		return add_io_error(job, errno, "copy", err);
	return 0;
}

/* Tries the link kinds in order until one stores the content (or finds it stored). */
static int store_content(struct add_job *job, enum link_kind *used, struct error *err)
{
	int rc = TRY_NEXT;

	for (int i = 0; i < job->cas->norder && rc == TRY_NEXT; i++) {
		*used = job->cas->order[i];
		if (*used == LINK_REFLINK)
			rc = try_reflink(job, err);
		else if (*used == LINK_HARDLINK)
			rc = try_hardlink(job, err);
		else
			rc = try_copy(job, err);
	}
	if (rc == TRY_NEXT)
		rc = error_set(err, ERR_UNSUPPORTED,
			       "cannot add '%s' to the cache: none of its link kinds works here",
			       job->path);
	return rc;
}

static int open_workspace_file(struct add_job *job, struct error *err)
{
	job->fd = open(job->path, O_RDONLY | O_CLOEXEC);
	if (job->fd < 0)
		return error_errno(err, errno == ENOENT ? ERR_NOTFOUND : ERR_IO, errno,
				   "cannot open '%s'", job->path);
	if (fstat(job->fd, &job->st))
		return error_errno(err, ERR_IO, errno, "cannot stat '%s'", job->path);
	if (!S_ISREG(job->st.st_mode))
		return error_set(err, ERR_INVALID, "cannot add '%s': not a regular file",
				 job->path);
	if (job->st.st_size < CAS_BUF_SIZE) {
		/* room for one byte more than expected, to see a file that grew */
		abuf_alloc(&job->buf, ((size_t)job->st.st_size + 4096) & ~(size_t)4095);
		return read_small(job, err);
	}
	abuf_alloc(&job->buf, CAS_BUF_SIZE);
	posix_fadvise(job->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	return 0;
}

int cas_add_file(struct cas *cas, const char *path, char out_hex[SHA256_HEX_SIZE],
		 uint64_t *out_size, struct error *err)
{
	struct add_job job = { .cas = cas, .path = path, .fd = -1, .t = TMPOBJ_INIT };
	enum link_kind used = LINK_COPY;
	int rc;

	rc = open_workspace_file(&job, err);
	if (rc)
		goto out;
	if (job.whole && object_present(cas, job.hex, (uint64_t)job.st.st_size))
		goto out;
	rc = store_content(&job, &used, err);
	if (rc || job.exists || job.published)
		goto out;
	rc = check_unchanged(&job, err);
	if (!rc)
		rc = tmpobj_publish(cas, &job.t, job.hex, (uint64_t)job.st.st_size, err);
	if (!rc)
		log_trace("added '%s' as %s by %s", path, job.hex, link_kind_name(used));
out:
	if (!rc) {
		memcpy(out_hex, job.hex, SHA256_HEX_SIZE);
		*out_size = (uint64_t)job.st.st_size;
	} else if (job.chmodded) {
		restore_mode(&job);
	}
	tmpobj_discard(&job.t);
	abuf_free(&job.buf);
	if (job.fd >= 0)
		close(job.fd);
	return rc;
}

int cas_add_buffer(struct cas *cas, const void *data, size_t len, char out_hex[SHA256_HEX_SIZE],
		   struct error *err)
{
	struct tmpobj t = TMPOBJ_INIT;
	char hex[SHA256_HEX_SIZE];
	int rc = 0;

	sha256_buffer(data, len, hex);
	if (object_present(cas, hex, len))
		goto done;
	rc = tmpobj_create(cas, hex, &t, err);
	if (rc)
		goto out;
	if (fs_write_all(t.fd, data, len) || fchmod(t.fd, OBJECT_MODE)) {
		rc = error_errno(err, ERR_IO, errno, "cannot write object sha256:%s to the cache",
				 hex);
		goto out;
	}
	rc = tmpobj_publish(cas, &t, hex, len, err);
	if (rc)
		goto out;
done:
	memcpy(out_hex, hex, SHA256_HEX_SIZE);
out:
	tmpobj_discard(&t);
	return rc;
}

/* Opens an object for reading: ERR_NOTFOUND if it is missing. */
static int open_object(const struct cas *cas, const char *hex, struct error *err)
{
	struct strbuf path = STRBUF_INIT;
	int fd;

	if (!is_object_hex(hex))
		return bad_hex(err, hex);
	object_path(&path, cas, hex);
	fd = open(path.buf, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		fd = error_set(err, ERR_NOTFOUND, "cache object sha256:%s is missing", hex);
	else if (fd < 0)
		fd = error_errno(err, ERR_IO, errno, "cannot open '%s'", path.buf);
	strbuf_release(&path);
	return fd;
}

static int corrupted(struct error *err, const char *hex, const char *got)
{
	return error_set(err, ERR_INVALID,
			 "cache object sha256:%s is corrupted: its content hashes to sha256:%s",
			 hex, got);
}

int cas_read(struct cas *cas, const char *hex, struct strbuf *out, size_t max_size,
	     struct error *err)
{
	size_t old_len = out->len;
	struct sha256_ctx ctx = SHA256_CTX_INIT;
	unsigned char digest[SHA256_DIGEST_SIZE];
	char got[SHA256_HEX_SIZE];
	struct stat st;
	int fd, rc = 0;

	fd = open_object(cas, hex, err);
	if (fd < 0)
		return fd;
	sha256_init(&ctx);
	if (fstat(fd, &st) == 0 && (uintmax_t)st.st_size > max_size) {
		rc = error_set(err, ERR_TOOBIG, "cache object sha256:%s is larger than %zu bytes",
			       hex, max_size);
		goto out;
	}
	for (;;) {
		ssize_t n;

		strbuf_grow(out, 65536);
		n = read(fd, out->buf + out->len, 65536);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = error_errno(err, ERR_IO, errno, "cannot read cache object sha256:%s",
					 hex);
			goto out;
		}
		if (n == 0)
			break;
		sha256_update(&ctx, out->buf + out->len, (size_t)n);
		strbuf_setlen(out, out->len + (size_t)n);
		if (out->len - old_len > max_size) {
			rc = error_set(err, ERR_TOOBIG,
				       "cache object sha256:%s is larger than %zu bytes", hex,
				       max_size);
			goto out;
		}
	}
	sha256_final(&ctx, digest);
	sha256_hex(digest, got);
	if (strcmp(got, hex))
		rc = corrupted(err, hex, got);
out:
	if (rc)
		strbuf_setlen(out, old_len);
	sha256_release(&ctx);
	close(fd);
	return rc;
}

/* Copies the whole object (size bytes) from in to out: 0 or -1 with errno. */
static int copy_object(int in, int out, uint64_t size)
{
	struct abuf bounce = { NULL, NULL, 0 };
	uint64_t pos = 0;
	int use_cfr = 1, rc = 0;

	while (pos < size) {
		size_t want = size - pos < CAS_COPY_CHUNK ? (size_t)(size - pos) : CAS_COPY_CHUNK;
		ssize_t n = copy_chunk(in, out, pos, want, &use_cfr, &bounce);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO; /* the object is shorter than it was a moment ago */
			rc = -1;
			break;
		}
		pos += (uint64_t)n;
	}
	abuf_free(&bounce);
	return rc;
}

/* One checkout attempt by kind: 0 with the temporary file in tmp (and its fd), or TRY_NEXT. */
static int checkout_by(enum link_kind kind, int objfd, const char *objpath, uint64_t size,
		       const char *prefix, struct strbuf *tmp, int *fd, struct error *err)
{
	if (kind == LINK_HARDLINK) {
		if (link_tmp(objpath, prefix, tmp) == 0)
			return 0;
		return link_unsupported(errno)
			   ? TRY_NEXT
			   : error_errno(err, ERR_IO, errno, "cannot link '%s' into '%s'", objpath,
					 prefix);
	}
	strbuf_reset(tmp);
	strbuf_addf(tmp, "%sXXXXXX", prefix);
	*fd = mkostemp(tmp->buf, O_CLOEXEC);
	if (*fd < 0) {
		int e = errno;

		strbuf_reset(tmp);
		return error_errno(err, ERR_IO, e, "cannot create a temporary file '%sXXXXXX'",
				   prefix);
	}
	if (kind == LINK_REFLINK) {
		if (ioctl(*fd, FICLONE, objfd) == 0)
			return 0;
		if (link_unsupported(errno))
			return TRY_NEXT;
		return error_errno(err, ERR_IO, errno, "cannot clone '%s' to '%s'", objpath,
				   tmp->buf);
	}
	if (copy_object(objfd, *fd, size))
		return error_errno(err, ERR_IO, errno, "cannot copy '%s' to '%s'", objpath,
				   tmp->buf);
	return 0;
}

int cas_checkout(struct cas *cas, const char *hex, const char *dest, int executable,
		 enum link_kind *used, struct error *err)
{
	struct strbuf objpath = STRBUF_INIT, dir = STRBUF_INIT, prefix = STRBUF_INIT;
	struct strbuf tmp = STRBUF_INIT;
	enum link_kind kind = LINK_COPY;
	const char *slash = strrchr(dest, '/'), *base = slash ? slash + 1 : dest;
	struct stat st;
	int objfd, fd = -1, rc = TRY_NEXT;

	objfd = open_object(cas, hex, err);
	if (objfd < 0)
		return objfd;
	object_path(&objpath, cas, hex);
	if (!*base || !strcmp(base, ".") || !strcmp(base, "..")) {
		rc = error_set(err, ERR_INVALID, "cannot check out to '%s': not a file name", dest);
		goto out;
	}
	if (fstat(objfd, &st)) {
		rc = error_errno(err, ERR_IO, errno, "cannot stat '%s'", objpath.buf);
		goto out;
	}
	if (slash)
		strbuf_add(&dir, dest, slash == dest ? 1 : (size_t)(slash - dest));
	else
		strbuf_addstr(&dir, ".");
	if (slash && (rc = fs_mkdir_p(dir.buf, 0777, err)))
		goto out;
	strbuf_addf(&prefix, "%s%s.%s.ferry-tmp-", dir.buf, dir.buf[dir.len - 1] == '/' ? "" : "/",
		    base);
	rc = TRY_NEXT;
	for (int i = 0; i < cas->norder && rc == TRY_NEXT; i++) {
		if (fd >= 0)
			close(fd);
		fd = -1;
		if (tmp.len)
			unlink(tmp.buf);
		strbuf_reset(&tmp);
		kind = cas->order[i];
		rc = checkout_by(kind, objfd, objpath.buf, (uint64_t)st.st_size, prefix.buf, &tmp,
				 &fd, err);
	}
	if (rc == TRY_NEXT)
		rc = error_set(err, ERR_UNSUPPORTED,
			       "cannot check out '%s': none of the cache's link kinds works here",
			       dest);
	if (rc)
		goto out;
	if (fd >= 0 && fchmod(fd, executable ? 0755 : 0644)) {
		rc = error_errno(err, ERR_IO, errno, "cannot chmod '%s'", tmp.buf);
		goto out;
	}
	if (fd >= 0 && close(fd)) {
		fd = -1;
		rc = error_errno(err, ERR_IO, errno, "cannot write '%s'", tmp.buf);
		goto out;
	}
	fd = -1;
	if (rename(tmp.buf, dest)) {
		rc = error_errno(err, ERR_IO, errno, "cannot rename '%s' to '%s'", tmp.buf, dest);
		goto out;
	}
	/* dest may already be a link to the object: then rename(2) leaves tmp in place */
	if (kind == LINK_HARDLINK)
		unlink(tmp.buf);
	strbuf_reset(&tmp);
	if (used)
		*used = kind;
out:
	if (fd >= 0)
		close(fd);
	if (tmp.len)
		unlink(tmp.buf);
	close(objfd);
	strbuf_release(&tmp);
	strbuf_release(&prefix);
	strbuf_release(&dir);
	strbuf_release(&objpath);
	return rc;
}

int cas_verify(struct cas *cas, const char *hex, struct error *err)
{
	struct abuf buf = { NULL, NULL, 0 };
	char got[SHA256_HEX_SIZE];
	uint64_t n;
	int fd, rc = 0;

	fd = open_object(cas, hex, err);
	if (fd < 0)
		return fd;
	abuf_alloc(&buf, CAS_BUF_SIZE);
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	if (hash_fd(fd, &buf, got, &n))
		rc = error_errno(err, ERR_IO, errno, "cannot read cache object sha256:%s", hex);
	else if (strcmp(got, hex))
		rc = corrupted(err, hex, got);
	abuf_free(&buf);
	close(fd);
	return rc;
}

int cas_remove(struct cas *cas, const char *hex, struct error *err)
{
	struct strbuf path = STRBUF_INIT;
	int rc = 0;

	if (!is_object_hex(hex))
		return bad_hex(err, hex);
	object_path(&path, cas, hex);
	if (unlink(path.buf) && errno != ENOENT)
		rc = error_errno(err, ERR_IO, errno, "cannot remove '%s'", path.buf);
	strbuf_release(&path);
	return rc;
}

static int is_hex_name(const char *name, size_t len)
{
	return strnlen(name, len + 1) == len && all_hex(name, len);
}

/* Calls fn for the objects in one subdirectory, objects/sha256/<prefix>. */
/*
 * Lists the objects of one prefix directory. With need_size 0 (callers that only want names),
 * the directory entry's type is trusted and nothing is stat'ed: a listing of 20,000 objects
 * costs 256 directory reads instead of 20,000 more system calls. size is then 0.
 */
static int foreach_in(struct cas *cas, const char *prefix,
		      int (*fn)(const char *hex, uint64_t size, void *data), void *data,
		      int need_size, struct error *err)
{
	struct strbuf dir = STRBUF_INIT;
	struct dirent *de;
	DIR *d;
	int rc = 0;

	strbuf_addf(&dir, "%s/%s", cas->objects, prefix);
	d = opendir(dir.buf);
	if (!d) {
		if (errno != ENOENT)
			rc = error_errno(err, ERR_IO, errno, "cannot read directory '%s'", dir.buf);
		goto out;
	}
	while ((errno = 0, de = readdir(d))) {
		char hex[SHA256_HEX_SIZE];
		struct stat st;

		if (!is_hex_name(de->d_name, SHA256_HEX_SIZE - 3))
			continue;
		st.st_size = 0;
		if (!need_size && de->d_type == DT_REG)
			;
		else if (!need_size && de->d_type != DT_UNKNOWN)
			continue; /* a directory or link: not an object */
		else if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) ||
			 !S_ISREG(st.st_mode))
			continue; /* removed meanwhile, or not an object */
		memcpy(hex, prefix, 2);
		memcpy(hex + 2, de->d_name, SHA256_HEX_SIZE - 2);
		rc = fn(hex, (uint64_t)st.st_size, data);
		if (rc)
			goto out;
	}
	if (errno)
		rc = error_errno(err, ERR_IO, errno, "cannot read directory '%s'", dir.buf);
out:
	if (d)
		closedir(d);
	strbuf_release(&dir);
	return rc;
}

int cas_foreach(struct cas *cas, int (*fn)(const char *hex, uint64_t size, void *data), void *data,
		struct error *err)
{
	static const char digits[] = "0123456789abcdef";
	int rc = 0;

	for (int i = 0; i < 256 && !rc; i++) {
		char prefix[3] = { digits[i >> 4], digits[i & 15], '\0' };

		rc = foreach_in(cas, prefix, fn, data, 1, err);
	}
	return rc;
}

struct name_only {
	int (*fn)(const char *hex, void *data);
	void *data;
};

static int call_name_only(const char *hex, uint64_t size, void *data)
{
	const struct name_only *n = data;

	(void)size;
	return n->fn(hex, n->data);
}

int cas_foreach_name(struct cas *cas, int (*fn)(const char *hex, void *data), void *data,
		     struct error *err)
{
	static const char digits[] = "0123456789abcdef";
	struct name_only n = { fn, data };
	int rc = 0;

	for (int i = 0; i < 256 && !rc; i++) {
		char prefix[3] = { digits[i >> 4], digits[i & 15], '\0' };

		rc = foreach_in(cas, prefix, call_name_only, &n, 0, err);
	}
	return rc;
}

/* A digest sought by cas_count_missing, as four big-endian words: compared without pointers. */
struct wanted {
	uint64_t d[4];
	int found;
};

struct missing_job {
	struct cas *cas;
	struct wanted *w;
	size_t start[257]; /* w[start[b]..start[b + 1]) lie in directory b */
};

/*
 * Parses 64 hex digits into d; 0 if one is not a digit. Each word is built in a register: or-ing
 * into d[] digit by digit chains every step through memory and cost four times as much.
 */
static int parse_digest(uint64_t d[4], const char *hex)
{
	unsigned bad = 0;

	for (int w = 0; w < 4; w++) {
		uint64_t acc = 0;

		for (int i = 0; i < 16; i++) {
			unsigned v = hex_value[(unsigned char)hex[w * 16 + i]];

			bad |= v == 0;
			acc = acc << 4 | ((v - 1) & 15);
		}
		d[w] = acc;
	}
	return !bad;
}

static int cmp_wanted(const void *a, const void *b)
{
	const uint64_t *x = ((const struct wanted *)a)->d, *y = ((const struct wanted *)b)->d;

	for (int i = 0; i < 4; i++)
		if (x[i] != y[i])
			return x[i] < y[i] ? -1 : 1;
	return 0;
}

/* Marks the wanted digests that directory b holds; each directory is read by one thread. */
static int mark_present(size_t b, void *data, struct error *err)
{
	static const char digits[] = "0123456789abcdef";
	struct missing_job *job = data;
	struct wanted *w = job->w + job->start[b], *end = job->w + job->start[b + 1];
	char hex[SHA256_HEX_SIZE] = { digits[b >> 4], digits[b & 15] };
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;

	if (w == end)
		return 0;
	qsort(w, (size_t)(end - w), sizeof(*w), cmp_wanted);
	snprintf(path, sizeof(path), "%s/%.2s", job->cas->objects, hex);
	if (!(d = opendir(path)))
		return errno == ENOENT
			   ? 0
			   : error_errno(err, ERR_IO, errno, "cannot read directory '%s'", path);
	while ((errno = 0, de = readdir(d))) {
		struct wanted key, *hit;
		struct stat st;

		if (strnlen(de->d_name, SHA256_HEX_SIZE - 2) != SHA256_HEX_SIZE - 3)
			continue;
		memcpy(hex + 2, de->d_name, SHA256_HEX_SIZE - 3);
		if (!parse_digest(key.d, hex))
			continue;
		if (de->d_type != DT_REG &&
		    (de->d_type != DT_UNKNOWN ||
		     fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) ||
		     !S_ISREG(st.st_mode)))
			continue; /* a directory or link, or removed meanwhile: not an object */
		hit = bsearch(&key, w, (size_t)(end - w), sizeof(*w), cmp_wanted);
		if (!hit)
			continue;
		while (hit > w && !cmp_wanted(&hit[-1], &key))
			hit--;
		for (; hit < end && !cmp_wanted(hit, &key); hit++)
			hit->found = 1;
	}
	if (errno) {
		int e = errno;

		closedir(d);
		return error_errno(err, ERR_IO, e, "cannot read directory '%s'", path);
	}
	closedir(d);
	return 0;
}

int cas_count_missing(struct cas *cas, const char *const *hexes, size_t n, int jobs, uint64_t *out,
		      struct error *err)
{
	struct missing_job *job = xcalloc(1, sizeof(*job));
	struct wanted *parsed = xcalloc(n ? n : 1, sizeof(*parsed));
	size_t count[257] = { 0 }, k = 0;
	uint64_t missing = 0;
	int rc;

	for (size_t i = 0; i < n; i++) {
		if (strnlen(hexes[i], SHA256_HEX_SIZE) != SHA256_HEX_SIZE - 1 ||
		    !parse_digest(parsed[k].d, hexes[i])) {
			missing++; /* no object has that name */
			continue;
		}
		count[(parsed[k++].d[0] >> 56) + 1]++;
	}
	/* grouped by directory here, sorted within it by each directory's thread */
	for (size_t b = 1; b <= 256; b++)
		count[b] += count[b - 1];
	memcpy(job->start, count, sizeof(job->start));
	job->cas = cas;
	job->w = xcalloc(k ? k : 1, sizeof(*job->w));
	for (size_t i = 0; i < k; i++)
		job->w[count[parsed[i].d[0] >> 56]++] = parsed[i];
	free(parsed);
	rc = workpool_run(256, jobs, 1, mark_present, job, err);
	for (size_t i = 0; i < k; i++)
		missing += !job->w[i].found;
	if (!rc)
		*out = missing;
	free(job->w);
	free(job);
	return rc;
}

/* A writer receiving one object: bytes go to a temporary object and through the hash. */
struct cas_writer {
	struct cas *cas;
	char hex[SHA256_HEX_SIZE];
	struct tmpobj t;
	uint64_t size;
	int failed;
	struct sha256_ctx ctx;
};

int cas_writer_open(struct cas_writer **out, struct cas *cas, const char *expected_hex,
		    struct error *err)
{
	struct cas_writer *w;
	int rc;

	if (!is_object_hex(expected_hex))
		return bad_hex(err, expected_hex);
	w = xcalloc(1, sizeof(*w));
	w->cas = cas;
	memcpy(w->hex, expected_hex, SHA256_HEX_SIZE);
	w->t = (struct tmpobj)TMPOBJ_INIT;
	rc = tmpobj_create(cas, expected_hex, &w->t, err);
	if (rc) {
		free(w);
		return rc;
	}
	sha256_init(&w->ctx);
	*out = w;
	return 0;
}

int cas_writer_write(struct cas_writer *w, const void *data, size_t len, struct error *err)
{
	if (w->failed)
		return error_set(err, ERR_IO,
				 "cannot write object sha256:%s: an earlier write failed", w->hex);
	if (fs_write_all(w->t.fd, data, len)) {
		w->failed = 1;
		return error_errno(err, ERR_IO, errno,
				   "cannot write received object sha256:%s to the cache", w->hex);
	}
	sha256_update(&w->ctx, data, len);
	w->size += len;
	return 0;
}

int cas_writer_commit(struct cas_writer *w, struct error *err)
{
	unsigned char digest[SHA256_DIGEST_SIZE];
	char got[SHA256_HEX_SIZE];
	int rc = 0;

	if (w->failed) {
		rc = error_set(err, ERR_IO, "cannot commit object sha256:%s: a write failed",
			       w->hex);
		goto out;
	}
	sha256_final(&w->ctx, digest);
	sha256_hex(digest, got);
	if (strcmp(got, w->hex)) {
		rc =
		    error_set(err, ERR_INVALID,
			      "received object sha256:%s does not match its digest (got sha256:%s)",
			      w->hex, got);
		goto out;
	}
	if (fchmod(w->t.fd, OBJECT_MODE)) {
		rc = error_errno(err, ERR_IO, errno, "cannot write object sha256:%s", w->hex);
		goto out;
	}
	rc = tmpobj_publish(w->cas, &w->t, w->hex, w->size, err);
out:
	cas_writer_abort(w);
	return rc;
}

void cas_writer_abort(struct cas_writer *w)
{
	if (!w)
		return;
	tmpobj_discard(&w->t);
	sha256_release(&w->ctx);
	free(w);
}

int cas_sync(struct cas *cas, struct error *err)
{
	int fd, rc = 0;

	fd = open(cas->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return error_errno(err, ERR_IO, errno, "cannot open '%s'", cas->dir);
	if (syncfs(fd))
		rc =
		    error_errno(err, ERR_IO, errno, "cannot sync the cache '%s' to disk", cas->dir);
	close(fd);
	return rc;
}

int cas_clean_tmp(struct cas *cas, int max_age_s, struct error *err)
{
	time_t now = time(NULL);
	struct dirent *de;
	DIR *d;
	int rc = 0;

	d = opendir(cas->tmp);
	if (!d)
		return errno == ENOENT ? 0
				       : error_errno(err, ERR_IO, errno,
						     "cannot read directory '%s'", cas->tmp);
	while ((errno = 0, de = readdir(d))) {
		struct stat st;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		/* ctime, not mtime: a fresh hardlink keeps the workspace file's old mtime */
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) ||
		    S_ISDIR(st.st_mode) || now - st.st_ctime < max_age_s)
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0) && errno != ENOENT) {
			rc = error_errno(err, ERR_IO, errno, "cannot remove '%s/%s'", cas->tmp,
					 de->d_name);
			goto out;
		}
		log_debug("removed stale temporary file '%s/%s'", cas->tmp, de->d_name);
	}
	if (errno)
		rc = error_errno(err, ERR_IO, errno, "cannot read directory '%s'", cas->tmp);
out:
	closedir(d);
	return rc;
}
