/* `ferry version`: ferry's version and the run-time versions of the libraries it links. */
#include "util/common.h"
#include "cli/cli.h"
#include "cli/options.h"
#include "cli/output.h"

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

static const char *const version_usage[] = { "ferry version [--json]", NULL };

static json_t *library_versions(void)
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

int cmd_version(int argc, const char **argv, struct ctx *ctx)
{
	int nargs, rc = parse_options(&nargs, argc, argv, NULL, version_usage, ctx);
	json_t *libs, *out;
	const char *key;
	json_t *v;

	if (rc)
		return rc;
	if (nargs > 0)
		return error_set(&ctx->err, ERR_USAGE, "'ferry version' takes no arguments");
	libs = library_versions();
	if (ctx->json) {
		out = json_pack("{s:s,s:o}", "ferry", FERRY_VERSION, "libraries", libs);
		output_json(out);
		json_decref(out);
		return 0;
	}
	printf("ferry %s\n", FERRY_VERSION);
	json_object_foreach(libs, key, v)
		printf("  %-14s%s\n", key, json_string_value(v));
	json_decref(libs);
	return 0;
}
