#!/usr/bin/env bash
# A real Apache Kafka 4.x broker (KRaft) on loopback, from Maven Central jars, for the e2e tests
# and benchmarks; also for trying agentstream against real Kafka by hand.
#
#   scripts/kafka.sh start [--nodes 1|3] [--cpus LIST]
#                                          start and wait until ready; prints the bootstrap address;
#                                          --cpus runs the brokers on those CPUs only (taskset
#                                          list, e.g. 1), so a benchmark can keep its own core
#   scripts/kafka.sh stop                  stop and delete its data
#   scripts/kafka.sh status                is it running?
#
# Single node: clients on 127.0.0.1:19092; a second listener on 127.0.0.1:19094 advertises
# 127.0.0.1:19095, where tests put a fault-injecting TCP proxy. Three nodes: 127.0.0.1:19192,
# 19292, 19392. State lives in .cache/kafka-run (KAFKA_RUN_DIR overrides). Needs Java 17 and
# Maven (scripts/setup.sh installs them).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
version=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' scripts/kafka/pom.xml)
libs="$root/.cache/kafka-$version/libs"
run=${KAFKA_RUN_DIR:-$root/.cache/kafka-run}

fetch() {
    if [ -f "$libs/.complete" ]; then
        return
    fi
    echo "kafka: fetching Apache Kafka $version from Maven Central" >&2
    mkdir -p "$libs"
    mvn -q -B -f scripts/kafka/pom.xml dependency:copy-dependencies \
        -DoutputDirectory="$libs" -DincludeScope=runtime >&2
    touch "$libs/.complete"
}

java_run() {  # java_run MAIN ARGS...
    java -Xms256m -Xmx768m -XX:+UseG1GC -Djava.awt.headless=true \
        -Dlog4j2.configurationFile="$run/log4j2.properties" -cp "$libs/*" "$@"
}

write_config() {  # write_config NODE_ID CLIENT_PORT CONTROLLER_PORT VOTERS EXTRA_LISTENERS
    local id=$1 port=$2 cport=$3 voters=$4 nodes=$5
    local dir="$run/node$id"
    mkdir -p "$dir/data"
    local listeners="PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport"
    local advertised="PLAINTEXT://127.0.0.1:$port"
    local map="PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT"
    if [ "$nodes" -eq 1 ]; then
        listeners="$listeners,PROXIED://127.0.0.1:19094"
        advertised="$advertised,PROXIED://127.0.0.1:19095"
        map="$map,PROXIED:PLAINTEXT"
    fi
    local rf=$(( nodes < 3 ? 1 : 3 ))
    cat >"$dir/server.properties" <<CONF
process.roles=broker,controller
node.id=$id
controller.quorum.voters=$voters
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listeners=$listeners
advertised.listeners=$advertised
listener.security.protocol.map=$map
log.dirs=$dir/data
num.partitions=4
default.replication.factor=$rf
min.insync.replicas=$(( rf > 1 ? 2 : 1 ))
offsets.topic.replication.factor=$rf
offsets.topic.num.partitions=8
transaction.state.log.replication.factor=$rf
transaction.state.log.min.isr=$(( rf > 1 ? 2 : 1 ))
transaction.state.log.num.partitions=4
share.coordinator.state.topic.replication.factor=$rf
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
delete.topic.enable=true
log.segment.bytes=67108864
CONF
}

start() {
    # Any step that fails says where (status and stop report through their exit code instead).
    trap 'echo "kafka: failed (exit $?) at scripts/kafka.sh:$LINENO: $BASH_COMMAND" >&2' ERR
    local nodes=1 cpus=""
    while [ $# -gt 0 ]; do
        case $1 in
            --nodes) nodes=$2; shift 2 ;;
            --cpus) cpus=$2; shift 2 ;;
            *) echo "kafka: unknown option $1" >&2; exit 2 ;;
        esac
    done
    if [ "$nodes" != 1 ] && [ "$nodes" != 3 ]; then
        echo "kafka: --nodes must be 1 or 3" >&2
        exit 2
    fi
    local pin=()
    if [ -n "$cpus" ]; then
        if ! taskset -c "$cpus" true 2>/dev/null; then
            echo "kafka: --cpus $cpus is not a CPU list this machine can run on (e.g. 1 or 0,1)" >&2
            exit 2
        fi
        pin=(taskset -c "$cpus")
    fi
    if status >/dev/null 2>&1; then
        echo "kafka: already running ($(cat "$run/bootstrap")); scripts/kafka.sh stop first" >&2
        exit 1
    fi
    local port
    for port in $( [ "$nodes" -eq 1 ] && echo 19092 19093 19094 || echo 19192 19193 19292 19293 19392 19393); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "kafka: port $port is already in use (another Kafka?); stop it first" >&2
            exit 1
        fi
    done
    fetch
    rm -rf "$run"
    mkdir -p "$run"
    cat >"$run/log4j2.properties" <<CONF
status = warn
appender.file.type = File
appender.file.name = FILE
appender.file.fileName = \${sys:kafka.logs.dir:-$run}/server.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = FILE
logger.kafka.name = kafka
logger.kafka.level = WARN
logger.apache.name = org.apache.kafka
logger.apache.level = WARN
CONF
    local voters="" bootstrap=""
    local ids
    if [ "$nodes" -eq 1 ]; then ids=(1); else ids=(1 2 3); fi
    for id in "${ids[@]}"; do
        local base=$(( nodes == 1 ? 19092 : 19092 + 100 * id ))
        voters="${voters:+$voters,}$id@127.0.0.1:$((base + 1))"
        bootstrap="${bootstrap:+$bootstrap,}127.0.0.1:$base"
    done
    local cluster
    if ! cluster=$(java_run kafka.tools.StorageTool random-uuid 2>"$run/random-uuid.log" | tail -1) ||
        [ -z "$cluster" ]; then
        echo "kafka: could not make a cluster id:" >&2
        cat "$run/random-uuid.log" >&2
        exit 1
    fi
    for id in "${ids[@]}"; do
        local base=$(( nodes == 1 ? 19092 : 19092 + 100 * id ))
        write_config "$id" "$base" "$((base + 1))" "$voters" "$nodes"
        if ! java_run kafka.tools.StorageTool format -t "$cluster" \
            -c "$run/node$id/server.properties" --ignore-formatted >"$run/node$id/format.log" 2>&1; then
            echo "kafka: formatting node $id's storage failed:" >&2
            cat "$run/node$id/format.log" >&2
            exit 1
        fi
        # The node's command line, kept so that `start-node` can bring it back after a kill.
        printf '%q ' "${pin[@]}" java -Xms256m -Xmx768m -XX:+UseG1GC -Djava.awt.headless=true \
            -Dkafka.logs.dir="$run/node$id" -Dlog4j2.configurationFile="$run/log4j2.properties" \
            -cp "$libs/*" kafka.Kafka "$run/node$id/server.properties" >"$run/node$id/command"
        launch_node "$id"
    done
    echo "$bootstrap" >"$run/bootstrap"
    # Ready when every node answers metadata and lists all brokers.
    local deadline=$(( $(date +%s) + 120 ))
    while true; do
        local seen
        # kcat fails while no node listens yet: that is "not ready", not an error of this script.
        seen=$({ kcat -b "$bootstrap" -L -m 5 2>/dev/null || true; } | sed -n 's/^ *\([0-9]*\) brokers:.*/\1/p' | head -1)
        if [ "${seen:-0}" -ge "$nodes" ]; then
            break
        fi
        for id in "${ids[@]}"; do
            if ! kill -0 "$(cat "$run/node$id/pid")" 2>/dev/null; then
                echo "kafka: node $id exited; its log:" >&2
                tail -30 "$run/node$id/stdout.log" "$run/node$id/server.log" >&2 2>/dev/null || true
                exit 1
            fi
        done
        if [ "$(date +%s)" -ge "$deadline" ]; then
            echo "kafka: not ready after 120 s; see $run/node*/server.log" >&2
            exit 1
        fi
        sleep 0.5
    done
    echo "$bootstrap"
}

# Starts node ID from its recorded command line, fully detached from our stdout (so that
# `$(scripts/kafka.sh start)` returns).
launch_node() {
    local id=$1
    nohup bash -c "exec $(cat "$run/node$id/command")" >>"$run/node$id/stdout.log" 2>&1 </dev/null &
    echo $! >"$run/node$id/pid"
}

# start-node ID: brings back a node of the running cluster that was stopped or killed, and
# waits until the cluster lists every node again.
start_node() {
    local id=${1:?usage: scripts/kafka.sh start-node ID}
    [ -f "$run/node$id/command" ] || { echo "kafka: no node $id in $run" >&2; exit 2; }
    if kill -0 "$(cat "$run/node$id/pid")" 2>/dev/null; then
        echo "kafka: node $id is running" >&2
        exit 1
    fi
    launch_node "$id"
    local nodes deadline=$(( $(date +%s) + 120 ))
    nodes=$(ls -d "$run"/node* | wc -l)
    while true; do
        local seen
        seen=$({ kcat -b "$(cat "$run/bootstrap")" -L -m 5 2>/dev/null || true; } | sed -n 's/^ *\([0-9]*\) brokers:.*/\1/p' | head -1)
        [ "${seen:-0}" -ge "$nodes" ] && break
        if ! kill -0 "$(cat "$run/node$id/pid")" 2>/dev/null; then
            echo "kafka: node $id exited; its log:" >&2
            tail -30 "$run/node$id/stdout.log" >&2 2>/dev/null || true
            exit 1
        fi
        if [ "$(date +%s)" -ge "$deadline" ]; then
            echo "kafka: node $id not back after 120 s; see $run/node$id/server.log" >&2
            exit 1
        fi
        sleep 0.5
    done
    echo "kafka: node $id is back" >&2
}

stop() {
    if [ -d "$run" ]; then
        for pidfile in "$run"/node*/pid; do
            [ -f "$pidfile" ] || continue
            local pid
            pid=$(cat "$pidfile")
            kill "$pid" 2>/dev/null || true
        done
        for pidfile in "$run"/node*/pid; do
            [ -f "$pidfile" ] || continue
            local pid
            pid=$(cat "$pidfile")
            for _ in $(seq 1 100); do
                kill -0 "$pid" 2>/dev/null || break
                sleep 0.1
            done
            kill -9 "$pid" 2>/dev/null || true
        done
        rm -rf "$run"
    fi
    echo "kafka: stopped" >&2
}

status() {
    [ -f "$run/bootstrap" ] || { echo "kafka: not running"; return 1; }
    for pidfile in "$run"/node*/pid; do
        kill -0 "$(cat "$pidfile")" 2>/dev/null || { echo "kafka: a node is down"; return 1; }
    done
    echo "kafka: running at $(cat "$run/bootstrap")"
}

case ${1:-} in
    start) shift; start "$@" ;;
    start-node) shift; start_node "$@" ;;
    stop) stop ;;
    status) status ;;
    fetch) fetch ;;
    *) echo "usage: scripts/kafka.sh start [--nodes 1|3] [--cpus LIST] | start-node ID | stop | status | fetch" >&2; exit 2 ;;
esac
