#!/usr/bin/env bash
# The cost of live monitoring on `ferry serve`'s hot path: the same model and the same body
# served with live monitoring on (the default) and with --no-monitor, side by side under wrk in
# ONE run, printing RATIOS (on / off) of req/s and of CPU time per request; then the sketches'
# own cost per value (bench/sketch_bench.c). Machines here are shared and noisy: absolute figures
# lie. A benchmark, not a test: nothing asserts on time, but a non-2xx answer stops it. See
# bench/README.md.
#
# usage: bench/serve_monitor.sh
#
# Model: xgboost (n_estimators=100) trained by `ferry train` on examples/data/drift/reference.csv
# (3,000 rows, 19 features, 4 of them strings) in a temporary project, so that the monitor's
# reference is the training rows. Both servers run --no-log (the inference log has its own
# bench, bench/serve.sh) and --threads BENCH_SERVE_THREADS. Cases: one row per request and 100
# rows per request (MLflow dataframe_split bodies from batch_02_drift.csv); wrk sends no
# X-Request-Id, so the server makes one per request and the monitor keeps every prediction in its
# pending map (evicting the oldest): the full cost. BENCH_ROUNDS rounds; even rounds run the
# pair in the reverse order. Medians over rounds.
#
# environment:
#   FERRY=PATH             ferry binary (default: build-bench/ferry, Release, brought up to date)
#   BUILD=DIR              Release build whose libferrycore.a the micro-bench links (default:
#                          the directory of FERRY when it has one, else build-bench)
#   BENCH_SECONDS=S        each timed load, 1-15 (default: 8)
#   BENCH_ROUNDS=N         1-5 (default: 2)
#   BENCH_CONNS=N          wrk connections (default: 32)
#   BENCH_SERVE_THREADS=N  `ferry serve --threads` (default: nproc)
#   BENCH_NO_INSTALL=1     do not apt-get missing packages; fail instead
set -euo pipefail
export LC_ALL=C

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SECS=${BENCH_SECONDS:-8}
ROUNDS=${BENCH_ROUNDS:-2}
CONNS=${BENCH_CONNS:-32}
SERVE_THREADS=${BENCH_SERVE_THREADS:-$(nproc)}
DATA=$ROOT/examples/data/drift

log() { printf 'bench: %s\n' "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}
in_range() {
	[[ $2 =~ ^[0-9]+$ ]] && (($2 >= $3 && $2 <= $4)) && return 0
	die "$1 must be an integer from $3 to $4, not '$2'"
}
in_range BENCH_SECONDS "$SECS" 1 15
in_range BENCH_ROUNDS "$ROUNDS" 1 5
in_range BENCH_CONNS "$CONNS" 2 1024
in_range BENCH_SERVE_THREADS "$SERVE_THREADS" 1 256

. "$(dirname "$0")/lib.sh"
ensure_packages wrk curl jq python3

if [ -z "${FERRY:-}" ]; then
	build=${BUILD:-$ROOT/build-bench}
	[ -f "$build/CMakeCache.txt" ] || cmake -S "$ROOT" -B "$build" -DCMAKE_BUILD_TYPE=Release >&2
	cmake --build "$build" -j"$(nproc)" --target ferry ferrycore >&2
	FERRY=$build/ferry
fi
FERRY=$(readlink -f "$FERRY")
BUILD=${BUILD:-$(dirname "$FERRY")}
"$FERRY" serve --help 2>&1 | grep -q -- --no-monitor || die "'$FERRY' has no 'serve --no-monitor'"

W=$(mktemp -d "${BENCH_DIR:-/tmp}/ferry-bench-monitor.XXXXXX")
PIDS=() # the servers this script started; ended by PID at exit
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$W"
}
trap cleanup EXIT
cd "$W"

log "training xgboost on $(basename "$DATA")/reference.csv"
"$FERRY" init -q >/dev/null
cp "$DATA/reference.csv" train.csv
"$FERRY" train -q --data train.csv --target churn --model xgboost --param n_estimators=100 \
	--out m >/dev/null

python3 - "$DATA/batch_02_drift.csv" <<'EOF'
import csv, json, sys
rows = list(csv.DictReader(open(sys.argv[1])))
for r in rows:
    del r["churn"]
cols = list(rows[0].keys())
def val(v):
    try:
        return float(v)
    except ValueError:
        return v
for n in (1, 100):
    body = {"dataframe_split": {"columns": cols, "data": [[val(r[c]) for c in cols] for r in rows[:n]]}}
    json.dump(body, open("body%d.json" % n, "w"))
EOF
cat >post.lua <<'EOF'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = io.open(os.getenv("BODY"), "rb")
wrk.body = f:read("*a")
f:close()
done = function(summary, latency, requests)
	io.write(string.format("RESULT %d %d %d\n", summary.requests,
		summary.errors.status + summary.errors.connect + summary.errors.read +
		summary.errors.write + summary.errors.timeout, summary.duration))
end
EOF

# start NAME ARGS...: serves the model, sets URL_<NAME> and PID_<NAME>
start() {
	local name=$1 url=
	shift
	"$FERRY" serve m --port 0 --no-log --threads "$SERVE_THREADS" "$@" >"$name.out" 2>"$name.err" &
	PIDS+=($!)
	eval "PID_$name=$!"
	for _ in $(seq 300); do
		url=$(sed -n 's/^listening on //p' "$name.out")
		[ -n "$url" ] && break
		sleep 0.1
	done
	[ -n "$url" ] || die "ferry serve $* did not start: $(cat "$name.err")"
	eval "URL_$name=$url"
}
start on --monitor-window 5000
start off --no-monitor
grep -q "live monitoring: drift against the training rows" on.err || die "monitor: $(cat on.err)"

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# load NAME BODY: one timed wrk run; prints "req/s cpu_us_per_request"
load() {
	local name=$1 body=$2 url pid c0 c1 out
	url=$(eval echo "\$URL_$name")
	pid=$(eval echo "\$PID_$name")
	code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
		--data-binary "@$body" "$url/invocations")
	[ "$code" = 200 ] || die "$name answered $code"
	BODY=$body wrk -t2 -c"$CONNS" -d1s -s post.lua "$url/invocations" >/dev/null
	c0=$(cpu_ticks "$pid")
	out=$(BODY=$body wrk -t2 -c"$CONNS" -d"${SECS}s" -s post.lua "$url/invocations")
	c1=$(cpu_ticks "$pid")
	set -- $(grep '^RESULT' <<<"$out")
	[ "$3" = 0 ] || die "$name: $3 errors or non-2xx answers"
	awk -v n="$2" -v us="$4" -v t=$((c1 - c0)) -v hz="$(getconf CLK_TCK)" \
		'BEGIN { printf "%.0f %.1f\n", n / (us / 1e6), t / hz * 1e6 / n }'
}

median() { sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

echo "bench: $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), ${SECS}s x $ROUNDS rounds, $CONNS connections"
for rows in 1 100; do
	: >"r$rows.on" && : >"r$rows.off" && : >"r$rows.ratio" && : >"r$rows.cpu"
	for round in $(seq "$ROUNDS"); do
		if ((round % 2)); then order="on off"; else order="off on"; fi
		for side in $order; do load "$side" "body$rows.json" >"cur.$side"; done
		read -r on_rps on_cpu <cur.on
		read -r off_rps off_cpu <cur.off
		echo "$on_rps" >>"r$rows.on"
		echo "$off_rps" >>"r$rows.off"
		awk -v a="$on_rps" -v b="$off_rps" 'BEGIN { print a / b }' >>"r$rows.ratio"
		awk -v a="$on_cpu" -v b="$off_cpu" 'BEGIN { printf "%s %s %.2f\n", a, b, a / b }' >>"r$rows.cpu"
	done
done
printf '\n| rows/request | monitor on req/s | --no-monitor req/s | on / off | CPU us/request on / off |\n'
printf '|---:|---:|---:|---:|---:|\n'
for rows in 1 100; do
	printf '| %s | %s | %s | %.2fx | %s / %s |\n' "$rows" "$(median <"r$rows.on")" \
		"$(median <"r$rows.off")" "$(median <"r$rows.ratio")" \
		"$(cut -d' ' -f1 "r$rows.cpu" | median)" "$(cut -d' ' -f2 "r$rows.cpu" | median)"
done
curl -s "$URL_on/metrics" | grep -E '^ferry_(monitor_window_rows|dataset_drift_share|live_evicted)' || true

echo
log "sketch micro-bench (bench/sketch_bench.c against $BUILD/libferrycore.a)"
cc -O2 -std=c11 -D_GNU_SOURCE -I "$ROOT/src" "$ROOT/bench/sketch_bench.c" "$BUILD/libferrycore.a" \
	-lm -lpthread -o "$W/sketch_bench"
"$W/sketch_bench" 4
