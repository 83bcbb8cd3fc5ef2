// A lock-free latency histogram with bounded relative error, for percentiles on hot paths.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <utility>
#include <vector>

namespace agentstream {

/// Records non-negative integer values (typically microseconds) into log-linear buckets: exact
/// below 32, then 32 sub-buckets per power of two, so a reported percentile is within ~3% of the
/// true value. record() is wait-free and safe from any thread; readers see a consistent-enough
/// snapshot (counts may be mid-update by at most the records in flight).
class Histogram {
  public:
    void record(std::uint64_t value) noexcept;
    void record(std::chrono::microseconds d) noexcept {
        record(static_cast<std::uint64_t>(d.count() < 0 ? 0 : d.count()));
    }

    std::uint64_t count() const noexcept { return _count.load(std::memory_order_relaxed); }
    std::uint64_t sum() const noexcept { return _sum.load(std::memory_order_relaxed); }
    std::uint64_t max() const noexcept { return _max.load(std::memory_order_relaxed); }
    double mean() const noexcept;
    /// The value at quantile q in [0, 1] (0.5 = median), 0 when empty. Returns the upper bound
    /// of the bucket holding it, capped at the maximum recorded value.
    std::uint64_t quantile(double q) const noexcept;
    void reset() noexcept;

    /// The counts so far, sparse (non-empty buckets in index order): two snapshots give the
    /// distribution of what was recorded between them (windowed percentiles).
    struct Snapshot {
        std::vector<std::pair<std::uint32_t, std::uint64_t>> buckets;
        std::uint64_t count = 0;
        std::uint64_t sum = 0;
        std::uint64_t max = 0;  ///< of everything recorded so far (caps the bucket bounds)
    };
    Snapshot snapshot() const;
    /// The value at quantile q of what `newer` recorded after `older` (an earlier snapshot of
    /// the same histogram), 0 when nothing was. Upper bucket bounds, like quantile().
    static std::uint64_t quantile_between(const Snapshot& newer, const Snapshot& older,
                                          double q) noexcept;

  private:
    static constexpr int SUB_BITS = 5;
    static constexpr int SUB = 1 << SUB_BITS;
    static constexpr int BUCKETS = (64 - SUB_BITS + 1) * SUB;
    static std::size_t index_of(std::uint64_t v) noexcept;
    static std::uint64_t upper_bound_of(std::size_t index) noexcept;

    std::array<std::atomic<std::uint64_t>, BUCKETS> _buckets{};
    std::atomic<std::uint64_t> _count{0};
    std::atomic<std::uint64_t> _sum{0};
    std::atomic<std::uint64_t> _max{0};
};

}  // namespace agentstream
