#include <agentstream/runtime/retry.h>

#include <algorithm>
#include <array>
#include <cmath>

namespace agentstream::runtime {

namespace {
constexpr std::array<std::string_view, 7> kNames = {
    "retriable", "permanent", "undecodable", "invalid", "null-value", "oversized", "delivery"};
}

std::string_view to_string(ErrorClass c) noexcept {
    return kNames[static_cast<std::size_t>(c)];
}

bool parse_error_class(std::string_view text, ErrorClass& out) noexcept {
    for (std::size_t i = 0; i < kNames.size(); ++i) {
        if (kNames[i] == text) {
            out = static_cast<ErrorClass>(i);
            return true;
        }
    }
    return false;
}

RetryDecision decide(const RetryPolicy& policy, ErrorClass error, int attempt,
                     std::chrono::steady_clock::time_point first_failure,
                     std::chrono::steady_clock::time_point now, double random01) noexcept {
    if (!is_retriable(error) || attempt >= policy.max_attempts) {
        return {};
    }
    double base = static_cast<double>(policy.initial_backoff.count()) *
                  std::pow(std::max(policy.multiplier, 1.0), attempt - 1);
    base = std::min(base, static_cast<double>(policy.max_backoff.count()));
    double jitter = std::clamp(policy.jitter, 0.0, 1.0);
    double factor = 1.0 - jitter * std::clamp(random01, 0.0, 1.0);
    auto delay = std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(base * factor)));
    if ((now - first_failure) + delay > policy.max_total) {
        return {};
    }
    return {true, delay};
}

}  // namespace agentstream::runtime
