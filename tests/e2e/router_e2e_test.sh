#!/usr/bin/env bash
# The router service on real Kafka: `run` creates the pipeline's topics through the admin API,
# routes a mixed stream with exact counts (exactly-once: read_committed sees each event once),
# and a reload that adds a source topic restarts the consumer without losing or repeating.
set -u
A=${AGENTSTREAM:?}
B=${AGENTSTREAM_E2E_BROKERS:?AGENTSTREAM_E2E_BROKERS is not set: run through scripts/test.sh}
here=$(cd "$(dirname "$0")" && pwd)
kill_signal=KILL  # the services here are killed, not stopped
source "$here/../support/check.sh"
r=r$$x$RANDOM
export AGENTSTREAM_BROKERS="$B"

cat >"$tmp/pipeline.yaml" <<EOF
topics:
  $r-in: 3
  $r-in2: 2
  $r-done: 2
  $r-failed: 2
  $r-rest: 1
routing:
  group_id: $r-router
  default_topic: $r-rest
routes:
  - name: completed
    source_topics: [$r-in]
    target_topics: [$r-done]
    event_types: [task.completed]
    transformations: [{add_field: {path: routed, value: true}}]
  - name: failed
    source_topics: [$r-in]
    target_topics: [$r-failed]
    event_types: [task.failed]
    filters: {task_type: {prefix: doc}}
EOF
$A event new task.completed --set task_id=T --set task_type=document_analysis >"$tmp/c.json"
$A event new task.failed --set task_id=T --set task_type=document_analysis --set error_message=x >"$tmp/f.json"
$A event new task.failed --set task_id=T --set task_type=report --set error_message=x >"$tmp/g.json"
gen() {  # gen FILE N PREFIX
    awk -v n="$2" -v p="$3" '{ for (i = 0; i < n; i++) { line = $0;
        sub(/"event_id":"[^"]*"/, "\"event_id\":\"" p i "\"", line);
        sub(/"task_id":"T"/, "\"task_id\":\"" p i "\"", line); print line } }' "$1"
}
{ gen "$tmp/c.json" 3000 c; gen "$tmp/f.json" 1000 f; gen "$tmp/g.json" 500 g; } >"$tmp/events.jsonl"

$A run --config "$tmp/pipeline.yaml" --exactly-once --http-port 0 --status-interval 0 --watch-interval 0.2 \
    >"$tmp/run.out" 2>"$tmp/run.err" &
run_pid=$!
pids+=($run_pid)
for _ in $(seq 1 300); do grep -q "assigned" "$tmp/run.err" && break; sleep 0.1; done
contains "run created the topics" "$tmp/run.err" "created topic $r-in (3 partitions, replication factor the broker's default)"
$A topics describe "$r-in" >"$tmp/describe.out" 2>&1
contains "with their partitions" "$tmp/describe.out" "topic $r-in: 3 partition(s), replication factor 1"
$A produce "$r-in" -f "$tmp/events.jsonl" >/dev/null
check "produced" 0 $?

count() {  # count TOPIC: committed records (read_committed, as exactly-once consumers read)
    kcat -b "$B" -C -t "$1" -o beginning -e -q -X isolation.level=read_committed 2>/dev/null | wc -l
}
wait_for() {
    for _ in $(seq 1 600); do [ "$(count "$1")" -ge "$2" ] && break; sleep 0.1; done
}
wait_for "$r-done" 3000
wait_for "$r-failed" 1000
wait_for "$r-rest" 500
sleep 2
check "completed tasks, once each (exactly-once)" 3000 "$(count "$r-done")"
check "transformed" 3000 "$(kcat -b "$B" -C -t "$r-done" -o beginning -e -q -X isolation.level=read_committed | grep -c '"routed":true')"
check "failed document tasks" 1000 "$(count "$r-failed")"
check "the rest to the default topic" 500 "$(count "$r-rest")"
check "no duplicate ids" 0 "$(kcat -b "$B" -C -t "$r-done" -o beginning -e -q -X isolation.level=read_committed | sed -E 's/.*"event_id":"([^"]*)".*/\1/' | sort | uniq -d | wc -l)"

# A reload that adds a source topic: the consumer drains, commits and rejoins with both.
cp "$tmp/pipeline.yaml" "$tmp/next.yaml"
cat >>"$tmp/next.yaml" <<EOF
  - name: second_source
    source_topics: [$r-in2]
    target_topics: [$r-done]
EOF
mv "$tmp/next.yaml" "$tmp/pipeline.yaml"
for _ in $(seq 1 300); do grep -q "reloaded" "$tmp/run.err" && break; sleep 0.1; done
contains "restarted for the new source" "$tmp/run.err" "source topics changed: restarting the consumer"
gen "$tmp/c.json" 200 n >"$tmp/more.jsonl"
$A produce "$r-in2" -f "$tmp/more.jsonl" >/dev/null
$A produce "$r-in" -f "$tmp/more.jsonl" >/dev/null
wait_for "$r-done" 3400
sleep 2
check "both sources routed, nothing repeated" 3400 "$(count "$r-done")"

kill -INT $run_pid
wait $run_pid
check "run exits 0" 0 $?
contains "summary" "$tmp/run.err" "reloads 1 (0 rejected), lost 0"
finish 0
