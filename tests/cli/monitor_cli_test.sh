#!/usr/bin/env bash
# alerts check / alerts test: rules from a pipeline file evaluated over recorded series, as a
# user writes a rule unit test.
set -u
A=${AGENTSTREAM:?}
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../support/check.sh"

cat >"$tmp/rules.yaml" <<'YAML'
alerts:
  rules:
    - name: router_errors
      metric: error_rate_percent
      match: {component: router}
      condition: gt
      threshold: 5
      for: 1m
      severity: high
YAML
cat >"$tmp/series.jsonl" <<'JSONL'
{"time":"2026-11-27T10:00:00Z","metric":"error_rate_percent","labels":{"component":"router"},"value":1}
{"time":"2026-11-27T10:00:00Z","metric":"error_rate_percent","labels":{"component":"agents"},"value":1}
{"time":"2026-11-27T10:00:00Z","metric":"component_health","labels":{"component":"router"},"value":0}
{"time":"2026-11-27T10:01:00Z","metric":"error_rate_percent","labels":{"component":"router"},"value":9}
{"time":"2026-11-27T10:03:00Z","metric":"error_rate_percent","labels":{"component":"router"},"value":2}
{"time":"2026-11-27T10:04:00Z","metric":"component_health","labels":{"component":"router"},"value":3}
{"time":"2026-11-27T10:06:00Z","metric":"component_health","labels":{"component":"router"},"value":0}
JSONL

$A alerts check "$tmp/rules.yaml" >"$tmp/check.out" 2>&1
check "alerts check exits 0" 0 $?
contains "defaults and the file's rule" "$tmp/check.out" "ok: 5 alert rule(s)"

$A alerts test "$tmp/rules.yaml" "$tmp/series.jsonl" --step 10s >"$tmp/timeline.txt" 2>&1
check "alerts test exits 0" 0 $?
cat >"$tmp/expected.txt" <<'TXT'
2026-11-27T10:01:00.000000Z  high      pending   high_error_rate{component="router"}  value 9
2026-11-27T10:01:00.000000Z  high      pending   router_errors{component="router"}  value 9
2026-11-27T10:02:00.000000Z  high      firing    high_error_rate{component="router"}  value 9
2026-11-27T10:02:00.000000Z  high      firing    router_errors{component="router"}  value 9
2026-11-27T10:03:00.000000Z  high      resolved  high_error_rate{component="router"}  value 2
2026-11-27T10:03:00.000000Z  high      resolved  router_errors{component="router"}  value 2
2026-11-27T10:04:00.000000Z  critical  pending   component_down{component="router"}  value 3
2026-11-27T10:04:30.000000Z  critical  firing    component_down{component="router"}  value 3
2026-11-27T10:06:00.000000Z  critical  resolved  component_down{component="router"}  value 0
37 evaluation(s), 9 transition(s), 3 fired, 3 resolved; at the end: nothing active
TXT
check "the timeline" "" "$(diff "$tmp/expected.txt" "$tmp/timeline.txt")"
$A alerts test "$tmp/rules.yaml" "$tmp/series.jsonl" --json >"$tmp/timeline.jsonl" 2>&1
# Without --step the rules are evaluated only at the recorded times: at 10:03 the errors were
# gone before any evaluation saw them last a minute, so nothing fired.
check "json: one line per transition" 6 "$(wc -l <"$tmp/timeline.jsonl")"
contains "json fields" "$tmp/timeline.jsonl" '{"labels":{"component":"router"},"rule":"router_errors","severity":"high","since":"2026-11-27T10:01:00.000000Z","state":"cleared","time":"2026-11-27T10:03:00.000000Z","value":2.0}'

# Mistakes: a rule on an unknown metric is rejected at load with its line; bad series lines too.
printf 'alerts:\n  rules:\n    - {name: x, metric: events_per_second, threshold: 1}\n' >"$tmp/bad.yaml"
$A alerts check "$tmp/bad.yaml" >"$tmp/bad.out" 2>&1
check "unknown metric: exit 2" 2 $?
contains "with file and line" "$tmp/bad.out" "bad.yaml:3:25: alert rule 'x': unknown metric 'events_per_second'"
printf '{"time":"yesterday","metric":"active_tasks","value":1}\n' >"$tmp/bad.jsonl"
$A alerts test "$tmp/rules.yaml" "$tmp/bad.jsonl" >"$tmp/bad.out" 2>&1
check "bad series line: exit 2" 2 $?
contains "names the line" "$tmp/bad.out" "bad.jsonl:1: time: 'yesterday' is not RFC 3339"
finish 10
