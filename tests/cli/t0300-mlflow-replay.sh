#!/usr/bin/env bash
# `ferry server` against recorded MLflow 2.10.2 client/server traffic (tests/data/mlflow): every
# recorded request in order, ids mapped to ferry's, status codes and answer structure compared.
. "$(dirname "$0")/lib.sh"

command -v python3 >/dev/null || { echo "skip: python3 not found"; exit 77; }
DATA=${FERRY_TEST_DATA:-$(dirname "$0")/../data}/mlflow

mkdir proj
(cd proj && "$FERRY" init -q >/dev/null)
start_ferry_server proj
ok "server listening at $URL"

run curl -fsS "$URL/health"
expect_status 0
expect_eq "$OUT" "OK" "/health"
run curl -fsS "$URL/version"
expect_eq "$OUT" "2.10.2" "/version"
ok "/health and /version"

run python3 "$DATA/replay.py" "$URL" "$DATA/fluent_trace.jsonl" "$DATA/exchanges_pretty.txt"
cat "$TEST_TMP/.out"
[ "$STATUS" -eq 0 ] || fail "replay found mismatches (see above)"
grep -q '^replay: [1-9][0-9]* match, 0 mismatch' "$TEST_TMP/.out" || fail "replay compared nothing"
ok "recorded traffic replays: $(tail -1 "$TEST_TMP/.out")"

# The server stops cleanly on SIGTERM.
kill -TERM "$SERVER_PID"
for _ in $(seq 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$SERVER_PID" 2>/dev/null && fail "server still running 10 s after SIGTERM"
wait "$SERVER_PID" && rc=0 || rc=$?
SERVER_PID=
expect_eq "$rc" 0 "exit status after SIGTERM"
ok "SIGTERM stops the server with status 0"

done_testing
