/* Unit tests for util/parse: whole-string, range-checked number and boolean parsing. */
#include "util/common.h"
#include "helpers.h"
#include "util/parse.h"

static void test_int64_valid(void **state)
{
	int64_t v = 0;

	(void)state;
	assert_int_equal(parse_int64("0", &v), 0);
	assert_true(v == 0);
	assert_int_equal(parse_int64("-42", &v), 0);
	assert_true(v == -42);
	assert_int_equal(parse_int64("+17", &v), 0);
	assert_true(v == 17);
	assert_int_equal(parse_int64("007", &v), 0);
	assert_true(v == 7);
	assert_int_equal(parse_int64("9223372036854775807", &v), 0);
	assert_true(v == INT64_MAX);
	assert_int_equal(parse_int64("-9223372036854775808", &v), 0);
	assert_true(v == INT64_MIN);
}

static void test_int64_invalid(void **state)
{
	static const char *const bad[] = { "",
					   " 1",
					   "1 ",
					   "12abc",
					   "abc",
					   "+",
					   "-",
					   "--1",
					   "+-1",
					   "1.0",
					   "0x10",
					   "1e3",
					   "9223372036854775808",
					   "-9223372036854775809",
					   "\t5" };
	int64_t v = 1234;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		assert_int_equal(parse_int64(bad[i], &v), ERR_INVALID);
		assert_true(v == 1234); /* untouched on failure */
	}
	assert_int_equal(parse_int64(NULL, &v), ERR_INVALID);
}

static void test_uint64(void **state)
{
	uint64_t v = 5;

	(void)state;
	assert_int_equal(parse_uint64("18446744073709551615", &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(parse_uint64("+3", &v), 0);
	assert_true(v == 3);
	assert_int_equal(parse_uint64("18446744073709551616", &v), ERR_INVALID);
	assert_int_equal(parse_uint64("-1", &v), ERR_INVALID);
	assert_int_equal(parse_uint64("-0", &v), ERR_INVALID);
	assert_int_equal(parse_uint64("", &v), ERR_INVALID);
	assert_int_equal(parse_uint64("1k", &v), ERR_INVALID);
	assert_true(v == 3);
}

static void test_double(void **state)
{
	double v = 0;

	(void)state;
	assert_int_equal(parse_double("1", &v), 0);
	assert_true(v == 1.0);
	assert_int_equal(parse_double("-2.5", &v), 0);
	assert_true(v == -2.5);
	assert_int_equal(parse_double(".5", &v), 0);
	assert_true(v == 0.5);
	assert_int_equal(parse_double("1e-3", &v), 0);
	assert_true(v == 0.001);
	assert_int_equal(parse_double("2.5E2", &v), 0);
	assert_true(v == 250.0);
	assert_int_equal(parse_double("1e-400", &v), 0); /* underflow to 0 is accepted */
	assert_true(v == 0.0);
}

static void test_double_invalid(void **state)
{
	static const char *const bad[] = { "",	    " 1",     "1 ",  "1.5x", "abc",  ".",
					   "e5",    "1e",     "inf", "nan",  "-inf", "0x1p3",
					   "1e400", "-1e400", "1,5", "1.2.3" };
	double v = 42.0;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		assert_int_equal(parse_double(bad[i], &v), ERR_INVALID);
		assert_true(v == 42.0);
	}
}

static void test_bool(void **state)
{
	static const char *const yes[] = { "true", "TRUE", "True", "yes", "YES", "on", "On", "1" };
	static const char *const no[] = { "false", "FALSE", "no", "No", "off", "OFF", "0" };
	static const char *const bad[] = { "", "2", "y", "n", "tru", "true ", " yes", "enabled" };
	int v;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
		v = -1;
		assert_int_equal(parse_bool(yes[i], &v), 0);
		assert_int_equal(v, 1);
	}
	for (size_t i = 0; i < ARRAY_SIZE(no); i++) {
		v = -1;
		assert_int_equal(parse_bool(no[i], &v), 0);
		assert_int_equal(v, 0);
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		v = -1;
		assert_int_equal(parse_bool(bad[i], &v), ERR_INVALID);
		assert_int_equal(v, -1);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_int64_valid),    cmocka_unit_test(test_int64_invalid),
		cmocka_unit_test(test_uint64),	       cmocka_unit_test(test_double),
		cmocka_unit_test(test_double_invalid), cmocka_unit_test(test_bool),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
