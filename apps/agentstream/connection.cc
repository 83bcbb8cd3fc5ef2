#include "connection.h"

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

}  // namespace

pipeline::ConnectionOptions connection_options(const std::vector<TopicNeed>& needs, bool quiet) {
    pipeline::ConnectionOptions o;
    const char* env = std::getenv("AGENTSTREAM_BROKERS");
    o.brokers = !kafka_args().brokers.empty()      ? kafka_args().brokers
                : (env != nullptr && *env != '\0') ? std::string(env)
                                                   : std::string();
    o.properties = parse_x(kafka_args().properties);
    o.instance_id = kafka_args().instance_id;
    o.needs = needs;
    o.quiet = quiet;
    return o;
}

Connection open_connection(const std::vector<TopicNeed>& needs, bool quiet) {
    return Connection::open(pipeline_config(), connection_options(needs, quiet));
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
