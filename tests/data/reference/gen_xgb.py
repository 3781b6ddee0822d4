#!/usr/bin/python3
# Writes xgb.json: predictions, best iterations and model hashes of Python's xgboost 1.7.4
# (XGBClassifier/XGBRegressor) for tests/unit/test_xgb.c. Needs Debian bookworm's
# python3-xgboost 1.7.4-1, which loads the same libxgboost.so as ferry.
# Run from anywhere: /usr/bin/python3 tests/data/reference/gen_xgb.py
import hashlib
import json
import os
import sys

import numpy as np
import pandas as pd
import sklearn
import xgboost as xgb

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "..", "..", "examples", "data")

if xgb.__version__ != "1.7.4":
    sys.exit(f"need xgboost 1.7.4, found {xgb.__version__}")

# Each case names its parameters as ferry's struct xgb_params does; an absent one is left at
# the wrapper's default (None: not passed to libxgboost).
CASES = [
    {"name": "binary", "data": "breast_cancer.csv", "target": "target", "task": "binary",
     "params": {"n_estimators": 20, "max_depth": 4, "seed": 0}},
    {"name": "multiclass", "data": "iris.csv", "target": "target", "task": "multiclass",
     "params": {"n_estimators": 20, "max_depth": 4, "seed": 0}},
    {"name": "regression", "data": "diabetes.csv", "target": "target", "task": "regression",
     "params": {"n_estimators": 20, "max_depth": 4, "seed": 0}},
    {"name": "sampling", "data": "breast_cancer.csv", "target": "target", "task": "binary",
     "params": {"n_estimators": 20, "max_depth": 4, "subsample": 0.8,
                "colsample_bytree": 0.8, "seed": 7}},
    {"name": "missing", "data": "PimaIndiansDiabetes2.csv", "target": "diabetes",
     "task": "binary", "positive": "pos",
     "params": {"n_estimators": 20, "max_depth": 4, "seed": 0}},
    {"name": "approx", "data": "diabetes.csv", "target": "target", "task": "regression",
     "params": {"n_estimators": 20, "eta": 0.1, "min_child_weight": 2.0,
                "tree_method": "approx", "seed": 3}},
    {"name": "hist", "data": "PimaIndiansDiabetes2.csv", "target": "diabetes",
     "task": "binary", "positive": "pos",
     "params": {"n_estimators": 20, "max_depth": 4, "tree_method": "hist", "seed": 0}},
    {"name": "early_stopping", "data": "breast_cancer.csv", "target": "target",
     "task": "binary", "train_rows": 400,
     "params": {"n_estimators": 100, "max_depth": 4, "seed": 0, "early_stopping_rounds": 5}},
    {"name": "early_stopping_multiclass", "data": "iris.csv", "target": "target",
     "task": "multiclass", "train_rows": 100, "shuffle_seed": 1,
     "params": {"n_estimators": 100, "max_depth": 2, "eta": 0.5, "seed": 0,
                "early_stopping_rounds": 3}},
    {"name": "early_stopping_regression", "data": "diabetes.csv", "target": "target",
     "task": "regression", "train_rows": 300,
     "params": {"n_estimators": 100, "max_depth": 3, "eta": 0.1, "seed": 0,
                "early_stopping_rounds": 5}},
]

# ferry's names -> the sklearn wrapper's
WRAPPER_NAMES = {"n_estimators": "n_estimators", "max_depth": "max_depth", "eta": "learning_rate",
                 "subsample": "subsample", "colsample_bytree": "colsample_bytree",
                 "min_child_weight": "min_child_weight", "tree_method": "tree_method",
                 "seed": "random_state", "early_stopping_rounds": "early_stopping_rounds"}


def load(case):
    # round_trip: Python's correctly rounded strtod, as ferry's CSV reader; pandas' default
    # parser can be one ulp off, which could move a float32 rounding
    df = pd.read_csv(os.path.join(DATA, case["data"]), float_precision="round_trip")
    target = df.pop(case["target"])
    if "positive" in case:
        y = (target == case["positive"]).to_numpy(dtype=np.float64)
    else:
        y = target.to_numpy(dtype=np.float64)
    X = df.to_numpy(dtype=np.float64).astype(np.float32)
    return X, y


def model_for(case, params):
    kw = {WRAPPER_NAMES[k]: v for k, v in params.items()}
    if case["task"] == "regression":
        return xgb.XGBRegressor(**kw)
    return xgb.XGBClassifier(**kw)


def predict(model, case, X):
    if case["task"] == "regression":
        p = model.predict(X)
    else:
        p = model.predict_proba(X)
    assert p.dtype == np.float32
    return p


def sha(booster):
    raw = bytes(booster.save_raw("ubj"))
    return hashlib.sha256(raw).hexdigest(), len(raw)


def train_valid(case, n):
    """Row indices of the training and validation sets (by position, ferry does the same)."""
    rows = np.arange(n)
    if "shuffle_seed" in case:
        # iris is sorted by class: a fixed permutation, written out so C needs no RNG
        rows = np.random.RandomState(case["shuffle_seed"]).permutation(n)
    return rows[: case["train_rows"]], rows[case["train_rows"]:]


def run(case):
    X, y = load(case)
    params = case["params"]
    out = {k: v for k, v in case.items() if k not in ("shuffle_seed",)}
    out["n_rows"], out["n_features"] = X.shape
    out["k"] = {"binary": 2, "multiclass": int(y.max()) + 1, "regression": 0}[case["task"]]
    if "train_rows" in case:
        tr, va = train_valid(case, len(y))
        out["train_index"] = [int(i) for i in tr]
        out["valid_index"] = [int(i) for i in va]
        m = model_for(case, params)
        m.fit(X[tr], y[tr], eval_set=[(X[va], y[va])], verbose=False)
        best = m.best_iteration
        booster = m.get_booster()
        out["rounds_trained"] = booster.num_boosted_rounds()
        # predict_proba limits itself to rounds 0..best_iteration
        pred = predict(m, case, X)
        # The model ferry keeps has exactly rounds 0..best; training does not look at the
        # validation set, so it is the model of best + 1 rounds without early stopping, whose
        # bytes Python can make directly (with the attributes train() sets).
        short = dict(params, n_estimators=best + 1)
        del short["early_stopping_rounds"]
        m2 = model_for(case, short).fit(X[tr], y[tr])
        assert np.array_equal(predict(m2, case, X), pred), "rounds 0..best differ"
        out["best_iteration"] = int(best)
        out["n_rounds"] = int(best + 1)
        out["valid_scores"] = list(m.evals_result()["validation_0"].values())[-1]
        h, n = sha(m2.get_booster())
    else:
        m = model_for(case, params).fit(X, y)
        pred = predict(m, case, X)
        out["best_iteration"] = -1
        out["n_rounds"] = params["n_estimators"]
        h, n = sha(m.get_booster())
        # the model never depends on the thread count (checked, not assumed)
        for nj in (1, 3):
            mj = model_for(case, dict(params)).set_params(n_jobs=nj).fit(X, y)
            assert sha(mj.get_booster())[0] == h, f"n_jobs={nj} changes the model"
    out["ubj_sha256"] = h
    out["ubj_len"] = n
    out["pred"] = [float(v) for v in np.asarray(pred).ravel()]
    return out


def main():
    doc = {
        "generator": "tests/data/reference/gen_xgb.py",
        "versions": {"xgboost": xgb.__version__, "numpy": np.__version__,
                     "pandas": pd.__version__, "scikit-learn": sklearn.__version__},
        "conventions": (
            "X: every column but the target, read with pandas (float_precision='round_trip'),"
            " missing cells NaN, converted float64 -> float32. y: the target as float64; 'positive'"
            " names the class coded 1. params use ferry's names (eta = learning_rate, seed ="
            " random_state); absent ones are not passed. pred: predict_proba (n x k, row-major)"
            " for classifiers, predict for regressors, on all n_rows rows, float32 values written"
            " exactly. With train_rows: fit on rows train_index with eval_set rows valid_index;"
            " best_iteration and the predictions are the sklearn wrapper's, and ubj_sha256 is that"
            " of the same model trained for n_rounds = best_iteration + 1 rounds without early"
            " stopping (the rounds ferry keeps). ubj_sha256: sha256 of Booster.save_raw('ubj'),"
            " which includes the attributes best_iteration and best_ntree_limit that"
            " xgboost.train sets."),
        "cases": [run(c) for c in CASES],
    }
    with open(os.path.join(HERE, "xgb.json"), "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
