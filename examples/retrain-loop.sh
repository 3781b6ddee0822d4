#!/usr/bin/env bash
# The self-retraining loop, narrated: a champion serves, monitoring sees drift and a quality drop,
# `ferry retrain` trains a challenger on the new data version, the gate compares both on held-out
# rows of the new distribution, the challenger is promoted, the server swaps to it by itself, and
# rollback brings the old champion back. Standalone (scripts/demo.sh calls it at its end): it
# works in a fresh temporary project and leaves your checkout untouched; DEMO_DIR=path keeps it.
# Needs: a built ferry ($FERRY, default build/ferry), python3, curl, jq, git.
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
FERRY=${FERRY:-$src/build/ferry}
[ -x "$FERRY" ] || { echo "retrain-loop: $FERRY is not built" >&2; exit 1; }
ferry() { "$FERRY" "$@"; }
if [ -n "${DEMO_DIR:-}" ]; then
	rm -rf "$DEMO_DIR"
	mkdir -p "$DEMO_DIR"
	work=$(cd "$DEMO_DIR" && pwd)
else
	work=$(mktemp -d "${TMPDIR:-/tmp}/ferry-retrain-XXXXXX")
fi
server=
finish() {
	[ -z "$server" ] || { kill -TERM "$server" 2>/dev/null && wait "$server" 2>/dev/null || true; }
	[ -n "${DEMO_DIR:-}" ] || rm -rf "$work"
}
trap finish EXIT

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
say() { printf '   %s\n' "$*"; }
show() { printf '$ %s\n' "$*"; "$@"; }
data="$src/examples/data/drift"

step "the loop starts with a champion: trained on reference.csv (churn rows 1-3000), serving"
cd "$work"
git init -q -b main loop
cd loop
git config user.email demo@example.com
git config user.name "ferry demo"
ferry init -q
mkdir -p data
cp "$data/reference.csv" data/train.csv
# held-out rows of the new distribution: the last 300 of batch_02, never trained on
{ head -1 "$data/batch_02_drift.csv"; tail -n +2 "$data/batch_02_drift.csv" | tail -n 300; } >data/holdout.csv
show ferry data add data/train.csv
show ferry train -q --data data/train.csv --target churn --model xgboost --param n_estimators=20 \
	--out models/v1 --register churn
show ferry models alias churn production 1

step "the retraining policy lives in ferry.yaml, next to the pipeline"
cat >ferry.yaml <<'EOF'
retrain:
  churn:
    alias: production
    triggers:
      - name: drift            # monitoring: share of drifted columns
        when: drift_share >= 0.2
      - name: quality          # monitoring: live F1 from the labels sent to /feedback
        when: f1 < 0.6
      - name: new-data         # the training data is not the champion's data version
        new_data: true
    train:                     # the challenger: what `ferry train` takes
      data: data/train.csv
      target: churn
      model: xgboost
      params: {n_estimators: 20}
    gate: f1 >= champion + 0.05
    holdout: data/holdout.csv
    cooldown: 0s
EOF
show cat ferry.yaml

step "serve the alias: the server follows it (hot swap) and logs every prediction"
# "$FERRY", not the ferry function: $! must be the server itself, not a subshell
: >serve.out
"$FERRY" serve models:/churn@production --port 0 --poll-ms 200 >serve.out 2>serve.err &
server=$!
for _ in $(seq 100); do
	url=$(sed -n 's/^listening on //p' serve.out 2>/dev/null) || true
	[ -n "$url" ] && break
	sleep 0.1
done
[ -n "$url" ] || { cat serve.err >&2; exit 1; }
say "ferry serve models:/churn@production  ->  $url"

# replay FILE: every row as a scoring request, then the true labels to /feedback
replay() {
	python3 "$src/scripts/replay.py" "$url" "$1" "$(basename "$1" .csv)" 10 | sed 's/^/   /'
}
# wait_logged N M: the server's log holds N predictions and M feedback records
wait_logged() {
	for _ in $(seq 300); do
		n=$(cat .ferry/inference/churn/*.log 2>/dev/null | cut -f1 | grep -c '"type":"prediction"' || true)
		m=$(cat .ferry/inference/churn/*.log 2>/dev/null | cut -f1 | grep -c '"type":"feedback"' || true)
		[ "$n" -ge "$1" ] && [ "$m" -ge "$2" ] && return 0
		sleep 0.1
	done
	echo "the inference log did not catch up" >&2
	exit 1
}
served_version() {
	python3 - "$data/batch_02_drift.csv" <<'EOF' >one.json
import csv, json, sys
r = next(csv.DictReader(open(sys.argv[1]))); del r["churn"]
def val(v):
    try:
        return float(v)
    except ValueError:
        return v
print(json.dumps({"inputs": [{"name": c, "shape": [1], "datatype": "FP64" if isinstance(val(v), float) else "BYTES", "data": [val(v)]} for c, v in r.items()]}))
EOF
	curl -s -X POST -H 'Content-Type: application/json' --data-binary @one.json \
		"$url/v2/models/churn/infer" | jq -r '.model_version'
}

step "week 1: batch_01 (no drift) is served, labels come back, monitoring runs"
replay "$data/batch_01_nodrift.csv"
wait_logged 1000 100
show ferry monitor run models:/churn@production --window 1000
say "ferry retrain checks its triggers against that result: nothing fires, nothing runs"
show ferry retrain churn

step "week 2: batch_02 (total_day_minutes x1.3, more international plans) is served"
replay "$data/batch_02_drift.csv"
wait_logged 2000 200
show ferry monitor run models:/churn@production --window 1000 || true
say "drift and quality fire now; --dry-run shows what retraining would do, changing nothing"
show ferry retrain churn --dry-run

step "the new rows are labelled: the training data gets a new version (reference + 700 rows of batch_02)"
{ cat "$data/reference.csv"; sed -n 2,701p "$data/batch_02_drift.csv"; } >data/train.csv
show ferry data add data/train.csv

step "ferry retrain: challenger trained, both scored on the same held-out rows, gate, promotion"
say "the server answers with version $(served_version) before"
show ferry retrain churn
for _ in $(seq 300); do [ "$(served_version)" = 2 ] && break; sleep 0.1; done
say "the server answers with version $(served_version) now: it swapped by itself, no restart"

step "the same drift does not retrain twice: it was measured on the old champion"
show ferry retrain churn

step "every step is recorded: the model history holds the decision and its evidence"
show ferry models history churn
printf '$ ferry models history churn --json | jq (the evidence of the promotion)\n'
ferry models history churn --json |
	jq '.[] | .reason // "" | select(startswith("retrain: ")) | split(" evidence=")[1] | fromjson
	    | {decision, champion, challenger, triggers: [.triggers[] | {name, fired, detail}],
	       gate_report, challenger_f1: .challenger_metrics.f1, champion_f1: .champion_metrics.f1}'
say "and the challenger's training is a tracked run, in experiment 'retrain':"
show ferry runs list --experiment retrain

step "a bad promotion? ferry models rollback restores the old champion; the server follows"
show ferry models rollback churn --alias production --reason "demo: roll back"
for _ in $(seq 300); do [ "$(served_version)" = 1 ] && break; sleep 0.1; done
say "the server answers with version $(served_version) again"
say "in production, 'ferry retrain --watch' repeats the check on an interval (SIGTERM stops it)"
