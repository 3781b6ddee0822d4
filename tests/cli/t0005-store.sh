#!/usr/bin/env bash
# ferry store info/check on a healthy store, and clear errors on a damaged one.
. "$(dirname "$0")/lib.sh"

new_repo repo
"$FERRY" -C repo init -q
db=repo/.ferry/ferry.db

run "$FERRY" -C repo --json store info
expect_status 0
expect_eq "$(jq -r .backend <<<"$OUT")" sqlite "backend"
want=$(sqlite3 "$db" 'SELECT max(version) FROM schema_version')
expect_eq "$(jq -r .schema_version <<<"$OUT")" "$want" "schema version"
expect_eq "$(jq -r .latest_schema_version <<<"$OUT")" "$want" "latest schema version"
expect_eq "$(jq -r .counts.experiments <<<"$OUT")" 1 "experiments (Default)"
expect_eq "$(jq -r .counts.runs <<<"$OUT")" 0 "runs"
ok "store info reports backend, schema version and counts"

# Rows written by another client show up in the counts.
sqlite3 "$db" "INSERT INTO experiments(experiment_id, name, artifact_location, lifecycle_stage, creation_time, last_update_time) VALUES ('1', 'churn', '', 'active', 0, 0)"
run "$FERRY" -C repo --json store info
expect_eq "$(jq -r .counts.experiments <<<"$OUT")" 2 "experiments after insert"
ok "counts follow the database"

run "$FERRY" -C repo store check
expect_status 0
expect_out_contains "store is consistent"
ok "store check passes on a healthy store"

head -c 4096 /dev/urandom >"$db"
rm -f "$db-wal" "$db-shm"
run "$FERRY" -C repo store info
expect_status 1
expect_err_contains "$TEST_TMP/$db"
expect_err_contains "not a database"
ok "a corrupt store file is a clear error naming it"

done_testing
