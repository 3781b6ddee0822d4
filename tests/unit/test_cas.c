/*
 * Unit tests for data/cas: object names checked against the sha256sum program, the on-disk
 * layout, link kinds, corruption, received objects, full disks and concurrent adders.
 */
#include "util/common.h"
#include "helpers.h"
#include "data/cas.h"
#include "util/strbuf.h"

#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>

struct fixture {
	char *dir;   /* the test's temporary directory */
	char *cache; /* dir/cache */
	char *mnt;   /* a file system the test mounted, if any */
	char *other; /* a directory on another file system, if any */
};

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));

	f->dir = test_tmpdir();
	f->cache = test_path(f->dir, "cache");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	if (f->mnt)
		umount2(f->mnt, MNT_DETACH);
	free(f->mnt);
	test_tmpdir_remove(f->other);
	free(f->cache);
	test_tmpdir_remove(f->dir);
	free(f);
	return 0;
}

static struct cas *open_cache(const char *dir, const char *order)
{
	struct error err = ERROR_INIT;
	struct cas *cas = NULL;

	if (cas_open(&cas, dir, order, &err))
		fail_msg("cas_open: %s", err.msg);
	return cas;
}

/* The reference digest: the sha256sum program run on path. */
static void sha256sum(const char *path, char out[SHA256_HEX_SIZE])
{
	char cmd[4200], line[200];
	FILE *fp;

	snprintf(cmd, sizeof(cmd), "sha256sum -b -- '%s'", path);
	fp = popen(cmd, "r");
	assert_non_null(fp);
	assert_non_null(fgets(line, sizeof(line), fp));
	assert_int_equal(pclose(fp), 0);
	assert_true(strlen(line) > 64 && line[64] == ' ');
	memcpy(out, line, 64);
	out[64] = '\0';
}

/* Writes len pseudo-random bytes (a simple LCG, seeded) to path. */
static void write_pattern(const char *path, size_t len, unsigned seed)
{
	static unsigned char block[65536];
	FILE *fp = fopen(path, "wb");
	uint32_t x = seed * 2654435761u + 1;

	assert_non_null(fp);
	while (len > 0) {
		size_t n = len < sizeof(block) ? len : sizeof(block);

		for (size_t i = 0; i < n; i++) {
			x = x * 1103515245u + 12345u;
			block[i] = (unsigned char)(x >> 16);
		}
		assert_int_equal(fwrite(block, 1, n, fp), n);
		len -= n;
	}
	assert_int_equal(fclose(fp), 0);
}

static void write_bytes(const char *path, const void *data, size_t len)
{
	FILE *fp = fopen(path, "wb");

	assert_non_null(fp);
	assert_int_equal(fwrite(data, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
}

/* 1 if the two files hold the same bytes. */
static int same_content(const char *a, const char *b)
{
	char cmd[8400];

	snprintf(cmd, sizeof(cmd), "cmp -s -- '%s' '%s'", a, b);
	return system(cmd) == 0;
}

/* The object's path, built here from the documented layout rather than by cas_object_path. */
static char *layout_path(const char *cache, const char *hex)
{
	char buf[4200];

	snprintf(buf, sizeof(buf), "%s/objects/sha256/%.2s/%s", cache, hex, hex + 2);
	return xstrdup(buf);
}

/* Counts files under dir (recursively) that are not objects: temporaries left behind. */
static int count_strays(const char *dir, int depth, const char *rel)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (!d)
		return 0;
	while ((de = readdir(d))) {
		char path[4200], sub[4200];
		struct stat st;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		snprintf(sub, sizeof(sub), "%s%s%s", rel, *rel ? "/" : "", de->d_name);
		assert_int_equal(lstat(path, &st), 0);
		if (S_ISDIR(st.st_mode)) {
			n += count_strays(path, depth + 1, sub);
		} else if (!(depth == 3 && strncmp(sub, "objects/sha256/", 15) == 0 &&
			     strlen(de->d_name) == 62 &&
			     strspn(de->d_name, "0123456789abcdef") == 62)) {
			print_message("stray file in the cache: %s\n", sub);
			n++;
		}
	}
	closedir(d);
	return n;
}

static int strays(const char *cache)
{
	return count_strays(cache, 0, "");
}

static void add_ok(struct cas *cas, const char *path, char hex[SHA256_HEX_SIZE], uint64_t *size)
{
	struct error err = ERROR_INIT;

	if (cas_add_file(cas, path, hex, size, &err))
		fail_msg("cas_add_file '%s': %s", path, err.msg);
}

static void test_link_order(void **state)
{
	enum link_kind k[LINK_MAX_ORDER];
	struct error err = ERROR_INIT;
	int n = 0;

	(void)state;
	assert_int_equal(cas_parse_link_order(k, &n, "reflink,hardlink,copy", &err), 0);
	assert_int_equal(n, 3);
	assert_int_equal(k[0], LINK_REFLINK);
	assert_int_equal(k[1], LINK_HARDLINK);
	assert_int_equal(k[2], LINK_COPY);
	assert_int_equal(cas_parse_link_order(k, &n, "copy", &err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(k[0], LINK_COPY);
	n = 42;
	assert_int_equal(cas_parse_link_order(k, &n, "reflink,symlink", &err), ERR_INVALID);
	assert_non_null(strstr(err.msg, "'symlink'"));
	assert_int_equal(n, 42);
	assert_int_equal(cas_parse_link_order(k, &n, "copy,copy", &err), ERR_INVALID);
	assert_non_null(strstr(err.msg, "twice"));
	assert_int_equal(cas_parse_link_order(k, &n, "", &err), ERR_INVALID);
	assert_int_equal(cas_parse_link_order(k, &n, "copy,", &err), ERR_INVALID);
	assert_int_equal(cas_parse_link_order(k, &n, "Copy", &err), ERR_INVALID);
	assert_string_equal(link_kind_name(LINK_HARDLINK), "hardlink");
}

/* Object names are sha256sum's, the path is objects/sha256/<2>/<62>, the mode 0444. */
static void test_names_and_layout(void **state)
{
	struct fixture *f = *state;
	/* empty, tiny, one byte under the buffer, several buffers, past the threaded-copy size */
	static const size_t sizes[] = { 0, 6, 1024 * 1024 - 1, 3 * 1024 * 1024 + 17,
					20 * 1024 * 1024 + 5 };
	struct cas *cas = open_cache(f->cache, "copy");

	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		char name[64], hex[SHA256_HEX_SIZE], ref[SHA256_HEX_SIZE];
		char *path, *obj, *api;
		uint64_t size = 0;
		struct stat st;

		snprintf(name, sizeof(name), "file%zu.bin", i);
		path = test_path(f->dir, name);
		write_pattern(path, sizes[i], (unsigned)i);
		add_ok(cas, path, hex, &size);
		sha256sum(path, ref);
		assert_string_equal(hex, ref);
		assert_int_equal(size, sizes[i]);
		obj = layout_path(f->cache, ref);
		api = cas_object_path(cas, hex);
		assert_string_equal(api, obj);
		assert_int_equal(stat(obj, &st), 0);
		assert_true(S_ISREG(st.st_mode));
		assert_int_equal(st.st_mode & 07777, 0444);
		assert_int_equal(st.st_size, sizes[i]);
		assert_true(same_content(path, obj));
		assert_true(cas_has(cas, hex));
		/* adding again finds it and returns the same digest */
		add_ok(cas, path, hex, &size);
		assert_string_equal(hex, ref);
		free(api);
		free(obj);
		free(path);
	}
	assert_int_equal(strays(f->cache), 0);
	cas_free(cas);
}

/* With a copy, later edits of the workspace file never reach the cache. */
static void test_copy_is_independent(void **state)
{
	struct fixture *f = *state;
	struct cas *cas = open_cache(f->cache, "reflink,copy");
	char *path = test_path(f->dir, "data.csv");
	char hex[SHA256_HEX_SIZE], ref[SHA256_HEX_SIZE];
	struct error err = ERROR_INIT;
	uint64_t size;
	struct stat ws, obj;
	char *objpath;
	FILE *fp;

	test_write_file(path, "a,b\n1,2\n");
	sha256sum(path, ref);
	add_ok(cas, path, hex, &size);
	assert_string_equal(hex, ref);
	objpath = layout_path(f->cache, hex);
	assert_int_equal(stat(path, &ws), 0);
	assert_int_equal(stat(objpath, &obj), 0);
	assert_true(ws.st_ino != obj.st_ino);
	assert_true(ws.st_mode & 0200); /* still writable */
	fp = fopen(path, "ab");
	assert_non_null(fp);
	assert_true(fputs("3,4\n", fp) >= 0);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(cas_verify(cas, hex, &err), 0);
	sha256sum(objpath, ref);
	assert_string_equal(ref, hex);
	free(objpath);
	free(path);
	cas_free(cas);
}

/* With a hardlink the workspace file is the object's inode and read-only. */
static void test_hardlink(void **state)
{
	struct fixture *f = *state;
	struct cas *cas = open_cache(f->cache, "hardlink,copy");
	char *path = test_path(f->dir, "model.bin");
	char hex[SHA256_HEX_SIZE], ref[SHA256_HEX_SIZE];
	uint64_t size;
	struct stat ws, obj;
	char *objpath;

	write_pattern(path, 200000, 7);
	assert_int_equal(chmod(path, 0644), 0);
	sha256sum(path, ref);
	add_ok(cas, path, hex, &size);
	assert_string_equal(hex, ref);
	objpath = layout_path(f->cache, hex);
	assert_int_equal(stat(path, &ws), 0);
	assert_int_equal(stat(objpath, &obj), 0);
	assert_int_equal(ws.st_ino, obj.st_ino);
	assert_int_equal(ws.st_dev, obj.st_dev);
	assert_int_equal(ws.st_mode & 0222, 0);
	assert_int_equal(obj.st_mode & 07777, 0444);
	assert_int_equal(obj.st_nlink, 2);
	/* a second file with the same content finds the object and is left alone */
	{
		char *twin = test_path(f->dir, "twin.bin");
		struct stat st;

		write_pattern(twin, 200000, 7);
		assert_int_equal(chmod(twin, 0644), 0);
		add_ok(cas, twin, hex, &size);
		assert_string_equal(hex, ref);
		assert_int_equal(stat(twin, &st), 0);
		assert_int_equal(st.st_mode & 07777, 0644);
		free(twin);
	}
	assert_int_equal(strays(f->cache), 0);
	free(objpath);
	free(path);
	cas_free(cas);
}

/* A workspace on another file system cannot be hardlinked: the copy takes over. */
static void test_hardlink_cross_device(void **state)
{
	struct fixture *f = *state;
	char other[] = "/dev/shm/ferry-cas-XXXXXX";
	char hex[SHA256_HEX_SIZE], ref[SHA256_HEX_SIZE];
	struct stat a, b, ws;
	struct cas *cas;
	char *path;
	uint64_t size;

	if (!mkdtemp(other)) {
		print_message("no /dev/shm here: cross-device test skipped\n");
		skip();
	}
	f->other = xstrdup(other);
	if (stat(other, &a) || stat(f->dir, &b) || a.st_dev == b.st_dev) {
		print_message("/dev/shm is on the test directory's file system: test skipped\n");
		skip();
	}
	cas = open_cache(f->cache, "hardlink,copy");
	path = test_path(other, "x.bin");
	write_pattern(path, 5000, 3);
	assert_int_equal(chmod(path, 0644), 0);
	sha256sum(path, ref);
	add_ok(cas, path, hex, &size);
	assert_string_equal(hex, ref);
	assert_int_equal(stat(path, &ws), 0);
	assert_int_equal(ws.st_mode & 07777, 0644); /* left as it was */
	assert_int_equal(strays(f->cache), 0);
	free(path);
	cas_free(cas);
}

/* Reflink where the file system has it; elsewhere a clear "not supported" and nothing left. */
static void test_reflink_only(void **state)
{
	struct fixture *f = *state;
	struct cas *cas = open_cache(f->cache, "reflink");
	char *path = test_path(f->dir, "r.bin");
	char hex[SHA256_HEX_SIZE], ref[SHA256_HEX_SIZE];
	struct error err = ERROR_INIT;
	uint64_t size;
	int rc;

	write_pattern(path, 70000, 9);
	sha256sum(path, ref);
	rc = cas_add_file(cas, path, hex, &size, &err);
	if (rc == 0) {
		char *obj = layout_path(f->cache, ref);

		assert_string_equal(hex, ref);
		assert_true(same_content(path, obj));
		free(obj);
	} else {
		assert_int_equal(rc, ERR_UNSUPPORTED);
		assert_non_null(strstr(err.msg, path));
		assert_false(cas_has(cas, ref));
	}
	assert_int_equal(strays(f->cache), 0);
	free(path);
	cas_free(cas);
}

static void flip_byte(const char *path, long at)
{
	FILE *fp;
	int c;

	assert_int_equal(chmod(path, 0644), 0);
	fp = fopen(path, "r+b");
	assert_non_null(fp);
	assert_int_equal(fseek(fp, at, SEEK_SET), 0);
	c = fgetc(fp);
	assert_int_not_equal(c, EOF);
	assert_int_equal(fseek(fp, at, SEEK_SET), 0);
	assert_int_not_equal(fputc(c ^ 0x20, fp), EOF);
	assert_int_equal(fclose(fp), 0);
}

static void test_verify_detects_corruption(void **state)
{
	struct fixture *f = *state;
	struct cas *cas = open_cache(f->cache, "copy");
	char *path = test_path(f->dir, "c.txt");
	char hex[SHA256_HEX_SIZE], other[SHA256_HEX_SIZE], expect[300];
	struct strbuf sb = STRBUF_INIT;
	struct error err = ERROR_INIT;
	uint64_t size;
	char *obj;

	test_write_file(path, "the quick brown fox\n");
	add_ok(cas, path, hex, &size);
	assert_int_equal(cas_verify(cas, hex, &err), 0);
	assert_int_equal(cas_read(cas, hex, &sb, 1024, &err), 0);
	assert_string_equal(sb.buf, "the quick brown fox\n");
	obj = layout_path(f->cache, hex);
	flip_byte(obj, 4);
	sha256sum(obj, other);
	snprintf(expect, sizeof(expect),
		 "cache object sha256:%s is corrupted: its content hashes to sha256:%s", hex,
		 other);
	assert_int_equal(cas_verify(cas, hex, &err), ERR_INVALID);
	assert_string_equal(err.msg, expect);
	strbuf_reset(&sb);
	strbuf_addstr(&sb, "keep");
	error_clear(&err);
	assert_int_equal(cas_read(cas, hex, &sb, 1024, &err), ERR_INVALID);
	assert_string_equal(err.msg, expect);
	assert_string_equal(sb.buf, "keep"); /* out is as it was */
	strbuf_release(&sb);
	free(obj);
	free(path);
	cas_free(cas);
}

static void test_missing_and_bad_names(void **state)
{
	struct fixture *f = *state;
	struct cas *cas = open_cache(f->cache, "copy");
	const char *hex = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	struct strbuf sb = STRBUF_INIT;
	struct error err = ERROR_INIT;
	char *dest = test_path(f->dir, "out/x");
	char *dir = test_path(f->dir, "adir");
	char *missing = test_path(f->dir, "nope");
	char got[SHA256_HEX_SIZE];
	uint64_t size;

	assert_false(cas_has(cas, hex));
	assert_int_equal(cas_verify(cas, hex, &err), ERR_NOTFOUND);
	assert_non_null(strstr(err.msg, hex));
	assert_int_equal(cas_read(cas, hex, &sb, 100, &err), ERR_NOTFOUND);
	assert_int_equal(cas_checkout(cas, hex, dest, 0, NULL, &err), ERR_NOTFOUND);
	assert_int_equal(access(dest, F_OK), -1);
	assert_int_equal(cas_remove(cas, hex, &err), 0);
	/* names that are not 64 lowercase hex digits never become paths */
	assert_false(cas_has(cas, "../../etc/passwd"));
	assert_int_equal(
	    cas_verify(cas, "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",
		       &err),
	    ERR_INVALID);
	assert_int_equal(cas_remove(cas, "ab/../../x", &err), ERR_INVALID);
	/* what cannot be added */
	assert_int_equal(mkdir(dir, 0755), 0);
	assert_int_equal(cas_add_file(cas, dir, got, &size, &err), ERR_INVALID);
	assert_non_null(strstr(err.msg, dir));
	assert_int_equal(cas_add_file(cas, missing, got, &size, &err), ERR_NOTFOUND);
	assert_non_null(strstr(err.msg, missing));
	free(missing);
	free(dir);
	free(dest);
	strbuf_release(&sb);
	cas_free(cas);
}

static void test_writer(void **state)
{
	struct fixture *f = *state;
	struct cas *cas = open_cache(f->cache, "copy");
	char *ref_file = test_path(f->dir, "ref.bin");
	char hex[SHA256_HEX_SIZE], expect[300];
	struct error err = ERROR_INIT;
	struct cas_writer *w = NULL;
	static const char data[] = "received bytes, in three pieces\n";
	char *obj;
	struct stat st;

	write_bytes(ref_file, data, sizeof(data) - 1);
	sha256sum(ref_file, hex);
	/* right bytes: committed, read-only, identical */
	assert_int_equal(cas_writer_open(&w, cas, hex, &err), 0);
	assert_int_equal(cas_writer_write(w, data, 5, &err), 0);
	assert_int_equal(cas_writer_write(w, data + 5, 0, &err), 0);
	assert_int_equal(cas_writer_write(w, data + 5, sizeof(data) - 1 - 5, &err), 0);
	assert_int_equal(cas_writer_commit(w, &err), 0);
	obj = layout_path(f->cache, hex);
	assert_int_equal(stat(obj, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0444);
	assert_true(same_content(ref_file, obj));
	assert_int_equal(unlink(obj), 0);
	/* wrong bytes: refused, nothing kept */
	assert_int_equal(cas_writer_open(&w, cas, hex, &err), 0);
	assert_int_equal(cas_writer_write(w, "received bytes, in three pieces!", 32, &err), 0);
	assert_int_equal(cas_writer_commit(w, &err), ERR_INVALID);
	{
		char other[SHA256_HEX_SIZE];

		write_bytes(ref_file, "received bytes, in three pieces!", 32);
		sha256sum(ref_file, other);
		snprintf(expect, sizeof(expect),
			 "received object sha256:%s does not match its digest (got sha256:%s)", hex,
			 other);
	}
	assert_string_equal(err.msg, expect);
	assert_int_equal(access(obj, F_OK), -1);
	assert_false(cas_has(cas, hex));
	assert_int_equal(strays(f->cache), 0);
	/* abort discards */
	assert_int_equal(cas_writer_open(&w, cas, hex, &err), 0);
	assert_int_equal(cas_writer_write(w, data, 3, &err), 0);
	cas_writer_abort(w);
	cas_writer_abort(NULL);
	assert_int_equal(strays(f->cache), 0);
	assert_int_equal(cas_writer_open(&w, cas, "nothex", &err), ERR_INVALID);
	free(obj);
	free(ref_file);
	cas_free(cas);
}

static void test_add_buffer_and_read(void **state)
{
	struct fixture *f = *state;
	struct cas *cas = open_cache(f->cache, "copy");
	char *file = test_path(f->dir, "m");
	char hex[SHA256_HEX_SIZE], ref[SHA256_HEX_SIZE];
	static const char text[] = "ferry-manifest 1\n";
	struct strbuf sb = STRBUF_INIT;
	struct error err = ERROR_INIT;

	write_bytes(file, text, sizeof(text) - 1);
	sha256sum(file, ref);
	assert_int_equal(cas_add_buffer(cas, text, sizeof(text) - 1, hex, &err), 0);
	assert_string_equal(hex, ref);
	assert_int_equal(cas_add_buffer(cas, text, sizeof(text) - 1, hex, &err), 0);
	strbuf_addstr(&sb, ">");
	assert_int_equal(cas_read(cas, hex, &sb, sizeof(text) - 1, &err), 0);
	assert_string_equal(sb.buf, ">ferry-manifest 1\n");
	assert_int_equal(cas_read(cas, hex, &sb, 5, &err), ERR_TOOBIG);
	assert_string_equal(sb.buf, ">ferry-manifest 1\n");
	assert_int_equal(strays(f->cache), 0);
	strbuf_release(&sb);
	free(file);
	cas_free(cas);
}

static void test_checkout(void **state)
{
	struct fixture *f = *state;
	struct cas *cas = open_cache(f->cache, "reflink,copy");
	struct cas *hl = open_cache(f->cache, "hardlink,copy");
	char *src = test_path(f->dir, "src.bin");
	char *dest = test_path(f->dir, "work/deep/er/dest.bin");
	char *obj, hex[SHA256_HEX_SIZE];
	struct error err = ERROR_INIT;
	enum link_kind used = LINK_REFLINK;
	struct stat st, ost;
	uint64_t size;

	write_pattern(src, 5 * 1024 * 1024 + 3, 11);
	add_ok(cas, src, hex, &size);
	obj = layout_path(f->cache, hex);
	assert_int_equal(cas_checkout(cas, hex, dest, 0, &used, &err), 0);
	assert_true(same_content(src, dest));
	assert_int_equal(stat(dest, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_true(used == LINK_COPY || used == LINK_REFLINK);
	/* over an existing file, executable */
	test_write_file(dest, "old content");
	assert_int_equal(cas_checkout(cas, hex, dest, 1, &used, &err), 0);
	assert_true(same_content(src, dest));
	assert_int_equal(stat(dest, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
	/* editing the checked-out copy leaves the object alone */
	test_write_file(dest, "edited");
	assert_int_equal(cas_verify(cas, hex, &err), 0);
	/* a hardlink shares the object's read-only inode */
	assert_int_equal(cas_checkout(hl, hex, dest, 0, &used, &err), 0);
	assert_int_equal(used, LINK_HARDLINK);
	assert_int_equal(stat(dest, &st), 0);
	assert_int_equal(stat(obj, &ost), 0);
	assert_int_equal(st.st_ino, ost.st_ino);
	assert_int_equal(st.st_mode & 07777, 0444);
	/* again, onto the same inode: rename(2) does nothing there, no temporary may be left */
	assert_int_equal(cas_checkout(hl, hex, dest, 0, &used, &err), 0);
	/* a relative destination without a directory works too */
	{
		char cwd[4096];

		assert_non_null(getcwd(cwd, sizeof(cwd)));
		assert_int_equal(chdir(f->dir), 0);
		assert_int_equal(cas_checkout(cas, hex, "plain.bin", 0, NULL, &err), 0);
		assert_int_equal(chdir(cwd), 0);
	}
	/* no temporary files beside the destinations */
	{
		char *dir = test_path(f->dir, "work/deep/er");
		DIR *d = opendir(dir);
		struct dirent *de;
		int n = 0;

		assert_non_null(d);
		while ((de = readdir(d)))
			n += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
		closedir(d);
		assert_int_equal(n, 1);
		free(dir);
	}
	free(obj);
	free(dest);
	free(src);
	cas_free(hl);
	cas_free(cas);
}

struct seen {
	char hex[8][SHA256_HEX_SIZE];
	uint64_t size[8];
	int n;
	int stop_after;
};

static int collect(const char *hex, uint64_t size, void *data)
{
	struct seen *s = data;

	if (s->n < 8) {
		memcpy(s->hex[s->n], hex, SHA256_HEX_SIZE);
		s->size[s->n] = size;
	}
	s->n++;
	return s->stop_after && s->n == s->stop_after ? 7 : 0;
}

static void test_foreach_remove_clean(void **state)
{
	struct fixture *f = *state;
	struct cas *cas = open_cache(f->cache, "copy");
	char hex[3][SHA256_HEX_SIZE];
	struct error err = ERROR_INIT;
	struct seen seen = { .n = 0 };
	char junk[4300];
	int found = 0;

	assert_int_equal(cas_add_buffer(cas, "a", 1, hex[0], &err), 0);
	assert_int_equal(cas_add_buffer(cas, "bb", 2, hex[1], &err), 0);
	assert_int_equal(cas_add_buffer(cas, "", 0, hex[2], &err), 0);
	/* things in the cache that are not objects */
	snprintf(junk, sizeof(junk), "%s/objects/sha256/%.2s/not-an-object", f->cache, hex[0]);
	test_write_file(junk, "x");
	snprintf(junk, sizeof(junk), "%s/objects/sha256/%.2s/%.61sX", f->cache, hex[0], hex[0] + 2);
	test_write_file(junk, "x");
	snprintf(junk, sizeof(junk), "%s/objects/sha256/zz", f->cache);
	assert_int_equal(mkdir(junk, 0755), 0);
	snprintf(junk, sizeof(junk), "%s/tmp/obj-leftover", f->cache);
	test_write_file(junk, "partial");
	assert_int_equal(cas_foreach(cas, collect, &seen, &err), 0);
	assert_int_equal(seen.n, 3);
	for (int i = 0; i < 3; i++)
		for (int j = 0; j < 3; j++)
			if (!strcmp(seen.hex[i], hex[j])) {
				assert_int_equal(seen.size[i], j == 0 ? 1 : j == 1 ? 2 : 0);
				found++;
			}
	assert_int_equal(found, 3);
	/* the callback's non-zero value stops the walk and is returned */
	memset(&seen, 0, sizeof(seen));
	seen.stop_after = 1;
	assert_int_equal(cas_foreach(cas, collect, &seen, &err), 7);
	assert_int_equal(seen.n, 1);
	/* remove: gone, and removing again is fine */
	assert_int_equal(cas_remove(cas, hex[1], &err), 0);
	assert_false(cas_has(cas, hex[1]));
	assert_int_equal(cas_remove(cas, hex[1], &err), 0);
	/* clean_tmp keeps young temporaries and removes old ones */
	assert_int_equal(cas_clean_tmp(cas, 3600, &err), 0);
	assert_int_equal(access(junk, F_OK), 0);
	assert_int_equal(cas_clean_tmp(cas, 0, &err), 0);
	assert_int_equal(access(junk, F_OK), -1);
	assert_int_equal(cas_sync(cas, &err), 0);
	cas_free(cas);
}

/*
 * cas_count_missing lists the cache instead of stat'ing each object: its count must equal the
 * stat-based cas_has answer, for duplicates, removed objects, digests never stored, malformed
 * names and a directory shaped like an object, on one thread and on several.
 */
static void test_count_missing(void **state)
{
	struct fixture *f = *state;
	struct cas *cas = open_cache(f->cache, "copy");
	enum {
		STORED = 300,
		ABSENT = 5,
		DUPS = 20
	};
	static char hex[STORED + ABSENT + 1][SHA256_HEX_SIZE];
	const char *want[STORED + ABSENT + DUPS + 3];
	struct error err = ERROR_INIT;
	char text[64], dirobj[4300];
	size_t n = 0;
	uint64_t expected = 0, got = 99999;

	for (int i = 0; i < STORED; i++) {
		snprintf(text, sizeof(text), "object %d", i);
		assert_int_equal(cas_add_buffer(cas, text, strlen(text), hex[i], &err), 0);
	}
	for (int i = 0; i < ABSENT + 1; i++) {
		snprintf(text, sizeof(text), "never stored %d", i);
		sha256_buffer(text, strlen(text), hex[STORED + i]);
	}
	/* a directory under the name of the last never-stored digest: not an object */
	snprintf(dirobj, sizeof(dirobj), "%s/objects/sha256/%.2s", f->cache, hex[STORED + ABSENT]);
	mkdir(dirobj, 0755);
	snprintf(dirobj, sizeof(dirobj), "%s/objects/sha256/%.2s/%s", f->cache,
		 hex[STORED + ABSENT], hex[STORED + ABSENT] + 2);
	assert_int_equal(mkdir(dirobj, 0755), 0);
	for (int i = 0; i < 7; i++) /* removed: every 40th, among them some duplicated below */
		assert_int_equal(cas_remove(cas, hex[i * 40], &err), 0);
	for (int i = 0; i < STORED + ABSENT + 1; i++)
		want[n++] = hex[i];
	for (int i = 0; i < DUPS - 1; i++)
		want[n++] = hex[i * 10]; /* 0, 40, 80, 120, 160: removed, listed twice */
	want[n++] = "ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef0123456789";
	want[n++] = "abc";
	for (size_t i = 0; i < n; i++)
		expected += !cas_has(cas, want[i]);
	assert_int_equal(expected, 7 + 5 + ABSENT + 1 + 2);
	assert_int_equal(cas_count_missing(cas, want, n, 1, &got, &err), 0);
	assert_int_equal(got, expected);
	got = 99999;
	assert_int_equal(cas_count_missing(cas, want, n, 4, &got, &err), 0);
	assert_int_equal(got, expected);
	assert_int_equal(cas_count_missing(cas, want, 0, 0, &got, &err), 0);
	assert_int_equal(got, 0);
	cas_free(cas);
}

/* What a crash before cas_sync can leave: an empty file under a non-empty object's name. */
static void test_empty_object_is_absent(void **state)
{
	struct fixture *f = *state;
	struct cas *cas = open_cache(f->cache, "copy");
	char *path = test_path(f->dir, "h.txt");
	char hex[SHA256_HEX_SIZE], ref[SHA256_HEX_SIZE], dir[4300];
	struct error err = ERROR_INIT;
	uint64_t size;
	char *obj;

	test_write_file(path, "hello\n");
	sha256sum(path, ref);
	obj = layout_path(f->cache, ref);
	snprintf(dir, sizeof(dir), "%s/objects/sha256/%.2s", f->cache, ref);
	assert_int_equal(mkdir(dir, 0755), 0);
	test_write_file(obj, "");
	assert_false(cas_has(cas, ref));
	add_ok(cas, path, hex, &size);
	assert_true(cas_has(cas, ref));
	assert_int_equal(cas_verify(cas, ref, &err), 0);
	/* a short object (a torn write) is rewritten by the next add, though cas_has trusts it */
	assert_int_equal(chmod(obj, 0644), 0);
	test_write_file(obj, "hel");
	add_ok(cas, path, hex, &size);
	assert_int_equal(cas_verify(cas, ref, &err), 0);
	/* the empty content's own object is empty and present */
	assert_int_equal(cas_add_buffer(cas, "", 0, hex, &err), 0);
	assert_true(cas_has(cas, hex));
	free(obj);
	free(path);
	cas_free(cas);
}

/* A write error (here EFBIG from RLIMIT_FSIZE) leaves no partial object and no temporary. */
static void test_write_error_leaves_nothing(void **state)
{
	struct fixture *f = *state;
	struct cas *cas = open_cache(f->cache, "reflink,hardlink,copy");
	struct cas *copy = open_cache(f->cache, "copy");
	char *small = test_path(f->dir, "small.bin"), *big = test_path(f->dir, "big.bin");
	char hex[SHA256_HEX_SIZE], ref[SHA256_HEX_SIZE];
	struct error err = ERROR_INIT;
	struct rlimit old, lim;
	struct cas_writer *w = NULL;
	static char block[100000];
	void (*old_handler)(int);
	uint64_t size;

	write_pattern(small, 100000, 1);
	write_pattern(big, 20 * 1024 * 1024, 2);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = 65536;
	old_handler = signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	assert_int_equal(cas_add_file(copy, small, hex, &size, &err), ERR_IO);
	assert_non_null(strstr(err.msg, small));
	assert_non_null(strstr(err.msg, strerror(EFBIG)));
	assert_int_equal(cas_add_file(copy, big, hex, &size, &err), ERR_IO);
	assert_non_null(strstr(err.msg, big));
	assert_int_equal(cas_add_buffer(copy, block, sizeof(block), hex, &err), ERR_IO);
	sha256sum(big, ref);
	assert_int_equal(cas_writer_open(&w, copy, ref, &err), 0);
	assert_int_equal(cas_writer_write(w, block, sizeof(block), &err), ERR_IO);
	assert_int_equal(cas_writer_commit(w, &err), ERR_IO);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, old_handler);
	assert_false(cas_has(copy, ref));
	sha256sum(small, ref);
	assert_false(cas_has(copy, ref));
	assert_int_equal(strays(f->cache), 0);
	/* and the cache works again once there is room */
	add_ok(cas, small, hex, &size);
	assert_string_equal(hex, ref);
	free(big);
	free(small);
	cas_free(copy);
	cas_free(cas);
}

/* A real full disk: a 64 KiB tmpfs holding the cache (needs root; skipped otherwise). */
static void test_enospc(void **state)
{
	struct fixture *f = *state;
	char *cache, *path = test_path(f->dir, "big.bin"), *fits = test_path(f->dir, "fits.bin");
	char hex[SHA256_HEX_SIZE], ref[SHA256_HEX_SIZE];
	struct error err = ERROR_INIT;
	struct cas *cas;
	uint64_t size;

	f->mnt = test_path(f->dir, "tiny");
	assert_int_equal(mkdir(f->mnt, 0755), 0);
	if (mount("tmpfs", f->mnt, "tmpfs", 0, "size=64k")) {
		print_message("cannot mount a tmpfs (%s): ENOSPC test skipped\n", strerror(errno));
		free(f->mnt);
		f->mnt = NULL;
		free(fits);
		free(path);
		skip();
	}
	cache = test_path(f->mnt, "cache");
	cas = open_cache(cache, "reflink,hardlink,copy");
	/* one read in a buffer and written at once, one copied in chunks by a second thread */
	for (size_t len = 300000; len < 30000000; len *= 100) {
		write_pattern(path, len, 5);
		assert_int_equal(cas_add_file(cas, path, hex, &size, &err), ERR_IO);
		assert_non_null(strstr(err.msg, path));
		assert_non_null(strstr(err.msg, strerror(ENOSPC)));
		sha256sum(path, ref);
		assert_false(cas_has(cas, ref));
		assert_int_equal(strays(cache), 0);
	}
	write_pattern(fits, 8000, 6);
	sha256sum(fits, ref);
	add_ok(cas, fits, hex, &size);
	assert_string_equal(hex, ref);
	assert_int_equal(cas_verify(cas, hex, &err), 0);
	cas_free(cas);
	assert_int_equal(umount(f->mnt), 0);
	free(f->mnt);
	f->mnt = NULL;
	free(fits);
	free(path);
	free(cache);
}

#define NTHREADS 8
#define NFILES 1000

struct race {
	struct cas *cas;
	char *paths[NFILES];
	char hex[NTHREADS][NFILES][SHA256_HEX_SIZE];
	int failures;
	char first_error[ERROR_MSG_SIZE];
	pthread_mutex_t lock;
	pthread_barrier_t start;
};

struct racer {
	struct race *race;
	int id;
};

static void *race_adder(void *arg)
{
	struct racer *r = arg;
	struct race *race = r->race;

	pthread_barrier_wait(&race->start);
	for (int k = 0; k < NFILES; k++) {
		/* each thread walks the files from a different place, so all collide often */
		int i = (k + r->id * (NFILES / NTHREADS)) % NFILES;
		struct error err = ERROR_INIT;
		uint64_t size;

		if (cas_add_file(race->cas, race->paths[i], race->hex[r->id][i], &size, &err)) {
			pthread_mutex_lock(&race->lock);
			if (!race->failures++)
				memcpy(race->first_error, err.msg, sizeof(err.msg));
			pthread_mutex_unlock(&race->lock);
		}
	}
	return NULL;
}

struct object_count {
	struct cas *cas;
	int n;
	int writable; /* objects whose mode is not 0444 */
};

static int count_object(const char *hex, uint64_t size, void *data)
{
	struct object_count *c = data;
	char *path = cas_object_path(c->cas, hex);
	struct stat st;

	(void)size;
	if (stat(path, &st) || (st.st_mode & 07777) != 0444)
		c->writable++;
	c->n++;
	free(path);
	return 0;
}

static void race(struct fixture *f, const char *order, const char *sub)
{
	struct race *race = xcalloc(1, sizeof(*race));
	struct racer racers[NTHREADS];
	pthread_t threads[NTHREADS];
	struct error err = ERROR_INIT;
	char cmd[4300], line[4300], *dir = test_path(f->dir, sub);
	char(*refs)[SHA256_HEX_SIZE] = xcalloc(NFILES, SHA256_HEX_SIZE);
	struct object_count objects = { NULL, 0, 0 };
	int nref = 0, ndistinct = 0;
	FILE *fp;

	race->cas = open_cache(f->cache, order);
	pthread_mutex_init(&race->lock, NULL);
	pthread_barrier_init(&race->start, NULL, NTHREADS);
	assert_int_equal(mkdir(dir, 0755), 0);
	for (int i = 0; i < NFILES; i++) {
		char name[32];

		snprintf(name, sizeof(name), "f%04d", i);
		race->paths[i] = test_path(dir, name);
		/* every 10th file repeats another's content: same objects from different files */
		write_pattern(race->paths[i], 100 + (size_t)(i % 10 ? i : i / 10) * 37,
			      (unsigned)(i % 10 ? i : i / 10));
		assert_int_equal(chmod(race->paths[i], 0644), 0);
	}
	for (int t = 0; t < NTHREADS; t++) {
		racers[t] = (struct racer){ race, t };
		assert_int_equal(pthread_create(&threads[t], NULL, race_adder, &racers[t]), 0);
	}
	for (int t = 0; t < NTHREADS; t++)
		pthread_join(threads[t], NULL);
	if (race->failures)
		fail_msg("%d adds failed, first: %s", race->failures, race->first_error);
	/* every thread got sha256sum's digest for every file */
	snprintf(cmd, sizeof(cmd), "cd '%s' && sha256sum -b f*", dir);
	fp = popen(cmd, "r");
	assert_non_null(fp);
	while (fgets(line, sizeof(line), fp)) {
		int i = (int)strtol(line + 67, NULL, 10);

		line[64] = '\0';
		assert_true(i >= 0 && i < NFILES);
		for (int t = 0; t < NTHREADS; t++)
			assert_string_equal(race->hex[t][i], line);
		assert_int_equal(cas_verify(race->cas, line, &err), 0);
		memcpy(refs[nref++], line, SHA256_HEX_SIZE);
	}
	assert_int_equal(pclose(fp), 0);
	assert_int_equal(nref, NFILES);
	/* one object per distinct content, as sha256sum counts them */
	qsort(refs, NFILES, SHA256_HEX_SIZE, (int (*)(const void *, const void *))strcmp);
	for (int i = 0; i < NFILES; i++)
		ndistinct += i == 0 || strcmp(refs[i - 1], refs[i]) != 0;
	assert_true(ndistinct < NFILES);
	/* a workspace file is either the object itself (read-only) or left exactly as it was */
	for (int i = 0; i < NFILES; i++) {
		char *obj = cas_object_path(race->cas, race->hex[0][i]);
		struct stat ws, os;

		assert_int_equal(stat(race->paths[i], &ws), 0);
		assert_int_equal(stat(obj, &os), 0);
		if (ws.st_ino == os.st_ino)
			assert_int_equal(ws.st_mode & 07777, 0444);
		else
			assert_int_equal(ws.st_mode & 07777, 0644);
		free(obj);
	}
	objects.cas = race->cas;
	assert_int_equal(cas_foreach(race->cas, count_object, &objects, &err), 0);
	assert_int_equal(objects.n, ndistinct);
	assert_int_equal(objects.writable, 0);
	assert_int_equal(strays(f->cache), 0);
	for (int i = 0; i < NFILES; i++)
		free(race->paths[i]);
	pthread_barrier_destroy(&race->start);
	pthread_mutex_destroy(&race->lock);
	cas_free(race->cas);
	free(race);
	free(refs);
	free(dir);
}

static void test_concurrent_copy(void **state)
{
	race(*state, "reflink,copy", "copy");
}

static void test_concurrent_hardlink(void **state)
{
	race(*state, "hardlink,copy", "hardlink");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_link_order),
		cmocka_unit_test_setup_teardown(test_names_and_layout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_copy_is_independent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hardlink, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hardlink_cross_device, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reflink_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_detects_corruption, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_and_bad_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_writer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_add_buffer_and_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_checkout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_foreach_remove_clean, setup, teardown),
		cmocka_unit_test_setup_teardown(test_count_missing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_object_is_absent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_error_leaves_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_enospc, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_copy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_hardlink, setup, teardown),
	};

	int failed = cmocka_run_group_tests_name("cas", tests, NULL, NULL);

	/* again with named temporaries in tmp/, as where O_TMPFILE or /proc is missing */
	cas_force_named_tmp(1);
	failed += cmocka_run_group_tests_name("cas with named temporaries", tests, NULL, NULL);
	return failed;
}
