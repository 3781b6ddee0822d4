#!/usr/bin/env bash
# ferry serve: the three protocols answer what batch scoring (ferry predict) gives for the same
# rows; bad requests get the protocol's errors; /metrics passes promtool; predictions and
# feedback reach the inference log; an alias moved under load is followed with no failed
# request; SIGTERM drains and flushes.
. "$(dirname "$0")/lib.sh"

new_project p
cd p
mkdir -p data
src="$FERRY_SOURCE/examples/data/drift"
cp "$src/reference.csv" data/train.csv
head -41 "$src/batch_01_nodrift.csv" >data/rows.csv
"$FERRY" train -q --data data/train.csv --target churn --out m/lr --register churn >/dev/null
"$FERRY" train -q --data data/train.csv --target churn --model xgboost --param n_estimators=20 \
	--out m/xgb --register churn >/dev/null
"$FERRY" models alias churn production 1 >/dev/null
# the reference: batch predictions of each version (validated against sklearn/xgboost in t0200)
"$FERRY" predict models:/churn/1 --data data/rows.csv --out ref1.csv >/dev/null
"$FERRY" predict models:/churn/2 --data data/rows.csv --out ref2.csv >/dev/null

: >serve.out
"$FERRY" serve models:/churn@production --port 0 --poll-ms 200 >serve.out 2>serve.err &
server=$!
stop_server() { kill -TERM "$server" 2>/dev/null && wait "$server" 2>/dev/null || true; }
trap 'stop_server; cleanup' EXIT
url=$(listening_url serve.out serve.err "$server")

# requests in each protocol, built from the same rows
python3 - data/rows.csv <<'EOF'
import csv, json, sys
rows = list(csv.DictReader(open(sys.argv[1])))
for r in rows:
    del r["churn"]
cols = list(rows[0].keys())
def val(c, v):
    try:
        return float(v)
    except ValueError:
        return v
records = [{c: val(c, r[c]) for c in cols} for r in rows]
json.dump({"dataframe_records": records}, open("records.json", "w"))
json.dump({"dataframe_split": {"columns": cols, "data": [[val(c, r[c]) for c in cols] for r in rows]}}, open("split.json", "w"))
json.dump({"id": "req-1", "inputs": [{"name": c, "shape": [len(rows)],
	"datatype": "FP64" if isinstance(val(c, rows[0][c]), float) else "BYTES",
	"data": [val(c, r[c]) for r in rows]} for c in cols]}, open("oip.json", "w"))
json.dump({"instances": records}, open("kserve.json", "w"))
with open("rows_nolabel.csv", "w", newline="") as f:
    w = csv.DictWriter(f, fieldnames=cols)
    w.writeheader()
    w.writerows(rows)
EOF
post() { curl -s -o "$1" -w '%{http_code}' -X POST -H "Content-Type: ${3:-application/json}" --data-binary "@$2" "$url$4"; }
ref_labels=$(tail -n +2 ref1.csv | cut -d, -f1 | paste -sd, -)
ref_p1=$(tail -n +2 ref1.csv | cut -d, -f3 | paste -sd, -)

expect_eq "$(post a.json records.json application/json /invocations)" 200 "records"
expect_eq "$(jq -r '.predictions | join(",")' a.json)" "$ref_labels" "MLflow records = ferry predict"
expect_eq "$(post b.json split.json application/json /invocations)" 200 "split"
expect_eq "$(jq -r '.predictions | join(",")' b.json)" "$ref_labels" "MLflow split"
expect_eq "$(post c.json rows_nolabel.csv text/csv /invocations)" 200 "csv"
expect_eq "$(jq -r '.predictions | join(",")' c.json)" "$ref_labels" "MLflow csv"
expect_eq "$(post d.json records.json application/json '/invocations?predict_proba=true')" 200 "proba"
python3 -c "
import json, sys
got = [r['probability_yes'] for r in json.load(open('d.json'))['predictions']]
want = [float(x) for x in sys.argv[1].split(',')]
sys.exit(0 if got == want else 'probabilities differ: %r vs %r' % (got[:3], want[:3]))" "$ref_p1" ||
	fail "MLflow probabilities differ from ferry predict's"
ok "MLflow scoring protocol (records, split, CSV, probabilities) = batch predictions"

expect_eq "$(post e.json oip.json application/json /v2/models/churn/infer)" 200 "oip"
expect_eq "$(jq -r '.id + " " + .model_name + " " + .model_version' e.json)" "req-1 churn 1" "oip echo"
expect_eq "$(jq -r '.outputs[] | select(.name == "predict") | .data | join(",")' e.json)" "$ref_labels" "OIP = predict"
expect_eq "$(post f.json oip.json application/json /v2/models/churn/versions/1/infer)" 200 "oip version"
expect_eq "$(post g.json oip.json application/json /v2/models/other/infer)" 404 "oip other model"
expect_eq "$(curl -s "$url/v2/models/churn" | jq -r '.name + " " + (.inputs | length | tostring)')" "churn 19" "oip metadata"
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' "$url/v2/health/ready")" 200 "ready"
expect_eq "$(post h.json kserve.json application/json /v1/models/churn:predict)" 200 "kserve"
expect_eq "$(jq -r '.predictions | join(",")' h.json)" "$ref_labels" "KServe v1 = predict"
ok "Open Inference Protocol v2 and KServe v1 answer the same predictions"

printf '{"dataframe_records": [{"state": "KS"}]}' >missing.json
expect_eq "$(post err.json missing.json application/json /invocations)" 400 "missing column"
expect_eq "$(jq -r .error_code err.json)" BAD_REQUEST "error shape"
grep -q "account_length" err.json || fail "the error does not name the missing column: $(cat err.json)"
jq '.dataframe_records[1].total_day_minutes = "lots"' records.json >badnum.json
expect_eq "$(post err.json badnum.json application/json /invocations)" 400 "bad number"
grep -q "total_day_minutes" err.json && grep -q "lots" err.json || fail "bad value not named: $(cat err.json)"
printf '{"dataframe_records": [' >broken.json
expect_eq "$(post err.json broken.json application/json /invocations)" 400 "malformed JSON"
expect_eq "$(post err.json records.json text/plain /invocations)" 415 "content type"
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' "$url/nope")" 404 "unknown route"
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' "$url/invocations")" 405 "GET /invocations"
expect_eq "$(post err.json missing.json application/json /v2/models/churn/infer)" 400 "oip bad body"
jq -e .error err.json >/dev/null || fail "OIP error shape: $(cat err.json)"
ok "bad requests: 400 naming the field, 415, 404, 405, in each protocol's error shape"

curl -s "$url/metrics" >metrics.txt
promtool check metrics <metrics.txt || fail "promtool rejects /metrics"
grep -q '^ferry_model_info{name="churn",version="1",' metrics.txt || fail "model info metric"
grep -q '^ferry_http_requests_total{route="/invocations",code="200"} 4' metrics.txt || fail "request counter: $(grep requests_total metrics.txt)"
grep -q '^ferry_predictions_total{model="churn",class=' metrics.txt || fail "predictions by class"
ok "/metrics passes promtool and counts requests, predictions and the model version"

rid=$(curl -s -D - -o /dev/null -X POST -H 'Content-Type: application/json' -H 'X-Request-Id: my-req-42' \
	--data-binary @records.json "$url/invocations" | tr -d '\r' | sed -n 's/^[Xx]-[Rr]equest-[Ii]d: //p')
expect_eq "$rid" my-req-42 "X-Request-Id echoed"
printf '{"request_id": "my-req-42", "label": "no"}' >fb.json
expect_eq "$(post fbr.json fb.json application/json /feedback)" 200 "feedback"
ok "responses carry X-Request-Id; POST /feedback takes ground truth"

# hot swap under load: clients keep predicting while the alias moves 1 -> 2 -> 1 -> 2
python3 - "$url" >load.out <<'EOF' &
import http.client, json, sys, threading, time, urllib.parse
u = urllib.parse.urlparse(sys.argv[1])
body = open("records.json", "rb").read()
stats = {"ok": 0, "fail": 0, "versions": set()}
lock = threading.Lock()
deadline = time.time() + 60
def client():
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    for _ in range(400):
        if time.time() > deadline:
            break
        try:
            c.request("POST", "/v2/models/churn/infer", body=json.dumps(json.load(open("oip.json"))),
                      headers={"Content-Type": "application/json"})
            r = c.getresponse()
            data = r.read()
            ok = r.status == 200
            v = json.loads(data).get("model_version") if ok else None
        except Exception as e:
            ok, v = False, None
            c = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
        with lock:
            stats["ok" if ok else "fail"] += 1
            if v:
                stats["versions"].add(v)
threads = [threading.Thread(target=client) for _ in range(4)]
[t.start() for t in threads]
[t.join() for t in threads]
print("ok=%d fail=%d versions=%s" % (stats["ok"], stats["fail"], ",".join(sorted(stats["versions"]))))
EOF
load=$!
sleep 0.5
"$FERRY" models alias churn production 2 >/dev/null
sleep 0.6
"$FERRY" models rollback churn >/dev/null
sleep 0.6
"$FERRY" models alias churn production 2 >/dev/null
kill -HUP "$server"
wait "$load" || fail "load generator failed"
cat load.out
grep -q "fail=0 " load.out || fail "requests failed during the swaps: $(cat load.out)"
grep -q "versions=1,2" load.out || fail "the swaps were not seen by clients: $(cat load.out)"
for _ in $(seq 50); do
	[ "$(curl -s "$url/v2/models/churn" | jq -r '.versions[0]')" = 2 ] && break
	sleep 0.1
done
expect_eq "$(post i.json records.json application/json '/invocations?predict_proba=true')" 200 "after swap"
ref2_p1=$(tail -n +2 ref2.csv | cut -d, -f3 | paste -sd, -)
# xgboost's probabilities are float32: ferry predict writes the 9 digits that identify one
python3 -c "
import json, struct, sys
f32 = lambda x: struct.unpack('f', struct.pack('f', x))[0]
got = [f32(r['probability_yes']) for r in json.load(open('i.json'))['predictions']]
want = [f32(float(x)) for x in sys.argv[1].split(',')]
sys.exit(0 if got == want else 'probabilities differ')" "$ref2_p1" || fail "after the swap, version 2 does not answer"
grep -q "swapped to churn version 2" serve.err || fail "no swap reported: $(cat serve.err)"
ok "the alias moved three times under load: no request failed, clients saw both versions"

n_before=$(cut -f1 .ferry/inference/churn/*.log 2>/dev/null | grep -c '"type":"prediction"' || true)
kill -TERM "$server"
wait "$server" || fail "server exit status $?"
server=
n_after=$(cut -f1 .ferry/inference/churn/*.log | grep -c '"type":"prediction"')
[ "$n_after" -ge "$n_before" ] || fail "log shrank"
# every answered row is in the log: 4 requests x 40 rows + the X-Request-Id one + 2 OIP + KServe + load
ok_load=$(sed -n 's/^ok=\([0-9]*\).*/\1/p' load.out)
expect_eq "$n_after" "$(( (4 + 1 + 2 + 1 + 1 + ok_load) * 40 ))" "predictions logged"
expect_eq "$(cut -f1 .ferry/inference/churn/*.log | grep -c '"request_id":"my-req-42"')" 41 "request id and feedback logged"
python3 - .ferry/inference/churn <<'EOF' || fail "a log line's checksum does not verify"
import glob, sys
# CRC32C (Castagnoli), independent of ferry's code
tab = []
for i in range(256):
    c = i
    for _ in range(8):
        c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
    tab.append(c)
def crc(b):
    c = 0xFFFFFFFF
    for x in b:
        c = tab[(c ^ x) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF
for f in glob.glob(sys.argv[1] + "/*.log"):
    for line in open(f, "rb"):
        body, _, tail = line.rstrip(b"\n").rpartition(b"\t")
        if int(tail, 16) != crc(body):
            sys.exit(1)
EOF
ok "SIGTERM drains and flushes: every prediction and the feedback are in the inference log, checksums verify"

done_testing
