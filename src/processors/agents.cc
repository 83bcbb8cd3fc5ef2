#include <agentstream/core/time.h>
#include <agentstream/event/factory.h>
#include <agentstream/processors/agents.h>

#include <fmt/format.h>

#include "internal/json_escape.h"
#include "processors/derived.h"

namespace agentstream::processors {
namespace {

using detail::json_string;

using namespace std::chrono_literals;

window::WindowSpec spec(std::chrono::milliseconds size, bool percentiles) {
    auto s = window::WindowSpec::tumbling(size);
    s.out_of_orderness = 5s;
    s.aggregates.percentiles = percentiles;
    return s;
}

}  // namespace

AgentTracker::AgentTracker(AgentTrackerOptions options)
    : _options(std::move(options)),
      _outcomes(spec(_options.stats_window, false)),
      _times(spec(_options.stats_window, true)) {}

void AgentTracker::metric(const std::string& name, double value, const std::string& agent,
                          const char* kind, const event::Event& cause, Emitted& out,
                          std::initializer_list<std::pair<const char*, std::string>> tags) {
    out.emplace_back(
        _options.analytics_topic,
        detail::metric_event(_options.source, name, value, kind, "agent_id", agent, cause, tags));
}

void AgentTracker::closed_windows(const std::vector<window::WindowResult>& outcomes,
                                  const std::vector<window::WindowResult>& times,
                                  const event::Event& cause, Emitted& out) {
    double window_ms = static_cast<double>(_options.stats_window.count());
    for (const auto& r : outcomes) {
        auto w = detail::window_bounds(r);
        metric("agent_success_rate_percent", 100.0 * r.aggregate.avg(), r.key, "gauge", cause, out,
               {{"window", w}});
        metric("agent_task_ends_per_window", static_cast<double>(r.aggregate.count()), r.key,
               "gauge", cause, out, {{"window", w}});
    }
    for (const auto& r : times) {
        auto w = detail::window_bounds(r);
        metric("agent_processing_time_p95_ms", r.aggregate.value(window::AggregateKind::P95), r.key,
               "summary", cause, out, {{"window", w}});
        // Busy time (the tasks that ended in the window) over the window's length.
        double busy = std::min(100.0, 100.0 * r.aggregate.sum() / window_ms);
        metric("agent_utilisation_percent", busy, r.key, "gauge", cause, out, {{"window", w}});
        if (auto a = _agents.find(r.key); a != _agents.end()) {
            a->second.utilisation = busy;
            a->second.utilisation_end = r.end;
        }
    }
}

void AgentTracker::on_event(const event::Event& e, Emitted& out) {
    auto id_view = e.string("agent_id");
    if (!id_view) {
        return;
    }
    std::string id(*id_view);
    auto it = _agents.find(id);
    if (it == _agents.end()) {
        if (_agents.size() >= _options.max_agents) {
            ++_stats.overflow;
            return;
        }
        it = _agents.emplace(id, Agent{}).first;
    }
    auto& a = it->second;
    a.name = std::string(e.string("agent_name").value_or(a.name));
    a.role = std::string(e.string("agent_role").value_or(a.role));
    auto ts = e.timestamp();
    auto task = std::string(e.string("task_id").value_or(""));
    std::vector<window::WindowResult> outcomes;
    std::vector<window::WindowResult> times;
    switch (e.type()) {
        case event::EventType::AgentTaskStarted:
            ++_stats.started;
            if (!task.empty()) {
                a.running[task] = ts;
            }
            metric("agent_task_started", 1, id, "counter", e, out, {{"task_id", task}});
            break;
        case event::EventType::AgentTaskCompleted: {
            ++_stats.completed;
            auto started = a.running.find(task);
            if (started != a.running.end()) {
                auto took =
                    std::chrono::duration_cast<std::chrono::milliseconds>(ts - started->second)
                        .count();
                a.running.erase(started);
                metric("agent_task_time_ms", static_cast<double>(took), id, "gauge", e, out,
                       {{"task_id", task}});
                _times.add(id, detail::to_millis(ts), static_cast<double>(took), times);
            }
            metric("agent_task_completed", 1, id, "counter", e, out, {{"task_id", task}});
            _outcomes.add(id, detail::to_millis(ts), 1, outcomes);
            break;
        }
        case event::EventType::AgentError: {
            ++_stats.errors;
            if (!task.empty()) {
                a.running.erase(task);
            }
            metric("agent_error", 1, id, "counter", e, out,
                   {{"task_id", task},
                    {"error", std::string(e.string("error_message").value_or("(none given)"))}});
            _outcomes.add(id, detail::to_millis(ts), 0, outcomes);
            a.errors.push_back(ts);
            while (!a.errors.empty() && ts - a.errors.front() > _options.burst_window) {
                a.errors.pop_front();
            }
            if (!a.in_burst && a.errors.size() >= _options.burst_errors) {
                a.in_burst = true;
                ++_stats.bursts;
                auto message = fmt::format(
                    "Agent {} ({}) reported {} errors within {} s; last: {}", id,
                    a.role.empty() ? "unknown role" : a.role, a.errors.size(),
                    std::chrono::duration_cast<std::chrono::seconds>(_options.burst_window).count(),
                    e.string("error_message").value_or("(none given)"));
                auto alert = event::EventFactory::system_health(
                    "agent:" + id, "critical", _options.source,
                    {{"alert_level", "critical"}, {"alert_message", message}}, {},
                    event::EventType::SystemAlert);
                alert.set_correlation_id(e.correlation_id());
                alert.set_extra("alert_type", event::RawJson{"\"agent_error_burst\""});
                alert.set_extra(
                    "evidence",
                    event::RawJson{fmt::format(
                        "{{\"agent_id\":{},\"errors\":{},\"window_seconds\":{},"
                        "\"first\":\"{}\",\"last\":\"{}\"}}",
                        json_string(id), a.errors.size(),
                        std::chrono::duration_cast<std::chrono::seconds>(_options.burst_window)
                            .count(),
                        format_rfc3339(a.errors.front()), format_rfc3339(ts))});
                out.emplace_back(_options.alerts_topic, std::move(alert));
            }
            break;
        }
        default: break;
    }
    // A burst ends once errors in the window fall to half the threshold.
    if (a.in_burst) {
        while (!a.errors.empty() && ts - a.errors.front() > _options.burst_window) {
            a.errors.pop_front();
        }
        if (a.errors.size() * 2 <= _options.burst_errors) {
            a.in_burst = false;
            auto health = event::EventFactory::system_health(
                "agent:" + id, "healthy", _options.source,
                {{"alert_message",
                  fmt::format(
                      "Agent {}: {} error(s) in the last {} s; the burst is over", id,
                      a.errors.size(),
                      std::chrono::duration_cast<std::chrono::seconds>(_options.burst_window)
                          .count())}});
            health.set_correlation_id(e.correlation_id());
            out.emplace_back(_options.alerts_topic, std::move(health));
        }
    }
    // Any event of an agent moves event time on (a start closes the windows before it too).
    auto watermark = detail::to_millis(ts) - _outcomes.spec().out_of_orderness.count();
    _outcomes.advance_watermark(watermark, outcomes);
    _times.advance_watermark(watermark, times);
    closed_windows(outcomes, times, e, out);
}

std::vector<std::pair<std::string, double>> AgentTracker::utilisation(
    std::chrono::system_clock::time_point now) const {
    std::vector<std::pair<std::string, double>> out;
    auto stale_before =
        std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() -
        2 * _options.stats_window.count();
    for (const auto& [id, a] : _agents) {
        if (a.utilisation) {
            out.emplace_back(id, a.utilisation_end < stale_before ? 0.0 : *a.utilisation);
        }
    }
    return out;
}

AgentTrackerStats AgentTracker::stats() const {
    auto s = _stats;
    s.agents = _agents.size();
    return s;
}

}  // namespace agentstream::processors
