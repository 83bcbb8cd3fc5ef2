#include <agentstream/core/histogram.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <thread>
#include <vector>

namespace agentstream {
namespace {

TEST(Histogram, EmptyIsZero) {
    Histogram h;
    EXPECT_EQ(h.count(), 0U);
    EXPECT_EQ(h.quantile(0.5), 0U);
    EXPECT_EQ(h.mean(), 0.0);
}

TEST(Histogram, SmallValuesAreExact) {
    Histogram h;
    for (std::uint64_t v = 0; v < 32; ++v) {
        h.record(v);
    }
    EXPECT_EQ(h.quantile(0.0), 0U);
    EXPECT_EQ(h.quantile(0.5), 15U);
    EXPECT_EQ(h.quantile(1.0), 31U);
    EXPECT_EQ(h.max(), 31U);
}

TEST(Histogram, QuantilesWithinThreePercentOfExact) {
    std::mt19937_64 rng(42);
    std::lognormal_distribution<double> dist(8.0, 1.5);
    std::vector<std::uint64_t> values;
    Histogram h;
    for (int i = 0; i < 100000; ++i) {
        auto v = static_cast<std::uint64_t>(dist(rng));
        values.push_back(v);
        h.record(v);
    }
    std::sort(values.begin(), values.end());
    for (double q : {0.5, 0.9, 0.95, 0.99, 0.999}) {
        auto exact = static_cast<double>(values[static_cast<std::size_t>(q * values.size()) - 1]);
        auto got = static_cast<double>(h.quantile(q));
        EXPECT_NEAR(got, exact, exact * 0.035 + 1) << "q=" << q;
    }
    EXPECT_EQ(h.max(), values.back());
    EXPECT_EQ(h.count(), values.size());
}

TEST(Histogram, HugeValuesDoNotOverflowTheBuckets) {
    Histogram h;
    h.record(~std::uint64_t{0});
    h.record(std::uint64_t{1} << 63);
    EXPECT_EQ(h.quantile(1.0), ~std::uint64_t{0});
}

TEST(Histogram, ConcurrentRecordsAreAllCounted) {
    Histogram h;
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&h] {
            for (int i = 0; i < 50000; ++i) {
                h.record(static_cast<std::uint64_t>(i));
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    EXPECT_EQ(h.count(), 200000U);
    EXPECT_EQ(h.max(), 49999U);
}

TEST(Histogram, QuantileBetweenSnapshotsSeesOnlyWhatCameBetween) {
    Histogram h;
    for (int i = 0; i < 1000; ++i) {
        h.record(10'000);
    }
    auto before = h.snapshot();
    EXPECT_EQ(before.count, 1000u);
    for (std::uint64_t v = 1; v <= 100; ++v) {
        h.record(v);
    }
    auto after = h.snapshot();
    EXPECT_EQ(Histogram::quantile_between(after, before, 0.5), 50u);  // exact below 64
    EXPECT_NEAR(static_cast<double>(Histogram::quantile_between(after, before, 0.99)), 99, 3);
    EXPECT_EQ(Histogram::quantile_between(after, after, 0.5), 0u);  // nothing in between
    EXPECT_GE(Histogram::quantile_between(after, Histogram::Snapshot{}, 0.99), 9'700u);
}

}  // namespace
}  // namespace agentstream
