// RealTimeMonitor and AlertRule (design §5, "Real-time Monitoring"): custom alert rules, a
// processor watched while it works, the dashboard data. The monitor ticks on its own thread;
// error rates and latency come from the processors it watches.
#include <agentstream/broker/embedded_broker.h>
#include <agentstream/event/factory.h>
#include <agentstream/kafka/producer.h>
#include <agentstream/monitor/monitor.h>
#include <agentstream/runtime/monitoring.h>
#include <agentstream/runtime/processor.h>

#include <fmt/core.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <thread>

using namespace std::chrono_literals;
namespace as = agentstream;
using as::monitor::AlertRule;
using as::monitor::RealTimeMonitor;

int main() {
    as::broker::EmbeddedBroker broker;
    broker.create_topic("tasks", 1);
    broker.create_topic("tasks.dlq", 1);

    // The default rules, and these two (high_latency replaces the default of that name).
    RealTimeMonitor monitor("production_monitor", {.interval = 200ms});
    AlertRule high_latency;
    high_latency.name = "high_latency";
    high_latency.metric = "processing_latency_ms:p95";
    high_latency.condition = as::monitor::Condition::Gt;
    high_latency.threshold = 1000.0;
    high_latency.severity = as::monitor::Severity::Medium;
    AlertRule error_spike;
    error_spike.name = "error_spike";
    error_spike.metric = "error_rate_percent";
    error_spike.condition = as::monitor::Condition::Gt;
    error_spike.threshold = 10.0;
    error_spike.severity = as::monitor::Severity::High;
    error_spike.cooldown = 300s;
    for (const auto& rule : {high_latency, error_spike}) {
        monitor.add_alert_rule(rule);
    }
    // A rule on a series that does not exist is refused, as in a pipeline file.
    AlertRule typo = error_spike;
    typo.name = "typo";
    typo.metric = "error_rate";
    try {
        monitor.add_alert_rule(typo);
        return EXIT_FAILURE;
    } catch (const std::invalid_argument& e) {
        fmt::print("refused: {}\n", e.what());
    }
    std::atomic<int> fired{0};
    monitor.on_alert([&](const as::monitor::AlertEvent& e) {
        fmt::print("alert {}: {} ({} = {:.1f})\n", as::monitor::to_string(e.kind), e.rule->name,
                   e.rule->metric, e.value);
        fired += e.kind == as::monitor::AlertEvent::Kind::Firing ? 1 : 0;
    });

    // A processor that fails a quarter of the tasks it reads.
    as::runtime::ProcessorOptions options;
    options.name = "task_worker";
    options.inputs = {"tasks"};
    options.dead_letter_topic = "tasks.dlq";
    options.client.brokers = broker.bootstrap_servers();
    options.metrics = &monitor.registry();
    as::runtime::StreamProcessor worker(options);
    std::atomic<int> n{0};
    worker.on("task.*", [&](const as::event::Event&, as::runtime::Context&) {
        if (++n % 4 == 0) {
            throw as::runtime::PermanentError("this task cannot be done");
        }
    });
    as::runtime::watch(monitor, worker);
    monitor.start();
    std::thread thread([&] { worker.run(); });

    {
        as::kafka::ProducerOptions po;
        po.brokers = broker.bootstrap_servers();
        as::kafka::Producer producer(po);
        for (int i = 0; i < 200; ++i) {
            auto task = as::event::EventFactory::task(as::event::EventType::TaskCreated,
                                                      fmt::format("t{}", i), "document_analysis",
                                                      "task_manager");
            if (!producer.send("tasks", task).ok()) {
                return EXIT_FAILURE;
            }
        }
        if (!producer.flush(30s)) {
            return EXIT_FAILURE;
        }
    }
    for (auto deadline = std::chrono::steady_clock::now() + 60s;
         fired == 0 && std::chrono::steady_clock::now() < deadline;) {
        std::this_thread::sleep_for(100ms);
    }
    auto dashboard = monitor.get_dashboard_data();  // JSON, as /api/dashboard serves it
    fmt::print("dashboard: {}...\n", dashboard.substr(0, 300));
    monitor.stop();
    worker.stop();
    thread.join();
    fmt::print("active alerts: {}\n",
               monitor.alert_counts().fired - monitor.alert_counts().resolved);
    return fired > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
