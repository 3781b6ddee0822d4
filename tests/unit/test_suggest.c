/* Unit tests for util/suggest: OSA edit distance and the "did you mean" rule. */
#include "util/common.h"
#include "helpers.h"
#include "util/suggest.h"

static void test_edit_distance(void **state)
{
	(void)state;
	assert_int_equal(edit_distance("", ""), 0);
	assert_int_equal(edit_distance("abc", ""), 3);
	assert_int_equal(edit_distance("", "abc"), 3);
	assert_int_equal(edit_distance("same", "same"), 0);
	/* the classic: kitten -> sitting is 3 substitutions/insertions */
	assert_int_equal(edit_distance("kitten", "sitting"), 3);
	assert_int_equal(edit_distance("flaw", "lawn"), 2);
	/* one adjacent transposition counts once */
	assert_int_equal(edit_distance("ab", "ba"), 1);
	assert_int_equal(edit_distance("tarin", "train"), 1);
	/* OSA, not unrestricted Damerau: "ca" -> "abc" is 3 (unrestricted would give 2) */
	assert_int_equal(edit_distance("ca", "abc"), 3);
	assert_int_equal(edit_distance("Train", "train"), 1);
	assert_int_equal(edit_distance("model", "models"), 1);
}

static void test_suggest(void **state)
{
	static const char *const cmds[] = { "init",    "train", "runs",	  "models", "serve",
					    "monitor", "data",	"status", "help" };
	size_t n = ARRAY_SIZE(cmds);

	(void)state;
	assert_string_equal(suggest_closest("tarin", cmds, n), "train");
	assert_string_equal(suggest_closest("trian", cmds, n), "train");
	assert_string_equal(suggest_closest("modles", cmds, n), "models");
	assert_string_equal(suggest_closest("stauts", cmds, n), "status");
	assert_string_equal(suggest_closest("hlep", cmds, n), "help");
	assert_string_equal(suggest_closest("serv", cmds, n), "serve");
	/* too far: "xyz" is 3 from everything of length 3+, limit is 1 */
	assert_null(suggest_closest("xyz", cmds, n));
	assert_null(suggest_closest("deploy", cmds, n));
	assert_null(suggest_closest("", cmds, n));
	/* "mon" is 4 from "monitor" (limit 1) but a prefix of exactly one command */
	assert_string_equal(suggest_closest("mon", cmds, n), "monitor");
	/* "se" is 3 from both and a prefix of both: ambiguous */
	assert_null(suggest_closest("se", (const char *const[]){ "serve", "setup" }, 2));
}

static void test_suggest_ties_and_limits(void **state)
{
	static const char *const keys[] = { "core.store", "core.cache_dir", "core.version" };

	(void)state;
	/* length 10 gives a limit of 3 */
	assert_string_equal(suggest_closest("core.stroe", keys, 3), "core.store");
	assert_string_equal(suggest_closest("cor.stor", keys, 3), "core.store");
	assert_null(suggest_closest("cache", keys, 3));
	/* equal distance: the earlier candidate wins */
	assert_string_equal(suggest_closest("bat", (const char *const[]){ "cat", "hat" }, 2),
			    "cat");
	/* NULL entries are skipped */
	assert_string_equal(suggest_closest("rum", (const char *const[]){ NULL, "run" }, 2), "run");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_edit_distance),
		cmocka_unit_test(test_suggest),
		cmocka_unit_test(test_suggest_ties_and_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
