#include <agentstream/monitor/event_tail.h>

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

std::string EventTail::preview_of(std::string_view value, std::size_t max_bytes) {
    if (value.size() <= max_bytes) {
        return std::string(value);
    }
    auto cut = max_bytes;
    // Back off continuation bytes (10xxxxxx) so a character is never split.
    while (cut > 0 && (static_cast<unsigned char>(value[cut]) & 0xC0) == 0x80) {
        --cut;
    }
    return std::string(value.substr(0, cut)) + "\xE2\x80\xA6";
}

}  // namespace agentstream::monitor
