#!/usr/bin/env bash
# process, dlq list / replay and offsets show / reset, driven as users drive them, against a
# standalone embedded broker; kcat writes the records agentstream's own produce would refuse.
set -u
A=${AGENTSTREAM:?}
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../support/check.sh"
start_broker --topic in:2 --topic out:2 --topic in.dlq:1 --topic replayed:1

for i in $(seq 1 60); do $A event new task.completed --set task_id="t$i" --set task_type=load; done >"$tmp/tasks.jsonl"
for i in $(seq 1 40); do $A event new document.uploaded --set document_id="d$i"; done >"$tmp/docs.jsonl"
$A produce in -f "$tmp/tasks.jsonl" >/dev/null 2>&1
$A produce in -f "$tmp/docs.jsonl" >/dev/null 2>&1
printf '%s\n' 'not json at all' '{"event_type":"task.created"}' '{"event_type": "task.started", "broken' |
    kcat -b "$B" -P -t in -k bad
check "103 records in the input" 103 "$(kcat -b "$B" -C -t in -o beginning -e -q | wc -l)"

# A processor forwarding task events; documents are skipped; bad records go to in.dlq.
$A process in --to out --type 'task.*' --name tasks --until-idle 3 >"$tmp/p.out" 2>"$tmp/p.err"
check "process exits 1 when it dead-lettered something" 1 $?
contains "summary" "$tmp/p.err" "tasks: consumed 103, processed 60, skipped 40 (other types), dead-lettered 3"
check "task events in the output" 60 "$(kcat -b "$B" -C -t out -o beginning -e -q | wc -l)"
check "nothing but task events" 0 "$(kcat -b "$B" -C -t out -o beginning -e -q | grep -vc '"task.completed"')"

$A dlq list in.dlq >"$tmp/dlq.txt" 2>"$tmp/dlq.err"
check "dlq list exits 0" 0 $?
contains "table header" "$tmp/dlq.txt" "CLASS"
contains "undecodable listed" "$tmp/dlq.txt" "undecodable"
contains "invalid listed with its reason" "$tmp/dlq.txt" "task_id: required field is missing"
contains "source and processor" "$tmp/dlq.txt" "tasks"
contains "summary by class" "$tmp/dlq.err" "3 dead letter(s) in in.dlq: 1 invalid, 2 undecodable"
$A dlq list in.dlq --json >"$tmp/dlq.jsonl" 2>/dev/null
check "json lines" 3 "$(wc -l <"$tmp/dlq.jsonl")"
check "original bytes kept" 1 "$(grep -c '"value":"not json at all"' "$tmp/dlq.jsonl")"
$A dlq list in.dlq --where class=invalid --json 2>/dev/null >"$tmp/inv.jsonl"
check "--where filters" 1 "$(wc -l <"$tmp/inv.jsonl")"
$A dlq list in.dlq --where colour=red >/dev/null 2>"$tmp/err"
check "bad --where exits 2" 2 $?
contains "and says what is allowed" "$tmp/err" "KEY one of class"

# Replay the invalid one elsewhere, with provenance.
$A dlq replay in.dlq --to replayed --where class=invalid >/dev/null 2>"$tmp/r.err"
check "replay exits 0" 0 $?
contains "replay summary" "$tmp/r.err" "replayed 1 dead letter(s): 1 to replayed"
kcat -b "$B" -C -t replayed -o beginning -e -q -f '%h %s\n' >"$tmp/replayed.txt"
contains "provenance header" "$tmp/replayed.txt" "x-agentstream-replayed-from=in.dlq/0/"
contains "original value" "$tmp/replayed.txt" '{"event_type":"task.created"}'
check "no stale failure headers" 0 "$(grep -c 'x-agentstream-error-class' "$tmp/replayed.txt")"
$A dlq replay in.dlq --dry-run 2>"$tmp/dry.err" >/dev/null
contains "dry run back to the source topic" "$tmp/dry.err" "would replay 3 dead letter(s): 3 to in"

# Offsets: all committed, then rewound for re-processing.
$A offsets show --group agentstream-tasks >"$tmp/o.txt" 2>&1
check "offsets show exits 0" 0 $?
contains "total lag 0" "$tmp/o.txt" "$(printf '%-32s %9s %12s %12s %10s' total '' '' '' 0)"
$A offsets reset --group agentstream-tasks --topic in --to earliest >"$tmp/reset.txt" 2>&1
check "offsets reset exits 0" 0 $?
$A offsets show --group agentstream-tasks --topic in >"$tmp/o2.txt" 2>&1
contains "rewound: everything to do again" "$tmp/o2.txt" "$(printf '%-32s %9s %12s %12s %10s' total '' '' '' 103)"
$A offsets reset --group agentstream-tasks --topic in --to 5 >/dev/null 2>&1
$A offsets show --group agentstream-tasks --topic in >"$tmp/o3.txt" 2>&1
check "reset to an offset" 2 "$(grep -cE '^in +[01] +5 ' "$tmp/o3.txt")"
$A offsets reset --group agentstream-tasks --topic in --to 2999-01-01T00:00:00Z >/dev/null 2>&1
check "a time in the future is the end (also on the embedded broker)" 0 $?
$A offsets show --group agentstream-tasks --topic in >"$tmp/o5.txt" 2>&1
contains "nothing left after a future time" "$tmp/o5.txt" "$(printf '%-32s %9s %12s %12s %10s' total '' '' '' 0)"
$A offsets reset --group agentstream-tasks --topic in --to 2000-01-01T00:00:00Z >/dev/null 2>"$tmp/t.err"
check "reset to a time on the embedded broker exits 1" 1 $?
contains "and says why and what to do" "$tmp/t.err" "cannot look offsets up by time"
$A offsets reset --group agentstream-tasks --topic in --to yesterday >/dev/null 2>"$tmp/err"
check "bad --to exits 2" 2 $?
contains "and gives examples" "$tmp/err" "--to earliest, --to 1200"
$A process in --to in >/dev/null 2>"$tmp/err"
check "output = input refused" 2 $?
contains "with a reason" "$tmp/err" "processed again and again"
$A process in --to out --transaction-ms 500 >/dev/null 2>"$tmp/err"
check "transaction sizes without --exactly-once refused" 2 $?
contains "and says what to do" "$tmp/err" "Add --exactly-once"
finish 37
