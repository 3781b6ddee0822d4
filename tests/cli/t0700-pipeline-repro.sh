#!/usr/bin/env bash
# ferry repro on a three-stage pipeline (a shell stage, the built-in train and eval steps):
# ferry.lock's digests (checked with sha256sum), nothing re-run when nothing changed, dry-run
# and status reasons, metrics/params diff against HEAD~1, the run cache restoring outputs after
# a revert without running the stage, the tracked runs, and the graph's errors.
. "$(dirname "$0")/lib.sh"

new_project p
cd p
db=.ferry/ferry.db
q() { sqlite3 "$db" "$1"; }
mkdir data
cp "$FERRY_SOURCE/examples/data/mlc_churn.csv" data/churn.csv
printf 'rows: 3000\ntrain:\n  C: 1.0\n  max_iter: 300\n' >params.yaml
cat >prep.sh <<'SH'
#!/bin/sh
rows=$(sed -n 's/^rows: //p' params.yaml)
head -n "$((rows + 1))" data/churn.csv >data/train.csv
echo "kept $rows rows"
SH
chmod +x prep.sh
cat >ferry.yaml <<'YAML'
stages:
  prepare:
    cmd: ./prep.sh
    deps: [prep.sh, data/churn.csv]
    params: [rows]
    outs: [data/train.csv]
  train:
    train:
      data: data/train.csv
      target: churn
      out: model
      params: params.yaml:train
      drop: [state, area_code]
      metrics: train.json
  evaluate:
    eval: {model: model, data: data/churn.csv, metrics: eval.json}
YAML
git add -A && git commit -qm pipeline

run "$FERRY" repro
expect_status 0
expect_out_contains "[prepare] kept 3000 rows"
expect_out_contains "[train] artifact=model"
expect_err_contains "ferry: running stage 'prepare': never run"
expect_err_contains "ferry: running stage 'evaluate': never run"
lock_hex() { awk -v p="\"$2\"" '$0 ~ "^  \"" s "\":" {s=1} /^  "/ {cur=$1} cur=="\""st"\":" && $0 ~ "path: " p {f=1; next} f && /sha256/ {gsub(/"/, "", $2); print $2; exit}' st="$1" ferry.lock; }
expect_eq "$(lock_hex prepare data/churn.csv)" "$(sha256sum data/churn.csv | cut -c1-64)" "dep digest in ferry.lock"
expect_eq "$(lock_hex prepare data/train.csv)" "$(sha256sum data/train.csv | cut -c1-64)" "out digest in ferry.lock"
expect_eq "$(lock_hex train data/train.csv)" "$(sha256sum data/train.csv | cut -c1-64)" "train's dep digest"
expect_eq "$(lock_hex evaluate eval.json)" "$(sha256sum eval.json | cut -c1-64)" "metrics file digest"
expect_eq "$(wc -l <data/train.csv)" 3001 "prepared rows"
grep -qF '"train": "{\"C\":\"1.0\",\"max_iter\":\"300\"}"' ferry.lock || fail "train's params not in ferry.lock"
git status --porcelain --untracked-files=all | grep -q '\.ferry/' && fail "ferry's state shows in git status"
ok "three stages ran in order; ferry.lock holds the digests sha256sum computes and the params"

# the built-in step is ferry train itself: the same model, byte for byte, as the command makes
run "$FERRY" train --data data/train.csv --target churn --out "$TEST_TMP/m2" \
	--params params.yaml:train --drop state,area_code
expect_status 0
# byte for byte but for the creation time
expect_eq "$(jq -S -c 'del(.created)' model/model.json | sha256sum)" \
	"$(jq -S -c 'del(.created)' "$TEST_TMP/m2/model.json" | sha256sum)" "model.json"
cp model/model.json "$TEST_TMP/model1.json"
run "$FERRY" eval model --data data/churn.csv --json
expect_eq "$(jq -c '.metrics | del(.rows, .confusion_matrix) | to_entries | map(select(.value|type=="number")) | from_entries' "$TEST_TMP/.out" | jq -S -c .)" \
	"$(jq -S -c . eval.json | jq -c 'with_entries(select(.key != "rows"))' | jq -S -c .)" "eval metrics"
ok "the train and eval steps give what ferry train and ferry eval give"

expect_eq "$(q "SELECT count(*) FROM runs WHERE status = 'FINISHED'")" 4 "runs (3 stages + ferry train)"
expect_eq "$(q "SELECT group_concat(value, ',') FROM (SELECT t.value FROM run_tags t JOIN runs r USING (run_id) WHERE t.key = 'ferry.pipeline.stage' ORDER BY r.start_time, t.value)")" "prepare,train,evaluate" "stage runs"
tid=$(q "SELECT run_id FROM run_tags WHERE key = 'ferry.pipeline.stage' AND value = 'train'")
pid=$(q "SELECT run_id FROM run_tags WHERE key = 'ferry.pipeline.stage' AND value = 'prepare'")
expect_eq "$(q "SELECT value FROM params WHERE run_id = '$pid' AND key = 'rows'")" 3000 "prepare's param"
expect_eq "$(q "SELECT value FROM params WHERE run_id = '$tid' AND key = 'C'")" 1 "train's param"
expect_eq "$(q "SELECT printf('%.6f', value) FROM latest_metrics WHERE run_id = '$tid' AND key = 'accuracy'")" \
	"$(jq -r '.accuracy' train.json | xargs printf '%.6f')" "train's accuracy metric"
ok "each stage is a tracked run with its params and metrics"

cp ferry.lock "$TEST_TMP/lock1"
run "$FERRY" repro
expect_status 0
expect_err_contains "ferry: stage 'train' is up to date"
cmp -s ferry.lock "$TEST_TMP/lock1" || fail "ferry.lock changed with nothing changed"
expect_eq "$(q "SELECT count(*) FROM runs")" 4 "no new runs"
run "$FERRY" status
expect_out_contains "pipeline is up to date"
ok "nothing changed: nothing runs, ferry.lock stays byte for byte"

git add -A && git commit -qm "first run"
sed -i 's/C: 1.0/C: 0.05/' params.yaml
run "$FERRY" repro --dry-run
expect_status 0
expect_eq "$OUT" "would run train: param 'params.yaml:train' changed ({\"C\":\"1.0\",\"max_iter\":\"300\"} -> {\"C\":\"0.05\",\"max_iter\":\"300\"})
would run evaluate: upstream stage 'train' will run" "dry-run"
cmp -s ferry.lock "$TEST_TMP/lock1" || fail "--dry-run wrote ferry.lock"
echo "# more" >>prep.sh
run "$FERRY" status prepare
expect_eq "$OUT" "prepare: dep 'prep.sh' changed" "status of one stage"
git checkout -q prep.sh
rm eval.json
run "$FERRY" status evaluate
expect_out_contains "evaluate: out 'eval.json' missing"
ok "dry-run and status say what would run and why, and change nothing"

run "$FERRY" repro
expect_status 0
expect_err_contains "ferry: running stage 'train': param 'params.yaml:train' changed"
expect_err_contains "ferry: stage 'prepare' is up to date"
git add -A && git commit -qm "C=0.05"
sed -i 's/C: 0.05/C: 1.0/' params.yaml
old_acc=$(git show HEAD~1:train.json | jq -r .accuracy)
run "$FERRY" params diff HEAD~1
expect_status 0
expect_eq "$OUT" "no params changed" "params diff against the same values"
run "$FERRY" params diff
echo "$OUT" | grep -Eq '^params.yaml +train.C +0.05 +1.0 *$' || fail "params diff: $OUT"
echo "$OUT" | grep -q 'max_iter' && fail "unchanged param listed"
run "$FERRY" params diff --all --json HEAD
expect_eq "$(jq -r '.[] | select(.key == "train.max_iter") | .old + "," + .new' "$TEST_TMP/.out")" "300,300" "--all"
run "$FERRY" metrics diff HEAD~1 --json
expect_status 0
expect_eq "$(jq -r '.[] | select(.path == "train.json" and .key == "accuracy") | .old' "$TEST_TMP/.out")" \
	"$old_acc" "old accuracy"
expect_eq "$(jq -r '.[] | select(.path == "train.json" and .key == "accuracy") | .new' "$TEST_TMP/.out")" \
	"$(jq -r .accuracy train.json)" "new accuracy"
run "$FERRY" metrics show
expect_status 0
expect_eq "$(awk -F'\t' '$1 == "eval.json" && $2 == "roc_auc" { print $3 }' "$TEST_TMP/.out")" \
	"$(jq -r .roc_auc eval.json)" "metrics show"
expect_eq "$(grep -c "^train.json	" "$TEST_TMP/.out")" "$(jq '[.[] | numbers] | length' train.json)" "train metrics shown"
ok "params diff and metrics diff compare the workspace with a revision; metrics show lists them"

# no pointer file names the stages' outputs: only the run cache keeps them through a gc
run "$FERRY" --json data gc
expect_status 0
[ "$(jq -r .run_cache_outputs "$TEST_TMP/.out")" -ge 4 ] || fail "gc saw no run cache outputs: $OUT"
bad_entry=.ferry/cache/runs/00/$(printf '0%.0s' $(seq 62))
mkdir -p .ferry/cache/runs/00 && printf 'not an entry\n' >"$bad_entry"
run "$FERRY" data gc --dry-run
expect_status 0
expect_err_contains "warning: 1 run cache entry did not parse and keeps nothing"
rm "$bad_entry"
runs_before=$(q "SELECT count(*) FROM runs")
run "$FERRY" repro
expect_status 0
expect_err_contains "ferry: restored stage 'train' from the run cache"
expect_err_contains "ferry: restored stage 'evaluate' from the run cache"
expect_eq "$(q "SELECT count(*) FROM runs")" "$runs_before" "runs after a restore"
cmp -s ferry.lock "$TEST_TMP/lock1" || fail "ferry.lock after the revert differs from the first run's"
expect_eq "$(sha256sum <model/model.json)" "$(sha256sum <"$TEST_TMP/model1.json")" "restored model"
[ -w model/model.json ] || fail "restored output is read-only"
ok "data gc keeps what the run cache needs; going back to C=1.0 restores the outputs from it instead of training again"

sed -i 's/C: 1.0/C: 0.05/' params.yaml
run "$FERRY" --json data gc --no-run-cache
expect_status 0
expect_eq "$(jq -r .run_cache_outputs "$TEST_TMP/.out")" 0 "run cache outputs with --no-run-cache"
[ "$(jq -r .removed "$TEST_TMP/.out")" -gt 0 ] || fail "gc --no-run-cache removed nothing: $OUT"
run "$FERRY" repro
expect_status 0
expect_err_contains "ferry: running stage 'train': param 'params.yaml:train' changed"
sed -i 's/C: 0.05/C: 1.0/' params.yaml
run "$FERRY" repro
expect_status 0
ok "data gc --no-run-cache removes what only the run cache kept: its stages run again"

run "$FERRY" repro --force train
expect_status 0
expect_err_contains "ferry: running stage 'train': forced"
expect_err_contains "ferry: running stage 'prepare': forced"
grep -q "stage 'evaluate'" "$TEST_TMP/.err" && fail "evaluate is not below train"
run "$FERRY" repro nope
expect_status 1
expect_err_contains "error: no stage 'nope' in ferry.yaml"
ok "--force runs a stage and what it depends on again; unknown stages are named"

printf '  register:\n    register: {model: model, name: churn}\n' >>ferry.yaml
run "$FERRY" repro
expect_status 0
expect_out_contains "[register] model.version=1"
expect_eq "$(q "SELECT name || ':' || version FROM model_versions")" "churn:1" "registered version"
run "$FERRY" repro
expect_err_contains "ferry: stage 'register' is up to date"
expect_eq "$(q "SELECT count(*) FROM model_versions")" 1 "versions after a second repro"
ok "a register step adds the model once"

cd "$TEST_TMP"
new_project q
cd q
cat >ferry.yaml <<'YAML'
stages:
  a: {cmd: cp c.txt a.txt, deps: [c.txt], outs: [a.txt]}
  b: {cmd: cp a.txt b.txt, deps: [a.txt], outs: [b.txt]}
  c: {cmd: cp b.txt c.txt, deps: [b.txt], outs: [c.txt]}
YAML
run "$FERRY" repro
expect_status 1
expect_err_line "error: ferry.yaml: the stages form a cycle: a -> b -> c -> a (each one's outs are the next one's deps)"
printf 'stages:\n  a: {cmd: x, outs: [o]}\n  b: {cmd: y, outs: [o/p]}\n' >ferry.yaml
run "$FERRY" status
expect_status 1
expect_err_line "error: ferry.yaml: 'o' is an output of both stage 'a' and stage 'b' (as 'o/p')"
printf 'stages:\n  a:\n    cmd: x\n    oust: [o]\n' >ferry.yaml
run "$FERRY" repro
expect_status 1
expect_err_line "error: ferry.yaml:4:5: stage 'a': unknown key 'oust' in a stage; did you mean 'outs'?"
printf 'stages:\n  a: {cmd: "true", deps: [missing.csv]}\n' >ferry.yaml
run "$FERRY" repro
expect_status 1
expect_err_contains "stage 'a': dep 'missing.csv' does not exist"
ok "cycles, duplicate outputs, bad keys and missing deps are errors naming the stages"

done_testing
