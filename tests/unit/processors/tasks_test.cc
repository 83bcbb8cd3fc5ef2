// The task lifecycle: queue and execution times from the events' own timestamps, counters,
// per-type throughput and failure rate over windows, stuck tasks reported once, cancelled and
// idle tasks forgotten, bounded state, correlation ids carried, every event valid.
#include <agentstream/event/codec.h>
#include <agentstream/event/factory.h>
#include <agentstream/event/validation.h>
#include <agentstream/processors/tasks.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/processor_helpers.h"

namespace agentstream::processors {
namespace {

using namespace std::chrono_literals;
using testing::expect_valid;
using ::testing::HasSubstr;
using testing::metrics_of;

using testing::T0;

event::Event task(event::EventType type, const std::string& id, const std::string& task_type,
                  Timestamp at, const event::Fields& extra = {}) {
    auto e = event::EventFactory::task(type, id, task_type, "test", extra);
    e.set_timestamp(at);
    e.set_correlation_id("corr-" + id);
    return e;
}

TEST(TaskTracker, QueueAndExecutionTimesComeFromTheEvents) {
    TaskTracker tracker;
    Emitted out;
    tracker.on_event(task(event::EventType::TaskCreated, "t1", "analysis", T0), out);
    tracker.on_event(
        task(event::EventType::TaskAssigned, "t1", "analysis", T0 + 1s, {{"agent_id", "a1"}}), out);
    tracker.on_event(task(event::EventType::TaskStarted, "t1", "analysis", T0 + 2500ms), out);
    auto started = metrics_of(out);
    EXPECT_EQ(started["task_queue_time_ms"], 2500);
    out.clear();
    tracker.on_event(task(event::EventType::TaskCompleted, "t1", "analysis", T0 + 10s), out);
    auto done = metrics_of(out);
    EXPECT_EQ(done["task_execution_time_ms"], 7500);
    EXPECT_EQ(done["task_completed"], 1);
    for (const auto& [topic, e] : out) {
        EXPECT_EQ(topic, "analytics");
        EXPECT_EQ(e.correlation_id(), "corr-t1");
        EXPECT_EQ(e.string("service"), "task_processor:analysis");
    }
    expect_valid(out);
    EXPECT_EQ(tracker.stats().tracked, 0U);
}

TEST(TaskTracker, FailuresCarryTheirErrorAndRatesAreWindowed) {
    TaskTracker tracker;
    Emitted out;
    // Minute 0: 3 completed, 1 failed (with the error the original never read).
    for (int i = 0; i < 4; ++i) {
        auto id = "t" + std::to_string(i);
        tracker.on_event(task(event::EventType::TaskStarted, id, "qa", T0 + i * 1s), out);
        if (i == 3) {
            tracker.on_event(task(event::EventType::TaskFailed, id, "qa", T0 + 20s + i * 1s,
                                  {{"error_message", "checker crashed"}}),
                             out);
        } else {
            tracker.on_event(task(event::EventType::TaskCompleted, id, "qa", T0 + 20s + i * 1s),
                             out);
        }
    }
    bool saw_error = false;
    for (const auto& [topic, e] : out) {
        if (e.string("metric_name") == "task_failed") {
            saw_error = event::encode(e).find("checker crashed") != std::string::npos;
        }
    }
    EXPECT_TRUE(saw_error);
    out.clear();
    // A completion in minute 2 moves the watermark past minute 0's window (5 s disorder allowed).
    tracker.on_event(task(event::EventType::TaskCompleted, "late-start", "qa", T0 + 130s), out);
    auto m = metrics_of(out);
    EXPECT_EQ(m["task_throughput_per_minute"], 4);
    EXPECT_EQ(m["task_failure_rate_percent"], 25);
    EXPECT_EQ(tracker.stats().unknown_ends, 1U);
    expect_valid(out);
}

TEST(TaskTracker, RunningCountsTasksStartedAndNotEnded) {
    TaskTrackerOptions o;
    o.state_ttl = 1h;
    TaskTracker tracker(o);
    Emitted out;
    tracker.on_event(task(event::EventType::TaskCreated, "queued", "x", T0), out);
    EXPECT_EQ(tracker.stats().running, 0U) << "created is not running";
    for (const char* id : {"a", "b", "c", "d"}) {
        tracker.on_event(task(event::EventType::TaskStarted, id, "x", T0 + 1s), out);
    }
    tracker.on_event(task(event::EventType::TaskStarted, "a", "x", T0 + 2s), out);  // twice
    EXPECT_EQ(tracker.stats().running, 4U);
    tracker.on_event(task(event::EventType::TaskCompleted, "a", "x", T0 + 3s), out);
    tracker.on_event(task(event::EventType::TaskFailed, "b", "x", T0 + 3s), out);
    tracker.on_event(task(event::EventType::TaskCancelled, "c", "x", T0 + 3s), out);
    tracker.on_event(task(event::EventType::TaskCompleted, "never-seen", "x", T0 + 3s), out);
    EXPECT_EQ(tracker.stats().running, 1U);
    tracker.check(T0 + 2h, out);  // "d" and "queued" expire
    EXPECT_EQ(tracker.stats().running, 0U);
    EXPECT_EQ(tracker.stats().tracked, 0U);
}

TEST(TaskTracker, StuckTasksAreReportedOnceAndForgottenWhenIdle) {
    TaskTrackerOptions o;
    o.stuck_after = 10min;
    o.state_ttl = 1h;
    TaskTracker tracker(o);
    Emitted out;
    tracker.on_event(
        task(event::EventType::TaskStarted, "slow", "report", T0, {{"agent_id", "bi-1"}}), out);
    tracker.on_event(task(event::EventType::TaskStarted, "fine", "report", T0), out);
    tracker.on_event(task(event::EventType::TaskCompleted, "fine", "report", T0 + 1min), out);
    out.clear();
    tracker.check(T0 + 9min, out);
    EXPECT_TRUE(out.empty());
    tracker.check(T0 + 11min, out);
    ASSERT_EQ(out.size(), 1U);
    EXPECT_EQ(out[0].first, "alerts");
    EXPECT_EQ(out[0].second.type(), event::EventType::SystemAlert);
    EXPECT_THAT(std::string(*out[0].second.string("alert_message")),
                HasSubstr("Task slow (report) started at"));
    EXPECT_THAT(std::string(*out[0].second.string("alert_message")), HasSubstr("on bi-1"));
    EXPECT_EQ(out[0].second.correlation_id(), "corr-slow");
    EXPECT_THAT(event::encode(out[0].second), HasSubstr("\"alert_type\":\"task_stuck\""));
    expect_valid(out);
    out.clear();
    tracker.check(T0 + 20min, out);
    EXPECT_TRUE(out.empty()) << "reported once";
    tracker.check(T0 + 2h, out);
    EXPECT_EQ(tracker.stats().expired, 1U);
    EXPECT_EQ(tracker.stats().tracked, 0U);
}

TEST(TaskTracker, CancelledTasksAreForgottenAndStateIsBounded) {
    TaskTrackerOptions o;
    o.max_tasks = 2;
    TaskTracker tracker(o);
    Emitted out;
    tracker.on_event(task(event::EventType::TaskCreated, "a", "x", T0), out);
    tracker.on_event(task(event::EventType::TaskCreated, "b", "x", T0), out);
    tracker.on_event(task(event::EventType::TaskCreated, "c", "x", T0), out);
    EXPECT_EQ(tracker.stats().overflow, 1U);
    tracker.on_event(task(event::EventType::TaskCancelled, "a", "x", T0 + 1s), out);
    EXPECT_EQ(tracker.stats().tracked, 1U);
    EXPECT_EQ(metrics_of(out)["task_cancelled"], 1);
}

}  // namespace
}  // namespace agentstream::processors
