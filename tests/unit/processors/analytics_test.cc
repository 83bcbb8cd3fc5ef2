// The analytics rules on window aggregates: the original's thresholds (now on windows, so
// counters can fire), the first matching entry, anomalies with their evidence, and every
// emitted event valid.
#include <agentstream/event/codec.h>
#include <agentstream/event/validation.h>
#include <agentstream/processors/analytics.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/processor_helpers.h"

namespace agentstream::processors {
namespace {

using testing::expect_valid;
using ::testing::HasSubstr;

window::Aggregate values(std::initializer_list<double> xs) {
    window::Aggregate a;
    for (double x : xs) {
        a.add(x);
    }
    return a;
}

TEST(AnalyticsRules, ThresholdsApplyToWindowAggregates) {
    AnalyticsRules rules({});
    runtime::Emitted out;
    rules.evaluate("api", "http_error_rate", "tumbling 60000ms", 0, 60'000, values({8, 12, 13}),
                   out);  // avg 11: high (10)
    ASSERT_EQ(out.size(), 1U);
    EXPECT_EQ(out[0].first, "alerts");
    EXPECT_EQ(out[0].second.type(), event::EventType::SystemAlert);
    EXPECT_EQ(out[0].second.string("health_status"), "warning");
    EXPECT_EQ(out[0].second.string("component"), "api");
    EXPECT_THAT(
        std::string(*out[0].second.string("alert_message")),
        HasSubstr("Threshold exceeded for http_error_rate of api: tumbling 60000ms avg = 11"));
    auto json = event::encode(out[0].second);
    EXPECT_THAT(json, HasSubstr("\"threshold_type\":\"high\""));
    EXPECT_THAT(json, HasSubstr("\"alert_type\":\"threshold_exceeded\""));
    expect_valid(out);
    out.clear();
    rules.evaluate("api", "http_error_rate", "w", 0, 60'000, values({25, 30}), out);
    ASSERT_EQ(out.size(), 1U);
    EXPECT_EQ(out[0].second.string("health_status"), "critical");
    out.clear();
    // Counter events valued 1 (which could never fire one by one): four failures in a window.
    rules.evaluate("worker", "task_failed", "w", 0, 60'000, values({1, 1, 1, 1}), out);
    ASSERT_EQ(out.size(), 1U);
    EXPECT_EQ(out[0].second.string("health_status"), "warning");
    out.clear();
    rules.evaluate("worker", "task_failed", "w", 0, 60'000, values({1, 1}), out);
    EXPECT_TRUE(out.empty());
    rules.evaluate("api", "response_time", "w", 0, 60'000, values({1, 2, 3}), out);
    EXPECT_TRUE(out.empty());
    EXPECT_EQ(rules.threshold_alerts(), 3U);
}

TEST(AnalyticsRules, AnAnomalousWindowBecomesAnInsightAndAnAlertWithEvidence) {
    AnalyticsRules rules({});
    runtime::Emitted out;
    for (int i = 0; i < 40; ++i) {  // a steady series: ~200 ms
        rules.evaluate("search", "latency_ms", "w", i * 60'000, (i + 1) * 60'000,
                       values({195.0 + i % 10, 205.0 - i % 7}), out);
    }
    EXPECT_TRUE(out.empty());
    rules.evaluate("search", "latency_ms", "w", 40 * 60'000, 41 * 60'000, values({900, 950}), out);
    ASSERT_EQ(out.size(), 2U);
    EXPECT_EQ(out[0].first, "insights");
    const auto& insight = out[0].second;
    EXPECT_EQ(insight.type(), event::EventType::BusinessInsightGenerated);
    EXPECT_EQ(insight.string("insight_type"), "anomaly");
    EXPECT_EQ(insight.string("business_impact"), "high");
    EXPECT_THAT(std::string(*insight.string("description")),
                HasSubstr("latency_ms of search averaged 925"));
    auto json = event::encode(insight);
    EXPECT_THAT(json, HasSubstr("\"evidence\":{\"metric_name\":\"latency_ms\""));
    EXPECT_THAT(json, HasSubstr("\"median\":"));
    EXPECT_EQ(out[1].first, "alerts");
    EXPECT_THAT(event::encode(out[1].second), HasSubstr("\"alert_type\":\"anomaly\""));
    expect_valid(out);
    EXPECT_EQ(rules.anomalies(), 1U);
}

}  // namespace
}  // namespace agentstream::processors
