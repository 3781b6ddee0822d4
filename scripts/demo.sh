#!/usr/bin/env bash
# The end-to-end demo: what ferry can do so far, on the datasets in examples/data.
# Run through `make demo` (which installs packages and builds first). It works in a fresh
# temporary git repository and leaves your checkout untouched; DEMO_DIR=path keeps it there.
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
FERRY=${FERRY:-$src/build/ferry}
[ -x "$FERRY" ] || { echo "demo: $FERRY is not built; run 'make demo'" >&2; exit 1; }
ferry() { "$FERRY" "$@"; }
if [ -n "${DEMO_DIR:-}" ]; then
	rm -rf "$DEMO_DIR"
	mkdir -p "$DEMO_DIR"
	work=$(cd "$DEMO_DIR" && pwd)
else
	work=$(mktemp -d "${TMPDIR:-/tmp}/ferry-demo-XXXXXX")
	trap 'rm -rf "$work"' EXIT
fi

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
show() { printf '$ %s\n' "$*"; "$@"; }

step "ferry and the libraries it links"
show ferry version

step "a project: a git repository with data in it"
cd "$work"
git init -q -b main churn-project
cd churn-project
git config user.email demo@example.com
git config user.name "ferry demo"
mkdir -p data
cp "$src/examples/data/mlc_churn.csv" data/
cp "$src/examples/data/drift/"*.csv data/
git add data && git commit -qm "churn data"
show ls -l data

step "ferry init makes it a ferry project"
show ferry init
show cat .ferry/config.yaml
show git status --short

step "the metadata store is ready for the whole lifecycle"
show ferry store info
show ferry store check
show ferry --json store info

step "commands work from any subdirectory; mistakes get clear messages"
show ferry -C data config get store
printf '$ ferry stor info\n'
ferry stor info || echo "(exit $?)"

echo
echo "demo: done (workspace: $work${DEMO_DIR:+, kept})"
