#!/usr/bin/env bash
# ferry serve beyond localhost: HTTPS with a certificate checked by the client, a bearer token
# on everything but the health probes, the body cap, and a missing token file refused.
. "$(dirname "$0")/lib.sh"

new_project p
cd p
cp "$FERRY_SOURCE/examples/data/iris.csv" iris.csv
"$FERRY" train -q --data iris.csv --target target --out m/iris >/dev/null
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
	-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
	-keyout key.pem -out cert.pem 2>/dev/null || fail "openssl could not make a certificate"
openssl rand -hex 32 >token
chmod 600 token

: >serve.out
"$FERRY" serve m/iris --port 0 --no-log --token-file token --tls-cert cert.pem --tls-key key.pem \
	--max-body-mb 1 >serve.out 2>serve.err &
server=$!
trap 'kill -TERM "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; cleanup' EXIT
url=$(listening_url serve.out serve.err "$server")
case "$url" in https://*) ;; *) fail "not https: '$url'" ;; esac
body='{"instances": [[5.1, 3.5, 1.4, 0.2]]}'
code() { curl -s -o .body -w '%{http_code}' --cacert cert.pem "$@"; }

expect_eq "$(code "$url/ping")" 200 "health probe without token"
expect_eq "$(code -X POST -H 'Content-Type: application/json' -d "$body" "$url/invocations")" 401 "no token"
expect_eq "$(code -X POST -H 'Content-Type: application/json' -H 'Authorization: Bearer nope' -d "$body" "$url/invocations")" 401 "wrong token"
expect_eq "$(code "$url/metrics")" 401 "metrics need the token"
auth="Authorization: Bearer $(cat token)"
expect_eq "$(code -X POST -H 'Content-Type: application/json' -H "$auth" -d "$body" "$url/invocations")" 200 "token"
expect_eq "$(jq -r '.predictions[0]' .body)" 0 "iris setosa"
ok "HTTPS with the client checking the certificate; 401 without the bearer token, probes open"

curl -s -o /dev/null --cacert /dev/null "$url/ping" && fail "a client that does not trust the certificate connected"
ok "a client without the certificate authority is refused by TLS"

head -c $((2 << 20)) /dev/zero | tr '\0' ' ' >big.json
expect_eq "$(code -X POST -H 'Content-Type: application/json' -H "$auth" --data-binary @big.json "$url/invocations")" 413 "body cap"
expect_eq "$(code -X POST -H 'Content-Type: application/json' -H "$auth" -d "$body" "$url/invocations")" 200 "still serving"
ok "a body over --max-body-mb gets 413 and the server keeps serving"

kill -TERM "$server"
wait "$server" || fail "server exit status"
run "$FERRY" serve m/iris --port 0 --no-log --token-file missing-token
expect_status 1
expect_err_contains "missing-token"
run "$FERRY" serve m/iris --port 0 --no-log --tls-cert cert.pem
expect_status 2
ok "a missing token file is refused naming it; --tls-cert needs --tls-key"

done_testing
