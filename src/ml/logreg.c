/*
 * L2-regularised logistic regression (binary and softmax) by L-BFGS with a Wolfe line search or
 * by Newton's method (Cholesky for binary, preconditioned conjugate gradients for softmax).
 */
#include "util/common.h"
#include "ml/logreg.h"
#include "ml/blas_dl.h"

#include <cblas.h>
#include <float.h>
#include <lapacke.h>
#include <math.h>

#define LBFGS_MEMORY 10
#define LS_MAX_EVALS 40
#define LS_C1 1e-4 /* sufficient decrease (Armijo) */
#define LS_C2 0.9  /* curvature: |phi'(a)| <= C2 |phi'(0)| */
/*
 * Near the optimum the change in the objective falls below the rounding noise of a sum over n
 * losses while the gradient is still accurate: accept such steps on the gradient alone, as
 * Hager and Zhang's approximate Wolfe conditions do.
 */
#define F_NOISE 1e-11
/*
 * The data term is evaluated over blocks of rows of at most BLOCK_ELEMS values of X, with BLAS
 * for the products: a block stays in cache between the pass for the scores and the pass for the
 * gradient, and each call is far below the size (2304 * GEMM_MULTITHREAD_THRESHOLD, 9216 by
 * default) at which OpenBLAS starts threads, so no sum is ever split between threads and the
 * blocks are added in a fixed order: fits are bit-identical run to run.
 */
#define BLOCK_ELEMS 2048

/*
 * The objective is sklearn 1.2.1's lbfgs scale, sum_i loss_i + ||W||² / (2C): the header's
 * objective divided by C, so that tol means what it means to sklearn. With an intercept and
 * k > 2 classes, adding a constant to every intercept changes nothing, so the minimum is not
 * unique; the term (sum_c b_c)² / 2 picks the one with intercepts summing to 0 (where sklearn's
 * solvers stay, since their gradients sum to 0 over classes) and makes the Hessian definite.
 */
struct problem {
	const double *X;
	const int *y;
	size_t n, d, k;
	size_t rows; /* coefficient rows: 1 or k */
	size_t dim;  /* d + fit_intercept: parameters per row, intercept last */
	size_t p;    /* rows * dim */
	int fit_intercept;
	double inv_C;
	double *prob;  /* n * rows: probabilities at the last point evaluated */
	double *resid; /* residuals (scores) of one block of rows */
};

/*
 * Eight partial sums, which the compiler keeps in four SIMD registers: independent chains hide
 * the adder's latency. The order of the additions is fixed, and so is the result.
 */
static inline double dot(const double *a, const double *b, size_t n)
{
	double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0, s4 = 0.0, s5 = 0.0, s6 = 0.0, s7 = 0.0;
	size_t j = 0;

	for (; j + 8 <= n; j += 8) {
		s0 += a[j] * b[j];
		s1 += a[j + 1] * b[j + 1];
		s2 += a[j + 2] * b[j + 2];
		s3 += a[j + 3] * b[j + 3];
		s4 += a[j + 4] * b[j + 4];
		s5 += a[j + 5] * b[j + 5];
		s6 += a[j + 6] * b[j + 6];
		s7 += a[j + 7] * b[j + 7];
	}
	for (; j < n; j++)
		s0 += a[j] * b[j];
	return ((s0 + s4) + (s1 + s5)) + ((s2 + s6) + (s3 + s7));
}

static inline void axpy(double *y, double a, const double *x, size_t n)
{
	for (size_t j = 0; j < n; j++)
		y[j] += a * x[j];
}

static double max_abs(const double *v, size_t n)
{
	double m = 0.0;

	for (size_t j = 0; j < n; j++)
		m = fmax(m, fabs(v[j]));
	return m;
}

static double sum_abs(const double *v, size_t n)
{
	double s = 0.0;

	for (size_t j = 0; j < n; j++)
		s += fabs(v[j]);
	return s;
}

/* x·w + b for coefficient row r of theta. */
static inline double score(const struct problem *pb, const double *theta, size_t r, const double *x)
{
	const double *w = theta + r * pb->dim;

	return dot(x, w, pb->d) + (pb->fit_intercept ? w[pb->d] : 0.0);
}

/* The penalty terms of the objective, added to f and grad. */
static double add_penalty(const struct problem *pb, const double *theta, double *grad)
{
	double f = 0.0, bsum = 0.0;

	for (size_t r = 0; r < pb->rows; r++) {
		const double *w = theta + r * pb->dim;
		double *g = grad + r * pb->dim;

		f += 0.5 * pb->inv_C * dot(w, w, pb->d);
		axpy(g, pb->inv_C, w, pb->d);
		if (pb->fit_intercept)
			bsum += w[pb->d];
	}
	if (pb->rows > 1 && pb->fit_intercept) {
		f += 0.5 * bsum * bsum;
		for (size_t r = 0; r < pb->rows; r++)
			grad[r * pb->dim + pb->d] += bsum;
	}
	return f;
}

/* log(1 + e^z) - y z and its derivative sigmoid(z) - y, without overflow. */
static double eval_binary(const struct problem *pb, const double *theta, double *grad)
{
	double f = 0.0, *z = pb->resid, b = pb->fit_intercept ? theta[pb->d] : 0.0;
	size_t B = pb->d < BLOCK_ELEMS ? BLOCK_ELEMS / pb->d : 1;

	memset(grad, 0, pb->p * sizeof(*grad));
	for (size_t i0 = 0; i0 < pb->n; i0 += B) {
		size_t rows = pb->n - i0 < B ? pb->n - i0 : B;
		const double *Xb = pb->X + i0 * pb->d;

		cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)rows, (int)pb->d, 1.0, Xb, (int)pb->d,
			    theta, 1, 0.0, z, 1);
		for (size_t i = 0; i < rows; i++) {
			double zi = z[i] + b, e = exp(-fabs(zi));
			double sig = zi >= 0.0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
			int yi = pb->y[i0 + i];

			f += (zi > 0.0 ? zi : 0.0) + log1p(e) - (yi ? zi : 0.0);
			pb->prob[i0 + i] = sig;
			z[i] = sig - yi;
			if (pb->fit_intercept)
				grad[pb->d] += z[i];
		}
		cblas_dgemv(CblasRowMajor, CblasTrans, (int)rows, (int)pb->d, 1.0, Xb, (int)pb->d,
			    z, 1, 1.0, grad, 1);
	}
	return f + add_penalty(pb, theta, grad);
}

/* logsumexp(z) - z_y and its derivative softmax(z) - onehot(y). */
static double eval_multi(const struct problem *pb, const double *theta, double *grad)
{
	size_t k = pb->k, d = pb->d, dim = pb->dim;
	size_t B = d * k < BLOCK_ELEMS ? BLOCK_ELEMS / (d * k) : 1;
	double f = 0.0;

	memset(grad, 0, pb->p * sizeof(*grad));
	for (size_t i0 = 0; i0 < pb->n; i0 += B) {
		size_t rows = pb->n - i0 < B ? pb->n - i0 : B;
		const double *Xb = pb->X + i0 * d;
		double *P = pb->prob + i0 * k;

		/* scores into P, then probabilities, then residuals in the block scratch */
		cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)rows, (int)k, (int)d, 1.0,
			    Xb, (int)d, theta, (int)dim, 0.0, P, (int)k);
		for (size_t i = 0; i < rows; i++) {
			double *pr = P + i * k, *res = pb->resid + i * k, zmax = -HUGE_VAL,
			       sum = 0.0;
			int yi = pb->y[i0 + i];

			for (size_t c = 0; c < k; c++) {
				if (pb->fit_intercept)
					pr[c] += theta[c * dim + d];
				zmax = pr[c] > zmax ? pr[c] : zmax;
			}
			f -= pr[yi] - zmax;
			for (size_t c = 0; c < k; c++) {
				pr[c] = exp(pr[c] - zmax);
				sum += pr[c];
			}
			/* sum >= 1: the largest term is exp(0) */
			f += log(fmax(sum, 1.0));
			for (size_t c = 0; c < k; c++) {
				pr[c] /= sum;
				res[c] = pr[c] - ((size_t)yi == c);
				if (pb->fit_intercept)
					grad[c * dim + d] += res[c];
			}
		}
		cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)k, (int)d, (int)rows, 1.0,
			    pb->resid, (int)k, Xb, (int)d, 1.0, grad, (int)dim);
	}
	return f + add_penalty(pb, theta, grad);
}

/* The objective at theta, its gradient into grad, and pb->prob for theta. */
static double evaluate(const struct problem *pb, const double *theta, double *grad)
{
	return pb->rows == 1 ? eval_binary(pb, theta, grad) : eval_multi(pb, theta, grad);
}

/* A point of the search: parameters, objective and gradient. */
struct point {
	double *x;
	double f;
	double *g;
};

/*
 * Finds a step a along dir from cur satisfying the strong Wolfe conditions (Armijo within the
 * rounding noise, |phi'(a)| <= C2 |phi'(0)|) into trial. The objective is convex, so the
 * minimiser along the line is bracketed by the sign of phi', which stays accurate when phi's
 * differences are lost in rounding: a safeguarded secant on phi' zooms in, and extrapolation
 * grows the step until phi' >= 0 or Armijo fails. Returns 0 when it found one; 1 when it did
 * not but trial holds the longest step seen that satisfies Armijo (still progress); -1 when
 * there was no such step either.
 */
static int line_search(const struct problem *pb, const struct point *cur, const double *dir,
		       double step, struct point *trial)
{
	double d0 = dot(cur->g, dir, pb->p), tol_f = F_NOISE * fabs(cur->f);
	double lo = 0.0, dlo = d0, hi = HUGE_VAL, dhi = 0.0, prev = 0.0, dprev = d0;
	double a = step;

	for (int it = 0; it < LS_MAX_EVALS; it++) {
		double da;
		int armijo;

		for (size_t j = 0; j < pb->p; j++)
			trial->x[j] = cur->x[j] + a * dir[j];
		trial->f = evaluate(pb, trial->x, trial->g);
		da = dot(trial->g, dir, pb->p);
		armijo = trial->f <= cur->f + LS_C1 * a * d0 + tol_f;
		if (armijo && fabs(da) <= -LS_C2 * d0)
			return 0;
		if (armijo && isfinite(trial->f) && da < 0.0) {
			prev = lo;
			dprev = dlo;
			lo = a;
			dlo = da;
		} else {
			hi = a;
			dhi = isfinite(da) ? da : HUGE_VAL;
		}
		if (hi == HUGE_VAL) {
			/* phi' still negative: extrapolate its zero, at least doubling the step */
			double next =
			    dlo > dprev ? lo - dlo * (lo - prev) / (dlo - dprev) : 4.0 * lo;

			a = fmin(fmax(next, 2.0 * lo), 10.0 * lo);
		} else {
			double w = hi - lo;

			if (dhi > 0.0 && isfinite(dhi))
				a = lo - dlo * w / (dhi - dlo);
			else
				a = lo + 0.5 * w; /* no usable slope at hi: bisect */
			a = fmin(fmax(a, lo + 0.1 * w), hi - 0.1 * w);
			if (w <= 1e-15 * hi)
				break;
		}
	}
	if (lo > 0.0) {
		/* the best Armijo point seen still makes progress */
		for (size_t j = 0; j < pb->p; j++)
			trial->x[j] = cur->x[j] + lo * dir[j];
		trial->f = evaluate(pb, trial->x, trial->g);
		return 1;
	}
	return -1;
}

static void swap_points(struct point *a, struct point *b)
{
	struct point t = *a;

	*a = *b;
	*b = t;
}

struct lbfgs_memory {
	double *s, *y; /* LBFGS_MEMORY pairs of p values, oldest at index start */
	double rho[LBFGS_MEMORY], alpha[LBFGS_MEMORY];
	size_t count, start;
};

/* dir = -H g by the two-loop recursion, H scaled by s·y / y·y of the newest pair. */
static void lbfgs_direction(const struct lbfgs_memory *mem, size_t p, const double *g, double *dir,
			    double *alpha)
{
	for (size_t j = 0; j < p; j++)
		dir[j] = -g[j];
	for (size_t m = mem->count; m-- > 0;) {
		size_t slot = (mem->start + m) % LBFGS_MEMORY;
		const double *s = mem->s + slot * p, *y = mem->y + slot * p;

		alpha[m] = mem->rho[slot] * dot(s, dir, p);
		axpy(dir, -alpha[m], y, p);
	}
	if (mem->count) {
		size_t slot = (mem->start + mem->count - 1) % LBFGS_MEMORY;
		const double *y = mem->y + slot * p;
		double gamma = 1.0 / (mem->rho[slot] * dot(y, y, p));

		for (size_t j = 0; j < p; j++)
			dir[j] *= gamma;
	}
	for (size_t m = 0; m < mem->count; m++) {
		size_t slot = (mem->start + m) % LBFGS_MEMORY;
		const double *s = mem->s + slot * p, *y = mem->y + slot * p;
		double beta = mem->rho[slot] * dot(y, dir, p);

		axpy(dir, alpha[m] - beta, s, p);
	}
}

/* Records s = new - old, y = g_new - g_old unless s·y is not safely positive. */
static void lbfgs_push(struct lbfgs_memory *mem, size_t p, const struct point *old,
		       const struct point *new)
{
	size_t slot;
	double *s, *y, sy = 0.0, yy = 0.0;

	for (size_t j = 0; j < p; j++) {
		double dg = new->g[j] - old->g[j];

		sy += (new->x[j] - old->x[j]) * dg;
		yy += dg * dg;
	}
	if (!(sy > DBL_EPSILON * yy))
		return;
	slot = mem->count < LBFGS_MEMORY ? (mem->start + mem->count) % LBFGS_MEMORY : mem->start;
	s = mem->s + slot * p;
	y = mem->y + slot * p;
	for (size_t j = 0; j < p; j++) {
		s[j] = new->x[j] - old->x[j];
		y[j] = new->g[j] - old->g[j];
	}
	mem->rho[slot] = 1.0 / sy;
	if (mem->count < LBFGS_MEMORY)
		mem->count++;
	else
		mem->start = (mem->start + 1) % LBFGS_MEMORY;
}

static void solve_lbfgs(const struct problem *pb, struct point *cur,
			const struct logreg_params *params, int *n_iter, int *converged)
{
	size_t p = pb->p;
	struct lbfgs_memory mem = { NULL, NULL, { 0 }, { 0 }, 0, 0 };
	struct point trial = { xmalloc(p * sizeof(double)), 0.0, xmalloc(p * sizeof(double)) };
	double *dir = xmalloc(p * sizeof(*dir));
	int iter = 0, ftol_met = 0;

	mem.s = xmalloc(LBFGS_MEMORY * p * sizeof(double));
	mem.y = xmalloc(LBFGS_MEMORY * p * sizeof(double));
	while (max_abs(cur->g, p) > params->tol && iter < params->max_iter) {
		double step = 1.0;
		int ret;

		lbfgs_direction(&mem, p, cur->g, dir, mem.alpha);
		if (!mem.count || !(dot(dir, cur->g, p) < 0.0)) {
			/* steepest descent, first step of length 1 as L-BFGS-B takes */
			mem.count = 0;
			for (size_t j = 0; j < p; j++)
				dir[j] = -cur->g[j];
			step = 1.0 / sqrt(dot(dir, dir, p));
		}
		ret = line_search(pb, cur, dir, step, &trial);
		if (ret < 0 && mem.count) {
			mem.count = 0; /* a stale curvature model: retry from steepest descent */
			continue;
		}
		if (ret < 0)
			break; /* no progress possible: tol is below the rounding noise */
		lbfgs_push(&mem, p, cur, &trial);
		swap_points(cur, &trial);
		iter++;
		/* scipy's L-BFGS-B stop (factr): (f_k - f_k+1) / max(|f_k|, |f_k+1|, 1) <= ftol */
		if (params->ftol > 0 &&
		    trial.f - cur->f <=
			params->ftol * fmax(fmax(fabs(trial.f), fabs(cur->f)), 1.0)) {
			ftol_met = 1;
			break;
		}
	}
	*n_iter = iter;
	*converged = ftol_met || max_abs(cur->g, p) <= params->tol;
	free(mem.s);
	free(mem.y);
	free(trial.x);
	free(trial.g);
	free(dir);
}

#define GRAM_CHUNK 1024 /* rows of sqrt(D) [X 1] formed at a time */

/*
 * gram = [X 1]ᵀ D [X 1] with D = p(1-p), by dsyrk over chunks of sqrt(D) [X 1] (work holds
 * GRAM_CHUNK rows). OpenBLAS splits syrk over output blocks, never over the sum, and the chunks
 * are added in order, so the result does not depend on its thread count.
 */
static void gram_binary(const struct problem *pb, double *work, double *gram)
{
	size_t dim = pb->dim;

	for (size_t i0 = 0; i0 < pb->n; i0 += GRAM_CHUNK) {
		size_t rows = pb->n - i0 < GRAM_CHUNK ? pb->n - i0 : GRAM_CHUNK;

		for (size_t i = 0; i < rows; i++) {
			const double *x = pb->X + (i0 + i) * pb->d;
			double *row = work + i * dim, pi = pb->prob[i0 + i];
			double sw = sqrt(pi * (1.0 - pi));

			for (size_t j = 0; j < pb->d; j++)
				row[j] = sw * x[j];
			if (pb->fit_intercept)
				row[pb->d] = sw;
		}
		cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)dim, (int)rows, 1.0, work,
			    (int)dim, i0 ? 1.0 : 0.0, gram, (int)dim);
	}
}

/*
 * Binary Newton step: solves (gram + diag(1/C, .., 1/C, 0)) step = -g by Cholesky. When every
 * p is near 0 or 1 the intercept's row can be singular: a growing ridge makes it factor.
 */
static int newton_step_binary(const struct problem *pb, const double *g, double *step, double *work,
			      double *gram, double *hess)
{
	size_t dim = pb->dim;
	double ridge = 0.0;

	gram_binary(pb, work, gram);
	for (int attempt = 0; attempt < 8; attempt++) {
		lapack_int info;

		memcpy(hess, gram, dim * dim * sizeof(*hess));
		for (size_t j = 0; j < dim; j++) {
			hess[j * dim + j] += (j < pb->d ? pb->inv_C : 0.0) + ridge;
			step[j] = -g[j];
		}
		info = LAPACKE_dposv(LAPACK_ROW_MAJOR, 'U', (lapack_int)dim, 1, hess,
				     (lapack_int)dim, step, 1);
		if (info == 0)
			return 0;
		if (info < 0)
			return -1;
		ridge = ridge ? ridge * 100.0 : 1e-10 * (1.0 + pb->inv_C);
	}
	return -1;
}

/* out = H v for the softmax objective at pb->prob (including the penalty terms). */
static void hessp_multi(const struct problem *pb, const double *v, double *out)
{
	size_t k = pb->k, dim = pb->dim;
	double u[64], *uu = k <= 64 ? u : xmalloc(k * sizeof(*uu)), vb = 0.0;

	memset(out, 0, pb->p * sizeof(*out));
	for (size_t i = 0; i < pb->n; i++) {
		const double *x = pb->X + i * pb->d, *pr = pb->prob + i * k;
		double s = 0.0;

		for (size_t c = 0; c < k; c++) {
			uu[c] = score(pb, v, c, x);
			s += pr[c] * uu[c];
		}
		for (size_t c = 0; c < k; c++) {
			double a = pr[c] * (uu[c] - s);

			axpy(out + c * dim, a, x, pb->d);
			if (pb->fit_intercept)
				out[c * dim + pb->d] += a;
		}
	}
	for (size_t c = 0; c < k; c++) {
		axpy(out + c * dim, pb->inv_C, v + c * dim, pb->d);
		if (pb->fit_intercept)
			vb += v[c * dim + pb->d];
	}
	if (pb->fit_intercept) {
		for (size_t c = 0; c < k; c++)
			out[c * dim + pb->d] += vb;
	}
	if (uu != u)
		free(uu);
}

/* The Hessian's diagonal at pb->prob, as a Jacobi preconditioner. */
static void hess_diag_multi(const struct problem *pb, double *diag)
{
	size_t k = pb->k, dim = pb->dim;

	memset(diag, 0, pb->p * sizeof(*diag));
	for (size_t i = 0; i < pb->n; i++) {
		const double *x = pb->X + i * pb->d, *pr = pb->prob + i * k;

		for (size_t c = 0; c < k; c++) {
			double h = pr[c] * (1.0 - pr[c]), *dg = diag + c * dim;

			for (size_t j = 0; j < pb->d; j++)
				dg[j] += h * x[j] * x[j];
			if (pb->fit_intercept)
				dg[pb->d] += h;
		}
	}
	for (size_t c = 0; c < k; c++) {
		for (size_t j = 0; j < pb->d; j++)
			diag[c * dim + j] += pb->inv_C;
		if (pb->fit_intercept)
			diag[c * dim + pb->d] += 1.0;
	}
}

/*
 * Softmax Newton step by preconditioned conjugate gradients, stopped as sklearn's newton-cg
 * does: residual L1 norm <= min(0.5, sqrt(|g|_1)) |g|_1, which tightens near the optimum.
 */
static void newton_step_multi(const struct problem *pb, const double *g, double *step, double *w)
{
	size_t p = pb->p;
	double *diag = w, *r = w + p, *z = w + 2 * p, *d = w + 3 * p, *hd = w + 4 * p;
	double gnorm = sum_abs(g, p), cg_tol = fmin(0.5, sqrt(gnorm)) * gnorm, rz;

	hess_diag_multi(pb, diag);
	for (size_t j = 0; j < p; j++) {
		step[j] = 0.0;
		r[j] = -g[j];
		z[j] = r[j] / diag[j];
		d[j] = z[j];
	}
	rz = dot(r, z, p);
	for (size_t it = 0; it < 2 * p + 20 && sum_abs(r, p) > cg_tol; it++) {
		double curv, alpha, rz_new;

		hessp_multi(pb, d, hd);
		curv = dot(d, hd, p);
		if (!(curv > 0.0))
			break;
		alpha = rz / curv;
		axpy(step, alpha, d, p);
		axpy(r, -alpha, hd, p);
		for (size_t j = 0; j < p; j++)
			z[j] = r[j] / diag[j];
		rz_new = dot(r, z, p);
		for (size_t j = 0; j < p; j++)
			d[j] = z[j] + rz_new / rz * d[j];
		rz = rz_new;
	}
	if (!(dot(step, g, p) < 0.0)) {
		for (size_t j = 0; j < p; j++)
			step[j] = -g[j] / diag[j];
	}
}

static void solve_newton(const struct problem *pb, struct point *cur,
			 const struct logreg_params *params, int *n_iter, int *converged)
{
	size_t p = pb->p;
	struct point trial = { xmalloc(p * sizeof(double)), 0.0, xmalloc(p * sizeof(double)) };
	double *step = xmalloc(p * sizeof(*step)), *work, *gram = NULL, *hess = NULL;
	int iter = 0;

	if (pb->rows == 1) {
		work = xmalloc(GRAM_CHUNK * p * sizeof(*work));
		gram = xmalloc(p * p * sizeof(*gram));
		hess = xmalloc(p * p * sizeof(*hess));
	} else {
		work = xmalloc(5 * p * sizeof(*work));
	}
	while (max_abs(cur->g, p) > params->tol && iter < params->max_iter) {
		double slope, t = 1.0;
		int accepted = 0;

		if (pb->rows > 1)
			newton_step_multi(pb, cur->g, step, work);
		else if (newton_step_binary(pb, cur->g, step, work, gram, hess))
			break;
		slope = dot(step, cur->g, p);
		/* halve until Armijo holds, to within rounding noise */
		for (int h = 0; h < 40 && !accepted; h++, t *= 0.5) {
			for (size_t j = 0; j < p; j++)
				trial.x[j] = cur->x[j] + t * step[j];
			trial.f = evaluate(pb, trial.x, trial.g);
			accepted = trial.f <= cur->f + LS_C1 * t * slope + F_NOISE * fabs(cur->f);
		}
		if (!accepted) {
			evaluate(pb, cur->x, cur->g); /* pb->prob back to the current point */
			break;
		}
		swap_points(cur, &trial);
		iter++;
	}
	*n_iter = iter;
	*converged = max_abs(cur->g, p) <= params->tol;
	free(trial.x);
	free(trial.g);
	free(step);
	free(work);
	free(gram);
	free(hess);
}

static int check_args(const double *X, size_t n, size_t d, const int *y, size_t k,
		      const struct logreg_params *params, struct error *err)
{
	size_t *count;

	if (n == 0 || d == 0)
		return error_set(err, ERR_INVALID,
				 "logistic regression needs at least one row and one feature, got "
				 "%zu rows and %zu features",
				 n, d);
	if (k < 2)
		return error_set(err, ERR_INVALID,
				 "logistic regression needs at least 2 classes, got %zu", k);
	if (!(params->C > 0.0) || !isfinite(params->C))
		return error_set(err, ERR_INVALID, "C must be a positive number, got %g",
				 params->C);
	if (!(params->tol >= 0.0))
		return error_set(err, ERR_INVALID, "tol must be 0 or more, got %g", params->tol);
	if (params->max_iter < 0)
		return error_set(err, ERR_INVALID, "max_iter must be 0 or more, got %d",
				 params->max_iter);
	if (d > (size_t)INT_MAX / k)
		return error_set(err, ERR_INVALID, "%zu features x %zu classes is too many", d, k);
	if (params->solver != LOGREG_LBFGS && params->solver != LOGREG_NEWTON)
		return error_set(err, ERR_INVALID, "unknown logistic regression solver %d",
				 (int)params->solver);
	for (size_t i = 0; i < n * d; i++) {
		if (!isfinite(X[i]))
			return error_set(err, ERR_INVALID,
					 "row %zu, feature %zu: non-finite value %g in X", i / d,
					 i % d, X[i]);
	}
	count = xcalloc(k, sizeof(*count));
	for (size_t i = 0; i < n; i++) {
		if (y[i] < 0 || (size_t)y[i] >= k) {
			free(count);
			return error_set(err, ERR_INVALID, "row %zu: class %d is not in 0..%zu", i,
					 y[i], k - 1);
		}
		count[y[i]]++;
	}
	for (size_t c = 0; c < k; c++) {
		if (!count[c]) {
			free(count);
			return error_set(err, ERR_INVALID, "class %zu of %zu has no rows", c, k);
		}
	}
	free(count);
	return 0;
}

void logreg_model_release(struct logreg_model *m)
{
	if (!m)
		return;
	free(m->coef);
	free(m->intercept);
	memset(m, 0, sizeof(*m));
}

int logreg_fit(struct logreg_model *out, const double *X, size_t n, size_t d, const int *y,
	       size_t k, const struct logreg_params *params, struct error *err)
{
	struct logreg_model m = LOGREG_MODEL_INIT;
	struct problem pb;
	struct point cur = { NULL, 0.0, NULL };
	double bmean = 0.0;
	int ret = check_args(X, n, d, y, k, params, err);

	if (ret || (ret = blas_require(err)))
		return ret;
	pb.X = X;
	pb.y = y;
	pb.n = n;
	pb.d = d;
	pb.k = k;
	pb.rows = k == 2 ? 1 : k;
	pb.fit_intercept = params->fit_intercept != 0;
	pb.dim = d + (size_t)pb.fit_intercept;
	pb.p = pb.rows * pb.dim;
	pb.inv_C = 1.0 / params->C;
	pb.prob = xmalloc(n * pb.rows * sizeof(*pb.prob));
	pb.resid = xmalloc((BLOCK_ELEMS + k) * sizeof(*pb.resid));

	/* start from 0, as sklearn does */
	cur.x = xcalloc(pb.p, sizeof(double));
	cur.g = xmalloc(pb.p * sizeof(double));
	cur.f = evaluate(&pb, cur.x, cur.g);
	if (params->solver == LOGREG_NEWTON)
		solve_newton(&pb, &cur, params, &m.n_iter, &m.converged);
	else
		solve_lbfgs(&pb, &cur, params, &m.n_iter, &m.converged);

	m.n_features = d;
	m.n_classes = k;
	m.rows = pb.rows;
	m.coef = xmalloc(pb.rows * d * sizeof(*m.coef));
	m.intercept = xcalloc(pb.rows, sizeof(*m.intercept));
	for (size_t r = 0; r < pb.rows; r++) {
		memcpy(m.coef + r * d, cur.x + r * pb.dim, d * sizeof(double));
		if (pb.fit_intercept)
			m.intercept[r] = cur.x[r * pb.dim + d];
		bmean += m.intercept[r] / (double)pb.rows;
	}
	/* the penalty leaves the intercepts' sum near 0; make it exactly that, as sklearn's is */
	for (size_t r = 0; pb.rows > 1 && r < pb.rows; r++)
		m.intercept[r] -= bmean;
	logreg_model_release(out);
	*out = m;
	free(pb.prob);
	free(pb.resid);
	free(cur.x);
	free(cur.g);
	return 0;
}

void logreg_predict_proba(const struct logreg_model *m, const double *X, size_t n, double *proba)
{
	size_t d = m->n_features, k = m->n_classes;

	if (m->rows == 1) {
		const double *w = m->coef;
		double b = m->intercept[0];

		for (size_t i = 0; i < n; i++) {
			double z = dot(X + i * d, w, d) + b;
			double p1 = 1.0 / (1.0 + exp(-z));

			proba[2 * i] = 1.0 - p1;
			proba[2 * i + 1] = p1;
		}
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const double *x = X + i * d;
		double *pr = proba + i * k, zmax = -HUGE_VAL, sum = 0.0;

		for (size_t c = 0; c < k; c++) {
			pr[c] = dot(x, m->coef + c * d, d) + m->intercept[c];
			zmax = fmax(zmax, pr[c]);
		}
		for (size_t c = 0; c < k; c++) {
			pr[c] = exp(pr[c] - zmax);
			sum += pr[c];
		}
		for (size_t c = 0; c < k; c++)
			pr[c] /= sum;
	}
}
