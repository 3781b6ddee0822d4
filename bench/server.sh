#!/usr/bin/env bash
# Tracking server benchmark: `ferry server` driven over HTTP/1.1 keep-alive by bench/loadgen.c
# (one epoll thread, C connections), against the issue's figures for the real MLflow 2.10.2
# server (which cannot be installed here: no pip network). The MLflow figures are QUOTED, not
# measured side by side; the ratios say so. A benchmark, not a test: nothing asserts on time, but
# the correctness checks (every status 200, every point stored exactly once) do fail the run.
# See bench/README.md.
#
# usage: bench/server.sh [CASE...]    CASE: metric batch5 batch500 search concurrent
#                                     (default: all five)
#
#   metric      POST runs/log-metric, one point per request, each with its own timestamp and
#               step (nothing deduplicates); req/s
#   batch5      POST runs/log-batch of 5 metrics (5 keys, one new step each); req/s
#   batch500    POST runs/log-batch of 500 points of one metric (steps n*500 .. n*500+499, as a
#               training loop logs them); points/s
#   search      POST runs/search over BENCH_RUNS_COUNT (100,000) runs written straight into the
#               store's SQLite file (schema from src/store/schema, 3 metrics, 3 params, 3 tags
#               each, like bench/search.sh): `metrics.f1 > 0.8 and params.model = 'xgboost'`
#               ordered by `metrics.f1 DESC`, max_results 100, one client; latency p50/p99
#   concurrent  BENCH_CLIENTS (32) connections logging distinct points (each its own run, step
#               = its request number) at once; then every run's metrics/get-history and the
#               store's rows are counted: each 200 must be exactly one stored point, no errors
#
# Each throughput case runs once for 1 s to warm up, then BENCH_REPEATS times for up to
# BENCH_SECONDS each (and at most BENCH_MAX_REQUESTS requests); the median and best are shown
# with the server's and the client's CPU time per request (from /proc and getrusage), so that a
# client-bound result would show.
#
# environment:
#   FERRY=PATH             ferry binary to measure (default: build-bench/ferry, configured and
#                          brought up to date with cmake, Release)
#   BENCH_DIR=DIR          where the temporary project goes (default: /tmp); removed at exit
#   BENCH_WORKERS=N        `ferry server --workers` (default: nproc)
#   BENCH_CONNS=N          client connections of the throughput cases (default: 4)
#   BENCH_SECONDS=S        time bound of each timed run (default: 5)
#   BENCH_REPEATS=N        timed runs per case (default: 3)
#   BENCH_MAX_REQUESTS=N   request bound of each timed run (default: 500000)
#   BENCH_RUNS_COUNT=N     runs in the search store (default: 100000)
#   BENCH_CLIENTS=N        clients of the concurrent case (default: 32)
#   BENCH_POINTS=N         points each concurrent client logs (default: 2000)
set -euo pipefail
export LC_ALL=C

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORKERS=${BENCH_WORKERS:-$(nproc)}
CONNS=${BENCH_CONNS:-4}
SECS=${BENCH_SECONDS:-5}
REPEATS=${BENCH_REPEATS:-3}
MAXREQ=${BENCH_MAX_REQUESTS:-500000}
NRUNS=${BENCH_RUNS_COUNT:-100000}
CLIENTS=${BENCH_CLIENTS:-32}
POINTS=${BENCH_POINTS:-2000}
ALL_CASES="metric batch5 batch500 search concurrent"

log() { printf 'bench: %s\n' "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}
in_range() {
	[[ $2 =~ ^[1-9][0-9]*$ ]] && (($2 >= $3 && $2 <= $4)) && return 0
	die "$1 must be an integer from $3 to $4, not '$2'"
}
in_range BENCH_WORKERS "$WORKERS" 1 64
in_range BENCH_CONNS "$CONNS" 1 512
in_range BENCH_SECONDS "$SECS" 1 60
in_range BENCH_REPEATS "$REPEATS" 1 15
in_range BENCH_MAX_REQUESTS "$MAXREQ" 1000 10000000
in_range BENCH_RUNS_COUNT "$NRUNS" 1000 2000000
in_range BENCH_CLIENTS "$CLIENTS" 1 512
in_range BENCH_POINTS "$POINTS" 1 100000
CASES=${*:-$ALL_CASES}
for c in $CASES; do
	[[ " $ALL_CASES " == *" $c "* ]] || die "unknown case '$c' (expected: $ALL_CASES)"
done
for tool in cc curl jq sqlite3 git; do
	command -v "$tool" >/dev/null || die "'$tool' is needed (apt-get install $tool)"
done

if [ -z "${FERRY:-}" ]; then
	cmake -S "$ROOT" -B "$ROOT/build-bench" -DCMAKE_BUILD_TYPE=Release >/dev/null
	cmake --build "$ROOT/build-bench" -j"$(nproc)" --target ferry >/dev/null
	FERRY=$ROOT/build-bench/ferry
fi
FERRY=$(realpath "$FERRY") && [ -x "$FERRY" ] || die "'$FERRY' is not an executable"

WORK=$(mktemp -d "${BENCH_DIR:-/tmp}/ferry-bench-server.XXXXXX")
SERVER_PID=
cleanup() {
	if [ -n "$SERVER_PID" ]; then
		kill "$SERVER_PID" 2>/dev/null || true
		wait "$SERVER_PID" 2>/dev/null || true
	fi
	rm -rf "$WORK"
}
trap cleanup EXIT
export HOME=$WORK/home GIT_CONFIG_NOSYSTEM=1 FERRY_LOG= FERRY_STORE=
mkdir -p "$HOME"

cc -O2 -std=c11 -Wall -Wextra -o "$WORK/loadgen" "$ROOT/bench/loadgen.c"
LOADGEN=$WORK/loadgen

# The project: a git repository with `ferry init`, served on 127.0.0.1 with a free port.
mkdir "$WORK/proj"
git -C "$WORK/proj" init -q
(cd "$WORK/proj" && "$FERRY" init -q)
(cd "$WORK/proj" && exec "$FERRY" server --host 127.0.0.1 --port 0 --workers "$WORKERS" \
	>"$WORK/server.out" 2>"$WORK/server.err") &
SERVER_PID=$!
URL=
for _ in $(seq 100); do
	URL=$(sed -n 's/^listening on //p' "$WORK/server.out")
	[ -n "$URL" ] && break
	kill -0 "$SERVER_PID" 2>/dev/null || die "ferry server exited: $(cat "$WORK/server.err")"
	sleep 0.1
done
[ -n "$URL" ] || die "ferry server did not report its address"
PORT=${URL##*:}
API=$URL/api/2.0/mlflow
DB=$WORK/proj/.ferry/ferry.db
[ -f "$DB" ] || die "no store at $DB"
TICK=$(getconf CLK_TCK)

# post PATH JSON: the response body; any status but 200 stops the benchmark.
post() {
	curl -sS -f -X POST -H 'Content-Type: application/json' "$API/$1" -d "$2" ||
		die "POST $1 failed"
}
new_run() {
	post runs/create "{\"experiment_id\":\"$EXP\",\"run_name\":\"$1\"}" | jq -r .run.info.run_id
}
server_ticks() { awk '{print $14 + $15}' "/proc/$SERVER_PID/stat"; }

EXP=$(post experiments/create '{"name":"server-bench"}' | jq -r .experiment_id)

log "$(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), ferry server --workers $WORKERS," \
	"$CONNS connections, ${SECS}s x $REPEATS runs per case"

# field KEY LINE: the value of KEY=... in a loadgen result line.
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p; s/^$1=\([^ ]*\).*/\1/p" <<<"$2" | head -1; }

# median of the numbers on stdin
median() { sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }

NEXT=1 # the first {{n}} of the next load: every load logs new points
# measure NAME PATH BODYFILE UNIT_PER_REQUEST: warm-up, then REPEATS timed loads. Sets RESULT
# (median of req/s x unit), BEST, and prints one line per load.
measure() {
	local name=$1 path=$2 body=$3 per=$4 line rps s0 s1 r
	local -a all=()
	"$LOADGEN" -p "$PORT" -c "$CONNS" -n "$MAXREQ" -d 1 -u "$path" -f "$body" -s "$NEXT" \
		>"$WORK/lg.out" || die "$name: warm-up failed: $(cat "$WORK/lg.out")"
	NEXT=$((NEXT + MAXREQ))
	for r in $(seq "$REPEATS"); do
		s0=$(server_ticks)
		line=$("$LOADGEN" -p "$PORT" -c "$CONNS" -n "$MAXREQ" -d "$SECS" -u "$path" \
			-f "$body" -s "$NEXT") || die "$name: errors: $line"
		s1=$(server_ticks)
		NEXT=$((NEXT + MAXREQ))
		rps=$(field rps "$line")
		all+=("$(awk -v r="$rps" -v p="$per" 'BEGIN {printf "%.0f", r * p}')")
		awk -v n="$name" -v r="$rps" -v p="$per" -v req="$(field requests "$line")" \
			-v s="$(field seconds "$line")" -v st="$((s1 - s0))" -v tk="$TICK" \
			-v cc="$(field client_cpu_s "$line")" -v p50="$(field p50_ms "$line")" \
			-v p99="$(field p99_ms "$line")" 'BEGIN {
			printf "  %-9s run %d: %9.0f req/s", n, '"$r"', r
			if (p != 1) printf " = %9.0f points/s", r * p
			printf "  p50 %.3f ms p99 %.3f ms  server %.0f us CPU/req (%.0f%% of a CPU)",
				p50, p99, st / tk / req * 1e6, 100 * st / tk / s
			printf "  client %.0f us/req (%.0f%%)\n", cc / req * 1e6, 100 * cc / s
		}'
	done
	RESULT=$(printf '%s\n' "${all[@]}" | median)
	BEST=$(printf '%s\n' "${all[@]}" | sort -g | tail -1)
}

SUMMARY=$WORK/summary
: >"$SUMMARY"
# row CASE FERRY_VALUE UNIT MLFLOW_LOW MLFLOW_HIGH TARGET MET
row() {
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$SUMMARY"
}
ratio() { awk -v f="$1" -v lo="$2" -v hi="$3" 'BEGIN {printf "%.0f-%.0fx", f / hi, f / lo}'; }

case_metric() {
	local run
	run=$(new_run metric)
	printf '{"run_id":"%s","key":"loss","value":{{n}}.5,"timestamp":{{n}},"step":{{n}}}' \
		"$run" >"$WORK/metric.json"
	measure metric /api/2.0/mlflow/runs/log-metric "$WORK/metric.json" 1
	row "single log-metric" "$RESULT req/s (best $BEST)" "$(ratio "$RESULT" 125 175)" \
		"125-175 req/s" ">= 15,000 req/s" "$( ((RESULT >= 15000)) && echo yes || echo NO)"
}

case_batch5() {
	local run k
	run=$(new_run batch5)
	{
		printf '{"run_id":"%s","metrics":[' "$run"
		for k in 0 1 2 3 4; do
			((k)) && printf ','
			printf '{"key":"m%d","value":{{n}}.%d,"timestamp":{{n}},"step":{{n}}}' "$k" "$k"
		done
		printf ']}'
	} >"$WORK/batch5.json"
	measure batch5 /api/2.0/mlflow/runs/log-batch "$WORK/batch5.json" 1
	row "log-batch, 5 metrics" "$RESULT req/s (best $BEST)" "$(ratio "$RESULT" 52 67)" \
		"52-67 req/s" ">= 5,000 req/s" "$( ((RESULT >= 5000)) && echo yes || echo NO)"
}

case_batch500() {
	local run k
	run=$(new_run batch500)
	{
		printf '{"run_id":"%s","metrics":[' "$run"
		for k in $(seq 0 499); do
			((k)) && printf ','
			printf '{"key":"loss","value":{{n}}.%d,"timestamp":{{n}},"step":{{n*500+%d}}}' "$k" "$k"
		done
		printf ']}'
	} >"$WORK/batch500.json"
	measure batch500 /api/2.0/mlflow/runs/log-batch "$WORK/batch500.json" 500
	row "log-batch, 500 points" "$RESULT points/s (best $BEST)" \
		"$(ratio "$RESULT" 1200 9500)" "1.2k-9.5k points/s" ">= 500,000 points/s" \
		"$( ((RESULT >= 500000)) && echo yes || echo NO)"
}

# fill_runs EXPERIMENT N: N finished runs written straight into the store in one transaction,
# values from integer hashes of the run number (reproducible), shaped like bench/search_bench.c.
fill_runs() {
	sqlite3 "$DB" >/dev/null <<-SQL
		.timeout 60000
		BEGIN IMMEDIATE;
		CREATE TEMP TABLE g AS
		WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM c WHERE i < $2 - 1)
		SELECT i, printf('b%031x', i) AS id, 1700000000000 + i * 1000 AS t,
		       ((i * 7919) % 10007) / 10007.0 AS f1, ((i * 104729) % 10009) / 10009.0 AS acc,
		       ((i * 1299709) % 10037) / 1003.7 AS loss FROM c;
		INSERT INTO runs (run_id, experiment_id, name, user_id, status, start_time, end_time,
		                  artifact_uri)
		SELECT id, $1, 'run-' || i, 'bench', CASE WHEN i % 10 THEN 'FINISHED' ELSE 'FAILED' END,
		       t, t + 1000, 'mlflow-artifacts:/$1/' || id || '/artifacts' FROM g;
		INSERT INTO metrics (run_id, key, step, timestamp, value)
		SELECT id, 'f1', 0, t, f1 FROM g UNION ALL SELECT id, 'acc', 0, t, acc FROM g
		UNION ALL SELECT id, 'loss', 0, t, loss FROM g;
		INSERT INTO latest_metrics (run_id, key, step, timestamp, value)
		SELECT run_id, key, step, timestamp, value FROM metrics
		WHERE run_id IN (SELECT id FROM g);
		INSERT INTO params (run_id, key, value)
		SELECT id, 'model', CASE (i * 31) % 4 WHEN 0 THEN 'xgboost' WHEN 1 THEN 'lr'
		                    WHEN 2 THEN 'rf' ELSE 'svm' END FROM g
		UNION ALL SELECT id, 'lr', printf('0.%03d', (i * 613) % 1000) FROM g
		UNION ALL SELECT id, 'depth', (i * 7) % 12 FROM g;
		INSERT INTO run_tags (run_id, key, value)
		SELECT id, 'team', 'team-' || (i * 17) % 50 FROM g
		UNION ALL SELECT id, 'mlflow.runName', 'run-' || i FROM g
		UNION ALL SELECT id, 'mlflow.user', 'bench' FROM g;
		COMMIT;
	SQL
}

case_search() {
	local exp t0 t1 body line n expect want
	exp=$(post experiments/create '{"name":"search-bench"}' | jq -r .experiment_id)
	t0=$(date +%s.%N)
	fill_runs "$exp" "$NRUNS"
	t1=$(date +%s.%N)
	log "search: $NRUNS runs written into experiment $exp in $(awk -v a="$t0" -v b="$t1" \
		'BEGIN {printf "%.1f", b - a}') s"
	body="{\"experiment_ids\":[\"$exp\"],\"filter\":\"metrics.f1 > 0.8 and params.model = 'xgboost'\",\"order_by\":[\"metrics.f1 DESC\"],\"max_results\":100}"
	# The answer first: min(100, matching) runs, each matching, in order, with a next page
	# when more match.
	expect=$(sqlite3 "$DB" "SELECT count(*) FROM runs r JOIN latest_metrics m ON m.run_id = r.run_id AND m.key = 'f1' JOIN params p ON p.run_id = r.run_id AND p.key = 'model' WHERE r.experiment_id = $exp AND m.value > 0.8 AND p.value = 'xgboost'")
	want=$((expect < 100 ? expect : 100))
	post runs/search "$body" >"$WORK/search.json"
	n=$(jq '.runs | length' "$WORK/search.json")
	[ "$n" = "$want" ] || die "search: expected $want runs, got $n"
	jq -e --argjson w "$want" '[.runs[] | (.data.metrics[] | select(.key == "f1") | .value)] as $v
		| ($v | length) == $w and ($v | all(. > 0.8)) and $v == ($v | sort | reverse)' \
		"$WORK/search.json" >/dev/null || die "search: runs not filtered or not in order"
	jq -e '[.runs[] | .data.params[] | select(.key == "model") | .value] | all(. == "xgboost")' \
		"$WORK/search.json" >/dev/null || die "search: a run without params.model = xgboost"
	((expect <= 100)) || jq -e '.next_page_token' "$WORK/search.json" >/dev/null ||
		die "search: no next page"
	printf '%s' "$body" >"$WORK/search-body.json"
	"$LOADGEN" -p "$PORT" -c 1 -n 3 -d 10 -u /api/2.0/mlflow/runs/search \
		-f "$WORK/search-body.json" >/dev/null || die "search: warm-up failed"
	line=$("$LOADGEN" -p "$PORT" -c 1 -n 51 -d 30 -u /api/2.0/mlflow/runs/search \
		-f "$WORK/search-body.json") || die "search: errors: $line"
	echo "  search    $(field requests "$line") requests, 1 client: p50 $(field p50_ms "$line") ms, p90 $(field p90_ms "$line") ms, p99 $(field p99_ms "$line") ms ($expect runs match; $want returned)"
	RESULT=$(field p50_ms "$line")
	row "runs/search, metric filter + order, 100 of $NRUNS runs" \
		"$RESULT ms p50 (p99 $(field p99_ms "$line") ms)" \
		"$(awk -v f="$RESULT" 'BEGIN {printf "%.0f-%.0fx", 400 / f, 3000 / f}') (MLflow over 45 runs)" \
		"0.4-3 s over 45 runs" "< 50 ms" \
		"$(awk -v f="$RESULT" 'BEGIN {print (f < 50) ? "yes" : "NO"}')"
}

case_concurrent() {
	local runs=() list i line ok stored distinct bad=0 hist n total=0 want
	for i in $(seq "$CLIENTS"); do runs+=("$(new_run "client-$i")"); done
	list=$(IFS=,; echo "${runs[*]}")
	printf '{"run_id":"{{run}}","key":"conc","value":{{n}}.25,"timestamp":{{n}},"step":{{i}}}' \
		>"$WORK/conc.json"
	line=$("$LOADGEN" -p "$PORT" -c "$CLIENTS" -n $((CLIENTS * POINTS)) -d 60 -v \
		-u /api/2.0/mlflow/runs/log-metric -f "$WORK/conc.json" -s "$NEXT" -R "$list") ||
		die "concurrent: errors: $(head -1 <<<"$line")"
	NEXT=$((NEXT + CLIENTS * POINTS))
	ok=$(field ok "$(head -1 <<<"$line")")
	echo "  concurrent $CLIENTS clients: $(head -1 <<<"$line" | cut -d' ' -f2-6)"
	# Connection c logged steps 0 .. done_c - 1 into runs[c]: the history must be exactly those.
	for i in $(seq 0 $((CLIENTS - 1))); do
		want=$(sed -n "s/^conn $i done //p" <<<"$line")
		curl -sS -f "$API/metrics/get-history?run_id=${runs[$i]}&metric_key=conc" >"$WORK/hist.json" ||
			die "concurrent: get-history failed"
		hist=$(jq -c '[.metrics[].step] | sort' "$WORK/hist.json")
		n=$(jq 'length' <<<"$hist")
		total=$((total + n))
		if [ "$n" != "$want" ] || [ "$hist" != "$(jq -c -n "[range($want)]")" ]; then
			log "concurrent: run ${runs[$i]}: $want points logged, history has $n"
			bad=$((bad + 1))
		fi
	done
	stored=$(sqlite3 "$DB" "SELECT count(*) FROM metrics WHERE key = 'conc'")
	distinct=$(sqlite3 "$DB" "SELECT count(*) FROM (SELECT DISTINCT run_id, step FROM metrics WHERE key = 'conc')")
	echo "  concurrent: $ok answered 200, $total in the histories, $stored rows in the store ($distinct distinct run/step), $bad runs wrong"
	{ ((bad == 0)) && [ "$total" = "$ok" ] && [ "$stored" = "$ok" ] && [ "$distinct" = "$ok" ]; } ||
		die "concurrent: points lost or duplicated"
	row "$CLIENTS concurrent clients logging" "$ok points, 0 errors, 0 lost" "-" "-" \
		"zero errors, zero lost" "yes"
}

for c in $CASES; do
	"case_$c"
done

echo
echo "ferry server ($(nproc) CPUs, --workers $WORKERS, $CONNS keep-alive connections, load" \
	"$(cut -d' ' -f1-3 /proc/loadavg)) against the issue's QUOTED MLflow 2.10.2 figures" \
	"(not measured here):"
{
	printf 'case\tferry (median of runs)\tferry / MLflow\tMLflow 2.10.2 (quoted)\ttarget\tmet\n'
	cat "$SUMMARY"
} | column -t -s $'\t'
