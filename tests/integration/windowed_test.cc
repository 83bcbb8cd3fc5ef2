// Windowed aggregation on the embedded broker: a scripted stream (out-of-order, late and
// undecodable records included) gives exactly the expected window results, late records on
// the late topic and dead letters; a processor killed mid-window (no last checkpoint) and
// restarted from its changelog produces the same results as an uninterrupted run.
#include <agentstream/broker/embedded_broker.h>
#include <agentstream/event/codec.h>
#include <agentstream/event/factory.h>
#include <agentstream/event/record.h>
#include <agentstream/event/validation.h>
#include <agentstream/kafka/producer.h>
#include <agentstream/processors/analytics.h>
#include <agentstream/runtime/windowed_aggregation.h>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>
#include <thread>

#include "support/runtime_helpers.h"

namespace agentstream {
namespace {

using namespace std::chrono_literals;
using broker::EmbeddedBroker;
using window::Millis;

constexpr Millis T0 = 1'800'000'000'000;  // 2027-01-15, a multiple of 60 s
constexpr int kEvents = 3'000;
constexpr int kServices = 5;

std::string metric_event(int service, Millis t, double value) {
    auto e = event::EventFactory::create(event::EventType::AnalyticsMetricUpdate, "test",
                                         {{"metric_name", "latency_ms"},
                                          {"metric_value", value},
                                          {"metric_type", "gauge"},
                                          {"service", fmt::format("s{}", service)}});
    e.set_timestamp(Timestamp(std::chrono::milliseconds(t)));
    return event::encode(e);
}

// The script: kEvents on-time events (up to 1.5 s out of order; the watermark trails by 2 s),
// then 5 late ones, 3 undecodable records and one far-future event per partition so every
// window closes. Sent in two parts: events [0, kEvents / 2), then the rest.
class Script {
  public:
    explicit Script(const EmbeddedBroker& b) {
        kafka::ProducerOptions po;
        po.brokers = b.bootstrap_servers();
        po.properties = EmbeddedBroker::producer_tuning();
        _producer = std::make_unique<kafka::Producer>(po);
        std::mt19937 rng(3);
        for (int i = 0; i < kEvents; ++i) {
            int s = static_cast<int>(rng() % kServices);
            Millis t = T0 + i * 100 - static_cast<Millis>(rng() % 1'500);
            double v = static_cast<double>(rng() % 1000);
            _events.emplace_back(s, t, v);
            auto name = fmt::format("s{}", s);
            auto& tum = expected[{name, "tumbling 10000ms", t - (t % 10'000)}];
            tum.first += 1;
            tum.second += v;
            for (Millis h = t - (t % 10'000); h > t - 60'000; h -= 10'000) {
                auto& hop = expected[{name, "hopping 60000ms/10000ms", h}];
                hop.first += 1;
                hop.second += v;
            }
        }
    }

    void send_first_part() {
        for (int i = 0; i < kEvents / 2; ++i) {
            send(_events[i]);
        }
        _producer->flush(30s);
    }

    void send_second_part() {
        for (int i = kEvents / 2; i < kEvents; ++i) {
            send(_events[i]);
        }
        _producer->flush(30s);
        for (int i = 0; i < 5; ++i) {  // far behind every watermark by now
            send({i % kServices, T0 + i, 1});
        }
        for (int i = 0; i < 3; ++i) {
            EXPECT_TRUE(
                _producer->send("metrics", "bad", "{\"event_type\":\"analytics.metric.upd").ok());
        }
        for (std::int32_t p = 0; p < 2; ++p) {  // the end of the stream: closes every window
            send({0, T0 + 10'000'000, 0}, p);
        }
        _producer->flush(30s);
    }

    // (service, window label, start) -> (count, sum); the closing events' own windows never
    // close, so they are not expected.
    std::map<std::tuple<std::string, std::string, Millis>, std::pair<std::uint64_t, double>>
        expected;

  private:
    void send(std::tuple<int, Millis, double> e, std::optional<std::int32_t> partition = {}) {
        auto [service, t, v] = e;
        EXPECT_TRUE(_producer
                        ->send("metrics", fmt::format("s{}", service), metric_event(service, t, v),
                               {}, {}, partition)
                        .ok());
    }
    std::unique_ptr<kafka::Producer> _producer;
    std::vector<std::tuple<int, Millis, double>> _events;
};

runtime::WindowedAggregationOptions options(const EmbeddedBroker& b, const std::string& suffix) {
    runtime::WindowedAggregationOptions o;
    o.name = "latency-" + suffix;
    o.client.brokers = b.bootstrap_servers();
    o.consumer_properties = EmbeddedBroker::consumer_tuning();
    o.producer_properties = EmbeddedBroker::producer_tuning();
    o.input_topic = "metrics";
    o.event_types = {"analytics.metric.update"};
    o.key_fields = {"service"};
    o.value_field = "metric_value";
    auto tumbling = window::WindowSpec::tumbling(10s);
    auto hopping = window::WindowSpec::hopping(60s, 10s);
    tumbling.out_of_orderness = hopping.out_of_orderness = 2s;
    o.windows = {tumbling, hopping};
    o.aggregations = {window::AggregateKind::Sum, window::AggregateKind::Count};
    o.output_topic = "out-" + suffix;
    o.late_topic = "late-" + suffix;
    o.changelog_topic = "changelog-" + suffix;
    o.dead_letter_topic = "dlq-" + suffix;
    o.checkpoint_interval = 200ms;
    o.idle_timeout = 0ms;  // results must not depend on wall-clock timing
    return o;
}

using Rows =
    std::map<std::tuple<std::string, std::string, Millis>, std::pair<std::uint64_t, double>>;

// The final results on a topic; `duplicates` counts rows seen more than once (identically).
Rows results(const EmbeddedBroker& b, const std::string& topic, std::size_t expected,
             std::size_t* duplicates) {
    Rows rows;
    *duplicates = 0;
    testing::read_all(b, topic, 2, expected, [&](const kafka::Message& m) {
        auto e = event::decode(m.value());
        ASSERT_TRUE(e.ok());
        EXPECT_EQ(e->type(), event::EventType::AnalyticsReportGenerated);
        auto dims = e->field("dimensions")->as_raw_json()->text;
        auto num = [&](const std::string& name) {
            auto at = dims.find("\"" + name + "\":");
            return std::stod(dims.substr(at + name.size() + 3));
        };
        auto label_at = dims.find("\"label\":\"") + 9;
        auto label = dims.substr(label_at, dims.find('"', label_at) - label_at);
        auto service = std::string(*e->string("service"));
        std::tuple<std::string, std::string, Millis> key{service, label,
                                                         static_cast<Millis>(num("start_ms"))};
        std::pair<std::uint64_t, double> value{static_cast<std::uint64_t>(num("count")),
                                               num("sum")};
        auto [it, inserted] = rows.emplace(key, value);
        if (!inserted) {
            EXPECT_EQ(it->second, value) << "a repeated result differs";
            ++*duplicates;
        }
    });
    return rows;
}

// Reads until `expected` records (then half a second more, for repeats).
std::size_t count_records(const EmbeddedBroker& b, const std::string& topic, std::size_t expected) {
    return testing::read_all(b, topic, 1, expected, [](const kafka::Message&) {});
}

void run_until_idle(runtime::WindowedAggregation& p, std::chrono::seconds limit = 90s) {
    std::thread t([&] { p.run(); });
    auto deadline = std::chrono::steady_clock::now() + limit;
    std::uint64_t seen = 0;
    auto still_since = std::chrono::steady_clock::now();
    while (std::chrono::steady_clock::now() < deadline) {
        auto m = p.aggregation_metrics();
        if (m.consumed != seen) {
            seen = m.consumed;
            still_since = std::chrono::steady_clock::now();
        } else if (seen > 0 && std::chrono::steady_clock::now() - still_since > 3s) {
            break;
        }
        std::this_thread::sleep_for(50ms);
    }
    p.stop();
    t.join();
}

TEST(WindowedAggregation, ExactResultsLateEventsAndDeadLettersAndTheSameAfterAKill) {
    EmbeddedBroker broker;
    broker.create_topic("metrics", 2);
    for (const char* s : {"a", "b"}) {
        broker.create_topic(fmt::format("out-{}", s), 2);
        broker.create_topic(fmt::format("late-{}", s), 1);
        broker.create_topic(fmt::format("dlq-{}", s), 1);
        broker.create_topic(fmt::format("changelog-{}", s), 2);
    }
    Script script(broker);
    script.send_first_part();

    // Run "b" is killed mid-stream: after a checkpoint, with more consumed since (no last
    // checkpoint, nothing committed since the previous one), then restarted: it restores from
    // the changelog and resumes at the checkpoint's position.
    auto crashing = options(broker, "b");
    crashing.checkpoint_on_stop = false;
    crashing.checkpoint_interval = 2s;
    {
        runtime::WindowedAggregation first(crashing);
        std::thread t([&] { first.run(); });
        auto deadline = std::chrono::steady_clock::now() + 60s;
        auto wait = [&](auto done) {
            while (!done() && std::chrono::steady_clock::now() < deadline) {
                std::this_thread::sleep_for(1ms);
            }
        };
        wait([&] { return first.metrics().consumed >= kEvents / 2; });
        auto before = first.aggregation_metrics().checkpoints;
        wait([&] {
            return first.aggregation_metrics().checkpoints > before;
        });  // covers the first part
        script.send_second_part();
        wait([&] { return first.metrics().consumed >= kEvents / 2 + 500; });
        first.stop();  // the "kill", well before the next checkpoint (2 s)
        t.join();
        EXPECT_EQ(first.aggregation_metrics().checkpoints, before + 1) << "a checkpoint slipped in";
        // It may have read everything by then: what matters is that it read past its last
        // checkpoint, and that work is lost with the kill.
        EXPECT_GT(first.metrics().consumed, kEvents / 2U + 100U) << "nothing to lose";
    }
    {
        // A checkpoint cut short by the crash: key states written after the last position
        // record (here unreadable ones) must not be restored.
        kafka::ProducerOptions po;
        po.brokers = broker.bootstrap_servers();
        kafka::Producer producer(po);
        for (std::int32_t p = 0; p < 2; ++p) {
            for (int s = 0; s < kServices; ++s) {
                ASSERT_TRUE(
                    producer.send("changelog-b", fmt::format("0/s{}", s), "torn", {}, {}, p).ok());
            }
        }
        producer.flush(10s);
    }
    runtime::WindowedAggregation second(options(broker, "b"));
    run_until_idle(second);
    EXPECT_GT(second.aggregation_metrics().restored_keys, 0U);

    // Run "a": uninterrupted, over the whole stream.
    runtime::WindowedAggregation straight(options(broker, "a"));
    run_until_idle(straight);
    auto m = straight.aggregation_metrics();
    EXPECT_EQ(m.consumed, kEvents + 5 + 3 + 2U);
    EXPECT_EQ(m.late, 5U);
    EXPECT_EQ(m.dead_lettered, 3U);
    std::size_t duplicates = 0;
    auto a = results(broker, "out-a", script.expected.size(), &duplicates);
    EXPECT_EQ(duplicates, 0U);
    EXPECT_EQ(a, script.expected) << "window results differ from the script's";
    EXPECT_EQ(count_records(broker, "late-a", 5), 5U);
    EXPECT_EQ(count_records(broker, "dlq-a", 3), 3U);

    auto b = results(broker, "out-b", script.expected.size(), &duplicates);
    EXPECT_EQ(b, a) << "the restarted run's results differ from the uninterrupted run's";
    // Side outputs are at-least-once: what the killed run sent after its checkpoint is sent again.
    auto late_b = count_records(broker, "late-b", 5);
    EXPECT_GE(late_b, 5U);
    EXPECT_LE(late_b, 10U);
    EXPECT_GE(count_records(broker, "dlq-b", 3), 3U);
}

}  // namespace
}  // namespace agentstream

namespace agentstream {
namespace {

// The analytics processor over a scripted minute-by-minute stream: the window results it
// publishes and exactly the threshold alerts the original's table calls for, on windows.
TEST(AnalyticsStreamProcessor, ScriptedMetricsGiveExactAggregatesAndAlerts) {
    EmbeddedBroker broker;
    for (const char* t : {"analytics", "metrics", "alerts", "insights"}) {
        broker.create_topic(t, 2);
    }
    broker.create_topic("analytics-changelog", 2);
    {
        kafka::ProducerOptions po;
        po.brokers = broker.bootstrap_servers();
        po.properties = EmbeddedBroker::producer_tuning();
        kafka::Producer producer(po);
        auto send = [&](const std::string& service, const std::string& metric, Millis t, double v,
                        std::optional<std::int32_t> partition = {}) {
            auto e = event::EventFactory::create(event::EventType::AnalyticsMetricUpdate, "test",
                                                 {{"metric_name", metric},
                                                  {"metric_value", v},
                                                  {"metric_type", "gauge"},
                                                  {"service", service}});
            e.set_timestamp(Timestamp(std::chrono::milliseconds(t)));
            EXPECT_TRUE(
                producer
                    .send("analytics", event::record_key(e), event::encode(e), {}, {}, partition)
                    .ok());
        };
        // Minute m: api error rate averages 5, 15, 25; the worker fails 2, 4, 6 tasks.
        const double rates[3][2] = {{4, 6}, {14, 16}, {24, 26}};
        for (int m = 0; m < 3; ++m) {
            Millis base = T0 + m * 60'000;
            send("api", "http_error_rate", base + 1'000, rates[m][0]);
            send("api", "http_error_rate", base + 30'000, rates[m][1]);
            for (int f = 0; f < 2 * (m + 1); ++f) {
                send("worker", "task_failed", base + 2'000 + f * 1'000, 1);
            }
        }
        for (std::int32_t p = 0; p < 2; ++p) {  // the end of the stream
            send("closer", "x", T0 + 10'000'000, 0, p);
        }
        producer.flush(30s);
    }
    processors::AnalyticsOptions o;
    o.client.brokers = broker.bootstrap_servers();
    o.consumer_properties = EmbeddedBroker::consumer_tuning();
    o.producer_properties = EmbeddedBroker::producer_tuning();
    o.checkpoint_interval = 200ms;
    processors::AnalyticsStreamProcessor processor(o);
    std::thread t([&] { processor.run(); });
    auto deadline = std::chrono::steady_clock::now() + 60s;
    while (processor.metrics().consumed < 20 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(20ms);
    }
    std::this_thread::sleep_for(500ms);
    processor.stop();
    t.join();
    EXPECT_EQ(processor.threshold_alerts(), 4U);

    // Results: per series 3 one-minute windows, one 5-minute and one 1-hour window.
    std::map<std::string, std::vector<double>> by_series;  // "service metric label" -> avg values
    testing::read_all(broker, "metrics", 2, 10, [&](const kafka::Message& m) {
        auto e = event::decode(m.value());
        ASSERT_TRUE(e.ok());
        auto dims = e->field("dimensions")->as_raw_json()->text;
        auto label_at = dims.find("\"label\":\"") + 9;
        auto label = dims.substr(label_at, dims.find('"', label_at) - label_at);
        by_series[fmt::format("{} {} {}", *e->string("service"), *e->string("metric_name"), label)]
            .push_back(*e->number("metric_value"));
    });
    EXPECT_EQ(by_series["api http_error_rate tumbling 60000ms"], (std::vector<double>{5, 15, 25}));
    EXPECT_EQ(by_series["api http_error_rate tumbling 300000ms"], (std::vector<double>{15}));
    EXPECT_EQ(by_series["api http_error_rate tumbling 3600000ms"], (std::vector<double>{15}));
    EXPECT_EQ(by_series["worker task_failed tumbling 60000ms"], (std::vector<double>{1, 1, 1}));
    EXPECT_EQ(by_series.size(), 6U) << [&] {
        std::string keys;
        for (const auto& [k, v] : by_series) {
            keys += k + "; ";
        }
        return keys;
    }();

    std::vector<std::string> alerts;
    testing::read_all(broker, "alerts", 2, 4, [&](const kafka::Message& m) {
        auto e = event::decode(m.value());
        ASSERT_TRUE(e.ok());
        EXPECT_TRUE(event::validate(*e).empty());
        alerts.push_back(
            fmt::format("{} {}", *e->string("component"), *e->string("health_status")));
    });
    std::sort(alerts.begin(), alerts.end());
    EXPECT_EQ(alerts, (std::vector<std::string>{"api critical", "api warning", "worker critical",
                                                "worker warning"}));
}

}  // namespace
}  // namespace agentstream
