#include <agentstream/monitor/progress_health.h>
#include <agentstream/runtime/monitoring.h>

#include <memory>

namespace agentstream::runtime {
namespace {

void observe_processor(monitor::Observations& out, monitor::ProgressHealth& progress,
                       const std::string& name, const std::string& group,
                       const ProcessorMetrics& m) {
    out.processors.push_back(monitor_row(name, group, m));
    out.health.push_back(progress.observe(name, std::chrono::steady_clock::now(),
                                          {.healthy = m.healthy,
                                           .consumed = m.consumed,
                                           .dead_lettered = m.dead_lettered,
                                           .lag = m.lag,
                                           .rebalances = m.rebalances}));
}

}  // namespace

monitor::ProcessorRow monitor_row(const std::string& name, const std::string& group,
                                  const ProcessorMetrics& p) {
    monitor::ProcessorRow row;
    row.name = name;
    row.group = group;
    row.consumed = p.consumed;
    row.processed = p.processed;
    row.failed = p.failed;
    row.dead_lettered = p.dead_lettered;
    row.in_flight = p.in_flight;
    row.lag = p.lag;
    row.latency_p50_us = p.latency_p50_us;
    row.latency_p95_us = p.latency_p95_us;
    row.latency_p99_us = p.latency_p99_us;
    row.healthy = p.healthy;
    row.health = p.health;
    return row;
}

monitor::ProcessorRow monitor_row(const StreamProcessor& processor) {
    return monitor_row(processor.options().name, processor.group_id(), processor.metrics());
}

void watch(monitor::RealTimeMonitor& monitor, const StreamProcessor& processor) {
    auto progress = std::make_shared<monitor::ProgressHealth>();
    monitor.observe([&processor, progress](monitor::Observations& out) {
        observe_processor(out, *progress, processor.options().name, processor.group_id(),
                          processor.metrics());
    });
}

void watch(monitor::RealTimeMonitor& monitor, const EventDispatcher& dispatcher) {
    auto progress = std::make_shared<monitor::ProgressHealth>();
    monitor.observe([&dispatcher, progress](monitor::Observations& out) {
        observe_processor(out, *progress, dispatcher.name(), dispatcher.group_id(),
                          dispatcher.metrics());
        for (const auto& r : dispatcher.route_metrics().routes) {
            out.routes.push_back({r.name, r.matched, r.delivered, r.filtered_out,
                                  r.transform_errors, r.latency_p50_ns, r.latency_p99_ns});
        }
    });
}

}  // namespace agentstream::runtime
