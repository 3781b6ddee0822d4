/*
 * Unit tests for util/json: positioned parse errors (columns worked out by hand from the
 * inputs), typed getters, and the exact bytes of pretty and compact dumps.
 */
#include "util/common.h"
#include "helpers.h"
#include "util/json.h"

static void expect_error(const char *input, size_t len, const char *msg)
{
	struct error err = ERROR_INIT;
	json_t *j = (json_t *)0x1;

	assert_int_equal(json_load_buffer(&j, "t.json", input, len, &err), ERR_INVALID);
	assert_ptr_equal(j, (json_t *)0x1);
	assert_int_equal(err.code, ERR_INVALID);
	assert_string_equal(err.msg, msg);
}

#define EXPECT_ERROR(lit, msg) expect_error((lit), sizeof(lit) - 1, (msg))

static void test_load_errors(void **state)
{
	(void)state;
	/* the second "a" starts at column 10 */
	EXPECT_ERROR("{\"a\": 1, \"a\": 2}", "t.json:1:10: duplicate object key near '\"a\"'");
	/* line 2 is `  "a": tru`: the t is column 8 */
	EXPECT_ERROR("{\n  \"a\": tru\n}", "t.json:2:8: invalid token near 'tru'");
	EXPECT_ERROR("{\"a\": 1,}", "t.json:1:9: string or '}' expected near '}'");
	EXPECT_ERROR("[1,\n2,\n", "t.json:3:1: ']' expected near end of file");
	EXPECT_ERROR("", "t.json:1:1: '[' or '{' expected near end of file");
	EXPECT_ERROR("\"x\"", "t.json:1:1: '[' or '{' expected near '\"x\"'");
	/* columns count characters: the é is one column, so x is column 7 */
	EXPECT_ERROR("{\"\xc3\xa9\": x}", "t.json:1:7: invalid token near 'x'");
	EXPECT_ERROR("[99999999999999999999]",
		     "t.json:1:2: too big integer near '99999999999999999999'");
	EXPECT_ERROR("{\"a\": \"\xff\"}", "t.json:1:7: unable to decode byte 0xff near '\"'");
	EXPECT_ERROR("[1] x", "t.json:1:5: end of file expected near 'x'");
}

static void test_load_rejects_nul(void **state)
{
	struct error err = ERROR_INIT;
	json_t *j = NULL;

	(void)state;
	assert_int_equal(json_load_buffer(&j, "t.json", "[\"a\\u0000b\"]", 12, &err), ERR_INVALID);
	assert_non_null(strstr(err.msg, "t.json:1:"));
	assert_null(j);
}

static void test_load_ok_and_length(void **state)
{
	const char buf[] = "{\"k\": [1, 2.5, \"s\"]}GARBAGE";
	struct error err = ERROR_INIT;
	json_t *j = NULL;

	(void)state;
	/* only len bytes are parsed: the garbage after them is not seen */
	assert_int_equal(json_load_buffer(&j, "t.json", buf, 20, &err), 0);
	assert_true(json_is_object(j));
	assert_int_equal(json_array_size(json_object_get(j, "k")), 3);
	json_decref(j);
}

static json_t *fixture(void)
{
	const char text[] = "{\"s\": \"str\", \"i\": 42, \"big\": 9007199254740993, \"neg\": -5,"
			    " \"d\": 2.5, \"b\": true, \"f\": false, \"n\": null, \"arr\": [1]}";
	struct error err = ERROR_INIT;
	json_t *j = NULL;

	assert_int_equal(json_load_buffer(&j, "f", text, strlen(text), &err), 0);
	return j;
}

static void test_get_string(void **state)
{
	json_t *j = fixture();
	struct error err = ERROR_INIT;
	const char *s = "untouched";

	(void)state;
	assert_int_equal(json_get_string(j, "s", &s, 1, &err), 0);
	assert_string_equal(s, "str");
	s = "untouched";
	assert_int_equal(json_get_string(j, "i", &s, 1, &err), ERR_INVALID);
	assert_string_equal(err.msg, "field 'i': expected a string, got number");
	assert_int_equal(json_get_string(j, "zz", &s, 1, &err), ERR_INVALID);
	assert_string_equal(err.msg, "missing required field 'zz'");
	assert_int_equal(json_get_string(j, "n", &s, 1, &err), ERR_INVALID);
	assert_string_equal(err.msg, "missing required field 'n'");
	assert_int_equal(json_get_string(j, "zz", &s, 0, &err), 0);
	assert_int_equal(json_get_string(j, "n", &s, 0, &err), 0);
	assert_string_equal(s, "untouched");
	assert_int_equal(json_get_string(json_object_get(j, "arr"), "x", &s, 0, &err), ERR_INVALID);
	assert_string_equal(err.msg, "reading field 'x': expected an object, got array");
	json_decref(j);
}

static void test_get_numbers_and_bools(void **state)
{
	json_t *j = fixture();
	struct error err = ERROR_INIT;
	int64_t i = 0;
	double d = 0;
	int b = -1;

	(void)state;
	assert_int_equal(json_get_int(j, "i", &i, 1, &err), 0);
	assert_true(i == 42);
	/* 2^53 + 1 survives: integers are not squeezed through a double */
	assert_int_equal(json_get_int(j, "big", &i, 1, &err), 0);
	assert_true(i == INT64_C(9007199254740993));
	assert_int_equal(json_get_int(j, "neg", &i, 1, &err), 0);
	assert_true(i == -5);
	assert_int_equal(json_get_int(j, "d", &i, 1, &err), ERR_INVALID);
	assert_string_equal(err.msg, "field 'd': expected an integer, got number");
	assert_int_equal(json_get_int(j, "s", &i, 0, &err), ERR_INVALID);
	assert_string_equal(err.msg, "field 's': expected an integer, got string");
	assert_true(i == -5);

	assert_int_equal(json_get_double(j, "d", &d, 1, &err), 0);
	assert_true(d == 2.5);
	assert_int_equal(json_get_double(j, "i", &d, 1, &err), 0);
	assert_true(d == 42.0);
	assert_int_equal(json_get_double(j, "b", &d, 1, &err), ERR_INVALID);
	assert_string_equal(err.msg, "field 'b': expected a number, got boolean");

	assert_int_equal(json_get_bool(j, "b", &b, 1, &err), 0);
	assert_int_equal(b, 1);
	assert_int_equal(json_get_bool(j, "f", &b, 1, &err), 0);
	assert_int_equal(b, 0);
	b = -1;
	assert_int_equal(json_get_bool(j, "n", &b, 0, &err), 0);
	assert_int_equal(b, -1);
	assert_int_equal(json_get_bool(j, "arr", &b, 1, &err), ERR_INVALID);
	assert_string_equal(err.msg, "field 'arr': expected a boolean, got array");
	json_decref(j);
}

static void test_dump_file(void **state)
{
	static const char expect[] = "{\n"
				     "  \"a\": [\n"
				     "    1,\n"
				     "    2\n"
				     "  ],\n"
				     "  \"b\": 1,\n"
				     "  \"c\": {\n"
				     "    \"x\": null,\n"
				     "    \"y\": \"z\"\n"
				     "  }\n"
				     "}\n";
	char *dir = test_tmpdir();
	char *path = test_path(dir, "out.json");
	struct error err = ERROR_INIT;
	json_t *j = json_object(), *back = NULL;
	char buf[256];
	struct stat st;
	FILE *fp;
	size_t n;

	(void)state;
	/* inserted out of order: the file has them sorted */
	json_object_set_new(j, "c", json_pack("{s:s, s:n}", "y", "z", "x"));
	json_object_set_new(j, "b", json_integer(1));
	json_object_set_new(j, "a", json_pack("[i,i]", 1, 2));
	assert_int_equal(json_dump_file_atomic(j, path, &err), 0);
	fp = fopen(path, "rb");
	assert_non_null(fp);
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	buf[n] = '\0';
	fclose(fp);
	assert_string_equal(buf, expect);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);

	assert_int_equal(json_load_path(&back, path, 1024, &err), 0);
	assert_true(json_equal(back, j));
	json_decref(back);
	assert_int_equal(json_load_path(&back, path, 10, &err), ERR_TOOBIG);
	free(path);
	path = test_path(dir, "missing.json");
	assert_int_equal(json_load_path(&back, path, 10, &err), ERR_NOTFOUND);
	test_write_file(path, "{\n\"a\": }\n");
	assert_int_equal(json_load_path(&back, path, 100, &err), ERR_INVALID);
	snprintf(buf, sizeof(buf), "%s:2:6: unexpected token near '}'", path);
	assert_string_equal(err.msg, buf);
	json_decref(j);
	free(path);
	test_tmpdir_remove(dir);
}

static void test_dumps_compact(void **state)
{
	json_t *j = json_object();
	char *s;

	(void)state;
	json_object_set_new(j, "b", json_integer(1));
	json_object_set_new(j, "a", json_pack("[i,s,b]", 1, "x\"y", 0));
	s = json_dumps_compact(j);
	assert_string_equal(s, "{\"b\":1,\"a\":[1,\"x\\\"y\",false]}");
	free(s);
	json_decref(j);
	j = json_integer(-7);
	s = json_dumps_compact(j);
	assert_string_equal(s, "-7");
	free(s);
	json_decref(j);
	assert_null(json_dumps_compact(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load_errors),
		cmocka_unit_test(test_load_rejects_nul),
		cmocka_unit_test(test_load_ok_and_length),
		cmocka_unit_test(test_get_string),
		cmocka_unit_test(test_get_numbers_and_bools),
		cmocka_unit_test(test_dump_file),
		cmocka_unit_test(test_dumps_compact),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
