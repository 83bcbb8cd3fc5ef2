// How an application reaches Kafka: the brokers it was given (or the pipeline file's
// kafka.brokers), else an embedded broker started in this process; and the client options of
// its producers, consumers and admin clients, with the file's kafka.* properties applied.
#pragma once

#include <agentstream/broker/embedded_broker.h>
#include <agentstream/config/config.h>
#include <agentstream/kafka/admin.h>
#include <agentstream/kafka/consumer.h>
#include <agentstream/kafka/producer.h>
#include <agentstream/runtime/processor.h>

#include <memory>
#include <string>
#include <vector>

namespace agentstream::pipeline {

/// A topic an application needs (created on the embedded broker before any client starts).
struct TopicNeed {
    std::string name;
    int partitions = 0;  ///< 0: the configuration's embedded.partitions
};

struct ConnectionOptions {
    /// Bootstrap servers; empty: the configuration's kafka.brokers, and when that is empty too,
    /// an embedded broker.
    std::string brokers;
    /// librdkafka properties for every client, after the file's kafka.properties.
    kafka::Properties properties;
    /// group.instance.id of the consumers (static membership); empty: none.
    std::string instance_id;
    /// Topics to create on an embedded broker besides the file's.
    std::vector<TopicNeed> needs;
    /// No warning that an embedded broker keeps its data in memory only.
    bool quiet = false;
};

class Connection {
  public:
    /// Connects as `options` and `config` say. An embedded broker is started with the file's
    /// topics and `options.needs`; a standalone one (`agentstream broker`) is recognised and
    /// its clients get the same tuning.
    static Connection open(const config::Config& config, const ConnectionOptions& options = {});

    const std::string& brokers() const noexcept { return _brokers; }
    bool embedded() const noexcept { return _embedded != nullptr; }
    broker::EmbeddedBroker* embedded_broker() const noexcept { return _embedded.get(); }

    kafka::ProducerOptions producer_options() const;
    kafka::ConsumerOptions consumer_options(const std::string& group) const;
    kafka::ClientOptions admin_options() const;
    /// A processor's options with this connection's brokers and client properties, and the
    /// shared producer when there is one (clear ProcessorOptions::producer for exactly-once).
    runtime::ProcessorOptions processor_options() const;
    /// From here on this connection and its copies hand out one producer (made now, with
    /// producer_options()) to every processor and publisher made from them: one set of
    /// threads and one stream of produce requests for the whole application instead of one
    /// per part. The Application does this.
    void share_producer();
    /// The shared producer; null until share_producer().
    const std::shared_ptr<kafka::Producer>& shared_producer() const noexcept {
        return _shared_producer;
    }

  private:
    std::shared_ptr<broker::EmbeddedBroker> _embedded;
    std::string _brokers;
    kafka::Properties _common;
    kafka::Properties _producer;
    kafka::Properties _consumer;
    std::shared_ptr<kafka::Producer> _shared_producer;
};

}  // namespace agentstream::pipeline
