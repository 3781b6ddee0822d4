#!/usr/bin/env bash
# ferry serve's live monitoring: batch_01 (no drift) then batch_02 (drifted) replayed row by row
# with their labels through /feedback; /metrics shows the drift gauges of the manifest's columns
# for batch_02 only, the live F1 equals the F1 computed here from the responses and the labels,
# and drops on batch_02; promtool accepts the exposition; every metric the Grafana dashboard
# queries is exported; --no-monitor turns it off; without the training rows a line says why.
. "$(dirname "$0")/lib.sh"

new_project p
cd p
mkdir -p data
src="$FERRY_SOURCE/examples/data/drift"
cp "$src/reference.csv" data/train.csv
"$FERRY" train -q --data data/train.csv --target churn --model xgboost --out m/xgb \
	--register churn >/dev/null

start_server() {
	: >serve.out
	"$FERRY" serve "$@" --port 0 >serve.out 2>serve.err &
	server=$!
	url=$(listening_url serve.out serve.err "$server" 200)
}
stop_server() { kill -TERM "$server" 2>/dev/null && wait "$server" 2>/dev/null || true; }
trap 'stop_server; cleanup' EXIT

# replay FILE PREFIX: one request per row (X-Request-Id PREFIX-i), then all labels as feedback;
# writes PREFIX.pairs (prediction,label per row)
replay() {
	python3 - "$url" "$1" "$2" <<'EOF'
import csv, http.client, json, sys, urllib.parse
u = urllib.parse.urlparse(sys.argv[1])
rows = list(csv.DictReader(open(sys.argv[2])))
prefix = sys.argv[3]
c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
def val(v):
    try:
        return float(v)
    except ValueError:
        return v
pairs, feedback = [], []
for i, r in enumerate(rows):
    label = r.pop("churn")
    rid = "%s-%d" % (prefix, i)
    body = json.dumps({"dataframe_records": [{k: val(v) for k, v in r.items()}]})
    c.request("POST", "/invocations", body, {"Content-Type": "application/json", "X-Request-Id": rid})
    resp = c.getresponse()
    out = json.loads(resp.read())
    if resp.status != 200:
        sys.exit("row %d: %d %s" % (i, resp.status, out))
    pairs.append((out["predictions"][0], label))
    feedback.append({"request_id": rid, "label": label})
c.request("POST", "/feedback", json.dumps(feedback), {"Content-Type": "application/json"})
resp = c.getresponse()
if resp.status != 200 or json.loads(resp.read())["recorded"] != len(rows):
    sys.exit("feedback refused")
with open(prefix + ".pairs", "w") as f:
    for p, l in pairs:
        f.write("%s,%s\n" % (p, l))
EOF
}

# f1 PAIRS: F1 of the positive class "yes", as sklearn.metrics.f1_score(y, pred, pos_label="yes")
f1() {
	python3 -c "
import sys
tp = fp = fn = 0
for line in open(sys.argv[1]):
    p, l = line.strip().split(',')
    tp += p == 'yes' and l == 'yes'; fp += p == 'yes' and l == 'no'; fn += p == 'no' and l == 'yes'
print(repr(2 * tp / (2 * tp + fp + fn)))" "$1"
}

# gauge NAME LABEL-SUBSTRING: the value of the first sample of NAME whose labels contain it
gauge() { grep "^$1{" metrics.txt | grep -F "$2" | head -1 | awk '{print $2}'; }

start_server models:/churn/1 --monitor-window 1000
grep -qF "ferry serve: live monitoring: drift against the training rows (3000 rows), window 1000 rows" serve.err ||
	fail "no live monitoring line: $(cat serve.err)"

replay "$src/batch_01_nodrift.csv" b1
curl -s "$url/metrics" >metrics.txt
promtool check metrics <metrics.txt || fail "promtool rejects /metrics"
expect_eq "$(gauge ferry_monitor_window_rows 'model="churn",version="1"')" 1000 "window rows"
expect_eq "$(gauge ferry_dataset_drift_share churn)" 0 "no drift on batch_01"
expect_eq "$(grep -c '^ferry_feature_drift_detected{.*} 1$' metrics.txt)" 0 "no feature flagged"
expect_eq "$(grep -c '^ferry_feature_drift_score{' metrics.txt)" 19 "a score per feature"
expect_eq "$(gauge ferry_feature_drift_score 'feature="total_day_minutes",method="wasserstein"' | cut -c1-2)" 0. "a distance"
expect_eq "$(gauge ferry_live_labelled_rows churn)" 1000 "labelled rows"
f1_b1=$(gauge ferry_live_quality 'metric="f1"')
python3 -c "import sys; a, b = float(sys.argv[1]), float(sys.argv[2]); sys.exit(abs(a - b) > 1e-12)" \
	"$f1_b1" "$(f1 b1.pairs)" || fail "live F1 $f1_b1, computed from the responses $(f1 b1.pairs)"
expect_eq "$(gauge ferry_live_feedback_total 'result="matched"')" 1000 "feedback matched"
ok "batch_01: no drift flagged, live F1 = F1 of the responses and labels, promtool passes"

replay "$src/batch_02_drift.csv" b2
curl -s "$url/metrics" >metrics.txt
promtool check metrics <metrics.txt || fail "promtool rejects /metrics"
for col in total_day_minutes total_day_charge international_plan; do
	expect_eq "$(gauge ferry_feature_drift_detected "feature=\"$col\"")" 1 "$col drifted"
done
expect_eq "$(gauge ferry_feature_drift_detected 'feature="total_eve_minutes"')" 0 "eve minutes did not"
# category counts are exact: Jensen-Shannon as scipy.spatial.distance.jensenshannon on the
# per-value shares of reference.csv and batch_02 (values from tests/unit/test_live_monitor.c)
python3 -c "
import sys
got, want = float(sys.argv[1]), float(sys.argv[2])
sys.exit(abs(got - want) > 1e-9)" "$(gauge ferry_feature_drift_score 'feature="international_plan",method="jensenshannon"')" \
	0.18158461890955355 || fail "international_plan JS differs from scipy's"
f1_b2=$(gauge ferry_live_quality 'metric="f1"')
python3 -c "import sys; a, b = float(sys.argv[1]), float(sys.argv[2]); sys.exit(abs(a - b) > 1e-12)" \
	"$f1_b2" "$(f1 b2.pairs)" || fail "live F1 $f1_b2, computed from the responses $(f1 b2.pairs)"
python3 -c "import sys; sys.exit(not float(sys.argv[2]) < float(sys.argv[1]) - 0.1)" "$f1_b1" "$f1_b2" ||
	fail "F1 did not drop: $f1_b1 -> $f1_b2"
grep -q '^ferry_prediction_drift_score{model="churn",version="1",method="wasserstein"} ' metrics.txt ||
	fail "prediction drift: $(grep prediction_drift metrics.txt)"
ok "batch_02: the manifest's columns drift, live F1 drops ($f1_b1 -> $f1_b2) and matches the labels"

# unknown ids and bad labels are counted, not errors
printf '[{"request_id": "nobody", "label": "no"}, {"request_id": "b2-1", "label": "perhaps"}]' >fb.json
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' -X POST --data-binary @fb.json "$url/feedback")" 200 "feedback"
curl -s "$url/metrics" >metrics.txt
expect_eq "$(gauge ferry_live_feedback_total 'result="unknown"')" 1 "unknown id counted"
expect_eq "$(gauge ferry_live_feedback_total 'result="invalid"')" 1 "bad label counted"
ok "feedback for unknown requests and labels that are no class are counted"

# every metric the dashboard queries is in /metrics (histograms by their _bucket series)
dash="$FERRY_SOURCE/contrib/grafana/ferry-serving.json"
jq -e '.schemaVersion >= 36 and (.templating.list | map(.name) | index("datasource") and index("model"))' \
	"$dash" >/dev/null || fail "dashboard: schemaVersion or variables"
jq -r '.. | .expr? // empty' "$dash" | grep -o 'ferry_[a-z_]*\|process_[a-z_]*' | sort -u >queried.txt
[ "$(wc -l <queried.txt)" -ge 10 ] || fail "dashboard queries too few metrics: $(cat queried.txt)"
while read -r m; do
	grep -q "^$m[{ ]" metrics.txt || fail "dashboard queries $m, which /metrics does not export"
done <queried.txt
ok "every metric the Grafana dashboard queries is exported ($(wc -l <queried.txt) metrics)"
stop_server

start_server models:/churn/1 --no-monitor
curl -s "$url/metrics" >metrics.txt
grep -q '^ferry_feature_drift\|^ferry_live_\|^ferry_monitor_' metrics.txt && fail "--no-monitor still exports"
grep -q "live monitoring" serve.err && fail "--no-monitor still logs monitoring"
stop_server
ok "--no-monitor: no monitoring metrics"

# without the training rows: the stored profile stands in, and the log line says why
mv data/train.csv data/moved.csv
start_server models:/churn/1 --quiet
grep -q "live monitoring: drift against the training data profile stored in the model (coarse).*training rows are not available" serve.err ||
	fail "no reason logged: $(cat serve.err)"
stop_server
ok "without the training rows the log names the fallback and why"
