#!/usr/bin/env bash
# CSV loading benchmark: ferry side by side with pandas.read_csv (Debian python3-pandas) on one
# generated numeric CSV of about 200 MB, in ONE run, printing RATIOS. Machines here are shared and
# noisy: absolute times lie, ratios of runs taken back to back are what we quote. This is a
# benchmark, not a test: nothing here asserts on time. See bench/README.md.
#
# usage: bench/csv.sh
#
# Two comparisons:
#   load     pandas.read_csv(FILE) timed inside Python (interpreter start and imports excluded)
#            against ferry's loading of FILE, which `ferry data profile` logs at debug level
#   profile  read_csv plus the same statistics in pandas/numpy (count, missing, mean, std, seven
#            quantiles, a 10-bin histogram per column) against the whole `ferry data profile
#            --json` process, start to exit
# The best of BENCH_RUNS runs of each is reported, the runs of the two tools interleaved. The
# means ferry and pandas computed are compared, so that both provably read the same numbers.
#
# environment:
#   FERRY=PATH          ferry binary to measure (default: build-bench/ferry, configured and
#                       brought up to date with cmake, Release)
#   BENCH_DIR=DIR       where the generated CSV is kept between runs (default: /tmp/ferry-bench-csv);
#                       it is regenerated when missing. Scratch files go to a temporary
#                       directory there, removed at exit.
#   BENCH_RUNS=N        runs of each measurement (default: 3)
#   BENCH_CSV_MB=N      approximate size of the generated file in MB (default: 200)
#   BENCH_NO_INSTALL=1  do not apt-get missing packages (python3-pandas); fail instead
#
# The file: a header and rows of 12 numeric columns as pandas and R write them, drawn with
# numpy's default_rng(42): two integer columns, four "%.4f", three "%.2f", one "%.6g" (small
# values in 1e-04 notation), one "%.17g" (full precision) and one "%.1f".
set -euo pipefail
export LC_ALL=C

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RUNS=${BENCH_RUNS:-3}
MB=${BENCH_CSV_MB:-200}
DIR=${BENCH_DIR:-/tmp/ferry-bench-csv}
PYTHON=/usr/bin/python3 # Debian's, which python3-pandas installs into

log() { printf 'bench: %s\n' "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}

if ! [[ $RUNS =~ ^[1-9][0-9]*$ ]] || ((RUNS > 15)); then
	die "BENCH_RUNS must be 1 to 15, not '$RUNS'"
fi
if ! [[ $MB =~ ^[1-9][0-9]*$ ]] || ((MB > 10000)); then
	die "BENCH_CSV_MB must be 1 to 10000, not '$MB'"
fi

. "$(dirname "$0")/lib.sh"
ensure_packages python3 python3-numpy python3-pandas jq

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

mkdir -p "$DIR"
CSV=$DIR/numeric-${MB}mb.csv
W=$(mktemp -d "$DIR/work.XXXXXX")
trap 'rm -rf "$W"' EXIT

# The input -------------------------------------------------------------------------------------

if [ ! -s "$CSV" ]; then
	log "generating $CSV (about $MB MB; once, it is kept for the next runs)"
	"$PYTHON" - "$CSV.tmp" "$MB" <<'EOF'
import sys
import numpy as np

path, mb = sys.argv[1], int(sys.argv[2])
rng = np.random.default_rng(42)
with open(path, "w") as f:
    f.write(",".join(f"x{i}" for i in range(12)) + "\n")
    written = 0
    while written < mb * 1000000:
        n = 100000
        cols = [rng.integers(0, 100000, n).astype(str), rng.integers(-50, 50, n).astype(str)]
        cols += [np.char.mod("%.4f", rng.normal(0, 100, n)) for _ in range(4)]
        cols += [np.char.mod("%.2f", rng.uniform(0, 1000, n)) for _ in range(3)]
        cols.append(np.char.mod("%.6g", rng.exponential(1e-3, n)))
        cols.append(np.char.mod("%.17g", rng.normal(0, 1, n)))
        cols.append(np.char.mod("%.1f", rng.uniform(0, 100, n)))
        block = "\n".join(",".join(r) for r in zip(*cols)) + "\n"
        f.write(block)
        written += len(block)
EOF
	mv "$CSV.tmp" "$CSV"
fi
size=$(stat -c %s "$CSV")

# The tools -------------------------------------------------------------------------------------

PANDAS=$W/read_pandas.py # not pandas.py: that would shadow the module
cat >"$PANDAS" <<'EOF'
import json, sys, time
import numpy as np
import pandas as pd

path, mode = sys.argv[1], sys.argv[2]
t = time.perf_counter()
df = pd.read_csv(path)
if mode == "profile":
    out = {}
    for c in df.columns:
        x = df[c]
        v = x.dropna().to_numpy(dtype=float)
        out[c] = {"count": int(x.count()), "missing": int(x.isna().sum()), "mean": x.mean(),
                  "std": x.std(), "quantiles": list(x.quantile([0, .05, .25, .5, .75, .95, 1])),
                  "histogram": np.histogram(v, 10)[0].tolist()}
elapsed = time.perf_counter() - t
if mode == "profile":
    json.dump({c: o["mean"] for c, o in out.items()}, open(sys.argv[3], "w"))
print(f"{elapsed:.4f} {len(df)} {len(df.columns)}")
EOF

# ferry_run: the whole `ferry data profile --json` process; sets ferry_total, ferry_load and
# ferry_rows (from its debug log line "loaded '...': N rows, M columns, B bytes in S s").
ferry_run() {
	local t0 t1 line
	t0=$EPOCHREALTIME
	(cd "$W" && FERRY_LOG=debug "$FERRY" data profile --json "$CSV" >"$W/ferry.json" 2>"$W/ferry.log") ||
		{ cat "$W/ferry.log" >&2; die "ferry data profile failed"; }
	t1=$EPOCHREALTIME
	ferry_total=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", b - a }')
	line=$(grep -oE "loaded '.*': [0-9]+ rows, [0-9]+ columns, [0-9]+ bytes in [0-9.]+ s" \
		"$W/ferry.log" | tail -n 1) ||
		die "no \"loaded '...': N rows, ... in S s\" line in ferry's debug log"
	ferry_load=$(sed -E 's/.* in ([0-9.]+) s$/\1/' <<<"$line")
	ferry_rows=$(sed -E "s/.*': ([0-9]+) rows, ([0-9]+) columns.*/\1 x \2/" <<<"$line")
}

min() { awk -v a="$1" -v b="$2" 'BEGIN { print (a == "" || b < a) ? b : a }'; }

best_pandas_load='' best_pandas_profile='' best_ferry_load='' best_ferry_total=''
ferry_rows='' rows='' cols=''
for run in $(seq "$RUNS"); do
	log "run $run/$RUNS"
	out=$("$PYTHON" "$PANDAS" "$CSV" load) || die "pandas failed"
	read -r t rows cols <<<"$out"
	best_pandas_load=$(min "$best_pandas_load" "$t")
	ferry_run
	best_ferry_load=$(min "$best_ferry_load" "$ferry_load")
	best_ferry_total=$(min "$best_ferry_total" "$ferry_total")
	out=$("$PYTHON" "$PANDAS" "$CSV" profile "$W/pandas-means.json") || die "pandas failed"
	read -r t rows cols <<<"$out"
	best_pandas_profile=$(min "$best_pandas_profile" "$t")
done
[ "$ferry_rows" = "$rows x $cols" ] || die "ferry read $ferry_rows, pandas $rows x $cols"

# Both tools must have read the same numbers: compare the column means.
worst=$(jq -n --slurpfile f "$W/ferry.json" --slurpfile p "$W/pandas-means.json" '
	[$f[0].columns[] | (.mean - $p[0][.name]) / ([1, ($p[0][.name] | fabs)] | max) | fabs] | max')
awk -v w="$worst" 'BEGIN { exit !(w <= 1e-9) }' ||
	die "ferry's and pandas' column means differ (worst relative difference $worst)"

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1fx", a / b }'; }
printf 'csv: %s (%.0f MB, %s rows x %s columns; numpy default_rng(42))\n' "$(basename "$CSV")" \
	"$(awk -v s="$size" 'BEGIN { print s / 1e6 }')" "$rows" "$cols"
printf 'csv: same data read: column means agree to %s (relative)\n' "$worst"
printf 'csv: %-8s pandas.read_csv          %8.3f s   ferry load          %8.3f s   ferry is %s faster\n' \
	load "$best_pandas_load" "$best_ferry_load" "$(ratio "$best_pandas_load" "$best_ferry_load")"
printf 'csv: %-8s pandas read_csv+stats    %8.3f s   ferry data profile  %8.3f s   ferry is %s faster\n' \
	profile "$best_pandas_profile" "$best_ferry_total" \
	"$(ratio "$best_pandas_profile" "$best_ferry_total")"
printf 'csv: best of %s runs; ferry %s, pandas %s, %s CPUs\n' "$RUNS" \
	"$("$FERRY" --version 2>/dev/null | head -n 1)" \
	"$("$PYTHON" -c 'import pandas; print(pandas.__version__)')" "$(nproc)"
