// Property tests for windows: any arrival order within the allowed out-of-orderness gives the
// same final results as event-time order (no event late, the same windows with the same
// aggregates), for tumbling, hopping and session windows.
#include <agentstream/window/windows.h>

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <tuple>
#include <vector>

namespace agentstream::window {
namespace {

using namespace std::chrono_literals;

struct Sample {
    std::string key;
    Millis time;
    int value;  // small integers: sums are exact in any order
};

using Final = std::map<std::tuple<std::string, Millis, Millis>,
                       std::tuple<std::uint64_t, double, double, double>>;

// Feeds the samples in the given order, then flushes; the final results, keyed by window.
Final run(const WindowSpec& spec, const std::vector<Sample>& in, std::uint64_t* late) {
    WindowedAggregator agg(spec);
    std::vector<WindowResult> out;
    for (const auto& s : in) {
        if (agg.add(s.key, s.time, s.value, out) == AddResult::Late) {
            ++*late;
        }
    }
    agg.flush(out);
    Final f;
    for (const auto& r : out) {
        if (!r.final) {
            continue;
        }
        auto [it, fresh] = f.emplace(std::make_tuple(r.key, r.start, r.end),
                                     std::make_tuple(r.aggregate.count(), r.aggregate.sum(),
                                                     r.aggregate.min(), r.aggregate.max()));
        RC_ASSERT(fresh);  // each window closes once
    }
    return f;
}

void order_does_not_matter(WindowSpec spec) {
    const Millis disorder = *rc::gen::inRange<Millis>(0, 5'000);
    spec.out_of_orderness = std::chrono::milliseconds(disorder);
    auto samples = *rc::gen::container<std::vector<Sample>>(rc::gen::build<Sample>(
        rc::gen::set(&Sample::key, rc::gen::element<std::string>("a", "b", "c")),
        rc::gen::set(&Sample::time, rc::gen::inRange<Millis>(1'000'000, 1'060'000)),
        rc::gen::set(&Sample::value, rc::gen::inRange(-100, 100))));
    auto in_time_order = samples;
    std::stable_sort(in_time_order.begin(), in_time_order.end(),
                     [](const Sample& x, const Sample& y) { return x.time < y.time; });
    // Any order in which no event is more than `disorder` behind the newest before it: each
    // arrives at its time plus a delay of at most `disorder`.
    std::vector<std::pair<Millis, Sample>> arrivals;
    for (const auto& s : samples) {
        arrivals.emplace_back(s.time + *rc::gen::inRange<Millis>(0, disorder + 1), s);
    }
    std::stable_sort(arrivals.begin(), arrivals.end(),
                     [](const auto& x, const auto& y) { return x.first < y.first; });
    std::vector<Sample> shuffled;
    for (auto& [_, s] : arrivals) {
        shuffled.push_back(s);
    }
    std::uint64_t late_sorted = 0, late_shuffled = 0;
    auto want = run(spec, in_time_order, &late_sorted);
    auto got = run(spec, shuffled, &late_shuffled);
    RC_ASSERT(late_sorted == 0U);
    RC_ASSERT(late_shuffled == 0U);
    RC_ASSERT(got == want);
    std::uint64_t counted = 0;
    for (const auto& [_, v] : want) {
        counted += std::get<0>(v);
    }
    // Every event is in a window (hopping: in size/advance of them).
    auto per_event = spec.kind == WindowKind::Hopping ? spec.size / spec.advance : 1;
    RC_ASSERT(counted == samples.size() * static_cast<std::uint64_t>(per_event));
}

RC_GTEST_PROP(WindowProperties, TumblingOrderWithinLatenessDoesNotMatter, ()) {
    order_does_not_matter(WindowSpec::tumbling(
        std::chrono::milliseconds(*rc::gen::element<Millis>(1'000, 7'000, 10'000, 60'000))));
}

RC_GTEST_PROP(WindowProperties, HoppingOrderWithinLatenessDoesNotMatter, ()) {
    auto advance = *rc::gen::element<Millis>(1'000, 2'500, 5'000);
    auto times = *rc::gen::inRange<Millis>(1, 5);
    order_does_not_matter(WindowSpec::hopping(std::chrono::milliseconds(advance * times),
                                              std::chrono::milliseconds(advance)));
}

RC_GTEST_PROP(WindowProperties, SessionOrderWithinLatenessDoesNotMatter, ()) {
    order_does_not_matter(WindowSpec::session(
        std::chrono::milliseconds(*rc::gen::element<Millis>(500, 3'000, 20'000))));
}

}  // namespace
}  // namespace agentstream::window
