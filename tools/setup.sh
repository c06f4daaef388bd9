#!/usr/bin/env bash
# Installs the Debian 12 packages DreamShot builds and runs with; installs
# nothing when everything is present (safe to run before every build).
set -euo pipefail

packages=(
  # build
  bazel-bootstrap bazel-rules-java g++ git python3
  # RPC and storage
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler libabsl-dev
  libsqlitecpp-dev libsqlite3-dev libssl-dev libgoogle-glog-dev libgflags-dev
  # tensors: LibTorch on OpenBLAS (Debian's default reference BLAS runs fp32
  # matmul ~35x slower on a 2-core AVX2 machine)
  libtorch-dev libopenblas0-openmp libblas-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev
  # text: Unicode (CLIP tokenizer), gzip, JSON
  libicu-dev zlib1g-dev nlohmann-json3-dev
  # dataset builder: video decoding, image filters, face/person cascades;
  # opencv-doc ships the test footage (Megamind.avi, vtest.avi, messi5.jpg)
  libopencv-dev opencv-data opencv-doc
  # survey: the participant pages' HTTP server (its headers need Brotli's)
  libcpp-httplib-dev libbrotli-dev
  # fuzzing with libFuzzer (tools/fuzz_safetensors.sh)
  clang libclang-rt-14-dev
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "setup: installing ${missing[*]}" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "setup: run as root or install sudo" >&2; exit 1; }
  sudo="sudo"
fi
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
