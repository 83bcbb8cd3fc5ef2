// How a command reaches Kafka: --brokers (or AGENTSTREAM_BROKERS, or kafka.brokers in the
// pipeline file), else an embedded broker started in this process.
#pragma once

#include <agentstream/broker/embedded_broker.h>
#include <agentstream/kafka/admin.h>
#include <agentstream/kafka/consumer.h>
#include <agentstream/kafka/producer.h>

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

/// A topic a command needs (created on the embedded broker before any client starts).
struct TopicNeed {
    std::string name;
    int partitions = 0;  // 0: the configured default
};

class Connection {
  public:
    /// Connects as the global options and the pipeline file say. When that means an embedded
    /// broker, starts it and creates the pipeline file's topics and `needs`, warning that data is
    /// in memory only.
    static Connection open(const std::vector<TopicNeed>& needs = {}, bool quiet = false);

    const std::string& brokers() const noexcept { return _brokers; }
    bool embedded() const noexcept { return _embedded != nullptr; }
    broker::EmbeddedBroker* embedded_broker() const noexcept { return _embedded.get(); }

    kafka::ProducerOptions producer_options() const;
    kafka::ConsumerOptions consumer_options(const std::string& group) const;
    kafka::ClientOptions admin_options() const;

  private:
    std::shared_ptr<broker::EmbeddedBroker> _embedded;
    std::string _brokers;
    kafka::Properties _common;
    kafka::Properties _producer;
    kafka::Properties _consumer;
};

/// Set by SIGINT/SIGTERM once install_stop_handlers() ran.
bool stop_requested() noexcept;
void install_stop_handlers();

}  // namespace agentstream::cli
