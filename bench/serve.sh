#!/usr/bin/env bash
# Inference server benchmark: `ferry serve` against the FastAPI + uvicorn app users write today
# (bench/serve_peer.py, one uvicorn worker), with nginx answering a fixed body as the ceiling of
# what an HTTP server does on this machine, all driven by wrk in ONE run, pairs back to back, and
# printing RATIOS (ferry req/s / peer req/s). Machines here are shared and noisy: absolute
# figures lie, and wrk shares the CPUs with the server it drives. A benchmark, not a test:
# nothing asserts on time, but a non-2xx answer or a socket error stops it. See bench/README.md.
#
# usage: bench/serve.sh
#
# Models: examples/data/mlc_churn.csv (5,000 rows, 19 features, 4 of them strings), trained by
# `ferry train --cv 2` (which saves a model fitted on every row) as logreg (defaults) and xgboost
# (n_estimators=100, max_depth=6; trained with nthread=1, which bounds the setup time on a busy
# machine and changes nothing in serving: the loaded booster uses every CPU); the peer fits the
# same rows at start-up: a ColumnTransformer (median + StandardScaler | OneHotEncoder(ignore)) +
# LogisticRegression(lbfgs, C=1) or XGBClassifier(100 trees, depth 6, n_jobs=1). Both answer
# POST /invocations with MLflow's dataframe_split JSON; before timing, the labels both give for
# the first 100 rows of the CSV are compared.
#
# Cases, each a wrk load (-t BENCH_WRK_THREADS -c BENCH_CONNS -d BENCH_SECONDS, after a 1 s
# warm-up) posting one body on keep-alive connections:
#   logreg 1 row     ferry serve --no-log, ferry serve with its inference log on (in a project:
#                    .ferry/inference/), the peer, and nginx (`return 200` of a 30-byte JSON body
#                    for POST /invocations, worker_processes 2 (nproc - 1 with BENCH_SPLIT), access_log off)
#   logreg 100 rows  ferry serve --no-log and the peer (rows/s = req/s x 100)
#   xgboost 1 row, xgboost 100 rows   the same
# BENCH_ROUNDS (2) rounds; in even rounds every case runs its servers in the reverse order, so a
# pair's two loads are always adjacent and neither side always runs first. The table shows the
# median over rounds of req/s, p50 and p99 (wrk --latency), and of each round's ratio; then each
# server's CPU time per request (from /proc, so less sensitive to what else runs than req/s) and,
# for ferry, how its CPU time split between its HTTP worker threads. Then the logreg 1-row load
# again for ferry and nginx from bench/loadgen.c (compiled with cc): closed loop, and open loop
# at BENCH_PACED_RATES requests per second (latency from each request's scheduled time).
#
# environment:
#   FERRY=PATH             ferry binary with `serve` (default: build-bench/ferry, configured and
#                          brought up to date with cmake, Release)
#   BENCH_DIR=DIR          where the temporary work directory is made (default: /tmp); removed
#                          at exit
#   BENCH_SECONDS=S        duration of each timed load, 1-15 (default: 10)
#   BENCH_ROUNDS=N         rounds, 1-5 (default: 2)
#   BENCH_CONNS=N          wrk connections (default: 32)
#   BENCH_WRK_THREADS=N    wrk threads (default: 2; 1 with BENCH_SPLIT)
#   BENCH_SERVE_THREADS=N  `ferry serve --threads` (default: nproc; nproc - 1 with BENCH_SPLIT)
#   BENCH_SPLIT=1          the load generators on CPU 0 and every server on the other CPUs
#                          (taskset), as when clients run on other machines: ferry --threads
#                          and nginx's worker_processes are then nproc - 1 (default: 0, all
#                          share every CPU)
#   BENCH_PERF=S           after the rounds, `perf record -g` ferry serve (logreg, 1 row) for S
#                          seconds under load and print the top symbols (default: 0, off)
#   BENCH_PACED_RATES="R ..." loadgen's open-loop rates (default: "10000 20000 40000")
#   BENCH_NO_INSTALL=1     do not apt-get missing packages; fail instead
set -euo pipefail
export LC_ALL=C

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SECS=${BENCH_SECONDS:-10}
ROUNDS=${BENCH_ROUNDS:-2}
CONNS=${BENCH_CONNS:-32}
SPLIT=${BENCH_SPLIT:-0}
NCPU=$(nproc)
# SRV and LDG prefix the servers' and the load generators' commands (CPU pinning with SPLIT)
SRV=() LDG=() NGINX_WORKERS=2 WHERE="on the same $NCPU CPUs"
if [ "$SPLIT" = 1 ]; then
	((NCPU >= 2)) || { echo "bench: BENCH_SPLIT needs at least 2 CPUs" >&2; exit 1; }
	SRV=(taskset -c "1-$((NCPU - 1))") LDG=(taskset -c 0) NGINX_WORKERS=$((NCPU - 1))
	WHERE="on CPU 0, the servers on CPUs 1-$((NCPU - 1))"
fi
WRK_THREADS=${BENCH_WRK_THREADS:-$((SPLIT == 1 ? 1 : 2))}
SERVE_THREADS=${BENCH_SERVE_THREADS:-$((SPLIT == 1 ? NCPU - 1 : NCPU))}
PERF_SECS=${BENCH_PERF:-0}
PYTHON=/usr/bin/python3 # Debian's, which python3-fastapi and friends install into
PEER=$ROOT/bench/serve_peer.py
DATA=$ROOT/examples/data/mlc_churn.csv
TARGET=churn
NGINX_BODY='{"predictions": ["yes", "no"]}' # 30 bytes
# The issue's figures for FastAPI + uvicorn (1 worker) on this machine class, quoted
ISSUE_PEER_LOGREG=2800
ISSUE_PEER_XGBOOST=1400

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
in_range BENCH_CONNS "$CONNS" 1 1024
in_range BENCH_WRK_THREADS "$WRK_THREADS" 1 64
in_range BENCH_SERVE_THREADS "$SERVE_THREADS" 1 256
in_range BENCH_PERF "$PERF_SECS" 0 15
((WRK_THREADS <= CONNS)) || die "BENCH_WRK_THREADS must not exceed BENCH_CONNS"
[ $# -eq 0 ] || die "no arguments expected (see the comment at the top of $0)"

# Peers and ferry -------------------------------------------------------------------------------

. "$(dirname "$0")/lib.sh"
ensure_packages wrk nginx python3-fastapi python3-uvicorn python3-uvloop python3-httptools \
	python3-pandas python3-sklearn python3-xgboost curl jq git time
((PERF_SECS == 0)) || ensure_packages linux-perf

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
"$FERRY" serve --help >/dev/null 2>&1 || die "'$FERRY' has no 'serve' command (FERRY=a build with it)"

parent=${BENCH_DIR:-/tmp}
mkdir -p "$parent"
W=$(mktemp -d "$parent/ferry-bench-serve.XXXXXX")
PIDS=() # every server this script started; ended by PID at exit
cleanup() {
	local p i
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do
		for i in $(seq 50); do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
export HOME=$W/home GIT_CONFIG_NOSYSTEM=1 FERRY_LOG='' FERRY_STORE=''
mkdir -p "$HOME" "$W/res"
TICK=$(getconf CLK_TCK)
T_START=$EPOCHREALTIME
elapsed() { awk -v a="$T_START" -v b="$EPOCHREALTIME" 'BEGIN {printf "%.0f s", b - a}'; }

# quiet CMD...: an untimed step, its output to the log; a failure stops the benchmark
quiet() {
	echo "### $*" >>"$W/commands.log"
	"$@" >>"$W/commands.log" 2>&1 || {
		tail -n 20 "$W/commands.log" >&2
		die "'$*' failed"
	}
}

free_port() {
	"$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_ready NAME: until NAME's /ping answers 200 (90 s at most; the server must stay alive)
wait_ready() {
	local i
	for i in $(seq 360); do
		curl -sf -o /dev/null "${URL[$1]}/ping" && return 0
		kill -0 "${PID[$1]}" 2>/dev/null || die "$1 exited: $(tail -n 20 "$W/$1.err")"
		sleep 0.25
	done
	die "$1 did not answer ${URL[$1]}/ping within 90 s: $(tail -n 20 "$W/$1.err")"
}

# The servers ------------------------------------------------------------------------------------

declare -A URL PID
# start_ferry NAME MODEL [OPTION...]: ferry serve in the project, on a free port it reports
start_ferry() {
	local name=$1 model=$2 i url=
	shift 2
	: >"$W/$name.out" # before the server's shell opens it: the loop below reads it at once
	(cd "$W/proj" && exec "${SRV[@]}" "$FERRY" serve "$W/models/$model" --host 127.0.0.1 --port 0 \
		--threads "$SERVE_THREADS" "$@" >"$W/$name.out" 2>"$W/$name.err") &
	PID[$name]=$!
	PIDS+=($!)
	for i in $(seq 200); do
		url=$(sed -n 's/^listening on //p' "$W/$name.out")
		[ -n "$url" ] && break
		kill -0 "${PID[$name]}" 2>/dev/null || die "$name exited: $(cat "$W/$name.err")"
		sleep 0.05
	done
	[ -n "$url" ] || die "$name did not report its address"
	URL[$name]=$url
}
# start_peer NAME KIND: uvicorn with one worker (uvloop and httptools, the "standard" extras)
start_peer() {
	local port
	port=$(free_port)
	(cd "$W" && SERVE_PEER_KIND=$2 SERVE_PEER_DATA=$DATA SERVE_PEER_TARGET=$TARGET \
		SERVE_PEER_LEAN=${3:-} PYTHONDONTWRITEBYTECODE=1 \
		exec "${SRV[@]}" "$PYTHON" -m uvicorn serve_peer:app --app-dir "$ROOT/bench" --host 127.0.0.1 \
		--port "$port" --workers 1 --loop uvloop --http httptools --no-access-log \
		--log-level warning >"$W/$1.out" 2>"$W/$1.err") &
	PID[$1]=$!
	PIDS+=($!)
	URL[$1]=http://127.0.0.1:$port
}
start_nginx() {
	local port d=$W/nginx
	port=$(free_port)
	mkdir -p "$d"
	cat >"$d/nginx.conf" <<-EOF
		daemon off;
		worker_processes $NGINX_WORKERS;
		pid $d/nginx.pid;
		error_log $d/error.log warn;
		events { worker_connections 1024; }
		http {
			access_log off;
			client_body_temp_path $d/body;
			proxy_temp_path $d/proxy;
			fastcgi_temp_path $d/fastcgi;
			uwsgi_temp_path $d/uwsgi;
			scgi_temp_path $d/scgi;
			server {
				listen 127.0.0.1:$port;
				location = /invocations {
					default_type application/json;
					return 200 '$NGINX_BODY';
				}
				location = /ping { return 200 'ok'; }
			}
		}
	EOF
	nginx -e "$d/error.log" -p "$d" -c "$d/nginx.conf" -t >>"$W/commands.log" 2>&1 ||
		die "nginx rejects its configuration: $(tail -n 5 "$W/commands.log")"
	"${SRV[@]}" nginx -e "$d/error.log" -p "$d" -c "$d/nginx.conf" >"$W/nginx.out" 2>"$W/nginx.err" &
	PID[nginx]=$!
	PIDS+=($!)
	URL[nginx]=http://127.0.0.1:$port
}

log "work directory $W; $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
# the peers read and fit at start-up, while ferry trains
start_peer peer_logreg logreg
start_peer peer_xgboost xgboost
start_peer peer_lean_logreg logreg 1
mkdir "$W/proj"
git -C "$W/proj" init -q
(cd "$W/proj" && quiet "$FERRY" init -q)
(cd "$W/proj" && quiet "$FERRY" train --data "$DATA" --target "$TARGET" --cv 2 \
	--out "$W/models/logreg")
(cd "$W/proj" && quiet "$FERRY" train --data "$DATA" --target "$TARGET" --cv 2 \
	--model xgboost --param n_estimators=100 --param max_depth=6 --param nthread=1 \
	--out "$W/models/xgboost")
log "models trained ($(elapsed))"
quiet "$PYTHON" "$PEER" body "$DATA" "$TARGET" 1 "$W/body1.json"
quiet "$PYTHON" "$PEER" body "$DATA" "$TARGET" 100 "$W/body100.json"
start_ferry ferry_logreg logreg --no-log
start_ferry ferry_logreg_log logreg
start_ferry ferry_xgboost xgboost --no-log
start_nginx
for s in ferry_logreg ferry_logreg_log ferry_xgboost nginx peer_logreg peer_xgboost peer_lean_logreg; do
	wait_ready "$s"
done
grep -q 'logging to .*inference' "$W/ferry_logreg_log.err" ||
	die "ferry_logreg_log does not log: $(cat "$W/ferry_logreg_log.err")"
log "servers ready ($(elapsed))"

# Checks before timing -----------------------------------------------------------------------------

# invoke NAME BODY OUT: POST BODY to NAME's /invocations; anything but 200 stops the benchmark
invoke() {
	curl -sS -f -X POST -H 'Content-Type: application/json' --data-binary "@$2" \
		"${URL[$1]}/invocations" -o "$3" || die "$1: POST /invocations failed"
}
CHECKS=()
for m in logreg xgboost; do
	invoke "ferry_$m" "$W/body1.json" "$W/f1-$m.json"
	invoke "peer_$m" "$W/body1.json" "$W/p1-$m.json"
	invoke "ferry_$m" "$W/body100.json" "$W/f100-$m.json"
	invoke "peer_$m" "$W/body100.json" "$W/p100-$m.json"
	for f in "$W/f100-$m.json" "$W/p100-$m.json"; do
		[ "$(jq '.predictions | length' "$f")" = 100 ] ||
			die "$(basename "$f"): not 100 predictions for 100 rows: $(head -c 300 "$f")"
	done
	same=$(jq -n --slurpfile a "$W/f100-$m.json" --slurpfile b "$W/p100-$m.json" \
		'[$a[0].predictions, $b[0].predictions] | transpose | map(select(.[0] == .[1])) | length')
	CHECKS+=("$m: ferry serve and the peer give the same label on $same of 100 rows; ferry says $(jq -c '.predictions | group_by(.) | map({(.[0] | tostring): length}) | add' "$W/f100-$m.json"), the peer $(jq -c '.predictions | group_by(.) | map({(.[0] | tostring): length}) | add' "$W/p100-$m.json")")
	log "${CHECKS[-1]}"
done
invoke ferry_logreg_log "$W/body1.json" "$W/f1-log.json"
invoke peer_lean_logreg "$W/body100.json" "$W/l100.json"
same=$(jq -n --slurpfile a "$W/f100-logreg.json" --slurpfile b "$W/l100.json" \
	'[$a[0].predictions, $b[0].predictions] | transpose | map(select(.[0] == .[1])) | length')
CHECKS+=("logreg: ferry serve and the lean peer give the same label on $same of 100 rows")
log "${CHECKS[-1]}"
invoke nginx "$W/body1.json" "$W/n1.json"
[ "$(wc -c <"$W/n1.json")" = 30 ] || die "nginx: not the 30-byte body: $(cat "$W/n1.json")"

# Loads --------------------------------------------------------------------------------------------

cat >"$W/post.lua" <<-'EOF'
	-- POST the file named by BENCH_BODY to the URL's path; one machine-readable line at the end
	local f = assert(io.open(os.getenv("BENCH_BODY"), "rb"))
	wrk.method = "POST"
	wrk.body = f:read("*a")
	f:close()
	wrk.headers["Content-Type"] = "application/json"
	done = function(summary, latency, requests)
		local e = summary.errors
		io.write(string.format("RESULT requests=%d rps=%.1f p50_us=%d p99_us=%d " ..
			"errors=%d non2xx=%d\n", summary.requests,
			summary.requests / (summary.duration / 1e6), latency:percentile(50),
			latency:percentile(99), e.connect + e.read + e.write + e.timeout, e.status))
	end
EOF

# cpu_ticks PID: user + system ticks of PID's threads and, for nginx, of its worker processes
cpu_ticks() {
	local p t=0
	for p in "$1" $(ps -o pid= --ppid "$1" 2>/dev/null); do
		t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)))
	done
	echo "$t"
}
# worker_ticks PID: "TID TICKS" of each of ferry's HTTP worker threads (libmicrohttpd's
# thread pool names them MHD-worker; since ferry runs one daemon per worker, MHD-single)
worker_ticks() {
	local t
	for t in /proc/"$1"/task/*/stat; do
		awk '$2 == "(MHD-worker)" || $2 == "(MHD-single)" {print $1, $14 + $15}' "$t" 2>/dev/null || true
	done
}
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$2"; }

RUNS=() # one line per timed load, for the report
# load SERVER BODY KEY ROUND: a 1 s warm-up then the timed wrk load; the result goes to
# res/KEY.ROUND as "rps p50_ms p99_ms server_cpu_% wrk_cpu_% server_us_per_request"
load() {
	local s=$1 body=$2 key=$3 r=$4 out=$W/res/$3.$4 line s0 s1 w0='' w1='' split=-
	local rps p50 p99 scpu wcpu us
	BENCH_BODY=$body "${LDG[@]}" wrk -t"$WRK_THREADS" -c"$CONNS" -d1s -s "$W/post.lua" \
		"${URL[$s]}/invocations" >"$out.warm" 2>&1 || die "$key: warm-up failed: $(cat "$out.warm")"
	s0=$(cpu_ticks "${PID[$s]}")
	if [[ $s == ferry_* ]]; then w0=$(worker_ticks "${PID[$s]}"); fi
	BENCH_BODY=$body /usr/bin/time -f '%U %S' -o "$out.time" "${LDG[@]}" wrk -t"$WRK_THREADS" -c"$CONNS" \
		-d"${SECS}s" --latency -s "$W/post.lua" "${URL[$s]}/invocations" >"$out.wrk" 2>&1 ||
		die "$key: wrk failed: $(cat "$out.wrk")"
	s1=$(cpu_ticks "${PID[$s]}")
	if [[ $s == ferry_* ]]; then
		w1=$(worker_ticks "${PID[$s]}")
		# each worker's share of the workers' CPU time, largest first
		split=$(awk 'NR == FNR {a[$1] = $2; next} {d[$1] = $2 - a[$1]; t += d[$1]}
			END {n = 0; for (k in d) v[++n] = (t > 0) ? 100 * d[k] / t : 0
			     for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++)
				     if (v[j] > v[i]) {x = v[i]; v[i] = v[j]; v[j] = x}
			     s = ""; for (i = 1; i <= n; i++) s = s (i > 1 ? "/" : "") sprintf("%.0f", v[i])
			     print s}' <(echo "$w0") <(echo "$w1"))
	fi
	line=$(grep '^RESULT ' "$out.wrk") || die "$key: no result from wrk: $(cat "$out.wrk")"
	[ "$(field errors "$line")" = 0 ] && [ "$(field non2xx "$line")" = 0 ] ||
		die "$key: $line (see $(basename "$out.wrk"))"
	[ "$(field requests "$line")" != 0 ] ||
		die "$key: no request answered in ${SECS} s (BENCH_SECONDS too short for this server?)"
	awk -v l="$line" -v st="$((s1 - s0))" -v tk="$TICK" -v s="$SECS" \
		-v wc="$(awk '{print $1 + $2}' "$out.time")" 'BEGIN {
		split(l, kv, /[ =]/)
		for (i = 2; i < length(kv); i += 2) f[kv[i]] = kv[i + 1]
		printf "%.1f %.3f %.3f %.0f %.0f %.1f\n", f["rps"], f["p50_us"] / 1000,
			f["p99_us"] / 1000, 100 * st / tk / s, 100 * wc / s, 1e6 * st / tk / f["requests"]
	}' >"$out"
	read -r rps p50 p99 scpu wcpu us <"$out"
	RUNS+=("$(printf 'round %d  %-26s %8.0f req/s  p50 %7.3f ms  p99 %7.3f ms  server %3d%% CPU, %6.0f us/req  wrk %3d%% CPU  workers %s' \
		"$r" "$key" "$rps" "$p50" "$p99" "$scpu" "$us" "$wcpu" "$split")")
	log "${RUNS[-1]}"
}

# in_order ROUND A B ...: the arguments as given in odd rounds, reversed in even rounds
in_order() {
	local r=$1 i
	shift
	local a=("$@")
	if ((r % 2)); then
		printf '%s\n' "${a[@]}"
	else
		for ((i = ${#a[@]} - 1; i >= 0; i--)); do echo "${a[i]}"; done
	fi
}

log "wrk -t$WRK_THREADS -c$CONNS -d${SECS}s, $ROUNDS rounds; ferry serve --threads $SERVE_THREADS;" \
	"uvicorn --workers 1; nginx worker_processes $NGINX_WORKERS; load generators $WHERE"
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
for ((r = 1; r <= ROUNDS; r++)); do
	for s in $(in_order "$r" nginx ferry_logreg ferry_logreg_log peer_logreg peer_lean_logreg); do
		load "$s" "$W/body1.json" "logreg1.$s" "$r"
	done
	for c in logreg100 xgboost1 xgboost100; do
		m=${c%%[0-9]*}
		for s in $(in_order "$r" "ferry_$m" "peer_$m"); do
			load "$s" "$W/body${c#"$m"}.json" "$c.$s" "$r"
		done
	done
done

# The same 1-row logreg load with bench/loadgen.c (one epoll thread: it needs about half of wrk's
# CPU per request on these shared CPUs), closed loop as above, then open loop at fixed rates
# (`-r`: each request's latency counts from its scheduled time, as wrk2's do), ferry and nginx
# interleaved. Results in res/lg.SERVER.RATE.ROUND: "rps p50_ms p99_ms max_ms".
cc -O2 -std=c11 -Wall -Wextra -o "$W/loadgen" "$ROOT/bench/loadgen.c"
PACED_RATES=${BENCH_PACED_RATES:-"10000 20000 40000"}
lg_load() {
	local s=$1 rate=$2 r=$3 port=${URL[$1]##*:} out line
	out=$W/res/lg.$s.${rate:-closed}.$r
	"${LDG[@]}" "$W/loadgen" -p "$port" -c "$CONNS" -n 100000000 -d 1 -u /invocations -f "$W/body1.json" \
		>/dev/null || die "loadgen warm-up against $s failed"
	line=$("${LDG[@]}" "$W/loadgen" -p "$port" -c "$CONNS" -n 100000000 -d "$SECS" -u /invocations \
		-f "$W/body1.json" ${rate:+-r "$rate"}) || die "loadgen against $s failed: $line"
	echo "$(field rps "$line") $(field p50_ms "$line") $(field p99_ms "$line") $(field max_ms "$line")" >"$out"
	RUNS+=("round $r  loadgen $s ${rate:-closed}: $line")
}
for ((r = 1; r <= ROUNDS; r++)); do
	for rate in "" $PACED_RATES; do
		for s in $(in_order "$r" nginx ferry_logreg); do
			lg_load "$s" "$rate" "$r"
		done
	done
done
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)

# Profile (optional) -------------------------------------------------------------------------------

if ((PERF_SECS > 0)); then
	log "perf record -g on ferry serve (logreg, 1 row) for $PERF_SECS s under load"
	BENCH_BODY=$W/body1.json "${LDG[@]}" wrk -t"$WRK_THREADS" -c"$CONNS" -d"$((PERF_SECS + 2))s" \
		-s "$W/post.lua" "${URL[ferry_logreg]}/invocations" >"$W/perf.wrk" 2>&1 &
	wrk_pid=$!
	sleep 1
	perf record -q -g -o "$W/perf.data" -p "${PID[ferry_logreg]}" -- sleep "$PERF_SECS" \
		>>"$W/commands.log" 2>&1 || log "perf record failed (see the log)"
	wait "$wrk_pid" || true
	if [ -f "$W/perf.data" ]; then
		perf report -i "$W/perf.data" --no-children --sort dso,symbol --stdio 2>/dev/null |
			grep -E '^ +[0-9.]+%' | sed 's/  */ /g; s/ - - *$//' | head -n 30 >"$W/perf.top" || true
	fi
fi

# Report -------------------------------------------------------------------------------------------

median() {
	sort -g | awk '{ v[NR] = $1 } END { n = NR; if (n % 2) print v[(n + 1) / 2];
		else print (v[n / 2] + v[n / 2 + 1]) / 2 }'
}
# med KEY COLUMN: median over rounds of column COLUMN of res/KEY.* (1 req/s, 2 p50, 3 p99,
# 4 server CPU %, 5 wrk CPU %, 6 server us per request)
med() { for ((r = 1; r <= ROUNDS; r++)); do awk -v c="$2" '{print $c}' "$W/res/$1.$r"; done | median; }
# ratio A B [COLUMN]: median over rounds of A's / B's COLUMN (default 1, req/s), and the range
ratio() {
	local r v=() c=${3:-1}
	for ((r = 1; r <= ROUNDS; r++)); do
		v+=("$(awk -v c="$c" 'NR == FNR {a = $c; next} {printf "%.4f\n", a / $c}' \
			"$W/res/$1.$r" "$W/res/$2.$r")")
	done
	printf '%s\n' "${v[@]}" | median | tr '\n' ' '
	printf '%s\n' "${v[@]}" | sort -g | awk 'NR == 1 {lo = $1} {hi = $1} END {print lo, hi}'
}
fmt_ratio() { awk -v m="$1" -v lo="$2" -v hi="$3" -v n="$ROUNDS" 'BEGIN {
	f = (m >= 10) ? "%.0fx" : "%.2fx"; printf f, m; if (n > 1) printf " (" f "-" f ")", lo, hi }'; }
rps() { awk -v v="$(med "$1" 1)" 'BEGIN {printf "%.0f", v}'; }
lat() { printf '%s / %s' "$(med "$1" 2)" "$(med "$1" 3)"; }
meets() { awk -v v="$1" -v op="$2" -v t="$3" 'BEGIN {
	ok = (op == ">=") ? (v >= t) : (v <= t); print ok ? "yes" : "**no**" }'; }

echo
echo "ferry serve benchmark, $(date -u +%Y-%m-%dT%H:%M:%SZ) ($(elapsed))"
echo "  machine: $(nproc) CPUs ($(sed -n 's/^model name[^:]*: *//p' /proc/cpuinfo | head -n 1)), load $LOAD0 -> $LOAD1"
echo "  ferry: $FERRY ($("$FERRY" version | head -n 1)), serve --threads $SERVE_THREADS"
echo "  peer: $("$PYTHON" -c 'import sys, fastapi, uvicorn, uvloop, httptools, sklearn, xgboost, pandas
print("python %s, fastapi %s, uvicorn %s (--workers 1, uvloop %s, httptools %s), scikit-learn %s, xgboost %s, pandas %s"
      % (sys.version.split()[0], fastapi.__version__, uvicorn.__version__, uvloop.__version__,
         httptools.__version__, sklearn.__version__, xgboost.__version__, pandas.__version__))')"
echo "  ceiling: $(nginx -v 2>&1 | sed 's/.*: //'), worker_processes $NGINX_WORKERS, return 200 of a 30-byte body"
echo "  load: wrk $(wrk --version 2>&1 | awk 'NR == 1 {print $2}') -t$WRK_THREADS -c$CONNS -d${SECS}s $WHERE;" \
	"medians of $ROUNDS rounds (ratios: median of each round's ratio, range in brackets)"
echo
echo "| case | ferry req/s | ferry p50 / p99 ms | peer req/s | peer p50 / p99 ms | ferry / peer | target | met? |"
echo "|---|---:|---:|---:|---:|---:|---|---|"
for c in logreg1 logreg100 xgboost1 xgboost100; do
	m=${c%%[0-9]*} n=${c#"$m"}
	read -r rm rlo rhi < <(ratio "$c.ferry_$m" "$c.peer_$m")
	target=- met=-
	case $c in
	logreg1) target=">= 30x" met=$(meets "$rm" ">=" 30) ;;
	xgboost1) target=">= 50x" met=$(meets "$rm" ">=" 50) ;;
	esac
	label="$m, 1 row"
	if ((n > 1)); then
		label="$m, $n rows ($(awk -v a="$(med "$c.ferry_$m" 1)" -v b="$(med "$c.peer_$m" 1)" \
			-v n="$n" 'BEGIN {printf "rows/s: %.0f vs %.0f", a * n, b * n}'))"
	fi
	echo "| $label | $(rps "$c.ferry_$m") | $(lat "$c.ferry_$m") | $(rps "$c.peer_$m") | $(lat "$c.peer_$m") | $(fmt_ratio "$rm" "$rlo" "$rhi") | $target | $met |"
done
echo
echo "| logreg, 1 row | req/s | p50 / p99 ms | ratio | target | met? |"
echo "|---|---:|---:|---:|---|---|"
read -r rm rlo rhi < <(ratio logreg1.ferry_logreg logreg1.nginx)
echo "| nginx, fixed 30-byte body | $(rps logreg1.nginx) | $(lat logreg1.nginx) | ferry / nginx $(fmt_ratio "$rm" "$rlo" "$rhi") | >= 0.6x | $(meets "$rm" ">=" 0.6) |"
p99=$(med logreg1.ferry_logreg 3)
echo "| ferry serve --no-log | $(rps logreg1.ferry_logreg) | $(lat logreg1.ferry_logreg) | - | p99 <= 2 ms at $CONNS connections | $(meets "$p99" "<=" 2) |"
read -r rm rlo rhi < <(ratio logreg1.ferry_logreg logreg1.peer_lean_logreg)
echo "| lean FastAPI peer (numpy rows, bare estimator) | $(rps logreg1.peer_lean_logreg) | $(lat logreg1.peer_lean_logreg) | ferry / lean peer $(fmt_ratio "$rm" "$rlo" "$rhi") | >= 30x FastAPI | $(meets "$rm" ">=" 30) |"
read -r rm rlo rhi < <(ratio logreg1.ferry_logreg_log logreg1.ferry_logreg)
echo "| ferry serve, inference log on | $(rps logreg1.ferry_logreg_log) | $(lat logreg1.ferry_logreg_log) | log on / off $(fmt_ratio "$rm" "$rlo" "$rhi") | - | - |"
echo
echo "The same load from bench/loadgen.c (one epoll thread, $CONNS connections, ${SECS}s; closed loop, then"
echo "open loop at fixed rates with latency from each request's scheduled time; medians of $ROUNDS rounds):"
echo
echo "| logreg, 1 row | ferry req/s | ferry p50 / p99 / max ms | nginx req/s | nginx p50 / p99 / max ms | ferry / nginx | target | met? |"
echo "|---|---:|---:|---:|---:|---:|---|---|"
for rate in closed $PACED_RATES; do
	f=lg.ferry_logreg.$rate n=lg.nginx.$rate
	read -r rm rlo rhi < <(ratio "$f" "$n")
	target="-" met="-"
	if [ "$rate" = closed ]; then
		target=">= 0.6x; p99 <= 2 ms"
		met="$(meets "$rm" ">=" 0.6); $(meets "$(med "$f" 3)" "<=" 2)"
	fi
	label="$rate req/s"
	[ "$rate" = closed ] && label="as fast as answered"
	echo "| $label | $(rps "$f") | $(med "$f" 2) / $(med "$f" 3) / $(med "$f" 4) | $(rps "$n") | $(med "$n" 2) / $(med "$n" 3) / $(med "$n" 4) | $(fmt_ratio "$rm" "$rlo" "$rhi") | $target | $met |"
done
echo
echo "Against the issue's quoted FastAPI figures (not measured here): logreg 1 row" \
	"$(awk -v f="$(med logreg1.ferry_logreg 1)" -v p="$ISSUE_PEER_LOGREG" 'BEGIN {printf "%.1fx of %d req/s", f / p, p}')," \
	"xgboost 1 row $(awk -v f="$(med xgboost1.ferry_xgboost 1)" -v p="$ISSUE_PEER_XGBOOST" 'BEGIN {printf "%.1fx of %d req/s", f / p, p}')."
echo
echo "Server CPU time per request (median; from /proc, less sensitive to the machine's other load than req/s):"
for c in logreg1 logreg100 xgboost1 xgboost100; do
	m=${c%%[0-9]*}
	read -r rm rlo rhi < <(ratio "$c.peer_$m" "$c.ferry_$m" 6)
	printf '  %-11s ferry %7.0f us, peer %7.0f us: peer / ferry %s\n' "$c" "$(med "$c.ferry_$m" 6)" \
		"$(med "$c.peer_$m" 6)" "$(fmt_ratio "$rm" "$rlo" "$rhi")"
done
printf '  %-11s nginx %7.0f us, ferry (log on) %.0f us\n' logreg1 "$(med logreg1.nginx 6)" \
	"$(med logreg1.ferry_logreg_log 6)"
echo
echo "Every timed load (server CPU: 100% = one of $(nproc) CPUs; workers: the shares of ferry's threads"
echo "named MHD-worker or MHD-single in their CPU time: libmicrohttpd's workers, and libgomp's threads, which inherit the name):"
for l in "${RUNS[@]}"; do echo "  $l"; done
echo
for c in "${CHECKS[@]}"; do echo "- $c"; done
echo "- inference log written by ferry_logreg_log: $(du -sh "$W/proj/.ferry/inference" 2>/dev/null | cut -f1) in $(find "$W/proj/.ferry/inference" -type f 2>/dev/null | wc -l) files"
if [ -s "$W/perf.top" ]; then
	echo
	echo "perf, ferry serve (logreg, 1 row), self time by library and symbol, top 30:"
	cat "$W/perf.top"
fi
