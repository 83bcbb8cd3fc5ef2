// The robust z-score detector on synthetic series with known anomalies: precision and recall
// are measured (and printed), and must stay high; a level shift is flagged, then learned.
#include <agentstream/processors/anomaly.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <random>
#include <set>

namespace agentstream::processors {
namespace {

struct Score {
    double precision;
    double recall;
};

Score score(const std::set<std::size_t>& truth, const std::set<std::size_t>& flagged) {
    std::size_t hit = 0;
    for (auto i : flagged) {
        hit += truth.count(i);
    }
    return {flagged.empty() ? 1.0 : static_cast<double>(hit) / static_cast<double>(flagged.size()),
            truth.empty() ? 1.0 : static_cast<double>(hit) / static_cast<double>(truth.size())};
}

TEST(RobustZScore, FindsInjectedSpikesWithHighPrecisionAndRecall) {
    std::mt19937 rng(11);
    std::normal_distribution<double> noise(100, 5);
    std::uniform_int_distribution<int> sign(0, 1);
    std::set<std::size_t> truth;
    std::vector<double> series;
    for (std::size_t i = 0; i < 5'000; ++i) {
        double x = noise(rng);
        if (i >= 60 && rng() % 50 == 0) {  // 2% of points: a spike of 6 to 10 sigma
            x += (sign(rng) ? 1 : -1) * (30 + static_cast<double>(rng() % 21));
            truth.insert(i);
        }
        series.push_back(x);
    }
    RobustZScore detector;
    std::set<std::size_t> flagged;
    for (std::size_t i = 0; i < series.size(); ++i) {
        if (detector.observe(series[i]).anomaly) {
            flagged.insert(i);
        }
    }
    auto s = score(truth, flagged);
    std::printf("spikes: %zu injected, %zu flagged, precision %.3f, recall %.3f\n", truth.size(),
                flagged.size(), s.precision, s.recall);
    RecordProperty("precision", std::to_string(s.precision));
    RecordProperty("recall", std::to_string(s.recall));
    EXPECT_GE(s.precision, 0.9);
    EXPECT_GE(s.recall, 0.95);
}

TEST(RobustZScore, FewFalseAlarmsOnNoiseAlone) {
    std::mt19937 rng(5);
    std::normal_distribution<double> normal(50, 2);
    std::student_t_distribution<double> heavy(5);  // heavier tails: real extremes happen
    RobustZScore a;
    RobustZScore b;
    std::size_t normal_flagged = 0;
    std::size_t heavy_flagged = 0;
    for (int i = 0; i < 10'000; ++i) {
        normal_flagged += a.observe(normal(rng)).anomaly;
        heavy_flagged += b.observe(50 + 2 * heavy(rng)).anomaly;
    }
    std::printf("noise only: normal %zu, student-t(5) %zu of 10000 flagged\n", normal_flagged,
                heavy_flagged);
    EXPECT_LT(normal_flagged, 50U);  // < 0.5%
    EXPECT_LT(heavy_flagged, 250U);  // < 2.5% (P(|t5| > 3.8) is 1.3% by itself)
}

TEST(RobustZScore, ALevelShiftIsFlaggedThenLearned) {
    RobustZScore detector;
    std::mt19937 rng(2);
    std::normal_distribution<double> noise(0, 1);
    for (int i = 0; i < 100; ++i) {
        detector.observe(10 + noise(rng));
    }
    auto first = detector.observe(30 + noise(rng));
    EXPECT_TRUE(first.anomaly);
    EXPECT_GT(first.z, 3.5);
    EXPECT_NEAR(first.median, 10, 1);
    int later = 0;
    for (int i = 0; i < 60; ++i) {
        later += detector.observe(30 + noise(rng)).anomaly;
    }
    EXPECT_LE(later, 32) << "once half the window holds the new level, it is normal";
    EXPECT_FALSE(detector.observe(30 + noise(rng)).anomaly);
}

TEST(RobustZScore, NeedsHistoryAndHandlesAConstantSeries) {
    RobustZScore detector;
    for (int i = 0; i < 20; ++i) {
        EXPECT_FALSE(detector.observe(5).judged);
    }
    EXPECT_TRUE(detector.observe(5).judged);
    EXPECT_FALSE(detector.observe(5).anomaly);  // MAD 0, no departure
    EXPECT_TRUE(detector.observe(6).anomaly);   // MAD 0: any clear departure
}

}  // namespace
}  // namespace agentstream::processors
