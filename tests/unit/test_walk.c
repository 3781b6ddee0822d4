/* Unit tests for data/walk_scan: the compact listing's order, stats and refusals. */
#include "util/common.h"
#include "helpers.h"
#include "data/walk.h"

static int setup(void **state)
{
	*state = test_tmpdir();
	return 0;
}

static int teardown(void **state)
{
	test_tmpdir_remove(*state);
	return 0;
}

static void make(const char *top, const char *rel)
{
	char *path = test_path(top, rel);

	test_write_file(path, rel);
	free(path);
}

static void mkdirs(const char *top, const char *rel)
{
	char *path = test_path(top, rel);

	assert_int_equal(mkdir(path, 0755), 0);
	free(path);
}

/*
 * Byte order of whole paths, written out by hand: '!', ' ', '-' and '.' sort before '/', so
 * "t/a.b" precedes "t/a/c" although the directory "a" precedes the name "a.b".
 */
static void test_order_and_stats(void **state)
{
	const char *top = *state;
	static const char *const want[] = {
		"t/B",	   "t/Z.",  "t/a b",  "t/a!x", "t/a-b",	  "t/a.b",
		"t/a/b/c", "t/a/c", "t/a0/q", "t/z.y", "t/z/y/x",
	};
	struct walk_scan s = WALK_SCAN_INIT;
	struct error err = ERROR_INIT;
	struct stat st;
	char *path;

	mkdirs(top, "a");
	mkdirs(top, "a/b");
	mkdirs(top, "a0");
	mkdirs(top, "z");
	mkdirs(top, "z/y");
	mkdirs(top, "empty");
	for (size_t i = 0; i < ARRAY_SIZE(want); i++)
		make(top, want[i] + 2);
	path = test_path(top, "a.b");
	assert_int_equal(chmod(path, 0755), 0);
	assert_int_equal(walk_scan_dir(&s, top, "t", &err), 0);
	assert_int_equal(s.nr, ARRAY_SIZE(want));
	for (size_t i = 0; i < s.nr; i++)
		assert_string_equal(s.items[i].path, want[i]);
	assert_int_equal(lstat(path, &st), 0);
	assert_int_equal(s.items[5].st.size, 3);
	assert_int_equal(s.items[5].st.ino, (uint64_t)st.st_ino);
	assert_int_equal(s.items[5].st.mtime_ns,
			 (int64_t)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec);
	assert_int_equal(s.items[5].st.ctime_ns,
			 (int64_t)st.st_ctim.tv_sec * 1000000000LL + st.st_ctim.tv_nsec);
	assert_true(s.items[5].executable);
	assert_false(s.items[0].executable);
	walk_scan_release(&s);
	/* without a prefix, paths are relative to the walked directory */
	assert_int_equal(walk_scan_dir(&s, top, "", &err), 0);
	assert_string_equal(s.items[0].path, "B");
	walk_scan_release(&s);
	free(path);
}

static void test_refusals(void **state)
{
	const char *top = *state;
	struct walk_scan s = WALK_SCAN_INIT;
	struct error err = ERROR_INIT;
	char *link = test_path(top, "d/link");
	char *missing = test_path(top, "nope");

	mkdirs(top, "d");
	make(top, "d/file");
	assert_int_equal(symlink("file", link), 0);
	assert_int_equal(walk_scan_dir(&s, top, "t", &err), ERR_INVALID);
	assert_non_null(strstr(err.msg, "d/link' is a symbolic link"));
	assert_null(s.items);
	assert_int_equal(walk_scan_dir(&s, missing, "t", &err), ERR_NOTFOUND);
	free(link);
	free(missing);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_order_and_stats, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
