#!/usr/bin/env bash
# Two `ferry repro` at once on stages that share an upstream stage: the second waits for the
# first's lock on the shared output (saying so) instead of failing, then finds it up to date;
# both record their stages in ferry.lock. -j 2 runs independent stages at the same time (each
# waits for the other to start: with one at a time they would give up and fail).
. "$(dirname "$0")/lib.sh"

new_project p
cd p
echo 1 >seed.txt
cat >ferry.yaml <<'YAML'
stages:
  base:
    cmd: touch base.started; while [ ! -f go ]; do sleep 0.05; done; cp seed.txt base.txt
    deps: [seed.txt]
    outs: [base.txt]
  left:
    cmd: cat base.txt >left.txt
    deps: [base.txt]
    outs: [left.txt]
  right:
    cmd: cat base.txt >right.txt
    deps: [base.txt]
    outs: [right.txt]
YAML
"$FERRY" repro left >left.out 2>left.err &
first=$!
for _ in $(seq 600); do [ -f base.started ] && break; sleep 0.05; done
[ -f base.started ] || fail "the first repro did not start 'base'"
"$FERRY" repro right >right.out 2>right.err &
second=$!
for _ in $(seq 600); do grep -q "waiting for another ferry repro" right.err && break; sleep 0.05; done
grep -qxF "ferry: stage 'base': waiting for another ferry repro holding 'base.txt'..." right.err ||
	fail "the second repro did not wait for the lock: $(cat right.err)"
touch go
wait "$first" || fail "the first repro failed: $(cat left.err)"
wait "$second" || fail "the second repro failed: $(cat right.err)"
grep -qxF "ferry: stage 'base' is up to date" right.err || fail "base ran twice: $(cat right.err)"
expect_eq "$(grep -c "running stage 'base'" left.err right.err | paste -sd,)" "left.err:1,right.err:0" "base runs"
expect_eq "$(grep -c '^  "' ferry.lock)" 3 "stages in ferry.lock"
expect_eq "$(cat left.txt right.txt | paste -sd,)" "1,1" "outputs"
run "$FERRY" status
expect_out_contains "pipeline is up to date"
ok "a second repro waits for the first's lock on a shared output, then finds it up to date"

cat >ferry.yaml <<'YAML'
stages:
  a:
    cmd: touch a.on; for i in $(seq 400); do [ -f b.on ] && break; sleep 0.05; done; [ -f b.on ] && echo a >a.txt
    outs: [a.txt]
  b:
    cmd: touch b.on; for i in $(seq 400); do [ -f a.on ] && break; sleep 0.05; done; [ -f a.on ] && echo b >b.txt
    outs: [b.txt]
YAML
run "$FERRY" repro -j 2
expect_status 0
expect_eq "$(cat a.txt b.txt | paste -sd,)" "a,b" "outputs"
run "$FERRY" repro -j 0
expect_status 2
expect_err_contains "-j expects 1 to 256"
ok "-j 2 runs independent stages at the same time"

done_testing
