#include <agentstream/pipeline/connection.h>
#include <agentstream/runtime/processor.h>

#include "internal/log.h"

namespace agentstream::pipeline {
namespace {

kafka::Properties concat(kafka::Properties a, const kafka::Properties& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

}  // namespace

Connection Connection::open(const config::Config& cfg, const ConnectionOptions& options) {
    Connection c;
    c._brokers = !options.brokers.empty() ? options.brokers : cfg.string("kafka.brokers");
    c._common = concat(cfg.properties("kafka.properties"), options.properties);
    c._producer = cfg.properties("kafka.producer");
    c._consumer = cfg.properties("kafka.consumer");
    if (!options.instance_id.empty()) {
        c._consumer.emplace_back("group.instance.id", options.instance_id);
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
    for (const auto& t : options.needs) {
        c._embedded->create_topic(t.name, t.partitions > 0 ? t.partitions : default_partitions);
    }
    // Tuned for the mock: rebalances in seconds, prompt fetches, compressed batches.
    c._producer = concat(broker::EmbeddedBroker::producer_tuning(), c._producer);
    c._consumer = concat(broker::EmbeddedBroker::consumer_tuning(), c._consumer);
    if (!options.quiet) {
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

runtime::ProcessorOptions Connection::processor_options() const {
    runtime::ProcessorOptions o;
    o.client.brokers = _brokers;
    o.producer_properties = producer_options().properties;
    o.consumer_properties = consumer_options("").properties;
    o.producer = _shared_producer;
    return o;
}

void Connection::share_producer() {
    if (!_shared_producer) {
        auto o = producer_options();
        o.client_id = "agentstream-shared";
        _shared_producer = std::make_shared<kafka::Producer>(std::move(o));
    }
}

}  // namespace agentstream::pipeline
