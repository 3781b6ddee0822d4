/*
 * Unit tests for util/dynlib (libraries opened on first use) and the forwarders built on it:
 * a missing library is an error naming it and its package, a present one resolves symbols, and
 * the lazily loaded xgboost/BLAS libraries are not mapped until something needs them.
 */
#include "util/common.h"
#include "helpers.h"
#include "ml/blas_dl.h"
#include "util/dynlib.h"

#include <math.h>
#include <xgboost/c_api.h>

/* Whether a library whose path contains name is mapped into this process. */
static int mapped(const char *name)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[1024];
	int found = 0;

	assert_non_null(f);
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, name) != NULL;
	fclose(f);
	return found;
}

static void test_missing_library(void **state)
{
	static struct dynlib lib = DYNLIB_INIT("libferry-no-such-library.so.7", "ferry-none");
	struct error err = ERROR_INIT;

	(void)state;
	assert_int_equal(dynlib_load(&lib, &err), ERR_UNSUPPORTED);
	assert_non_null(strstr(err.msg, "cannot load libferry-no-such-library.so.7"));
	assert_non_null(strstr(err.msg, "Debian package ferry-none"));
	/* the failure is remembered: a second call fails the same way without retrying */
	error_clear(&err);
	assert_null(dynlib_sym(&lib, "anything", &err));
	assert_int_equal(err.code, ERR_UNSUPPORTED);
	assert_string_not_equal(dynlib_failure(&lib), "");
}

static void test_present_library(void **state)
{
	static struct dynlib libm = DYNLIB_INIT("libm.so.6", "libc6");
	struct error err = ERROR_INIT;
	double (*cosine)(double);
	void *p;

	(void)state;
	p = dynlib_sym(&libm, "cos", &err);
	assert_non_null(p);
	memcpy(&cosine, &p, sizeof(p));
	assert_true(cosine(0.0) == 1.0);
	assert_null(dynlib_sym(&libm, "ferry_no_such_symbol", &err));
	assert_int_equal(err.code, ERR_UNSUPPORTED);
	assert_non_null(strstr(err.msg, "has no symbol ferry_no_such_symbol"));
}

static void test_loaded_on_first_use(void **state)
{
	struct error err = ERROR_INIT;
	int major = -1, minor = -1, patch = -1;

	(void)state;
	/* nothing in this test binary has trained or scored yet */
	assert_false(mapped("libxgboost"));
	assert_false(mapped("libopenblas"));
	XGBoostVersion(&major, &minor, &patch);
	assert_true(mapped("libxgboost"));
	/* Debian 12's libxgboost0 is 1.7.x */
	assert_int_equal(major, 1);
	assert_int_equal(blas_require(&err), 0);
	assert_true(mapped("libopenblas"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_missing_library),
		cmocka_unit_test(test_present_library),
		cmocka_unit_test(test_loaded_on_first_use),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
