// EventDispatcher, EventRoute and PredefinedRoutes (design §3): a route built in code with a
// filter, a transformation and a priority, beside the standard document routes.
#include <agentstream/broker/embedded_broker.h>
#include <agentstream/event/factory.h>
#include <agentstream/kafka/consumer.h>
#include <agentstream/kafka/producer.h>
#include <agentstream/router/predefined.h>
#include <agentstream/runtime/event_dispatcher.h>

#include <fmt/core.h>

#include <chrono>
#include <cstdlib>
#include <thread>

using namespace std::chrono_literals;
namespace as = agentstream;
using as::event::EventFactory;
using as::event::EventType;
using as::router::EventRoute;
using as::router::PredefinedRoutes;
using as::runtime::EventDispatcher;

int main() {
    as::broker::EmbeddedBroker broker;
    for (const char* topic :
         {"documents", "processing", "analytics", "document_processing", "notifications", "metrics",
          "tasks", "agents", "alerts", "agent_monitoring", "documents.dlq"}) {
        broker.create_topic(topic, 1);
    }

    as::runtime::ProcessorOptions options;  // the inputs are the routes' source topics
    options.client.brokers = broker.bootstrap_servers();
    options.dead_letter_topic = "documents.dlq";
    EventDispatcher dispatcher("main_dispatcher", options);

    EventRoute route;
    route.name = "documents_to_processing";
    route.source_topics = {"documents"};
    route.target_topics = {"processing", "analytics"};
    route.event_types = {as::event::TypePattern("document.uploaded")};
    as::router::Filter pending;  // filters={"status": "pending"}
    pending.kind = as::router::Filter::Kind::Test;
    pending.test =
        as::router::make_predicate("status", as::router::Op::Eq, {std::string("pending")});
    route.filter = pending;
    route.transformations = {as::router::add_routing_metadata()};
    route.priority = 10;
    dispatcher.add_route(route);

    // The standard routes (their sources: documents, document_processing, tasks, agents,
    // notifications, analytics).
    for (const auto& r : PredefinedRoutes::create_document_processing_routes()) {
        dispatcher.add_route(r);
    }
    for (const auto& r : dispatcher.routes()) {
        fmt::print("route {} (priority {})\n", r.name, r.priority);
    }

    {
        as::kafka::ProducerOptions po;
        po.brokers = broker.bootstrap_servers();
        as::kafka::Producer producer(po);
        for (const char* status : {"pending", "processing"}) {
            auto upload =
                EventFactory::document(EventType::DocumentUploaded, fmt::format("doc_{}", status),
                                       "api", {{"status", status}});
            if (!producer.send("documents", upload).ok()) {
                return EXIT_FAILURE;
            }
        }
        if (!producer.flush(30s)) {
            return EXIT_FAILURE;
        }
    }

    std::thread thread([&] { dispatcher.run(); });
    as::kafka::ConsumerOptions co;
    co.brokers = broker.bootstrap_servers();
    co.commits = false;
    as::kafka::Consumer reader(co);
    reader.assign({{"processing", 0}});
    int routed = 0;
    for (auto deadline = std::chrono::steady_clock::now() + 60s;
         routed < 1 && std::chrono::steady_clock::now() < deadline;) {
        if (auto m = reader.poll(100ms)) {
            fmt::print("processing <- {}\n", m->value());
            ++routed;
        }
    }
    std::this_thread::sleep_for(500ms);  // a second copy would be a bug: look for one
    while (auto m = reader.poll(100ms)) {
        ++routed;
    }
    dispatcher.stop();
    thread.join();
    for (const auto& r : dispatcher.route_metrics().routes) {
        fmt::print("{}: matched {}, filtered out {}\n", r.name, r.matched, r.filtered_out);
    }
    return routed == 1 ? EXIT_SUCCESS : EXIT_FAILURE;  // only the pending upload
}
