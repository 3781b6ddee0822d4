/* Forwarders for the CBLAS/LAPACKE functions ferry uses; see blas_dl.h. */
#include "util/common.h"
#include "ml/blas_dl.h"

#include <cblas.h>
#include <lapacke.h>

#include "util/dynlib.h"
#include "util/error.h"

static struct dynlib openblas = DYNLIB_INIT("libopenblas.so.0", "libopenblas0");
static struct dynlib lapacke = DYNLIB_INIT("liblapacke.so.3", "liblapacke");

static struct {
	__typeof__(cblas_dgemv) *dgemv;
	__typeof__(cblas_dgemm) *dgemm;
	__typeof__(cblas_dsyrk) *dsyrk;
	__typeof__(openblas_get_config) *get_config;
	__typeof__(LAPACKE_dposv) *dposv;
	__typeof__(LAPACKE_dgels_work) *dgels_work;
	__typeof__(LAPACKE_dgelsd_work) *dgelsd_work;
} fn;
static pthread_once_t resolved = PTHREAD_ONCE_INIT;
static struct error resolve_err;
static int resolve_rc;

/* dlsym returns void *; POSIX guarantees it converts to a function pointer. */
#define RESOLVE(lib, field, name)                                                                  \
	do {                                                                                       \
		void *p = dynlib_sym(&(lib), (name), &resolve_err);                                \
		if (!p) {                                                                          \
			resolve_rc = resolve_err.code;                                             \
			return;                                                                    \
		}                                                                                  \
		memcpy(&fn.field, &p, sizeof(p));                                                  \
	} while (0)

static void resolve_all(void)
{
	RESOLVE(openblas, dgemv, "cblas_dgemv");
	RESOLVE(openblas, dgemm, "cblas_dgemm");
	RESOLVE(openblas, dsyrk, "cblas_dsyrk");
	RESOLVE(openblas, get_config, "openblas_get_config");
	RESOLVE(lapacke, dposv, "LAPACKE_dposv");
	RESOLVE(lapacke, dgels_work, "LAPACKE_dgels_work");
	RESOLVE(lapacke, dgelsd_work, "LAPACKE_dgelsd_work");
}

int blas_require(struct error *err)
{
	pthread_once(&resolved, resolve_all);
	if (!resolve_rc)
		return 0;
	return error_set(err, resolve_rc, "%s", resolve_err.msg);
}

static void need(void)
{
	struct error err = ERROR_INIT;

	if (blas_require(&err))
		BUG("BLAS called without blas_require: %s", err.msg);
}

void cblas_dgemv(OPENBLAS_CONST enum CBLAS_ORDER order, OPENBLAS_CONST enum CBLAS_TRANSPOSE trans,
		 OPENBLAS_CONST blasint m, OPENBLAS_CONST blasint n, OPENBLAS_CONST double alpha,
		 OPENBLAS_CONST double *a, OPENBLAS_CONST blasint lda, OPENBLAS_CONST double *x,
		 OPENBLAS_CONST blasint incx, OPENBLAS_CONST double beta, double *y,
		 OPENBLAS_CONST blasint incy)
{
	need();
	fn.dgemv(order, trans, m, n, alpha, a, lda, x, incx, beta, y, incy);
}

void cblas_dgemm(OPENBLAS_CONST enum CBLAS_ORDER Order, OPENBLAS_CONST enum CBLAS_TRANSPOSE TransA,
		 OPENBLAS_CONST enum CBLAS_TRANSPOSE TransB, OPENBLAS_CONST blasint M,
		 OPENBLAS_CONST blasint N, OPENBLAS_CONST blasint K, OPENBLAS_CONST double alpha,
		 OPENBLAS_CONST double *A, OPENBLAS_CONST blasint lda, OPENBLAS_CONST double *B,
		 OPENBLAS_CONST blasint ldb, OPENBLAS_CONST double beta, double *C,
		 OPENBLAS_CONST blasint ldc)
{
	need();
	fn.dgemm(Order, TransA, TransB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

void cblas_dsyrk(OPENBLAS_CONST enum CBLAS_ORDER Order, OPENBLAS_CONST enum CBLAS_UPLO Uplo,
		 OPENBLAS_CONST enum CBLAS_TRANSPOSE Trans, OPENBLAS_CONST blasint N,
		 OPENBLAS_CONST blasint K, OPENBLAS_CONST double alpha, OPENBLAS_CONST double *A,
		 OPENBLAS_CONST blasint lda, OPENBLAS_CONST double beta, double *C,
		 OPENBLAS_CONST blasint ldc)
{
	need();
	fn.dsyrk(Order, Uplo, Trans, N, K, alpha, A, lda, beta, C, ldc);
}

char *openblas_get_config(void)
{
	need();
	return fn.get_config();
}

lapack_int LAPACKE_dposv(int matrix_layout, char uplo, lapack_int n, lapack_int nrhs, double *a,
			 lapack_int lda, double *b, lapack_int ldb)
{
	need();
	return fn.dposv(matrix_layout, uplo, n, nrhs, a, lda, b, ldb);
}

lapack_int LAPACKE_dgels_work(int matrix_layout, char trans, lapack_int m, lapack_int n,
			      lapack_int nrhs, double *a, lapack_int lda, double *b, lapack_int ldb,
			      double *work, lapack_int lwork)
{
	need();
	return fn.dgels_work(matrix_layout, trans, m, n, nrhs, a, lda, b, ldb, work, lwork);
}

lapack_int LAPACKE_dgelsd_work(int matrix_layout, lapack_int m, lapack_int n, lapack_int nrhs,
			       double *a, lapack_int lda, double *b, lapack_int ldb, double *s,
			       double rcond, lapack_int *rank, double *work, lapack_int lwork,
			       lapack_int *iwork)
{
	need();
	return fn.dgelsd_work(matrix_layout, m, n, nrhs, a, lda, b, ldb, s, rcond, rank, work,
			      lwork, iwork);
}
