#!/usr/bin/env bash
# Builds the libFuzzer target for the safetensors parser with clang
# (-fsanitize=fuzzer,address,undefined), outside Bazel, and runs it.
#
#   tools/fuzz_safetensors.sh [SECONDS=60] [extra libFuzzer flags...]
#
# Needs clang and libclang-rt-14-dev (tools/setup.sh). Output goes to the
# ignored .cache/fuzz/safetensors/: the binary, the growing corpus (seeded
# from core/testdata/safetensors_corpus) and any crash-* / leak-* files.
# Reproduce a crash with: .cache/fuzz/safetensors/safetensors_fuzzer CRASH_FILE
# or, with gcc:           bazel run //core:safetensors_fuzzer -- CRASH_FILE
set -euo pipefail

seconds="${1:-60}"
shift || true
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$root/.cache/fuzz/safetensors"
mkdir -p "$out/corpus" "$out/artifacts"
cxx="${CXX_FUZZ:-clang++}"
command -v "$cxx" >/dev/null || { echo "fuzz: $cxx not found; install clang libclang-rt-14-dev" >&2; exit 1; }

absl_libs=(
  -labsl_statusor -labsl_status -labsl_cord -labsl_cord_internal -labsl_cordz_info -labsl_cordz_functions
  -labsl_cordz_handle -labsl_crc_cord_state -labsl_str_format_internal -labsl_strings -labsl_strings_internal
  -labsl_synchronization -labsl_time -labsl_time_zone -labsl_int128 -labsl_base -labsl_raw_logging_internal
  -labsl_throw_delegate -labsl_spinlock_wait -labsl_stacktrace -labsl_symbolize -labsl_debugging_internal
  -labsl_demangle_internal -labsl_malloc_internal -labsl_exponential_biased -labsl_graphcycles_internal
)
# Keep only the libraries this Abseil installation has (names vary by version).
libs=()
for l in "${absl_libs[@]}"; do
  name="lib${l#-l}"
  if ls /usr/lib/*-linux-gnu/"$name".so >/dev/null 2>&1 || ls /usr/lib/"$name".so >/dev/null 2>&1; then
    libs+=("$l")
  fi
done

binary="$out/safetensors_fuzzer"
echo "fuzz: building $binary" >&2
"$cxx" -std=c++17 -O1 -g -fno-omit-frame-pointer \
  -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -I"$root" -I/usr/include \
  "$root/core/safetensors_fuzzer.cc" "$root/core/safetensors_format.cc" \
  -o "$binary" "${libs[@]}" -lpthread

# A dictionary of the format's tokens helps the mutator reach deep checks.
cat > "$out/safetensors.dict" <<'DICT'
"{"
"}"
"\"dtype\""
"\"shape\""
"\"data_offsets\""
"\"__metadata__\""
"\"F64\""
"\"F32\""
"\"F16\""
"\"BF16\""
"\"I64\""
"\"I32\""
"\"I16\""
"\"I8\""
"\"U8\""
"\"BOOL\""
"\"U16\""
"\"U32\""
"\"U64\""
"\"F8_E4M3\""
"\"F8_E5M2\""
"[0,0]"
"18446744073709551615"
"9223372036854775807"
"-0"
"1e3"
DICT

cp -n "$root"/core/testdata/safetensors_corpus/* "$out/corpus/" 2>/dev/null || true
echo "fuzz: running for ${seconds}s" >&2
cd "$out"
exec "$binary" "$out/corpus" "$root/core/testdata/safetensors_corpus" \
  -dict="$out/safetensors.dict" -max_total_time="$seconds" -max_len=4096 \
  -artifact_prefix="$out/artifacts/" -print_final_stats=1 "$@"
