#!/usr/bin/env bash
# The dreamshot client is a gRPC program: it must not depend on LibTorch (a
# gigabyte of libraries, and minutes of build, for a client that runs no
# network). Two checks:
#  - no @libtorch target among its dependencies, data included: the output
#    of `bazel query 'deps(//cli:dreamshot)'`, which Bazel ran at build time
#    (genquery //tests:cli_deps; a test cannot run bazel query itself);
#  - no libtorch*/libc10* among the libraries the built binary loads,
#    directly (readelf -d) or through another library (ldd).
# The tiny-model tool, which does use LibTorch, shows that each check sees it.
set -euo pipefail

# Under bazel test the working directory is the runfiles root; by hand, the workspace.
lib=tests/test_lib.sh
[[ -f "$lib" ]] || lib="$(dirname "${BASH_SOURCE[0]}")/test_lib.sh"
source "$lib"
DS="$(find_binary cli/dreamshot)"
TOOL="$(find_binary tools/dreamshot-init-tiny-model)"

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# find_output REL: a file Bazel built (the runfiles, else bazel-bin).
find_output() {
  local candidate
  for candidate in "$RUNFILES/$1" "bazel-bin/$1"; do
    [[ -f "$candidate" ]] && { echo "$candidate"; return 0; }
  done
  fail "cannot find $1 (looked in runfiles and bazel-bin)"
}

# torch_targets QUERY_OUTPUT: the LibTorch targets listed, one a line.
torch_targets() {
  grep '^@libtorch//' "$1" || true
}

# torch_libs BINARY: the LibTorch libraries BINARY loads, one a line.
torch_libs() {
  local needed loaded
  needed="$(readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')" || fail "readelf -d $1 failed"
  [[ -n "$needed" ]] || fail "readelf -d $1 lists no shared library"
  loaded="$(ldd "$1" | awk '{print $1}')" || fail "ldd $1 failed"
  printf '%s\n%s\n' "$needed" "$loaded" | grep -E '^lib(torch|c10)' | sort -u || true
}

found="$(torch_targets "$(find_output tests/init_tiny_model_deps)")"
grep -qx '@libtorch//:torch' <<<"$found" || fail "deps(//tools:dreamshot-init-tiny-model) lists no @libtorch//:torch: the query check is blind"
found="$(torch_targets "$(find_output tests/cli_deps)")"
[[ -z "$found" ]] || fail "deps(//cli:dreamshot) has LibTorch targets: $(head -3 <<<"$found" | tr '\n' ' ')"
echo "ok: deps(//cli:dreamshot) has no LibTorch target (the query sees @libtorch//:torch in the tiny-model tool's)"

found="$(torch_libs "$TOOL")"
[[ -n "$found" ]] || fail "no LibTorch library found in $TOOL, which links it: the library check is blind"
found="$(torch_libs "$DS")"
[[ -z "$found" ]] || fail "the dreamshot client loads LibTorch: $(tr '\n' ' ' <<<"$found")"
echo "ok: the dreamshot binary loads no LibTorch library (readelf -d, ldd; the tiny-model tool's do show)"
