/*
 * Unit tests for data/transfer: push and fetch move only what is missing, account for every
 * object, survive partial state and a SIGKILL mid-push; remote objects are checked with sha256sum.
 */
#include "util/common.h"
#include "helpers.h"
#include "data/cas.h"
#include "data/remote.h"
#include "data/transfer.h"
#include "util/fs.h"
#include "util/sha256.h"
#include "util/strbuf.h"

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

struct fixture {
	char *dir;
	char *remote_dir;
	struct cas *cas;
	struct remote *r;
	size_t n;
	char (*hex)[SHA256_HEX_SIZE];
	const char **hexes;
	struct strbuf *content;
	uint64_t total;
};

static const struct transfer_opts quiet = { .jobs = 0, .quiet = 1 };

/*
 * n objects in the cache: with size 0, of sizes from 0 to ~100 KiB (every 7th one larger than a
 * copy chunk); otherwise of size bytes, but every 100th of 128 times that.
 */
static void make_objects(struct fixture *f, size_t n, size_t size)
{
	struct error err = ERROR_INIT;

	f->n = n;
	f->hex = xcalloc(n, sizeof(*f->hex));
	f->hexes = xcalloc(n, sizeof(*f->hexes));
	f->content = xcalloc(n, sizeof(*f->content));
	f->total = 0;
	for (size_t i = 0; i < n; i++) {
		size_t want = size    ? (i % 100 == 99 ? 128 * size : size)
			      : i % 7 ? i * 13
				      : 100000 + i;

		strbuf_init(&f->content[i], want);
		while (f->content[i].len < want)
			strbuf_addf(&f->content[i], "object %zu ", i);
		strbuf_setlen(&f->content[i], want);
		if (cas_add_buffer(f->cas, f->content[i].buf, want, f->hex[i], &err))
			fail_msg("cas_add_buffer: %s", err.msg);
		f->hexes[i] = f->hex[i];
		f->total += want;
	}
}

/*
 * Watching a push's system calls, without LD_PRELOAD: ferry's library is linked statically into
 * this program, so the syncfs, rename and fsync defined here replace libc's for its calls. Each
 * does the real work with syscall(2) and, while a remote is watched, records what it saw:
 * - syncfs: the files in the remote's tmp/ before and after; a file the same in both (inode,
 *   size, mtime, ctime) had all its bytes written before the sync began, so they are durable;
 * - rename out of tmp/: whether the file is still exactly as such a sync left it, and whether
 *   its bytes hash to the name it is given;
 * - fsync: which objects/<xx> directories had their new names made durable.
 */
static int hexval(int c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : 0;
}

struct snap {
	char name[96];
	struct stat st;
};

static struct {
	pthread_mutex_t lock;
	char tmp[512];	    /* the watched remote's tmp/, as the transport names it; "" when off */
	char objects[512];  /* its objects/sha256, likewise */
	char resolved[512]; /* objects/sha256 with symbolic links resolved, as /proc names it */
	struct snap *durable;
	size_t ndurable;
	int fail_syncfs; /* errno the next syncfs fails with (0: none) */
	size_t syncfs_calls, renames;
	size_t unsynced;   /* renamed while its bytes were not covered by a completed syncfs */
	size_t unverified; /* renamed to a name that is not its bytes' digest */
	size_t file_fsyncs;
	bool dir_pending[256]; /* objects/<xx> gained a name not synced since */
} watch = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void snap_tmp(struct snap **out, size_t *nout)
{
	DIR *d = opendir(watch.tmp);
	struct dirent *de;
	size_t n = 0, alloc = 64;
	struct snap *snaps = xcalloc(alloc, sizeof(*snaps));

	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.' || strlen(de->d_name) >= sizeof(snaps->name))
			continue;
		if (n == alloc)
			snaps = xrealloc(snaps, (alloc *= 2) * sizeof(*snaps));
		snprintf(snaps[n].name, sizeof(snaps[n].name), "%s", de->d_name);
		if (!fstatat(dirfd(d), de->d_name, &snaps[n].st, 0))
			n++;
	}
	if (d)
		closedir(d);
	*out = snaps;
	*nout = n;
}

static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

static const struct snap *find_snap(const struct snap *snaps, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(snaps[i].name, name))
			return &snaps[i];
	return NULL;
}

int syncfs(int fd)
{
	struct snap *before = NULL, *after = NULL;
	size_t nbefore = 0, nafter = 0, n = 0;
	struct stat fst, tst;
	int rc;

	pthread_mutex_lock(&watch.lock);
	if (!watch.tmp[0] || fstat(fd, &fst) || stat(watch.tmp, &tst) || fst.st_dev != tst.st_dev) {
		pthread_mutex_unlock(&watch.lock);
		return (int)syscall(SYS_syncfs, fd);
	}
	watch.syncfs_calls++;
	if (watch.fail_syncfs) {
		errno = watch.fail_syncfs;
		watch.fail_syncfs = 0;
		pthread_mutex_unlock(&watch.lock);
		return -1;
	}
	snap_tmp(&before, &nbefore);
	rc = (int)syscall(SYS_syncfs, fd);
	snap_tmp(&after, &nafter);
	/* durable: unchanged from before the sync began until after it ended */
	for (size_t i = 0; i < nafter; i++) {
		const struct snap *b = find_snap(before, nbefore, after[i].name);

		if (!rc && b && same_file(&b->st, &after[i].st))
			after[n++] = after[i];
	}
	free(before);
	free(watch.durable);
	watch.durable = after;
	watch.ndurable = n;
	pthread_mutex_unlock(&watch.lock);
	return rc;
}

/* Renames from, in the watched tmp/, to to, and checks it (with watch.lock held). */
static int watched_rename(const char *from, const char *to)
{
	const char *name = from + strlen(watch.tmp) + 1;
	const struct snap *synced = find_snap(watch.durable, watch.ndurable, name);
	size_t olen = strlen(watch.objects);
	char hex[SHA256_HEX_SIZE];
	struct error err = ERROR_INIT;
	struct stat st;
	bool durable, verified;

	durable = !stat(from, &st) && synced && same_file(&synced->st, &st);
	/* to is objects/sha256/<2 hex>/<62 hex> */
	verified = !strncmp(to, watch.objects, olen) && strlen(to) == olen + 1 + 2 + 1 + 62 &&
		   !sha256_file(hex, from, &err) && !strncmp(hex, to + olen + 1, 2) &&
		   !strcmp(hex + 2, to + olen + 4);
	if (renameat(AT_FDCWD, from, AT_FDCWD, to))
		return -1; /* nothing was named */
	watch.renames++;
	watch.unsynced += !durable;
	watch.unverified += !verified;
	if (verified)
		watch.dir_pending[(hexval(hex[0]) << 4) | hexval(hex[1])] = true;
	return 0;
}

int rename(const char *from, const char *to)
{
	size_t tlen;
	int rc, saved;

	pthread_mutex_lock(&watch.lock);
	tlen = strlen(watch.tmp);
	if (tlen && !strncmp(from, watch.tmp, tlen) && from[tlen] == '/')
		rc = watched_rename(from, to);
	else
		rc = renameat(AT_FDCWD, from, AT_FDCWD, to);
	saved = errno;
	pthread_mutex_unlock(&watch.lock);
	errno = saved;
	return rc;
}

int fsync(int fd)
{
	char proc[64], path[600];
	size_t olen;
	ssize_t len;
	struct stat st;

	pthread_mutex_lock(&watch.lock);
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	olen = strlen(watch.resolved);
	len = olen ? readlink(proc, path, sizeof(path) - 1) : -1;
	if (len > 0 && !fstat(fd, &st)) {
		path[len] = '\0';
		if (S_ISREG(st.st_mode))
			watch.file_fsyncs++;
		else if ((size_t)len == olen + 3 && !strncmp(path, watch.resolved, olen) &&
			 path[olen] == '/')
			watch.dir_pending[(hexval(path[olen + 1]) << 4) | hexval(path[olen + 2])] =
			    false;
	}
	pthread_mutex_unlock(&watch.lock);
	return (int)syscall(SYS_fsync, fd);
}

static void watch_start(const char *remote_dir)
{
	char *real = realpath(remote_dir, NULL);

	assert_non_null(real);
	pthread_mutex_lock(&watch.lock);
	snprintf(watch.tmp, sizeof(watch.tmp), "%s/tmp", remote_dir);
	snprintf(watch.objects, sizeof(watch.objects), "%s/objects/sha256", remote_dir);
	snprintf(watch.resolved, sizeof(watch.resolved), "%s/objects/sha256", real);
	watch.fail_syncfs = 0;
	watch.syncfs_calls = watch.renames = watch.unsynced = watch.unverified = 0;
	watch.file_fsyncs = 0;
	memset(watch.dir_pending, 0, sizeof(watch.dir_pending));
	pthread_mutex_unlock(&watch.lock);
	free(real);
}

static void watch_stop(void)
{
	pthread_mutex_lock(&watch.lock);
	watch.tmp[0] = watch.objects[0] = watch.resolved[0] = '\0';
	free(watch.durable);
	watch.durable = NULL;
	watch.ndurable = 0;
	pthread_mutex_unlock(&watch.lock);
}

static size_t dirs_pending(void)
{
	size_t n = 0;

	for (int i = 0; i < 256; i++)
		n += watch.dir_pending[i];
	return n;
}

static struct fixture *fixture_new(size_t n, size_t size)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	struct error err = ERROR_INIT;
	char *cache = NULL;

	f->dir = test_tmpdir();
	cache = test_path(f->dir, "cache");
	f->remote_dir = test_path(f->dir, "remote");
	if (cas_open(&f->cas, cache, "copy", &err) ||
	    remote_open(&f->r, "origin", f->remote_dir, &err))
		fail_msg("setup: %s", err.msg);
	free(cache);
	make_objects(f, n, size);
	return f;
}

static void fixture_free(struct fixture *f)
{
	remote_close(f->r);
	cas_free(f->cas);
	for (size_t i = 0; i < f->n; i++)
		strbuf_release(&f->content[i]);
	free(f->content);
	free(f->hex);
	free(f->hexes);
	free(f->remote_dir);
	test_tmpdir_remove(f->dir);
	free(f);
}

static struct cas *second_cache(struct fixture *f, const char *name)
{
	struct error err = ERROR_INIT;
	char *dir = test_path(f->dir, name);
	struct cas *cas = NULL;

	if (cas_open(&cas, dir, "copy", &err))
		fail_msg("cas_open: %s", err.msg);
	free(dir);
	return cas;
}

/*
 * Runs sha256sum over every file under root/objects/sha256; returns how many there are and counts
 * in *bad those whose name is not their digest (a torn or wrong object). Asserts nothing, so it
 * can run while a child process is stopped.
 */
static size_t sha256sum_scan(const char *root, size_t *bad)
{
	struct strbuf cmd = STRBUF_INIT;
	char line[512];
	size_t n = 0;
	FILE *p;

	*bad = 0;
	strbuf_addf(&cmd,
		    "cd '%s' && if [ -d objects/sha256 ]; then cd objects/sha256 && "
		    "find . -type f -print0 | xargs -0 -r sha256sum; fi",
		    root);
	p = popen(cmd.buf, "r");
	while (p && fgets(line, sizeof(line), p)) {
		/* "<64 hex>  ./xx/<62 hex>\n" */
		if (strlen(line) != 64 + 2 + 2 + 2 + 1 + 62 + 1 || strncmp(line, line + 68, 2) ||
		    strncmp(line + 2, line + 71, 62)) {
			fprintf(stderr, "remote object does not match its name: %s", line);
			++*bad;
		}
		n++;
	}
	if (!p || pclose(p))
		++*bad;
	strbuf_release(&cmd);
	return n;
}

/* The number of objects under root, each checked with sha256sum. */
static size_t sha256sum_tree(const char *root)
{
	size_t bad, n = sha256sum_scan(root, &bad);

	assert_int_equal(bad, 0);
	return n;
}

static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (!d)
		return 0;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static int count_lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void expect_stats(const struct transfer_stats *s, uint64_t wanted, uint64_t present,
			 uint64_t transferred, uint64_t bytes, uint64_t failed, uint64_t missing)
{
	assert_int_equal(s->wanted, wanted);
	assert_int_equal(s->present, present);
	assert_int_equal(s->transferred, transferred);
	assert_int_equal(s->bytes, bytes);
	assert_int_equal(s->failed, failed);
	assert_int_equal(s->missing, missing);
}

static int push(struct fixture *f, const char *const *hexes, size_t n,
		const struct transfer_opts *opts, struct transfer_stats *s, struct strbuf *report)
{
	struct error err = ERROR_INIT;
	int rc = transfer_push(f->cas, f->r, hexes, n, opts, s, report, &err);

	if (rc)
		strbuf_addf(report, "error: %s\n", err.msg);
	return rc;
}

static void test_push_twice(void **state)
{
	struct fixture *f = fixture_new(60, 0);
	struct transfer_stats s;
	struct strbuf report = STRBUF_INIT;
	const char **twice = xcalloc(2 * f->n, sizeof(*twice));

	(void)state;
	/* every digest twice, in a shuffled order: wanted counts distinct objects */
	for (size_t i = 0; i < f->n; i++) {
		twice[i] = f->hexes[f->n - 1 - i];
		twice[f->n + i] = f->hexes[(i * 7) % f->n];
	}
	assert_int_equal(push(f, twice, 2 * f->n, &quiet, &s, &report), 0);
	assert_string_equal(report.buf, "");
	expect_stats(&s, f->n, 0, f->n, f->total, 0, 0);
	assert_int_equal(sha256sum_tree(f->remote_dir), f->n);

	assert_int_equal(push(f, f->hexes, f->n, &quiet, &s, &report), 0);
	expect_stats(&s, f->n, f->n, 0, 0, 0, 0);
	assert_string_equal(report.buf, "");

	/* nothing asked: nothing done */
	assert_int_equal(push(f, f->hexes, 0, &quiet, &s, &report), 0);
	expect_stats(&s, 0, 0, 0, 0, 0, 0);
	free(twice);
	strbuf_release(&report);
	fixture_free(f);
}

static void test_fetch_identical(void **state)
{
	struct fixture *f = fixture_new(40, 0);
	struct error err = ERROR_INIT;
	struct transfer_stats s;
	struct strbuf report = STRBUF_INIT, got = STRBUF_INIT;
	struct cas *cas2 = second_cache(f, "cache2");

	(void)state;
	assert_int_equal(push(f, f->hexes, f->n, &quiet, &s, &report), 0);
	assert_int_equal(transfer_fetch(cas2, f->r, f->hexes, f->n, &quiet, &s, &report, &err), 0);
	expect_stats(&s, f->n, 0, f->n, f->total, 0, 0);
	assert_string_equal(report.buf, "");
	for (size_t i = 0; i < f->n; i++) {
		char *path = cas_object_path(cas2, f->hex[i]);

		strbuf_reset(&got);
		assert_int_equal(fs_read_file(&got, path, SIZE_MAX, &err), 0);
		assert_int_equal(got.len, f->content[i].len);
		assert_memory_equal(got.buf, f->content[i].buf, got.len);
		free(path);
	}
	assert_int_equal(transfer_fetch(cas2, f->r, f->hexes, f->n, &quiet, &s, &report, &err), 0);
	expect_stats(&s, f->n, f->n, 0, 0, 0, 0);
	cas_free(cas2);
	strbuf_release(&report);
	strbuf_release(&got);
	fixture_free(f);
}

static void test_partial_state(void **state)
{
	struct fixture *f = fixture_new(50, 0);
	struct error err = ERROR_INIT;
	struct transfer_stats s;
	struct strbuf report = STRBUF_INIT, stale = STRBUF_INIT, old = STRBUF_INIT;
	struct cas *cas2 = second_cache(f, "cache2");
	uint64_t half_bytes = 0, rest_bytes = 0;
	size_t half = 20;
	struct timespec ago[2] = { { time(NULL) - 3700, 0 }, { time(NULL) - 3700, 0 } };

	(void)state;
	for (size_t i = 0; i < f->n; i++)
		*(i < half ? &half_bytes : &rest_bytes) += f->content[i].len;
	assert_int_equal(push(f, f->hexes, half, &quiet, &s, &report), 0);
	/* what a killed push leaves: a half-written temporary of an object still to send */
	strbuf_addf(&stale, "%s/tmp/%s.Ab12Cd", f->remote_dir, f->hex[half + 1]);
	test_write_file(stale.buf, "object 21 obj");
	/* and one left over an hour ago, which the push removes (a live push's would be younger) */
	strbuf_addf(&old, "%s/tmp/%s.Xy34Zw", f->remote_dir, f->hex[half + 2]);
	test_write_file(old.buf, "object 22 ob");
	assert_int_equal(utimensat(AT_FDCWD, old.buf, ago, 0), 0);
	assert_int_equal(push(f, f->hexes, f->n, &quiet, &s, &report), 0);
	expect_stats(&s, f->n, half, f->n - half, rest_bytes, 0, 0);
	assert_int_equal(sha256sum_tree(f->remote_dir), f->n);
	assert_true(fs_exists(stale.buf));
	assert_false(fs_exists(old.buf));

	/* the same from the other side: cache2 already holds the first half */
	assert_int_equal(transfer_fetch(cas2, f->r, f->hexes, half, &quiet, &s, &report, &err), 0);
	assert_int_equal(transfer_fetch(cas2, f->r, f->hexes, f->n, &quiet, &s, &report, &err), 0);
	expect_stats(&s, f->n, half, f->n - half, rest_bytes, 0, 0);
	for (size_t i = 0; i < f->n; i++)
		assert_int_equal(cas_verify(cas2, f->hex[i], &err), 0);
	assert_string_equal(report.buf, "");
	cas_free(cas2);
	strbuf_release(&report);
	strbuf_release(&stale);
	strbuf_release(&old);
	fixture_free(f);
}

static void test_missing_and_corrupted(void **state)
{
	struct fixture *f = fixture_new(10, 0);
	struct error err = ERROR_INIT;
	struct transfer_stats s;
	struct strbuf report = STRBUF_INIT, line = STRBUF_INIT;
	char absent[3][SHA256_HEX_SIZE];
	const char *hexes[13];
	struct cas *cas2 = second_cache(f, "cache2");
	char *bad;
	FILE *fp;
	int has = -1;

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		char text[32];

		snprintf(text, sizeof(text), "never added %zu", i);
		sha256_buffer(text, strlen(text), absent[i]);
		hexes[i] = absent[i];
	}
	for (size_t i = 0; i < f->n; i++)
		hexes[3 + i] = f->hexes[i];
	assert_int_equal(transfer_push(f->cas, f->r, hexes, 13, &quiet, &s, &report, &err),
			 ERR_NOTFOUND);
	expect_stats(&s, 13, 0, f->n, f->total, 0, 3);
	assert_non_null(strstr(err.msg, "'origin'"));
	assert_non_null(strstr(err.msg, "3 of 13"));
	for (size_t i = 0; i < 3; i++) {
		strbuf_reset(&line);
		strbuf_addf(&line, "sha256:%s: not in the local cache\n", absent[i]);
		assert_non_null(strstr(report.buf, line.buf));
	}
	assert_int_equal(count_lines(report.buf), 3);
	assert_int_equal(sha256sum_tree(f->remote_dir), f->n);

	/* fetch: the same three are not on the remote */
	strbuf_reset(&report);
	assert_int_equal(transfer_fetch(cas2, f->r, hexes, 13, &quiet, &s, &report, &err),
			 ERR_NOTFOUND);
	expect_stats(&s, 13, 0, f->n, f->total, 0, 3);
	for (size_t i = 0; i < 3; i++) {
		strbuf_reset(&line);
		strbuf_addf(&line, "sha256:%s: not on remote 'origin'\n", absent[i]);
		assert_non_null(strstr(report.buf, line.buf));
	}

	/* a corrupted cache object is reported and not sent; the others go */
	remote_close(f->r);
	f->r = NULL;
	free(f->remote_dir);
	f->remote_dir = test_path(f->dir, "remote2");
	assert_int_equal(remote_open(&f->r, "backup", f->remote_dir, &err), 0);
	bad = cas_object_path(f->cas, f->hex[4]);
	assert_int_equal(chmod(bad, 0644), 0);
	fp = fopen(bad, "r+b");
	assert_non_null(fp);
	assert_int_equal(fseek(fp, 3, SEEK_SET), 0);
	fputc('#', fp);
	assert_int_equal(fclose(fp), 0);
	strbuf_reset(&report);
	assert_int_equal(transfer_push(f->cas, f->r, f->hexes, f->n, &quiet, &s, &report, &err),
			 ERR_INVALID);
	expect_stats(&s, f->n, 0, f->n - 1, f->total - f->content[4].len, 1, 0);
	strbuf_reset(&line);
	strbuf_addf(&line, "sha256:%s: cache object sha256:%s is corrupted; not pushing it",
		    f->hex[4], f->hex[4]);
	assert_non_null(strstr(report.buf, line.buf));
	assert_int_equal(count_lines(report.buf), 1);
	assert_non_null(strstr(err.msg, "'backup'"));
	assert_int_equal(f->r->ops->has(f->r, f->hex[4], &has, &err), 0);
	assert_int_equal(has, 0);
	assert_int_equal(sha256sum_tree(f->remote_dir), f->n - 1);
	free(bad);
	cas_free(cas2);
	strbuf_release(&report);
	strbuf_release(&line);
	fixture_free(f);
}

static void test_bad_digest(void **state)
{
	struct fixture *f = fixture_new(2, 0);
	struct error err = ERROR_INIT;
	struct transfer_stats s;
	const char *hexes[] = { f->hexes[0], "not-a-digest", f->hexes[1] };
	char upper[SHA256_HEX_SIZE];

	memset(upper, 'A', 64);
	upper[64] = '\0';

	(void)state;
	assert_int_equal(transfer_push(f->cas, f->r, hexes, 3, &quiet, &s, NULL, &err),
			 ERR_INVALID);
	assert_non_null(strstr(err.msg, "'not-a-digest'"));
	expect_stats(&s, 0, 0, 0, 0, 0, 0);
	assert_int_equal(sha256sum_tree(f->remote_dir), 0);
	hexes[1] = upper;
	assert_int_equal(transfer_fetch(f->cas, f->r, hexes, 3, &quiet, &s, NULL, &err),
			 ERR_INVALID);
	fixture_free(f);
}

/* The remote's objects as one sorted string of names. */
static void listing(struct strbuf *out, const char *root)
{
	struct strbuf cmd = STRBUF_INIT;
	char line[256];
	FILE *p;

	strbuf_addf(&cmd, "cd '%s/objects/sha256' && find . -type f | sort", root);
	p = popen(cmd.buf, "r");
	assert_non_null(p);
	while (fgets(line, sizeof(line), p))
		strbuf_addstr(out, line);
	assert_int_equal(pclose(p), 0);
	strbuf_release(&cmd);
}

static void test_jobs_same_result(void **state)
{
	struct fixture *f = fixture_new(120, 0);
	struct error err = ERROR_INIT;
	struct transfer_stats s1, s8;
	struct transfer_opts one = { .jobs = 1, .quiet = 1 }, eight = { .jobs = 8, .quiet = 1 };
	struct strbuf report = STRBUF_INIT, l1 = STRBUF_INIT, l8 = STRBUF_INIT;
	struct remote *r8 = NULL;
	char *dir8 = test_path(f->dir, "remote8");

	(void)state;
	assert_int_equal(push(f, f->hexes, f->n, &one, &s1, &report), 0);
	assert_int_equal(remote_open(&r8, "eight", dir8, &err), 0);
	assert_int_equal(transfer_push(f->cas, r8, f->hexes, f->n, &eight, &s8, &report, &err), 0);
	assert_memory_equal(&s1, &s8, sizeof(s1));
	expect_stats(&s8, f->n, 0, f->n, f->total, 0, 0);
	listing(&l1, f->remote_dir);
	listing(&l8, dir8);
	assert_int_equal(l1.len, (size_t)f->n * (2 + 2 + 1 + 62 + 1));
	assert_string_equal(l1.buf, l8.buf);
	assert_int_equal(sha256sum_tree(dir8), f->n);
	remote_close(r8);
	free(dir8);
	strbuf_release(&report);
	strbuf_release(&l1);
	strbuf_release(&l8);
	fixture_free(f);
}

/* How many files objects/<xx>/ directories hold (0 if there are none yet). */
static int count_objects(const char *objects)
{
	DIR *d = opendir(objects);
	struct dirent *de;
	int n = 0;

	if (!d)
		return 0;
	while ((de = readdir(d))) {
		char *sub;

		if (de->d_name[0] == '.')
			continue;
		sub = test_path(objects, de->d_name);
		n += count_entries(sub);
		free(sub);
	}
	closedir(d);
	return n;
}

/*
 * The uploads in tmp (files <64 hex>.XXXXXX) whose object has no name under objects: all of them,
 * if publishing names only what has left tmp/. Returns their number.
 */
static int uploads_without_name(const char *tmp, const char *objects)
{
	DIR *d = opendir(tmp);
	struct strbuf path = STRBUF_INIT;
	struct dirent *de;
	int n = 0;

	while (d && (de = readdir(d))) {
		if (strlen(de->d_name) != 64 + 7 || de->d_name[64] != '.')
			continue;
		strbuf_reset(&path);
		strbuf_addf(&path, "%s/%.2s/%.62s", objects, de->d_name, de->d_name + 2);
		n += !fs_exists(path.buf);
	}
	if (d)
		closedir(d);
	strbuf_release(&path);
	return n;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/*
 * Interrupts a push at random points: the child is stopped repeatedly, and each time every
 * visible remote object must hold exactly its bytes (a writer that fills files in place would be
 * caught half-way); then it is killed, and re-running the push completes the job.
 */
static void test_killed_push_resumes(void **state)
{
	struct fixture *f = fixture_new(3000, 4096);
	struct transfer_stats s;
	struct strbuf report = STRBUF_INIT, path = STRBUF_INIT;
	char *objects = test_path(f->remote_dir, "objects/sha256");
	char *tmp = test_path(f->remote_dir, "tmp");
	size_t before = 0, bad = 0, bad_now, samples = 0;
	uint64_t left_bytes = 0;
	int status, waited = 0, stopped = 1, left;
	pid_t pid;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct error err = ERROR_INIT;

		_exit(transfer_push(f->cas, f->r, f->hexes, f->n, &quiet, NULL, NULL, &err) ? 1
											    : 0);
	}
	while (count_objects(objects) < 5 && waited++ < 20000)
		sleep_ms(1);
	/* no assertion may fire while the child lives: it would be left behind, stopped */
	for (;;) {
		kill(pid, SIGSTOP);
		if (waitpid(pid, &status, WUNTRACED) != pid || !WIFSTOPPED(status)) {
			stopped = 0; /* it finished before it could be interrupted */
			break;
		}
		before = sha256sum_scan(f->remote_dir, &bad_now);
		bad += bad_now;
		if (++samples >= 30 || before >= f->n / 2)
			break;
		kill(pid, SIGCONT);
		sleep_ms(2);
	}
	if (stopped) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
	}
	assert_true(stopped && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	assert_int_equal(bad, 0);

	/* the kill left only complete objects under their names */
	before = sha256sum_tree(f->remote_dir);
	assert_true(before < f->n);
	left = uploads_without_name(tmp, objects);
	assert_int_equal(left, count_entries(tmp));
	fprintf(stderr,
		"killed push: %zu samples, %zu of %zu objects published, %d uploads left unnamed\n",
		samples, before, f->n, left);
	for (size_t i = 0; i < f->n; i++) {
		strbuf_reset(&path);
		strbuf_addf(&path, "%s/%.2s/%s", objects, f->hex[i], f->hex[i] + 2);
		left_bytes += fs_exists(path.buf) ? 0 : f->content[i].len;
	}

	assert_int_equal(push(f, f->hexes, f->n, &quiet, &s, &report), 0);
	expect_stats(&s, f->n, before, f->n - before, left_bytes, 0, 0);
	assert_int_equal(sha256sum_tree(f->remote_dir), f->n);
	strbuf_release(&report);
	strbuf_release(&path);
	free(objects);
	free(tmp);
	fixture_free(f);
}

/* sha256 of data, and the path object hex would have under objects. */
static char *object_name(const char *objects, const char *data, char hex[SHA256_HEX_SIZE])
{
	struct strbuf path = STRBUF_INIT;

	sha256_buffer(data, strlen(data), hex);
	strbuf_addf(&path, "%s/%.2s/%s", objects, hex, hex + 2);
	return strbuf_detach(&path, NULL);
}

static void sync_dir_fs(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY);

	assert_true(fd >= 0);
	assert_int_equal(syncfs(fd), 0);
	close(fd);
}

/*
 * The order that makes a push crash-safe, seen in its system calls (see watch): every object
 * renamed into place had its bytes covered by a completed syncfs and hashes to its name, every
 * directory that gained names was fsynced before the push returned, no object was fsynced on its
 * own, and there is one sync per batch, not per object. Then the watch is shown to catch the
 * mistakes it looks for.
 */
static void test_publish_order(void **state)
{
	struct fixture *f = fixture_new(3000, 4096);
	struct transfer_stats s;
	struct strbuf report = STRBUF_INIT;
	char *tmp = test_path(f->remote_dir, "tmp");
	char *objects = test_path(f->remote_dir, "objects/sha256");
	char *a = test_path(tmp, "a"), *b = test_path(tmp, "b");
	char *dest_a, *dest_b, hex[SHA256_HEX_SIZE];

	(void)state;
	watch_start(f->remote_dir);
	assert_int_equal(push(f, f->hexes, f->n, &quiet, &s, &report), 0);
	expect_stats(&s, f->n, 0, f->n, f->total, 0, 0);
	fprintf(stderr, "push of %zu objects: %zu syncfs, %zu renames\n", f->n, watch.syncfs_calls,
		watch.renames);
	assert_int_equal(watch.renames, f->n);
	assert_int_equal(watch.unsynced, 0);
	assert_int_equal(watch.unverified, 0);
	assert_int_equal(dirs_pending(), 0);
	assert_int_equal(watch.file_fsyncs, 0);
	/* 3000 objects are more than one batch */
	assert_true(watch.syncfs_calls >= 2 && watch.syncfs_calls <= 2 + f->n / 100);
	assert_int_equal(count_entries(tmp), 0);
	assert_int_equal(sha256sum_tree(f->remote_dir), f->n);

	/* a file renamed with no sync since it was written, or changed after its sync */
	test_write_file(a, "never synced");
	dest_a = object_name(objects, "never synced", hex);
	assert_int_equal(rename(a, dest_a), 0);
	test_write_file(a, "changed after");
	sync_dir_fs(tmp);
	test_write_file(a, "changed after the sync");
	free(dest_a);
	dest_a = object_name(objects, "changed after the sync", hex);
	assert_int_equal(rename(a, dest_a), 0);
	assert_int_equal(watch.unsynced, 2);
	assert_int_equal(watch.unverified, 0);
	assert_true(dirs_pending() >= 1); /* and nothing synced the new names */
	/* a synced file given a name that is not its digest */
	test_write_file(b, "some bytes");
	sync_dir_fs(tmp);
	dest_b = object_name(objects, "other bytes", hex);
	assert_int_equal(rename(b, dest_b), 0);
	assert_int_equal(watch.unsynced, 2);
	assert_int_equal(watch.unverified, 1);
	watch_stop();

	free(dest_a);
	free(dest_b);
	free(a);
	free(b);
	free(tmp);
	free(objects);
	strbuf_release(&report);
	fixture_free(f);
}

/* A failed sync publishes nothing, leaves no upload behind, and the next push sends everything. */
static void test_sync_failure(void **state)
{
	struct fixture *f = fixture_new(20, 0);
	struct error err = ERROR_INIT;
	struct transfer_stats s;
	struct strbuf report = STRBUF_INIT;
	char *tmp = test_path(f->remote_dir, "tmp");
	const char *p;
	int lines = 0;

	(void)state;
	watch_start(f->remote_dir);
	watch.fail_syncfs = EIO;
	assert_int_equal(transfer_push(f->cas, f->r, f->hexes, f->n, &quiet, &s, &report, &err),
			 ERR_IO);
	expect_stats(&s, f->n, 0, 0, 0, f->n, 0);
	assert_non_null(strstr(err.msg, "20 of 20 objects not moved"));
	assert_non_null(strstr(err.msg, "remote 'origin': cannot sync"));
	for (p = report.buf; (p = strstr(p, ": remote 'origin': cannot sync")); p++)
		lines++;
	assert_int_equal(lines, f->n);
	assert_int_equal(count_lines(report.buf), f->n);
	assert_int_equal(watch.renames, 0);
	assert_int_equal(sha256sum_tree(f->remote_dir), 0);
	assert_int_equal(count_entries(tmp), 0);

	strbuf_reset(&report);
	assert_int_equal(push(f, f->hexes, f->n, &quiet, &s, &report), 0);
	expect_stats(&s, f->n, 0, f->n, f->total, 0, 0);
	assert_int_equal(watch.unsynced, 0);
	assert_int_equal(sha256sum_tree(f->remote_dir), f->n);
	watch_stop();
	free(tmp);
	strbuf_release(&report);
	fixture_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_push_twice),
		cmocka_unit_test(test_fetch_identical),
		cmocka_unit_test(test_partial_state),
		cmocka_unit_test(test_missing_and_corrupted),
		cmocka_unit_test(test_bad_digest),
		cmocka_unit_test(test_jobs_same_result),
		cmocka_unit_test(test_killed_push_resumes),
		cmocka_unit_test(test_publish_order),
		cmocka_unit_test(test_sync_failure),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
