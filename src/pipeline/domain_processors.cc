#include <agentstream/pipeline/domain_processors.h>

#include <agentstream/core/logging.h>
#include <agentstream/processors/analytics.h>
#include <agentstream/processors/notifications.h>
#include <agentstream/processors/tracker_processor.h>

#include <agentstream/pipeline/connection.h>
#include <agentstream/pipeline/service_monitor.h>

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
std::function<monitor::ProcessorRow()> row_of(const std::shared_ptr<P>& p,
                                              const std::string& name) {
    return [p, name] { return runtime::monitor_row(name, name, p->metrics()); };
}

std::function<void(monitor::MetricsRegistry&)> active_tasks_gauge(
    const std::shared_ptr<processors::TaskStreamProcessor>& p) {
    return [p](monitor::MetricsRegistry& registry) {
        registry.gauge("active_tasks").set(static_cast<double>(p->tracker_stats().running));
    };
}

std::function<void(monitor::MetricsRegistry&)> utilisation_gauges(
    const std::shared_ptr<processors::AgentStreamProcessor>& p) {
    return [p](monitor::MetricsRegistry& registry) {
        auto now = std::chrono::system_clock::now();
        auto values = p->with_tracker(
            [now](const processors::AgentTracker& t) { return t.utilisation(now); });
        for (const auto& [agent, percent] : values) {
            registry.gauge("agent_utilisation_percent", {{"agent", agent}}).set(percent);
        }
    };
}

}  // namespace

void DomainProcessors::start(std::unique_ptr<Running> r, std::function<void()> run) {
    auto* raw = r.get();
    raw->thread = std::thread([raw, run = std::move(run)] {
        try {
            run();
        } catch (...) {
            raw->error = std::current_exception();
            raw->failed = true;
        }
    });
    _running.push_back(std::move(r));
}

DomainProcessors::DomainProcessors(const processors::DomainConfig& config,
                                   const std::optional<processors::AgentSetup>& agents,
                                   const Connection& connection, ServiceMonitor& monitor,
                                   bool from_latest) {
    auto log = logger("run");
    auto add_tracker = [&](auto tracker_options, event::Family family, const std::string& name,
                           const std::string& input, auto* tag,
                           std::function<void(monitor::MetricsRegistry&)> (*gauges)(
                               const std::shared_ptr<std::remove_pointer_t<decltype(tag)>>&)) {
        using P = std::remove_pointer_t<decltype(tag)>;
        auto p =
            std::make_shared<P>(processor_options(connection, monitor, name, input, from_latest),
                                family, std::chrono::seconds(5), tracker_options);
        _owned.push_back(p);
        auto r = std::make_unique<Running>();
        r->name = name;
        r->stop = [p] { p->stop(); };
        r->row = row_of(p, name);
        if (gauges != nullptr) {
            r->gauges = gauges(p);
        }
        start(std::move(r), [p] { p->run(); });
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
                    static_cast<processors::DocumentStreamProcessor*>(nullptr), nullptr);
    }
    if (config.agents) {
        add_tracker(config.agents->tracker, event::Family::Agent, "agent_processor",
                    config.agents->input, static_cast<processors::AgentStreamProcessor*>(nullptr),
                    &utilisation_gauges);
    }
    if (config.notifications) {
        auto p = std::make_shared<processors::NotificationStreamProcessor>(
            processor_options(connection, monitor, "notification_processor",
                              config.notifications->input, from_latest),
            [&monitor] { return monitor.notifications(); });
        _owned.push_back(p);
        auto r = std::make_unique<Running>();
        r->name = "notification_processor";
        r->stop = [p] { p->stop(); };
        r->row = row_of(p, r->name);
        start(std::move(r), [p] { p->run(); });
        log->info("processor notification_processor reading {}", config.notifications->input);
    }
    if (config.analytics) {
        auto o = *config.analytics;
        o.client.brokers = connection.brokers();
        o.producer_properties = connection.producer_options().properties;
        o.consumer_properties = connection.consumer_options("").properties;
        o.start_from = from_latest ? kafka::StartFrom::Latest : kafka::StartFrom::Earliest;
        o.metrics = &monitor.registry();
        auto p = std::make_shared<processors::AnalyticsStreamProcessor>(o);
        _owned.push_back(p);
        auto r = std::make_unique<Running>();
        r->name = o.name;
        r->stop = [p] { p->stop(); };
        r->row = [p, name = o.name] {
            auto engine = p->metrics();
            auto m = p->aggregation_metrics();
            auto row = runtime::monitor_row(name, p->group_id(), engine);
            row.processed = engine.processed + engine.unhandled;  // skipped types count too
            if (!engine.healthy) {
                return row;
            }
            row.health = fmt::format(
                "{} open window(s), {} key(s), {} late, {} alert(s), {} "
                "anomaly(ies)",
                m.open_windows, m.keys, m.late, p->threshold_alerts(), p->anomalies());
            return row;
        };
        start(std::move(r), [p] { p->run(); });
        log->info("processor {} reading {}", o.name, o.input_topic);
    }
    if (agents) {
        auto o = agents->options;
        o.client.brokers = connection.brokers();
        o.producer_properties = connection.producer_options().properties;
        o.consumer_properties = connection.consumer_options("").properties;
        o.start_from = from_latest ? kafka::StartFrom::Latest : kafka::StartFrom::Earliest;
        o.metrics = &monitor.registry();
        o.notifications = [&monitor] { return monitor.notifications(); };
        auto p = std::make_shared<processors::AgentService>(o, agents->agents);
        _agents = p;
        auto r = std::make_unique<Running>();
        r->name = o.name;
        r->stop = [p] { p->stop(); };
        r->row = [p, name = o.name] {
            auto s = p->stats();
            auto q = p->orchestrator().stats();
            monitor::ProcessorRow row;
            row.name = name;
            row.group = p->service_options().group_id;
            row.consumed = s.consumed;
            row.processed = q.completed + q.failed + q.cancelled;
            row.dead_lettered = s.dead_lettered;
            row.health = fmt::format(
                "{} queued, {} running, {} completed, {} failed, {} retried, {} timed out",
                q.queued, q.running, q.completed, q.failed, q.retries, q.timeouts);
            return row;
        };
        r->gauges = [p](monitor::MetricsRegistry& registry) {
            // The orchestrator's own measure: busy slot-time over the last minute.
            for (const auto& a : p->orchestrator().agents()) {
                registry.gauge("agent_utilisation_percent", {{"agent", a.info.id}})
                    .set(a.utilisation_percent);
            }
        };
        start(std::move(r), [p] { p->run(); });
        log->info("agent service: {} agent(s) on {}", agents->agents.size(), o.tasks_topic);
    }
}

std::vector<monitor::AgentRow> DomainProcessors::agent_rows() const {
    std::vector<monitor::AgentRow> out;
    if (!_agents) {
        return out;
    }
    for (const auto& a : _agents->orchestrator().agents()) {
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
    for (auto& r : _running) {
        r->stop();
    }
    for (auto& r : _running) {
        if (r->thread.joinable()) {
            r->thread.join();
        }
    }
}

std::vector<monitor::ProcessorRow> DomainProcessors::rows() const {
    std::vector<monitor::ProcessorRow> out;
    for (const auto& r : _running) {
        auto row = r->row();
        if (r->failed) {
            row.healthy = false;
            row.health = "stopped: its run failed";
        }
        out.push_back(std::move(row));
    }
    return out;
}

void DomainProcessors::update_gauges(monitor::MetricsRegistry& registry) const {
    for (const auto& r : _running) {
        if (r->gauges) {
            r->gauges(registry);
        }
    }
}

std::exception_ptr DomainProcessors::failure() const {
    for (const auto& r : _running) {
        if (r->failed) {
            return r->error;
        }
    }
    return nullptr;
}

}  // namespace agentstream::pipeline
