// A custom StreamProcessor (design §2): reads input_topic, writes a result per event to
// output_topic. Outputs are produced before the input is committed (at-least-once; exactly-once
// on a real cluster with ProcessorOptions::guarantee); an exception sends the input to the
// dead-letter topic with the reason.
#include <agentstream/broker/embedded_broker.h>
#include <agentstream/event/factory.h>
#include <agentstream/kafka/consumer.h>
#include <agentstream/kafka/producer.h>
#include <agentstream/runtime/dead_letter.h>
#include <agentstream/runtime/processor.h>

#include <fmt/core.h>

#include <chrono>
#include <cstdlib>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
namespace as = agentstream;
using as::event::EventFactory;
using as::event::EventType;

class CustomProcessor : public as::runtime::StreamProcessor {
  public:
    explicit CustomProcessor(const std::string& brokers)
        : StreamProcessor([&] {
              as::runtime::ProcessorOptions o;
              o.name = "custom_processor";
              o.inputs = {"input_topic"};
              o.group_id = "custom_group";
              o.dead_letter_topic = "input_topic.dlq";
              o.client.brokers = brokers;
              return o;
          }()) {}

  protected:
    // Called for each valid event; true when it was handled.
    bool process(const as::event::Event& event, as::runtime::Context& context) override {
        if (event.type() != EventType::DocumentUploaded) {
            return false;
        }
        auto size = event.integer("file_size");
        if (!size) {
            throw as::runtime::PermanentError("an upload without file_size cannot be measured");
        }
        // The result: a metric event caused by the upload.
        auto metric = EventFactory::analytics("uploaded_bytes", *size, "counter",
                                              "custom_processor", "custom_processor", {},
                                              as::event::EnvelopeOptions::caused_by(event));
        context.emit("output_topic", metric);
        return true;
    }
};

int main() {
    as::broker::EmbeddedBroker broker;
    for (const char* topic : {"input_topic", "output_topic", "input_topic.dlq"}) {
        broker.create_topic(topic, 1);
    }
    {
        as::kafka::ProducerOptions po;
        po.brokers = broker.bootstrap_servers();
        as::kafka::Producer producer(po);
        std::vector<as::event::Event> uploads;
        for (int i = 1; i <= 4; ++i) {
            uploads.push_back(EventFactory::document(EventType::DocumentUploaded,
                                                     fmt::format("doc_{}", i), "api",
                                                     {{"file_size", std::int64_t{i * 1000}}}));
        }
        // This one has no size: the processor refuses it.
        uploads.push_back(EventFactory::document(EventType::DocumentUploaded, "doc_x", "api"));
        for (const auto& upload : uploads) {
            if (!producer.send("input_topic", upload).ok()) {
                return EXIT_FAILURE;
            }
        }
        if (!producer.flush(30s)) {
            return EXIT_FAILURE;
        }
    }

    CustomProcessor processor(broker.bootstrap_servers());
    std::thread thread([&] { processor.run(); });
    auto deadline = std::chrono::steady_clock::now() + 60s;
    while (processor.metrics().processed + processor.metrics().dead_lettered < 5 &&
           std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(50ms);
    }
    processor.stop();
    thread.join();

    // What it wrote.
    as::kafka::ConsumerOptions co;
    co.brokers = broker.bootstrap_servers();
    co.commits = false;
    as::kafka::Consumer reader(co);
    reader.assign({{"output_topic", 0}, {"input_topic.dlq", 0}});
    int outputs = 0, dead_letters = 0;
    for (auto quiet = std::chrono::steady_clock::now() + 5s;
         (outputs < 4 || dead_letters < 1) && std::chrono::steady_clock::now() < quiet;) {
        if (auto m = reader.poll(100ms)) {
            if (m->topic() == "output_topic") {
                ++outputs;
                fmt::print("output: {}\n", m->value());
            } else {
                ++dead_letters;
                fmt::print("dead letter: {}\n",
                           m->header(as::runtime::DLQ_ERROR_MESSAGE).value_or("?"));
            }
        }
    }
    return outputs == 4 && dead_letters == 1 ? EXIT_SUCCESS : EXIT_FAILURE;
}
