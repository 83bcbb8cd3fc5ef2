#!/usr/bin/env bash
# routes check / routes test (dry run, no broker) and `run` (the router as a service) with hot
# reload, driven as users drive them, against a standalone embedded broker.
set -u
A=${AGENTSTREAM:?}
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../support/check.sh"
root=$(cd "$here/../.." && pwd)

# n copies of one event, each with its own event id and entity id (FIELD=PREFIX<i>).
copies() {  # copies N FIELD PREFIX < event
    awk -v n="$1" -v f="$2" -v p="$3" '{ for (i = 0; i < n; i++) { line = $0;
        sub(/"event_id":"[^"]*"/, "\"event_id\":\"" p "-e" i "\"", line);
        sub("\"" f "\":\"[^\"]*\"", "\"" f "\":\"" p i "\"", line); print line } }'
}

# ---- routes check ----
$A routes check "$root/config/pipeline.yaml" >"$tmp/check.out" 2>&1
check "routes check passes the shipped pipeline" 0 $?
contains "six routes" "$tmp/check.out" "ok: 6 route(s), mode fanout"
contains "priority order" "$tmp/check.out" "agent_errors_to_alerts       priority  20"
$A config check "$root/config/pipeline.yaml" >/dev/null 2>&1
check "config check also checks routes" 0 $?

cat >"$tmp/bad.yaml" <<'EOF'
topics: {in: 1, out: 1}
routes:
  - name: r
    source_topics: [in]
    target_topics: [out]
    filters:
      metadata.priority: {in: [high], near: 3}
EOF
$A routes check "$tmp/bad.yaml" >"$tmp/bad.out" 2>&1
check "a bad operator exits 2" 2 $?
contains "file, line and what was expected" "$tmp/bad.out" \
    "bad.yaml:7:39: filters: unknown operator 'near' for 'metadata.priority'; expected one of eq"
$A config check "$tmp/bad.yaml" >/dev/null 2>&1
check "config check rejects it too" 2 $?
sed -i 's/near: 3/regex: "(unclosed"/' "$tmp/bad.yaml"
$A routes check "$tmp/bad.yaml" >"$tmp/bad.out" 2>&1
contains "a bad regex" "$tmp/bad.out" "bad.yaml:7:46: filters: 'metadata.priority': invalid regular expression"
printf 'topics: {in: 1}\nroutes:\n  - {name: r, source_topics: in, target_topics: nowhere}\n' >"$tmp/bad2.yaml"
$A routes check "$tmp/bad2.yaml" >"$tmp/bad2.out" 2>&1
contains "an undeclared topic" "$tmp/bad2.out" \
    "bad2.yaml:3:49: target_topics: topic 'nowhere' is not declared under 'topics'"

# ---- events of every kind the standard routes take ----
$A event new document.uploaded --set document_id=d | copies 30 document_id up >"$tmp/documents.jsonl"
$A event new document.processed --set document_id=d --set status=done |
    copies 20 document_id done >>"$tmp/documents.jsonl"
$A event new task.created --set task_id=t --set task_type=analysis | copies 40 task_id t >"$tmp/tasks.jsonl"
$A event new agent.error --set agent_id=a --set agent_name=n --set agent_role=r --set status=error |
    copies 10 agent_id err >"$tmp/agents.jsonl"
$A event new agent.status.changed --set agent_id=a --set agent_name=n --set agent_role=r \
    --set status=working | copies 15 agent_id busy >>"$tmp/agents.jsonl"
$A event new analytics.metric.update --set metric_name=error_rate --set metric_value=7.5 \
    --set metric_type=gauge --set service=api | sed 's/"priority":"medium"/"priority":"high"/' |
    copies 5 service hi >"$tmp/analytics.jsonl"
$A event new analytics.metric.update --set metric_name=error_rate --set metric_value=1 \
    --set metric_type=gauge --set service=api | copies 7 service lo >>"$tmp/analytics.jsonl"

# ---- routes test: a dry run, no broker ----
$A routes test "$root/config/pipeline.yaml" --topic documents --json <"$tmp/documents.jsonl" >"$tmp/t.jsonl"
check "routes test exits 0" 0 $?
check "one line per event" 50 "$(wc -l <"$tmp/t.jsonl")"
first=$(head -1 "$tmp/t.jsonl")
check "matched routes" '["document_to_processing","all_to_analytics"]' \
    "$(sed -E 's/.*"matched":(\[[^]]*\]).*/\1/' <<<"$first")"
check "deliveries, analytics once" "document_processing analytics metrics" \
    "$(grep -o '"topic":"[a-z_]*"' <<<"$first" | cut -d'"' -f4 | tr '\n' ' ' | sed 's/ $//')"
contains "routing metadata added" "$tmp/t.jsonl" '"_routing":{"route":"document_to_processing","dispatcher":"event_dispatcher","routed_at":"'
$A routes test "$root/config/pipeline.yaml" <"$tmp/documents.jsonl" >"$tmp/t.out" 2>&1
check "without --topic when several are read: exit 2" 2 $?
contains "says which to add" "$tmp/t.out" "Add --topic TOPIC"
printf '%s\n' '{"event_type":"task.created"}' | $A routes test "$root/config/pipeline.yaml" --topic tasks >"$tmp/t.out" 2>&1
check "an invalid event: exit 1" 1 $?
contains "says it would be dead-lettered" "$tmp/t.out" "invalid event (it would go to tasks.dlq)"
# A transformation that makes the event invalid is caught before it would be sent.
cat >"$tmp/breaks.yaml" <<'EOF'
topics: {tasks: 1, out: 1}
routes:
  - {name: strip, source_topics: tasks, target_topics: out, transformations: [{remove_field: task_id}]}
EOF
head -1 "$tmp/tasks.jsonl" | $A routes test "$tmp/breaks.yaml" >"$tmp/t.out" 2>&1
check "an invalidating transformation: exit 1" 1 $?
contains "names the route" "$tmp/t.out" "route 'strip' made an invalid event: task_id: required field is missing"

# ---- run: the standard pipeline as a service ----
start_broker
$A run 2>"$tmp/norun.err"
check "run without a pipeline file: exit 2" 2 $?
contains "says what to add" "$tmp/norun.err" "Add --config FILE"

# The standard routes alone: the file's domain processors would add events of their own (they
# are tested in processors_service_test.sh); the sections after the routes are cut, so a route
# appended below is still in the routes list.
sed '/^# The domain processors/,$d' "$root/config/pipeline.yaml" >"$tmp/pipeline.yaml"
# run=trace: the file watcher logs each look at the file (the SIGHUP check below counts them).
$A --log-level info,run=trace run --config "$tmp/pipeline.yaml" --http-port 0 --status-interval 0 --watch-interval 0.2 >"$tmp/run.out" 2>"$tmp/run.err" &
run_pid=$!
pids+=($run_pid)
for t in documents tasks agents analytics; do
    $A produce "$t" -f "$tmp/$t.jsonl" >/dev/null 2>>"$tmp/produce.err"
done
count() { kcat -b "$B" -C -t "$1" -o beginning -e -q 2>/dev/null | wc -l; }
wait_for() {  # wait_for TOPIC COUNT: until the topic holds COUNT records (20 s at most)
    for _ in $(seq 1 200); do [ "$(count "$1")" -ge "$2" ] && break; sleep 0.1; done
}
wait_for analytics 157
wait_for notifications 30
sleep 1  # anything extra would arrive now
check "document_processing" 50 "$(count document_processing)"
check "analytics: each event once (documents 50, tasks 40, agents 25, notifications 30, direct 12)" 157 "$(count analytics)"
check "metrics" 145 "$(count metrics)"
check "notifications: processed documents 20, agent errors 10" 30 "$(count notifications)"
check "alerts: agent errors 10, high-priority metrics 5" 15 "$(count alerts)"
check "agent_monitoring" 15 "$(count agent_monitoring)"
check "alerts carry their alert_type" 10 "$(kcat -b "$B" -C -t alerts -o beginning -e -q | grep -c '"alert_type":"agent_error"')"
check "agent errors raised to high priority" 10 "$(kcat -b "$B" -C -t alerts -o beginning -e -q | grep '"agent_error"' | grep -c '"priority":"high"')"
check "notifications carry notification_type" 20 "$(kcat -b "$B" -C -t notifications -o beginning -e -q | grep -c '"notification_type":"processing_complete"')"
check "keys kept (the entity)" 30 "$(kcat -b "$B" -C -t document_processing -o beginning -e -q -f '%k\n' | grep -c '^up')"

# A reload by editing the file (written whole, as editors do): tasks now also go to alerts.
cp "$tmp/pipeline.yaml" "$tmp/next.yaml"
cat >>"$tmp/next.yaml" <<'EOF'

  - name: tasks_to_alerts
    source_topics: [tasks]
    target_topics: [alerts]
    event_types: [task.*]
    filters:
      task_type: {eq: analysis}
    priority: 30
EOF
mv "$tmp/next.yaml" "$tmp/pipeline.yaml"
for _ in $(seq 1 100); do grep -q "reloaded" "$tmp/run.err" && break; sleep 0.1; done
contains "the edit is picked up" "$tmp/run.err" "reloaded $tmp/pipeline.yaml: 7 route(s)"
$A event new task.created --set task_id=t --set task_type=analysis | copies 8 task_id new >"$tmp/more.jsonl"
$A produce tasks -f "$tmp/more.jsonl" >/dev/null 2>&1
wait_for alerts 23
sleep 1
check "the new route delivers" 23 "$(count alerts)"
check "old routes still deliver, once" 48 "$(kcat -b "$B" -C -t metrics -o beginning -e -q | grep -c '"task.created"')"

# A half-valid file is rejected whole: the running routes stay.
cp "$tmp/pipeline.yaml" "$tmp/good.yaml"
sed 's/      task_type: {eq: analysis}/      task_type: {eq: analysis, regex: "(bad"}/' "$tmp/good.yaml" >"$tmp/next.yaml"
mv "$tmp/next.yaml" "$tmp/pipeline.yaml"
for _ in $(seq 1 100); do grep -q "reload rejected" "$tmp/run.err" && break; sleep 0.1; done
contains "the bad file is rejected with its line" "$tmp/run.err" "reload rejected, the running routes stay: $tmp/pipeline.yaml:"
$A produce tasks -f "$tmp/more.jsonl" >/dev/null 2>&1
wait_for alerts 31
sleep 1
check "the old routes still run" 31 "$(count alerts)"
# SIGHUP reloads too: the new file keeps the old modification time, so only the signal tells.
sed 's/    priority: 30/    priority: 30\n    enabled: false/' "$tmp/good.yaml" >"$tmp/next.yaml"
touch -r "$tmp/pipeline.yaml" "$tmp/next.yaml"
looks=$(grep -c "checked $tmp/pipeline.yaml: unchanged" "$tmp/run.err")
mv "$tmp/next.yaml" "$tmp/pipeline.yaml"
# The watcher has looked at the new file twice (so it could have reloaded) before the check.
looked_again() { [ "$(grep -c "checked $tmp/pipeline.yaml: unchanged" "$tmp/run.err")" -ge $((looks + 2)) ]; }
wait_until 10 looked_again
check "the watcher looked at the file since" yes "$(looked_again && echo yes || echo no)"
check "not seen without the signal" 1 "$(grep -c "reloaded" "$tmp/run.err")"
kill -HUP $run_pid
for _ in $(seq 1 100); do [ "$(grep -c "reloaded" "$tmp/run.err")" -ge 2 ] && break; sleep 0.1; done
$A produce tasks -f "$tmp/more.jsonl" >/dev/null 2>&1
wait_for metrics $((145 + 24))
sleep 1
check "a disabled route stops" 31 "$(count alerts)"

kill -INT $run_pid
wait $run_pid
check "run exits 0 on SIGINT" 0 $?
contains "summary" "$tmp/run.err" "agentstream: run: consumed"
contains "summary counts reloads" "$tmp/run.err" "reloads 2 (1 rejected), lost 0"
finish 43
