#!/usr/bin/env bash
# ferry version reports its own version and the versions of the libraries it really links.
. "$(dirname "$0")/lib.sh"

want=$(sed -n 's/^project(ferry VERSION \([0-9.]*\).*/\1/p' "$FERRY_SOURCE/CMakeLists.txt")
run "$FERRY" version
expect_status 0
expect_eq "$(head -n1 <<<"$OUT")" "ferry $want" "first line of 'ferry version'"
ok "ferry version prints the project version"

run "$FERRY" --version
expect_status 0
expect_eq "$(head -n1 <<<"$OUT")" "ferry $want" "ferry --version"
ok "--version is 'ferry version'"

run "$FERRY" version --json
expect_status 0
expect_eq "$(jq -r .ferry <<<"$OUT")" "$want" "version --json .ferry"
for lib in sqlite libpq openssl jansson libfyaml libmicrohttpd libcurl xgboost openblas gsl zstd libarchive; do
	v=$(jq -r ".libraries[\"$lib\"]" <<<"$OUT")
	[ -n "$v" ] && [ "$v" != null ] || fail "no version for $lib"
done
ok "--json lists every linked library"

# Independent references: the sqlite3 and curl command-line tools link the same shared libraries.
sqlite_cli=$(sqlite3 --version | cut -d' ' -f1)
expect_eq "$(jq -r .libraries.sqlite <<<"$OUT")" "$sqlite_cli" "sqlite version"
curl_lib=$(curl --version | head -n1 | sed -n 's/.*libcurl\/\([0-9.]*\).*/\1/p')
expect_eq "$(jq -r .libraries.libcurl <<<"$OUT")" "$curl_lib" "libcurl version"
xgb_pkg=$(dpkg-query -W -f='${Version}' libxgboost0 | cut -d- -f1)
expect_eq "$(jq -r .libraries.xgboost <<<"$OUT")" "$xgb_pkg" "xgboost version"
ok "library versions match the sqlite3/curl tools and dpkg"

done_testing
