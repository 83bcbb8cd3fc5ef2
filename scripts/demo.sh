#!/usr/bin/env bash
# Installs what is needed, builds, and runs the demo: the whole system (routes, processors,
# agents, monitor and dashboard) on an embedded broker with simulated load for three minutes,
# then a summary of what happened. Arguments go to `agentstream demo`, e.g.
#   scripts/demo.sh --duration 30s --rate 50
#   scripts/demo.sh --brokers 127.0.0.1:19092      # a real Kafka cluster
# Ctrl-C ends it early with the same summary.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh build >/dev/null
exec build/apps/agentstream/agentstream demo "$@"
