#!/usr/bin/env bash
# Remotes: push only what is missing, pull into a fresh clone, verified transfers, corruption
# never published, and an interrupted push finished by re-running it.
. "$(dirname "$0")/lib.sh"

new_project p
cd p
mkdir -p data/v1 shards
cp "$FERRY_SOURCE/examples/data/mlc_churn.csv" data/v1/train.csv
for i in $(seq 1 40); do head -c $((i * 997)) /dev/urandom >"shards/part-$i.bin"; done
"$FERRY" data add -q data/v1/train.csv shards

run "$FERRY" data push
expect_status 1
expect_err_line "error: no remote is configured; add one with 'ferry remote add NAME URL'"
ok "push without a remote says how to add one"

run "$FERRY" remote add origin ../store
expect_status 0
expect_out_contains "added remote 'origin' -> $TEST_TMP/store (default)"
run "$FERRY" remote add bad s3x://bucket
expect_status 1
expect_err_contains "s3x://bucket"
run "$FERRY" --json remote list
expect_eq "$(jq -r '.[0].name' <<<"$OUT")" origin "remote name"
grep -q "default_remote: origin" .ferry/config.yaml || fail "config.yaml lacks the default remote"
ok "remote add writes config.yaml; bad URLs are refused"

git add -A && git commit -qm "data v1"
run "$FERRY" --json data push
expect_status 0
expect_eq "$(jq -r .transferred <<<"$OUT")" 42 "objects pushed (file + manifest + 40 shards)"
for f in data/v1/train.csv shards/part-7.bin; do
	h=$(sha256 "$f")
	r="$TEST_TMP/store/objects/sha256/${h:0:2}/${h:2}"
	[ -f "$r" ] || fail "remote lacks $f"
	expect_eq "$(sha256 "$r")" "$h" "remote object for $f"
done
ok "push sends every object; remote objects match sha256sum"

run "$FERRY" --json data push
expect_eq "$(jq -r .transferred <<<"$OUT")" 0 "objects pushed again"
expect_eq "$(jq -r .present <<<"$OUT")" 42 "objects already there"
ok "a second push sends nothing"

cd "$TEST_TMP"
git clone -q p clone
cd clone
run "$FERRY" --json data status
expect_eq "$(jq -r '[.[].state] | unique | join(",")' <<<"$OUT")" missing "status in a fresh clone"
run "$FERRY" data pull
expect_status 0
cmp data/v1/train.csv ../p/data/v1/train.csv || fail "pulled file differs"
diff -r shards ../p/shards || fail "pulled directory differs"
run "$FERRY" data verify
expect_status 0
ok "a fresh clone pulls the exact data and verifies"

# A corrupted local object is found by verify and never published.
cd "$TEST_TMP/p"
echo "new,row" >>data/v1/train.csv
"$FERRY" data add -q data/v1/train.csv
h=$(sha256 data/v1/train.csv)
obj=$(object_path . "$h")
chmod u+w "$obj" && printf 'X' | dd of="$obj" bs=1 seek=10 conv=notrunc 2>/dev/null
run "$FERRY" data verify
expect_status 1
expect_out_contains "cache object sha256:$h is corrupted"
run "$FERRY" data push
expect_status 1
[ ! -e "$TEST_TMP/store/objects/sha256/${h:0:2}/${h:2}" ] || fail "a corrupted object reached the remote"
ok "verify reports a corrupted object and push refuses to send it"

# An interrupted push (kill -9) is finished by re-running it.
"$FERRY" data checkout --force -q data/v1/train.csv 2>/dev/null || true
rm -f "$obj"
"$FERRY" data add -q data/v1/train.csv
mkdir big
for i in $(seq 1 300); do head -c 65536 /dev/urandom >"big/$i.bin"; done
"$FERRY" data add -q big
count_remote() { find "$TEST_TMP/store/objects" -type f | wc -l; }
before=$(count_remote)
"$FERRY" data push -j 1 -q &
pid=$!
# Kill it as soon as uploads are being staged in tmp/, so the push is interrupted mid-way.
for _ in $(seq 1 2000); do
	[ -n "$(ls -A "$TEST_TMP/store/tmp" 2>/dev/null)" ] && break
	sleep 0.005
done
kill -9 "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
after=$(count_remote)
[ "$after" -lt $((before + 302)) ] || fail "the push finished before it could be interrupted"
# A staged upload is never under its name yet: publishing renames it out of tmp/.
for f in "$TEST_TMP"/store/tmp/*; do
	[ -e "$f" ] || continue
	name=$(basename "$f")
	[ ! -e "$TEST_TMP/store/objects/sha256/${name:0:2}/${name:2:62}" ] || fail "$name is staged and named"
done
run "$FERRY" --json data push
expect_status 0
expect_eq "$(jq -r .failed <<<"$OUT")" 0 "failed objects after resuming"
bad=0
for f in "$TEST_TMP"/store/objects/sha256/*/*; do
	name=$(basename "$(dirname "$f")")$(basename "$f")
	[ "$(sha256 "$f")" = "$name" ] || bad=1
done
expect_eq "$bad" 0 "every remote object's content matches its name"
ok "a push killed with -9 completes when re-run; no partial object on the remote"

run "$FERRY" data fetch -r nowhere
expect_status 1
expect_err_line "error: no remote named 'nowhere'; see 'ferry remote list'"
ok "an unknown remote"

done_testing
