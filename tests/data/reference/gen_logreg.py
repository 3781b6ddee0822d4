#!/usr/bin/python3
"""
Reference fits for tests/unit/test_logreg.c: scikit-learn 1.2.1's LogisticRegression (L2) on
standard-scaled example datasets, written to logreg.json next to this script.

The precise optimum comes from solver="newton-cg" with tol=1e-8: sklearn's lbfgs at tol=1e-10
stops early anyway, on scipy's relative-decrease test (ftol 2.2e-9, which sklearn 1.2.1 does not
expose), with a max |gradient| near 1e-4 and coefficients off by ~1e-4. Its result is recorded
under "sklearn_lbfgs" for comparison, and the max |gradient| of each fit is computed here with
numpy on sklearn 1.2.1's lbfgs scale: sum of log losses + ||w||^2 / (2C).

Run from anywhere with Debian's python3-sklearn 1.2.1: /usr/bin/python3 gen_logreg.py
"""
import json
import os
import warnings

import numpy as np
import pandas as pd
import sklearn
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", "..", ".."))

CASES = [
    # name, dataset, rows used (None: all), C, fit_intercept
    ("breast_cancer_C1", "breast_cancer", None, 1.0, True),
    ("breast_cancer_C0.01", "breast_cancer", None, 0.01, True),
    ("iris_C1", "iris", None, 1.0, True),
    ("wine_C0.5", "wine", None, 0.5, True),
    ("breast_cancer_C1_no_intercept", "breast_cancer", None, 1.0, False),
    ("iris_C1_no_intercept", "iris", None, 1.0, False),
    # iris's first 100 rows are classes 0 and 1, linearly separable: only the penalty keeps the
    # coefficients finite, and a large C lets them grow
    ("iris_separable_C100", "iris", 100, 100.0, True),
]


def scores(X, coef, intercept):
    return X @ coef.T + intercept


def objective_and_gradient(X, y, coef, intercept, C, fit_intercept):
    """C * sum(loss) + 0.5 ||coef||^2, and the max |gradient| of sum(loss) + ||coef||^2 / (2C)."""
    Z = scores(X, coef, intercept)
    if coef.shape[0] == 1:
        z = Z[:, 0]
        loss = np.logaddexp(0.0, z) - y * z
        R = (1.0 / (1.0 + np.exp(-z)) - y)[:, None]
    else:
        k = coef.shape[0]
        lse = np.logaddexp.reduce(Z, axis=1)
        loss = lse - Z[np.arange(len(y)), y]
        R = np.exp(Z - lse[:, None]) - np.eye(k)[y]
    obj = C * loss.sum() + 0.5 * (coef**2).sum()
    g = np.abs(R.T @ X + coef / C).max()
    if fit_intercept:
        g = max(g, np.abs(R.sum(axis=0)).max())
    return float(obj), float(g)


def fit(X, y, C, fit_intercept, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a convergence warning means the reference is not precise
        return LogisticRegression(C=C, fit_intercept=fit_intercept, **kw).fit(X, y)


def coef_of(m):
    return m.coef_.tolist(), np.asarray(m.intercept_, dtype=float).ravel().tolist()


def main():
    out = {
        "generator": "tests/data/reference/gen_logreg.py",
        "versions": {"sklearn": sklearn.__version__, "numpy": np.__version__,
                     "pandas": pd.__version__},
        "conventions": (
            "X: the first n_rows rows, every column but 'target' in file order, standard-scaled "
            "(mean, population std, over those rows). coef: rows x features (1 row for 2 classes), intercept: rows (zeros "
            "without intercept). objective: C * sum(log loss) + 0.5 * ||coef||^2. "
            "max_abs_gradient: of sum(log loss) + ||coef||^2 / (2C), sklearn 1.2.1's lbfgs scale. "
            "proba_first10: predict_proba of rows 0..9. Reference: newton-cg, tol 1e-8."),
        "cases": [],
    }
    for name, dataset, nrows, C, fit_intercept in CASES:
        df = pd.read_csv(os.path.join(ROOT, "examples", "data", dataset + ".csv"), nrows=nrows)
        y = df.pop("target").to_numpy()
        X = StandardScaler().fit_transform(df.to_numpy(dtype=float))
        ref = fit(X, y, C, fit_intercept, solver="newton-cg", tol=1e-8, max_iter=10000)
        obj, grad = objective_and_gradient(X, y, ref.coef_, ref.intercept_, C, fit_intercept)
        assert grad < 1e-7, (name, grad)
        lb = LogisticRegression(C=C, fit_intercept=fit_intercept, solver="lbfgs", tol=1e-10,
                                max_iter=10000).fit(X, y)
        lb_obj, lb_grad = objective_and_gradient(X, y, lb.coef_, lb.intercept_, C, fit_intercept)
        dflt = fit(X, y, C, fit_intercept, solver="lbfgs")
        dflt_obj, dflt_grad = objective_and_gradient(X, y, dflt.coef_, dflt.intercept_, C,
                                                     fit_intercept)
        coef, intercept = coef_of(ref)
        lb_coef, lb_intercept = coef_of(lb)
        out["cases"].append({
            "name": name,
            "dataset": "examples/data/" + dataset + ".csv",
            "n_rows": int(X.shape[0]),
            "target": "target",
            "C": C,
            "fit_intercept": fit_intercept,
            "n_classes": int(len(ref.classes_)),
            "n_features": int(X.shape[1]),
            "coef": coef,
            "intercept": intercept,
            "objective": obj,
            "max_abs_gradient": grad,
            "proba_first10": ref.predict_proba(X[:10]).tolist(),
            "sklearn_lbfgs_tol1e-10": {
                "coef": lb_coef, "intercept": lb_intercept, "n_iter": int(lb.n_iter_.max()),
                "objective": lb_obj, "max_abs_gradient": lb_grad,
                "max_abs_coef_diff": float(max(
                    np.abs(lb.coef_ - ref.coef_).max(),
                    np.abs(np.asarray(lb.intercept_) - np.asarray(ref.intercept_)).max())),
            },
            "sklearn_lbfgs_default": {
                "n_iter": int(dflt.n_iter_.max()), "objective": dflt_obj,
                "max_abs_gradient": dflt_grad,
            },
        })
    with open(os.path.join(HERE, "logreg.json"), "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
