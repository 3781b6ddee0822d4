#!/usr/bin/env bash
# Bad input to train, eval and predict: a clear error naming the file and line:column or the
# field, exit 1 (2 for usage errors), and nothing written: no model directory, no temporary
# directory beside it, an existing model unchanged byte for byte, no predictions file.
. "$(dirname "$0")/lib.sh"

D=$FERRY_SOURCE/examples/data
cp "$D/iris.csv" iris.csv
cp "$D/mlc_churn.csv" churn.csv
chmod u+w iris.csv churn.csv

# tree_digest DIR: names, modes, sizes and contents of everything under DIR, as one digest.
tree_digest() {
	(
		cd "$1" && find . -printf '%p %y %m %s\n' | LC_ALL=C sort &&
			find . -type f -exec sha256sum {} + | LC_ALL=C sort
	) | sha256sum | cut -d" " -f1
}

# expect_no_temp DIR: no temporary file or directory (.NAME.tmp-*) left in DIR.
expect_no_temp() {
	local left
	left=$(find "$1" -maxdepth 1 -name '.*.tmp-*')
	[ -z "$left" ] || fail "temporary files left behind: $left"
}

# expect_nothing_written OUT: the failed command created neither OUT nor a temporary beside it.
expect_nothing_written() {
	[ ! -e "$1" ] || fail "'$1' was written by a failed command"
	expect_no_temp "$(dirname "$1")"
}

# train_fails STATUS MESSAGE ARGS...: 'ferry train ARGS --out out/m' fails with STATUS and the
# stderr line 'error: MESSAGE', writing nothing.
train_fails() {
	local status=$1 msg=$2
	shift 2
	mkdir -p out
	run "$FERRY" train "$@" --out out/m
	expect_status "$status"
	expect_err_line "error: $msg"
	expect_out_empty
	expect_nothing_written out/m
}

# --- the training data ---

train_fails 1 "--target: no column 'targt' in 'iris.csv'; did you mean 'target'?" \
	--data iris.csv --target targt
train_fails 1 "--target: no column 'species' in 'iris.csv'" --data iris.csv --target species
ok "a missing target column is named, with a suggestion when one is close"

printf 'a,b,y\n1,2,x\n3,4,x\n5,6,x\n' >one.csv
train_fails 1 "one.csv: target column 'y' holds one class only ('x'): a classifier needs at least two" \
	--data one.csv --target y
ok "a target with one class only"

train_fails 1 "churn.csv: target column 'churn' is categorical, not numeric: regression needs numbers (use a classifier for labels)" \
	--data churn.csv --target churn --model linear
train_fails 2 "logreg is a classifier; for a regression target use --model linear or xgboost" \
	--data iris.csv --target target --task regression
ok "a non-numeric target for regression (--model linear), and logreg asked to regress"

: >empty.csv
train_fails 1 "empty.csv: empty file, expected a header row" --data empty.csv --target y
printf 'a,b,y\n' >header.csv
train_fails 1 "header.csv: no data rows (only a header)" --data header.csv --target y
printf 'y\n0\n1\n' >target-only.csv
train_fails 1 "target-only.csv: no feature columns left besides target 'y'" \
	--data target-only.csv --target y
ok "an empty file, a header only, no feature columns"

printf 'a,b,y\n1,2,0\n3,4\n5,6,1\n' >short.csv
train_fails 1 "short.csv:3:4: expected 3 fields, got 2 (the row ends before column 'y')" \
	--data short.csv --target y
printf 'a,b,y\n1,2,0\n3,4,1,7\n5,6,1\n' >long.csv
train_fails 1 "long.csv:3:7: expected 3 fields, got 4 (an extra field after column 'y')" \
	--data long.csv --target y
printf 'a,y\n1,0\n"2,1\n3,1\n' >quote.csv
train_fails 1 "quote.csv:3:1: unterminated quoted field in column 'a'" --data quote.csv --target y
ok "ragged rows and an unterminated quote are errors at file:line:col"

printf 'a,b,a,y\n1,2,3,0\n4,5,6,1\n' >dup.csv
train_fails 1 "dup.csv:1:5: duplicate column name 'a' (also column 1)" --data dup.csv --target y
ok "duplicate column names"

for bad in NaN nan inf -Infinity 1e999; do
	printf 'a,b,y\n1,2,0\n3,4,1\n5,%s,1\n7,8,0\n' "$bad" >nonfinite.csv
	train_fails 1 "nonfinite.csv:4:3: expected a finite number in column 'b', got '$bad' (a missing value is an empty field)" \
		--data nonfinite.csv --target y
done
printf 'a,y\n1,0\n2,1\n3,NaN\n' >nan-target.csv
train_fails 1 "nan-target.csv:4:3: expected a finite number in column 'y', got 'NaN' (a missing value is an empty field)" \
	--data nan-target.csv --target y
printf 'a,y\n1,0\n2,\n3,1\n' >missing-target.csv
train_fails 1 "missing-target.csv: target column 'y' has 1 missing value (first at data row 2); remove those rows or choose another target" \
	--data missing-target.csv --target y
ok "NaN and infinities in a numeric column are errors at file:line:col; so is a missing target"

# --- parameters and options ---

train_fails 2 "unknown parameter 'max_itr' for logreg (from --param); did you mean 'max_iter'?" \
	--data iris.csv --target target --param max_itr=10
train_fails 2 "unknown parameter 'n_estimator' for xgboost (from --param); did you mean 'n_estimators'?" \
	--data iris.csv --target target --model xgboost --param n_estimator=5
train_fails 2 "unknown parameter 'zzz' for logreg (from --param)" \
	--data iris.csv --target target --param zzz=1
train_fails 2 "unknown parameter 'eta' for logreg (from --param)" \
	--data iris.csv --target target --param eta=0.1
train_fails 2 "--param 'C': expected KEY=VALUE" --data iris.csv --target target --param C
ok "unknown --param keys, with a suggestion when one is close"

train_fails 2 "parameter 'C' (from --param): expected a number above 0, got '0'" \
	--data iris.csv --target target --param C=0
train_fails 2 "parameter 'max_iter' (from --param): expected an integer from 1 to 1e+07, got '0'" \
	--data iris.csv --target target --param max_iter=0
train_fails 2 "parameter 'max_iter' (from --param): expected an integer from 1 to 1e+07, got '2.5'" \
	--data iris.csv --target target --param max_iter=2.5
train_fails 2 "parameter 'tol' (from --param): expected a number above 0 and at most 1, got 'abc'" \
	--data iris.csv --target target --param tol=abc
train_fails 2 "parameter 'eta' (from --param): expected a number above 0 and at most 1, got '1.5'" \
	--data iris.csv --target target --model xgboost --param eta=1.5
train_fails 2 "parameter 'max_depth' (from --param): expected an integer from 0 to 64, got '65'" \
	--data iris.csv --target target --model xgboost --param max_depth=65
train_fails 2 "parameter 'solver' (from --param): expected lbfgs or newton, got 'sgd'" \
	--data iris.csv --target target --param solver=sgd
train_fails 2 "parameter 'fit_intercept' (from --param): expected true or false, got 'maybe'" \
	--data iris.csv --target target --param fit_intercept=maybe
train_fails 2 "unknown model 'xgbost'; did you mean 'xgboost'? (logreg, linear or xgboost)" \
	--data iris.csv --target target --model xgbost
ok "parameter values out of range or of the wrong kind name the parameter and the range"

printf 'train:\n  C: 1.0\n  max_iter: [1, 2\n' >unclosed.yaml
train_fails 1 "unclosed.yaml:4:1: flow sequence without a closing bracket" \
	--data iris.csv --target target --params unclosed.yaml:train
printf 'train:\n\tC: 1\n' >tab.yaml
train_fails 1 "tab.yaml:2:1: tab character may not be used as indentation" \
	--data iris.csv --target target --params tab.yaml:train
printf 'train:\n  C: 1.0\n  max_iter: [1, 2]\n' >seq.yaml
train_fails 1 "seq.yaml:3:13: parameter values must be scalars, got a sequence" \
	--data iris.csv --target target --params seq.yaml:train
printf 'train:\n  C: 1.0\n  maxiter: 5\nxgb:\n  eta: 0\n' >params.yaml
train_fails 1 "unknown parameter 'maxiter' for logreg (from params.yaml:3:12); did you mean 'max_iter'?" \
	--data iris.csv --target target --params params.yaml:train
train_fails 1 "parameter 'eta' (from params.yaml:5:8): expected a number above 0 and at most 1, got '0'" \
	--data iris.csv --target target --model xgboost --params params.yaml:xgb
train_fails 1 "params.yaml:2:6: expected a mapping of parameters, got a string" \
	--data iris.csv --target target --params params.yaml:train.C
ok "a bad params file is an error at file:line:col, its parameters checked as --param's"

train_fails 1 "params.yaml:1:1: no section 'trian'; did you mean 'train'?" --data iris.csv --target target \
	--params params.yaml:trian
train_fails 1 "params.yaml:2:3: no section 'lr'" --data iris.csv --target target \
	--params params.yaml:train.lr
train_fails 1 "cannot open 'nope.yaml': No such file or directory" --data iris.csv --target target \
	--params nope.yaml:train
ok "a missing params section or file"

train_fails 2 "--cv expects 2 to 1000 folds, got 1" --data iris.csv --target target --cv 1
train_fails 2 "--cv expects 2 to 1000 folds, got -3" --data iris.csv --target target --cv -3
train_fails 2 "--test-size expects a number between 0 and 1 (exclusive), got '1.5'" \
	--data iris.csv --target target --test-size 1.5
train_fails 2 "--test-size expects a number between 0 and 1 (exclusive), got '0'" \
	--data iris.csv --target target --test-size 0
train_fails 2 "--task expects classification or regression, got 'both'" \
	--data iris.csv --target target --task both
run "$FERRY" train --data iris.csv --target target
expect_status 2
expect_err_line "error: 'ferry train' needs --data, --target and --out"
train_fails 1 "iris.csv: --cv 200: cannot make 200 folds out of 150 rows" --data iris.csv --target target --cv 200
ok "--cv 1, --test-size 1.5 and other bad options are usage errors"

# --- scoring new data ---

mkdir models
"$FERRY" train -q --data churn.csv --target churn --out models/churn >/dev/null
"$FERRY" train -q --data iris.csv --target target --model xgboost --param n_estimators=3 \
	--out models/iris-xgb >/dev/null
head -4 churn.csv >new.csv
cut -d, -f2- new.csv >no-state.csv
sed '3s/^"OH"/"ZZ"/' new.csv >unseen.csv
sed '4s/,243.4,/,lots,/' new.csv >not-number.csv
grep -q lots not-number.csv || fail "test setup: no value replaced in not-number.csv"
# the column where field 7 starts: the first 6 fields, their commas and 1 (wc counts the newline)
col=$(($(sed -n 4p new.csv | cut -d, -f1-6 | wc -c) + 1))

# predict_fails STATUS MESSAGE ARGS...: 'ferry predict ARGS --out pred.csv' fails so, writing nothing.
predict_fails() {
	local status=$1 msg=$2
	shift 2
	run "$FERRY" predict "$@" --out pred.csv
	expect_status "$status"
	expect_err_line "error: $msg"
	expect_nothing_written pred.csv
}

predict_fails 1 "no-state.csv: column 'state' is missing (the model needs it)" \
	models/churn --data no-state.csv
run "$FERRY" eval models/churn --data no-state.csv
expect_status 1
expect_err_line "error: no-state.csv: column 'state' is missing (the model needs it)"
ok "a feature column missing at prediction time"

unseen_msg="unseen.csv:3:1: column 'state' holds 'ZZ', a category the model never saw in training (--unseen ignore encodes it as all zeros)"
predict_fails 1 "$unseen_msg" models/churn --data unseen.csv
run "$FERRY" eval models/churn --data unseen.csv
expect_status 1
expect_err_line "error: $unseen_msg"
run "$FERRY" predict models/churn --data unseen.csv --out pred.csv --unseen ignore
expect_status 0
expect_out_contains "rows=3"
expect_eq "$(wc -l <pred.csv)" 4 "prediction lines"
expect_eq "$(head -1 pred.csv)" "prediction,probability_no,probability_yes" "predictions header"
rm pred.csv
run "$FERRY" predict models/churn --data unseen.csv --out pred.csv --unseen skip
expect_status 2
expect_err_line "error: --unseen expects error or ignore, got 'skip'"
expect_nothing_written pred.csv
ok "an unseen category is an error at file:line:col, and all zeros with --unseen ignore"

predict_fails 1 "not-number.csv:4:$col: expected a number in column 'total_day_minutes', got 'lots'" \
	models/churn --data not-number.csv
ok "a non-number in a numeric feature column at file:line:col"

# a bad last row, megabytes after the first flush of predictions, over an existing file
{
	cat churn.csv
	for _ in 1 2 3 4 5 6 7 8; do tail -n +2 churn.csv; done
	sed -n '2s/^"KS"/"ZZ"/p' churn.csv
} >big.csv
lines=$(wc -l <big.csv)
echo "old predictions" >pred.csv
run "$FERRY" predict models/churn --data big.csv --out pred.csv
expect_status 1
expect_err_line "error: big.csv:$lines:1: column 'state' holds 'ZZ', a category the model never saw in training (--unseen ignore encodes it as all zeros)"
expect_eq "$(cat pred.csv)" "old predictions" "predictions file after a failed predict"
expect_no_temp .
rm pred.csv
ok "a predict failing at the last of 45001 rows leaves the old predictions file as it was"

cp -r models/churn models/v2
chmod -R u+w models/v2
jq '.format_version = 2' models/churn/model.json >models/v2/model.json
predict_fails 1 "models/v2 was written by a newer ferry (model format 2; this ferry reads 1): upgrade ferry to load it" \
	models/v2 --data new.csv
run "$FERRY" eval models/v2 --data new.csv
expect_status 1
expect_err_line "error: models/v2 was written by a newer ferry (model format 2; this ferry reads 1): upgrade ferry to load it"
ok "a model of a newer format version asks for a newer ferry"

cp -r models/churn models/bad-weights
chmod -R u+w models/bad-weights
printf '\x7f' | dd of=models/bad-weights/linear.bin bs=1 seek=17 conv=notrunc status=none
# expect_digest_mismatch MODEL FILE: predicting with MODEL fails on FILE's digest, named with
# sha256sum's digest of it and the one recorded in model.json, in one whole line.
expect_digest_mismatch() {
	local recorded
	recorded=$(jq -r ".files[\"$2\"].digest" "$1/model.json")
	run "$FERRY" predict "$1" --data iris.csv --out pred.csv
	expect_status 1
	expect_err_line "error: $1/$2: content digest sha256:$(sha256 "$1/$2") does not match $recorded recorded in model.json (the file was modified or is corrupt)"
	expect_nothing_written pred.csv
}
expect_digest_mismatch models/bad-weights linear.bin

cp -r models/iris-xgb models/bad-booster
chmod -R u+w models/bad-booster
printf ' ' >>models/bad-booster/model.ubj
expect_digest_mismatch models/bad-booster model.ubj

cp -r models/churn models/bad-json
chmod -R u+w models/bad-json
jq '.threshold = 0.1' models/churn/model.json >models/bad-json/model.json
recorded=$(jq -r .digest models/bad-json/model.json)
run "$FERRY" predict models/bad-json --data new.csv --out pred.csv
expect_status 1
expect_err_contains "error: models/bad-json/model.json: content digest sha256:"
expect_err_contains " does not match $recorded recorded in it (the file was edited or is corrupt)"
expect_nothing_written pred.csv
ok "a tampered weights file or model.json is a digest mismatch naming the file"

cp -r models/churn models/no-weights
chmod -R u+w models/no-weights
rm models/no-weights/linear.bin
predict_fails 1 "cannot open 'models/no-weights/linear.bin': No such file or directory" \
	models/no-weights --data new.csv
mkdir models/empty
predict_fails 1 "'models/empty' is not a ferry model (no model.json)" models/empty --data new.csv
predict_fails 1 "'models/none' is not a model directory" models/none --data new.csv
ok "a missing weights file, an empty directory, no directory"

# --- where the model goes ---

echo "not a model" >notes.txt
run "$FERRY" train --data iris.csv --target target --out notes.txt
expect_status 1
expect_err_line "error: 'notes.txt' exists and is not a ferry model: refusing to replace it"
expect_eq "$(cat notes.txt)" "not a model" "the regular file --out named"
expect_no_temp .
mkdir -p work/src && echo "int main;" >work/src/main.c && echo keep >work/README
before=$(tree_digest work)
run "$FERRY" train --data iris.csv --target target --out work
expect_status 1
expect_err_line "error: 'work' exists and is not a ferry model: refusing to replace it"
expect_eq "$(tree_digest work)" "$before" "the directory --out named"
expect_no_temp .
ok "--out naming a regular file or a directory that is not a model is refused, unchanged"

run "$FERRY" train --data iris.csv --target target --model xgboost --param n_estimators=3 \
	--out models/iris
expect_status 0
first=$(sha256 models/iris/model.json)
{ head -1 iris.csv && tail -n +2 iris.csv | sed -n '1~3!p'; } >iris-part.csv
run "$FERRY" train --data iris-part.csv --target target --out models/iris
expect_status 0
[ "$(sha256 models/iris/model.json)" != "$first" ] || fail "model.json did not change on re-training"
expect_eq "$(jq -r '.data.digest' models/iris/model.json)" "sha256:$(sha256 iris-part.csv)" "dataset digest"
expect_eq "$(ls -A models/iris | tr '\n' ' ')" "linear.bin model.json " "model directory contents"
expect_no_temp models
ok "re-training into a model directory replaces it whole (no stale model.ubj), leaving no temp dirs"

before=$(tree_digest models/iris)
run "$FERRY" train --data nonfinite.csv --target y --out models/iris
expect_status 1
expect_eq "$(tree_digest models/iris)" "$before" "the model after a training on bad data"
# a failure at the last stage, writing model.json (~9 KiB, over the 2 KiB limit), after the
# weights (120 bytes) were written
(
	trap '' XFSZ
	ulimit -f 2
	"$FERRY" train --data iris.csv --target target --out models/iris >"$TEST_TMP/.out" \
		2>"$TEST_TMP/.err"
) && fail "train succeeded beyond the file size limit"
expect_err_contains "model.json"
expect_err_contains "File too large"
expect_eq "$(tree_digest models/iris)" "$before" "the model after a training failing while saving"
expect_no_temp models
run "$FERRY" predict models/iris --data iris.csv --out pred.csv
expect_status 0
ok "a training failing early or late leaves the old model intact and no temp dirs"

# an empty directory as --out is taken over only on success; parents made for --out are removed
# again when saving fails
mkdir emptyout
(
	trap '' XFSZ
	ulimit -f 2
	"$FERRY" train --data iris.csv --target target --out emptyout >/dev/null 2>&1
) && fail "train succeeded beyond the file size limit"
[ -d emptyout ] && [ -z "$(ls -A emptyout)" ] || fail "the empty --out directory was removed or filled"
(
	trap '' XFSZ
	ulimit -f 2
	"$FERRY" train --data iris.csv --target target --out new/parent/m >/dev/null 2>&1
) && fail "train succeeded beyond the file size limit"
[ ! -e new ] || fail "parent directories made for --out were left behind"
run "$FERRY" train --data iris.csv --target target --out emptyout
expect_status 0
[ -f emptyout/model.json ] || fail "no model in the empty --out directory"
ok "an empty --out directory survives a failed save; parents made for it are removed"

# a model.json whose model and task disagree is refused even with a valid digest
python3 - models/churn models/mixed <<'PY'
import hashlib, json, shutil, subprocess, sys
src, dst = sys.argv[1:]
shutil.copytree(src, dst)
doc = json.load(open(dst + "/model.json"))
doc["task"] = doc["target"]["task"] = "regression"
del doc["target"]["classes"]
json.dump(doc, open(dst + "/model.json", "w"))
PY
chmod -R u+w models/mixed
run "$FERRY" predict models/mixed --data churn.csv --out pred-mixed.csv
expect_status 1
digest=$(sed -n 's/.*content digest \(sha256:[0-9a-f]*\) does not match.*/\1/p' .err)
[ -n "$digest" ] || fail "no digest mismatch reported for the edited model.json"
# (python keeps 1.0 a real; jq would turn it into the integer 1 and change the digest)
python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); d["digest"] = sys.argv[2]
json.dump(d, open(sys.argv[1], "w"))' models/mixed/model.json "$digest"
run "$FERRY" predict models/mixed --data churn.csv --out pred-mixed.csv
expect_status 1
expect_err_line "error: models/mixed/model.json: a logreg model cannot do regression"
expect_nothing_written pred-mixed.csv
ok "a model whose type and task disagree is refused, even with its digest recomputed"

printf 'x,y\n1,a\n2,a\n3,b\n4,b\n5,c\n' >tiny.csv
train_fails 1 "tiny.csv: target 'y' has 1 row of class 'c': a stratified holdout needs at least 2 rows per class (remove the class's rows or choose another target)" \
	--data tiny.csv --target y
mkdir preds-dir
run "$FERRY" predict models/iris --data iris.csv --out preds-dir
expect_status 1
expect_err_line "error: --out 'preds-dir' is a directory; name a file"
run "$FERRY" train --data iris.csv --target target --out churn.csv
expect_status 1
expect_err_line "error: 'churn.csv' exists and is not a ferry model: refusing to replace it"
ok "a class too small to split is named by its label; unusable --out paths fail before the work"

done_testing
