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

#include "internal/json_escape.h"
#include "internal/log.h"

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

struct WindowedAggregation::State {
    WindowedAggregationOptions options;
    std::vector<event::TypePattern> types;
    std::shared_ptr<spdlog::logger> log = logger("runtime");
    bool stopping = false;  // on_stopping() was called (processing thread)

    struct Partition {
        std::vector<std::unique_ptr<window::WindowedAggregator>> windows;
        int checkpoints = 0;
        Clock::time_point last_event = Clock::now();
    };
    std::map<std::int32_t, Partition> partitions;  // processing thread only
    Clock::time_point next_idle_check = Clock::now();
    Clock::time_point next_early = Clock::now();

    mutable std::mutex metrics_mutex;
    WindowedAggregationMetrics m;

    explicit State(WindowedAggregationOptions o) : options(std::move(o)) {
        for (const auto& t : options.event_types) {
            types.emplace_back(t);
        }
        next_idle_check = Clock::now() + options.checkpoint_interval;
        next_early = Clock::now() + options.early_updates;
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
                    // Written transactionally, its end holds commit markers and aborted
                    // records that a read_committed reader never receives: its position,
                    // which moves past them, says when the end is reached.
                    bool at_end = false;
                    for (const auto& l : reader.lag()) {
                        at_end = at_end || (l.partition == p && l.position >= high);
                    }
                    if (at_end) {
                        break;
                    }
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
        partitions[p] = std::move(part);
        return position;
    }

    // ---- processing ----

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

    // `out`: the Context of the event that closed the window, or punctuate()'s Emitter.
    template <class Sink>
    void publish(const window::WindowResult& r, std::size_t window_index,
                 const event::Event* sample, Sink& out) {
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
                out.emit(topic, e);
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
        out.emit(options.output_topic, e);
        std::lock_guard lock(metrics_mutex);
        ++m.results;
    }

    void handle(const event::Event& e, Context& ctx) {
        const auto& msg = ctx.record();
        auto p = msg.partition();
        auto it = partitions.find(p);
        if (it == partitions.end()) {
            it = partitions.emplace(p, fresh_partition()).first;
        }
        auto& part = it->second;
        part.last_event = Clock::now();
        std::string missing;
        auto key = key_of(e, &missing);
        if (!key) {
            throw PermanentError(fmt::format(
                "{}: key field '{}' is missing or not a string or number", options.name, missing));
        }
        double value = 1;
        if (!options.value_field.empty()) {
            auto v = e.number(options.value_field);
            if (!v) {
                throw PermanentError(fmt::format("{}: value field '{}' is missing or not a number",
                                                 options.name, options.value_field));
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
        thread_local std::vector<window::WindowResult> out;
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
                publish(result, i, &e, ctx);
            }
        }
        if (!late_in.empty()) {
            auto headers = msg.headers();
            kafka::Headers h(headers.begin(), headers.end());
            h.emplace_back(std::string(LATE_HEADER),
                           fmt::format("behind the watermark of: {}", fmt::join(late_in, "; ")));
            ctx.send(options.late_topic, std::string(msg.key()), std::string(msg.value()),
                     std::move(h));
        }
        std::lock_guard lock(metrics_mutex);
        m.late += late_in.empty() ? 0 : 1;
        m.overflow += overflow ? 1 : 0;
        m.aggregated += late_in.size() < part.windows.size() ? 1 : 0;
    }

    // ---- checkpoints ----

    // The partition's changed keys (every key on a full snapshot) and its position record.
    void write_state(std::int32_t p, std::int64_t next_offset, CheckpointWriter& out) {
        auto it = partitions.find(p);
        if (it == partitions.end()) {
            it = partitions.emplace(p, fresh_partition()).first;
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
                out.write(options.changelog_topic, fmt::format("{}/{}", i, key),
                          state ? std::string_view(*state) : std::string_view(), !state);
            }
            times += fmt::format(" {}", w.max_event_time());
        }
        out.write(options.changelog_topic, POSITION_KEY, fmt::format("{}{}", next_offset, times));
    }

    void checkpoint_done(bool written) {
        if (!written) {
            for (auto& [p, part] : partitions) {
                part.checkpoints = 0;  // the next checkpoint is a full snapshot
            }
            return;
        }
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
    }

    // ---- time ----

    // Partitions quiet for idle_timeout follow the busiest partition's event time.
    void advance_idle(Emitter& sink) {
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
                    publish(r, i, nullptr, sink);
                }
            }
        }
    }

    void early_updates(Emitter& sink) {
        std::vector<window::WindowResult> out;
        for (auto& [p, part] : partitions) {
            for (std::size_t i = 0; i < part.windows.size(); ++i) {
                out.clear();
                part.windows[i]->early_updates(out);
                for (const auto& r : out) {
                    publish(r, i, nullptr, sink);
                }
            }
        }
    }
};

namespace {

// Checks the options and fills in their defaults (before the engine is built from them).
WindowedAggregationOptions normalized(WindowedAggregationOptions options) {
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
    if (options.checkpoint_interval.count() <= 0) {
        throw std::invalid_argument("windowed aggregation: checkpoint_interval must be positive");
    }
    if (options.full_snapshot_every < 1) {
        throw std::invalid_argument("windowed aggregation: full_snapshot_every must be at least 1");
    }
    for (const auto& w : options.windows) {
        w.validate();
    }
    for (const auto& t : options.event_types) {
        event::TypePattern{t};  // throws for a bad pattern
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
    return options;
}

ProcessorOptions engine_options(const WindowedAggregationOptions& o) {
    ProcessorOptions po;
    po.name = o.name;
    po.group_id = o.group_id;
    po.inputs = {o.input_topic};
    po.client = o.client;
    if (po.client.client_id.empty()) {
        po.client.client_id = o.name;
    }
    po.consumer_properties = o.consumer_properties;
    po.producer_properties = o.producer_properties;
    po.producer = o.producer;
    po.start_from = o.start_from;
    po.guarantee = o.guarantee;
    po.dead_letter_topic = o.dead_letter_topic;
    po.checkpoint_interval = o.checkpoint_interval;
    po.workers = 1;
    po.metrics = o.metrics;
    po.tail = o.tail;
    if (o.engine) {
        o.engine(po);
    }
    return po;
}

}  // namespace

WindowedAggregation::WindowedAggregation(WindowedAggregationOptions options)
    : WindowedAggregation(normalized(std::move(options)), 0) {}

WindowedAggregation::WindowedAggregation(WindowedAggregationOptions checked, int)
    : StreamProcessor(engine_options(checked)),
      _state(std::make_unique<State>(std::move(checked))) {
    _state->log->debug("{}: aggregating {} into {} window(s) by {}", _state->options.name,
                       _state->options.input_topic, _state->options.windows.size(),
                       fmt::join(_state->options.key_fields, ", "));
}

WindowedAggregation::~WindowedAggregation() = default;

const WindowedAggregationOptions& WindowedAggregation::aggregation_options() const noexcept {
    return _state->options;
}

WindowedAggregationMetrics WindowedAggregation::aggregation_metrics() const {
    auto engine = metrics();
    std::lock_guard lock(_state->metrics_mutex);
    auto m = _state->m;
    m.consumed = engine.consumed;
    m.dead_lettered = engine.dead_lettered;
    return m;
}

bool WindowedAggregation::process(const event::Event& event, Context& context) {
    auto& s = *_state;
    if (!s.types.empty() && std::none_of(s.types.begin(), s.types.end(),
                                         [&](const auto& t) { return t.matches(event.type()); })) {
        std::lock_guard lock(s.metrics_mutex);
        ++s.m.skipped;
        return false;
    }
    s.handle(event, context);
    return true;
}

std::chrono::milliseconds WindowedAggregation::punctuation_interval() const noexcept {
    const auto& o = _state->options;
    auto every = o.checkpoint_interval;
    if (o.early_updates.count() > 0) {
        every = std::min(every, o.early_updates);
    }
    return every;
}

void WindowedAggregation::punctuate(std::chrono::steady_clock::time_point now, Emitter& out) {
    auto& s = *_state;
    const auto& o = s.options;
    if (o.idle_timeout.count() > 0 && now >= s.next_idle_check) {
        s.advance_idle(out);
        s.next_idle_check = now + o.checkpoint_interval;
    }
    if (o.early_updates.count() > 0 && now >= s.next_early) {
        s.early_updates(out);
        s.next_early = now + o.early_updates;
    }
}

void WindowedAggregation::on_stopping() {
    _state->stopping = true;
}

bool WindowedAggregation::keeps_state() const noexcept {
    return true;
}

std::optional<std::int64_t> WindowedAggregation::restore(const kafka::TopicPartition& input) {
    if (input.topic != _state->options.input_topic) {
        return std::nullopt;
    }
    return _state->restore(input.partition);
}

bool WindowedAggregation::checkpoint(const kafka::TopicPartition& input, std::int64_t next_offset,
                                     CheckpointWriter& out, bool final) {
    auto& s = *_state;
    if (final && s.stopping && !s.options.checkpoint_on_stop) {
        return false;  // a simulated crash: the work since the last checkpoint is abandoned
    }
    s.write_state(input.partition, next_offset, out);
    return true;
}

void WindowedAggregation::checkpoint_done(bool written) {
    _state->checkpoint_done(written);
}

void WindowedAggregation::release(const kafka::TopicPartition& input) {
    _state->partitions.erase(input.partition);
}

}  // namespace agentstream::runtime
