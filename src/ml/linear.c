/*
 * Ridge and ordinary least squares through LAPACK, fitting what scikit-learn 1.2.1's Ridge and
 * LinearRegression fit: Householder QR of the augmented system for alpha > 0, SVD for alpha = 0.
 */
#include "util/common.h"
#include "ml/linear.h"
#include "ml/blas_dl.h"

#include <float.h>
#include <lapacke.h>
#include <math.h>

void linear_model_release(struct linear_model *m)
{
	if (!m)
		return;
	free(m->coef);
	m->coef = NULL;
	m->n_features = 0;
	m->intercept = 0.0;
}

static int check_sizes(size_t n, size_t d, struct error *err)
{
	size_t most = (size_t)INT32_MAX;

	if (n == 0)
		return error_set(err, ERR_INVALID, "no rows to fit");
	if (d == 0)
		return error_set(err, ERR_INVALID, "no features to fit");
	/* the augmented system has n + d rows and LAPACK indexes with a 32-bit lapack_int */
	if (d > most || n > most - d || n + d > SIZE_MAX / sizeof(double) / d)
		return error_set(err, ERR_INVALID,
				 "%zu rows by %zu features is too large for LAPACK", n, d);
	return 0;
}

static int check_input(const double *X, size_t n, size_t d, const double *y,
		       const struct linear_params *params, struct error *err)
{
	int ret = check_sizes(n, d, err);

	if (ret)
		return ret;
	if (!(params->alpha >= 0.0) || isinf(params->alpha))
		return error_set(err, ERR_INVALID, "alpha must be a finite number >= 0, got %g",
				 params->alpha);
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < d; j++) {
			if (!isfinite(X[i * d + j]))
				return error_set(err, ERR_INVALID,
						 "X[%zu][%zu] is %g, not a finite number", i, j,
						 X[i * d + j]);
		}
		if (!isfinite(y[i]))
			return error_set(err, ERR_INVALID, "y[%zu] is %g, not a finite number", i,
					 y[i]);
	}
	return 0;
}

/*
 * Mean of v[0], v[stride], ... (n values) with Neumaier's compensated sum: a raw column far
 * from 0 (years, prices) keeps full precision, so centring does not cost digits.
 */
static double mean_strided(const double *v, size_t n, size_t stride)
{
	double s = 0.0, c = 0.0;

	for (size_t i = 0; i < n; i++) {
		double x = v[i * stride], t = s + x;

		if (fabs(s) >= fabs(x))
			c += (s - t) + x;
		else
			c += (x - t) + s;
		s = t;
	}
	return (s + c) / (double)n;
}

/*
 * Copies X (row-major) into A (column-major, lda rows, already zeroed) minus the column means,
 * and y into b minus its mean; the means go to x_mean and *y_mean (0 without an intercept).
 */
static void centre(double *A, size_t lda, double *b, double *x_mean, double *y_mean,
		   const double *X, size_t n, size_t d, const double *y, int fit_intercept)
{
	for (size_t j = 0; j < d; j++) {
		x_mean[j] = fit_intercept ? mean_strided(X + j, n, d) : 0.0;
		for (size_t i = 0; i < n; i++)
			A[j * lda + i] = X[i * d + j] - x_mean[j];
	}
	*y_mean = fit_intercept ? mean_strided(y, n, 1) : 0.0;
	for (size_t i = 0; i < n; i++)
		b[i] = y[i] - *y_mean;
}

/*
 * min ||Xc w - yc||² + alpha ||w||² is the least-squares problem [Xc; sqrt(alpha) I] w ≈ [yc; 0].
 * Its QR has the accuracy of cond(Xc), where the normal equations that sklearn solves by
 * Cholesky have cond(Xc)², and the stacked matrix has full column rank for every alpha > 0.
 * A is (n + d) x d column-major with Xc in its first n rows; b has n + d entries.
 */
static int solve_ridge(double *A, double *b, size_t n, size_t d, double alpha, struct error *err)
{
	lapack_int m = (lapack_int)(n + d), nd = (lapack_int)d, info;
	double query = 0.0, *work = NULL, root = sqrt(alpha);

	for (size_t j = 0; j < d; j++)
		A[j * (n + d) + n + j] = root;
	info = LAPACKE_dgels_work(LAPACK_COL_MAJOR, 'N', m, nd, 1, A, m, b, m, &query, -1);
	if (info == 0) {
		lapack_int lwork = query > 1.0 ? (lapack_int)query : 1;

		work = xmalloc((size_t)lwork * sizeof(*work));
		info = LAPACKE_dgels_work(LAPACK_COL_MAJOR, 'N', m, nd, 1, A, m, b, m, work, lwork);
	}
	free(work);
	if (info)
		return error_set(err, ERR_INTERNAL, "ridge solve failed: LAPACK dgels info %d",
				 (int)info);
	return 0;
}

/*
 * Minimum-norm least squares by divide-and-conquer SVD, as scipy.linalg.lstsq (gelsd) computes
 * it for LinearRegression, with the same cutoff: singular values below machine epsilon times
 * the largest count as zero, so a duplicated column gets half the coefficient in each copy.
 * A is n x d column-major; b has max(n, d) entries.
 */
static int solve_lstsq(double *A, double *b, size_t n, size_t d, struct error *err)
{
	lapack_int m = (lapack_int)n, nd = (lapack_int)d, ldb = (lapack_int)(n > d ? n : d);
	lapack_int rank = 0, iquery = 0, *iwork = NULL, info;
	double query = 0.0, *work = NULL, *s = xmalloc((n < d ? n : d) * sizeof(*s));

	info = LAPACKE_dgelsd_work(LAPACK_COL_MAJOR, m, nd, 1, A, m, b, ldb, s, DBL_EPSILON, &rank,
				   &query, -1, &iquery);
	if (info == 0) {
		lapack_int lwork = query > 1.0 ? (lapack_int)query : 1;
		lapack_int liwork = iquery > 1 ? iquery : 1;

		work = xmalloc((size_t)lwork * sizeof(*work));
		iwork = xmalloc((size_t)liwork * sizeof(*iwork));
		info = LAPACKE_dgelsd_work(LAPACK_COL_MAJOR, m, nd, 1, A, m, b, ldb, s, DBL_EPSILON,
					   &rank, work, lwork, iwork);
	}
	free(s);
	free(work);
	free(iwork);
	if (info)
		return error_set(err, ERR_INTERNAL,
				 "least-squares solve failed: LAPACK dgelsd info %d%s", (int)info,
				 info > 0 ? " (the SVD did not converge)" : "");
	return 0;
}

int linear_fit(struct linear_model *out, const double *X, size_t n, size_t d, const double *y,
	       const struct linear_params *params, struct error *err)
{
	double *A = NULL, *b = NULL, *x_mean = NULL, y_mean = 0.0, icpt = 0.0;
	size_t lda, rows;
	int ret = check_input(X, n, d, y, params, err);

	if (ret || (ret = blas_require(err)))
		return ret;
	/* ridge stacks d more rows under Xc; lstsq returns d values in b even when n < d */
	lda = params->alpha > 0.0 ? n + d : n;
	rows = lda > d ? lda : d;
	A = xcalloc(lda * d, sizeof(*A));
	b = xcalloc(rows, sizeof(*b));
	x_mean = xmalloc(d * sizeof(*x_mean));
	centre(A, lda, b, x_mean, &y_mean, X, n, d, y, params->fit_intercept);
	if (params->alpha > 0.0)
		ret = solve_ridge(A, b, n, d, params->alpha, err);
	else
		ret = solve_lstsq(A, b, n, d, err);
	if (ret)
		goto out;
	if (params->fit_intercept) {
		icpt = y_mean;
		for (size_t j = 0; j < d; j++)
			icpt -= x_mean[j] * b[j];
	}
	linear_model_release(out);
	out->n_features = d;
	out->coef = xmalloc(d * sizeof(*out->coef));
	memcpy(out->coef, b, d * sizeof(*out->coef));
	out->intercept = icpt;
out:
	free(A);
	free(b);
	free(x_mean);
	return ret;
}

void linear_predict(const struct linear_model *m, const double *X, size_t n, double *out)
{
	size_t d = m->n_features;

	for (size_t i = 0; i < n; i++) {
		double s = 0.0;

		for (size_t j = 0; j < d; j++)
			s += X[i * d + j] * m->coef[j];
		out[i] = s + m->intercept;
	}
}
