#!/usr/bin/env bash
# Run artifacts: the MLflow artifact proxy of `ferry server` (PUT, GET with download headers,
# listings, DELETE, unsafe paths refused), bytes kept content-addressed in the project's object
# cache (the object is the upload: sha256sum), `ferry data gc` keeping them, `ferry train` logging
# the model under model/, `ferry run` logging output.log, and `ferry runs artifacts|get`.
. "$(dirname "$0")/lib.sh"

# http METHOD URL [CURL ARGS...]: the body in $TEST_TMP/body, the status in CODE.
http() {
	local method=$1 url=$2
	shift 2
	CODE=$(curl -sS --path-as-is -o "$TEST_TMP/body" -D "$TEST_TMP/headers" -w '%{http_code}' -X "$method" "$@" "$url")
	BODY=$(tr -d '\000' <"$TEST_TMP/body")
}

header() {
	sed -n "s/^$1: \(.*\)\r$/\1/Ip" "$TEST_TMP/headers"
}

new_project p
start_ferry_server p
ok "server listening at $URL"

API=$URL/api/2.0/mlflow
exp=$(curl -sS -X POST -H 'Content-Type: application/json' -d '{"name":"arts"}' "$API/experiments/create" | jq -r .experiment_id)
run=$(curl -sS -X POST -H 'Content-Type: application/json' -d "{\"experiment_id\":\"$exp\"}" "$API/runs/create" | jq -r .run.info.run_id)
[ ${#run} -eq 32 ] || fail "no run id"
root=$(curl -sS "$API/runs/get?run_id=$run" | jq -r .run.info.artifact_uri)
expect_eq "$root" "mlflow-artifacts:/$exp/$run/artifacts" "artifact_uri"
ART=$URL/api/2.0/mlflow-artifacts/artifacts/$exp/$run/artifacts

head -c 300000 /dev/urandom >blob.bin
printf 'hello\n' >hello.txt
http PUT "$ART/data/blob.bin" --data-binary @blob.bin -H 'Content-Type: application/octet-stream'
expect_eq "$CODE" 200 "PUT blob"
expect_eq "$BODY" "{}" "PUT answer"
http PUT "$ART/hello.txt" --data-binary @hello.txt -H 'Content-Type: text/plain'
expect_eq "$CODE" 200 "PUT hello"
http PUT "$ART/MLmodel" --data-binary 'flavors: {}'
expect_eq "$CODE" 200 "PUT without a content type"
ok "PUT stores raw bodies of any content type"

hex=$(sha256 blob.bin)
obj=$(object_path p "$hex")
[ -f "$obj" ] || fail "no cache object $obj for the upload"
cmp -s "$obj" blob.bin || fail "the cache object is not the uploaded bytes"
expect_eq "$(sha256 "$obj")" "$hex" "object digest"
expect_eq "$(sqlite3 p/.ferry/ferry.db "SELECT digest || ' ' || size FROM artifacts WHERE run_id = '$run' AND path = 'data/blob.bin'")" "$hex 300000" "store row"
ok "the upload is a content-addressed cache object whose name is its sha256sum"

http GET "$ART/data/blob.bin"
expect_eq "$CODE" 200 "GET blob"
cmp -s "$TEST_TMP/body" blob.bin || fail "downloaded bytes differ"
expect_eq "$(header Content-Type)" "application/octet-stream" "blob content type"
expect_eq "$(header Content-Disposition)" "attachment; filename=blob.bin" "content disposition"
http GET "$ART/hello.txt"
expect_eq "$BODY" "hello" "GET hello"
expect_eq "$(header Content-Type)" "text/plain" "text content type"
http GET "$ART/MLmodel"
expect_eq "$(header Content-Type)" "text/plain" "MLmodel is text, as MLflow says"
http GET "$ART/nope.txt"
expect_eq "$CODE" 404 "missing artifact"
expect_eq "$(jq -r .error_code "$TEST_TMP/body")" RESOURCE_DOES_NOT_EXIST "missing artifact code"
ok "GET answers the bytes with MLflow's download headers; a missing file is 404"

http GET "$URL/api/2.0/mlflow-artifacts/artifacts?path=$exp%2F$run%2Fartifacts"
expect_eq "$CODE" 200 "list root"
expect_eq "$(jq -c . "$TEST_TMP/body")" '{"files":[{"path":"MLmodel","is_dir":false,"file_size":11},{"path":"data","is_dir":true},{"path":"hello.txt","is_dir":false,"file_size":6}]}' "root listing"
http GET "$URL/api/2.0/mlflow-artifacts/artifacts?path=$exp/$run/artifacts/data"
expect_eq "$(jq -c . "$TEST_TMP/body")" '{"files":[{"path":"blob.bin","is_dir":false,"file_size":300000}]}' "data listing"
http GET "$API/artifacts/list?run_id=$run&path=data"
expect_eq "$(jq -c . "$TEST_TMP/body")" "{\"root_uri\":\"$root\",\"files\":[{\"path\":\"data/blob.bin\",\"is_dir\":false,\"file_size\":300000}]}" "artifacts/list"
http GET "$URL/api/2.0/mlflow-artifacts/artifacts?path=$exp/$run/artifacts/nope"
expect_eq "$BODY" "{}" "empty listing"
ok "listings: direct children (files with sizes, directories), relative to the directory"

for bad in "$ART/../../../../etc/passwd" "$ART/a/%2e%2e/b" "$ART/./x" "$ART/a//b"; do
	http PUT "$bad" --data-binary x
	expect_eq "$CODE" 400 "PUT $bad"
done
http GET "$URL/api/2.0/mlflow-artifacts/artifacts?path=$exp%2F..%2F..%2Fetc"
expect_eq "$CODE" 400 "list with .."
expect_eq "$(jq -r .message "$TEST_TMP/body")" "Invalid path" "list with .. message"
http GET "$API/artifacts/list?run_id=$run&path=../x"
expect_eq "$CODE" 400 "artifacts/list with .."
http PUT "$ART/hello.txt/under" --data-binary x
expect_eq "$CODE" 400 "a file under a file"
http PUT "$URL/api/2.0/mlflow-artifacts/artifacts/999/$run/artifacts/x" --data-binary x
expect_eq "$CODE" 404 "run of another experiment"
http PUT "$URL/api/2.0/mlflow-artifacts/artifacts/$exp/0123456789abcdef0123456789abcdef/artifacts/x" --data-binary x
expect_eq "$CODE" 404 "missing run"
[ ! -e p/x ] && [ ! -e etc ] || fail "something was written outside the cache"
ok "unsafe paths (.., encoded .., ., empty segments), file/directory clashes and foreign runs are refused"

# gc keeps what artifacts refer to and removes what nothing refers to
printf 'orphan' >orphan
ohex=$(sha256 orphan)
mkdir -p "$(dirname "$(object_path p "$ohex")")"
cp orphan "$(object_path p "$ohex")"
run "$FERRY" -C p data gc
expect_status 0
[ ! -e "$(object_path p "$ohex")" ] || fail "gc kept an unreferenced object"
[ -f "$obj" ] || fail "gc removed a run artifact's object"
http GET "$ART/data/blob.bin"
cmp -s "$TEST_TMP/body" blob.bin || fail "artifact unreadable after gc"
run "$FERRY" -C p data verify
expect_status 0
ok "ferry data gc keeps run artifacts' objects and removes unreferenced ones"

http DELETE "$ART/data"
expect_eq "$CODE" 200 "DELETE dir"
expect_eq "$BODY" "{}" "DELETE answer"
http GET "$ART/data/blob.bin"
expect_eq "$CODE" 404 "deleted artifact"
http DELETE "$ART/hello.txt"
http GET "$URL/api/2.0/mlflow-artifacts/artifacts?path=$exp/$run/artifacts"
expect_eq "$(jq -c '[.files[].path]' "$TEST_TMP/body")" '["MLmodel"]' "after DELETE"
run "$FERRY" -C p data gc
[ ! -e "$obj" ] || fail "gc kept the object of a deleted artifact"
ok "DELETE removes files and directories; gc then frees their objects"
stop_ferry_server

# ferry train and ferry run log their files as run artifacts
cd p
mkdir -p data
cp "$FERRY_SOURCE/examples/data/iris.csv" data/train.csv
run "$FERRY" train --data data/train.csv --target target --out models/iris
expect_status 0
train_run=$(printf '%s\n' "$OUT" | sed -n 's/^run_id=//p')
run "$FERRY" runs artifacts "$train_run"
expect_status 0
expect_out_contains " model/"
run "$FERRY" --json runs artifacts "$train_run" model -r
expect_status 0
( cd models/iris && find . -type f | sed 's|^\./|model/|' | sort ) >want.txt
jq -r '.[].path' "$TEST_TMP/.out" | sort >got.txt
cmp -s want.txt got.txt || fail "model artifacts $(cat got.txt) are not the model's files $(cat want.txt)"
digest=$(jq -r '.[] | select(.path == "model/model.json") | .digest' "$TEST_TMP/.out")
expect_eq "$digest" "sha256:$(sha256 models/iris/model.json)" "model.json digest"
run "$FERRY" runs get "$train_run" model/model.json -o got-model.json
expect_status 0
cmp -s got-model.json models/iris/model.json || fail "runs get: model.json differs"
run "$FERRY" runs get "$train_run" model -o got-model
expect_status 0
diff -r got-model models/iris >/dev/null || fail "runs get of the model directory differs"
[ -w models/iris/model.json ] || fail "the model's files became read-only"
ok "ferry train logs the model directory as artifacts under model/; ferry runs artifacts|get read them"

run "$FERRY" run -- sh -c 'echo out-line; echo err-line >&2'
expect_status 0
run_run=$(sed -n 's/^ferry: run \([0-9a-f]*\) started$/\1/p' "$TEST_TMP/.err")
run "$FERRY" runs get "$run_run" output.log -o -
expect_status 0
printf '%s\n' "$OUT" | grep -qx out-line && printf '%s\n' "$OUT" | grep -qx err-line ||
	fail "output.log artifact: $OUT"
ok "ferry run logs the captured output as artifact output.log"

start_ferry_server .
http GET "$URL/api/2.0/mlflow/artifacts/list?run_id=$train_run"
expect_eq "$(jq -r .root_uri "$TEST_TMP/body")" "mlflow-artifacts:/0/$train_run/artifacts" "root of a ferry run"
http GET "$URL/api/2.0/mlflow-artifacts/artifacts/0/$train_run/artifacts/model/model.json"
expect_eq "$CODE" 200 "GET a trained model's file"
cmp -s "$TEST_TMP/body" models/iris/model.json || fail "served model.json differs"
stop_ferry_server
ok "the proxy serves ferry's own runs' artifacts at their default root"

# a store outside a project: no object cache to keep artifacts in
cd "$TEST_TMP"
mkdir -p elsewhere
start_ferry_server elsewhere --store "sqlite:$TEST_TMP/elsewhere/x.db"
grep -q "not serving artifacts" "$TEST_TMP/server.err" || fail "no notice about artifacts"
run2=$(curl -sS -X POST -H 'Content-Type: application/json' -d '{"experiment_id":"0"}' "$URL/api/2.0/mlflow/runs/create" | jq -r .run.info.run_id)
http PUT "$URL/api/2.0/mlflow-artifacts/artifacts/0/$run2/artifacts/x" --data-binary x
expect_eq "$CODE" 501 "PUT without a cache"
expect_eq "$(jq -r .error_code "$TEST_TMP/body")" NOT_IMPLEMENTED "error code without a cache"
stop_ferry_server
ok "--store outside a project: uploads answer 501 NOT_IMPLEMENTED saying why"

done_testing
