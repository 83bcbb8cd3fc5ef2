// Consumer: consumer groups, offsets stored only when the application says so, cooperative
// rebalancing with a commit before partitions are revoked, pause/resume, lag, lost-event
// detection.
#pragma once

#include <agentstream/kafka/options.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace agentstream::kafka {

/// Where a partition with no committed offset starts.
enum class StartFrom { Earliest, Latest };

/// One record, owning its bytes. Cheap to move; views are valid while the Message lives.
/// Destroy it before its Consumer: librdkafka's handle waits for every record it handed out.
class Message {
  public:
    Message(Message&&) noexcept;
    Message& operator=(Message&&) noexcept;
    ~Message();

    std::string_view topic() const noexcept;
    /// Identifies the topic within the consumer that read it (equal handles, equal topics):
    /// a cheaper key than the name for per-partition lookups.
    const void* topic_handle() const noexcept;
    std::int32_t partition() const noexcept;
    std::int64_t offset() const noexcept;
    std::string_view key() const noexcept;
    bool has_key() const noexcept;
    std::string_view value() const noexcept;
    /// A record with a null value (a tombstone).
    bool is_null() const noexcept;
    /// The last header of that name.
    std::optional<std::string_view> header(std::string_view name) const noexcept;
    std::vector<std::pair<std::string_view, std::string_view>> headers() const;
    /// The record's timestamp (create or log-append time), if it has one.
    std::optional<std::chrono::system_clock::time_point> timestamp() const noexcept;

  private:
    friend class Consumer;
    friend class Producer;
    explicit Message(void* rd_message) noexcept;
    void* _msg;
};

struct PartitionLag {
    std::string topic;
    std::int32_t partition = 0;
    std::int64_t position = -1;        ///< next offset this consumer will read (-1 unknown)
    std::int64_t high_watermark = -1;  ///< end of the partition
    std::int64_t lag = -1;             ///< high_watermark - position (-1 unknown)
};

struct ConsumerStats {
    std::uint64_t consumed = 0;
    /// Records the broker deleted before this consumer read them (offset out of range, e.g.
    /// beyond the embedded broker's retention): counted, logged, never silent.
    std::uint64_t lost = 0;
    std::uint64_t offset_resets = 0;
    std::uint64_t rebalances = 0;
    std::uint64_t commit_failures = 0;
    std::uint64_t errors = 0;
    /// No broker reachable since this long (0 when reachable): set when librdkafka reports all
    /// brokers down, cleared by the next record or a successful probe().
    std::chrono::milliseconds brokers_down_for{0};
};

using PartitionsCallback = std::function<void(const std::vector<TopicPartition>&)>;

struct ConsumerOptions : ClientOptions {
    /// group.id; required for subscribe() and commits.
    std::string group_id;
    StartFrom start_from = StartFrom::Earliest;
    std::string assignment_strategy = "cooperative-sticky";
    std::chrono::milliseconds session_timeout{45'000};
    std::chrono::milliseconds heartbeat_interval{3'000};
    std::chrono::milliseconds auto_commit_interval{1'000};
    std::chrono::milliseconds fetch_wait_max{100};
    /// Records fetched ahead of the application, at most this many and this many bytes
    /// (queued.min.messages, queued.max.messages.kbytes). Keep about a second of processing:
    /// librdkafka pauses fetching for up to a second whenever either bound is reached.
    int buffer_records = 500'000;
    std::int64_t buffer_bytes = 128LL << 20;
    /// Called on the polling thread after partitions are assigned, and before partitions are
    /// revoked (finish their in-flight work and store their offsets there: the consumer
    /// commits stored offsets right after this callback).
    PartitionsCallback on_assigned;
    PartitionsCallback on_revoked;
    /// When set: asked for each newly assigned partition (on the polling thread, before it is
    /// fetched) where to start; nullopt keeps the group's committed offset (or start_from).
    /// For state kept outside Kafka's offsets, such as a changelog's checkpoint position. If it
    /// throws, nothing of that assignment is assigned and the poll() that ran the rebalance
    /// throws the exception (a partition is never read without the state its start needs).
    std::function<std::optional<std::int64_t>(const TopicPartition&)> start_offset;
    /// false: the consumer never commits (no auto commit, none on revoke or close); offsets are
    /// committed elsewhere, e.g. through a producer's transaction (exactly-once).
    bool commits = true;
    /// `read_committed` (see only committed transactions) or `read_uncommitted`.
    std::string isolation_level = "read_committed";
};

/// A consumer's group generation and member id, for Producer::send_offsets_to_transaction.
class GroupMetadata {
  public:
    GroupMetadata(GroupMetadata&&) noexcept;
    GroupMetadata& operator=(GroupMetadata&&) noexcept;
    ~GroupMetadata();
    /// librdkafka's rd_kafka_consumer_group_metadata_t.
    void* native() const noexcept { return _p; }

  private:
    friend class Consumer;
    explicit GroupMetadata(void* p) noexcept : _p(p) {}
    void* _p;
};

/// Not thread-safe: one thread polls (and receives the callbacks); stats() and lag() may be
/// called from any thread. Offsets are committed only when stored with store_offset(): stored
/// offsets are committed every auto_commit_interval, before partitions are revoked, and on
/// close(). The destructor closes.
class Consumer {
  public:
    explicit Consumer(ConsumerOptions options);
    ~Consumer();
    Consumer(const Consumer&) = delete;
    Consumer& operator=(const Consumer&) = delete;

    /// Joins the group and subscribes. Throws KafkaError on failure.
    void subscribe(const std::vector<std::string>& topics);
    /// Reads the given partitions without group membership (offsets: committed if the group
    /// has some, else start_from). Throws KafkaError on failure.
    void assign(const std::vector<TopicPartition>& partitions);

    /// The next record, or nullopt after `timeout`. Handles errors and offset resets itself
    /// (logged and counted); never throws for per-record problems.
    std::optional<Message> poll(std::chrono::milliseconds timeout);

    /// Marks everything up to and including `message` as done in its partition.
    void store_offset(const Message& message);
    void store_offset(const TopicPartition& tp, std::int64_t next_offset);
    /// Commits stored offsets now. Returns false (and counts) on failure.
    bool commit(bool synchronous = true);

    /// Moves the fetch position of assigned partitions (the next record read is at `offset`).
    void seek(const TopicPartition& tp, std::int64_t offset,
              std::chrono::milliseconds timeout = std::chrono::seconds(10));
    /// Restarts fetching of the assigned partitions not paused here: each is resumed in
    /// librdkafka and sought to its position (its committed offset when nothing was read from
    /// it yet). The remedy for a fetch that stalled: assigned, behind, nothing arriving.
    /// Returns how many partitions were sought.
    int refetch(std::chrono::milliseconds timeout = std::chrono::seconds(5));
    /// The group membership, for offsets sent to a transaction.
    GroupMetadata group_metadata() const;

    /// Stops fetching from these partitions until resume(); what was fetched ahead is dropped
    /// and fetched again. The pause outlives a rebalance: a paused partition that is revoked
    /// and assigned again stays paused.
    void pause(const std::vector<TopicPartition>& partitions);
    /// Resumes the given partitions that are paused; the others are left alone.
    void resume(const std::vector<TopicPartition>& partitions);
    /// Flow control: pauses the assignment and every partition assigned from now on (paused
    /// before it starts fetching), until resume_all().
    void pause_all();
    /// Resumes every paused partition, assigned or not, and lets new assignments fetch.
    void resume_all();
    bool paused(const TopicPartition& tp) const;
    std::vector<TopicPartition> assignment() const;
    /// Lag of each assigned partition from cached watermarks (no broker round trip).
    std::vector<PartitionLag> lag() const;
    /// Lag of each assigned partition asked from the broker: high watermarks, and the committed
    /// offset as position of a partition nothing was read from yet. Blocks up to `timeout`.
    std::vector<PartitionLag> query_lag(std::chrono::milliseconds timeout) const;
    ConsumerStats stats() const;
    /// The low and high watermarks of any partition, asked from the broker. Throws KafkaError
    /// when it does not answer within `timeout`.
    std::pair<std::int64_t, std::int64_t> watermarks(const TopicPartition& tp,
                                                     std::chrono::milliseconds timeout) const;
    /// Asks the cluster for metadata (blocks up to `timeout`); true when it answered, which
    /// also clears ConsumerStats::brokers_down_for.
    bool probe(std::chrono::milliseconds timeout);

    /// Commits stored offsets, leaves the group, stops. Idempotent.
    void close();

  private:
    struct Impl;
    std::unique_ptr<Impl> _impl;
};

}  // namespace agentstream::kafka
