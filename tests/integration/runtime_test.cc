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

// A processor writes whatever it accepts: an event near event::MAX_EVENT_BYTES goes out whole
// (librdkafka's default message.max.bytes of 1,000,000 refused it), and a 5 MB record, too large
// for any dead letter the producer may send, is dead-lettered cut to fit, saying how large it
// was and its SHA-256; the partition moves on and every later event is processed.
TEST(Runtime, ALargeEventGoesOutAndATooLargeRecordIsDeadLetteredCut) {
    EmbeddedBroker broker;
    broker.create_topic("large-in", 1);
    broker.create_topic("large-out", 1);
    broker.create_topic("large-in.dlq", 1);
    auto large = event::encode(testing::numbered_event(1, 1, 0));
    large.insert(1, fmt::format("\"pad\":\"{}\",", std::string(1'029'000, 'a')));
    ASSERT_TRUE(event::decode(large)) << "the large event is valid";
    ASSERT_LE(large.size(), event::MAX_EVENT_BYTES);
    ASSERT_GT(large.size(), 1'000'000U);
    std::string huge(5 * 1024 * 1024, 'x');
    huge.replace(0, 9, "{\"huge\": ");
    {
        kafka::ProducerOptions po;
        po.brokers = broker.bootstrap_servers();
        po.properties = EmbeddedBroker::producer_tuning();
        po.max_message_bytes = 8 * 1024 * 1024;
        kafka::Producer producer(po);
        ASSERT_TRUE(producer.send("large-in", testing::numbered_event(1, 0, 0)).ok());
        ASSERT_TRUE(producer.send("large-in", "huge", huge).ok());
        ASSERT_TRUE(producer.send("large-in", "large", large).ok());
        for (int n = 2; n < 12; ++n) {
            ASSERT_TRUE(producer.send("large-in", testing::numbered_event(1, n, 0)).ok());
        }
        ASSERT_TRUE(producer.flush(30s));
    }
    auto o = processor_options(broker, {"large-in"});
    std::erase_if(o.producer_properties,
                  [](const auto& p) { return p.first == "message.max.bytes"; });
    o.consumer_properties.emplace_back("fetch.max.bytes", "16000000");
    o.consumer_properties.emplace_back("receive.message.max.bytes", "20000000");
    o.name = "large";
    StreamProcessor processor(o);
    processor.on("*", [](const event::Event&, Context& ctx) { ctx.forward("large-out"); });
    ASSERT_TRUE(run_until(processor, [&] {
        auto m = processor.metrics();
        return m.processed + m.dead_lettered >= 13 && m.in_flight == 0;
    })) << describe(processor.metrics());
    auto m = processor.metrics();
    EXPECT_EQ(m.processed, 12U);
    EXPECT_EQ(m.dead_lettered, 1U);
    EXPECT_EQ(m.truncated_dead_letters, 1U);
    std::size_t large_out = 0;
    EXPECT_EQ(read_all(broker, "large-out", 1, 12,
                       [&](const kafka::Message& r) { large_out += r.value() == large ? 1 : 0; }),
              12U);
    EXPECT_EQ(large_out, 1U) << "the large event went out whole";
    EXPECT_EQ(read_all(broker, "large-in.dlq", 1, 1,
                       [&](const kafka::Message& r) {
                           auto d = runtime::read_dead_letter(r);
                           EXPECT_EQ(d.error_class, ErrorClass::Oversized);
                           EXPECT_TRUE(d.truncated());
                           EXPECT_EQ(d.original_bytes, static_cast<std::int64_t>(huge.size()));
                           EXPECT_EQ(d.original_sha256, runtime::sha256_hex(huge));
                           EXPECT_EQ(r.key(), "huge");
                           EXPECT_GT(r.value().size(), 1'000'000U);
                           EXPECT_LE(r.value().size(),
                                     static_cast<std::size_t>(runtime::MAX_RECORD_BYTES));
                           EXPECT_EQ(r.value(), std::string_view(huge).substr(0, r.value().size()));
                       }),
              1U);
    // Committed to the end: a restart finds nothing to do.
    std::int64_t lag = 0;
    for (const auto& row : kafka::Admin({.brokers = broker.bootstrap_servers()})
                               .group_lag("agentstream-large", {"large-in"})) {
        lag += row.lag;
    }
    EXPECT_EQ(lag, 0);
}

// A dead-letter topic that takes less than the producer sends (its max.message.bytes): the
// broker refuses the dead letter for its size, and it is written again at once with the first
// DLQ_PREVIEW_BYTES of its value; refused again, with no value and none of the record's own
// headers. Never retried as it was. `refusals`: how many produce requests the broker refuses
// as too large (the output's first).
void dead_letter_after_refusals(int refusals) {
    SCOPED_TRACE(fmt::format("{} refusals", refusals));
    EmbeddedBroker broker;
    broker.create_topic("small-in", 1);
    broker.create_topic("small-out", 1);
    broker.create_topic("small-in.dlq", 1);
    auto big = event::encode(testing::numbered_event(1, 1, 0));
    big.insert(1, fmt::format("\"pad\":\"{}\",", std::string(200'000, 'b')));
    {
        kafka::ProducerOptions po;
        po.brokers = broker.bootstrap_servers();
        po.properties = EmbeddedBroker::producer_tuning();
        kafka::Producer producer(po);
        ASSERT_TRUE(producer.send("small-in", "big", big, {{"origin", "test"}}).ok());
        ASSERT_TRUE(producer.flush(30s));
    }
    broker.push_request_errors(broker::ApiKey::Produce,
                               std::vector<int>(refusals, 10 /*MSG_SIZE_TOO_LARGE*/));
    auto o = processor_options(broker, {"small-in"});
    o.name = "small";
    StreamProcessor processor(o);
    processor.on("*", [](const event::Event&, Context& ctx) { ctx.forward("small-out"); });
    ASSERT_TRUE(run_until(
        processor,
        [&] {
            auto m = processor.metrics();
            return m.dead_lettered >= 1 && m.in_flight == 0;
        },
        30s))
        << describe(processor.metrics());
    EXPECT_EQ(processor.metrics().truncated_dead_letters, 1U);
    EXPECT_EQ(read_all(broker, "small-in.dlq", 1, 1,
                       [&](const kafka::Message& r) {
                           auto d = runtime::read_dead_letter(r);
                           EXPECT_EQ(d.error_class, ErrorClass::Delivery);
                           EXPECT_THAT(d.message, ::testing::HasSubstr("size too large"));
                           EXPECT_EQ(d.original_bytes, static_cast<std::int64_t>(big.size()));
                           EXPECT_EQ(d.original_sha256, runtime::sha256_hex(big));
                           EXPECT_EQ(d.source_topic, "small-in");
                           EXPECT_EQ(r.key(), "big");
                           if (refusals == 2) {
                               EXPECT_EQ(r.value(), std::string_view(big).substr(
                                                        0, runtime::DLQ_PREVIEW_BYTES));
                               EXPECT_EQ(r.header("origin"), "test");
                           } else {
                               EXPECT_TRUE(r.value().empty());
                               EXPECT_FALSE(r.header("origin")) << "headers only: its own";
                           }
                       }),
              1U);
}

TEST(Runtime, ADeadLetterTheBrokerRefusesForItsSizeIsWrittenSmaller) {
    dead_letter_after_refusals(2);
    dead_letter_after_refusals(3);
}

// Stopping is bounded when outputs cannot be written (their partitions have no leader, say):
// past shutdown_timeout what is not written is given up and reported, its input stays
// uncommitted, and stop() returns (it once hung in librdkafka's destroy, waiting for records
// the unfinished events still held).
TEST(Runtime, StopIsBoundedWhenOutputsCannotBeWritten) {
    EmbeddedBroker broker;
    broker.create_topic("stuck-in", 1);
    broker.create_topic("stuck-out", 1);
    constexpr int kEvents = 50;
    produce_numbered(broker, "stuck-in", kEvents);
    // Every produce request from now on fails with a retriable error: librdkafka keeps trying
    // until message.timeout.ms, far beyond the deadline.
    broker.push_request_errors(broker::ApiKey::Produce,
                               std::vector<int>(20'000, 19 /*NOT_ENOUGH_REPLICAS*/));
    auto o = processor_options(broker, {"stuck-in"});
    o.name = "stuck";
    o.shutdown_timeout = 2s;
    StreamProcessor processor(o);
    processor.on("*", [](const event::Event&, Context& ctx) { ctx.forward("stuck-out"); });
    std::thread t([&] { processor.run(); });
    auto deadline = std::chrono::steady_clock::now() + 60s;
    while (processor.metrics().consumed < kEvents && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(20ms);
    }
    ASSERT_EQ(processor.metrics().consumed, static_cast<std::uint64_t>(kEvents));
    EXPECT_EQ(processor.metrics().processed, 0U) << "an output was written";
    auto stopping = std::chrono::steady_clock::now();
    processor.stop();
    t.join();
    auto took = std::chrono::steady_clock::now() - stopping;
    EXPECT_LT(took, 20s) << "the 2 s deadline, the purge's grace and the group's leaving";
    auto m = processor.metrics();
    EXPECT_EQ(m.unfinished_at_stop, static_cast<std::uint64_t>(kEvents));
    EXPECT_EQ(m.dead_lettered, 0U) << "given up, not dead-lettered";
    std::int64_t lag = 0;
    for (const auto& row : kafka::Admin({.brokers = broker.bootstrap_servers()})
                               .group_lag("agentstream-stuck", {"stuck-in"})) {
        lag += row.lag;
    }
    EXPECT_EQ(lag, kEvents) << "left uncommitted";
}

// The fetch watchdog: the broker answers the processor's fetches only after 8 s each (a
// stalled fetch) while 50 events wait. Within stall_timeout the processor finds itself
// behind with nothing arriving: unhealthy ("input stalled"), the fetch restarted and counted;
// once records arrive it is healthy again and every event is processed.
TEST(Runtime, AStalledFetchIsNoticedRestartedAndCounted) {
    EmbeddedBroker broker;
    broker.create_topic("stall-in", 1);
    broker.create_topic("stall-out", 1);
    produce_numbered(broker, "stall-in", 100);
    auto o = processor_options(broker, {"stall-in"});
    o.name = "stall";
    o.stall_timeout = 2s;
    StreamProcessor processor(o);
    processor.on("*", [](const event::Event&, Context& ctx) { ctx.forward("stall-out"); });
    std::thread t([&] { processor.run(); });
    auto wait_for = [&](auto done, std::chrono::seconds limit) {
        auto deadline = std::chrono::steady_clock::now() + limit;
        while (!done() && std::chrono::steady_clock::now() < deadline) {
            std::this_thread::sleep_for(20ms);
        }
        return done();
    };
    EXPECT_TRUE(wait_for([&] { return processor.metrics().processed >= 100; }, 60s));
    std::this_thread::sleep_for(3s);  // idle past stall_timeout: nothing behind, no stall
    EXPECT_EQ(processor.metrics().fetch_stalls, 0U) << "an idle input is not a stall";
    broker.delay_requests(1, broker::ApiKey::Fetch, 3, 8s);
    std::this_thread::sleep_for(200ms);  // the next fetch is on its way, delayed
    produce_numbered(broker, "stall-in", 50);
    std::string stalled_health;
    EXPECT_TRUE(wait_for(
        [&] {
            auto m = processor.metrics();
            if (!m.healthy) {
                stalled_health = m.health;
            }
            return !stalled_health.empty();
        },
        20s));
    EXPECT_THAT(stalled_health, ::testing::HasSubstr("input stalled: 50 event(s) behind"));
    EXPECT_TRUE(wait_for([&] { return processor.metrics().processed >= 150; }, 60s))
        << describe(processor.metrics());
    auto m = processor.metrics();
    EXPECT_GE(m.fetch_stalls, 1U);
    EXPECT_TRUE(m.healthy) << m.health;
    processor.stop();
    t.join();
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
