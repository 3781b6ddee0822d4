#!/usr/bin/env bash
# runs/search benchmark: builds bench/search_bench.c against a Release libferrycore.a and times
# MLflow-style searches over a store of BENCH_RUNS_COUNT runs (default 100,000; 3 metrics, 3
# params, 3 tags each). The issue's target: `metrics.f1 > 0.8 and params.model = 'xgboost'`
# ordered by `metrics.f1 DESC`, 100 results, under 50 ms. A benchmark, not a test: nothing here
# asserts on time. See bench/README.md.
#
# usage: bench/search.sh
#
# environment:
#   BENCH_DIR=DIR          where the temporary store goes (default: /tmp); removed at exit
#   BENCH_RUNS_COUNT=N     runs in the store (default: 100000)
#   BENCH_REPEATS=N        timed searches per query; the median is reported (default: 21)
#   BUILD=DIR              Release build directory to use (default: build-bench)
set -euo pipefail
export LC_ALL=C

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$ROOT/build-bench}
COUNT=${BENCH_RUNS_COUNT:-100000}
REPEATS=${BENCH_REPEATS:-21}

[[ $COUNT =~ ^[1-9][0-9]*$ ]] || { echo "bench: BENCH_RUNS_COUNT must be a number" >&2; exit 1; }
[[ $REPEATS =~ ^[1-9][0-9]*$ ]] || { echo "bench: BENCH_REPEATS must be a number" >&2; exit 1; }

cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD" -j"$(nproc)" --target ferrycore >/dev/null
WORK=$(mktemp -d "${BENCH_DIR:-/tmp}/ferry-bench-search.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cc -O2 -std=c11 -D_GNU_SOURCE -I "$ROOT/src" "$ROOT/bench/search_bench.c" "$BUILD/libferrycore.a" \
	$(pkg-config --libs sqlite3 jansson libcrypto) -lm -o "$WORK/search_bench"
echo "bench: $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), SQLite $(pkg-config --modversion sqlite3)"
"$WORK/search_bench" "$WORK" "$COUNT" "$REPEATS"
