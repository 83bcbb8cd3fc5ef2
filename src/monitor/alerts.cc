#include <agentstream/monitor/alerts.h>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <yaml-cpp/yaml.h>

#include "internal/yaml_reader.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <stdexcept>

namespace agentstream::monitor {
namespace {

using namespace std::chrono_literals;

constexpr std::string_view CONDITIONS[] = {"gt", "gte", "lt", "lte", "eq", "ne"};
constexpr std::string_view SEVERITIES[] = {"info", "low", "medium", "high", "critical"};
constexpr std::string_view STATES[] = {"inactive", "pending", "firing"};
constexpr std::string_view KINDS[] = {"pending", "firing", "repeat", "resolved", "cleared"};
constexpr std::string_view AGGREGATES[] = {"none", "sum", "avg", "min", "max"};
constexpr std::string_view RULE_KEYS[] = {
    "name",     "metric",          "match",    "aggregate", "condition",   "threshold", "for",
    "severity", "repeat_interval", "cooldown", "labels",    "annotations", "enabled"};

bool holds(const AlertRule& r, double v) {
    switch (r.condition) {
        case Condition::Gt: return v > r.threshold;
        case Condition::Gte: return v >= r.threshold;
        case Condition::Lt: return v < r.threshold;
        case Condition::Lte: return v <= r.threshold;
        case Condition::Eq: return v == r.threshold;
        case Condition::Ne: return v != r.threshold;
    }
    return false;
}

bool matches(const AlertRule& r, const SeriesInfo& s) {
    if (s.name != r.metric) {
        return false;
    }
    for (const auto& m : r.matchers) {
        auto it = std::find_if(s.labels.begin(), s.labels.end(),
                               [&](const auto& l) { return l.first == m.name; });
        bool equal = it != s.labels.end() && it->second == m.value;
        if (equal != m.equal) {
            return false;
        }
    }
    return true;
}

template <std::size_t N>
std::optional<std::size_t> index_in(const std::string_view (&names)[N], std::string_view text) {
    for (std::size_t i = 0; i < N; ++i) {
        if (names[i] == text) {
            return i;
        }
    }
    return std::nullopt;
}

}  // namespace

std::string_view to_string(Condition c) noexcept {
    return CONDITIONS[static_cast<std::size_t>(c)];
}
std::string_view to_string(Severity s) noexcept {
    return SEVERITIES[static_cast<std::size_t>(s)];
}
std::string_view to_string(AlertState s) noexcept {
    return STATES[static_cast<std::size_t>(s)];
}
std::string_view to_string(AlertEvent::Kind k) noexcept {
    return KINDS[static_cast<std::size_t>(k)];
}
std::optional<Condition> parse_condition(std::string_view text) noexcept {
    auto i = index_in(CONDITIONS, text);
    return i ? std::optional(static_cast<Condition>(*i)) : std::nullopt;
}
std::optional<Severity> parse_severity(std::string_view text) noexcept {
    auto i = index_in(SEVERITIES, text);
    return i ? std::optional(static_cast<Severity>(*i)) : std::nullopt;
}

std::vector<AlertRule> default_rules() {
    std::vector<AlertRule> rules(4);
    rules[0].name = "high_error_rate";
    rules[0].metric = "error_rate_percent";
    rules[0].condition = Condition::Gt;
    rules[0].threshold = 5;
    rules[0].for_duration = 1min;
    rules[0].severity = Severity::High;
    rules[0].annotations = {{"summary", "more than 5% of events fail"}};
    rules[1].name = "low_throughput";
    rules[1].metric = "events_total:rate5m";
    rules[1].aggregate = Aggregate::Sum;
    rules[1].condition = Condition::Lt;
    rules[1].threshold = 1;
    rules[1].for_duration = 5min;
    rules[1].severity = Severity::Medium;
    rules[1].annotations = {{"summary", "fewer than 1 event per second over 5 minutes"}};
    rules[2].name = "high_latency";
    rules[2].metric = "processing_latency_ms:p95";
    rules[2].condition = Condition::Gt;
    rules[2].threshold = 1000;
    rules[2].for_duration = 1min;
    rules[2].severity = Severity::Medium;
    rules[2].annotations = {{"summary", "95th percentile processing latency above 1 s"}};
    rules[3].name = "component_down";
    rules[3].metric = "component_health";
    rules[3].condition = Condition::Eq;
    rules[3].threshold = 3;
    rules[3].for_duration = 30s;
    rules[3].severity = Severity::Critical;
    rules[3].annotations = {{"summary", "a component is down"}};
    for (auto& r : rules) {
        r.repeat_interval = 30min;
        r.cooldown = 5min;
    }
    return rules;
}

// ---- engine ----

bool AlertRule::same_definition(const AlertRule& o) const {
    return name == o.name && metric == o.metric && matchers == o.matchers &&
           aggregate == o.aggregate && condition == o.condition && threshold == o.threshold &&
           for_duration == o.for_duration && severity == o.severity &&
           repeat_interval == o.repeat_interval && cooldown == o.cooldown && labels == o.labels &&
           annotations == o.annotations && enabled == o.enabled;
}

namespace {

std::vector<AlertRule> enabled_rules(std::vector<AlertRule> rules) {
    std::vector<AlertRule> out;
    std::set<std::string> names;
    for (auto& r : rules) {
        if (!r.enabled) {
            continue;
        }
        if (!names.insert(r.name).second) {
            throw std::invalid_argument(fmt::format("two alert rules are named '{}'", r.name));
        }
        out.push_back(std::move(r));
    }
    return out;
}

}  // namespace

AlertEngine::AlertEngine(std::vector<AlertRule> rules,
                         std::function<SeriesInfo(std::uint32_t)> resolve)
    : _rules(enabled_rules(std::move(rules))), _resolve(std::move(resolve)) {
    _instances.resize(_rules.size());
    _aggregated.resize(_rules.size());
}

std::vector<AlertEvent> AlertEngine::replace_rules(std::vector<AlertRule> rules,
                                                   Clock::time_point now) {
    auto next = enabled_rules(std::move(rules));
    std::vector<std::deque<Instance>> instances(next.size());
    std::vector<Instance> aggregated(next.size());
    std::vector<bool> kept(_rules.size(), false);
    for (std::size_t i = 0; i < next.size(); ++i) {
        for (std::size_t j = 0; j < _rules.size(); ++j) {
            if (!kept[j] && _rules[j].same_definition(next[i])) {
                kept[j] = true;
                instances[i] = std::move(_instances[j]);
                aggregated[i] = std::move(_aggregated[j]);
                break;
            }
        }
    }
    // The vectors move into the retired list whole, so these pointers stay valid.
    std::vector<AlertEvent> out;
    for (std::size_t j = 0; j < _rules.size(); ++j) {
        if (kept[j]) {
            continue;
        }
        auto resolve = [&](Instance& inst) {
            if (inst.state == AlertState::Firing) {
                ++_resolved;
                out.push_back({AlertEvent::Kind::Resolved, &_rules[j], &inst.labels, inst.value,
                               now, inst.since});
            }
        };
        for (auto& inst : _instances[j]) {
            resolve(inst);
        }
        resolve(_aggregated[j]);
    }
    _retired.push_back({std::move(_rules), std::move(_instances), std::move(_aggregated)});
    _rules = std::move(next);
    _instances = std::move(instances);
    _aggregated = std::move(aggregated);
    _by_series.clear();  // rule indices moved; instances are found again by their labels
    return out;
}

void AlertEngine::step(std::uint32_t rule, Instance& inst, bool condition, double value,
                       Clock::time_point now, std::vector<AlertEvent>& out) {
    const AlertRule& r = _rules[rule];
    auto emit = [&](AlertEvent::Kind kind) {
        out.push_back({kind, &r, &inst.labels, value, now, inst.since});
    };
    bool cooling = inst.ever_resolved && now - inst.resolved_at < r.cooldown;
    switch (inst.state) {
        case AlertState::Inactive:
            if (!condition) {
                return;
            }
            inst.since = now;
            inst.value = value;
            if (r.for_duration.count() == 0 && !cooling) {
                inst.state = AlertState::Firing;
                inst.last_notified = now;
                ++_fired;
                emit(AlertEvent::Kind::Firing);
            } else {
                inst.state = AlertState::Pending;
                emit(AlertEvent::Kind::Pending);
            }
            return;
        case AlertState::Pending:
            inst.value = value;
            if (!condition) {
                inst.state = AlertState::Inactive;
                emit(AlertEvent::Kind::Cleared);
                return;
            }
            if (now - inst.since >= r.for_duration && !cooling) {
                inst.state = AlertState::Firing;
                inst.last_notified = now;
                ++_fired;
                emit(AlertEvent::Kind::Firing);
            }
            return;
        case AlertState::Firing:
            inst.value = value;
            if (!condition) {
                inst.state = AlertState::Inactive;
                inst.resolved_at = now;
                inst.ever_resolved = true;
                ++_resolved;
                emit(AlertEvent::Kind::Resolved);
                return;
            }
            if (r.repeat_interval.count() > 0 && now - inst.last_notified >= r.repeat_interval) {
                inst.last_notified = now;
                emit(AlertEvent::Kind::Repeat);
            }
            return;
    }
}

std::vector<AlertEvent> AlertEngine::evaluate(std::span<const SeriesValue> values,
                                              Clock::time_point now) {
    ++_cycle;
    std::vector<AlertEvent> out;
    struct Acc {
        double sum = 0;
        double min = std::numeric_limits<double>::infinity();
        double max = -std::numeric_limits<double>::infinity();
        std::size_t count = 0;
    };
    std::vector<Acc> acc(_rules.size());
    for (const auto& sv : values) {
        if (sv.series >= _by_series.size()) {
            _by_series.resize(sv.series + 1);
        }
        auto& matched = _by_series[sv.series];
        if (!matched.known) {
            matched.known = true;
            auto info = _resolve(sv.series);
            for (std::uint32_t r = 0; r < _rules.size(); ++r) {
                if (matches(_rules[r], info)) {
                    std::uint32_t index = 0;
                    if (_rules[r].aggregate == Aggregate::None) {
                        auto& list = _instances[r];
                        auto it = std::find_if(list.begin(), list.end(), [&](const auto& inst) {
                            return inst.labels == info.labels;  // kept across a rule reload
                        });
                        index = static_cast<std::uint32_t>(it - list.begin());
                        if (it == list.end()) {
                            list.emplace_back().labels = info.labels;
                        }
                    }
                    matched.rules.emplace_back(r, index);
                }
            }
        }
        for (auto [r, index] : matched.rules) {
            if (_rules[r].aggregate != Aggregate::None) {
                auto& a = acc[r];
                a.sum += sv.value;
                a.min = std::min(a.min, sv.value);
                a.max = std::max(a.max, sv.value);
                ++a.count;
                continue;
            }
            auto& inst = _instances[r][index];
            inst.seen_cycle = _cycle;
            step(r, inst, holds(_rules[r], sv.value), sv.value, now, out);
        }
    }
    for (std::uint32_t r = 0; r < _rules.size(); ++r) {
        const auto& rule = _rules[r];
        if (rule.aggregate != Aggregate::None) {
            const auto& a = acc[r];
            double v = 0;
            switch (rule.aggregate) {
                case Aggregate::Sum: v = a.sum; break;
                case Aggregate::Avg: v = a.count ? a.sum / static_cast<double>(a.count) : 0; break;
                case Aggregate::Min: v = a.min; break;
                case Aggregate::Max: v = a.max; break;
                case Aggregate::None: break;
            }
            // No series at all: no data, which is not "throughput 0" (nothing to judge yet).
            step(r, _aggregated[r], a.count > 0 && holds(rule, v), v, now, out);
            continue;
        }
        // Series that vanished: their condition no longer holds.
        for (auto& inst : _instances[r]) {
            if (inst.seen_cycle != _cycle && inst.state != AlertState::Inactive) {
                step(r, inst, false, inst.value, now, out);
            }
        }
    }
    return out;
}

std::vector<ActiveAlert> AlertEngine::active() const {
    std::vector<ActiveAlert> out;
    for (std::uint32_t r = 0; r < _rules.size(); ++r) {
        if (_rules[r].aggregate != Aggregate::None) {
            const auto& inst = _aggregated[r];
            if (inst.state != AlertState::Inactive) {
                out.push_back({&_rules[r], {}, inst.state, inst.value, inst.since});
            }
            continue;
        }
        for (const auto& inst : _instances[r]) {
            if (inst.state != AlertState::Inactive) {
                out.push_back({&_rules[r], inst.labels, inst.state, inst.value, inst.since});
            }
        }
    }
    return out;
}

// ---- loader ----

namespace {

// What is wrong with the series a rule reads (a metric or reading that does not exist, a label
// the metric does not have); `on_metric` says whether it is the metric's name.
std::optional<std::string> series_error(const MetricsRegistry& registry, const AlertRule& r,
                                        bool& on_metric) {
    std::string error;
    auto parsed = parse_series_name(registry, r.metric, &error);
    if (!parsed) {
        on_metric = true;
        return fmt::format("alert rule '{}': {}", r.name, error);
    }
    for (const auto& m : r.matchers) {
        const auto& names = parsed->first->label_names;
        if (std::find(names.begin(), names.end(), m.name) == names.end()) {
            on_metric = false;
            return fmt::format(
                "alert rule '{}': '{}' has no label '{}' (its labels: {})", r.name,
                parsed->first->name, m.name,
                names.empty() ? std::string("none") : fmt::format("{}", fmt::join(names, ", ")));
        }
    }
    return std::nullopt;
}

struct RuleLoader : config::YamlReader {
    RuleLoader(std::string file, const MetricsRegistry& r)
        : config::YamlReader(std::move(file)), registry(r) {}
    const MetricsRegistry& registry;

    Labels labels(const YAML::Node& node, std::string_view what) const {
        if (!node.IsMap()) {
            fail(node, fmt::format("{}: expected a mapping of names to values", what));
        }
        Labels out;
        for (const auto& e : node) {
            out.emplace_back(e.first.Scalar(), scalar(e.second, what));
        }
        std::sort(out.begin(), out.end());
        return out;
    }

    AlertRule rule(const YAML::Node& node) const {
        if (!node.IsMap()) {
            fail(node, "alerts.rules: each rule is a mapping");
        }
        AlertRule r;
        r.line = node.Mark().is_null() ? 0 : node.Mark().line + 1;
        bool has_threshold = false;
        YAML::Node metric_node;
        for (const auto& e : node) {
            const auto& key = e.first.Scalar();
            const auto& v = e.second;
            if (key == "name") {
                r.name = scalar(v, "name");
            } else if (key == "metric") {
                r.metric = scalar(v, "metric");
                metric_node = v;
            } else if (key == "match") {
                if (!v.IsMap()) {
                    fail(v, "match: expected a mapping of label: value (or label: {ne: value})");
                }
                for (const auto& m : v) {
                    if (m.second.IsMap()) {
                        if (m.second.size() != 1 || (!m.second["ne"] && !m.second["eq"])) {
                            fail(m.second, "match: a label takes a value, {eq: v} or {ne: v}");
                        }
                        bool ne = static_cast<bool>(m.second["ne"]);
                        r.matchers.push_back({m.first.Scalar(),
                                              scalar(ne ? m.second["ne"] : m.second["eq"], "match"),
                                              !ne});
                    } else {
                        r.matchers.push_back({m.first.Scalar(), scalar(m.second, "match"), true});
                    }
                }
            } else if (key == "aggregate") {
                auto i = index_in(AGGREGATES, scalar(v, "aggregate"));
                if (!i) {
                    fail(v, "aggregate: expected none, sum, avg, min or max");
                }
                r.aggregate = static_cast<Aggregate>(*i);
            } else if (key == "condition") {
                auto c = parse_condition(scalar(v, "condition"));
                if (!c) {
                    fail(v, fmt::format("condition: expected one of gt, gte, lt, lte, eq, ne; got "
                                        "'{}'",
                                        v.Scalar()));
                }
                r.condition = *c;
            } else if (key == "threshold") {
                auto text = scalar(v, "threshold");
                double d = 0;
                auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), d);
                if (ec != std::errc() || ptr != text.data() + text.size()) {
                    fail(v, fmt::format("threshold: expected a number, got '{}'", text));
                }
                r.threshold = d;
                has_threshold = true;
            } else if (key == "for") {
                r.for_duration = duration(v, "for");
            } else if (key == "severity") {
                auto s = parse_severity(scalar(v, "severity"));
                if (!s) {
                    fail(v, fmt::format("severity: expected one of info, low, medium, high, "
                                        "critical; got '{}'",
                                        v.Scalar()));
                }
                r.severity = *s;
            } else if (key == "repeat_interval") {
                r.repeat_interval = duration(v, "repeat_interval");
            } else if (key == "cooldown") {
                r.cooldown = duration(v, "cooldown");
            } else if (key == "labels") {
                r.labels = labels(v, "labels");
            } else if (key == "annotations") {
                r.annotations = labels(v, "annotations");
            } else if (key == "enabled") {
                auto t = scalar(v, "enabled");
                if (t != "true" && t != "false") {
                    fail(v, "enabled: expected true or false");
                }
                r.enabled = t == "true";
            } else {
                fail(e.first, fmt::format("alerts.rules: unknown key '{}'; expected one of {}", key,
                                          fmt::join(RULE_KEYS, ", ")));
            }
        }
        if (r.name.empty()) {
            fail(node, "alerts.rules: a rule needs a name");
        }
        if (r.metric.empty()) {
            fail(node, fmt::format("alert rule '{}': metric is required", r.name));
        }
        if (!has_threshold) {
            fail(node, fmt::format("alert rule '{}': threshold is required", r.name));
        }
        bool on_metric = false;
        if (auto error = series_error(registry, r, on_metric)) {
            fail(on_metric ? metric_node : node, *error);
        }
        return r;
    }
};

}  // namespace

void check_alert_rule(const AlertRule& rule, const MetricsRegistry& registry) {
    if (rule.name.empty()) {
        throw std::invalid_argument("an alert rule needs a name");
    }
    if (rule.metric.empty()) {
        throw std::invalid_argument(fmt::format("alert rule '{}': metric is required", rule.name));
    }
    if (!std::isfinite(rule.threshold)) {
        throw std::invalid_argument(
            fmt::format("alert rule '{}': threshold must be a finite number", rule.name));
    }
    for (auto [what, d] : {std::pair{"for_duration", rule.for_duration},
                           std::pair{"repeat_interval", rule.repeat_interval},
                           std::pair{"cooldown", rule.cooldown}}) {
        if (d.count() < 0) {
            throw std::invalid_argument(
                fmt::format("alert rule '{}': {} must not be negative", rule.name, what));
        }
    }
    bool on_metric = false;
    if (auto error = series_error(registry, rule, on_metric)) {
        throw std::invalid_argument(*error);
    }
}

std::vector<AlertRule> load_alert_rules(const config::Config& config,
                                        const MetricsRegistry& registry) {
    bool defaults = true;
    std::vector<AlertRule> file_rules;
    if (!config.text().empty()) {
        RuleLoader loader(config.source(), registry);
        auto root = loader.root(config);
        auto alerts = root.IsMap() ? root["alerts"] : YAML::Node();
        if (alerts && !alerts.IsNull()) {
            if (!alerts.IsMap()) {
                loader.fail(alerts, "alerts: expected a mapping with defaults and rules");
            }
            for (const auto& e : alerts) {
                const auto& key = e.first.Scalar();
                if (key == "defaults") {
                    defaults = loader.boolean(e.second, "alerts.defaults");
                } else if (key == "rules") {
                    if (!e.second.IsSequence()) {
                        loader.fail(e.second, "alerts.rules: expected a list of rules");
                    }
                    std::map<std::string, int> lines;
                    for (const auto& n : e.second) {
                        auto r = loader.rule(n);
                        auto [it, inserted] = lines.emplace(r.name, r.line);
                        if (!inserted) {
                            loader.fail(n, fmt::format("alert rule '{}' is defined twice (first "
                                                       "on line {})",
                                                       r.name, it->second));
                        }
                        file_rules.push_back(std::move(r));
                    }
                } else {
                    loader.fail(e.first, fmt::format("alerts: unknown key '{}'; expected defaults "
                                                     "or rules",
                                                     key));
                }
            }
        }
    }
    std::vector<AlertRule> out;
    if (defaults) {
        for (auto& d : default_rules()) {
            bool replaced = std::any_of(file_rules.begin(), file_rules.end(),
                                        [&](const auto& r) { return r.name == d.name; });
            if (!replaced) {
                out.push_back(std::move(d));
            }
        }
    }
    for (auto& r : file_rules) {
        out.push_back(std::move(r));
    }
    return out;
}

}  // namespace agentstream::monitor
