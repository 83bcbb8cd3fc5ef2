// A stream-processing pipeline (design "Stream Processing Pipeline"): the document and task
// processors and a dispatcher with the predefined document routes, started together. An upload
// makes the document processor ask for an analysis task; the task processor tracks it.
#include <agentstream/broker/embedded_broker.h>
#include <agentstream/event/factory.h>
#include <agentstream/kafka/producer.h>
#include <agentstream/processors/tracker_processor.h>
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

int main() {
    as::broker::EmbeddedBroker broker;
    for (const char* topic : {"documents", "document_processing", "analytics", "notifications",
                              "tasks", "alerts", "metrics"}) {
        broker.create_topic(topic, 1);
    }
    auto options = [&](const char* name, const char* input) {
        as::runtime::ProcessorOptions o;
        o.name = name;
        o.inputs = {input};
        o.client.brokers = broker.bootstrap_servers();
        return o;
    };
    as::processors::DocumentStreamProcessor doc_processor(
        options("document_processor", "documents"), as::event::Family::Document, 1s,
        as::processors::DocumentTrackerOptions{});
    as::processors::TaskStreamProcessor task_processor(options("task_processor", "tasks"),
                                                       as::event::Family::Task, 1s,
                                                       as::processors::TaskTrackerOptions{});
    as::runtime::EventDispatcher dispatcher("pipeline_dispatcher",
                                            options("pipeline_dispatcher", "documents"));
    for (const auto& route : as::router::PredefinedRoutes::create_document_processing_routes()) {
        dispatcher.add_route(route);
    }

    std::thread threads[] = {std::thread([&] { doc_processor.run(); }),
                             std::thread([&] { task_processor.run(); }),
                             std::thread([&] { dispatcher.run(); })};

    {
        as::kafka::ProducerOptions po;
        po.brokers = broker.bootstrap_servers();
        as::kafka::Producer producer(po);
        for (int i = 0; i < 5; ++i) {
            auto upload =
                EventFactory::document(EventType::DocumentUploaded, fmt::format("doc_{}", i), "api",
                                       {{"file_path", "/uploads/report.pdf"}});
            if (!producer.send("documents", upload).ok()) {
                return EXIT_FAILURE;
            }
        }
        if (!producer.flush(30s)) {
            return EXIT_FAILURE;
        }
    }

    // Each upload: routed to document_processing, and an analysis task the task processor saw.
    auto deadline = std::chrono::steady_clock::now() + 90s;
    auto done = [&] {
        return task_processor.tracker_stats().created >= 5 && dispatcher.metrics().processed >= 5;
    };
    while (!done() && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(100ms);
    }
    doc_processor.stop();
    task_processor.stop();
    dispatcher.stop();
    for (auto& t : threads) {
        t.join();
    }
    auto docs = doc_processor.tracker_stats();
    auto tasks = task_processor.tracker_stats();
    fmt::print("documents: {} uploaded, {} analysis request(s)\n", docs.uploaded,
               docs.analysis_requests);
    fmt::print("tasks: {} created\n", tasks.created);
    fmt::print("dispatcher: {} routed\n", dispatcher.metrics().processed);
    return done() ? EXIT_SUCCESS : EXIT_FAILURE;
}
