/* Run-time versions of ferry's libraries and of the machine, for `ferry version` and runs. */
#include "util/common.h"
#include "util/versions.h"

#include <archive.h>
#include <cblas.h>
#include <curl/curl.h>
#include <gsl/gsl_version.h>
#include <jansson.h>
#include <libfyaml.h>
#include <libpq-fe.h>
#include <microhttpd.h>
#include <openssl/crypto.h>
#include <sqlite3.h>
#include <xgboost/c_api.h>
#include <zstd.h>
#include <gnu/libc-version.h>
#include <sys/utsname.h>

json_t *versions_libraries(void)
{
	json_t *libs = json_object();
	int major, minor, patch, pq = PQlibVersion();
	char buf[64];
	const char *blas = openblas_get_config();
	size_t blas_len = strcspn(blas, " ");

	json_object_set_new(libs, "sqlite", json_string(sqlite3_libversion()));
	snprintf(buf, sizeof(buf), "%d.%d", pq / 10000, pq % 10000);
	json_object_set_new(libs, "libpq", json_string(buf));
	json_object_set_new(libs, "openssl", json_string(OpenSSL_version(OPENSSL_VERSION)));
	json_object_set_new(libs, "jansson", json_string(jansson_version_str()));
	json_object_set_new(libs, "libfyaml", json_string(fy_library_version()));
	json_object_set_new(libs, "libmicrohttpd", json_string(MHD_get_version()));
	json_object_set_new(libs, "libcurl",
			    json_string(curl_version_info(CURLVERSION_NOW)->version));
	XGBoostVersion(&major, &minor, &patch);
	snprintf(buf, sizeof(buf), "%d.%d.%d", major, minor, patch);
	json_object_set_new(libs, "xgboost", json_string(buf));
	/* openblas_get_config() is "OpenBLAS 0.3.21 DYNAMIC_ARCH ..."; keep the first two words. */
	blas_len += strcspn(blas + blas_len + (blas[blas_len] ? 1 : 0), " ") + 1;
	snprintf(buf, sizeof(buf), "%.*s", (int)blas_len, blas);
	json_object_set_new(libs, "openblas", json_string(buf));
	json_object_set_new(libs, "gsl", json_string(gsl_version));
	json_object_set_new(libs, "zstd", json_string(ZSTD_versionString()));
	json_object_set_new(libs, "libarchive", json_string(archive_version_string()));
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
