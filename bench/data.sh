#!/usr/bin/env bash
# Data versioning benchmark: ferry side by side with its peers (openssl, sha256sum, git-annex,
# git-lfs, git) in ONE run, on the same inputs, printing RATIOS. Machines here are shared and
# noisy: absolute times lie, ratios of runs taken back to back are what we quote. This is a
# benchmark, not a test: nothing here asserts on time. See bench/README.md.
#
# usage: bench/data.sh [CASE...]      CASE: big small status huge transfer (default: all of them)
#
# environment:
#   FERRY=PATH          ferry binary to measure (default: build-bench/ferry, configured and
#                       brought up to date with cmake, Release)
#   BENCH_DIR=DIR       where the temporary work directory is made (default: /tmp); it is removed
#                       at exit. Everything (inputs, caches, remotes) is on that one file system.
#   BENCH_RUNS=N        runs of each cheap measurement, the median is reported (default: 3).
#                       git-annex add/sync and the 100k-file add run once.
#   BENCH_TIMEOUT=S     limit for any single timed command, in seconds (default: 1200); a peer
#                       that hits it is reported as ">S" and its ratio as a lower bound
#   BENCH_BIG_MB=N      size of the single large file in MiB (default: 1024)
#   BENCH_SMALL=DxF     D directories of F files of 4 KiB for add/status/push/pull (default 100x200)
#   BENCH_HUGE=DxF      D directories of F files of 512 B for the large status case (default 500x200)
#   BENCH_NO_INSTALL=1  do not apt-get missing peers; fail instead
#
# Missing Debian packages (git-annex, git-lfs, openssl, coreutils, git) are installed with
# apt-get, only those dpkg-query reports missing, as scripts/deps.sh does.
set -euo pipefail
export LC_ALL=C

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RUNS=${BENCH_RUNS:-3}
TIMEOUT=${BENCH_TIMEOUT:-1200}
BIG_MB=${BENCH_BIG_MB:-1024}
SMALL=${BENCH_SMALL:-100x200}
HUGE=${BENCH_HUGE:-500x200}
ALL_CASES="big small status huge transfer"

log() { printf 'bench: %s\n' "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}

is_uint() { [[ $1 =~ ^[1-9][0-9]*$ ]]; }
is_uint "$RUNS" || die "BENCH_RUNS must be a positive integer, not '$RUNS'"
is_uint "$TIMEOUT" || die "BENCH_TIMEOUT must be a positive integer, not '$TIMEOUT'"
is_uint "$BIG_MB" || die "BENCH_BIG_MB must be a positive integer, not '$BIG_MB'"
[[ $SMALL =~ ^[1-9][0-9]*x[1-9][0-9]*$ ]] || die "BENCH_SMALL must look like 100x200, not '$SMALL'"
[[ $HUGE =~ ^[1-9][0-9]*x[1-9][0-9]*$ ]] || die "BENCH_HUGE must look like 500x200, not '$HUGE'"
(( RUNS <= 15 )) || die "BENCH_RUNS is at most 15"
(( ${SMALL%x*} * ${SMALL#*x} <= 200000 )) || die "BENCH_SMALL: at most 200000 files"
(( ${HUGE%x*} * ${HUGE#*x} <= 1000000 )) || die "BENCH_HUGE: at most 1000000 files"

CASES=${*:-$ALL_CASES}
for c in $CASES; do
	[[ " $ALL_CASES " == *" $c "* ]] || die "unknown case '$c' (expected: $ALL_CASES)"
done
want() { [[ " $CASES " == *" $1 "* ]]; }

# Peers and tools -------------------------------------------------------------------------------

. "$(dirname "$0")/lib.sh"
ensure_packages git git-annex git-lfs openssl coreutils

if [ -z "${FERRY:-}" ]; then
	build=$ROOT/build-bench
	"$ROOT/scripts/deps.sh"
	if [ ! -f "$build/CMakeCache.txt" ]; then
		log "configuring $build (Release)"
		cmake -S "$ROOT" -B "$build" -DCMAKE_BUILD_TYPE=Release >&2
	fi
	cmake --build "$build" -j"$(nproc)" --target ferry >&2
	FERRY=$build/ferry
fi
[ -x "$FERRY" ] || die "FERRY='$FERRY' is not an executable"
FERRY=$(readlink -f "$FERRY")

# Work directory: everything below it, removed at exit --------------------------------------------

parent=${BENCH_DIR:-/tmp}
mkdir -p "$parent"
W=$(mktemp -d "$parent/ferry-bench.XXXXXX")
LOG=$W/commands.log
CHILD= # the timed command running now: timeout(1), which passes a TERM on to its command
cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	if [ -n "$CHILD" ]; then
		kill -TERM "$CHILD" 2>/dev/null || true
		wait "$CHILD" 2>/dev/null || true
	fi
	# git-annex leaves read-only directories behind
	find "$W" -type d ! -perm -u+w -exec chmod u+w {} + 2>/dev/null || true
	rm -rf "$W"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# git (and git-annex, git-lfs) see only this configuration, not the user's
export HOME=$W/home GIT_CONFIG_NOSYSTEM=1
mkdir -p "$HOME"
git config --global user.name bench
git config --global user.email bench@example.invalid
git config --global init.defaultBranch main
git config --global advice.detachedHead false
git lfs install --skip-repo >>"$LOG" 2>&1

# Timing ------------------------------------------------------------------------------------------

# timed VAR DIR CMD...: runs CMD in DIR (output to the log, bounded by TIMEOUT) after a sync, so
# earlier writeback does not land in this measurement; VAR gets the wall time in seconds, or
# "timeout". A failing command stops the benchmark.
timed() {
	local var=$1 dir=$2 t0 t1 rc=0
	shift 2
	sync
	echo "### $dir: $*" >>"$LOG"
	t0=$EPOCHREALTIME
	# in the background so that a signal to this script is handled at once (cleanup stops it)
	(cd "$dir" && exec timeout "$TIMEOUT" "$@") >>"$LOG" 2>&1 &
	CHILD=$!
	wait "$CHILD" || rc=$?
	t1=$EPOCHREALTIME
	CHILD=
	if [ "$rc" -eq 124 ]; then
		printf -v "$var" timeout
		log "  $* timed out after ${TIMEOUT}s"
		return 0
	fi
	if [ "$rc" -ne 0 ]; then
		tail -n 20 "$LOG" >&2
		die "'$*' in $dir failed (exit $rc)"
	fi
	printf -v "$var" '%s' "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", b - a }')"
}

# runs an untimed step quietly, stopping the benchmark if it fails
quiet() {
	echo "### $*" >>"$LOG"
	"$@" >>"$LOG" 2>&1 || {
		tail -n 20 "$LOG" >&2
		die "'$*' failed"
	}
}

# median of seconds; a "timeout" counts as TIMEOUT
median() {
	printf '%s\n' "$@" | sed "s/^timeout\$/$TIMEOUT/" | sort -g |
		awk '{ v[NR] = $1 } END { n = NR; if (n % 2) print v[(n + 1) / 2];
		      else printf "%.4f\n", (v[n / 2] + v[n / 2 + 1]) / 2 }'
}

# Results: one row per comparison, printed as a table at the end.
ROWS=()
# row CASE PEER PEER_S FERRY_S TARGET...   PEER_S may be "timeout" or "-" (no peer).
# TARGET words: speedup:N (peer/ferry >= N), within:X (ferry <= X * peer), under:S (ferry < S
# seconds), or none. The ratio column is always peer time / ferry time (> 1: ferry is faster).
row() {
	local name=$1 peer=$2 ps=$3 fs=$4
	shift 4
	local ratio=- peer_txt=$ps tdesc=() missed=() t d lower=
	if [ "$ps" = timeout ]; then
		ps=$TIMEOUT
		peer_txt=">$TIMEOUT"
		lower=">="
	fi
	if [ "$ps" != - ]; then
		ratio=$lower$(awk -v p="$ps" -v f="$fs" 'BEGIN { r = p / f;
			printf (r >= 100 ? "%.0fx" : (r >= 10 ? "%.1fx" : "%.2fx")), r }')
	fi
	for t in "$@"; do
		case $t in
		speedup:*)
			d=">=${t#*:}x faster"
			awk -v p="$ps" -v f="$fs" -v n="${t#*:}" 'BEGIN { exit !(p / f >= n) }' || missed+=("$d")
			;;
		within:*)
			d="<=${t#*:}x peer"
			awk -v p="$ps" -v f="$fs" -v x="${t#*:}" 'BEGIN { exit !(f <= x * p) }' || missed+=("$d")
			;;
		under:*)
			d="ferry <${t#*:} s"
			awk -v f="$fs" -v s="${t#*:}" 'BEGIN { exit !(f < s) }' || missed+=("$d")
			;;
		none) continue ;;
		*) die "bad target '$t'" ;;
		esac
		tdesc+=("$d")
	done
	local joined=- met=-
	if [ ${#tdesc[@]} -gt 0 ]; then
		joined=${tdesc[0]}
		for t in "${tdesc[@]:1}"; do joined+=", $t"; done
		met=yes
		if [ ${#missed[@]} -gt 0 ]; then
			met="no: ${missed[0]}"
			for t in "${missed[@]:1}"; do met+=", $t"; done
			[ ${#missed[@]} -lt ${#tdesc[@]} ] || met=no
		fi
	fi
	ROWS+=("$name|$peer|$peer_txt|$fs|$ratio|$joined|$met")
	log "  => $name: $peer $peer_txt s, ferry $fs s, ratio $ratio, met: $met"
}

fmt_s() { awk -v s="$1" 'BEGIN { printf (s < 10 ? "%.3f" : "%.1f"), s }'; }

# Inputs ------------------------------------------------------------------------------------------

# gen_tree DIR NDIRS NFILES SIZE: NDIRS directories of NFILES files of SIZE random bytes
gen_tree() {
	local dir=$1 nd=$2 nf=$3 size=$4 i width
	width=$(($(printf '%s' "$((nf - 1))" | wc -c)))
	for ((i = 0; i < nd; i++)); do
		mkdir -p "$dir/d$i"
		head -c $((nf * size)) /dev/urandom | split -b "$size" -d -a "$width" - "$dir/d$i/f"
	done
}

# new_project DIR [LINK]: a git repository with a fresh ferry project, cache.link set to LINK
new_project() {
	mkdir -p "$1"
	quiet git -C "$1" init -q
	quiet "$FERRY" -q -C "$1" init
	if [ -n "${2:-}" ]; then
		sed -i "s/^  link: .*/  link: $2/" "$1/.ferry/config.yaml"
		[ "$("$FERRY" -C "$1" config get cache.link)" = "$2" ] ||
			die "could not set cache.link to $2 in $1/.ferry/config.yaml"
	fi
}

digest_of() { sed -n 's/^digest: *sha256:\([0-9a-f]*\).*/\1/p' "$1"; }

# Cases -------------------------------------------------------------------------------------------

case_big() {
	local d=$W/big r t v f=big.bin o=() s=() c=() fc=() fh=() hex
	log "[big] ${BIG_MB} MiB file: openssl, sha256sum, cp, ferry data add (copy, hardlink)"
	mkdir -p "$d"
	head -c $((BIG_MB * 1024 * 1024)) /dev/urandom >"$d/$f"
	hex=$(openssl dgst -sha256 -r "$d/$f" | cut -d' ' -f1)
	for ((r = 1; r <= RUNS; r++)); do
		cat "$d/$f" >/dev/null # in the page cache for everyone
		timed t "$d" openssl dgst -sha256 "$f"
		o+=("$t")
		timed t "$d" sha256sum "$f"
		s+=("$t")
		# what any copy into the cache costs on this file system (copy_file_range, as ferry)
		timed t "$d" cp --reflink=auto "$f" "cp-$f"
		c+=("$t")
		rm -f "$d/cp-$f"
		# default link order (reflink,copy): a copy where the file system cannot reflink
		new_project "$d/copy$r"
		ln "$d/$f" "$d/copy$r/$f"
		timed t "$d/copy$r" "$FERRY" -q data add "$f"
		fc+=("$t")
		new_project "$d/hardlink$r" hardlink,copy
		ln "$d/$f" "$d/hardlink$r/$f"
		timed t "$d/hardlink$r" "$FERRY" -q data add "$f"
		fh+=("$t")
		for v in copy hardlink; do
			[ "$(digest_of "$d/$v$r/$f.ferry")" = "$hex" ] ||
				die "ferry's digest of $f ($v) differs from openssl's $hex"
		done
		rm -rf "$d/copy$r" # a few inodes: does not slow later file creation
		log "  run $r: openssl ${o[-1]} sha256sum ${s[-1]} cp ${c[-1]}" \
			"ferry(copy) ${fc[-1]} ferry(hardlink) ${fh[-1]}"
	done
	local om hm cm size="${BIG_MB} MiB"
	om=$(median "${o[@]}") hm=$(median "${fh[@]}") cm=$(median "${fc[@]}")
	[ "$BIG_MB" -ne 1024 ] || size="1 GiB"
	row "$size add, cache.link hardlink" "openssl dgst -sha256" "$om" "$hm" within:1.2
	row "$size add, cache.link hardlink" "sha256sum" "$(median "${s[@]}")" "$hm" none
	row "$size add, default link (copy)" "openssl dgst -sha256" "$om" "$cm" none
	row "$size add, default link (copy)" "cp (same file system)" "$(median "${c[@]}")" "$cm" none
	rm -rf "$d"
}

SMALL_DIR=$W/small
SMALL_FERRY= # the default-config ferry project of the last run: status and transfer use it
SMALL_ANNEX=$SMALL_DIR/annex
ANNEX_COMPLETE=1 # 0 when git annex add timed out: its repository is then no fair peer

# the small-files tree, made once; every tool gets hard links to it (cp -al: no new inodes)
small_inputs() {
	[ -d "$SMALL_DIR/src" ] && return 0
	log "[small] making ${SMALL%x*} x ${SMALL#*x} files of 4 KiB"
	gen_tree "$SMALL_DIR/src/dir" "${SMALL%x*}" "${SMALL#*x}" 4096
}

case_small() {
	local d=$SMALL_DIR r t a=timeout l=() fc=() fh=() n=$((${SMALL%x*} * ${SMALL#*x}))
	small_inputs
	log "[small] $n files of 4 KiB: git annex add (once), git lfs + git add, ferry data add"
	for ((r = 1; r <= RUNS; r++)); do
		if [ "$r" -eq $(((RUNS + 1) / 2)) ]; then
			mkdir -p "$SMALL_ANNEX"
			quiet git -C "$SMALL_ANNEX" init -q
			quiet git -C "$SMALL_ANNEX" annex init bench
			cp -al "$d/src/dir" "$SMALL_ANNEX/dir"
			timed a "$SMALL_ANNEX" git annex add --quiet dir
			[ "$a" != timeout ] || ANNEX_COMPLETE=0
			log "  git annex add: $a"
		fi
		mkdir -p "$d/lfs$r"
		quiet git -C "$d/lfs$r" init -q
		(cd "$d/lfs$r" && quiet git lfs track 'dir/**' && quiet git add .gitattributes)
		cp -al "$d/src/dir" "$d/lfs$r/dir"
		timed t "$d/lfs$r" git add dir
		l+=("$t")
		new_project "$d/ferry$r"
		cp -al "$d/src/dir" "$d/ferry$r/dir"
		timed t "$d/ferry$r" "$FERRY" -q data add dir
		fc+=("$t")
		new_project "$d/ferryhl$r" hardlink,copy
		cp -al "$d/src/dir" "$d/ferryhl$r/dir"
		timed t "$d/ferryhl$r" "$FERRY" -q data add dir
		fh+=("$t")
		[ "$(digest_of "$d/ferry$r/dir.ferry")" = "$(digest_of "$d/ferryhl$r/dir.ferry")" ] ||
			die "the two ferry adds of the same tree gave different digests"
		log "  run $r: git lfs ${l[-1]} ferry(copy) ${fc[-1]} ferry(hardlink) ${fh[-1]}"
	done
	SMALL_FERRY=$d/ferry$RUNS
	local c h
	c=$(median "${fc[@]}") h=$(median "${fh[@]}")
	row "${n} x 4 KiB add, default link (copy)" "git annex add" "$a" "$c" speedup:100 under:1
	row "${n} x 4 KiB add, cache.link hardlink" "git annex add" "$a" "$h" speedup:100 under:1
	row "${n} x 4 KiB add, default link (copy)" "git lfs + git add" "$(median "${l[@]}")" "$c" none
}

# stat cache rows changed by a command: a "nothing changed" status must change none
statcache_stamp() {
	if command -v sqlite3 >/dev/null; then
		sqlite3 "$1/.ferry/ferry.db" 'SELECT count(*), max(recorded_ns) FROM stat_cache'
	fi
}

case_status() {
	local p r t g=() ga=() f=() fl=() stamp n=$((${SMALL%x*} * ${SMALL#*x}))
	if [ -z "$SMALL_FERRY" ]; then
		case_small
	fi
	p=$SMALL_FERRY
	log "[status] $n unchanged files: git status, git annex status, ferry data status"
	# git status needs a commit to have nothing to report (the pre-commit hook is git-annex's)
	quiet git -C "$SMALL_ANNEX" commit -q --no-verify -m "bench data"
	# past the racy window of both stat caches, then warm: the first status after the other
	# runs' hard links (which changed ctime) re-hashes, later ones must not
	sleep 1.2
	for r in 1 2; do
		quiet "$FERRY" -q -C "$p" data status
		quiet git -C "$SMALL_ANNEX" status --porcelain
	done
	stamp=$(statcache_stamp "$p")
	for ((r = 1; r <= RUNS; r++)); do
		timed t "$SMALL_ANNEX" git status --porcelain
		g+=("$t")
		timed t "$SMALL_ANNEX" git annex status
		ga+=("$t")
		timed t "$p" "$FERRY" -q data status
		f+=("$t")
		timed t "$p" find dir -printf '%s %T@ %C@ %i\n'
		fl+=("$t")
		log "  run $r: git status ${g[-1]} git annex status ${ga[-1]} ferry ${f[-1]} find ${fl[-1]}"
	done
	[ "$(statcache_stamp "$p")" = "$stamp" ] ||
		log "  warning: ferry data status changed the stat cache while it was timed (re-hashed)"
	"$FERRY" -C "$p" data status | grep -q '^up to date' || die "ferry data status: not up to date"
	local fm
	fm=$(median "${f[@]}")
	row "status, $n unchanged" "git status" "$(median "${g[@]}")" "$fm" under:0.1
	row "status, $n unchanged" "git annex status" "$(median "${ga[@]}")" "$fm" under:0.1
	row "status, $n unchanged" "find -printf (stat walk)" "$(median "${fl[@]}")" "$fm" none
}

case_huge() {
	local p=$W/huge/p r t a f=() fl=() stamp n=$((${HUGE%x*} * ${HUGE#*x}))
	log "[huge] making ${HUGE%x*} x ${HUGE#*x} files of 512 B"
	new_project "$p"
	gen_tree "$p/dir" "${HUGE%x*}" "${HUGE#*x}" 512
	timed a "$p" "$FERRY" -q data add dir
	[ "$a" != timeout ] || die "ferry data add of $n files timed out"
	log "[huge] ferry data add: $a s; status on $n unchanged files"
	sleep 1.2
	quiet "$FERRY" -q -C "$p" data status
	quiet "$FERRY" -q -C "$p" data status
	stamp=$(statcache_stamp "$p")
	for ((r = 1; r <= RUNS; r++)); do
		timed t "$p" "$FERRY" -q data status
		f+=("$t")
		timed t "$p" find dir -printf '%s %T@ %C@ %i\n'
		fl+=("$t")
		log "  run $r: ferry ${f[-1]} find ${fl[-1]}"
	done
	[ "$(statcache_stamp "$p")" = "$stamp" ] ||
		log "  warning: ferry data status changed the stat cache while it was timed (re-hashed)"
	"$FERRY" -C "$p" data status | grep -q '^up to date' || die "ferry data status: not up to date"
	row "status, $n unchanged" "-" - "$(median "${f[@]}")" under:0.5
	row "status, $n unchanged" "find -printf (stat walk)" "$(median "${fl[@]}")" \
		"$(median "${f[@]}")" none
	row "add, $n x 512 B (once)" "-" - "$a" none
}

case_transfer() {
	local d=$W/xfer r t ap=timeout ag=timeout fp=() fg=() n=$((${SMALL%x*} * ${SMALL#*x})) p objs
	if [ -z "$SMALL_FERRY" ]; then
		case_small
	fi
	p=$SMALL_FERRY
	mkdir -p "$d"
	log "[transfer] $n files to and from a local directory: git annex sync --content, ferry push/pull"
	quiet git -C "$p" add -A
	quiet git -C "$p" commit -q -m "bench data"
	git -C "$SMALL_ANNEX" diff --cached --quiet ||
		quiet git -C "$SMALL_ANNEX" commit -q --no-verify -m "bench data"
	# push: ferry to a fresh remote each run; git-annex once, in the middle
	for ((r = 1; r <= RUNS; r++)); do
		if [ "$r" -eq $(((RUNS + 1) / 2)) ] && [ "$ANNEX_COMPLETE" -eq 1 ]; then
			mkdir -p "$d/annex-remote"
			quiet git -C "$SMALL_ANNEX" annex initremote dirremote type=directory \
				directory="$d/annex-remote" encryption=none
			timed ap "$SMALL_ANNEX" git annex sync --content --quiet
			log "  git annex sync --content (to the directory remote): $ap"
			[ "$ap" = timeout ] ||
				[ "$(git -C "$SMALL_ANNEX" annex find --not --in dirremote | wc -l)" -eq 0 ] ||
				die "git annex sync --content left files out of the directory remote"
		fi
		quiet "$FERRY" -q -C "$p" remote add "r$r" "$d/ferry-remote$r"
		timed t "$p" "$FERRY" -q data push -r "r$r"
		fp+=("$t")
		objs=$(find "$d/ferry-remote$r/objects" -type f | wc -l)
		[ "$objs" -eq $((n + 1)) ] || die "ferry push: $objs objects in the remote, not $((n + 1))"
		log "  push run $r: ferry ${fp[-1]}"
	done
	# pull: into a fresh clone each time, from the directory remote only
	for ((r = 1; r <= RUNS; r++)); do
		if [ "$r" -eq $(((RUNS + 1) / 2)) ] && [ "$ap" != timeout ]; then
			quiet git clone -q "$SMALL_ANNEX" "$d/annex-clone"
			quiet git -C "$d/annex-clone" annex init clone
			quiet git -C "$d/annex-clone" annex enableremote dirremote directory="$d/annex-remote"
			# from the directory remote, not from the repository it was cloned from
			quiet git -C "$d/annex-clone" remote remove origin
			timed ag "$d/annex-clone" git annex sync --content --quiet
			log "  git annex sync --content (from the directory remote): $ag"
			[ "$ag" = timeout ] ||
				[ "$(git -C "$d/annex-clone" annex find --not --in here | wc -l)" -eq 0 ] ||
				die "git annex sync --content did not get every file"
		fi
		quiet git clone -q "$p" "$d/ferry-clone$r"
		quiet "$FERRY" -q -C "$d/ferry-clone$r" remote add --default src "$d/ferry-remote1"
		timed t "$d/ferry-clone$r" "$FERRY" -q data pull -r src
		fg+=("$t")
		"$FERRY" -C "$d/ferry-clone$r" data status | grep -q '^up to date' ||
			die "ferry data pull: the clone is not up to date"
		log "  pull run $r: ferry ${fg[-1]}"
	done
	if [ "$ANNEX_COMPLETE" -eq 0 ]; then
		row "push $n x 4 KiB to a local dir" "git annex (not run: add timed out)" - \
			"$(median "${fp[@]}")" none
	else
		row "push $n x 4 KiB to a local dir" "git annex sync --content" "$ap" \
			"$(median "${fp[@]}")" speedup:50
	fi
	if [ "$ANNEX_COMPLETE" -eq 0 ] || [ "$ap" = timeout ]; then
		row "pull $n x 4 KiB into a clone" "git annex (not run: add or push timed out)" - \
			"$(median "${fg[@]}")" none
	else
		row "pull $n x 4 KiB into a clone" "git annex sync --content" "$ag" \
			"$(median "${fg[@]}")" speedup:50
	fi
}

# Run ---------------------------------------------------------------------------------------------

fs_type=$(findmnt -n -o FSTYPE -T "$W" 2>/dev/null | head -n 1 || true)
[ -n "$fs_type" ] || fs_type=$(stat -f -c %T "$W")
fs_dev=$(findmnt -n -o SOURCE -T "$W" 2>/dev/null | head -n 1 || true)
# ext4 without a journal allocates inodes slowly for minutes after mass deletions (its
# recently_deleted() scan): say so, since every tool here creates thousands of files
if [ "$fs_type" = ext4 ] && [ -n "$fs_dev" ] && [ -d /proc/fs/jbd2 ]; then
	journals=(/proc/fs/jbd2/"$(basename "$fs_dev")"-*)
	[ -e "${journals[0]}" ] || fs_type="ext4 (no journal)"
fi
reflink=no
head -c 4096 /dev/urandom >"$W/reflink-probe"
cp --reflink=always "$W/reflink-probe" "$W/reflink-probe2" 2>/dev/null && reflink=yes
rm -f "$W/reflink-probe" "$W/reflink-probe2"
started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
load0=$(cut -d' ' -f1-3 /proc/loadavg)
log "work directory $W ($fs_type, reflink: $reflink); log: $LOG"

for c in $ALL_CASES; do
	if want "$c"; then
		"case_$c"
	fi
done

# Report ------------------------------------------------------------------------------------------

cpu=$(sed -n 's/^model name[^:]*: *//p' /proc/cpuinfo | head -n 1)
echo
echo "ferry data benchmark, $started"
echo "  machine: $(nproc) CPUs ($cpu), kernel $(uname -r), load $load0 -> $(cut -d' ' -f1-3 /proc/loadavg)"
echo "  file system: $fs_type under ${BENCH_DIR:-/tmp}, reflink: $reflink"
echo "  ferry: $FERRY ($("$FERRY" version | head -n 1);" \
	"tree $(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo unknown))"
echo "  peers: $(openssl version | cut -d' ' -f1-2), sha256sum $(sha256sum --version | head -n 1 | awk '{ print $NF }')," \
	"git-annex $(git annex version --raw 2>/dev/null || true), $(git lfs version | cut -d' ' -f1)," \
	"git $(git --version | awk '{ print $3 }')"
echo "  median of $RUNS runs (git annex add/sync and the $((${HUGE%x*} * ${HUGE#*x}))-file add: 1 run);" \
	"ratio = peer s / ferry s (> 1: ferry faster)"
echo
echo "| case | peer | peer s | ferry s | ratio | target | met? |"
echo "|---|---|---:|---:|---:|---|---|"
for line in "${ROWS[@]}"; do
	IFS='|' read -r name peer ps fs ratio target met <<<"$line"
	[ "$ps" = - ] || [[ $ps == '>'* ]] || ps=$(fmt_s "$ps")
	echo "| $name | $peer | $ps | $(fmt_s "$fs") | $ratio | $target | $met |"
done
