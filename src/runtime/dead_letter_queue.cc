#include <agentstream/runtime/dead_letter_queue.h>

#include <agentstream/core/time.h>
#include <agentstream/kafka/admin.h>

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <stdexcept>

namespace agentstream::runtime {

using namespace std::chrono_literals;

const std::vector<std::string>& DeadLetterFilter::keys() {
    static const std::vector<std::string> k = {"class", "source-topic", "source-partition",
                                               "processor", "type"};
    return k;
}

DeadLetterFilter DeadLetterFilter::parse(const std::vector<std::string>& items) {
    DeadLetterFilter f;
    for (const auto& item : items) {
        auto eq = item.find('=');
        auto key = item.substr(0, eq);
        if (eq == std::string::npos ||
            std::find(keys().begin(), keys().end(), key) == keys().end()) {
            throw std::invalid_argument(fmt::format("{}: expected KEY=VALUE with KEY one of {}",
                                                    item, fmt::join(keys(), ", ")));
        }
        f.where(key, item.substr(eq + 1));
    }
    return f;
}

DeadLetterFilter& DeadLetterFilter::where(std::string key, std::string value) {
    if (std::find(keys().begin(), keys().end(), key) == keys().end()) {
        throw std::invalid_argument(fmt::format("dead-letter filter: unknown key '{}'; one of {}",
                                                key, fmt::join(keys(), ", ")));
    }
    _conditions.emplace_back(std::move(key), std::move(value));
    return *this;
}

bool DeadLetterFilter::matches(const DeadLetter& d, const kafka::Message& m) const {
    for (const auto& [key, value] : _conditions) {
        std::string actual;
        if (key == "class") {
            actual = d.error_class_text;
        } else if (key == "source-topic") {
            actual = d.source_topic;
        } else if (key == "source-partition") {
            actual = std::to_string(d.source_partition);
        } else if (key == "processor") {
            actual = d.processor;
        } else if (key == "type") {
            actual = std::string(m.header("event_type").value_or(""));
        }
        if (actual != value) {
            return false;
        }
    }
    return true;
}

void read_to_end(const kafka::ClientOptions& admin_options, const kafka::ConsumerOptions& options,
                 const std::string& topic, const std::function<void(const kafka::Message&)>& visit,
                 const std::function<bool()>& stopped, std::chrono::milliseconds idle) {
    kafka::Admin admin(admin_options);
    auto info = admin.describe_topic(topic, false);
    auto co = options;
    co.group_id.clear();
    kafka::Consumer consumer(co);
    std::vector<kafka::TopicPartition> parts;
    for (const auto& p : info.partitions) {
        parts.push_back({topic, p.id});
    }
    consumer.assign(parts);
    std::map<std::int32_t, std::int64_t> ends;
    for (const auto& lag : consumer.query_lag(10s)) {
        if (lag.high_watermark > 0) {
            ends[lag.partition] = lag.high_watermark;
        }
    }
    auto is_stopped = [&] { return stopped && stopped(); };
    auto idle_until = std::chrono::steady_clock::now() + idle;
    while (!ends.empty() && !is_stopped() && std::chrono::steady_clock::now() < idle_until) {
        auto m = consumer.poll(100ms);
        if (!m) {
            continue;
        }
        idle_until = std::chrono::steady_clock::now() + idle;
        auto it = ends.find(m->partition());
        if (it == ends.end() || m->offset() >= it->second) {
            continue;
        }
        visit(*m);
        if (m->offset() + 1 >= it->second) {
            ends.erase(it);
        }
    }
    if (!ends.empty() && !is_stopped()) {
        throw std::runtime_error(
            fmt::format("{}: stopped before the end of {} partition(s): nothing arrived for {} s "
                        "(records deleted by retention?)",
                        topic, ends.size(), idle.count() / 1000));
    }
}

ReplaySummary replay_dead_letters(const kafka::ClientOptions& admin,
                                  const kafka::ConsumerOptions& consumer, kafka::Producer* producer,
                                  const ReplayOptions& o, const std::function<bool()>& stopped) {
    if (producer == nullptr && !o.dry_run) {
        throw std::invalid_argument("replay_dead_letters: a producer is needed unless dry_run");
    }
    ReplaySummary s;
    std::atomic<std::uint64_t> failed{0};
    auto now = format_rfc3339(now_utc());
    read_to_end(
        admin, consumer, o.topic,
        [&](const kafka::Message& m) {
            auto d = read_dead_letter(m);
            if (!o.filter.matches(d, m)) {
                ++s.skipped;
                return;
            }
            if (d.truncated()) {
                ++s.truncated;  // only part of the original: replaying it would pass on a fragment
                return;
            }
            auto destination = o.to.empty() ? d.source_topic : o.to;
            if (destination.empty()) {
                throw NoReplayDestination(fmt::format("{}/{}@{} has no {} header", o.topic,
                                                      m.partition(), m.offset(), DLQ_SOURCE_TOPIC));
            }
            ++s.replayed;
            ++s.by_destination[destination];
            if (o.dry_run) {
                return;
            }
            kafka::Headers headers;
            for (const auto& [name, value] : m.headers()) {
                if (!name.starts_with("x-agentstream-")) {
                    headers.emplace_back(std::string(name), std::string(value));
                }
            }
            headers.emplace_back(REPLAYED_FROM,
                                 fmt::format("{}/{}/{}", o.topic, m.partition(), m.offset()));
            headers.emplace_back(REPLAYED_AT, now);
            auto status = producer->send(
                destination, m.has_key() ? m.key() : std::string_view(),
                m.is_null() ? std::string_view() : m.value(), headers,
                [&failed](const kafka::DeliveryReport& r) { failed += r.ok ? 0 : 1; });
            if (!status.ok()) {
                throw std::runtime_error(status.error().message);
            }
        },
        stopped);
    if (producer != nullptr && !producer->flush(60s)) {
        throw std::runtime_error("replayed events were not all acknowledged within 60 s");
    }
    s.failed = failed.load();
    s.replayed -= std::min(s.replayed, s.failed);
    return s;
}

}  // namespace agentstream::runtime
