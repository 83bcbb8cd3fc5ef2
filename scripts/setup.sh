#!/usr/bin/env bash
# Installs every system dependency of agentstream from Debian bookworm packages.
# Idempotent: when everything is present it changes nothing and takes well under a second.
# Run as root (or with sudo available).
set -euo pipefail

packages=(
    # toolchain
    build-essential cmake ninja-build pkg-config git clang-format ccache
    # libraries (docs/architecture.md says why each)
    librdkafka-dev libsimdjson-dev nlohmann-json3-dev libyaml-cpp-dev libcpp-httplib-dev
    libmicrohttpd-dev
    libcli11-dev libspdlog-dev libfmt-dev prometheus-cpp-dev libre2-dev libjemalloc-dev libssl-dev
    # tests and benchmarks; clang and its runtime for the libFuzzer targets (scripts/fuzz.sh)
    libgtest-dev libgmock-dev googletest libbenchmark-dev librapidcheck-dev clang
    libclang-rt-14-dev
    # real peers for interop tests, and Java 17 + Maven for the real Apache Kafka broker
    kcat python3-confluent-kafka python3-prometheus-client curl openjdk-17-jdk-headless maven
    # the dashboard's browser test: a real headless Chromium
    chromium
)
# Node.js and npm fetch the dashboard's chart library (bundled into the binary at build time)
# and playwright-core; a Node.js already installed (say, 20 from NodeSource) is used as it is.
if ! command -v npm >/dev/null 2>&1; then
    packages+=(nodejs npm)
fi

# The dashboard's npm packages, pinned by web/package-lock.json; reinstalled only when the lock
# file changed since the last install.
npm_install() {
    local lock=web/package-lock.json stamp=web/node_modules/.agentstream-lock.sha256
    local want
    want=$(sha256sum "$lock" | cut -d' ' -f1)
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
        return
    fi
    echo "setup: installing the dashboard's npm packages (web/package-lock.json)"
    (cd web && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
    echo "$want" >"$stamp"
}
cd "$(dirname "$0")/.."

missing=()
for p in "${packages[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    [ "$status" = "install ok installed" ] || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "setup: all ${#packages[@]} packages present"
    npm_install
    exit 0
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "setup: run as root (missing: ${missing[*]})" >&2; exit 1; }
    sudo=(sudo)
fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup: done"
npm_install
