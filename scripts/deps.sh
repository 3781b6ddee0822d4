#!/usr/bin/env bash
# Installs the Debian packages ferry's build, tests and demo need; idempotent.
# Checks each package with dpkg-query and calls apt-get only for what is missing.
set -euo pipefail

packages=(
	# build
	build-essential cmake pkg-config
	# libraries ferry links
	libsqlite3-dev libpq-dev libssl-dev libjansson-dev libfyaml-dev
	libmicrohttpd-dev libcurl4-openssl-dev libxgboost-dev libopenblas-dev
	liblapacke-dev libgsl-dev libzstd-dev libarchive-dev
	# tests: unit tests, fuzzing and sanitizer runtimes, format and static checks
	libcmocka-dev clang libclang-rt-14-dev clang-format cppcheck
	# tests: promtool checks the /metrics text (test_prom). Debian ships it only in the
	# prometheus package, which also enables a prometheus server (:9090) where systemd runs
	prometheus
	# tests and demo drive the binary with these (openssl: self-signed certificates for TLS)
	jq curl git sqlite3 python3 openssl
)

missing=()
for p in "${packages[@]}"; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[ "$status" = "install ok installed" ] || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi

echo "deps: installing ${missing[*]}" >&2
if [ "$(id -u)" -ne 0 ]; then
	SUDO=sudo
else
	SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
