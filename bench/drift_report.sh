#!/usr/bin/env bash
# The drift report, ferry vs numpy/scipy doing Evidently's default path (bench/drift_report_peer.py):
# 50 numeric columns x 100,000 reference + 100,000 current rows (numpy default_rng(42), 10 columns
# shifted by 0.25 sd, 5 by 0.05 sd), CPU time of the computation alone on both sides (data already
# in memory: ferry's drift_report_tables in a small C driver built here against libferrycore.a,
# the peer's per-column wasserstein/std/nunique loop), then of the whole `ferry monitor report`
# process against the whole peer script (CSV reading included), with the scores checked equal
# first. Then the peak RSS of `ferry monitor report` over a 10,000,000-row current file (5
# columns, streamed) against its size, with the default exact-value budget and a small one.
# A benchmark, not a test. See bench/README.md.
#
# usage: bench/drift_report.sh
#
# environment:
#   BENCH_DIR=DIR       data and the driver (default: /tmp/ferry-bench-drift; the data is cached)
#   BENCH_REPEATS=N     timed runs of each side; the best is reported (default: 3)
#   BUILD=DIR           Release build directory to use (default: build-bench)
#   BENCH_BIG_ROWS=N    rows of the streamed current file (default: 10000000)
set -euo pipefail
export LC_ALL=C

log() { echo "bench: $*" >&2; }
die() { log "$*"; exit 1; }
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$ROOT/bench/lib.sh"
BUILD=${BUILD:-$ROOT/build-bench}
DIR=${BENCH_DIR:-/tmp/ferry-bench-drift}
REPEATS=${BENCH_REPEATS:-3}
BIG=${BENCH_BIG_ROWS:-10000000}
PY=/usr/bin/python3
[[ $REPEATS =~ ^[1-9][0-9]*$ ]] || die "BENCH_REPEATS must be a number"

ensure_packages python3-numpy python3-scipy python3-pandas time jq
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD" -j"$(nproc)" --target ferry ferrycore >/dev/null
FERRY=$BUILD/ferry
mkdir -p "$DIR"

if [ ! -f "$DIR/cur.csv" ]; then
	log "generating 2 x 100,000 x 50 in $DIR"
	$PY - "$DIR" <<'PYEOF'
import sys
import numpy as np
d = sys.argv[1]
rng = np.random.default_rng(42)
k, n = 50, 100_000
mu = rng.uniform(-100, 100, k)
sd = rng.uniform(0.5, 20, k)
shift = np.zeros(k)
shift[:10] = 0.25
shift[10:15] = 0.05
header = ",".join("c%02d" % i for i in range(k))
for name, s in (("ref", 0), ("cur", 1)):
    x = rng.normal(mu + s * shift * sd, sd, size=(n, k))
    np.savetxt("%s/%s.csv" % (d, name), x, fmt="%.6g", delimiter=",", header=header, comments="")
PYEOF
fi
if [ ! -f "$DIR/big.csv" ] || [ "$(cat "$DIR/big.rows" 2>/dev/null)" != "$BIG" ]; then
	log "generating a $BIG-row current file of 5 columns in $DIR"
	$PY - "$DIR" "$BIG" <<'PYEOF'
import sys
import numpy as np
d, rows = sys.argv[1], int(sys.argv[2])
rng = np.random.default_rng(7)
with open("%s/ref5.csv" % d, "w") as f:
    f.write("a,b,c,d,e\n")
    np.savetxt(f, rng.normal(0, 1, size=(100_000, 5)), fmt="%.6g", delimiter=",")
with open("%s/big.csv" % d, "w") as f:
    f.write("a,b,c,d,e\n")
    for start in range(0, rows, 1_000_000):
        m = min(1_000_000, rows - start)
        np.savetxt(f, rng.normal(0.1, 1, size=(m, 5)), fmt="%.6g", delimiter=",")
PYEOF
	echo "$BIG" >"$DIR/big.rows"
fi

cat >"$DIR/drift_bench.c" <<'CEOF'
/* Times drift_report_tables over two loaded tables: CPU and wall seconds, best of N. */
#include "util/common.h"
#include "monitor/drift_report.h"
#include <math.h>
#include <time.h>

static double now(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
	struct table *ref = NULL, *cur = NULL;
	struct error err = ERROR_INIT;
	struct drift_options o = DRIFT_OPTIONS_INIT;
	double best_cpu = 1e30, best_wall = 1e30, best_window = 1e30;
	struct drift_report *r = NULL;
	int reps = argc > 3 ? (int)strtol(argv[3], NULL, 10) : 3;

	if (argc < 3 || table_load(&ref, argv[1], NULL, &err) || table_load(&cur, argv[2], NULL, &err))
		return fprintf(stderr, "drift_bench: %s\n", err.msg), 1;
	for (int i = 0; i < reps; i++) {
		double c0 = now(CLOCK_PROCESS_CPUTIME_ID), w0 = now(CLOCK_MONOTONIC);

		drift_report_free(r);
		r = NULL;
		if (drift_report_tables(&r, ref, cur, &o, &err))
			return fprintf(stderr, "drift_bench: %s\n", err.msg), 1;
		best_cpu = fmin(best_cpu, now(CLOCK_PROCESS_CPUTIME_ID) - c0);
		best_wall = fmin(best_wall, now(CLOCK_MONOTONIC) - w0);
	}
	/* a window against a reference prepared once (sorted, distinct values), as monitor run does */
	{
		struct drift_reference *dr = drift_reference_new(ref);
		const char **names = xcalloc(cur->ncols, sizeof(*names));

		for (size_t c = 0; c < cur->ncols; c++)
			names[c] = cur->cols[c]->name;
		for (int i = 0; i < reps; i++) {
			double c0 = now(CLOCK_PROCESS_CPUTIME_ID);
			struct drift_current *dc = drift_current_new(dr, "cur", names, cur->ncols, 0);
			struct drift_report *w = NULL;

			if (drift_current_add_table(dc, cur, &err) ||
			    drift_report_finish(&w, dr, dc, &o, &err))
				return fprintf(stderr, "drift_bench: %s\n", err.msg), 1;
			best_window = fmin(best_window, now(CLOCK_PROCESS_CPUTIME_ID) - c0);
			drift_report_free(w);
			drift_current_free(dc);
		}
		free(names);
		drift_reference_free(dr);
	}
	printf("{\"cpu_compute\": %.6f, \"wall_compute\": %.6f, \"cpu_window\": %.6f, "
	       "\"n_drifted\": %zu, \"scores\": {",
	       best_cpu, best_wall, best_window, r->n_drifted);
	for (size_t i = 0; i < r->n_columns; i++)
		printf("%s\"%s\": %.17g", i ? ", " : "", r->columns[i].name, r->columns[i].score);
	printf("}}\n");
	drift_report_free(r);
	table_free(ref);
	table_free(cur);
	return 0;
}
CEOF
cc -O2 -std=c11 -D_GNU_SOURCE -I "$ROOT/src" "$DIR/drift_bench.c" "$BUILD/libferrycore.a" \
	$(pkg-config --libs sqlite3 libpq libcrypto jansson libfyaml libmicrohttpd libcurl xgboost \
	openblas lapacke gsl libzstd libarchive) -lm -lpthread -o "$DIR/drift_bench"

echo "bench: $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), $($PY -c 'import numpy, scipy, pandas; print("numpy", numpy.__version__, "scipy", scipy.__version__, "pandas", pandas.__version__)')"
best() { jq -s "map(.$1) | min"; }
peer_runs=() ferry_runs=() cli_cpu=()
for i in $(seq "$REPEATS"); do
	peer_runs+=("$($PY "$ROOT/bench/drift_report_peer.py" "$DIR/ref.csv" "$DIR/cur.csv")")
	ferry_runs+=("$("$DIR/drift_bench" "$DIR/ref.csv" "$DIR/cur.csv" 3)")
	/usr/bin/time -f "%U %S %M" -o "$DIR/time.txt" "$FERRY" monitor report --reference "$DIR/ref.csv" \
		--current "$DIR/cur.csv" --json >"$DIR/report.json" || [ $? -eq 3 ]
	cli_cpu+=("$(awk '{ printf "{\"cpu\": %.3f, \"rss_kb\": %d}", $1 + $2, $3 }' "$DIR/time.txt")")
done
peer=$(printf '%s\n' "${peer_runs[@]}")
ferry=$(printf '%s\n' "${ferry_runs[@]}")
cli=$(printf '%s\n' "${cli_cpu[@]}")

# same answers first: every column's score within 1e-9 relative, the same drifted count
maxrel=$(jq -n --argjson p "$(echo "$peer" | head -1)" --argjson f "$(echo "$ferry" | head -1)" \
	'[$p.scores | keys[] as $k | (($p.scores[$k] - $f.scores[$k]) / $p.scores[$k] | fabs)] | max')
jq -n --argjson p "$(echo "$peer" | head -1)" --argjson f "$(echo "$ferry" | head -1)" \
	-e '$p.n_drifted == $f.n_drifted' >/dev/null || die "ferry and the peer disagree on the drifted columns"
awk -v m="$maxrel" 'BEGIN { exit !(m < 1e-9) }' || die "scores differ: max relative difference $maxrel"
jq -e '.n_drifted == 10 and .n_tested == 50' "$DIR/report.json" >/dev/null ||
	die "ferry monitor report: expected 10 of 50 columns drifted"

pc=$(echo "$peer" | best cpu_compute) fc=$(echo "$ferry" | best cpu_compute)
fw=$(echo "$ferry" | best wall_compute)
pt=$(echo "$peer" | best cpu_total) ct=$(echo "$cli" | best cpu)
printf 'scores agree (max relative difference %s), %s of 50 columns drifted on both sides\n' \
	"$maxrel" "$(echo "$ferry" | head -1 | jq .n_drifted)"
printf '%-44s %10s %10s %8s\n' "50 cols x 100k + 100k (CPU seconds, best of $REPEATS)" peer ferry ratio
printf '%-44s %10.3f %10.3f %7.1fx\n' "computation (data in memory)" "$pc" "$fc" \
	"$(echo "$pc / $fc" | bc -l)"
printf '%-44s %10.3f %10.3f %7.1fx\n' "the same, ferry's reference prepared once" "$pc" \
	"$(echo "$ferry" | best cpu_window)" "$(echo "$pc / $(echo "$ferry" | best cpu_window)" | bc -l)"
printf '%-44s %10.3f %10.3f %7.1fx\n' "whole run (CSV reading included)" "$pt" "$ct" \
	"$(echo "$pt / $ct" | bc -l)"
printf 'ferry computation wall time: %.3f s on %s CPUs\n' "$fw" "$(nproc)"

size=$(stat -c %s "$DIR/big.csv")
for budget in default 1000000; do
	opt=()
	[ "$budget" = default ] || opt=(--exact-values "$budget")
	/usr/bin/time -f "%e %U %S %M" -o "$DIR/time.txt" "$FERRY" monitor report \
		--reference "$DIR/ref5.csv" --current "$DIR/big.csv" "${opt[@]}" --json \
		>"$DIR/big.json" || [ $? -eq 3 ]
	read -r wall user sys rss <"$DIR/time.txt"
	printf 'streaming %s rows (%d MB), exact-values %s: peak RSS %d MB, %.1f s wall, %.1f s CPU, exact=%s\n' \
		"$(jq .cur_rows "$DIR/big.json")" $((size / 1000000)) "$budget" $((rss / 1024)) "$wall" \
		"$(echo "$user + $sys" | bc -l)" "$(jq .exact "$DIR/big.json")"
done
