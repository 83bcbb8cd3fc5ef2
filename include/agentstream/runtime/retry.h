// What happens to an event whose processing failed: retry it after a backoff, or give up and
// send it to the dead-letter topic. Pure decisions (time is an argument) so they can be tested
// with a fake clock.
#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>

namespace agentstream::runtime {

/// Why an event could not be processed; written to the dead-letter header
/// `x-agentstream-error-class`.
enum class ErrorClass : std::uint8_t {
    Retriable,    ///< the handler said "try again" (RetriableError) and retries ran out
    Permanent,    ///< the handler failed and retrying cannot help (PermanentError, any exception)
    Undecodable,  ///< not JSON, not an object, bad UTF-8
    Invalid,      ///< JSON that breaks the catalogue's rules
    NullValue,    ///< a record with no value (a tombstone)
    Oversized,    ///< larger than event::MAX_EVENT_BYTES
    Delivery,     ///< the handler succeeded but an output could not be delivered
};

std::string_view to_string(ErrorClass c) noexcept;
/// Parses the header value back; false when unknown.
bool parse_error_class(std::string_view text, ErrorClass& out) noexcept;
/// Only Retriable failures are retried in process; every other class goes to dead letters at once.
constexpr bool is_retriable(ErrorClass c) noexcept {
    return c == ErrorClass::Retriable;
}

struct RetryPolicy {
    int max_attempts = 4;  ///< total handler attempts, the first included (1 = no retry)
    std::chrono::milliseconds initial_backoff{100};
    std::chrono::milliseconds max_backoff{5'000};
    double multiplier = 2.0;
    /// Each delay is drawn uniformly from [delay × (1 − jitter), delay]; 0 disables jitter.
    double jitter = 0.5;
    /// Upper bound on the time one event may spend in retries, so a partition is never held
    /// longer than this by one event (and the consumer stays well inside max.poll.interval.ms).
    std::chrono::milliseconds max_total{30'000};
};

struct RetryDecision {
    bool retry = false;
    std::chrono::milliseconds delay{0};  ///< when retry
};

/// Decides after attempt number `attempt` (1-based) failed with `error`. `first_failure` is when
/// the first attempt failed; `now` the current time; `random01` a number in [0, 1) for jitter.
RetryDecision decide(const RetryPolicy& policy, ErrorClass error, int attempt,
                     std::chrono::steady_clock::time_point first_failure,
                     std::chrono::steady_clock::time_point now, double random01) noexcept;

}  // namespace agentstream::runtime
