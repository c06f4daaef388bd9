#!/usr/bin/env bash
# The layer check of //tests:layering_test over every target in //... (the
# test's genquery can only cover the shipped programs): every direct
# dependency, tests and benchmarks included, against bazel/layers.bzl.
# Exit status 1 and the wrong-way edges listed when there are any.
set -euo pipefail
cd "$(dirname "$0")/.."
bazel build //bazel:layers >/dev/null 2>&1 || bazel build //bazel:layers
graph=$(mktemp)
trap 'rm -f "$graph"' EXIT
bazel query 'deps(//..., 1)' --output=graph --nograph:factored --noimplicit_deps 2>/dev/null >"$graph" ||
  bazel query 'deps(//..., 1)' --output=graph --nograph:factored --noimplicit_deps >/dev/null
exec tests/layering_check.sh "$(bazel info bazel-bin 2>/dev/null)/bazel/layers.txt" "$graph"
