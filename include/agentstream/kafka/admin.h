// Admin: topics and partitions, and consumer-group lag. (The design's "dynamic topic and
// partition management".)
#pragma once

#include <agentstream/kafka/consumer.h>
#include <agentstream/kafka/options.h>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace agentstream::kafka {

struct PartitionInfo {
    std::int32_t id = 0;
    std::int32_t leader = -1;
    std::vector<std::int32_t> replicas;
    std::vector<std::int32_t> isr;
};

struct TopicInfo {
    std::string name;
    std::vector<PartitionInfo> partitions;
    int replication_factor() const {
        return partitions.empty() ? 0 : static_cast<int>(partitions.front().replicas.size());
    }
    /// Topic configs (DescribeConfigs); empty when not asked for or not supported.
    std::map<std::string, std::string> configs;
};

struct NewTopic {
    std::string name;
    int partitions = 1;
    int replication_factor = -1;  ///< -1: the broker's `default.replication.factor`
    std::map<std::string, std::string> configs;
};

/// Thread-safe; every call blocks up to its timeout. Errors throw KafkaError naming the topic
/// and librdkafka's reason. The embedded broker has no admin API: creating, deleting and
/// growing topics fail there with a message saying so (it creates topics at start-up).
class Admin {
  public:
    explicit Admin(ClientOptions options);
    ~Admin();
    Admin(const Admin&) = delete;
    Admin& operator=(const Admin&) = delete;

    /// Creates the topic; false when it exists already (created by someone else, perhaps
    /// concurrently: that is success, whatever its partitions).
    bool create_topic(const NewTopic& topic,
                      std::chrono::milliseconds timeout = std::chrono::seconds(30));
    void delete_topic(const std::string& name,
                      std::chrono::milliseconds timeout = std::chrono::seconds(30));
    /// Grows a topic to `total` partitions.
    void create_partitions(const std::string& name, int total,
                           std::chrono::milliseconds timeout = std::chrono::seconds(30));
    /// Topics without the internal ones (names starting with `__`), sorted.
    std::vector<TopicInfo> list_topics(
        std::chrono::milliseconds timeout = std::chrono::seconds(10));
    /// One topic, with its configs when the broker can describe them. Throws if it does not exist.
    TopicInfo describe_topic(const std::string& name, bool with_configs = true,
                             std::chrono::milliseconds timeout = std::chrono::seconds(10));
    /// Committed offset, high watermark and lag of every partition of `topics` for `group`.
    std::vector<PartitionLag> group_lag(
        const std::string& group, const std::vector<std::string>& topics,
        std::chrono::milliseconds timeout = std::chrono::seconds(10));
    /// Committed offset, high watermark and lag of every partition `group` has committed
    /// offsets for (all its topics). Throws KafkaError when the broker cannot list them.
    std::vector<PartitionLag> group_offsets(
        const std::string& group, std::chrono::milliseconds timeout = std::chrono::seconds(10));

    /// Where `reset_group_offsets` moves a group: the oldest or newest record, an offset, or the
    /// first record at or after a time.
    struct OffsetTarget {
        enum class Kind { Earliest, Latest, Offset, Time } kind = Kind::Earliest;
        std::int64_t offset = 0;                     ///< Kind::Offset (clamped to the partition)
        std::chrono::system_clock::time_point time;  ///< Kind::Time
    };
    /// Sets `group`'s committed offsets for every partition of `topic`; the group must have no
    /// active members (stop its consumers first: the broker refuses otherwise, and the error
    /// says so). Returns the new committed offsets.
    std::vector<PartitionLag> reset_group_offsets(
        const std::string& group, const std::string& topic, const OffsetTarget& target,
        std::chrono::milliseconds timeout = std::chrono::seconds(10));

    /// The cluster id, or nullopt if the cluster does not answer in time. The embedded broker's
    /// ids start with `mockCluster`.
    std::optional<std::string> cluster_id(
        std::chrono::milliseconds timeout = std::chrono::seconds(5));
    /// Number of brokers in the cluster's metadata (a metadata round trip: a liveness check).
    int broker_count(std::chrono::milliseconds timeout = std::chrono::seconds(5));

    /// What one metadata round trip says about the brokers and some topics.
    struct ClusterView {
        std::vector<std::pair<std::string, int>> brokers;  ///< host and port of each listed
        std::vector<TopicPartition> leaderless;            ///< partitions without a leader
        std::vector<std::string> missing;                  ///< topics the cluster does not have
    };
    /// The brokers the cluster lists, and which partitions of `topics` have no leader.
    ClusterView cluster_view(const std::vector<std::string>& topics,
                             std::chrono::milliseconds timeout = std::chrono::seconds(5));

  private:
    // Throws at once on librdkafka's mock cluster, which answers no topic admin request.
    void refuse_on_embedded_broker(const std::string& what, std::chrono::milliseconds timeout);
    // Commits `offsets` (topic, partition, position) from inside the group, as its only member.
    std::vector<PartitionLag> reset_as_member(const std::string& group,
                                              const std::vector<PartitionLag>& offsets,
                                              std::chrono::milliseconds timeout);
    struct Impl;
    std::unique_ptr<Impl> _impl;
};

}  // namespace agentstream::kafka
