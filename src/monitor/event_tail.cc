#include <agentstream/monitor/event_tail.h>

#include <algorithm>

namespace agentstream::monitor {

EventTail::EventTail(std::size_t capacity, std::chrono::milliseconds interval)
    : _capacity(capacity == 0 ? 1 : capacity), _interval(interval) {}

bool EventTail::due(std::chrono::steady_clock::time_point now) noexcept {
    auto ticks = now.time_since_epoch().count();
    auto next = _next.load(std::memory_order_relaxed);
    if (ticks < next) {
        return false;
    }
    // One thread wins a slot; the others wait for the next interval.
    return _next.compare_exchange_strong(next, ticks + _interval.count(),
                                         std::memory_order_relaxed);
}

void EventTail::add(TailEntry entry) {
    std::lock_guard lock(_mutex);
    _entries.push_back(std::move(entry));
    while (_entries.size() > _capacity) {
        _entries.pop_front();
    }
}

std::vector<TailEntry> EventTail::recent() const {
    std::lock_guard lock(_mutex);
    return {_entries.begin(), _entries.end()};
}

namespace {

// The length of the well-formed UTF-8 sequence (RFC 3629: no overlongs, no surrogates, at most
// U+10FFFF) that starts `text`, or 0 when its first byte does not start one.
std::size_t utf8_sequence(std::string_view text) {
    auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
    auto c0 = byte(0);
    if (c0 < 0x80) {
        return 1;
    }
    std::size_t n = 0;
    unsigned char lo = 0x80, hi = 0xBF;  // the allowed range of the second byte
    if (c0 >= 0xC2 && c0 <= 0xDF) {
        n = 2;
    } else if (c0 >= 0xE0 && c0 <= 0xEF) {
        n = 3;
        lo = c0 == 0xE0 ? 0xA0 : 0x80;
        hi = c0 == 0xED ? 0x9F : 0xBF;
    } else if (c0 >= 0xF0 && c0 <= 0xF4) {
        n = 4;
        lo = c0 == 0xF0 ? 0x90 : 0x80;
        hi = c0 == 0xF4 ? 0x8F : 0xBF;
    } else {
        return 0;
    }
    if (text.size() < n || byte(1) < lo || byte(1) > hi) {
        return 0;
    }
    for (std::size_t i = 2; i < n; ++i) {
        if ((byte(i) & 0xC0) != 0x80) {
            return 0;
        }
    }
    return n;
}

}  // namespace

std::string EventTail::preview_of(std::string_view value, std::size_t max_bytes) {
    std::string out;
    out.reserve(std::min(value.size(), max_bytes) + 3);
    std::size_t i = 0;
    while (i < value.size()) {
        auto n = utf8_sequence(value.substr(i));
        if (n == 0) {
            // Not text: shown as \xHH, so binary keys and values stay readable and the
            // snapshot stays valid JSON.
            if (out.size() + 4 > max_bytes) {
                break;
            }
            static constexpr char hex[] = "0123456789abcdef";
            auto c = static_cast<unsigned char>(value[i]);
            out += "\\x";
            out += hex[c >> 4];
            out += hex[c & 0xF];
            ++i;
            continue;
        }
        if (out.size() + n > max_bytes) {
            break;
        }
        out.append(value.substr(i, n));
        i += n;
    }
    if (i < value.size()) {
        out += "\xE2\x80\xA6";
    }
    return out;
}

}  // namespace agentstream::monitor
