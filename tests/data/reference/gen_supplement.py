#!/usr/bin/python3
# Writes sklearn_supplement.json: scikit-learn 1.2.1 values for what classification.json lacks
# (PR AUC, per-class scores, tied scores, log-loss clipping, regression, split sizes).
# Needs Debian bookworm's python3-sklearn 1.2.1+dfsg-1, the version that made the shared
# reference. Run from anywhere: /usr/bin/python3 tests/data/reference/gen_supplement.py
import json
import os
import sys

import numpy as np
import scipy
import sklearn
from sklearn import metrics as M
from sklearn.model_selection import KFold, StratifiedKFold, train_test_split
from sklearn.preprocessing import label_binarize

HERE = os.path.dirname(os.path.abspath(__file__))

if sklearn.__version__ != "1.2.1":
    sys.exit(f"need scikit-learn 1.2.1, found {sklearn.__version__}")


def floats(a):
    return [float(x) for x in np.asarray(a).ravel()]


def binary_section(b):
    yt = np.array(b["y_true"])
    p = np.array(b["y_prob_pos"])
    pred = (p >= b["threshold"]).astype(int)
    prf = M.precision_recall_fscore_support(yt, pred, average=None)
    return {
        "prediction": "y_prob_pos >= threshold",
        "pr_auc": M.average_precision_score(yt, p),
        "precision_per_class": floats(prf[0]),
        "recall_per_class": floats(prf[1]),
        "f1_per_class": floats(prf[2]),
        "support_per_class": [int(x) for x in prf[3]],
    }


def ties_section(b):
    # The shared binary case with scores rounded to one decimal: 11 distinct scores, many ties.
    yt = np.array(b["y_true"])
    s = np.round(np.array(b["y_prob_pos"]), 1)
    return {
        "y_true": [int(x) for x in yt],
        "score": floats(s),
        "roc_auc": M.roc_auc_score(yt, s),
        "pr_auc": M.average_precision_score(yt, s),
        "log_loss": M.log_loss(yt, s),
    }


def clipping_section():
    # Probabilities of exactly 0 and 1, right and wrong: log_loss clips to [eps, 1 - eps].
    yt = np.array([1, 0, 1, 0, 1, 0, 1, 1])
    p = np.array([1.0, 0.0, 0.0, 1.0, 0.5, 0.25, 0.999, 1e-300])
    two = np.column_stack([1 - p, p])
    return {
        "y_true": [int(x) for x in yt],
        "p_pos": floats(p),
        "log_loss_1d": M.log_loss(yt, p),
        "log_loss_2d": M.log_loss(yt, two),
    }


def multiclass_section(m):
    yt = np.array(m["y_true"])
    P = np.array(m["y_prob"])
    k = P.shape[1]
    pred = P.argmax(axis=1)
    Y = label_binarize(yt, classes=list(range(k)))
    prf = M.precision_recall_fscore_support(yt, pred, average=None)
    # Unnormalised scores: column 0 doubled and one exact zero. log_loss clips and renormalises.
    U = P.copy()
    U[:, 0] *= 2.0
    U[0, 0] = 0.0
    return {
        "prediction": "argmax",
        "precision_per_class": floats(prf[0]),
        "recall_per_class": floats(prf[1]),
        "f1_per_class": floats(prf[2]),
        "support_per_class": [int(x) for x in prf[3]],
        "roc_auc_per_class": floats(M.roc_auc_score(Y, P, average=None)),
        "pr_auc_macro": M.average_precision_score(Y, P, average="macro"),
        "pr_auc_per_class": floats(M.average_precision_score(Y, P, average=None)),
        "unnormalised_y_prob": [floats(r) for r in U],
        "unnormalised_log_loss": M.log_loss(yt, U),
    }


def regression_case(y, yhat):
    return {
        "y_true": floats(y),
        "y_pred": floats(yhat),
        "rmse": M.mean_squared_error(y, yhat, squared=False),
        "mae": M.mean_absolute_error(y, yhat),
        "r2": M.r2_score(y, yhat),
    }


def regression_section():
    rng = np.random.RandomState(20240521)
    y = np.round(rng.normal(50.0, 12.0, 200), 4)
    yhat = np.round(y + rng.normal(0.0, 5.0, 200), 4)
    # A large offset with small spread: R² needs an accurate mean here.
    y2 = np.round(1e6 + rng.normal(0.0, 1.0, 150), 6)
    yhat2 = np.round(y2 + rng.normal(0.0, 0.3, 150), 6)
    return {"normal": regression_case(y, yhat), "offset": regression_case(y2, yhat2)}


def holdout_case(labels, counts, test_size):
    y = np.repeat(labels, counts)
    seen = set()
    for seed in range(20):
        _, y_te = train_test_split(y, test_size=test_size, stratify=y, random_state=seed)
        seen.add(tuple(int((y_te == c).sum()) for c in labels))
    return {
        "labels": labels,
        "counts": counts,
        "test_size": test_size,
        "test_counts_seen": sorted([list(t) for t in seen]),
    }


def kfold_case(y, k):
    y = np.array(y)
    labels = sorted(set(y.tolist()))
    folds = []
    for _, te in StratifiedKFold(n_splits=k, shuffle=True, random_state=42).split(y, y):
        folds.append([int((y[te] == c).sum()) for c in labels])
    return {"y": [int(x) for x in y], "k": k, "labels": labels, "fold_class_counts": folds}


def split_section():
    return {
        "holdout_stratified": [
            holdout_case([0, 1], [6, 4], 0.25),
            holdout_case([0, 1], [15, 10], 0.28),
            holdout_case([0, 1, 2], [7, 5, 3], 0.2),
            holdout_case([-1, 3, 7], [90, 8, 2], 0.2),
            holdout_case([0, 1, 2], [3, 3, 3], 0.5),
        ],
        "kfold_stratified": [
            kfold_case([5, 2, 5, 2, 5, 2, 5, 2, 5, 2, 2, 2], 3),
            kfold_case([0] * 10 + [1] * 6 + [2] * 3, 5),
            kfold_case([0] * 8 + [1] * 2, 4),
        ],
        "kfold": [
            {"n": n, "k": k, "fold_sizes": [len(te) for _, te in
                                            KFold(k, shuffle=True, random_state=0).split(
                                                np.zeros(n))]}
            for n, k in [(10, 3), (7, 7), (23, 5)]
        ],
    }


def main():
    ref = json.load(open(os.path.join(HERE, "classification.json")))
    out = {
        "generator": "tests/data/reference/gen_supplement.py on the inputs of classification.json",
        "versions": {"python": sys.version.split()[0], "numpy": np.__version__,
                     "scipy": scipy.__version__, "sklearn": sklearn.__version__},
        "binary": binary_section(ref["classification_binary"]),
        "binary_ties": ties_section(ref["classification_binary"]),
        "log_loss_clipping": clipping_section(),
        "multiclass": multiclass_section(ref["classification_multiclass"]),
        "regression": regression_section(),
        "split": split_section(),
    }
    with open(os.path.join(HERE, "sklearn_supplement.json"), "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


main()
