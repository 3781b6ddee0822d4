/*
 * Unit tests for data/manifest: the exact bytes of a hand-written example, byte order, escaping
 * round trips, and a line-numbered error for every kind of malformed input.
 */
#include "util/common.h"
#include "helpers.h"
#include "data/manifest.h"
#include "util/strbuf.h"

#define H_EMPTY "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define H_ABC "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define H_ONES "1111111111111111111111111111111111111111111111111111111111111111"

/* Written by hand from the format in manifest.h: sorted by bytes, escapes, modes, sizes. */
static const char example[] =
    "ferry-manifest 1\n" H_ABC " 3 644 B.csv\n" H_EMPTY " 0 755 a b/run.sh\n" H_ONES
    " 18446744073709551609 644 a/tab\\there\n" H_ABC " 3 644 a/x\\\\y\\nz\\r\n" H_EMPTY
    " 0 644 \xc3\xa9t\xc3\xa9/caf\xc3\xa9.txt\n";

static void test_serialize_example(void **state)
{
	struct manifest m = MANIFEST_INIT;
	struct strbuf out = STRBUF_INIT;

	(void)state;
	/* added out of order; sorting puts them in byte order */
	manifest_add(&m, "\xc3\xa9t\xc3\xa9/caf\xc3\xa9.txt", H_EMPTY, 0, 0);
	manifest_add(&m, "a/x\\y\nz\r", H_ABC, 3, 0);
	manifest_add(&m, "a b/run.sh", H_EMPTY, 0, 1);
	manifest_add(&m, "B.csv", H_ABC, 3, 0);
	manifest_add(&m, "a/tab\there", H_ONES, UINT64_MAX - 6, 0);
	manifest_sort(&m);
	manifest_serialize(&m, &out);
	assert_int_equal(out.len, sizeof(example) - 1);
	assert_memory_equal(out.buf, example, sizeof(example) - 1);
	assert_true(manifest_total_size(&m) == UINT64_MAX);
	strbuf_release(&out);
	manifest_release(&m);
}

static void test_parse_example(void **state)
{
	struct manifest m = MANIFEST_INIT;
	struct error err = ERROR_INIT;
	struct strbuf out = STRBUF_INIT;

	(void)state;
	if (manifest_parse(&m, "m", example, sizeof(example) - 1, &err))
		fail_msg("%s", err.msg);
	assert_int_equal(m.nr, 5);
	assert_string_equal(m.items[0].path, "B.csv");
	assert_int_equal(m.items[0].size, 3);
	assert_string_equal(m.items[0].hex, H_ABC);
	assert_int_equal(m.items[0].executable, 0);
	assert_string_equal(m.items[1].path, "a b/run.sh");
	assert_int_equal(m.items[1].executable, 1);
	assert_string_equal(m.items[2].path, "a/tab\there");
	assert_true(m.items[2].size == UINT64_MAX - 6);
	assert_string_equal(m.items[3].path, "a/x\\y\nz\r");
	assert_string_equal(m.items[4].path, "\xc3\xa9t\xc3\xa9/caf\xc3\xa9.txt");
	assert_string_equal(m.items[4].hex, H_EMPTY);
	assert_true(manifest_total_size(&m) == UINT64_MAX);
	assert_ptr_equal(manifest_find(&m, "a/x\\y\nz\r"), &m.items[3]);
	assert_ptr_equal(manifest_find(&m, "B.csv"), &m.items[0]);
	assert_ptr_equal(manifest_find(&m, "\xc3\xa9t\xc3\xa9/caf\xc3\xa9.txt"), &m.items[4]);
	assert_null(manifest_find(&m, "a/x"));
	assert_null(manifest_find(&m, "b.csv"));
	assert_null(manifest_find(&m, ""));
	manifest_serialize(&m, &out);
	assert_int_equal(out.len, sizeof(example) - 1);
	assert_memory_equal(out.buf, example, sizeof(example) - 1);
	strbuf_release(&out);
	manifest_release(&m);
	manifest_release(&m); /* twice is fine */
	manifest_release(NULL);
}

static void test_byte_order(void **state)
{
	static const char *const sorted[] = { "A",   "B",   "Z",  "_", "a", "a b",     "a-b",
					      "a.b", "a/b", "a0", "b", "z", "\xc3\xa9" };
	struct manifest m = MANIFEST_INIT;

	(void)state;
	for (size_t i = ARRAY_SIZE(sorted); i-- > 0;)
		manifest_add(&m, sorted[i], H_EMPTY, 0, 0);
	manifest_sort(&m);
	for (size_t i = 0; i < ARRAY_SIZE(sorted); i++)
		assert_string_equal(m.items[i].path, sorted[i]);
	manifest_release(&m);
}

static void test_escaping_round_trip(void **state)
{
	static const char *const names[] = {
		"with space",
		"new\nline",
		"tab\tbed",
		"back\\slash",
		"\\\\n",
		"cr\r",
		"\xe6\x97\xa5\xe6\x9c\xac/\xf0\x9f\x9a\x80",
		"dir/ x /\\t",
		"trailing \\",
		"\x01\x7f\xff",
		"n",
	};
	struct manifest m = MANIFEST_INIT, back = MANIFEST_INIT;
	struct strbuf out = STRBUF_INIT, again = STRBUF_INIT;
	struct error err = ERROR_INIT;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		manifest_add(&m, names[i], H_ABC, i * 1000, (int)(i & 1));
	manifest_sort(&m);
	manifest_serialize(&m, &out);
	/* every entry is one line: header + one per name */
	{
		size_t lines = 0;

		for (size_t i = 0; i < out.len; i++)
			lines += out.buf[i] == '\n';
		assert_int_equal(lines, 1 + ARRAY_SIZE(names));
		assert_null(memchr(out.buf, '\t', out.len));
		assert_null(memchr(out.buf, '\r', out.len));
	}
	if (manifest_parse(&back, "m", out.buf, out.len, &err))
		fail_msg("%s", err.msg);
	assert_int_equal(back.nr, m.nr);
	for (size_t i = 0; i < m.nr; i++) {
		assert_string_equal(back.items[i].path, m.items[i].path);
		assert_string_equal(back.items[i].hex, m.items[i].hex);
		assert_int_equal(back.items[i].size, m.items[i].size);
		assert_int_equal(back.items[i].executable, m.items[i].executable);
	}
	manifest_serialize(&back, &again);
	assert_int_equal(again.len, out.len);
	assert_memory_equal(again.buf, out.buf, out.len);
	strbuf_release(&again);
	strbuf_release(&out);
	manifest_release(&back);
	manifest_release(&m);
}

static void test_empty_manifest(void **state)
{
	struct manifest m = MANIFEST_INIT;
	struct strbuf out = STRBUF_INIT;
	struct error err = ERROR_INIT;

	(void)state;
	manifest_sort(&m);
	manifest_serialize(&m, &out);
	assert_string_equal(out.buf, "ferry-manifest 1\n");
	assert_int_equal(manifest_parse(&m, "m", out.buf, out.len, &err), 0);
	assert_int_equal(m.nr, 0);
	assert_int_equal(manifest_total_size(&m), 0);
	assert_null(manifest_find(&m, "a"));
	strbuf_release(&out);
}

struct bad_case {
	const char *input; /* the manifest, NUL-terminated unless len is set */
	size_t len;
	const char *msg; /* the exact error message */
};

#define L(path) H_ABC " 3 644 " path "\n"
#define HDR "ferry-manifest 1\n"

static const struct bad_case bad_cases[] = {
	{ "", 0, "m:1: expected the header 'ferry-manifest 1'" },
	{ "ferry-manifest 2\n", 0, "m:1: expected the header 'ferry-manifest 1'" },
	{ "ferry-manifest 1", 0, "m:1: expected the header 'ferry-manifest 1'" },
	{ "ferry-manifest 1\r\n", 0, "m:1: expected the header 'ferry-manifest 1'" },
	{ HDR "\n", 0, "m:2: expected a 64-digit lowercase hex digest" },
	{ HDR "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD 3 644 a\n", 0,
	  "m:2: expected a 64-digit lowercase hex digest" },
	{ HDR "ba7816bf 3 644 a\n", 0, "m:2: expected a 64-digit lowercase hex digest" },
	{ HDR H_ABC "0 3 644 a\n", 0, "m:2: expected a space after the digest" },
	{ HDR H_ABC "\t3 644 a\n", 0, "m:2: expected a space after the digest" },
	{ HDR H_ABC " 03 644 a\n", 0, "m:2: expected a size in bytes (digits, no leading zeros)" },
	{ HDR H_ABC " -3 644 a\n", 0, "m:2: expected a size in bytes (digits, no leading zeros)" },
	{ HDR H_ABC " +3 644 a\n", 0, "m:2: expected a size in bytes (digits, no leading zeros)" },
	{ HDR H_ABC "  3 644 a\n", 0, "m:2: expected a size in bytes (digits, no leading zeros)" },
	{ HDR H_ABC " 18446744073709551616 644 a\n", 0,
	  "m:2: expected a size in bytes (digits, no leading zeros)" },
	{ HDR H_ABC " 3x 644 a\n", 0, "m:2: expected a size in bytes (digits, no leading zeros)" },
	{ HDR H_ABC " 3\n", 0, "m:2: expected a size in bytes (digits, no leading zeros)" },
	{ HDR H_ABC " 3 600 a\n", 0, "m:2: expected mode 644 or 755" },
	{ HDR H_ABC " 3 0644 a\n", 0, "m:2: expected mode 644 or 755" },
	{ HDR H_ABC " 3 644\n", 0, "m:2: expected mode 644 or 755" },
	{ HDR H_ABC " 3 644 \n", 0, "m:2: path '' is empty" },
	{ HDR L("/etc/passwd"), 0, "m:2: path '/etc/passwd' is absolute" },
	{ HDR L("a//b"), 0, "m:2: path 'a//b' has an empty component" },
	{ HDR L("a/"), 0, "m:2: path 'a/' has an empty component" },
	{ HDR L("a/../../b"), 0, "m:2: path 'a/../../b' has a '.' or '..' component" },
	{ HDR L("./a"), 0, "m:2: path './a' has a '.' or '..' component" },
	{ HDR L(".."), 0, "m:2: path '..' has a '.' or '..' component" },
	{ HDR L("a\\q"), 0, "m:2: path has an unknown escape '\\q'" },
	{ HDR L("a\\"), 0, "m:2: path ends with a lone backslash" },
	{ HDR L("a\tb"), 0, "m:2: path has a raw tab byte; it must be escaped or absent" },
	{ HDR L("a\r"), 0,
	  "m:2: path has a raw carriage return byte; it must be escaped or absent" },
	{ HDR H_ABC " 3 644 a\0b\n", sizeof(HDR H_ABC " 3 644 a\0b\n") - 1,
	  "m:2: path has a raw NUL byte; it must be escaped or absent" },
	{ HDR L("a") L("a"), 0, "m:3: duplicate path 'a'" },
	{ HDR L("a") L("b") L("B"), 0,
	  "m:4: path 'B' is out of order (entries are sorted by bytes)" },
	{ HDR L("a") L("a/b"), 0, "m:3: 'a/b' is inside 'a', which is a file" },
	{ HDR L("d/a") L("d/a-b") L("d/a/c/e"), 0,
	  "m:4: 'd/a/c/e' is inside 'd/a', which is a file" },
	{ HDR L("a") H_ABC " 3 644 b", 0, "m:3: the last line does not end with a newline" },
	{ HDR H_ABC " 18446744073709551615 644 a\n" H_ABC " 1 644 b\n", 0,
	  "m:3: the sizes add up to more than 2^64 bytes" },
	{ HDR L("a") "\n", 0, "m:3: expected a 64-digit lowercase hex digest" },
};

static void test_parse_errors(void **state)
{
	struct manifest m = MANIFEST_INIT;
	struct error err = ERROR_INIT;

	(void)state;
	/* out must stay untouched by a failing parse */
	manifest_add(&m, "keep", H_EMPTY, 0, 0);
	for (size_t i = 0; i < ARRAY_SIZE(bad_cases); i++) {
		const struct bad_case *c = &bad_cases[i];
		size_t len = c->len ? c->len : strlen(c->input);

		error_clear(&err);
		if (manifest_parse(&m, "m", c->input, len, &err) != ERR_INVALID)
			fail_msg("case %zu was accepted", i);
		if (strcmp(err.msg, c->msg))
			fail_msg("case %zu: got \"%s\", expected \"%s\"", i, err.msg, c->msg);
		assert_int_equal(m.nr, 1);
		assert_string_equal(m.items[0].path, "keep");
	}
	assert_int_equal(manifest_parse(&m, "m", HDR, MANIFEST_MAX_SIZE + 1, &err), ERR_TOOBIG);
	assert_non_null(strstr(err.msg, "larger"));
	manifest_release(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_serialize_example),
		cmocka_unit_test(test_parse_example),
		cmocka_unit_test(test_byte_order),
		cmocka_unit_test(test_escaping_round_trip),
		cmocka_unit_test(test_empty_manifest),
		cmocka_unit_test(test_parse_errors),
	};

	return cmocka_run_group_tests_name("manifest", tests, NULL, NULL);
}
