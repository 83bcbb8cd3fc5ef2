#include <agentstream/core/logging.h>
#include <agentstream/core/time.h>
#include <agentstream/event/codec.h>
#include <agentstream/event/factory.h>
#include <agentstream/event/record.h>
#include <agentstream/kafka/producer.h>
#include <agentstream/runtime/dead_letter.h>
#include <agentstream/runtime/processor.h>
#include <agentstream/runtime/windowed_aggregation.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <charconv>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <tuple>

#include "core/json_escape.h"

namespace agentstream::runtime {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using window::Millis;

constexpr std::string_view POSITION_KEY = "\x01position";
constexpr std::string_view LATE_HEADER = "x-agentstream-late";

std::string number_text(double v) {
    return fmt::format("{}", v);
}

Millis to_millis(Timestamp t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

std::string millis_text(Millis ms) {
    return format_rfc3339(Timestamp(std::chrono::milliseconds(ms)));
}

std::string_view time_window_name(const window::WindowSpec& s) {
    if (s.kind != window::WindowKind::Tumbling && s.kind != window::WindowKind::Hopping) {
        return {};
    }
    if (s.size == 1min) {
        return "1m";
    }
    if (s.size == 5min) {
        return "5m";
    }
    if (s.size == 1h) {
        return "1h";
    }
    if (s.size == std::chrono::hours(24)) {
        return "1d";
    }
    return {};
}

std::string window_label(const window::WindowSpec& s) {
    switch (s.kind) {
        case window::WindowKind::Tumbling: return fmt::format("tumbling {}ms", s.size.count());
        case window::WindowKind::Hopping:
            return fmt::format("hopping {}ms/{}ms", s.size.count(), s.advance.count());
        case window::WindowKind::Sliding: return fmt::format("sliding {}ms", s.size.count());
        case window::WindowKind::Session: return fmt::format("session gap {}ms", s.gap.count());
        case window::WindowKind::Count: return fmt::format("count {}", s.count);
    }
    return {};
}

}  // namespace

struct WindowedAggregation::Impl {
    WindowedAggregationOptions options;
    std::vector<event::TypePattern> types;
    std::shared_ptr<spdlog::logger> log = logger("runtime");
    std::unique_ptr<kafka::Consumer> consumer;
    std::unique_ptr<kafka::Producer> producer;
    std::atomic<bool> stopping{false};

    struct Partition {
        std::vector<std::unique_ptr<window::WindowedAggregator>> windows;
        std::int64_t next_offset = -1;  // after the last record handled
        int checkpoints = 0;
        Clock::time_point last_event = Clock::now();
    };
    std::map<std::int32_t, Partition> partitions;  // polling thread only

    mutable std::mutex metrics_mutex;
    WindowedAggregationMetrics m;
    std::atomic<std::uint64_t> delivery_failures{0};

    explicit Impl(WindowedAggregationOptions o) : options(std::move(o)) {
        if (options.input_topic.empty()) {
            throw std::invalid_argument("windowed aggregation: an input topic is required");
        }
        if (options.key_fields.empty()) {
            throw std::invalid_argument("windowed aggregation: at least one key field");
        }
        if (options.windows.empty()) {
            throw std::invalid_argument("windowed aggregation: at least one window");
        }
        if (options.aggregations.empty()) {
            throw std::invalid_argument("windowed aggregation: at least one aggregation");
        }
        for (const auto& w : options.windows) {
            w.validate();
        }
        for (const auto& t : options.event_types) {
            types.emplace_back(t);
        }
        if (options.group_id.empty()) {
            options.group_id = options.name;
        }
        if (options.output_topic.empty()) {
            throw std::invalid_argument("windowed aggregation: an output topic is required");
        }
        if (options.late_topic.empty()) {
            options.late_topic = options.input_topic + ".late";
        }
        if (options.changelog_topic.empty()) {
            options.changelog_topic = options.name + "-changelog";
        }
        if (options.dead_letter_topic.empty()) {
            options.dead_letter_topic = dead_letter_topic_for(options.input_topic);
        }
        if (options.metric_name.empty()) {
            options.metric_name = options.value_field.empty() ? "events" : options.value_field;
        }
    }

    Partition fresh_partition() const {
        Partition p;
        for (const auto& spec : options.windows) {
            p.windows.push_back(std::make_unique<window::WindowedAggregator>(spec));
        }
        return p;
    }

    // ---- restore ----

    // Reads changelog partition `p` to its end and rebuilds the partition's windows; returns
    // the checkpoint's input position (nullopt when there is none).
    std::optional<std::int64_t> restore(std::int32_t p) {
        auto part = fresh_partition();
        kafka::ConsumerOptions co;
        static_cast<kafka::ClientOptions&>(co) = options.client;
        co.client_id = options.name + "-restore";
        co.properties = options.consumer_properties;
        co.start_from = kafka::StartFrom::Earliest;
        kafka::Consumer reader(co);
        kafka::TopicPartition tp{options.changelog_topic, p};
        // A changelog created moments ago may have no leader yet: asked again until it answers.
        auto restore_deadline = Clock::now() + 60s;
        std::int64_t low = 0, high = 0;
        while (true) {
            try {
                std::tie(low, high) = reader.watermarks(tp, 5s);
                break;
            } catch (const kafka::KafkaError& e) {
                if (Clock::now() > restore_deadline) {
                    throw;
                }
                log->warn("{}: {}; asking again", options.name, e.what());
                std::this_thread::sleep_for(200ms);
            }
        }
        std::optional<std::int64_t> position;
        if (high > low) {
            reader.assign({tp});
            std::vector<std::map<std::string, std::string>> states(part.windows.size());
            // Changes since the last position record: a checkpoint cut short by a crash wrote
            // some key states but not its position, and those states are ahead of the input
            // position; they are dropped (the replay recomputes them).
            std::vector<std::map<std::string, std::optional<std::string>>> pending(
                part.windows.size());
            std::vector<Millis> max_times(part.windows.size(), INT64_MIN);
            auto deadline = Clock::now() + 60s;
            std::int64_t last = low - 1;
            while (last < high - 1) {
                if (Clock::now() > deadline) {
                    throw std::runtime_error(
                        fmt::format("{}: restoring {}[{}] stopped at offset {} of {}", options.name,
                                    options.changelog_topic, p, last, high));
                }
                auto msg = reader.poll(200ms);
                if (!msg) {
                    continue;
                }
                last = msg->offset();
                auto key = msg->key();
                auto value = msg->value();
                if (key == POSITION_KEY) {
                    // "NEXT_OFFSET MAX_TIME_0 MAX_TIME_1 ..."
                    std::vector<std::int64_t> numbers;
                    std::string_view rest = value;
                    while (!rest.empty()) {
                        auto space = rest.find(' ');
                        auto word = rest.substr(0, space);
                        std::int64_t n = 0;
                        std::from_chars(word.data(), word.data() + word.size(), n);
                        numbers.push_back(n);
                        rest = space == std::string_view::npos ? std::string_view()
                                                               : rest.substr(space + 1);
                    }
                    if (!numbers.empty()) {
                        position = numbers[0];
                        for (std::size_t i = 1; i < numbers.size() && i - 1 < max_times.size();
                             ++i) {
                            max_times[i - 1] = numbers[i];
                        }
                    }
                    for (std::size_t i = 0; i < pending.size(); ++i) {
                        for (auto& [name, state] : pending[i]) {
                            if (state) {
                                states[i][name] = std::move(*state);
                            } else {
                                states[i].erase(name);
                            }
                        }
                        pending[i].clear();
                    }
                    continue;
                }
                auto slash = key.find('/');
                std::size_t index = 0;
                if (slash == std::string_view::npos ||
                    std::from_chars(key.data(), key.data() + slash, index).ec != std::errc() ||
                    index >= states.size()) {
                    continue;  // not ours
                }
                auto name = std::string(key.substr(slash + 1));
                if (value.empty()) {
                    pending[index][name] = std::nullopt;  // a tombstone
                } else {
                    pending[index][name] = std::string(value);
                }
            }
            std::size_t dropped = 0;
            for (const auto& p_ : pending) {
                dropped += p_.size();
            }
            if (dropped > 0) {
                log->warn(
                    "{}: {} changelog record(s) of {}[{}] follow its last complete "
                    "checkpoint (cut short by a crash); ignored, the input is replayed",
                    options.name, dropped, options.changelog_topic, p);
            }
            std::uint64_t restored = 0;
            for (std::size_t i = 0; i < states.size(); ++i) {
                for (const auto& [name, state] : states[i]) {
                    if (part.windows[i]->restore_key(name, state)) {
                        ++restored;
                    } else {
                        log->error(
                            "{}: changelog state of '{}' in {}[{}] is unreadable; "
                            "skipped",
                            options.name, name, options.changelog_topic, p);
                    }
                }
                part.windows[i]->restore_max_event_time(max_times[i]);
            }
            std::lock_guard lock(metrics_mutex);
            m.restored_keys += restored;
            log->info(
                "{}: restored {} key(s) of partition {} from {} (records {}..{}), resuming "
                "at offset {}",
                options.name, restored, p, options.changelog_topic, low, high - 1,
                position ? std::to_string(*position) : std::string("committed"));
        }
        part.next_offset = position.value_or(-1);
        partitions[p] = std::move(part);
        return position;
    }

    // ---- processing ----

    void dead_letter(const kafka::Message& msg, const std::string& why) {
        auto letter = make_dead_letter(msg, {ErrorClass::Permanent, why, 1}, options.name,
                                       producer->max_message_bytes());
        send(options.dead_letter_topic, letter.key.value_or(std::string_view()),
             letter.value.value_or(std::string_view()), letter.headers, std::nullopt);
        std::lock_guard lock(metrics_mutex);
        ++m.dead_lettered;
    }

    void send(const std::string& topic, std::string_view key, std::string_view value,
              const kafka::Headers& headers, std::optional<std::int32_t> partition) {
        auto status = producer->send(
            topic, key, value, headers,
            [this](const kafka::DeliveryReport& r) {
                if (!r.ok) {
                    delivery_failures.fetch_add(1);
                    log->error("{}: delivery to {} failed: {}", options.name, r.topic, r.error);
                }
            },
            partition);
        if (!status.ok()) {
            delivery_failures.fetch_add(1);
            log->error("{}: not sent to {}: {}", options.name, topic, status.error().message);
        }
    }

    std::optional<std::string> key_of(const event::Event& e, std::string* missing) const {
        std::string key;
        for (std::size_t i = 0; i < options.key_fields.size(); ++i) {
            const auto& f = options.key_fields[i];
            if (i > 0) {
                key += '|';
            }
            if (auto s = e.string(f)) {
                key += *s;
            } else if (auto n = e.number(f)) {
                key += number_text(*n);
            } else {
                *missing = f;
                return std::nullopt;
            }
        }
        return key;
    }

    void publish(const window::WindowResult& r, std::size_t window_index,
                 const event::Event* sample) {
        const auto& spec = options.windows[window_index];
        auto first = options.aggregations.front();
        std::string service = options.name;
        std::string metric = options.metric_name;
        std::string tags = "{";
        std::vector<std::string_view> key_values;
        {
            std::string_view rest = r.key;
            for (std::size_t i = 0; i < options.key_fields.size(); ++i) {
                auto bar =
                    i + 1 < options.key_fields.size() ? rest.find('|') : std::string_view::npos;
                auto part = rest.substr(0, bar);
                key_values.push_back(part);
                rest = bar == std::string_view::npos ? std::string_view() : rest.substr(bar + 1);
                if (options.key_fields[i] == "service") {
                    service = std::string(part);
                }
                if (options.key_fields[i] == options.metric_name_key_field) {
                    metric = std::string(part);
                }
                if (tags.size() > 1) {
                    tags += ',';
                }
                append_json_string(tags, options.key_fields[i]);
                tags += ':';
                append_json_string(tags, part);
            }
        }
        tags += '}';
        auto label = window_label(spec);
        if (options.on_result) {
            Emitted emitted;
            options.on_result({r, window_index, spec, label, key_values, sample}, emitted);
            for (auto& [topic, e] : emitted) {
                if (sample != nullptr && sample->correlation_id() && !e.correlation_id()) {
                    e.set_correlation_id(sample->correlation_id());
                }
                send(topic, event::record_key(e), event::encode(e), {}, std::nullopt);
            }
        }
        if (!options.publish_results) {
            return;
        }
        std::string dims = "{\"key\":";
        append_json_string(dims, r.key);
        dims += ",\"window\":{\"kind\":";
        append_json_string(dims, window::to_string(spec.kind));
        dims += ",\"label\":";
        append_json_string(dims, label);
        dims += fmt::format(",\"start\":\"{}\",\"end\":\"{}\",\"start_ms\":{},\"end_ms\":{}}}",
                            millis_text(r.start), millis_text(r.end), r.start, r.end);
        dims += fmt::format(",\"final\":{}", r.final ? "true" : "false");
        for (auto kind :
             {window::AggregateKind::Count, window::AggregateKind::Sum, window::AggregateKind::Min,
              window::AggregateKind::Max, window::AggregateKind::Avg}) {
            dims += fmt::format(",\"{}\":{}", window::to_string(kind),
                                number_text(r.aggregate.value(kind)));
        }
        if (r.aggregate.has_percentiles()) {
            for (auto kind : {window::AggregateKind::P50, window::AggregateKind::P95,
                              window::AggregateKind::P99}) {
                dims += fmt::format(",\"{}\":{}", window::to_string(kind),
                                    number_text(r.aggregate.value(kind)));
            }
        }
        if (r.aggregate.has_distinct()) {
            dims += fmt::format(",\"distinct\":{}",
                                number_text(r.aggregate.value(window::AggregateKind::Distinct)));
        }
        dims += '}';
        auto e =
            event::EventFactory::create(event::EventType::AnalyticsReportGenerated, options.name,
                                        {{"metric_name", metric},
                                         {"metric_value", r.aggregate.value(first)},
                                         {"metric_type", "summary"},
                                         {"service", service}});
        if (first != window::AggregateKind::Distinct) {
            e.set("aggregation", std::string(window::to_string(first)));
        }
        if (auto tw = time_window_name(spec); !tw.empty()) {
            e.set("time_window", std::string(tw));
        }
        e.set("tags", event::RawJson{tags});
        e.set("dimensions", event::RawJson{dims});
        if (sample != nullptr && sample->correlation_id()) {
            e.set_correlation_id(sample->correlation_id());
        }
        auto json = event::encode(e);
        send(options.output_topic, event::record_key(e), json, {}, std::nullopt);
        std::lock_guard lock(metrics_mutex);
        ++m.results;
    }

    void handle(const kafka::Message& msg) {
        auto p = msg.partition();
        auto it = partitions.find(p);
        if (it == partitions.end()) {
            it = partitions.emplace(p, fresh_partition()).first;
        }
        auto& part = it->second;
        part.next_offset = msg.offset() + 1;
        part.last_event = Clock::now();
        {
            std::lock_guard lock(metrics_mutex);
            ++m.consumed;
        }
        auto decoded = event::decode(msg.value());
        if (!decoded.ok()) {
            const auto& v = decoded.error();
            dead_letter(msg, v.empty() ? "undecodable" : v.front().message);
            return;
        }
        const auto& e = *decoded;
        if (!types.empty() && std::none_of(types.begin(), types.end(),
                                           [&](const auto& t) { return t.matches(e.type()); })) {
            std::lock_guard lock(metrics_mutex);
            ++m.skipped;
            return;
        }
        std::string missing;
        auto key = key_of(e, &missing);
        if (!key) {
            dead_letter(msg, fmt::format("{}: key field '{}' is missing or not a string or number",
                                         options.name, missing));
            return;
        }
        double value = 1;
        if (!options.value_field.empty()) {
            auto v = e.number(options.value_field);
            if (!v) {
                dead_letter(msg, fmt::format("{}: value field '{}' is missing or not a number",
                                             options.name, options.value_field));
                return;
            }
            value = *v;
        }
        std::uint64_t distinct = 0;
        if (!options.distinct_field.empty()) {
            if (auto s = e.string(options.distinct_field)) {
                distinct = window::distinct_hash(*s);
            }
        }
        auto t = to_millis(e.timestamp());
        std::vector<window::WindowResult> out;
        std::vector<std::string> late_in;
        bool overflow = false;
        for (std::size_t i = 0; i < part.windows.size(); ++i) {
            out.clear();
            auto r = part.windows[i]->add(*key, t, value, out, distinct);
            if (r == window::AddResult::Late) {
                late_in.push_back(window_label(options.windows[i]));
            } else if (r == window::AddResult::Overflow) {
                overflow = true;
            }
            for (const auto& result : out) {
                publish(result, i, &e);
            }
        }
        if (!late_in.empty()) {
            auto headers = msg.headers();
            kafka::Headers h(headers.begin(), headers.end());
            h.emplace_back(std::string(LATE_HEADER),
                           fmt::format("behind the watermark of: {}", fmt::join(late_in, "; ")));
            send(options.late_topic, msg.key(), msg.value(), h, std::nullopt);
        }
        std::lock_guard lock(metrics_mutex);
        m.late += late_in.empty() ? 0 : 1;
        m.overflow += overflow ? 1 : 0;
        m.aggregated += late_in.size() < part.windows.size() ? 1 : 0;
    }

    // ---- checkpoints ----

    // Changelog records for the partitions' changed keys (every key on a full snapshot) and
    // their positions; once all are delivered, the positions are committed as the group's
    // offsets. Returns false (nothing committed) when a delivery failed.
    bool checkpoint(const std::vector<std::int32_t>& which) {
        std::vector<std::pair<std::int32_t, std::int64_t>> positions;
        for (auto p : which) {
            auto it = partitions.find(p);
            if (it == partitions.end() || it->second.next_offset < 0) {
                continue;
            }
            auto& part = it->second;
            bool full = part.checkpoints++ % options.full_snapshot_every == 0;
            std::string times;
            for (std::size_t i = 0; i < part.windows.size(); ++i) {
                auto& w = *part.windows[i];
                auto changed = w.take_changed_keys();
                auto keys = full ? w.keys() : changed;
                if (full) {  // deleted keys too (tombstones)
                    keys.insert(keys.end(), changed.begin(), changed.end());
                    std::sort(keys.begin(), keys.end());
                    keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
                }
                for (const auto& key : keys) {
                    auto state = w.key_state(key);
                    send(options.changelog_topic, fmt::format("{}/{}", i, key),
                         state ? std::string_view(*state) : std::string_view(), {}, p);
                }
                times += fmt::format(" {}", w.max_event_time());
            }
            send(options.changelog_topic, POSITION_KEY,
                 fmt::format("{}{}", part.next_offset, times), {}, p);
            positions.emplace_back(p, part.next_offset);
        }
        if (positions.empty()) {
            return true;
        }
        auto failures = delivery_failures.load();
        if (!producer->flush(30s) || delivery_failures.load() != failures) {
            log->error(
                "{}: checkpoint not written; offsets not committed (the next one "
                "rewrites every key)",
                options.name);
            for (auto& [p, part] : partitions) {
                part.checkpoints = 0;  // the next checkpoint is a full snapshot
            }
            return false;
        }
        for (const auto& [p, offset] : positions) {
            consumer->store_offset({options.input_topic, p}, offset);
        }
        consumer->commit(true);
        std::size_t open = 0;
        std::size_t keys = 0;
        for (const auto& [p, part] : partitions) {
            for (const auto& w : part.windows) {
                open += w->stats().open_windows;
                keys += w->stats().keys;
            }
        }
        std::lock_guard lock(metrics_mutex);
        ++m.checkpoints;
        m.open_windows = open;
        m.keys = keys;
        return true;
    }

    std::vector<std::int32_t> all_partitions() const {
        std::vector<std::int32_t> out;
        for (const auto& [p, part] : partitions) {
            out.push_back(p);
        }
        return out;
    }

    // Partitions quiet for idle_timeout follow the busiest partition's event time.
    void advance_idle() {
        auto now = Clock::now();
        std::vector<window::Millis> most(options.windows.size(), INT64_MIN);
        for (const auto& [p, part] : partitions) {
            for (std::size_t i = 0; i < part.windows.size(); ++i) {
                most[i] = std::max(most[i], part.windows[i]->max_event_time());
            }
        }
        std::vector<window::WindowResult> out;
        for (auto& [p, part] : partitions) {
            if (now - part.last_event < options.idle_timeout) {
                continue;
            }
            for (std::size_t i = 0; i < part.windows.size(); ++i) {
                if (most[i] == INT64_MIN) {
                    continue;
                }
                out.clear();
                part.windows[i]->advance_watermark(
                    most[i] - options.windows[i].out_of_orderness.count(), out);
                for (const auto& r : out) {
                    publish(r, i, nullptr);
                }
            }
        }
    }

    void early_updates() {
        std::vector<window::WindowResult> out;
        for (auto& [p, part] : partitions) {
            for (std::size_t i = 0; i < part.windows.size(); ++i) {
                out.clear();
                part.windows[i]->early_updates(out);
                for (const auto& r : out) {
                    publish(r, i, nullptr);
                }
            }
        }
    }

    void run() {
        kafka::ProducerOptions po;
        static_cast<kafka::ClientOptions&>(po) = options.client;
        po.client_id = options.name;
        po.max_message_bytes = MAX_RECORD_BYTES;
        po.properties = options.producer_properties;
        producer = std::make_unique<kafka::Producer>(po);

        kafka::ConsumerOptions co;
        static_cast<kafka::ClientOptions&>(co) = options.client;
        co.client_id = options.name;
        co.group_id = options.group_id;
        co.properties = options.consumer_properties;
        co.start_from = options.start_from;
        co.start_offset = [this](const kafka::TopicPartition& tp) -> std::optional<std::int64_t> {
            if (tp.topic != options.input_topic) {
                return std::nullopt;
            }
            return restore(tp.partition);
        };
        co.on_revoked = [this](const std::vector<kafka::TopicPartition>& list) {
            std::vector<std::int32_t> which;
            for (const auto& tp : list) {
                which.push_back(tp.partition);
            }
            if (!stopping.load() || options.checkpoint_on_stop) {
                checkpoint(which);
            }
            for (auto p : which) {
                partitions.erase(p);
            }
        };
        consumer = std::make_unique<kafka::Consumer>(co);
        consumer->subscribe({options.input_topic});
        log->info("{}: aggregating {} into {} window(s) by {}", options.name, options.input_topic,
                  options.windows.size(), fmt::join(options.key_fields, ", "));
        auto next_checkpoint = Clock::now() + options.checkpoint_interval;
        auto next_early = Clock::now() + options.early_updates;
        while (!stopping.load()) {
            if (auto msg = consumer->poll(100ms)) {
                handle(*msg);
            }
            auto now = Clock::now();
            if (now >= next_checkpoint) {
                if (options.idle_timeout.count() > 0) {
                    advance_idle();
                }
                checkpoint(all_partitions());
                next_checkpoint = now + options.checkpoint_interval;
            }
            if (options.early_updates.count() > 0 && now >= next_early) {
                early_updates();
                next_early = now + options.early_updates;
            }
        }
        if (options.checkpoint_on_stop) {
            checkpoint(all_partitions());
            consumer->close();
        } else {
            // A simulated crash: no checkpoint, no commit, no goodbye to the group.
            partitions.clear();
        }
        producer->flush(10s);
    }
};

WindowedAggregation::WindowedAggregation(WindowedAggregationOptions options)
    : _impl(std::make_unique<Impl>(std::move(options))) {}

WindowedAggregation::~WindowedAggregation() = default;

void WindowedAggregation::run() {
    _impl->run();
}

void WindowedAggregation::stop() noexcept {
    _impl->stopping.store(true);
}

WindowedAggregationMetrics WindowedAggregation::metrics() const {
    std::lock_guard lock(_impl->metrics_mutex);
    return _impl->m;
}

}  // namespace agentstream::runtime
