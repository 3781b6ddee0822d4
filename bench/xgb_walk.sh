#!/usr/bin/env bash
# Native tree walking vs libxgboost's C API: builds bench/xgb_walk_bench.c against a Release
# libferrycore.a, trains the issue's model once (mlc_churn, 100 rounds of depth 6; cached in
# BENCH_DIR) and times single-row and 1000-row predictions both ways, after checking that they
# give the same bytes on every row. A benchmark, not a test. See bench/README.md.
#
# usage: bench/xgb_walk.sh
#
# environment:
#   BENCH_DIR=DIR          where the model and the program go (default: /tmp/ferry-bench-xgb-walk)
#   BENCH_REPEATS=N        timed runs per case; the median is reported (default: 7)
#   BUILD=DIR              Release build directory to use (default: build-bench)
#   OMP_NUM_THREADS=N      libxgboost's threads (default: all CPUs, as ferry runs it)
set -euo pipefail
export LC_ALL=C

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$ROOT/build-bench}
DIR=${BENCH_DIR:-/tmp/ferry-bench-xgb-walk}
REPEATS=${BENCH_REPEATS:-7}
DATA=$ROOT/examples/data/mlc_churn.csv

[[ $REPEATS =~ ^[1-9][0-9]*$ ]] || { echo "bench: BENCH_REPEATS must be a number" >&2; exit 1; }

cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD" -j"$(nproc)" --target ferry ferrycore >/dev/null
mkdir -p "$DIR"
if [ ! -f "$DIR/model/model.json" ]; then
	(cd "$DIR" && "$BUILD/ferry" train --data "$DATA" --target churn --model xgboost \
		--param max_depth=6 --out "$DIR/model" >/dev/null)
fi
cc -O2 -std=c11 -D_GNU_SOURCE -I "$ROOT/src" "$ROOT/bench/xgb_walk_bench.c" \
	"$BUILD/libferrycore.a" $(pkg-config --libs sqlite3 libpq libcrypto jansson libfyaml libmicrohttpd \
	libcurl xgboost openblas lapacke gsl libzstd libarchive) -lm -lpthread \
	-o "$DIR/xgb_walk_bench"
echo "bench: $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), libxgboost $(pkg-config --modversion xgboost), OMP_NUM_THREADS=${OMP_NUM_THREADS:-unset}"
"$DIR/xgb_walk_bench" "$DIR/model" "$DATA" "$REPEATS"
