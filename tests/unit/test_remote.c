/*
 * Unit tests for data/remote: URL forms, and the local transport's put/publish/get/has/list
 * checked against sha256sum, with corrupted objects refused in both directions, staged uploads
 * invisible until published, failed ones removed, and stale ones cleaned.
 */
#include "util/common.h"
#include "helpers.h"
#include "data/cas.h"
#include "data/remote.h"
#include "util/fs.h"
#include "util/strbuf.h"

#include <dirent.h>
#include <fcntl.h>
#include <time.h>

struct fixture {
	char *dir;
	char *cache_dir;
	char *remote_dir;
	struct cas *cas;
	struct remote *r;
};

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	struct error err = ERROR_INIT;

	f->dir = test_tmpdir();
	f->cache_dir = test_path(f->dir, "cache");
	f->remote_dir = test_path(f->dir, "remote");
	if (cas_open(&f->cas, f->cache_dir, "copy", &err) ||
	    remote_open(&f->r, "origin", f->remote_dir, &err)) {
		fprintf(stderr, "setup: %s\n", err.msg);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	remote_close(f->r);
	cas_free(f->cas);
	free(f->cache_dir);
	free(f->remote_dir);
	test_tmpdir_remove(f->dir);
	free(f);
	return 0;
}

/* sha256sum's digest of the file at path: the independent reference. */
static void sha256sum(char out[SHA256_HEX_SIZE], const char *path)
{
	struct strbuf cmd = STRBUF_INIT;
	FILE *p;

	strbuf_addf(&cmd, "sha256sum '%s'", path);
	p = popen(cmd.buf, "r");
	assert_non_null(p);
	assert_non_null(fgets(out, SHA256_HEX_SIZE, p));
	assert_int_equal(pclose(p), 0);
	assert_int_equal(strlen(out), 64);
	strbuf_release(&cmd);
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

/* Regular files anywhere below dir. */
static int count_files(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (!d)
		return 0;
	while ((de = readdir(d))) {
		char *path;
		struct stat st;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		path = test_path(dir, de->d_name);
		if (!lstat(path, &st))
			n += S_ISDIR(st.st_mode) ? count_files(path) : S_ISREG(st.st_mode);
		free(path);
	}
	closedir(d);
	return n;
}

static char *remote_object(const struct fixture *f, const char *hex)
{
	struct strbuf p = STRBUF_INIT;

	strbuf_addf(&p, "%s/objects/sha256/%.2s/%s", f->remote_dir, hex, hex + 2);
	return strbuf_detach(&p, NULL);
}

static void flip_byte(const char *path)
{
	FILE *fp;
	int c;

	assert_int_equal(chmod(path, 0644), 0);
	fp = fopen(path, "r+b");
	assert_non_null(fp);
	c = fgetc(fp);
	assert_true(c != EOF);
	assert_int_equal(fseek(fp, 0, SEEK_SET), 0);
	fputc(c ^ 0x01, fp);
	assert_int_equal(fclose(fp), 0);
}

/* Stages cache object hex on the remote. */
static int stage(struct fixture *f, struct remote_staged **out, const char *hex, struct error *err)
{
	struct object_source *src = NULL;
	int rc = object_source_open(&src, f->cas, hex, err);

	if (!rc)
		rc = f->r->ops->put(f->r, out, hex, src, err);
	object_source_free(src);
	return rc;
}

/* What publish told about each object: 0, or the error's code and message. */
struct fates {
	int code[8];
	char msg[8][ERROR_MSG_SIZE];
	int calls[8];
};

static void note_fate(void *data, size_t i, const struct error *e)
{
	struct fates *fates = data;

	assert_true(i < 8);
	fates->calls[i]++;
	fates->code[i] = e ? e->code : 0;
	snprintf(fates->msg[i], sizeof(fates->msg[i]), "%s", e ? e->msg : "");
}

/* Stages and publishes one object. */
static int put(struct fixture *f, const char *hex, struct error *err)
{
	struct remote_staged *staged = NULL;
	struct fates fates = { 0 };
	int rc = stage(f, &staged, hex, err);

	if (!rc)
		rc = f->r->ops->publish(f->r, &staged, 1, note_fate, &fates, err);
	if (staged) {
		assert_int_equal(fates.calls[0], 1);
		assert_int_equal(fates.code[0], rc);
	}
	return rc;
}

static void expect_local(const char *url, const char *want)
{
	struct error err = ERROR_INIT;
	char *path = NULL;

	assert_int_equal(remote_url_check(url, &err), 0);
	assert_int_equal(remote_url_local_path(&path, url, &err), 0);
	assert_string_equal(path, want);
	free(path);
}

static void expect_bad(const char *url, int code, const char *needle)
{
	struct error err = ERROR_INIT;
	struct remote *r = NULL;
	char *path = NULL;

	assert_int_equal(remote_url_check(url, &err), code);
	if (!strstr(err.msg, needle))
		fail_msg("'%s': message '%s' lacks '%s'", url, err.msg, needle);
	assert_int_equal(remote_url_local_path(&path, url, &err), code);
	assert_null(path);
	assert_int_equal(remote_open(&r, "x", url, &err), code);
	assert_null(r);
}

static void test_url_forms(void **state)
{
	char *cwd = getcwd(NULL, 0);
	struct strbuf want = STRBUF_INIT;

	(void)state;
	expect_local("/abs/path", "/abs/path");
	expect_local("/abs/path//", "/abs/path");
	expect_local("file:///abs/path", "/abs/path");
	expect_local("FILE:///abs/my%20store", "/abs/my store");
	expect_local("file://localhost/srv/x", "/srv/x");
	strbuf_addf(&want, "%s/relative/path", cwd);
	expect_local("relative/path", want.buf);
	strbuf_reset(&want);
	strbuf_addf(&want, "%s/./a:b", cwd);
	expect_local("./a:b", want.buf);

	expect_bad("s3://bucket/prefix", ERR_UNSUPPORTED, "s3 remotes are not built yet");
	expect_bad("http://example.com/store", ERR_INVALID, "'http://example.com/store'");
	expect_bad("http://example.com/store", ERR_INVALID, "file:///abs/path");
	expect_bad("ssh://host/store", ERR_INVALID, "directory path");
	expect_bad("", ERR_INVALID, "empty");
	expect_bad("file://otherhost/x", ERR_INVALID, "no host");
	expect_bad("file://", ERR_INVALID, "no host");
	expect_bad("file:///a%2", ERR_INVALID, "percent-escape");
	expect_bad("file:///a%00b", ERR_INVALID, "percent-escape");
	expect_bad("host:store", ERR_INVALID, "./host:store");
	strbuf_release(&want);
	free(cwd);
}

static void test_open_dirs(void **state)
{
	struct fixture *f = *state;
	struct error err = ERROR_INIT;
	struct remote *r = NULL;
	char *cwd = getcwd(NULL, 0);
	char *file = test_path(f->dir, "afile");
	char *deep = test_path(f->dir, "no/such/parent");
	char *rel = test_path(f->dir, "rel");
	struct strbuf url = STRBUF_INIT;

	/* relative: resolved against the current directory at open */
	assert_int_equal(chdir(f->dir), 0);
	assert_int_equal(remote_open(&r, "rel", "rel", &err), 0);
	assert_int_equal(chdir(cwd), 0);
	assert_string_equal(r->name, "rel");
	assert_string_equal(r->url, "rel");
	assert_string_equal(r->ops->scheme, "file");
	remote_close(r);
	r = NULL;
	assert_true(fs_is_dir(rel));

	/* file:// to an existing directory */
	strbuf_addf(&url, "file://%s", f->remote_dir);
	assert_int_equal(remote_open(&r, "u", url.buf, &err), 0);
	remote_close(r);
	r = NULL;

	test_write_file(file, "x");
	assert_int_equal(remote_open(&r, "f", file, &err), ERR_INVALID);
	assert_non_null(strstr(err.msg, "remote 'f'"));
	assert_non_null(strstr(err.msg, "not a directory"));
	assert_int_equal(remote_open(&r, "deep", deep, &err), ERR_IO);
	assert_non_null(strstr(err.msg, "remote 'deep'"));
	assert_non_null(strstr(err.msg, deep));
	assert_null(r);
	remote_close(NULL);
	strbuf_release(&url);
	free(file);
	free(deep);
	free(rel);
	free(cwd);
}

struct seen {
	char hexes[8][SHA256_HEX_SIZE];
	int n;
};

static int collect(const char *hex, void *data)
{
	struct seen *s = data;

	assert_true(s->n < 8);
	snprintf(s->hexes[s->n++], SHA256_HEX_SIZE, "%s", hex);
	return 0;
}

static int stop_at_first(const char *hex, void *data)
{
	(void)hex;
	(*(int *)data)++;
	return 42;
}

static void test_round_trip(void **state)
{
	struct fixture *f = *state;
	struct error err = ERROR_INIT;
	char hex1[SHA256_HEX_SIZE], hex2[SHA256_HEX_SIZE], ref[SHA256_HEX_SIZE];
	char *path1, *path2, *junk, *tmp = test_path(f->remote_dir, "tmp");
	char *dir2 = test_path(f->dir, "cache2");
	const char *data1 = "hello, remote\n";
	struct cas *cas2 = NULL;
	struct cas_writer *w = NULL;
	struct strbuf big = STRBUF_INIT, got = STRBUF_INIT;
	struct seen seen = { 0 };
	struct stat st;
	int has = -1, calls = 0;

	/* larger than one copy chunk, so streaming is exercised */
	for (int i = 0; i < 50000; i++)
		strbuf_addf(&big, "line %d\n", i);
	assert_int_equal(cas_add_buffer(f->cas, data1, strlen(data1), hex1, &err), 0);
	assert_int_equal(cas_add_buffer(f->cas, big.buf, big.len, hex2, &err), 0);

	assert_int_equal(f->r->ops->has(f->r, hex1, &has, &err), 0);
	assert_int_equal(has, 0);
	assert_int_equal(put(f, hex1, &err), 0);
	assert_int_equal(put(f, hex2, &err), 0);
	assert_int_equal(f->r->ops->has(f->r, hex1, &has, &err), 0);
	assert_int_equal(has, 1);

	/* the name is the content's sha256, read-only, and nothing is left in tmp */
	path1 = remote_object(f, hex1);
	path2 = remote_object(f, hex2);
	sha256sum(ref, path1);
	assert_string_equal(ref, hex1);
	sha256sum(ref, path2);
	assert_string_equal(ref, hex2);
	assert_int_equal(stat(path1, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0444);
	assert_int_equal(stat(path2, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0444);
	assert_int_equal((uint64_t)st.st_size, big.len);
	assert_int_equal(count_entries(tmp), 0);

	/* list finds exactly the two (not other files); fn's non-zero return stops it */
	junk = xstrdup(path1);
	snprintf(strrchr(junk, '/') + 1, 6, "junk");
	test_write_file(junk, "");
	assert_int_equal(f->r->ops->list(f->r, collect, &seen, &err), 0);
	assert_int_equal(seen.n, 2);
	assert_true((!strcmp(seen.hexes[0], hex1) && !strcmp(seen.hexes[1], hex2)) ||
		    (!strcmp(seen.hexes[0], hex2) && !strcmp(seen.hexes[1], hex1)));
	assert_int_equal(f->r->ops->list(f->r, stop_at_first, &calls, &err), 42);
	assert_int_equal(calls, 1);

	/* get into a second, empty cache */
	assert_int_equal(cas_open(&cas2, dir2, "copy", &err), 0);
	assert_int_equal(cas_writer_open(&w, cas2, hex2, &err), 0);
	assert_int_equal(f->r->ops->get(f->r, hex2, w, &err), 0);
	assert_int_equal(cas_writer_commit(w, &err), 0);
	assert_int_equal(cas_read(cas2, hex2, &got, SIZE_MAX, &err), 0);
	assert_int_equal(got.len, big.len);
	assert_memory_equal(got.buf, big.buf, big.len);

	/* a missing object is ERR_NOTFOUND naming the remote and the digest */
	ref[0] = ref[0] == '0' ? '1' : '0';
	assert_int_equal(cas_writer_open(&w, cas2, ref, &err), 0);
	assert_int_equal(f->r->ops->get(f->r, ref, w, &err), ERR_NOTFOUND);
	cas_writer_abort(w);
	assert_non_null(strstr(err.msg, "'origin'"));
	assert_non_null(strstr(err.msg, ref));

	cas_free(cas2);
	strbuf_release(&big);
	strbuf_release(&got);
	free(path1);
	free(path2);
	free(junk);
	free(dir2);
	free(tmp);
}

static void test_corrupted_local_refused(void **state)
{
	struct fixture *f = *state;
	struct error err = ERROR_INIT;
	char hex[SHA256_HEX_SIZE];
	char *cached, *remote_path, *tmp = test_path(f->remote_dir, "tmp");
	const char *data = "precious data\n";
	struct seen seen = { 0 };
	int has = -1;

	assert_int_equal(cas_add_buffer(f->cas, data, strlen(data), hex, &err), 0);
	cached = cas_object_path(f->cas, hex);
	flip_byte(cached);
	assert_int_equal(put(f, hex, &err), ERR_INVALID);
	assert_non_null(strstr(err.msg, "is corrupted; not pushing it (run 'ferry data verify')"));
	assert_non_null(strstr(err.msg, hex));
	assert_int_equal(f->r->ops->has(f->r, hex, &has, &err), 0);
	assert_int_equal(has, 0);
	/* nothing on the remote at all: no object, no leftover temporary file */
	remote_path = remote_object(f, hex);
	assert_false(fs_exists(remote_path));
	assert_int_equal(f->r->ops->list(f->r, collect, &seen, &err), 0);
	assert_int_equal(seen.n, 0);
	assert_int_equal(count_entries(tmp), 0);
	free(remote_path);
	free(cached);
	free(tmp);
}

static void test_corrupted_remote_refused(void **state)
{
	struct fixture *f = *state;
	struct error err = ERROR_INIT;
	char hex[SHA256_HEX_SIZE];
	char *remote_path, *dir2 = test_path(f->dir, "cache2");
	char *objects2 = test_path(dir2, "objects/sha256");
	const char *data = "remote copy that will rot\n";
	struct cas *cas2 = NULL;
	struct cas_writer *w = NULL;

	assert_int_equal(cas_add_buffer(f->cas, data, strlen(data), hex, &err), 0);
	assert_int_equal(put(f, hex, &err), 0);
	remote_path = remote_object(f, hex);
	flip_byte(remote_path);

	assert_int_equal(cas_open(&cas2, dir2, "copy", &err), 0);
	assert_int_equal(cas_writer_open(&w, cas2, hex, &err), 0);
	assert_int_equal(f->r->ops->get(f->r, hex, w, &err), 0);
	assert_int_not_equal(cas_writer_commit(w, &err), 0);
	assert_int_equal(cas_has(cas2, hex), 0);
	assert_int_equal(count_files(objects2), 0);

	cas_free(cas2);
	free(remote_path);
	free(objects2);
	free(dir2);
}

/* Checks that each file in the remote's tmp/ is a read-only upload whose bytes match its name. */
static int check_uploads(const struct fixture *f)
{
	char *tmp = test_path(f->remote_dir, "tmp");
	char ref[SHA256_HEX_SIZE];
	DIR *d = opendir(tmp);
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d))) {
		char *path;
		struct stat st;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		path = test_path(tmp, de->d_name);
		assert_int_equal(stat(path, &st), 0);
		assert_int_equal(st.st_mode & 07777, 0444);
		sha256sum(ref, path);
		assert_memory_equal(ref, de->d_name, 64);
		assert_int_equal(de->d_name[64], '.');
		free(path);
		n++;
	}
	closedir(d);
	free(tmp);
	return n;
}

static void add_objects(struct fixture *f, char (*hex)[SHA256_HEX_SIZE], int n, const char *what)
{
	struct error err = ERROR_INIT;
	char text[64];

	for (int i = 0; i < n; i++) {
		snprintf(text, sizeof(text), "%s %d\n", what, i);
		assert_int_equal(cas_add_buffer(f->cas, text, strlen(text), hex[i], &err), 0);
	}
}

static void test_stage_then_publish(void **state)
{
	struct fixture *f = *state;
	struct error err = ERROR_INIT;
	char hex[3][SHA256_HEX_SIZE], ref[SHA256_HEX_SIZE];
	struct remote_staged *staged[3] = { NULL };
	struct fates fates = { 0 };
	struct seen seen = { 0 };
	char *path;
	int has = -1;

	add_objects(f, hex, 3, "staged object");
	for (int i = 0; i < 3; i++)
		assert_int_equal(stage(f, &staged[i], hex[i], &err), 0);
	/* staged: complete, verified, read-only uploads, but not under any name yet */
	assert_int_equal(check_uploads(f), 3);
	assert_int_equal(f->r->ops->list(f->r, collect, &seen, &err), 0);
	assert_int_equal(seen.n, 0);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(f->r->ops->has(f->r, hex[i], &has, &err), 0);
		assert_int_equal(has, 0);
	}

	/* discard drops an upload; publish names the others and consumes them */
	f->r->ops->discard(f->r, staged[1]);
	staged[1] = staged[2];
	assert_int_equal(check_uploads(f), 2);
	assert_int_equal(f->r->ops->publish(f->r, staged, 2, note_fate, &fates, &err), 0);
	assert_int_equal(check_uploads(f), 0);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(fates.calls[i], 1);
		assert_int_equal(fates.code[i], 0);
	}
	for (int i = 0; i < 3; i++) {
		assert_int_equal(f->r->ops->has(f->r, hex[i], &has, &err), 0);
		assert_int_equal(has, i != 1);
	}
	path = remote_object(f, hex[2]);
	sha256sum(ref, path);
	assert_string_equal(ref, hex[2]);

	/* nothing to publish or discard is fine */
	assert_int_equal(f->r->ops->publish(f->r, staged, 0, note_fate, &fates, &err), 0);
	f->r->ops->discard(f->r, NULL);
	free(path);
}

static void test_publish_failure(void **state)
{
	struct fixture *f = *state;
	struct error err = ERROR_INIT;
	char hex[3][SHA256_HEX_SIZE], blocker[512];
	struct remote_staged *staged[3] = { NULL };
	struct fates fates = { 0 };
	char *objects = test_path(f->remote_dir, "objects/sha256");
	char *path;
	int has = -1;

	add_objects(f, hex, 3, "blocked object");
	assert_true(strncmp(hex[1], hex[0], 2) && strncmp(hex[1], hex[2], 2));
	for (int i = 0; i < 3; i++)
		assert_int_equal(stage(f, &staged[i], hex[i], &err), 0);
	/* a file where object 1's directory should be: its rename fails, the others go */
	assert_int_equal(fs_mkdir_p(objects, 0777, &err), 0);
	snprintf(blocker, sizeof(blocker), "%s/%.2s", objects, hex[1]);
	test_write_file(blocker, "");
	assert_int_equal(f->r->ops->publish(f->r, staged, 3, note_fate, &fates, &err), ERR_IO);
	assert_non_null(strstr(err.msg, "remote 'origin': cannot rename"));
	assert_non_null(strstr(err.msg, blocker));
	for (int i = 0; i < 3; i++)
		assert_int_equal(fates.calls[i], 1);
	assert_int_equal(fates.code[0], 0);
	assert_int_equal(fates.code[1], ERR_IO);
	assert_string_equal(fates.msg[1], err.msg);
	assert_int_equal(fates.code[2], 0);
	for (int i = 0; i < 3; i += 2) {
		assert_int_equal(f->r->ops->has(f->r, hex[i], &has, &err), 0);
		assert_int_equal(has, 1);
	}
	/* the failed upload is not left behind */
	assert_int_equal(check_uploads(f), 0);
	path = remote_object(f, hex[1]);
	assert_false(fs_exists(path));
	free(path);
	free(objects);
}

static void backdate(const char *path, time_t seconds)
{
	struct timespec ts[2] = { { time(NULL) - seconds, 0 }, { time(NULL) - seconds, 0 } };

	assert_int_equal(utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW), 0);
}

static void test_clean_stale_uploads(void **state)
{
	struct fixture *f = *state;
	struct error err = ERROR_INIT;
	char *tmp = test_path(f->remote_dir, "tmp");
	char *old = test_path(tmp, "old.Ab12Cd"), *fresh = test_path(tmp, "fresh.Ab12Cd");
	char *dir = test_path(tmp, "a-directory");

	/* no tmp/ yet: nothing to do */
	assert_int_equal(f->r->ops->clean(f->r, 3600, &err), 0);
	assert_int_equal(fs_mkdir_p(dir, 0777, &err), 0);
	test_write_file(old, "left by a killed push");
	test_write_file(fresh, "a live push's upload");
	backdate(old, 3601);
	backdate(fresh, 3000);
	backdate(dir, 7200);
	assert_int_equal(f->r->ops->clean(f->r, 3600, &err), 0);
	assert_false(fs_exists(old));
	assert_true(fs_exists(fresh));
	assert_true(fs_is_dir(dir));
	free(old);
	free(fresh);
	free(dir);
	free(tmp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_url_forms),
		cmocka_unit_test_setup_teardown(test_open_dirs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupted_local_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupted_remote_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stage_then_publish, setup, teardown),
		cmocka_unit_test_setup_teardown(test_publish_failure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_clean_stale_uploads, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
