// The integrated system built in code (pipeline::Application): a configuration parsed from
// text, run on its own embedded broker, events routed, the monitor ticking with what the
// router counted, and stop() ending it with totals. The demo on it (StreamingDemo): the
// standard pipeline under simulated load, drained, summarised.
#include <agentstream/config/config.h>
#include <agentstream/event/codec.h>
#include <agentstream/event/factory.h>
#include <agentstream/event/record.h>
#include <agentstream/kafka/producer.h>
#include <agentstream/pipeline/application.h>
#include <agentstream/pipeline/demo.h>
#include <agentstream/pipeline/supervisor.h>

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "support/runtime_helpers.h"
#include "support/transport_helpers.h"

namespace agentstream::pipeline {
namespace {

using namespace std::chrono_literals;

TEST(Application, RunsAPipelineBuiltInCodeOnItsEmbeddedBrokerUntilStopped) {
    auto spec = PipelineSpec::from(config::Config::parse(R"(
topics: {docs: 2, processed: 2}
routing: {name: code_router, group_id: code-router}
kafka: {shared_producer: true}
routes:
  - name: uploads
    source_topics: [docs]
    target_topics: [processed]
    event_types: [document.uploaded]
    transformations: [add_routing_metadata]
http: {port: 0}
)",
                                                         "integrated.yaml"));
    ApplicationOptions o;
    o.connection.quiet = true;
    o.status_interval = 0ms;
    Application app(std::move(spec), o);

    std::atomic<broker::EmbeddedBroker*> broker{nullptr};
    std::atomic<bool> has_url{false};
    std::atomic<std::uint64_t> ticks{0}, consumed_seen{0};
    std::atomic<bool> kafka_healthy{false};
    ApplicationHooks hooks;
    std::atomic<int> ready{0};
    std::atomic<bool> assigned_when_ready{false};
    std::atomic<bool> shared_producer{false};
    hooks.started = [&](const ApplicationView& v) {
        has_url.store(v.monitor.url().has_value());
        broker.store(v.connection.embedded_broker());
        shared_producer.store(v.connection.shared_producer() != nullptr);
    };
    // Ready once the router's consumer has its partitions (no domain processors here).
    hooks.ready = [&](const ApplicationView& v) {
        ++ready;
        assigned_when_ready.store(v.router_processor.assigned_partitions == 2 &&
                                  v.domain.all_assigned());
    };
    hooks.tick = [&](const ApplicationView& v) {
        ++ticks;
        consumed_seen.store(v.router_processor.consumed);
        for (const auto& h : v.monitor.health()) {
            if (h.component == "kafka") {
                kafka_healthy.store(h.status == monitor::HealthStatus::Healthy);
            }
        }
        return true;
    };
    ApplicationSummary summary;
    std::exception_ptr failure;
    std::thread runner([&] {
        try {
            summary = app.run(hooks);
        } catch (...) {
            failure = std::current_exception();
        }
    });
    auto deadline = std::chrono::steady_clock::now() + 30s;
    while (broker.load() == nullptr && !failure && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(20ms);
    }
    ASSERT_NE(broker.load(), nullptr) << "the application did not start";
    EXPECT_TRUE(has_url.load()) << "http.port 0: the API listens on a free port";
    EXPECT_TRUE(shared_producer.load()) << "kafka.shared_producer: true";

    constexpr int UPLOADS = 20, OTHERS = 5;
    {
        kafka::Producer producer(
            testing::producer_options(*broker.load()));  // before the broker goes
        for (int i = 0; i < UPLOADS + OTHERS; ++i) {
            auto e = i < UPLOADS
                         ? event::EventFactory::document(event::EventType::DocumentUploaded,
                                                         "d" + std::to_string(i), "report")
                         : event::EventFactory::task(event::EventType::TaskCreated,
                                                     "t" + std::to_string(i), "analysis", "test");
            ASSERT_TRUE(
                producer
                    .send("docs", event::record_key(e), event::encode(e), event::record_headers(e))
                    .ok());
        }
        ASSERT_TRUE(producer.flush(10s));
    }
    std::size_t with_metadata = 0;
    auto routed =
        testing::read_all(*broker.load(), "processed", 2, UPLOADS, [&](const kafka::Message& m) {
            // add_routing_metadata wrote _routing.route
            auto text = std::string(m.value());
            with_metadata += text.find("\"_routing\"") != std::string::npos &&
                                     text.find("uploads") != std::string::npos
                                 ? 1
                                 : 0;
        });
    EXPECT_EQ(routed, static_cast<std::size_t>(UPLOADS));
    EXPECT_EQ(with_metadata, static_cast<std::size_t>(UPLOADS));
    // The monitor ticks with the router's counters.
    while (consumed_seen.load() < UPLOADS + OTHERS && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(50ms);
    }
    EXPECT_EQ(consumed_seen.load(), static_cast<std::uint64_t>(UPLOADS + OTHERS));
    EXPECT_TRUE(kafka_healthy.load());

    app.stop();
    runner.join();
    if (failure) {
        std::rethrow_exception(failure);
    }
    EXPECT_GE(ticks.load(), 1U);
    EXPECT_EQ(ready.load(), 1);
    EXPECT_TRUE(assigned_when_ready.load()) << "ready before the router had its partitions";
    EXPECT_EQ(summary.totals.processor.consumed, static_cast<std::uint64_t>(UPLOADS + OTHERS));
    EXPECT_EQ(summary.totals.router.unmatched, static_cast<std::uint64_t>(OTHERS));
    ASSERT_EQ(summary.totals.router.routes.size(), 1U);
    EXPECT_EQ(summary.totals.router.routes[0].delivered, static_cast<std::uint64_t>(UPLOADS));
    EXPECT_EQ(summary.reloads, 0U);
}

TEST(Application, ExactlyOnceOnTheEmbeddedBrokerIsRefusedSayingWhatToDo) {
    ApplicationOptions o;
    o.connection.quiet = true;
    o.exactly_once = true;
    Application app(PipelineSpec::from(config::Config::parse(R"(
topics: {in: 1, out: 1}
routes:
  - {name: r, source_topics: [in], target_topics: [out]}
)")),
                    o);
    try {
        app.run();
        FAIL() << "exactly-once ran on the embedded broker";
    } catch (const SetupError& e) {
        EXPECT_NE(std::string(e.what()).find("real Kafka"), std::string::npos) << e.what();
        EXPECT_NE(e.hint().find("--brokers"), std::string::npos);
    }
}

TEST(StreamingDemo, TheStandardPipelineUnderLoadIsDrainedAndSummarisedFromItsCounters) {
    StreamingDemoConfig config;
    config.duration = 3s;
    config.event_generation_rate = 30;
    config.seed = 42;
    ApplicationOptions o;
    o.connection.quiet = true;
    o.http_port = 0;
    StreamingDemo demo(PipelineSpec::load(AGENTSTREAM_SOURCE_DIR "/config/pipeline.yaml"), config,
                       o);
    int progress_calls = 0;
    bool saw_draining = false;
    auto s = demo.run([&](const DemoProgress& p) {
        ++progress_calls;
        saw_draining = saw_draining || p.draining;
        EXPECT_LE(p.elapsed, p.duration + 2s);
    });
    EXPECT_GE(progress_calls, 3);
    EXPECT_TRUE(saw_draining);
    EXPECT_FALSE(s["interrupted"].get<bool>());
    auto generated = s["generated"]["total"].get<std::uint64_t>();
    EXPECT_GT(generated, 50U);
    EXPECT_EQ(s["generated"]["not_acknowledged"].get<std::uint64_t>(), 0U);
    // Everything generated on the router's source topics was consumed (and more: the
    // processors and agents write to those topics too).
    std::uint64_t on_sources = 0;
    for (const char* t : {"documents", "tasks", "agents", "notifications", "analytics"}) {
        if (s["generated"]["by_topic"].contains(t)) {
            on_sources += s["generated"]["by_topic"][t].get<std::uint64_t>();
        }
    }
    EXPECT_GE(s["processed"]["router"]["consumed"].get<std::uint64_t>(), on_sources);
    EXPECT_GT(s["tasks"]["completed"].get<std::uint64_t>(), 0U);
    EXPECT_EQ(s["rate"]["target"].get<double>(), 30.0);
}

TEST(StreamingDemo, APipelineWithoutAgentsIsRefusedSayingWhatToDo) {
    try {
        StreamingDemo demo(PipelineSpec::from(config::Config::parse(R"(
topics: {in: 1, out: 1}
routes:
  - {name: r, source_topics: [in], target_topics: [out]}
)",
                                                                    "no-agents.yaml")),
                           {});
        FAIL() << "a demo without agents was accepted";
    } catch (const SetupError& e) {
        EXPECT_NE(std::string(e.what()).find("no-agents.yaml has no agents section"),
                  std::string::npos)
            << e.what();
        EXPECT_NE(e.hint().find("document_roots"), std::string::npos);
    }
}

// The first instances fail as they start (what a processor's run throws when its clients
// cannot start, or its state cannot be restored); the supervisor shows it, waits, and makes
// new ones until one runs.
class FailingAtStart : public runtime::StreamProcessor {
  public:
    FailingAtStart(runtime::ProcessorOptions o, bool fail)
        : runtime::StreamProcessor(std::move(o)), _fail(fail) {}

  protected:
    void on_start(runtime::Emitter&) override {
        if (_fail) {
            throw std::runtime_error("cannot start (on purpose)");
        }
    }
    bool process(const event::Event&, runtime::Context&) override { return true; }

  private:
    bool _fail;
};

TEST(Supervisor, AProcessorWhoseRunThrowsIsShownAndRestartedWithBackoff) {
    broker::EmbeddedBroker broker;
    broker.create_topic("supervised-in", 1);
    auto o = testing::processor_options(broker, {"supervised-in"});
    o.name = "supervised";
    std::atomic<int> made{0};
    SupervisorOptions so;
    so.name = "supervised";
    so.initial_backoff = 200ms;
    so.max_backoff = 400ms;
    Supervisor supervisor(so, [&] { return std::make_shared<FailingAtStart>(o, made++ < 3); });
    // Waiting after a failure: the error is shown.
    auto deadline = std::chrono::steady_clock::now() + 30s;
    while (!supervisor.status().waiting && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(5ms);
    }
    auto waiting = supervisor.status();
    EXPECT_TRUE(waiting.waiting);
    EXPECT_EQ(waiting.last_error, "cannot start (on purpose)");
    EXPECT_GE(waiting.failures, 1U);
    // Restarted three times (200, 400, 400 ms), then it runs and processes.
    auto started = std::chrono::steady_clock::now();
    while (supervisor.status().restarts < 3 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(5ms);
    }
    EXPECT_GE(std::chrono::steady_clock::now() - started, 600ms) << "with backoff";
    EXPECT_EQ(supervisor.status().restarts, 3U);
    EXPECT_EQ(supervisor.status().failures, 3U);
    {
        kafka::ProducerOptions po;
        po.brokers = broker.bootstrap_servers();
        kafka::Producer producer(po);
        for (int i = 0; i < 5; ++i) {
            ASSERT_TRUE(producer.send("supervised-in", testing::numbered_event(i, i, i)).ok());
        }
        producer.flush(10s);
    }
    while (supervisor.current()->metrics().processed < 5 &&
           std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(10ms);
    }
    EXPECT_EQ(supervisor.current()->metrics().processed, 5U);
    EXPECT_FALSE(supervisor.status().waiting);
    supervisor.stop();
    EXPECT_EQ(made.load(), 4);
}

TEST(Supervisor, StopEndsAWaitForARestartAtOnce) {
    broker::EmbeddedBroker broker;
    broker.create_topic("supervised-in-2", 1);
    auto o = testing::processor_options(broker, {"supervised-in-2"});
    SupervisorOptions so;
    so.name = "always-failing";
    so.initial_backoff = 1h;
    Supervisor supervisor(so, [&] { return std::make_shared<FailingAtStart>(o, true); });
    auto deadline = std::chrono::steady_clock::now() + 30s;
    while (!supervisor.status().waiting && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(5ms);
    }
    ASSERT_TRUE(supervisor.status().waiting);
    EXPECT_GT(supervisor.status().next_restart_in, 59min);
    auto before = std::chrono::steady_clock::now();
    supervisor.stop();
    EXPECT_LT(std::chrono::steady_clock::now() - before, 5s);
    EXPECT_EQ(supervisor.status().restarts, 0U);
}

TEST(Supervisor, AFactoryThatCannotMakeTheFirstInstanceThrowsToTheCaller) {
    SupervisorOptions so;
    so.name = "unmakeable";
    EXPECT_THROW(Supervisor(so,
                            []() -> std::shared_ptr<runtime::StreamProcessor> {
                                throw std::invalid_argument("bad options");
                            }),
                 std::invalid_argument);
}

}  // namespace
}  // namespace agentstream::pipeline
