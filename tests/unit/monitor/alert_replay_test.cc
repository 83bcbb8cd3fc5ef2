// Alert rules replayed over recorded points (what `alerts test` runs): values carry forward
// between points, steps add evaluations, a null value ends a series, bad lines say why.
#include <agentstream/monitor/alert_replay.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace agentstream::monitor {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

AlertRule replay_rule(std::chrono::milliseconds for_duration) {
    AlertRule r;
    r.name = "errors";
    r.metric = "error_rate_percent";
    r.condition = Condition::Gt;
    r.threshold = 5;
    r.for_duration = for_duration;
    return r;
}

RecordedPoint at(int seconds, std::optional<double> value) {
    auto p = parse_recorded_point(
        fmt::format(R"({{"time": "2026-01-01T00:00:{:02d}Z", "metric": "error_rate_percent",
                       "labels": {{"component": "router"}}, "value": {}}})",
                    seconds, value ? fmt::format("{}", *value) : std::string("null")));
    EXPECT_TRUE(p) << p.error();
    return *p;
}

TEST(AlertReplay, ValuesCarryForwardAndStepsAddEvaluations) {
    MetricsRegistry registry;
    AlertReplay replay({replay_rule(10s)}, registry);
    replay.add(at(30, 1));  // out of order on purpose
    replay.add(at(0, 9));
    replay.add(at(40, std::nullopt));
    std::vector<std::pair<int, std::string>> seen;
    auto summary = replay.run(5s, [&](Timestamp t, const AlertEvent& e) {
        auto s = std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
        seen.emplace_back(static_cast<int>(s % 60), std::string(to_string(e.kind)));
        EXPECT_EQ(*e.series_labels, (Labels{{"component", "router"}}));
    });
    // 0, 5, ..., 40: nine evaluations; the value 9 holds from 0 until 30.
    EXPECT_EQ(summary.evaluations, 9U);
    ASSERT_EQ(seen.size(), 3U);
    EXPECT_EQ(seen[0], (std::pair<int, std::string>{0, "pending"}));
    EXPECT_EQ(seen[1], (std::pair<int, std::string>{10, "firing"})) << "held for 10 s, by steps";
    EXPECT_EQ(seen[2], (std::pair<int, std::string>{30, "resolved"}));
    EXPECT_EQ(replay.engine().fired_total(), 1U);
    EXPECT_TRUE(replay.engine().active().empty());

    // Without a step, only the recorded times: the condition is never seen held for 10 s.
    AlertReplay sparse({replay_rule(10s)}, registry);
    sparse.add(at(0, 9));
    sparse.add(at(8, 9));
    EXPECT_EQ(sparse.run(std::nullopt, {}).transitions, 1U);  // pending only
}

TEST(AlertReplay, BadPointsSayWhatIsWrong) {
    MetricsRegistry registry;
    EXPECT_EQ(parse_recorded_point("[1]").error(), "not a JSON object");
    EXPECT_THAT(parse_recorded_point(R"({"time": "yesterday"})").error(),
                HasSubstr("'yesterday' is not RFC 3339"));
    EXPECT_THAT(parse_recorded_point(R"({"time": "2026-01-01T00:00:00Z", "metric": "m",
                                         "value": "high"})")
                    .error(),
                HasSubstr("value: expected a number"));
    EXPECT_THAT(parse_recorded_point(R"({"time": "2026-01-01T00:00:00Z", "metric": "m",
                                         "labels": {"a": 1}, "value": 1})")
                    .error(),
                HasSubstr("labels.a: expected a string"));
    AlertReplay replay({replay_rule(0s)}, registry);
    auto unknown = parse_recorded_point(
        R"({"time": "2026-01-01T00:00:00Z", "metric": "no_such_metric", "value": 1})");
    ASSERT_TRUE(unknown);
    EXPECT_THROW(replay.add(*unknown), std::invalid_argument);
}

}  // namespace
}  // namespace agentstream::monitor
