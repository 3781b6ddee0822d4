#!/usr/bin/env bash
# ferry help, generated --help, unknown commands and options with suggestions, exit codes.
. "$(dirname "$0")/lib.sh"

run "$FERRY" help
expect_status 0
for c in init config store version help; do
	grep -qE "^    $c +[a-z]" "$TEST_TMP/.out" || fail "ferry help does not list '$c'"
done
ok "ferry help lists every command with a summary"

run "$FERRY"
expect_status 2
expect_err_contains "usage: ferry"
ok "no command is a usage error (exit 2)"

run "$FERRY" help init
expect_status 0
expect_out_contains "usage: ferry init [DIR]"
expect_out_contains "--json"
help_via_help=$OUT
run "$FERRY" init --help
expect_status 0
expect_eq "$OUT" "$help_via_help" "'ferry init --help' and 'ferry help init' differ"
[ ! -e .ferry ] || fail "'ferry init --help' created a project"
ok "help CMD and CMD --help print the same generated usage, and do nothing else"

run "$FERRY" help store info
expect_status 0
expect_out_contains "usage: ferry store info"
ok "help for a sub-command works outside a project"

run "$FERRY" inti
expect_status 2
expect_err_line "error: 'inti' is not a ferry command; did you mean 'init'?"
ok "unknown command gets a suggestion and exit 2"

run "$FERRY" frobnicate
expect_status 2
expect_err_line "error: 'frobnicate' is not a ferry command; see 'ferry help'"
ok "unknown command without a close match"

run "$FERRY" version --jsn
expect_status 2
expect_err_line "error: unknown option '--jsn'; did you mean '--json'?"
ok "unknown option gets a suggestion and exit 2"

run "$FERRY" version -x
expect_status 2
expect_err_line "error: unknown switch '-x'"
ok "unknown short option"

run "$FERRY" --bogus version
expect_status 2
expect_err_line "error: unknown option '--bogus'"
ok "unknown global option"

run "$FERRY" version extra
expect_status 2
expect_err_line "error: 'ferry version' takes no arguments"
ok "extra arguments are usage errors"

new_repo repo
run "$FERRY" -C repo init
expect_status 0
run "$FERRY" -C repo store inf
expect_status 2
expect_err_line "error: 'inf' is not a 'ferry store' command; did you mean 'info'?"
ok "unknown sub-command gets a suggestion"

run "$FERRY" -C repo store
expect_status 2
expect_err_contains "    info"
ok "a family without a sub-command lists its sub-commands"

run "$FERRY" -C repo --json store inf
expect_status 2
[ "$(jq -r .error.code <<<"$OUT")" = usage ] || fail "--json error lacks error.code=usage"
ok "--json errors are JSON on stdout too"

done_testing
