#!/usr/bin/env bash
# The main job, on a fresh Debian 12 machine: installs what is missing,
# builds, starts dreamshotd on the default store, generates an image through
# the server from a tiny random-weight model, logs a demo run through the
# dreamshot CLI and prints it back. Later stages of the pipeline (training,
# evaluation, survey) extend this same command.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
bazel build //services:dreamshotd //cli:dreamshot //tools:dreamshot-init-tiny-model
exec tools/demo.sh
