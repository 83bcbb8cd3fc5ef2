// The task processor on the embedded broker: a task's events through the `tasks` topic give
// its metrics on `analytics` (with the task's correlation id), and a started task that never
// ends is reported on `alerts` by the timer.
#include <agentstream/broker/embedded_broker.h>
#include <agentstream/event/codec.h>
#include <agentstream/event/factory.h>
#include <agentstream/kafka/producer.h>
#include <agentstream/processors/notifications.h>
#include <agentstream/processors/tracker_processor.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
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
    auto po = testing::processor_options(broker, {"tasks"});
    po.name = "task_processor";
    processors::TaskTrackerOptions to;
    to.stuck_after = 2s;
    processors::TaskStreamProcessor processor(po, event::Family::Task, 200ms, to);
    std::thread t([&] { processor.run(); });
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

// The document processor: an upload on `documents` becomes an analysis task on `tasks` for the
// agents (correlated with the upload) and its metrics on `analytics`.
TEST(DocumentStreamProcessor, AnUploadBecomesAnAnalysisTask) {
    EmbeddedBroker broker;
    for (const char* t : {"documents", "tasks", "analytics"}) {
        broker.create_topic(t, 2);
    }
    auto upload =
        event::EventFactory::document(event::EventType::DocumentUploaded, "d1", "test",
                                      {{"document_type", "pdf"}, {"file_path", "/srv/in/q3.pdf"}});
    {
        kafka::ProducerOptions po;
        po.brokers = broker.bootstrap_servers();
        po.properties = EmbeddedBroker::producer_tuning();
        kafka::Producer producer(po);
        ASSERT_TRUE(producer.send("documents", upload).ok());
        producer.flush(10s);
    }
    auto po = testing::processor_options(broker, {"documents"});
    po.name = "document_processor";
    processors::DocumentStreamProcessor processor(po, event::Family::Document, 1s,
                                                  processors::DocumentTrackerOptions{});
    std::thread t([&] { processor.run(); });
    auto deadline = std::chrono::steady_clock::now() + 60s;
    while (processor.metrics().processed < 1 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(20ms);
    }
    processor.stop();
    t.join();
    EXPECT_EQ(processor.tracker_stats().analysis_requests, 1U);
    std::vector<event::Event> tasks;
    testing::read_all(broker, "tasks", 2, 1, [&](const kafka::Message& m) {
        auto e = event::decode(m.value());
        ASSERT_TRUE(e.ok());
        tasks.push_back(*e);
    });
    ASSERT_EQ(tasks.size(), 1U);
    EXPECT_EQ(tasks[0].type(), event::EventType::TaskCreated);
    EXPECT_EQ(tasks[0].string("task_id"), "analyze-d1");
    EXPECT_EQ(tasks[0].correlation_id(), upload.id());
    EXPECT_EQ(testing::read_all(broker, "analytics", 2, 1, [](const kafka::Message&) {}), 1U);
}

// The notification processor: notices from the `notifications` topic delivered to channels
// chosen by recipient and priority, a repeat de-duplicated.
TEST(NotificationStreamProcessor, DeliversByRecipientAndPriorityOnce) {
    EmbeddedBroker broker;
    broker.create_topic("notifications", 2);
    auto dir = std::filesystem::temp_directory_path() /
               ("agentstream-notices-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    notify::ChannelSpec ops;
    ops.name = "ops";
    ops.type = notify::ChannelType::File;
    ops.path = (dir / "ops.jsonl").string();
    ops.users = {"ops"};
    ops.dedup_window = 10min;
    notify::ChannelSpec urgent;
    urgent.name = "urgent";
    urgent.type = notify::ChannelType::File;
    urgent.path = (dir / "urgent.jsonl").string();
    urgent.min_priority = event::Priority::High;
    auto shared = std::make_shared<notify::NotificationService>(
        std::vector<notify::ChannelSpec>{ops, urgent});
    auto& service = *shared;
    {
        kafka::ProducerOptions po;
        po.brokers = broker.bootstrap_servers();
        po.properties = EmbeddedBroker::producer_tuning();
        kafka::Producer producer(po);
        auto notice = [&](const std::string& user, event::Priority p, const std::string& title) {
            auto e = event::EventFactory::notification("warning", title, "details", "test",
                                                       {{"user_id", user}});
            e.set_priority(p);
            ASSERT_TRUE(producer.send("notifications", e).ok());
        };
        notice("ops", event::Priority::Medium, "disk 80%");
        notice("ops", event::Priority::Medium, "disk 80%");  // a repeat
        notice("alice", event::Priority::Critical, "deploy failed");
        producer.flush(10s);
    }
    auto po = testing::processor_options(broker, {"notifications"});
    po.name = "notification_processor";
    processors::NotificationStreamProcessor processor(po, [shared] { return shared; });
    testing::run_until(
        processor, [&] { return processor.metrics().processed >= 3; }, 60s);
    ASSERT_TRUE(service.flush(10s));
    auto lines = [](const std::filesystem::path& p) {
        std::ifstream in(p);
        std::vector<std::string> out;
        for (std::string l; std::getline(in, l);) {
            out.push_back(l);
        }
        return out;
    };
    auto ops_lines = lines(dir / "ops.jsonl");
    ASSERT_EQ(ops_lines.size(), 1U);
    EXPECT_THAT(ops_lines[0], ::testing::HasSubstr("disk 80%"));
    auto urgent_lines = lines(dir / "urgent.jsonl");
    ASSERT_EQ(urgent_lines.size(), 1U);
    EXPECT_THAT(urgent_lines[0], ::testing::HasSubstr("deploy failed"));
    EXPECT_EQ(processor.counts().total, 3U);
    EXPECT_EQ(processor.counts().by_priority.at("critical"), 1U);
    std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace agentstream
