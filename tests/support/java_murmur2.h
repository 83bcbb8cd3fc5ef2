// The Java client's default partitioner, written out independently of librdkafka, to check
// that agentstream places keys where Java producers do.
#pragma once

#include <cstdint>
#include <string_view>

namespace agentstream::testing {

inline std::int32_t java_murmur2(std::string_view key) {
    const auto* data = reinterpret_cast<const unsigned char*>(key.data());
    const auto length = static_cast<std::uint32_t>(key.size());
    const std::uint32_t m = 0x5bd1e995;
    const int r = 24;
    std::uint32_t h = 0x9747b28c ^ length;
    for (std::uint32_t i = 0; i < length / 4; ++i) {
        std::uint32_t k = data[i * 4] | (data[i * 4 + 1] << 8) | (data[i * 4 + 2] << 16) |
                          (static_cast<std::uint32_t>(data[i * 4 + 3]) << 24);
        k *= m;
        k ^= k >> r;
        k *= m;
        h *= m;
        h ^= k;
    }
    const std::uint32_t tail = length & ~3U;
    switch (length % 4) {
        case 3: h ^= static_cast<std::uint32_t>(data[tail + 2]) << 16; [[fallthrough]];
        case 2: h ^= static_cast<std::uint32_t>(data[tail + 1]) << 8; [[fallthrough]];
        case 1: h ^= data[tail]; h *= m;
    }
    h ^= h >> 13;
    h *= m;
    h ^= h >> 15;
    return static_cast<std::int32_t>(h);
}

/// Utils.toPositive(murmur2(key)) % partitions.
inline std::int32_t java_partition(std::string_view key, std::int32_t partitions) {
    return static_cast<std::int32_t>(static_cast<std::uint32_t>(java_murmur2(key)) & 0x7fffffffU) %
           partitions;
}

}  // namespace agentstream::testing
