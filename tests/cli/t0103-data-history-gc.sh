#!/usr/bin/env bash
# data log (versions in git history), checkout after git checkout, and gc scopes.
. "$(dirname "$0")/lib.sh"

new_project p
cd p
mkdir data
printf 'v1\n' >data/train.csv
"$FERRY" data add -q data/train.csv
git add -A && git commit -qm "data v1"
v1=$(sha256 data/train.csv)
printf 'v2 is longer\n' >data/train.csv
"$FERRY" data add -q data/train.csv
git add -A && git commit -qm "data v2"
v2=$(sha256 data/train.csv)

run "$FERRY" --json data log data/train.csv
expect_status 0
expect_eq "$(jq -r 'length' <<<"$OUT")" 2 "versions in the log"
expect_eq "$(jq -r '.[0].digest' <<<"$OUT")" "sha256:$v2" "newest version"
expect_eq "$(jq -r '.[1].digest' <<<"$OUT")" "sha256:$v1" "oldest version"
expect_eq "$(jq -r '.[0].commit' <<<"$OUT")" "$(git rev-parse HEAD)" "newest commit"
expect_eq "$(jq -r '.[1].message' <<<"$OUT")" "data v1" "oldest message"
expect_eq "$(jq -r '.[1].size' <<<"$OUT")" 3 "oldest size"
run "$FERRY" data log data/train.csv.ferry
expect_status 0
expect_out_contains "sha256:${v1:0:16}"
ok "data log lists each version with commit, digest, size and message"

git checkout -q HEAD~1
run "$FERRY" data status
expect_out_contains "modified      data/train.csv"
run "$FERRY" data checkout
expect_status 0
expect_eq "$(sha256 data/train.csv)" "$v1" "content after git checkout + data checkout"
git checkout -q main
"$FERRY" data checkout -q
expect_eq "$(sha256 data/train.csv)" "$v2" "content back on main"
ok "git checkout + ferry data checkout moves between versions"

run "$FERRY" --json data gc --all-commits --dry-run
expect_eq "$(jq -r .removed <<<"$OUT")" 0 "gc --all-commits would remove"
run "$FERRY" data gc --dry-run
expect_status 0
expect_out_contains "sha256:$v1 3"
[ -f "$(object_path . "$v1")" ] || fail "dry run removed an object"
ok "gc --dry-run lists the unreferenced old version and removes nothing"

run "$FERRY" --json data gc --all-commits
expect_eq "$(jq -r .removed <<<"$OUT")" 0 "gc --all-commits removed"
run "$FERRY" --json data gc
expect_status 0
expect_eq "$(jq -r .removed <<<"$OUT")" 1 "gc removed"
[ ! -e "$(object_path . "$v1")" ] || fail "gc kept the old version"
[ -f "$(object_path . "$v2")" ] || fail "gc removed the current version"
run "$FERRY" data verify
expect_status 0
ok "gc removes what the workspace does not reference; --all-commits keeps history"

git checkout -q HEAD~1
run "$FERRY" data checkout
expect_status 1
expect_err_contains "object sha256:$v1 is not in the cache; run 'ferry data pull data/train.csv'"
ok "checking out a version gc removed says to pull it"

done_testing
