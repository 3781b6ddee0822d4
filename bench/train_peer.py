#!/usr/bin/python3
"""The Python side of bench/train.sh: what `ferry train`, `ferry predict` and `ferry eval` do,
written the way a scikit-learn / xgboost user would, with Debian's python3-sklearn 1.2.1,
python3-xgboost 1.7.4 and python3-pandas 1.5.3. Timings are printed as one JSON line.

    train_peer.py split SRC TARGET SEED TRAIN TEST
    train_peer.py gen SRC TARGET ROWS SEED OUT
    train_peer.py fit logreg|xgboost DATA TARGET OUTDIR FOLDS SEED NTHREAD
    train_peer.py score OUTDIR DATA TARGET FERRY_PREDICTIONS [FERRY_MODEL_DIR]
    train_peer.py predict OUTDIR DATA OUT
    train_peer.py compare PEER_PREDICTIONS FERRY_PREDICTIONS

`fit` mirrors `ferry train --cv FOLDS`: read the CSV, FOLDS-fold stratified cross-validation
(preprocessing refitted in each fold), then preprocessing + model fitted on every row, the model
saved. "fit" is that last step alone, which is what ferry's seconds.fit covers with --cv.
"""
import time

T0 = time.perf_counter()  # before the imports: their cost is reported as "import"

import json  # noqa: E402
import os  # noqa: E402
import pickle  # noqa: E402
import sys  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402


def out(obj):
    print(json.dumps(obj), flush=True)


# -- plain data helpers ---------------------------------------------------------------------


def split(src, target, seed, train_path, test_path):
    """Stratified 80/20 split of SRC's lines, kept byte for byte (no re-formatting)."""
    from sklearn.model_selection import train_test_split

    with open(src, newline="") as f:
        header, *lines = f.read().splitlines(keepends=True)
    y = pd.read_csv(src, usecols=[target])[target].astype(str).to_numpy()
    if len(y) != len(lines):
        sys.exit(f"{src}: {len(y)} records but {len(lines)} lines (embedded newlines?)")
    idx = np.arange(len(lines))
    tr, te = train_test_split(idx, test_size=0.2, stratify=y, random_state=seed)
    for path, rows in ((train_path, np.sort(tr)), (test_path, np.sort(te))):
        with open(path, "w", newline="") as f:
            f.write(header)
            f.writelines(lines[i] for i in rows)
    out({"train": len(tr), "test": len(te)})


def gen(src, target, rows, seed, path):
    """ROWS records of SRC's numeric features: source rows drawn with replacement, each value
    times (1 + N(0, 0.01)), written with 4 significant digits as the source is. A pool of
    100,000 such rows is formatted and the output draws from it (formatting 30 million numbers
    in Python would take most of the benchmark's time budget)."""
    rng = np.random.default_rng(seed)
    base = pd.read_csv(src).drop(columns=[target])
    pool_n = min(rows, 100000)
    X = base.to_numpy()[rng.integers(0, len(base), pool_n)]
    X = X * (1 + rng.normal(0, 0.01, X.shape))
    cols = [np.char.mod("%.4g", X[:, j]) for j in range(X.shape[1])]
    pool = np.array([",".join(r) for r in zip(*cols)], dtype=object)
    pick = rng.integers(0, pool_n, rows)
    with open(path, "w") as f:
        f.write(",".join(base.columns) + "\n")
        for s in range(0, rows, 100000):
            f.write("\n".join(pool[pick[s:s + 100000]]) + "\n")
    out({"rows": rows, "columns": X.shape[1], "bytes": os.path.getsize(path)})


# -- the models -----------------------------------------------------------------------------


def logreg_pipeline(X):
    """The issue's preprocessing: numeric median + standard scaling, categorical most frequent
    + one-hot (unknown categories ignored), then LogisticRegression(lbfgs, C=1)."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    num = [c for c in X.columns if pd.api.types.is_numeric_dtype(X[c])]
    cat = [c for c in X.columns if c not in num]
    pre = ColumnTransformer([
        ("num", Pipeline([("impute", SimpleImputer(strategy="median")),
                          ("scale", StandardScaler())]), num),
        ("cat", Pipeline([("impute", SimpleImputer(strategy="most_frequent")),
                          ("onehot", OneHotEncoder(handle_unknown="ignore"))]), cat),
    ])
    return Pipeline([("pre", pre), ("model", LogisticRegression(C=1.0, solver="lbfgs"))])


class TreeMatrix:
    """ferry's PREPROCESS_TREE: columns in input order, a categorical column expanded in place
    into one float32 column per category (sorted), numbers raw, NaN for a missing value (all of
    a category's columns NaN for a missing category), an unseen category all zeros."""

    def fit(self, X):
        self.layout = []
        for c in X.columns:
            s = X[c]
            if pd.api.types.is_numeric_dtype(s):
                self.layout.append((c, None))
            else:
                cats = sorted(s.dropna().astype(str).unique(), key=lambda v: v.encode())
                self.layout.append((c, cats))
        return self

    def names(self):
        return [c if cats is None else f"{c}={k}" for c, cats in self.layout
                for k in ([None] if cats is None else cats)]

    def transform(self, X):
        parts = []
        for c, cats in self.layout:
            s = X[c]
            if cats is None:
                parts.append(s.to_numpy(dtype=np.float64).astype(np.float32)[:, None])
                continue
            v = s.astype(str).to_numpy()
            m = np.stack([v == k for k in cats], axis=1).astype(np.float32)
            m[s.isna().to_numpy()] = np.nan
            parts.append(m)
        return np.ascontiguousarray(np.hstack(parts))


class XgbModel:
    def __init__(self, seed, nthread):
        self.seed, self.nthread = seed, nthread

    def fit(self, X, y):
        import xgboost

        self.pre = TreeMatrix().fit(X)
        M = self.pre.transform(X)
        t = time.perf_counter()
        self.model = xgboost.XGBClassifier(n_estimators=100, max_depth=6, learning_rate=0.3,
                                           n_jobs=self.nthread, random_state=self.seed)
        self.model.fit(M, y)
        self.booster_seconds = time.perf_counter() - t
        return self

    def predict_proba(self, X):
        return self.model.predict_proba(self.pre.transform(X))


def encode_target(y):
    """Class indices in LabelEncoder order (sorted), as ferry numbers its classes."""
    classes = np.unique(y.astype(str))
    return classes, np.searchsorted(classes, y.astype(str))


def fit(kind, data, target, outdir, folds, seed, nthread):
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold

    # everything the fits use, so that its import is counted as such and not as fitting
    import sklearn.compose, sklearn.impute, sklearn.linear_model  # noqa: E401,F401
    import sklearn.pipeline, sklearn.preprocessing  # noqa: E401,F401
    if kind == "xgboost":
        import xgboost  # noqa: F401
    t = {"import": time.perf_counter() - T0}
    t1 = time.perf_counter()
    df = pd.read_csv(data)
    y = df.pop(target)
    classes, yc = encode_target(y)
    t["load"] = time.perf_counter() - t1

    def make():
        return logreg_pipeline(df) if kind == "logreg" else XgbModel(seed, nthread)

    t1 = time.perf_counter()
    aucs = []
    if folds:
        skf = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
        for tr, te in skf.split(df, yc):
            m = make().fit(df.iloc[tr], yc[tr])
            aucs.append(roc_auc_score(yc[te], m.predict_proba(df.iloc[te])[:, 1]))
    t["evaluate"] = time.perf_counter() - t1
    t1 = time.perf_counter()
    model = make().fit(df, yc)
    t["fit"] = time.perf_counter() - t1
    t1 = time.perf_counter()
    os.makedirs(outdir, exist_ok=True)
    with open(os.path.join(outdir, "model.pkl"), "wb") as f:
        pickle.dump({"kind": kind, "classes": classes, "target": target, "model": model}, f)
    t["save"] = time.perf_counter() - t1
    t["total"] = time.perf_counter() - T0
    res = {"seconds": t, "cv_roc_auc": float(np.mean(aucs)) if aucs else None}
    if kind == "logreg":
        res["iterations"] = int(model.named_steps["model"].n_iter_[0])
        res["max_iter"] = model.named_steps["model"].max_iter
    else:
        res["seconds"]["fit_booster"] = model.booster_seconds
        res["width"] = len(model.pre.names())
    out(res)


def load_model(outdir):
    with open(os.path.join(outdir, "model.pkl"), "rb") as f:
        return pickle.load(f)


def score(outdir, data, target, ferry_preds, ferry_model_dir=None):
    """AUC of the peer's and of ferry's predictions on the same labelled rows (both computed
    here by sklearn), and how far apart the two sets of probabilities are."""
    from sklearn.metrics import roc_auc_score

    m = load_model(outdir)
    df = pd.read_csv(data)
    y = df.pop(target)
    classes = m["classes"]
    yc = np.searchsorted(classes, y.astype(str))
    p = m["model"].predict_proba(df)[:, 1]
    fp = pd.read_csv(ferry_preds)[f"probability_{classes[1]}"].to_numpy()
    res = {"rows": len(df), "positive_class": str(classes[1]),
           "peer_roc_auc": roc_auc_score(yc, p), "ferry_roc_auc": roc_auc_score(yc, fp),
           "max_abs_diff": float(np.max(np.abs(fp - p.astype(np.float64))))}
    if m["kind"] == "xgboost":
        # xgboost predicts float32; ferry writes that value as a double, exactly
        res["identical_predictions"] = int(np.sum(fp.astype(np.float32) == p))
        if ferry_model_dir:
            import xgboost

            # the peer's matrix was built independently; check it has ferry's columns
            with open(os.path.join(ferry_model_dir, "model.json")) as f:
                fm = json.load(f)
            want = []
            for feat in fm["preprocessing"]["features"]:
                if feat["type"] == "categorical":
                    want += [f"{feat['name']}={k}" for k in feat["categories"]]
                else:
                    want.append(feat["name"])
            res["same_columns_as_ferry"] = want == m["model"].pre.names()

            b = xgboost.Booster(model_file=os.path.join(ferry_model_dir, "model.ubj"))
            mine = m["model"].model.get_booster().get_dump(dump_format="json")
            theirs = b.get_dump(dump_format="json")
            res["trees"] = len(mine)
            res["identical_trees"] = sum(a == b for a, b in zip(mine, theirs))
            res["ferry_trees"] = len(theirs)
    out(res)


def predict(outdir, data, path):
    """pandas.read_csv + pipeline.predict_proba + DataFrame.to_csv, the columns ferry writes."""
    m = load_model(outdir)  # imports sklearn
    t = {"import": time.perf_counter() - T0}
    t1 = time.perf_counter()
    df = pd.read_csv(data)
    t["read"] = time.perf_counter() - t1
    t1 = time.perf_counter()
    p = m["model"].predict_proba(df)
    classes = m["classes"]
    res = pd.DataFrame({"prediction": classes[(p[:, 1] >= 0.5).astype(int)]})
    for j, c in enumerate(classes):
        res[f"probability_{c}"] = p[:, j]
    t["predict"] = time.perf_counter() - t1
    t1 = time.perf_counter()
    res.to_csv(path, index=False)
    t["write"] = time.perf_counter() - t1
    t["total"] = time.perf_counter() - T0
    out({"rows": len(df), "seconds": t})


def compare(peer, ferry):
    a, b = pd.read_csv(peer), pd.read_csv(ferry)
    if list(a.columns) != list(b.columns) or len(a) != len(b):
        out({"same_shape": False, "peer": [len(a), list(a.columns)],
             "ferry": [len(b), list(b.columns)]})
        return
    prob = [c for c in a.columns if c.startswith("probability_")]
    d = np.abs(a[prob].to_numpy() - b[prob].to_numpy())
    out({"same_shape": True, "rows": len(a), "max_abs_diff": float(d.max()),
         "same_labels": int((a["prediction"].astype(str) == b["prediction"].astype(str)).sum())})


def main(argv):
    cmd, args = argv[1], argv[2:]
    if cmd == "split":
        split(args[0], args[1], int(args[2]), args[3], args[4])
    elif cmd == "gen":
        gen(args[0], args[1], int(args[2]), int(args[3]), args[4])
    elif cmd == "fit":
        fit(args[0], args[1], args[2], args[3], int(args[4]), int(args[5]), int(args[6]))
    elif cmd == "score":
        score(args[0], args[1], args[2], args[3], args[4] if len(args) > 4 else None)
    elif cmd == "predict":
        predict(args[0], args[1], args[2])
    elif cmd == "compare":
        compare(args[0], args[1])
    else:
        sys.exit(f"unknown command '{cmd}'")


if __name__ == "__main__":
    main(sys.argv)
