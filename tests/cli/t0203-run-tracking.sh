#!/usr/bin/env bash
# ferry run -- CMD: the run's environment, params from params.yaml, metrics from the command
# (ferry log) and from a metrics file, captured output, end status and exit code by how the
# command ended (FINISHED, FAILED, KILLED with the signal passed on).
. "$(dirname "$0")/lib.sh"

new_project p
cd p
db=.ferry/ferry.db
q() { sqlite3 "$db" "$1"; }
printf 'train:\n  C: 0.5\n  model: logreg\nseed: 7\n' >params.yaml
cat >job.sh <<'SH'
#!/bin/sh
echo "run=$FERRY_RUN_ID mlflow=$MLFLOW_RUN_ID"
echo "to stderr" >&2
"$FERRY" log metric loss 0.25 --step 3
echo '{"f1": 0.91, "eval": {"auc": 0.95}}' >metrics.json
exit "${1:-0}"
SH
chmod +x job.sh
export FERRY

run "$FERRY" run --experiment jobs --name ok --metrics metrics.json -- ./job.sh
expect_status 0
id=$(q "SELECT run_id FROM runs WHERE name = 'ok'")
expect_out_contains "run=$id mlflow=$id"
expect_err_contains "to stderr"
expect_eq "$(q "SELECT status FROM runs WHERE run_id = '$id'")" FINISHED "status"
expect_eq "$(q "SELECT group_concat(key || '=' || value, ',') FROM (SELECT key, value FROM params WHERE run_id = '$id' ORDER BY key)")" "seed=7,train.C=0.5,train.model=logreg" "params"
expect_eq "$(q "SELECT group_concat(key || '=' || value || '@' || step, ',') FROM (SELECT * FROM latest_metrics WHERE run_id = '$id' ORDER BY key)")" "eval.auc=0.95@0,f1=0.91@0,loss=0.25@3" "metrics"
expect_eq "$(q "SELECT e.name FROM runs JOIN experiments e USING (experiment_id) WHERE run_id = '$id'")" jobs "experiment"
log=$(q "SELECT value FROM run_tags WHERE run_id = '$id' AND key = 'ferry.output.path'")
grep -qx "run=$id mlflow=$id" "$log" && grep -qx "to stderr" "$log" || fail "output not captured in $log"
ok "a run gets its id in the environment, params from params.yaml, metrics from ferry log and the file, its output"

run "$FERRY" run --name bad -- ./job.sh 3
expect_status 3
expect_eq "$(q "SELECT status FROM runs WHERE name = 'bad'")" FAILED "status"
run "$FERRY" run --name missing -- ./no-such-command
expect_status 1
expect_eq "$(q "SELECT status FROM runs WHERE name = 'missing'")" FAILED "status"
ok "a failing command makes a FAILED run and ferry run exits with its code"

"$FERRY" run --name sleeper -- sleep 30 >/dev/null 2>&1 </dev/null &
pid=$!
for _ in $(seq 50); do
	[ "$(q "SELECT count(*) FROM runs WHERE name = 'sleeper'")" = 1 ] && break
	sleep 0.1
done
sleep 0.3
kill -TERM "$pid"
set +e
wait "$pid"
status=$?
set -e
expect_eq "$status" 143 "exit status after SIGTERM"
expect_eq "$(q "SELECT status FROM runs WHERE name = 'sleeper'")" KILLED "status"
ok "SIGTERM is passed on: ferry run waits for the command to end; the run is KILLED"

run "$FERRY" run
expect_status 2
done_testing
