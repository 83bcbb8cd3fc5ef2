#!/usr/bin/env bash
# The live dashboard in a real headless Chromium (tests/browser/dashboard.cjs): `agentstream run`
# with a token and a rule that fires on a dead letter, a steady trickle of events so the charts
# move, then an undecodable event carrying HTML. SCREENSHOT=PATH keeps a screenshot.
set -u
A=${AGENTSTREAM:?}
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../support/check.sh"
tmp=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill $p 2>/dev/null; wait $p 2>/dev/null; done; rm -rf "$tmp"' EXIT

$A broker --bootstrap-file "$tmp/bs" >"$tmp/broker.out" 2>"$tmp/broker.err" &
pids+=($!)
for _ in $(seq 1 50); do [ -s "$tmp/bs" ] && break; sleep 0.1; done
B=$(cat "$tmp/bs")
export AGENTSTREAM_BROKERS="$B"

cat >"$tmp/pipeline.yaml" <<'YAML'
topics: {in: 2, out: 2, alerts: 1}
http: {token: s3cret}
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
$A run --config "$tmp/pipeline.yaml" --http-port 0 --status-interval 0 >"$tmp/run.out" 2>"$tmp/run.err" &
pids+=($!)
for _ in $(seq 1 100); do grep -q "monitor API on" "$tmp/run.err" && break; sleep 0.1; done
URL=$(sed -n 's/.*monitor API on \(http:[^ ]*\).*/\1/p' "$tmp/run.err" | head -1)
check "the service runs" "http://127.0.0.1" "${URL%:*}"
[ -n "$URL" ] || { cat "$tmp/run.err"; finish; }

# A trickle of valid events (20 every half second) for the charts.
$A event new task.created --set task_id=t --set task_type=analysis >"$tmp/one.json"
(
    i=0
    while true; do
        awk -v base=$i '{ for (j = 0; j < 20; j++) { line = $0; n = base + j;
            sub(/"task_id":"t"/, "\"task_id\":\"t" n "\"", line);
            sub(/"event_id":"[^"]*"/, "\"event_id\":\"e" n "\"", line); print line } }' \
            "$tmp/one.json" | $A produce in -f - >/dev/null 2>&1
        i=$((i + 20))
        sleep 0.5
    done
) &
pids+=($!)

export BAD_EVENT_CMD="printf '%s\n' '{\"event_type\":\"<img src=x onerror=window.__xss=1>\",' | kcat -b $B -P -t in -k '<img src=x onerror=window.__xss=1>'"
if node "$here/../browser/dashboard.cjs" "$URL" s3cret "${SCREENSHOT:-}"; then
    echo "ok: the dashboard in headless Chromium"
else
    failures=$((failures + 1))
    echo "--- run.err"; tail -20 "$tmp/run.err"
fi
finish
