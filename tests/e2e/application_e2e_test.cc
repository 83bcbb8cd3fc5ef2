// The integrated system on a real Apache Kafka broker: an exactly-once router fenced by a
// zombie (another producer initialising its transactional id, as a second instance started by
// mistake does) fails, the application restarts it after its backoff, and every event reaches
// the output exactly once as a read_committed consumer sees it. The test command exports
// AGENTSTREAM_E2E_BROKERS; without it the test fails (it never skips).
#include <agentstream/config/config.h>
#include <agentstream/event/codec.h>
#include <agentstream/event/factory.h>
#include <agentstream/event/record.h>
#include <agentstream/kafka/consumer.h>
#include <agentstream/kafka/producer.h>
#include <agentstream/pipeline/application.h>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <unistd.h>
#include <atomic>
#include <map>
#include <thread>

#include "support/e2e_brokers.h"

namespace agentstream::pipeline {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using testing::e2e_brokers;

void produce(const std::string& topic, int first, int count) {
    kafka::ProducerOptions po;
    po.brokers = e2e_brokers();
    kafka::Producer producer(po);
    for (int i = first; i < first + count; ++i) {
        auto e = event::EventFactory::create(event::EventType::DocumentUploaded, "fence-test",
                                             {{"document_id", fmt::format("doc-{}", i)},
                                              {"document_name", fmt::format("f{}.txt", i)}});
        ASSERT_TRUE(
            producer
                .send(topic, fmt::format("doc-{}", i), event::encode(e), event::record_headers(e))
                .ok());
    }
    ASSERT_TRUE(producer.flush(30s));
}

TEST(ApplicationE2E, AFencedExactlyOnceRouterIsRestartedAndEveryEventArrivesOnce) {
    const auto run_id = fmt::format("{}-{}", ::getpid(), Clock::now().time_since_epoch().count());
    const auto in = "fence-in-" + run_id;
    const auto out = "fence-out-" + run_id;
    const auto group = "fence-" + run_id;
    auto spec = PipelineSpec::from(config::Config::parse(
        fmt::format(R"(
topics: {{{in}: 2, {out}: 2}}
routing: {{name: fenced_router, group_id: {group}}}
routes:
  - name: uploads
    source_topics: [{in}]
    target_topics: [{out}]
    event_types: [document.uploaded]
http: {{enabled: false}}
)",
                    fmt::arg("in", in), fmt::arg("out", out), fmt::arg("group", group)),
        "fenced.yaml"));
    ApplicationOptions o;
    o.connection.brokers = e2e_brokers();
    o.connection.quiet = true;
    o.exactly_once = true;
    o.status_interval = 0ms;
    o.watch_interval = 0ms;
    o.restart_backoff = 500ms;
    Application app(std::move(spec), o);
    std::atomic<bool> ready{false};
    std::atomic<std::uint64_t> consumed{0};
    ApplicationHooks hooks;
    hooks.ready = [&](const ApplicationView&) { ready = true; };
    hooks.tick = [&](const ApplicationView& v) {
        consumed = v.router_processor.consumed;
        return true;
    };
    ApplicationSummary summary;
    std::exception_ptr failure;
    std::atomic<bool> failed{false};  // set after `failure`, read by this thread
    std::thread runner([&] {
        try {
            summary = app.run(hooks);
        } catch (...) {
            failure = std::current_exception();
            failed = true;
        }
    });
    struct Joiner {
        Application& app;
        std::thread& runner;
        ~Joiner() {
            app.stop();
            if (runner.joinable()) {
                runner.join();
            }
        }
    } joiner{app, runner};
    auto wait = [](auto done, std::chrono::seconds limit) {
        auto deadline = Clock::now() + limit;
        while (!done() && Clock::now() < deadline) {
            std::this_thread::sleep_for(50ms);
        }
        return done();
    };
    ASSERT_TRUE(wait([&] { return ready.load() || failed.load(); }, 60s));
    produce(in, 0, 200);
    EXPECT_TRUE(wait([&] { return consumed.load() >= 200; }, 60s)) << consumed.load();

    // The zombie: the router's transactional id (group, '-', name) initialised elsewhere bumps
    // the epoch; the router's next transaction is refused as fenced, fatal for its producer.
    {
        kafka::ProducerOptions zo;
        zo.brokers = e2e_brokers();
        zo.transactional_id = group + "-fenced_router";
        kafka::Producer zombie(zo);
        auto status = zombie.init_transactions(60s);
        ASSERT_TRUE(status.ok()) << status.error().message;
    }
    produce(in, 200, 200);

    // Every event once, as read_committed sees it.
    kafka::ConsumerOptions co;
    co.brokers = e2e_brokers();
    co.properties = {{"isolation.level", "read_committed"}};
    kafka::Consumer reader(co);
    reader.assign({{out, 0}, {out, 1}});
    std::map<std::string, int> seen;
    auto deadline = Clock::now() + 120s;
    while (seen.size() < 400 && Clock::now() < deadline && !failed.load()) {
        auto m = reader.poll(200ms);
        if (m) {
            auto e = event::decode(m->value());
            ASSERT_TRUE(e.ok());
            ++seen[*e->field("document_id")->as_string()];
        }
    }
    // Anything duplicated would arrive soon after.
    auto quiet_until = Clock::now() + 3s;
    while (Clock::now() < quiet_until) {
        if (auto m = reader.poll(200ms)) {
            auto e = event::decode(m->value());
            ASSERT_TRUE(e.ok());
            ++seen[*e->field("document_id")->as_string()];
        }
    }
    app.stop();
    runner.join();
    if (failure) {
        std::rethrow_exception(failure);
    }
    EXPECT_EQ(seen.size(), 400U);
    int duplicated = 0;
    for (const auto& [id, n] : seen) {
        duplicated += n > 1 ? 1 : 0;
    }
    EXPECT_EQ(duplicated, 0);
    EXPECT_GE(summary.router_restarts, 1U) << "the fenced router was restarted";
}

}  // namespace
}  // namespace agentstream::pipeline
