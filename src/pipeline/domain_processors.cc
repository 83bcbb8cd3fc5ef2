#include <agentstream/pipeline/domain_processors.h>

#include <agentstream/processors/analytics.h>
#include <agentstream/processors/notifications.h>
#include <agentstream/processors/tracker_processor.h>

#include <agentstream/pipeline/connection.h>
#include <agentstream/pipeline/service_monitor.h>

#include <algorithm>

#include "internal/log.h"

namespace agentstream::pipeline {
namespace {

runtime::ProcessorOptions processor_options(const Connection& c, ServiceMonitor& monitor,
                                            const std::string& name, const std::string& input,
                                            bool from_latest) {
    auto o = c.processor_options();
    o.name = name;
    o.group_id = name;
    o.inputs = {input};
    o.start_from = from_latest ? kafka::StartFrom::Latest : kafka::StartFrom::Earliest;
    o.metrics = &monitor.registry();
    o.tail = &monitor.tail();
    return o;
}

template <class P>
const P& as(const runtime::StreamProcessor& p) {
    return static_cast<const P&>(p);
}

monitor::ProcessorRow engine_row(const runtime::StreamProcessor& p) {
    return runtime::monitor_row(p.options().name, p.options().name, p.metrics());
}

void active_tasks_gauge(const runtime::StreamProcessor& p, monitor::MetricsRegistry& registry) {
    registry.gauge("active_tasks")
        .set(static_cast<double>(as<processors::TaskStreamProcessor>(p).tracker_stats().running));
}

void utilisation_gauges(const runtime::StreamProcessor& p, monitor::MetricsRegistry& registry) {
    auto now = std::chrono::system_clock::now();
    auto values = as<processors::AgentStreamProcessor>(p).with_tracker(
        [now](const processors::AgentTracker& t) { return t.utilisation(now); });
    for (const auto& [agent, percent] : values) {
        registry.gauge("agent_utilisation_percent", {{"agent", agent}}).set(percent);
    }
}

}  // namespace

void DomainProcessors::supervise(std::string name, Supervisor::Factory make, RowOf row,
                                 GaugesOf gauges) {
    auto r = std::make_unique<Running>();
    r->row = std::move(row);
    r->gauges = std::move(gauges);
    SupervisorOptions so;
    so.name = std::move(name);
    so.initial_backoff = _restart_backoff;
    r->supervisor = std::make_unique<Supervisor>(std::move(so), std::move(make));
    _running.push_back(std::move(r));
}

DomainProcessors::DomainProcessors(const processors::DomainConfig& config,
                                   const std::optional<processors::AgentSetup>& agents,
                                   const Connection& connection, ServiceMonitor& monitor,
                                   bool from_latest, std::chrono::milliseconds restart_backoff)
    : _restart_backoff(restart_backoff) {
    auto log = logger("run");
    auto add_tracker = [&](auto tracker_options, event::Family family, const std::string& name,
                           const std::string& input, auto* tag, GaugesOf gauges) {
        using P = std::remove_pointer_t<decltype(tag)>;
        auto options = processor_options(connection, monitor, name, input, from_latest);
        supervise(
            name,
            [options, family, tracker_options] {
                return std::make_shared<P>(options, family, std::chrono::seconds(5),
                                           tracker_options);
            },
            engine_row, std::move(gauges));
        log->info("processor {} reading {}", name, input);
    };
    if (config.tasks) {
        add_tracker(config.tasks->tracker, event::Family::Task, "task_processor",
                    config.tasks->input, static_cast<processors::TaskStreamProcessor*>(nullptr),
                    &active_tasks_gauge);
    }
    if (config.documents) {
        add_tracker(config.documents->tracker, event::Family::Document, "document_processor",
                    config.documents->input,
                    static_cast<processors::DocumentStreamProcessor*>(nullptr), {});
    }
    if (config.agents) {
        add_tracker(config.agents->tracker, event::Family::Agent, "agent_processor",
                    config.agents->input, static_cast<processors::AgentStreamProcessor*>(nullptr),
                    &utilisation_gauges);
    }
    if (config.notifications) {
        auto options = processor_options(connection, monitor, "notification_processor",
                                         config.notifications->input, from_latest);
        supervise("notification_processor",
                  [options, &monitor] {
                      return std::make_shared<processors::NotificationStreamProcessor>(
                          options, [&monitor] { return monitor.notifications(); });
                  },
                  engine_row, {});
        log->info("processor notification_processor reading {}", config.notifications->input);
    }
    if (config.analytics) {
        auto o = *config.analytics;
        o.client.brokers = connection.brokers();
        o.producer_properties = connection.producer_options().properties;
        o.consumer_properties = connection.consumer_options("").properties;
        if (o.guarantee == runtime::Guarantee::AtLeastOnce) {
            o.producer = connection.shared_producer();
        }
        o.start_from = from_latest ? kafka::StartFrom::Latest : kafka::StartFrom::Earliest;
        o.metrics = &monitor.registry();
        supervise(
            o.name, [o] { return std::make_shared<processors::AnalyticsStreamProcessor>(o); },
            [](const runtime::StreamProcessor& sp) {
                const auto& p = as<processors::AnalyticsStreamProcessor>(sp);
                auto engine = p.metrics();
                auto m = p.aggregation_metrics();
                auto row = runtime::monitor_row(p.options().name, p.group_id(), engine);
                row.processed = engine.processed + engine.unhandled;  // skipped types count too
                if (!engine.healthy) {
                    return row;
                }
                row.health = fmt::format(
                    "{} open window(s), {} key(s), {} late, {} alert(s), {} anomaly(ies)",
                    m.open_windows, m.keys, m.late, p.threshold_alerts(), p.anomalies());
                return row;
            },
            {});
        log->info("processor {} reading {}", o.name, o.input_topic);
    }
    if (agents) {
        auto o = agents->options;
        o.client.brokers = connection.brokers();
        o.producer_properties = connection.producer_options().properties;
        o.consumer_properties = connection.consumer_options("").properties;
        o.producer = connection.shared_producer();
        o.start_from = from_latest ? kafka::StartFrom::Latest : kafka::StartFrom::Earliest;
        o.metrics = &monitor.registry();
        o.notifications = [&monitor] { return monitor.notifications(); };
        auto list = agents->agents;
        supervise(
            o.name,
            // A restart gets the same agents (their state is theirs; the orchestrator is new).
            [o, list] { return std::make_shared<processors::AgentService>(o, list); },
            [](const runtime::StreamProcessor& sp) {
                const auto& p = as<processors::AgentService>(sp);
                auto s = p.stats();
                auto q = p.orchestrator().stats();
                monitor::ProcessorRow row;
                row.name = p.service_options().name;
                row.group = p.service_options().group_id;
                row.consumed = s.consumed;
                row.processed = q.completed + q.failed + q.cancelled;
                row.dead_lettered = s.dead_lettered;
                row.health = fmt::format(
                    "{} queued, {} running, {} completed, {} failed, {} retried, {} timed out",
                    q.queued, q.running, q.completed, q.failed, q.retries, q.timeouts);
                return row;
            },
            [](const runtime::StreamProcessor& sp, monitor::MetricsRegistry& registry) {
                // The orchestrator's own measure: busy slot-time over the last minute.
                for (const auto& a : as<processors::AgentService>(sp).orchestrator().agents()) {
                    registry.gauge("agent_utilisation_percent", {{"agent", a.info.id}})
                        .set(a.utilisation_percent);
                }
            });
        _agents = _running.back().get();
        log->info("agent service: {} agent(s) on {}", agents->agents.size(), o.tasks_topic);
    }
}

std::shared_ptr<const processors::AgentService> DomainProcessors::agent_service() const {
    if (_agents == nullptr) {
        return nullptr;
    }
    return std::static_pointer_cast<const processors::AgentService>(_agents->supervisor->current());
}

std::vector<monitor::AgentRow> DomainProcessors::agent_rows() const {
    std::vector<monitor::AgentRow> out;
    auto service = agent_service();
    if (!service) {
        return out;
    }
    for (const auto& a : service->orchestrator().agents()) {
        monitor::AgentRow row;
        row.id = a.info.id;
        row.role = a.info.role;
        row.busy = static_cast<std::uint32_t>(a.running);
        row.capacity = static_cast<std::uint32_t>(a.info.max_concurrency);
        row.completed = a.completed;
        row.failed = a.errors;
        row.health = a.health;
        out.push_back(std::move(row));
    }
    return out;
}

DomainProcessors::~DomainProcessors() {
    stop();
}

void DomainProcessors::stop() {
    request_stop();  // all at once: they drain in parallel
    for (auto& r : _running) {
        r->supervisor->stop();
    }
}

void DomainProcessors::request_stop() {
    for (auto& r : _running) {
        r->supervisor->current()->stop();
    }
}

std::chrono::milliseconds DomainProcessors::longest_shutdown_timeout() const {
    std::chrono::milliseconds longest{0};
    for (const auto& r : _running) {
        longest = std::max(longest, r->supervisor->current()->options().shutdown_timeout);
    }
    return longest;
}

std::vector<monitor::ProcessorRow> DomainProcessors::rows() const {
    std::vector<monitor::ProcessorRow> out;
    for (const auto& r : _running) {
        auto row = r->row(*r->supervisor->current());
        auto status = r->supervisor->status();
        if (status.waiting) {
            row.healthy = false;
            row.health = fmt::format("its run failed ({}); restarting in {} s", status.last_error,
                                     (status.next_restart_in.count() + 999) / 1000);
        } else if (status.restarts > 0 && row.healthy) {
            row.health += fmt::format("; restarted {} time(s), last after: {}", status.restarts,
                                      status.last_error);
        }
        out.push_back(std::move(row));
    }
    return out;
}

void DomainProcessors::update_gauges(monitor::MetricsRegistry& registry) const {
    for (const auto& r : _running) {
        if (r->gauges) {
            r->gauges(*r->supervisor->current(), registry);
        }
    }
}

bool DomainProcessors::all_assigned() const {
    return std::all_of(_running.begin(), _running.end(), [](const auto& r) {
        return r->supervisor->current()->metrics().assigned_partitions > 0;
    });
}

std::vector<SupervisorStatus> DomainProcessors::statuses() const {
    std::vector<SupervisorStatus> out;
    for (const auto& r : _running) {
        out.push_back(r->supervisor->status());
    }
    return out;
}

}  // namespace agentstream::pipeline
