/* Pointer files: exact text written, strict reading with positions, digests. */
#include "util/common.h"
#include "helpers.h"
#include "data/pointer.h"
#include "util/strbuf.h"

#define HEX "6c5c9b0c1a7d6e3f0e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934"

static void test_format_exact_text(void **state)
{
	struct pointer p = POINTER_INIT;
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	memcpy(p.hex, HEX, sizeof(HEX));
	p.size = 600;
	p.is_dir = 1;
	p.nfiles = 3;
	p.desc = xstrdup("cats \"and\"\tdogs\n");
	pointer_format(&p, &sb);
	assert_string_equal(
	    sb.buf, "# ferry data pointer: commit this file; 'ferry data checkout' restores "
		    "the data\n"
		    "digest: sha256:" HEX "\n"
		    "size: 600\n"
		    "files: 3\n"
		    "desc: \"cats \\\"and\\\"\\tdogs\\n\"\n");
	strbuf_release(&sb);
	pointer_release(&p);
}

static void test_parse_file_and_dir(void **state)
{
	struct pointer p = POINTER_INIT;
	struct error err = ERROR_INIT;
	const char *file = "digest: sha256:" HEX "\nsize: 12\n";
	const char *dir = "digest: sha256:" HEX "\nsize: 18446744073709551615\nfiles: 2\n"
			  "desc: 'x'\n";

	(void)state;
	assert_int_equal(pointer_parse(&p, "a.ferry", file, strlen(file), &err), 0);
	assert_string_equal(p.hex, HEX);
	assert_int_equal(p.size, 12);
	assert_false(p.is_dir);
	assert_null(p.desc);
	assert_int_equal(pointer_parse(&p, "b.ferry", dir, strlen(dir), &err), 0);
	assert_true(p.size == UINT64_MAX);
	assert_true(p.is_dir);
	assert_int_equal(p.nfiles, 2);
	assert_string_equal(p.desc, "x");
	pointer_release(&p);
}

static void expect_error(const char *text, const char *msg)
{
	struct pointer p = POINTER_INIT;
	struct error err = ERROR_INIT;

	assert_int_equal(pointer_parse(&p, "t.ferry", text, strlen(text), &err), ERR_INVALID);
	assert_string_equal(err.msg, msg);
	pointer_release(&p);
}

static void test_errors(void **state)
{
	(void)state;
	expect_error("digest: sha256:abc\nsize: 1\n",
		     "t.ferry:1:9: 'digest' must be sha256: followed by 64 lowercase hex digits, "
		     "got 'sha256:abc'");
	expect_error("digest: sha256:" HEX "\nsize: -3\n",
		     "t.ferry:2:7: 'size' must be a non-negative integer, got -3");
	expect_error("digest: sha256:" HEX "\nsize: 1x\n",
		     "t.ferry:2:7: 'size' must be a non-negative integer, got '1x'");
	expect_error("digest: sha256:" HEX "\nsize: 99999999999999999999\n",
		     "t.ferry:2:7: 'size' must be a non-negative integer, got "
		     "'99999999999999999999'");
	expect_error("digest: sha256:" HEX "\n", "t.ferry: missing 'size'");
	expect_error("size: 1\n", "t.ferry: missing 'digest'");
	expect_error("digest: sha256:" HEX "\nsize: 1\nsise: 1\n",
		     "t.ferry:3:1: unknown key 'sise'; did you mean 'size'?");
	expect_error("- a\n",
		     "t.ferry: not a ferry pointer file: expected a mapping with 'digest' and "
		     "'size'");
}

static void test_digest_parse(void **state)
{
	char hex[SHA256_HEX_SIZE];

	(void)state;
	assert_int_equal(digest_parse(hex, "sha256:" HEX), 0);
	assert_string_equal(hex, HEX);
	assert_int_equal(digest_parse(hex, HEX), ERR_INVALID);
	assert_int_equal(digest_parse(hex, "sha256:" HEX "0"), ERR_INVALID);
	assert_int_equal(digest_parse(hex, "sha256:6C5C9B0C1A7D6E3F0E3B0C44298FC1C149AFBF4C8996FB92"
					   "427AE41E4649B934"),
			 ERR_INVALID);
}

static void test_write_and_load(void **state)
{
	char *dir = test_tmpdir(), *path = test_path(dir, "x.csv.ferry");
	struct pointer p = POINTER_INIT, q = POINTER_INIT;
	struct error err = ERROR_INIT;

	(void)state;
	memcpy(p.hex, HEX, sizeof(HEX));
	p.size = 5;
	assert_int_equal(pointer_write(&p, path, &err), 0);
	assert_int_equal(pointer_load(&q, path, &err), 0);
	assert_string_equal(q.hex, HEX);
	assert_int_equal(q.size, 5);
	free(path);
	path = test_path(dir, "missing.ferry");
	assert_int_equal(pointer_load(&q, path, &err), ERR_NOTFOUND);
	free(path);
	test_tmpdir_remove(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_exact_text),
		cmocka_unit_test(test_parse_file_and_dir),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_digest_parse),
		cmocka_unit_test(test_write_and_load),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
