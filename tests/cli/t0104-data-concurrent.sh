#!/usr/bin/env bash
# Two `ferry data add` at once on overlapping trees: both succeed, nothing is lost.
. "$(dirname "$0")/lib.sh"

new_project p
cd p
mkdir -p set/a set/b
for i in $(seq 1 200); do echo "a$i" >"set/a/$i.txt"; echo "b$i" >"set/b/$i.txt"; done
cp set/a/1.txt single.txt

"$FERRY" data add -q set/a single.txt 2>"$TEST_TMP/e1" &
p1=$!
"$FERRY" data add -q set/b single.txt 2>"$TEST_TMP/e2" &
p2=$!
"$FERRY" data add -q set/a 2>"$TEST_TMP/e3" &
p3=$!
wait $p1 || fail "first add failed: $(cat "$TEST_TMP/e1")"
wait $p2 || fail "second add failed: $(cat "$TEST_TMP/e2")"
wait $p3 || fail "third add failed: $(cat "$TEST_TMP/e3")"
grep -q "locked" "$TEST_TMP/e1" "$TEST_TMP/e2" "$TEST_TMP/e3" && fail "a lock error surfaced"
ok "three overlapping adds at once all succeed"

expect_eq "$(sort set/.gitignore | tr '\n' ' ')" "/a /b " "set/.gitignore entries"
expect_eq "$(grep -c . .gitignore)" 1 ".gitignore entries at the root"
run "$FERRY" --json data status
expect_eq "$(jq -r '[.[].state] | unique | join(",")' <<<"$OUT")" "up to date" "states"
run "$FERRY" data verify
expect_status 0
ok "pointers, .gitignore entries and the cache are all consistent afterwards"

# kill -9 in the middle of an add: re-running completes, and the cache verifies.
mkdir many
for i in $(seq 1 400); do head -c 32768 /dev/urandom >"many/$i.bin"; done
count_objects() { find .ferry/cache/objects -type f | wc -l; }
before=$(count_objects)
"$FERRY" data add -q -j 1 many &
pid=$!
for _ in $(seq 1 2000); do
	[ "$(count_objects)" -gt "$before" ] && break
	sleep 0.005
done
kill -9 "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
[ ! -e many.ferry ] || [ "$(count_objects)" -ge $((before + 401)) ] ||
	fail "a pointer was written before all objects were"
run "$FERRY" data add many
expect_status 0
run "$FERRY" data verify
expect_status 0
run "$FERRY" --json data status many
expect_eq "$(jq -r '.[0].state' <<<"$OUT")" "up to date" "state after the interrupted add"
ok "an add killed with -9 is completed by re-running it; verify is clean"

done_testing
