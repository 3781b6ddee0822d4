#!/usr/bin/env bash
# The HTTP server's workers (shared by ferry serve and ferry server): connections opened one
# after another are spread evenly over the worker threads (each worker is an epoll loop, so
# its connections are the sockets in its epoll set, read from /proc/PID/fdinfo), a second
# server on a port a live one holds fails with "address in use", and the port is free again
# once the first has stopped. No timing assertions.
. "$(dirname "$0")/lib.sh"

[ -d /proc/self/fdinfo ] || { echo "skip: no /proc/PID/fdinfo"; exit 77; }

new_project proj
start_ferry_server proj --workers 3
PORT=${URL##*:}
ok "server listening at $URL"

# socket_counts PID: the number of sockets in each epoll set of PID with any, sorted
socket_counts() {
	local fd tfd n
	for fd in /proc/"$1"/fd/*; do
		[ "$(readlink "$fd" 2>/dev/null)" = "anon_inode:[eventpoll]" ] || continue
		n=0
		for tfd in $(awk '$1 == "tfd:" {print $2}' "/proc/$1/fdinfo/${fd##*/}" 2>/dev/null); do
			case $(readlink "/proc/$1/fd/$tfd" 2>/dev/null) in socket:*) n=$((n + 1)) ;; esac
		done
		[ "$n" -gt 0 ] && echo "$n"
	done | sort -n | paste -sd' ' -
}

# nine keep-alive connections, each answered once (so that its worker has registered it)
for c in 3 4 5 6 7 8 9 10 11; do
	eval "exec $c<>/dev/tcp/127.0.0.1/$PORT" || fail "cannot connect to port $PORT"
	printf 'GET /health HTTP/1.1\r\nHost: x\r\n\r\n' >&"$c"
	IFS= read -r -t 10 status <&"$c" || fail "no answer on connection $c"
	case $status in "HTTP/1.1 "[1-5][0-9][0-9]*) ;; *) fail "connection $c: got '$status'" ;; esac
done
expect_eq "$(socket_counts "$SERVER_PID")" "3 3 3" "9 connections over 3 workers"
ok "9 connections opened one after another: 3 on each of the 3 workers"
for c in 3 4 5 6 7 8 9 10 11; do eval "exec $c>&-"; done

# the port is taken: a second server refuses to start rather than share it
: >second.out
if (cd proj && exec "$FERRY" server --host 127.0.0.1 --port "$PORT" >../second.out \
	2>../second.err); then
	fail "a second server started on port $PORT"
fi
grep -qi 'address already in use' second.err || fail "second server: $(cat second.err)"
ok "a second server on port $PORT fails: address in use"

# and once the first has stopped, the port is free for a new one
stop_ferry_server
: >server.out
(cd proj && exec "$FERRY" server --host 127.0.0.1 --port "$PORT" >../server.out \
	2>../server.err) &
SERVER_PID=$!
expect_eq "$(listening_url server.out server.err "$SERVER_PID")" "$URL" "restart on port $PORT"
ok "the port is free once the first server has stopped"
done_testing
