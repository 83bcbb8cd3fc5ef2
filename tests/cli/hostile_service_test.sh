#!/usr/bin/env bash
# What a hostile or careless user did to a running service (issue 18), on the embedded broker
# (the integration stage) or on real Kafka when AGENTSTREAM_E2E_BROKERS is set (the e2e stage):
#   - two `run`s and a `topics create` of the same topics started together (real Kafka: the
#     embedded broker has no admin API to race on): every one of them succeeds;
#   - a record whose key and value are not UTF-8: the monitor goes on ticking, the dashboard
#     shows the bytes escaped, `status` says the service is live.
set -u
A=${AGENTSTREAM:?}
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../support/check.sh"
r=hostile$$x$RANDOM
use_brokers --topic "$r-in:2" --topic "$r-out:2" --topic "$r-in.dlq:1"
code() { curl -s -o "$tmp/body" -w '%{http_code}' "$@"; }

pipeline() {  # pipeline PREFIX
    cat <<YAML
topics: {$1-in: 2, $1-out: 2, $1-docs: 3}
routing: {group_id: $1-router}
routes:
  - {name: tasks, source_topics: [$1-in], target_topics: [$1-out], event_types: ['task.*']}
YAML
}

if [ -n "$e2e" ]; then
    # 1. The startup race: before, one of the two exited 1 with "Topic '...' already exists"
    # (5 of 5 tries), and so did a `run` racing `topics create`.
    for round in 1 2; do
        p=$r-race$round
        pipeline "$p" >"$tmp/race$round.yaml"
        spawn "$tmp/race$round-a" "$A" run --config "$tmp/race$round.yaml" --http-port 0 --status-interval 0
        a=$last_pid
        spawn "$tmp/race$round-b" "$A" run --config "$tmp/race$round.yaml" --http-port 0 --status-interval 0
        b=$last_pid
        "$A" topics create "$p-docs" -p 3 >"$tmp/race$round-create.out" 2>&1
        check "round $round: topics create beside two starting runs exits 0" 0 $?
        for x in a b; do
            wait_until 60 grep -q "monitor API on" "$tmp/race$round-$x.err"
            check "round $round: run $x started" 0 $?
        done
        check "round $round: both runs still running" "yes yes" \
            "$(kill -0 "$a" 2>/dev/null && echo yes) $(kill -0 "$b" 2>/dev/null && echo yes)"
        cat "$tmp/race$round"-*.err "$tmp/race$round-create.out" >"$tmp/race$round.all"
        lacks "round $round: nobody failed on an existing topic" "$tmp/race$round.all" "already exists"
        kill "$a" "$b" 2>/dev/null
        wait "$a" "$b" 2>/dev/null
    done
    "$A" topics create "$r-race1-docs" -p 3 >"$tmp/again.out" 2>&1
    check "topics create of an existing topic exits 0" 0 $?
    contains "and says it exists" "$tmp/again.out" "exists already (3 partition(s)"
fi

# 2. A record that is not UTF-8, key and value (before: every monitor tick threw nlohmann's
# type_error.316, the snapshot froze and /healthz went 503 after 10 s).
pipeline "$r" >"$tmp/pipeline.yaml"
start_run "$tmp/run" run --config "$tmp/pipeline.yaml" --http-port 0 --status-interval 0
require 30 "the service did not get ready" sh -c "[ \$(curl -s -o /dev/null -w '%{http_code}' $URL/readyz) = 200 ]"
printf '\xc3\x28\xa0' | kcat -b "$B" -P -t "$r-in" -k "$(printf 'bad\xff\xfe')"
$A event new task.created --set task_id=t1 --set task_type=analysis | $A produce "$r-in" >/dev/null 2>&1
dashboard_has() { code "$URL/api/dashboard" >/dev/null && grep -qF -- "$1" "$tmp/body"; }
wait_until 30 dashboard_has '"outcome":"dead-lettered"'
check "the binary record was dead-lettered and is in the tail" 0 $?
contains "its value is shown escaped" "$tmp/body" '"preview":"\\xc3(\\xa0"'
contains "its key is shown escaped" "$tmp/body" '"key":"bad\\xff\\xfe"'
t1=$(sed -n 's/.*"timestamp":"\([^"]*\)".*/\1/p' "$tmp/body")
sleep 2.5
code "$URL/api/dashboard" >/dev/null
t2=$(sed -n 's/.*"timestamp":"\([^"]*\)".*/\1/p' "$tmp/body")
check "the monitor goes on ticking (a newer snapshot)" yes "$([ -n "$t1" ] && [ "$t2" \> "$t1" ] && echo yes)"
check "/healthz" 200 "$(code "$URL/healthz")"
check "/readyz" 200 "$(code "$URL/readyz")"
$A status --url "$URL" >"$tmp/status.out" 2>&1
check "status exits 0" 0 $?
contains "status reports the probes" "$tmp/status.out" "live: 200 ok"

# 12. HTTP: a GET body over the 64 KiB limit, framing, and an open address without a token.
head -c 70000 /dev/zero | tr '\0' x >"$tmp/body70k"
check "a GET with a 70 KB body: 413" 413 "$(code -X GET --data-binary @"$tmp/body70k" "$URL/healthz")"
curl -s -D "$tmp/headers" -o /dev/null "$URL/"
contains "the dashboard may not be framed" "$tmp/headers" "frame-ancestors 'none'"
# 8. Slow clients (slowloris): before, 24 connections sending a header line every 2 s took every
# worker and /healthz timed out for as long as they lasted (0 of 6 probes answered with 64).
if [ -z "$e2e" ]; then
    port=${URL##*:}
    python3 "$here/../support/slowloris.py" --port "$port" --connections 64 --interval 2 \
        --probe-for 6 --watch-for 20 >"$tmp/slow.out" 2>&1
    cat "$tmp/slow.out"
    check "64 slow clients all connected" "opened 64 refused 0" "$(sed -n 1p "$tmp/slow.out")"
    check "/healthz answered within 1 s every time beside them" yes \
        "$(awk '/^probes/ { print ($2 > 0 && $2 == $4) ? "yes" : "no" }' "$tmp/slow.out")"
    check "each slow request closed by the server (10 s deadline)" "64 of 64" \
        "$(awk '/^closed-by-server/ { print $2, $3, $4 }' "$tmp/slow.out")"
    check "/healthz after them" 200 "$(code "$URL/healthz")"
fi
{ pipeline "$r-open"; echo "http: {host: 0.0.0.0}"; } >"$tmp/open.yaml"
AGENTSTREAM_HTTP_TOKEN= timeout 30 "$A" run --config "$tmp/open.yaml" --http-port 0 >"$tmp/open.out" 2>&1
check "http.host 0.0.0.0 without a token: refused" 1 $?
contains "  and told what to set" "$tmp/open.out" "set http.token (or AGENTSTREAM_HTTP_TOKEN), or http.allow_unauthenticated: true"

finish $([ -n "$e2e" ] && echo 24 || echo 16)
