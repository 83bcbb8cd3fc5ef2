// The embedded broker: librdkafka's mock cluster, in this process, on 127.0.0.1.
//
// For demos, development and tests. Its limits (see docs/operations.md): in memory only (data
// is lost at exit); each partition keeps only its last 5 MiB or 100k batches (older records are
// dropped; consumers that fall behind count them as lost); no SASL/TLS; no admin API (topics
// are created here, before clients start); transactions are not faithful (no isolation, no
// offsets in transactions, no fencing); idempotent retries are not de-duplicated.
#pragma once

#include <agentstream/kafka/options.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace agentstream::broker {

/// Request types for fault injection (Kafka protocol API keys).
enum class ApiKey : std::int16_t {
    Produce = 0,
    Fetch = 1,
    ListOffsets = 2,
    Metadata = 3,
    OffsetCommit = 8,
    OffsetFetch = 9,
    FindCoordinator = 10,
    JoinGroup = 11,
    Heartbeat = 12,
    SyncGroup = 14,
};

struct EmbeddedBrokerOptions {
    int brokers = 1;
};

/// Owns the mock cluster. Create it before any client; destroy clients first. Thread-safe.
class EmbeddedBroker {
  public:
    /// Starts the cluster (a few milliseconds). Throws kafka::KafkaError on failure.
    explicit EmbeddedBroker(EmbeddedBrokerOptions options = {});
    ~EmbeddedBroker();
    EmbeddedBroker(const EmbeddedBroker&) = delete;
    EmbeddedBroker& operator=(const EmbeddedBroker&) = delete;

    /// `127.0.0.1:port[,...]`: random ports, new on every start.
    const std::string& bootstrap_servers() const noexcept;
    int broker_count() const noexcept;

    /// Creates a topic; an existing one is left as it is (returns false).
    /// Throws kafka::KafkaError for other failures.
    bool create_topic(const std::string& name, int partitions, int replication_factor = 1);

    // Fault injection, for tests and the demo's error simulation.
    /// Disconnects a broker and refuses connections (leadership does not move by itself).
    void set_broker_down(int broker_id);
    void set_broker_up(int broker_id);
    void set_partition_leader(const std::string& topic, std::int32_t partition, int broker_id);
    /// The broker that coordinates a consumer group (so that another one can go down alone).
    void set_group_coordinator(const std::string& group, int broker_id);
    /// Adds round-trip latency to every response of a broker.
    void set_round_trip(int broker_id, std::chrono::milliseconds rtt);
    /// The next requests of that type fail with these librdkafka error codes, in order.
    void push_request_errors(ApiKey api, const std::vector<int>& errors);
    /// The next `count` requests of that type to one broker are answered (successfully) only
    /// after `delay`: a fetch that stalls, say.
    void delay_requests(int broker_id, ApiKey api, int count, std::chrono::milliseconds delay);

    /// Client settings that suit this broker: rebalances in seconds (session timeout 6 s),
    /// prompt fetches (10 ms), lz4 to stretch the per-partition retention.
    static kafka::Properties consumer_tuning();
    static kafka::Properties producer_tuning();

  private:
    struct Impl;
    std::unique_ptr<Impl> _impl;
};

}  // namespace agentstream::broker
