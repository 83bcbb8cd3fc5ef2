// Agents: task times from started/completed pairs, windowed success rate, throughput, p95 and
// utilisation, and error bursts as alerts (once) with a recovery report.
#include <agentstream/event/codec.h>
#include <agentstream/event/factory.h>
#include <agentstream/event/validation.h>
#include <agentstream/processors/agents.h>

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

event::Event agent(event::EventType type, const std::string& task, Timestamp at,
                   const event::Fields& extra = {}) {
    event::Fields f = {{"task_id", task}};
    f.insert(f.end(), extra.begin(), extra.end());
    auto e = event::EventFactory::agent(type, "a1", "Analyzer 1", "document_analyzer", "working",
                                        "test", f);
    e.set_timestamp(at);
    return e;
}

TEST(AgentTracker, TaskTimesAndWindowedRates) {
    AgentTracker tracker;
    Emitted out;
    // Minute 0: four tasks of 3 s each; one error.
    for (int i = 0; i < 4; ++i) {
        auto task = "t" + std::to_string(i);
        tracker.on_event(agent(event::EventType::AgentTaskStarted, task, T0 + i * 10s), out);
        tracker.on_event(agent(event::EventType::AgentTaskCompleted, task, T0 + i * 10s + 3s), out);
    }
    tracker.on_event(
        agent(event::EventType::AgentError, "t9", T0 + 50s, {{"error_message", "model timeout"}}),
        out);
    EXPECT_EQ(metrics_of(out)["agent_task_time_ms"], 3000);
    out.clear();
    tracker.on_event(agent(event::EventType::AgentTaskStarted, "next", T0 + 130s), out);
    tracker.on_event(agent(event::EventType::AgentTaskCompleted, "next", T0 + 131s), out);
    auto m = metrics_of(out);
    EXPECT_EQ(m["agent_success_rate_percent"], 80);  // 4 of 5 ends
    EXPECT_EQ(m["agent_task_ends_per_window"], 5);
    EXPECT_NEAR(m["agent_processing_time_p95_ms"], 3000, 30);
    EXPECT_EQ(m["agent_utilisation_percent"], 20);  // 12 s busy of 60 s
    for (const auto& [topic, e] : out) {
        EXPECT_TRUE(event::validate(e).empty()) << event::encode(e);
    }
}

TEST(AgentTracker, UtilisationIsTheLastClosedWindowAndDecaysToZeroWhenIdle) {
    AgentTracker tracker;
    Emitted out;
    auto now = std::chrono::time_point_cast<std::chrono::system_clock::duration>(T0);
    EXPECT_TRUE(tracker.utilisation(now).empty()) << "no window closed yet";
    tracker.on_event(agent(event::EventType::AgentTaskStarted, "t1", T0), out);
    tracker.on_event(agent(event::EventType::AgentTaskCompleted, "t1", T0 + 30s), out);
    EXPECT_TRUE(tracker.utilisation(now + 30s).empty());
    tracker.on_event(agent(event::EventType::AgentTaskStarted, "t2", T0 + 70s), out);  // closes
    auto u = tracker.utilisation(now + 80s);
    ASSERT_EQ(u.size(), 1U);
    EXPECT_EQ(u[0].first, "a1");
    EXPECT_EQ(u[0].second, 50);  // 30 s of the first minute
    // Two windows after the last closed one with nothing ended: idle.
    EXPECT_EQ(tracker.utilisation(now + 3min + 1s)[0].second, 0);
}

TEST(AgentTracker, AnErrorBurstIsAlertedOnceAndItsEndReported) {
    AgentTrackerOptions o;
    o.burst_errors = 3;
    o.burst_window = 1min;
    AgentTracker tracker(o);
    Emitted out;
    for (int i = 0; i < 6; ++i) {
        tracker.on_event(
            agent(event::EventType::AgentError, "t", T0 + i * 5s, {{"error_message", "disk full"}}),
            out);
    }
    std::vector<std::string> alerts;
    for (const auto& [topic, e] : out) {
        if (e.type() == event::EventType::SystemAlert) {
            alerts.push_back(std::string(*e.string("alert_message")));
            EXPECT_EQ(e.string("component"), "agent:a1");
            EXPECT_THAT(event::encode(e), HasSubstr("\"alert_type\":\"agent_error_burst\""));
        }
    }
    ASSERT_EQ(alerts.size(), 1U);
    EXPECT_THAT(alerts[0], HasSubstr("Agent a1 (document_analyzer) reported 3 errors within 60 s"));
    out.clear();
    tracker.on_event(agent(event::EventType::AgentTaskStarted, "ok", T0 + 3min), out);
    bool recovered = false;
    for (const auto& [topic, e] : out) {
        recovered |=
            e.type() == event::EventType::SystemHealth && e.string("health_status") == "healthy";
    }
    EXPECT_TRUE(recovered);
    EXPECT_EQ(tracker.stats().bursts, 1U);
}

}  // namespace
}  // namespace agentstream::processors
