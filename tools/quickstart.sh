#!/usr/bin/env bash
# The main job, on a fresh Debian 12 machine: installs what is missing,
# builds, starts dreamshotd on the default store and logs a demo run through
# the dreamshot CLI, then prints it back. Later stages of the pipeline
# (training, generation, evaluation, survey) extend this same command.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
bazel build //services:dreamshotd //cli:dreamshot
exec tools/demo.sh
