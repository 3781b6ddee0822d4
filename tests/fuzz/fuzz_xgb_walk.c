/*
 * libFuzzer target: xgboost model documents through xgb_walk_load_json; what it accepts must
 * predict rows of zeros, NaNs and the input's bytes, one and nine at a time, within its trees.
 */
#include "util/common.h"
#include "ml/xgb_walk.h"

#include <math.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct error err = ERROR_INIT;
	struct xgb_walk *w = NULL;
	struct xgb_walk_info info;
	double X[9 * 64], out[9 * 64];

	if (xgb_walk_load_json(&w, (const char *)data, size, &err)) {
		if (!err.msg[0])
			BUG("a document was refused without a message");
		return 0;
	}
	xgb_walk_info(w, &info);
	if (info.n_features <= 64 && info.n_classes <= 64 && size) {
		for (size_t i = 0; i < 9 * info.n_features; i++)
			X[i] = i % 3 == 0 ? 0 : i % 3 == 1 ? NAN : (int8_t)data[i % size] / 8.0;
		if (xgb_walk_predict(w, X, 9, out, &err) || xgb_walk_predict(w, X, 1, out, &err))
			BUG("predicting finite rows failed: %s", err.msg);
	}
	xgb_walk_free(w);
	return 0;
}
