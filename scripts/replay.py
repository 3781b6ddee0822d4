#!/usr/bin/env python3
"""Replays a labelled CSV through `ferry serve` as production traffic, then sends the labels.

usage: replay.py URL FILE TAG [ROWS_PER_REQUEST] [LABEL_COLUMN] [--expect OUT.json]

Every ROWS_PER_REQUEST (default 25) rows become one MLflow `dataframe_split` request to
URL/invocations with the request id TAG-<first row>; the label column is left out of the request.
The ground truth follows afterwards, as it does in production ("delayed labels"): one
POST /feedback of [{"request_id": ..., "label": [...]}] per 200 requests (with one row per
request, the label alone rather than a list of one). Prints one summary line: rows, requests,
and the accuracy and F1 (positive class "yes") of the answers; --expect also writes them to
OUT.json as {"rows", "accuracy", "f1"}, computed here from the served answers, so that tests can
compare ferry's live quality with an independent computation.
Used by scripts/demo.sh, examples/retrain-loop.sh and tests/cli; standard library only.
"""
import csv
import http.client
import json
import sys
import urllib.parse


def value(text):
    try:
        return float(text)
    except ValueError:
        return text


def post(conn, path, body, headers=None):
    conn.request("POST", path, body, {"Content-Type": "application/json", **(headers or {})})
    resp = conn.getresponse()
    data = resp.read()
    if resp.status != 200:
        sys.exit("replay: %s answered %d: %s" % (path, resp.status, data[:200]))
    return json.loads(data) if data else None


def main():
    args, expect = sys.argv[1:], None
    if "--expect" in args:
        i = args.index("--expect")
        if i + 1 >= len(args):
            sys.exit(__doc__)
        expect = args[i + 1]
        del args[i:i + 2]
    if len(args) < 3:
        sys.exit(__doc__)
    url, path, tag = args[:3]
    per = int(args[3]) if len(args) > 3 else 25
    label = args[4] if len(args) > 4 else "churn"
    u = urllib.parse.urlparse(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    rows = list(csv.DictReader(open(path, newline="")))
    cols = [c for c in rows[0] if c != label]
    preds, truth, feedback = [], [], []
    for start in range(0, len(rows), per):
        chunk = rows[start:start + per]
        rid = "%s-%d" % (tag, start)
        body = json.dumps({"dataframe_split": {"columns": cols,
                                               "data": [[value(r[c]) for c in cols] for r in chunk]}})
        preds += post(conn, "/invocations", body, {"X-Request-Id": rid})["predictions"]
        labels = [r[label] for r in chunk]
        truth += labels
        feedback.append({"request_id": rid, "label": labels[0] if per == 1 else labels})
    for start in range(0, len(feedback), 200):
        post(conn, "/feedback", json.dumps(feedback[start:start + 200]))
    tp = sum(p == "yes" and y == "yes" for p, y in zip(preds, truth))
    fp = sum(p == "yes" and y == "no" for p, y in zip(preds, truth))
    fn = sum(p == "no" and y == "yes" for p, y in zip(preds, truth))
    acc = sum(p == y for p, y in zip(preds, truth)) / len(truth)
    f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else float("nan")
    print("replayed %d rows in %d requests, labels sent: accuracy %.3f, f1 %.3f"
          % (len(rows), len(feedback), acc, f1))
    if expect:
        with open(expect, "w") as f:
            json.dump({"rows": len(rows), "accuracy": acc, "f1": f1}, f)


if __name__ == "__main__":
    main()
