#!/usr/bin/env bash
# Native drift statistics (src/monitor/drift_stats.c, drift_ks.c) vs scipy 1.10.1 in one run:
# KS two-sample (auto, i.e. asymp at this size), Evidently's normed Wasserstein and
# Jensen-Shannon on Sturges bins, on 1M vs 1M seeded normal samples. ferry's reference is sorted
# once beforehand; every timed ferry run copies and sorts the current window. Both sides report
# CPU time (time.process_time / CLOCK_PROCESS_CPUTIME_ID), median of the runs; the script checks
# that D, the p-value and the distances agree before printing the ratios. A benchmark, not a
# test. See bench/README.md.
#
# usage: bench/drift_stats.sh
#
# environment:
#   BENCH_DIR=DIR     where the samples and the program go (default: /tmp/ferry-bench-drift-stats)
#   BENCH_REPEATS=N   timed runs per statistic and side; the median is reported (default: 7)
#   BENCH_N=N         values per sample (default: 1000000)
#   BENCH_SHIFT=X     mean of the current sample, the reference's is 0 (default: 0.004: D is
#                     large enough for kstwo's Smirnov-sum branch, the slow one)
#   BUILD=DIR         Release build directory to use (default: build-bench)
set -euo pipefail
export LC_ALL=C

log() { echo "bench: $*" >&2; }
die() {
	log "$*"
	exit 1
}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"

BUILD=${BUILD:-$ROOT/build-bench}
DIR=${BENCH_DIR:-/tmp/ferry-bench-drift-stats}
REPEATS=${BENCH_REPEATS:-7}
N=${BENCH_N:-1000000}
SHIFT=${BENCH_SHIFT:-0.004}
PY=/usr/bin/python3 # Debian's, with python3-scipy

[[ $REPEATS =~ ^[1-9][0-9]*$ ]] || die "BENCH_REPEATS must be a number"
[[ $N =~ ^[1-9][0-9]*$ ]] || die "BENCH_N must be a number"
ensure_packages python3-scipy python3-numpy

cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD" -j"$(nproc)" --target ferrycore >/dev/null
mkdir -p "$DIR"
cc -O2 -std=c11 -D_GNU_SOURCE -I "$ROOT/src" "$ROOT/bench/drift_stats_bench.c" \
	"$BUILD/libferrycore.a" $(pkg-config --libs sqlite3 libpq libcrypto jansson libfyaml libmicrohttpd \
	libcurl xgboost openblas lapacke gsl libzstd libarchive) -lm -lpthread \
	-o "$DIR/drift_stats_bench"

# The samples, and scipy's side (same files, same medians), as "<name> <seconds> <value> <p>".
"$PY" - "$DIR" "$N" "$SHIFT" "$REPEATS" >"$DIR/scipy.txt" <<'EOF'
import sys, time
import numpy as np
from scipy.spatial.distance import jensenshannon
from scipy.stats import ks_2samp, wasserstein_distance

d, n, shift, repeats = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
rng = np.random.default_rng(20261124)
ref = rng.normal(0.0, 1.0, n)
cur = rng.normal(shift, 1.0, n)
ref.astype("<f8").tofile(d + "/ref.f64")
cur.astype("<f8").tofile(d + "/cur.f64")
ref = np.sort(ref)  # the same head start ferry gets: a sorted reference


def evidently_js(r, c):
    # Evidently's get_binned_data (numerical, > 20 distinct) + jensenshannon on raw shares
    edges = np.histogram_bin_edges(np.concatenate([r, c]), bins="sturges")
    rp = np.histogram(r, edges)[0] / len(r)
    cp = np.histogram(c, edges)[0] / len(c)
    return jensenshannon(rp, cp)


stats = {
    "sort": lambda: (np.sort(cur), np.nan, np.nan),
    "ks": lambda: (None,) + tuple(ks_2samp(ref, cur)[:2]),
    "wasserstein": lambda: (None, wasserstein_distance(ref, cur) / max(np.std(ref), 0.001), np.nan),
    "jensenshannon": lambda: (None, evidently_js(ref, cur), np.nan),
}
for name, f in stats.items():
    times = []
    for _ in range(repeats):
        t0 = time.process_time()
        out = f()
        times.append(time.process_time() - t0)
    print(name, "%.6f" % float(np.median(times)), repr(float(out[1])), repr(float(out[2])))
EOF
"$DIR/drift_stats_bench" "$DIR/ref.f64" "$DIR/cur.f64" "$REPEATS" >"$DIR/ferry.txt"

log "$(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), n = $N vs $N, shift $SHIFT, median of $REPEATS"
"$PY" - "$DIR/scipy.txt" "$DIR/ferry.txt" <<'EOF'
import math, sys

def read(path):
    return {f[0]: [float(x) for x in f[1:]] for f in (l.split() for l in open(path))}

py, c = read(sys.argv[1]), read(sys.argv[2])
bad = []
for name in ("ks", "wasserstein", "jensenshannon"):
    for i, what in ((1, "value"), (2, "p-value")):
        a, b = py[name][i], c[name][i]
        if math.isnan(a) and math.isnan(b):
            continue
        if not abs(a - b) <= 1e-9 * abs(a) + (1e-12 if i == 2 else 0):
            bad.append("%s %s: scipy %r, ferry %r" % (name, what, a, b))
print("%-36s %12s %12s %8s" % ("statistic (current sorted inside)", "scipy s", "ferry s", "ratio"))
labels = {"sort": "sort 1 sample", "ks": "ks_2samp (D, p)", "wasserstein": "wasserstein / std(ref)",
          "jensenshannon": "jensenshannon on Sturges bins"}
for name in ("sort", "ks", "wasserstein", "jensenshannon"):
    t_py, t_c = py[name][0], c[name][0]
    print("%-36s %12.4f %12.4f %7.1fx" % (labels[name], t_py, t_c, t_py / t_c if t_c > 0 else float("inf")))
print("ks: D = %.17g, p = %.17g (scipy) / D = %.17g, p = %.17g (ferry)"
      % (py["ks"][1], py["ks"][2], c["ks"][1], c["ks"][2]))
print("wasserstein %.17g / %.17g, jensenshannon %.17g / %.17g"
      % (py["wasserstein"][1], c["wasserstein"][1], py["jensenshannon"][1], c["jensenshannon"][1]))
if bad:
    print("MISMATCH:\n  " + "\n  ".join(bad))
    sys.exit(1)
print("values agree (1e-9 relative)")
EOF
