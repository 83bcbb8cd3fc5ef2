// The task processor on the embedded broker: a task's events through the `tasks` topic give
// its metrics on `analytics` (with the task's correlation id), and a started task that never
// ends is reported on `alerts` by the timer.
#include <agentstream/broker/embedded_broker.h>
#include <agentstream/event/codec.h>
#include <agentstream/event/factory.h>
#include <agentstream/kafka/producer.h>
#include <agentstream/processors/tasks.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <thread>

#include "support/runtime_helpers.h"

namespace agentstream {
namespace {

using namespace std::chrono_literals;
using broker::EmbeddedBroker;

TEST(TaskStreamProcessor, TaskEventsBecomeMetricsAndAStuckTaskAnAlert) {
    EmbeddedBroker broker;
    for (const char* t : {"tasks", "analytics", "alerts"}) {
        broker.create_topic(t, 2);
    }
    {
        kafka::ProducerOptions po;
        po.brokers = broker.bootstrap_servers();
        po.properties = EmbeddedBroker::producer_tuning();
        kafka::Producer producer(po);
        auto now = now_utc();
        auto send = [&](event::EventType type, const std::string& id, Timestamp at,
                        const event::Fields& extra = {}) {
            auto e = event::EventFactory::task(type, id, "analysis", "test", extra);
            e.set_timestamp(at);
            e.set_correlation_id("corr-" + id);
            ASSERT_TRUE(producer.send("tasks", e).ok());
        };
        send(event::EventType::TaskCreated, "done", now - 10s);
        send(event::EventType::TaskStarted, "done", now - 8s);
        send(event::EventType::TaskCompleted, "done", now - 5s);
        send(event::EventType::TaskStarted, "hung", now, {{"agent_id", "analyzer-1"}});
        producer.flush(10s);
    }
    processors::TaskProcessorOptions o;
    o.processor = testing::processor_options(broker, {"tasks"});
    o.processor.name = "task_processor";
    o.tracker.stuck_after = 2s;
    o.check_interval = 200ms;
    processors::TaskStreamProcessor processor(o);
    std::thread t([&] { processor.run_with_timer(); });
    auto deadline = std::chrono::steady_clock::now() + 60s;
    while ((processor.tracker_stats().stuck == 0 || processor.metrics().processed < 4) &&
           std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(50ms);
    }
    processor.stop();
    t.join();
    EXPECT_EQ(processor.tracker_stats().stuck, 1U);

    std::map<std::string, double> metrics;
    testing::read_all(broker, "analytics", 2, 5, [&](const kafka::Message& m) {
        auto e = event::decode(m.value());
        ASSERT_TRUE(e.ok());
        if (e->string("metric_name") != "task_created" && e->correlation_id() == "corr-done") {
            metrics[std::string(*e->string("metric_name"))] = *e->number("metric_value");
        }
    });
    EXPECT_EQ(metrics["task_queue_time_ms"], 2000);
    EXPECT_EQ(metrics["task_execution_time_ms"], 3000);
    EXPECT_EQ(metrics["task_completed"], 1);
    std::vector<std::string> alerts;
    testing::read_all(broker, "alerts", 2, 1, [&](const kafka::Message& m) {
        auto e = event::decode(m.value());
        ASSERT_TRUE(e.ok());
        alerts.push_back(std::string(*e->string("alert_message")));
        EXPECT_EQ(e->correlation_id(), "corr-hung");
    });
    ASSERT_EQ(alerts.size(), 1U);
    EXPECT_THAT(alerts[0], ::testing::HasSubstr("Task hung (analysis)"));
}

}  // namespace
}  // namespace agentstream
