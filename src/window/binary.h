// Fixed-width little-endian (host order) fields for the window state's changelog encoding.
#pragma once

#include <cstring>
#include <string>
#include <string_view>

namespace agentstream::window::detail {

template <class T>
void put(std::string& out, T v) {
    char buf[sizeof(T)];
    std::memcpy(buf, &v, sizeof(T));
    out.append(buf, sizeof(T));
}

/// Reads a T at the front of `in`, advancing it; false when too short.
template <class T>
bool get(std::string_view& in, T& v) {
    if (in.size() < sizeof(T)) {
        return false;
    }
    std::memcpy(&v, in.data(), sizeof(T));
    in.remove_prefix(sizeof(T));
    return true;
}

}  // namespace agentstream::window::detail
