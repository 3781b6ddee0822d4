#!/usr/bin/env bash
# A stage that fails leaves its previous outputs and ferry.lock untouched (what it half-wrote is
# removed, nothing stays in .ferry/tmp), the stages below it are not run, its run is FAILED; a
# stage that does not produce a declared output fails; output lines carry the stage's name.
. "$(dirname "$0")/lib.sh"

new_project p
cd p
db=.ferry/ferry.db
q() { sqlite3 "$db" "$1"; }
echo 1 >in.txt
mkdir -p src
cat >ferry.yaml <<'YAML'
stages:
  make:
    cmd: mkdir -p out && cp in.txt out/a.txt && echo "made $(cat in.txt)" && echo note >&2
    deps: [in.txt]
    outs: [out]
  use:
    cmd: cat out/a.txt >used.txt
    deps: [out]
    outs: [used.txt]
YAML
run "$FERRY" repro
expect_status 0
expect_out_contains "[make] made 1"
expect_err_line "[make] note"
cp ferry.lock "$TEST_TMP/lock1"
ok "stage output is prefixed with the stage's name, stdout and stderr apart"

# now 'make' writes part of its new output, then fails
echo 2 >in.txt
sed -i 's|cmd: mkdir -p out .*|cmd: mkdir -p out \&\& cp in.txt out/a.txt \&\& echo half >out/b.txt \&\& exit 4|' ferry.yaml
run "$FERRY" repro
expect_status 1
expect_err_contains "ferry: stage 'make' failed: stage 'make': 'mkdir -p out && cp in.txt out/a.txt && echo half >out/b.txt && exit 4' exited with status 4"
expect_eq "$(cat out/a.txt)" 1 "previous output"
[ ! -e out/b.txt ] || fail "the failed stage's partial output stayed"
cmp -s ferry.lock "$TEST_TMP/lock1" || fail "ferry.lock changed after a failure"
expect_eq "$(ls .ferry/tmp | grep -c repro || true)" 0 "leftovers in .ferry/tmp"
grep -q "running stage 'use'" "$TEST_TMP/.err" && fail "a stage below the failed one ran"
expect_err_line "ferry: stage 'use' not run: stage 'make' failed"
expect_eq "$(q "SELECT status FROM runs r JOIN run_tags t USING (run_id) WHERE t.key = 'ferry.pipeline.stage' AND t.value = 'make' ORDER BY r.start_time DESC LIMIT 1")" FAILED "run status"
run "$FERRY" status
expect_out_contains "make: cmd changed; dep 'in.txt' changed"
ok "a failed stage keeps its previous outputs and ferry.lock, and stops the stages below"

run "$FERRY" repro --json
expect_status 1
expect_eq "$(jq -s length "$TEST_TMP/.out")" 1 "JSON documents on stdout"
expect_eq "$(jq -c '[.stages[] | [.stage, .outcome]]' "$TEST_TMP/.out")" '[["make","failed"],["use","skipped"]]' "stages"
jq -r .error.message "$TEST_TMP/.out" | grep -q "^stage 'make': .* exited with status 4$" || fail "error: $OUT"
ok "repro --json prints one document: the stages and the error"

sed -i 's|cmd: mkdir -p out .*|cmd: echo forgot|' ferry.yaml
run "$FERRY" repro
expect_status 1
expect_err_contains "stage 'make' did not produce its output 'out'"
expect_eq "$(cat out/a.txt)" 1 "previous output"
cmp -s ferry.lock "$TEST_TMP/lock1" || fail "ferry.lock changed"
ok "a stage that does not write a declared output fails and changes nothing"

sed -i 's|cmd: echo forgot|cmd: mkdir -p out \&\& cp in.txt out/a.txt|' ferry.yaml
run "$FERRY" repro
expect_status 0
expect_eq "$(cat used.txt)" 2 "downstream output"
grep -q "^  \"use\":" ferry.lock || fail "use not in ferry.lock"
ok "fixed, the pipeline runs through"

# SIGTERM to ferry: passed on to the running command (its whole process group: the shell and
# its sleep), whose stage is undone
cp ferry.lock "$TEST_TMP/lock2"
echo 3 >in.txt
sed -i 's|cmd: mkdir -p out .*|cmd: mkdir -p out \&\& echo new >out/a.txt \&\& touch started \&\& sleep 60|' ferry.yaml
"$FERRY" repro >term.out 2>term.err &
pid=$!
for _ in $(seq 600); do [ -f started ] && break; sleep 0.05; done
[ -f started ] || fail "the stage did not start"
kill -TERM "$pid"
set +e
wait "$pid"
status=$?
set -e
expect_eq "$status" 1 "exit status after SIGTERM"
grep -q "interrupted by signal 15\|killed by signal 15" term.err || fail "no interruption reported: $(cat term.err)"
expect_eq "$(cat out/a.txt)" 2 "previous output after SIGTERM"
cmp -s ferry.lock "$TEST_TMP/lock2" || fail "ferry.lock changed after SIGTERM"
grep -q "running stage 'use'" term.err && fail "a stage below the interrupted one ran"
ok "SIGTERM stops the running command and undoes its stage"

done_testing
