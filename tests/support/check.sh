# Shared prelude and assertions for the shell tests (sourced after `A=...` and `here=...`).
#
# It makes a scratch directory ($tmp), kills every process started with `spawn` on exit, and
# counts checks. A test ends with `finish MIN`: it fails when any check failed, and also when
# fewer than MIN checks ran, so a test whose service never started, or that skipped a block,
# cannot end "all checks passed". `fatal` ends a test at once (a service that did not start:
# nothing after it can mean anything) and counts as a failure.
checks=0
failures=0
tmp=$(mktemp -d)
pids=()
kill_signal=${kill_signal:-TERM}
_cleanup() {
    local p
    for p in "${pids[@]}"; do kill -"$kill_signal" "$p" 2>/dev/null; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
    [ -n "${cleanup_hook:-}" ] && eval "$cleanup_hook"
    rm -rf "$tmp"
}
trap _cleanup EXIT

check() {  # check NAME EXPECTED ACTUAL
    checks=$((checks + 1))
    if [ "$2" != "$3" ]; then
        echo "FAIL: $1: got '$3', expected '$2'"
        failures=$((failures + 1))
    else
        echo "ok: $1"
    fi
}
contains() {  # contains NAME FILE TEXT
    checks=$((checks + 1))
    if grep -qF -- "$3" "$2"; then
        echo "ok: $1"
    else
        echo "FAIL: $1: '$3' not in:"
        sed 's/^/    /' "$2" | head -20
        failures=$((failures + 1))
    fi
}
lacks() {  # lacks NAME FILE TEXT: the file does not hold TEXT
    checks=$((checks + 1))
    if grep -qF -- "$3" "$2"; then
        echo "FAIL: $1: '$3' found in:"
        grep -F -- "$3" "$2" | head -5 | sed 's/^/    /'
        failures=$((failures + 1))
    else
        echo "ok: $1"
    fi
}
fatal() {  # fatal MESSAGE [LOG...]: ends the test as failed, showing the logs given
    local f
    echo "FATAL: $1"
    shift
    for f in "$@"; do
        echo "--- $f"
        tail -30 "$f" 2>/dev/null | sed 's/^/    /'
    done
    failures=$((failures + 1))
    echo "$checks check(s) ran, $failures failed"
    exit 1
}
wait_until() {  # wait_until SECONDS COMMAND...: 0 once COMMAND succeeds, 1 after SECONDS
    local deadline=$(($(date +%s%N) / 1000000 + ${1%.*} * 1000))
    shift
    until "$@" >/dev/null 2>&1; do
        [ $(($(date +%s%N) / 1000000)) -ge $deadline ] && return 1
        sleep 0.1
    done
}
require() {  # require SECONDS WHAT COMMAND...: as wait_until, but fatal (with WHAT) on time out
    local seconds=$1 what=$2
    shift 2
    wait_until "$seconds" "$@" || fatal "$what (waited ${seconds}s for: $*)" "${logs[@]}"
}
logs=()  # files `fatal` from `require` shows: each spawn's stderr is added
spawn() {  # spawn LOG COMMAND...: COMMAND in the background, stdout to LOG.out, stderr to LOG.err
    local log=$1
    shift
    "$@" >"$log.out" 2>"$log.err" &
    last_pid=$!
    pids+=("$last_pid")
    logs+=("$log.err")
}
start_broker() {  # start_broker [agentstream broker args...]: sets and exports B (the bootstrap)
    spawn "$tmp/broker" "$A" broker "$@" --bootstrap-file "$tmp/bs"
    broker_pid=$last_pid
    require 10 "the embedded broker did not start" test -s "$tmp/bs"
    B=$(cat "$tmp/bs")
    export AGENTSTREAM_BROKERS="$B"
}
use_brokers() {  # use_brokers [broker args...]: real Kafka when AGENTSTREAM_E2E_BROKERS is set
    # (sets e2e=1; `run` creates the topics there), else start_broker with the args (e2e empty)
    if [ -n "${AGENTSTREAM_E2E_BROKERS:-}" ]; then
        B=$AGENTSTREAM_E2E_BROKERS
        export AGENTSTREAM_BROKERS="$B"
        e2e=1
    else
        start_broker "$@"
        e2e=
    fi
}
start_run() {  # start_run LOG ARGS...: `agentstream ARGS...` until it prints its monitor address
    local log=$1
    shift
    spawn "$log" "$A" "$@"
    run_pid=$last_pid
    require ${start_timeout:-30} "'agentstream $*' did not print its monitor address" grep -q "monitor API on" "$log.err"
    URL=$(sed -n 's/.*monitor API on \(http:[^ ]*\).*/\1/p' "$log.err" | head -1)
}
figure() {  # figure WHAT VALUE: a reliability figure (collected by scripts/test.sh)
    echo "figure: $1: $2"
    [ -n "${AGENTSTREAM_FIGURES:-}" ] && printf '%s\t%s\n' "$1" "$2" >>"$AGENTSTREAM_FIGURES"
    return 0
}
finish() {  # finish MIN_CHECKS
    local min=${1:?finish needs the number of checks the test must run}
    if [ "$checks" -lt "$min" ]; then
        echo "FAIL: only $checks check(s) ran, expected at least $min"
        failures=$((failures + 1))
    fi
    if [ "$failures" -ne 0 ]; then
        echo "$failures check(s) failed of $checks"
        exit 1
    fi
    echo "all $checks checks passed"
}
