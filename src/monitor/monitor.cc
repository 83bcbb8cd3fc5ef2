#include <agentstream/core/time.h>
#include <agentstream/monitor/monitor.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <stdexcept>

namespace agentstream::monitor {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

// Snapshots are built from names and values that come from records and configuration; a byte
// that is not UTF-8 is replaced (U+FFFD) rather than failing the whole tick (the event tail
// escapes its entries before they get here).
std::string text_of(const json& value) {
    return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

constexpr std::string_view HEALTH[] = {"healthy", "warning", "critical", "down"};

std::string time_text(Clock::time_point t) {
    return format_rfc3339(std::chrono::time_point_cast<std::chrono::microseconds>(t));
}

json labels_json(const Labels& labels) {
    json out = json::object();
    for (const auto& [k, v] : labels) {
        out[k] = v;
    }
    return out;
}

}  // namespace

std::string_view to_string(HealthStatus s) noexcept {
    return HEALTH[static_cast<std::size_t>(s)];
}

RealTimeMonitor::RealTimeMonitor(std::vector<AlertRule> rules, MonitorOptions options)
    : _options(options),
      _name("monitor"),
      _engine(std::move(rules), [this](std::uint32_t id) { return _registry.series(id); }),
      _started(Clock::now()) {
    if (_options.interval.count() <= 0) {
        throw std::invalid_argument("the monitor's interval must be positive");
    }
}

RealTimeMonitor::RealTimeMonitor(std::string name, MonitorOptions options)
    : RealTimeMonitor(default_rules(), options) {
    if (name.empty()) {
        throw std::invalid_argument("a monitor needs a name");
    }
    _name = std::move(name);
}

RealTimeMonitor::~RealTimeMonitor() {
    stop();
}

void RealTimeMonitor::start() {
    std::lock_guard lock(_run_mutex);
    if (_thread.joinable()) {
        return;
    }
    _stopping = false;
    _thread = std::thread([this] { loop(); });
}

void RealTimeMonitor::stop() noexcept {
    std::thread thread;
    {
        std::lock_guard lock(_run_mutex);
        _stopping = true;
        thread = std::move(_thread);
    }
    _wake.notify_all();
    if (thread.joinable()) {
        thread.join();
    }
}

bool RealTimeMonitor::running() const noexcept {
    std::lock_guard lock(_run_mutex);
    return _thread.joinable();
}

void RealTimeMonitor::loop() {
    auto next = Clock::now();
    for (;;) {
        {
            std::unique_lock lock(_run_mutex);
            if (_wake.wait_until(lock, next, [this] { return _stopping; })) {
                return;
            }
        }
        next += _options.interval;
        auto now = Clock::now();
        if (next < now) {  // a slow tick (or a suspended process): no burst to catch up
            next = now + _options.interval;
        }
        std::lock_guard lock(_tick_mutex);
        Observations observations;
        observations.health.push_back({_name, HealthStatus::Healthy, "running"});
        for (const auto& source : _sources) {
            try {
                source(observations);
            } catch (const std::exception& e) {
                observations.health.push_back(
                    {_name, HealthStatus::Warning,
                     fmt::format("an observation source failed: {}", e.what())});
            }
        }
        for (const auto& event : tick_locked(now, observations)) {
            if (_on_alert) {
                try {
                    _on_alert(event);
                } catch (const std::exception&) {
                    // The callback's failure is its own; the monitor goes on ticking.
                }
            }
        }
    }
}

void RealTimeMonitor::observe(ObservationSource source) {
    std::lock_guard lock(_tick_mutex);
    _sources.push_back(std::move(source));
}

void RealTimeMonitor::on_alert(AlertCallback callback) {
    std::lock_guard lock(_tick_mutex);
    _on_alert = std::move(callback);
}

void RealTimeMonitor::add_alert_rule(AlertRule rule) {
    check_alert_rule(rule, _registry);
    std::lock_guard lock(_tick_mutex);
    auto rules = _engine.rules();
    auto same = std::find_if(rules.begin(), rules.end(),
                             [&](const AlertRule& r) { return r.name == rule.name; });
    if (same != rules.end()) {
        *same = std::move(rule);
    } else {
        rules.push_back(std::move(rule));
    }
    replace_rules_locked(std::move(rules), Clock::now());
}

bool RealTimeMonitor::remove_alert_rule(std::string_view name) {
    std::lock_guard lock(_tick_mutex);
    auto rules = _engine.rules();
    auto it = std::find_if(rules.begin(), rules.end(),
                           [&](const AlertRule& r) { return r.name == name; });
    if (it == rules.end()) {
        return false;
    }
    rules.erase(it);
    replace_rules_locked(std::move(rules), Clock::now());
    return true;
}

std::vector<AlertRule> RealTimeMonitor::alert_rules() const {
    std::lock_guard lock(_tick_mutex);
    return _engine.rules();
}

RealTimeMonitor::AlertCounts RealTimeMonitor::alert_counts() const {
    std::lock_guard lock(_tick_mutex);
    return _alert_counts;
}

void RealTimeMonitor::set_health(ComponentHealth health) {
    _registry.gauge("component_health", {{"component", health.component}})
        .set(static_cast<double>(health.status));
    std::lock_guard lock(_mutex);
    auto it = std::find_if(_health.begin(), _health.end(),
                           [&](const auto& h) { return h.component == health.component; });
    if (it == _health.end()) {
        _health.push_back(std::move(health));
    } else {
        *it = std::move(health);
    }
}

std::vector<ComponentHealth> RealTimeMonitor::health() const {
    std::lock_guard lock(_mutex);
    return _health;
}

std::vector<AlertEvent> RealTimeMonitor::tick(Clock::time_point now, const Observations& obs) {
    std::lock_guard lock(_tick_mutex);
    return tick_locked(now, obs);
}

std::vector<AlertEvent> RealTimeMonitor::tick_locked(Clock::time_point now,
                                                     const Observations& obs) {
    for (const auto& h : obs.health) {
        set_health(h);
    }
    // Error rate per processor over the last minute, and events/s over the last 10 s, from the
    // processors' own counters.
    double consumed_per_second = 0;
    std::uint64_t failed_minute = 0;
    std::uint64_t consumed_minute = 0;
    {
        std::lock_guard lock(_mutex);
        for (const auto& p : obs.processors) {
            auto& h = _error_history[p.name];
            h.emplace_back(now, p.failed + p.dead_lettered, p.consumed);
            while (h.size() > 2 && std::get<0>(h[1]) <= now - 60s) {
                h.pop_front();
            }
            auto [t0, f0, c0] = h.front();
            auto failed = p.failed + p.dead_lettered - std::min(f0, p.failed + p.dead_lettered);
            auto consumed = p.consumed - std::min(c0, p.consumed);
            failed_minute += failed;
            consumed_minute += consumed;
            double rate = consumed == 0
                              ? 0
                              : 100.0 * static_cast<double>(failed) / static_cast<double>(consumed);
            _registry.gauge("error_rate_percent", {{"component", p.name}}).set(rate);
            // events/s: the newest entry at least 10 s old (or the oldest there is).
            auto ref = std::find_if(h.rbegin(), h.rend(),
                                    [&](const auto& e) { return std::get<0>(e) <= now - 10s; });
            const auto& base = ref == h.rend() ? h.front() : *ref;
            double seconds = std::chrono::duration<double>(now - std::get<0>(base)).count();
            if (seconds > 0) {
                consumed_per_second +=
                    static_cast<double>(p.consumed - std::min(std::get<2>(base), p.consumed)) /
                    seconds;
            }
            if (p.lag >= 0) {
                _registry.gauge("consumer_lag", {{"group", p.group}})
                    .set(static_cast<double>(p.lag));
            }
        }
    }
    auto values = _registry.sample(now);
    auto events = _engine.evaluate(values, now);
    for (const auto& e : events) {
        if (e.kind == AlertEvent::Kind::Firing) {
            ++_alert_counts.fired;
        } else if (e.kind == AlertEvent::Kind::Resolved) {
            ++_alert_counts.resolved;
        }
    }

    // Snapshots.
    json topics = json::object();
    double latency_sum = 0;
    int latency_n = 0;
    double active_tasks = 0;
    double p50 = 0, p95 = 0, p99 = 0;  // the slowest processor's, over the last minute
    bool have_latency = false;
    for (const auto& v : values) {
        auto info = _registry.series(v.series);
        if (info.family == "events_total" &&
            (info.reading == Reading::Rate1m || info.reading == Reading::Value)) {
            std::string topic;
            for (const auto& [k, val] : info.labels) {
                if (k == "topic") {
                    topic = val;
                }
            }
            auto& t = topics[topic];
            if (t.is_null()) {
                t = json::object();
            }
            const char* key = info.reading == Reading::Rate1m ? "events_per_second" : "events";
            t[key] = t.value(key, 0.0) + v.value;
        } else if (info.family == "processing_latency_ms") {
            if (info.reading == Reading::Mean) {
                latency_sum += v.value;
                ++latency_n;
            } else if (info.reading == Reading::P50) {
                p50 = std::max(p50, v.value);
                have_latency = true;
            } else if (info.reading == Reading::P95) {
                p95 = std::max(p95, v.value);
            } else if (info.reading == Reading::P99) {
                p99 = std::max(p99, v.value);
            }
        } else if (info.family == "active_tasks") {
            active_tasks = v.value;
        }
    }
    json active = json::array();
    std::size_t firing = 0;
    for (const auto& a : _engine.active()) {
        firing += a.state == AlertState::Firing;
        active.push_back({{"rule", a.rule->name},
                          {"state", to_string(a.state)},
                          {"severity", to_string(a.rule->severity)},
                          {"labels", labels_json(a.series_labels)},
                          {"value", a.value},
                          {"since", time_text(a.since)},
                          {"summary", [&] {
                               for (const auto& [k, v] : a.rule->annotations) {
                                   if (k == "summary") {
                                       return v;
                                   }
                               }
                               return std::string();
                           }()}});
    }
    json routes = json::array();
    for (const auto& r : obs.routes) {
        routes.push_back({{"name", r.name},
                          {"matched", r.matched},
                          {"delivered", r.delivered},
                          {"filtered_out", r.filtered_out},
                          {"transformation_errors", r.transform_errors},
                          {"latency_p50_ns", r.latency_p50_ns},
                          {"latency_p99_ns", r.latency_p99_ns}});
    }
    json processors = json::array();
    json latency = json::object();
    json lag = json::object();
    for (const auto& p : obs.processors) {
        processors.push_back({{"name", p.name},
                              {"group", p.group},
                              {"consumed", p.consumed},
                              {"processed", p.processed},
                              {"failed", p.failed},
                              {"dead_lettered", p.dead_lettered},
                              {"in_flight", p.in_flight},
                              {"lag", p.lag},
                              {"healthy", p.healthy},
                              {"health", p.health}});
        latency[p.name] = {{"p50_ms", static_cast<double>(p.latency_p50_us) / 1000.0},
                           {"p95_ms", static_cast<double>(p.latency_p95_us) / 1000.0},
                           {"p99_ms", static_cast<double>(p.latency_p99_us) / 1000.0}};
        lag[p.group] = p.lag;
    }

    json agents = json::array();
    for (const auto& a : obs.agents) {
        agents.push_back({{"id", a.id},
                          {"role", a.role},
                          {"busy", a.busy},
                          {"capacity", a.capacity},
                          {"completed", a.completed},
                          {"failed", a.failed},
                          {"health", a.health}});
    }
    json recent_events = json::array();
    for (const auto& e : obs.recent_events) {
        recent_events.push_back({{"at", time_text(e.at)},
                                 {"topic", e.topic},
                                 {"partition", e.partition},
                                 {"offset", e.offset},
                                 {"key", e.key},
                                 {"type", e.type},
                                 {"outcome", e.outcome},
                                 {"reason", e.reason},
                                 {"preview", e.preview}});
    }

    std::lock_guard lock(_mutex);
    ++_sequence;
    for (const auto& e : events) {
        if (e.kind == AlertEvent::Kind::Pending || e.kind == AlertEvent::Kind::Cleared) {
            continue;
        }
        _recent.push_back({_sequence, e.rule->name, std::string(to_string(e.kind)),
                           std::string(to_string(e.rule->severity)),
                           series_text(e.rule->name, *e.series_labels), e.value, e.at});
        if (_recent.size() > 100) {
            _recent.pop_front();
        }
    }
    json health = json::object();
    for (const auto& h : _health) {
        health[h.component] = {{"status", to_string(h.status)}, {"message", h.message}};
    }
    json last_alert = nullptr;
    for (auto it = _recent.rbegin(); it != _recent.rend(); ++it) {
        if (it->kind == "firing") {
            last_alert = {{"rule", it->rule},
                          {"severity", it->severity},
                          {"series", it->series},
                          {"value", it->value},
                          {"at", time_text(it->at)}};
            break;
        }
    }
    json recent = json::array();
    for (const auto& r : _recent) {
        recent.push_back({{"rule", r.rule},
                          {"state", r.kind},
                          {"severity", r.severity},
                          {"series", r.series},
                          {"value", r.value},
                          {"at", time_text(r.at)}});
    }
    json dashboard = {
        {"timestamp", time_text(now)},
        {"uptime_seconds", std::chrono::duration<double>(now - _started).count()},
        {"component_health", health},
        {"metrics",
         {{"events_per_second", consumed_per_second},
          {"avg_latency_ms", latency_n ? latency_sum / latency_n : 0.0},
          {"error_rate", consumed_minute == 0 ? 0.0
                                              : 100.0 * static_cast<double>(failed_minute) /
                                                    static_cast<double>(consumed_minute)},
          {"active_tasks", active_tasks}}},
        {"alerts",
         {{"active_count", firing},
          {"total_triggered", _engine.fired_total()},
          {"last_alert", last_alert}}},
        {"topics", topics},
        {"latency", latency},
        {"lag", lag},
        {"routes", routes},
        {"processors", processors},
        {"agents", agents},
        {"active_alerts", active},
        {"recent_events", recent_events},
    };
    json point = {{"t", std::chrono::duration<double>(now.time_since_epoch()).count()},
                  {"events_per_second", consumed_per_second},
                  {"error_rate", dashboard["metrics"]["error_rate"]},
                  {"active_alerts", firing}};
    if (have_latency) {
        point["p50_ms"] = p50;
        point["p95_ms"] = p95;
        point["p99_ms"] = p99;
    }
    json topic_rates = json::object();
    for (const auto& [topic, t] : topics.items()) {
        if (t.contains("events_per_second")) {
            topic_rates[topic] = t["events_per_second"];
        }
    }
    point["topics"] = topic_rates;
    dashboard["point"] = point;  // this tick's chart point (the history holds the earlier ones)
    _dashboard = text_of(dashboard);
    _alerts = text_of(json({{"active", active}, {"recent", recent}}));
    _routes = text_of(routes);
    _processors = text_of(processors);
    _agents = text_of(agents);
    _history.push_back(text_of(point));
    while (_history.size() > 300) {
        _history.pop_front();
    }
    _last_tick = now;
    _updated.notify_all();
    std::vector<AlertEvent> notable;
    for (const auto& e : events) {
        if (e.kind != AlertEvent::Kind::Pending && e.kind != AlertEvent::Kind::Cleared) {
            notable.push_back(e);
        }
    }
    return notable;
}

std::string RealTimeMonitor::dashboard_json() const {
    std::lock_guard lock(_mutex);
    return _dashboard;
}
std::string RealTimeMonitor::alerts_json() const {
    std::lock_guard lock(_mutex);
    return _alerts;
}
std::string RealTimeMonitor::routes_json() const {
    std::lock_guard lock(_mutex);
    return _routes;
}
std::string RealTimeMonitor::processors_json() const {
    std::lock_guard lock(_mutex);
    return _processors;
}
std::string RealTimeMonitor::agents_json() const {
    std::lock_guard lock(_mutex);
    return _agents;
}

std::string RealTimeMonitor::history_json() const {
    std::lock_guard lock(_mutex);
    std::string out = "[";
    for (const auto& p : _history) {
        if (out.size() > 1) {
            out += ',';
        }
        out += p;
    }
    out += ']';
    return out;
}

MonitorUpdate RealTimeMonitor::wait_update(std::uint64_t sequence,
                                           std::chrono::milliseconds timeout) const {
    std::unique_lock lock(_mutex);
    _updated.wait_for(lock, timeout, [&] { return _sequence > sequence; });
    MonitorUpdate update;
    update.sequence = _sequence;
    if (_sequence > sequence) {
        update.dashboard = _dashboard;
        for (const auto& r : _recent) {
            if (r.sequence > sequence) {
                update.alerts.push_back(text_of(json({{"rule", r.rule},
                                                      {"state", r.kind},
                                                      {"severity", r.severity},
                                                      {"series", r.series},
                                                      {"value", r.value},
                                                      {"at", time_text(r.at)}})));
            }
        }
    }
    return update;
}

std::vector<AlertEvent> RealTimeMonitor::replace_rules(std::vector<AlertRule> rules,
                                                       Clock::time_point now) {
    std::lock_guard lock(_tick_mutex);
    return replace_rules_locked(std::move(rules), now);
}

std::vector<AlertEvent> RealTimeMonitor::replace_rules_locked(std::vector<AlertRule> rules,
                                                              Clock::time_point now) {
    auto events = _engine.replace_rules(std::move(rules), now);
    for (const auto& e : events) {
        if (e.kind == AlertEvent::Kind::Resolved) {
            ++_alert_counts.resolved;
        }
    }
    std::lock_guard lock(_mutex);
    for (const auto& e : events) {
        _recent.push_back({_sequence + 1,  // streamed with the next tick
                           e.rule->name, std::string(to_string(e.kind)),
                           std::string(to_string(e.rule->severity)),
                           series_text(e.rule->name, *e.series_labels), e.value, e.at});
        if (_recent.size() > 100) {
            _recent.pop_front();
        }
    }
    return events;
}

bool RealTimeMonitor::live(Clock::time_point now, std::chrono::seconds max_age) const {
    std::lock_guard lock(_mutex);
    if (!_last_tick) {
        // Starting: alive for its first max_age (a liveness probe must not kill a service
        // whose first tick is still to come; a slow start, under a sanitizer say, took seconds).
        return now - _started <= max_age;
    }
    return now - *_last_tick <= max_age;
}

bool RealTimeMonitor::ready(Clock::time_point now, std::chrono::seconds max_age) const {
    if (!live(now, max_age)) {
        return false;
    }
    std::lock_guard lock(_mutex);
    return _last_tick && std::none_of(_health.begin(), _health.end(),
                                      [](const auto& h) { return h.status == HealthStatus::Down; });
}

}  // namespace agentstream::monitor
