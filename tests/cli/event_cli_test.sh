#!/usr/bin/env bash
# The `agentstream event` commands, driven as a user would: exit codes, output, messages.
set -u
A=${AGENTSTREAM:?set AGENTSTREAM to the agentstream binary}
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../support/check.sh"

# The issue's two acceptance commands.
$A event new document.uploaded --set document_id=d1 --set document_name=a.pdf --set source=cli \
    | $A event validate - >"$tmp/out" 2>&1
check "new | validate exits 0" 0 $?

echo '{"event_type":"document.uploaded"}' | $A event validate - >"$tmp/out" 2>&1
check "incomplete event exits 1" 1 $?
for field in event_id timestamp source document_id; do
    contains "names missing $field" "$tmp/out" "line 1: $field: required field is missing"
done

# Output shape of `event new`.
$A event new task.created --set task_id=t1 --set task_type=document_analysis --set priority=high \
    --set retry_count=2 --set 'child_task_ids=["t2"]' --set metadata.tenant=acme >"$tmp/task" 2>&1
check "event new task" 0 $?
contains "priority written as a string" "$tmp/task" '"priority":"high"'
contains "integer field typed" "$tmp/task" '"retry_count":2'
contains "list field" "$tmp/task" '"child_task_ids":["t2"]'
contains "metadata key" "$tmp/task" '"metadata":{"tenant":"acme"}'
contains "default source" "$tmp/task" '"source":"agentstream-cli"'
grep -Eq '"timestamp":"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z"' "$tmp/task"
check "RFC 3339 timestamp with microseconds" 0 $?
grep -Eq '"event_id":"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"' "$tmp/task"
check "UUID v4 event id" 0 $?

# Usage errors exit 2 and say what to do.
$A event new document.deleted >"$tmp/out" 2>&1
check "unknown type exits 2" 2 $?
contains "unknown type named" "$tmp/out" "unknown event type 'document.deleted'"
contains "unknown type hint" "$tmp/out" "agentstream event types"
$A event new task.created --set task_id=t1 >"$tmp/out" 2>&1
check "missing required field exits 2" 2 $?
contains "missing field hint" "$tmp/out" "Add --set task_type=VALUE"
$A event new document.uploaded --set document_id=d1 --set colour=red >"$tmp/out" 2>&1
check "unknown field exits 2" 2 $?
contains "unknown field named" "$tmp/out" "document events have no field 'colour'"
$A event new quality.check.complete --set validation_id=v --set subject_type=document \
    --set subject_id=s --set quality_score=5 --set 'validation_criteria=[]' \
    --set 'passed_checks=[]' --set 'failed_checks=[]' >"$tmp/out" 2>&1
check "out-of-range score exits 2" 2 $?
contains "range named" "$tmp/out" "quality_score: must be between 0 and 1, got 5"
$A event validate "$tmp/does-not-exist" >"$tmp/out" 2>&1
check "missing file exits 2" 2 $?
contains "missing file named" "$tmp/out" "cannot open"
$A --log-level loud event types >"$tmp/out" 2>&1
check "bad log level exits 2" 2 $?
$A frobnicate >"$tmp/out" 2>&1
check "unknown command exits 2" 2 $?
$A --version >"$tmp/out" 2>&1
check "--version" 0 $?
contains "version printed" "$tmp/out" "agentstream "
contains "version names librdkafka" "$tmp/out" "(librdkafka 2."
$A event --help >"$tmp/out" 2>&1
check "--help" 0 $?

# A file with valid, invalid, blank and garbage lines: each bad line is reported by number.
{
    $A event new system.health --set component=kafka --set health_status=healthy
    echo
    echo '{"event_id":"x","event_type":"system.health","timestamp":"2026-11-27T08:00:00Z","source":"m","component":"db","health_status":"ok"}'
    printf 'not json at all\n'
    $A event new user.notification --set notification_type=info --set title=t --set message=m
} >"$tmp/mixed.jsonl"
$A event validate "$tmp/mixed.jsonl" >"$tmp/out" 2>"$tmp/err"
check "mixed file exits 1" 1 $?
contains "line 3 enum" "$tmp/out" "line 3: health_status: must be one of healthy, warning, critical, down; got 'ok'"
contains "line 4 malformed" "$tmp/out" "line 4: not valid JSON"
contains "summary" "$tmp/err" "4 events: 2 valid, 2 invalid"

# Every type can be created with just its required fields, and the result validates.
for type in $($A event types | awk 'NR > 1 {print $1}'); do
    case $type in
        document.*) args="--set document_id=d" ;;
        task.*) args="--set task_id=t --set task_type=x" ;;
        agent.*) args="--set agent_id=a --set agent_name=A --set agent_role=r --set status=idle" ;;
        analytics.*) args="--set metric_name=m --set metric_value=1 --set metric_type=counter --set service=s" ;;
        user.notification) args="--set notification_type=info --set title=t --set message=m" ;;
        quality.*) args="--set validation_id=v --set subject_type=document --set subject_id=s --set quality_score=1 --set validation_criteria=[] --set passed_checks=[] --set failed_checks=[]" ;;
        business.*) args="--set insight_id=i --set insight_type=trend --set confidence=0.5 --set title=t --set description=d --set key_findings=[] --set data_sources=[] --set business_impact=low --set generator_agent_id=g --set data_freshness=daily" ;;
        system.*) args="--set component=c --set health_status=healthy" ;;
    esac
    # shellcheck disable=SC2086
    $A event new "$type" $args >>"$tmp/all.jsonl" || { echo "FAIL: event new $type"; failures=$((failures + 1)); }
done
[ "$(wc -l <"$tmp/all.jsonl")" -eq 22 ]
check "22 event types created" 0 $?
$A event validate -q "$tmp/all.jsonl"
check "all 22 validate" 0 $?

# The pipeline file: a bad one fails at load with file:line:column; a good one passes.
printf 'logging:\n  level: info\n  formt: json\n' >"$tmp/bad.yaml"
$A --config "$tmp/bad.yaml" event types >"$tmp/out" 2>&1
check "bad config exits 2" 2 $?
contains "bad config located" "$tmp/out" "bad.yaml:3:3: unknown key 'logging.formt'"
printf 'logging:\n  level: warn\n  format: json\n' >"$tmp/good.yaml"
$A config check "$tmp/good.yaml" >"$tmp/out" 2>&1
check "good config passes check" 0 $?
$A --config "$tmp/good.yaml" event types >"$tmp/out" 2>&1
check "good config used" 0 $?

finish 41
