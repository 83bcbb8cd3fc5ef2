// The monitor on its own: rules built in code checked as the file's are, added and removed
// while it runs, and its own ticks from what the watched parts report.
#include <agentstream/monitor/monitor.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <mutex>
#include <thread>

namespace agentstream::monitor {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

AlertRule rule(std::string name, std::string metric, double threshold) {
    AlertRule r;
    r.name = std::move(name);
    r.metric = std::move(metric);
    r.condition = Condition::Gt;
    r.threshold = threshold;
    r.severity = Severity::High;
    return r;
}

std::string refusal(RealTimeMonitor& m, const AlertRule& r) {
    try {
        m.add_alert_rule(r);
    } catch (const std::invalid_argument& e) {
        return e.what();
    }
    return "accepted";
}

TEST(RealTimeMonitor, RulesBuiltInCodeAreCheckedAsTheFilesAre) {
    RealTimeMonitor m("system_monitor");
    auto defaults = m.alert_rules().size();
    EXPECT_EQ(defaults, default_rules().size());
    EXPECT_THAT(refusal(m, rule("r", "no_such_metric", 1)),
                HasSubstr("alert rule 'r': unknown metric 'no_such_metric'"));
    EXPECT_THAT(refusal(m, rule("r", "events_total:rate7m", 1)), HasSubstr("alert rule 'r':"));
    auto labelled = rule("r", "error_rate_percent", 1);
    labelled.matchers.push_back({"colour", "red", true});
    EXPECT_THAT(refusal(m, labelled),
                HasSubstr("'error_rate_percent' has no label 'colour' (its labels: component)"));
    EXPECT_THAT(refusal(m, rule("", "error_rate_percent", 1)), HasSubstr("needs a name"));
    EXPECT_THAT(refusal(m, rule("r", "error_rate_percent", std::nan(""))), HasSubstr("finite"));
    auto negative = rule("r", "error_rate_percent", 1);
    negative.for_duration = -1s;
    EXPECT_THAT(refusal(m, negative), HasSubstr("for_duration must not be negative"));
    EXPECT_EQ(m.alert_rules().size(), defaults) << "a refused rule changes nothing";

    EXPECT_EQ(refusal(m, rule("high_error_rate_5", "error_rate_percent", 5)), "accepted");
    EXPECT_EQ(m.alert_rules().size(), defaults + 1);
    // The same name again replaces it, as a file's rule replaces the default of its name.
    EXPECT_EQ(refusal(m, rule("high_error_rate_5", "error_rate_percent", 9)), "accepted");
    EXPECT_EQ(refusal(m, rule("high_latency", "processing_latency_ms:p95", 250)), "accepted");
    ASSERT_EQ(m.alert_rules().size(), defaults + 1);
    for (const auto& r : m.alert_rules()) {
        if (r.name == "high_error_rate_5") {
            EXPECT_EQ(r.threshold, 9);
        } else if (r.name == "high_latency") {
            EXPECT_EQ(r.threshold, 250);
        }
    }
    EXPECT_TRUE(m.remove_alert_rule("high_error_rate_5"));
    EXPECT_FALSE(m.remove_alert_rule("high_error_rate_5"));
    EXPECT_EQ(m.alert_rules().size(), defaults);
}

// Started, the monitor ticks by itself with what its sources report: a processor whose error
// rate climbs fires the rule added in code, the callback hears it, the dashboard shows it, and
// removing the rule resolves it.
TEST(RealTimeMonitor, RunsByItselfAndDerivesTheErrorRateFromWhatItWatches) {
    RealTimeMonitor m(std::vector<AlertRule>{}, MonitorOptions{.interval = 20ms});
    std::atomic<std::uint64_t> consumed{0}, failed{0};
    m.observe([&](Observations& out) {
        ProcessorRow row;
        row.name = "custom_processor";
        row.group = "custom_group";
        consumed += 100;
        failed += 20;  // 20 % of what it reads fails
        row.consumed = consumed;
        row.failed = failed;
        out.processors.push_back(row);
        out.health.push_back({"custom_processor", HealthStatus::Warning, "failing a fifth"});
    });
    std::mutex mutex;
    std::vector<std::string> heard;
    m.on_alert([&](const AlertEvent& e) {
        std::lock_guard lock(mutex);
        heard.push_back(std::string(to_string(e.kind)) + " " + e.rule->name);
    });
    auto r = rule("error_spike", "error_rate_percent", 10);
    r.matchers.push_back({"component", "custom_processor", true});
    m.add_alert_rule(r);
    m.start();
    EXPECT_TRUE(m.running());
    auto wait_for = [&](auto done) {
        for (auto deadline = std::chrono::steady_clock::now() + 20s;
             std::chrono::steady_clock::now() < deadline; std::this_thread::sleep_for(10ms)) {
            if (done()) {
                return true;
            }
        }
        return false;
    };
    EXPECT_TRUE(wait_for([&] { return m.alert_counts().fired == 1; }));
    auto dashboard = nlohmann::json::parse(m.get_dashboard_data());
    EXPECT_EQ(dashboard["alerts"]["active_count"], 1) << dashboard.dump();
    bool unhealthy = false;
    for (const auto& h : m.health()) {
        unhealthy |= h.component == "custom_processor" && h.status == HealthStatus::Warning;
    }
    EXPECT_TRUE(unhealthy);
    EXPECT_TRUE(m.remove_alert_rule("error_spike"));  // while running
    EXPECT_TRUE(wait_for([&] { return m.alert_counts().resolved == 1; }));
    m.stop();
    EXPECT_FALSE(m.running());
    auto ticks = consumed.load();
    std::this_thread::sleep_for(100ms);
    EXPECT_EQ(consumed.load(), ticks) << "no tick after stop()";
    std::lock_guard lock(mutex);
    EXPECT_THAT(heard, ::testing::Contains("firing error_spike"));
}

}  // namespace
}  // namespace agentstream::monitor
