#!/usr/bin/python3
# Writes linear.json: scikit-learn 1.2.1 Ridge and LinearRegression fits on the raw diabetes
# data (examples/data/diabetes.csv), the expected values of tests/unit/test_linear.c.
# Needs Debian bookworm's python3-sklearn 1.2.1+dfsg-1 (numpy 1.24.2, scipy 1.10.1).
# Run from anywhere: /usr/bin/python3 tests/data/reference/gen_linear.py
import csv
import json
import os
import sys

import numpy as np
import scipy
import sklearn
from sklearn.linear_model import LinearRegression, Ridge

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
DATASET = "examples/data/diabetes.csv"
TARGET = "target"
N_PRED = 10

if sklearn.__version__ != "1.2.1":
    sys.exit(f"need scikit-learn 1.2.1, found {sklearn.__version__}")


def load():
    with open(os.path.join(ROOT, DATASET), newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    data = np.array([[float(v) for v in r] for r in body])
    return header, data


def floats(a):
    return [float(x) for x in np.asarray(a).ravel()]


def case(name, est, header, data, features, rows=None, note=None):
    X = np.column_stack([data[:, header.index(c)] for c in features])
    y = data[:, header.index(TARGET)]
    if rows is not None:
        X, y = X[:rows], y[:rows]
    est.fit(X, y)
    params = est.get_params()
    out = {
        "name": name,
        "estimator": repr(est),
        "alpha": float(params.get("alpha", 0.0)),
        "fit_intercept": bool(params["fit_intercept"]),
        "features": features,
        "rows": int(X.shape[0]),
        "coef": floats(est.coef_),
        "intercept": float(est.intercept_),
        "predictions_first10": floats(est.predict(X[:N_PRED])),
    }
    if isinstance(est, LinearRegression):
        out["rank"] = int(est.rank_)
    if note:
        out["note"] = note
    return out


def solver_spread(header, data, features):
    # How far sklearn's own Ridge solvers disagree: the noise floor of the reference.
    X = np.column_stack([data[:, header.index(c)] for c in features])
    y = data[:, header.index(TARGET)]
    worst = 0.0
    for alpha in (1.0, 10.0):
        a = Ridge(alpha=alpha, solver="cholesky").fit(X, y).coef_
        b = Ridge(alpha=alpha, solver="svd").fit(X, y).coef_
        worst = max(worst, float(np.max(np.abs(a - b) / np.abs(b))))
    return worst


def main():
    header, data = load()
    feats = [c for c in header if c != TARGET]
    dup = feats + ["bmi"]
    cases = [
        case("ridge_alpha1", Ridge(alpha=1.0), header, data, feats),
        case("ridge_alpha10", Ridge(alpha=10.0), header, data, feats),
        case("linear_regression", LinearRegression(), header, data, feats),
        case("ridge_no_intercept", Ridge(alpha=1.0, fit_intercept=False), header, data, feats),
        case("linear_regression_no_intercept", LinearRegression(fit_intercept=False), header,
             data, feats),
        case("linear_regression_duplicate_column", LinearRegression(), header, data, dup,
             note="bmi twice: rank 10 of 11; the minimum-norm solution splits bmi's "
                  "coefficient equally between the copies"),
        # Without an intercept: centring 8 rows would leave a singular value of rounding noise
        # only 3x below lstsq's cutoff, and which side of it the noise falls is luck.
        case("linear_regression_wide", LinearRegression(fit_intercept=False), header, data,
             feats, rows=8, note="8 rows, 10 features, no intercept: underdetermined, "
                                 "rank 8, minimum-norm solution"),
        case("ridge_wide", Ridge(alpha=1.0), header, data, feats, rows=8,
             note="8 rows, 10 features: sklearn solves the dual (kernel) system"),
    ]
    assert cases[6]["rank"] == 8
    dupcase = cases[5]["coef"]
    assert cases[5]["rank"] == 10 and abs(dupcase[2] - dupcase[10]) <= 1e-12 * abs(dupcase[2])
    doc = {
        "generator": "tests/data/reference/gen_linear.py",
        "versions": {
            "python": sys.version.split()[0],
            "numpy": np.__version__,
            "scipy": scipy.__version__,
            "scikit-learn": sklearn.__version__,
        },
        "dataset": DATASET,
        "target": TARGET,
        "conventions": "coef in the order of 'features'; predictions_first10 are "
                       "est.predict of the first 10 rows of the case's X; Ridge uses "
                       "sklearn's default solver (cholesky here), LinearRegression "
                       "scipy.linalg.lstsq (gelsd, cond = machine epsilon)",
        "ridge_cholesky_vs_svd_max_rel": solver_spread(header, data, feats),
        "cases": cases,
    }
    with open(os.path.join(HERE, "linear.json"), "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
