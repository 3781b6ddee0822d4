/*
 * Ridge regression (linear least squares with an L2 penalty) solved through LAPACKE, as
 * scikit-learn 1.2.1's Ridge(alpha, fit_intercept=True) computes it: the data are centred, the
 * intercept is y_mean - x_mean·w, and w solves (XcᵀXc + alpha·I) w = Xcᵀ yc. alpha = 0 is plain
 * least squares (LinearRegression), solved by a least-squares routine that copes with a
 * rank-deficient X (minimum-norm solution, as scipy's lstsq).
 */
#ifndef FERRY_ML_LINEAR_H
#define FERRY_ML_LINEAR_H

#include <stddef.h>

struct error;

struct linear_params {
	double alpha;	   /* >= 0; sklearn Ridge's default 1.0 */
	int fit_intercept; /* 1 (default) or 0 */
};

#define LINEAR_PARAMS_INIT                                                                         \
	{                                                                                          \
		1.0, 1                                                                             \
	}

/* coef has n_features entries; owned by the struct. */
struct linear_model {
	size_t n_features;
	double *coef;
	double intercept;
};

#define LINEAR_MODEL_INIT                                                                          \
	{                                                                                          \
		0, NULL, 0.0                                                                       \
	}

void linear_model_release(struct linear_model *m);

/*
 * Fits on X (n x d row-major, finite) and y (n finite targets). ERR_INVALID on n == 0, d == 0,
 * alpha < 0 or non-finite input; ERR_INTERNAL (with LAPACK's info) if the solver fails.
 * Deterministic for the same inputs on the same machine and library. *out is released and
 * overwritten on success.
 */
int linear_fit(struct linear_model *out, const double *X, size_t n, size_t d, const double *y,
	       const struct linear_params *params, struct error *err);

/* Predictions x·w + b for n rows into out. */
void linear_predict(const struct linear_model *m, const double *X, size_t n, double *out);

#endif
