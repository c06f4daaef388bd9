#!/usr/bin/env bash
# The layers of bazel/layers.bzl hold in the dependency graph of the shipped
# programs (genquery //tests:layering_graph, run by Bazel at build time: a
# test cannot run bazel query itself). Visibility already refuses a
# wrong-way `deps`; this catches one that a target's own `visibility`
# reopened. Then the checker is shown wrong-way edges, one at a time, and
# must refuse each, and allowed ones, which it must accept.
set -euo pipefail

# Under bazel test the working directory is the runfiles root; by hand, the workspace.
here="$(dirname "${BASH_SOURCE[0]}")"
lib=tests/test_lib.sh
[[ -f "$lib" ]] || lib="$here/test_lib.sh"
source "$lib"

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# find_file REL: a source or built file (the runfiles, the workspace, else bazel-bin).
find_file() {
  local candidate
  for candidate in "$RUNFILES/$1" "$1" "bazel-bin/$1"; do
    [[ -f "$candidate" ]] && { echo "$candidate"; return 0; }
  done
  fail "cannot find $1 (looked in runfiles, the working directory and bazel-bin)"
}

CHECK="$(find_file tests/layering_check.sh)"
TABLE="$(find_file bazel/layers.txt)"
GRAPH="$(find_file tests/layering_graph)"

# The real graph: not empty, the programs in it, no wrong-way edge.
grep -q '"//cli:client" -> "//rpc:grpc_status"' "$GRAPH" ||
  fail "$GRAPH lacks //cli:client -> //rpc:grpc_status: the query does not cover the client"
grep -q '"//services:dreamshotd"' "$GRAPH" || fail "$GRAPH lacks //services:dreamshotd"
bash "$CHECK" "$TABLE" "$GRAPH" || fail "wrong-way dependencies above (fix the deps, or see bazel/layers.bzl)"

# check_edge WANT FROM TO: the checker accepts (WANT=ok) or refuses (WANT=refused) FROM -> TO.
check_edge() {
  local want=$1 from=$2 to=$3 graph="$TMP/edge.dot" got out
  printf 'digraph mygraph {\n  "%s" -> "%s"\n}\n' "$from" "$to" >"$graph"
  if out="$(bash "$CHECK" "$TABLE" "$graph" 2>&1)"; then got=ok; else got=refused; fi
  [[ "$got" == "$want" ]] || fail "$from -> $to: $got, want $want; the checker said: $out"
}

refused=(
  "//core:png //models:state_dict"
  "//models/unet:unet_2d_condition //diffusion/pipeline:text_to_image"
  "//models:load_model //experiments:store"
  "//diffusion/pipeline:model_cache //experiments:store"
  "//experiments:store //jobs:job_runner"
  "//jobs:job_runner //services:server"
  "//services:server //cli:client"
  "//tools:dreamshot-init-tiny-model //cli:dreamshot"
  "//dataset:pool_build //survey:survey_admin"
  "//survey:survey_admin //services:server"
  "//survey:survey_admin //dataset:types"
  "//experiments:store //protos:experiment"
  "//cli:client //core:png"
  "//cli:client //services:server"
  "//parity:tensor_diff //services:server"
  "//models:load_model //third_party:grpc"
  "//diffusion/pipeline:text_to_image //third_party:sqlitecpp"
  "//dataset:pool_build //tests:survey_test_pairs"
  "//newfolder:thing //core:png"
)
allowed=(
  "//models/unet:unet_2d_condition //core:safetensors"
  "//diffusion/pipeline:text_to_image //models/clip:text_model"
  "//jobs:job_runner //experiments:store"
  "//dataset:pool_build //experiments:store"
  "//survey:survey_admin //experiments:store"
  "//services:server //jobs:job_runner"
  "//services:server //third_party:grpc"
  "//cli:client //rpc:grpc_status"
  "//cli:client //protos:experiment"
  "//cli:metrics_cmd //core:csv"
  "//survey:participant_session_test //tests:survey_test_pairs"
  "//tests:cli_links_no_torch_test //cli:dreamshot"
  "//experiments:store //third_party:sqlitecpp"
  "//models:load_model @libtorch//:torch"
)
for edge in "${refused[@]}"; do check_edge refused $edge; done
for edge in "${allowed[@]}"; do check_edge ok $edge; done
echo "ok: ${#refused[@]} wrong-way edges refused, ${#allowed[@]} allowed ones accepted"
