/*
 * OpenBLAS and LAPACKE are loaded on first use (util/dynlib.h says why). blas_dl.c defines the
 * few CBLAS/LAPACKE functions ferry calls, forwarding to the libraries once loaded, so callers
 * use the usual <cblas.h>/<lapacke.h> names.
 *
 * The CBLAS functions return nothing and cannot report a failed load: every entry point that
 * reaches them (logreg_fit, linear_fit) calls blas_require first and returns its error.
 * Calling a forwarder without a successful blas_require is a program error (BUG).
 */
#ifndef FERRY_ML_BLAS_DL_H
#define FERRY_ML_BLAS_DL_H

struct error;

/* Loads libopenblas.so.0 and liblapacke.so.3 once: 0, or ERR_UNSUPPORTED naming the library. */
int blas_require(struct error *err);

#endif
