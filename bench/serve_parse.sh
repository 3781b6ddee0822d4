#!/usr/bin/env bash
# Inference request parsing benchmark: builds bench/serve_parse_bench.c against a Release
# libferrycore.a and prints the ns per request to parse and answer each serving protocol
# (api/serve_input.h), 1 and 100 rows of 20 features, with jansson's parse of the same body for
# scale. A benchmark, not a test: nothing here asserts on time. See bench/README.md.
#
# usage: bench/serve_parse.sh [SECONDS_PER_CASE]
#
# environment:
#   BUILD=DIR              Release build directory to use (default: build-bench)
set -euo pipefail
export LC_ALL=C

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$ROOT/build-bench}

cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD" -j"$(nproc)" --target ferrycore >/dev/null
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ferry-bench-serve-parse.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cc -O2 -std=c11 -D_GNU_SOURCE -I "$ROOT/src" "$ROOT/bench/serve_parse_bench.c" \
	"$BUILD/libferrycore.a" $(pkg-config --libs jansson) -lm -lpthread -o "$WORK/serve_parse_bench"
echo "bench: $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), $(cc --version | head -1)"
"$WORK/serve_parse_bench" "$@"
