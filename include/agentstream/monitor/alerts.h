// Alert rules and their state machine: the design's AlertRule, evaluated over the registry's
// series on a steady cadence. Per rule and series: inactive → pending (condition holds) →
// firing (held for `for`) → resolved (no longer holds) → inactive.
#pragma once

#include <agentstream/config/config.h>
#include <agentstream/core/time.h>
#include <agentstream/monitor/metrics.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace agentstream::monitor {

enum class Condition : std::uint8_t { Gt, Gte, Lt, Lte, Eq, Ne };
enum class Severity : std::uint8_t { Info, Low, Medium, High, Critical };
/// Several matching series: evaluate each (None), or combine them into one first.
enum class Aggregate : std::uint8_t { None, Sum, Avg, Min, Max };

std::string_view to_string(Condition c) noexcept;
std::string_view to_string(Severity s) noexcept;
std::optional<Condition> parse_condition(std::string_view text) noexcept;
std::optional<Severity> parse_severity(std::string_view text) noexcept;

struct LabelMatcher {
    std::string name;
    std::string value;
    bool equal = true;  ///< false: the label must differ (or be absent)
    bool operator==(const LabelMatcher&) const = default;
};

struct AlertRule {
    std::string name;
    std::string metric;  ///< a series name, e.g. `events_total:rate1m`, `error_rate_percent`
    std::vector<LabelMatcher> matchers;
    Aggregate aggregate = Aggregate::None;
    Condition condition = Condition::Gt;
    double threshold = 0;
    std::chrono::milliseconds for_duration{0};  ///< how long it must hold before firing
    Severity severity = Severity::Medium;
    /// While firing, notify again this often (0: once).
    std::chrono::milliseconds repeat_interval{0};
    /// After a resolve, the rule may not fire again for this long (flapping guard).
    std::chrono::milliseconds cooldown{0};
    Labels labels;       ///< added to every alert
    Labels annotations;  ///< summary, description, runbook, ...
    bool enabled = true;
    int line = 0;  ///< in its file (0: built in)

    /// Same rule, wherever it sits in its file (`line` is not compared).
    bool same_definition(const AlertRule& other) const;
};

/// The four standard rules (docs/compatibility.md): high_error_rate (error_rate_percent > 5
/// for 1m), low_throughput (sum of events_total:rate5m < 1/s for 5m: a rate needs five minutes
/// of data, so it cannot fire at start-up), high_latency (processing_latency_ms:p95 > 1000 for
/// 1m), component_down (component_health == 3 for 30s: a component that is down).
std::vector<AlertRule> default_rules();

enum class AlertState : std::uint8_t { Inactive, Pending, Firing };
std::string_view to_string(AlertState s) noexcept;

/// A change worth telling: a rule started firing, is still firing (repeat), or resolved.
/// Pending transitions are reported too (kind Pending) for timelines; notifiers ignore them.
struct AlertEvent {
    enum class Kind : std::uint8_t { Pending, Firing, Repeat, Resolved, Cleared };
    Kind kind;
    const AlertRule* rule;
    /// The series' labels (empty for an aggregated rule); valid as long as the engine.
    const Labels* series_labels;
    double value;  ///< the value that made the transition
    Clock::time_point at;
    Clock::time_point since;  ///< when the condition started to hold
};
std::string_view to_string(AlertEvent::Kind k) noexcept;

struct ActiveAlert {
    const AlertRule* rule;
    Labels series_labels;
    AlertState state;
    double value;
    Clock::time_point since;
};

/// Not thread-safe (one evaluation loop owns it).
class AlertEngine {
  public:
    /// `resolve` tells the engine what a series id is (name and labels); it is called once per
    /// new id. Throws std::invalid_argument for duplicate rule names.
    AlertEngine(std::vector<AlertRule> rules, std::function<SeriesInfo(std::uint32_t)> resolve);

    /// Evaluates every rule over `values` (all series read at `now`); a series absent from
    /// `values` counts as "condition does not hold". Returns the transitions, in rule order.
    std::vector<AlertEvent> evaluate(std::span<const SeriesValue> values, Clock::time_point now);

    /// Swaps the rules (a reloaded file) keeping the state of every rule whose definition did
    /// not change (a firing alert stays firing, without a new notification); alerts of removed
    /// or changed rules that were firing resolve (returned). Throws std::invalid_argument for
    /// duplicate names, leaving the engine as it was.
    std::vector<AlertEvent> replace_rules(std::vector<AlertRule> rules, Clock::time_point now);

    const std::vector<AlertRule>& rules() const noexcept { return _rules; }
    std::vector<ActiveAlert> active() const;
    std::uint64_t fired_total() const noexcept { return _fired; }
    std::uint64_t resolved_total() const noexcept { return _resolved; }

  private:
    struct Instance {
        AlertState state = AlertState::Inactive;
        Clock::time_point since{};
        Clock::time_point last_notified{};
        Clock::time_point resolved_at{};
        bool ever_resolved = false;
        double value = 0;
        std::uint64_t seen_cycle = 0;
        Labels labels;
    };
    struct Matched {  // per series id: the rules it feeds, and its instance in each
        bool known = false;
        std::vector<std::pair<std::uint32_t, std::uint32_t>> rules;
    };
    void step(std::uint32_t rule, Instance& inst, bool holds, double value, Clock::time_point now,
              std::vector<AlertEvent>& out);

    std::vector<AlertRule> _rules;
    std::function<SeriesInfo(std::uint32_t)> _resolve;
    std::vector<Matched> _by_series;
    // Per rule; deques so that an instance (and its labels) never moves.
    std::vector<std::deque<Instance>> _instances;
    std::vector<Instance> _aggregated;  // per rule
    // Replaced rules and their instances, kept so that events pointing at them stay valid.
    struct Retired {
        std::vector<AlertRule> rules;
        std::vector<std::deque<Instance>> instances;
        std::vector<Instance> aggregated;
    };
    std::deque<Retired> _retired;
    std::uint64_t _cycle = 0;
    std::uint64_t _fired = 0;
    std::uint64_t _resolved = 0;
};

/// Checks a rule built in code as the pipeline file's loader checks one: a name, a metric and a
/// reading the registry declares (`error_rate_percent`, `events_total:rate1m`, ...), labels
/// the metric has, a finite threshold, durations not negative. Throws std::invalid_argument
/// saying what is wrong.
void check_alert_rule(const AlertRule& rule, const MetricsRegistry& registry);

/// Loads the `alerts` section of a pipeline file: `alerts: {defaults: true, rules: [...]}`.
/// Each rule is checked: keys, condition, severity, durations (`30s`, `5m`, `1h`, `250ms`),
/// and its metric against `registry` (an unknown metric or a reading its kind lacks is an
/// error, not a silently dead rule). A file rule named like a default replaces it. Throws
/// config::ConfigError with file and line.
std::vector<AlertRule> load_alert_rules(const config::Config& config,
                                        const MetricsRegistry& registry);

using agentstream::parse_duration;

}  // namespace agentstream::monitor
