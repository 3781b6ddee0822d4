#!/usr/bin/env bash
# Gated promotion: the challenger and the champion are scored on the same labelled data, the
# gate decides, a refusal changes nothing; concurrent promotions and promotions killed midway
# leave the alias and its history consistent.
. "$(dirname "$0")/lib.sh"

new_project p
cd p
db=.ferry/ferry.db
q() { sqlite3 "$db" "$1"; }
mkdir -p data
# a deterministic split: every 4th row held out
awk -F, 'NR == 1 || (NR - 2) % 4 != 0' "$FERRY_SOURCE/examples/data/breast_cancer.csv" >data/train.csv
awk -F, 'NR == 1 || (NR - 2) % 4 == 0' "$FERRY_SOURCE/examples/data/breast_cancer.csv" >data/holdout.csv
"$FERRY" train -q --data data/train.csv --target target --out m/weak --param C=0.0005 --param max_iter=3 --register cancer >/dev/null
"$FERRY" train -q --data data/train.csv --target target --out m/lr --register cancer >/dev/null
"$FERRY" train -q --data data/train.csv --target target --out m/xgb --model xgboost --param n_estimators=20 --register cancer >/dev/null
expect_eq "$(q "SELECT group_concat(version) FROM model_versions")" "1,2,3" "three versions"

# the reference numbers: each version scored on the holdout by `ferry eval`
metric() { "$FERRY" eval "models:/cancer/$1" --data data/holdout.csv --json | jq ".metrics.$2"; }
for v in 1 2 3; do
	f1[$v]=$(metric "$v" f1)
	auc[$v]=$(metric "$v" roc_auc)
done
ge() { python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) >= float(sys.argv[2]) else 1)" "$1" "$2"; }
ge "${f1[2]}" "${f1[1]}" && ! ge "${f1[1]}" "${f1[2]}" || fail "fixture: v2 should beat v1 on f1 (${f1[2]} vs ${f1[1]})"

run "$FERRY" models promote cancer 1 --to production --gate "f1 >= champion" --data data/holdout.csv
expect_status 0
expect_eq "$(q "SELECT version FROM model_aliases WHERE alias = 'production'")" 1 "first promotion"
ok "the first promotion has no champion: conditions against it hold"

run "$FERRY" models promote cancer 2 --to production --gate "f1 >= champion" --data data/holdout.csv --json
expect_status 0
expect_eq "$(printf '%s' "$OUT" | jq .challenger_metrics.f1)" "${f1[2]}" "challenger f1 printed = eval"
expect_eq "$(printf '%s' "$OUT" | jq .champion_metrics.f1)" "${f1[1]}" "champion f1 printed = eval"
expect_eq "$(printf '%s' "$OUT" | jq -r '(.champion|tostring) + " " + (.moved|tostring)')" "1 true" "moved from 1"
expect_eq "$(q "SELECT version FROM model_aliases WHERE alias = 'production'")" 2 "v2 promoted"
ok "a better challenger passes 'f1 >= champion' on the same data and moves the alias"

events=$(q "SELECT count(*) FROM model_events")
run "$FERRY" models promote cancer 1 --to production --gate "f1 >= champion" --data data/holdout.csv
expect_status 1
expect_err_contains "gate refused"
expect_out_contains "challenger v1"
expect_out_contains "champion v2"
expect_out_contains "fail"
expect_eq "$(q "SELECT version FROM model_aliases WHERE alias = 'production'")" 2 "alias unchanged"
expect_eq "$(q "SELECT count(*) FROM model_events")" "$events" "history unchanged"
ok "a worse challenger is refused: both metrics shown, non-zero exit, nothing changed"

if ge "${auc[3]}" 0.5; then want=0; else want=1; fi
run "$FERRY" models promote cancer 3 --to staging --gate "auc >= 0.5 and roc_auc >= 0.5" --data data/holdout.csv
expect_status $want
run "$FERRY" models promote cancer 3 --to canary --gate "auc >= 1.5" --data data/holdout.csv
expect_status 1
expect_eq "$(q "SELECT count(*) FROM model_aliases WHERE alias = 'canary'")" 0 "no canary alias"
ok "gates against constants, several joined with 'and'"

run "$FERRY" models promote cancer 3 --to production --gate "f1 >= champion - 2" --data data/holdout.csv
expect_status 0
expect_eq "$(q "SELECT version FROM model_aliases WHERE alias = 'production'")" 3 "tolerance"
run "$FERRY" models rollback cancer
expect_eq "$(q "SELECT version FROM model_aliases WHERE alias = 'production'")" 2 "rolled back"
ok "champion with a tolerance; rollback after a promotion"

run "$FERRY" models promote cancer 3 --to production --gate "f1 >= champ" --data data/holdout.csv
expect_status 1
expect_err_contains "column"
run "$FERRY" models promote cancer 3 --to production --gate "f9 >= 0.5" --data data/holdout.csv
expect_status 1
expect_err_contains "f9"
expect_err_contains "roc_auc"
run "$FERRY" models promote cancer 3 --to production --gate "f1 >= champion"
expect_status 2
expect_err_contains "--data"
run "$FERRY" models promote cancer 3 --to latest
expect_status 1
expect_eq "$(q "SELECT version FROM model_aliases WHERE alias = 'production'")" 2 "untouched by errors"
ok "malformed gates, unknown metrics, missing data and bad aliases are refused"

# Concurrency: promotions racing for the same alias. Each evaluates, then moves the alias only
# if it still points where it pointed when the evaluation began.
for i in 1 2 3 4 5 6; do
	v=$((2 + i % 2))
	"$FERRY" models promote cancer "$v" --to race --gate "f1 >= 0" --data data/holdout.csv \
		>race.$i.out 2>race.$i.err &
	pids[$i]=$!
done
wins=0
for i in 1 2 3 4 5 6; do
	if wait "${pids[$i]}"; then
		wins=$((wins + 1))
	else
		grep -q "meanwhile" race.$i.err || fail "a failed racer did not say the alias moved: $(cat race.$i.err)"
	fi
done
moves=$(q "SELECT count(*) FROM model_events WHERE alias = 'race'")
expect_eq "$moves" "$(cat race.*.out | grep -c '^cancer@race: ')" "one history event per alias move printed"
[ "$wins" -ge 1 ] || fail "no racer won"
# the history is a chain: each move starts where the previous one ended
chain=$(q "SELECT count(*) FROM model_events e JOIN model_events p ON p.alias = 'race' AND p.id = (SELECT max(id) FROM model_events WHERE alias = 'race' AND id < e.id) WHERE e.alias = 'race' AND e.from_version IS NOT p.to_version")
expect_eq "$chain" 0 "history chain"
expect_eq "$(q "SELECT version FROM model_aliases WHERE alias = 'race'")" \
	"$(q "SELECT to_version FROM model_events WHERE alias = 'race' ORDER BY id DESC LIMIT 1")" "alias = last event"
ok "concurrent promotions: each move recorded once, losers refused, history consistent ($wins of 6 moved)"

# Crash safety: promotions killed at random points leave the alias at the old or the new
# version, and the history agrees with it.
for i in $(seq 1 12); do
	before=$(q "SELECT version FROM model_aliases WHERE alias = 'production'")
	target=$((before == 2 ? 3 : 2))
	"$FERRY" models promote cancer "$target" --to production --gate "f1 >= 0" --data data/holdout.csv >/dev/null 2>&1 &
	pid=$!
	sleep "0.0$((RANDOM % 10))"
	kill -9 "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	after=$(q "SELECT version FROM model_aliases WHERE alias = 'production'")
	[ "$after" = "$before" ] || [ "$after" = "$target" ] || fail "alias at $after, neither $before nor $target"
	expect_eq "$(q "SELECT to_version FROM model_events WHERE alias = 'production' ORDER BY id DESC LIMIT 1")" "$after" "history agrees after kill $i"
done
expect_eq "$(q "PRAGMA integrity_check")" ok "store integrity"
ok "promotions killed midway leave the alias at the old or new version, history consistent"

done_testing
