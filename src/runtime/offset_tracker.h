// Per-partition bookkeeping of in-flight records: events complete out of order (outputs to
// different partitions are acknowledged in any order), but a partition's committed offset may
// only move past a record once it and everything before it completed.
#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <optional>
#include <utility>

namespace agentstream::runtime::detail {

class OffsetTracker {
  public:
    /// Records `offset` as received; offsets must be added in increasing order.
    void add(std::int64_t offset) { _entries.emplace_back(offset, false); }

    /// Marks `offset` done. Returns the new committable position (the offset after the last
    /// record of the completed prefix) when the prefix grew, nullopt otherwise (also for an
    /// offset that is not tracked).
    std::optional<std::int64_t> complete(std::int64_t offset) {
        auto it = std::lower_bound(_entries.begin(), _entries.end(), offset,
                                   [](const auto& e, std::int64_t o) { return e.first < o; });
        if (it == _entries.end() || it->first != offset || it->second) {
            return std::nullopt;
        }
        it->second = true;
        std::optional<std::int64_t> next;
        while (!_entries.empty() && _entries.front().second) {
            next = _entries.front().first + 1;
            _entries.pop_front();
        }
        return next;
    }

    /// Records received and not yet part of the completed prefix (done ones behind a pending
    /// one included).
    std::size_t size() const noexcept { return _entries.size(); }
    bool empty() const noexcept { return _entries.empty(); }

  private:
    std::deque<std::pair<std::int64_t, bool>> _entries;
};

}  // namespace agentstream::runtime::detail
