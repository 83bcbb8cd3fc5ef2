// The monitor of a running service (`agentstream run`): the RealTimeMonitor fed once a second
// from the processors' and routes' counters and this process's CPU and memory, health derived
// from what they show, alert transitions logged and published to the alerts topic, and the
// HTTP API serving it all.
#pragma once

#include <agentstream/config/config.h>
#include <agentstream/http/server.h>
#include <agentstream/kafka/producer.h>
#include <agentstream/monitor/monitor.h>
#include <agentstream/monitor/progress_health.h>
#include <agentstream/notify/notifications.h>
#include <agentstream/router/router.h>
#include <agentstream/runtime/monitoring.h>
#include <agentstream/runtime/processor.h>

#include <agentstream/kafka/admin.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace agentstream::pipeline {

class Connection;

struct ServiceMonitorOptions {
    std::optional<int> http_port;  ///< overrides http.port
};

class ServiceMonitor {
  public:
    /// Throws config::ConfigError for bad alert rules, std::runtime_error when the HTTP port
    /// cannot be bound.
    ServiceMonitor(const config::Config& config, const Connection& connection,
                   const ServiceMonitorOptions& options);
    ~ServiceMonitor();

    monitor::MetricsRegistry& registry() noexcept { return _monitor.registry(); }
    /// The dashboard's sample of recent events (ProcessorOptions::tail).
    monitor::EventTail& tail() noexcept { return _tail; }
    /// One cycle; call about once a second. `processor` and `routes` are cumulative; `others`
    /// are the domain processors' rows (their health follows their row).
    void tick(const std::string& processor_name, const std::string& group,
              const runtime::ProcessorMetrics& processor, const router::RouterMetrics& routes,
              const std::vector<monitor::ProcessorRow>& others = {},
              const std::vector<monitor::AgentRow>& agents = {});
    /// The topics the service reads and writes: a partition of one without a leader makes
    /// the kafka component unhealthy (and /readyz 503). Thread-safe.
    void watch_topics(std::vector<std::string> topics);
    /// The HTTP API's address, when it runs.
    std::optional<std::string> url() const;
    /// Applies a reloaded pipeline file's alert rules and notification channels. Everything is
    /// validated (and the new channels opened) first: on an error it throws and nothing
    /// changed. Call it from the thread that calls tick().
    void reload(const config::Config& config);
    /// Alert transitions so far: firing (first time, not repeats) and resolved.
    struct AlertCounts {
        std::uint64_t fired = 0, resolved = 0;
    };
    AlertCounts alert_counts() const noexcept { return _alert_counts; }
    std::vector<monitor::ComponentHealth> health() const { return _monitor.health(); }
    /// The current notification service (a reload replaces it). Thread-safe.
    std::shared_ptr<notify::NotificationService> notifications() const;

  private:
    void publish(const monitor::AlertEvent& e);
    void notify_alert(const monitor::AlertEvent& e, const std::string& series,
                      const std::string& message);
    std::shared_ptr<notify::NotificationService> make_notifications(const config::Config& config);

    monitor::RealTimeMonitor _monitor;
    AlertCounts _alert_counts;
    monitor::EventTail _tail;
    std::unique_ptr<http::Server> _server;
    std::shared_ptr<kafka::Producer> _producer;  // alerts topic and kafka channels
    std::string _alerts_topic;
    mutable std::mutex _notify_mutex;
    std::shared_ptr<notify::NotificationService> _notify;
    monitor::ProgressHealth _progress;  // the processor's health from its counters
    // The broker check: a metadata round trip every few seconds, on its own thread (a cluster
    // that does not answer must not hold up the ticks).
    void probe_brokers();
    struct BrokerCheck {
        bool known = false;
        bool ok = false;
        int brokers = 0;                       ///< listed in the metadata
        std::vector<std::string> unreachable;  ///< listed, but refusing TCP connections
        std::vector<kafka::TopicPartition> leaderless;
        double round_trip_ms = 0;
        std::string error;
        std::chrono::steady_clock::time_point last_ok;
    };
    kafka::ClientOptions _admin_options;
    mutable std::mutex _probe_mutex;
    std::condition_variable _probe_wake;
    bool _probe_stop = false;
    BrokerCheck _broker;
    std::vector<std::string> _watched_topics;  // under _probe_mutex
    std::thread _prober;
    double _last_cpu_seconds = -1;
    std::chrono::steady_clock::time_point _last_cpu_at;
};

/// Reads and validates a pipeline file's alert rules (used by reload checks too).
std::vector<monitor::AlertRule> alert_rules_of(const config::Config& config);

}  // namespace agentstream::pipeline
