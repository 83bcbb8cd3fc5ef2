// The pieces of the pipeline module that decide without a broker: totals kept across reloads
// and restarts, the topics a pipeline wants, the checks of a spec and of the options.
#include <agentstream/config/config.h>
#include <agentstream/pipeline/application.h>
#include <agentstream/pipeline/topics.h>
#include <agentstream/pipeline/totals.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace agentstream::pipeline {
namespace {

using ::testing::HasSubstr;

router::RouteMetrics route(const std::string& name, std::uint64_t matched,
                           std::uint64_t samples = 0, std::uint64_t p99 = 0) {
    router::RouteMetrics r;
    r.name = name;
    r.matched = matched;
    r.delivered = matched;
    r.latency_samples = samples;
    r.latency_p99_ns = p99;
    return r;
}

TEST(Totals, RoutesKeptAcrossAReloadKeepCountingAndGaugesAreTheRunningOnes) {
    Totals totals;
    router::RouterMetrics first;
    first.events = 10;
    first.unmatched = 2;
    first.routes = {route("a", 6, 6, 900), route("b", 2)};
    totals.add(first);  // a reload retired the first table
    runtime::ProcessorMetrics stopped;
    stopped.consumed = 10;
    stopped.processed = 10;
    stopped.lag = 50;
    stopped.in_flight = 3;
    totals.add(stopped);  // a restart retired the first consumer

    router::RouterMetrics now;
    now.events = 5;
    now.routes = {route("a", 4, 0, 0), route("c", 1, 1, 700)};
    runtime::ProcessorMetrics running;
    running.consumed = 5;
    running.processed = 4;
    running.lag = 7;
    running.in_flight = 1;
    running.healthy = false;
    running.health = "stalled";
    auto t = totals.with(now, running);

    EXPECT_EQ(t.router.events, 15U);
    EXPECT_EQ(t.router.unmatched, 2U);
    ASSERT_EQ(t.router.routes.size(), 3U);
    EXPECT_EQ(t.router.routes[0].name, "a");
    EXPECT_EQ(t.router.routes[0].matched, 10U);
    EXPECT_EQ(t.router.routes[0].latency_p99_ns, 900U);  // the new table has not sampled yet
    EXPECT_EQ(t.router.routes[0].latency_samples, 6U);
    EXPECT_EQ(t.router.routes[1].name, "b");
    EXPECT_EQ(t.router.routes[1].matched, 2U);  // a route the reload removed keeps its count
    EXPECT_EQ(t.router.routes[2].name, "c");
    EXPECT_EQ(t.router.routes[2].latency_p99_ns, 700U);
    EXPECT_EQ(t.processor.consumed, 15U);
    EXPECT_EQ(t.processor.processed, 14U);
    EXPECT_EQ(t.processor.lag, 7);  // gauges: what runs now
    EXPECT_EQ(t.processor.in_flight, 1U);
    EXPECT_FALSE(t.processor.healthy);
    EXPECT_EQ(t.processor.health, "stalled");
    // with() leaves the totals as they were.
    EXPECT_EQ(totals.router.events, 10U);
    EXPECT_EQ(totals.processor.consumed, 10U);
}

TEST(WantedTopics, TheFileFirstThenExtrasItDoesNotDeclareThenCompactedChangelogs) {
    auto cfg = config::Config::parse(R"(
topics:
  in: 6
  out: {partitions: 2, replication_factor: 3, config: {retention.ms: "60000"}}
embedded:
  partitions: 4
)",
                                     "wanted.yaml");
    auto wanted = wanted_topics(cfg, {"out", "in.dlq", "alerts", "in.dlq"},
                                {{"state-changelog", "in"}, {"other-changelog", "elsewhere"}});
    std::vector<std::string> names;
    for (const auto& t : wanted) {
        names.push_back(t.name);
    }
    EXPECT_THAT(names, ::testing::ElementsAre("in", "out", "in.dlq", "alerts", "state-changelog",
                                              "other-changelog"));
    EXPECT_EQ(wanted[0].partitions, 6);
    EXPECT_EQ(wanted[0].replication_factor, -1);  // the broker's default
    EXPECT_EQ(wanted[1].partitions, 2);
    EXPECT_EQ(wanted[1].replication_factor, 3);
    EXPECT_EQ(wanted[1].configs.at("retention.ms"), "60000");
    EXPECT_EQ(wanted[2].partitions, 4);  // embedded.partitions
    EXPECT_EQ(wanted[4].partitions, 6);  // its input's
    EXPECT_EQ(wanted[4].configs.at("cleanup.policy"), "compact");
    EXPECT_EQ(wanted[5].partitions, 4);  // an input the file does not declare
}

constexpr const char* ONE_ROUTE = R"(
topics: {in: 2, out: 2}
routes:
  - name: docs
    source_topics: [in]
    target_topics: [out]
    event_types: [document.uploaded]
)";

TEST(PipelineSpec, ACodeBuiltConfigurationIsCheckedWholeAsAFileIs) {
    auto spec = PipelineSpec::from(config::Config::parse(ONE_ROUTE, "code.yaml"));
    EXPECT_EQ(spec.router->source_topics(), std::vector<std::string>{"in"});
    EXPECT_FALSE(spec.agents.has_value());
    // A mistake in an alert rule is found although no route uses it.
    try {
        PipelineSpec::from(config::Config::parse(std::string(ONE_ROUTE) + R"(
alerts:
  rules:
    - {name: bad, metric: no_such_metric, condition: gt, threshold: 1}
)",
                                                 "code.yaml"));
        FAIL() << "an alert rule on an unknown metric was accepted";
    } catch (const config::ConfigError& e) {
        EXPECT_THAT(e.what(), HasSubstr("code.yaml"));
        EXPECT_THAT(e.what(), HasSubstr("no_such_metric"));
    }
    // A loop is refused with the file's name.
    try {
        PipelineSpec::from(config::Config::parse(R"(
topics: {in: 2}
routes:
  - {name: loop, source_topics: [in], target_topics: [in]}
)",
                                                 "loop.yaml"));
        FAIL() << "a routing loop was accepted";
    } catch (const config::ConfigError& e) {
        EXPECT_THAT(e.what(), HasSubstr("loop.yaml"));
    }
}

TEST(Application, OptionsThatCannotWorkAreRefusedBeforeAnythingStarts) {
    ApplicationOptions o;
    o.exactly_once = true;
    o.workers = 4;
    try {
        Application app(PipelineSpec::from(config::Config::parse(ONE_ROUTE)), o);
        FAIL() << "exactly-once with four workers was accepted";
    } catch (const SetupError& e) {
        EXPECT_THAT(e.what(), HasSubstr("one worker"));
        EXPECT_THAT(e.hint(), HasSubstr("workers"));
    }
    try {
        Application app(PipelineSpec::from(config::Config::parse(R"(
topics: {in: 2, out: 2}
routes:
  - {name: off, source_topics: [in], target_topics: [out], enabled: false}
)",
                                                                 "off.yaml")));
        FAIL() << "a pipeline without enabled routes was accepted";
    } catch (const SetupError& e) {
        EXPECT_THAT(e.what(), HasSubstr("off.yaml has no enabled routes"));
    }
}

}  // namespace
}  // namespace agentstream::pipeline
