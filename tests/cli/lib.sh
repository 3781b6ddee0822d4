# Sourced by every tests/cli/tNNNN-*.sh: a private temporary directory, the binary under test,
# and assertions that print what was expected and what came instead. Inspired by git's t/.
set -euo pipefail

: "${FERRY:?set FERRY to the ferry binary under test}"
TEST_NAME=$(basename "$0" .sh)
TEST_TMP=$(mktemp -d "${TMPDIR:-/tmp}/ferry-$TEST_NAME-XXXXXX")
TESTS_RUN=0
SERVER_PID=
cleanup() {
	stop_ferry_server
	rm -rf "$TEST_TMP"
}
trap cleanup EXIT
cd "$TEST_TMP"
export HOME="$TEST_TMP/home" GIT_CONFIG_NOSYSTEM=1 FERRY_LOG= FERRY_STORE=
mkdir -p "$HOME"
git config --global user.email test@example.com
git config --global user.name "ferry test"
git config --global init.defaultBranch main

fail() {
	echo "FAIL [$TEST_NAME] $*" >&2
	if [ -f "$TEST_TMP/.out" ]; then
		echo "--- stdout:" >&2; head -c 4000 "$TEST_TMP/.out" >&2
		echo "--- stderr:" >&2; head -c 4000 "$TEST_TMP/.err" >&2
	fi
	exit 1
}

ok() {
	TESTS_RUN=$((TESTS_RUN + 1))
	echo "ok $TESTS_RUN - $*"
}

# run CMD...: runs a command, keeping its stdout, stderr and exit status for the checks below.
run() {
	set +e
	"$@" >"$TEST_TMP/.out" 2>"$TEST_TMP/.err"
	STATUS=$?
	set -e
	OUT=$(cat "$TEST_TMP/.out")
	ERR=$(cat "$TEST_TMP/.err")
}

expect_status() {
	[ "$STATUS" -eq "$1" ] || fail "expected exit status $1, got $STATUS"
}

# expect_err_line TEXT: stderr has a line equal to TEXT.
expect_err_line() {
	grep -qxF -- "$1" "$TEST_TMP/.err" || fail "expected stderr line: $1"
}

expect_err_contains() {
	grep -qF -- "$1" "$TEST_TMP/.err" || fail "expected stderr to contain: $1"
}

expect_out_contains() {
	grep -qF -- "$1" "$TEST_TMP/.out" || fail "expected stdout to contain: $1"
}

expect_out_empty() {
	[ ! -s "$TEST_TMP/.out" ] || fail "expected empty stdout"
}

expect_eq() {
	[ "$1" = "$2" ] || fail "${3:-values differ}: expected '$2', got '$1'"
}

# new_repo DIR: a fresh git repository with one commit.
new_repo() {
	mkdir -p "$1"
	git -C "$1" init -q
	echo "# test" >"$1/README.md"
	git -C "$1" add README.md
	git -C "$1" commit -qm init
}

done_testing() {
	[ "$TESTS_RUN" -gt 0 ] || fail "no checks ran"
	echo "1..$TESTS_RUN"
}

# sha256 FILE: the independent reference digest (coreutils).
sha256() {
	sha256sum <"$1" | cut -d" " -f1
}

# object_path PROJECT HEX: where the cache keeps an object.
object_path() {
	echo "$1/.ferry/cache/objects/sha256/${2:0:2}/${2:2}"
}

# pointer_digest POINTER_FILE: the hex digest a pointer file names.
pointer_digest() {
	sed -n 's/^digest: sha256:\([0-9a-f]*\)$/\1/p' "$1"
}

# new_project DIR: a git repository with a ferry project in it.
new_project() {
	new_repo "$1"
	"$FERRY" -C "$1" init -q
	git -C "$1" add .ferry
	git -C "$1" commit -qm "ferry init"
}

# listening_url OUT ERR PID [TRIES]: the URL of the "listening on URL" line that a server started
# in the background (ferry server, ferry serve) writes to OUT once bound. Fails, showing ERR, when
# PID ends first or no line came after TRIES tenths of a second (default 100). The caller
# truncates OUT before starting the server: the shell may open OUT only after the first look here,
# and a line left by an earlier server names a port no one listens on any more.
listening_url() {
	local out=$1 err=$2 pid=$3 tries=${4:-100} url
	for _ in $(seq "$tries"); do
		url=$(sed -n 's/^listening on //p' "$out" 2>/dev/null) || true
		if [ -n "$url" ]; then
			printf '%s\n' "$url"
			return 0
		fi
		kill -0 "$pid" 2>/dev/null || fail "server exited before listening: $(cat "$err" 2>/dev/null)"
		sleep 0.1
	done
	fail "server did not report its address in $out: $(cat "$err" 2>/dev/null)"
}

# start_ferry_server DIR [ARGS...]: `ferry server` for the project in DIR (relative to the current
# directory) on 127.0.0.1 and a free port, with ARGS; sets SERVER_PID and URL. Its output goes
# to $TEST_TMP/server.out and server.err. stop_ferry_server (also run at exit) ends it.
start_ferry_server() {
	local dir=$1
	shift
	: >"$TEST_TMP/server.out"
	(cd "$dir" && exec "$FERRY" server --host 127.0.0.1 --port 0 "$@" >"$TEST_TMP/server.out" \
		2>"$TEST_TMP/server.err") &
	SERVER_PID=$!
	URL=$(listening_url "$TEST_TMP/server.out" "$TEST_TMP/server.err" "$SERVER_PID")
}

stop_ferry_server() {
	if [ -n "$SERVER_PID" ]; then
		kill "$SERVER_PID" 2>/dev/null || true
		wait "$SERVER_PID" 2>/dev/null || true
	fi
	SERVER_PID=
}

# wait_logged N M [MODEL]: waits (30 s at most) until the project's inference log of MODEL
# (default churn) holds N prediction records (one a row) and M feedback records.
wait_logged() {
	local logs=".ferry/inference/${3:-churn}" n m
	for _ in $(seq 300); do
		n=$(cat "$logs"/*.log 2>/dev/null | cut -f1 | grep -c '"type":"prediction"' || true)
		m=$(cat "$logs"/*.log 2>/dev/null | cut -f1 | grep -c '"type":"feedback"' || true)
		[ "$n" -ge "$1" ] && [ "$m" -ge "$2" ] && return 0
		sleep 0.1
	done
	fail "the inference log did not reach $1 predictions and $2 feedback records"
}
