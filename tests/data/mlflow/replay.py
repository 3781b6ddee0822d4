#!/usr/bin/env python3
"""Replays recorded MLflow 2.10.2 client/server traffic against a server and compares.

Usage: replay.py BASE_URL RECORDING...

Recordings are fluent_trace.jsonl (one exchange per line) or exchanges_pretty.txt ("### METHOD
PATH -> STATUS CT" blocks; long bodies there are cut at ~700/900 characters). Every exchange is
sent in order with the recording's ids rewritten to the ids the server under test handed out
(experiment ids and run ids, learnt from experiments/create and runs/create answers), then the
status code and the response STRUCTURE (keys, types, nesting, list lengths; error codes and
enum-like values) are compared. ids, timestamps and random names are not compared.

Artifact proxy exchanges (mlflow-artifacts) are replayed like the rest, their experiment ids
rewritten too; a GET of a file compares the bytes. Model registry answers (registered-models,
model-versions) are compared more strictly: every string in them (names, versions, stages,
sources, run ids, aliases, tags, download URIs) must equal the recorded one once the recorded
run ids are rewritten, and keys and lists keep their order; only the timestamps are free.
Exchanges that depend on runs the recording does not contain are reported as "skip" with the
reason. State the recording proves but does not contain is set up first (SETUPS) and reported
as "setup".
Exit status: 0 when every compared exchange matches, 1 otherwise.
"""
import json
import re
import sys
import urllib.error
import urllib.request

# A run id: a word of its own, or after a percent-encoded '/' (artifact ?path=1%2F<run>%2F...).
HEX_ID = re.compile(r"(?:\b|(?<=%2F))[0-9a-f]{32}\b")
# Where a run id sits: JSON fields run_id/run_uuid, query parameters of the same names, artifact
# proxy paths (/mlflow-artifacts/artifacts/<exp>/<run>/..., ?path=<exp>%2F<run>...).
RUN_REF = re.compile(r'"run_(?:id|uuid)": "([0-9a-f]{32})"|[?&]run_(?:id|uuid)=([0-9a-f]{32})'
                     r'|/mlflow-artifacts/artifacts/\d+/([0-9a-f]{32})'
                     r'|[?&]path=\d+(?:%2F|/)([0-9a-f]{32})')
MISSING_RUN = "0" * 32
REGISTRY = ("/api/2.0/mlflow/registered-models/", "/api/2.0/mlflow/model-versions/")
# Values compared exactly: deterministic for a given request sequence.
EXACT_KEYS = {"error_code", "status", "lifecycle_stage", "key", "current_stage"}


def reconstruct_lab_log_batch():
    """exchanges_pretty.txt's log-batch request is cut after 700 characters. Its visible prefix
    and the later runs/get (latest acc = 0.9 at step 9 with the same timestamp; params lr, which
    log-parameter set, and bs = "32", which only this batch can have set) show it logged
    acc = i * 0.1 at steps 0..9 and param bs; rebuilt here and checked against the prefix."""
    run = "ee71c97cfaaf474ba8c7f70024f2af8d"
    metrics = [{"key": "acc", "value": i * 0.1, "timestamp": 1795353195525, "step": i}
               for i in range(10)]
    return json.dumps({"run_id": run, "metrics": metrics,
                       "params": [{"key": "bs", "value": "32"}]})


RECONSTRUCTIONS = [reconstruct_lab_log_batch]


def setup_lab_sub_dir(ex):
    """exchanges_pretty.txt lists run ee71c97c's artifact root as hello.txt (uploaded just
    before) and a directory "sub", yet holds no upload into sub/: the session put a file there
    outside the capture. The listing shows only that the directory is not empty, so any file
    under sub/ recreates it; returns the upload (method, path, content type, body, learn) or
    None; learn(ids, answer), when not None, learns ids from the JSON answer."""
    run = "ee71c97cfaaf474ba8c7f70024f2af8d"
    if ex["method"] == "GET" and ex["path"] == (
            f"/api/2.0/mlflow-artifacts/artifacts?path=1%2F{run}%2Fartifacts"):
        return ("PUT", f"/api/2.0/mlflow-artifacts/artifacts/1/{run}/artifacts/sub/x.txt",
                "text/plain", "x", None)
    return None


LAB_MODEL_RUN = "263821c001894a258f0d198b2c5eb10c"


def setup_lab_model_run(ex):
    """exchanges_pretty.txt logs a model to run 263821c0 of experiment 1 (its artifacts are at
    mlflow-artifacts:/1/263821c0.../artifacts, log-model succeeds, so the run is active) and
    registers it as lab-model version 1, but the run was created outside the capture. A run made
    in that experiment before its first use stands in for it; its id is learnt like any other
    runs/create answer. Returns the request (method, path, content type, body, learn)."""
    if ex["method"] == "PUT" and ex["path"].endswith(
            f"/{LAB_MODEL_RUN}/artifacts/model/requirements.txt"):
        body = json.dumps({"experiment_id": "1", "run_name": "lab-model-run",
                           "start_time": 1795353199000})
        return ("POST", "/api/2.0/mlflow/runs/create", "application/json", body,
                lambda ids, got: ids.run.setdefault(LAB_MODEL_RUN, got["run"]["info"]["run_id"]))
    return None


def setup_lab_mlmodel(ex):
    """The last exchange of exchanges_pretty.txt downloads run 263821c0's model/MLmodel, which
    sklearn.log_model uploaded outside the capture (fluent_trace.jsonl shows the same call
    uploading requirements.txt, MLmodel, python_env.yaml, conda.yaml and model.pkl; only
    requirements.txt is in this capture). The recorded answer is the file (its newlines dropped
    by the recorder); it is uploaded as recorded so that the download can be compared."""
    if ex["method"] == "GET" and ex["path"].endswith(f"/{LAB_MODEL_RUN}/artifacts/model/MLmodel"):
        return ("PUT", ex["path"], "text/plain", ex["resp"], None)
    return None


SETUPS = [setup_lab_sub_dir, setup_lab_model_run, setup_lab_mlmodel]


def parse_jsonl(path):
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                d = json.loads(line)
                json_req = (d["req_ct"] or "").startswith("application/json")
                d["req_truncated"] = json_req and bool(d["req"]) and not is_json(d["req"])
                d["resp_truncated"] = (d["resp_ct"] or "").startswith("application/json") \
                    and not is_json(d["resp"])
                out.append(d)
    return out


def is_json(text):
    try:
        json.loads(text)
        return True
    except ValueError:
        return False


def parse_pretty(path):
    out, cur, field = [], None, None
    head = re.compile(r"^### (\S+) (\S+) -> (\d+) (\S+)$")
    with open(path, encoding="utf-8") as f:
        for line in f.read().split("\n"):
            m = head.match(line)
            if m:
                cur = {"method": m[1], "path": m[2], "status": int(m[3]), "resp_ct": m[4],
                       "req_ct": None, "req": "", "resp": ""}
                out.append(cur)
                field = None
                continue
            m = re.match(r"^REQ\(([^)]*)\): (.*)$", line)
            if cur is not None and m and field is None:
                cur["req_ct"], cur["req"], field = m[1], m[2], "req"
                continue
            if cur is not None and line.startswith("RESP: ") and field != "resp":
                cur["resp"], field = line[len("RESP: "):], "resp"
                continue
            if cur is not None and field:
                cur[field] += "\n" + line
    for ex in out:
        ex["resp"] = ex["resp"].rstrip("\n")
        json_req = (ex["req_ct"] or "").startswith("application/json")
        ex["req_truncated"] = json_req and bool(ex["req"]) and not is_json(ex["req"])
        json_resp = ex["resp_ct"].startswith("application/json")
        ex["resp_truncated"] = json_resp and not is_json(ex["resp"])
    return out


def load(path):
    return parse_jsonl(path) if path.endswith(".jsonl") else parse_pretty(path)


class Ids:
    """Recorded ids -> ids of the server under test."""

    def __init__(self):
        self.exp = {}
        self.run = {}

    def rewrite_text(self, text):
        return HEX_ID.sub(lambda m: self.run.get(m[0], m[0]), text)

    def rewrite_query_exp(self, path):
        def sub(m):
            return m[1] + self.exp.get(m[2], m[2])
        path = re.sub(r"([?&]experiment_ids?(?:%5B\d*%5D)?=)(\d+)", sub, path)
        # artifact proxy paths: .../artifacts/<exp>/<run>/... and ?path=<exp>%2F<run>...
        path = re.sub(r"(/mlflow-artifacts/artifacts/)(\d+)(?=/)", sub, path)
        return re.sub(r"([?&]path=)(\d+)(?=%2F|/)", sub, path)

    def rewrite_body(self, obj):
        if isinstance(obj, dict):
            return {k: self.rewrite_field(k, v) for k, v in obj.items()}
        if isinstance(obj, list):
            return [self.rewrite_body(v) for v in obj]
        return obj

    def rewrite_field(self, key, value):
        if key == "experiment_id" and isinstance(value, str):
            return self.exp.get(value, value)
        if key == "experiment_ids" and isinstance(value, list):
            return [self.exp.get(v, v) for v in value]
        if isinstance(value, str):
            return self.rewrite_text(value)
        return self.rewrite_body(value)

    def unknown_runs(self, text):
        found = {next(g for g in groups if g) for groups in RUN_REF.findall(text)}
        return sorted(i for i in found if i not in self.run and i != MISSING_RUN)


def structure_diff(rec, got, where="$"):
    """Differences in keys, types and nesting between two JSON values."""
    if isinstance(rec, bool) or isinstance(got, bool):
        return [] if type(rec) is type(got) else [f"{where}: {type(rec).__name__} vs {type(got).__name__}"]
    if type(rec) is not type(got):
        return [f"{where}: recorded {type(rec).__name__} {json.dumps(rec)[:60]}, "
                f"got {type(got).__name__} {json.dumps(got)[:60]}"]
    if isinstance(rec, dict):
        diffs = []
        for k in sorted(set(rec) | set(got)):
            if k not in got:
                diffs.append(f"{where}.{k}: missing")
            elif k not in rec:
                diffs.append(f"{where}.{k}: unexpected")
            else:
                if k in EXACT_KEYS and isinstance(rec[k], str) and rec[k] != got[k]:
                    diffs.append(f"{where}.{k}: recorded {rec[k]!r}, got {got[k]!r}")
                diffs += structure_diff(rec[k], got[k], f"{where}.{k}")
        return diffs
    if isinstance(rec, list):
        if len(rec) != len(got):
            return [f"{where}: recorded {len(rec)} items, got {len(got)}"]
        key = lambda v: json.dumps(v.get("key")) if isinstance(v, dict) else ""
        rs, gs = sorted(rec, key=key), sorted(got, key=key)
        return [d for i, (r, g) in enumerate(zip(rs, gs)) for d in structure_diff(r, g, f"{where}[{i}]")]
    return []


def key_sequence(text):
    return re.findall(r'"([A-Za-z_][\w.]*)":', text)


def send(base, ex, ids):
    path = ids.rewrite_query_exp(ids.rewrite_text(ex["path"]))
    data = None
    if ex["req"] and ex["method"] != "GET":
        if (ex["req_ct"] or "").startswith("application/json"):
            data = json.dumps(ids.rewrite_body(json.loads(ex["req"]))).encode()
        else:
            data = ex["req"].encode()
    req = urllib.request.Request(base + path, data=data, method=ex["method"])
    if ex["req_ct"]:
        req.add_header("Content-Type", ex["req_ct"])
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type", ""), e.read().decode("utf-8", "replace")


def learn_ids(ex, body, ids):
    try:
        rec, got = json.loads(ex["resp"]), json.loads(body)
    except ValueError:
        return
    if ex["path"].endswith("/experiments/create") and "experiment_id" in rec:
        ids.exp[rec["experiment_id"]] = got.get("experiment_id", "?")
    if ex["path"].endswith("/runs/create") and "run" in rec and "run" in got:
        ids.run[rec["run"]["info"]["run_id"]] = got["run"]["info"]["run_id"]


def is_registry(ex):
    return any(ex["path"].startswith(p) for p in REGISTRY)


def skip_reason(ex, ids):
    unknown = ids.unknown_runs(ex["path"] + " " + ex["req"])
    if unknown:
        return f"uses run {unknown[0]} that the recording never creates"
    unknown = ids.unknown_runs(ex["resp"])
    if unknown and not ex["path"].endswith("/runs/create"):
        return f"recorded answer depends on run {unknown[0]} that the recording never creates"
    return None


def strict_diff(rec, got, where="$"):
    """Registry answers: keys in the recorded (proto field) order, every string and list equal,
    in order; numbers (timestamps) free."""
    if isinstance(rec, dict) and isinstance(got, dict):
        diffs = []
        if set(rec) == set(got) and list(rec) != list(got):
            diffs.append(f"{where}: keys in order {list(got)}, recorded {list(rec)}")
        for k in sorted(set(rec) | set(got)):
            if k not in got:
                diffs.append(f"{where}.{k}: missing")
            elif k not in rec:
                diffs.append(f"{where}.{k}: unexpected")
            else:
                diffs += strict_diff(rec[k], got[k], f"{where}.{k}")
        return diffs
    if isinstance(rec, list) and isinstance(got, list):
        if len(rec) != len(got):
            return [f"{where}: recorded {len(rec)} items, got {len(got)}"]
        return [d for i, (r, g) in enumerate(zip(rec, got)) for d in strict_diff(r, g, f"{where}[{i}]")]
    if isinstance(rec, str) and rec != got:
        return [f"{where}: recorded {rec!r}, got {got!r}"]
    return structure_diff(rec, got, where)


def compare(ex, status, ctype, body, ids):
    problems = []
    if status != ex["status"]:
        problems.append(f"status: recorded {ex['status']}, got {status}")
    if ex["resp_ct"].split(";")[0] != ctype.split(";")[0]:
        problems.append(f"content type: recorded {ex['resp_ct']}, got {ctype}")
    if not ex["resp_ct"].startswith("application/json"):
        if body != ex["resp"]:
            problems.append(f"body: recorded {ex['resp'][:60]!r}, got {body[:60]!r}")
        return problems
    if ex["resp_truncated"]:
        if body != json.dumps(json.loads(body), indent=2):
            problems.append("format: not byte-identical to what json.dumps(indent=2) writes")
        rec_keys, got_keys = key_sequence(ex["resp"]), key_sequence(body)
        # The cut may split the last key: compare the complete ones.
        if got_keys[:len(rec_keys)] != rec_keys:
            problems.append(f"keys of the (cut) recorded answer {rec_keys} are not a prefix of "
                            f"the answer's {got_keys[:len(rec_keys) + 2]}")
        return problems
    try:
        got = json.loads(body)
    except ValueError:
        return problems + [f"answer is not JSON: {body[:80]!r}"]
    # MLflow writes answers with json.dumps(indent=2) and errors with json.dumps().
    expect = json.dumps(got, indent=None if "error_code" in got else 2)
    if body != expect:
        problems.append(f"format: not byte-identical to what json.dumps writes: {expect[:80]!r}")
    if is_registry(ex):
        return problems + strict_diff(json.loads(ids.rewrite_text(ex["resp"])), got)
    return problems + structure_diff(json.loads(ex["resp"]), got)


def reconstruct(ex):
    for fn in RECONSTRUCTIONS:
        body = fn()
        if body.startswith(ex["req"]):
            ex["req"], ex["req_truncated"] = body, False
            return True
    return False


def main(argv):
    base, paths = argv[1].rstrip("/"), argv[2:]
    ids = Ids()
    counts = {"ok": 0, "mismatch": 0, "skip": 0}
    for path in paths:
        for n, ex in enumerate(load(path), 1):
            label = f"{path.rsplit('/', 1)[-1]}#{n} {ex['method']} {ex['path'].split('?')[0]}"
            for setup in SETUPS:
                extra = setup(ex)
                if extra:
                    method, xpath, ctype, data, learn = extra
                    status, _, body = send(base, {"method": method, "path": xpath,
                                                  "req_ct": ctype, "req": data}, ids)
                    print(f"setup    {method} {xpath.split('?')[0]} -> {status}")
                    if status != 200:
                        counts["mismatch"] += 1
                        print(f"           setup failed: {body[:300]!r}")
                    elif learn:
                        learn(ids, json.loads(body))
            if ex["req_truncated"] and not reconstruct(ex):
                reason = "recorded request body is cut and cannot be rebuilt"
            else:
                reason = skip_reason(ex, ids)
            if reason:
                counts["skip"] += 1
                print(f"skip     {label}: {reason}")
                continue
            status, ctype, body = send(base, ex, ids)
            learn_ids(ex, body, ids)
            problems = compare(ex, status, ctype, body, ids)
            if problems:
                counts["mismatch"] += 1
                print(f"MISMATCH {label}")
                for p in problems:
                    print(f"           {p}")
                print(f"           answer: {body[:300]!r}")
            else:
                counts["ok"] += 1
                cut = " (recorded answer cut: key prefix compared)" if ex["resp_truncated"] else ""
                print(f"ok       {label}{cut}")
    print(f"replay: {counts['ok']} match, {counts['mismatch']} mismatch, {counts['skip']} skipped")
    return 1 if counts["mismatch"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
