#!/usr/bin/env bash
# The model registry from the command line: register (from a run, from a directory, from
# train --register), list, show, aliases with history and rollback, lineage back to the data
# version and its git history, model URIs in eval/predict, and delete refusals.
. "$(dirname "$0")/lib.sh"

new_project p
cd p
db=.ferry/ferry.db
q() { sqlite3 "$db" "$1"; }
mkdir -p data
cp "$FERRY_SOURCE/examples/data/breast_cancer.csv" data/train.csv
run "$FERRY" data add data/train.csv
expect_status 0
git add -A >/dev/null && git commit -qm "data v1" >/dev/null
data_commit=$(git rev-parse HEAD)
digest="sha256:$(sha256 data/train.csv)"

run "$FERRY" train --data data/train.csv --target target --out models/lr --param C=0.05 --register cancer
expect_status 0
run1=$(printf '%s\n' "$OUT" | sed -n 's/^run_id=//p')
expect_out_contains "model.version=1"
expect_eq "$(q "SELECT name || '/' || version || '|' || source || '|' || source_digest || '|' || run_id FROM model_versions")" \
	"cancer/1|runs:/$run1/model|$(jq -r .digest models/lr/model.json)|$run1" "version 1 row"
expect_eq "$(q "SELECT json_extract(metrics_json, '\$.f1') = (SELECT value FROM latest_metrics WHERE run_id = '$run1' AND key = 'f1') FROM model_versions")" 1 "metrics snapshot = run metrics"
expect_eq "$(q "SELECT d.digest || '|' || m.context FROM model_version_datasets m JOIN datasets d USING (dataset_id)")" "$digest|training" "training data of v1"
ok "train --register records version 1 with the run's model, digest, metrics snapshot and data"

run "$FERRY" train --data data/train.csv --target target --out models/xgb --model xgboost --param n_estimators=30
expect_status 0
run2=$(printf '%s\n' "$OUT" | sed -n 's/^run_id=//p')
run "$FERRY" models register cancer --run "$run2" --description "xgboost, 30 trees" --tag owner=ml
expect_status 0
expect_out_contains "version=2"
expect_out_contains "uri=models:/cancer/2"
cp -r models/lr exported
run "$FERRY" models register cancer --artifact exported
expect_status 0
expect_out_contains "version=3"
expect_eq "$(q "SELECT count(*) FROM artifacts a JOIN model_versions v ON a.run_id = v.run_id WHERE v.version = 3 AND a.path LIKE 'model/%'")" \
	"$(ls exported | wc -l)" "directory files stored as the new run's artifacts"
rm -rf exported
ok "models register from a run (with description and tags) and from a directory"

run "$FERRY" models register cancer
expect_status 2
expect_err_contains "one of --run RUN or --artifact DIR"
run "$FERRY" models register cancer --run 0123456789abcdef0123456789abcdef
expect_status 1
expect_err_contains "0123456789abcdef0123456789abcdef"
mkdir notamodel
run "$FERRY" models register cancer --artifact notamodel
expect_status 1
expect_eq "$(q "SELECT count(*) FROM model_versions")" 3 "no version from failed registrations"
ok "bad registrations are refused and register nothing"

run "$FERRY" models list --json
expect_status 0
expect_eq "$(printf '%s' "$OUT" | jq -r '.[0].name + " " + (.[0].latest_version|tostring)')" "cancer 3" "list"
run "$FERRY" models show cancer/2 --json
expect_status 0
expect_eq "$(printf '%s' "$OUT" | jq -r '.description + "|" + .tags.owner + "|" + .run_id')" "xgboost, 30 trees|ml|$run2" "show version"
ok "models list and show"

run "$FERRY" models alias cancer production 1 --reason "first deploy"
expect_status 0
run "$FERRY" models alias cancer production 2
expect_status 0
run "$FERRY" models alias cancer production 3
expect_status 0
expect_eq "$(q "SELECT version FROM model_aliases WHERE alias = 'production'")" 3 "alias at 3"
run "$FERRY" models show "cancer@production" --json
expect_eq "$(printf '%s' "$OUT" | jq -r .version)" 3 "show @alias"
run "$FERRY" models rollback cancer
expect_status 0
expect_eq "$(q "SELECT version FROM model_aliases WHERE alias = 'production'")" 2 "rollback 1"
run "$FERRY" models rollback cancer --alias production
expect_eq "$(q "SELECT version FROM model_aliases WHERE alias = 'production'")" 1 "rollback 2"
run "$FERRY" models rollback cancer
expect_status 1
expect_err_contains "nothing to roll back to"
expect_eq "$(q "SELECT version FROM model_aliases WHERE alias = 'production'")" 1 "unchanged"
run "$FERRY" models history cancer --json
expect_status 0
expect_eq "$(printf '%s' "$OUT" | jq -r 'map(.kind + ":" + (.from_version|tostring) + ">" + (.to_version|tostring)) | join(",")')" \
	"alias:null>1,alias:1>2,alias:2>3,rollback:3>2,rollback:2>1" "history"
expect_eq "$(printf '%s' "$OUT" | jq -r '.[0].reason')" "first deploy" "reason kept"
ok "aliases move, roll back step by step, and every move is in the history"

run "$FERRY" models delete cancer/1
expect_status 1
expect_err_contains "production"
expect_eq "$(q "SELECT count(*) FROM model_versions WHERE version = 1")" 1 "v1 kept"
ok "deleting the version an alias points to is refused"

run "$FERRY" models lineage cancer@production --json
expect_status 0
printf '%s' "$OUT" >lineage.json
expect_eq "$(jq -r '.run.id' lineage.json)" "$run1" "lineage run"
expect_eq "$(jq -r '.run.params.C' lineage.json)" "0.05" "lineage params"
expect_eq "$(jq -r '.datasets[0].path + "|" + .datasets[0].digest' lineage.json)" "data/train.csv|$digest" "lineage data"
expect_eq "$(jq -r '.datasets[0].history | map(select(.matches)) | .[0].commit' lineage.json)" "$data_commit" "the commit with this data"
expect_eq "$(jq -r '.run.environment.ferry' lineage.json)" "$("$FERRY" version --json | jq -r .ferry)" "environment"
run "$FERRY" models lineage cancer@production
expect_status 0
expect_out_contains "data data/train.csv"
expect_out_contains "$digest"
ok "lineage answers which data (and which commit of it) a version was trained on"

# model URIs wherever a model is named
run "$FERRY" eval models:/cancer@production --data data/train.csv --json
expect_status 0
f1_alias=$(printf '%s' "$OUT" | jq .metrics.f1)
run "$FERRY" eval models/lr --data data/train.csv --json
expect_eq "$(printf '%s' "$OUT" | jq .metrics.f1)" "$f1_alias" "models:/ URI scores like the directory"
run "$FERRY" predict models:/cancer/2 --data data/train.csv --out pred.csv
expect_status 0
run "$FERRY" predict models/xgb --data data/train.csv --out pred_dir.csv
cmp pred.csv pred_dir.csv || fail "models:/cancer/2 predicts differently from its directory"
run "$FERRY" eval models:/cancer/latest --data data/train.csv
expect_status 0
expect_out_contains "model.digest=$(q "SELECT source_digest FROM model_versions WHERE version = 3")"
run "$FERRY" eval models:/cancer/9 --data data/train.csv
expect_status 1
expect_err_contains "version=9"
run "$FERRY" eval models:/cancer@nope --data data/train.csv
expect_status 1
expect_err_contains "nope"
ok "models:/NAME/N, @alias and /latest resolve in eval and predict; missing ones are named"

# a checked-out version that was tampered with is detected and rebuilt from the cache
dir=$("$FERRY" models path models:/cancer/2)
chmod -R u+w "$dir"
printf 'garbage' >"$dir/model.ubj"
run "$FERRY" predict models:/cancer/2 --data data/train.csv --out pred2.csv
expect_status 0
cmp pred.csv pred2.csv || fail "a damaged checkout was used"
ok "a damaged local copy of a version is verified, rebuilt and not used"

run "$FERRY" models delete cancer/2
expect_status 0
run "$FERRY" train --data data/train.csv --target target --out models/lr2 --register cancer
expect_out_contains "model.version=4"
ok "version numbers are never reused after a delete"

run "$FERRY" models reproduce cancer/1 --json
expect_status 0
expect_eq "$(printf '%s' "$OUT" | jq -r '.digest + " " + (.digest_matches|tostring) + " " + (.metrics_match|tostring)')" \
	"$(jq -r .digest models/lr/model.json) true true" "reproduced v1"
ok "reproduce retrains a version from its recorded data version and params, bit for bit"

# the data version is gone from the cache and the workspace file changed: nothing to retrain on
hex=${digest#sha256:}
chmod u+w "$(object_path . "$hex")" "$(dirname "$(object_path . "$hex")")"
rm -f "$(object_path . "$hex")" data/train.csv
head -100 "$FERRY_SOURCE/examples/data/breast_cancer.csv" >data/train.csv
run "$FERRY" models reproduce cancer/1
expect_status 1
expect_err_contains "neither in the object cache nor at that path"
ok "reproduce says when the training data version is nowhere to be found"

done_testing
