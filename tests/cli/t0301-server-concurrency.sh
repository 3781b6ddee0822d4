#!/usr/bin/env bash
# `ferry server` under concurrent writers: 32 clients at once, each logging K distinct points
# over one keep-alive connection (one curl process with --next per request), every answer 200,
# then every point counted exactly once through metrics/get-history and in the store itself;
# the same point logged twice (log-metric and log-batch) is stored once. No timing assertions.
. "$(dirname "$0")/lib.sh"

command -v curl >/dev/null || { echo "skip: curl not found"; exit 77; }
command -v jq >/dev/null || { echo "skip: jq not found"; exit 77; }
CLIENTS=32
K=25

new_project proj
start_ferry_server proj --workers 4
API=$URL/api/2.0/mlflow
ok "server listening at $URL"

post() {
	curl -sS -f -X POST -H 'Content-Type: application/json' "$API/$1" -d "$2"
}
EXP=$(post experiments/create '{"name":"concurrency"}' | jq -r .experiment_id)
[ -n "$EXP" ] && [ "$EXP" != null ] || fail "experiments/create gave no id"
RUNS=()
for c in $(seq 0 $((CLIENTS - 1))); do
	RUNS+=("$(post runs/create "{\"experiment_id\":\"$EXP\",\"run_name\":\"client-$c\"}" |
		jq -r .run.info.run_id)")
	[ "${#RUNS[$c]}" = 32 ] || fail "runs/create for client $c gave '${RUNS[$c]}'"
done
# Every client also writes into one shared run, so that writers contend for the same rows.
SHARED=$(post runs/create "{\"experiment_id\":\"$EXP\",\"run_name\":\"shared\"}" |
	jq -r .run.info.run_id)
ok "$CLIENTS runs and a shared one created"

# client C: 2K requests on one connection: step i is a log-metric ('m', even i) or a 2-metric
# log-batch ('b' and 'b2', odd i) into its own run, then a log-metric of key 'cC' into the shared
# run. No two requests write the same point. Writes one HTTP status per request to statuses.C.
client() {
	local c=$1 run=${RUNS[$1]} args=() i
	for i in $(seq 0 $((K - 1))); do
		((i)) && args+=(--next)
		if ((i % 2)); then
			args+=(-X POST -H 'Content-Type: application/json' -o /dev/null
				-w '%{http_code}\n' "$API/runs/log-batch" -d
				"{\"run_id\":\"$run\",\"metrics\":[{\"key\":\"b\",\"value\":$i.5,\"timestamp\":$((1000 + i)),\"step\":$i},{\"key\":\"b2\",\"value\":-$i,\"timestamp\":$((1000 + i)),\"step\":$i}]}")
		else
			args+=(-X POST -H 'Content-Type: application/json' -o /dev/null
				-w '%{http_code}\n' "$API/runs/log-metric" -d
				"{\"run_id\":\"$run\",\"key\":\"m\",\"value\":$i,\"timestamp\":$((1000 + i)),\"step\":$i}")
		fi
		args+=(--next -X POST -H 'Content-Type: application/json' -o /dev/null
			-w '%{http_code}\n' "$API/runs/log-metric" -d
			"{\"run_id\":\"$SHARED\",\"key\":\"c$c\",\"value\":$i,\"timestamp\":$((2000 + i)),\"step\":$i}")
	done
	curl -sS "${args[@]}" >"statuses.$c" 2>"curl.$c.err" || echo "curl-exit-$?" >>"statuses.$c"
}

pids=()
for c in $(seq 0 $((CLIENTS - 1))); do
	client "$c" &
	pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
kill -0 "$SERVER_PID" 2>/dev/null || fail "the server died under load: $(tail -5 server.err)"
total=0
for c in $(seq 0 $((CLIENTS - 1))); do
	n200=$(grep -cx 200 "statuses.$c" || true)
	nall=$(wc -l <"statuses.$c")
	[ "$n200" = $((2 * K)) ] && [ "$nall" = $((2 * K)) ] ||
		fail "client $c: $n200 of $((2 * K)) requests answered 200: $(sort "statuses.$c" |
			uniq -c | tr '\n' ' ') $(head -c 300 "curl.$c.err")"
	total=$((total + nall))
done
ok "$CLIENTS concurrent clients: all $total requests answered 200"

# history KEY RUN: the steps of metric KEY of RUN, sorted, as a JSON array.
history() {
	curl -sS -f "$API/metrics/get-history?run_id=$2&metric_key=$1" | jq -c '[.metrics[].step] | sort'
}
evens=$(jq -c -n "[range(0; $K; 2)]")
odds=$(jq -c -n "[range(1; $K; 2)]")
all=$(jq -c -n "[range($K)]")
for c in $(seq 0 $((CLIENTS - 1))); do
	expect_eq "$(history m "${RUNS[$c]}")" "$evens" "client $c: steps of 'm'"
	expect_eq "$(history b "${RUNS[$c]}")" "$odds" "client $c: steps of 'b'"
	expect_eq "$(history b2 "${RUNS[$c]}")" "$odds" "client $c: steps of 'b2'"
	expect_eq "$(history "c$c" "$SHARED")" "$all" "shared run: steps of 'c$c'"
done
ok "metrics/get-history: every point of every client exactly once"

# The store agrees: rows per run and key, no duplicates, latest values as MLflow defines them.
DB=proj/.ferry/ferry.db
if command -v sqlite3 >/dev/null; then
	n_even=$(((K + 1) / 2))
	n_odd=$((K / 2))
	expect_eq "$(sqlite3 "$DB" "SELECT count(*) FROM metrics")" \
		$((CLIENTS * (n_even + 2 * n_odd + K))) "metric rows in the store"
	expect_eq "$(sqlite3 "$DB" "SELECT count(*) FROM (SELECT DISTINCT run_id, key, step FROM metrics)")" \
		$((CLIENTS * (n_even + 2 * n_odd + K))) "distinct (run, key, step) in the store"
	expect_eq "$(sqlite3 "$DB" "SELECT count(*) FROM latest_metrics WHERE run_id = '$SHARED' AND step = $((K - 1))")" \
		"$CLIENTS" "latest points of the shared run"
	ok "the store holds exactly the logged points"
else
	echo "# sqlite3 not found: store rows not counted"
fi
run curl -sS -f "$API/runs/get?run_id=${RUNS[0]}"
expect_status 0
expect_eq "$(jq -c '[.run.data.metrics[] | {key, step}] | sort_by(.key)' <<<"$OUT")" \
	"[{\"key\":\"b\",\"step\":$((K % 2 ? K - 2 : K - 1))},{\"key\":\"b2\",\"step\":$((K % 2 ? K - 2 : K - 1))},{\"key\":\"m\",\"step\":$((K % 2 ? K - 1 : K - 2))}]" \
	"latest metrics of client 0's run"
ok "runs/get: latest metric per key"

# The same point twice, by log-metric and by log-batch (a client's retry), is stored once; a
# different value at the same step is a second point.
RUN=${RUNS[0]}
point='"key":"dup","value":0.5,"timestamp":42,"step":7'
for _ in 1 2; do
	post runs/log-metric "{\"run_id\":\"$RUN\",$point}" >/dev/null || fail "log-metric failed"
	post runs/log-batch "{\"run_id\":\"$RUN\",\"metrics\":[{$point},{$point}]}" >/dev/null ||
		fail "log-batch failed"
done
expect_eq "$(curl -sS -f "$API/metrics/get-history?run_id=$RUN&metric_key=dup" |
	jq -c '[.metrics[] | [.value, .timestamp, .step]]')" '[[0.5,42,7]]' "history of a point logged 6 times"
post runs/log-metric "{\"run_id\":\"$RUN\",\"key\":\"dup\",\"value\":0.75,\"timestamp\":42,\"step\":7}" \
	>/dev/null || fail "log-metric failed"
expect_eq "$(curl -sS -f "$API/metrics/get-history?run_id=$RUN&metric_key=dup" |
	jq -c '[.metrics[].value] | sort')" '[0.5,0.75]' "history after a new value at the same step"
ok "an identical point logged twice is stored once"

# A batch whose points of one key arrive out of order: the latest is the greatest step, then
# timestamp, then value, whatever the order in the batch.
post runs/log-batch "{\"run_id\":\"$RUN\",\"metrics\":[{\"key\":\"ord\",\"value\":1,\"timestamp\":5,\"step\":3},{\"key\":\"ord\",\"value\":9,\"timestamp\":9,\"step\":2},{\"key\":\"ord\",\"value\":2,\"timestamp\":5,\"step\":3},{\"key\":\"ord\",\"value\":0,\"timestamp\":4,\"step\":3}]}" \
	>/dev/null || fail "log-batch failed"
post runs/log-batch "{\"run_id\":\"$RUN\",\"metrics\":[{\"key\":\"ord\",\"value\":7,\"timestamp\":1,\"step\":1}]}" \
	>/dev/null || fail "log-batch failed"
expect_eq "$(curl -sS -f "$API/runs/get?run_id=$RUN" |
	jq -c '.run.data.metrics[] | select(.key == "ord") | [.value, .timestamp, .step]')" \
	'[2,5,3]' "latest of 'ord'"
ok "log-batch: the latest point per key does not depend on the order in the batch"

kill -TERM "$SERVER_PID"
for _ in $(seq 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$SERVER_PID" 2>/dev/null && fail "server still running 10 s after SIGTERM"
wait "$SERVER_PID" && rc=0 || rc=$?
SERVER_PID=
expect_eq "$rc" 0 "exit status after SIGTERM"
ok "SIGTERM stops the server with status 0"

done_testing
