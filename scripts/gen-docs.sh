#!/usr/bin/env bash
# Regenerates the generated docs from their tables. Usage: scripts/gen-docs.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
A=${1:-build}/apps/agentstream/agentstream
{ cat docs/events.header.md; "$A" event schema --markdown; } >docs/events.md
{ cat docs/configuration.header.md; "$A" config keys --markdown; } >docs/configuration.md
