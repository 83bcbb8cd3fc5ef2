#include "connection.h"

#include <agentstream/core/logging.h>
#include <agentstream/runtime/processor.h>

#include <fmt/format.h>

#include <atomic>
#include <csignal>
#include <cstdlib>

#include "cli_common.h"

namespace agentstream::cli {

KafkaArgs& kafka_args() {
    static KafkaArgs args;
    return args;
}

void add_kafka_options(CLI::App& app) {
    auto& args = kafka_args();
    app.add_option("-b,--brokers", args.brokers,
                   "Kafka bootstrap servers (host:port,...); default AGENTSTREAM_BROKERS, then "
                   "kafka.brokers in the pipeline file, else an embedded in-memory broker")
        ->type_name("HOST:PORT");
    app.add_option("-X", args.properties,
                   "librdkafka property KEY=VALUE for every client (repeatable)")
        ->type_name("KEY=VALUE");
}

void add_instance_option(CLI::App& command) {
    command
        .add_option("--instance-id", kafka_args().instance_id,
                    "Static group membership: the group.instance.id of this instance's "
                    "consumers. Restarted with the same id it gets its partitions back at once, "
                    "without waiting out its old session (45 s by default); each running "
                    "instance needs its own (docs/operations.md)")
        ->type_name("ID");
}

namespace {

kafka::Properties parse_x(const std::vector<std::string>& items) {
    kafka::Properties out;
    for (const auto& item : items) {
        auto eq = item.find('=');
        if (eq == std::string::npos || eq == 0) {
            throw UsageError(fmt::format("-X '{}' is not KEY=VALUE", item),
                             "Example: -X security.protocol=SASL_SSL");
        }
        out.emplace_back(item.substr(0, eq), item.substr(eq + 1));
    }
    return out;
}

kafka::Properties concat(kafka::Properties a, const kafka::Properties& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

}  // namespace

Connection Connection::open(const std::vector<TopicNeed>& needs, bool quiet) {
    const auto& cfg = pipeline_config();
    Connection c;
    const char* env = std::getenv("AGENTSTREAM_BROKERS");
    c._brokers = !kafka_args().brokers.empty()      ? kafka_args().brokers
                 : (env != nullptr && *env != '\0') ? std::string(env)
                                                    : cfg.string("kafka.brokers");
    c._common = concat(cfg.properties("kafka.properties"), parse_x(kafka_args().properties));
    c._producer = cfg.properties("kafka.producer");
    c._consumer = cfg.properties("kafka.consumer");
    if (!kafka_args().instance_id.empty()) {
        c._consumer.emplace_back("group.instance.id", kafka_args().instance_id);
    }
    if (!c._brokers.empty()) {
        // A standalone embedded broker (`agentstream broker`) needs the same client tuning as an
        // in-process one, or every rebalance waits out a 45 s session timeout.
        auto id = kafka::Admin(c.admin_options()).cluster_id(std::chrono::seconds(3));
        if (id && id->starts_with("mockCluster")) {
            c._producer = concat(broker::EmbeddedBroker::producer_tuning(), c._producer);
            c._consumer = concat(broker::EmbeddedBroker::consumer_tuning(), c._consumer);
        }
        return c;
    }
    auto default_partitions = static_cast<int>(cfg.integer("embedded.partitions"));
    c._embedded = std::make_shared<broker::EmbeddedBroker>(broker::EmbeddedBrokerOptions{
        .brokers = static_cast<int>(cfg.integer("embedded.brokers"))});
    c._brokers = c._embedded->bootstrap_servers();
    for (const auto& t : cfg.topics("topics")) {
        c._embedded->create_topic(t.name, t.partitions > 0 ? t.partitions : default_partitions,
                                  t.replication_factor);
    }
    for (const auto& t : needs) {
        c._embedded->create_topic(t.name, t.partitions > 0 ? t.partitions : default_partitions);
    }
    // Tuned for the mock: rebalances in seconds, prompt fetches, compressed batches.
    c._producer = concat(broker::EmbeddedBroker::producer_tuning(), c._producer);
    c._consumer = concat(broker::EmbeddedBroker::consumer_tuning(), c._consumer);
    if (!quiet) {
        logger("broker")->warn(
            "no --brokers given: using an embedded in-memory broker at {} (data is lost at exit; "
            "each partition keeps only its last 5 MiB)",
            c._brokers);
    }
    return c;
}

kafka::ProducerOptions Connection::producer_options() const {
    kafka::ProducerOptions o;
    o.brokers = _brokers;
    o.max_message_bytes = runtime::MAX_RECORD_BYTES;  // every event it accepts, with headers
    o.properties = concat(_common, _producer);
    return o;
}

kafka::ConsumerOptions Connection::consumer_options(const std::string& group) const {
    kafka::ConsumerOptions o;
    o.brokers = _brokers;
    o.group_id = group;
    o.properties = concat(_common, _consumer);
    return o;
}

kafka::ClientOptions Connection::admin_options() const {
    kafka::ClientOptions o;
    o.brokers = _brokers;
    o.properties = _common;
    return o;
}

namespace {
std::atomic<bool> g_stop{false};
extern "C" void on_signal(int) {
    g_stop.store(true);
}
}  // namespace

bool stop_requested() noexcept {
    return g_stop.load();
}

void install_stop_handlers() {
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
}

}  // namespace agentstream::cli
