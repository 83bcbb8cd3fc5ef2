// A router hop's latency beside the bare producer → consumer hop, in the same run: events are
// produced at a fixed rate to an input topic; a plain consumer of the input measures each
// event's age on arrival (the bare hop), and a RoutingProcessor with one route forwards them
// to an output topic whose consumer measures the same (the router hop: consume, route,
// produce, consume). The send time travels in a header, read from the same steady clock.
//
//   hop_latency [--brokers HOST:PORT] [--rate 1000] [--seconds 20] [--partitions 8]
//               [--linger-ms 5] [--fetch-wait-ms 100] [--fetch-min-bytes 1] [--cpus LIST]
//
// Client settings apply to every client of the run (the bare consumer, the router's, the
// output's), so each setting is compared against the bare hop under the same setting.
#include <agentstream/broker/embedded_broker.h>
#include <agentstream/config/config.h>
#include <agentstream/core/histogram.h>
#include <agentstream/event/codec.h>
#include <agentstream/event/factory.h>
#include <agentstream/event/record.h>
#include <agentstream/kafka/admin.h>
#include <agentstream/kafka/consumer.h>
#include <agentstream/kafka/producer.h>
#include <agentstream/router/router.h>
#include <agentstream/runtime/routing_processor.h>

#include <fmt/format.h>

#include <atomic>
#include <charconv>
#include <optional>
#include <string>
#include <thread>

#include "load_common.h"

using namespace agentstream;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::string_view SENT = "x-bench-sent-ns";

struct Args {
    std::string brokers;
    double rate = 1000;
    int seconds = 20;
    int partitions = 8;
    int linger_ms = 5;
    int fetch_wait_ms = 100;
    int fetch_min_bytes = 1;
    std::string cpus;
};

std::int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
        .count();
}

kafka::Properties producer_settings(const Args& a) {
    return {{"linger.ms", std::to_string(a.linger_ms)}};
}

kafka::Properties consumer_settings(const Args& a) {
    return {{"fetch.wait.max.ms", std::to_string(a.fetch_wait_ms)},
            {"fetch.min.bytes", std::to_string(a.fetch_min_bytes)}};
}

// Reads `topic` in its own group and records each event's age; counts what it saw.
struct Watcher {
    Histogram ages;
    std::atomic<std::uint64_t> seen{0};
    std::atomic<bool> assigned{false};
    std::atomic<bool> stop{false};
    std::thread thread;

    void start(const Args& a, const std::string& topic, const std::string& group) {
        thread = std::thread([this, &a, topic, group] {
            kafka::ConsumerOptions o;
            o.brokers = a.brokers;
            o.group_id = group;
            o.start_from = kafka::StartFrom::Earliest;
            o.properties = consumer_settings(a);
            o.on_assigned = [this](const auto&) { assigned = true; };
            kafka::Consumer c(o);
            c.subscribe({topic});
            while (!stop.load()) {
                auto m = c.poll(50ms);
                if (!m) {
                    continue;
                }
                auto sent = m->header(SENT);
                std::int64_t ns = 0;
                if (!sent || std::from_chars(sent->data(), sent->data() + sent->size(), ns).ec !=
                                 std::errc()) {
                    continue;
                }
                ages.record(std::chrono::microseconds((now_ns() - ns) / 1000));
                ++seen;
            }
        });
    }
    void join() {
        stop = true;
        thread.join();
    }
};

std::shared_ptr<const router::Router> one_route(const std::string& in, const std::string& out) {
    auto yaml = fmt::format(
        "topics: {{{0}: 1, {1}: 1}}\nroutes:\n  - name: hop\n    source_topics: [{0}]\n"
        "    target_topics: [{1}]\n    event_types: [\"*\"]\n",
        in, out);
    return std::make_shared<const router::Router>(
        router::load_routes(config::Config::parse(yaml, "hop.yaml")));
}

std::string ms(std::uint64_t us) {
    return fmt::format("{:.1f}", static_cast<double>(us) / 1000.0);
}

}  // namespace

int main(int argc, char** argv) {
    Args a;
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        auto next = [&]() -> std::string {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "%s needs a value\n", arg.c_str());
                std::exit(2);
            }
            return argv[++i];
        };
        if (arg == "--brokers") {
            a.brokers = next();
        } else if (arg == "--rate") {
            a.rate = std::stod(next());
        } else if (arg == "--seconds") {
            a.seconds = std::stoi(next());
        } else if (arg == "--partitions") {
            a.partitions = std::stoi(next());
        } else if (arg == "--linger-ms") {
            a.linger_ms = std::stoi(next());
        } else if (arg == "--fetch-wait-ms") {
            a.fetch_wait_ms = std::stoi(next());
        } else if (arg == "--fetch-min-bytes") {
            a.fetch_min_bytes = std::stoi(next());
        } else if (arg == "--cpus") {
            a.cpus = next();
        } else {
            std::fprintf(stderr, "unknown argument %s (see the comment at the top)\n", arg.c_str());
            return 2;
        }
    }
    if (!a.cpus.empty()) {
        bench::pin_to_cpus(a.cpus);
    }
    std::optional<broker::EmbeddedBroker> embedded;
    if (a.brokers.empty()) {
        embedded.emplace();
        a.brokers = embedded->bootstrap_servers();
    }
    auto suffix = std::to_string(::getpid());
    auto in = "hop-in-" + suffix, out = "hop-out-" + suffix;
    {
        kafka::ClientOptions co;
        co.brokers = a.brokers;
        kafka::Admin admin(co);
        admin.create_topic({in, a.partitions, 1});
        admin.create_topic({out, a.partitions, 1});
    }

    runtime::ProcessorOptions po;
    po.name = "hop-router";
    po.group_id = "hop-router-" + suffix;
    po.inputs = {in};
    po.client.brokers = a.brokers;
    po.producer_properties = producer_settings(a);
    po.consumer_properties = consumer_settings(a);
    runtime::RoutingProcessor router(po, one_route(in, out), false);
    std::thread router_thread([&] { router.run(); });
    Watcher bare, routed;
    bare.start(a, in, "hop-bare-" + suffix);
    routed.start(a, out, "hop-out-" + suffix);
    // Load starts once every consumer has its partitions (a first rebalance is no latency).
    auto deadline = Clock::now() + 60s;
    while ((!bare.assigned || !routed.assigned || router.metrics().assigned_partitions == 0) &&
           Clock::now() < deadline) {
        std::this_thread::sleep_for(10ms);
    }

    kafka::ProducerOptions pro;
    pro.brokers = a.brokers;
    pro.properties = producer_settings(a);
    std::uint64_t sent = 0;
    {
        kafka::Producer producer(pro);
        auto e = event::EventFactory::task(event::EventType::TaskCreated, "t", "analysis", "bench");
        auto value = event::encode(e);
        auto headers = event::record_headers(e);
        headers.emplace_back(std::string(SENT), "");
        auto start = Clock::now();
        auto period = std::chrono::duration<double>(1.0 / a.rate);
        auto end = start + std::chrono::seconds(a.seconds);
        while (Clock::now() < end) {
            auto due = start + std::chrono::duration_cast<Clock::duration>(
                                   period * static_cast<double>(sent));
            if (Clock::now() < due) {
                std::this_thread::sleep_until(due);
            }
            headers.back().second = std::to_string(now_ns());
            auto key = fmt::format("k{}", sent % 64);
            if (producer.send(in, key, value, headers).ok()) {
                ++sent;
            }
        }
        producer.flush(30s);
    }
    deadline = Clock::now() + 60s;
    while ((bare.seen < sent || routed.seen < sent) && Clock::now() < deadline) {
        std::this_thread::sleep_for(20ms);
    }
    bare.join();
    routed.join();
    router.stop();
    router_thread.join();

    fmt::print(
        "broker: {}, {} partitions, {} events at {}/s, linger.ms {}, fetch.wait.max.ms {}, "
        "fetch.min.bytes {}\n\n",
        embedded ? "embedded" : a.brokers, a.partitions, sent, a.rate, a.linger_ms, a.fetch_wait_ms,
        a.fetch_min_bytes);
    fmt::print("| hop | events | p50 ms | p99 ms | p99.9 ms |\n|---|---|---|---|---|\n");
    for (auto* w : {&bare, &routed}) {
        fmt::print("| {} | {} | {} | {} | {} |\n",
                   w == &bare ? "producer → consumer" : "producer → router → consumer",
                   w->seen.load(), ms(w->ages.quantile(0.5)), ms(w->ages.quantile(0.99)),
                   ms(w->ages.quantile(0.999)));
    }
    return bare.seen < sent || routed.seen < sent ? 1 : 0;
}
