// The processor health rules of `run` (monitor::ProgressHealth), tick by tick on a made-up
// clock: each rule shows when its condition holds for a minute, and not before.
#include <agentstream/monitor/event_tail.h>
#include <agentstream/monitor/monitor.h>
#include <agentstream/monitor/progress_health.h>

#include <nlohmann/json.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace agentstream::monitor {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

struct Ticks {
    ProgressHealth health;
    ProgressHealth::TimePoint now{};
    // One tick a second for `seconds`, the counters given by `at(second)`; the last verdict.
    template <class Counters>
    ComponentHealth run(int seconds, Counters at) {
        ComponentHealth last;
        for (int s = 0; s < seconds; ++s) {
            last = health.observe("p", now, at(s));
            now += 1s;
        }
        return last;
    }
};

ProgressCounters counters(std::uint64_t consumed, std::int64_t lag, std::uint64_t dead = 0) {
    return {
        .healthy = true, .consumed = consumed, .dead_lettered = dead, .lag = lag, .rebalances = 1};
}

TEST(ProgressHealth, MakingProgress) {
    Ticks t;
    auto h = t.run(90, [](int s) { return counters(100 * s, 5); });
    EXPECT_EQ(h.status, HealthStatus::Healthy);
    EXPECT_EQ(h.message, "making progress");
}

TEST(ProgressHealth, StalledWhenNothingIsConsumedForAMinuteWithLag) {
    Ticks t;
    auto early = t.run(50, [](int) { return counters(1000, 40); });
    EXPECT_EQ(early.status, HealthStatus::Healthy) << "not a minute yet: " << early.message;
    auto h = t.run(10, [](int) { return counters(1000, 40); });
    EXPECT_EQ(h.status, HealthStatus::Warning);
    EXPECT_EQ(h.message, "stalled: lag 40, nothing consumed for a minute");
    // Nothing to read is not stalled.
    Ticks idle;
    EXPECT_EQ(idle.run(90, [](int) { return counters(1000, 0); }).status, HealthStatus::Healthy);
    // One event consumed in the minute is progress.
    Ticks slow;
    auto s = slow.run(90, [](int sec) { return counters(1000 + sec / 30, 40); });
    EXPECT_EQ(s.status, HealthStatus::Healthy) << s.message;
}

TEST(ProgressHealth, FallingBehindWhenTheLagDoublesAndGrowsBy1000InAMinute) {
    Ticks t;
    auto h = t.run(70, [](int s) { return counters(10 * s, 500 + 50 * s); });
    EXPECT_EQ(h.status, HealthStatus::Warning);
    EXPECT_THAT(h.message, HasSubstr("falling behind: lag grew from"));
    // Doubling from 100 to 900 is not 1000 more; 5000 to 6500 is not double.
    Ticks small;
    EXPECT_EQ(small.run(70, [](int s) { return counters(10 * s, 100 + 12 * s); }).status,
              HealthStatus::Healthy);
    Ticks big;
    EXPECT_EQ(big.run(70, [](int s) { return counters(10 * s, 5000 + 20 * s); }).status,
              HealthStatus::Healthy);
}

TEST(ProgressHealth, DeadLettersInTheLastMinute) {
    Ticks t;
    auto h = t.run(10, [](int s) { return counters(10 * s, 0, s >= 5 ? 2 : 0); });
    EXPECT_EQ(h.status, HealthStatus::Warning);
    EXPECT_EQ(h.message, "2 dead letter(s) in the last minute");
    // A minute later, with no new ones, it is healthy again.
    auto later = t.run(70, [](int s) { return counters(100 + 10 * s, 0, 2); });
    EXPECT_EQ(later.status, HealthStatus::Healthy) << later.message;
}

TEST(ProgressHealth, WaitingForPartitionsUntilTheFirstAssignment) {
    Ticks t;
    auto h = t.run(3, [](int) {
        auto c = counters(0, -1);
        c.rebalances = 0;
        return c;
    });
    EXPECT_EQ(h.status, HealthStatus::Warning);
    EXPECT_EQ(h.message, "waiting for partitions from the group");
    EXPECT_EQ(t.run(1, [](int) { return counters(0, 0); }).status, HealthStatus::Healthy);
}

TEST(ProgressHealth, WaitingForTheBrokersComesFirst) {
    Ticks t;
    auto h = t.run(70, [](int) {
        auto c = counters(0, 40, 3);
        c.healthy = false;
        return c;
    });
    EXPECT_EQ(h.status, HealthStatus::Critical);
    EXPECT_EQ(h.message, "waiting for the brokers");
}

// /healthz and /readyz read these: a service still starting (no tick yet) is alive but not
// ready; one whose ticks stopped is neither. (CI once saw /healthz 503 right after the start of
// a service under ThreadSanitizer, before its first tick.)
TEST(RealTimeMonitor, AliveWhileStartingReadyOnlyAfterATick) {
    RealTimeMonitor m(std::vector<AlertRule>{});
    auto now = Clock::now();
    EXPECT_TRUE(m.live(now, 10s)) << "starting";
    EXPECT_FALSE(m.ready(now, 10s)) << "not ready before its first tick";
    EXPECT_FALSE(m.live(now + 11s, 10s)) << "no tick in its first 10 s";
    m.tick(now + 1s, {});
    EXPECT_TRUE(m.live(now + 2s, 10s));
    EXPECT_TRUE(m.ready(now + 2s, 10s));
    EXPECT_FALSE(m.live(now + 12s, 10s)) << "ticks stopped";
    EXPECT_FALSE(m.ready(now + 12s, 10s));
}

// A record's bytes reach the snapshot through the event tail; one that is not UTF-8 must not
// stop the ticks (nlohmann's dump threw type_error.316 on every tick: /healthz went 503).
TEST(RealTimeMonitor, TicksWhateverBytesTheRecentEventsHold) {
    RealTimeMonitor m(std::vector<AlertRule>{});
    auto now = Clock::now();
    Observations obs;
    TailEntry raw;  // as a caller that skipped preview_of() would give it
    raw.topic = "in";
    raw.key = "\xc3\x28\xa0";
    raw.preview = "{\"x\":\"\xff\xfe\"}";
    raw.reason = "bad \xc3";
    obs.recent_events.push_back(raw);
    TailEntry escaped = raw;
    escaped.key = EventTail::preview_of(raw.key);
    obs.recent_events.push_back(escaped);
    EXPECT_NO_THROW(m.tick(now, obs));
    EXPECT_NO_THROW(m.tick(now + 1s, obs));
    EXPECT_TRUE(m.ready(now + 1s, 10s));
    auto d = nlohmann::json::parse(m.dashboard_json());
    ASSERT_EQ(d["recent_events"].size(), 2U);
    EXPECT_EQ(d["recent_events"][1]["key"], "\\xc3(\\xa0");
    EXPECT_EQ(d["recent_events"][0]["key"], "\xEF\xBF\xBD(\xEF\xBF\xBD");  // U+FFFD: replaced
}

}  // namespace
}  // namespace agentstream::monitor
