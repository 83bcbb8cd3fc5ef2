#!/usr/bin/env bash
# Interop with real peers on a real Kafka broker: kcat and Python's confluent-kafka read what
# agentstream wrote, and agentstream reads what they wrote.
set -u
A=${AGENTSTREAM:?}
B=${AGENTSTREAM_E2E_BROKERS:?AGENTSTREAM_E2E_BROKERS is not set: run through scripts/test.sh}
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../support/check.sh"
run=$$-$RANDOM

# 50 events of several families, made by the CLI.
for i in $(seq 1 20); do
    $A event new document.uploaded --set document_id="doc_$i" --set document_name="f$i.pdf"
    $A event new task.created --set task_id="task_$i" --set task_type=document_analysis
done >"$tmp/events.jsonl"
for i in $(seq 1 10); do
    $A event new system.health --set component="c$i" --set health_status=healthy
done >>"$tmp/events.jsonl"

# agentstream -> kcat
$A --brokers "$B" topics create "interop-a-$run" -p 3 >/dev/null
$A --brokers "$B" produce "interop-a-$run" -f "$tmp/events.jsonl" >"$tmp/out" 2>&1
check "produce exit" 0 $?
contains "produce count" "$tmp/out" "produced 50 event(s)"
kcat -b "$B" -C -t "interop-a-$run" -o beginning -e -q -f '%k\t%h\t%s\n' >"$tmp/kcat.tsv" 2>/dev/null
check "kcat reads 50 records" 50 "$(wc -l <"$tmp/kcat.tsv")"
cut -f3 "$tmp/kcat.tsv" | sort >"$tmp/kcat.values"
sort "$tmp/events.jsonl" >"$tmp/sent.values"
cmp -s "$tmp/kcat.values" "$tmp/sent.values"
check "values byte-identical to the input lines" 0 $?
grep -q $'^doc_1\tevent_type=document.uploaded,event_id=' "$tmp/kcat.tsv"
check "key is the entity, headers carry the type and id" 0 $?
grep -q 'content-type=application/json' "$tmp/kcat.tsv"
check "content-type header" 0 $?

# kcat -> agentstream
$A --brokers "$B" topics create "interop-b-$run" -p 2 >/dev/null
kcat -b "$B" -P -t "interop-b-$run" -l "$tmp/events.jsonl"
check "kcat produce" 0 $?
$A --brokers "$B" consume "interop-b-$run" --from-beginning >"$tmp/consumed.jsonl" 2>"$tmp/err"
check "consume exit" 0 $?
check "agentstream reads 50 events" 50 "$(wc -l <"$tmp/consumed.jsonl")"
sort "$tmp/consumed.jsonl" | cmp -s - "$tmp/sent.values"
check "consumed events identical" 0 $?
$A --brokers "$B" consume "interop-b-$run" --from-beginning --type 'document.*' >"$tmp/docs.jsonl" 2>/dev/null
check "type filter" 20 "$(wc -l <"$tmp/docs.jsonl")"
echo 'not an event' | kcat -b "$B" -P -t "interop-b-$run"
$A --brokers "$B" consume "interop-b-$run" --from-beginning >/dev/null 2>"$tmp/err"
check "a foreign record makes consume exit 1" 1 $?
contains "and is reported" "$tmp/err" "not a valid event"

# Python confluent-kafka (its own librdkafka build) both ways.
PY=/usr/bin/python3
$PY - "$B" "interop-a-$run" "interop-c-$run" "$tmp/events.jsonl" >"$tmp/py.out" 2>&1 <<'PYEOF'
import json, sys
from confluent_kafka import Consumer, Producer
brokers, source, target, path = sys.argv[1:5]
c = Consumer({"bootstrap.servers": brokers, "group.id": "py-" + source, "auto.offset.reset": "earliest"})
c.subscribe([source])
got = []
while len(got) < 50:
    m = c.poll(10.0)
    if m is None:
        break
    if m.error():
        continue
    headers = dict(m.headers() or [])
    event = json.loads(m.value())
    assert headers["event_type"].decode() == event["event_type"], headers
    assert headers["event_id"].decode() == event["event_id"], headers
    got.append(event)
c.close()
print("python read", len(got))
p = Producer({"bootstrap.servers": brokers})
for line in open(path):
    e = json.loads(line)
    p.produce(target, line.rstrip("\n").encode())
p.flush(30)
print("python wrote", sum(1 for _ in open(path)))
PYEOF
check "python script" 0 $?
contains "python reads agentstream's events" "$tmp/py.out" "python read 50"
$A --brokers "$B" consume "interop-c-$run" --from-beginning >"$tmp/frompy.jsonl" 2>/dev/null
check "agentstream reads python's events" 50 "$(wc -l <"$tmp/frompy.jsonl")"

finish 0
