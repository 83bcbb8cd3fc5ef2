// Windowed aggregation exactly-once on a real Apache Kafka broker: a run "killed" mid-stream
// (its open transaction aborted, as a crash leaves it for the next instance to abort) and a
// second run that restores from the changelog publish every window's result exactly once, with
// the values of an uninterrupted run. The test command exports AGENTSTREAM_E2E_BROKERS; without
// it the test fails (it never skips).
#include <agentstream/event/codec.h>
#include <agentstream/event/factory.h>
#include <agentstream/event/record.h>
#include <agentstream/kafka/admin.h>
#include <agentstream/kafka/consumer.h>
#include <agentstream/kafka/producer.h>
#include <agentstream/runtime/windowed_aggregation.h>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <unistd.h>
#include <cstdlib>
#include <map>
#include <ostream>
#include <thread>

#include "support/e2e_brokers.h"

namespace agentstream {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using testing::e2e_brokers;

constexpr int kPartitions = 4;
constexpr int kServices = 8;
constexpr int kPerService = 600;                // one every 250 ms of event time: 150 s
constexpr std::int64_t T0 = 1'800'000'000'000;  // ms, a whole minute
constexpr std::int64_t kStepMs = 250;

struct Window {
    std::uint64_t count = 0;
    double sum = 0;
    bool operator==(const Window&) const = default;
    friend void PrintTo(const Window& w, std::ostream* os) {
        *os << "{count " << w.count << ", sum " << w.sum << "}";
    }
};
using Results = std::map<std::pair<std::string, std::int64_t>, Window>;  // (key, start_ms)

// Produces the stream (each service on one partition, in time order, then a late-in-time
// closer on every partition so that every window of the services closes); returns the
// expected results of one-minute tumbling windows.
Results produce_stream(const std::string& topic) {
    kafka::ProducerOptions po;
    po.brokers = e2e_brokers();
    kafka::Producer producer(po);
    Results expected;
    auto send = [&](const std::string& service, std::int64_t t, double v, std::int32_t p) {
        auto e = event::EventFactory::create(event::EventType::AnalyticsMetricUpdate, "test",
                                             {{"metric_name", "m"},
                                              {"metric_value", v},
                                              {"metric_type", "gauge"},
                                              {"service", service}});
        e.set_timestamp(Timestamp(std::chrono::milliseconds(t)));
        ASSERT_TRUE(producer.send(topic, event::record_key(e), event::encode(e), {}, {}, p).ok());
    };
    for (int i = 0; i < kPerService; ++i) {
        for (int s = 0; s < kServices; ++s) {
            auto t = T0 + i * kStepMs;
            double v = (i * 7 + s) % 10;
            auto service = fmt::format("s{}", s);
            send(service, t, v, s % kPartitions);
            auto& w = expected[{service, t - (t - T0) % 60'000}];
            ++w.count;
            w.sum += v;
        }
    }
    for (std::int32_t p = 0; p < kPartitions; ++p) {
        send("closer", T0 + 3'600'000, 0, p);
    }
    EXPECT_TRUE(producer.flush(60s));
    return expected;
}

// Runs it; what its run throws fails the test (instead of ending the program).
void run_reporting(runtime::WindowedAggregation& p) {
    try {
        p.run();
    } catch (const std::exception& e) {
        ADD_FAILURE() << "run() threw: " << e.what();
    }
}

runtime::WindowedAggregationOptions options(const std::string& suffix) {
    runtime::WindowedAggregationOptions o;
    o.name = "eos-windows-" + suffix;
    o.client.brokers = e2e_brokers();
    o.input_topic = "eos-in-" + suffix;
    o.output_topic = "eos-out-" + suffix;
    o.late_topic = "eos-late-" + suffix;
    o.dead_letter_topic = "eos-dlq-" + suffix;
    o.changelog_topic = "eos-changelog-" + suffix;
    o.key_fields = {"service"};
    o.value_field = "metric_value";
    o.windows = {window::WindowSpec::tumbling(60s)};
    o.aggregations = {window::AggregateKind::Sum, window::AggregateKind::Count};
    o.idle_timeout = 0ms;
    o.guarantee = runtime::Guarantee::ExactlyOnce;
    return o;
}

TEST(WindowedE2E, ExactlyOnceResultsAcrossAKilledRunAndItsRestore) {
    auto suffix =
        fmt::format("{}-{}", ::getpid(), Clock::now().time_since_epoch().count() % 100000);
    auto o = options(suffix);
    {
        kafka::Admin admin({.brokers = e2e_brokers()});
        for (const auto& t : {o.input_topic, o.output_topic, o.changelog_topic}) {
            kafka::NewTopic nt{t, kPartitions, 1, {}};
            if (t == o.changelog_topic) {
                nt.configs["cleanup.policy"] = "compact";
            }
            ASSERT_TRUE(admin.create_topic(nt));
        }
        for (const auto& t : {o.late_topic, o.dead_letter_topic}) {
            ASSERT_TRUE(admin.create_topic({t, 1, 1, {}}));
        }
    }
    auto expected = produce_stream(o.input_topic);
    ASSERT_EQ(expected.size(), static_cast<std::size_t>(kServices * 3));  // 150 s: 3 windows

    // Run 1: stopped mid-stream without its last checkpoint; the open transaction (results,
    // changelog records and offsets since the last commit) is aborted.
    std::uint64_t first_consumed = 0;
    {
        auto crashing = o;
        crashing.checkpoint_on_stop = false;
        crashing.engine = [](runtime::ProcessorOptions& po) {
            // Transactions of 1,000 events: the stop lands in an open one (almost always).
            po.transaction_interval = std::chrono::hours(1);
            po.transaction_max_events = 1'000;
        };
        runtime::WindowedAggregation first(crashing);
        std::thread t([&] { run_reporting(first); });
        auto deadline = Clock::now() + 120s;
        while (first.metrics().consumed < kServices * kPerService / 2 && Clock::now() < deadline) {
            std::this_thread::sleep_for(1ms);
        }
        first.stop();
        t.join();
        first_consumed = first.metrics().consumed;
        EXPECT_GE(first.metrics().transactions, 1U);
        // Said, not asserted: a stop right after a commit has nothing to abort (about one in a
        // thousand); the results below must be exactly once either way.
        ::testing::Test::RecordProperty("aborted_at_kill",
                                        static_cast<int>(first.metrics().aborted_transactions));
    }
    ASSERT_GT(first_consumed, 0U);
    // Run 2: restores, reads from the last committed position, finishes the stream.
    {
        runtime::WindowedAggregation second(o);
        std::thread t([&] { run_reporting(second); });
        auto deadline = Clock::now() + 180s;
        std::uint64_t last = 0;
        auto still_since = Clock::now();
        while (Clock::now() < deadline) {
            auto m = second.metrics();
            if (m.consumed != last) {
                last = m.consumed;
                still_since = Clock::now();
            } else if (last > 0 && Clock::now() - still_since > 3s) {
                break;
            }
            std::this_thread::sleep_for(50ms);
        }
        second.stop();
        t.join();
        EXPECT_GT(second.aggregation_metrics().restored_keys, 0U);
    }

    // What a read_committed consumer sees: every window once, with the values of the stream.
    kafka::ConsumerOptions co;
    co.brokers = e2e_brokers();
    co.properties = {{"isolation.level", "read_committed"}};
    kafka::Consumer reader(co);
    std::vector<kafka::TopicPartition> parts;
    for (std::int32_t p = 0; p < kPartitions; ++p) {
        parts.push_back({o.output_topic, p});
    }
    reader.assign(parts);
    Results seen;
    std::size_t duplicates = 0;
    auto quiet_until = Clock::now() + 15s;
    while (Clock::now() < quiet_until) {
        auto m = reader.poll(200ms);
        if (!m) {
            continue;
        }
        quiet_until = Clock::now() + 5s;
        auto e = event::decode(m->value());
        ASSERT_TRUE(e.ok());
        auto dims = nlohmann::json::parse(e->field("dimensions")->as_raw_json()->text);
        if (!dims["final"].get<bool>()) {
            continue;
        }
        auto key = dims["key"].get<std::string>();
        if (key == "closer") {
            continue;
        }
        std::pair<std::string, std::int64_t> at{key,
                                                dims["window"]["start_ms"].get<std::int64_t>()};
        if (seen.count(at) != 0U) {
            ++duplicates;
        }
        seen[at] = {dims["count"].get<std::uint64_t>(), dims["sum"].get<double>()};
    }
    EXPECT_EQ(duplicates, 0U) << "a window's result was published twice";
    EXPECT_EQ(seen, expected);
}

}  // namespace
}  // namespace agentstream
