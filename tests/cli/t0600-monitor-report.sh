#!/usr/bin/env bash
# ferry monitor report on examples/data/drift: a model trained on reference.csv, a batch without
# drift (exit 0, nothing drifted) and one with drift (the manifest's columns, prediction drift,
# exit 3), quality on the labelled batches, --json through jq, --html, the reference found by its
# digest in a project (object cache first), and each kind of bad input with its message, a
# non-zero exit and nothing written.
. "$(dirname "$0")/lib.sh"

D=$FERRY_SOURCE/examples/data/drift
M=$D/manifest.json
cp "$D"/reference.csv "$D"/batch_01_nodrift.csv "$D"/batch_02_drift.csv .

run "$FERRY" train --data reference.csv --target churn --out model
expect_status 0

# ---- batch 1: no drift --------------------------------------------------------------------
run "$FERRY" monitor report --reference model --current batch_01_nodrift.csv --json
expect_status 0
echo "$OUT" >b1.json
jq -e '.verdict == "no_drift" and .dataset_drift == false and .n_drifted == 0
	and .n_tested == 20 and .ref_rows == 3000 and .cur_rows == 1000 and .exit_code == 0
	and ([.columns[] | select(.verdict == "drift")] | length) == 0' b1.json >/dev/null ||
	fail "batch 1: expected no drifted column"
# Evidently's defaults for 3000 reference rows: wasserstein for numbers, jensenshannon for text
jq -e '[.columns[] | select(.name == "total_day_minutes")][0] | .test == "wasserstein"
	and .threshold == 0.1 and .kind == "numerical"' b1.json >/dev/null ||
	fail "batch 1: total_day_minutes should use wasserstein at 0.1"
jq -e '[.columns[] | select(.name == "state")][0] | .test == "jensenshannon" and .kind == "categorical"' \
	b1.json >/dev/null || fail "batch 1: state should use jensenshannon"
jq -e '.prediction_drift.verdict == "no_drift" and .prediction_drift.kind == "categorical"' b1.json \
	>/dev/null || fail "batch 1: prediction should not drift"
ok "batch_01: exit 0, no column drifts, no prediction drift"

# scipy 1.10 (independently, on the same files): wasserstein_distance / np.std(ref) for
# total_day_minutes on batch 1 is 0.033015207191439765
jq -e '[.columns[] | select(.name == "total_day_minutes")][0].score
	| . > 0.0330152071914 and . < 0.0330152071915' b1.json >/dev/null ||
	fail "batch 1: total_day_minutes score differs from scipy's 0.033015207191439765"
# quality next to the reference's: ferry eval's metric names, on both labelled sides
jq -e '(.quality.current.accuracy | type) == "number" and (.quality.reference.f1 | type) == "number"
	and .quality.current.rows == 1000 and .quality.reference.rows == 3000' b1.json >/dev/null ||
	fail "batch 1: quality metrics missing"
run "$FERRY" eval model --data batch_01_nodrift.csv --json
expect_status 0
expect_eq "$(echo "$OUT" | jq .metrics.accuracy)" "$(jq .quality.current.accuracy b1.json)" \
	"quality = ferry eval's accuracy"
ok "batch_01: scores agree with scipy, quality metrics as ferry eval computes them"

# ---- batch 2: drift -----------------------------------------------------------------------
expected=$(jq -r '.batches[1].expected_drift_columns | sort | join(",")' "$M")
run "$FERRY" monitor report --reference model --current batch_02_drift.csv --json
expect_status 3
echo "$OUT" >b2.json
# With Evidently's default tests, number_vmail_messages drifts too: scipy gives
# wasserstein_distance / np.std(ref) = 0.1166 >= 0.1 for it (rows 4001-5000 hold fewer voice
# mail plans: 21.8% against 27.6%, a change of the data itself, not of the manifest's edits).
got=$(jq -r '[.columns[] | select(.verdict == "drift") | .name] | sort | join(",")' b2.json)
expect_eq "$got" "international_plan,number_vmail_messages,total_day_charge,total_day_minutes" \
	"batch 2 drifted columns with the default tests"
jq -e '.prediction_drift.verdict == "drift" and .drift_detected == true and .exit_code == 3' \
	b2.json >/dev/null || fail "batch 2: prediction drift expected"
jq -e '[.columns[] | select(.name == "voice_mail_plan")][0].verdict == "no_drift"' b2.json \
	>/dev/null || fail "batch 2: voice_mail_plan must be stable"
ok "batch_02: exit 3, the manifest's columns (and number_vmail_messages by default), prediction drift"

# The same with a monitoring config that judges the zero-inflated count by jensenshannon (as
# voice_mail_plan is judged): exactly the manifest's expected columns drift.
cat >monitor.yaml <<'EOF'
drift:
  columns:
    number_vmail_messages: {test: jensenshannon}
EOF
run "$FERRY" monitor report --reference model --current batch_02_drift.csv --config monitor.yaml --json
expect_status 3
echo "$OUT" >b2c.json
got=$(jq -r '[.columns[] | select(.verdict == "drift") | .name] | sort | join(",")' b2c.json)
expect_eq "$got" "$expected" "batch 2 drifted columns = manifest's expected_drift_columns"
for c in $(jq -r '.batches[1].expected_stable_columns[]' "$M"); do
	v=$(jq -r --arg c "$c" '[.columns[] | select(.name == $c)][0].verdict' b2c.json)
	[ "$v" = "no_drift" ] || fail "stable column $c: got $v"
done
# the share rule: 3 of 20 tested columns drifted, 0.15 < 0.5: no dataset drift, yet exit 3
# because the prediction drifted
jq -e '.n_drifted == 3 and .n_tested == 20 and .share == 0.15 and .dataset_drift == false
	and .prediction_drift.verdict == "drift" and .exit_code == 3' b2c.json >/dev/null ||
	fail "batch 2: share rule"
ok "batch_02 with monitor.yaml: exactly the manifest's expected drift and stable columns"

# a lower drift share makes it dataset drift; terminal output names the verdicts
run "$FERRY" monitor report --reference model --current batch_02_drift.csv --config monitor.yaml \
	--drift-share 0.15
expect_status 3
expect_out_contains "dataset: 3 of 20 tested columns drifted (share 0.15 >= 0.15): DATASET DRIFT"
expect_out_contains "exit code 3: drift detected"
grep -q '^total_day_minutes  *numerical  *wasserstein .* DRIFT$' .out ||
	fail "terminal table row for total_day_minutes"
grep -q '^prediction drift (model)$' .out || fail "prediction drift section"
ok "terminal table, dataset verdict line and --drift-share"

# per-column overrides on the command line: skip, and another test with its threshold
run "$FERRY" monitor report --reference reference.csv --current batch_02_drift.csv \
	--column-test international_plan=skip --column-test total_day_minutes=ks:0.01 --json
# no model, so no prediction drift: 3 of 19 tested columns drift, below the share: exit 0
expect_status 0
jq -e '[.columns[] | select(.name == "international_plan")][0].verdict == "skipped"
	and ([.columns[] | select(.name == "total_day_minutes")][0] | .test == "ks" and .threshold == 0.01
		and .verdict == "drift")
	and .n_tested == 19 and .n_drifted == 3
	and .model == null and .prediction_drift.verdict == "skipped"' <<<"$OUT" >/dev/null ||
	fail "--column-test overrides"
ok "--reference FILE without a model, --column-test skip and TEST:THRESHOLD"

# the reference as a file and the model given apart: the same prediction drift as above
run "$FERRY" monitor report --reference reference.csv --model model --current batch_02_drift.csv --json
expect_status 3
jq -e --argjson p "$(jq .prediction_drift.score b2.json)" '.model == "model"
	and .prediction_drift.verdict == "drift" and .prediction_drift.score == $p
	and .quality.reference.rows == 3000' <<<"$OUT" >/dev/null ||
	fail "--model with --reference FILE: prediction drift and quality"
ok "--reference FILE --model MODEL: prediction drift and quality"

# ---- --html -------------------------------------------------------------------------------
run "$FERRY" monitor report --reference model --current batch_02_drift.csv --html report.html -q
expect_status 3
grep -q "total_day_minutes" report.html && grep -qi "<svg" report.html || fail "report.html content"
ok "--html writes a self-contained report"

# ---- the reference by digest in a project ---------------------------------------------------
new_project p
mkdir -p p/data p/sub
cp reference.csv batch_01_nodrift.csv p/data/
(cd p && "$FERRY" data add data/reference.csv -q && "$FERRY" train --data data/reference.csv \
	--target churn --out models/churn -q) >/dev/null || fail "project setup"
printf 'drift:\n  share: 0.05\n' >p/monitor.yaml
rm -f p/data/reference.csv
cd p/sub
run "$FERRY" monitor report --reference ../models/churn --current ../data/batch_01_nodrift.csv --json
expect_status 0
jq -e '.drift_share == 0.05 and (.reference | test("objects/sha256/"))' <<<"$OUT" >/dev/null ||
	fail "project: the reference should come from the object cache, the config from the root"
cd ../..
ok "in a project: training data found in the object cache, monitor.yaml read from the root"

mv p/.ferry/cache p/.ferry/cache.away
cd p
run "$FERRY" monitor report --reference models/churn --current data/batch_01_nodrift.csv
cd ..
expect_status 1
expect_err_contains "is neither in the object cache nor unchanged at its path: run 'ferry data pull' or pass --reference FILE"
mv p/.ferry/cache.away p/.ferry/cache
ok "a missing reference names the digest and what to do"

# ---- bad input ------------------------------------------------------------------------------
head -1 batch_01_nodrift.csv >empty.csv
run "$FERRY" monitor report --reference model --current empty.csv --html bad.html
expect_status 1
expect_err_contains "empty.csv: no data rows (only a header)"
[ ! -e bad.html ] || fail "html written on error"
ok "an empty current file is refused, nothing written"

printf 'a,b\n1,2\n3,4\n' >other.csv
run "$FERRY" monitor report --reference reference.csv --current other.csv --json
expect_status 1
expect_err_contains "no column of 'other.csv' is in the reference 'reference.csv': nothing to compare"
jq -e '.error' <<<"$OUT" >/dev/null || fail "--json error document"
ok "nothing comparable is an error (exit 1, never 3)"

cut -d, -f1-5 reference.csv >narrow.csv
run "$FERRY" monitor report --reference narrow.csv --current batch_01_nodrift.csv --model model
expect_status 1
expect_err_contains "narrow.csv: column 'number_vmail_messages' is missing: it does not match the model"
ok "a reference that does not match the model's signature is refused"

# columns on one side only, a type mismatch, NaN/inf and an all-missing column: reported
awk -F, 'BEGIN { OFS = "," } NR == 1 { $9 = "extra"; print; next }
	{ $6 = (NR == 2 ? "many" : $6); $7 = (NR % 2 ? (NR % 4 == 1 ? "inf" : "nan") : $7); $8 = ""; print }' \
	batch_01_nodrift.csv >odd.csv
run "$FERRY" monitor report --reference reference.csv --current odd.csv --json
expect_status 0
jq -e '([.columns[] | select(.name == "total_day_charge")][0].note == "not in the current data ('"'"'odd.csv'"'"')")
	and ([.columns[] | select(.name == "extra")][0] | .verdict == "skipped" and .note == "not in the reference data")
	and ([.columns[] | select(.name == "number_vmail_messages")][0].note | test("^type mismatch: numeric in the reference, but odd.csv:2:[0-9]+ holds .many.$"))
	and ([.columns[] | select(.name == "total_day_minutes")][0] | .cur_missing == 500 and .cur_count == 500 and .verdict == "no_drift")
	and ([.columns[] | select(.name == "total_day_calls")][0].note == "every value is missing in the current data")' \
	<<<"$OUT" >/dev/null || fail "skipped columns and their notes: $OUT"
ok "one-sided columns, type mismatch, NaN/inf and all-missing columns are skipped with a note"

run "$FERRY" monitor report --reference model --current batch_01_nodrift.csv --min-rows 5000 --json
expect_status 4
jq -e '.verdict == "insufficient_data" and .share == null and .exit_code == 4
	and ([.columns[] | select(.verdict != "insufficient_data")] | length) == 0' <<<"$OUT" \
	>/dev/null || fail "insufficient data"
ok "too few rows on a side: insufficient data, exit 4"

printf 'drift:\n  columns:\n    state: {tst: ks}\n' >bad.yaml
run "$FERRY" monitor report --reference model --current batch_01_nodrift.csv --config bad.yaml
expect_status 1
expect_err_contains "bad.yaml:3:13: unknown key 'tst' in a column override; did you mean 'test'?"
run "$FERRY" monitor report --reference model --current batch_01_nodrift.csv --column-test state=ks
expect_status 1
expect_err_contains "drift override for column 'state': test 'ks' needs numbers"
run "$FERRY" monitor report --reference model --current batch_01_nodrift.csv --column-test nope=ks
expect_status 1
expect_err_contains "drift override for column 'nope': no such column"
ok "bad configuration and overrides name the place"

run "$FERRY" monitor report --reference model
expect_status 2
run "$FERRY" monitor report --reference model --current batch_01_nodrift.csv --column-test state
expect_status 2
expect_err_contains "--column-test expects COLUMN=TEST[:THRESHOLD], got 'state'"
run "$FERRY" monitor report --reference reference.csv --current batch_01_nodrift.csv --target churn
expect_status 2
run "$FERRY" monitor report --reference model --current missing.csv
expect_status 1
expect_err_contains "missing.csv"
run "$FERRY" monitor report --help
expect_status 0
expect_out_contains "Exit status: 0 no drift; 3 drift"
ok "usage errors exit 2, a missing file 1, --help documents the exit codes"

done_testing
