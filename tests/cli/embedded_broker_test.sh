#!/usr/bin/env bash
# `agentstream broker` as a standalone embedded broker, used by other processes: the CLI and kcat.
set -u
A=${AGENTSTREAM:?}
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../support/check.sh"
start_broker --topic docs:3
contains "prints the bootstrap address" "$tmp/broker.out" "127.0.0.1:"
contains "warns about memory" "$tmp/broker.err" "in memory only"
contains "states the retention" "$tmp/broker.err" "last 5 MiB"

for i in $(seq 1 30); do $A event new document.uploaded --set document_id="d$i"; done >"$tmp/ev.jsonl"
echo '{"event_type":"task.created"}' >>"$tmp/ev.jsonl"
$A --brokers "$B" produce docs -f "$tmp/ev.jsonl" >"$tmp/out" 2>"$tmp/err"
check "invalid line makes produce exit 1" 1 $?
contains "valid ones sent" "$tmp/out" "produced 30 event(s) to docs (1 invalid line(s) not sent, 0 failed)"
contains "invalid line named" "$tmp/err" "line 31: task_id: required field is missing"
check "kcat reads them" 30 "$(kcat -b "$B" -C -t docs -o beginning -e -q | wc -l)"
kcat -b "$B" -P -t docs -l <(head -5 "$tmp/ev.jsonl")
$A --brokers "$B" consume docs --from-beginning >"$tmp/c.jsonl" 2>/dev/null
check "consume reads all 35" 35 "$(wc -l <"$tmp/c.jsonl")"
AGENTSTREAM_BROKERS="$B" $A consume docs --from-beginning --group g --max 10 >"$tmp/g1" 2>/dev/null
check "group reads 10" 10 "$(wc -l <"$tmp/g1")"
AGENTSTREAM_BROKERS="$B" $A consume docs --group g --from-beginning >"$tmp/g2" 2>/dev/null
check "the group resumes after its commits: the other 25" 25 "$(wc -l <"$tmp/g2")"
$A --brokers "$B" topics list >"$tmp/topics"
contains "topics list" "$tmp/topics" "docs"
started=$SECONDS
$A --brokers "$B" topics create other >"$tmp/out" 2>&1
check "create on the embedded broker exits 1" 1 $?
contains "and says why" "$tmp/out" "embedded broker has no admin API"
# It knows at once (the cluster id), instead of waiting out the admin request's 30 s timeout.
check "and says so at once" yes "$([ $((SECONDS - started)) -lt 10 ] && echo yes || echo "no: $((SECONDS - started)) s")"
$A --brokers "$B" topics grow docs -p 6 >"$tmp/grow.out" 2>&1
check "grow on the embedded broker exits 1" 1 $?
contains "with the same reason" "$tmp/grow.out" "grow topic docs: the embedded broker has no admin API"
finish 16
