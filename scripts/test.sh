#!/usr/bin/env bash
# Installs what is needed, builds, and runs the whole test suite:
#   1. formatting check (clang-format),
#   2. release build with warnings as errors; the libraries installed to a prefix and examples/
#      built against them and run; a configure without npm (-DAGENTSTREAM_HTTP=OFF); unit, cli
#      and integration tests (embedded broker),
#      then e2e tests against a real Apache Kafka 4.x broker started from Maven Central jars,
#      and failover on a 3-node cluster,
#   3. ASan + UBSan build: the unit tests, the service CLI tests and a 20 s demo under it;
#      ThreadSanitizer build: the runtime's, the orchestrator's and the services' tests under it,
#   4. libFuzzer targets (clang) for a bounded time each,
#   5. a smoke run of each benchmark binary (they must run and see every event; speed is judged
#      in docs/benchmarks.md).
# A failing build stops the run; failing tests are counted and the run goes on to the end, which
# prints one total line ("N passed, N failed") and exits non-zero if anything failed.
# Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
start=$(date +%s)
stage() { echo; echo "=== $* ($(( $(date +%s) - start ))s)"; }
passed=0
failed=0
failed_stages=()
logdir=$(mktemp -d)
# Tests record reliability figures here (tests/support/check.sh, figures.h); printed at the end.
export AGENTSTREAM_FIGURES=$logdir/figures
: >"$AGENTSTREAM_FIGURES"
kill_tree() {  # kill_tree PID: the process and everything it started
    local child
    for child in $(pgrep -P "$1" 2>/dev/null); do kill_tree "$child"; done
    kill "$1" 2>/dev/null || true
}
trap 'scripts/kafka.sh stop 2>/dev/null || true; [ -n "${sanitizer_builds:-}" ] && kill_tree "$sanitizer_builds"; rm -rf "$logdir"' EXIT

# tests NAME DIR CTEST-ARGS...: ctest in DIR; counts its tests; a stage that runs none fails.
# Sanitizer reports of any process the tests start (services in the background included) are
# written under $logdir/san; any such file fails the stage.
tests() {
    local name=$1 dir=$2
    shift 2
    local out="$logdir/$name.log" rc=0
    rm -rf "$logdir/san" && mkdir -p "$logdir/san"
    (cd "$dir" && ctest --output-on-failure --no-tests=error "$@") 2>&1 | tee "$out" || rc=$?
    local summary total bad
    summary=$(grep -E '^[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$out" | tail -1 || true)
    if [ -n "$summary" ]; then
        total=$(sed -E 's/.* out of ([0-9]+).*/\1/' <<<"$summary")
        bad=$(sed -E 's/.*passed, ([0-9]+) tests? failed.*/\1/' <<<"$summary")
    else
        total=0 bad=1
    fi
    passed=$((passed + total - bad))
    failed=$((failed + bad))
    if ls "$logdir"/san/* >/dev/null 2>&1; then
        echo "sanitizer reports from processes the tests started:"
        cat "$logdir"/san/*
        failed=$((failed + 1))
        rc=1
    fi
    if [ "$rc" -ne 0 ] || [ "$bad" -ne 0 ]; then
        failed_stages+=("$name")
    fi
    echo "--- $name: $((total - bad)) passed, $bad failed"
    printf 'stage %s: tests passed, failed\t%s, %s\n' "$name" "$((total - bad))" "$bad" >>"$AGENTSTREAM_FIGURES"
}
# expect NAME COMMAND...: one check run by this script itself.
expect() {
    local name=$1
    shift
    if "$@"; then
        passed=$((passed + 1))
    else
        echo "FAIL: $name" >&2
        failed=$((failed + 1))
        failed_stages+=("$name")
    fi
}
refuses() { ! "$@" >/dev/null 2>&1; }

stage "setup"
scripts/setup.sh

stage "format check"
files=$(git ls-files '*.h' '*.cc' 2>/dev/null || find include src apps tests bench fuzz -name '*.h' -o -name '*.cc')
# shellcheck disable=SC2086
clang-format --dry-run --Werror $files

stage "build (RelWithDebInfo, -Werror)"
scripts/build.sh build

# The sanitizer trees build in the background, at the lowest CPU priority, while the main
# build's tests run (they wait on brokers and timers far more than they compute): the ASan +
# UBSan tree (clang: libFuzzer needs it, and one tree then serves the sanitizer tests and the
# fuzz targets; scripts/fuzz.sh configures it the same way), then the ThreadSanitizer tree
# (the runtime is in the integration tests, the HTTP server in http_test, the monitor's own
# thread in monitor_test, the orchestrator's threads in agents_test, every service in the
# agentstream binary). A stage that needs one waits for it. Both build in batches of sources
# (CMAKE_UNITY_BUILD): instrumented code compiles in under half the time (the ASan + UBSan tree
# 1,590 -> 740 CPU-s, the TSan tree 890 -> about 500); the main tree batches its test programs
# only (tests/CMakeLists.txt) and builds the libraries and the CLI file by file, so a missing
# include there is still found. scripts/build.sh compiles through ccache when it is installed.
(
    CC=clang CXX=clang++ TARGETS="core_test config_test event_test runtime_unit_test router_test \
monitor_test http_test window_test processors_test agents_test notify_test agentstream $(sed -n \
's/^all=(\(.*\))$/\1/p' scripts/fuzz.sh)" nice -n 19 scripts/build.sh build-asan -DAGENTSTREAM_SANITIZE=ON \
        -DAGENTSTREAM_FUZZ=ON -DAGENTSTREAM_BUILD_BENCH=OFF -DCMAKE_UNITY_BUILD=ON >"$logdir/build-asan.log" 2>&1
    echo $? >"$logdir/build-asan.rc"
    TARGETS="integration_test runtime_unit_test agents_test http_test monitor_test agentstream" \
        nice -n 19 scripts/build.sh build-tsan -DAGENTSTREAM_TSAN=ON -DAGENTSTREAM_BUILD_BENCH=OFF \
        -DCMAKE_UNITY_BUILD=ON \
        >"$logdir/build-tsan.log" 2>&1
    echo $? >"$logdir/build-tsan.rc"
) &
sanitizer_builds=$!
build_started=$(date +%s)
wait_build() {  # wait_build asan|tsan: until that tree is built; its failure stops the run
    while [ ! -e "$logdir/build-$1.rc" ]; do sleep 1; done
    echo "build-$1 ready $(( $(date +%s) - build_started ))s after the main build"
    if [ "$(cat "$logdir/build-$1.rc")" != 0 ]; then
        tail -40 "$logdir/build-$1.log"
        echo "the $1 build failed" >&2
        exit 1
    fi
}

stage "install, and the examples built against the installed package"
# What a C++ project that uses agentstream does: install to a prefix, find_package() it from a
# tree of its own (examples/, outside this build), build, run. Each example runs on an embedded
# broker and fails when what it shows did not happen.
prefix=$logdir/prefix
expect "cmake --install to a prefix" cmake --install build --prefix "$prefix"
rm -rf build-examples
if cmake -S examples -B build-examples -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_CXX_FLAGS=-Werror >"$logdir/examples.log" 2>&1 &&
    cmake --build build-examples -j2 >>"$logdir/examples.log" 2>&1; then
    tests examples build-examples -j2 --timeout 120
else
    tail -40 "$logdir/examples.log"
    expect "the examples build against the installed package" false
fi
# The libraries below http configure without the dashboard's npm packages (a tree as git has
# it, without web/node_modules).
bare=$logdir/bare-tree
mkdir -p "$bare"
git ls-files -z | xargs -0 cp --parents -t "$bare"
expect "the libraries configure without npm (-DAGENTSTREAM_HTTP=OFF)" \
    cmake -S "$bare" -B "$bare/build" -G Ninja -DAGENTSTREAM_HTTP=OFF -DAGENTSTREAM_BUILD_BENCH=OFF \
    -DAGENTSTREAM_BUILD_TESTS=OFF
http_refused_without_npm() {
    ! cmake -S "$bare" -B "$bare/build-http" -G Ninja -DAGENTSTREAM_BUILD_BENCH=OFF \
        >"$logdir/bare-http.log" 2>&1 && grep -q 'run scripts/setup.sh' "$logdir/bare-http.log" &&
        grep -q 'DAGENTSTREAM_HTTP=OFF' "$logdir/bare-http.log"
}
expect "without npm, the http module is refused saying what to do" http_refused_without_npm

stage "unit, cli and integration tests"
tests main build -j2 --timeout 600 -L 'unit|cli|integration'

stage "real Apache Kafka"
export KAFKA_RUN_DIR=$PWD/.cache/kafka-run-test
scripts/kafka.sh stop 2>/dev/null || true
# A CPU list the machine does not have is refused before anything starts.
expect "scripts/kafka.sh refuses --cpus 4096" refuses scripts/kafka.sh start --cpus 4096
# A start that fails says why on stderr; it is tried once more (a JVM start on a loaded
# machine is not what these tests are about). --cpus with every CPU: the pinned start path,
# with nothing taken away.
all_cpus="0-$(( $(nproc) - 1 ))"
if ! AGENTSTREAM_E2E_BROKERS=$(scripts/kafka.sh start --cpus "$all_cpus" | tail -1); then
    echo "kafka did not start; trying once more" >&2
    scripts/kafka.sh stop 2>/dev/null || true
    AGENTSTREAM_E2E_BROKERS=$(scripts/kafka.sh start --cpus "$all_cpus" | tail -1)
fi
export AGENTSTREAM_E2E_BROKERS
echo "kafka at $AGENTSTREAM_E2E_BROKERS"

stage "e2e tests against real Kafka"
tests e2e build --timeout 600 -L e2e
scripts/kafka.sh stop
unset AGENTSTREAM_E2E_BROKERS

stage "failover on a 3-node Kafka cluster"
tests failover build --timeout 600 -L failover

# The services' CLI tests and the demo (DEMO_FULL: the full 20 s summary check on the embedded
# broker), run again in each sanitizer tree.
SERVICE_TESTS='^(integration\.(processors_service|monitor_service|router_cli|runtime_cli|embedded_broker_cli|reload_under_load|dlq_replay_reprocesses)|cli\.demo_interrupt)$'

stage "sanitizer builds (started in the background at the main build's end)"
wait_build asan

stage "tests under ASan + UBSan"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:log_path=$logdir/san/asan"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$logdir/san/ubsan"
tests asan-unit build-asan -j2 -L unit --timeout 600
DEMO_FULL=1 tests asan-services build-asan -j2 -R "$SERVICE_TESTS" --timeout 600
unset ASAN_OPTIONS UBSAN_OPTIONS

stage "ThreadSanitizer build (background)"
wait_build tsan

stage "tests under ThreadSanitizer"
export TSAN_OPTIONS="halt_on_error=1 suppressions=$root/tests/support/tsan.supp log_path=$logdir/san/tsan"
tests tsan build-tsan -j2 --timeout 600 \
    -R 'Runtime\.|Engine\.|Supervisor\.|Retry\.|OffsetTracker\.|Transport\.DeliveryCallbacks|Transport\.ASink|Router\.Replacing|Orchestrator\.|HttpServer\.|RealTimeMonitor\.|EventDispatcher\.'
DEMO_FULL=1 tests tsan-services build-tsan -j2 -R "$SERVICE_TESTS" --timeout 600
# The suppressions hide librdkafka's own accesses only: a race planted in a delivery callback
# (a test disabled everywhere else) must be reported.
tsan_sees_planted_race() {
    TSAN_OPTIONS="halt_on_error=1 suppressions=$root/tests/support/tsan.supp" \
        build-tsan/tests/integration_test --gtest_also_run_disabled_tests \
        --gtest_filter='Transport.DISABLED_RacyDeliveryCallbackIsReportedByTsan' \
        >"$logdir/planted.log" 2>&1
    grep -q 'WARNING: ThreadSanitizer: data race' "$logdir/planted.log" &&
        grep -q 'RacyDeliveryCallbackIsReportedByTsan' "$logdir/planted.log"
}
expect "ThreadSanitizer reports a race planted in a delivery callback" tsan_sees_planted_race
unset TSAN_OPTIONS

stage "fuzzing (libFuzzer, 10 s per target)"
expect "every fuzz target runs clean" scripts/fuzz.sh 10

stage "benchmark smoke run"
for b in build/bench/*_bench; do
    expect "$b runs" "$b" --benchmark_min_time=0.01 --benchmark_out_format=console >/dev/null 2>&1
done
# The load programs exit non-zero when any case missed events.
expect "kafka_load sees every event" build/bench/kafka_load --events 2000 --rounds 1
expect "processor_load sees every event" build/bench/processor_load --events 2000 --rounds 1 --cpus 0
expect "processor_load refuses --cpus 4096" refuses build/bench/processor_load --cpus 4096 --events 2000

stage "done"
echo "figures (docs/reliability.md):"
sed 's/\t/: /; s/^/  /' "$AGENTSTREAM_FIGURES"
if [ "$failed" -ne 0 ]; then
    echo "failed: ${failed_stages[*]}"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
