#!/usr/bin/env bash
# Static analysis over the tree; any finding fails (suppressions need an inline reason).
set -euo pipefail
cd "$(dirname "$0")/.."
cppcheck --quiet --error-exitcode=1 --std=c11 --inline-suppr \
	--enable=warning,performance,portability \
	--suppress=missingIncludeSystem --library=scripts/cppcheck.cfg \
	-D__GNUC__ -DFERRY_VERSION='"0"' -I src \
	-j "$(nproc 2>/dev/null || echo 2)" \
	src tests
