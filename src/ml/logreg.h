/*
 * L2-regularised logistic regression, binary and multinomial, fitted by L-BFGS or Newton's
 * method, minimising what scikit-learn 1.2.1's LogisticRegression(penalty='l2', C) minimises:
 *
 *     C * sum_i loss_i(w, b) + 0.5 * ||w||²      (the intercept b is not penalised)
 *
 * where loss_i is the binary log loss of sigmoid(x_i·w + b) when k == 2 (one coefficient row,
 * sklearn's coef_ shape (1, d)) and the multinomial (softmax) log loss when k > 2 (k rows).
 * The optimum is unique, so coefficients agree with sklearn's to the solvers' tolerance.
 */
#ifndef FERRY_ML_LOGREG_H
#define FERRY_ML_LOGREG_H

#include <stddef.h>

struct error;

enum logreg_solver {
	LOGREG_LBFGS,
	LOGREG_NEWTON,
};

struct logreg_params {
	double C; /* inverse regularisation strength, > 0; sklearn's default 1.0 */
	enum logreg_solver solver;
	int max_iter;	   /* sklearn's default 100 */
	double tol;	   /* stop when the max |projected gradient| <= tol; sklearn's 1e-4 (*) */
	int fit_intercept; /* 1 (default) or 0 */
	double ftol;	   /* L-BFGS also stops when an iteration lowers the objective by at most
			      ftol relative; scipy's default 1e7 * DBL_EPSILON; 0 turns it off */
};

/*
 * (*) The gradient is that of sum_i loss_i + ||w||² / (2C), the objective above divided by C
 * and not divided by n: what sklearn 1.2.1's lbfgs minimises and applies tol to. sklearn's lbfgs
 * also stops when an iteration lowers the objective by less than 2.2e-9 relative (scipy's
 * ftol), which often ends it well before tol is met; so does ferry's with the default ftol, and
 * counts that as converged as sklearn does (no warning). ftol = 0 runs to tol.
 */
#define LOGREG_PARAMS_INIT                                                                         \
	{                                                                                          \
		1.0, LOGREG_LBFGS, 100, 1e-4, 1, 2.220446049250313e-09                             \
	}

/*
 * A fitted model. coef is rows x n_features row-major, intercept has rows entries, where rows is
 * 1 for k == 2 (the positive class, index 1) and k otherwise. Owned by the struct. For k > 2
 * with an intercept the intercepts sum to 0, as sklearn's do (adding a constant to all of them
 * changes neither the loss nor the penalty).
 */
struct logreg_model {
	size_t n_features;
	size_t n_classes;
	size_t rows;
	double *coef;
	double *intercept;
	int n_iter;    /* iterations the solver ran */
	int converged; /* 0 when it stopped at max_iter (a warning for the caller to show),
			  * or when no step lowered the objective (tol below rounding noise) */
};

#define LOGREG_MODEL_INIT                                                                          \
	{                                                                                          \
		0, 0, 0, NULL, NULL, 0, 0                                                          \
	}

void logreg_model_release(struct logreg_model *m);

/*
 * Fits on X (n x d, row-major, finite values) and y (class indices 0..k-1, k >= 2, every class
 * present). ERR_INVALID with a message on bad arguments (n == 0, d == 0, k < 2, a class with no
 * rows, C <= 0, non-finite X). Deterministic: the same inputs give bit-identical coefficients
 * (no threads whose scheduling changes sums). *out is released and overwritten on success.
 */
int logreg_fit(struct logreg_model *out, const double *X, size_t n, size_t d, const int *y,
	       size_t k, const struct logreg_params *params, struct error *err);

/*
 * Class probabilities for n rows of X (n x m->n_features) into proba (n x m->n_classes,
 * row-major); rows of proba sum to 1. For k == 2, column 1 is sigmoid(x·w + b).
 */
void logreg_predict_proba(const struct logreg_model *m, const double *X, size_t n, double *proba);

#endif
