#!/usr/bin/env bash
# The live dashboard in a real headless Chromium (tests/browser/dashboard.cjs): `agentstream run`
# with a token and a rule that fires on a dead letter, a steady trickle of events so the charts
# move, then an undecodable event carrying HTML. SCREENSHOT=PATH keeps a screenshot.
set -u
A=${AGENTSTREAM:?}
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../support/check.sh"

start_broker

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
start_run "$tmp/run" run --config "$tmp/pipeline.yaml" --http-port 0 --status-interval 0
check "the service runs" "http://127.0.0.1" "${URL%:*}"

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
# The browser script prints one "ok:" or "FAIL:" line per check; each counts here.
node "$here/../browser/dashboard.cjs" "$URL" s3cret "${SCREENSHOT:-}" | tee "$tmp/browser.out"
rc=${PIPESTATUS[0]}
checks=$((checks + $(grep -c '^ok: ' "$tmp/browser.out")))
failures=$((failures + $(grep -c '^FAIL' "$tmp/browser.out")))
check "the browser script exits 0" 0 "$rc"
[ "$rc" -eq 0 ] || { echo "--- run.err"; tail -20 "$tmp/run.err"; }
finish 15
