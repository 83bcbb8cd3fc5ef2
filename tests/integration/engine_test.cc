// The engine's extension points against the embedded broker: deferred events, punctuation and
// the checkpoint protocol of stateful processors.
#include <agentstream/broker/embedded_broker.h>
#include <agentstream/event/codec.h>
#include <agentstream/kafka/admin.h>
#include <agentstream/kafka/producer.h>
#include <agentstream/runtime/processor.h>

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "support/runtime_helpers.h"
#include "support/transport_helpers.h"

namespace agentstream {
namespace {

using namespace std::chrono_literals;
using broker::EmbeddedBroker;
using runtime::Context;
using runtime::Deferred;
using runtime::StreamProcessor;

void produce_events(const EmbeddedBroker& b, const std::string& topic, int n,
                    std::optional<std::int32_t> partition = std::nullopt) {
    kafka::ProducerOptions o;
    o.brokers = b.bootstrap_servers();
    o.properties = EmbeddedBroker::producer_tuning();
    kafka::Producer producer(o);
    for (int i = 0; i < n; ++i) {
        auto e = testing::numbered_event(i % 7, i, i);
        ASSERT_TRUE(producer
                        .send(topic, event::record_key(e), event::encode(e),
                              event::record_headers(e), {}, partition)
                        .ok());
    }
    ASSERT_TRUE(producer.flush(30s));
}

// The group's committed offsets summed over `topic` (-1: none committed).
std::int64_t committed(const EmbeddedBroker& b, const std::string& group,
                       const std::string& topic) {
    kafka::ClientOptions o;
    o.brokers = b.bootstrap_servers();
    kafka::Admin admin(o);
    std::int64_t sum = -1;
    for (const auto& p : admin.group_lag(group, {topic})) {
        if (p.position >= 0) {
            sum = std::max<std::int64_t>(sum, 0) + p.position;
        }
    }
    return sum;
}

template <class Done>
bool wait_for(Done done, std::chrono::seconds limit = 60s) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done()) {
        if (std::chrono::steady_clock::now() > deadline) {
            return false;
        }
        std::this_thread::sleep_for(10ms);
    }
    return true;
}

// Holds every event open until the test completes it from another thread.
class Holding : public StreamProcessor {
  public:
    using StreamProcessor::StreamProcessor;
    std::vector<Deferred> take() {
        std::lock_guard lock(_mutex);
        return std::move(_held);
    }
    std::size_t held() const {
        std::lock_guard lock(_mutex);
        return _held.size();
    }

  protected:
    bool process(const event::Event& e, Context& ctx) override {
        ctx.emit("held-started", e);  // an output at once, with the input
        auto d = ctx.defer();
        std::lock_guard lock(_mutex);
        _held.push_back(std::move(d));
        return true;
    }

  private:
    mutable std::mutex _mutex;
    std::vector<Deferred> _held;
};

// A deferred event stays in the in-flight ledger: counted against max_in_flight (the input
// pauses), uncommitted until completed, its later outputs written with it; one given up is
// never committed and is read again by the next run.
TEST(Engine, ADeferredEventIsCommittedOnlyOnceCompletedAndItsOutputsWritten) {
    EmbeddedBroker broker;
    broker.create_topic("held-in", 1);
    broker.create_topic("held-started", 1);
    broker.create_topic("held-done", 1);
    produce_events(broker, "held-in", 30);
    auto o = testing::processor_options(broker, {"held-in"});
    o.name = "holding";
    o.group_id = "holding";
    o.max_in_flight = 10;
    {
        Holding p(o);
        std::thread t([&] { p.run(); });
        ASSERT_TRUE(wait_for([&] { return p.held() >= 10; })) << testing::describe(p.metrics());
        std::this_thread::sleep_for(500ms);
        auto m = p.metrics();
        EXPECT_EQ(p.held(), 10U) << "the in-flight bound holds deferred events too";
        EXPECT_EQ(m.in_flight, 10U);
        EXPECT_GE(m.backpressure_pauses, 1U);
        EXPECT_EQ(m.processed, 0U);
        // Completed from another thread, each with an output of its own.
        std::thread completer([&] {
            for (int round = 0; round < 3; ++round) {
                ASSERT_TRUE(wait_for([&] { return p.held() == 10; }));
                for (auto& d : p.take()) {
                    auto e = event::decode(d.record().value());
                    ASSERT_TRUE(e);
                    EXPECT_TRUE(d.emit("held-done", *e));
                    d.complete();
                }
            }
        });
        completer.join();
        ASSERT_TRUE(wait_for([&] { return p.metrics().processed == 30; }))
            << testing::describe(p.metrics());
        p.stop();
        t.join();
    }
    EXPECT_EQ(committed(broker, "holding", "held-in"), 30);
    EXPECT_EQ(testing::read_all(broker, "held-done", 1, 30, [](const kafka::Message&) {}), 30U);
    EXPECT_EQ(testing::read_all(broker, "held-started", 1, 30, [](const kafka::Message&) {}), 30U);

    // Given up: nothing committed past the first abandoned one; the next run reads them again.
    produce_events(broker, "held-in", 5);
    {
        Holding p(o);
        std::thread t([&] { p.run(); });
        ASSERT_TRUE(wait_for([&] { return p.held() == 5; }));
        auto held = p.take();
        held[0].complete();
        held[1].abandon();
        held.clear();  // dropped: abandoned too
        std::this_thread::sleep_for(300ms);
        EXPECT_EQ(p.metrics().processed, 1U);
        p.stop();
        t.join();
        EXPECT_EQ(p.metrics().unfinished_at_stop, 4U);
    }
    EXPECT_EQ(committed(broker, "holding", "held-in"), 31);
    {
        Holding p(o);
        std::thread t([&] { p.run(); });
        EXPECT_TRUE(wait_for([&] { return p.held() == 4; })) << "the abandoned ones again";
        for (auto& d : p.take()) {
            d.complete();
        }
        ASSERT_TRUE(wait_for([&] { return p.metrics().processed == 4; }));
        p.stop();
        t.join();
    }
    EXPECT_EQ(committed(broker, "holding", "held-in"), 35);
}

// Punctuation runs on the processing thread at its interval, with or without input, and what
// it emits is written.
class Ticking : public StreamProcessor {
  public:
    using StreamProcessor::StreamProcessor;
    std::atomic<int> ticks{0};
    std::atomic<bool> other_thread{false};
    std::atomic<int> started{0};

  protected:
    std::chrono::milliseconds punctuation_interval() const noexcept override { return 50ms; }
    void on_start(runtime::Emitter& out) override {
        _thread = std::this_thread::get_id();
        ++started;
        out.emit("ticks", testing::numbered_event(0, -1, -1));
    }
    void punctuate(std::chrono::steady_clock::time_point, runtime::Emitter& out) override {
        if (std::this_thread::get_id() != _thread) {
            other_thread = true;
        }
        out.emit("ticks", testing::numbered_event(0, ticks++, 0));
    }
    bool process(const event::Event&, Context&) override {
        if (std::this_thread::get_id() != _thread) {
            other_thread = true;
        }
        return true;
    }

  private:
    std::thread::id _thread;
};

TEST(Engine, PunctuationRunsOnTheProcessingThreadAndItsOutputsAreWritten) {
    EmbeddedBroker broker;
    broker.create_topic("tick-in", 1);
    broker.create_topic("ticks", 1);
    auto o = testing::processor_options(broker, {"tick-in"});
    o.name = "ticking";
    Ticking p(o);
    std::thread t([&] { p.run(); });
    ASSERT_TRUE(wait_for([&] { return p.ticks >= 10; })) << "no input needed";
    produce_events(broker, "tick-in", 20);
    ASSERT_TRUE(wait_for([&] { return p.metrics().processed == 20; }));
    p.stop();
    t.join();
    EXPECT_FALSE(p.other_thread);
    EXPECT_EQ(p.started, 1);
    auto written = testing::read_all(broker, "ticks", 1, static_cast<std::size_t>(p.ticks + 1),
                                     [](const kafka::Message&) {});
    EXPECT_EQ(written, static_cast<std::size_t>(p.ticks + 1));
    EXPECT_EQ(p.metrics().failed, 0U);
}

// A stateful processor: a count per partition, checkpointed to a changelog. Offsets are
// committed only at checkpoints, after the state is written; a new run restores the count and
// resumes at the checkpoint's position.
class Counting : public StreamProcessor {
  public:
    using StreamProcessor::StreamProcessor;
    std::map<std::int32_t, std::int64_t> counts;  // processing thread; read after run()
    std::optional<std::int64_t> restored_at(std::int32_t partition) const {
        std::lock_guard lock(_mutex);
        auto it = _restored_at.find(partition);
        return it == _restored_at.end() ? std::nullopt : std::optional(it->second);
    }
    std::atomic<int> rounds{0}, written_rounds{0};
    bool skip_final = false;

  protected:
    bool keeps_state() const noexcept override { return true; }
    bool process(const event::Event&, Context& ctx) override {
        ++counts[ctx.record().partition()];
        return true;
    }
    std::optional<std::int64_t> restore(const kafka::TopicPartition& tp) override {
        // The changelog's last record for this partition: "COUNT NEXT_OFFSET".
        kafka::ConsumerOptions co;
        co.brokers = options().client.brokers;
        co.properties = EmbeddedBroker::consumer_tuning();
        kafka::Consumer reader(co);
        auto [low, high] = reader.watermarks({"counts-changelog", tp.partition}, 5s);
        if (high <= low) {
            return std::nullopt;
        }
        reader.assign({{"counts-changelog", tp.partition}});
        std::string last;
        for (auto deadline = std::chrono::steady_clock::now() + 10s;
             std::chrono::steady_clock::now() < deadline;) {
            auto m = reader.poll(100ms);
            if (!m) {
                continue;
            }
            if (m->offset() < high - 1) {
                continue;
            }
            auto text = std::string(m->value());
            auto space = text.find(' ');
            counts[tp.partition] = std::stoll(text.substr(0, space));
            std::lock_guard lock(_mutex);
            return _restored_at[tp.partition] = std::stoll(text.substr(space + 1));
        }
        throw std::runtime_error("changelog unreadable");
    }
    bool checkpoint(const kafka::TopicPartition& tp, std::int64_t next_offset,
                    runtime::CheckpointWriter& out, bool final) override {
        if (final && skip_final) {
            return false;
        }
        out.write("counts-changelog", "count",
                  std::to_string(counts[tp.partition]) + " " + std::to_string(next_offset));
        return true;
    }
    void checkpoint_done(bool written) override {
        ++rounds;
        written_rounds += written ? 1 : 0;
    }
    void release(const kafka::TopicPartition& tp) override { counts.erase(tp.partition); }

  private:
    mutable std::mutex _mutex;
    std::map<std::int32_t, std::int64_t> _restored_at;
};

TEST(Engine, AStatefulProcessorCommitsAtCheckpointsAfterItsStateAndRestoresIt) {
    EmbeddedBroker broker;
    broker.create_topic("count-in", 2);
    broker.create_topic("counts-changelog", 2);
    produce_events(broker, "count-in", 40, 0);
    produce_events(broker, "count-in", 60, 1);
    auto o = testing::processor_options(broker, {"count-in"});
    o.name = "counting";
    o.group_id = "counting";
    o.checkpoint_interval = 1h;  // only the final one, at stop
    {
        Counting p(o);
        std::thread t([&] { p.run(); });
        ASSERT_TRUE(wait_for([&] { return p.metrics().processed == 100; }));
        std::this_thread::sleep_for(1500ms);  // past the consumer's auto-commit interval
        EXPECT_EQ(committed(broker, "counting", "count-in"), -1) << "committed before a checkpoint";
        p.stop();
        t.join();
        EXPECT_EQ(p.metrics().checkpoints, 1U);
        EXPECT_EQ(p.written_rounds, 1);
    }
    EXPECT_EQ(committed(broker, "counting", "count-in"), 100);

    // A run that is "killed" (no final checkpoint) after periodic ones: what it read after its
    // last checkpoint is read again by the next run, and the restored counts continue.
    produce_events(broker, "count-in", 10, 0);
    o.checkpoint_interval = 200ms;
    {
        Counting p(o);
        p.skip_final = true;
        std::thread t([&] { p.run(); });
        ASSERT_TRUE(wait_for([&] { return p.metrics().processed == 10; }));
        EXPECT_EQ(p.restored_at(0), 40);
        EXPECT_EQ(p.restored_at(1), 60);
        // Committed by a periodic checkpoint, once the state is written.
        EXPECT_TRUE(wait_for([&] { return committed(broker, "counting", "count-in") == 110; }));
        produce_events(broker, "count-in", 5, 1);
        ASSERT_TRUE(wait_for([&] { return p.metrics().processed == 15; }));
        p.stop();  // within 200 ms of the last checkpoint or not: skip_final loses nothing
        t.join();
    }
    {
        Counting p(o);
        std::thread t([&] { p.run(); });
        ASSERT_TRUE(wait_for([&] { return p.restored_at(0) && p.restored_at(1); }));
        std::this_thread::sleep_for(1s);
        p.stop();
        t.join();
        EXPECT_EQ(p.restored_at(0), 50);
        // Partition 1: restored where its last checkpoint was; what came after was read again.
        EXPECT_GE(p.restored_at(1).value_or(0), 60);
        EXPECT_LE(p.restored_at(1).value_or(0), 65);
        EXPECT_EQ(p.counts.size(), 0U) << "released at stop";
    }
    EXPECT_EQ(committed(broker, "counting", "count-in"), 115);
}

// A stateful processor with a second worker is refused: its state is checkpointed between
// events.
TEST(Engine, AStatefulProcessorWithWorkersIsRefused) {
    EmbeddedBroker broker;
    broker.create_topic("count-in-2", 1);
    auto o = testing::processor_options(broker, {"count-in-2"});
    o.workers = 2;
    Counting p(o);
    EXPECT_THROW(p.run(), std::invalid_argument);
}

}  // namespace
}  // namespace agentstream
