#!/usr/bin/env bash
# Pipeline benchmark: `ferry repro` (and `ferry status`) with nothing changed on a pipeline whose
# stages depend on BENCH_PIPE_MB MiB of data split over files, against a bare stat walk of the
# same files (`find -printf '%s %T@ %i'`: the least any tool must do to notice a change without
# re-reading). The peer one would want, DVC (`dvc repro`), is not packaged in Debian 12
# (`apt-cache policy dvc` finds no candidate) and nothing may be pip-installed here, so the
# figure is absolute time plus the ratio to the stat walk. A benchmark, not a test: nothing
# here asserts on time. See bench/README.md.
#
# usage: bench/pipeline.sh
#
# environment:
#   FERRY=PATH          ferry binary to measure (default: build-bench/ferry, built Release)
#   BENCH_DIR=DIR       where the temporary work directory is made (default: /tmp)
#   BENCH_RUNS=N        timed runs of each command; the median is reported (default: 5)
#   BENCH_PIPE_MB=N     MiB of tracked deps (default: 1024)
#   BENCH_PIPE_FILES=N  files they are split over (default: 64; plus one directory of 2,000
#                       small files, so both a few big files and many small ones are walked)
set -euo pipefail
export LC_ALL=C

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RUNS=${BENCH_RUNS:-5}
MB=${BENCH_PIPE_MB:-1024}
FILES=${BENCH_PIPE_FILES:-64}

log() { printf 'bench: %s\n' "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "BENCH_RUNS must be a positive integer"
[[ $MB =~ ^[1-9][0-9]*$ ]] || die "BENCH_PIPE_MB must be a positive integer"
[[ $FILES =~ ^[1-9][0-9]*$ ]] || die "BENCH_PIPE_FILES must be a positive integer"

. "$(dirname "$0")/lib.sh"
ensure_packages git coreutils findutils

if [ -z "${FERRY:-}" ]; then
	build=$ROOT/build-bench
	if [ ! -f "$build/CMakeCache.txt" ]; then
		log "configuring $build (Release)"
		cmake -S "$ROOT" -B "$build" -DCMAKE_BUILD_TYPE=Release >&2
	fi
	cmake --build "$build" -j"$(nproc)" --target ferry >&2
	FERRY=$build/ferry
fi
[ -x "$FERRY" ] || die "FERRY='$FERRY' is not an executable"
FERRY=$(readlink -f "$FERRY")
if policy=$(apt-cache policy dvc 2>/dev/null) && grep -q 'Candidate: [0-9]' <<<"$policy"; then
	log "note: a dvc package exists here; this script does not measure it yet"
else
	log "no peer: dvc is not packaged for this system (apt-cache policy dvc)"
fi

W=$(mktemp -d "${BENCH_DIR:-/tmp}/ferry-bench-pipe.XXXXXX")
trap 'rm -rf "$W"' EXIT
cd "$W"
git init -q .
git config user.email bench@example.com
git config user.name bench
"$FERRY" init -q

log "writing $MB MiB over $FILES files and 2,000 small files"
mkdir -p data/big data/small
per=$(( (MB * 1024 + FILES - 1) / FILES )) # KiB per file
for i in $(seq -w 1 "$FILES"); do
	head -c "$((per * 1024))" /dev/urandom >"data/big/part-$i.bin"
done
for i in $(seq 1 2000); do
	printf 'row %d\n' "$i" >"data/small/f$i.txt"
done
cat >ferry.yaml <<'YAML'
stages:
  count:
    cmd: ls data/big | wc -l >count.txt
    deps: [data/big]
    outs: [count.txt]
  small:
    cmd: cat data/small/f1.txt >small.txt
    deps: [data/small]
    outs: [small.txt]
  report:
    cmd: cat count.txt small.txt >report.txt
    deps: [count.txt, small.txt]
    outs: [report.txt]
YAML
log "first repro (hashes everything once)"
"$FERRY" repro -q >/dev/null
sleep 0.2 # past the stat cache's racy window for the files just written
"$FERRY" repro -q >/dev/null

# seconds of one run of a command, as a number
seconds() {
	local t0 t1
	t0=$(date +%s.%N)
	"$@" >/dev/null 2>&1 || die "'$*' failed"
	t1=$(date +%s.%N)
	echo "$t1 - $t0" | bc -l
}
median() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { n = NR; if (n % 2) print v[(n + 1) / 2];
		else printf "%.4f\n", (v[n / 2] + v[n / 2 + 1]) / 2 }'
}
measure() {
	local v=() i
	for i in $(seq "$RUNS"); do v+=("$(seconds "$@")"); done
	median "${v[@]}"
}
ensure_packages bc
walk=$(measure find data -printf '%s %T@ %i\n')
repro=$(measure "$FERRY" repro -q)
status=$(measure "$FERRY" status)
help=$(measure "$FERRY" help)
nfiles=$(find data -type f | wc -l)
bytes=$(du -sb data | cut -f1)
"$FERRY" repro -q --dry-run | grep -qx "pipeline is up to date" || die "the pipeline is not up to date"

printf '\nferry repro, nothing changed: 3 stages, %d files, %.2f GiB of deps (median of %d)\n\n' \
	"$nfiles" "$(echo "$bytes / 1073741824" | bc -l)" "$RUNS"
printf '| command | seconds | / find -printf |\n|---|---:|---:|\n'
printf '| find -printf (stat walk of the deps) | %.3f | 1.0x |\n' "$walk"
for pair in "ferry repro:$repro" "ferry status:$status" "ferry help (process start):$help"; do
	printf '| %s | %.3f | %.1fx |\n' "${pair%%:*}" "${pair#*:}" "$(echo "${pair#*:} / $walk" | bc -l)"
done
