#!/usr/bin/env bash
# ferry monitor run over the inference log of a real `ferry serve`: a model trained on
# examples/data/drift/reference.csv serves batch_01 (no drift) and then batch_02 (drift), their
# labels arrive through POST /feedback; each window's drifted columns are those Evidently's
# default tests flag (computed here; the data's manifest's changed columns among them), live F1 equals F1 computed here from the served predictions and the labels, the
# F1 drop fires the quality alert once (printed, exit 3, webhook received by a receiver in this
# test), a good window again resolves it, and `ferry monitor history` shows the windows and
# events. Tiny and empty windows are "insufficient data"; bad arguments are usage errors.
. "$(dirname "$0")/lib.sh"

src="$FERRY_SOURCE/examples/data/drift"
new_project p
cd p
mkdir -p data
cp "$src/reference.csv" data/train.csv
"$FERRY" train -q --data data/train.csv --target churn --model xgboost --out m/xgb \
	--register churn >/dev/null
"$FERRY" models alias churn production 1 >/dev/null

# A webhook receiver: every POST body becomes one line of hooks.jsonl.
: >receiver.port
python3 - >receiver.port 2>receiver.err <<'EOF' &
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with open("hooks.jsonl", "ab") as f:
            f.write(body.replace(b"\n", b" ") + b"\n")
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *a):
        pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
EOF
receiver=$!
: >serve.out
"$FERRY" serve models:/churn@production --port 0 >serve.out 2>serve.err &
server=$!
stop_all() {
	kill -TERM "$server" 2>/dev/null && wait "$server" 2>/dev/null || true
	kill "$receiver" 2>/dev/null && wait "$receiver" 2>/dev/null || true
}
trap 'stop_all; cleanup' EXIT
url=$(listening_url serve.out serve.err "$server")
for _ in $(seq 100); do
	port=$(cat receiver.port)
	[ -n "$port" ] && break
	sleep 0.1
done
[ -n "$port" ] || fail "receiver did not start: $(cat receiver.err)"

cat >monitor.yaml <<EOF
alerts:
  - name: quality
    when: f1 < 0.7 for 1 window
  - name: data-drift
    when: drift_share >= 0.5
webhook:
  url: http://127.0.0.1:$port/hook
  timeout: 5s
EOF

# replay FILE TAG ROWS_PER_REQUEST: every row of FILE as requests, then its labels to /feedback
# (scripts/replay.py). Writes TAG.expect: rows, accuracy and F1 of "yes" computed by the
# replayer from the served predictions.
replay() {
	python3 "$FERRY_SOURCE/scripts/replay.py" "$url" "$1" "$2" "$3" --expect "$2.expect" >/dev/null
}

# compare TAG FILE.json: live quality equals what TAG.expect computed (to 1e-12)
check_quality() {
	python3 - "$1.expect" "$2" <<'EOF' || fail "live quality differs from the served predictions' ($1)"
import json, sys
want, got = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
q = got["quality"]
assert q["rows"] == want["rows"] == got["window"]["labelled"] == got["window"]["rows"], (q, want)
for k in ("accuracy", "f1"):
    assert abs(q[k] - want[k]) < 1e-12, (k, q[k], want[k])
EOF
}

manifest_cols() {
	jq -r --arg f "$1" '.batches[] | select(.file == $f) | .expected_drift_columns | sort | join(",")' \
		"$src/manifest.json"
}

# expected_cols FILE: the columns Evidently's defaults flag in FILE against reference.csv,
# computed here independently (3000 reference rows > 1000: numerical columns get the Wasserstein
# distance over the reference's population std, drift at >= 0.1; categorical ones, and integer
# columns with at most 5 reference values, the Jensen-Shannon distance (natural log) of their
# value shares, drift at >= 0.1). The manifest's changed columns must be among them.
expected_cols() {
	python3 - "$src/reference.csv" "$src/$1" <<'EOF'
import bisect, csv, math, statistics, sys
ref, cur = (list(csv.DictReader(open(f))) for f in sys.argv[1:3])
def num(v):
    try:
        return float(v)
    except ValueError:
        return None
def w1(a, b):
    a, b = sorted(a), sorted(b)
    xs = sorted(set(a) | set(b))
    return sum(abs(bisect.bisect_right(a, x0) / len(a) - bisect.bisect_right(b, x0) / len(b)) * (x1 - x0)
               for x0, x1 in zip(xs, xs[1:]))
def js(a, b):
    keys = set(a) | set(b)
    p = [a.count(k) / len(a) for k in keys]
    q = [b.count(k) / len(b) for k in keys]
    d = sum(x * math.log(x / ((x + y) / 2)) for x, y in zip(p, q) if x) + \
        sum(y * math.log(y / ((x + y) / 2)) for x, y in zip(p, q) if y)
    return math.sqrt(max(d / 2, 0))
out = []
for c in ref[0]:
    if c == "churn":
        continue
    r, k = [x[c] for x in ref], [x[c] for x in cur]
    rn, kn = [num(v) for v in r], [num(v) for v in k]
    numeric = None not in rn and None not in kn
    if numeric and not (all(v == int(v) for v in rn) and len(set(rn)) <= 5):
        drift = w1(rn, kn) / max(statistics.pstdev(rn), 0.001) >= 0.1
    else:
        drift = js(r, k) >= 0.1
    if drift:
        out.append(c)
print(",".join(sorted(out)))
EOF
}
for b in batch_01_nodrift batch_02_drift; do
	want=$(expected_cols $b.csv)
	for col in $(manifest_cols $b.csv | tr , ' '); do
		case ",$want," in *",$col,"*) ;; *) fail "the manifest's $col does not drift in $b by Evidently's rule" ;; esac
	done
	echo "$want" >$b.cols
done

# ---- batch 1: no drift, no alert -------------------------------------------------------
replay "$src/batch_01_nodrift.csv" b1 1
wait_logged 1000 1000
run "$FERRY" monitor run models:/churn@production --window 1000 --json
expect_status 0
echo "$OUT" >w1.json
expect_eq "$(jq -r '.drifted_columns | sort | join(",")' w1.json)" "$(cat batch_01_nodrift.cols)" "batch 1 drifted columns"
expect_eq "$(jq -r '.verdict' w1.json)" no_drift "batch 1 verdict"
expect_eq "$(jq -r '.prediction_drift.drift' w1.json)" false "batch 1 prediction drift"
check_quality b1 w1.json
expect_eq "$(jq -r '[.alerts[] | select(.transition != "none")] | length' w1.json)" 0 "batch 1 alerts"
expect_eq "$(jq -r '.alerts[] | select(.name == "quality") | .truth' w1.json)" false "quality rule on batch 1"
[ ! -s hooks.jsonl ] || fail "a webhook was sent for batch 1: $(cat hooks.jsonl)"
ok "batch 1: no drifted column, no prediction drift, live F1 and accuracy as computed from the served predictions, no alert"

# ---- batch 2: drift, the F1 drop fires -------------------------------------------------
replay "$src/batch_02_drift.csv" b2 25
wait_logged 2000 1040
run "$FERRY" monitor run models:/churn@production --window 1000
expect_status 3
echo "$OUT" >w2.txt
f1=$(python3 -c "import json; print('%.3g' % json.load(open('b2.expect'))['f1'])")
expect_out_contains "ALERT quality: f1 $f1 < 0.7 (model churn v1)"
expect_out_contains "[webhook delivered: HTTP 200]"
for col in $(tr , ' ' <batch_02_drift.cols); do
	grep -q "^data drift: .*$col" w2.txt || fail "$col not reported drifted: $(grep '^data drift' w2.txt)"
done
grep -q '^prediction drift: yes' w2.txt || fail "no prediction drift: $OUT"
ok "batch 2: prints the drifted columns, prediction drift and ALERT quality with the webhook delivered (exit 3)"

expect_eq "$(wc -l <hooks.jsonl)" 1 "webhooks after batch 2"
python3 - b2.expect <<'EOF' || fail "webhook payload: $(cat hooks.jsonl)"
import json, sys
want = json.load(open(sys.argv[1]))
h = json.loads(open("hooks.jsonl").readline())
assert (h["model"], h["version"], h["rule"], h["state"], h["metric"]) == ("churn", 1, "quality", "firing", "f1"), h
assert abs(h["value"] - want["f1"]) < 1e-12 and h["threshold"] == 0.7, h
assert h["window"]["rows"] == 1000 and h["window"]["labelled"] == 1000, h
assert h["summary"].startswith("ALERT quality: f1 "), h
EOF
ok "the receiver got one POST: model, version, rule, state, metric, value = F1, threshold, window"

# the same window with --json: stored again, the alert stays firing and is not sent again
run "$FERRY" monitor run models:/churn@production --window 1000 --json
expect_status 3
echo "$OUT" >w2.json
expect_eq "$(jq -r '.drifted_columns | sort | join(",")' w2.json)" "$(cat batch_02_drift.cols)" "batch 2 drifted columns"
expect_eq "$(jq -r '.prediction_drift.drift' w2.json)" true "batch 2 prediction drift"
check_quality b2 w2.json
expect_eq "$(jq -r '.window.feedback_ambiguous' w2.json)" 0 "batch 2: every label list fits its request"
python3 -c "
import json, sys
a, b = json.load(open('w1.json'))['quality']['f1'], json.load(open('w2.json'))['quality']['f1']
sys.exit(0 if a - b > 0.2 else 'no F1 drop: %r -> %r' % (a, b))" || fail "F1 drop"
expect_eq "$(jq -r '.alerts[] | select(.name == "quality") | .firing, .transition' w2.json | paste -sd' ')" "true none" "still firing, no new transition"
expect_eq "$(wc -l <hooks.jsonl)" 1 "no second webhook while firing"
ok "batch 2 with --json: drifted columns = Evidently's (the manifest's among them), F1 as computed and >0.2 below batch 1, no repeated notification"

# ---- tiny and empty windows: insufficient data, the alert keeps its state -------------
run "$FERRY" monitor run models:/churn@production --window 5 --json
expect_status 3
expect_eq "$(echo "$OUT" | jq -r '.verdict')" insufficient_data "tiny window verdict"
expect_eq "$(echo "$OUT" | jq -r '.quality, .drift')" "$(printf 'null\nnull')" "tiny window: no numbers"
expect_eq "$(echo "$OUT" | jq -r '.alerts[] | select(.name == "quality") | .truth + " " + (.firing | tostring)')" "unknown true" "unknown keeps firing"
run "$FERRY" monitor run models:/churn@production --since 1ms
expect_status 3
expect_out_contains "data drift: insufficient data"
expect_out_contains "note: insufficient data: 0 prediction(s) in the window, at least 30 needed for drift"
ok "a window of 5 rows and an empty one: insufficient data, no quality, the firing alert neither fires again nor resolves"

# ---- a good window again resolves --------------------------------------------------------
replay "$src/batch_01_nodrift.csv" b3 1
wait_logged 3000 2040
run "$FERRY" monitor run models:/churn@production --window 1000
expect_status 0
expect_out_contains "RESOLVED quality: f1 "
expect_eq "$(wc -l <hooks.jsonl)" 2 "webhooks after the good window"
expect_eq "$(tail -1 hooks.jsonl | jq -r '.state + " " + .rule')" "resolved quality" "resolved payload"
ok "a good window resolves the alert (exit 0) and the webhook says so"

# ---- history -------------------------------------------------------------------------------
run "$FERRY" monitor history churn --json
expect_status 0
echo "$OUT" >h.json
expect_eq "$(jq -r '.results | length' h.json)" 6 "stored results"
expect_eq "$(jq -r '[.results[].verdict] | join(",")' h.json)" \
	"no_drift,insufficient_data,insufficient_data,no_drift,no_drift,no_drift" "verdicts newest first"
expect_eq "$(jq -r '.results[-1].drifted_columns | length' h.json)" 0 "first window: no drifted columns"
expect_eq "$(jq -r '.results[-2].drifted_columns | sort | join(",")' h.json)" "$(cat batch_02_drift.cols)" "second window's columns"
expect_eq "$(jq -r '[.alerts[] | .state + ":" + .webhook] | join(",")' h.json)" "resolved:delivered,firing:delivered" "alert events"
run "$FERRY" monitor history models:/churn@production --limit 2
expect_status 0
expect_eq "$(echo "$OUT" | grep -c ' rows ')" 2 "--limit 2"
expect_out_contains "ALERT quality: f1 < 0.7 for 1 window"
ok "ferry monitor history: every window newest first with verdicts and columns, and both alert events"

# ---- --every: passes until SIGTERM ----------------------------------------------------------
"$FERRY" monitor run models:/churn@production --every 100ms --json >every.out 2>every.err &
every=$!
for _ in $(seq 300); do
	[ "$("$FERRY" monitor history churn --limit 100 --json | jq '.results | length')" -ge 8 ] && break
	sleep 0.1
done
kill -TERM "$every"
set +e
wait "$every"
status=$?
set -e
expect_eq "$status" 0 "--every exit status after SIGTERM"
[ "$(jq -s length every.out)" -ge 2 ] || fail "--every printed fewer than 2 passes: $(cat every.err)"
ok "--every runs pass after pass and stops cleanly on SIGTERM"

# ---- a webhook nobody answers: the pass succeeds, the event says "failed" -------------------
printf 'alerts:\n  - name: traffic\n    when: rows >= 1 for 1 window\n' >traffic.yaml
dead=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
run "$FERRY" monitor run models:/churn@production --config traffic.yaml --webhook "http://127.0.0.1:$dead/hook"
expect_status 3
expect_out_contains "ALERT traffic: rows 1000 >= 1 (model churn v1)  [webhook failed: "
run "$FERRY" monitor history churn --limit 1 --json
expect_eq "$(echo "$OUT" | jq -r '.alerts[0] | .rule + " " + .state + " " + .webhook')" "traffic firing failed" "failed delivery stored"
echo "$OUT" | jq -r '.alerts[0].webhook_detail' | grep -q "after 3 attempts" || fail "delivery detail: $OUT"
ok "an unreachable webhook: the pass still succeeds (exit 3: firing) and the event is stored as failed after 3 attempts"

# ---- bad input ---------------------------------------------------------------------------
run "$FERRY" monitor run models:/churn@production --window 10 --since 1h
expect_status 2
expect_err_contains "give --window N or --since DURATION, not both"
run "$FERRY" monitor run models:/churn@production --since 5x
expect_status 2
expect_err_contains "invalid duration '5x'"
run "$FERRY" monitor run models:/churn@production --log-dir nowhere
expect_status 1
expect_err_contains "no inference log in 'nowhere'"
printf 'alerts:\n  - name: broken\n    when: f1 =< 0.7\n' >bad.yaml
run "$FERRY" monitor run models:/churn@production --config bad.yaml
expect_status 1
expect_err_contains "alert rule 'broken': column 4: expected an operator"
ok "usage errors exit 2; a missing log and a bad rule exit 1 naming them"

stop_all
done_testing
