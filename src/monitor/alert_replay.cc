#include <agentstream/monitor/alert_replay.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <set>
#include <stdexcept>

namespace agentstream::monitor {

Result<RecordedPoint, std::string> parse_recorded_point(std::string_view line) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
        return failure(std::string("not a JSON object"));
    }
    if (!j.contains("time") || !j["time"].is_string()) {
        return failure(std::string("time: expected an RFC 3339 string"));
    }
    auto t = parse_rfc3339(j["time"].get<std::string>());
    if (!t) {
        return failure(fmt::format("time: '{}' is not RFC 3339", j["time"].get<std::string>()));
    }
    if (!j.contains("metric") || !j["metric"].is_string()) {
        return failure(std::string("metric: expected a series name"));
    }
    RecordedPoint p;
    p.time = *t;
    p.metric = j["metric"].get<std::string>();
    if (j.contains("labels")) {
        if (!j["labels"].is_object()) {
            return failure(std::string("labels: expected an object of strings"));
        }
        for (auto& [k, v] : j["labels"].items()) {
            if (!v.is_string()) {
                return failure(fmt::format("labels.{}: expected a string", k));
            }
            p.labels.emplace_back(k, v.get<std::string>());
        }
        std::sort(p.labels.begin(), p.labels.end());
    }
    if (!j.contains("value") || !(j["value"].is_number() || j["value"].is_null())) {
        return failure(std::string("value: expected a number (or null: the series ends)"));
    }
    if (j["value"].is_number()) {
        p.value = j["value"].get<double>();
    }
    return p;
}

AlertReplay::AlertReplay(std::vector<AlertRule> rules, const MetricsRegistry& registry)
    : _registry(registry),
      _engine(std::move(rules), [this](std::uint32_t id) { return _infos.at(id); }) {}

void AlertReplay::add(RecordedPoint point) {
    std::string error;
    auto parsed = parse_series_name(_registry, point.metric, &error);
    if (!parsed) {
        throw std::invalid_argument(error);
    }
    std::sort(point.labels.begin(), point.labels.end());
    auto key = series_text(point.metric, point.labels);
    auto [it, inserted] = _ids.emplace(key, static_cast<std::uint32_t>(_infos.size()));
    if (inserted) {
        _infos.push_back({point.metric, parsed->first->name, parsed->second, point.labels});
    }
    _points.push_back({point.time, it->second, point.value});
}

AlertReplay::Summary AlertReplay::run(
    std::optional<std::chrono::milliseconds> step,
    const std::function<void(Timestamp, const AlertEvent&)>& on_transition) {
    std::stable_sort(_points.begin(), _points.end(),
                     [](const Point& a, const Point& b) { return a.time < b.time; });
    // Evaluation times: every time recorded, and every step between the first and the last.
    std::set<Timestamp> times;
    for (const auto& p : _points) {
        times.insert(p.time);
    }
    if (step && step->count() > 0 && !_points.empty()) {
        for (auto t = _points.front().time; t <= _points.back().time; t += *step) {
            times.insert(t);
        }
    }
    Summary s;
    s.evaluations = times.size();
    std::map<std::uint32_t, double> current;  // values carry forward until changed or ended
    std::size_t next = 0;
    for (auto t : times) {
        while (next < _points.size() && _points[next].time <= t) {
            const auto& p = _points[next++];
            if (p.value) {
                current[p.series] = *p.value;
            } else {
                current.erase(p.series);
            }
        }
        std::vector<SeriesValue> values;
        values.reserve(current.size());
        for (const auto& [id, v] : current) {
            values.push_back({id, v});
        }
        for (const auto& e : _engine.evaluate(values, t)) {
            ++s.transitions;
            if (on_transition) {
                on_transition(t, e);
            }
        }
    }
    return s;
}

}  // namespace agentstream::monitor
