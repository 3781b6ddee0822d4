/* Unit tests for util/strbuf: growth, formatting, trimming, prefixes. */
#include "util/common.h"
#include "helpers.h"
#include "util/strbuf.h"

static void test_init_and_add(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	char *s;
	size_t len;

	(void)state;
	assert_string_equal(sb.buf, "");
	assert_int_equal(sb.len, 0);
	strbuf_addstr(&sb, "abc");
	strbuf_addch(&sb, '-');
	strbuf_add(&sb, "xyz", 2);
	strbuf_addchars(&sb, '.', 3);
	assert_string_equal(sb.buf, "abc-xy...");
	assert_int_equal(sb.len, 9);
	s = strbuf_detach(&sb, &len);
	assert_string_equal(s, "abc-xy...");
	assert_int_equal(len, 9);
	assert_int_equal(sb.len, 0);
	assert_string_equal(sb.buf, "");
	free(s);
	strbuf_release(&sb);
}

static void test_addf_grows(void **state)
{
	struct strbuf sb = STRBUF_INIT, other = STRBUF_INIT;
	char expect[1001];

	(void)state;
	strbuf_addf(&sb, "%d-%s", 42, "x");
	assert_string_equal(sb.buf, "42-x");
	/* longer than the first guess of 64 bytes: takes the second vsnprintf path */
	memset(expect, 'q', 1000);
	expect[1000] = '\0';
	strbuf_reset(&sb);
	strbuf_addf(&sb, "%s", expect);
	assert_int_equal(sb.len, 1000);
	assert_string_equal(sb.buf, expect);
	strbuf_addstr(&other, "tail");
	strbuf_addbuf(&sb, &other);
	assert_int_equal(sb.len, 1004);
	assert_string_equal(sb.buf + 1000, "tail");
	strbuf_release(&sb);
	strbuf_release(&other);
}

static void test_binary_data(void **state)
{
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	strbuf_add(&sb, "a\0b", 3);
	assert_int_equal(sb.len, 3);
	assert_int_equal(sb.buf[1], '\0');
	assert_int_equal(sb.buf[3], '\0');
	strbuf_release(&sb);
}

static void test_trim(void **state)
{
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	strbuf_addstr(&sb, " \t hello world \n");
	strbuf_rtrim(&sb);
	assert_string_equal(sb.buf, " \t hello world");
	strbuf_ltrim(&sb);
	assert_string_equal(sb.buf, "hello world");
	strbuf_reset(&sb);
	strbuf_addstr(&sb, "   ");
	strbuf_trim(&sb);
	assert_string_equal(sb.buf, "");
	assert_int_equal(sb.len, 0);
	strbuf_release(&sb);
}

static void test_prefix_suffix(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	const char *rest = NULL;

	(void)state;
	assert_true(skip_prefix("core.store", "core.", &rest));
	assert_string_equal(rest, "store");
	assert_false(skip_prefix("cor", "core.", &rest));
	assert_true(skip_prefix("x", "", NULL));
	assert_true(ends_with("model.json", ".json"));
	assert_false(ends_with("json", ".json"));
	assert_true(ends_with("a", ""));
	strbuf_addstr(&sb, "ferry: ok");
	assert_true(strbuf_starts_with(&sb, "ferry:"));
	assert_false(strbuf_starts_with(&sb, "git"));
	strbuf_release(&sb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_and_add),  cmocka_unit_test(test_addf_grows),
		cmocka_unit_test(test_binary_data),   cmocka_unit_test(test_trim),
		cmocka_unit_test(test_prefix_suffix),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
