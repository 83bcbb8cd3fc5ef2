#include <agentstream/broker/embedded_broker.h>

// clang-format off
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
// clang-format on

#include <fmt/format.h>

#include "internal/kafka_handle.h"
#include "internal/log.h"

namespace agentstream::broker {

using namespace kafka::detail;

struct EmbeddedBroker::Impl {
    UniqueHandle owner;  // a handle used only to own the cluster
    rd_kafka_mock_cluster_t* cluster = nullptr;
    std::string bootstrap;
    int brokers = 1;
};

EmbeddedBroker::EmbeddedBroker(EmbeddedBrokerOptions options) : _impl(std::make_unique<Impl>()) {
    if (options.brokers < 1 || options.brokers > 9) {
        throw kafka::KafkaError(fmt::format(
            "embedded broker: {} brokers requested; 1 to 9 are supported", options.brokers));
    }
    ConfBuilder conf;
    conf.set("log_level", "3");  // hides the handle's own "no bootstrap.servers" notice
    _impl->owner = make_handle(RD_KAFKA_PRODUCER, conf.release());
    _impl->cluster = rd_kafka_mock_cluster_new(_impl->owner.get(), options.brokers);
    if (_impl->cluster == nullptr) {
        throw kafka::KafkaError("embedded broker: cannot start the mock cluster");
    }
    _impl->bootstrap = rd_kafka_mock_cluster_bootstraps(_impl->cluster);
    _impl->brokers = options.brokers;
    logger("broker")->info("embedded broker ({} node(s)) listening on {}", options.brokers,
                           _impl->bootstrap);
}

EmbeddedBroker::~EmbeddedBroker() {
    if (_impl->cluster != nullptr) {
        rd_kafka_mock_cluster_destroy(_impl->cluster);
    }
}

const std::string& EmbeddedBroker::bootstrap_servers() const noexcept {
    return _impl->bootstrap;
}
int EmbeddedBroker::broker_count() const noexcept {
    return _impl->brokers;
}

bool EmbeddedBroker::create_topic(const std::string& name, int partitions, int replication_factor) {
    if (partitions < 1) {
        throw kafka::KafkaError(fmt::format("topic {}: partitions must be at least 1", name));
    }
    auto err = rd_kafka_mock_topic_create(_impl->cluster, name.c_str(), partitions,
                                          std::clamp(replication_factor, 1, _impl->brokers));
    if (err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
        return false;
    }
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        throw kafka::KafkaError(fmt::format("create topic {}: {}", name, rd_kafka_err2str(err)),
                                err);
    }
    return true;
}

void EmbeddedBroker::set_broker_down(int broker_id) {
    rd_kafka_mock_broker_set_down(_impl->cluster, broker_id);
}
void EmbeddedBroker::set_broker_up(int broker_id) {
    rd_kafka_mock_broker_set_up(_impl->cluster, broker_id);
}
void EmbeddedBroker::set_partition_leader(const std::string& topic, std::int32_t partition,
                                          int broker_id) {
    rd_kafka_mock_partition_set_leader(_impl->cluster, topic.c_str(), partition, broker_id);
}
void EmbeddedBroker::set_group_coordinator(const std::string& group, int broker_id) {
    rd_kafka_mock_coordinator_set(_impl->cluster, "group", group.c_str(), broker_id);
}
void EmbeddedBroker::set_round_trip(int broker_id, std::chrono::milliseconds rtt) {
    rd_kafka_mock_broker_set_rtt(_impl->cluster, broker_id, static_cast<int>(rtt.count()));
}
void EmbeddedBroker::push_request_errors(ApiKey api, const std::vector<int>& errors) {
    std::vector<rd_kafka_resp_err_t> errs;
    for (int e : errors) {
        errs.push_back(static_cast<rd_kafka_resp_err_t>(e));
    }
    rd_kafka_mock_push_request_errors_array(_impl->cluster, static_cast<std::int16_t>(api),
                                            errs.size(), errs.data());
}

void EmbeddedBroker::delay_requests(int broker_id, ApiKey api, int count,
                                    std::chrono::milliseconds delay) {
    for (int i = 0; i < count; ++i) {
        rd_kafka_mock_broker_push_request_error_rtts(
            _impl->cluster, broker_id, static_cast<std::int16_t>(api), 1,
            RD_KAFKA_RESP_ERR_NO_ERROR, static_cast<int>(delay.count()));
    }
}

kafka::Properties EmbeddedBroker::consumer_tuning() {
    return {{"session.timeout.ms", "6000"},
            {"heartbeat.interval.ms", "1000"},
            {"fetch.wait.max.ms", "10"}};
}

kafka::Properties EmbeddedBroker::producer_tuning() {
    return {{"linger.ms", "5"}, {"compression.codec", "lz4"}};
}

}  // namespace agentstream::broker
