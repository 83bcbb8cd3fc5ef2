// Helpers for runtime tests against the embedded broker: processor options, running a
// processor until a condition holds, and reading a whole topic back.
#pragma once

#include <agentstream/broker/embedded_broker.h>
#include <agentstream/kafka/consumer.h>
#include <agentstream/runtime/processor.h>
#include <fmt/core.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace agentstream::testing {

using namespace std::chrono_literals;

inline runtime::ProcessorOptions processor_options(const broker::EmbeddedBroker& b,
                                                   std::vector<std::string> inputs) {
    runtime::ProcessorOptions o;
    o.name = "test-processor";
    o.inputs = std::move(inputs);
    o.client.brokers = b.bootstrap_servers();
    o.producer_properties = broker::EmbeddedBroker::producer_tuning();
    o.producer_properties.emplace_back("message.max.bytes", "4000000");
    o.consumer_properties = broker::EmbeddedBroker::consumer_tuning();
    o.retry.initial_backoff = 5ms;
    o.retry.max_backoff = 20ms;
    o.retry.max_attempts = 3;
    return o;
}

// A processor's counters, for a failed assertion's message: a wait that timed out says
// whether events were never read, read twice, or stuck in flight.
inline std::string describe(const runtime::ProcessorMetrics& m) {
    return fmt::format(
        "consumed {}, processed {}, unhandled {}, failed {}, dead-lettered {}, in flight {}, "
        "retried {}, backpressure pauses {}, rebalances {}, lag {}, lost {}",
        m.consumed, m.processed, m.unhandled, m.failed, m.dead_lettered, m.in_flight, m.retried,
        m.backpressure_pauses, m.rebalances, m.lag, m.lost);
}

// Runs a service (a processor, the agent service: anything with run() and stop()) on a thread
// until `done()` holds (or a deadline), then stops it. True when it held.
template <class Service, class Done>
bool run_until(Service& p, Done done, std::chrono::seconds limit = 120s) {
    std::thread t([&] { p.run(); });
    auto deadline = std::chrono::steady_clock::now() + limit;
    bool ok = false;
    while (std::chrono::steady_clock::now() < deadline) {
        if (done()) {
            ok = true;
            break;
        }
        std::this_thread::sleep_for(20ms);
    }
    p.stop();
    t.join();
    return ok;
}

// Visits every record of a topic (all partitions, from the start) until `expected` were seen
// or nothing came for 10 s, then a little longer to catch extra records (duplicates). Returns
// the count. (Records are visited, not returned: a Message must not outlive its consumer.)
template <class Visit>
std::size_t read_all(const broker::EmbeddedBroker& b, const std::string& topic, int partitions,
                     std::size_t expected, Visit visit) {
    kafka::ConsumerOptions o;
    o.brokers = b.bootstrap_servers();
    o.properties = broker::EmbeddedBroker::consumer_tuning();
    kafka::Consumer c(o);
    std::vector<kafka::TopicPartition> tps;
    for (int p = 0; p < partitions; ++p) {
        tps.push_back({topic, p});
    }
    c.assign(tps);
    std::size_t n = 0;
    auto quiet_until = std::chrono::steady_clock::now() + 10s;
    while (n < expected && std::chrono::steady_clock::now() < quiet_until) {
        if (auto m = c.poll(100ms)) {
            visit(*m);
            ++n;
            quiet_until = std::chrono::steady_clock::now() + 10s;
        }
    }
    auto extra_until = std::chrono::steady_clock::now() + 500ms;
    while (std::chrono::steady_clock::now() < extra_until) {
        if (auto m = c.poll(50ms)) {
            visit(*m);
            ++n;
        }
    }
    return n;
}

}  // namespace agentstream::testing
