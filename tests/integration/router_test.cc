// The router on the embedded broker: the standard pipeline over a mixed stream delivers exact
// counts, and route tables replaced under load lose nothing and route nothing twice.
#include <agentstream/broker/embedded_broker.h>
#include <agentstream/config/config.h>
#include <agentstream/event/codec.h>
#include <agentstream/event/factory.h>
#include <agentstream/event/record.h>
#include <agentstream/kafka/admin.h>
#include <agentstream/kafka/producer.h>
#include <agentstream/router/predefined.h>
#include <agentstream/router/router.h>
#include <agentstream/runtime/dead_letter.h>
#include <agentstream/runtime/event_dispatcher.h>
#include <agentstream/runtime/routing_processor.h>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <set>
#include <thread>

#include "support/runtime_helpers.h"
#include "support/transport_helpers.h"

namespace agentstream {
namespace {

using namespace std::chrono_literals;
using broker::EmbeddedBroker;
using event::EventFactory;
using event::EventType;

using testing::producer_options;

void send(kafka::Producer& p, const std::string& topic, const event::Event& e) {
    auto status = p.send(topic, event::record_key(e), event::encode(e), event::record_headers(e));
    ASSERT_TRUE(status.ok()) << status.error().message;
}

TEST(Router, TheStandardPipelineDeliversExactCountsOverAMixedStream) {
    auto config = config::Config::load(std::filesystem::path(AGENTSTREAM_SOURCE_DIR) / "config" /
                                       "pipeline.yaml");
    auto router = std::make_shared<const router::Router>(router::load_routes(config));
    EmbeddedBroker broker;
    std::map<std::string, int> partitions;
    for (const auto& t : config.topics("topics")) {
        broker.create_topic(t.name, t.partitions);
        broker.create_topic(t.name + ".dlq", 1);
        partitions[t.name] = t.partitions;
    }
    {
        kafka::Producer p(producer_options(broker));
        for (int i = 0; i < 3000; ++i) {
            send(p, "documents",
                 EventFactory::document(EventType::DocumentUploaded, fmt::format("up{}", i), "t"));
        }
        for (int i = 0; i < 2000; ++i) {
            send(p, "documents",
                 EventFactory::document(EventType::DocumentProcessed, fmt::format("done{}", i), "t",
                                        {{"status", "done"}}));
        }
        for (int i = 0; i < 4000; ++i) {
            send(
                p, "tasks",
                EventFactory::task(EventType::TaskCreated, fmt::format("t{}", i), "analysis", "t"));
        }
        for (int i = 0; i < 1000; ++i) {
            send(p, "agents",
                 EventFactory::agent(EventType::AgentError, fmt::format("err{}", i), "n", "r",
                                     "error", "t"));
        }
        for (int i = 0; i < 1500; ++i) {
            send(p, "agents",
                 EventFactory::agent(EventType::AgentStatusChanged, fmt::format("a{}", i), "n", "r",
                                     "working", "t"));
        }
        for (int i = 0; i < 1200; ++i) {
            auto e =
                EventFactory::analytics("error_rate", 7.5, "gauge", fmt::format("s{}", i), "t");
            e.set_priority(i < 500 ? event::Priority::High : event::Priority::Low);
            send(p, "analytics", e);
        }
        // Poison: the router checks every event against the catalogue (without building it),
        // so these go to the dead letters and match no route.
        for (int i = 0; i < 30; ++i) {
            ASSERT_TRUE(
                p.send("tasks", "bad", fmt::format("{{\"event_type\": \"task.cr{}", i)).ok());
            auto invalid = event::encode(
                EventFactory::task(EventType::TaskCreated, fmt::format("x{}", i), "analysis", "t"));
            invalid.replace(invalid.find("\"task_id\""), 9, "\"no_task\"");
            ASSERT_TRUE(p.send("tasks", "bad", invalid).ok());
        }
        ASSERT_TRUE(p.flush(30s));
    }
    auto o = testing::processor_options(broker, router->source_topics());
    o.name = "router";
    runtime::RoutingProcessor processor(o, router);
    // Each event once per target topic (analytics gets documents once, not twice).
    const std::map<std::string, std::size_t> expected = {
        {"document_processing", 5000},
        {"analytics", 5000 + 4000 + 2500 + 3000 + 1200},
        {"metrics", 5000 + 4000 + 2500 + 3000},
        {"notifications", 2000 + 1000},
        {"alerts", 1000 + 500},
        {"agent_monitoring", 1500},
    };
    // Consumed: the 12700 produced and 60 poison records, plus what routes wrote into topics
    // they also read (document_processing 5000, analytics 14500, notifications 3000).
    const std::uint64_t consumed = 12700 + 60 + 5000 + 14500 + 3000;
    ASSERT_TRUE(testing::run_until(processor, [&] {
        auto m = processor.metrics();
        return m.consumed >= consumed && m.in_flight == 0;
    })) << testing::describe(processor.metrics());
    for (const auto& [topic, count] : expected) {
        std::size_t invalid = 0;
        auto n = testing::read_all(
            broker, topic, partitions[topic], count,
            [&](const kafka::Message& m) { invalid += !event::decode(m.value()).ok(); });
        EXPECT_EQ(n, count) << topic;
        EXPECT_EQ(invalid, 0U) << topic;  // every delivery is a valid catalogue event
    }
    auto m = processor.metrics();
    EXPECT_EQ(m.consumed, consumed);
    EXPECT_EQ(m.dead_lettered, 60U);
    std::map<runtime::ErrorClass, int> classes;
    auto dead = testing::read_all(broker, "tasks.dlq", 1, 60, [&](const kafka::Message& r) {
        auto d = runtime::read_dead_letter(r);
        ASSERT_TRUE(d.error_class);
        ++classes[*d.error_class];
    });
    EXPECT_EQ(dead, 60U);
    EXPECT_EQ(classes[runtime::ErrorClass::Undecodable], 30);
    EXPECT_EQ(classes[runtime::ErrorClass::Invalid], 30);
    auto rm = router->metrics();
    std::map<std::string, std::uint64_t> matched;
    for (const auto& r : rm.routes) {
        matched[r.name] = r.matched;
    }
    EXPECT_EQ(matched["agent_errors_to_alerts"], 1000U);
    EXPECT_EQ(matched["analytics_to_alerts"], 500U);
    EXPECT_EQ(matched["agents_to_monitoring"], 1500U);
    EXPECT_EQ(matched["document_to_processing"], 5000U);
    EXPECT_EQ(matched["processing_to_notifications"], 2000U);
    EXPECT_EQ(matched["all_to_analytics"], 5000U + 4000U + 2500U + 3000U);
}

std::shared_ptr<const router::Router> table(const std::string& target, const std::string& tag) {
    auto yaml = fmt::format(
        "topics: {{in: 4, a: 4, b: 4}}\n"
        "routes:\n"
        "  - name: to_{0}\n    source_topics: [in]\n    target_topics: [{0}]\n"
        "    event_types: ['task.*']\n    filters: {{task_type: {{prefix: doc}}}}\n"
        "    transformations: [{{add_field: {{path: table, value: {1}}}}}]\n",
        target, tag);
    return std::make_shared<const router::Router>(
        router::load_routes(config::Config::parse(yaml, "reload.yaml")));
}

TEST(Router, ReplacingRoutesUnderLoadLosesNothingAndRoutesEachEventOnce) {
    EmbeddedBroker broker;
    broker.create_topic("in", 4);
    broker.create_topic("a", 4);
    broker.create_topic("b", 4);
    broker.create_topic("in.dlq", 1);
    constexpr int N = 40'000;
    auto o = testing::processor_options(broker, {"in"});
    o.workers = 2;
    runtime::RoutingProcessor processor(o, table("a", "A"));
    std::atomic<bool> produced{false};
    std::thread producer([&] {
        kafka::Producer p(producer_options(broker));
        for (int i = 0; i < N; ++i) {
            auto e = testing::numbered_event(i % 101, i, i);
            send(p, "in", e);
            if (i % 2000 == 0) {
                std::this_thread::sleep_for(10ms);  // spread over the reloads
            }
        }
        EXPECT_TRUE(p.flush(30s));
        produced = true;
    });
    int swaps = 0;
    int rejected = 0;
    bool ok = testing::run_until(processor, [&] {
        // A half-valid file never replaces the running table.
        auto before = processor.router();
        try {
            processor.replace(std::make_shared<const router::Router>(router::load_routes(
                config::Config::parse("topics: {in: 4, a: 4}\nroutes:\n"
                                      "  - {name: ok, source_topics: in, target_topics: a}\n"
                                      "  - {name: bad, source_topics: in, target_topics: a,\n"
                                      "     filters: {x: {regex: '(bad'}}}\n",
                                      "half.yaml"))));
        } catch (const config::ConfigError&) {
            ++rejected;
        }
        EXPECT_EQ(processor.router(), before);
        processor.replace(++swaps % 2 ? table("b", "B") : table("a", "A"));
        auto m = processor.metrics();
        return produced && m.consumed >= N && m.in_flight == 0;
    });
    producer.join();
    ASSERT_TRUE(ok);
    EXPECT_GT(swaps, 10);
    EXPECT_EQ(rejected, swaps);
    std::map<std::int64_t, int> seen;
    std::size_t mislabelled = 0;
    auto visit = [&](const std::string& tag) {
        return [&, tag](const kafka::Message& m) {
            auto e = event::decode(m.value());
            ASSERT_TRUE(e);
            // A rewritten event keeps its input's headers.
            EXPECT_EQ(m.header("event_id"), e->id());
            EXPECT_EQ(m.header("event_type"), "task.started");
            EXPECT_EQ(m.header("content-type"), "application/json");
            for (const auto& [name, raw] : e->extra_fields()) {
                if (name == "n") {
                    ++seen[std::stoll(raw.text)];
                } else if (name == "table" && raw.text != "\"" + tag + "\"") {
                    ++mislabelled;
                }
            }
        };
    };
    // How many records each topic holds (all acknowledged once the processor drained).
    auto records = [&](const std::string& topic) {
        kafka::ClientOptions co;
        co.brokers = broker.bootstrap_servers();
        std::size_t total = 0;
        for (const auto& p : kafka::Admin(co).group_lag("counter", {topic})) {
            total += static_cast<std::size_t>(p.high_watermark);
        }
        return total;
    };
    auto held_a = records("a");
    auto held_b = records("b");
    EXPECT_EQ(held_a + held_b, static_cast<std::size_t>(N));
    auto in_a = testing::read_all(broker, "a", 4, held_a, visit("A"));
    auto in_b = testing::read_all(broker, "b", 4, held_b, visit("B"));
    EXPECT_EQ(in_a + in_b, static_cast<std::size_t>(N));
    EXPECT_EQ(seen.size(), static_cast<std::size_t>(N));  // none lost
    std::size_t twice = 0;
    for (const auto& [n, count] : seen) {
        twice += count > 1;
    }
    EXPECT_EQ(twice, 0U);        // none routed twice
    EXPECT_EQ(mislabelled, 0U);  // each went where the table that routed it said
    EXPECT_GT(in_a, 0U);
    EXPECT_GT(in_b, 0U);
}

// Issue 18, point 9: a deliberate cycle is accepted only when the file says so, and then each
// event goes round at most routing.max_hops times (counted in a header) before it is
// dead-lettered; without the limit these 20 events went round for ever.
TEST(Router, ADeliberateCycleStopsAtItsHopLimit) {
    constexpr const char* routes =
        "topics: {in: 2, mid: 2}\n"
        "routes:\n"
        "  - {name: out, source_topics: in, target_topics: mid}\n"
        "  - {name: back, source_topics: mid, target_topics: in}\n";
    EXPECT_THROW(router::load_routes(config::Config::parse(routes, "cycle.yaml")),
                 config::ConfigError);
    auto table = router::load_routes(config::Config::parse(
        std::string("routing: {allow_cycles: true, max_hops: 4}\n") + routes, "cycle.yaml"));
    ASSERT_TRUE(table.allow_cycles);
    ASSERT_EQ(table.max_hops, 4);
    EmbeddedBroker broker;
    broker.create_topic("in", 2);
    broker.create_topic("mid", 2);
    broker.create_topic("in.dlq", 1);
    broker.create_topic("mid.dlq", 1);
    constexpr int N = 20;
    {
        kafka::Producer p(producer_options(broker));
        for (int i = 0; i < N; ++i) {
            send(p, "in", testing::numbered_event(i, i, i));
        }
        ASSERT_TRUE(p.flush(30s));
    }
    runtime::RoutingProcessor processor(testing::processor_options(broker, {"in", "mid"}),
                                        std::make_shared<const router::Router>(std::move(table)));
    ASSERT_TRUE(testing::run_until(processor, [&] {
        auto m = processor.metrics();
        return m.dead_lettered >= N && m.in_flight == 0;
    }));
    auto m = processor.metrics();
    // Each event: in (0) -> mid (1) -> in (2) -> mid (3) -> in (4): stopped there.
    EXPECT_EQ(m.consumed, 5U * N);
    EXPECT_EQ(m.produced, 4U * N);
    EXPECT_EQ(m.dead_lettered, static_cast<std::uint64_t>(N));
    std::map<std::string, int> hops_on_mid, hops_on_in;
    auto hops = [](std::map<std::string, int>& into) {
        return [&into](const kafka::Message& r) {
            ++into[std::string(r.header(router::HOPS_HEADER).value_or("none"))];
            EXPECT_EQ(r.header("event_type"), "task.started");  // the input's headers go too
        };
    };
    EXPECT_EQ(testing::read_all(broker, "mid", 2, 2 * N, hops(hops_on_mid)), 2U * N);
    EXPECT_EQ(testing::read_all(broker, "in", 2, 3 * N, hops(hops_on_in)), 3U * N);
    EXPECT_EQ(hops_on_mid, (std::map<std::string, int>{{"1", N}, {"3", N}}));
    EXPECT_EQ(hops_on_in, (std::map<std::string, int>{{"none", N}, {"2", N}, {"4", N}}));
    std::size_t limited = 0;
    testing::read_all(broker, "in.dlq", 1, N, [&](const kafka::Message& r) {
        auto why = std::string(r.header(runtime::DLQ_ERROR_MESSAGE).value_or(""));
        limited += why.find("hop limit: routed 4 times already (routing.max_hops = 4)") == 0;
    });
    EXPECT_EQ(limited, static_cast<std::size_t>(N));
}

// The design's EventDispatcher: a route built in code (filter, transformation, priority) and the
// predefined routes, then a route added and one removed while it runs.
TEST(EventDispatcher, RoutesBuiltInCodeAndChangedWhileRunning) {
    EmbeddedBroker broker;
    for (const char* t :
         {"documents", "processing", "document_processing", "analytics", "metrics", "notifications",
          "alerts", "agents", "agent_monitoring", "tasks", "archive", "documents.dlq"}) {
        broker.create_topic(t, 1);
    }
    auto options = testing::processor_options(broker, {});
    options.name = "processor";  // the dispatcher's name is used
    options.dead_letter_topic = "documents.dlq";
    runtime::EventDispatcher dispatcher("main_dispatcher", options);
    router::EventRoute route;
    route.name = "documents_to_processing";
    route.source_topics = {"documents"};
    route.target_topics = {"processing", "analytics"};
    route.event_types = {event::TypePattern("document.uploaded")};
    router::Filter pending;
    pending.kind = router::Filter::Kind::Test;
    pending.test = router::make_predicate("status", router::Op::Eq, {std::string("pending")});
    route.filter = pending;
    route.transformations = {router::add_routing_metadata()};
    route.priority = 10;
    dispatcher.add_route(route);
    for (auto& r : router::PredefinedRoutes::create_document_processing_routes()) {
        dispatcher.add_route(std::move(r));
    }
    EXPECT_THROW(dispatcher.add_route(route), std::invalid_argument);  // the name is taken
    ASSERT_EQ(dispatcher.routes().size(), 3U);

    kafka::Producer p(producer_options(broker));
    for (int i = 0; i < 20; ++i) {
        send(p, "documents",
             EventFactory::document(EventType::DocumentUploaded, fmt::format("d{}", i), "t",
                                    {{"status", i % 2 == 0 ? "pending" : "processing"}}));
    }
    ASSERT_TRUE(p.flush(10s));

    std::thread t([&] { dispatcher.run(); });
    auto wait_for = [&](std::uint64_t processed) {
        auto deadline = std::chrono::steady_clock::now() + 60s;
        auto done = [&] {
            auto m = dispatcher.metrics();
            return m.processed + m.unhandled >= processed;  // routed, or matched by no route
        };
        while (!done() && std::chrono::steady_clock::now() < deadline) {
            std::this_thread::sleep_for(20ms);
        }
        return done();
    };
    // It reads documents and document_processing (a predefined route's source): each upload
    // is read there and again as its copy on document_processing (which no route takes).
    bool first = wait_for(40);
    // While running: a route on a topic it does not read is refused, one on documents is taken.
    router::Route from_tasks;
    from_tasks.name = "tasks_to_archive";
    from_tasks.source_topics = {"tasks"};
    from_tasks.target_topics = {"archive"};
    EXPECT_THROW(dispatcher.add_route(from_tasks), std::logic_error);
    router::Route archive;
    archive.name = "documents_to_archive";
    archive.source_topics = {"documents"};
    archive.target_topics = {"archive"};
    dispatcher.add_route(archive);
    auto send_uploads = [&](int from, int to) {
        for (int i = from; i < to; ++i) {
            send(p, "documents",
                 EventFactory::document(EventType::DocumentUploaded, fmt::format("d{}", i), "t",
                                        {{"status", "pending"}}));
        }
        return p.flush(10s);
    };
    ASSERT_TRUE(send_uploads(20, 25));
    bool second = wait_for(50);
    EXPECT_TRUE(dispatcher.remove_route("documents_to_processing"));
    EXPECT_FALSE(dispatcher.remove_route("documents_to_processing"));
    ASSERT_TRUE(send_uploads(25, 30));
    second = wait_for(60) && second;
    dispatcher.stop();
    t.join();
    ASSERT_TRUE(first && second) << testing::describe(dispatcher.metrics());

    // processing: the pending uploads before the route was removed (10 + 5), with the
    // dispatcher's metadata.
    std::vector<std::string> processing;
    testing::read_all(broker, "processing", 1, 15,
                      [&](const kafka::Message& m) { processing.emplace_back(m.value()); });
    ASSERT_EQ(processing.size(), 15U);
    for (const auto& value : processing) {
        EXPECT_NE(value.find("\"status\":\"pending\""), std::string::npos) << value;
        EXPECT_NE(value.find("\"route\":\"documents_to_processing\",\"dispatcher\":"
                             "\"main_dispatcher\""),
                  std::string::npos)
            << value;
    }
    // document_processing: every upload (the predefined document_to_processing route).
    EXPECT_EQ(testing::read_all(broker, "document_processing", 1, 30, [](const auto&) {}), 30U);
    // archive: only what came after the route was added.
    EXPECT_EQ(testing::read_all(broker, "archive", 1, 10, [](const auto&) {}), 10U);
    auto routes = dispatcher.route_metrics().routes;
    ASSERT_EQ(routes.size(), 3U);  // the table now: document_to_processing, processing_to_...,
                                   // documents_to_archive
    EXPECT_EQ(dispatcher.metrics().dead_lettered, 0U);
}

}  // namespace
}  // namespace agentstream
