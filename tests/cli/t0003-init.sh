#!/usr/bin/env bash
# ferry init: the layout it creates, what git sees, refusals, and root discovery from below.
. "$(dirname "$0")/lib.sh"

new_repo repo
cd repo
run "$FERRY" init
expect_status 0
expect_out_contains "Initialized ferry project in $TEST_TMP/repo/.ferry"
for f in .ferry/config.yaml .ferry/.gitignore .ferry/ferry.db; do
	[ -f "$f" ] || fail "init did not create $f"
done
[ -d .ferry/cache ] || fail "init did not create .ferry/cache"
ok "init creates config.yaml, .gitignore, the store and the cache"

ls -a | grep -q '^\.ferry-init-' && fail "init left its temporary directory behind"
ok "no temporary directory is left behind"

# what ferry writes there later stays local too
for d in cache/x tmp/x models/x inference/x runs/x retrain/x; do
	mkdir -p ".ferry/$d" && echo data >".ferry/$d/file"
done
git add -A
staged=$(git diff --cached --name-only | sort | tr '\n' ' ')
expect_eq "$staged" ".ferry/.gitignore .ferry/config.yaml " "files git would commit"
ok "git sees config.yaml and .gitignore only; store, cache, logs, runs and challengers stay out"

# Independent check of the store with the sqlite3 tool.
expect_eq "$(sqlite3 .ferry/ferry.db 'PRAGMA journal_mode')" wal "journal mode"
tables=$(sqlite3 .ferry/ferry.db "SELECT name FROM sqlite_master WHERE type='table'")
for t in schema_version experiments runs params metrics latest_metrics run_tags datasets \
	registered_models model_versions model_aliases; do
	grep -qx "$t" <<<"$tables" || fail "store has no table '$t'"
done
expect_eq "$(sqlite3 .ferry/ferry.db "SELECT name FROM experiments WHERE experiment_id='0'")" \
	Default "default experiment"
ok "the store is SQLite in WAL mode with the lifecycle schema and a Default experiment"

run "$FERRY" init
expect_status 1
expect_err_line "error: '$TEST_TMP/repo' is already a ferry project ('$TEST_TMP/repo/.ferry' exists)"
ok "a repeated init is refused"

mkdir -p sub/deeper
run "$FERRY" -C sub/deeper init
expect_status 1
expect_err_line "error: refusing to create a nested project: '$TEST_TMP/repo/sub/deeper' is inside the ferry project at '$TEST_TMP/repo'"
[ ! -e sub/deeper/.ferry ] || fail "nested init created .ferry"
ok "a nested init is refused"

run "$FERRY" -C sub/deeper --json store info
expect_status 0
expect_eq "$(jq -r .location <<<"$OUT")" "$TEST_TMP/repo/.ferry/ferry.db" "store found from a subdirectory"
ok "commands find the project root by walking up"

cd "$TEST_TMP"
mkdir plain
run "$FERRY" -C plain init
expect_status 0
expect_out_contains "hint: '$TEST_TMP/plain' is not in a git repository"
ok "init outside git works and hints at git init"

run "$FERRY" --json init made/by/init
expect_status 0
expect_eq "$(jq -r .root <<<"$OUT")" "$TEST_TMP/made/by/init" "init DIR root"
expect_eq "$(jq -r .git <<<"$OUT")" false "init DIR git flag"
[ -f made/by/init/.ferry/config.yaml ] || fail "init DIR did not create the project"
ok "init DIR creates DIR and reports JSON"

mkdir ro && chmod 555 ro
if [ "$(id -u)" -ne 0 ]; then
	run "$FERRY" -C ro init
	expect_status 1
	expect_err_contains "cannot create a directory in '$TEST_TMP/ro'"
	ok "an unwritable directory is a clear error"
fi

done_testing
