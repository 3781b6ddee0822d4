/*
 * Run artifacts: the store's artifacts table (record, replace, list a directory level like
 * MLflow, list all, get, delete, digests for gc, file/directory conflicts, bad paths) and
 * track/artifacts.h on top of the object cache (buffers, files, directory trees, dedup, verified
 * reads, corrupted objects, checkout). Digests are checked against sha256 of the bytes.
 */
#include "util/common.h"
#include "data/cas.h"
#include "store/store.h"
#include "track/artifacts.h"
#include "util/fs.h"
#include "util/strbuf.h"
#include "helpers.h"

struct fixture {
	char *dir;
	struct store *st;
	struct cas *cas;
	char run[ID_HEX_LEN + 1];
};

#define assert_contains(haystack, needle)                                                          \
	do {                                                                                       \
		if (!strstr((haystack), (needle)))                                                 \
			fail_msg("'%s' does not contain '%s'", (haystack), (needle));              \
	} while (0)

/* sha256("a"), sha256("b"): independent of ferry (sha256sum). */
static const char hex_a[] = "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb";
static const char hex_b[] = "3e23e8160039594a33894f6564e1b1348bbd7a0088d42c4acb73eeaed59c009d";

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	struct error err = ERROR_INIT;
	struct store_new_run run = { 0 };
	char *uri, *cache;

	f->dir = test_tmpdir();
	uri = xstrfmt("sqlite:%s/ferry.db", f->dir);
	cache = test_path(f->dir, "cache");
	assert_ok(store_open(&f->st, uri, &err));
	assert_ok(cas_open(&f->cas, cache, NULL, &err));
	assert_ok(store_run_create(f->st, f->run, &run, &err));
	free(uri);
	free(cache);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	store_close(f->st);
	cas_free(f->cas);
	test_tmpdir_remove(f->dir);
	free(f);
	return 0;
}

static void record(struct fixture *f, const char *path, const char *hex, int64_t size)
{
	struct error err = ERROR_INIT;
	struct store_new_artifact a = { path, hex, size };

	assert_ok(store_artifact_record(f->st, f->run, &a, 1, &err));
}

/* "name:d" for directories, "name:size" for files, joined with spaces. */
static char *describe(const struct store_artifacts *list)
{
	struct strbuf sb = STRBUF_INIT;

	for (size_t i = 0; i < list->nr; i++) {
		const struct store_artifact *a = &list->items[i];

		if (i)
			strbuf_addch(&sb, ' ');
		if (a->is_dir)
			strbuf_addf(&sb, "%s:d", a->path);
		else
			strbuf_addf(&sb, "%s:%" PRId64, a->path, a->size);
	}
	return strbuf_detach(&sb, NULL);
}

static void expect_list(struct fixture *f, const char *dir, bool all, const char *want)
{
	struct store_artifacts list = STORE_ARTIFACTS_INIT;
	struct error err = ERROR_INIT;
	char *got;

	if (all)
		assert_ok(store_artifact_list_all(f->st, &list, f->run, dir, &err));
	else
		assert_ok(store_artifact_list(f->st, &list, f->run, dir, &err));
	got = describe(&list);
	assert_string_equal(got, want);
	free(got);
	store_artifacts_release(&list);
}

static void test_list_levels(void **state)
{
	struct fixture *f = *state;

	record(f, "hello.txt", hex_a, 1);
	record(f, "model/MLmodel", hex_a, 1);
	record(f, "model/data/w.bin", hex_b, 1);
	record(f, "a.txt", hex_b, 1);
	record(f, "a/x", hex_b, 1);
	record(f, "model.pkl", hex_b, 1);
	/* by name as MLflow sorts: the directory "a" before "a.txt" */
	expect_list(f, NULL, false, "a:d a.txt:1 hello.txt:1 model:d model.pkl:1");
	expect_list(f, "", false, "a:d a.txt:1 hello.txt:1 model:d model.pkl:1");
	expect_list(f, "model", false, "MLmodel:1 data:d");
	expect_list(f, "model/data", false, "w.bin:1");
	/* a file, a missing directory, a name prefix that is no directory: nothing */
	expect_list(f, "hello.txt", false, "");
	expect_list(f, "nope", false, "");
	expect_list(f, "mod", false, "");
	expect_list(f, "model", true, "model/MLmodel:1 model/data/w.bin:1");
	expect_list(f, "hello.txt", true, "hello.txt:1");
	expect_list(f, NULL, true,
		    "a.txt:1 a/x:1 hello.txt:1 model.pkl:1 model/MLmodel:1 model/data/w.bin:1");
}

static void test_record_replace_get_delete(void **state)
{
	struct fixture *f = *state;
	struct store_artifact a = STORE_ARTIFACT_INIT;
	struct error err = ERROR_INIT;
	int64_t n = -1;

	record(f, "m/x", hex_a, 1);
	record(f, "m/x", hex_b, 7); /* same path: replaced */
	assert_ok(store_artifact_get(f->st, &a, f->run, "m/x", &err));
	assert_string_equal(a.digest, hex_b);
	assert_int_equal(a.size, 7);
	assert_true(a.created_time > 0);
	store_artifact_release(&a);
	assert_int_equal(store_artifact_get(f->st, &a, f->run, "m", &err), ERR_NOTFOUND);
	assert_contains(err.msg, "has no artifact 'm'");
	record(f, "m/y", hex_a, 1);
	record(f, "my", hex_a, 1);
	/* a directory goes with everything under it, not with "my" beside it */
	assert_ok(store_artifact_delete(f->st, &n, f->run, "m", &err));
	assert_int_equal(n, 2);
	expect_list(f, NULL, false, "my:1");
	assert_ok(store_artifact_delete(f->st, &n, f->run, "nope", &err));
	assert_int_equal(n, 0);
	assert_ok(store_artifact_delete(f->st, &n, f->run, "my", &err));
	assert_int_equal(n, 1);
	record(f, "p/q", hex_a, 1);
	assert_ok(store_artifact_delete(f->st, &n, f->run, "", &err));
	assert_int_equal(n, 1);
	expect_list(f, NULL, true, "");
}

static void test_conflicts_and_bad_input(void **state)
{
	struct fixture *f = *state;
	struct store_artifacts list = STORE_ARTIFACTS_INIT;
	struct error err = ERROR_INIT;
	struct store_new_artifact batch[] = { { "ok", hex_a, 1 }, { "ok/sub", hex_a, 1 } };
	struct store_new_artifact a = { "x", hex_a, 1 };
	static const char *const bad[] = { "",	   "/abs", "a/../b", "..",  "./a",
					   "a//b", "a/",   "a\\b",   "a\nb" };

	record(f, "dir/file", hex_a, 1);
	a.path = "dir";
	assert_int_equal(store_artifact_record(f->st, f->run, &a, 1, &err), ERR_CONFLICT);
	assert_contains(err.msg, "is a directory");
	a.path = "dir/file/under";
	assert_int_equal(store_artifact_record(f->st, f->run, &a, 1, &err), ERR_CONFLICT);
	assert_contains(err.msg, "which is a file");
	/* a batch is all or nothing, conflicts within it too */
	assert_int_equal(store_artifact_record(f->st, f->run, batch, 2, &err), ERR_CONFLICT);
	expect_list(f, NULL, true, "dir/file:1");
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		a.path = bad[i];
		assert_int_equal(store_artifact_record(f->st, f->run, &a, 1, &err), ERR_INVALID);
		assert_contains(err.msg, "invalid artifact path");
	}
	a.path = "x";
	a.digest = "abc";
	assert_int_equal(store_artifact_record(f->st, f->run, &a, 1, &err), ERR_INVALID);
	a.digest = hex_a;
	a.size = -1;
	assert_int_equal(store_artifact_record(f->st, f->run, &a, 1, &err), ERR_INVALID);
	a.size = 1;
	assert_int_equal(
	    store_artifact_record(f->st, "0123456789abcdef0123456789abcdef", &a, 1, &err),
	    ERR_NOTFOUND);
	assert_int_equal(
	    store_artifact_list(f->st, &list, "0123456789abcdef0123456789abcdef", NULL, &err),
	    ERR_NOTFOUND);
	assert_int_equal(store_artifact_list(f->st, &list, f->run, "../x", &err), ERR_INVALID);
}

static int collect(const char *hex, void *data)
{
	struct strbuf *sb = data;

	strbuf_addf(sb, "%.8s ", hex);
	return 0;
}

static void test_digests_for_gc(void **state)
{
	struct fixture *f = *state;
	struct error err = ERROR_INIT;
	struct strbuf sb = STRBUF_INIT;
	struct store_new_run run = { 0 };
	char other[ID_HEX_LEN + 1];
	struct store_new_artifact a = { "same", hex_a, 1 };

	record(f, "a1", hex_a, 1);
	record(f, "a2", hex_a, 1);
	record(f, "b", hex_b, 1);
	assert_ok(store_run_create(f->st, other, &run, &err));
	assert_ok(store_artifact_record(f->st, other, &a, 1, &err));
	/* deleted runs keep their artifacts (and so their objects) */
	assert_ok(store_run_set_deleted(f->st, other, true, &err));
	assert_ok(store_artifact_digests(f->st, collect, &sb, &err));
	assert_true(strstr(sb.buf, "ca978112 ") && strstr(sb.buf, "3e23e816 "));
	assert_int_equal(sb.len, 2 * 9); /* distinct */
	strbuf_release(&sb);
}

static void test_track_buffer_file_and_read(void **state)
{
	struct fixture *f = *state;
	struct error err = ERROR_INIT;
	struct strbuf sb = STRBUF_INIT;
	struct store_artifact info = STORE_ARTIFACT_INIT;
	char hex[SHA256_HEX_SIZE], *file = test_path(f->dir, "b.txt"), *obj;
	int fd = -1;

	assert_ok(track_artifact_put_buffer(f->st, f->cas, f->run, "x/a.txt", "a", 1, hex, &err));
	assert_string_equal(hex, hex_a);
	assert_int_equal(cas_has(f->cas, hex_a), 1);
	test_write_file(file, "b");
	assert_ok(track_artifact_put_file(f->st, f->cas, f->run, "x/b.txt", file, hex, &err));
	assert_string_equal(hex, hex_b);
	/* the source file stays writable: never hardlinked */
	assert_int_equal(access(file, W_OK), 0);
	assert_ok(track_artifact_read(f->st, f->cas, f->run, "x/b.txt", &sb, 100, &err));
	assert_string_equal(sb.buf, "b");
	strbuf_reset(&sb);
	assert_int_equal(track_artifact_read(f->st, f->cas, f->run, "x/nope", &sb, 100, &err),
			 ERR_NOTFOUND);
	assert_ok(track_artifact_open(&fd, &info, f->st, f->cas, f->run, "x/a.txt", &err));
	assert_int_equal(info.size, 1);
	close(fd);
	store_artifact_release(&info);
	assert_int_equal(
	    track_artifact_put_buffer(f->st, f->cas, f->run, "../a", "a", 1, NULL, &err),
	    ERR_INVALID);

	/* a damaged object is refused, not served */
	obj = cas_object_path(f->cas, hex_b);
	assert_int_equal(chmod(obj, 0644), 0);
	test_write_file(obj, "c");
	assert_int_equal(track_artifact_read(f->st, f->cas, f->run, "x/b.txt", &sb, 100, &err),
			 ERR_INVALID);
	assert_contains(err.msg, "corrupted");
	assert_int_equal(track_artifact_open(&fd, NULL, f->st, f->cas, f->run, "x/b.txt", &err),
			 ERR_INVALID);
	assert_contains(err.msg, "artifact 'x/b.txt'");
	unlink(obj);
	assert_int_equal(track_artifact_open(&fd, NULL, f->st, f->cas, f->run, "x/b.txt", &err),
			 ERR_NOTFOUND);
	free(obj);
	free(file);
	strbuf_release(&sb);
}

static void test_track_dir_and_checkout(void **state)
{
	struct fixture *f = *state;
	struct error err = ERROR_INIT;
	struct strbuf sb = STRBUF_INIT;
	char *src = test_path(f->dir, "model"), *p, *out;
	size_t n = 0;

	p = test_path(src, "data");
	assert_ok(fs_mkdir_p(p, 0777, &err));
	free(p);
	p = test_path(src, "model.json");
	test_write_file(p, "a");
	free(p);
	p = test_path(src, "data/w.bin");
	test_write_file(p, "b");
	free(p);
	p = test_path(src, "copy.json");
	test_write_file(p, "a"); /* same bytes: one object */
	free(p);
	assert_ok(track_artifact_put_dir(f->st, f->cas, f->run, "model", src, &n, &err));
	assert_int_equal(n, 3);
	expect_list(f, "model", true, "model/copy.json:1 model/data/w.bin:1 model/model.json:1");
	expect_list(f, "model", false, "copy.json:1 data:d model.json:1");
	out = test_path(f->dir, "out/deep/w.bin");
	assert_ok(track_artifact_checkout(f->st, f->cas, f->run, "model/data/w.bin", out, &err));
	assert_ok(fs_read_file(&sb, out, 100, &err));
	assert_string_equal(sb.buf, "b");
	/* at the root, and a missing directory */
	assert_ok(track_artifact_put_dir(f->st, f->cas, f->run, NULL, src, &n, &err));
	expect_list(f, "data", false, "w.bin:1");
	free(out);
	out = test_path(f->dir, "missing");
	assert_int_equal(track_artifact_put_dir(f->st, f->cas, f->run, "m", out, &n, &err),
			 ERR_NOTFOUND);
	free(out);
	free(src);
	strbuf_release(&sb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_list_levels, setup, teardown),
		cmocka_unit_test_setup_teardown(test_record_replace_get_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_conflicts_and_bad_input, setup, teardown),
		cmocka_unit_test_setup_teardown(test_digests_for_gc, setup, teardown),
		cmocka_unit_test_setup_teardown(test_track_buffer_file_and_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_track_dir_and_checkout, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
