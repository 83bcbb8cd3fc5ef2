#include <agentstream/core/histogram.h>

#include <algorithm>
#include <bit>
#include <cmath>

namespace agentstream {

std::size_t Histogram::index_of(std::uint64_t v) noexcept {
    if (v < SUB) {
        return static_cast<std::size_t>(v);
    }
    int exponent = 63 - std::countl_zero(v);  // >= SUB_BITS
    int shift = exponent - SUB_BITS;
    auto mantissa = static_cast<std::size_t>((v >> shift) & (SUB - 1));
    return static_cast<std::size_t>(shift + 1) * SUB + mantissa;
}

std::uint64_t Histogram::upper_bound_of(std::size_t index) noexcept {
    if (index < SUB) {
        return index;
    }
    auto shift = static_cast<int>(index / SUB) - 1;
    auto mantissa = index % SUB;
    std::uint64_t low = (static_cast<std::uint64_t>(SUB + mantissa)) << shift;
    return low + ((std::uint64_t{1} << shift) - 1);
}

void Histogram::record(std::uint64_t value) noexcept {
    _buckets[index_of(value)].fetch_add(1, std::memory_order_relaxed);
    _count.fetch_add(1, std::memory_order_relaxed);
    _sum.fetch_add(value, std::memory_order_relaxed);
    auto current = _max.load(std::memory_order_relaxed);
    while (value > current &&
           !_max.compare_exchange_weak(current, value, std::memory_order_relaxed)) {
    }
}

double Histogram::mean() const noexcept {
    auto n = count();
    return n == 0 ? 0.0 : static_cast<double>(sum()) / static_cast<double>(n);
}

std::uint64_t Histogram::quantile(double q) const noexcept {
    auto n = count();
    if (n == 0) {
        return 0;
    }
    q = q < 0 ? 0 : (q > 1 ? 1 : q);
    auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(n)));
    rank = rank == 0 ? 1 : rank;
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < _buckets.size(); ++i) {
        seen += _buckets[i].load(std::memory_order_relaxed);
        if (seen >= rank) {
            auto bound = upper_bound_of(i);
            return bound < max() ? bound : max();
        }
    }
    return max();
}

Histogram::Snapshot Histogram::snapshot() const {
    Snapshot s;
    for (std::size_t i = 0; i < _buckets.size(); ++i) {
        auto n = _buckets[i].load(std::memory_order_relaxed);
        if (n != 0) {
            s.buckets.emplace_back(static_cast<std::uint32_t>(i), n);
            s.count += n;
        }
    }
    s.sum = _sum.load(std::memory_order_relaxed);
    s.max = max();
    return s;
}

std::uint64_t Histogram::quantile_between(const Snapshot& newer, const Snapshot& older,
                                          double q) noexcept {
    auto n = newer.count - std::min(older.count, newer.count);
    if (n == 0) {
        return 0;
    }
    q = q < 0 ? 0 : (q > 1 ? 1 : q);
    auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(n)));
    rank = rank == 0 ? 1 : rank;
    std::uint64_t seen = 0;
    auto o = older.buckets.begin();
    std::uint32_t last = 0;
    for (const auto& [index, count] : newer.buckets) {
        while (o != older.buckets.end() && o->first < index) {
            ++o;
        }
        auto before = o != older.buckets.end() && o->first == index ? o->second : 0;
        seen += count - std::min(before, count);
        last = index;
        if (seen >= rank) {
            return std::min(upper_bound_of(index), newer.max);
        }
    }
    return std::min(upper_bound_of(last), newer.max);
}

void Histogram::reset() noexcept {
    for (auto& b : _buckets) {
        b.store(0, std::memory_order_relaxed);
    }
    _count.store(0);
    _sum.store(0);
    _max.store(0);
}

}  // namespace agentstream
