#!/usr/bin/env bash
# Configures and builds agentstream. Usage: scripts/build.sh [BUILD_DIR] [extra cmake args...]
# Warnings are errors here (as in CI). Uses 2 parallel jobs unless JOBS says otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
shift || true
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DAGENTSTREAM_WERROR=ON "$@" >/dev/null
# TARGETS (space-separated) limits the build to those targets.
# shellcheck disable=SC2086
cmake --build "$build" -j "${JOBS:-2}" ${TARGETS:+--target $TARGETS}
