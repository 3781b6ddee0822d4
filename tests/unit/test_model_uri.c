/*
 * Model references (registry/model_uri.c): every models:/ form MLflow 2.10.2's _parse_model_uri
 * accepts and refuses, ferry's stricter checks, the NAME/3 shorthand, and formatting.
 */
#include "util/common.h"
#include "registry/model_uri.h"
#include "util/strbuf.h"
#include "helpers.h"

#define IMPROPER_TAIL                                                                              \
	". Models URIs must be of the form 'models:/model_name/suffix' or "                        \
	"'models:/model_name@alias' where suffix is a model version, stage, or the string "        \
	"'latest' and where alias is a registered model alias. Only one of suffix or alias can "   \
	"be defined at a time."

/* Parses a URI that must be valid. */
static struct model_ref uri(const char *text)
{
	struct model_ref r = MODEL_REF_INIT;
	struct error err = ERROR_INIT;

	if (model_uri_parse(&r, text, &err))
		fail_msg("'%s': %s", text, err.msg);
	return r;
}

static struct model_ref short_ref(const char *text, bool allow_bare_name)
{
	struct model_ref r = MODEL_REF_INIT;
	struct error err = ERROR_INIT;

	if (model_ref_parse_short(&r, text, allow_bare_name, &err))
		fail_msg("'%s': %s", text, err.msg);
	return r;
}

static void assert_ref(struct model_ref *r, enum model_ref_kind kind, const char *name,
		       int64_t version, const char *alias, enum store_stage stage)
{
	assert_int_equal(r->kind, kind);
	if (name)
		assert_string_equal(r->name, name);
	else
		assert_null(r->name);
	assert_int_equal(r->version, version);
	if (alias)
		assert_string_equal(r->alias, alias);
	else
		assert_null(r->alias);
	assert_int_equal(r->stage, stage);
	assert_null(r->path);
	model_ref_release(r);
}

/*
 * Parses text (as a URI, or in the short form with allow_bare_name 0/1) expecting code and
 * exactly msg, and checks that *out was left alone.
 */
static void expect_error(int form, const char *text, int code, const char *msg)
{
	struct model_ref r = { .kind = MODEL_REF_LATEST, .version = 42 };
	struct error err = ERROR_INIT;
	int rc = form < 0 ? model_uri_parse(&r, text, &err)
			  : model_ref_parse_short(&r, text, form, &err);

	if (rc != code)
		fail_msg("'%s': got %d (%s), expected %d", text ? text : "(null)", rc, err.msg,
			 code);
	if (strcmp(err.msg, msg))
		fail_msg("'%s':\n got      %s\n expected %s", text ? text : "(null)", err.msg, msg);
	assert_int_equal(r.kind, MODEL_REF_LATEST);
	assert_int_equal(r.version, 42);
	assert_null(r.name);
}

#define uri_error(text, msg) expect_error(-1, text, ERR_INVALID, msg)
#define improper(text) uri_error(text, "Not a proper models:/ URI: " text IMPROPER_TAIL)

/* The message the store gives for a stage or an alias, which the parser passes on unchanged. */
static const char *stage_msg(const char *stage)
{
	static struct error err;
	enum store_stage s;

	error_clear(&err);
	assert_int_equal(store_stage_parse(&s, stage, &err), ERR_INVALID);
	return err.msg;
}

static const char *alias_msg(const char *alias)
{
	static struct error err;

	error_clear(&err);
	assert_int_equal(store_alias_check(alias, &err), ERR_INVALID);
	return err.msg;
}

static void test_versions(void **state)
{
	struct model_ref r;

	(void)state;
	r = uri("models:/churn/3");
	assert_ref(&r, MODEL_REF_VERSION, "churn", 3, NULL, STORE_STAGE_NONE);
	r = uri("MODELS:/churn/12");
	assert_ref(&r, MODEL_REF_VERSION, "churn", 12, NULL, STORE_STAGE_NONE);
	/* MLflow's int("007") */
	r = uri("models:/churn/007");
	assert_ref(&r, MODEL_REF_VERSION, "churn", 7, NULL, STORE_STAGE_NONE);
	r = uri("models:/churn/9223372036854775807");
	assert_ref(&r, MODEL_REF_VERSION, "churn", INT64_MAX, NULL, STORE_STAGE_NONE);
	/* urlparse: an empty registry, and every leading '/' of the path stripped */
	r = uri("models:///churn/1");
	assert_ref(&r, MODEL_REF_VERSION, "churn", 1, NULL, STORE_STAGE_NONE);
	r = uri("models:////churn/1");
	assert_ref(&r, MODEL_REF_VERSION, "churn", 1, NULL, STORE_STAGE_NONE);
	/* names are anything without '/': spaces, '#' (no fragments), ';', '@' */
	r = uri("models:/my model #2;x/4");
	assert_ref(&r, MODEL_REF_VERSION, "my model #2;x", 4, NULL, STORE_STAGE_NONE);
	r = uri("models:/a@b/5");
	assert_ref(&r, MODEL_REF_VERSION, "a@b", 5, NULL, STORE_STAGE_NONE);
	r = uri("models:/ churn /5");
	assert_ref(&r, MODEL_REF_VERSION, " churn ", 5, NULL, STORE_STAGE_NONE);
}

static void test_latest_and_stages(void **state)
{
	struct model_ref r;

	(void)state;
	r = uri("models:/churn/latest");
	assert_ref(&r, MODEL_REF_LATEST, "churn", 0, NULL, STORE_STAGE_NONE);
	r = uri("models:/churn/LaTeSt");
	assert_ref(&r, MODEL_REF_LATEST, "churn", 0, NULL, STORE_STAGE_NONE);
	r = uri("models:/churn/Production");
	assert_ref(&r, MODEL_REF_STAGE, "churn", 0, NULL, STORE_STAGE_PRODUCTION);
	r = uri("models:/churn/production");
	assert_ref(&r, MODEL_REF_STAGE, "churn", 0, NULL, STORE_STAGE_PRODUCTION);
	r = uri("models:/churn/STAGING");
	assert_ref(&r, MODEL_REF_STAGE, "churn", 0, NULL, STORE_STAGE_STAGING);
	r = uri("models:/churn/archived");
	assert_ref(&r, MODEL_REF_STAGE, "churn", 0, NULL, STORE_STAGE_ARCHIVED);
	r = uri("models:/churn/None");
	assert_ref(&r, MODEL_REF_STAGE, "churn", 0, NULL, STORE_STAGE_NONE);
}

static void test_aliases(void **state)
{
	struct model_ref r;

	(void)state;
	r = uri("models:/churn@champion");
	assert_ref(&r, MODEL_REF_ALIAS, "churn", 0, "champion", STORE_STAGE_NONE);
	r = uri("models:/churn@Prod-2_b");
	assert_ref(&r, MODEL_REF_ALIAS, "churn", 0, "Prod-2_b", STORE_STAGE_NONE);
	/* MLflow's rsplit("@", 1): the last '@' starts the alias */
	r = uri("models:/a@b@prod");
	assert_ref(&r, MODEL_REF_ALIAS, "a@b", 0, "prod", STORE_STAGE_NONE);
}

static void test_paths(void **state)
{
	const char *paths[] = {
		"model",    "./models/churn", "/abs/path/model", "runs:/0123/model",
		"models",   "modelsx:/m/1",   " models:/m/1",	 "models/churn/3",
		"s3://b/m", "C:\\models",     "models@x",	 "m@champion",
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(paths); i++) {
		struct model_ref r = uri(paths[i]);

		assert_int_equal(r.kind, MODEL_REF_PATH);
		assert_string_equal(r.path, paths[i]);
		assert_null(r.name);
		model_ref_release(&r);
		model_ref_release(&r); /* a second release is a no-op */
	}
	model_ref_release(NULL);
}

static void test_improper(void **state)
{
	(void)state;
	uri_error("", "model uri is empty");
	uri_error(NULL, "model uri is empty");
	improper("models:");
	improper("models:/");
	improper("Models:/");
	improper("models://");
	improper("models:///");
	improper("models:////");
	improper("models:m/1");
	improper("models:/a/b/c");
	improper("models:/a/1/");
	improper("models:/churn");
	improper("models:/churn?x=1");
	improper("models:/ /1");
	improper("models:/\t/1");
	improper("models:/m/");
	improper("models:/m/ ");
	improper("models:/m@");
	improper("models:/m@ \t");
	improper("models:/@prod");
	improper("models:/ @prod");
	improper("models://host");
	improper("models://host?x");
	improper("models://h?x/m/1");
}

static void test_ferry_refusals(void **state)
{
	char long_uri[400], msg[600];

	(void)state;
	uri_error("models:/m/0", "model uri 'models:/m/0': version '0' is not a positive integer");
	uri_error("models:/m/00",
		  "model uri 'models:/m/00': version '00' is not a positive integer");
	uri_error("models:/m/-1",
		  "model uri 'models:/m/-1': version '-1' is not a positive integer");
	uri_error("models:/m/+1",
		  "model uri 'models:/m/+1': version '+1' is not a positive integer");
	uri_error("models:/m/1x",
		  "model uri 'models:/m/1x': version '1x' is not a positive integer");
	uri_error("models:/m/1 ",
		  "model uri 'models:/m/1 ': version '1 ' is not a positive integer");
	uri_error("models:/m/9223372036854775808",
		  "model uri 'models:/m/9223372036854775808': version '9223372036854775808' is "
		  "too large");
	uri_error("models:/m/99999999999999999999999",
		  "model uri 'models:/m/99999999999999999999999': version "
		  "'99999999999999999999999' is too large");
	uri_error("models:/m/1?x=y",
		  "model uri 'models:/m/1?x=y': a query ('?x=y') is not supported");
	uri_error("models:/m@prod?", "model uri 'models:/m@prod?': a query ('?') is not supported");
	expect_error(-1, "models://profile@databricks/m/1", ERR_UNSUPPORTED,
		     "model uri 'models://profile@databricks/m/1': a registry in the uri "
		     "('profile@databricks') is not supported: ferry reads its own store");
	/* stages and aliases: the store's (MLflow's) messages, unchanged */
	uri_error("models:/m/prod", stage_msg("prod"));
	uri_error("models:/m/ Production", stage_msg(" Production"));
	uri_error("models:/m/prod@x", stage_msg("prod@x"));
	uri_error("models:/m@latest", alias_msg("latest"));
	uri_error("models:/m@v3", alias_msg("v3"));
	uri_error("models:/m@a b", alias_msg("a b"));
	uri_error("models:/m@a#b", alias_msg("a#b"));
	/* a long uri is cut in the message, whose end stays readable */
	memset(long_uri, 'a', sizeof(long_uri));
	memcpy(long_uri, "models:/", 8);
	long_uri[sizeof(long_uri) - 1] = '\0';
	snprintf(msg, sizeof(msg), "Not a proper models:/ URI: %.200s..." IMPROPER_TAIL, long_uri);
	uri_error(long_uri, msg);
	memcpy(long_uri + 300, "/0", 3);
	snprintf(msg, sizeof(msg), "model uri '%.200s...': version '0' is not a positive integer",
		 long_uri);
	uri_error(long_uri, msg);
}

static void test_short(void **state)
{
	struct model_ref r;

	(void)state;
	r = short_ref("churn/3", false);
	assert_ref(&r, MODEL_REF_VERSION, "churn", 3, NULL, STORE_STAGE_NONE);
	r = short_ref("churn@production", false);
	assert_ref(&r, MODEL_REF_ALIAS, "churn", 0, "production", STORE_STAGE_NONE);
	r = short_ref("churn/Staging", false);
	assert_ref(&r, MODEL_REF_STAGE, "churn", 0, NULL, STORE_STAGE_STAGING);
	r = short_ref("churn/latest", false);
	assert_ref(&r, MODEL_REF_LATEST, "churn", 0, NULL, STORE_STAGE_NONE);
	r = short_ref("churn", true);
	assert_ref(&r, MODEL_REF_NAME_ONLY, "churn", 0, NULL, STORE_STAGE_NONE);
	r = short_ref("a@b", true);
	assert_ref(&r, MODEL_REF_ALIAS, "a", 0, "b", STORE_STAGE_NONE);
	r = short_ref("a@b/2", true);
	assert_ref(&r, MODEL_REF_VERSION, "a@b", 2, NULL, STORE_STAGE_NONE);
	/* '?' and ':' are ordinary in the short form */
	r = short_ref("what?:x/2", true);
	assert_ref(&r, MODEL_REF_VERSION, "what?:x", 2, NULL, STORE_STAGE_NONE);
	/* URIs are accepted too, with their own rules */
	r = short_ref("models:/churn/3", false);
	assert_ref(&r, MODEL_REF_VERSION, "churn", 3, NULL, STORE_STAGE_NONE);
	r = short_ref("models:/churn@prod", true);
	assert_ref(&r, MODEL_REF_ALIAS, "churn", 0, "prod", STORE_STAGE_NONE);
}

static void test_short_errors(void **state)
{
	char long_name[100], msg[600];

	(void)state;
	expect_error(0, "", ERR_INVALID,
		     "model reference is empty: expected NAME/VERSION, NAME/STAGE, NAME/latest or "
		     "NAME@ALIAS");
	expect_error(1, NULL, ERR_INVALID,
		     "model reference is empty: expected NAME, NAME/VERSION, NAME/STAGE, "
		     "NAME/latest or NAME@ALIAS");
	expect_error(0, "churn", ERR_INVALID,
		     "model reference 'churn' names no version: expected churn/VERSION, "
		     "churn/STAGE, churn/latest or churn@ALIAS");
	expect_error(0, "a/b/c", ERR_INVALID,
		     "model reference 'a/b/c': expected NAME/VERSION, NAME/STAGE, NAME/latest or "
		     "NAME@ALIAS");
	expect_error(1, "a/b/c", ERR_INVALID,
		     "model reference 'a/b/c': expected NAME, NAME/VERSION, NAME/STAGE, "
		     "NAME/latest or NAME@ALIAS");
	expect_error(
	    1, "/3", ERR_INVALID,
	    "model reference '/3': expected NAME, NAME/VERSION, NAME/STAGE, NAME/latest or "
	    "NAME@ALIAS");
	expect_error(1, "churn/", ERR_INVALID,
		     "model reference 'churn/': expected NAME, NAME/VERSION, NAME/STAGE, "
		     "NAME/latest or NAME@ALIAS");
	expect_error(1, "churn@", ERR_INVALID,
		     "model reference 'churn@': expected NAME, NAME/VERSION, NAME/STAGE, "
		     "NAME/latest or NAME@ALIAS");
	expect_error(1, "@prod", ERR_INVALID,
		     "model reference '@prod': expected NAME, NAME/VERSION, NAME/STAGE, "
		     "NAME/latest or NAME@ALIAS");
	expect_error(1, " ", ERR_INVALID,
		     "model reference ' ': expected NAME, NAME/VERSION, NAME/STAGE, NAME/latest or "
		     "NAME@ALIAS");
	expect_error(1, "churn/0", ERR_INVALID,
		     "model reference 'churn/0': version '0' is not a positive integer");
	expect_error(1, "churn/18446744073709551616", ERR_INVALID,
		     "model reference 'churn/18446744073709551616': version '18446744073709551616' "
		     "is too large");
	expect_error(1, "churn/12345678901234567890123456789012345678901234567890", ERR_INVALID,
		     "model reference 'churn/12345678901234567890123456789012345678901234567890': "
		     "version '1234567890123456789012345678901234567890...' is too large");
	expect_error(1, "churn/9999999999999999999x", ERR_INVALID,
		     "model reference 'churn/9999999999999999999x': version '9999999999999999999x' "
		     "is not a positive integer");
	expect_error(1, "churn/Prod", ERR_INVALID, stage_msg("Prod"));
	expect_error(1, "churn@latest", ERR_INVALID, alias_msg("latest"));
	expect_error(1, "churn@V12", ERR_INVALID, alias_msg("V12"));
	expect_error(1, "models:/churn", ERR_INVALID,
		     "Not a proper models:/ URI: models:/churn" IMPROPER_TAIL);
	/* the name repeated in the hint is cut shorter than the echo */
	memset(long_name, 'n', sizeof(long_name));
	long_name[sizeof(long_name) - 1] = '\0';
	snprintf(msg, sizeof(msg),
		 "model reference '%s' names no version: expected %.60s.../VERSION, "
		 "%.60s.../STAGE, %.60s.../latest or %.60s...@ALIAS",
		 long_name, long_name, long_name, long_name, long_name);
	expect_error(0, long_name, ERR_INVALID, msg);
}

/* Formats r both ways, checks the texts, and reads them back. */
static void assert_format(struct model_ref r, const char *full, const char *brief)
{
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;
	struct model_ref again = MODEL_REF_INIT;
	struct error err = ERROR_INIT;

	model_ref_format(&r, &a);
	model_ref_format_short(&r, &b);
	assert_string_equal(a.buf, full);
	assert_string_equal(b.buf, brief);
	if (r.kind != MODEL_REF_NAME_ONLY) {
		assert_int_equal(model_uri_parse(&again, a.buf, &err), 0);
		assert_true(model_ref_equal(&r, &again));
		model_ref_release(&again);
	}
	if (r.kind != MODEL_REF_PATH) {
		assert_int_equal(model_ref_parse_short(&again, b.buf, true, &err), 0);
		assert_true(model_ref_equal(&r, &again));
		model_ref_release(&again);
	}
	model_ref_release(&r);
	strbuf_release(&a);
	strbuf_release(&b);
}

static void test_format(void **state)
{
	(void)state;
	assert_format(uri("MODELS:///churn/007"), "models:/churn/7", "churn/7");
	assert_format(uri("models:/churn@champion"), "models:/churn@champion", "churn@champion");
	assert_format(uri("models:/a@b@c"), "models:/a@b@c", "a@b@c");
	assert_format(uri("models:/churn/production"), "models:/churn/Production",
		      "churn/Production");
	assert_format(uri("models:/churn/none"), "models:/churn/None", "churn/None");
	assert_format(uri("models:/churn/LATEST"), "models:/churn/latest", "churn/latest");
	assert_format(uri("./model dir"), "./model dir", "./model dir");
	assert_format(short_ref("churn", true), "churn", "churn");
}

static void test_equal(void **state)
{
	struct model_ref a = uri("models:/m/3"), b = uri("models:/m/4"), c = uri("models:/n/3");
	struct model_ref d = uri("models:/m@x"), e = uri("models:/m@y"), f = uri("models:/m/3");
	struct model_ref g = uri("models:/m/Staging"), h = uri("models:/m/Production");
	struct model_ref i = uri("models:/m/latest"), j = short_ref("m", true), k = uri("m");

	(void)state;
	assert_true(model_ref_equal(&a, &f));
	assert_false(model_ref_equal(&a, &b));
	assert_false(model_ref_equal(&a, &c));
	assert_false(model_ref_equal(&d, &e));
	assert_true(model_ref_equal(&d, &d));
	assert_false(model_ref_equal(&g, &h));
	assert_false(model_ref_equal(&i, &j));
	assert_false(model_ref_equal(&j, &k));
	assert_true(model_ref_equal(&k, &k));
	model_ref_release(&a);
	model_ref_release(&b);
	model_ref_release(&c);
	model_ref_release(&d);
	model_ref_release(&e);
	model_ref_release(&f);
	model_ref_release(&g);
	model_ref_release(&h);
	model_ref_release(&i);
	model_ref_release(&j);
	model_ref_release(&k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_versions), cmocka_unit_test(test_latest_and_stages),
		cmocka_unit_test(test_aliases),	 cmocka_unit_test(test_paths),
		cmocka_unit_test(test_improper), cmocka_unit_test(test_ferry_refusals),
		cmocka_unit_test(test_short),	 cmocka_unit_test(test_short_errors),
		cmocka_unit_test(test_format),	 cmocka_unit_test(test_equal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
