#!/usr/bin/env bash
# Inside a project, the training data's profile is stored with its data version in the metadata
# store (the drift reference), by `ferry train` and by `ferry data profile`.
. "$(dirname "$0")/lib.sh"

new_project p
cd p
mkdir -p data/v1
cp "$FERRY_SOURCE/examples/data/iris.csv" data/v1/train.csv
run "$FERRY" data add data/v1/train.csv
expect_status 0
digest="sha256:$(sha256 data/v1/train.csv)"
db=.ferry/ferry.db
expect_eq "$(sqlite3 "$db" "SELECT count(*) FROM datasets WHERE digest = '$digest' AND profile_json IS NULL")" 1 "unprofiled version"

run "$FERRY" train --data data/v1/train.csv --target target --out models/iris
expect_status 0
sqlite3 "$db" "SELECT profile_json FROM datasets WHERE digest = '$digest'" >stored.json
jq -e --slurpfile m models/iris/model.json '. == $m[0].data.profile' stored.json >/dev/null ||
	fail "the stored profile is not the model's data profile"
expect_eq "$(jq '.rows' stored.json)" 150 "profile rows"
ok "train stores the training data's profile with its data version"

echo "7.0,3.0,5.0,1.5,1" >>data/v1/train.csv
run "$FERRY" data add data/v1/train.csv
digest2="sha256:$(sha256 data/v1/train.csv)"
run "$FERRY" data profile data/v1/train.csv
expect_status 0
expect_out_contains "stored in the project store with data version $digest2"
expect_eq "$(sqlite3 "$db" "SELECT json_extract(profile_json, '\$.rows') FROM datasets WHERE digest = '$digest2'")" 151 "profile of v2"
expect_eq "$(sqlite3 "$db" "SELECT json_extract(profile_json, '\$.rows') FROM datasets WHERE digest = '$digest'")" 150 "profile of v1 kept"
ok "data profile stores the profile with the version it read; other versions keep theirs"

# every training in a project is a run: params, metrics, the data version as input, the model
git add -A >/dev/null && git commit -qm "data" >/dev/null
head=$(git rev-parse HEAD)
run "$FERRY" train --data data/v1/train.csv --target target --out models/cv --cv 3 --experiment iris --run-name cv3
expect_status 0
run_id=$(printf '%s\n' "$OUT" | sed -n 's/^run_id=//p')
[ ${#run_id} -eq 32 ] || fail "no run_id line"
q() { sqlite3 "$db" "$1"; }
expect_eq "$(q "SELECT r.name || '|' || r.status || '|' || e.name || '|' || r.source_git_commit FROM runs r JOIN experiments e USING (experiment_id) WHERE run_id = '$run_id'")" "cv3|FINISHED|iris|$head" "run row"
expect_eq "$(q "SELECT value FROM params WHERE run_id = '$run_id' AND key = 'cv'")" 3 "param cv"
expect_eq "$(q "SELECT value FROM params WHERE run_id = '$run_id' AND key = 'model'")" logreg "param model"
want=$(jq '.evaluation.metrics.f1' models/cv/model.json)
got=$(q "SELECT value FROM latest_metrics WHERE run_id = '$run_id' AND key = 'f1'")
python3 -c "import sys; a, b = map(float, sys.argv[1:]); sys.exit(abs(a - b) > 1e-12 * abs(b))" "$got" "$want" ||
	fail "metric f1 $got != model.json's $want"
expect_eq "$(q "SELECT count(*) FROM latest_metrics WHERE run_id = '$run_id' AND key = 'f1_sd'")" 1 "f1_sd"
expect_eq "$(q "SELECT d.digest || '|' || i.context FROM run_inputs i JOIN datasets d USING (dataset_id) WHERE i.run_id = '$run_id'")" "$digest2|training" "input"
expect_eq "$(q "SELECT value FROM run_tags WHERE run_id = '$run_id' AND key = 'ferry.model.digest'")" "$(jq -r .digest models/cv/model.json)" "model digest tag"
expect_eq "$(q "SELECT value FROM run_tags WHERE run_id = '$run_id' AND key = 'ferry.env.ferry'")" "$("$FERRY" version --json | jq -r .ferry)" "environment"
ok "train records a run: experiment, git commit, params, metrics (with CV sd), data input, model digest, environment"

printf 'a,y\n1,x\n2,x\n' >one.csv
run "$FERRY" train --data one.csv --target y --out models/bad --run-name doomed
expect_status 1
expect_eq "$(q "SELECT status FROM runs WHERE name = 'doomed'")" FAILED "failed run status"
ok "a training that fails is recorded as a FAILED run"

run "$FERRY" train --data data/v1/train.csv --target target --out models/xgb --model xgboost --experiment iris --run-name xgb
expect_status 0
run "$FERRY" runs list --experiment iris --json
expect_status 0
expect_eq "$(printf '%s' "$OUT" | jq -r 'map(.name) | join(",")')" "xgb,cv3" "runs of iris, newest first"
run "$FERRY" runs show cv3 --json
expect_eq "$(printf '%s' "$OUT" | jq -r '.params.test_size // "absent", .params.cv, .status' | tr '\n' ' ')" "absent 3 FINISHED " "show"
run "$FERRY" runs compare cv3 xgb --json
expect_status 0
expect_eq "$(printf '%s' "$OUT" | jq -c '.rows[] | select(.key == "model") | [.values, .differ]')" '[["logreg","xgboost"],true]' "model row"
expect_eq "$(printf '%s' "$OUT" | jq -c '.rows[] | select(.key == "seed") | [.values, .differ]')" '[["42","42"],false]' "seed row"
run "$FERRY" runs compare cv3 xgb
expect_out_contains "* params.model"
run "$FERRY" runs search "params.model = 'xgboost' and metrics.accuracy > 0.5" --json
expect_status 0
expect_eq "$(printf '%s' "$OUT" | jq -r 'map(.name) | join(",")')" "xgb" "search by param and metric"
run "$FERRY" runs search --experiment iris --order-by "metrics.f1 ASC" --json
f1s=$(printf '%s' "$OUT" | jq -r 'map(.metrics.f1) | @csv')
python3 -c "import sys; v = [float(x) for x in sys.argv[1].split(',')]; sys.exit(v != sorted(v) or len(v) != 2)" "$f1s" ||
	fail "runs not ordered by f1: $f1s"
run "$FERRY" runs search "metrics.f1 >> 1"
expect_status 1
expect_err_contains "Invalid comparator '>>'"
ok "runs search filters with MLflow's grammar and orders by a metric"

FERRY_RUN_ID=$run_id run "$FERRY" log metric late 0.25 --step 7
expect_status 0
expect_eq "$(q "SELECT value || '|' || step FROM metrics WHERE run_id = '$run_id' AND key = 'late'")" "0.25|7" "logged metric"
FERRY_RUN_ID=$run_id run "$FERRY" log param cv 4
expect_status 1
expect_err_contains "cv"
run "$FERRY" log tag team ml
expect_status 2
ok "runs list/show/compare read the runs back; log writes into \$FERRY_RUN_ID's run, params stay write-once"

cd "$TEST_TMP"
run "$FERRY" data profile "$FERRY_SOURCE/examples/data/iris.csv"
expect_status 0
grep -q "stored in" .out && fail "outside a project nothing can be stored"
ok "outside a project, profile and train store nothing and need nothing"

done_testing
