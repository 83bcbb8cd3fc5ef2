#include <agentstream/core/time.h>
#include <agentstream/event/factory.h>
#include <agentstream/processors/tasks.h>

#include <fmt/format.h>

#include "internal/json_escape.h"
#include "processors/derived.h"

namespace agentstream::processors {
namespace {

using detail::json_string;
using detail::ms_between;

using namespace std::chrono_literals;

window::WindowSpec rate_window(std::chrono::milliseconds size) {
    auto spec = window::WindowSpec::tumbling(size);
    spec.out_of_orderness = 5s;
    return spec;
}

}  // namespace

TaskTracker::TaskTracker(TaskTrackerOptions options)
    : _options(std::move(options)), _rates(rate_window(_options.rate_window)) {}

void TaskTracker::metric(const std::string& name, double value, const std::string& type,
                         const char* kind, const event::Event& cause, Emitted& out,
                         std::initializer_list<std::pair<const char*, std::string>> tags) {
    out.emplace_back(
        _options.analytics_topic,
        detail::metric_event(_options.source, name, value, kind, "task_type", type, cause, tags));
}

void TaskTracker::end_window(const std::string& type, bool failed, const event::Event& cause,
                             Emitted& out) {
    std::vector<window::WindowResult> closed;
    _rates.add(type, detail::to_millis(cause.timestamp()), failed ? 1 : 0, closed);
    auto minutes = std::chrono::duration<double, std::ratio<60>>(_options.rate_window).count();
    for (const auto& r : closed) {
        auto bounds = detail::window_bounds(r);
        metric("task_throughput_per_minute", static_cast<double>(r.aggregate.count()) / minutes,
               r.key, "gauge", cause, out, {{"window", bounds}});
        metric("task_failure_rate_percent", 100.0 * r.aggregate.avg(), r.key, "gauge", cause, out,
               {{"window", bounds}});
    }
}

void TaskTracker::on_event(const event::Event& e, Emitted& out) {
    auto id_view = e.string("task_id");
    auto type_view = e.string("task_type");
    if (!id_view || !type_view) {
        return;  // not a task event
    }
    std::string id(*id_view);
    std::string type(*type_view);
    auto ts = e.timestamp();
    auto it = _tasks.find(id);
    auto track = [&]() -> Task* {
        if (it != _tasks.end()) {
            return &it->second;
        }
        if (_tasks.size() >= _options.max_tasks) {
            ++_stats.overflow;
            return nullptr;
        }
        it = _tasks.emplace(id, Task{type, {}, e.correlation_id(), {}, {}, {}, ts, false}).first;
        return &it->second;
    };
    auto forget = [&] {
        if (it != _tasks.end()) {
            if (it->second.started) {
                --_running;
            }
            _tasks.erase(it);
            it = _tasks.end();
        }
    };
    switch (e.type()) {
        case event::EventType::TaskCreated:
            ++_stats.created;
            if (auto* t = track()) {
                t->created = ts;
                t->last_seen = ts;
            }
            metric("task_created", 1, type, "counter", e, out, {{"task_id", id}});
            break;
        case event::EventType::TaskAssigned:
            if (auto* t = track()) {
                t->assigned = ts;
                t->agent = std::string(e.string("agent_id").value_or(""));
                t->last_seen = ts;
            }
            break;
        case event::EventType::TaskStarted: {
            ++_stats.started;
            auto* t = track();
            if (t != nullptr) {
                if (!t->started) {
                    ++_running;
                }
                t->started = ts;
                t->last_seen = ts;
                if (auto agent = e.string("agent_id")) {
                    t->agent = std::string(*agent);
                }
            }
            std::optional<double> queue;
            if (t != nullptr && t->created) {
                queue = static_cast<double>(ms_between(*t->created, ts));
            } else if (auto q = e.integer("queue_time_ms")) {
                queue = static_cast<double>(*q);
            }
            if (queue) {
                metric("task_queue_time_ms", *queue, type, "gauge", e, out, {{"task_id", id}});
            }
            metric("task_started", 1, type, "counter", e, out, {{"task_id", id}});
            break;
        }
        case event::EventType::TaskCompleted:
        case event::EventType::TaskFailed: {
            bool failed = e.type() == event::EventType::TaskFailed;
            ++(failed ? _stats.failed : _stats.completed);
            std::optional<double> took;
            if (auto x = e.integer("execution_time_ms")) {
                took = static_cast<double>(*x);
            } else if (it != _tasks.end() && it->second.started) {
                took = static_cast<double>(ms_between(*it->second.started, ts));
            }
            if (it == _tasks.end()) {
                ++_stats.unknown_ends;
            }
            if (took) {
                metric("task_execution_time_ms", *took, type, "gauge", e, out, {{"task_id", id}});
            }
            if (failed) {
                metric(
                    "task_failed", 1, type, "counter", e, out,
                    {{"task_id", id},
                     {"error", std::string(e.string("error_message").value_or("(none given)"))}});
            } else {
                metric("task_completed", 1, type, "counter", e, out, {{"task_id", id}});
            }
            end_window(type, failed, e, out);
            forget();
            break;
        }
        case event::EventType::TaskCancelled:
            ++_stats.cancelled;
            metric("task_cancelled", 1, type, "counter", e, out, {{"task_id", id}});
            forget();  // the original kept cancelled tasks forever
            break;
        default: break;
    }
}

void TaskTracker::check(Clock::time_point now, Emitted& out) {
    for (auto it = _tasks.begin(); it != _tasks.end();) {
        auto& [id, t] = *it;
        if (now - t.last_seen >= _options.state_ttl) {
            ++_stats.expired;
            if (t.started) {
                --_running;
            }
            it = _tasks.erase(it);
            continue;
        }
        if (t.started && !t.stuck_reported && now - *t.started >= _options.stuck_after) {
            t.stuck_reported = true;
            ++_stats.stuck;
            auto waited =
                std::chrono::duration_cast<std::chrono::seconds>(now - *t.started).count();
            auto message = fmt::format(
                "Task {} ({}) started at {}{} has not finished after {} s (limit {} s)", id, t.type,
                format_rfc3339(*t.started), t.agent.empty() ? "" : " on " + t.agent, waited,
                std::chrono::duration_cast<std::chrono::seconds>(_options.stuck_after).count());
            auto e = event::EventFactory::system_health(
                _options.source, "warning", _options.source,
                {{"alert_level", "warning"}, {"alert_message", message}}, {},
                event::EventType::SystemAlert);
            e.set_correlation_id(t.correlation);
            e.set_extra("alert_type", event::RawJson{"\"task_stuck\""});
            e.set_extra("evidence", event::RawJson{fmt::format(
                                        "{{\"task_id\":{},\"task_type\":{},\"agent_id\":{},"
                                        "\"started_at\":\"{}\",\"waited_seconds\":{}}}",
                                        json_string(id), json_string(t.type), json_string(t.agent),
                                        format_rfc3339(*t.started), waited)});
            out.emplace_back(_options.alerts_topic, std::move(e));
        }
        ++it;
    }
}

TaskTrackerStats TaskTracker::stats() const {
    auto s = _stats;
    s.tracked = _tasks.size();
    s.running = _running;
    return s;
}

}  // namespace agentstream::processors
