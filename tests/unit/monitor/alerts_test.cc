// The alert state machine with a fake clock (for, cooldown, repeat, resolve, flapping,
// aggregation, vanished series), the rule loader, and the metrics registry's derived series.
#include <agentstream/config/config.h>
#include <agentstream/monitor/alerts.h>
#include <agentstream/monitor/metrics.h>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace agentstream::monitor {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::Not;

const Clock::time_point T0 = Clock::time_point(std::chrono::hours(24 * 365 * 56));

// A fixed set of series the tests feed values for.
struct Series {
    std::vector<SeriesInfo> infos;
    std::uint32_t add(std::string name, Labels labels = {}) {
        infos.push_back({std::move(name), "", Reading::Value, std::move(labels)});
        return static_cast<std::uint32_t>(infos.size() - 1);
    }
    std::function<SeriesInfo(std::uint32_t)> resolver() const {
        return [this](std::uint32_t id) { return infos.at(id); };
    }
};

AlertRule rule(std::string metric, Condition c, double threshold,
               std::chrono::milliseconds for_duration = 0ms) {
    AlertRule r;
    r.name = "r";
    r.metric = std::move(metric);
    r.condition = c;
    r.threshold = threshold;
    r.for_duration = for_duration;
    return r;
}

// Kinds of the events, as text, for compact expectations.
std::string kinds(const std::vector<AlertEvent>& events) {
    std::string out;
    for (const auto& e : events) {
        out += out.empty() ? "" : ",";
        out += to_string(e.kind);
    }
    return out;
}

TEST(AlertEngine, PendingThenFiringAfterForThenResolved) {
    Series s;
    auto id = s.add("error_rate_percent", {{"component", "router"}});
    AlertEngine engine({rule("error_rate_percent", Condition::Gt, 5, 60s)}, s.resolver());
    std::vector<SeriesValue> high{{id, 9}};
    std::vector<SeriesValue> low{{id, 1}};
    EXPECT_EQ(kinds(engine.evaluate(low, T0)), "");
    EXPECT_EQ(kinds(engine.evaluate(high, T0 + 10s)), "pending");
    EXPECT_EQ(kinds(engine.evaluate(high, T0 + 40s)), "");
    EXPECT_EQ(kinds(engine.evaluate(high, T0 + 69s)), "");
    auto fired = engine.evaluate(high, T0 + 70s);
    ASSERT_EQ(kinds(fired), "firing");
    EXPECT_EQ(fired[0].since, T0 + 10s);
    EXPECT_EQ(fired[0].value, 9);
    EXPECT_THAT(*fired[0].series_labels,
                ::testing::ElementsAre(std::pair<std::string, std::string>("component", "router")));
    ASSERT_EQ(engine.active().size(), 1U);
    EXPECT_EQ(engine.active()[0].state, AlertState::Firing);
    EXPECT_EQ(kinds(engine.evaluate(high, T0 + 80s)), "");  // no repeat interval: once
    EXPECT_EQ(kinds(engine.evaluate(low, T0 + 90s)), "resolved");
    EXPECT_TRUE(engine.active().empty());
    EXPECT_EQ(engine.fired_total(), 1U);
    EXPECT_EQ(engine.resolved_total(), 1U);
}

TEST(AlertEngine, AReloadKeepsUnchangedRulesAndResolvesRemovedOrChangedOnes) {
    Series s;
    auto id = s.add("error_rate_percent", {{"component", "router"}});
    auto keep = rule("error_rate_percent", Condition::Gt, 5);
    keep.name = "keep";
    auto change = rule("error_rate_percent", Condition::Gt, 5);
    change.name = "change";
    auto drop = rule("error_rate_percent", Condition::Gt, 5);
    drop.name = "drop";
    AlertEngine engine({keep, change, drop}, s.resolver());
    std::vector<SeriesValue> high{{id, 9}};
    EXPECT_EQ(kinds(engine.evaluate(high, T0)), "firing,firing,firing");

    auto changed = change;
    changed.threshold = 8;
    auto added = rule("error_rate_percent", Condition::Gt, 1);
    added.name = "added";
    keep.line = 40;  // moved in the file: still the same rule
    auto resolved = engine.replace_rules({keep, changed, added}, T0 + 1s);
    ASSERT_EQ(kinds(resolved), "resolved,resolved");
    EXPECT_EQ(resolved[0].rule->name, "change");  // still readable after the swap
    EXPECT_EQ(resolved[1].rule->name, "drop");
    EXPECT_EQ(resolved[1].series_labels->front().second, "router");
    // "keep" stays firing without a new notification; the changed and the new rule start over.
    auto next = engine.evaluate(high, T0 + 2s);
    ASSERT_EQ(kinds(next), "firing,firing");
    EXPECT_EQ(next[0].rule->name, "change");
    EXPECT_EQ(next[1].rule->name, "added");
    EXPECT_EQ(engine.active().size(), 3U);
    EXPECT_EQ(engine.active()[0].since, T0);  // keep: firing since the start
    std::vector<SeriesValue> low{{id, 0}};
    EXPECT_EQ(kinds(engine.evaluate(low, T0 + 3s)), "resolved,resolved,resolved");
    // A bad set (two rules with one name) changes nothing.
    EXPECT_THROW(engine.replace_rules({keep, keep}, T0 + 4s), std::invalid_argument);
    EXPECT_EQ(engine.rules().size(), 3U);
}

TEST(AlertEngine, FlappingBelowForNeverFires) {
    Series s;
    auto id = s.add("error_rate_percent", {{"component", "a"}});
    AlertEngine engine({rule("error_rate_percent", Condition::Gt, 5, 30s)}, s.resolver());
    std::string all;
    for (int i = 0; i < 20; ++i) {
        double v = i % 2 == 0 ? 9 : 1;  // 10 s above, 10 s below, ...
        std::vector<SeriesValue> values{{id, v}};
        all += kinds(engine.evaluate(values, T0 + i * 10s));
    }
    EXPECT_EQ(engine.fired_total(), 0U);
    EXPECT_THAT(all, ::testing::Not(HasSubstr("firing")));
}

TEST(AlertEngine, ZeroForFiresAtOnceAndRepeatsWhileFiring) {
    Series s;
    auto id = s.add("active_tasks");
    auto r = rule("active_tasks", Condition::Gte, 100);
    r.repeat_interval = 5min;
    AlertEngine engine({r}, s.resolver());
    std::vector<SeriesValue> v{{id, 100}};
    EXPECT_EQ(kinds(engine.evaluate(v, T0)), "firing");
    EXPECT_EQ(kinds(engine.evaluate(v, T0 + 4min)), "");
    EXPECT_EQ(kinds(engine.evaluate(v, T0 + 5min)), "repeat");
    EXPECT_EQ(kinds(engine.evaluate(v, T0 + 9min)), "");
    EXPECT_EQ(kinds(engine.evaluate(v, T0 + 10min)), "repeat");
    EXPECT_EQ(engine.fired_total(), 1U);
}

TEST(AlertEngine, CooldownHoldsARefireAfterAResolve) {
    Series s;
    auto id = s.add("active_tasks");
    auto r = rule("active_tasks", Condition::Gt, 10);
    r.cooldown = 2min;
    AlertEngine engine({r}, s.resolver());
    std::vector<SeriesValue> high{{id, 50}};
    std::vector<SeriesValue> low{{id, 0}};
    EXPECT_EQ(kinds(engine.evaluate(high, T0)), "firing");
    EXPECT_EQ(kinds(engine.evaluate(low, T0 + 10s)), "resolved");
    EXPECT_EQ(kinds(engine.evaluate(high, T0 + 20s)), "pending");  // cooling down
    EXPECT_EQ(kinds(engine.evaluate(high, T0 + 1min)), "");
    EXPECT_EQ(kinds(engine.evaluate(high, T0 + 2min + 10s)), "firing");
    EXPECT_EQ(engine.fired_total(), 2U);
}

TEST(AlertEngine, AVanishedSeriesResolves) {
    Series s;
    auto a = s.add("consumer_lag", {{"group", "a"}});
    auto b = s.add("consumer_lag", {{"group", "b"}});
    AlertEngine engine({rule("consumer_lag", Condition::Gt, 1000)}, s.resolver());
    std::vector<SeriesValue> both{{a, 5000}, {b, 5000}};
    std::vector<SeriesValue> only_b{{b, 5000}};
    EXPECT_EQ(kinds(engine.evaluate(both, T0)), "firing,firing");  // one alert per series
    EXPECT_EQ(kinds(engine.evaluate(only_b, T0 + 10s)), "resolved");
    ASSERT_EQ(engine.active().size(), 1U);
    EXPECT_EQ(engine.active()[0].series_labels[0].second, "b");
}

TEST(AlertEngine, MatchersAndAggregation) {
    Series s;
    auto x = s.add("events_total:rate5m", {{"topic", "x"}, {"type", "task.created"}});
    auto y = s.add("events_total:rate5m", {{"topic", "y"}, {"type", "task.created"}});
    auto low = rule("events_total:rate5m", Condition::Lt, 1);
    low.aggregate = Aggregate::Sum;
    auto only_y = rule("events_total:rate5m", Condition::Gt, 0.5);
    only_y.name = "y";
    only_y.matchers = {{"topic", "y", true}};
    auto not_y = rule("events_total:rate5m", Condition::Gt, 0.5);
    not_y.name = "not_y";
    not_y.matchers = {{"topic", "y", false}};
    AlertEngine engine({low, only_y, not_y}, s.resolver());
    // No data at all (start-up, or nothing registered yet): not "throughput 0".
    EXPECT_EQ(kinds(engine.evaluate({}, T0)), "");
    std::vector<SeriesValue> v{{x, 0.3}, {y, 0.6}};  // sum 0.9 < 1
    auto events = engine.evaluate(v, T0 + 10s);
    std::vector<std::string> names;
    for (const auto& e : events) {
        names.push_back(e.rule->name + ":" + std::string(to_string(e.kind)));
    }
    EXPECT_THAT(names, ::testing::UnorderedElementsAre("y:firing", "r:firing"));
    std::vector<SeriesValue> v2{{x, 0.7}, {y, 0.6}};  // sum 1.3
    events = engine.evaluate(v2, T0 + 20s);
    names.clear();
    for (const auto& e : events) {
        names.push_back(e.rule->name + ":" + std::string(to_string(e.kind)));
    }
    EXPECT_THAT(names, ::testing::UnorderedElementsAre("not_y:firing", "r:resolved"));
}

TEST(AlertEngine, DefaultRulesAreQuietWhenAllIsWell) {
    MetricsRegistry registry;
    auto& health = registry.gauge("component_health", {{"component", "router"}});
    auto& events = registry.counter("events_total", {{"topic", "t"}, {"type", "task.created"}});
    registry.gauge("error_rate_percent", {{"component", "router"}}).set(0.5);
    registry.histogram("processing_latency_ms", {{"processor", "p"}}).record(12);
    AlertEngine engine(default_rules(), [&](std::uint32_t id) { return registry.series(id); });
    // Ten minutes of a healthy system that starts with no traffic history.
    for (int i = 0; i <= 600; ++i) {
        events.add(i < 30 ? 0 : 50);  // nothing for the first 30 s, then 50/s
        health.set(0);
        auto now = T0 + i * 1s;
        auto fired = engine.evaluate(registry.sample(now), now);
        for (const auto& e : fired) {
            ADD_FAILURE() << e.rule->name << " " << to_string(e.kind) << " at " << i << " s";
        }
    }
    // The component goes down: component_down fires after its 30 s.
    std::string timeline;
    for (int i = 601; i <= 700; ++i) {
        events.add(50);
        health.set(3);
        auto now = T0 + i * 1s;
        for (const auto& e : engine.evaluate(registry.sample(now), now)) {
            timeline += fmt::format("{} {} {}s;", e.rule->name, to_string(e.kind), i);
        }
    }
    EXPECT_EQ(timeline, "component_down pending 601s;component_down firing 631s;");
}

TEST(AlertEngine, LowThroughputFiresWhenTrafficStopsNotAtStartUp) {
    MetricsRegistry registry;
    auto& events = registry.counter("events_total", {{"topic", "t"}, {"type", "task.created"}});
    AlertEngine engine(default_rules(), [&](std::uint32_t id) { return registry.series(id); });
    std::string timeline;
    for (int i = 0; i <= 1000; ++i) {
        if (i >= 300 && i < 400) {
            events.add(10);  // traffic from 300 s to 400 s only
        }
        auto now = T0 + i * 1s;
        for (const auto& e : engine.evaluate(registry.sample(now), now)) {
            if (e.rule->name == "low_throughput") {
                timeline += fmt::format("{} {}s;", to_string(e.kind), i);
            }
        }
    }
    // No rate before five minutes of data (294 s with the sampling slack), then 0/s: pending.
    // Traffic of 10/s lifts the 5-minute rate over 1/s after 30 s; once it stops, the rate
    // falls below 1/s when fewer than 300 events remain in the window (~670 s) and the rule
    // fires 5 minutes later. Nothing fired before: 5 minutes of silence at start-up are not
    // enough on their own.
    EXPECT_EQ(timeline, "pending 294s;cleared 330s;pending 675s;firing 975s;");
}

// ---- loader ----

std::string load_error(const std::string& yaml) {
    MetricsRegistry registry;
    try {
        load_alert_rules(config::Config::parse(yaml, "rules.yaml"), registry);
    } catch (const config::ConfigError& e) {
        return e.what();
    }
    return "no error";
}

TEST(AlertRules, DefaultsShipAndFileRulesReplaceOrAdd) {
    MetricsRegistry registry;
    auto rules = load_alert_rules(config::Config::parse("", "x.yaml"), registry);
    ASSERT_EQ(rules.size(), 4U);
    rules = load_alert_rules(config::Config::parse(R"(alerts:
  rules:
    - name: high_latency
      metric: processing_latency_ms:p99
      match: {processor: router}
      condition: gte
      threshold: 250
      for: 2m30s
      severity: critical
      repeat_interval: 1h
      cooldown: 10m
      labels: {team: ops}
      annotations: {summary: slow}
    - {name: dlq, metric: "dead_letters_total:rate1m", threshold: 0}
)",
                                                   "x.yaml"),
                             registry);
    ASSERT_EQ(rules.size(), 5U);
    const auto& r = rules[3];
    EXPECT_EQ(r.name, "high_latency");
    EXPECT_EQ(r.metric, "processing_latency_ms:p99");
    EXPECT_EQ(r.condition, Condition::Gte);
    EXPECT_EQ(r.for_duration, 150s);
    EXPECT_EQ(r.severity, Severity::Critical);
    EXPECT_EQ(r.repeat_interval, 1h);
    EXPECT_EQ(r.matchers.at(0).value, "router");
    EXPECT_EQ(rules[4].name, "dlq");
    rules =
        load_alert_rules(config::Config::parse("alerts: {defaults: false}\n", "x.yaml"), registry);
    EXPECT_TRUE(rules.empty());
}

TEST(AlertRules, MistakesAreRejectedWithTheirLine) {
    auto one = [](const std::string& body) { return "alerts:\n  rules:\n    - name: r\n" + body; };
    EXPECT_THAT(load_error(one("      metric: events_per_sec\n      threshold: 1\n")),
                HasSubstr("rules.yaml:4:15: alert rule 'r': unknown metric 'events_per_sec'; "
                          "known: events_total"));
    EXPECT_THAT(load_error(one("      metric: events_total:p95\n      threshold: 1\n")),
                HasSubstr("rules.yaml:4:15: alert rule 'r': 'events_total' cannot be read as "
                          "'events_total:p95': a counter is read as NAME, NAME:rate1m or "
                          "NAME:rate5m"));
    EXPECT_THAT(load_error(one("      metric: active_tasks\n      threshold: 1\n      for: 5 "
                               "minutes\n")),
                HasSubstr("rules.yaml:6:12: for: expected a duration such as 30s"));
    EXPECT_THAT(load_error(one("      metric: active_tasks\n      threshold: x\n")),
                HasSubstr("rules.yaml:5:18: threshold: expected a number, got 'x'"));
    EXPECT_THAT(load_error(one("      metric: active_tasks\n      threshold: 1\n      "
                               "severity: urgent\n")),
                HasSubstr("severity: expected one of info, low, medium, high, critical"));
    EXPECT_THAT(load_error(one("      metric: active_tasks\n")),
                HasSubstr("rules.yaml:3:7: alert rule 'r': threshold is required"));
    EXPECT_THAT(load_error(one("      metric: consumer_lag\n      threshold: 1\n      match: "
                               "{component: x}\n")),
                HasSubstr("'consumer_lag' has no label 'component' (its labels: group)"));
    EXPECT_THAT(load_error(one("      metric: active_tasks\n      threshold: 1\n      when: "
                               "now\n")),
                HasSubstr("rules.yaml:6:7: alerts.rules: unknown key 'when'"));
}

// ---- metrics ----

TEST(Metrics, RatesNeedTheirWindowAndAreRates) {
    MetricsRegistry registry;
    auto& c = registry.counter("events_total", {{"type", "a"}, {"topic", "t"}});
    std::map<std::string, double> last;
    for (int i = 0; i <= 300; ++i) {
        c.add(20);  // 20 per second
        last.clear();
        for (const auto& v : registry.sample(T0 + i * 1s)) {
            last[registry.series(v.series).name] = v.value;
        }
        if (i == 30) {
            EXPECT_FALSE(last.contains("events_total:rate1m"));  // not a minute of data yet
        }
        if (i == 60) {
            ASSERT_TRUE(last.contains("events_total:rate1m"));
            EXPECT_DOUBLE_EQ(last["events_total:rate1m"], 20);
            EXPECT_FALSE(last.contains("events_total:rate5m"));
        }
    }
    EXPECT_DOUBLE_EQ(last["events_total:rate5m"], 20);
    EXPECT_DOUBLE_EQ(last["events_total"], 20 * 301);
}

TEST(Metrics, PercentilesAreOverTheLastMinuteAndASpikeAgesOut) {
    MetricsRegistry registry;
    auto& h = registry.histogram("processing_latency_ms", {{"processor", "p"}});
    auto read = [&](Clock::time_point t) {
        std::map<std::string, double> out;
        for (const auto& v : registry.sample(t)) {
            out[registry.series(v.series).name] = v.value;
        }
        return out;
    };
    // A slow minute (2 s per event), then fast events (1 ms) only.
    for (int i = 0; i < 60; ++i) {
        h.record(2'000'000);
        read(T0 + i * 1s);
    }
    auto slow = read(T0 + 60s);
    EXPECT_NEAR(slow["processing_latency_ms:p95"], 2000, 2000 * 0.03);
    std::map<std::string, double> now;
    for (int i = 61; i <= 140; ++i) {
        h.record(1000);
        now = read(T0 + i * 1s);
        if (i == 90) {  // half a minute later the window still holds slow events
            EXPECT_GT(now["processing_latency_ms:p99"], 1000);
        }
    }
    EXPECT_NEAR(now["processing_latency_ms:p95"], 1, 0.05);
    EXPECT_NEAR(now["processing_latency_ms:mean"], 1, 0.05);
    EXPECT_DOUBLE_EQ(now["processing_latency_ms:count"], 60 + 80);  // cumulative
    // Nothing recorded for a minute: no percentile at all (a rule on it cannot stay firing).
    for (int i = 141; i <= 220; ++i) {
        now = read(T0 + i * 1s);
    }
    EXPECT_FALSE(now.contains("processing_latency_ms:p95"));
    EXPECT_THAT(registry.prometheus_text(), Not(HasSubstr("quantile=")));
}

TEST(Metrics, PrometheusTextAndLabelChecks) {
    MetricsRegistry registry;
    registry.counter("events_total", {{"topic", "in"}, {"type", "task.created"}}).add(3);
    registry.gauge("component_health", {{"component", "a\"b"}}).set(1);
    registry.histogram("processing_latency_ms", {{"processor", "p"}}).record(7000);  // µs
    registry.sample(T0);  // quantiles are those of the last sample's window
    auto text = registry.prometheus_text();
    EXPECT_THAT(text, HasSubstr("# TYPE events_total counter\n"
                                "events_total{topic=\"in\",type=\"task.created\"} 3\n"));
    EXPECT_THAT(text, HasSubstr("component_health{component=\"a\\\"b\"} 1\n"));
    EXPECT_THAT(text, HasSubstr("processing_latency_ms{processor=\"p\",quantile=\"0.5\"} 7\n"));
    EXPECT_THAT(text, HasSubstr("processing_latency_ms_count{processor=\"p\"} 1\n"));
    EXPECT_THROW(registry.counter("events_total", {{"topic", "in"}}), std::invalid_argument);
    EXPECT_THROW(registry.gauge("events_total", {{"topic", "in"}, {"type", "x"}}),
                 std::invalid_argument);
    EXPECT_THROW(registry.counter("nope"), std::invalid_argument);
    EXPECT_THROW(registry.declare({"bad-name", MetricKind::Gauge, "", {}}), std::invalid_argument);
}

}  // namespace
}  // namespace agentstream::monitor
