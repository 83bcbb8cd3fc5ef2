// Retry / dead-letter decisions, with time as an argument (a fake clock).
#include <agentstream/runtime/retry.h>

#include <gtest/gtest.h>

namespace agentstream::runtime {
namespace {

using namespace std::chrono_literals;
using TimePoint = std::chrono::steady_clock::time_point;

RetryPolicy no_jitter() {
    RetryPolicy p;
    p.max_attempts = 5;
    p.initial_backoff = 100ms;
    p.max_backoff = 1s;
    p.multiplier = 2.0;
    p.jitter = 0.0;
    p.max_total = 30s;
    return p;
}

TEST(Retry, BackoffDoublesUpToTheCapThenGivesUpAfterMaxAttempts) {
    auto p = no_jitter();
    TimePoint t0{};
    EXPECT_EQ(decide(p, ErrorClass::Retriable, 1, t0, t0, 0.3).delay, 100ms);
    EXPECT_EQ(decide(p, ErrorClass::Retriable, 2, t0, t0 + 100ms, 0.3).delay, 200ms);
    EXPECT_EQ(decide(p, ErrorClass::Retriable, 3, t0, t0 + 300ms, 0.3).delay, 400ms);
    EXPECT_EQ(decide(p, ErrorClass::Retriable, 4, t0, t0 + 700ms, 0.3).delay, 800ms);
    EXPECT_FALSE(decide(p, ErrorClass::Retriable, 5, t0, t0 + 1500ms, 0.3).retry);
    p.max_attempts = 10;
    EXPECT_EQ(decide(p, ErrorClass::Retriable, 6, t0, t0 + 2s, 0.3).delay, 1s);  // capped
}

TEST(Retry, OnlyRetriableFailuresAreRetried) {
    auto p = no_jitter();
    TimePoint t0{};
    for (auto c : {ErrorClass::Permanent, ErrorClass::Undecodable, ErrorClass::Invalid,
                   ErrorClass::NullValue, ErrorClass::Oversized, ErrorClass::Delivery}) {
        EXPECT_FALSE(decide(p, c, 1, t0, t0, 0.5).retry) << to_string(c);
    }
    EXPECT_TRUE(decide(p, ErrorClass::Retriable, 1, t0, t0, 0.5).retry);
}

TEST(Retry, OneAttemptMeansNoRetry) {
    auto p = no_jitter();
    p.max_attempts = 1;
    TimePoint t0{};
    EXPECT_FALSE(decide(p, ErrorClass::Retriable, 1, t0, t0, 0.5).retry);
}

TEST(Retry, JitterDrawsBetweenHalfAndFullDelay) {
    auto p = no_jitter();
    p.jitter = 0.5;
    TimePoint t0{};
    EXPECT_EQ(decide(p, ErrorClass::Retriable, 3, t0, t0, 0.0).delay, 400ms);
    EXPECT_EQ(decide(p, ErrorClass::Retriable, 3, t0, t0, 0.5).delay, 300ms);
    EXPECT_EQ(decide(p, ErrorClass::Retriable, 3, t0, t0, 0.999).delay, 200ms);
}

TEST(Retry, TotalTimeBoundGivesUpEvenWithAttemptsLeft) {
    auto p = no_jitter();
    p.max_attempts = 100;
    p.max_total = 2s;
    TimePoint t0{};
    EXPECT_TRUE(decide(p, ErrorClass::Retriable, 3, t0, t0 + 1500ms, 0.0).retry);   // 1.5 + 0.4
    EXPECT_FALSE(decide(p, ErrorClass::Retriable, 4, t0, t0 + 1900ms, 0.0).retry);  // 1.9 + 0.8
}

TEST(Retry, ErrorClassNamesRoundTrip) {
    for (auto c : {ErrorClass::Retriable, ErrorClass::Permanent, ErrorClass::Undecodable,
                   ErrorClass::Invalid, ErrorClass::NullValue, ErrorClass::Oversized,
                   ErrorClass::Delivery}) {
        ErrorClass back{};
        ASSERT_TRUE(parse_error_class(to_string(c), back));
        EXPECT_EQ(back, c);
    }
    ErrorClass ignored{};
    EXPECT_FALSE(parse_error_class("nonsense", ignored));
}

}  // namespace
}  // namespace agentstream::runtime
