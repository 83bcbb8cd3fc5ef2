#!/usr/bin/env bash
# Installs what is needed, builds, and runs the demo.
# Until the transport lands, the demo is the event catalogue: it lists the 22 event types,
# creates a correlated flow of events with the factory, validates them, and shows how invalid
# input is reported.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh build >/dev/null
A=build/apps/agentstream/agentstream

echo "== the event catalogue"
$A event types
echo
echo "== a document flow: uploaded -> task.created -> task.completed -> document.analysis.complete"
flow=$(mktemp)
trap 'rm -f "$flow"' EXIT
corr=$($A event new document.uploaded --set document_id=doc_001 --set document_name=report.pdf \
        --set file_size=204800 --set source=api | tee -a "$flow" | sed -E 's/.*"event_id":"([^"]+)".*/\1/')
$A event new task.created --set task_id=task_001 --set task_type=document_analysis \
    --set correlation_id="$corr" --set source=document_processor >>"$flow"
$A event new task.completed --set task_id=task_001 --set task_type=document_analysis \
    --set execution_time_ms=820 --set correlation_id="$corr" --set source=analyzer >>"$flow"
$A event new document.analysis.complete --set document_id=doc_001 \
    --set 'analysis_results={"words":1200,"language":"en"}' --set correlation_id="$corr" \
    --set source=analyzer >>"$flow"
cat "$flow"
$A event validate "$flow"
echo
echo "== invalid input is named field by field"
printf '%s\n' '{"event_type":"document.uploaded"}' \
    '{"event_id":"e1","event_type":"quality.check.complete","timestamp":"2026-11-27T08:00:00Z","source":"qa","validation_id":"v","subject_type":"essay","subject_id":"d","quality_score":5,"validation_criteria":[],"passed_checks":[],"failed_checks":[]}' \
    | $A event validate - || true
