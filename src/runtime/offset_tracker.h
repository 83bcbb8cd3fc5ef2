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
    void add(std::int64_t offset) {
        _entries.emplace_back(offset, State::Open);
        ++_open;
    }

    /// Marks `offset` done. Returns the new committable position (the offset after the last
    /// record of the completed prefix) when the prefix grew, nullopt otherwise (also for an
    /// offset that is not tracked).
    std::optional<std::int64_t> complete(std::int64_t offset) {
        auto it = find_open(offset);
        if (it == _entries.end()) {
            return std::nullopt;
        }
        it->second = State::Done;
        --_open;
        std::optional<std::int64_t> next;
        while (!_entries.empty() && _entries.front().second == State::Done) {
            next = _entries.front().first + 1;
            _entries.pop_front();
        }
        return next;
    }

    /// Gives `offset` up: it is no longer awaited, yet never committable (the committed
    /// position stays before it, so it is read again after a restart or a rebalance).
    void abandon(std::int64_t offset) {
        if (auto it = find_open(offset); it != _entries.end()) {
            it->second = State::Abandoned;
            --_open;
        }
    }

    /// Records received and not yet part of the completed prefix (done and abandoned ones
    /// behind a pending one included).
    std::size_t size() const noexcept { return _entries.size(); }
    bool empty() const noexcept { return _entries.empty(); }
    /// Records still awaited: neither done nor abandoned.
    std::size_t open() const noexcept { return _open; }

  private:
    enum class State : std::uint8_t { Open, Done, Abandoned };
    using Entries = std::deque<std::pair<std::int64_t, State>>;
    Entries::iterator find_open(std::int64_t offset) {
        auto it = std::lower_bound(_entries.begin(), _entries.end(), offset,
                                   [](const auto& e, std::int64_t o) { return e.first < o; });
        if (it == _entries.end() || it->first != offset || it->second != State::Open) {
            return _entries.end();
        }
        return it;
    }
    Entries _entries;
    std::size_t _open = 0;
};

}  // namespace agentstream::runtime::detail
