// The producer (design §2): one event, then a batch, with the broker's answer for each.
#include <agentstream/broker/embedded_broker.h>
#include <agentstream/event/factory.h>
#include <agentstream/kafka/producer.h>

#include <fmt/core.h>

#include <chrono>
#include <cstdlib>
#include <future>
#include <vector>

using namespace std::chrono_literals;
namespace as = agentstream;
using as::event::EventFactory;
using as::event::EventType;

int main() {
    as::broker::EmbeddedBroker broker;  // or a real cluster: options.brokers = "host:9092"
    broker.create_topic("documents", 3);

    as::kafka::ProducerOptions options;
    options.brokers = broker.bootstrap_servers();
    as::kafka::Producer producer(options);

    // One event: the result arrives in a callback; a promise turns it into a future.
    auto event =
        EventFactory::document(EventType::DocumentUploaded, "example_doc", "api_service",
                               {{"status", "pending"}, {"file_path", "/uploads/example.pdf"}});
    std::promise<as::kafka::DeliveryReport> sent;
    auto result = sent.get_future();
    auto status = producer.send("documents", event, [&](const as::kafka::DeliveryReport& r) {
        auto copy = r;
        copy.topic = {};  // the view is valid during the callback only
        sent.set_value(copy);
    });
    if (!status.ok()) {  // refused before it was sent (too large, queue full, ...)
        fmt::print(stderr, "not sent: {}\n", status.error().message);
        return EXIT_FAILURE;
    }
    auto report = result.get();
    fmt::print("event sent: {} (partition {}, offset {})\n", report.ok, report.partition,
               report.offset);

    // A batch: a result per event, in the order sent.
    std::vector<as::event::Event> events;
    for (int i = 0; i < 10; ++i) {
        events.push_back(EventFactory::document(EventType::DocumentUploaded,
                                                fmt::format("batch_doc_{}", i), "api_service"));
    }
    std::vector<int> results(events.size(), -1);  // -1 waiting, 0 failed, 1 acknowledged
    for (std::size_t i = 0; i < events.size(); ++i) {
        auto queued = producer.send(
            "documents", events[i],
            [&results, i](const as::kafka::DeliveryReport& r) { results[i] = r.ok ? 1 : 0; });
        if (!queued.ok()) {
            results[i] = 0;
        }
    }
    if (!producer.flush(30s)) {  // every callback has run when it returns true
        return EXIT_FAILURE;
    }
    int acknowledged = 0;
    for (int r : results) {
        acknowledged += r == 1 ? 1 : 0;
    }
    fmt::print("batch: {} of {} acknowledged\n", acknowledged, results.size());
    return report.ok && acknowledged == static_cast<int>(events.size()) ? EXIT_SUCCESS
                                                                        : EXIT_FAILURE;
}
