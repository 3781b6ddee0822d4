#!/usr/bin/env bash
# Metrics hot-path benchmark: builds bench/prom_bench.c against a Release libferrycore.a and
# prints the ns per counter increment and histogram observation from 1 and 8 threads (http/prom).
# A benchmark, not a test: nothing here asserts on time. See bench/README.md.
#
# usage: bench/prom.sh [MILLIONS_OF_OPS_PER_CASE]
#
# environment:
#   BUILD=DIR              Release build directory to use (default: build-bench)
set -euo pipefail
export LC_ALL=C

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$ROOT/build-bench}

cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD" -j"$(nproc)" --target ferrycore >/dev/null
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ferry-bench-prom.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cc -O2 -std=c11 -D_GNU_SOURCE -I "$ROOT/src" "$ROOT/bench/prom_bench.c" "$BUILD/libferrycore.a" \
	-lm -lpthread -o "$WORK/prom_bench"
echo "bench: $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), $(cc --version | head -1)"
"$WORK/prom_bench" "$@"
