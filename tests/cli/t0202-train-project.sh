#!/usr/bin/env bash
# Inside a project, the training data's profile is stored with its data version in the metadata
# store (the drift reference), by `ferry train` and by `ferry data profile`.
. "$(dirname "$0")/lib.sh"

new_project p
cd p
mkdir -p data/v1
cp "$FERRY_SOURCE/examples/data/iris.csv" data/v1/train.csv
run "$FERRY" data add data/v1/train.csv
expect_status 0
digest="sha256:$(sha256 data/v1/train.csv)"
db=.ferry/ferry.db
expect_eq "$(sqlite3 "$db" "SELECT count(*) FROM datasets WHERE digest = '$digest' AND profile_json IS NULL")" 1 "unprofiled version"

run "$FERRY" train --data data/v1/train.csv --target target --out models/iris
expect_status 0
sqlite3 "$db" "SELECT profile_json FROM datasets WHERE digest = '$digest'" >stored.json
jq -e --slurpfile m models/iris/model.json '. == $m[0].data.profile' stored.json >/dev/null ||
	fail "the stored profile is not the model's data profile"
expect_eq "$(jq '.rows' stored.json)" 150 "profile rows"
ok "train stores the training data's profile with its data version"

echo "7.0,3.0,5.0,1.5,1" >>data/v1/train.csv
run "$FERRY" data add data/v1/train.csv
digest2="sha256:$(sha256 data/v1/train.csv)"
run "$FERRY" data profile data/v1/train.csv
expect_status 0
expect_out_contains "stored in the project store with data version $digest2"
expect_eq "$(sqlite3 "$db" "SELECT json_extract(profile_json, '\$.rows') FROM datasets WHERE digest = '$digest2'")" 151 "profile of v2"
expect_eq "$(sqlite3 "$db" "SELECT json_extract(profile_json, '\$.rows') FROM datasets WHERE digest = '$digest'")" 150 "profile of v1 kept"
ok "data profile stores the profile with the version it read; other versions keep theirs"

cd "$TEST_TMP"
run "$FERRY" data profile "$FERRY_SOURCE/examples/data/iris.csv"
expect_status 0
grep -q "stored in" .out && fail "outside a project nothing can be stored"
ok "outside a project, profile and train store nothing and need nothing"

done_testing
