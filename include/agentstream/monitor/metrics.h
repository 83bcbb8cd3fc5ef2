// The metrics registry: counters, gauges and histograms with labels, and the series derived from
// them (windowed rates of counters, percentiles of histograms) that alert rules and the
// dashboard read. Every metric family is declared (name, kind, help, label names) before use,
// so a rule naming an unknown metric is rejected when it is loaded.
#pragma once

#include <agentstream/core/histogram.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace agentstream::monitor {

using Clock = std::chrono::system_clock;
/// Label name → value, sorted by name.
using Labels = std::vector<std::pair<std::string, std::string>>;

enum class MetricKind : std::uint8_t { Counter, Gauge, Histogram };

/// One metric family.
struct MetricSpec {
    std::string name;
    MetricKind kind;
    std::string help;
    std::vector<std::string> label_names;
    /// Histograms: readings are recorded values times this (record microseconds, read
    /// milliseconds with 0.001).
    double scale = 1;
};

/// The built-in families (events, latency, errors, lag, dead letters, tasks, agents, process,
/// network, health), in documentation order.
std::span<const MetricSpec> builtin_metrics();

/// What can be read from a family, and how a series is named in rules and in the dashboard:
///   counter   NAME (total), NAME:rate1m, NAME:rate5m (per second)
///   gauge     NAME
///   histogram NAME:p50, NAME:p95, NAME:p99, NAME:mean, NAME:count
/// Returns the family and the reading, or nullopt with `error` set (unknown family, or a
/// reading its kind does not have).
enum class Reading : std::uint8_t { Value, Rate1m, Rate5m, P50, P95, P99, Mean, Count };
std::string_view to_string(Reading r) noexcept;

class Counter {
  public:
    void add(std::uint64_t n = 1) noexcept { _value.fetch_add(n, std::memory_order_relaxed); }
    /// For counters mirrored from elsewhere (librdkafka statistics): never goes down.
    void set_total(std::uint64_t total) noexcept;
    std::uint64_t value() const noexcept { return _value.load(std::memory_order_relaxed); }

  private:
    std::atomic<std::uint64_t> _value{0};
};

class Gauge {
  public:
    void set(double v) noexcept { _value.store(v, std::memory_order_relaxed); }
    double value() const noexcept { return _value.load(std::memory_order_relaxed); }

  private:
    std::atomic<double> _value{0};
};

/// One derived value at one time.
struct SeriesValue {
    std::uint32_t series;  ///< id, stable for the registry's lifetime (see MetricsRegistry::series)
    double value;
};

/// A series: family, labels, and how it is read (e.g. events_total{topic="a"}:rate1m).
struct SeriesInfo {
    std::string name;  ///< with the reading suffix, e.g. `events_total:rate1m`
    std::string family;
    Reading reading;
    Labels labels;
};

/// Thread-safe. Handles returned by counter()/gauge()/histogram() live as long as the registry
/// and are lock-free to update.
class MetricsRegistry {
  public:
    MetricsRegistry();  ///< with the built-in families declared
    ~MetricsRegistry();
    MetricsRegistry(const MetricsRegistry&) = delete;
    MetricsRegistry& operator=(const MetricsRegistry&) = delete;

    /// Declares a family (idempotent for an identical spec). Throws std::invalid_argument for a
    /// bad name or a conflicting redeclaration.
    void declare(MetricSpec spec);
    const MetricSpec* family(std::string_view name) const;

    /// The metric of a family with these labels (created on first use). Throws
    /// std::invalid_argument for an undeclared family, another kind, or labels other than the
    /// family's label names.
    Counter& counter(std::string_view name, Labels labels = {});
    Gauge& gauge(std::string_view name, Labels labels = {});
    Histogram& histogram(std::string_view name, Labels labels = {});

    /// Reads every series now and remembers counter values for rates (call it on a steady
    /// cadence, e.g. every second; rates are over the samples inside each window). A rate is
    /// present only once its window is covered: a counter seen for 20 s has no rate5m yet (so
    /// a rule on it cannot fire at start-up). Returns the series that have a value.
    std::vector<SeriesValue> sample(Clock::time_point now);

    /// The series with this id.
    SeriesInfo series(std::uint32_t id) const;
    /// Prometheus text exposition of the current values (counters, gauges; histograms as
    /// summaries with quantiles 0.5, 0.95, 0.99).
    std::string prometheus_text() const;

  private:
    struct Impl;
    std::unique_ptr<Impl> _impl;
};

/// A series as text: `name{label="value",...}` (labels unescaped; for logs and timelines).
std::string series_text(std::string_view name, const Labels& labels);

/// Parses a series selector name (`events_total:rate1m`) against the declared families:
/// the family and the reading. nullopt with `error` set when it names nothing.
std::optional<std::pair<const MetricSpec*, Reading>> parse_series_name(
    const MetricsRegistry& registry, std::string_view name, std::string* error);

}  // namespace agentstream::monitor
