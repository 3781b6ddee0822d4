#!/usr/bin/python3
# Writes preprocess.json: what scikit-learn 1.2.1's usual tabular pipeline learns and outputs,
#   numeric:     SimpleImputer(strategy="median") -> StandardScaler()
#   categorical: SimpleImputer(strategy="most_frequent") -> OneHotEncoder(handle_unknown="ignore")
# fitted on every row of mlc_churn.csv and PimaIndiansDiabetes2.csv (the target column left out),
# with the output columns rearranged into ferry's order (input column order, a categorical column
# expanded in place). Needs Debian bookworm's python3-sklearn 1.2.1+dfsg-1 and python3-pandas.
# Run from anywhere: /usr/bin/python3 tests/data/reference/gen_preprocess.py
import json
import os
import sys

import numpy as np
import pandas as pd
import sklearn
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "..", "..", "examples", "data")

if sklearn.__version__ != "1.2.1":
    sys.exit(f"need scikit-learn 1.2.1, found {sklearn.__version__}")


def case(name, target, extra_rows):
    df = pd.read_csv(os.path.join(DATA, name), keep_default_na=False, na_values=[""])
    X = df.drop(columns=[target])
    cat = [c for c in X.columns if X[c].dtype == object]
    num = [c for c in X.columns if c not in cat]
    ct = ColumnTransformer(
        [
            ("num", Pipeline([("imp", SimpleImputer(strategy="median")), ("sc", StandardScaler())]), num),
            (
                "cat",
                Pipeline(
                    [
                        ("imp", SimpleImputer(strategy="most_frequent")),
                        ("oh", OneHotEncoder(handle_unknown="ignore")),
                    ]
                ),
                cat,
            ),
        ],
        sparse_threshold=0,
    )
    ct.fit(X)
    names = []
    pos = {}
    for c in X.columns:
        if c in num:
            pos[c] = [num.index(c)]
            names.append(c)
        else:
            cats = list(ct.named_transformers_["cat"]["oh"].categories_[cat.index(c)])
            start = len(num) + sum(
                len(ct.named_transformers_["cat"]["oh"].categories_[i]) for i in range(cat.index(c))
            )
            pos[c] = list(range(start, start + len(cats)))
            names += [f"{c}={v}" for v in cats]
    order = [i for c in X.columns for i in pos[c]]
    features = []
    imp = ct.named_transformers_["num"]["imp"] if num else None
    sc = ct.named_transformers_["num"]["sc"] if num else None
    for c in X.columns:
        if c in num:
            i = num.index(c)
            features.append(
                {
                    "name": c,
                    "type": "numeric",
                    "impute": float(imp.statistics_[i]),
                    "mean": float(sc.mean_[i]),
                    "scale": float(sc.scale_[i]),
                }
            )
        else:
            i = cat.index(c)
            features.append(
                {
                    "name": c,
                    "type": "categorical",
                    "categories": [str(v) for v in ct.named_transformers_["cat"]["oh"].categories_[i]],
                    "impute": str(ct.named_transformers_["cat"]["imp"].statistics_[i]),
                }
            )
    rows = list(range(0, len(df), max(1, len(df) // 40)))[:40]
    T = ct.transform(X.iloc[rows])[:, order]
    extra = []
    for values in extra_rows:
        row = pd.DataFrame([values], columns=X.columns)
        for c in num:
            row[c] = pd.to_numeric(row[c])
        extra.append({"values": values, "output": [float(v) for v in ct.transform(row)[0, order]]})
    return {
        "file": name,
        "target": target,
        "names": names,
        "features": features,
        "rows": rows,
        "transformed": [[float(v) for v in r] for r in T],
        "extra": extra,
    }


churn_extra = [
    # an unseen state and an unseen plan value: all-zero one-hot (handle_unknown="ignore")
    ["ZZ", 100, "area_code_415", "maybe", "yes", 0, 180.5, 90, 30.69, 200.1, 100, 17.01,
     200.2, 100, 9.01, 10.0, 3, 2.7, 1],
]
pima_extra = [[2, 120, None, None, None, 30.1, 0.5, 33]]
out = {
    "generator": "tests/data/reference/gen_preprocess.py",
    "versions": {"sklearn": sklearn.__version__, "numpy": np.__version__, "pandas": pd.__version__},
    "cases": [case("mlc_churn.csv", "churn", churn_extra),
              case("PimaIndiansDiabetes2.csv", "diabetes", pima_extra)],
}
with open(os.path.join(HERE, "preprocess.json"), "w") as f:
    json.dump(out, f, indent=1)
    f.write("\n")
