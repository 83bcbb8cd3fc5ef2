#!/usr/bin/env bash
# Failover on a 3-node real Kafka cluster (scripts/kafka.sh start --nodes 3): a broker is killed
# while agentstream produces; every event must arrive exactly once (idempotent producer, acks=all,
# replication factor 3).
set -u
A=${AGENTSTREAM:?}
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../support/check.sh"
root=$(cd "$here/../.." && pwd)
export KAFKA_RUN_DIR="$tmp/kafka3"
cleanup_hook='"$root/scripts/kafka.sh" stop >/dev/null 2>&1'
# A cluster that does not come up is retried once (kafka.sh prints why it failed): what is tested
# here is agentstream under failover, not the JVM's start on a loaded machine.
B=$("$root/scripts/kafka.sh" start --nodes 3 | tail -1)
if [ -z "$B" ]; then
    echo "3-node cluster did not start; retrying once" >&2
    "$root/scripts/kafka.sh" stop >/dev/null 2>&1
    B=$("$root/scripts/kafka.sh" start --nodes 3 | tail -1)
fi
check "3-node cluster up" "127.0.0.1:19192,127.0.0.1:19292,127.0.0.1:19392" "$B"
[ -n "$B" ] || fatal "the 3-node cluster did not start"

N=40000
$A event new task.started --set task_id=T --set task_type=load >"$tmp/one.json"
awk -v n=$N '{ for (i = 0; i < n; i++) { line = $0; sub(/"event_id":"[^"]*"/, "\"event_id\":\"e-" i "\"", line); sub(/"task_id":"T"/, "\"task_id\":\"t-" (i % 200) "\"", line); print line } }' \
    "$tmp/one.json" >"$tmp/events.jsonl"
$A --brokers "$B" topics create failover -p 6 -r 3 >/dev/null
check "topic created" 0 $?
timeout 300 $A --brokers "$B" produce failover -f "$tmp/events.jsonl" >"$tmp/produce.out" 2>"$tmp/produce.err" &
producer=$!
sleep 1
kill -9 "$(cat "$KAFKA_RUN_DIR/node2/pid")"
wait $producer
check "produce exits 0 with a broker killed mid-way" 0 $?
contains "every event acknowledged" "$tmp/produce.out" "produced $N event(s) to failover"
timeout 180 $A --brokers "$B" consume failover --from-beginning --timeout 20 >"$tmp/consumed.jsonl" 2>"$tmp/consume.err"
check "consumed count" "$N" "$(wc -l <"$tmp/consumed.jsonl")"
check "no duplicates" 0 "$(sed -E 's/.*"event_id":"([^"]*)".*/\1/' "$tmp/consumed.jsonl" | sort | uniq -d | wc -l)"
finish 0
