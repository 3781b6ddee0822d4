#!/usr/bin/env bash
# The end-to-end demo: what ferry can do so far, on the datasets in examples/data.
# Run through `make demo` (which installs packages and builds first). It works in a fresh
# temporary git repository and leaves your checkout untouched; DEMO_DIR=path keeps it there.
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
FERRY=${FERRY:-$src/build/ferry}
[ -x "$FERRY" ] || { echo "demo: $FERRY is not built; run 'make demo'" >&2; exit 1; }
ferry() { "$FERRY" "$@"; }
if [ -n "${DEMO_DIR:-}" ]; then
	rm -rf "$DEMO_DIR"
	mkdir -p "$DEMO_DIR"
	work=$(cd "$DEMO_DIR" && pwd)
else
	work=$(mktemp -d "${TMPDIR:-/tmp}/ferry-demo-XXXXXX")
	trap 'rm -rf "$work"' EXIT
fi

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
show() { printf '$ %s\n' "$*"; "$@"; }

step "ferry and the libraries it links"
show ferry version

step "a project: a git repository with data in it"
cd "$work"
git init -q -b main churn-project
cd churn-project
git config user.email demo@example.com
git config user.name "ferry demo"
mkdir -p data/v1
cp "$src/examples/data/drift/reference.csv" data/v1/train.csv   # churn rows 1-3000
echo "# churn model" >README.md
git add README.md && git commit -qm "start"
show ls -l data/v1

step "ferry init makes it a ferry project"
show ferry init
show cat .ferry/config.yaml
git add .ferry && git commit -qm "ferry init"

step "version the training data: content into the cache, a pointer file into git"
show ferry data add data/v1/train.csv
show cat data/v1/train.csv.ferry
printf '$ sha256sum data/v1/train.csv   # the digest anyone can check\n'
sha256sum data/v1/train.csv
show git status --short
git add data && git commit -qm "training data v1"

step "status: unchanged data is not re-read (stat cache); edits are noticed"
show ferry data status
echo "999,test,row" >>data/v1/train.csv
show ferry data status
show ferry data checkout --force data/v1/train.csv
show ferry data status

step "push to a remote; a fresh clone pulls the exact bytes"
show ferry remote add origin "$work/remote-store"
git add .ferry/config.yaml && git commit -qm "data remote"
show ferry data push
cd "$work"
git clone -q churn-project clone
cd clone
show ferry data status
show ferry data pull
show ferry data verify
printf '$ cmp data/v1/train.csv ../churn-project/data/v1/train.csv && echo identical\n'
cmp data/v1/train.csv ../churn-project/data/v1/train.csv && echo identical
cd ../churn-project

step "which data was this? the versions in git history, and the store's record"
show ferry data log data/v1/train.csv
show ferry store info

step "train from the versioned data: logistic regression, then XGBoost, each registered"
show ferry train --data data/v1/train.csv --target churn --out models/churn-logreg \
	--register churn
show ferry train --data data/v1/train.csv --target churn --model xgboost \
	--param max_depth=6 --param eta=0.3 --out models/churn-xgb --register churn
show ls -l models/churn-xgb
printf '$ jq {format_version, task, digest, data: .data.digest} models/churn-xgb/model.json\n'
jq '{format_version, task, digest, data: .data.digest}' models/churn-xgb/model.json

step "each training was recorded as a run: params, metrics, data version, model digest"
show ferry runs list
printf '$ ferry runs compare <logreg run> <xgboost run>\n'
ids=$(ferry runs list --json | jq -r '.[1].run_id, .[0].run_id')
# shellcheck disable=SC2086
ferry runs compare $ids | grep -E '^\*|^  +[a-z]' | head -20

step "ferry server speaks MLflow's REST API: existing clients and curl work unchanged"
# "$FERRY", not the ferry function: $! must be the server itself, not a subshell
: >"$work/server.out"
"$FERRY" server --port 0 >"$work/server.out" 2>&1 &
server_pid=$!
for _ in $(seq 50); do
	url=$(sed -n 's/^listening on //p' "$work/server.out" 2>/dev/null) || true
	[ -n "$url" ] && break
	sleep 0.1
done
echo "$ ferry server --port 0 &      # $url"
printf '$ curl -s -X POST %s/api/2.0/mlflow/runs/search -d '"'"'{"experiment_ids": ["0"], "filter": "params.model = '"'"'"'"'"'xgboost'"'"'"'"'"'"}'"'"'\n' "$url"
curl -s -X POST -H 'Content-Type: application/json' "$url/api/2.0/mlflow/runs/search" \
	-d '{"experiment_ids": ["0"], "filter": "params.model = '"'"'xgboost'"'"'", "order_by": ["metrics.f1 DESC"]}' |
	jq -c '.runs[] | {run: .info.run_name, status: .info.status, f1: (.data.metrics[] | select(.key == "f1") | .value)}'
kill -TERM "$server_pid"
wait "$server_pid" || true

step "the same data, parameters and seed give the same model digest"
printf '$ ferry train --data data/v1/train.csv --target churn --out models/again --json | jq -r .artifact_digest\n'
ferry train --data data/v1/train.csv --target churn --out models/again -q --json | jq -r .artifact_digest
show jq -r .digest models/churn-logreg/model.json
rm -rf models/again

step "the registry: promote through a gate, scored on held-out labelled data"
cp "$src/examples/data/drift/batch_01_nodrift.csv" data/batch_01.csv
show ferry models list
show ferry models promote churn 1 --to production --gate "f1 >= champion" --data data/batch_01.csv
show ferry models promote churn 2 --to production --gate "f1 >= champion and auc >= 0.8" \
	--data data/batch_01.csv

step "which dataset gave us that F1? the lineage of what is in production"
show ferry models lineage churn@production

step "a worse challenger is refused by the gate; nothing changes"
show ferry train -q --data data/v1/train.csv --target churn --param C=0.0001 --param max_iter=5 \
	--out models/churn-weak --register churn
printf '$ ferry models promote churn 3 --to production --gate "f1 >= champion" --data data/batch_01.csv\n'
ferry models promote churn 3 --to production --gate "f1 >= champion" --data data/batch_01.csv ||
	echo "(exit $?)"
show ferry models show churn@production

step "roll back production to the previous version, atomically; every move is in the history"
show ferry models rollback churn --reason "demo: back to logreg"
show ferry models history churn

step "score with a registered version: models:/NAME@ALIAS works wherever a model is named"
show ferry eval models:/churn@production --data data/batch_01.csv
show ferry predict models:/churn/2 --data data/batch_01.csv --id state --out predictions.csv
show head -4 predictions.csv

step "serve production: one server, three protocols, every prediction logged"
: >"$work/serve.out"
"$FERRY" serve models:/churn@production --port 0 --poll-ms 300 >"$work/serve.out" 2>"$work/serve.err" &
serve_pid=$!
for _ in $(seq 100); do
	surl=$(sed -n 's/^listening on //p' "$work/serve.out" 2>/dev/null) || true
	[ -n "$surl" ] && break
	sleep 0.1
done
echo "$ ferry serve models:/churn@production --port 0 &      # $surl"
row='{"dataframe_split": {"columns": ["state", "account_length", "area_code", "international_plan", "voice_mail_plan", "number_vmail_messages", "total_day_minutes", "total_day_calls", "total_day_charge", "total_eve_minutes", "total_eve_calls", "total_eve_charge", "total_night_minutes", "total_night_calls", "total_night_charge", "total_intl_minutes", "total_intl_calls", "total_intl_charge", "number_customer_service_calls"], "data": [["KS", 128, "area_code_415", "no", "yes", 25, 265.1, 110, 45.07, 197.4, 99, 16.78, 244.7, 91, 11.01, 10.0, 3, 2.7, 1]]}}'
printf '$ curl -X POST %s/invocations -d '"'"'{"dataframe_split": ...}'"'"'     # MLflow\n' "$surl"
curl -s -X POST -H 'Content-Type: application/json' "$surl/invocations?predict_proba=true" -d "$row"
echo
oip=$(printf '%s' "$row" | jq -c '.dataframe_split as $d | {id: "demo-1", inputs: [range($d.columns | length) as $i | {name: $d.columns[$i], shape: [1], datatype: (if ($d.data[0][$i] | type) == "string" then "BYTES" else "FP64" end), data: [$d.data[0][$i]]}]}')
printf '$ curl -X POST %s/v2/models/churn/infer -d '"'"'{"inputs": [...]}'"'"'     # Open Inference Protocol v2\n' "$surl"
curl -s -X POST -H 'Content-Type: application/json' "$surl/v2/models/churn/infer" -d "$oip" | jq -c '{model_name, model_version, id, outputs: [.outputs[] | {name, data}]}'
kserve=$(printf '%s' "$row" | jq -c '.dataframe_split as $d | {instances: [[range($d.columns | length) as $i | {key: $d.columns[$i], value: $d.data[0][$i]}] | from_entries]}')
printf '$ curl -X POST %s/v1/models/churn:predict -d '"'"'{"instances": [...]}'"'"'     # KServe v1\n' "$surl"
curl -s -X POST -H 'Content-Type: application/json' "$surl/v1/models/churn:predict" -d "$kserve"
echo

step "promote while clients keep predicting: the server follows the alias, no request fails"
printf '%s' "$oip" >"$work/oip.json"
python3 - "$surl" "$work/oip.json" "$work/stop-load" <<'PY' &
import http.client, os, sys, threading, time, urllib.parse
u = urllib.parse.urlparse(sys.argv[1]); body = open(sys.argv[2], "rb").read()
deadline = time.time() + 60  # bounded: stops when told to, or after a minute
res = {"ok": 0, "failed": 0, "versions": set()}; lock = threading.Lock()
def client():
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    while not os.path.exists(sys.argv[3]) and time.time() < deadline:
        c.request("POST", "/v2/models/churn/infer", body=body, headers={"Content-Type": "application/json"})
        r = c.getresponse(); data = r.read()
        with lock:
            if not res["ok"]:
                open(sys.argv[3] + ".running", "w").close()
            res["ok" if r.status == 200 else "failed"] += 1
            if r.status == 200:
                import json; res["versions"].add(json.loads(data)["model_version"])
ts = [threading.Thread(target=client) for _ in range(4)]; [t.start() for t in ts]; [t.join() for t in ts]
print("load: %d requests answered, %d failed, versions seen: %s" % (res["ok"], res["failed"], ", ".join(sorted(res["versions"]))))
PY
load_pid=$!
for _ in $(seq 100); do [ -e "$work/stop-load.running" ] && break; sleep 0.1; done
sleep 0.5
show ferry models promote churn 2 --to production --gate "f1 >= champion" --data data/batch_01.csv
sleep 1
touch "$work/stop-load"
wait "$load_pid"
grep 'swapped' "$work/serve.err" || true

step "Prometheus metrics, and the inference log monitoring will read"
printf '$ curl %s/metrics | grep -E "^ferry_(model_info|http_requests_total|predictions_total)"\n' "$surl"
curl -s "$surl/metrics" | grep -E '^ferry_(model_info|http_requests_total|predictions_total)'
printf '$ cut -f1 .ferry/inference/churn/00000001.log | sed -n 2p | jq -c .\n'
sleep 0.5 # the log is flushed every 200 ms
cut -f1 .ferry/inference/churn/00000001.log | sed -n 2p | jq -c '{type, request_id, model, version, latency_us, output}'

step "drift: the next two months of data against what production was trained on"
cp "$src/examples/data/drift/batch_02_drift.csv" data/batch_02.csv
show ferry monitor report --reference models:/churn@production --current data/batch_01.csv
printf '$ ferry monitor report --reference models:/churn@production --current data/batch_02.csv --html drift-report.html\n'
ferry monitor report --reference models:/churn@production --current data/batch_02.csv \
	--html drift-report.html || echo "(exit $?: drift detected; CI and cron can act on it)"
printf '$ ls -l drift-report.html   # one self-contained file: inline SVG, no scripts, readable offline\n'
ls -l drift-report.html | awk '{print $5, $9}'

step "production with delayed labels: replay both batches, labels to /feedback, monitor each window"
printf 'alerts:\n  - name: quality\n    when: f1 < 0.7 for 1 window\n  - name: data-drift\n    when: drift_share >= 0.5\n' >monitor.yaml
show cat monitor.yaml
printf '$ scripts/replay.py %s data/batch_01.csv jan\n' "$surl"
python3 "$src/scripts/replay.py" "$surl" data/batch_01.csv jan
sleep 1 # the server writes its inference log every 200 ms
show ferry monitor run models:/churn@production --window 1000
printf '$ scripts/replay.py %s data/batch_02.csv feb\n' "$surl"
python3 "$src/scripts/replay.py" "$surl" data/batch_02.csv feb
sleep 1
printf '$ ferry monitor run models:/churn@production --window 1000\n'
ferry monitor run models:/churn@production --window 1000 || echo "(exit $?: an alert is firing)"
show ferry monitor history churn
printf '$ curl %s/metrics | grep -E "^ferry_live_(quality|labelled)"   # the same, live, for Grafana\n' "$surl"
curl -s "$surl/metrics" | grep -E '^ferry_live_(quality|labelled)' 
kill -TERM "$serve_pid"
wait "$serve_pid" || true

step "reproduce a registered version from its recorded data version and parameters"
show ferry models reproduce churn/2

step "mistakes get clear messages"
printf '$ ferry data add ../elsewhere.csv\n'
ferry data add ../elsewhere.csv || echo "(exit $?)"
printf '$ ferry stor info\n'
ferry stor info || echo "(exit $?)"
printf '$ ferry train --data data/v1/train.csv --target chrun --out models/x\n'
ferry train --data data/v1/train.csv --target chrun --out models/x || echo "(exit $?)"

# The loop the whole product exists for, narrated in its own fresh project.
if [ -n "${DEMO_DIR:-}" ]; then
	DEMO_DIR="$work/retrain-loop" FERRY="$FERRY" bash "$src/examples/retrain-loop.sh"
else
	(unset DEMO_DIR; FERRY="$FERRY" bash "$src/examples/retrain-loop.sh")
fi

echo
echo "demo: done (workspace: $work${DEMO_DIR:+, kept})"
