// Helpers for transport tests: numbered events, and a collector that checks count and order.
#pragma once

#include <agentstream/broker/embedded_broker.h>
#include <agentstream/event/codec.h>
#include <agentstream/event/factory.h>
#include <agentstream/kafka/consumer.h>
#include <agentstream/kafka/producer.h>

#include <chrono>
#include <functional>
#include <map>
#include <set>
#include <string>

namespace agentstream::testing {

/// A producer of the embedded broker `b`, tuned as its tests are.
inline kafka::ProducerOptions producer_options(const broker::EmbeddedBroker& b) {
    kafka::ProducerOptions o;
    o.brokers = b.bootstrap_servers();
    o.properties = broker::EmbeddedBroker::producer_tuning();
    return o;
}

/// task.started for task `task-<key>`, carrying its global number `n` and per-key number `seq`
/// as extra fields.
inline event::Event numbered_event(int key, std::int64_t n, std::int64_t seq) {
    auto e = event::EventFactory::task(event::EventType::TaskStarted, "task-" + std::to_string(key),
                                       "document_analysis", "test");
    e.set_extra("n", event::RawJson{std::to_string(n)});
    e.set_extra("seq", event::RawJson{std::to_string(seq)});
    return e;
}

/// Records what a consumer saw: distinct numbers, duplicates, and per-key order violations.
struct Collector {
    std::set<std::int64_t> seen;
    std::uint64_t received = 0;
    std::uint64_t duplicates = 0;
    std::uint64_t out_of_order = 0;
    std::uint64_t undecodable = 0;
    std::map<std::string, std::int64_t> last_seq;

    void add(const kafka::Message& m) {
        ++received;
        auto e = event::decode(m.value());
        if (!e) {
            ++undecodable;
            return;
        }
        std::int64_t n = -1;
        std::int64_t seq = -1;
        for (const auto& [name, raw] : e->extra_fields()) {
            if (name == "n") {
                n = std::stoll(raw.text);
            } else if (name == "seq") {
                seq = std::stoll(raw.text);
            }
        }
        if (!seen.insert(n).second) {
            ++duplicates;
        }
        std::string key(m.key());
        auto it = last_seq.find(key);
        // At-least-once redelivery may repeat a suffix; order means never going back further
        // than what a redelivery explains, so track strictly new maxima only.
        if (it != last_seq.end() && seq <= it->second) {
            if (seq < it->second && duplicates == 0) {
                ++out_of_order;
            }
            return;
        }
        if (it != last_seq.end() && seq != it->second + 1) {
            ++out_of_order;  // a gap: an earlier event of this key came after a later one
        }
        last_seq[key] = seq;
    }
};

/// Polls until `done()` or `timeout`, adding each message to `collector` and storing offsets.
inline void consume_until(kafka::Consumer& consumer, Collector& collector,
                          const std::function<bool()>& done, std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done() && std::chrono::steady_clock::now() < deadline) {
        if (auto m = consumer.poll(std::chrono::milliseconds(100))) {
            collector.add(*m);
            consumer.store_offset(*m);
        }
    }
}

}  // namespace agentstream::testing
