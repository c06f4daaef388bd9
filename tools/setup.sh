#!/usr/bin/env bash
# Installs the Debian 12 packages DreamShot builds and runs with, and the
# browser test's npm packages (e2e/node_modules); installs nothing when
# everything is present (safe to run before every build).
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
  # images: PNG with text chunks (core/png); special functions and
  # distributions for the statistics (core/statistics, header-only)
  libpng-dev libboost-math-dev
  # dataset builder: video decoding, image filters, face/person cascades;
  # opencv-doc ships the test footage (Megamind.avi, vtest.avi, messi5.jpg)
  libopencv-dev opencv-data opencv-doc
  # survey: the participant pages' HTTP server (its headers need Brotli's)
  libcpp-httplib-dev libbrotli-dev
  # fuzzing with libFuzzer (tools/fuzz_safetensors.sh)
  clang libclang-rt-14-dev
  # browser test (//e2e:survey_browser_test): headless Chromium, driven by
  # playwright-core from npm (pinned in e2e/package-lock.json to a release
  # that runs on Debian 12's Node 18); a named font, so layout checks and
  # screenshots do not depend on whichever font happens to be there
  chromium nodejs fonts-dejavu-core
)
# A NodeSource nodejs bundles npm and conflicts with Debian's npm package:
# ask for the package only when there is no npm at all.
command -v npm >/dev/null || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "setup: run as root or install sudo" >&2; exit 1; }
    sudo="sudo"
  fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The browser test's node_modules, again when the lock file changed since
# (npm ci recreates the folder; the touch marks when).
e2e="$(cd "$(dirname "$0")/../e2e" && pwd)"
if [ ! -f "$e2e/node_modules/playwright-core/package.json" ] || [ "$e2e/package-lock.json" -nt "$e2e/node_modules" ]; then
  echo "setup: npm ci in e2e/" >&2
  (cd "$e2e" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  touch "$e2e/node_modules"
fi
