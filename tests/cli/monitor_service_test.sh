#!/usr/bin/env bash
# The monitor of `agentstream run`: its HTTP API (token, /healthz, /readyz, /metrics parsed by
# Prometheus's own Python parser, /api/...), measured counters, an alert rule that fires on a
# dead letter (published to the alerts topic), `agentstream status`, and bad requests.
set -u
A=${AGENTSTREAM:?}
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../support/check.sh"

start_broker

cat >"$tmp/pipeline.yaml" <<YAML
topics: {in: 2, out: 2, alerts: 1, notifications: 1}
http: {token: s3cret}
notifications:
  channels:
    - {name: ops, type: log}
    - {name: audit, type: file, path: $tmp/notices.jsonl}
    - {name: bus, type: kafka, topic: notifications, min_priority: high}
routes:
  - {name: tasks, source_topics: in, target_topics: out, event_types: ['task.*']}
alerts:
  rules:
    - name: dead_letters_seen
      metric: dead_letters_total
      condition: gt
      threshold: 0
      severity: high
      annotations: {summary: an event could not be routed}
YAML
start_run "$tmp/run" run --config "$tmp/pipeline.yaml" --http-port 0 --status-interval 0
check "the API listens on loopback" "http://127.0.0.1" "${URL%:*}"
code() { curl -s -o "$tmp/body" -w '%{http_code}' "$@"; }
AUTH=(-H "Authorization: Bearer s3cret")

check "/healthz needs no token" 200 "$(code "$URL/healthz")"
check "/metrics without the token: 401" 401 "$(code "$URL/metrics")"
check "a wrong token: 401" 401 "$(code -H "Authorization: Bearer nope" "$URL/api/dashboard")"
for _ in $(seq 1 100); do [ "$(code "$URL/readyz")" = 200 ] && break; sleep 0.1; done
check "/readyz" 200 "$(code "$URL/readyz")"

$A event new task.created --set task_id=t --set task_type=analysis >"$tmp/one.json"
awk '{ for (i = 0; i < 50; i++) { line = $0; sub(/"task_id":"t"/, "\"task_id\":\"t" i "\"", line);
       sub(/"event_id":"[^"]*"/, "\"event_id\":\"e" i "\"", line); print line } }' "$tmp/one.json" >"$tmp/tasks.jsonl"
$A produce in -f "$tmp/tasks.jsonl" >/dev/null 2>&1
printf '%s\n' '{"event_type":"task.created","broken' | kcat -b "$B" -P -t in -k bad
for _ in $(seq 1 150); do
    code "${AUTH[@]}" "$URL/api/alerts" >/dev/null
    grep -q '"state":"firing"' "$tmp/body" && break
    sleep 0.1
done
contains "the rule fired on the dead letter" "$tmp/body" '"rule":"dead_letters_seen"'
for _ in $(seq 1 150); do  # every event done (the monitor ticks once a second)
    code "${AUTH[@]}" "$URL/api/processors" >/dev/null
    grep -q '"consumed":51,.*"in_flight":0' "$tmp/body" 2>/dev/null && break
    sleep 0.1
done
sleep 1.2

check "/metrics with the token" 200 "$(code "${AUTH[@]}" "$URL/metrics")"
cp "$tmp/body" "$tmp/metrics.txt"
/usr/bin/python3 - "$tmp/metrics.txt" >"$tmp/parsed.txt" 2>&1 <<'PY'
import sys
from prometheus_client.parser import text_string_to_metric_families
samples = {}
for family in text_string_to_metric_families(open(sys.argv[1]).read()):
    for s in family.samples:
        key = s.name + "{" + ",".join(f'{k}="{v}"' for k, v in sorted(s.labels.items())) + "}"
        samples[key] = s.value
for k in sorted(samples):
    print(k, samples[k])
PY
check "Prometheus's parser reads it" 0 $?
contains "events by topic and type, measured" "$tmp/parsed.txt" 'events_total{topic="in",type="task.created"} 50.0'
contains "dead letters by topic" "$tmp/parsed.txt" 'dead_letters_total{topic="in.dlq"} 1.0'
contains "latency summary (dead letters included)" "$tmp/parsed.txt" 'processing_latency_ms_count{processor="event_dispatcher"} 51.0'
contains "process memory" "$tmp/parsed.txt" 'process_resident_bytes{}'
/usr/bin/python3 - "$tmp/parsed.txt" <<'PY'
import sys
v = {l.split(" ")[0]: float(l.split(" ")[1]) for l in open(sys.argv[1])}
sent, received = v["network_sent_bytes_total{}"], v["network_received_bytes_total{}"]
# 51 events of ~400 bytes were fetched, and 50 routed copies produced: librdkafka counted them.
assert received > 51 * 300 and sent > 50 * 300, (sent, received)
print(f"ok: network bytes from librdkafka statistics (sent {sent:.0f}, received {received:.0f})")
PY
check "network bytes are measured" 0 $?
contains "connection losses and resends from librdkafka's statistics" "$tmp/parsed.txt" 'kafka_disconnects_total{}'
lacks "the monitor's ticks raise no error" "$tmp/run.err" "] monitor: "

code "${AUTH[@]}" "$URL/api/dashboard" >/dev/null
/usr/bin/python3 - "$tmp/body" >"$tmp/dash.txt" 2>&1 <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for key in ["timestamp", "uptime_seconds", "component_health", "metrics", "alerts", "topics",
            "latency", "lag", "routes", "processors", "active_alerts"]:
    assert key in d, key
m = d["metrics"]
for key in ["events_per_second", "avg_latency_ms", "error_rate", "active_tasks"]:
    assert key in m, key
print("active", d["alerts"]["active_count"])
print("last", d["alerts"]["last_alert"]["rule"])
print("consumed", d["processors"][0]["consumed"])
print("route", d["routes"][0]["name"], d["routes"][0]["matched"])
print("kafka", d["component_health"]["kafka"]["status"])
PY
check "dashboard structure" 0 $?
contains "active alerts" "$tmp/dash.txt" "active 1"
contains "last alert" "$tmp/dash.txt" "last dead_letters_seen"
contains "processor counters" "$tmp/dash.txt" "consumed 51"
contains "route counters" "$tmp/dash.txt" "route tasks 50"
contains "component health" "$tmp/dash.txt" "kafka healthy"
code "${AUTH[@]}" "$URL/api/dashboard" >/dev/null
contains "the broker check is a metadata round trip" "$tmp/body" "broker(s), metadata round trip"

kcat -b "$B" -C -t alerts -o beginning -e -q >"$tmp/alerts.jsonl" 2>/dev/null
contains "the alert is an event on the alerts topic" "$tmp/alerts.jsonl" '"event_type":"system.alert"'
contains "with its rule and state" "$tmp/alerts.jsonl" '"rule":"dead_letters_seen","state":"firing","severity":"high"'
$A event validate "$tmp/alerts.jsonl" >/dev/null 2>&1
check "a valid catalogue event" 0 $?

# Notifications: the alert notice on the file and Kafka channels.
for _ in $(seq 1 50); do [ -s "$tmp/notices.jsonl" ] && break; sleep 0.1; done
contains "the alert is notified to the file channel" "$tmp/notices.jsonl" '"title":"dead_letters_seen firing"'
contains "as the original meant it" "$tmp/notices.jsonl" 'Alert: dead_letters_seen - dead_letters_total{topic=\"in.dlq\"} = 1 (threshold: gt 0)'
$A event validate "$tmp/notices.jsonl" >/dev/null 2>&1
check "notices are valid user.notification events" 0 $?
kcat -b "$B" -C -t notifications -o beginning -e -q >"$tmp/notices-topic.jsonl" 2>/dev/null
contains "and to the kafka channel" "$tmp/notices-topic.jsonl" '"title":"dead_letters_seen firing"'

$A status --url "$URL" --token s3cret >"$tmp/status.out" 2>&1
check "status exits 0" 0 $?
contains "status shows the alert" "$tmp/status.out" "alerts: 1 firing"
contains "status shows health" "$tmp/status.out" "kafka"
$A status --url "$URL" >"$tmp/status.out" 2>&1
check "status without the token: exit 2" 2 $?
contains "says what to add" "$tmp/status.out" "Give --token TOKEN"

# The dashboard page and its event stream.
check "the page needs no token (it holds no data)" 200 "$(code "$URL/")"
contains "it is the dashboard" "$tmp/body" "<title>agentstream</title>"
check "the chart library is served from the binary" 200 "$(code "$URL/assets/uPlot.min.js")"
contains "it is uPlot" "$tmp/body" "uPlot"
curl -s -D "$tmp/headers" -o /dev/null "$URL/assets/app.js"
contains "scripts are typed" "$tmp/headers" "Content-Type: text/javascript; charset=utf-8"
contains "a content security policy" "$tmp/headers" "Content-Security-Policy: default-src 'self'"
check "/events without the token: 401" 401 "$(code "$URL/events")"
check "/api/agents" 200 "$(code "${AUTH[@]}" "$URL/api/agents")"
check "no agents in a router service" "[]" "$(cat "$tmp/body")"
curl -s -N --max-time 3 "$URL/events?access_token=s3cret" >"$tmp/sse.txt"
contains "the stream starts with the chart history" "$tmp/sse.txt" "event: history"
contains "then a snapshot per tick" "$tmp/sse.txt" "event: snapshot"
contains "the past alert transitions" "$tmp/sse.txt" "event: alert"
contains "snapshots carry the tail of events" "$tmp/sse.txt" '"recent_events":[{'

# Bad requests get 4xx and the server stays up.
check "unknown path: 404" 404 "$(code "${AUTH[@]}" "$URL/nope")"
check "POST: 405" 405 "$(code "${AUTH[@]}" -X POST -d x "$URL/metrics")"
check "POST /events: 405" 405 "$(code "${AUTH[@]}" -X POST -d x "$URL/events")"
head -c 200000 /dev/zero >"$tmp/big"
check "oversized body: 413" 413 "$(code "${AUTH[@]}" -X POST --data-binary @"$tmp/big" "$URL/api/alerts")"
port=${URL##*:}
printf 'GARBAGE\r\n\r\n' | timeout 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port; cat >&3; cat <&3" >"$tmp/garbage.out" 2>&1
# A request line without a target: libmicrohttpd closes the connection without a reply (HTTP/1.1
# says a server SHOULD answer 400; cpp-httplib did). Never an answer other than 400.
check "a malformed request: 400 or closed" yes \
    "$( { [ ! -s "$tmp/garbage.out" ] || grep -q '^HTTP/1.1 400' "$tmp/garbage.out"; } && echo yes)"
check "still alive" 200 "$(code "$URL/healthz")"

# A reload changes the alert rules without a restart: the removed rule's alert resolves (and
# is notified), a new rule fires; a file with a bad channel is rejected and changes nothing.
sed -i 's/^    - name: dead_letters_seen$/    - name: events_seen/; s/^      metric: dead_letters_total$/      metric: events_total/' "$tmp/pipeline.yaml"
for _ in $(seq 1 100); do
    grep -q '"title":"events_seen firing"' "$tmp/notices.jsonl" 2>/dev/null && break
    sleep 0.1
done
contains "the removed rule's alert resolved" "$tmp/notices.jsonl" '"title":"dead_letters_seen resolved"'
contains "the new rule fired" "$tmp/notices.jsonl" '"title":"events_seen firing"'
contains "the reload is logged" "$tmp/run.err" "reloaded"
sed -i 's/{name: ops, type: log}/{name: ops, type: pager}/' "$tmp/pipeline.yaml"
for _ in $(seq 1 50); do grep -q "reload rejected" "$tmp/run.err" && break; sleep 0.1; done
contains "a bad channel is rejected with its line" "$tmp/run.err" "pipeline.yaml:5:25: type: expected log, file, webhook or kafka; got 'pager'"
check "and the service stays up" 200 "$(code "$URL/healthz")"

# The broker goes away: the metadata check notices, readiness fails, the service stays up.
kill -9 $broker_pid
for _ in $(seq 1 150); do [ "$(code "$URL/readyz")" = 503 ] && break; sleep 0.1; done
check "/readyz fails without a broker" 503 "$(code "$URL/readyz")"
for _ in $(seq 1 150); do  # the metadata check runs every 5 s, with a 3 s timeout
    code "$URL/readyz" >/dev/null
    grep -q "no metadata answer" "$tmp/body" && break
    sleep 0.1
done
contains "it says why" "$tmp/body" "kafka down (no metadata answer"
check "/healthz: the process is alive" 200 "$(code "$URL/healthz")"

kill -INT $run_pid
for _ in $(seq 1 600); do kill -0 $run_pid 2>/dev/null || break; sleep 0.1; done
check "run stops within a minute even without a broker" "gone" "$(kill -0 $run_pid 2>/dev/null && echo running || echo gone)"
finish 62
