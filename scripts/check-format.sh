#!/usr/bin/env bash
# Fails if any tracked C file differs from what clang-format (with .clang-format) would write.
set -euo pipefail
cd "$(dirname "$0")/.."
bad=0
while IFS= read -r f; do
	if ! clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then
		echo "format: $f needs clang-format (run 'make format')" >&2
		bad=1
	fi
done < <(git ls-files '*.c' '*.h')
exit $bad
