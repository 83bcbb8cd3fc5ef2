#!/usr/bin/env bash
# Configures and builds agentstream. Usage: scripts/build.sh [BUILD_DIR] [extra cmake args...]
# Warnings are errors here (as in CI). Uses 2 parallel jobs unless JOBS says otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
shift || true
# ccache, when installed (scripts/setup.sh installs it), keeps compiled objects across builds and
# checkouts in ~/.cache/agentstream/ccache, as ~/.m2 keeps Kafka's jars; paths under the tree are
# made relative, so another clone of the same sources hits. AGENTSTREAM_CCACHE=0 turns it off.
launcher=()
if [ "${AGENTSTREAM_CCACHE:-1}" != 0 ] && command -v ccache >/dev/null 2>&1; then
    wrap="env;CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/agentstream/ccache};CCACHE_BASEDIR=$PWD"
    wrap+=";CCACHE_NOHASHDIR=true;CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-8G};ccache"
    launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER="$wrap" -DCMAKE_C_COMPILER_LAUNCHER="$wrap")
else
    launcher=(-UCMAKE_CXX_COMPILER_LAUNCHER -UCMAKE_C_COMPILER_LAUNCHER)
fi
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DAGENTSTREAM_WERROR=ON \
    "${launcher[@]}" "$@" >/dev/null
# TARGETS (space-separated) limits the build to those targets.
# shellcheck disable=SC2086
cmake --build "$build" -j "${JOBS:-2}" ${TARGETS:+--target $TARGETS}
