// A processor's health from its counters over the last minute: waiting for the brokers,
// stalled (lag and nothing consumed for a minute), falling behind (lag at least doubled and
// grown by 1000 in a minute), dead letters in the last minute, waiting for partitions (no
// assignment yet), else making progress. Pure: the caller gives the time of each observation.
#pragma once

#include <agentstream/monitor/monitor.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <string>

namespace agentstream::monitor {

/// What one tick knows of a processor.
struct ProgressCounters {
    bool healthy = true;  ///< its clients get answers from the brokers
    std::uint64_t consumed = 0;
    std::uint64_t dead_lettered = 0;
    std::int64_t lag = -1;  ///< -1 unknown
    std::uint64_t rebalances = 0;
};

class ProgressHealth {
  public:
    using TimePoint = std::chrono::steady_clock::time_point;
    /// Records the counters seen at `now` (called once per tick, times not decreasing) and
    /// says what the last minute of them shows.
    ComponentHealth observe(const std::string& component, TimePoint now,
                            const ProgressCounters& counters);

  private:
    struct Sample {
        TimePoint at;
        std::uint64_t consumed;
        std::uint64_t dead_lettered;
        std::int64_t lag;
    };
    std::deque<Sample> _history;  // the oldest is about a minute old once a minute has passed
};

}  // namespace agentstream::monitor
