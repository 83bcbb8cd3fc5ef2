// RealTimeMonitor: the design's monitor. Owns the metrics registry, the alert engine and the
// health of each component; once per tick it samples the registry, derives the error rates,
// evaluates the rules and rebuilds the snapshots the HTTP API serves.
#pragma once

#include <agentstream/monitor/alerts.h>
#include <agentstream/monitor/event_tail.h>
#include <agentstream/monitor/metrics.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <vector>

namespace agentstream::monitor {

enum class HealthStatus : std::uint8_t { Healthy, Warning, Critical, Down };
std::string_view to_string(HealthStatus s) noexcept;

struct ComponentHealth {
    std::string component;
    HealthStatus status = HealthStatus::Healthy;
    std::string message;
};

/// A row of the routes table (cumulative counters).
struct RouteRow {
    std::string name;
    std::uint64_t matched = 0, delivered = 0, filtered_out = 0, transform_errors = 0;
    std::uint64_t latency_p50_ns = 0, latency_p99_ns = 0;
};

/// A row of the processors table (cumulative counters and current state).
struct ProcessorRow {
    std::string name;
    std::string group;
    std::uint64_t consumed = 0, processed = 0, failed = 0, dead_lettered = 0, in_flight = 0;
    std::int64_t lag = -1;
    std::uint64_t latency_p50_us = 0, latency_p95_us = 0, latency_p99_us = 0;
    bool healthy = true;
    std::string health;
};

/// A row of the agents table.
struct AgentRow {
    std::string id;
    std::string role;
    std::uint32_t busy = 0, capacity = 0;
    std::uint64_t completed = 0, failed = 0;
    std::string health;
};

/// What the service observed this tick, for the tables and the derived series.
struct Observations {
    std::vector<ProcessorRow> processors;
    std::vector<RouteRow> routes;
    std::vector<AgentRow> agents;
    std::vector<TailEntry> recent_events;
    /// Component health to record this tick (set_health for each).
    std::vector<ComponentHealth> health;
};

/// Fills in what one watched part observed (its rows, its health); called on each tick.
using ObservationSource = std::function<void(Observations&)>;
/// Told of each alert transition of a tick (firing, repeat, resolved), on the monitor's
/// thread; the rule and labels it points to are valid during the call.
using AlertCallback = std::function<void(const AlertEvent&)>;

struct MonitorOptions {
    std::chrono::milliseconds interval{1000};  ///< between ticks, when start()ed
};

/// What changed since a reader's last look (the `/events` stream).
struct MonitorUpdate {
    std::uint64_t sequence = 0;       ///< pass it to the next wait_update()
    std::string dashboard;            ///< the newest snapshot, when a tick ran since
    std::vector<std::string> alerts;  ///< alert transitions since (JSON objects), oldest first
};

/// Thread-safe: tick() on the monitor's thread, the readers from any (HTTP handlers).
class RealTimeMonitor {
  public:
    explicit RealTimeMonitor(std::vector<AlertRule> rules, MonitorOptions options = {});
    /// The design's RealTimeMonitor("system_monitor"): the default rules (default_rules()),
    /// `name` for the monitor's own component health.
    explicit RealTimeMonitor(std::string name, MonitorOptions options = {});
    ~RealTimeMonitor();
    RealTimeMonitor(const RealTimeMonitor&) = delete;
    RealTimeMonitor& operator=(const RealTimeMonitor&) = delete;

    /// Ticks every MonitorOptions::interval on a thread of its own until stop(), with what the
    /// observation sources report. start() on a started monitor does nothing.
    void start();
    /// Stops ticking (waits for a tick under way). Also done by the destructor.
    void stop() noexcept;
    bool running() const noexcept;

    /// Adds what a watched part reports to every tick (runtime::watch() adds a processor).
    /// Thread-safe; a source must stay valid until stop() (or the monitor's end).
    void observe(ObservationSource source);
    /// Called with each alert transition of the monitor's own ticks (it must not change the
    /// rules: the rule it is told of is the monitor's own).
    void on_alert(AlertCallback callback);

    /// Adds a rule built in code, checked as the pipeline file's rules are (check_alert_rule()):
    /// throws std::invalid_argument, changing nothing. A rule of the same name is replaced, as
    /// a pipeline file's rule replaces the default of its name (an unchanged one keeps its
    /// state; a changed one starts afresh). Thread-safe (the monitor may be running).
    void add_alert_rule(AlertRule rule);
    /// Removes the rule named `name` (its firing alerts resolve); false when there is none.
    bool remove_alert_rule(std::string_view name);
    std::vector<AlertRule> alert_rules() const;
    /// What the monitor's ticks have seen since it started: firing (first time, not repeats)
    /// and resolved transitions.
    struct AlertCounts {
        std::uint64_t fired = 0, resolved = 0;
    };
    AlertCounts alert_counts() const;

    MetricsRegistry& registry() noexcept { return _registry; }

    /// Sets a component's health (and its component_health series).
    void set_health(ComponentHealth health);
    std::vector<ComponentHealth> health() const;

    /// One cycle: error rates from the processors' counters, registry sample, rule evaluation,
    /// snapshots rebuilt. Returns the alert transitions of this cycle (firing, repeat,
    /// resolved; pending and cleared are kept out).
    std::vector<AlertEvent> tick(Clock::time_point now, const Observations& observations);

    /// The design's get_dashboard_data(): dashboard_json().
    std::string get_dashboard_data() const { return dashboard_json(); }
    /// The dashboard snapshot (JSON): the design's structure (timestamp, uptime_seconds,
    /// component_health, metrics {events_per_second, avg_latency_ms, error_rate, active_tasks},
    /// alerts {active_count, total_triggered, last_alert}) plus topics, latency, lag, routes,
    /// processors and active alerts.
    std::string dashboard_json() const;
    std::string alerts_json() const;
    std::string routes_json() const;
    std::string processors_json() const;
    std::string agents_json() const;
    /// The chart history: one point per tick over the last 5 minutes (JSON).
    std::string history_json() const;

    /// Blocks until a tick after `sequence` ran (or `timeout` passed: then the update has no
    /// snapshot). With sequence 0 it returns at once once the first tick ran.
    MonitorUpdate wait_update(std::uint64_t sequence, std::chrono::milliseconds timeout) const;
    std::string prometheus_text() const { return _registry.prometheus_text(); }

    /// Swaps the alert rules (a reloaded file): unchanged rules keep their state; firing alerts
    /// of removed or changed rules resolve and are returned. Call it from the thread that
    /// calls tick(). Throws std::invalid_argument (duplicate names) changing nothing.
    std::vector<AlertEvent> replace_rules(std::vector<AlertRule> rules, Clock::time_point now);

    /// Liveness: a tick ran within `max_age`, or the monitor was created less than `max_age`
    /// ago and has not ticked yet (starting). Readiness: a tick ran, live, and no component down.
    bool live(Clock::time_point now, std::chrono::seconds max_age) const;
    bool ready(Clock::time_point now, std::chrono::seconds max_age) const;

  private:
    struct Recent {  // a transition kept for the dashboard
        std::uint64_t sequence;
        std::string rule;
        std::string kind;
        std::string severity;
        std::string series;
        double value;
        Clock::time_point at;
    };

    std::vector<AlertEvent> tick_locked(Clock::time_point now, const Observations& observations);
    std::vector<AlertEvent> replace_rules_locked(std::vector<AlertRule> rules,
                                                 Clock::time_point now);
    void loop();

    MonitorOptions _options;
    std::string _name;
    MetricsRegistry _registry;
    // Ticks and rule changes, one at a time (the engine is not thread-safe); the sources.
    mutable std::mutex _tick_mutex;
    AlertEngine _engine;
    std::vector<ObservationSource> _sources;
    AlertCallback _on_alert;
    AlertCounts _alert_counts;
    // The monitor's thread.
    mutable std::mutex _run_mutex;
    std::condition_variable _wake;
    bool _stopping = false;
    std::thread _thread;
    Clock::time_point _started;
    mutable std::mutex _mutex;  // guards everything below
    std::vector<ComponentHealth> _health;
    std::deque<Recent> _recent;
    std::string _dashboard = "{}";
    std::string _alerts = "[]";
    std::string _routes = "[]";
    std::string _processors = "[]";
    std::string _agents = "[]";
    std::deque<std::string> _history;  // chart points (JSON objects)
    std::uint64_t _sequence = 0;       // ticks so far
    mutable std::condition_variable _updated;
    std::optional<Clock::time_point> _last_tick;
    std::map<std::string, std::deque<std::tuple<Clock::time_point, std::uint64_t, std::uint64_t>>>
        _error_history;
};

}  // namespace agentstream::monitor
