#!/usr/bin/env bash
# Regenerates docs/events.md from the catalogue table. Usage: scripts/gen-docs.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
{ cat docs/events.header.md; "$build/apps/agentstream/agentstream" event schema --markdown; } >docs/events.md
