// Alert rules replayed over recorded series: what `agentstream alerts test` does, as a library.
// Points (time, series, value) are added in any order; run() evaluates the rules at every
// point's time and, with a step, at every step between the first and the last, carrying each
// series' value forward until it changes or ends, exactly as the live monitor would have.
#pragma once

#include <agentstream/core/result.h>
#include <agentstream/core/time.h>
#include <agentstream/monitor/alerts.h>
#include <agentstream/monitor/metrics.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace agentstream::monitor {

/// One recorded reading: `metric` is a series name as rules read it (`name` or
/// `name:reading`); a missing value ends the series.
struct RecordedPoint {
    Timestamp time;
    std::string metric;
    Labels labels;
    std::optional<double> value;
};

/// A point from a JSON object line: {"time": RFC 3339, "metric": "name[:reading]", "labels":
/// {...}, "value": number or null}. The error says which field is wrong and what it expects.
Result<RecordedPoint, std::string> parse_recorded_point(std::string_view line);

class AlertReplay {
  public:
    /// `registry` knows the metrics the rules and points may name (the built-in ones).
    AlertReplay(std::vector<AlertRule> rules, const MetricsRegistry& registry);

    /// Throws std::invalid_argument when the metric is no series the registry knows (the message
    /// says why, as a rule's would).
    void add(RecordedPoint point);

    struct Summary {
        std::size_t evaluations = 0;
        std::uint64_t transitions = 0;
    };
    /// Evaluates (once); `on_transition` sees each transition with the time it happened.
    Summary run(std::optional<std::chrono::milliseconds> step,
                const std::function<void(Timestamp, const AlertEvent&)>& on_transition);

    /// After run(): what is active at the end, and the engine's totals.
    const AlertEngine& engine() const noexcept { return _engine; }

  private:
    struct Point {
        Timestamp time;
        std::uint32_t series;
        std::optional<double> value;
    };
    const MetricsRegistry& _registry;
    std::vector<SeriesInfo> _infos;
    std::map<std::string, std::uint32_t> _ids;
    std::vector<Point> _points;
    AlertEngine _engine;
};

}  // namespace agentstream::monitor
