#!/usr/bin/env bash
# Commands outside a project, and damaged or wrong configuration: messages name file:line:col.
. "$(dirname "$0")/lib.sh"

mkdir empty
run "$FERRY" -C empty store info
expect_status 1
expect_err_line "error: not a ferry project (or any parent up to /): '$TEST_TMP/empty'; run 'ferry init' at the top of your repository first"
ok "missing project"

new_repo repo
"$FERRY" -C repo init -q
cfg=repo/.ferry/config.yaml
cp "$cfg" good.yaml

printf 'version: 1\nstore: "sqlite:ferry.db\n' >"$cfg"
run "$FERRY" -C repo store info
expect_status 1
expect_err_contains "error: $TEST_TMP/$cfg:2:8:"
ok "corrupt YAML is reported with file:line:col"

printf 'version: 1\ncache:\n  dri: cache\n' >"$cfg"
run "$FERRY" -C repo config list
expect_status 1
expect_err_line "error: $TEST_TMP/$cfg:3:3: unknown key 'cache.dri'; did you mean 'cache.dir'?"
ok "unknown key with a suggestion"

printf 'version: 1\nstore:\n  path: x\n' >"$cfg"
run "$FERRY" -C repo config list
expect_status 1
expect_err_line "error: $TEST_TMP/$cfg:3:3: key 'store': expected a string, got a mapping"
ok "wrong type names the key and what was expected"

printf 'version: two\n' >"$cfg"
run "$FERRY" -C repo config list
expect_status 1
expect_err_line "error: $TEST_TMP/$cfg:1:10: key 'version': expected an integer, got 'two'"
ok "non-numeric version"

printf 'version: 2\n' >"$cfg"
run "$FERRY" -C repo config list
expect_status 1
expect_err_line "error: $TEST_TMP/$cfg: config version 2 is not supported by this ferry (expected 1)"
ok "future config version"

printf 'version: 1\nstore: postgresql://localhost/ferry\n' >"$cfg"
run "$FERRY" -C repo store info
expect_status 1
expect_err_line "error: postgresql store is not built yet"
ok "postgresql store URIs are recognised and reported as not built"

cp good.yaml "$cfg"
run "$FERRY" -C repo config get stroe
expect_status 1
expect_err_line "error: unknown config key 'stroe'; did you mean 'store'?"
run "$FERRY" -C repo config get store
expect_status 0
expect_eq "$OUT" "sqlite:ferry.db" "config get store"
ok "config get"

FERRY_STORE="sqlite:$TEST_TMP/other.db" run "$FERRY" -C repo --json store info
expect_status 0
expect_eq "$(jq -r .location <<<"$OUT")" "$TEST_TMP/other.db" "FERRY_STORE override"
ok "FERRY_STORE overrides the configured store"

rm "$cfg"
run "$FERRY" -C repo store info
expect_status 1
expect_err_line "error: '$TEST_TMP/$cfg' is missing; the project at '$TEST_TMP/repo' is damaged (restore it from git)"
ok "missing config"

done_testing
