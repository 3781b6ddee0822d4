#!/usr/bin/python3
"""The Python side of bench/serve.sh: the FastAPI app users write today to serve a model, with
Debian's python3-fastapi 0.92, python3-uvicorn 0.17.6, python3-sklearn 1.2.1, python3-xgboost
1.7.4 and python3-pandas 1.5.3.

    uvicorn serve_peer:app ...   the app; configured by the environment:
        SERVE_PEER_KIND=logreg|xgboost  SERVE_PEER_DATA=CSV  SERVE_PEER_TARGET=COLUMN
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
        return list(df.columns), model.predict
    if kind == "xgboost":
        import xgboost
        from sklearn.preprocessing import LabelEncoder

        le = LabelEncoder()
        model = Pipeline([("pre", pre),
                          ("model", xgboost.XGBClassifier(n_estimators=100, max_depth=6,
                                                          n_jobs=1))])
        model.fit(df, le.fit_transform(y))
        return list(df.columns), lambda X: le.inverse_transform(model.predict(X))
    sys.exit(f"serve_peer: unknown SERVE_PEER_KIND '{kind}' (logreg or xgboost)")


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
