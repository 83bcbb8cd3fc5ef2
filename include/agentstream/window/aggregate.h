// What a window accumulates: count, sum, min, max (so avg), and on request percentiles (a
// DDSketch with 1% relative accuracy) and an approximate distinct count (HyperLogLog, 1,024
// registers: about 3% standard error). Mergeable and serialisable (the changelog).
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace agentstream::window {

enum class AggregateKind : std::uint8_t { Count, Sum, Min, Max, Avg, P50, P95, P99, Distinct };
std::string_view to_string(AggregateKind k) noexcept;
/// Parses count, sum, min, max, avg, p50, p95, p99, distinct.
bool parse_aggregate(std::string_view text, AggregateKind* out) noexcept;

struct AggregateOptions {
    bool percentiles = false;
    bool distinct = false;
};

/// Quantiles with a relative error of at most 1% of the value (values of any sign).
class QuantileSketch {
  public:
    void add(double v);
    void merge(const QuantileSketch& other);
    /// q in [0, 1]; 0 when empty.
    double quantile(double q) const;
    std::uint64_t count() const noexcept { return _count; }
    void encode(std::string& out) const;
    /// Reads what encode() wrote at `in`, advancing it; false when malformed.
    bool decode(std::string_view& in);

  private:
    using Store = std::vector<std::pair<std::int32_t, std::uint64_t>>;  // sorted by index
    static void bump(Store& s, std::int32_t index, std::uint64_t n);
    Store _positive;
    Store _negative;
    std::uint64_t _zero = 0;
    std::uint64_t _count = 0;
};

/// Approximate distinct count of 64-bit hashes.
class DistinctSketch {
  public:
    static constexpr int PRECISION = 10;
    void add(std::uint64_t hash);
    void merge(const DistinctSketch& other);
    double estimate() const;
    void encode(std::string& out) const;
    bool decode(std::string_view& in);

  private:
    std::vector<std::uint8_t> _registers;  // empty until the first add
};

/// A 64-bit hash of a value for DistinctSketch (well mixed).
std::uint64_t distinct_hash(std::string_view value) noexcept;

class Aggregate {
  public:
    Aggregate() = default;
    explicit Aggregate(const AggregateOptions& options);
    Aggregate(const Aggregate& other);
    Aggregate& operator=(const Aggregate& other);
    Aggregate(Aggregate&&) noexcept = default;
    Aggregate& operator=(Aggregate&&) noexcept = default;

    void add(double value) noexcept {
        ++_count;
        _sum += value;
        _min = value < _min ? value : _min;
        _max = value > _max ? value : _max;
        if (_quantiles) {
            _quantiles->add(value);
        }
    }
    void add_distinct(std::uint64_t hash) {
        if (_distinct) {
            _distinct->add(hash);
        }
    }
    void merge(const Aggregate& other);

    std::uint64_t count() const noexcept { return _count; }
    double sum() const noexcept { return _sum; }
    double min() const noexcept { return _count ? _min : 0; }
    double max() const noexcept { return _count ? _max : 0; }
    double avg() const noexcept { return _count ? _sum / static_cast<double>(_count) : 0; }
    /// The value of a kind; percentiles and distinct are 0 when not enabled.
    double value(AggregateKind kind) const;
    bool has_percentiles() const noexcept { return _quantiles != nullptr; }
    bool has_distinct() const noexcept { return _distinct != nullptr; }

    void encode(std::string& out) const;
    bool decode(std::string_view& in);

  private:
    std::uint64_t _count = 0;
    double _sum = 0;
    double _min = std::numeric_limits<double>::infinity();
    double _max = -std::numeric_limits<double>::infinity();
    std::unique_ptr<QuantileSketch> _quantiles;
    std::unique_ptr<DistinctSketch> _distinct;
};

}  // namespace agentstream::window
