// The tail of recent events the dashboard shows: a small ring the processing thread offers
// events to. Cheap on the hot path: due() is one relaxed atomic load most of the time, and at
// most one event per interval is copied.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace agentstream::monitor {

struct TailEntry {
    std::chrono::system_clock::time_point at;
    std::string topic;
    std::int32_t partition = 0;
    std::int64_t offset = 0;
    std::string key;      ///< as preview_of() shows it
    std::string type;     ///< the event type, or empty when it could not be decoded
    std::string outcome;  ///< processed, dead-lettered
    std::string reason;   ///< why it was dead-lettered
    std::string preview;  ///< the start of the record's value, as preview_of() shows it
};

class EventTail {
  public:
    /// Keeps the newest `capacity` entries, taking at most one per `interval`.
    explicit EventTail(std::size_t capacity = 50,
                       std::chrono::milliseconds interval = std::chrono::milliseconds(100));

    /// Whether an event offered now would be kept (then call add()). Thread-safe.
    bool due(std::chrono::steady_clock::time_point now) noexcept;
    void add(TailEntry entry);
    /// Oldest first.
    std::vector<TailEntry> recent() const;

    /// At most `max_bytes` of `value` as valid UTF-8: bytes that are not part of a well-formed
    /// UTF-8 character are shown as `\xHH`; cut at a character boundary, "…" appended when cut.
    static std::string preview_of(std::string_view value, std::size_t max_bytes = 240);

  private:
    std::size_t _capacity;
    std::chrono::steady_clock::duration _interval;
    std::atomic<std::int64_t> _next{0};  // steady-clock ticks
    mutable std::mutex _mutex;
    std::deque<TailEntry> _entries;
};

}  // namespace agentstream::monitor
