#!/usr/bin/env bash
# What a hostile or careless user gave the command line (issue 18): each is refused with what to
# do, or handled, and none is reported as success. No broker needed.
set -u
A=${AGENTSTREAM:?}
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../support/check.sh"
refused() {  # refused NAME EXPECTED-TEXT COMMAND...: exits non-zero and says EXPECTED-TEXT
    local name=$1 text=$2
    shift 2
    timeout 30 "$@" >"$tmp/out" 2>&1
    local rc=$?
    check "$name: refused (exit status)" yes "$([ $rc -ne 0 ] && [ $rc -ne 124 ] && echo yes)"
    contains "$name: says why" "$tmp/out" "$text"
}

# 6. A YAML alias bomb (nine levels of nine): before, `config check` ran 11 s and died with
# std::bad_alloc.
python3 - "$tmp/bomb.yaml" <<'PY'
import sys
lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
lines += [f'a{i}: &a{i} [' + ','.join([f'*a{i-1}'] * 9) + ']' for i in range(1, 10)]
open(sys.argv[1], 'w').write('topics: {a: 1, b: 1}\nx:\n' + '\n'.join('  ' + l for l in lines) +
    '\nroutes:\n  - {name: r, source_topics: [a], target_topics: [b],\n'
    '     transformations: [{add_field: {path: x, value: *a9}}]}\n')
PY
refused "alias bomb (config check)" "bomb.yaml:" "$A" config check "$tmp/bomb.yaml"
contains "alias bomb: the expansion is named" "$tmp/out" "expands to more than 1000000 nodes"
refused "alias bomb (routes check)" "expands to more than" "$A" routes check "$tmp/bomb.yaml"
python3 -c "print('a: ' + '[' * 200 + ']' * 200)" >"$tmp/deep.yaml"
refused "200 levels of nesting" "nested more than 64 levels" "$A" config check "$tmp/deep.yaml"

# 9. Routing loops and duplicate keys: before, both passed `routes check`.
cat >"$tmp/self.yaml" <<'YAML'
topics: {a: 1, b: 1}
routes:
  - {name: self, source_topics: [a], target_topics: [a]}
YAML
refused "a route into its own source" "self.yaml:3:1: route 'self': the routes make a loop: a -> (self) a" \
    "$A" routes check "$tmp/self.yaml"
cat >"$tmp/cycle.yaml" <<'YAML'
topics: {a: 1, b: 1, c: 1}
routing: {default_topic: a}
routes:
  - {name: there, source_topics: [a], target_topics: [b], event_types: [task.created]}
YAML
refused "a loop through the default topic" "a -> (default_topic) a" "$A" routes check "$tmp/cycle.yaml"
contains "  and says how to allow one" "$tmp/out" "or set routing.allow_cycles (with a hop limit, routing.max_hops)"
{ echo "routing: {allow_cycles: true, max_hops: 3}"; cat "$tmp/self.yaml"; } >"$tmp/allowed.yaml"
"$A" routes check "$tmp/allowed.yaml" >"$tmp/out" 2>&1
check "a deliberate cycle with a hop limit passes routes check" 0 $?
contains "  and the limit is shown" "$tmp/out" "an event is routed at most 3 time(s) (x-agentstream-hops)"
echo "routing: {allow_cycles: true, max_hops: 0}" >"$tmp/nohops.yaml"
refused "max_hops 0" "nohops.yaml:1:41: routing.max_hops: must be between 1 and 1000" "$A" routes check "$tmp/nohops.yaml"
cat >"$tmp/dup.yaml" <<'YAML'
topics: {a: 1, b: 1}
routes:
  - {name: r, name: s, source_topics: [a], target_topics: [b]}
YAML
refused "a duplicate key" "dup.yaml:3:15: duplicate key 'name'" "$A" routes check "$tmp/dup.yaml"
refused "routes check of a directory" "is a directory" "$A" routes check "$tmp"
python3 - "$tmp/many.yaml" <<'PY'
import sys
with open(sys.argv[1], 'w') as f:
    f.write('topics: {a: 1, b: 1}\nroutes:\n')
    for i in range(10001):
        f.write(f'  - {{name: r{i}, source_topics: [a], target_topics: [b]}}\n')
PY
refused "10,001 routes" "a pipeline file may have at most 10000" "$A" routes check "$tmp/many.yaml"

# 10. Durations that overflowed the clocks.
cat >"$tmp/alerts.yaml" <<'YAML'
alerts:
  rules:
    - {name: r, metric: dead_letters_total, condition: gt, threshold: 0, for: 2600000h}
YAML
refused "an alert held for 2600000h" "alerts.yaml:3:" "$A" config check "$tmp/alerts.yaml"
contains "  and the bound is named" "$tmp/out" "at most 87600h"
refused "demo --duration 2600000h" "at most 87600h" "$A" demo --duration 2600000h

# 12. Numbers out of range on the command line.
refused "demo --http-port -1" "--http-port" "$A" demo --http-port -1
refused "consume --max -1" "--max" "$A" consume t --max -1
refused "consume --timeout -1" "--timeout" "$A" consume t --timeout -1

# 11. Internal topics (checked before any broker is asked).
refused "topics delete __consumer_offsets" "Give --force" "$A" --brokers 127.0.0.1:1 topics delete __consumer_offsets
refused "topics grow __transaction_state" "internal topic" "$A" --brokers 127.0.0.1:1 topics grow __transaction_state -p 99

# 7. Unbounded lines, and a failed read reported as success.
$A event new task.created --set task_id=t --set task_type=a >"$tmp/one.json"
{ cat "$tmp/one.json" "$tmp/one.json" "$tmp/one.json"; head -c 3000000 /dev/zero | tr '\0' x; echo
  cat "$tmp/one.json" "$tmp/one.json"; } >"$tmp/mixed.jsonl"
$A event validate "$tmp/mixed.jsonl" >"$tmp/out" 2>&1
check "a 3 MB line among good ones: exit 1" 1 $?
contains "  every good line is read, the long one counted" "$tmp/out" "6 events: 5 valid, 1 invalid"
contains "  the long line is named" "$tmp/out" "line 4: 3000000 bytes, more than the 1048576"
(ulimit -v 600000; head -c 300000000 /dev/zero | "$A" event validate - >"$tmp/out" 2>&1)
check "300 MB of zero bytes under a 600 MB memory limit: exit 1" 1 $?
contains "  reported as one over-long line" "$tmp/out" "line 1: 300000000 bytes"
refused "a directory as input" "Is a directory" "$A" event validate "$tmp"

finish 44
