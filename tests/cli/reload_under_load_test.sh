#!/usr/bin/env bash
# Hot reload under load: while events stream in, the pipeline file is rewritten three times (a
# route's transformation changes); every event is delivered once, the changes take effect
# mid-stream, nothing is dead-lettered or lost.
set -u
A=${AGENTSTREAM:?}
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../support/check.sh"
start_broker --topic in:4 --topic out:4 --topic in.dlq:1
pipeline() {  # pipeline VERSION
    cat <<YAML
topics: {in: 4, out: 4}
routes:
  - name: stamp
    source_topics: [in]
    target_topics: [out]
    event_types: ['task.*']
    transformations: [{add_field: {path: version, value: $1}}]
YAML
}
pipeline v1 >"$tmp/pipeline.yaml"
start_run "$tmp/run" run --config "$tmp/pipeline.yaml" --http-port 0 --status-interval 0 \
    --watch-interval 0.1
$A event new task.created --set task_id=T --set task_type=analysis >"$tmp/one.json"
# The load: slices of 250 events a tenth of a second apart, until the reloads are done and two
# more seconds have passed; the number sent is written at the end.
(
    i=0
    stop_at=""
    while true; do
        awk -v first=$i '{ for (j = first; j < first + 250; j++) { line = $0;
            sub(/"event_id":"[^"]*"/, "\"event_id\":\"e" j "\"", line);
            sub(/"task_id":"T"/, "\"task_id\":\"t" (j % 500) "\"", line); print line } }' "$tmp/one.json"
        i=$((i + 250))
        if [ -z "$stop_at" ] && [ -e "$tmp/reloads-done" ]; then stop_at=$((SECONDS + 2)); fi
        [ -n "$stop_at" ] && [ $SECONDS -ge "$stop_at" ] && break
        sleep 0.1
    done
    echo $i >"$tmp/sent"
) | $A produce in -f - >"$tmp/produce.out" 2>&1 &
producer=$!
count() { kcat -b "$B" -C -t "$1" -o beginning -e -q 2>/dev/null | wc -l; }
reloads() { grep -c "reloaded" "$tmp/run.err"; }
# Each version of the file routes events: before each rewrite, more have been delivered than at
# the last one.
delivered=0
for v in v2 v3 v4; do
    more() { [ "$(count out)" -gt $((delivered + 500)) ]; }
    wait_until 30 more
    delivered=$(count out)
    before=$(reloads)
    pipeline "$v" >"$tmp/next.yaml"
    mv "$tmp/next.yaml" "$tmp/pipeline.yaml"
    reloaded_again() { [ "$(reloads)" -gt "$before" ]; }
    wait_until 10 reloaded_again
done
touch "$tmp/reloads-done"
check "three reloads while the events came in" 3 "$(reloads)"
wait $producer
check "every event produced" 0 $?
N=$(cat "$tmp/sent")
all_out() { [ "$(count out)" -ge $N ]; }
wait_until 60 all_out
sleep 1  # a duplicate would arrive now
kcat -b "$B" -C -t out -o beginning -e -q 2>/dev/null >"$tmp/out.jsonl"
check "every event delivered" $N "$(sed -E 's/.*"event_id":"([^"]*)".*/\1/' "$tmp/out.jsonl" | sort -u | wc -l)"
check "once" $N "$(wc -l <"$tmp/out.jsonl")"
for v in v1 v2 v3 v4; do
    n=$(grep -c "\"version\":\"$v\"" "$tmp/out.jsonl")
    check "events routed with the file's version $v" yes "$([ "$n" -gt 0 ] && echo yes || echo "no: $n")"
done
# Each key's events keep their order across the reloads: versions never go back.
check "versions never go back within a key" 0 "$(/usr/bin/python3 -c '
import json, sys
last, back = {}, 0
for line in open(sys.argv[1]):
    e = json.loads(line)
    v = int(e["version"][1:])
    back += v < last.get(e["task_id"], 0)
    last[e["task_id"]] = v
print(back)' "$tmp/out.jsonl")"
check "nothing dead-lettered" 0 "$(count in.dlq)"
kill -INT "$run_pid"
wait "$run_pid"
check "run exits 0" 0 $?
contains "the summary counts the reloads" "$tmp/run.err" "reloads 3 (0 rejected), lost 0"
finish 12
