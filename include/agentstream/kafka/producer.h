// Producer: asynchronous, batched, idempotent by default, with delivery reports.
#pragma once

#include <agentstream/core/result.h>
#include <agentstream/kafka/consumer.h>
#include <agentstream/kafka/options.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace agentstream::event {
class Event;
}

namespace agentstream::kafka {

/// What send() does when the local queue is full.
enum class QueueFullPolicy {
    Block,     ///< wait up to ProducerOptions::block_timeout for room, then fail
    FailFast,  ///< fail at once
};

/// Chooses a partition for a key; called on the thread that calls send().
using Partitioner = std::function<std::int32_t(std::string_view key, std::int32_t partitions)>;

struct ProducerOptions : ClientOptions {
    std::chrono::milliseconds linger{5};  ///< linger.ms: how long to wait to fill a batch
    int batch_size = 1'000'000;           ///< batch.size in bytes
    int batch_messages = 10'000;          ///< batch.num.messages
    bool idempotence = true;              ///< enable.idempotence (implies acks=all)
    std::string acks = "all";
    std::string compression = "lz4";
    int queue_max_messages = 100'000;  ///< queue.buffering.max.messages: the bounded queue
    /// message.max.bytes: the largest record (key, value and headers) it sends; larger ones are
    /// refused by send(). librdkafka's default; services raise it to what they accept.
    int max_message_bytes = 1'000'000;
    QueueFullPolicy queue_full = QueueFullPolicy::Block;
    std::chrono::milliseconds block_timeout{30'000};
    /// librdkafka retries transient errors itself (message.timeout.ms bounds that). When a
    /// delivery still fails with a retriable error, agentstream sends the event again up to
    /// `max_retries` times, waiting retry_backoff × 2^(attempt-1) (capped, with jitter).
    /// Such a resent event can land after events sent later with the same key.
    int max_retries = 3;
    std::chrono::milliseconds retry_backoff{100};
    std::chrono::milliseconds retry_backoff_max{10'000};
    std::chrono::milliseconds message_timeout{120'000};  ///< message.timeout.ms
    std::chrono::milliseconds flush_timeout{30'000};     ///< bound on the flush at destruction
    /// Non-empty: a transactional producer (transactional.id). Call init_transactions() once,
    /// then send inside begin_transaction() ... commit_transaction(). Keep the id stable across
    /// restarts of the same instance: the next init_transactions() then aborts what a crashed
    /// predecessor left open, at once instead of after transaction_timeout.
    std::string transactional_id;
    std::chrono::milliseconds transaction_timeout{10'000};  ///< transaction.timeout.ms
    /// Empty: the Java client's murmur2 partitioner (librdkafka `murmur2_random`), so a key lands
    /// on the same partition as with Java producers.
    Partitioner partitioner;
};

/// The outcome of one send, reported once, when final.
struct DeliveryReport {
    std::string_view topic;
    std::int32_t partition = -1;
    std::int64_t offset = -1;
    bool ok = false;
    std::string error;  ///< empty when ok
    /// Refused for its size (the producer's message.max.bytes or the topic's
    /// max.message.bytes): sending the same record again cannot succeed.
    bool too_large = false;
    int attempts = 1;
    std::chrono::microseconds latency{0};  ///< from the last send to the broker's ack
};
/// Runs on the producer's delivery thread or, when it is free to, on a thread inside send()
/// (records are then freed by the thread that allocated them, which keeps malloc uncontended).
/// Callbacks never run concurrently; one may call send(). Must not block for long or throw.
using DeliveryCallback = std::function<void(const DeliveryReport&)>;

/// A delivery callback as an object: one sink can receive the reports of many records, and
/// sending to it allocates nothing per record (a DeliveryCallback is stored per record).
/// Same threading rules as DeliveryCallback.
class DeliverySink {
  public:
    virtual void on_delivery(const DeliveryReport& report) noexcept = 0;

  protected:
    ~DeliverySink() = default;
};

struct TopicStats {
    std::uint64_t sent = 0;     ///< acknowledged by the broker
    std::uint64_t failed = 0;   ///< finally failed
    std::uint64_t retried = 0;  ///< resends by agentstream after a retriable failure
    std::uint64_t bytes = 0;    ///< key + value bytes acknowledged
    std::uint64_t ack_latency_p50_us = 0;
    std::uint64_t ack_latency_p99_us = 0;
    std::uint64_t ack_latency_max_us = 0;
};

/// Thread-safe: send() may be called from any thread. Delivery callbacks run one at a time, on
/// the producer's delivery thread or inside a send() (see DeliveryCallback). The destructor flushes
/// (bounded by flush_timeout) and joins.
class Producer {
  public:
    /// Throws KafkaError if librdkafka rejects the configuration (the message names the key).
    explicit Producer(ProducerOptions options);
    ~Producer();
    Producer(const Producer&) = delete;
    Producer& operator=(const Producer&) = delete;

    /// Queues one record. Never waits for the broker; may wait for queue room (QueueFullPolicy).
    /// An empty key is sent as a null key. `partition` overrides the partitioner.
    Status send(std::string_view topic, std::string_view key, std::string_view value,
                const Headers& headers = {}, DeliveryCallback on_delivery = {},
                std::optional<std::int32_t> partition = std::nullopt);

    /// Sends a consumed record's key, value and headers unchanged (headers copied inside
    /// librdkafka, without an intermediate list).
    Status forward(std::string_view topic, const Message& record,
                   DeliveryCallback on_delivery = {});

    /// forward() reporting to a sink (no allocation per record for it).
    Status forward(std::string_view topic, Message& record, DeliverySink& sink);
    /// The same, handing the record's parsed headers to the output instead of copying them
    /// (for a record's last output: fewer allocations). The record still answers headers()
    /// afterwards: librdkafka parses them again from its bytes.
    Status forward_last(std::string_view topic, Message& record, DeliverySink& sink);
    /// Sends `key` and `value` with the headers of a consumed `record` (a rewritten event):
    /// copied inside librdkafka, or, with `take` (the record's last output), handed over.
    Status send_with_headers_of(std::string_view topic, std::string_view key,
                                std::string_view value, Message& record, bool take,
                                DeliverySink& sink);

    /// Sends an event as JSON, keyed by its entity, with the catalogue's headers.
    Status send(std::string_view topic, const event::Event& event,
                DeliveryCallback on_delivery = {});

    /// Waits until every queued record has its final delivery report, up to `timeout`.
    /// Returns whether everything was delivered (or failed) in time.
    bool flush(std::chrono::milliseconds timeout);

    /// Records queued or in flight, including those waiting for a retry.
    std::int64_t in_flight() const noexcept;

    /// Gives up on every record not yet delivered (queued, in flight, or waiting for a resend):
    /// each gets its delivery report, failed, from the delivery thread or this call. For a
    /// shutdown past its deadline; records sent afterwards are delivered as usual.
    void purge();

    /// The largest record it sends (message.max.bytes as configured, properties included).
    std::size_t max_message_bytes() const;

    std::map<std::string, TopicStats> stats() const;

    // ---- transactions (transactional_id set) ----

    /// What went wrong in a transactional call, and what the caller must do about it.
    struct TransactionError {
        std::string message;
        bool retriable = false;     ///< the same call may be repeated
        bool abort_needed = false;  ///< abort_transaction(), rewind the inputs, go on
        bool fatal = false;         ///< this producer is unusable (e.g. fenced by a newer one)
    };
    using TxnStatus = Result<void, TransactionError>;
    TxnStatus init_transactions(std::chrono::milliseconds timeout);
    TxnStatus begin_transaction();
    /// Adds consumed offsets (next offset to read per partition) to the open transaction.
    TxnStatus send_offsets_to_transaction(
        const std::vector<std::pair<TopicPartition, std::int64_t>>& offsets,
        const GroupMetadata& group, std::chrono::milliseconds timeout);
    TxnStatus commit_transaction(std::chrono::milliseconds timeout);
    TxnStatus abort_transaction(std::chrono::milliseconds timeout);

    /// Partition count of a topic as the producer knows it (metadata request if needed).
    Result<std::int32_t> partition_count(std::string_view topic, std::chrono::milliseconds timeout);

  private:
    // Takes ownership of `rd_headers` (an rd_kafka_headers_t*, may be null). Reports to
    // `sink` when given, else to `on_delivery`.
    Status send_with(std::string_view topic, std::string_view key, std::string_view value,
                     void* rd_headers, DeliveryCallback on_delivery,
                     std::optional<std::int32_t> partition, DeliverySink* sink = nullptr);
    // The headers of `record` for an output (rd_kafka_headers_t*, owned by the caller): a copy,
    // or the record's parsed list itself.
    static void* copied_headers(const Message& record);
    static void* taken_headers(Message& record);
    struct Impl;
    std::unique_ptr<Impl> _impl;
};

}  // namespace agentstream::kafka
