#!/usr/bin/env bash
# Runs every test (bazel test //...) and ends with "N passed, N failed",
# counting individual test cases. Exit status: Bazel's, or 1 when the layer
# check over all of //... (tools/layering_check.sh) finds a wrong-way edge.
set -uo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh || exit 1
layers_rc=0
tools/layering_check.sh || layers_rc=1

log=$(mktemp)
trap 'rm -f "$log"' EXIT
# Tests read ../shared/reference, which Bazel does not track: never reuse
# a cached result.
bazel test //... --test_summary=short --nocache_test_results "$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
python3 tools/count_tests.py "$log" || rc=1
[[ "$layers_rc" == 0 ]] || rc=1
exit "$rc"
