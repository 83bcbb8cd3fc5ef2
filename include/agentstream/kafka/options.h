// Options shared by agentstream's Kafka clients.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace agentstream::kafka {

/// librdkafka properties, applied in order after agentstream's own defaults, so that any
/// property (SASL, TLS, tuning) can be set or overridden.
using Properties = std::vector<std::pair<std::string, std::string>>;

/// Record headers, in order.
using Headers = std::vector<std::pair<std::string, std::string>>;

struct TopicPartition {
    std::string topic;
    std::int32_t partition = 0;
    bool operator==(const TopicPartition&) const = default;
    auto operator<=>(const TopicPartition&) const = default;
};

/// A Kafka client error: what failed and librdkafka's reason.
class KafkaError : public std::runtime_error {
  public:
    KafkaError(const std::string& message, int code = 0, bool retriable = false)
        : std::runtime_error(message), _code(code), _retriable(retriable) {}
    /// librdkafka's rd_kafka_resp_err_t value (0 when not from librdkafka).
    int code() const noexcept { return _code; }
    bool retriable() const noexcept { return _retriable; }

  private:
    int _code;
    bool _retriable;
};

/// Bytes this process's producers and consumers sent to and received from brokers, and the
/// connection losses and request resends librdkafka counted, from its statistics (refreshed
/// every second; monotonic).
struct NetworkTotals {
    std::uint64_t sent_bytes = 0;
    std::uint64_t received_bytes = 0;
    std::uint64_t disconnects = 0;      ///< broker connections lost (brokers.*.disconnects)
    std::uint64_t request_retries = 0;  ///< requests librdkafka sent again (brokers.*.txretries)
    /// Records put into produce requests (txmsgs): a record sent again after a lost connection
    /// counts again, so this minus the records acknowledged is what was resent.
    std::uint64_t records_transmitted = 0;
};
NetworkTotals network_totals() noexcept;

/// The librdkafka this process runs on, e.g. "2.0.2".
const char* librdkafka_version() noexcept;

struct ClientOptions {
    /// bootstrap.servers, e.g. `127.0.0.1:9092`.
    std::string brokers;
    std::string client_id = "agentstream";
    /// Applied last: any librdkafka property.
    Properties properties;
};

}  // namespace agentstream::kafka
