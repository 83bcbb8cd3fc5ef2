#include <agentstream/pipeline/service_monitor.h>

#include <agentstream/event/codec.h>
#include <agentstream/event/factory.h>
#include <agentstream/event/record.h>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <netdb.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>

#include <agentstream/pipeline/connection.h>
#include "internal/json_escape.h"
#include "internal/log.h"

namespace agentstream::pipeline {
namespace {

using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

double cpu_seconds() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// Whether a TCP connection to host:port opens within `timeout`. A broker killed or stopped
// refuses at once, long before the cluster's metadata stops listing it (the controller fences
// it only after broker.session.timeout.ms).
bool accepts_connections(const std::string& host, int port, std::chrono::milliseconds timeout) {
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found) != 0) {
        return false;
    }
    bool open = false;
    for (auto* a = found; a != nullptr && !open; a = a->ai_next) {
        int fd =
            ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0) {
            continue;
        }
        if (::connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
            open = true;
        } else if (errno == EINPROGRESS) {
            pollfd p{fd, POLLOUT, 0};
            if (::poll(&p, 1, static_cast<int>(timeout.count())) == 1) {
                int error = 0;
                socklen_t length = sizeof error;
                open = ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) == 0 && error == 0;
            }
        }
        ::close(fd);
    }
    freeaddrinfo(found);
    return open;
}

std::optional<double> resident_bytes() {
    std::ifstream statm("/proc/self/statm");
    std::uint64_t size = 0;
    std::uint64_t resident = 0;
    if (!(statm >> size >> resident)) {
        return std::nullopt;
    }
    return static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE));
}

}  // namespace

std::vector<monitor::AlertRule> alert_rules_of(const config::Config& config) {
    monitor::MetricsRegistry registry;  // the built-in families, for validation
    return monitor::load_alert_rules(config, registry);
}

ServiceMonitor::ServiceMonitor(const config::Config& config, const Connection& connection,
                               const ServiceMonitorOptions& options)
    : _monitor(alert_rules_of(config)), _alerts_topic(config.string("monitor.alerts_topic")) {
    if (config.boolean("http.enabled")) {
        http::ServerOptions o;
        o.host = config.string("http.host");
        o.port =
            options.http_port ? *options.http_port : static_cast<int>(config.integer("http.port"));
        const char* token = std::getenv("AGENTSTREAM_HTTP_TOKEN");
        o.token =
            token != nullptr && *token != '\0' ? std::string(token) : config.string("http.token");
        bool loopback = o.host == "localhost" || o.host == "::1" || o.host.starts_with("127.");
        if (!loopback && o.token.empty() && !config.boolean("http.allow_unauthenticated")) {
            throw std::runtime_error(fmt::format(
                "{}: http.host {} opens the monitor's API to the network without a token; set "
                "http.token (or AGENTSTREAM_HTTP_TOKEN), or http.allow_unauthenticated: true if "
                "that is really wanted",
                config.source(), o.host));
        }
        _server = std::make_unique<http::Server>(o, _monitor);
    }
    // One producer for the alerts topic and any kafka notification channel, made even when
    // neither is configured yet, so a reload can add them: the application's shared one.
    _producer = connection.shared_producer()
                    ? connection.shared_producer()
                    : std::make_shared<kafka::Producer>(connection.producer_options());
    _notify = make_notifications(config);
    _admin_options = connection.admin_options();
    _prober = std::thread([this] { probe_brokers(); });
}

ServiceMonitor::~ServiceMonitor() {
    {
        std::lock_guard lock(_probe_mutex);
        _probe_stop = true;
    }
    _probe_wake.notify_all();
    _prober.join();
    {
        std::lock_guard lock(_notify_mutex);
        _notify.reset();  // delivers what is queued first (unless a processor still holds it)
    }
    _producer->flush(5s);
}

void ServiceMonitor::probe_brokers() {
    std::unique_ptr<kafka::Admin> admin;
    while (true) {
        BrokerCheck check;
        check.known = true;
        auto start = SteadyClock::now();
        try {
            if (!admin) {
                admin = std::make_unique<kafka::Admin>(_admin_options);
            }
            std::vector<std::string> topics;
            {
                std::lock_guard lock(_probe_mutex);
                topics = _watched_topics;
            }
            auto view = admin->cluster_view(topics, 3s);
            check.brokers = static_cast<int>(view.brokers.size());
            check.leaderless = std::move(view.leaderless);
            check.ok = check.brokers > 0;
            if (!check.ok) {
                check.error = "the cluster lists no brokers";
            }
            for (const auto& [host, port] : view.brokers) {
                if (!accepts_connections(host, port, 1s)) {
                    check.unreachable.push_back(fmt::format("{}:{}", host, port));
                }
            }
        } catch (const std::exception& e) {
            check.error = e.what();
        }
        auto end = SteadyClock::now();
        check.round_trip_ms = std::chrono::duration<double, std::milli>(end - start).count();
        std::unique_lock lock(_probe_mutex);
        check.last_ok = check.ok ? end : _broker.last_ok;
        _broker = check;
        if (_probe_wake.wait_for(lock, 5s, [&] { return _probe_stop; })) {
            return;
        }
    }
}

void ServiceMonitor::watch_topics(std::vector<std::string> topics) {
    std::sort(topics.begin(), topics.end());
    topics.erase(std::unique(topics.begin(), topics.end()), topics.end());
    {
        std::lock_guard lock(_probe_mutex);
        _watched_topics = std::move(topics);
    }
    _probe_wake.notify_all();
}

std::shared_ptr<notify::NotificationService> ServiceMonitor::notifications() const {
    std::lock_guard lock(_notify_mutex);
    return _notify;
}

std::shared_ptr<notify::NotificationService> ServiceMonitor::make_notifications(
    const config::Config& config) {
    notify::ServiceOptions o;
    o.producer = _producer.get();
    o.metrics = &_monitor.registry();
    o.source = "agentstream-monitor";
    try {
        return std::make_shared<notify::NotificationService>(notify::load_channels(config), o);
    } catch (const std::invalid_argument& e) {
        throw config::ConfigError(config.source(), 0, 0, e.what());
    }
}

void ServiceMonitor::reload(const config::Config& config) {
    auto rules = alert_rules_of(config);
    auto channels = make_notifications(config);  // opened before anything changes
    for (const auto& e : _monitor.replace_rules(std::move(rules), monitor::Clock::now())) {
        publish(e);
    }
    {
        std::lock_guard lock(_notify_mutex);
        _notify = std::move(channels);
    }
    _alerts_topic = config.string("monitor.alerts_topic");
}

std::optional<std::string> ServiceMonitor::url() const {
    return _server ? std::optional(_server->url()) : std::nullopt;
}

void ServiceMonitor::notify_alert(const monitor::AlertEvent& e, const std::string& series,
                                  const std::string& message) {
    // The original's intended alert notice (type alert, to system_admin, priority = severity),
    // with a title, and resolves notified too.
    auto sev = e.rule->severity;
    bool resolved = e.kind == monitor::AlertEvent::Kind::Resolved;
    bool serious = sev == monitor::Severity::Critical || sev == monitor::Severity::High;
    auto priority = sev == monitor::Severity::Critical ? event::Priority::Critical
                    : sev == monitor::Severity::High   ? event::Priority::High
                    : sev == monitor::Severity::Medium ? event::Priority::Medium
                                                       : event::Priority::Low;
    auto notice = event::EventFactory::create(
        event::EventType::UserNotification, "agentstream-monitor",
        {{"notification_type", resolved ? "success" : (serious ? "error" : "warning")},
         {"title", fmt::format("{} {}", e.rule->name, to_string(e.kind))},
         {"message", fmt::format("Alert: {} - {} = {} (threshold: {} {}){}", e.rule->name,
                                 monitor::series_text(e.rule->metric, *e.series_labels), e.value,
                                 to_string(e.rule->condition), e.rule->threshold,
                                 resolved ? " resolved" : "")},
         {"user_id", "system_admin"}});
    notice.set_priority(priority);
    std::string meta = "{";
    auto field = [&](std::string_view k, std::string_view v, bool quote = true) {
        if (meta.size() > 1) {
            meta += ',';
        }
        append_json_string(meta, k);
        meta += ':';
        if (quote) {
            append_json_string(meta, v);
        } else {
            meta += v;
        }
    };
    field("kind", "alert");
    field("rule_name", e.rule->name);
    field("series", series);
    field("state", to_string(e.kind));
    field("severity", to_string(sev));
    field("condition", to_string(e.rule->condition));
    field("value", fmt::format("{}", e.value), false);
    field("threshold", fmt::format("{}", e.rule->threshold), false);
    field("message", message);
    meta += '}';
    notice.set_metadata(event::RawJson{meta});
    try {
        notifications()->notify(
            {std::move(notice), "alert",
             fmt::format("{}\x1f{}\x1f{}", e.rule->name, series, to_string(e.kind))});
    } catch (const std::exception& ex) {
        logger("monitor")->error("alert notice not sent: {}", ex.what());
    }
}

void ServiceMonitor::publish(const monitor::AlertEvent& e) {
    auto log = logger("monitor");
    auto what = monitor::series_text(e.rule->name, *e.series_labels);
    bool resolved = e.kind == monitor::AlertEvent::Kind::Resolved;
    std::string summary;
    for (const auto& [k, v] : e.rule->annotations) {
        if (k == "summary") {
            summary = v;
        }
    }
    auto message = fmt::format("{} {}: value {} ({} {}){}", to_string(e.kind), what, e.value,
                               to_string(e.rule->condition), e.rule->threshold,
                               summary.empty() ? "" : ": " + summary);
    if (resolved) {
        log->info("alert {}", message);
    } else {
        log->warn("alert {}", message);
    }
    notify_alert(e, what, message);
    if (_alerts_topic.empty()) {
        return;
    }
    std::string component = "monitor";
    for (const auto& [k, v] : *e.series_labels) {
        if (k == "component" || k == "processor") {
            component = v;
        }
    }
    auto sev = e.rule->severity;
    bool serious = sev == monitor::Severity::Critical || sev == monitor::Severity::High;
    auto event = event::EventFactory::create(
        event::EventType::SystemAlert, "agentstream-monitor",
        {{"component", component},
         {"health_status", resolved ? "healthy" : (serious ? "critical" : "warning")},
         {"alert_level", resolved ? "info" : (serious ? "critical" : "warning")},
         {"alert_message", message}});
    auto raw = [](std::string_view text) {
        std::string out;
        append_json_string(out, text);
        return event::RawJson{out};
    };
    event.set_extra("rule", raw(e.rule->name));
    event.set_extra("state", raw(to_string(e.kind)));
    event.set_extra("severity", raw(to_string(e.rule->severity)));
    event.set_extra("value", event::RawJson{fmt::format("{}", e.value)});
    event.set_extra("threshold", event::RawJson{fmt::format("{}", e.rule->threshold)});
    auto status = _producer->send(_alerts_topic, event);
    if (!status.ok()) {
        log->error("alert not published to {}: {}", _alerts_topic, status.error().message);
    }
}

void ServiceMonitor::tick(const std::string& processor_name, const std::string& group,
                          const runtime::ProcessorMetrics& p, const router::RouterMetrics& routes,
                          const std::vector<monitor::ProcessorRow>& others,
                          const std::vector<monitor::AgentRow>& agents) {
    auto now = SteadyClock::now();
    // This process: CPU over the last tick, resident memory.
    auto& reg = _monitor.registry();
    double cpu = cpu_seconds();
    if (_last_cpu_seconds >= 0) {
        double elapsed = std::chrono::duration<double>(now - _last_cpu_at).count();
        if (elapsed > 0) {
            reg.gauge("process_cpu_percent").set(100.0 * (cpu - _last_cpu_seconds) / elapsed);
        }
    }
    _last_cpu_seconds = cpu;
    _last_cpu_at = now;
    if (auto rss = resident_bytes()) {
        reg.gauge("process_resident_bytes").set(*rss);
    }
    auto net = kafka::network_totals();
    reg.counter("network_sent_bytes_total").set_total(net.sent_bytes);
    reg.counter("network_received_bytes_total").set_total(net.received_bytes);
    reg.counter("kafka_disconnects_total").set_total(net.disconnects);
    reg.counter("kafka_request_retries_total").set_total(net.request_retries);
    reg.counter("fetch_stalls_total", {{"processor", processor_name}}).set_total(p.fetch_stalls);

    // Health, from what the counters show.
    // Kafka: the metadata round trip, and whether the processor's own clients get answers.
    BrokerCheck broker;
    {
        std::lock_guard lock(_probe_mutex);
        broker = _broker;
    }
    monitor::ComponentHealth kafka_health{"kafka", monitor::HealthStatus::Healthy, ""};
    if (broker.known && !broker.ok) {
        auto silent =
            broker.last_ok == SteadyClock::time_point{}
                ? std::string("since the start")
                : fmt::format("for {:.0f} s",
                              std::chrono::duration<double>(now - broker.last_ok).count());
        kafka_health = {"kafka", monitor::HealthStatus::Down,
                        fmt::format("no metadata answer {}: {}", silent, broker.error)};
    } else if (!p.healthy) {
        kafka_health = {"kafka", monitor::HealthStatus::Down, p.health};
    } else if (broker.known && !broker.leaderless.empty()) {
        // Events for these partitions can be neither read nor written until a leader is back.
        std::vector<std::string> names;
        for (const auto& tp : broker.leaderless) {
            if (names.size() == 8) {
                names.push_back(fmt::format("{} more", broker.leaderless.size() - 8));
                break;
            }
            names.push_back(fmt::format("{}/{}", tp.topic, tp.partition));
        }
        kafka_health = {
            "kafka", monitor::HealthStatus::Down,
            fmt::format("{} partition(s) without a leader: {}; {} of {} broker(s) reachable",
                        broker.leaderless.size(), fmt::join(names, ", "),
                        broker.brokers - static_cast<int>(broker.unreachable.size()),
                        broker.brokers)};
    } else if (broker.known && !broker.unreachable.empty()) {
        kafka_health = {
            "kafka", monitor::HealthStatus::Warning,
            fmt::format("{} of {} broker(s) reachable ({} refusing connections), "
                        "metadata round trip {:.1f} ms",
                        broker.brokers - static_cast<int>(broker.unreachable.size()),
                        broker.brokers, fmt::join(broker.unreachable, ", "), broker.round_trip_ms)};
    } else if (broker.known) {
        kafka_health.message = fmt::format("{} broker(s), metadata round trip {:.1f} ms",
                                           broker.brokers, broker.round_trip_ms);
    } else {
        kafka_health.message = "brokers reachable";
    }
    _monitor.set_health(std::move(kafka_health));
    _monitor.set_health(_progress.observe(processor_name, now,
                                          {.healthy = p.healthy,
                                           .consumed = p.consumed,
                                           .dead_lettered = p.dead_lettered,
                                           .lag = p.lag,
                                           .rebalances = p.rebalances}));

    monitor::Observations obs;
    obs.processors.push_back(runtime::monitor_row(processor_name, group, p));
    for (const auto& r : others) {
        _monitor.set_health(
            {r.name, r.healthy ? monitor::HealthStatus::Healthy : monitor::HealthStatus::Critical,
             r.healthy ? "running" : r.health});
        obs.processors.push_back(r);
    }
    for (const auto& r : routes.routes) {
        obs.routes.push_back({r.name, r.matched, r.delivered, r.filtered_out, r.transform_errors,
                              r.latency_p50_ns, r.latency_p99_ns});
    }
    obs.agents = agents;
    obs.recent_events = _tail.recent();
    for (const auto& e : _monitor.tick(monitor::Clock::now(), obs)) {
        if (e.kind == monitor::AlertEvent::Kind::Firing) {
            ++_alert_counts.fired;
        } else if (e.kind == monitor::AlertEvent::Kind::Resolved) {
            ++_alert_counts.resolved;
        }
        publish(e);
    }
}

}  // namespace agentstream::pipeline
