/* The .ferry/config.yaml reader: defaults, accepted files, and exact error positions. */
#include "util/common.h"
#include "helpers.h"
#include "project/config.h"
#include "util/strbuf.h"

static int parse(struct config *cfg, const char *text, struct error *err)
{
	config_init_defaults(cfg);
	return config_parse(cfg, "c.yaml", text, strlen(text), err);
}

static void test_defaults_text_parses_to_defaults(void **state)
{
	struct config cfg;
	struct error err = ERROR_INIT;

	(void)state;
	assert_int_equal(parse(&cfg, config_default_text(), &err), 0);
	assert_int_equal(cfg.version, 1);
	assert_string_equal(cfg.store, "sqlite:ferry.db");
	assert_string_equal(cfg.cache_dir, "cache");
	config_release(&cfg);
}

static void test_values_override_defaults(void **state)
{
	struct config cfg;
	struct error err = ERROR_INIT;
	char *v;

	(void)state;
	assert_int_equal(parse(&cfg, "version: 1\nstore: sqlite:/x/y.db\ncache: {dir: /c}\n", &err),
			 0);
	assert_string_equal(cfg.store, "sqlite:/x/y.db");
	assert_string_equal(cfg.cache_dir, "/c");
	v = config_get(&cfg, "cache.dir");
	assert_string_equal(v, "/c");
	free(v);
	assert_null(config_get(&cfg, "cache.nope"));
	config_release(&cfg);
}

static void expect_error(const char *text, const char *msg)
{
	struct config cfg;
	struct error err = ERROR_INIT;

	assert_int_equal(parse(&cfg, text, &err), ERR_INVALID);
	assert_string_equal(err.msg, msg);
	/* A failed parse leaves the previous values in place. */
	assert_string_equal(cfg.store, "sqlite:ferry.db");
	config_release(&cfg);
}

static void test_errors_name_position_and_expectation(void **state)
{
	(void)state;
	expect_error("version: 1\ncache:\n  dri: x\n",
		     "c.yaml:3:3: unknown key 'cache.dri'; did you mean 'cache.dir'?");
	expect_error("version: 1\nstroe: x\n",
		     "c.yaml:2:1: unknown key 'stroe'; did you mean 'store'?");
	expect_error("version: 1\nzzzzzzzz: x\n", "c.yaml:2:1: unknown key 'zzzzzzzz'");
	expect_error("version: 1\nstore: [a]\n",
		     "c.yaml:2:8: key 'store': expected a string, got a sequence");
	expect_error("version: 1\ncache: x\n",
		     "c.yaml:2:8: key 'cache': expected a mapping, got a string");
	expect_error("version: x1\n", "c.yaml:1:10: key 'version': expected an integer, got 'x1'");
	expect_error("- 1\n", "c.yaml:1:1: expected a mapping of keys, got a sequence");
	expect_error("", "c.yaml: the file is empty; expected a mapping with 'version: 1'");
	expect_error("version: 3\n",
		     "c.yaml: config version 3 is not supported by this ferry (expected 1)");
}

static void test_yaml_syntax_error_has_line_and_column(void **state)
{
	struct config cfg;
	struct error err = ERROR_INIT;

	(void)state;
	assert_int_equal(parse(&cfg, "version: 1\nstore: \"x\n", &err), ERR_INVALID);
	assert_true(strncmp(err.msg, "c.yaml:2:8: ", 12) == 0);
	config_release(&cfg);
}

static void test_remotes_round_trip(void **state)
{
	struct config cfg, again;
	struct error err = ERROR_INIT;
	struct strbuf text = STRBUF_INIT;
	char *v;

	(void)state;
	assert_int_equal(parse(&cfg,
			       "version: 1\nremotes:\n  origin:\n    url: '/srv/it''s'\n"
			       "  b-2:\n    url: file:///x\ndefault_remote: b-2\n",
			       &err),
			 0);
	assert_int_equal(cfg.nr_remotes, 2);
	assert_string_equal(cfg.remotes[0].url, "/srv/it's");
	assert_string_equal(cfg.default_remote, "b-2");
	v = config_get(&cfg, "remotes.b-2.url");
	assert_string_equal(v, "file:///x");
	free(v);
	assert_int_equal(config_remote_add(&cfg, "origin", "/y", &err), ERR_EXISTS);
	assert_string_equal(err.msg, "remote 'origin' already exists");
	assert_int_equal(config_remote_add(&cfg, "bad name", "/y", &err), ERR_INVALID);
	assert_int_equal(config_remote_remove(&cfg, "b-2", &err), 0);
	assert_null(cfg.default_remote);
	config_format(&cfg, &text);
	config_init_defaults(&again);
	assert_int_equal(config_parse(&again, "again.yaml", text.buf, text.len, &err), 0);
	assert_int_equal(again.nr_remotes, 1);
	assert_string_equal(again.remotes[0].url, "/srv/it's");
	strbuf_release(&text);
	config_release(&cfg);
	config_release(&again);
}

/* Values YAML folds or that need quotes are written quoted, so config_format's text reads back. */
static void test_format_quotes_what_needs_it(void **state)
{
	struct config cfg, again;
	struct error err = ERROR_INIT;
	struct strbuf text = STRBUF_INIT;

	(void)state;
	/* YAML 1.2 section 6.5: in a plain scalar a line break folds to a space and an empty line
	 * to a line break (found by fuzz_config: ferry wrote such a value back unquoted) */
	if (parse(&cfg, "version: 1\nstore: sqlite:a.db\n  b\n\n dir:/cache\n", &err))
		fail_msg("%s", err.msg);
	assert_string_equal(cfg.store, "sqlite:a.db b\ndir:/cache");
	config_format(&cfg, &text);
	if (!strstr(text.buf, "\nstore: \"sqlite:a.db b\\ndir:/cache\"\n"))
		fail_msg("store not quoted in:\n%s", text.buf);
	/* plain values stay as a person would write them */
	if (!strstr(text.buf, "\n  link: reflink,copy\n"))
		fail_msg("link quoted in:\n%s", text.buf);
	config_init_defaults(&again);
	assert_int_equal(config_parse(&again, "again.yaml", text.buf, text.len, &err), 0);
	assert_string_equal(again.store, "sqlite:a.db b\ndir:/cache");
	strbuf_release(&text);
	config_release(&cfg);
	config_release(&again);
}

static void test_remote_errors(void **state)
{
	(void)state;
	expect_error("version: 1\nremotes:\n  o:\n    uri: x\n",
		     "c.yaml:4:5: unknown key in 'remotes.o' (expected 'url')");
	expect_error("version: 1\nremotes:\n  o: x\n",
		     "c.yaml:3:6: key 'remotes.o': expected a mapping with 'url', got a string");
	expect_error("version: 1\ndefault_remote: o\n",
		     "c.yaml: default_remote 'o' is not among 'remotes'");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_text_parses_to_defaults),
		cmocka_unit_test(test_values_override_defaults),
		cmocka_unit_test(test_errors_name_position_and_expectation),
		cmocka_unit_test(test_yaml_syntax_error_has_line_and_column),
		cmocka_unit_test(test_remotes_round_trip),
		cmocka_unit_test(test_remote_errors),
		cmocka_unit_test(test_format_quotes_what_needs_it),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
