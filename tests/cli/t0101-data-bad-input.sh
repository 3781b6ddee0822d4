#!/usr/bin/env bash
# Bad input to the data commands: a clear error naming the path, exit 1, nothing half-written.
. "$(dirname "$0")/lib.sh"

new_project p
cd p

run "$FERRY" data add nope.csv
expect_status 1
expect_err_line "error: cannot stat '$TEST_TMP/p/nope.csv': No such file or directory"
[ ! -e nope.csv.ferry ] || fail "a pointer was written for a missing file"
ok "a missing path"

echo x >"$TEST_TMP/outside.txt"
run "$FERRY" data add "$TEST_TMP/outside.txt"
expect_status 1
expect_err_line "error: '$TEST_TMP/outside.txt' is outside the project at '$TEST_TMP/p'"
run "$FERRY" data add ../outside.txt
expect_status 1
expect_err_line "error: '../outside.txt' is outside the project at '$TEST_TMP/p'"
ok "paths outside the project"

run "$FERRY" data add .ferry/config.yaml
expect_status 1
expect_err_line "error: '.ferry/config.yaml' is inside .ferry/, ferry's own directory"
ok "ferry's own files"

mkfifo pipe
run "$FERRY" data add pipe
expect_status 1
expect_err_line "error: '$TEST_TMP/p/pipe' is a FIFO; only regular files and directories can be versioned"
mkdir d && echo hi >d/f && mkfifo d/pipe
run "$FERRY" data add d
expect_status 1
expect_err_line "error: '$TEST_TMP/p/d/pipe' is a FIFO; only regular files and directories can be versioned"
[ ! -e d.ferry ] || fail "a pointer was written for a refused directory"
ok "FIFOs are refused, also inside a directory"

echo data >real.txt
ln -s real.txt link.txt
run "$FERRY" data add link.txt
expect_status 1
expect_err_line "error: '$TEST_TMP/p/link.txt' is a symbolic link; only regular files and directories can be versioned"
rm d/pipe && ln -s ../real.txt d/link
run "$FERRY" data add d
expect_status 1
expect_err_line "error: '$TEST_TMP/p/d/link' is a symbolic link; only regular files and directories can be versioned"
ok "symbolic links are refused (policy: data is versioned by content)"

echo "a,b" >t.csv
"$FERRY" data add -q t.csv
printf 'digest: sha256:1234\nsize: 5\n' >t.csv.ferry
run "$FERRY" data status t.csv
expect_status 1
expect_err_line "error: $TEST_TMP/p/t.csv.ferry:1:9: 'digest' must be sha256: followed by 64 lowercase hex digits, got 'sha256:1234'"
printf 'digest: sha256:%s\nsize: 4\nszie: 4\n' "$(sha256 t.csv)" >t.csv.ferry
run "$FERRY" data status t.csv
expect_status 1
expect_err_line "error: $TEST_TMP/p/t.csv.ferry:3:1: unknown key 'szie'; did you mean 'size'?"
printf 'digest: [\n' >t.csv.ferry
run "$FERRY" data status
expect_status 1
expect_err_contains "error: $TEST_TMP/p/t.csv.ferry:"
ok "a pointer file edited into nonsense is an error with file:line:col"

"$FERRY" data add -q t.csv
mkdir -p nested/inner && echo 1 >nested/inner/x && "$FERRY" data add -q nested/inner/x
run "$FERRY" data add nested
expect_status 1
expect_err_line "error: 'nested' holds tracked data ('nested/inner/x.ferry'); add its parts separately, or remove that pointer file first"
mkdir -p tracked && echo 1 >tracked/f && "$FERRY" data add -q tracked
run "$FERRY" data add tracked/f
expect_status 1
expect_err_line "error: 'tracked/f' is inside the tracked directory 'tracked'; re-add 'tracked' instead"
ok "nested tracking is refused both ways"

run "$FERRY" data status not-tracked.csv
expect_status 1
expect_err_line "error: 'not-tracked.csv' is not tracked by ferry (no 'not-tracked.csv.ferry'); run 'ferry data add not-tracked.csv' first"
ok "status of an untracked path"

run "$FERRY" data add
expect_status 2
expect_err_line "error: 'ferry data add' needs at least one PATH"
ok "usage errors exit 2"

# A write that fails half-way (file size limit: EFBIG, as a full disk gives ENOSPC) leaves no
# partial object and no pointer.
head -c 3000000 /dev/urandom >big.bin
(
	trap '' XFSZ
	ulimit -f 1024
	"$FERRY" data add big.bin >"$TEST_TMP/.out" 2>"$TEST_TMP/.err"
) && fail "add succeeded beyond the file size limit"
expect_err_contains "big.bin"
[ ! -e big.bin.ferry ] || fail "a pointer was written after a failed add"
[ -z "$(find .ferry/cache/tmp -type f 2>/dev/null)" ] || fail "a temporary file was left in the cache"
[ ! -e "$(object_path . "$(sha256 big.bin)")" ] || fail "a partial object was left under its name"
run "$FERRY" data add big.bin
expect_status 0
run "$FERRY" data verify
expect_status 0
ok "a failed write leaves no partial object or pointer; re-running completes"

done_testing
