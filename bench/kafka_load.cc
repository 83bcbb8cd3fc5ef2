// Produce and consume load: agentstream's Producer / Consumer beside raw librdkafka doing the
// same work in the same run, on the embedded broker (default) or a real one (--brokers).
//
//   kafka_load [--brokers HOST:PORT] [--events N] [--partitions P] [--rounds R] [--cpus LIST]
//
// Each round runs, on fresh topics: raw produce, agentstream produce (pre-encoded bytes, same
// key and headers), agentstream produce of Event objects (encoding included), raw consume,
// agentstream consume (offsets stored per event in both). Reports events/s and events per
// CPU-second of this process (getrusage; with the embedded broker the broker's own CPU is in
// it too), medians over the rounds, and agentstream / raw ratios.
#include <agentstream/broker/embedded_broker.h>
#include <agentstream/event/codec.h>
#include <agentstream/event/factory.h>
#include <agentstream/event/record.h>
#include <agentstream/kafka/admin.h>
#include <agentstream/kafka/consumer.h>
#include <agentstream/kafka/producer.h>

#include <librdkafka/rdkafka.h>
#include <sys/resource.h>

#include <fmt/format.h>

#include "load_common.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <map>
#include <string>
#include <thread>
#include <vector>

using namespace agentstream;
using namespace std::chrono_literals;
using namespace agentstream::bench;

namespace {

struct Record {
    std::string key;
    std::string value;
    kafka::Headers headers;
};

// The same client settings for raw and agentstream clients.
kafka::Properties producer_props(bool embedded) {
    kafka::Properties p = {{"enable.idempotence", "true"},
                           {"acks", "all"},
                           {"linger.ms", "5"},
                           {"batch.size", "1000000"},
                           {"batch.num.messages", "10000"},
                           {"compression.codec", "lz4"},
                           {"queue.buffering.max.messages", "100000"},
                           {"partitioner", "murmur2_random"}};
    (void)embedded;
    return p;
}

void raw_produce(const std::string& brokers, const std::string& topic,
                 const std::vector<Record>& records) {
    char err[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", brokers.c_str(), err, sizeof err);
    for (const auto& [k, v] : producer_props(false)) {
        rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof err);
    }
    static std::atomic<std::uint64_t> delivered;
    delivered = 0;
    rd_kafka_conf_set_dr_msg_cb(conf, [](rd_kafka_t*, const rd_kafka_message_t* m, void*) {
        if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            delivered.fetch_add(1, std::memory_order_relaxed);
        }
    });
    rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
    for (const auto& r : records) {
        rd_kafka_headers_t* hdrs = rd_kafka_headers_new(r.headers.size());
        for (const auto& [name, v] : r.headers) {
            rd_kafka_header_add(hdrs, name.data(), static_cast<ssize_t>(name.size()), v.data(),
                                static_cast<ssize_t>(v.size()));
        }
        while (true) {
            auto e = rd_kafka_producev(
                rk, RD_KAFKA_V_RKT(rkt), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                RD_KAFKA_V_VALUE(const_cast<char*>(r.value.data()), r.value.size()),
                RD_KAFKA_V_KEY(r.key.data(), r.key.size()), RD_KAFKA_V_HEADERS(hdrs),
                RD_KAFKA_V_END);
            if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                break;
            }
            rd_kafka_poll(rk, 1);
        }
        rd_kafka_poll(rk, 0);
    }
    rd_kafka_flush(rk, 120000);
    rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(rk);
    expect_count("raw produce: delivered", delivered.load(), records.size());
}

void agentstream_produce(const std::string& brokers, const std::string& topic,
                         const std::vector<Record>& records) {
    kafka::ProducerOptions o;
    o.brokers = brokers;
    o.properties = producer_props(false);
    kafka::Producer p(o);
    for (const auto& r : records) {
        (void)p.send(topic, r.key, r.value, r.headers);
    }
    p.flush(120s);
    expect_count("agentstream produce (bytes): delivered", p.stats()[topic].sent, records.size());
}

void agentstream_produce_events(const std::string& brokers, const std::string& topic,
                                const std::vector<event::Event>& events) {
    kafka::ProducerOptions o;
    o.brokers = brokers;
    o.properties = producer_props(false);
    kafka::Producer p(o);
    for (const auto& e : events) {
        (void)p.send(topic, e);
    }
    p.flush(120s);
    expect_count("agentstream produce (Event): delivered", p.stats()[topic].sent, events.size());
}

kafka::Properties consumer_props() {
    return {{"fetch.wait.max.ms", "10"}, {"session.timeout.ms", "6000"}};
}

std::uint64_t raw_consume(const std::string& brokers, const std::string& topic, int partitions,
                          std::uint64_t expected, Window& window) {
    rd_kafka_t* rk = raw_consumer(brokers, "raw-" + topic, topic, partitions, consumer_props());
    std::uint64_t n = 0;
    auto deadline = Clock::now() + 120s;
    while (n < expected && Clock::now() < deadline) {
        rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 100);
        if (m == nullptr) {
            continue;
        }
        if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            window.first();
            ++n;
            rd_kafka_topic_partition_list_t* one = rd_kafka_topic_partition_list_new(1);
            rd_kafka_topic_partition_list_add(one, rd_kafka_topic_name(m->rkt), m->partition)
                ->offset = m->offset + 1;
            rd_kafka_offsets_store(rk, one);
            rd_kafka_topic_partition_list_destroy(one);
        }
        rd_kafka_message_destroy(m);
    }
    window.result = window.end();
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return n;
}

std::uint64_t agentstream_consume(const std::string& brokers, const std::string& topic,
                                  int partitions, std::uint64_t expected, Window& window) {
    kafka::ConsumerOptions o;
    o.brokers = brokers;
    o.group_id = "as-" + topic;
    o.properties = consumer_props();
    kafka::Consumer c(o);
    std::vector<kafka::TopicPartition> parts;
    for (int p = 0; p < partitions; ++p) {
        parts.push_back({topic, p});
    }
    c.assign(parts);
    std::uint64_t n = 0;
    auto deadline = Clock::now() + 120s;
    while (n + c.stats().lost < expected && Clock::now() < deadline) {
        if (auto m = c.poll(100ms)) {
            window.first();
            ++n;
            c.store_offset(*m);
        }
    }
    window.result = window.end();
    if (c.stats().lost > 0) {
        fmt::print(stderr, "agentstream consume: {} event(s) lost to the broker's retention\n",
                   c.stats().lost);
    }
    return n;
}

}  // namespace

int main(int argc, char** argv) {
    std::string brokers;
    int events = 300'000;
    int partitions = 0;
    int rounds = 3;
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string a = argv[i];
        if (a == "--brokers") {
            brokers = argv[i + 1];
        } else if (a == "--events") {
            events = std::stoi(argv[i + 1]);
        } else if (a == "--partitions") {
            partitions = std::stoi(argv[i + 1]);
        } else if (a == "--rounds") {
            rounds = std::stoi(argv[i + 1]);
        } else if (a == "--cpus") {
            pin_to_cpus(argv[i + 1]);
        }
    }
    std::unique_ptr<broker::EmbeddedBroker> embedded;
    bool is_embedded = brokers.empty();
    if (partitions == 0) {
        partitions = is_embedded ? 32 : 8;  // the mock keeps 5 MiB per partition
    }
    if (is_embedded) {
        embedded = std::make_unique<broker::EmbeddedBroker>();
        brokers = embedded->bootstrap_servers();
    }
    auto all_events = make_events(events);
    std::vector<Record> records;
    std::size_t bytes = 0;
    for (const auto& e : all_events) {
        records.push_back({event::record_key(e), event::encode(e), event::record_headers(e)});
        bytes += records.back().value.size();
    }
    std::map<std::string, std::vector<double>> rate;
    std::map<std::string, std::vector<double>> per_cpu;
    auto record = [&](const std::string& name, Sample s, std::uint64_t n) {
        rate[name].push_back(static_cast<double>(n) / s.seconds);
        per_cpu[name].push_back(static_cast<double>(n) / std::max(s.cpu_seconds, 1e-9));
    };
    int topic_no = 0;
    auto new_topic = [&] {
        auto name = fmt::format("load-{}-{}", ::getpid(), topic_no++);
        if (embedded) {
            embedded->create_topic(name, partitions);
        } else {
            kafka::Admin({.brokers = brokers})
                .create_topic({.name = name, .partitions = partitions});
            std::this_thread::sleep_for(1s);
        }
        return name;
    };
    for (int r = 0; r < rounds; ++r) {
        auto t1 = new_topic();
        auto t2 = new_topic();
        auto t3 = new_topic();
        // Warm metadata for each topic out of the measurement.
        record("produce raw librdkafka", measure([&] { raw_produce(brokers, t1, records); }),
               records.size());
        record("produce agentstream (bytes)",
               measure([&] { agentstream_produce(brokers, t2, records); }), records.size());
        record("produce agentstream (Event, encode included)",
               measure([&] { agentstream_produce_events(brokers, t3, all_events); }),
               records.size());
        auto retained = retained_count(brokers, t1, partitions);
        if (retained != records.size()) {
            fmt::print(stderr, "topic {}: the broker kept {} of {} events (retention)\n", t1,
                       retained, records.size());
        }
        std::uint64_t got = 0;
        Window raw_window;
        Sample s{};
        {
            got = raw_consume(brokers, t1, partitions, retained, raw_window);
            s = raw_window.result;
        }
        record("consume raw librdkafka", s, got);
        expect_count("raw consume: read", got, retained);
        Window as_window;
        {
            got = agentstream_consume(brokers, t1, partitions, retained, as_window);
            s = as_window.result;
        }
        record("consume agentstream", s, got);
        expect_count("agentstream consume: read", got, retained);
    }
    fmt::print(
        "broker: {} ({} partitions), {} events of {:.0f} bytes on average, {} round(s), "
        "medians\n\n",
        is_embedded ? "embedded (in this process)" : brokers, partitions, events,
        static_cast<double>(bytes) / events, rounds);
    fmt::print(
        "| case | events/s | events per CPU-second | vs raw (events/s) | vs raw (per CPU-s) |\n");
    fmt::print("|---|---|---|---|---|\n");
    auto line = [&](const std::string& name, const std::string& base) {
        double r = median(rate[name]);
        double c = median(per_cpu[name]);
        double rb = median(rate[base]);
        double cb = median(per_cpu[base]);
        fmt::print("| {} | {:.0f} | {:.0f} | {:.2f} | {:.2f} |\n", name, r, c, r / rb, c / cb);
    };
    line("produce raw librdkafka", "produce raw librdkafka");
    line("produce agentstream (bytes)", "produce raw librdkafka");
    line("produce agentstream (Event, encode included)", "produce raw librdkafka");
    line("consume raw librdkafka", "consume raw librdkafka");
    line("consume agentstream", "consume raw librdkafka");
    return exit_status();
}
