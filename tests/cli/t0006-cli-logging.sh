#!/usr/bin/env bash
# FERRY_LOG and -v turn on diagnostics on stderr; stdout stays clean for scripts.
. "$(dirname "$0")/lib.sh"

new_repo repo
"$FERRY" -C repo init -q

FERRY_LOG=debug run "$FERRY" -C repo --json store info
expect_status 0
expect_err_contains "ferry: debug: "
expect_err_contains "opening store 'sqlite:$TEST_TMP/repo/.ferry/ferry.db'"
jq -e .backend <<<"$OUT" >/dev/null || fail "stdout is not clean JSON with FERRY_LOG=debug"
ok "FERRY_LOG=debug logs to stderr and leaves stdout parseable"

run "$FERRY" -C repo -v store info
expect_status 0
expect_err_contains "project root '$TEST_TMP/repo'"
ok "-v turns on debug logging"

run "$FERRY" -C repo store info
expect_status 0
[ -z "$ERR" ] || fail "unexpected stderr without logging: $ERR"
ok "silent by default"

FERRY_LOG=loud run "$FERRY" -C repo store info
expect_status 0
expect_err_contains "FERRY_LOG: unknown level 'loud' (expected error, warn, info, debug or trace); using 'warn'"
ok "an unknown FERRY_LOG level is a warning, not a failure"

done_testing
