#!/usr/bin/env bash
# A full disk (ENOSPC on a small tmpfs) and permission denied: clear errors, nothing partial,
# re-running after the cause is fixed completes. Needs root (mount, and dropping to 'nobody');
# exits 77 (reported as skipped by CTest) where that is not possible.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || { echo "skip: needs root to mount a tmpfs"; exit 77; }
mkdir small
mount -t tmpfs -o size=6m tmpfs small 2>/dev/null || { echo "skip: cannot mount a tmpfs here"; exit 77; }
cleanup() { cd /; umount "$TEST_TMP/small" 2>/dev/null; rm -rf "$TEST_TMP"; }
trap cleanup EXIT

new_project small/p
cd small/p
head -c 2000000 /dev/urandom >filler.bin
head -c 2500000 /dev/urandom >data.bin
run "$FERRY" data add data.bin
expect_status 1
expect_err_contains "No space left on device"
expect_err_contains "data.bin"
[ ! -e data.bin.ferry ] || fail "a pointer was written although the object could not be"
[ -z "$(find .ferry/cache -type f)" ] || fail "the failed add left files in the cache: $(find .ferry/cache -type f)"
ok "a full disk: a clear error, no pointer, no partial object or temporary file"

rm filler.bin
run "$FERRY" data add data.bin
expect_status 0
expect_eq "$(pointer_digest data.bin.ferry)" "$(sha256 data.bin)" "digest after freeing space"
run "$FERRY" data verify
expect_status 0
ok "after freeing space, re-running add completes and verifies"

# Permission denied, as an unprivileged user (root reads everything).
cd "$TEST_TMP"
new_project q
echo secret >q/locked.csv
chmod 000 q/locked.csv
chown -R nobody:nogroup q
chmod 755 "$TEST_TMP"
run setpriv --reuid=nobody --regid=nogroup --clear-groups env HOME="$TEST_TMP" "$FERRY" -C q data add locked.csv
expect_status 1
expect_err_line "error: cannot open '$TEST_TMP/q/locked.csv': Permission denied"
[ ! -e q/locked.csv.ferry ] || fail "a pointer was written for an unreadable file"
ok "an unreadable file is a clear error naming it"

done_testing
