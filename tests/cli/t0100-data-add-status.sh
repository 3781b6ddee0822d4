#!/usr/bin/env bash
# ferry data add and status: digests checked against sha256sum, pointer files, .gitignore, the
# cache layout, directories with awkward names, and the stat cache.
. "$(dirname "$0")/lib.sh"

new_project p
cd p
mkdir -p data/v1
cp "$FERRY_SOURCE/examples/data/iris.csv" data/v1/train.csv
want=$(sha256 data/v1/train.csv)

run "$FERRY" data add data/v1/train.csv
expect_status 0
expect_out_contains "data/v1/train.csv  sha256:$want"
expect_eq "$(pointer_digest data/v1/train.csv.ferry)" "$want" "pointer digest"
expect_eq "$(sed -n 's/^size: //p' data/v1/train.csv.ferry)" "$(stat -c %s data/v1/train.csv)" "pointer size"
ok "add prints the digest and writes a pointer whose digest is sha256sum's"

obj=$(object_path . "$want")
[ -f "$obj" ] || fail "no cache object at $obj"
expect_eq "$(sha256 "$obj")" "$want" "object content"
expect_eq "$(stat -c %a "$obj")" 444 "object mode"
ok "the object is at objects/sha256/<2>/<62>, read-only, with the file's bytes"

grep -qx '/train.csv' data/v1/.gitignore || fail ".gitignore lacks /train.csv"
git add -A
git diff --cached --name-only | grep -qx data/v1/train.csv && fail "git would commit the data"
git diff --cached --name-only | grep -qx data/v1/train.csv.ferry || fail "git would not commit the pointer"
git commit -qm "train v1"
ok "the data is ignored by git, the pointer is not"

run "$FERRY" --json data status
expect_status 0
expect_eq "$(jq -r '.[0].state' <<<"$OUT")" "up to date" "status"
expect_eq "$(jq -r '.[0].digest' <<<"$OUT")" "sha256:$want" "status digest"
ok "status: up to date"

echo "5.0,3.0,1.0,0.2,0" >>data/v1/train.csv
run "$FERRY" --json data status data/v1/train.csv
expect_eq "$(jq -r '.[0].state' <<<"$OUT")" modified "status after an edit"
expect_eq "$(jq -r '.[0].workspace_digest' <<<"$OUT")" "sha256:$(sha256 data/v1/train.csv)" "workspace digest"
expect_eq "$(sha256 "$obj")" "$want" "cached object after editing the workspace file"
ok "an edited file is modified, and the cache object is untouched"

run "$FERRY" data add data/v1/train.csv
new=$(sha256 data/v1/train.csv)
expect_eq "$(pointer_digest data/v1/train.csv.ferry)" "$new" "pointer after re-add"
[ -f "$(object_path . "$new")" ] && [ -f "$obj" ] || fail "both versions should be cached"
ok "re-adding records the new version and keeps the old object"

rm data/v1/train.csv
run "$FERRY" --json data status
expect_eq "$(jq -r '.[0].state' <<<"$OUT")" missing "status of a deleted file"
run "$FERRY" data checkout
expect_status 0
expect_eq "$(sha256 data/v1/train.csv)" "$new" "restored content"
ok "a missing file is reported and restored by checkout"

# A directory with awkward names: spaces, UTF-8, a newline, an executable, nesting.
mkdir -p "imgs/sub dir/deeper" imgs/empty
printf 'a' >"imgs/a.txt"
printf 'bb' >"imgs/sub dir/b b.txt"
printf 'ccc' >"imgs/sub dir/deeper/é.bin"
printf 'nl' >"imgs/new
line"
printf '#!/bin/sh\n' >imgs/run.sh && chmod +x imgs/run.sh
run "$FERRY" --json data add imgs
expect_status 0
expect_eq "$(jq -r '.[0].files' <<<"$OUT")" 5 "file count"
expect_eq "$(jq -r '.[0].size' <<<"$OUT")" $((1 + 2 + 3 + 2 + 10)) "total size"
dir=$(pointer_digest imgs.ferry)
manifest=$(object_path . "$dir")
expect_eq "$(sha256 "$manifest")" "$dir" "manifest digest"
ok "a directory's digest is the sha256 of its manifest object"

# Every manifest line names a file by its sha256sum digest and size.
expect_eq "$(head -n1 "$manifest")" "ferry-manifest 1" "manifest header"
expect_eq "$(grep -c . "$manifest")" 6 "manifest lines"
grep -qxF "$(sha256 imgs/a.txt) 1 644 a.txt" "$manifest" || fail "manifest entry for a.txt"
grep -qxF "$(sha256 'imgs/sub dir/b b.txt') 2 644 sub dir/b b.txt" "$manifest" || fail "manifest entry with spaces"
grep -qxF "$(sha256 'imgs/sub dir/deeper/é.bin') 3 644 sub dir/deeper/é.bin" "$manifest" || fail "UTF-8 entry"
grep -qxF "$(sha256 "imgs/new
line") 2 644 new\\nline" "$manifest" || fail "entry with a newline"
grep -qxF "$(sha256 imgs/run.sh) 10 755 run.sh" "$manifest" || fail "executable entry"
ok "manifest entries match sha256sum, with modes and escaped names"

run "$FERRY" data status imgs
expect_out_contains "up to date    imgs"
printf 'changed' >"imgs/sub dir/b b.txt"
run "$FERRY" data status imgs
expect_out_contains "modified      imgs"
rm imgs/a.txt
run "$FERRY" data diff imgs
expect_out_contains "$(printf 'D\timgs/a.txt')"
expect_out_contains "$(printf 'M\timgs/sub dir/b b.txt')"
ok "status and diff see changes inside a directory"

run "$FERRY" data checkout imgs
expect_status 1
expect_err_line "error: checkout would lose workspace changes that are not in the cache: 'imgs/sub dir/b b.txt'; run 'ferry data add' to keep them or use --force"
expect_eq "$(cat 'imgs/sub dir/b b.txt')" changed "file after a refused checkout"
[ ! -e imgs/a.txt ] || fail "a refused checkout wrote files"
ok "checkout refuses to lose changes that are not in the cache, and writes nothing"

run "$FERRY" data checkout --force imgs
expect_status 0
expect_eq "$(cat imgs/a.txt)" a "restored file"
expect_eq "$(cat 'imgs/sub dir/b b.txt')" bb "restored file"
run "$FERRY" data status imgs
expect_out_contains "up to date    imgs"
ok "checkout --force restores the directory"

git add -A && git commit -qm "imgs v1"
printf 'extra' >imgs/extra.txt
"$FERRY" data add -q imgs
git add -A && git commit -qm "imgs v2"
git checkout -q HEAD~1 -- imgs.ferry
run "$FERRY" data checkout imgs
expect_status 0
[ ! -e imgs/extra.txt ] || fail "checkout of the old version kept a file it does not have"
ok "checking out an older version removes files it does not have (they are in the cache)"

done_testing
