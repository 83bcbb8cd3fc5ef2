// Windows on event time: every kind with out-of-order and late events, watermarks and allowed
// lateness, early updates, bounded keys, the sketches' accuracy, and checkpoints: a run that
// is "killed" mid-window and restored from its key states gives the results of an
// uninterrupted run.
#include <agentstream/window/windows.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>

namespace agentstream::window {
namespace {

using namespace std::chrono_literals;

struct Row {
    std::string key;
    Millis start, end;
    std::uint64_t count;
    double sum;
    bool operator==(const Row&) const = default;
    bool operator<(const Row& o) const {
        return std::tie(key, start, end) < std::tie(o.key, o.start, o.end);
    }
};

std::vector<Row> rows(const std::vector<WindowResult>& results) {
    std::vector<Row> out;
    for (const auto& r : results) {
        out.push_back({r.key, r.start, r.end, r.aggregate.count(), r.aggregate.sum()});
    }
    return out;
}

TEST(Windows, TumblingClosesOnTheWatermarkAndReportsLateEvents) {
    auto spec = WindowSpec::tumbling(10s);
    spec.out_of_orderness = 2s;
    WindowedAggregator w(spec);
    std::vector<WindowResult> out;
    EXPECT_EQ(w.add("a", 1'000, 1, out), AddResult::Added);
    EXPECT_EQ(w.add("a", 9'000, 2, out), AddResult::Added);
    EXPECT_EQ(w.add("b", 5'000, 10, out), AddResult::Added);
    EXPECT_EQ(w.add("a", 11'000, 4, out), AddResult::Added);  // watermark 9 s: [0, 10) open
    EXPECT_TRUE(out.empty());
    EXPECT_EQ(w.add("a", 8'500, 8, out), AddResult::Added);    // out of order, still on time
    EXPECT_EQ(w.add("a", 12'000, 16, out), AddResult::Added);  // watermark 10 s: [0, 10) closes
    std::sort(out.begin(), out.end(), [](const auto& x, const auto& y) { return x.key < y.key; });
    EXPECT_THAT(rows(out),
                ::testing::ElementsAre(Row{"a", 0, 10'000, 3, 11}, Row{"b", 0, 10'000, 1, 10}));
    out.clear();
    EXPECT_EQ(w.add("a", 9'999, 100, out), AddResult::Late);  // its window has closed
    EXPECT_EQ(w.stats().late, 1U);
    w.flush(out);
    EXPECT_THAT(rows(out), ::testing::ElementsAre(Row{"a", 10'000, 20'000, 2, 20}));
    EXPECT_EQ(w.stats().keys, 0U);  // closed windows leave no state
}

TEST(Windows, AllowedLatenessKeepsAWindowOpenPastTheWatermark) {
    auto spec = WindowSpec::tumbling(10s);
    spec.allowed_lateness = 5s;
    WindowedAggregator w(spec);
    std::vector<WindowResult> out;
    w.add("a", 1'000, 1, out);
    w.add("a", 12'000, 1, out);  // watermark 12 s: [0, 10) is past its end, within lateness
    EXPECT_EQ(w.add("a", 2'000, 1, out), AddResult::Added);  // late but allowed
    EXPECT_TRUE(out.empty());
    w.add("a", 15'000, 1, out);  // watermark 15 s = end + lateness: closes
    ASSERT_EQ(out.size(), 1U);
    EXPECT_EQ(out[0].aggregate.count(), 2U);
    EXPECT_EQ(w.add("a", 3'000, 1, out), AddResult::Late);
}

TEST(Windows, HoppingPutsAnEventInEveryWindowHoldingIt) {
    WindowedAggregator w(WindowSpec::hopping(30s, 10s));
    std::vector<WindowResult> out;
    w.add("k", 25'000, 1, out);  // windows starting at 0, 10 s and 20 s
    w.add("k", 35'000, 2, out);  // 10, 20, 30
    w.flush(out);
    std::sort(out.begin(), out.end(),
              [](const auto& x, const auto& y) { return x.start < y.start; });
    EXPECT_THAT(rows(out), ::testing::ElementsAre(
                               Row{"k", 0, 30'000, 1, 1}, Row{"k", 10'000, 40'000, 2, 3},
                               Row{"k", 20'000, 50'000, 2, 3}, Row{"k", 30'000, 60'000, 1, 2}));
    EXPECT_THROW(WindowedAggregator(WindowSpec::hopping(25s, 10s)), std::invalid_argument);
}

TEST(Windows, SessionsGrowMergeAndCloseAfterTheGap) {
    auto spec = WindowSpec::session(5s);
    spec.out_of_orderness = 10s;
    WindowedAggregator w(spec);
    std::vector<WindowResult> out;
    w.add("u", 0, 1, out);
    w.add("u", 3'000, 1, out);   // same session
    w.add("u", 20'000, 1, out);  // watermark 10 s: [0, 3 s] closed at 3 + 5 = 8 s
    ASSERT_EQ(out.size(), 1U);
    EXPECT_EQ(rows(out)[0], (Row{"u", 0, 3'001, 2, 2}));
    out.clear();
    w.add("u", 29'000, 1, out);  // a second session at 29 s (watermark 19 s)
    w.add("u", 24'500, 1, out);  // out of order: bridges 20 s and 29 s into one session
    w.flush(out);
    ASSERT_EQ(out.size(), 1U);
    EXPECT_EQ(rows(out)[0], (Row{"u", 20'000, 29'001, 3, 3}));
}

TEST(Windows, SlidingAggregatesTheLastSizeOfEachKeyAtEveryEvent) {
    WindowedAggregator w(WindowSpec::sliding(10s));
    std::vector<WindowResult> out;
    w.add("s", 0, 1, out);
    w.add("s", 5'000, 2, out);
    w.add("s", 12'000, 4, out);  // [2 s, 12 s]: 5 s and 12 s
    ASSERT_EQ(out.size(), 3U);
    EXPECT_EQ(out[2].aggregate.count(), 2U);
    EXPECT_EQ(out[2].aggregate.sum(), 6);
    EXPECT_EQ(out[2].start, 2'000);
    EXPECT_EQ(w.add("s", 1'000, 1, out), AddResult::Late);  // behind the watermark
}

TEST(Windows, CountWindowsEmitEveryNEventsPerKey) {
    WindowedAggregator w(WindowSpec::counting(3));
    std::vector<WindowResult> out;
    for (int i = 0; i < 7; ++i) {
        w.add(i % 2 ? "odd" : "even", 1000 * i, i, out);
    }
    // even: 0, 2, 4 -> a window; 6 pending. odd: 1, 3, 5 -> a window.
    EXPECT_THAT(rows(out), ::testing::ElementsAre(Row{"even", 0, 4'001, 3, 6},
                                                  Row{"odd", 1'000, 5'001, 3, 9}));
    out.clear();
    w.flush(out);
    EXPECT_THAT(rows(out), ::testing::ElementsAre(Row{"even", 6'000, 6'001, 1, 6}));
}

TEST(Windows, EarlyUpdatesReportOpenWindowsThatChanged) {
    WindowedAggregator w(WindowSpec::tumbling(1min));
    std::vector<WindowResult> out;
    w.add("a", 1'000, 1, out);
    w.add("b", 1'000, 1, out);
    std::vector<WindowResult> early;
    w.early_updates(early);
    EXPECT_EQ(early.size(), 2U);
    EXPECT_FALSE(early[0].final);
    early.clear();
    w.add("a", 2'000, 1, out);
    w.early_updates(early);
    ASSERT_EQ(early.size(), 1U);
    EXPECT_EQ(early[0].key, "a");
    EXPECT_EQ(early[0].aggregate.count(), 2U);
    EXPECT_TRUE(out.empty());
}

TEST(Windows, KeysAreBounded) {
    auto spec = WindowSpec::tumbling(10s);
    spec.max_keys = 2;
    WindowedAggregator w(spec);
    std::vector<WindowResult> out;
    EXPECT_EQ(w.add("a", 0, 1, out), AddResult::Added);
    EXPECT_EQ(w.add("b", 0, 1, out), AddResult::Added);
    EXPECT_EQ(w.add("c", 0, 1, out), AddResult::Overflow);
    EXPECT_EQ(w.add("a", 1, 1, out), AddResult::Added);
    w.add("a", 20'000, 1, out);  // [0, 10) closes for a and b: room again
    EXPECT_EQ(w.add("c", 20'001, 1, out), AddResult::Added);
    EXPECT_EQ(w.stats().overflow, 1U);
}

TEST(Aggregates, PercentilesWithinOnePercentAndDistinctWithinTenPercent) {
    AggregateOptions o;
    o.percentiles = true;
    o.distinct = true;
    Aggregate a(o);
    std::mt19937_64 rng(7);
    std::lognormal_distribution<double> latency(3, 1);
    std::vector<double> values;
    for (int i = 0; i < 50'000; ++i) {
        double v = latency(rng);
        values.push_back(v);
        a.add(v);
        a.add_distinct(distinct_hash("user-" + std::to_string(i % 20'000)));
    }
    std::sort(values.begin(), values.end());
    for (auto [kind, q] : {std::pair{AggregateKind::P50, 0.5},
                           {AggregateKind::P95, 0.95},
                           {AggregateKind::P99, 0.99}}) {
        double exact = values[static_cast<std::size_t>(q * values.size()) - 1];
        EXPECT_NEAR(a.value(kind), exact, exact * 0.011) << to_string(kind);
    }
    EXPECT_NEAR(a.value(AggregateKind::Distinct), 20'000, 2'000);
    EXPECT_NEAR(a.value(AggregateKind::Avg),
                std::accumulate(values.begin(), values.end(), 0.0) / values.size(), 1e-6);
    // Round trip through the changelog encoding.
    std::string bytes;
    a.encode(bytes);
    Aggregate b;
    std::string_view in(bytes);
    ASSERT_TRUE(b.decode(in));
    EXPECT_TRUE(in.empty());
    EXPECT_EQ(b.value(AggregateKind::P99), a.value(AggregateKind::P99));
    EXPECT_EQ(b.value(AggregateKind::Distinct), a.value(AggregateKind::Distinct));
    EXPECT_EQ(b.count(), a.count());
}

// A stream replayed with a "kill" at `cut`: states of changed keys and the max event time are
// saved (as a changelog would hold them), a fresh aggregator restores them and continues.
std::vector<Row> run(const WindowSpec& spec,
                     const std::vector<std::tuple<std::string, Millis, double>>& events,
                     std::optional<std::size_t> cut) {
    std::vector<WindowResult> out;
    auto w = std::make_unique<WindowedAggregator>(spec);
    std::map<std::string, std::string> changelog;  // compacted: the newest state per key
    for (std::size_t i = 0; i < events.size(); ++i) {
        if (cut && i == *cut) {
            for (const auto& key : w->take_changed_keys()) {
                if (auto s = w->key_state(key)) {
                    changelog[key] = *s;
                } else {
                    changelog.erase(key);  // a tombstone
                }
            }
            auto max_time = w->max_event_time();
            w = std::make_unique<WindowedAggregator>(spec);  // the restarted process
            for (const auto& [key, state] : changelog) {
                EXPECT_TRUE(w->restore_key(key, state));
            }
            w->restore_max_event_time(max_time);
        }
        const auto& [key, t, v] = events[i];
        w->add(key, t, v, out);
    }
    w->flush(out);
    auto r = rows(out);
    std::sort(r.begin(), r.end());
    return r;
}

TEST(Windows, ARestoreFromKeyStatesGivesTheResultsOfAnUninterruptedRun) {
    std::mt19937 rng(42);
    std::vector<std::tuple<std::string, Millis, double>> events;
    for (int i = 0; i < 5'000; ++i) {
        Millis t = i * 100 + static_cast<Millis>(rng() % 3'000);  // up to 3 s out of order
        events.emplace_back("k" + std::to_string(rng() % 50), t, static_cast<double>(rng() % 100));
    }
    for (auto spec : {WindowSpec::tumbling(10s), WindowSpec::hopping(60s, 10s),
                      WindowSpec::session(2s), WindowSpec::counting(7)}) {
        spec.out_of_orderness = 3s;
        auto straight = run(spec, events, std::nullopt);
        ASSERT_FALSE(straight.empty());
        for (std::size_t cut : {1U, 1'234U, 2'500U, 4'999U}) {
            EXPECT_EQ(run(spec, events, cut), straight) << to_string(spec.kind) << " cut " << cut;
        }
    }
}

TEST(Windows, MalformedStateIsRefused) {
    WindowedAggregator w(WindowSpec::tumbling(10s));
    EXPECT_FALSE(w.restore_key("k", "garbage"));
    WindowedAggregator s(WindowSpec::session(1s));
    std::vector<WindowResult> out;
    s.add("k", 0, 1, out);
    auto state = s.key_state("k");
    ASSERT_TRUE(state);
    EXPECT_FALSE(w.restore_key("k", *state));  // another kind of window
}

}  // namespace
}  // namespace agentstream::window
