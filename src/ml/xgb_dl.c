/*
 * Forwarders for the XGBoost C API functions ferry uses: libxgboost (with libstdc++, libgomp and
 * libdmlc) is loaded on first use, see util/dynlib.h. Callers use the usual <xgboost/c_api.h>
 * names. When the library cannot be loaded, every function returns -1 (XGBoost's own failure
 * value) and XGBGetLastError() returns why, so callers' existing error paths report it.
 */
#include "util/common.h"

#include <xgboost/c_api.h>

#include "util/dynlib.h"
#include "util/error.h"

/* c_api.h declares it without a prototype: "()" rather than "(void)". */
const char *XGBGetLastError(void);

static struct dynlib xgboost = DYNLIB_INIT("libxgboost.so.0", "libxgboost0");

static struct {
	__typeof__(XGBRegisterLogCallback) *XGBRegisterLogCallback;
	__typeof__(XGBoosterBoostedRounds) *XGBoosterBoostedRounds;
	__typeof__(XGBoosterCreate) *XGBoosterCreate;
	__typeof__(XGBoosterEvalOneIter) *XGBoosterEvalOneIter;
	__typeof__(XGBoosterFree) *XGBoosterFree;
	__typeof__(XGBoosterGetNumFeature) *XGBoosterGetNumFeature;
	__typeof__(XGBoosterGetStrFeatureInfo) *XGBoosterGetStrFeatureInfo;
	__typeof__(XGBoosterLoadModelFromBuffer) *XGBoosterLoadModelFromBuffer;
	__typeof__(XGBoosterPredictFromDMatrix) *XGBoosterPredictFromDMatrix;
	__typeof__(XGBoosterSaveJsonConfig) *XGBoosterSaveJsonConfig;
	__typeof__(XGBoosterSaveModelToBuffer) *XGBoosterSaveModelToBuffer;
	__typeof__(XGBoosterSetAttr) *XGBoosterSetAttr;
	__typeof__(XGBoosterSetParam) *XGBoosterSetParam;
	__typeof__(XGBoosterSetStrFeatureInfo) *XGBoosterSetStrFeatureInfo;
	__typeof__(XGBoosterSlice) *XGBoosterSlice;
	__typeof__(XGBoosterUpdateOneIter) *XGBoosterUpdateOneIter;
	__typeof__(XGDMatrixCreateFromMat) *XGDMatrixCreateFromMat;
	__typeof__(XGDMatrixCreateFromMat_omp) *XGDMatrixCreateFromMat_omp;
	__typeof__(XGDMatrixFree) *XGDMatrixFree;
	__typeof__(XGDMatrixSetFloatInfo) *XGDMatrixSetFloatInfo;
	__typeof__(XGDMatrixSetStrFeatureInfo) *XGDMatrixSetStrFeatureInfo;
	__typeof__(XGBoostVersion) *XGBoostVersion;
	__typeof__(XGBGetLastError) *XGBGetLastError;
} fn;
static pthread_once_t resolved = PTHREAD_ONCE_INIT;
static struct error resolve_err;

/* dlsym returns void *; POSIX guarantees it converts to a function pointer. */
#define RESOLVE(name)                                                                              \
	do {                                                                                       \
		void *p = dynlib_sym(&xgboost, #name, &resolve_err);                               \
		if (!p)                                                                            \
			return;                                                                    \
		memcpy(&fn.name, &p, sizeof(p));                                                   \
	} while (0)

static void resolve_all(void)
{
	RESOLVE(XGBRegisterLogCallback);
	RESOLVE(XGBoosterBoostedRounds);
	RESOLVE(XGBoosterCreate);
	RESOLVE(XGBoosterEvalOneIter);
	RESOLVE(XGBoosterFree);
	RESOLVE(XGBoosterGetNumFeature);
	RESOLVE(XGBoosterGetStrFeatureInfo);
	RESOLVE(XGBoosterLoadModelFromBuffer);
	RESOLVE(XGBoosterPredictFromDMatrix);
	RESOLVE(XGBoosterSaveJsonConfig);
	RESOLVE(XGBoosterSaveModelToBuffer);
	RESOLVE(XGBoosterSetAttr);
	RESOLVE(XGBoosterSetParam);
	RESOLVE(XGBoosterSetStrFeatureInfo);
	RESOLVE(XGBoosterSlice);
	RESOLVE(XGBoosterUpdateOneIter);
	RESOLVE(XGDMatrixCreateFromMat);
	RESOLVE(XGDMatrixCreateFromMat_omp);
	RESOLVE(XGDMatrixFree);
	RESOLVE(XGDMatrixSetFloatInfo);
	RESOLVE(XGDMatrixSetStrFeatureInfo);
	RESOLVE(XGBoostVersion);
	RESOLVE(XGBGetLastError);
}

/* 0 once every function is resolved; -1 (the message kept for XGBGetLastError) otherwise. */
static int ready(void)
{
	pthread_once(&resolved, resolve_all);
	return fn.XGBGetLastError ? 0 : -1;
}

const char *XGBGetLastError(void)
{
	if (ready())
		return resolve_err.msg;
	return fn.XGBGetLastError();
}

void XGBoostVersion(int *major, int *minor, int *patch)
{
	if (ready()) {
		*major = *minor = *patch = 0;
		return;
	}
	fn.XGBoostVersion(major, minor, patch);
}

int XGBRegisterLogCallback(void (*callback)(const char *))
{
	if (ready())
		return -1;
	return fn.XGBRegisterLogCallback(callback);
}

int XGBoosterBoostedRounds(BoosterHandle handle, int *out)
{
	if (ready())
		return -1;
	return fn.XGBoosterBoostedRounds(handle, out);
}

int XGBoosterCreate(const DMatrixHandle dmats[], bst_ulong len, BoosterHandle *out)
{
	if (ready())
		return -1;
	return fn.XGBoosterCreate(dmats, len, out);
}

int XGBoosterEvalOneIter(BoosterHandle handle, int iter, DMatrixHandle dmats[],
			 const char *evnames[], bst_ulong len, const char **out_result)
{
	if (ready())
		return -1;
	return fn.XGBoosterEvalOneIter(handle, iter, dmats, evnames, len, out_result);
}

int XGBoosterFree(BoosterHandle handle)
{
	if (ready())
		return -1;
	return fn.XGBoosterFree(handle);
}

int XGBoosterGetNumFeature(BoosterHandle handle, bst_ulong *out)
{
	if (ready())
		return -1;
	return fn.XGBoosterGetNumFeature(handle, out);
}

int XGBoosterGetStrFeatureInfo(BoosterHandle handle, const char *field, bst_ulong *len,
			       const char ***out_features)
{
	if (ready())
		return -1;
	return fn.XGBoosterGetStrFeatureInfo(handle, field, len, out_features);
}

int XGBoosterLoadModelFromBuffer(BoosterHandle handle, const void *buf, bst_ulong len)
{
	if (ready())
		return -1;
	return fn.XGBoosterLoadModelFromBuffer(handle, buf, len);
}

int XGBoosterPredictFromDMatrix(BoosterHandle handle, DMatrixHandle dmat, char const *config,
				bst_ulong const **out_shape, bst_ulong *out_dim,
				float const **out_result)
{
	if (ready())
		return -1;
	return fn.XGBoosterPredictFromDMatrix(handle, dmat, config, out_shape, out_dim, out_result);
}

int XGBoosterSaveJsonConfig(BoosterHandle handle, bst_ulong *out_len, char const **out_str)
{
	if (ready())
		return -1;
	return fn.XGBoosterSaveJsonConfig(handle, out_len, out_str);
}

int XGBoosterSaveModelToBuffer(BoosterHandle handle, char const *config, bst_ulong *out_len,
			       char const **out_dptr)
{
	if (ready())
		return -1;
	return fn.XGBoosterSaveModelToBuffer(handle, config, out_len, out_dptr);
}

int XGBoosterSetAttr(BoosterHandle handle, const char *key, const char *value)
{
	if (ready())
		return -1;
	return fn.XGBoosterSetAttr(handle, key, value);
}

int XGBoosterSetParam(BoosterHandle handle, const char *name, const char *value)
{
	if (ready())
		return -1;
	return fn.XGBoosterSetParam(handle, name, value);
}

int XGBoosterSetStrFeatureInfo(BoosterHandle handle, const char *field, const char **features,
			       const bst_ulong size)
{
	if (ready())
		return -1;
	return fn.XGBoosterSetStrFeatureInfo(handle, field, features, size);
}

int XGBoosterSlice(BoosterHandle handle, int begin_layer, int end_layer, int step,
		   BoosterHandle *out)
{
	if (ready())
		return -1;
	return fn.XGBoosterSlice(handle, begin_layer, end_layer, step, out);
}

int XGBoosterUpdateOneIter(BoosterHandle handle, int iter, DMatrixHandle dtrain)
{
	if (ready())
		return -1;
	return fn.XGBoosterUpdateOneIter(handle, iter, dtrain);
}

int XGDMatrixCreateFromMat(const float *data, bst_ulong nrow, bst_ulong ncol, float missing,
			   DMatrixHandle *out)
{
	if (ready())
		return -1;
	return fn.XGDMatrixCreateFromMat(data, nrow, ncol, missing, out);
}

int XGDMatrixCreateFromMat_omp(const float *data, bst_ulong nrow, bst_ulong ncol, float missing,
			       DMatrixHandle *out, int nthread)
{
	if (ready())
		return -1;
	return fn.XGDMatrixCreateFromMat_omp(data, nrow, ncol, missing, out, nthread);
}

int XGDMatrixFree(DMatrixHandle handle)
{
	if (ready())
		return -1;
	return fn.XGDMatrixFree(handle);
}

int XGDMatrixSetFloatInfo(DMatrixHandle handle, const char *field, const float *array,
			  bst_ulong len)
{
	if (ready())
		return -1;
	return fn.XGDMatrixSetFloatInfo(handle, field, array, len);
}

int XGDMatrixSetStrFeatureInfo(DMatrixHandle handle, const char *field, const char **features,
			       const bst_ulong size)
{
	if (ready())
		return -1;
	return fn.XGDMatrixSetStrFeatureInfo(handle, field, features, size);
}
