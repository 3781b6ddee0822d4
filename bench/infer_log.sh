#!/usr/bin/env bash
# Inference log benchmark: builds bench/infer_log_bench.c against a Release libferrycore.a and
# times appends of ~450-byte prediction records from 1 and 8 threads, as fast as possible (a
# burst) and paced at BENCH_RATE records/s (the server's steady state), with the p50/p99 cost of
# one append; each case twice, the row's inputs handed over as typed cells (ferry serve's way)
# and as a jansson object built for the append (its former way). A benchmark, not a test:
# nothing here asserts on time. See bench/README.md.
#
# usage: bench/infer_log.sh
#
# environment:
#   BENCH_DIR=DIR          where the temporary logs go (default: /tmp); removed at exit
#   BENCH_RECORDS=N        records per thread in the burst (default: 250000)
#   BENCH_RATE=N           records/s of the paced runs, 5 s each; 0 skips them (default: 50000)
#   BUILD=DIR              Release build directory to use (default: build-bench)
set -euo pipefail
export LC_ALL=C

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$ROOT/build-bench}
RECORDS=${BENCH_RECORDS:-250000}
RATE=${BENCH_RATE:-50000}

[[ $RECORDS =~ ^[1-9][0-9]*$ ]] || { echo "bench: BENCH_RECORDS must be a number" >&2; exit 1; }
[[ $RATE =~ ^[0-9]+$ ]] || { echo "bench: BENCH_RATE must be a number" >&2; exit 1; }

cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD" -j"$(nproc)" --target ferrycore >/dev/null
WORK=$(mktemp -d "${BENCH_DIR:-/tmp}/ferry-bench-infer-log.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cc -O2 -std=c11 -D_GNU_SOURCE -I "$ROOT/src" "$ROOT/bench/infer_log_bench.c" "$BUILD/libferrycore.a" \
	$(pkg-config --libs jansson) -lpthread -lm -o "$WORK/infer_log_bench"
echo "bench: $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), $(df -PT "$WORK" | awk 'NR==2 {print $2}') at $WORK"
"$WORK/infer_log_bench" "$WORK" "$RECORDS" "$RATE"
