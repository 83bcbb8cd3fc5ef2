#include <agentstream/router/router.h>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <re2/re2.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <functional>
#include <map>
#include <set>
#include <stdexcept>

#include "router/json_doc.h"

namespace agentstream::router {
namespace {

using detail::JsonDocument;
using detail::JsonKind;
using detail::JsonValue;
using detail::Lookup;

enum class Outcome : std::uint8_t { Match, NoMatch, Missing, Mismatch };
enum class Compare : std::uint8_t { Equal, Different, Mismatch };

// Per-thread scratch: a document for filters, one for transformations, buffers, and the
// lookups of this event's paths (one per distinct path, shared by every route testing it).
struct Scratch {
    struct Cached {
        std::uint64_t generation = 0;
        Lookup result = Lookup::Missing;
        JsonValue value;
    };
    JsonDocument filter_doc;
    JsonDocument edit_doc;
    std::string text;
    std::string text2;
    std::vector<JsonValue> items;
    std::vector<Cached> lookups;
    std::uint64_t generation = 0;
};

Scratch& scratch() {
    thread_local Scratch s;
    return s;
}

Compare compare(const JsonValue& v, const Scalar& operand, std::string& buffer) {
    switch (operand.index()) {
        case 0: return v.kind == JsonKind::Null ? Compare::Equal : Compare::Different;
        case 1: {
            if (v.kind != JsonKind::Bool) {
                return Compare::Mismatch;
            }
            bool actual = v.raw == "true";
            return actual == std::get<bool>(operand) ? Compare::Equal : Compare::Different;
        }
        case 2: {
            if (v.kind != JsonKind::Number) {
                return Compare::Mismatch;
            }
            auto n = detail::number_value(v.raw);
            if (!n) {
                return Compare::Mismatch;
            }
            return *n == std::get<double>(operand) ? Compare::Equal : Compare::Different;
        }
        default: {
            if (v.kind != JsonKind::String) {
                return Compare::Mismatch;
            }
            auto content = detail::string_content(v.raw, buffer);
            if (!content) {
                return Compare::Mismatch;
            }
            return *content == std::get<std::string>(operand) ? Compare::Equal : Compare::Different;
        }
    }
}

// -1, 0, 1, or nullopt when the types do not order together.
std::optional<int> order(const JsonValue& v, const Scalar& operand, std::string& buffer) {
    if (const auto* number = std::get_if<double>(&operand)) {
        if (v.kind != JsonKind::Number) {
            return std::nullopt;
        }
        auto n = detail::number_value(v.raw);
        if (!n) {
            return std::nullopt;
        }
        return *n < *number ? -1 : (*n > *number ? 1 : 0);
    }
    const auto* text = std::get_if<std::string>(&operand);
    if (text == nullptr || v.kind != JsonKind::String) {
        return std::nullopt;
    }
    auto content = detail::string_content(v.raw, buffer);
    if (!content) {
        return std::nullopt;
    }
    int c = content->compare(*text);
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

Lookup find(const Predicate& p, JsonDocument& doc, Scratch& s, JsonValue& v) {
    if (p.path_slot >= s.lookups.size()) {
        s.lookups.resize(p.path_slot + 1);
    }
    auto& cached = s.lookups[p.path_slot];
    if (cached.generation != s.generation) {
        cached.result = doc.find(p.path.segments(), cached.value);
        cached.generation = s.generation;
    }
    v = cached.value;
    return cached.result;
}

Outcome test(const Predicate& p, JsonDocument& doc, Scratch& s) {
    JsonValue v;
    auto found = find(p, doc, s, v);
    if (p.op == Op::Exists) {
        bool present = found == Lookup::Found && v.kind != JsonKind::Null;
        return present == std::get<bool>(p.operands.front()) ? Outcome::Match : Outcome::NoMatch;
    }
    if (found != Lookup::Found) {
        return Outcome::Missing;
    }
    switch (p.op) {
        case Op::Eq:
        case Op::Ne: {
            auto c = compare(v, p.operands.front(), s.text);
            if (c == Compare::Mismatch) {
                return Outcome::Mismatch;
            }
            return (c == Compare::Equal) == (p.op == Op::Eq) ? Outcome::Match : Outcome::NoMatch;
        }
        case Op::In:
        case Op::NotIn: {
            bool comparable = false;
            for (const auto& operand : p.operands) {
                auto c = compare(v, operand, s.text);
                if (c == Compare::Equal) {
                    return p.op == Op::In ? Outcome::Match : Outcome::NoMatch;
                }
                comparable = comparable || c == Compare::Different;
            }
            if (!comparable) {
                return Outcome::Mismatch;
            }
            return p.op == Op::In ? Outcome::NoMatch : Outcome::Match;
        }
        case Op::Gt:
        case Op::Gte:
        case Op::Lt:
        case Op::Lte: {
            auto o = order(v, p.operands.front(), s.text);
            if (!o) {
                return Outcome::Mismatch;
            }
            bool ok = p.op == Op::Gt    ? *o > 0
                      : p.op == Op::Gte ? *o >= 0
                      : p.op == Op::Lt  ? *o < 0
                                        : *o <= 0;
            return ok ? Outcome::Match : Outcome::NoMatch;
        }
        case Op::Regex:
        case Op::Prefix: {
            if (v.kind != JsonKind::String) {
                return Outcome::Mismatch;
            }
            auto content = detail::string_content(v.raw, s.text);
            if (!content) {
                return Outcome::Mismatch;
            }
            bool ok = p.op == Op::Regex
                          ? RE2::PartialMatch(re2::StringPiece(content->data(), content->size()),
                                              *p.regex)
                          : content->starts_with(std::get<std::string>(p.operands.front()));
            return ok ? Outcome::Match : Outcome::NoMatch;
        }
        case Op::Contains: {
            const Scalar& operand = p.operands.front();
            if (v.kind == JsonKind::String) {
                const auto* needle = std::get_if<std::string>(&operand);
                auto content = detail::string_content(v.raw, s.text);
                if (needle == nullptr || !content) {
                    return Outcome::Mismatch;
                }
                return content->find(*needle) != std::string_view::npos ? Outcome::Match
                                                                        : Outcome::NoMatch;
            }
            if (v.kind != JsonKind::Array || !doc.elements(v, s.items)) {
                return Outcome::Mismatch;
            }
            for (const auto& item : s.items) {
                if (compare(item, operand, s.text2) == Compare::Equal) {
                    return Outcome::Match;
                }
            }
            return Outcome::NoMatch;
        }
        default: return Outcome::NoMatch;
    }
}

struct Evaluation {
    std::uint32_t missing = 0;
    std::uint32_t mismatched = 0;
};

bool evaluate(const Filter& f, JsonDocument& doc, Scratch& s, Evaluation& e) {
    switch (f.kind) {
        case Filter::Kind::All:
            for (const auto& child : f.children) {
                if (!evaluate(child, doc, s, e)) {
                    return false;
                }
            }
            return true;
        case Filter::Kind::Any:
            for (const auto& child : f.children) {
                if (evaluate(child, doc, s, e)) {
                    return true;
                }
            }
            return false;
        case Filter::Kind::Not: return !evaluate(f.children.front(), doc, s, e);
        case Filter::Kind::Test: {
            auto outcome = test(f.test, doc, s);
            e.missing += outcome == Outcome::Missing;
            e.mismatched += outcome == Outcome::Mismatch;
            return outcome == Outcome::Match;
        }
    }
    return false;
}

std::uint64_t load(const std::atomic<std::uint64_t>& a) {
    return a.load(std::memory_order_relaxed);
}

void add(std::atomic<std::uint64_t>& a, std::uint64_t n = 1) {
    a.fetch_add(n, std::memory_order_relaxed);
}

constexpr std::size_t UNKNOWN_TYPE = event::EVENT_TYPE_COUNT;
constexpr std::uint64_t LATENCY_SAMPLE = 8;

}  // namespace

void Routing::clear() noexcept {
    deliveries.clear();
    value_count = 0;
    keys.clear();
    matched.clear();
    error.reset();
    unmatched = false;
}

struct Router::Counters {
    std::atomic<std::uint64_t> matched{0}, delivered{0}, filtered_out{0}, missing_path{0},
        type_mismatch{0}, transform_errors{0}, duplicates_skipped{0};
    Histogram latency_ns;
};

struct Router::Compiled {
    struct Source {
        std::string topic;
        // Candidate routes in priority order, per event type (the last: types not in the
        // catalogue, for which patterns are tested on the text).
        std::array<std::vector<std::uint16_t>, event::EVENT_TYPE_COUNT + 1> candidates;
    };
    std::vector<Source> sources;
    // Each route's target topics, one view per distinct name (equal names share the same
    // characters), so that "already delivered there" compares pointers.
    std::vector<std::vector<std::string_view>> targets;
    const Source* find(std::string_view topic) const noexcept {
        for (const auto& s : sources) {
            if (s.topic == topic) {
                return &s;
            }
        }
        return nullptr;
    }
};

std::optional<Loop> find_loop(const RouteTable& table) {
    std::map<std::string, std::vector<std::pair<std::string, const Route*>>, std::less<>> edges;
    std::set<std::string, std::less<>> sources;
    for (const auto& r : table.routes) {
        if (!r.enabled) {
            continue;
        }
        for (const auto& s : r.source_topics) {
            sources.insert(s);
            for (const auto& t : r.target_topics) {
                edges[s].emplace_back(t, &r);
            }
        }
    }
    if (!table.default_topic.empty()) {
        for (const auto& s : sources) {
            edges[s].emplace_back(table.default_topic, nullptr);
        }
    }
    std::map<std::string, int, std::less<>> state;  // 1: on the path, 2: done
    std::vector<std::pair<std::string, const Route*>> path;
    std::optional<Loop> found;
    std::function<void(const std::string&)> visit = [&](const std::string& topic) {
        state[topic] = 1;
        for (const auto& [next, via] : edges[topic]) {
            if (found) {
                return;
            }
            path.emplace_back(next, via);
            if (state[next] == 1) {
                std::size_t from = 0;
                for (std::size_t i = path.size(); i-- > 0;) {
                    if (path[i].first == next && i + 1 < path.size()) {
                        from = i + 1;
                        break;
                    }
                }
                std::vector<std::string> cycle{next};
                Loop loop;
                for (std::size_t i = from; i < path.size(); ++i) {
                    cycle.push_back(fmt::format(
                        "({}) {}",
                        path[i].second ? path[i].second->name : std::string("default_topic"),
                        path[i].first));
                    if (loop.route == nullptr && path[i].second != nullptr) {
                        loop.route = path[i].second;
                    }
                }
                loop.path = fmt::format("{}", fmt::join(cycle, " -> "));
                found = std::move(loop);
                return;
            }
            if (state[next] == 0) {
                visit(next);
            }
            path.pop_back();
        }
        state[topic] = 2;
    };
    for (const auto& s : sources) {
        if (!found && state[s] == 0) {
            path.clear();
            path.emplace_back(s, nullptr);
            visit(s);
        }
    }
    return found;
}

Router::Router(RouteTable table) : _table(std::move(table)), _compiled(new Compiled) {
    auto& routes = _table.routes;
    if (routes.size() >= Delivery::NO_ROUTE) {
        throw std::invalid_argument("too many routes (at most 65534)");
    }
    std::set<std::string, std::less<>> names;
    for (const auto& r : routes) {
        if (r.name.empty()) {
            throw std::invalid_argument("a route needs a name");
        }
        if (!names.insert(r.name).second) {
            throw std::invalid_argument(fmt::format("two routes are named '{}'", r.name));
        }
        if (r.source_topics.empty() || r.target_topics.empty()) {
            throw std::invalid_argument(
                fmt::format("route '{}' needs source_topics and target_topics", r.name));
        }
        if (r.filter && r.filter->kind == Filter::Kind::Not && r.filter->children.size() != 1) {
            throw std::invalid_argument(fmt::format("route '{}': not takes one filter", r.name));
        }
    }
    if (!_table.allow_cycles) {
        if (auto loop = find_loop(_table)) {
            throw std::invalid_argument(fmt::format(
                "the routes make a loop: {}; every event on it would be routed again and again. "
                "Write to a topic no route reads, or set allow_cycles (with a hop limit, "
                "max_hops) in the route table",
                loop->path));
        }
    }
    if (_table.max_hops < 1) {
        throw std::invalid_argument("max_hops must be at least 1");
    }
    std::stable_sort(routes.begin(), routes.end(),
                     [](const Route& a, const Route& b) { return a.priority > b.priority; });
    // One lookup slot per distinct path.
    std::map<std::string, std::uint32_t, std::less<>> slots;
    auto assign = [&](auto& self, Filter& f) -> void {
        if (f.kind == Filter::Kind::Test) {
            auto [it, inserted] =
                slots.emplace(f.test.path.text(), static_cast<std::uint32_t>(slots.size()));
            f.test.path_slot = it->second;
        }
        for (auto& child : f.children) {
            self(self, child);
        }
    };
    for (auto& r : routes) {
        if (r.filter) {
            assign(assign, *r.filter);
        }
    }
    std::set<std::string_view> names_seen;
    for (const auto& r : routes) {
        auto& views = _compiled->targets.emplace_back();
        for (const auto& topic : r.target_topics) {
            views.push_back(*names_seen.insert(topic).first);
        }
    }
    _counters = std::make_unique<Counters[]>(routes.size());
    for (std::size_t i = 0; i < routes.size(); ++i) {
        const auto& r = routes[i];
        if (!r.enabled) {
            continue;
        }
        for (const auto& topic : r.source_topics) {
            auto* source = const_cast<Compiled::Source*>(_compiled->find(topic));
            if (source == nullptr) {
                source = &_compiled->sources.emplace_back();
                source->topic = topic;
            }
            for (auto type : event::all_event_types()) {
                bool wanted = r.event_types.empty() ||
                              std::any_of(r.event_types.begin(), r.event_types.end(),
                                          [&](const auto& p) { return p.matches(type); });
                if (wanted) {
                    source->candidates[static_cast<std::size_t>(type)].push_back(
                        static_cast<std::uint16_t>(i));
                }
            }
            source->candidates[UNKNOWN_TYPE].push_back(static_cast<std::uint16_t>(i));
        }
    }
}

Router::~Router() = default;

std::vector<std::string> Router::source_topics() const {
    std::set<std::string> out;
    for (const auto& r : _table.routes) {
        if (r.enabled) {
            out.insert(r.source_topics.begin(), r.source_topics.end());
        }
    }
    return {out.begin(), out.end()};
}

std::vector<std::string> Router::target_topics() const {
    std::set<std::string> out;
    for (const auto& r : _table.routes) {
        if (r.enabled) {
            out.insert(r.target_topics.begin(), r.target_topics.end());
        }
    }
    if (!_table.default_topic.empty()) {
        out.insert(_table.default_topic);
    }
    return {out.begin(), out.end()};
}

void Router::route(std::string_view source_topic, std::string_view key, std::string_view json,
                   Routing& out, std::optional<event::EventType> known_type) const {
    out.clear();
    // Latency is timed on one event in LATENCY_SAMPLE (two clock reads per route would cost
    // more than the routing of a simple event); the counters count every event.
    bool timed = _events.fetch_add(1, std::memory_order_relaxed) % LATENCY_SAMPLE == 0;
    const auto* source = _compiled->find(source_topic);
    if (source != nullptr) {
        auto& s = scratch();
        auto& doc = s.filter_doc;
        doc.reset(json);
        ++s.generation;  // forget the previous event's lookups
        // The event type selects the candidate routes.
        static const std::vector<std::string> EVENT_TYPE_PATH{"event_type"};
        std::optional<std::string_view> type_text;
        auto type = known_type;
        if (!type) {
            JsonValue type_value;
            if (doc.find(EVENT_TYPE_PATH, type_value) == Lookup::Found &&
                type_value.kind == JsonKind::String) {
                type_text = detail::string_content(type_value.raw, s.text);
            }
            type = type_text ? event::parse_event_type(*type_text) : std::nullopt;
        }
        const auto& candidates =
            source->candidates[type ? static_cast<std::size_t>(*type) : UNKNOWN_TYPE];
        std::string type_copy;
        if (!type && type_text) {
            type_copy.assign(*type_text);  // s.text is reused by the filters
        }
        auto started =
            timed ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
        std::optional<Timestamp> now;
        for (auto index : candidates) {
            const Route& r = _table.routes[index];
            Counters& c = _counters[index];
            if (!type && !r.event_types.empty()) {
                // Not a catalogue type: only `*` and prefix patterns can take it.
                if (!type_text ||
                    std::none_of(r.event_types.begin(), r.event_types.end(),
                                 [&](const auto& p) { return p.matches(type_copy); })) {
                    continue;
                }
            }
            if (r.filter) {
                Evaluation e;
                bool pass = evaluate(*r.filter, doc, s, e);
                if (e.missing != 0) {
                    add(c.missing_path, e.missing);
                }
                if (e.mismatched != 0) {
                    add(c.type_mismatch, e.mismatched);
                }
                if (!pass) {
                    add(c.filtered_out);
                    continue;
                }
            }
            add(c.matched);
            out.matched.push_back(index);
            const auto& targets = _compiled->targets[index];
            auto served = [&](std::string_view target) {
                // Interned: the same topic has the same characters (the default topic is
                // added only when nothing matched).
                return std::any_of(
                    out.deliveries.begin(), out.deliveries.end(),
                    [&](const Delivery& d) { return d.topic.data() == target.data(); });
            };
            if (std::all_of(targets.begin(), targets.end(), served)) {
                // Every target already has the event from a higher route: nothing to build.
                add(c.duplicates_skipped, r.target_topics.size());
                continue;
            }
            std::uint16_t value = Delivery::ORIGINAL;
            std::uint16_t new_key = Delivery::ORIGINAL;
            if (!r.transformations.empty()) {
                if (!now) {
                    now = now_utc();
                }
                s.edit_doc.reset(doc);
                EventEditor editor(s.edit_doc, key, r.name, _table.dispatcher, *now);
                for (const auto& t : r.transformations) {
                    auto status = t->apply(editor);
                    if (!status) {
                        add(c.transform_errors);
                        add(_errors);
                        auto matched = std::move(out.matched);
                        out.clear();
                        out.matched = std::move(matched);
                        out.error = fmt::format("route '{}': {}: {}", r.name, t->describe(),
                                                status.error().message);
                        return;
                    }
                }
                if (s.edit_doc.modified()) {
                    value = out.value_count++;
                    if (out.values.size() < out.value_count) {
                        out.values.emplace_back();
                    }
                    out.values[value].assign(s.edit_doc.text());  // reuses its buffer
                }
                if (editor.key_changed()) {
                    new_key = static_cast<std::uint16_t>(out.keys.size());
                    out.keys.emplace_back(editor.key());
                }
            }
            for (auto target : targets) {
                if (served(target)) {
                    add(c.duplicates_skipped);
                    continue;
                }
                out.deliveries.push_back({index, target, value, new_key});
                add(c.delivered);
            }
            if (timed) {
                c.latency_ns.record(
                    static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                                   std::chrono::steady_clock::now() - started)
                                                   .count()));
            }
            if (_table.mode == RoutingMode::FirstMatch) {
                break;
            }
        }
    }
    if (out.matched.empty()) {
        out.unmatched = true;
        add(_unmatched);
        if (!_table.default_topic.empty()) {
            out.deliveries.push_back(
                {Delivery::NO_ROUTE, _table.default_topic, Delivery::ORIGINAL, Delivery::ORIGINAL});
            add(_to_default);
        }
    }
}

RouterMetrics Router::metrics() const {
    RouterMetrics m;
    m.events = load(_events);
    m.unmatched = load(_unmatched);
    m.to_default = load(_to_default);
    m.errors = load(_errors);
    m.routes.reserve(_table.routes.size());
    for (std::size_t i = 0; i < _table.routes.size(); ++i) {
        const Counters& c = _counters[i];
        RouteMetrics r;
        r.name = _table.routes[i].name;
        r.matched = load(c.matched);
        r.delivered = load(c.delivered);
        r.filtered_out = load(c.filtered_out);
        r.missing_path = load(c.missing_path);
        r.type_mismatch = load(c.type_mismatch);
        r.transform_errors = load(c.transform_errors);
        r.duplicates_skipped = load(c.duplicates_skipped);
        r.latency_p50_ns = c.latency_ns.quantile(0.5);
        r.latency_p99_ns = c.latency_ns.quantile(0.99);
        r.latency_samples = c.latency_ns.count();
        m.routes.push_back(std::move(r));
    }
    return m;
}

}  // namespace agentstream::router
