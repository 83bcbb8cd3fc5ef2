#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/, clang with ASan + UBSan) and runs each one for a bounded
# time from its seed corpus in fuzz/corpus/<target>/. Fails on any crash, leak, sanitizer
# report or broken invariant; the input that failed is kept as build-asan/fuzz-crashes/<target>/...
# Prints one line per target: executions, seconds, corpus size, and a total.
#
#   scripts/fuzz.sh                  # every target, 10 s each (what scripts/test.sh runs)
#   scripts/fuzz.sh 600 json_doc_fuzz   # a longer run of one target
#   MERGE=1 scripts/fuzz.sh 300      # also merge new coverage back into fuzz/corpus/
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
shift || true
all=(event_codec_fuzz json_doc_fuzz route_loader_fuzz alert_rules_fuzz pipeline_fuzz http_request_fuzz)
if [ $# -gt 0 ]; then targets=("$@"); else targets=("${all[@]}"); fi
case "$seconds" in
    '' | *[!0-9]*) echo "fuzz.sh: SECONDS must be a whole number, e.g. scripts/fuzz.sh 10" >&2; exit 2 ;;
esac

# The same tree as the test command's ASan + UBSan stage (clang; the libraries instrumented for
# coverage too): after scripts/test.sh built it, this builds nothing.
build=${FUZZ_BUILD:-build-asan}
CC=clang CXX=clang++ TARGETS="${targets[*]}" scripts/build.sh "$build" -DAGENTSTREAM_SANITIZE=ON \
    -DAGENTSTREAM_FUZZ=ON -DAGENTSTREAM_BUILD_BENCH=OFF -DCMAKE_UNITY_BUILD=ON

status=0
total=0
for t in "${targets[@]}"; do
    seeds=fuzz/corpus/${t%_fuzz}
    [ -d "$seeds" ] || { echo "fuzz.sh: no corpus $seeds for $t" >&2; exit 2; }
    work=$build/fuzz-corpus/$t crashes=$build/fuzz-crashes/$t
    rm -rf "$work" && mkdir -p "$work" "$crashes"
    log=$build/fuzz-$t.log
    rc=0
    ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        "$build/fuzz/$t" "$work" "$seeds" -max_total_time="$seconds" -max_len=8192 \
        -timeout=10 -rss_limit_mb=4096 -print_final_stats=1 -artifact_prefix="$crashes/" \
        >"$log" 2>&1 || rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    took=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
    printf '%-20s %10s executions in %4s s, corpus %5s inputs%s\n' "$t" "${runs:-?}" "${took:-?}" \
        "$(find "$work" -type f | wc -l)" "$([ "$rc" -ne 0 ] && echo "  FAILED (exit $rc)")"
    total=$((total + ${runs:-0}))
    [ -n "${AGENTSTREAM_FIGURES:-}" ] && printf 'fuzzing %s for %s s: executions, crashes\t%s, %s\n' \
        "$t" "$seconds" "${runs:-?}" "$([ "$rc" -eq 0 ] && echo 0 || echo "1 (exit $rc)")" >>"$AGENTSTREAM_FIGURES"
    if [ "$rc" -ne 0 ]; then
        status=1
        grep -E 'ERROR|SUMMARY|fuzz:|runtime error|==[0-9]+==' "$log" | head -20 >&2
        ls "$crashes" >&2
    fi
    if [ -n "${MERGE:-}" ] && [ "$rc" -eq 0 ]; then
        "$build/fuzz/$t" -merge=1 "$seeds" "$work" >/dev/null 2>&1
    fi
done
echo "fuzzing: $total executions in all"
exit $status
