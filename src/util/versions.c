/* Run-time versions of ferry's libraries and of the machine, for `ferry version` and runs. */
#include "util/common.h"
#include "util/versions.h"

#include "util/dynlib.h"
#include "util/error.h"

#include <curl/curl.h>
#include <gsl/gsl_version.h>
#include <jansson.h>
#include <libfyaml.h>
#include <libpq-fe.h>
#include <microhttpd.h>
#include <openssl/crypto.h>
#include <sqlite3.h>
#include <zstd.h>
#include <gnu/libc-version.h>
#include <sys/utsname.h>

/*
 * libxgboost, OpenBLAS and libarchive are loaded on first use (util/dynlib.h), so their versions
 * are asked through the same loader; a library that cannot be loaded is reported as such.
 */
static struct dynlib xgboost_lib = DYNLIB_INIT("libxgboost.so.0", "libxgboost0");
static struct dynlib openblas_lib = DYNLIB_INIT("libopenblas.so.0", "libopenblas0");
static struct dynlib archive_lib = DYNLIB_INIT("libarchive.so.13", "libarchive13");

/* dlsym's void * as a function pointer (POSIX guarantees the conversion). */
static int lazy_fn(void *fnp, size_t size, struct dynlib *lib, const char *name)
{
	struct error err = ERROR_INIT;
	void *p = dynlib_sym(lib, name, &err);

	if (!p)
		return -1;
	memcpy(fnp, &p, size);
	return 0;
}

static json_t *xgboost_version(void)
{
	void (*version)(int *, int *, int *);
	int major, minor, patch;
	char buf[64];

	if (lazy_fn(&version, sizeof(version), &xgboost_lib, "XGBoostVersion"))
		return json_string("unavailable");
	version(&major, &minor, &patch);
	snprintf(buf, sizeof(buf), "%d.%d.%d", major, minor, patch);
	return json_string(buf);
}

/* openblas_get_config() is "OpenBLAS 0.3.21 DYNAMIC_ARCH ..."; keep the first two words. */
static json_t *openblas_version(void)
{
	char *(*get_config)(void);
	const char *blas;
	size_t len;
	char buf[64];

	if (lazy_fn(&get_config, sizeof(get_config), &openblas_lib, "openblas_get_config"))
		return json_string("unavailable");
	blas = get_config();
	len = strcspn(blas, " ");
	len += strcspn(blas + len + (blas[len] ? 1 : 0), " ") + 1;
	snprintf(buf, sizeof(buf), "%.*s", (int)len, blas);
	return json_string(buf);
}

static json_t *archive_version(void)
{
	const char *(*version)(void);

	if (lazy_fn(&version, sizeof(version), &archive_lib, "archive_version_string"))
		return json_string("unavailable");
	return json_string(version());
}

json_t *versions_libraries(void)
{
	json_t *libs = json_object();
	int pq = PQlibVersion();
	char buf[64];

	json_object_set_new(libs, "sqlite", json_string(sqlite3_libversion()));
	snprintf(buf, sizeof(buf), "%d.%d", pq / 10000, pq % 10000);
	json_object_set_new(libs, "libpq", json_string(buf));
	json_object_set_new(libs, "openssl", json_string(OpenSSL_version(OPENSSL_VERSION)));
	json_object_set_new(libs, "jansson", json_string(jansson_version_str()));
	json_object_set_new(libs, "libfyaml", json_string(fy_library_version()));
	json_object_set_new(libs, "libmicrohttpd", json_string(MHD_get_version()));
	json_object_set_new(libs, "libcurl",
			    json_string(curl_version_info(CURLVERSION_NOW)->version));
	json_object_set_new(libs, "xgboost", xgboost_version());
	json_object_set_new(libs, "openblas", openblas_version());
	json_object_set_new(libs, "gsl", json_string(gsl_version));
	json_object_set_new(libs, "zstd", json_string(ZSTD_versionString()));
	json_object_set_new(libs, "libarchive", archive_version());
	return libs;
}

json_t *versions_environment(void)
{
	json_t *env = json_object();
	struct utsname u;
	char buf[256];

	json_object_set_new(env, "ferry", json_string(FERRY_VERSION));
	if (!uname(&u)) {
		snprintf(buf, sizeof(buf), "%s %s", u.sysname, u.release);
		json_object_set_new(env, "os", json_string(buf));
		json_object_set_new(env, "machine", json_string(u.machine));
	}
#ifdef __VERSION__
	json_object_set_new(env, "compiler", json_string(__VERSION__));
#endif
	json_object_set_new(env, "libc", json_string(gnu_get_libc_version()));
	json_object_set_new(env, "libraries", versions_libraries());
	return env;
}
