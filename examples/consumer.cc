// A consumer with a handler per event type (design §2, KafkaConsumer.add_handler): the
// processor runtime reads the topics, decodes and validates each record, calls the handler for
// its type and commits what was handled.
#include <agentstream/broker/embedded_broker.h>
#include <agentstream/event/factory.h>
#include <agentstream/kafka/producer.h>
#include <agentstream/runtime/processor.h>

#include <fmt/core.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <thread>
#include <utility>
#include <vector>

using namespace std::chrono_literals;
namespace as = agentstream;
using as::event::EventFactory;
using as::event::EventType;

int main() {
    as::broker::EmbeddedBroker broker;
    broker.create_topic("documents", 2);
    broker.create_topic("tasks", 2);
    {
        as::kafka::ProducerOptions po;
        po.brokers = broker.bootstrap_servers();
        as::kafka::Producer producer(po);
        std::vector<std::pair<const char*, as::event::Event>> events;
        for (int i = 0; i < 3; ++i) {
            events.emplace_back("documents",
                                EventFactory::document(EventType::DocumentUploaded,
                                                       fmt::format("doc_{}", i), "api"));
        }
        events.emplace_back("tasks", EventFactory::task(EventType::TaskCreated, "task_1",
                                                        "document_analysis", "task_manager"));
        events.emplace_back("tasks", EventFactory::task(EventType::TaskStarted, "task_1",
                                                        "document_analysis", "task_manager"));
        for (const auto& [topic, event] : events) {
            if (!producer.send(topic, event).ok()) {
                return EXIT_FAILURE;
            }
        }
        if (!producer.flush(30s)) {
            return EXIT_FAILURE;
        }
    }

    as::runtime::ProcessorOptions options;
    options.name = "processor";
    options.group_id = "processor_group";
    options.inputs = {"documents", "tasks"};
    options.client.brokers = broker.bootstrap_servers();
    as::runtime::StreamProcessor consumer(options);

    std::atomic<int> documents{0}, tasks{0};
    consumer.on(EventType::DocumentUploaded, [&](const as::event::Event& e, as::runtime::Context&) {
        fmt::print("document uploaded: {}\n", e.string("document_id").value_or("?"));
        ++documents;
    });
    consumer.on(EventType::TaskCreated, [&](const as::event::Event& e, as::runtime::Context&) {
        fmt::print("task created: {}\n", e.string("task_id").value_or("?"));
        ++tasks;
    });
    // task.started has no handler: it is counted as unhandled and committed.

    std::thread thread([&] { consumer.run(); });
    auto deadline = std::chrono::steady_clock::now() + 60s;
    auto seen = [&] {
        auto m = consumer.metrics();
        return m.processed + m.unhandled;
    };
    while (seen() < 5 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(50ms);
    }
    consumer.stop();
    thread.join();
    auto m = consumer.metrics();
    fmt::print("handled {} document(s), {} task(s); {} without a handler\n", documents.load(),
               tasks.load(), m.unhandled);
    return documents == 3 && tasks == 1 && m.unhandled == 1 ? EXIT_SUCCESS : EXIT_FAILURE;
}
