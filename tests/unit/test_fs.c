/* Unit tests for util/fs: atomic writes, capped reads, mkdir -p, rm -rf without following links. */
#include "util/common.h"
#include "helpers.h"
#include "util/fs.h"
#include "util/strbuf.h"

#include <dirent.h>

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

/* Reads a whole small file with stdio, independently of fs_read_file. */
static char *slurp(const char *path)
{
	static char buf[4096];
	FILE *fp = fopen(path, "rb");
	size_t n;

	assert_non_null(fp);
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	buf[n] = '\0';
	fclose(fp);
	return buf;
}

static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static void test_write_atomic(void **state)
{
	const char *dir = *state;
	char *path = test_path(dir, "out.txt");
	struct error err = ERROR_INIT;
	struct stat st;

	assert_int_equal(fs_write_atomic(path, "hello\n", 6, 0640, &err), 0);
	assert_string_equal(slurp(path), "hello\n");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	/* replacing keeps exactly one file: no temporary left behind */
	assert_int_equal(fs_write_atomic(path, "second", 6, 0600, &err), 0);
	assert_string_equal(slurp(path), "second");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(count_entries(dir), 1);
	/* empty content is fine */
	assert_int_equal(fs_write_atomic(path, "", 0, 0644, &err), 0);
	assert_string_equal(slurp(path), "");
	free(path);
}

static void test_write_atomic_failure(void **state)
{
	const char *dir = *state;
	char *missing = test_path(dir, "nodir/out.txt");
	char *target = test_path(dir, "target");
	char *inside = test_path(dir, "target/keep");
	struct error err = ERROR_INIT;

	assert_int_equal(fs_write_atomic(missing, "x", 1, 0644, &err), ERR_IO);
	assert_non_null(strstr(err.msg, missing));
	/* renaming over a non-empty directory fails: the directory and its file survive and the
	 * temporary file is removed */
	assert_int_equal(mkdir(target, 0755), 0);
	test_write_file(inside, "precious");
	error_clear(&err);
	assert_int_equal(fs_write_atomic(target, "x", 1, 0644, &err), ERR_IO);
	assert_non_null(strstr(err.msg, "cannot rename"));
	assert_true(fs_is_dir(target));
	assert_string_equal(slurp(inside), "precious");
	assert_int_equal(count_entries(dir), 1);
	free(missing);
	free(target);
	free(inside);
}

static void test_read_file(void **state)
{
	const char *dir = *state;
	char *path = test_path(dir, "in.txt");
	char *missing = test_path(dir, "missing.txt");
	struct strbuf sb = STRBUF_INIT;
	struct error err = ERROR_INIT;
	char expect[128];

	test_write_file(path, "0123456789");
	strbuf_addstr(&sb, "prefix:");
	assert_int_equal(fs_read_file(&sb, path, 10, &err), 0);
	assert_string_equal(sb.buf, "prefix:0123456789");
	assert_int_equal(sb.len, 17);

	assert_int_equal(fs_read_file(&sb, path, 9, &err), ERR_TOOBIG);
	snprintf(expect, sizeof(expect), "'%s' is larger than the limit of 9 bytes", path);
	assert_string_equal(err.msg, expect);
	assert_string_equal(sb.buf, "prefix:0123456789"); /* unchanged on failure */

	assert_int_equal(fs_read_file(&sb, missing, 100, &err), ERR_NOTFOUND);
	assert_non_null(strstr(err.msg, "missing.txt"));
	assert_non_null(strstr(err.msg, strerror(ENOENT)));

	assert_int_equal(fs_read_file(&sb, dir, 100, &err), ERR_IO);
	assert_non_null(strstr(err.msg, strerror(EISDIR)));
	assert_int_equal(sb.len, 17);
	strbuf_release(&sb);
	free(path);
	free(missing);
}

static void test_read_file_large(void **state)
{
	const char *dir = *state;
	char *path = test_path(dir, "big");
	struct strbuf sb = STRBUF_INIT;
	struct error err = ERROR_INIT;
	size_t size = 200000;
	char *data = xmalloc(size);
	FILE *fp;

	for (size_t i = 0; i < size; i++)
		data[i] = (char)('a' + i % 26);
	fp = fopen(path, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(data, 1, size, fp), size);
	fclose(fp);
	assert_int_equal(fs_read_file(&sb, path, size, &err), 0);
	assert_int_equal(sb.len, size);
	assert_memory_equal(sb.buf, data, size);
	strbuf_release(&sb);
	free(data);
	free(path);
}

static void test_mkdir_p(void **state)
{
	const char *dir = *state;
	char *deep = test_path(dir, "a/b//c/");
	char *abc = test_path(dir, "a/b/c");
	char *file = test_path(dir, "f");
	char *under_file = test_path(dir, "f/sub");
	struct error err = ERROR_INIT;

	assert_int_equal(fs_mkdir_p(deep, 0755, &err), 0);
	assert_true(fs_is_dir(abc));
	assert_int_equal(fs_mkdir_p(abc, 0755, &err), 0); /* exists already */
	test_write_file(file, "x");
	assert_int_equal(fs_mkdir_p(file, 0755, &err), ERR_IO);
	assert_non_null(strstr(err.msg, "a file is in the way"));
	assert_int_equal(fs_mkdir_p(under_file, 0755, &err), ERR_IO);
	assert_int_equal(fs_mkdir_p("", 0755, &err), ERR_INVALID);
	free(deep);
	free(abc);
	free(file);
	free(under_file);
}

static void test_exists_is_dir(void **state)
{
	const char *dir = *state;
	char *file = test_path(dir, "file");
	char *dangling = test_path(dir, "dangling");
	char *nothing = test_path(dir, "nothing");

	test_write_file(file, "x");
	assert_int_equal(symlink("does-not-exist", dangling), 0);
	assert_true(fs_is_dir(dir));
	assert_false(fs_is_dir(file));
	assert_true(fs_exists(file));
	assert_true(fs_exists(dangling));
	assert_false(fs_is_dir(dangling));
	assert_false(fs_exists(nothing));
	free(file);
	free(dangling);
	free(nothing);
}

static void test_remove_tree(void **state)
{
	const char *dir = *state;
	char *tree = test_path(dir, "tree");
	char *outside = test_path(dir, "outside");
	char *outside_file = test_path(dir, "outside/keep.txt");
	char *p;
	struct error err = ERROR_INIT;

	p = test_path(dir, "tree/a/b/c");
	assert_int_equal(fs_mkdir_p(p, 0755, &err), 0);
	free(p);
	p = test_path(dir, "tree/a/b/c/deep.txt");
	test_write_file(p, "x");
	free(p);
	p = test_path(dir, "tree/top.txt");
	test_write_file(p, "x");
	free(p);
	assert_int_equal(mkdir(outside, 0755), 0);
	test_write_file(outside_file, "keep me");
	/* links into another directory must be removed, not followed */
	p = test_path(dir, "tree/a/link-to-outside");
	assert_int_equal(symlink(outside, p), 0);
	free(p);

	assert_int_equal(fs_remove_tree(tree, &err), 0);
	assert_false(fs_exists(tree));
	assert_string_equal(slurp(outside_file), "keep me");
	/* missing is fine */
	assert_int_equal(fs_remove_tree(tree, &err), 0);
	/* a symlink to a directory, even spelled "link/", only loses the link */
	p = test_path(dir, "link");
	assert_int_equal(symlink(outside, p), 0);
	free(p);
	p = test_path(dir, "link/");
	assert_int_equal(fs_remove_tree(p, &err), 0);
	free(p);
	p = test_path(dir, "link");
	assert_false(fs_exists(p));
	free(p);
	assert_string_equal(slurp(outside_file), "keep me");
	/* a plain file */
	assert_int_equal(fs_remove_tree(outside_file, &err), 0);
	assert_false(fs_exists(outside_file));
	assert_int_equal(fs_remove_tree("/", &err), ERR_INVALID);
	free(tree);
	free(outside);
	free(outside_file);
}

static void test_path_join(void **state)
{
	static const char *const cases[][3] = {
		{ "a", "b", "a/b" },
		{ "a/", "b", "a/b" },
		{ "a//", "b/c", "a/b/c" },
		{ "/", "etc", "/etc" },
		{ "", "b", "b" },
		{ "a", "/abs", "/abs" },
		{ ".ferry", "config.yaml", ".ferry/config.yaml" },
		{ "a", "", "a" },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char *j = fs_path_join(cases[i][0], cases[i][1]);

		assert_string_equal(j, cases[i][2]);
		free(j);
	}
}

static void test_realpath_fsync(void **state)
{
	const char *dir = *state;
	char *sub = test_path(dir, "real");
	char *link = test_path(dir, "alias");
	char *via = test_path(dir, "alias/../real");
	char *missing = test_path(dir, "missing/x");
	char *res = NULL, *real_sub = NULL;
	struct error err = ERROR_INIT;

	assert_int_equal(mkdir(sub, 0755), 0);
	real_sub = realpath(sub, NULL);
	assert_non_null(real_sub);
	assert_int_equal(symlink("real", link), 0);
	assert_int_equal(fs_realpath(&res, link, &err), 0);
	assert_string_equal(res, real_sub);
	free(res);
	res = NULL;
	assert_int_equal(fs_realpath(&res, via, &err), 0);
	assert_string_equal(res, real_sub);
	free(res);
	res = NULL;
	assert_int_equal(fs_realpath(&res, missing, &err), ERR_NOTFOUND);
	assert_null(res);
	assert_int_equal(fs_fsync_dir(dir, &err), 0);
	assert_int_equal(fs_fsync_dir(missing, &err), ERR_IO);
	free(sub);
	free(link);
	free(via);
	free(missing);
	free(real_sub);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_write_atomic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_atomic_failure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_file_large, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mkdir_p, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exists_is_dir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_remove_tree, setup, teardown),
		cmocka_unit_test(test_path_join),
		cmocka_unit_test_setup_teardown(test_realpath_fsync, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
