#!/usr/bin/env bash
# Installs what is needed, builds, and runs the demo.
# Until the router and agents land, the demo shows what exists: the event catalogue (22 types,
# a correlated flow, validation of bad input), the transport (an embedded broker, producing the
# flow keyed by entity, reading it back with a consumer group, kcat as a peer) and the runtime
# (a processor forwarding task events, a poison record in the dead-letter topic, replay).
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

echo
echo "== the transport: an embedded broker, produce, consume"
tmp=$(mktemp -d)
$A broker --topic documents:4 --topic tasks:4 --topic documents.dlq:1 --topic work:4 \
    --bootstrap-file "$tmp/bs" 2>"$tmp/broker.log" >/dev/null &
broker=$!
trap 'kill $broker 2>/dev/null; wait $broker 2>/dev/null; rm -rf "$tmp" "$flow"' EXIT
for _ in $(seq 1 50); do [ -s "$tmp/bs" ] && break; sleep 0.1; done
export AGENTSTREAM_BROKERS=$(cat "$tmp/bs")
echo "embedded broker at $AGENTSTREAM_BROKERS (in memory; see docs/operations.md)"
grep '"document\.' "$flow" | $A produce documents
grep '"task\.' "$flow" | $A produce tasks
$A topics list
echo "-- consumed by group demo, task events only:"
$A --log-level warn consume documents tasks --group demo --from-beginning --type 'task.*'
echo "-- kcat reads the same records (key, headers):"
kcat -b "$AGENTSTREAM_BROKERS" -C -t documents -o beginning -e -q -f 'key=%k headers=%h\n'

echo
echo "== the runtime: a processor forwards document events to 'work'; a poison record goes to dead letters"
printf '%s\n' '{"event_type":"document.uploaded","document_id":' | kcat -b "$AGENTSTREAM_BROKERS" -P -t documents -k broken
$A --log-level warn process documents --to work --name demo-processor --until-idle 2 || true
echo "-- the dead letters, with their reasons:"
$A --log-level warn dlq list documents.dlq
echo "-- the group's committed offsets:"
$A --log-level warn offsets show --group agentstream-demo-processor

echo
echo "== the router: the six standard routes (config/pipeline.yaml)"
$A routes check config/pipeline.yaml
echo "-- a dry run: where a document flow would go, and as what (no broker):"
grep '"document\.' "$flow" | $A routes test config/pipeline.yaml --topic documents |
    cut -c1-150
echo "-- the routes as a service for a few seconds on the embedded broker:"
$A --log-level warn,run=info run --config config/pipeline.yaml --status-interval 3 &
router=$!
sleep 5
kill -INT $router
wait $router || true
echo "-- what reached analytics (each document event once):"
$A --log-level warn consume analytics --from-beginning --timeout 2 | cut -c1-120
