#!/usr/bin/env bash
# Dead letters replayed and processed again, as an operator would do it: a route whose
# transformation cannot apply dead-letters every event; the pipeline file is fixed (hot
# reload), `dlq replay` sends the dead letters back to their source topic, and the running
# router now delivers every one of them, once. On the embedded broker (the integration stage),
# or on real Kafka when AGENTSTREAM_E2E_BROKERS is set (the e2e stage).
set -u
A=${AGENTSTREAM:?}
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../support/check.sh"
r=dlq$$x$RANDOM
use_brokers --topic "$r-in:2" --topic "$r-out:2" --topic "$r-in.dlq:1"
N=40

pipeline() {  # pipeline PATH: the route's transformation writes under PATH
    cat <<YAML
topics: {$r-in: 2, $r-out: 2}
routing: {group_id: $r-router}
routes:
  - name: tag
    source_topics: [$r-in]
    target_topics: [$r-out]
    event_types: ['task.*']
    transformations: [{add_field: {path: $1, value: replayed-ok}}]
YAML
}
# task_id is a string: a field under it cannot be added, so every event is dead-lettered.
pipeline task_id.tag >"$tmp/pipeline.yaml"
start_run "$tmp/run" run --config "$tmp/pipeline.yaml" --http-port 0 --status-interval 0 \
    --watch-interval 0.2
$A event new task.created --set task_id=T --set task_type=analysis >"$tmp/one.json"
awk -v n=$N '{ for (i = 0; i < n; i++) { line = $0; sub(/"event_id":"[^"]*"/, "\"event_id\":\"e" i "\"", line);
    sub(/"task_id":"T"/, "\"task_id\":\"t" i "\"", line); print line } }' "$tmp/one.json" >"$tmp/events.jsonl"
$A produce "$r-in" -f "$tmp/events.jsonl" >/dev/null 2>&1
count() { kcat -b "$B" -C -t "$1" -o beginning -e -q 2>/dev/null | wc -l; }
all_dead() { [ "$(count "$r-in.dlq")" -ge $N ]; }
wait_until 60 all_dead
check "every event is dead-lettered by the broken transformation" $N "$(count "$r-in.dlq")"
check "nothing is delivered" 0 "$(count "$r-out")"
kcat -b "$B" -C -t "$r-in.dlq" -o beginning -e -q -f '%h\n' 2>/dev/null | head -1 >"$tmp/headers.txt"
contains "the dead letters say why" "$tmp/headers.txt" "x-agentstream-error-message="

# The fix: the file is edited (written whole, as editors do); the router reloads it.
pipeline tags.route >"$tmp/next.yaml"
mv "$tmp/next.yaml" "$tmp/pipeline.yaml"
reloaded() { grep -q "reloaded" "$tmp/run.err"; }
wait_until 20 reloaded
check "the fixed file is reloaded" yes "$(reloaded && echo yes || echo no)"

$A dlq replay "$r-in.dlq" >"$tmp/replay.out" 2>"$tmp/replay.err"
check "replay exits 0" 0 $?
contains "every dead letter goes back to its source topic" "$tmp/replay.err" "replayed $N dead letter(s): $N to $r-in"
all_out() { [ "$(count "$r-out")" -ge $N ]; }
wait_until 60 all_out
kcat -b "$B" -C -t "$r-out" -o beginning -e -q 2>/dev/null >"$tmp/out.jsonl"
check "every replayed event is processed and delivered" $N \
    "$(sed -E 's/.*"event_id":"([^"]*)".*/\1/' "$tmp/out.jsonl" | sort -u | wc -l)"
check "once each" $N "$(wc -l <"$tmp/out.jsonl")"
check "by the fixed route" $N "$(grep -c '"tags":{"route":"replayed-ok"}' "$tmp/out.jsonl")"
check "no new dead letters" $N "$(count "$r-in.dlq")"
kill -INT "$run_pid"
wait "$run_pid"
check "run exits 0" 0 $?
contains "the summary counts the replayed events" "$tmp/run.err" "lost 0"
finish 12
