// The global Kafka options of the command line (--brokers, -X, --instance-id) and how a command
// reaches Kafka with them (pipeline::Connection).
#pragma once

#include <agentstream/pipeline/connection.h>

#include <CLI/CLI.hpp>

#include <memory>
#include <string>
#include <vector>

namespace agentstream::cli {

/// The global Kafka options: --brokers and -X.
struct KafkaArgs {
    std::string brokers;
    std::vector<std::string> properties;  // key=value
    std::string instance_id;              // group.instance.id of the service's consumers
};
KafkaArgs& kafka_args();
void add_kafka_options(CLI::App& app);
/// `--instance-id` on a service command (`run`, `process`): static group membership.
void add_instance_option(CLI::App& command);

using pipeline::Connection;
using pipeline::TopicNeed;

/// The connection the global options (--brokers, AGENTSTREAM_BROKERS, -X, --instance-id) and
/// the pipeline file ask for; a malformed -X is a UsageError.
pipeline::ConnectionOptions connection_options(const std::vector<TopicNeed>& needs = {},
                                               bool quiet = false);
/// Connection::open with connection_options().
Connection open_connection(const std::vector<TopicNeed>& needs = {}, bool quiet = false);

/// Set by SIGINT/SIGTERM once install_stop_handlers() ran.
bool stop_requested() noexcept;
void install_stop_handlers();

}  // namespace agentstream::cli
