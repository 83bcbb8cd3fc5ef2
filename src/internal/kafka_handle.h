// Internal (src/internal: shared by modules, never installed, no API promise).
// librdkafka ownership and configuration helpers, private to the kafka and broker modules.
#pragma once

#include <librdkafka/rdkafka.h>

#include <agentstream/kafka/options.h>

#include <memory>
#include <string>
#include <string_view>

namespace agentstream::kafka::detail {

void forget_statistics(const rd_kafka_t* rk) noexcept;

struct HandleDeleter {
    void operator()(rd_kafka_t* rk) const noexcept {
        forget_statistics(rk);
        rd_kafka_destroy(rk);
    }
};
struct ConfDeleter {
    void operator()(rd_kafka_conf_t* c) const noexcept { rd_kafka_conf_destroy(c); }
};
struct TopicDeleter {
    void operator()(rd_kafka_topic_t* t) const noexcept { rd_kafka_topic_destroy(t); }
};
struct PartitionListDeleter {
    void operator()(rd_kafka_topic_partition_list_t* l) const noexcept {
        rd_kafka_topic_partition_list_destroy(l);
    }
};
struct QueueDeleter {
    void operator()(rd_kafka_queue_t* q) const noexcept { rd_kafka_queue_destroy(q); }
};
struct EventDeleter {
    void operator()(rd_kafka_event_t* e) const noexcept { rd_kafka_event_destroy(e); }
};
struct MessageDeleter {
    void operator()(rd_kafka_message_t* m) const noexcept { rd_kafka_message_destroy(m); }
};
struct ErrorDeleter {
    void operator()(rd_kafka_error_t* e) const noexcept { rd_kafka_error_destroy(e); }
};

using UniqueHandle = std::unique_ptr<rd_kafka_t, HandleDeleter>;
using UniqueConf = std::unique_ptr<rd_kafka_conf_t, ConfDeleter>;
using UniqueTopic = std::unique_ptr<rd_kafka_topic_t, TopicDeleter>;
using UniquePartitionList = std::unique_ptr<rd_kafka_topic_partition_list_t, PartitionListDeleter>;
using UniqueQueue = std::unique_ptr<rd_kafka_queue_t, QueueDeleter>;
using UniqueEvent = std::unique_ptr<rd_kafka_event_t, EventDeleter>;
using UniqueMessage = std::unique_ptr<rd_kafka_message_t, MessageDeleter>;
using UniqueError = std::unique_ptr<rd_kafka_error_t, ErrorDeleter>;

/// Builds a configuration: agentstream's defaults, then the caller's properties. Throws
/// KafkaError naming the property librdkafka rejected.
class ConfBuilder {
  public:
    ConfBuilder();
    ConfBuilder& set(std::string_view key, std::string_view value);
    ConfBuilder& set_all(const Properties& properties);
    /// Routes librdkafka's log lines into agentstream's `kafka` logger.
    ConfBuilder& route_logs();
    /// Statistics every second into the process's network totals (network_totals()); only for
    /// handles whose main queue is polled (producers, consumers), or the blobs pile up.
    ConfBuilder& statistics();
    /// What every client sets first: log routing, bootstrap.servers and client.id.
    ConfBuilder& client(const ClientOptions& options);
    rd_kafka_conf_t* get() const noexcept { return _conf.get(); }
    UniqueConf release() noexcept { return std::move(_conf); }

  private:
    UniqueConf _conf;
};

/// Creates a client handle, taking ownership of the configuration. Throws KafkaError.
UniqueHandle make_handle(rd_kafka_type_t type, UniqueConf conf);

UniquePartitionList make_list(const std::vector<TopicPartition>& partitions);
std::vector<TopicPartition> to_vector(const rd_kafka_topic_partition_list_t* list);

/// Errors worth sending again (transient broker or network conditions).
bool is_retriable(rd_kafka_resp_err_t err) noexcept;

}  // namespace agentstream::kafka::detail
