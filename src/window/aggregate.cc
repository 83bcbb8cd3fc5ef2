#include <agentstream/window/aggregate.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>

#include "window/binary.h"

namespace agentstream::window {
namespace {

using detail::get;
using detail::put;

constexpr std::string_view AGGREGATE_KINDS[] = {"count", "sum", "min", "max",     "avg",
                                                "p50",   "p95", "p99", "distinct"};

constexpr double ACCURACY = 0.01;
const double GAMMA = (1 + ACCURACY) / (1 - ACCURACY);
const double LOG_GAMMA = std::log(GAMMA);
constexpr double TINY = 1e-9;  // smaller magnitudes count as zero

std::int32_t index_of(double magnitude) {
    return static_cast<std::int32_t>(std::ceil(std::log(magnitude) / LOG_GAMMA));
}

double value_of(std::int32_t index) {
    return 2 * std::pow(GAMMA, index) / (GAMMA + 1);
}

}  // namespace

std::string_view to_string(AggregateKind k) noexcept {
    return AGGREGATE_KINDS[static_cast<std::size_t>(k)];
}

bool parse_aggregate(std::string_view text, AggregateKind* out) noexcept {
    for (std::size_t i = 0; i < std::size(AGGREGATE_KINDS); ++i) {
        if (AGGREGATE_KINDS[i] == text) {
            *out = static_cast<AggregateKind>(i);
            return true;
        }
    }
    return false;
}

// ---- QuantileSketch ----

void QuantileSketch::bump(Store& s, std::int32_t index, std::uint64_t n) {
    auto it = std::lower_bound(s.begin(), s.end(), index,
                               [](const auto& e, std::int32_t i) { return e.first < i; });
    if (it != s.end() && it->first == index) {
        it->second += n;
    } else {
        s.insert(it, {index, n});
    }
}

void QuantileSketch::add(double v) {
    ++_count;
    if (v > TINY) {
        bump(_positive, index_of(v), 1);
    } else if (v < -TINY) {
        bump(_negative, index_of(-v), 1);
    } else {
        ++_zero;
    }
}

void QuantileSketch::merge(const QuantileSketch& other) {
    for (const auto& [i, n] : other._positive) {
        bump(_positive, i, n);
    }
    for (const auto& [i, n] : other._negative) {
        bump(_negative, i, n);
    }
    _zero += other._zero;
    _count += other._count;
}

double QuantileSketch::quantile(double q) const {
    if (_count == 0) {
        return 0;
    }
    q = std::clamp(q, 0.0, 1.0);
    auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(_count)));
    rank = std::max<std::uint64_t>(rank, 1);
    std::uint64_t seen = 0;
    // Most negative first: the negative store from its largest magnitude down.
    for (auto it = _negative.rbegin(); it != _negative.rend(); ++it) {
        seen += it->second;
        if (seen >= rank) {
            return -value_of(it->first);
        }
    }
    seen += _zero;
    if (seen >= rank) {
        return 0;
    }
    for (const auto& [i, n] : _positive) {
        seen += n;
        if (seen >= rank) {
            return value_of(i);
        }
    }
    return _positive.empty() ? 0 : value_of(_positive.back().first);
}

void QuantileSketch::encode(std::string& out) const {
    put(out, _count);
    put(out, _zero);
    for (const auto* s : {&_positive, &_negative}) {
        put(out, static_cast<std::uint32_t>(s->size()));
        for (const auto& [i, n] : *s) {
            put(out, i);
            put(out, n);
        }
    }
}

bool QuantileSketch::decode(std::string_view& in) {
    if (!get(in, _count) || !get(in, _zero)) {
        return false;
    }
    for (auto* s : {&_positive, &_negative}) {
        std::uint32_t size = 0;
        if (!get(in, size) || in.size() < static_cast<std::size_t>(size) * 12) {
            return false;
        }
        s->resize(size);
        for (auto& [i, n] : *s) {
            if (!get(in, i) || !get(in, n)) {
                return false;
            }
        }
    }
    return true;
}

// ---- DistinctSketch (HyperLogLog) ----

void DistinctSketch::add(std::uint64_t hash) {
    if (_registers.empty()) {
        _registers.assign(std::size_t{1} << PRECISION, 0);
    }
    auto index = static_cast<std::size_t>(hash >> (64 - PRECISION));
    auto rest = (hash << PRECISION) | (std::uint64_t{1} << (PRECISION - 1));  // never all zero
    auto rank = static_cast<std::uint8_t>(std::countl_zero(rest) + 1);
    _registers[index] = std::max(_registers[index], rank);
}

void DistinctSketch::merge(const DistinctSketch& other) {
    if (other._registers.empty()) {
        return;
    }
    if (_registers.empty()) {
        _registers = other._registers;
        return;
    }
    for (std::size_t i = 0; i < _registers.size(); ++i) {
        _registers[i] = std::max(_registers[i], other._registers[i]);
    }
}

double DistinctSketch::estimate() const {
    if (_registers.empty()) {
        return 0;
    }
    const double m = static_cast<double>(_registers.size());
    double sum = 0;
    std::size_t zeros = 0;
    for (auto r : _registers) {
        sum += std::ldexp(1.0, -static_cast<int>(r));
        zeros += r == 0;
    }
    double alpha = 0.7213 / (1 + 1.079 / m);
    double e = alpha * m * m / sum;
    if (e <= 2.5 * m && zeros > 0) {
        e = m * std::log(m / static_cast<double>(zeros));  // linear counting for small sets
    }
    return e;
}

void DistinctSketch::encode(std::string& out) const {
    put(out, static_cast<std::uint8_t>(_registers.empty() ? 0 : 1));
    out.append(reinterpret_cast<const char*>(_registers.data()), _registers.size());
}

bool DistinctSketch::decode(std::string_view& in) {
    std::uint8_t present = 0;
    if (!get(in, present)) {
        return false;
    }
    if (present == 0) {
        _registers.clear();
        return true;
    }
    std::size_t m = std::size_t{1} << PRECISION;
    if (in.size() < m) {
        return false;
    }
    _registers.assign(in.begin(), in.begin() + static_cast<std::ptrdiff_t>(m));
    in.remove_prefix(m);
    return true;
}

std::uint64_t distinct_hash(std::string_view value) noexcept {
    // FNV-1a, then the splitmix64 finaliser so every bit depends on every input bit.
    std::uint64_t h = 1469598103934665603ULL;
    for (unsigned char c : value) {
        h = (h ^ c) * 1099511628211ULL;
    }
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebULL;
    h ^= h >> 31;
    return h;
}

// ---- Aggregate ----

Aggregate::Aggregate(const AggregateOptions& options) {
    if (options.percentiles) {
        _quantiles = std::make_unique<QuantileSketch>();
    }
    if (options.distinct) {
        _distinct = std::make_unique<DistinctSketch>();
    }
}

Aggregate::Aggregate(const Aggregate& other)
    : _count(other._count), _sum(other._sum), _min(other._min), _max(other._max) {
    if (other._quantiles) {
        _quantiles = std::make_unique<QuantileSketch>(*other._quantiles);
    }
    if (other._distinct) {
        _distinct = std::make_unique<DistinctSketch>(*other._distinct);
    }
}

Aggregate& Aggregate::operator=(const Aggregate& other) {
    if (this != &other) {
        Aggregate copy(other);
        *this = std::move(copy);
    }
    return *this;
}

void Aggregate::merge(const Aggregate& other) {
    _count += other._count;
    _sum += other._sum;
    _min = std::min(_min, other._min);
    _max = std::max(_max, other._max);
    if (_quantiles && other._quantiles) {
        _quantiles->merge(*other._quantiles);
    }
    if (_distinct && other._distinct) {
        _distinct->merge(*other._distinct);
    }
}

double Aggregate::value(AggregateKind kind) const {
    switch (kind) {
        case AggregateKind::Count: return static_cast<double>(_count);
        case AggregateKind::Sum: return _sum;
        case AggregateKind::Min: return min();
        case AggregateKind::Max: return max();
        case AggregateKind::Avg: return avg();
        // Within the sketch's 1%, and never outside what was seen (a constant series reads
        // exactly).
        case AggregateKind::P50:
            return _quantiles ? std::clamp(_quantiles->quantile(0.5), min(), max()) : 0;
        case AggregateKind::P95:
            return _quantiles ? std::clamp(_quantiles->quantile(0.95), min(), max()) : 0;
        case AggregateKind::P99:
            return _quantiles ? std::clamp(_quantiles->quantile(0.99), min(), max()) : 0;
        case AggregateKind::Distinct: return _distinct ? _distinct->estimate() : 0;
    }
    return 0;
}

void Aggregate::encode(std::string& out) const {
    put(out, _count);
    put(out, _sum);
    put(out, _min);
    put(out, _max);
    put(out, static_cast<std::uint8_t>((_quantiles ? 1 : 0) | (_distinct ? 2 : 0)));
    if (_quantiles) {
        _quantiles->encode(out);
    }
    if (_distinct) {
        _distinct->encode(out);
    }
}

bool Aggregate::decode(std::string_view& in) {
    std::uint8_t flags = 0;
    if (!get(in, _count) || !get(in, _sum) || !get(in, _min) || !get(in, _max) || !get(in, flags)) {
        return false;
    }
    _quantiles.reset();
    _distinct.reset();
    if ((flags & 1) != 0) {
        _quantiles = std::make_unique<QuantileSketch>();
        if (!_quantiles->decode(in)) {
            return false;
        }
    }
    if ((flags & 2) != 0) {
        _distinct = std::make_unique<DistinctSketch>();
        if (!_distinct->decode(in)) {
            return false;
        }
    }
    return true;
}

}  // namespace agentstream::window
