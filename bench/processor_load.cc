// A pass-through processor beside a raw librdkafka consume→produce loop doing the same work in
// the same run, on the embedded broker (default) or a real one (--brokers).
//
//   processor_load [--brokers HOST:PORT] [--events N] [--partitions P] [--rounds R]
//                  [--only SUBSTRING]   (cases whose name contains it, beside the raw loop)
//                  [--threads 1]        (also CPU per event by thread name, means of the rounds)
//                  [--cpus LIST]        (run on those CPUs only; see load_common.h)
//
// The input topic is filled once; each round every case reads all of it in a fresh group and
// writes every record (key, value, headers) to a fresh output topic:
//   raw:           rd_kafka_consumer_poll → rd_kafka_producev (headers copied) → offset stored
//                  at once, committed by auto-commit (the loop most hand-written services use;
//                  it can lose events on a crash, which agentstream's cases cannot)
//   at-least-once: StreamProcessor forwarding; offsets stored only after the output's ack
//   exactly-once:  the same in Kafka transactions (real Kafka only)
//   router:        RoutingProcessor with 20 routes (event-type filter, two field predicates;
//                  fan-out to one topic), at-least-once: "original bytes" forwards each event
//                  as it came; "transforming" adds one transformation per route, so each event
//                  is rewritten by its first matching route and checked against the catalogue
//                  before it is sent (routing.validate_output)
// Timed from the first record consumed to the last output acknowledged (the raw loop's flush).
#include <agentstream/broker/embedded_broker.h>
#include <agentstream/config/config.h>
#include <agentstream/kafka/admin.h>
#include <agentstream/kafka/consumer.h>
#include <agentstream/kafka/producer.h>
#include <agentstream/router/router.h>
#include <agentstream/runtime/processor.h>
#include <agentstream/runtime/routing_processor.h>

#include <librdkafka/rdkafka.h>

#include <fmt/format.h>

#include <atomic>
#include <map>
#include <thread>

#include "load_common.h"

using namespace agentstream;
using namespace agentstream::bench;
using namespace std::chrono_literals;

namespace {

bool g_per_thread = false;

kafka::Properties producer_props() {
    return {{"enable.idempotence", "true"},
            {"acks", "all"},
            {"linger.ms", "5"},
            {"batch.size", "1000000"},
            {"batch.num.messages", "10000"},
            {"compression.codec", "lz4"},
            {"partitioner", "murmur2_random"}};
}

// The raw loop gets the consumer buffer agentstream's consumers have by default (see
// kafka::ConsumerOptions::buffer_records): with librdkafka's own (100k records) a backlogged
// consumer fetches in bursts a second apart, and events/s would compare configurations.
kafka::Properties consumer_props() {
    const kafka::ConsumerOptions defaults;
    return {{"queued.min.messages", std::to_string(defaults.buffer_records)},
            {"queued.max.messages.kbytes", std::to_string(defaults.buffer_bytes / 1024)},
            {"fetch.wait.max.ms", "10"},
            {"session.timeout.ms", "6000"},
            {"heartbeat.interval.ms", "1000"}};
}

Sample raw_pipe(const std::string& brokers, const std::string& in, const std::string& out,
                int partitions, std::uint64_t expected) {
    char err[512];
    rd_kafka_conf_t* pconf = rd_kafka_conf_new();
    rd_kafka_conf_set(pconf, "bootstrap.servers", brokers.c_str(), err, sizeof err);
    for (const auto& [k, v] : producer_props()) {
        rd_kafka_conf_set(pconf, k.c_str(), v.c_str(), err, sizeof err);
    }
    rd_kafka_conf_set_dr_msg_cb(pconf, [](rd_kafka_t*, const rd_kafka_message_t*, void*) {});
    rd_kafka_t* producer = rd_kafka_new(RD_KAFKA_PRODUCER, pconf, err, sizeof err);
    rd_kafka_topic_t* rkt = rd_kafka_topic_new(producer, out.c_str(), nullptr);

    rd_kafka_t* consumer =
        raw_consumer(brokers, "raw-pipe-" + out, in, partitions, consumer_props());

    Window window;
    window.per_thread = g_per_thread;
    std::uint64_t n = 0;
    auto deadline = Clock::now() + 300s;
    while (n < expected && Clock::now() < deadline) {
        rd_kafka_message_t* m = rd_kafka_consumer_poll(consumer, 100);
        if (m == nullptr) {
            continue;
        }
        if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            window.first();
            ++n;
            rd_kafka_headers_t* hdrs = nullptr;
            rd_kafka_headers_t* copy = nullptr;
            if (rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR) {
                copy = rd_kafka_headers_copy(hdrs);
            }
            while (true) {
                auto e = rd_kafka_producev(
                    producer, RD_KAFKA_V_RKT(rkt), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                    RD_KAFKA_V_VALUE(m->payload, m->len), RD_KAFKA_V_KEY(m->key, m->key_len),
                    RD_KAFKA_V_HEADERS(copy), RD_KAFKA_V_END);
                if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                    break;
                }
                rd_kafka_poll(producer, 1);
            }
            rd_kafka_poll(producer, 0);
            rd_kafka_topic_partition_list_t* one = rd_kafka_topic_partition_list_new(1);
            rd_kafka_topic_partition_list_add(one, rd_kafka_topic_name(m->rkt), m->partition)
                ->offset = m->offset + 1;
            rd_kafka_offsets_store(consumer, one);
            rd_kafka_topic_partition_list_destroy(one);
        }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_flush(producer, 120000);
    Sample s = window.end();
    if (g_per_thread) {
        s.threads = window.threads();
    }
    rd_kafka_consumer_close(consumer);
    rd_kafka_destroy(consumer);
    rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(producer);
    expect_count("raw pipe: consumed", n, expected);
    return s;
}

// 20 routes over the four event types of make_events(): five per type, each with two
// predicates every event passes and one transformation.
std::shared_ptr<const router::Router> twenty_routes(const std::string& in, const std::string& out,
                                                    bool transform) {
    const char* types[] = {"document.uploaded", "task.completed", "analytics.metric.update",
                           "system.health"};
    std::string yaml = fmt::format("topics: {{{}: 1, {}: 1}}\nroutes:\n", in, out);
    for (int i = 0; i < 20; ++i) {
        yaml += fmt::format(
            "  - name: route_{0}\n    source_topics: [{1}]\n    target_topics: [{2}]\n"
            "    event_types: [{3}]\n    priority: {0}\n"
            "    filters: {{priority: {{in: [low, medium, high, critical]}}, "
            "source: {{exists: true}}}}\n"
            "{4}",
            i, in, out, types[i % 4],
            transform ? fmt::format("    transformations: [{{add_field: {{path: routed_by, value: "
                                    "route_{}}}}}]\n",
                                    i)
                      : std::string());
    }
    return std::make_shared<const router::Router>(
        router::load_routes(config::Config::parse(yaml, "bench.yaml")));
}

Sample processor_pipe(const std::string& brokers, const std::string& in, const std::string& out,
                      std::uint64_t expected, bool exactly_once, int route = 0) {
    runtime::ProcessorOptions o;
    o.name = "bench-" + out;
    o.inputs = {in};
    o.client.brokers = brokers;
    o.producer_properties = producer_props();
    o.consumer_properties = consumer_props();
    o.guarantee = exactly_once ? runtime::Guarantee::ExactlyOnce : runtime::Guarantee::AtLeastOnce;
    std::unique_ptr<runtime::StreamProcessor> owner;
    if (route) {
        owner = std::make_unique<runtime::RoutingProcessor>(o, twenty_routes(in, out, route == 2));
    } else {
        owner = std::make_unique<runtime::StreamProcessor>(o);
        owner->on("*", [&out](const event::Event&, runtime::Context& ctx) { ctx.forward(out); });
    }
    auto& p = *owner;
    std::thread t([&] {
        pthread_setname_np(pthread_self(), "processor");
        p.run();
    });
    Window window;
    window.per_thread = g_per_thread;
    auto deadline = Clock::now() + 300s;
    while (Clock::now() < deadline) {
        auto m = p.metrics();
        if (m.consumed > 0) {
            window.first();
        }
        if (m.processed >= expected && m.in_flight == 0) {
            break;
        }
        std::this_thread::sleep_for(m.consumed > 0 ? 20ms : 1ms);
    }
    Sample s = window.end();
    if (g_per_thread) {
        s.threads = window.threads();
    }
    p.stop();
    t.join();
    // At least every input event (an aborted transaction's events are processed again).
    auto processed = p.metrics().processed;
    expect_count(fmt::format("processor {}: processed", out), std::min(processed, expected),
                 expected);
    return s;
}

}  // namespace

int main(int argc, char** argv) {
    std::string brokers;
    int events = 300'000;
    int partitions = 0;
    int rounds = 3;
    std::string only;
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
        } else if (a == "--only") {
            only = argv[i + 1];
        } else if (a == "--threads") {
            g_per_thread = std::string(argv[i + 1]) != "0";
        }
    }
    std::unique_ptr<broker::EmbeddedBroker> embedded;
    const bool is_embedded = brokers.empty();
    if (partitions == 0) {
        partitions = is_embedded ? 32 : 8;
    }
    if (is_embedded) {
        embedded = std::make_unique<broker::EmbeddedBroker>();
        brokers = embedded->bootstrap_servers();
    }
    int topic_no = 0;
    auto new_topic = [&] {
        auto name = fmt::format("pipe-{}-{}", ::getpid(), topic_no++);
        if (embedded) {
            embedded->create_topic(name, partitions);
        } else {
            kafka::Admin({.brokers = brokers})
                .create_topic({.name = name, .partitions = partitions});
        }
        return name;
    };
    auto input = new_topic();
    if (embedded) {
        embedded->create_topic(input + ".dlq", 1);
    } else {
        kafka::Admin({.brokers = brokers}).create_topic({.name = input + ".dlq", .partitions = 1});
        std::this_thread::sleep_for(1s);
    }
    {
        kafka::ProducerOptions o;
        o.brokers = brokers;
        o.properties = producer_props();
        kafka::Producer p(o);
        for (const auto& e : make_events(events)) {
            (void)p.send(input, e);
        }
        p.flush(120s);
    }
    auto expected = retained_count(brokers, input, partitions);
    std::map<std::string, std::vector<double>> rate;
    std::map<std::string, std::vector<double>> per_cpu;
    // case → thread name (digits dropped) → µs per event, summed over rounds
    std::map<std::string, std::map<std::string, double>> thread_us;
    auto wanted = [&](const std::string& name) {
        return only.empty() || name.find(only) != std::string::npos;
    };
    auto record = [&](const std::string& name, Sample s) {
        rate[name].push_back(static_cast<double>(expected) / s.seconds);
        per_cpu[name].push_back(static_cast<double>(expected) / std::max(s.cpu_seconds, 1e-9));
        for (const auto& [thread, seconds] : s.threads) {
            std::string group;
            for (char c : thread) {
                if ((c < '0' || c > '9') && c != '-') {
                    group += c;
                }
            }
            thread_us[name][group] += seconds * 1e6 / static_cast<double>(expected);
        }
    };
    for (int r = 0; r < rounds; ++r) {
        record("raw consume→produce", raw_pipe(brokers, input, new_topic(), partitions, expected));
        if (wanted("processor, at-least-once")) {
            record("processor, at-least-once",
                   processor_pipe(brokers, input, new_topic(), expected, false));
        }
        if (!is_embedded && wanted("processor, exactly-once")) {
            record("processor, exactly-once",
                   processor_pipe(brokers, input, new_topic(), expected, true));
        }
        if (wanted("router, 20 routes, original bytes")) {
            record("router, 20 routes, original bytes",
                   processor_pipe(brokers, input, new_topic(), expected, false, 1));
        }
        if (wanted("router, 20 routes, transforming")) {
            record("router, 20 routes, transforming",
                   processor_pipe(brokers, input, new_topic(), expected, false, 2));
        }
    }
    fmt::print("broker: {} ({} partitions), {} events, {} round(s), medians\n\n",
               is_embedded ? "embedded (in this process)" : brokers, partitions, expected, rounds);
    fmt::print(
        "| case | events/s | events per CPU-second | vs raw (events/s) | vs raw (per CPU-s) |\n");
    fmt::print("|---|---|---|---|---|\n");
    const std::string base = "raw consume→produce";
    for (const auto& name :
         {base, std::string("processor, at-least-once"), std::string("processor, exactly-once"),
          std::string("router, 20 routes, original bytes"),
          std::string("router, 20 routes, transforming")}) {
        if (!rate.contains(name)) {
            continue;
        }
        double rt = median(rate[name]);
        double c = median(per_cpu[name]);
        fmt::print("| {} | {:.0f} | {:.0f} | {:.2f} | {:.2f} |\n", name, rt, c,
                   rt / median(rate[base]), c / median(per_cpu[base]));
    }
    if (g_per_thread) {
        fmt::print("\nCPU µs per event by thread (mean of {} round(s); ended threads missing)\n",
                   rounds);
        for (const auto& [name, threads] : thread_us) {
            double total = 0;
            std::string parts;
            for (const auto& [thread, us] : threads) {
                total += us / rounds;
                if (us / rounds >= 0.05) {
                    parts += fmt::format(" {}={:.2f}", thread, us / rounds);
                }
            }
            fmt::print("  {}: {:.2f} µs:{}\n", name, total, parts);
        }
    }
    return exit_status();
}
