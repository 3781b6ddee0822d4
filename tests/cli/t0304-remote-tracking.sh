#!/usr/bin/env bash
# FERRY_TRACKING_URI=http://HOST:PORT: train, run, log and runs list/show/search/compare record
# and read runs on a remote `ferry server` (the server's store holds exactly those rows), while
# data commands keep the project's own store; a server that is down is a clear error.
. "$(dirname "$0")/lib.sh"


mkdir srv
(cd srv && "$FERRY" init -q >/dev/null)
start_ferry_server srv
sq() { sqlite3 "$TEST_TMP/srv/.ferry/ferry.db" "$1"; }
lq() { sqlite3 .ferry/ferry.db "$1"; }

new_project p
cd p
mkdir -p data
cp "$FERRY_SOURCE/examples/data/iris.csv" data/train.csv
git add -A >/dev/null && git commit -qm data >/dev/null
head=$(git rev-parse HEAD)
export FERRY FERRY_TRACKING_URI=$URL

run "$FERRY" train --data data/train.csv --target target --out models/iris --experiment remote --run-name r1
expect_status 0
run_id=$(printf '%s\n' "$OUT" | sed -n 's/^run_id=//p')
[ ${#run_id} -eq 32 ] || fail "no run_id line"
expect_eq "$(sq "SELECT r.name || '|' || r.status || '|' || e.name FROM runs r JOIN experiments e USING (experiment_id) WHERE run_id = '$run_id'")" "r1|FINISHED|remote" "run row on the server"
expect_eq "$(sq "SELECT value FROM params WHERE run_id = '$run_id' AND key = 'model'")" logreg "param model"
want=$(jq '.evaluation.metrics.f1' models/iris/model.json)
got=$(sq "SELECT value FROM latest_metrics WHERE run_id = '$run_id' AND key = 'f1'")
python3 -c "import sys; a, b = map(float, sys.argv[1:]); sys.exit(abs(a - b) > 1e-12 * abs(b))" "$got" "$want" ||
	fail "metric f1 $got != model.json's $want"
expect_eq "$(sq "SELECT d.digest || '|' || i.context FROM run_inputs i JOIN datasets d USING (dataset_id) WHERE i.run_id = '$run_id'")" "sha256:$(sha256 data/train.csv)|training" "input"
expect_eq "$(sq "SELECT value FROM run_tags WHERE run_id = '$run_id' AND key = 'ferry.model.digest'")" "$(jq -r .digest models/iris/model.json)" "model digest tag"
expect_eq "$(sq "SELECT value FROM run_tags WHERE run_id = '$run_id' AND key = 'mlflow.source.git.commit'")" "$head" "git commit tag"
sq "SELECT value FROM run_tags WHERE run_id = '$run_id' AND key = 'ferry.command'" | grep -q "^ferry train --data data/train.csv" ||
	fail "no ferry.command tag"
expect_eq "$(lq "SELECT count(*) FROM runs")" 0 "runs in the local store"
ok "train records its run on the tracking server: params, metrics, data input, tags, git commit"

run "$FERRY" run --experiment remote --name job -- sh -c '"$FERRY" log metric m 1 --step 2 && "$FERRY" log param p x && "$FERRY" log tag t y'
expect_status 0
job=$(sq "SELECT run_id FROM runs WHERE name = 'job'")
[ ${#job} -eq 32 ] || fail "no run 'job' on the server"
expect_eq "$(sq "SELECT status FROM runs WHERE run_id = '$job'")" FINISHED "status"
expect_eq "$(sq "SELECT value || '@' || step FROM latest_metrics WHERE run_id = '$job' AND key = 'm'")" "1.0@2" "metric m"
expect_eq "$(sq "SELECT value FROM params WHERE run_id = '$job' AND key = 'p'")" x "param p"
expect_eq "$(sq "SELECT value FROM run_tags WHERE run_id = '$job' AND key = 't'")" y "tag t"
expect_eq "$(lq "SELECT count(*) FROM runs")" 0 "runs in the local store"
ok "ferry run -- sh -c 'ferry log ...' logs into the server's run"

run "$FERRY" runs list --json
expect_status 0
expect_eq "$(printf '%s' "$OUT" | jq -r 'map(.name) | join(",")')" "job,r1" "runs list, newest first"
run "$FERRY" runs list
expect_status 0
expect_out_contains "${job:0:8}"
run "$FERRY" runs show r1 --json
expect_status 0
expect_eq "$(printf '%s' "$OUT" | jq -r '[.run_id, .status, .params.model, .inputs[0].context, .git_commit, .experiment_id] | join(" ")')" "$run_id FINISHED logreg training $head 1" "runs show"
run "$FERRY" runs show "${run_id:0:10}"
expect_status 0
expect_out_contains "ferry.model.digest"
run "$FERRY" runs search "metrics.m = 1 and params.p = 'x'" --json
expect_status 0
expect_eq "$(printf '%s' "$OUT" | jq -r 'map(.name) | join(",")')" "job" "search"
run "$FERRY" runs search --experiment remote --order-by "attributes.start_time ASC" --json
expect_eq "$(printf '%s' "$OUT" | jq -r 'map(.name) | join(",")')" "r1,job" "search ordered"
run "$FERRY" runs compare r1 job --json
expect_status 0
expect_eq "$(printf '%s' "$OUT" | jq -c '[.runs[0], .runs[1]]')" "[\"$run_id\",\"$job\"]" "compare runs"
expect_eq "$(printf '%s' "$OUT" | jq -c '.rows[] | select(.key == "p") | .values')" '[null,"x"]' "compare row p"
run "$FERRY" runs search "metrics.f1 >> 1"
expect_status 1
expect_err_contains "Invalid comparator '>>'"
ok "runs list/show/search/compare read the server's runs; the server's filter errors come back"

expect_eq "$(sq "SELECT count(*) FROM runs")" 2 "runs on the server"
expect_eq "$(sq "SELECT group_concat(name, ',') FROM (SELECT name FROM experiments ORDER BY experiment_id)")" "Default,remote" "experiments on the server"
expect_eq "$(sq "SELECT count(*) FROM datasets")" 1 "datasets on the server"
ok "the server's store holds exactly those rows"

FERRY_RUN_ID=$run_id run "$FERRY" log param model xgboost
expect_status 1
expect_err_contains "Changing param values is not allowed"
FERRY_RUN_ID=$run_id run "$FERRY" log param model logreg
expect_status 0
FERRY_RUN_ID=0123456789abcdef0123456789abcdef run "$FERRY" log metric m 1
expect_status 1
expect_err_contains "Run with id=0123456789abcdef0123456789abcdef not found"
run "$FERRY" runs list --experiment nope
expect_status 1
expect_err_contains "nope"
ok "params stay write-once on the server; missing runs and experiments are errors"

run "$FERRY" data add data/train.csv
expect_status 0
expect_eq "$(lq "SELECT count(*) FROM datasets WHERE digest = 'sha256:$(sha256 data/train.csv)'")" 1 "local data version"
expect_eq "$(sq "SELECT count(*) FROM stat_cache")" 0 "server stat cache"
ok "data commands keep using the project's store"

mkdir "$TEST_TMP/outside"
cd "$TEST_TMP/outside"
run "$FERRY" runs list --json
expect_status 0
expect_eq "$(printf '%s' "$OUT" | jq length)" 2 "runs outside a project"
run "$FERRY" train --data "$FERRY_SOURCE/examples/data/iris.csv" --target target --out m --run-name far
expect_status 0
expect_eq "$(sq "SELECT status FROM runs WHERE name = 'far'")" FINISHED "run from outside a project"
ok "outside a project, runs are read and trainings recorded on the server"

cd "$TEST_TMP/p"
FERRY_TRACKING_URI=localhost:5000 run "$FERRY" runs list
expect_status 1
expect_err_contains "FERRY_TRACKING_URI='localhost:5000'"
stop_ferry_server
run "$FERRY" runs list
expect_status 1
expect_err_contains "$URL"
run "$FERRY" train --data data/train.csv --target target --out models/down
expect_status 1
expect_err_contains "cannot reach the tracking server $URL"
[ ! -e models/down ] || fail "a training that could not start its run wrote a model"
ok "a server that is down: the error names its uri, exit 1"

done_testing
