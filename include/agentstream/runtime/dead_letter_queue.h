// Working with a dead-letter topic: reading it to its end, choosing dead letters by why and
// where they failed, and replaying them to their source topic (or another) once the cause is
// fixed. What `agentstream dlq list` and `dlq replay` do, as a library.
#pragma once

#include <agentstream/kafka/consumer.h>
#include <agentstream/kafka/options.h>
#include <agentstream/kafka/producer.h>
#include <agentstream/runtime/dead_letter.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace agentstream::runtime {

/// Which dead letters a listing or a replay takes: every condition must hold.
class DeadLetterFilter {
  public:
    /// The keys a condition may name.
    static const std::vector<std::string>& keys();
    /// From `KEY=VALUE` items (keys: class, source-topic, source-partition, processor, type).
    /// Throws std::invalid_argument naming the item and what is expected.
    static DeadLetterFilter parse(const std::vector<std::string>& items);

    DeadLetterFilter& where(std::string key, std::string value);
    bool matches(const DeadLetter& letter, const kafka::Message& record) const;
    bool empty() const noexcept { return _conditions.empty(); }

  private:
    std::vector<std::pair<std::string, std::string>> _conditions;
};

/// Visits every record of `topic` from its start to its end as it is at the time of the call,
/// then returns. `stopped` (may be empty) is asked between records. Throws kafka::KafkaError
/// when the topic cannot be described, std::runtime_error when nothing arrives for `idle`
/// before the end (records deleted by retention meanwhile).
/// `admin` describes the topic; `consumer` reads it (its group is not used).
void read_to_end(const kafka::ClientOptions& admin, const kafka::ConsumerOptions& consumer,
                 const std::string& topic, const std::function<void(const kafka::Message&)>& visit,
                 const std::function<bool()>& stopped = {},
                 std::chrono::milliseconds idle = std::chrono::seconds(10));

/// A dead letter with no source topic header, replayed without ReplayOptions::to.
class NoReplayDestination : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

struct ReplayOptions {
    std::string topic;  ///< the dead-letter topic
    /// Where they go; empty: each to its source topic (its x-agentstream-dlq-source-topic).
    std::string to;
    DeadLetterFilter filter;
    bool dry_run = false;  ///< count what would be replayed, send nothing
};

struct ReplaySummary {
    std::uint64_t replayed = 0;   ///< sent (or, dry run, that would be)
    std::uint64_t skipped = 0;    ///< not matching the filter
    std::uint64_t truncated = 0;  ///< left alone: they hold only the start of their record
    std::uint64_t failed = 0;     ///< sent and not acknowledged
    std::map<std::string, std::uint64_t> by_destination;
};

/// Sends every matching dead letter's original record (key, value, its own headers without the
/// x-agentstream-* ones) to its destination, with x-agentstream-replayed-from / -at headers,
/// and waits for the acknowledgements (up to a minute). A dead letter cut to fit its topic is
/// never replayed. Throws NoReplayDestination for a dead letter with no source topic and no
/// `to`, std::runtime_error for a record that cannot be queued; `producer` may be null for a
/// dry run.
ReplaySummary replay_dead_letters(const kafka::ClientOptions& admin,
                                  const kafka::ConsumerOptions& consumer, kafka::Producer* producer,
                                  const ReplayOptions& options,
                                  const std::function<bool()>& stopped = {});

}  // namespace agentstream::runtime
