// WindowedAggregation: keyed windows over a topic, on Kafka: a stateful StreamProcessor. Reads
// events, aggregates a numeric field (or counts) per key over one or more windows, and
// publishes each closed window as an `analytics.report.generated` event. Late events go to a
// side topic with headers saying why; undecodable or unusable ones to the dead-letter topic,
// as for every processor.
//
// State survives restarts exactly, through the engine's checkpoint protocol: at every
// checkpoint, once every event handled so far is written, the changed keys' window state and
// the input position of each partition go to a changelog topic (compacted on real Kafka;
// partition p holds input partition p's state), and only then is the input offset committed
// (exactly-once: all in one transaction). A newly assigned partition restores its state from
// the changelog and starts reading at the checkpoint's position, so a processor killed
// mid-window and restarted produces the results of an uninterrupted run (results emitted after
// the last checkpoint are emitted again, identically; never, with exactly-once).
#pragma once

#include <agentstream/event/event.h>
#include <agentstream/kafka/consumer.h>
#include <agentstream/kafka/options.h>
#include <agentstream/runtime/processor.h>
#include <agentstream/window/windows.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace agentstream::runtime {

/// A window result as a hook sees it.
struct WindowedResult {
    const window::WindowResult& result;
    std::size_t window_index;  ///< into WindowedAggregationOptions::windows
    const window::WindowSpec& spec;
    std::string_view label;  ///< e.g. `tumbling 60000ms`
    /// The key fields' values, in key_fields order.
    const std::vector<std::string_view>& key_values;
    /// The event that closed the window (its correlation id is carried over), or null.
    const event::Event* trigger;
};

/// Events a hook emits: (topic, event).
using Emitted = std::vector<std::pair<std::string, event::Event>>;

struct WindowedAggregationOptions {
    std::string name = "windowed_aggregation";
    std::string group_id;  ///< default: the name
    kafka::ClientOptions client;
    kafka::Properties consumer_properties;
    kafka::Properties producer_properties;
    std::string input_topic;
    /// Event-type patterns to aggregate (`analytics.*`); other events are skipped. Empty: all.
    std::vector<std::string> event_types;
    /// Event fields whose values, joined by `|`, form the key (at least one).
    std::vector<std::string> key_fields;
    /// A numeric field; empty: every event counts 1.
    std::string value_field;
    /// A field whose distinct values are counted (needs a window with aggregates.distinct).
    std::string distinct_field;
    /// One or more windows; each result names its window.
    std::vector<window::WindowSpec> windows;
    /// The first is the result's metric_value; all appear in its dimensions.
    std::vector<window::AggregateKind> aggregations = {window::AggregateKind::Count};
    std::string output_topic;
    std::string late_topic;         ///< default: INPUT.late
    std::string changelog_topic;    ///< default: NAME-changelog (as many partitions as the input)
    std::string dead_letter_topic;  ///< default: INPUT.dlq
    /// The results' metric_name (default: the value field, or `events`) and service (default:
    /// the `service` key field's value when there is one, else the name).
    std::string metric_name;
    /// When it names a key field, the results' metric_name is that field's value instead.
    std::string metric_name_key_field;
    std::chrono::milliseconds checkpoint_interval{1000};
    /// Every this many checkpoints, every key is written, not only the changed ones (so a
    /// changelog whose oldest records were dropped, as the embedded broker does, still holds
    /// every key).
    int full_snapshot_every = 20;
    /// > 0: a partition that received nothing for this long (wall clock) has its watermark moved
    /// up to the other partitions' (so the windows of a quiet key still close). 0: never.
    std::chrono::milliseconds idle_timeout{30'000};
    /// > 0: results of open windows that changed, this often (final = false).
    std::chrono::milliseconds early_updates{0};
    kafka::StartFrom start_from = kafka::StartFrom::Earliest;
    /// false: stop() abandons the work since the last checkpoint, like a crash (for tests).
    bool checkpoint_on_stop = true;
    /// Called on the processing thread for every result (final and early) after it is
    /// published; the events it adds are sent too (threshold alerts, anomalies, ...).
    std::function<void(const WindowedResult&, Emitted&)> on_result;
    /// false: results are not published to output_topic (a hook consumes them).
    bool publish_results = true;
    /// Exactly-once (real Kafka): results, late events, dead letters, changelog records and
    /// input offsets commit in one transaction (every ProcessorOptions::transaction_interval).
    Guarantee guarantee = Guarantee::AtLeastOnce;
    /// As ProcessorOptions::producer (at-least-once only).
    std::shared_ptr<kafka::Producer> producer;
    /// As ProcessorOptions::metrics / tail.
    monitor::MetricsRegistry* metrics = nullptr;
    monitor::EventTail* tail = nullptr;
    /// Adjusts the engine's options built from these (transaction sizes, the in-flight bound,
    /// retries, ...) before the processor is made. May be empty.
    std::function<void(ProcessorOptions&)> engine;
};

struct WindowedAggregationMetrics {
    std::uint64_t consumed = 0, aggregated = 0, skipped = 0, late = 0, dead_lettered = 0,
                  results = 0, checkpoints = 0, restored_keys = 0, overflow = 0;
    std::size_t open_windows = 0, keys = 0;
};

/// run(), stop() and metrics() (the engine's counters) as for every StreamProcessor.
class WindowedAggregation : public StreamProcessor {
  public:
    /// Throws std::invalid_argument for unusable options (no input, no key field, a bad window
    /// or type pattern).
    explicit WindowedAggregation(WindowedAggregationOptions options);
    ~WindowedAggregation() override;

    /// The windows' own counters. Thread-safe.
    WindowedAggregationMetrics aggregation_metrics() const;
    /// The options with their defaults filled in.
    const WindowedAggregationOptions& aggregation_options() const noexcept;

  protected:
    bool process(const event::Event& event, Context& context) override;
    std::chrono::milliseconds punctuation_interval() const noexcept override;
    void punctuate(std::chrono::steady_clock::time_point now, Emitter& out) override;
    void on_stopping() override;
    bool keeps_state() const noexcept override;
    std::optional<std::int64_t> restore(const kafka::TopicPartition& input) override;
    bool checkpoint(const kafka::TopicPartition& input, std::int64_t next_offset,
                    CheckpointWriter& out, bool final) override;
    void checkpoint_done(bool written) override;
    void release(const kafka::TopicPartition& input) override;

  private:
    WindowedAggregation(WindowedAggregationOptions checked, int);
    struct State;
    std::unique_ptr<State> _state;
};

}  // namespace agentstream::runtime
