#!/usr/bin/env bash
# The domain processors in `agentstream run`: a task's lifecycle becomes metrics, the analytics
# processor aggregates them over windows, a document upload becomes an analysis task for the
# agents, the monitor lists every processor and its built-in gauges `active_tasks` and
# `agent_utilisation_percent` follow the task and agent trackers.
set -u
A=${AGENTSTREAM:?}
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../support/check.sh"

topics=(--topic tasks:2 --topic documents:2 --topic analytics:2 --topic metrics:2 --topic alerts:1
        --topic insights:1 --topic agents:1 --topic tasks.dlq:1 --topic analytics_processor-changelog:2 --topic out:1)
start_broker "${topics[@]}"

# An HTTP peer: an external agent (POST /agent) and a webhook receiver (POST /hook).
spawn "$tmp/peer" /usr/bin/python3 "$here/../support/http_peer.py" --port-file "$tmp/peer.port" \
    --log "$tmp/peer.log"
require 10 "the HTTP peer did not start" test -s "$tmp/peer.port"
PEER="http://127.0.0.1:$(cat "$tmp/peer.port")"

cat >"$tmp/pipeline.yaml" <<YAML
topics: {tasks: 2, documents: 2, analytics: 2, metrics: 2, alerts: 1, insights: 1, agents: 1, out: 1}
routes:
  - {name: tasks_out, source_topics: tasks, target_topics: out, event_types: ['task.completed']}
processors:
  tasks: {input: tasks}
  documents: {input: documents, tasks: tasks}
  agents: {input: agents, stats_window: 10s}
  analytics: {input: analytics, windows: [1m], out_of_orderness: 1s, idle_timeout: 1s}
agents:
  tasks: tasks
  events: agents
  results: {document: documents, quality: null, business_insight: insights}
  list:
    - {id: analyzer-1, type: document_analyzer}
    - {id: bi-1, type: business_intelligence}
    - {id: echo-1, type: command, capabilities: [echo], command: [/usr/bin/python3, $here/../support/agents/echo_agent.py]}
    - {id: web-1, type: http, capabilities: [web], url: '$PEER/agent'}
  max_retries: 2
  retry_backoff: 100ms
notifications:
  channels:
    - {name: hook, type: webhook, url: '$PEER/hook'}
alerts:
  rules:
    - {name: tasks_running, metric: active_tasks, condition: gt, threshold: 0, severity: low}
YAML
$A config check "$tmp/pipeline.yaml" >/dev/null
check "the processors section is checked" 0 $?
printf 'processors:\n  billing: {}\n' >"$tmp/bad.yaml"
$A config check "$tmp/bad.yaml" >"$tmp/bad.out" 2>&1
check "an unknown processor is refused" 2 $?
contains "with its line" "$tmp/bad.out" "bad.yaml:2:3: processors: unknown processor 'billing'"

start_run "$tmp/run" run --config "$tmp/pipeline.yaml" --http-port 0 --status-interval 0

# A task's lifecycle two minutes back in event time and a document upload; once its metrics
# are out, a later task whose metric closes their window.
now=$(date -u +%s)
ts() { date -u -d "@$(( now + $1 ))" +%Y-%m-%dT%H:%M:%S.000000Z; }
for step in "task.created -120" "task.started -118" "task.completed -110"; do
    set -- $step
    $A event new "$1" --set task_id=t1 --set task_type=analysis --set "timestamp=$(ts "$2")" \
        --set correlation_id=c-t1
done >"$tmp/tasks.jsonl"
$A produce tasks -f "$tmp/tasks.jsonl" >/dev/null 2>&1

for _ in $(seq 1 150); do
    kcat -b "$B" -C -t analytics -o beginning -e -q 2>/dev/null | grep -q 'task_execution_time_ms' && break
    sleep 0.1
done
kcat -b "$B" -C -t analytics -o beginning -e -q >"$tmp/analytics.jsonl" 2>/dev/null
contains "queue time from the events" "$tmp/analytics.jsonl" '"metric_name":"task_queue_time_ms","metric_value":2000'
contains "execution time from the events" "$tmp/analytics.jsonl" '"metric_name":"task_execution_time_ms","metric_value":8000'
contains "with the task's correlation id" "$tmp/analytics.jsonl" '"correlation_id":"c-t1"'

# Everything newer comes once the analytics processor has read t1's five metrics: a metric
# stamped "now" read first would put them behind its watermark (late, by design).
analytics_consumed() {
    curl -s "$URL/api/processors" | /usr/bin/python3 -c 'import json,sys
print(next((p["consumed"] for p in json.load(sys.stdin) if p["name"] == "analytics_processor"), 0))'
}
for _ in $(seq 1 300); do [ "$(analytics_consumed)" -ge 5 ] && break; sleep 0.2; done
check "the analytics processor read the task's metrics" yes \
    "$([ "$(analytics_consumed)" -ge 5 ] && echo yes || echo "no: $(analytics_consumed)")"

$A event new document.uploaded --set document_id=d1 --set document_type=pdf \
    --set file_path=/srv/in/q3.pdf | $A produce documents -f - >/dev/null 2>&1
for _ in $(seq 1 300); do
    kcat -b "$B" -C -t tasks -o beginning -e -q 2>/dev/null | grep -q '"task_id":"analyze-d1"' && break
    sleep 0.2
done
kcat -b "$B" -C -t tasks -o beginning -e -q >"$tmp/tasks-topic.jsonl" 2>/dev/null
contains "an upload becomes an analysis task" "$tmp/tasks-topic.jsonl" '"task_type":"document_analysis"'

# The agent service takes the tasks: the analysis of a file that is not there fails cleanly,
# an insight task completes with its result.
$A event new task.created --set task_id=bi-t1 --set task_type=business_insight \
    --set 'task_data={"metric":"revenue","values":[10,12,14,16,18,20,22,24]}' \
    | $A produce tasks -f - >/dev/null 2>&1
for _ in $(seq 1 150); do
    kcat -b "$B" -C -t tasks -o beginning -e -q 2>/dev/null | grep '"task_id":"bi-t1"' | grep -q 'task.completed' &&
        kcat -b "$B" -C -t tasks -o beginning -e -q 2>/dev/null | grep '"task_id":"analyze-d1"' | grep -q 'task.failed' && break
    sleep 0.2
done
kcat -b "$B" -C -t tasks -o beginning -e -q >"$tmp/tasks-topic.jsonl" 2>/dev/null
grep '"task_id":"bi-t1"' "$tmp/tasks-topic.jsonl" | grep 'task.completed' >"$tmp/bi-done.jsonl"
contains "an insight task completes on its agent" "$tmp/bi-done.jsonl" '"agent_id":"bi-1"'
contains "with its result" "$tmp/bi-done.jsonl" '"insight_type":"opportunity"'
grep '"task_id":"analyze-d1"' "$tmp/tasks-topic.jsonl" | grep 'task.failed' >"$tmp/doc-failed.jsonl"
contains "a missing document fails its task with the reason" "$tmp/doc-failed.jsonl" 'cannot read /srv/in/q3.pdf'
kcat -b "$B" -C -t insights -o beginning -e -q >"$tmp/insights.jsonl" 2>/dev/null
contains "the insight is published" "$tmp/insights.jsonl" '"event_type":"business.insight.generated"'
curl -s "$URL/api/agents" >"$tmp/agents.json"
contains "the monitor lists the agents" "$tmp/agents.json" '"id":"bi-1"'

# Agents declared in the file: a command agent and an HTTP agent (whose first answer is a 503,
# retried), each completing its task; the webhook channel gets the completions.
$A event new task.created --set task_id=cmd-t1 --set task_type=echo \
    --set 'task_data={"text":"three small words"}' | $A produce tasks -f - >/dev/null 2>&1
$A event new task.created --set task_id=web-t1 --set task_type=web \
    --set 'task_data={"text":"hello","status":503,"times":1}' | $A produce tasks -f - >/dev/null 2>&1
completed() { kcat -b "$B" -C -t tasks -o beginning -e -q 2>/dev/null | grep "\"task_id\":\"$1\"" | grep 'task.completed'; }
both_done() { completed cmd-t1 >/dev/null && completed web-t1 >/dev/null; }
wait_until 30 both_done
completed cmd-t1 >"$tmp/cmd-done.jsonl"
contains "a command agent from the file completes its task" "$tmp/cmd-done.jsonl" '"agent_id":"echo-1"'
contains "with what the command answered" "$tmp/cmd-done.jsonl" '"words":3'
completed web-t1 >"$tmp/web-done.jsonl"
contains "an HTTP agent from the file completes its task" "$tmp/web-done.jsonl" '"agent_id":"web-1"'
contains "after the 503 was retried" "$tmp/web-done.jsonl" '"attempt":2'
check "the agent was called twice" 2 "$(grep -c 'POST /agent' "$tmp/peer.log")"
hooked() { grep -q '^hook .*web-t1' "$tmp/peer.log"; }
wait_until 20 hooked
contains "the webhook channel delivers the completion" "$tmp/peer.log" 'hook '
check "it names the task" yes "$(hooked && echo yes || echo no)"

# Now t2: its metric moves the analytics processor's watermark past the minute of t1's metrics
# (metrics from other input partitions may come in any order; only their own order counts).
$A event new task.created --set task_id=t2 --set task_type=analysis --set "timestamp=$(ts 0)" \
    | $A produce tasks -f - >/dev/null 2>&1
for _ in $(seq 1 150); do
    kcat -b "$B" -C -t metrics -o beginning -e -q 2>/dev/null | grep -q 'task_execution_time_ms' && break
    sleep 0.1
done
kcat -b "$B" -C -t metrics -o beginning -e -q >"$tmp/metrics.jsonl" 2>/dev/null
contains "a window result of the task's metrics" "$tmp/metrics.jsonl" '"event_type":"analytics.report.generated"'
contains "for its service and metric" "$tmp/metrics.jsonl" '"metric_name":"task_execution_time_ms","metric_value":8000.0'
contains "percentiles exact for a single value" "$tmp/metrics.jsonl" '"p50":8000,'
$A event validate "$tmp/metrics.jsonl" >/dev/null 2>&1
check "window results are valid events" 0 $?

# Built-in gauges: t3 started and not ended is the one active task (t1 and the agents' tasks
# ended); agent a1 was busy 6 s of a 10 s window, which its next event closes. Its times are
# from now: the agent service's own agent events (stamped at its start) moved the agent
# processor's event time on, so anything older would be late.
now=$(date -u +%s)
$A event new task.started --set task_id=t3 --set task_type=analysis | $A produce tasks -f - >/dev/null 2>&1
agent_event() {
    $A event new "$1" --set agent_id=a1 --set agent_name=A1 --set agent_role=document_analyzer \
        --set status=working --set task_id="$2" --set "timestamp=$(ts "$3")"
}
{
    agent_event agent.task.started j1 -8
    agent_event agent.task.completed j1 -2
    agent_event agent.task.started j2 14
} | $A produce agents -f - >/dev/null 2>&1
metric_value() {
    curl -s "$URL/metrics" | sed -n "s/^$1 \(.*\)$/\1/p"
}
for _ in $(seq 1 100); do
    [ "$(metric_value active_tasks)" = "1" ] && [ -n "$(metric_value 'agent_utilisation_percent{agent="a1"}')" ] && break
    sleep 0.2
done
check "active_tasks counts tasks started and not ended" 1 "$(metric_value active_tasks)"
check "agent_utilisation_percent from the agent's closed window" 60 \
    "$(metric_value 'agent_utilisation_percent{agent="a1"}')"

# An alert that resolves on its own: tasks_running fires while t3 runs, and resolves once t3
# completes (the transitions are published on the alerts topic).
transitions() {  # transitions STATE: how many the alerts topic holds for tasks_running
    kcat -b "$B" -C -t alerts -o beginning -e -q 2>/dev/null | grep '"rule":"tasks_running"' |
        grep -c "\"state\":\"$1\""
}
firing_now() { [ "$(transitions firing)" -gt "$(transitions resolved)" ]; }
wait_until 20 firing_now
check "the alert fires while a task runs" yes "$(firing_now && echo yes || echo no)"
resolved_before=$(transitions resolved)
$A event new task.completed --set task_id=t3 --set task_type=analysis | $A produce tasks -f - >/dev/null 2>&1
resolved_since() { [ "$(transitions resolved)" -gt "$resolved_before" ]; }
wait_until 20 resolved_since
check "it resolves by itself once the task completes" yes "$(resolved_since && echo yes || echo no)"
check "active_tasks is back to 0" 0 "$(metric_value active_tasks)"

sleep 1.2
curl -s "$URL/api/processors" >"$tmp/processors.json"
for p in event_dispatcher task_processor document_processor agent_processor analytics_processor; do
    contains "the monitor lists $p" "$tmp/processors.json" "\"name\":\"$p\""
done

kill -INT $run_pid
wait $run_pid
check "run exits 0" 0 $?
finish 35
