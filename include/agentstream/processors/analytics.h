// AnalyticsStreamProcessor: `analytics.metric.update` aggregated per (service, metric) over
// 1 m, 5 m and 1 h windows (count, sum, min, max, avg, p50/p95/p99), each closed window
// published to the metrics topic; thresholds applied to window aggregates (not single
// events); a robust z-score on each series' per-minute average. Breaches and anomalies
// become `system.alert` events (and anomalies `business.insight.generated` events) that carry
// their evidence. State is checkpointed through the windowed aggregation's changelog.
#pragma once

#include <agentstream/processors/anomaly.h>
#include <agentstream/runtime/windowed_aggregation.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace agentstream::processors {

/// A metric whose name contains `match` is checked: its window `aggregate` at or above
/// `high` is a warning, at or above `critical` a critical alert. The first match applies.
struct MetricThreshold {
    std::string match;
    double high = 0;
    double critical = 0;
    window::AggregateKind aggregate = window::AggregateKind::Avg;
};

/// The standard thresholds (docs/compatibility.md), on window aggregates: error_rate (avg)
/// 10 / 20, response_time (avg) 5 / 10, agent_error (sum: errors in the window) 5 / 10,
/// task_failed (sum) 3 / 5.
std::vector<MetricThreshold> default_thresholds();

/// The judging half, pure (no Kafka): thresholds and anomaly detection on final window results.
class AnalyticsRules {
  public:
    struct Options {
        std::string source = "analytics_processor";
        std::string alerts_topic = "alerts";
        std::string insights_topic = "insights";
        std::string input_topic = "analytics";  ///< named as the insights' data source
        std::vector<MetricThreshold> thresholds = default_thresholds();
        AnomalyOptions anomaly;
        std::size_t max_series = 100'000;  ///< series with an anomaly detector, at most
    };
    explicit AnalyticsRules(Options options);

    /// A final result of the judged window for (service, metric): adds the alert and insight
    /// events it calls for to `out`.
    void evaluate(std::string_view service, std::string_view metric, std::string_view window,
                  window::Millis start, window::Millis end, const window::Aggregate& aggregate,
                  runtime::Emitted& out);

    std::uint64_t threshold_alerts() const noexcept { return _threshold_alerts; }
    std::uint64_t anomalies() const noexcept { return _anomalies; }

  private:
    Options _options;
    std::unordered_map<std::string, RobustZScore> _detectors;
    std::uint64_t _threshold_alerts = 0;
    std::uint64_t _anomalies = 0;
};

struct AnalyticsOptions {
    std::string name = "analytics_processor";
    kafka::ClientOptions client;
    kafka::Properties consumer_properties;
    kafka::Properties producer_properties;
    /// As runtime::ProcessorOptions::producer (at-least-once only).
    std::shared_ptr<kafka::Producer> producer;
    std::string input_topic = "analytics";
    std::string metrics_topic = "metrics";
    std::string alerts_topic = "alerts";
    std::string insights_topic = "insights";
    std::string late_topic;       ///< default: INPUT.late
    std::string changelog_topic;  ///< default: NAME-changelog
    std::string dead_letter_topic;
    std::vector<std::chrono::milliseconds> windows = {
        std::chrono::minutes(1), std::chrono::minutes(5), std::chrono::hours(1)};
    /// Thresholds and anomalies are judged on this window's results (index into windows).
    std::size_t judged_window = 0;
    std::chrono::milliseconds out_of_orderness{5'000};
    std::chrono::milliseconds allowed_lateness{0};
    std::chrono::milliseconds checkpoint_interval{1'000};
    std::chrono::milliseconds idle_timeout{30'000};
    std::vector<MetricThreshold> thresholds = default_thresholds();
    AnomalyOptions anomaly;
    kafka::StartFrom start_from = kafka::StartFrom::Earliest;
    bool checkpoint_on_stop = true;
    runtime::Guarantee guarantee = runtime::Guarantee::AtLeastOnce;
    monitor::MetricsRegistry* metrics = nullptr;  ///< as ProcessorOptions::metrics
};

/// The analytics processor: a WindowedAggregation of `analytics.metric.update` by service and
/// metric, with the thresholds and the anomaly detector judging its closed windows. run(),
/// stop(), metrics() and aggregation_metrics() as for every windowed aggregation.
class AnalyticsStreamProcessor : public runtime::WindowedAggregation {
  public:
    explicit AnalyticsStreamProcessor(AnalyticsOptions options);
    ~AnalyticsStreamProcessor() override;
    std::uint64_t threshold_alerts() const;
    std::uint64_t anomalies() const;

    struct Impl;

  private:
    AnalyticsStreamProcessor(std::unique_ptr<Impl> state, const AnalyticsOptions& options);
    static runtime::WindowedAggregationOptions window_options(const AnalyticsOptions& o,
                                                              Impl& state);
    std::unique_ptr<Impl> _impl;
};

}  // namespace agentstream::processors
