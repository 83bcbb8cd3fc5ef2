#include <agentstream/window/windows.h>

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "window/binary.h"

namespace agentstream::window {
namespace {

using detail::get;
using detail::put;

constexpr std::string_view WINDOW_KINDS[] = {"tumbling", "hopping", "sliding", "session", "count"};
constexpr std::uint8_t STATE_VERSION = 1;

Millis floor_div(Millis a, Millis b) {
    Millis q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

}  // namespace

std::string_view to_string(WindowKind k) noexcept {
    return WINDOW_KINDS[static_cast<std::size_t>(k)];
}

WindowSpec WindowSpec::tumbling(std::chrono::milliseconds size) {
    WindowSpec s;
    s.kind = WindowKind::Tumbling;
    s.size = size;
    return s;
}
WindowSpec WindowSpec::hopping(std::chrono::milliseconds size, std::chrono::milliseconds advance) {
    WindowSpec s;
    s.kind = WindowKind::Hopping;
    s.size = size;
    s.advance = advance;
    return s;
}
WindowSpec WindowSpec::sliding(std::chrono::milliseconds size) {
    WindowSpec s;
    s.kind = WindowKind::Sliding;
    s.size = size;
    return s;
}
WindowSpec WindowSpec::session(std::chrono::milliseconds gap) {
    WindowSpec s;
    s.kind = WindowKind::Session;
    s.gap = gap;
    return s;
}
WindowSpec WindowSpec::counting(std::uint64_t count) {
    WindowSpec s;
    s.kind = WindowKind::Count;
    s.count = count;
    return s;
}

void WindowSpec::validate() const {
    auto fail = [&](const std::string& what) {
        throw std::invalid_argument(fmt::format("{} window: {}", to_string(kind), what));
    };
    if (out_of_orderness.count() < 0 || allowed_lateness.count() < 0) {
        fail("out_of_orderness and allowed_lateness cannot be negative");
    }
    if (max_keys == 0) {
        fail("max_keys must be at least 1");
    }
    switch (kind) {
        case WindowKind::Tumbling:
        case WindowKind::Sliding:
            if (size.count() <= 0) {
                fail("size must be positive");
            }
            break;
        case WindowKind::Hopping:
            if (size.count() <= 0 || advance.count() <= 0) {
                fail("size and advance must be positive");
            }
            if (advance > size || size.count() % advance.count() != 0) {
                fail(fmt::format("size ({} ms) must be a multiple of advance ({} ms)", size.count(),
                                 advance.count()));
            }
            break;
        case WindowKind::Session:
            if (gap.count() <= 0) {
                fail("gap must be positive");
            }
            break;
        case WindowKind::Count:
            if (count == 0) {
                fail("count must be at least 1");
            }
            break;
    }
}

WindowedAggregator::WindowedAggregator(WindowSpec spec) : _spec(std::move(spec)) {
    _spec.validate();
}

WindowedAggregator::~WindowedAggregator() = default;

Millis WindowedAggregator::close_time(const Window& w) const noexcept {
    auto lateness = _spec.allowed_lateness.count();
    if (_spec.kind == WindowKind::Session) {
        return (w.end - 1) + _spec.gap.count() + lateness;
    }
    return w.end + lateness;
}

WindowedAggregator::KeyState* WindowedAggregator::state_for(std::string_view key, bool* overflow) {
    auto it = _keys.find(key);
    if (it != _keys.end()) {
        return it->second.get();
    }
    if (_keys.size() >= _spec.max_keys) {
        *overflow = true;
        return nullptr;
    }
    auto state = std::make_unique<KeyState>();
    state->key = std::string(key);
    auto* raw = state.get();
    _keys.emplace(raw->key, std::move(state));
    return raw;
}

WindowedAggregator::Window& WindowedAggregator::window_for(KeyState& k, Millis start, Millis end) {
    auto it = std::lower_bound(k.windows.begin(), k.windows.end(), start,
                               [](const Window& w, Millis s) { return w.start < s; });
    if (it != k.windows.end() && it->start == start) {
        return *it;
    }
    Window w{start, end, Aggregate(_spec.aggregates), false, _next_version++};
    it = k.windows.insert(it, std::move(w));
    ++_open;
    schedule(k, *it);
    return *it;
}

void WindowedAggregator::schedule(const KeyState& k, const Window& w) {
    _closing.emplace(close_time(w), Closing{k.key, w.start, w.version});
}

void WindowedAggregator::mark_changed(KeyState& k) {
    if (!k.changed) {
        k.changed = true;
        _changed.push_back(k.key);
    }
}

void WindowedAggregator::drop_if_empty(KeyState& k) {
    if (k.windows.empty() && k.recent.empty()) {
        _keys.erase(k.key);  // k is gone after this
    }
}

void WindowedAggregator::observe(Millis t, std::vector<WindowResult>& out) {
    if (t > _max_event_time) {
        _max_event_time = t;
        auto wm = t - _spec.out_of_orderness.count();
        if (wm > _watermark) {
            _watermark = wm;
            close_due(out);
        }
    }
}

AddResult WindowedAggregator::add(std::string_view key, Millis t, double value,
                                  std::vector<WindowResult>& out, std::uint64_t distinct) {
    bool overflow = false;
    auto* k = state_for(key, &overflow);
    if (k == nullptr) {
        ++_stats.overflow;
        observe(t, out);
        return AddResult::Overflow;
    }
    AddResult r = AddResult::Added;
    switch (_spec.kind) {
        case WindowKind::Tumbling:
        case WindowKind::Hopping: r = add_time_window(*k, t, value, distinct, out); break;
        case WindowKind::Session: r = add_session(*k, t, value, distinct, out); break;
        case WindowKind::Sliding: r = add_sliding(*k, t, value, out); break;
        case WindowKind::Count: r = add_count(*k, t, value, distinct, out); break;
    }
    if (r == AddResult::Late) {
        ++_stats.late;
        drop_if_empty(*k);  // a key made just now for a late event
    } else {
        ++_stats.added;
        mark_changed(*k);
    }
    observe(t, out);
    return r;
}

AddResult WindowedAggregator::add_time_window(KeyState& k, Millis t, double value,
                                              std::uint64_t distinct, std::vector<WindowResult>&) {
    const Millis size = _spec.size.count();
    const Millis step = _spec.kind == WindowKind::Hopping ? _spec.advance.count() : size;
    const Millis last_start = floor_div(t, step) * step;
    bool added = false;
    // Every window [s, s + size) holding t: s = last_start, last_start - step, ...
    for (Millis s = last_start; s > t - size; s -= step) {
        if (s + size + _spec.allowed_lateness.count() <= _watermark) {
            break;  // this one and every earlier one closed
        }
        auto& w = window_for(k, s, s + size);
        w.aggregate.add(value);
        if (distinct != 0) {
            w.aggregate.add_distinct(distinct);
        }
        w.dirty = true;
        added = true;
    }
    return added ? AddResult::Added : AddResult::Late;
}

AddResult WindowedAggregator::add_session(KeyState& k, Millis t, double value,
                                          std::uint64_t distinct, std::vector<WindowResult>&) {
    const Millis gap = _spec.gap.count();
    if (t + gap + _spec.allowed_lateness.count() <= _watermark) {
        return AddResult::Late;  // any session it could join or start has closed
    }
    // Sessions within `gap` of t merge with it (there can be two: t bridges them).
    Window merged{t, t + 1, Aggregate(_spec.aggregates), true, _next_version++};
    merged.aggregate.add(value);
    if (distinct != 0) {
        merged.aggregate.add_distinct(distinct);
    }
    std::size_t absorbed = 0;
    for (auto it = k.windows.begin(); it != k.windows.end();) {
        bool touches = it->start - gap <= t && t <= (it->end - 1) + gap;
        if (!touches) {
            ++it;
            continue;
        }
        merged.start = std::min(merged.start, it->start);
        merged.end = std::max(merged.end, it->end);
        merged.aggregate.merge(it->aggregate);
        it = k.windows.erase(it);
        ++absorbed;
    }
    _open -= absorbed;
    auto pos = std::lower_bound(k.windows.begin(), k.windows.end(), merged.start,
                                [](const Window& w, Millis s) { return w.start < s; });
    pos = k.windows.insert(pos, std::move(merged));
    ++_open;
    schedule(k, *pos);
    return AddResult::Added;
}

AddResult WindowedAggregator::add_sliding(KeyState& k, Millis t, double value,
                                          std::vector<WindowResult>& out) {
    const Millis size = _spec.size.count();
    if (t + _spec.allowed_lateness.count() < _watermark) {
        return AddResult::Late;
    }
    auto pos = std::upper_bound(k.recent.begin(), k.recent.end(), t,
                                [](Millis x, const Sample& s) { return x < s.time; });
    k.recent.insert(pos, Sample{t, value, 0});
    // The window ending at this event: every sample in [t - size, t].
    WindowResult r{k.key, t - size, t + 1, Aggregate(_spec.aggregates), true};
    for (const auto& s : k.recent) {
        if (s.time > t) {
            break;
        }
        if (s.time >= t - size) {
            r.aggregate.add(s.value);
        }
    }
    out.push_back(std::move(r));
    ++_stats.emitted;
    // Samples no future on-time window can hold. (This event's time bounds the arithmetic:
    // before the first observe() the watermark and max event time are INT64_MIN.)
    Millis front = std::max(_max_event_time, t) - _spec.out_of_orderness.count();
    if (_watermark > front) {
        front = _watermark;
    }
    auto horizon = front - size - _spec.allowed_lateness.count();
    while (!k.recent.empty() && k.recent.front().time < horizon) {
        k.recent.pop_front();
    }
    return AddResult::Added;
}

AddResult WindowedAggregator::add_count(KeyState& k, Millis t, double value, std::uint64_t distinct,
                                        std::vector<WindowResult>& out) {
    if (k.windows.empty()) {
        k.windows.push_back(Window{t, t + 1, Aggregate(_spec.aggregates), true, _next_version++});
        ++_open;
    }
    auto& w = k.windows.front();
    w.start = std::min(w.start, t);
    w.end = std::max(w.end, t + 1);
    w.aggregate.add(value);
    if (distinct != 0) {
        w.aggregate.add_distinct(distinct);
    }
    w.dirty = true;
    if (w.aggregate.count() >= _spec.count) {
        out.push_back({k.key, w.start, w.end, std::move(w.aggregate), true});
        ++_stats.emitted;
        k.windows.clear();
        --_open;
    }
    return AddResult::Added;
}

void WindowedAggregator::close_due(std::vector<WindowResult>& out) {
    while (!_closing.empty() && _closing.begin()->first <= _watermark) {
        auto node = _closing.extract(_closing.begin());
        const auto& c = node.mapped();
        auto kit = _keys.find(c.key);
        if (kit == _keys.end()) {
            continue;
        }
        auto& k = *kit->second;
        auto it = std::find_if(k.windows.begin(), k.windows.end(), [&](const Window& w) {
            return w.start == c.start && w.version == c.version;
        });
        if (it == k.windows.end()) {
            continue;  // stale: merged, grown or restored since
        }
        out.push_back({k.key, it->start, it->end, std::move(it->aggregate), true});
        ++_stats.emitted;
        k.windows.erase(it);
        --_open;
        mark_changed(k);
        drop_if_empty(k);
    }
}

void WindowedAggregator::advance_watermark(Millis watermark, std::vector<WindowResult>& out) {
    if (watermark > _watermark) {
        _watermark = watermark;
        close_due(out);
    }
}

void WindowedAggregator::flush(std::vector<WindowResult>& out) {
    advance_watermark(INT64_MAX, out);
    // Count windows never close by time: what they hold is their (partial) result.
    for (auto it = _keys.begin(); it != _keys.end();) {
        auto& k = *it->second;
        for (auto& w : k.windows) {
            out.push_back({k.key, w.start, w.end, std::move(w.aggregate), true});
            ++_stats.emitted;
            --_open;
        }
        k.windows.clear();
        k.recent.clear();
        if (!k.changed) {
            _changed.push_back(k.key);
        }
        it = _keys.erase(it);
    }
}

void WindowedAggregator::early_updates(std::vector<WindowResult>& out) {
    for (auto& [key, k] : _keys) {
        for (auto& w : k->windows) {
            if (w.dirty) {
                w.dirty = false;
                out.push_back({k->key, w.start, w.end, w.aggregate, false});
            }
        }
    }
}

WindowStats WindowedAggregator::stats() const {
    auto s = _stats;
    s.keys = _keys.size();
    s.open_windows = _open;
    return s;
}

std::vector<std::string> WindowedAggregator::keys() const {
    std::vector<std::string> out;
    out.reserve(_keys.size());
    for (const auto& [key, state] : _keys) {
        out.push_back(key);
    }
    return out;
}

std::vector<std::string> WindowedAggregator::take_changed_keys() {
    std::vector<std::string> out;
    out.swap(_changed);
    for (const auto& key : out) {
        auto it = _keys.find(key);
        if (it != _keys.end()) {
            it->second->changed = false;
        }
    }
    return out;
}

std::optional<std::string> WindowedAggregator::key_state(std::string_view key) const {
    auto it = _keys.find(key);
    if (it == _keys.end()) {
        return std::nullopt;
    }
    const auto& k = *it->second;
    std::string out;
    put(out, STATE_VERSION);
    put(out, static_cast<std::uint8_t>(_spec.kind));
    put(out, static_cast<std::uint32_t>(k.windows.size()));
    for (const auto& w : k.windows) {
        put(out, w.start);
        put(out, w.end);
        w.aggregate.encode(out);
    }
    put(out, static_cast<std::uint32_t>(k.recent.size()));
    for (const auto& s : k.recent) {
        put(out, s.time);
        put(out, s.value);
        put(out, s.distinct);
    }
    return out;
}

bool WindowedAggregator::restore_key(std::string_view key, std::string_view in) {
    std::uint8_t version = 0;
    std::uint8_t kind = 0;
    std::uint32_t n = 0;
    if (!get(in, version) || version != STATE_VERSION || !get(in, kind) ||
        kind != static_cast<std::uint8_t>(_spec.kind) || !get(in, n)) {
        return false;
    }
    auto k = std::make_unique<KeyState>();
    k->key = std::string(key);
    for (std::uint32_t i = 0; i < n; ++i) {
        Window w{0, 0, Aggregate(), false, _next_version++};
        if (!get(in, w.start) || !get(in, w.end) || !w.aggregate.decode(in)) {
            return false;
        }
        k->windows.push_back(std::move(w));
    }
    if (!get(in, n)) {
        return false;
    }
    for (std::uint32_t i = 0; i < n; ++i) {
        Sample s{};
        if (!get(in, s.time) || !get(in, s.value) || !get(in, s.distinct)) {
            return false;
        }
        k->recent.push_back(s);
    }
    if (auto it = _keys.find(key); it != _keys.end()) {
        _open -= it->second->windows.size();
        _keys.erase(it);
    }
    _open += k->windows.size();
    auto* raw = k.get();
    _keys.emplace(raw->key, std::move(k));
    if (_spec.kind != WindowKind::Count && _spec.kind != WindowKind::Sliding) {
        for (const auto& w : raw->windows) {
            schedule(*raw, w);
        }
    }
    return true;
}

void WindowedAggregator::restore_max_event_time(Millis t) {
    if (t > _max_event_time) {
        _max_event_time = t;
        _watermark = std::max(_watermark, t - _spec.out_of_orderness.count());
    }
}

}  // namespace agentstream::window
