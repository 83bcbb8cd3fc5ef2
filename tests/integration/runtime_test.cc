// StreamProcessor against the embedded broker: dead letters, retries, backpressure, shutdown.
#include <agentstream/broker/embedded_broker.h>
#include <agentstream/event/codec.h>
#include <agentstream/kafka/admin.h>
#include <agentstream/kafka/consumer.h>
#include <agentstream/kafka/producer.h>
#include <agentstream/runtime/dead_letter.h>
#include <agentstream/runtime/processor.h>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <thread>

#include "support/figures.h"
#include "support/runtime_helpers.h"
#include "support/transport_helpers.h"

namespace agentstream {
namespace {

using namespace std::chrono_literals;
using broker::EmbeddedBroker;
using runtime::Context;
using runtime::ErrorClass;
using runtime::ProcessorOptions;
using runtime::StreamProcessor;
using testing::describe;
using testing::processor_options;
using testing::read_all;
using testing::run_until;

std::int64_t number_of(const event::Event& e) {
    for (const auto& [name, raw] : e.extra_fields()) {
        if (name == "n") {
            return std::stoll(raw.text);
        }
    }
    return -1;
}

TEST(Runtime, PoisonEventsGoToDeadLettersAndEveryGoodOneIsProcessed) {
    EmbeddedBroker broker;
    broker.create_topic("in", 4);
    broker.create_topic("out", 4);
    broker.create_topic("in.dlq", 1);

    constexpr int kGood = 50'000;
    // Poison records by kind, and what the dead letter must say.
    std::map<std::string, ErrorClass> poison;  // value -> class (values are unique)
    std::map<std::string, int> expected_attempts;
    kafka::Producer producer([&] {
        kafka::ProducerOptions o;
        o.brokers = broker.bootstrap_servers();
        o.properties = EmbeddedBroker::producer_tuning();
        o.properties.emplace_back("message.max.bytes", "4000000");
        return o;
    }());
    int null_values = 0;
    int extra_records = 0;  // records that are not numbered task events
    int failing_tasks = 0;  // task events the handler never succeeds on
    std::int64_t seq = 0;
    for (int i = 0; i < kGood; ++i) {
        auto e = testing::numbered_event(i % 97, i, seq++);
        if (i % 2000 == 1) {
            // A handler that fails permanently for this one, and one that needs a retry.
            e.set_extra("fail", event::RawJson{"\"permanent\""});
            poison[event::encode(e)] = ErrorClass::Permanent;
            ++failing_tasks;
            expected_attempts[event::encode(e)] = 1;
        } else if (i % 2000 == 2) {
            e.set_extra("fail", event::RawJson{"\"always-retriable\""});
            poison[event::encode(e)] = ErrorClass::Retriable;
            ++failing_tasks;
            expected_attempts[event::encode(e)] = 3;
        } else if (i % 2000 == 3) {
            e.set_extra("fail", event::RawJson{"\"once-retriable\""});  // succeeds on retry
        }
        ASSERT_TRUE(producer.send("in", e).ok());
        if (i % 2500 == 0) {
            auto bad_json = fmt::format("{{\"event_type\": \"task.started\", broken {}", i);
            poison[bad_json] = ErrorClass::Undecodable;
            ASSERT_TRUE(producer.send("in", "k", bad_json).ok());
            auto invalid = event::encode(testing::numbered_event(1, -1, 0));
            invalid.replace(invalid.find("\"task_id\""), 9, "\"no_task\"");
            invalid.insert(1, fmt::format("\"x\":{},", i));  // unique
            poison[invalid] = ErrorClass::Invalid;
            ASSERT_TRUE(producer.send("in", "k", invalid).ok());
            extra_records += 2;
        }
        if (i % 10'000 == 5) {
            ASSERT_TRUE(producer.send("in", "null-" + std::to_string(i), std::string_view()).ok());
            ++null_values;
            std::string big(event::MAX_EVENT_BYTES + 10, ' ');
            big.replace(0, 20, fmt::format("{{\"big\": {:>10}", i));
            poison[big] = ErrorClass::Oversized;
            ASSERT_TRUE(producer.send("in", "big", big).ok());
            extra_records += 2;
        }
    }
    ASSERT_TRUE(producer.flush(60s));
    const auto poison_count = poison.size() + static_cast<std::size_t>(null_values);
    const auto good_out = static_cast<std::size_t>(kGood - failing_tasks);

    StreamProcessor processor(processor_options(broker, {"in"}));
    std::mutex seen_mutex;
    std::map<std::int64_t, int> attempts_seen;
    processor.on("task.*", [&](const event::Event& e, Context& ctx) {
        auto fail = e.extra_fields();
        std::string mode;
        for (const auto& [name, raw] : fail) {
            if (name == "fail") {
                mode = raw.text;
            }
        }
        if (mode == "\"permanent\"") {
            throw runtime::PermanentError("cannot handle this one");
        }
        if (mode == "\"always-retriable\"") {
            throw runtime::RetriableError("dependency unavailable");
        }
        if (mode == "\"once-retriable\"" && ctx.attempt() == 1) {
            throw runtime::RetriableError("transient");
        }
        ctx.forward("out");
    });
    const auto total = static_cast<std::uint64_t>(kGood + extra_records);
    ASSERT_TRUE(run_until(processor, [&] {
        auto m = processor.metrics();
        return m.processed + m.dead_lettered >= total && m.in_flight == 0;
    })) << describe(processor.metrics());
    auto m = processor.metrics();
    EXPECT_EQ(m.consumed, total);
    EXPECT_EQ(m.dead_lettered, poison_count);
    EXPECT_EQ(m.failed, poison_count);
    EXPECT_EQ(m.processed, total - poison_count);
    EXPECT_GE(m.retried, 25U * 2 + 25U);  // 2 retries per always-retriable, 1 per once
    EXPECT_EQ(m.produced, good_out);
    testing::figure(
        "poison inputs (embedded broker): kinds, dead-lettered with their class, good events "
        "processed",
        fmt::format("6 kinds (undecodable, invalid, oversized, null value, permanent "
                    "handler failure, retries exhausted), {} of {} dead-lettered, "
                    "{} of {} good events out",
                    m.dead_lettered, poison_count, m.produced, good_out));

    // Every good event is in the output, once.
    std::set<std::int64_t> numbers;
    auto out = read_all(broker, "out", 4, good_out, [&](const kafka::Message& r) {
        auto e = event::decode(r.value());
        ASSERT_TRUE(e);
        numbers.insert(number_of(*e));
    });
    EXPECT_EQ(out, good_out);
    EXPECT_EQ(numbers.size(), good_out);

    // Every poison record is in the dead-letter topic, byte for byte, with its reason.
    int nulls_seen = 0;
    auto dead = read_all(broker, "in.dlq", 1, poison_count, [&](const kafka::Message& r) {
        auto d = runtime::read_dead_letter(r);
        EXPECT_EQ(d.source_topic, "in");
        EXPECT_GE(d.source_partition, 0);
        EXPECT_GE(d.source_offset, 0);
        EXPECT_EQ(d.processor, "test-processor");
        EXPECT_FALSE(d.failed_at.empty());
        EXPECT_FALSE(d.message.empty());
        ASSERT_TRUE(d.error_class);
        if (r.is_null()) {
            EXPECT_EQ(*d.error_class, ErrorClass::NullValue);
            ++nulls_seen;
            return;
        }
        auto it = poison.find(std::string(r.value()));
        ASSERT_NE(it, poison.end()) << "unexpected dead letter: " << r.value().substr(0, 80);
        EXPECT_EQ(*d.error_class, it->second) << d.message;
        if (auto a = expected_attempts.find(it->first); a != expected_attempts.end()) {
            EXPECT_EQ(d.attempts, a->second);
        }
        if (it->second == ErrorClass::Permanent || it->second == ErrorClass::Retriable) {
            // The original headers travel with it.
            EXPECT_EQ(r.header("event_type"), "task.started");
        }
    });
    EXPECT_EQ(dead, poison_count);
    EXPECT_EQ(nulls_seen, null_values);

    // Everything was committed: the group has no lag.
    kafka::Admin admin({.brokers = broker.bootstrap_servers()});
    auto lag = admin.group_lag("agentstream-test-processor", {"in"});
    ASSERT_EQ(lag.size(), 4U);
    for (const auto& p : lag) {
        EXPECT_EQ(p.lag, 0) << p.topic << "/" << p.partition;
    }
}

void produce_numbered(const EmbeddedBroker& b, const std::string& topic, int n) {
    kafka::ProducerOptions o;
    o.brokers = b.bootstrap_servers();
    o.properties = EmbeddedBroker::producer_tuning();
    kafka::Producer producer(o);
    for (int i = 0; i < n; ++i) {
        ASSERT_TRUE(producer.send(topic, testing::numbered_event(i % 101, i, i)).ok());
    }
    ASSERT_TRUE(producer.flush(60s));
}

std::set<std::int64_t> numbers_in(const EmbeddedBroker& b, const std::string& topic, int partitions,
                                  std::size_t expected, std::size_t* records) {
    std::set<std::int64_t> numbers;
    *records = read_all(b, topic, partitions, expected, [&](const kafka::Message& r) {
        auto e = event::decode(r.value());
        ASSERT_TRUE(e);
        numbers.insert(number_of(*e));
    });
    return numbers;
}

// A slow output (every broker answer 100 ms late) pauses the input instead of buffering: in-flight
// events never exceed the bound, the group does not rebalance, nothing is lost.
TEST(Runtime, SlowOutputPausesInputWithinTheInFlightBound) {
    EmbeddedBroker broker;
    broker.create_topic("slow-in", 2);
    broker.create_topic("slow-out", 2);
    constexpr int kEvents = 4000;
    produce_numbered(broker, "slow-in", kEvents);
    broker.set_round_trip(1, 100ms);
    auto o = processor_options(broker, {"slow-in"});
    o.name = "slow";
    o.max_in_flight = 200;
    StreamProcessor processor(o);
    processor.on("*", [](const event::Event&, Context& ctx) { ctx.forward("slow-out"); });
    std::uint64_t rebalances_while_running = 0;
    ASSERT_TRUE(run_until(processor, [&] {
        auto m = processor.metrics();
        rebalances_while_running = m.rebalances;
        return m.processed >= kEvents && m.in_flight == 0;
    })) << describe(processor.metrics());
    EXPECT_EQ(processor.metrics().processed, static_cast<std::uint64_t>(kEvents));
    auto m = processor.metrics();
    EXPECT_LE(m.max_in_flight_seen, 200U);
    EXPECT_GE(m.backpressure_pauses, 1U);
    EXPECT_EQ(rebalances_while_running, 1U) << "only the first assignment";
    broker.set_round_trip(1, 0ms);
    std::size_t records = 0;
    auto numbers = numbers_in(broker, "slow-out", 2, kEvents, &records);
    EXPECT_EQ(numbers.size(), static_cast<std::size_t>(kEvents));
    EXPECT_EQ(records, static_cast<std::size_t>(kEvents));
}

// Two instances of one processor share the partitions; when one stops mid-stream the other
// takes its partitions over and every event reaches the output (at least once).
TEST(Runtime, TwoInstancesShareTheWorkAndTheSurvivorTakesOver) {
    EmbeddedBroker broker;
    broker.create_topic("shared-in", 6);
    broker.create_topic("shared-out", 6);
    constexpr int kEvents = 30'000;
    auto o = processor_options(broker, {"shared-in"});
    o.name = "shared";
    StreamProcessor a(o);
    StreamProcessor b(o);
    for (auto* p : {&a, &b}) {
        p->on("*", [](const event::Event&, Context& ctx) {
            std::this_thread::sleep_for(std::chrono::microseconds(50));  // keep both busy
            ctx.forward("shared-out");
        });
    }
    std::thread ta([&] { a.run(); });
    std::thread tb([&] { b.run(); });
    produce_numbered(broker, "shared-in", kEvents);
    // Stop `a` once both have done some of the work.
    auto deadline = std::chrono::steady_clock::now() + 60s;
    while (std::chrono::steady_clock::now() < deadline &&
           (a.metrics().processed < 2000 || b.metrics().processed < 2000)) {
        std::this_thread::sleep_for(10ms);
    }
    a.stop();
    ta.join();
    while (std::chrono::steady_clock::now() < deadline + 60s &&
           a.metrics().processed + b.metrics().processed < kEvents) {
        std::this_thread::sleep_for(20ms);
    }
    // Wait for b to drain what it has.
    while (std::chrono::steady_clock::now() < deadline + 60s && b.metrics().in_flight != 0) {
        std::this_thread::sleep_for(20ms);
    }
    b.stop();
    tb.join();
    EXPECT_GE(a.metrics().processed, 2000U);
    EXPECT_GE(b.metrics().processed, 2000U);
    EXPECT_GE(a.metrics().processed + b.metrics().processed, static_cast<std::uint64_t>(kEvents));
    std::size_t records = 0;
    auto numbers = numbers_in(broker, "shared-out", 6, kEvents, &records);
    EXPECT_EQ(numbers.size(), static_cast<std::size_t>(kEvents));
    // A clean hand-over commits before revoking: no event was processed twice.
    EXPECT_EQ(records, static_cast<std::size_t>(kEvents));
}

// A broker outage mid-stream: the processor keeps retrying, never exits, and finishes the work
// when the broker is back.
TEST(Runtime, SurvivesABrokerOutageAndResumes) {
    EmbeddedBroker broker;
    broker.create_topic("outage-in", 3);
    broker.create_topic("outage-out", 3);
    constexpr int kEvents = 20'000;
    produce_numbered(broker, "outage-in", kEvents);
    auto o = processor_options(broker, {"outage-in"});
    o.name = "outage";
    o.max_in_flight = 500;  // so that the outage catches work in flight
    StreamProcessor processor(o);
    processor.on("*", [](const event::Event&, Context& ctx) {
        std::this_thread::sleep_for(std::chrono::microseconds(100));
        ctx.forward("outage-out");
    });
    std::atomic<bool> returned{false};
    std::thread t([&] {
        processor.run();
        returned = true;
    });
    auto deadline = std::chrono::steady_clock::now() + 60s;
    while (processor.metrics().processed < 2000 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(5ms);
    }
    broker.set_broker_down(1);
    std::this_thread::sleep_for(5s);
    auto during_metrics = processor.metrics();
    auto during = during_metrics.processed;
    EXPECT_FALSE(during_metrics.healthy) << "the outage is reported";
    EXPECT_THAT(during_metrics.health, ::testing::HasSubstr("no broker reachable"));
    EXPECT_FALSE(returned.load()) << "run() must not return on a transient outage";
    broker.set_broker_up(1);
    // Done when every event was processed (some twice: those in flight when the outage cost the
    // group its assignment) and nothing is left to read.
    auto done = [&] {
        auto m = processor.metrics();
        return m.processed >= kEvents && m.lag == 0 && m.in_flight == 0;
    };
    while (!done() && std::chrono::steady_clock::now() < deadline + 60s) {
        std::this_thread::sleep_for(20ms);
    }
    EXPECT_LT(during, static_cast<std::uint64_t>(kEvents)) << "the outage came too late to test";
    EXPECT_FALSE(returned.load());
    EXPECT_TRUE(processor.metrics().healthy) << processor.metrics().health;
    processor.stop();
    t.join();
    std::size_t records = 0;
    auto numbers = numbers_in(broker, "outage-out", 3, kEvents, &records);
    EXPECT_EQ(numbers.size(), static_cast<std::size_t>(kEvents));
}

// An output the broker refuses for good sends its input to the dead letters (class delivery) with
// the input's own headers, also when the headers were moved to that output instead of copied
// (the record's last output) and when one event fans out to two topics.
TEST(Runtime, AnOutputRefusedForGoodDeadLettersItsInputWithItsHeaders) {
    EmbeddedBroker broker;
    broker.create_topic("refused-in", 1);
    broker.create_topic("refused-a", 1);
    broker.create_topic("refused-b", 1);
    broker.create_topic("refused-in.dlq", 1);
    constexpr int kEvents = 200;
    produce_numbered(broker, "refused-in", kEvents);
    // The processor's first produce requests are refused (not retriable); later ones pass.
    broker.push_request_errors(broker::ApiKey::Produce,
                               {29 /*TOPIC_AUTHORIZATION_FAILED*/, 29, 29});
    auto o = processor_options(broker, {"refused-in"});
    o.name = "refused";
    StreamProcessor processor(o);
    processor.on("*", [](const event::Event& e, Context& ctx) {
        if (number_of(e) % 2 == 0) {
            ctx.forward("refused-a");  // copied headers
        }
        ctx.forward("refused-b");  // the last output: headers moved
    });
    ASSERT_TRUE(run_until(processor, [&] {
        auto m = processor.metrics();
        return m.processed + m.dead_lettered >= kEvents && m.in_flight == 0;
    })) << describe(processor.metrics());
    auto m = processor.metrics();
    ASSERT_GT(m.dead_lettered, 0U) << "no produce request was refused";
    EXPECT_EQ(m.processed + m.dead_lettered, static_cast<std::uint64_t>(kEvents));

    std::set<std::int64_t> dead_numbers;
    auto dead =
        read_all(broker, "refused-in.dlq", 1, m.dead_lettered, [&](const kafka::Message& r) {
            auto d = runtime::read_dead_letter(r);
            ASSERT_TRUE(d.error_class);
            EXPECT_EQ(*d.error_class, ErrorClass::Delivery) << d.message;
            EXPECT_THAT(d.message, ::testing::HasSubstr("refused-"));
            auto e = event::decode(r.value());
            ASSERT_TRUE(e);
            dead_numbers.insert(number_of(*e));
            // The input's headers travel with it, whichever output failed.
            EXPECT_EQ(r.header("event_type"), "task.started");
            EXPECT_EQ(r.header("event_id"), e->id());
            EXPECT_EQ(r.header("content-type"), "application/json");
        });
    EXPECT_EQ(dead, m.dead_lettered);
    EXPECT_EQ(dead_numbers.size(), m.dead_lettered);

    // Every event that was not dead-lettered reached its outputs with its headers.
    std::size_t in_b = 0;
    read_all(broker, "refused-b", 1, m.processed, [&](const kafka::Message& r) {
        auto e = event::decode(r.value());
        ASSERT_TRUE(e);
        EXPECT_EQ(r.header("event_id"), e->id());
        if (!dead_numbers.contains(number_of(*e))) {
            ++in_b;
        }
    });
    EXPECT_EQ(in_b, m.processed);
}

// Four workers: different keys run in parallel, one key's events stay in order.
TEST(Runtime, ParallelWorkersKeepPerKeyOrder) {
    EmbeddedBroker broker;
    broker.create_topic("par-in", 2);
    broker.create_topic("par-out", 2);
    constexpr int kEvents = 20'000;
    {
        kafka::ProducerOptions po;
        po.brokers = broker.bootstrap_servers();
        po.properties = EmbeddedBroker::producer_tuning();
        kafka::Producer producer(po);
        std::vector<std::int64_t> seq(64, 0);
        for (int i = 0; i < kEvents; ++i) {
            int key = i % 64;
            ASSERT_TRUE(producer.send("par-in", testing::numbered_event(key, i, seq[key]++)).ok());
        }
        ASSERT_TRUE(producer.flush(60s));
    }
    auto o = processor_options(broker, {"par-in"});
    o.name = "parallel";
    o.workers = 4;
    StreamProcessor processor(o);
    std::atomic<int> running{0};
    std::atomic<int> most{0};
    processor.on("*", [&](const event::Event& e, Context& ctx) {
        int now = running.fetch_add(1) + 1;
        int seen = most.load();
        while (now > seen && !most.compare_exchange_weak(seen, now)) {
        }
        // Uneven work, so that a worker-order bug would reorder a key's events.
        std::this_thread::sleep_for(std::chrono::microseconds(number_of(e) % 7 * 20));
        ctx.forward("par-out");
        running.fetch_sub(1);
    });
    ASSERT_TRUE(run_until(processor, [&] {
        auto m = processor.metrics();
        return m.processed >= kEvents && m.in_flight == 0;
    })) << describe(processor.metrics());
    EXPECT_EQ(processor.metrics().processed, static_cast<std::uint64_t>(kEvents));
    EXPECT_GE(most.load(), 2) << "handlers never ran in parallel";
    kafka::ConsumerOptions co;
    co.brokers = broker.bootstrap_servers();
    co.properties = EmbeddedBroker::consumer_tuning();
    kafka::Consumer c(co);
    c.assign({{"par-out", 0}, {"par-out", 1}});
    testing::Collector seen;
    testing::consume_until(
        c, seen, [&] { return seen.received >= kEvents; }, 60s);
    EXPECT_EQ(seen.seen.size(), static_cast<std::size_t>(kEvents));
    EXPECT_EQ(seen.out_of_order, 0U) << "a key's events were reordered";
    EXPECT_EQ(seen.duplicates, 0U);
}

}  // namespace
}  // namespace agentstream
