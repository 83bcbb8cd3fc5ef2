// Client configuration (design "Kafka Configuration"): the settings of the KafkaConfig sample
// on agentstream's options. Typed fields cover the common ones; `properties` passes any other
// librdkafka setting through
// (https://github.com/confluentinc/librdkafka/blob/master/CONFIGURATION.md).
#include <agentstream/broker/embedded_broker.h>
#include <agentstream/event/codec.h>
#include <agentstream/event/factory.h>
#include <agentstream/kafka/consumer.h>
#include <agentstream/kafka/producer.h>

#include <fmt/core.h>

#include <chrono>
#include <cstdlib>

using namespace std::chrono_literals;
namespace as = agentstream;

int main() {
    as::broker::EmbeddedBroker broker;  // bootstrap_servers="localhost:9092" on a real cluster
    broker.create_topic("topic", 1);

    as::kafka::ClientOptions client;
    client.brokers = broker.bootstrap_servers();
    client.properties = {{"security.protocol", "plaintext"}};

    as::kafka::ProducerOptions producer_options;
    static_cast<as::kafka::ClientOptions&>(producer_options) = client;
    producer_options.acks = "all";
    producer_options.max_retries = 3;
    producer_options.batch_size = 16384;
    as::kafka::Producer producer(producer_options);

    as::kafka::ConsumerOptions consumer_options;
    static_cast<as::kafka::ClientOptions&>(consumer_options) = client;
    consumer_options.group_id = "group_id";
    consumer_options.start_from = as::kafka::StartFrom::Earliest;  // auto_offset_reset
    // enable_auto_commit=False: offsets are stored after an event is handled and committed by
    // the consumer (periodically, and at close); nothing is committed before it is handled.
    // max_poll_records has no librdkafka equivalent: poll() returns one record at a time from
    // a prefetched buffer (buffer_records bounds it).
    consumer_options.buffer_records = 100;
    as::kafka::Consumer consumer(consumer_options);
    consumer.subscribe({"topic"});

    auto event = as::event::EventFactory::task(as::event::EventType::TaskCreated, "task_001",
                                               "document_analysis", "task_manager");
    if (!producer.send("topic", event).ok() || !producer.flush(30s)) {
        fmt::print(stderr, "not sent\n");
        return EXIT_FAILURE;
    }
    for (auto deadline = std::chrono::steady_clock::now() + 60s;
         std::chrono::steady_clock::now() < deadline;) {
        if (auto m = consumer.poll(100ms)) {
            auto back = as::event::decode(m->value());
            fmt::print("read {} at offset {}\n",
                       back.ok() ? as::event::to_string(back.value().type()) : "garbage",
                       m->offset());
            consumer.store_offset(*m);
            consumer.commit();
            consumer.close();
            return back.ok() ? EXIT_SUCCESS : EXIT_FAILURE;
        }
    }
    fmt::print(stderr, "nothing read\n");
    return EXIT_FAILURE;
}
