#!/usr/bin/python3
"""The Python side of bench/serve.sh: the FastAPI app users write today to serve a model, with
Debian's python3-fastapi 0.92, python3-uvicorn 0.17.6, python3-sklearn 1.2.1, python3-xgboost
1.7.4 and python3-pandas 1.5.3.

    uvicorn serve_peer:app ...   the app; configured by the environment:
        SERVE_PEER_KIND=logreg|xgboost  SERVE_PEER_DATA=CSV  SERVE_PEER_TARGET=COLUMN
        SERVE_PEER_LEAN=1: the lean variant (below)
    serve_peer.py body CSV TARGET ROWS OUT   a dataframe_split JSON body of CSV's first ROWS rows
                                             without TARGET (what a client of /invocations sends)

At start-up the app reads the training CSV and fits, on every row (as `ferry train --cv K` fits
the model it saves), a scikit-learn Pipeline: a ColumnTransformer (numbers: SimpleImputer(median)
then StandardScaler; strings: OneHotEncoder(handle_unknown='ignore')) followed by
LogisticRegression(lbfgs, C=1, max_iter=100) or xgboost.XGBClassifier(n_estimators=100,
max_depth=6, n_jobs=1) on the same encoding (labels through a LabelEncoder, as XGBClassifier wants
integers). POST /invocations takes MLflow's dataframe_split JSON, builds a pandas DataFrame,
predicts and answers {"predictions": [labels]}. GET /ping answers 200 once the model is fitted.

The handler is `async def` reading `await request.json()`: no pydantic model to validate and no
thread-pool hop, the fastest plain way to write it in FastAPI, so the peer's figures are the
upper end of what such an app does.

The lean variant (SERVE_PEER_LEAN=1) fits the same pipeline but skips pandas and the
ColumnTransformer per request: the handler encodes the rows itself into a numpy array with the
fitted imputer's medians, the scaler's mean and scale and the encoder's categories (plain dict
lookups), then calls the bare estimator's predict: what a hand-tuned app does, and the kind of
app behind the ~2,800 req/s quoted for FastAPI in the serving issue.
"""
import json
import os
import sys

import pandas as pd


def fit_pipeline(kind, data, target):
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    df = pd.read_csv(data)
    y = df.pop(target).astype(str)
    num = [c for c in df.columns if pd.api.types.is_numeric_dtype(df[c])]
    cat = [c for c in df.columns if c not in num]
    pre = ColumnTransformer([
        ("num", Pipeline([("impute", SimpleImputer(strategy="median")),
                          ("scale", StandardScaler())]), num),
        ("cat", OneHotEncoder(handle_unknown="ignore"), cat),
    ])
    if kind == "logreg":
        from sklearn.linear_model import LogisticRegression

        model = Pipeline([("pre", pre),
                          ("model", LogisticRegression(C=1.0, solver="lbfgs", max_iter=100))])
        model.fit(df, y)
        if os.environ.get("SERVE_PEER_LEAN"):
            return list(df.columns), lean(model, num, cat, lambda X: model[-1].predict(X))
        return list(df.columns), model.predict
    if kind == "xgboost":
        import xgboost
        from sklearn.preprocessing import LabelEncoder

        le = LabelEncoder()
        model = Pipeline([("pre", pre),
                          ("model", xgboost.XGBClassifier(n_estimators=100, max_depth=6,
                                                          n_jobs=1))])
        model.fit(df, le.fit_transform(y))
        if os.environ.get("SERVE_PEER_LEAN"):
            return list(df.columns), lean(model, num, cat,
                                          lambda X: le.inverse_transform(model[-1].predict(X)))
        return list(df.columns), lambda X: le.inverse_transform(model.predict(X))
    sys.exit(f"serve_peer: unknown SERVE_PEER_KIND '{kind}' (logreg or xgboost)")


def lean(model, num, cat, predict_array):
    """A predictor of dataframe_split {columns, data} that encodes rows by hand (see above)."""
    import numpy as np

    pre = model.named_steps["pre"]
    num_pipe, enc = pre.named_transformers_["num"], pre.named_transformers_["cat"]
    medians = num_pipe.named_steps["impute"].statistics_
    scaler = num_pipe.named_steps["scale"]
    numeric = {c: (i, m, mu, sd) for i, (c, m, mu, sd) in
               enumerate(zip(num, medians, scaler.mean_, scaler.scale_))}
    offset, onehot = len(num), {}
    for c, cats in zip(cat, enc.categories_):
        onehot[c] = {v: offset + j for j, v in enumerate(cats)}
        offset += len(cats)
    width = offset

    def predict(split):
        rows = split["data"]
        X = np.zeros((len(rows), width))
        for k, c in enumerate(split["columns"]):
            if c in numeric:
                i, m, mu, sd = numeric[c]
                for r, row in enumerate(rows):
                    v = row[k]
                    X[r, i] = ((m if v is None else float(v)) - mu) / sd
            elif c in onehot:
                index = onehot[c]
                for r, row in enumerate(rows):
                    j = index.get(row[k])
                    if j is not None:
                        X[r, j] = 1.0
        return predict_array(X)

    predict.lean = True
    return predict


def create_app():
    from fastapi import FastAPI, Request

    columns, predict = fit_pipeline(os.environ.get("SERVE_PEER_KIND", "logreg"),
                                    os.environ["SERVE_PEER_DATA"],
                                    os.environ["SERVE_PEER_TARGET"])
    app = FastAPI()

    @app.get("/ping")
    async def ping():
        return {"status": "ok", "columns": len(columns)}

    @app.post("/invocations")
    async def invocations(request: Request):
        payload = await request.json()
        split = payload["dataframe_split"]
        if getattr(predict, "lean", False):
            return {"predictions": predict(split).tolist()}
        df = pd.DataFrame(split["data"], columns=split["columns"])
        return {"predictions": predict(df).tolist()}

    return app


def body(data, target, rows, out):
    df = pd.read_csv(data).drop(columns=[target]).head(rows)
    obj = {"dataframe_split": {"columns": list(df.columns),
                               "data": df.astype(object).values.tolist()}}
    with open(out, "w") as f:
        json.dump(obj, f, separators=(",", ":"))


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "body":
        body(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5])
    else:
        sys.exit(__doc__)
else:
    app = create_app()
