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

// run_until_idle: a batch run ends once what is there is processed (and not before the group
// assigned the partitions); it rethrows what run() threw; a stop request ends it at once.
TEST(Engine, RunUntilIdleEndsOnceTheInputIsProcessedAndRethrowsRunsFailure) {
    EmbeddedBroker broker;
    broker.create_topic("idle-in", 2);
    broker.create_topic("idle-out", 2);
    produce_events(broker, "idle-in", 40);
    auto o = testing::processor_options(broker, {"idle-in"});
    o.name = "idle";
    o.group_id = "idle";
    {
        StreamProcessor p(o);
        p.on("*", [](const event::Event&, Context& ctx) { ctx.forward("idle-out"); });
        auto started = std::chrono::steady_clock::now();
        runtime::run_until_idle(p, 1500ms);
        auto m = p.metrics();
        EXPECT_EQ(m.processed, 40U) << testing::describe(m);
        EXPECT_GE(m.rebalances, 1U);
        EXPECT_GE(std::chrono::steady_clock::now() - started, 1500ms);
    }
    EXPECT_EQ(committed(broker, "idle", "idle-in"), 40);
    EXPECT_EQ(testing::read_all(broker, "idle-out", 2, 40, [](const kafka::Message&) {}), 40U);

    // Idle is 0: only the stop request ends it.
    {
        StreamProcessor p(o);
        p.on("*", [](const event::Event&, Context& ctx) { ctx.forward("idle-out"); });
        std::atomic<bool> stop{false};
        std::thread stopper([&] {
            std::this_thread::sleep_for(2s);
            stop = true;
        });
        auto started = std::chrono::steady_clock::now();
        runtime::run_until_idle(p, 0ms, [&] { return stop.load(); });
        EXPECT_GE(std::chrono::steady_clock::now() - started, 2s);
        stopper.join();
    }

    // What run() throws comes out (a property librdkafka refuses: the clients cannot be made).
    auto bad = o;
    bad.consumer_properties.emplace_back("no.such.property", "1");
    StreamProcessor p(bad);
    EXPECT_THROW(runtime::run_until_idle(p, 1s), kafka::KafkaError);
}

// Processors on one shared producer (ProcessorOptions::producer) while another part of the
// process keeps it busy: a processor's stop waits for its own outputs only (the producer's
// queue is never empty) and purges nothing of the others'; past its shutdown deadline it gives
// its outputs up without purging the queue, waiting for their final reports before its
// consumer closes.
struct Flood {
    std::atomic<bool> stop{false};
    std::atomic<std::uint64_t> acked{0}, failed{0};
    std::thread thread;
    void start(kafka::Producer& producer, const std::string& topic) {
        thread = std::thread([this, &producer, topic] {
            auto e = testing::numbered_event(0, 0, 0);
            auto value = event::encode(e);
            while (!stop.load()) {
                auto status =
                    producer.send(topic, "k", value, {}, [this](const kafka::DeliveryReport& r) {
                        (r.ok ? acked : failed).fetch_add(1);
                    });
                if (!status.ok()) {
                    failed.fetch_add(1);
                }
                std::this_thread::sleep_for(100us);
            }
        });
    }
    void finish(kafka::Producer& producer) {
        stop = true;
        thread.join();
        EXPECT_TRUE(producer.flush(30s));
    }
};

std::shared_ptr<kafka::Producer> shared_producer(const EmbeddedBroker& b,
                                                 std::chrono::milliseconds message_timeout) {
    kafka::ProducerOptions po;
    po.brokers = b.bootstrap_servers();
    po.properties = EmbeddedBroker::producer_tuning();
    po.max_message_bytes = runtime::MAX_RECORD_BYTES;
    po.message_timeout = message_timeout;
    po.max_retries = 0;
    return std::make_shared<kafka::Producer>(po);
}

TEST(Engine, ProcessorsOnASharedProducerStopWithoutWaitingForOrPurgingEachOther) {
    EmbeddedBroker broker;
    for (const auto* t : {"share-a", "share-b", "share-out", "share-flood"}) {
        broker.create_topic(t, 1);
    }
    produce_events(broker, "share-a", 50);
    produce_events(broker, "share-b", 30);
    auto producer = shared_producer(broker, 60s);
    Flood flood;
    flood.start(*producer, "share-flood");
    auto o = testing::processor_options(broker, {"share-a"});
    o.producer = producer;
    o.shutdown_timeout = 20s;
    auto oa = o, ob = o;
    oa.name = oa.group_id = "share-a";
    ob.name = ob.group_id = "share-b";
    ob.inputs = {"share-b"};
    StreamProcessor a(oa), b(ob);
    for (auto* p : {&a, &b}) {
        p->on("*", [](const event::Event&, Context& ctx) { ctx.forward("share-out"); });
    }
    std::thread ta([&] { a.run(); });
    std::thread tb([&] { b.run(); });
    ASSERT_TRUE(wait_for([&] { return a.metrics().processed == 50; }))
        << testing::describe(a.metrics());
    ASSERT_TRUE(wait_for([&] { return b.metrics().processed == 30; }))
        << testing::describe(b.metrics());
    auto stopping = std::chrono::steady_clock::now();
    a.stop();
    ta.join();
    EXPECT_LT(std::chrono::steady_clock::now() - stopping, 10s)
        << "a stop waits for its own outputs, not for the shared queue to empty";
    EXPECT_EQ(a.metrics().unfinished_at_stop, 0U);
    std::this_thread::sleep_for(300ms);  // b and the flood go on through the producer
    b.stop();
    tb.join();
    flood.finish(*producer);
    EXPECT_GT(flood.acked.load(), 0U);
    EXPECT_EQ(flood.failed.load(), 0U) << "nothing of the other senders was purged";
    EXPECT_EQ(committed(broker, "share-a", "share-a"), 50);
    EXPECT_EQ(committed(broker, "share-b", "share-b"), 30);
    EXPECT_EQ(testing::read_all(broker, "share-out", 1, 80, [](const kafka::Message&) {}), 80U);

    // Exactly-once keeps a transactional producer of its own.
    auto eos = oa;
    eos.guarantee = runtime::Guarantee::ExactlyOnce;
    EXPECT_THROW(StreamProcessor{eos}, std::invalid_argument);
}

TEST(Engine, AProcessorOnASharedProducerGivesUpPastItsDeadlineWithoutPurgingTheQueue) {
    EmbeddedBroker broker(broker::EmbeddedBrokerOptions{.brokers = 2});
    for (const auto* t : {"dark-in", "dark-out", "dark-flood"}) {
        broker.create_topic(t, 1);
        broker.set_partition_leader(t, 0, 1);
    }
    broker.set_partition_leader("dark-out", 0, 2);
    broker.set_group_coordinator("dark", 1);
    produce_events(broker, "dark-in", 10);
    auto producer = shared_producer(broker, 4s);
    Flood flood;
    flood.start(*producer, "dark-flood");
    broker.set_broker_down(2);  // dark-out has no reachable leader: its outputs wait
    auto o = testing::processor_options(broker, {"dark-in"});
    o.name = o.group_id = "dark";
    o.producer = producer;
    o.shutdown_timeout = 1s;
    o.revoke_timeout = 60s;  // what given-up events would wait for again in the revocation
    StreamProcessor p(o);
    p.on("*", [](const event::Event&, Context& ctx) { ctx.forward("dark-out"); });
    std::thread t([&] { p.run(); });
    ASSERT_TRUE(wait_for([&] { return p.metrics().consumed == 10; }))
        << testing::describe(p.metrics());
    auto stopping = std::chrono::steady_clock::now();
    p.stop();
    t.join();
    auto took = std::chrono::steady_clock::now() - stopping;
    EXPECT_GE(took, 2s) << "it waited for the producer to give its outputs up";
    // 1 s of deadline, then the reports: librdkafka times out records of a partition without a
    // reachable leader a few seconds past the 4 s message timeout (on its reconnect backoff);
    // the group is left at once after that (the revocation does not wait 60 s again for what
    // was given up).
    EXPECT_LT(took, 40s);
    auto m = p.metrics();
    EXPECT_EQ(m.unfinished_at_stop, 10U) << testing::describe(m);
    EXPECT_EQ(m.processed, 0U);
    flood.finish(*producer);
    EXPECT_GT(flood.acked.load(), 0U);
    EXPECT_EQ(flood.failed.load(), 0U) << "the other senders' records were not purged";
    EXPECT_LE(committed(broker, "dark", "dark-in"), 0) << "nothing given up is committed";
}

// A run that throws with partitions assigned and events in flight (the restore of a partition
// assigned later fails): what completed is committed, the rest is left for the next run, the
// consumer is closed while the processor is whole (the rebalance callback of a consumer closed
// by the destructor would touch members already destroyed), and the processor is destroyed
// cleanly. A second run reads the rest.
class FailingRestore : public StreamProcessor {
  public:
    using StreamProcessor::StreamProcessor;
    std::atomic<bool> fail{false};

  protected:
    bool keeps_state() const noexcept override { return true; }
    std::optional<std::int64_t> restore(const kafka::TopicPartition&) override {
        if (fail.load()) {
            throw std::runtime_error("state store unreadable");
        }
        return std::nullopt;
    }
    bool process(const event::Event&, Context& ctx) override {
        ctx.forward("fail-out");
        return true;
    }
};

TEST(Engine, ARunThatThrowsClosesItsConsumerBeforeTheProcessorIsDestroyed) {
    EmbeddedBroker broker;
    broker.create_topic("fail-in", 2);
    broker.create_topic("fail-out", 2);
    produce_events(broker, "fail-in", 30);
    auto o = testing::processor_options(broker, {"fail-in"});
    o.name = o.group_id = "failing";
    o.checkpoint_interval = 100ms;
    {
        FailingRestore p(o);
        std::exception_ptr failure;
        std::atomic<bool> failed{false};  // set after `failure`, read by this thread
        std::thread t([&] {
            try {
                p.run();
            } catch (...) {
                failure = std::current_exception();
                failed = true;
            }
        });
        ASSERT_TRUE(wait_for([&] { return p.metrics().processed == 30; }));
        ASSERT_TRUE(wait_for([&] { return committed(broker, "failing", "fail-in") == 30; }));
        produce_events(broker, "fail-in", 10);
        p.fail = true;
        // A second member joins: the rebalance assigns partitions again, and restore throws.
        auto o2 = o;
        o2.name = "failing-2";
        StreamProcessor other(o2);
        other.on("*", [](const event::Event&, Context&) {});
        std::thread t2([&] { other.run(); });
        ASSERT_TRUE(wait_for([&] { return failed.load(); }, 60s));
        t.join();
        // The failed run left the group at once: the other member gets every partition and
        // the rest of the input while the failed processor still exists.
        EXPECT_TRUE(wait_for([&] { return committed(broker, "failing", "fail-in") == 40; }, 30s))
            << testing::describe(other.metrics());
        other.stop();
        t2.join();
        EXPECT_THROW(std::rethrow_exception(failure), std::runtime_error);
        EXPECT_EQ(p.metrics().assigned_partitions, 0U);
    }  // destroyed after a failed run: no callback into what is gone (ASan watches this)
    EXPECT_GE(committed(broker, "failing", "fail-in"), 30);
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
