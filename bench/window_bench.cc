// Windowed aggregation (issue 7's goal: >= 150k events/s on one core): every event goes into a
// tumbling 10 s window and a hopping 60 s / 10 s window (six windows) of its key, 10,000 keys,
// count / sum / min / max / avg, event time advancing 1 ms every 150 events with up to 2 s of
// disorder; windows close on the watermark as they would in a service. A variant adds
// percentiles (DDSketch) and distinct counts (HyperLogLog) to the hopping window.
#include <agentstream/window/windows.h>

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <random>
#include <unordered_map>
#include <vector>

namespace {

using namespace agentstream::window;
using namespace std::chrono_literals;

struct Input {
    std::vector<std::string> keys;
    std::vector<std::uint32_t> key_of;
    std::vector<Millis> jitter_of;  // how far behind the stream's time an event is
    std::vector<double> value_of;
};

const Input& input() {
    static const Input in = [] {
        Input i;
        for (int k = 0; k < 10'000; ++k) {
            i.keys.push_back(fmt::format("agent-{:05d}", k));
        }
        std::mt19937 rng(1);
        constexpr int N = 1 << 20;
        for (int e = 0; e < N; ++e) {
            i.key_of.push_back(rng() % 10'000);
            i.jitter_of.push_back(static_cast<Millis>(rng() % 2'000));
            i.value_of.push_back(static_cast<double>(rng() % 1'000) / 10.0);
        }
        return i;
    }();
    return in;
}

void run(benchmark::State& state, bool sketches) {
    const auto& in = input();
    auto tumbling = WindowSpec::tumbling(10s);
    auto hopping = WindowSpec::hopping(60s, 10s);
    tumbling.out_of_orderness = hopping.out_of_orderness = 2s;
    hopping.aggregates.percentiles = sketches;
    hopping.aggregates.distinct = sketches;
    WindowedAggregator a(tumbling);
    WindowedAggregator b(hopping);
    std::vector<WindowResult> out;
    std::size_t i = 0;
    std::uint64_t results = 0;
    for (auto _ : state) {
        auto e = i++ & (in.key_of.size() - 1);
        const auto& key = in.keys[in.key_of[e]];
        Millis t = 1'700'000'000'000 + static_cast<Millis>(i / 150) - in.jitter_of[e];
        a.add(key, t, in.value_of[e], out);
        b.add(key, t, in.value_of[e], out, sketches ? distinct_hash(key) : 0);
        if (out.size() > 4096) {
            results += out.size();
            out.clear();
        }
    }
    state.SetItemsProcessed(state.iterations());
    state.counters["results"] = static_cast<double>(results + out.size());
    state.counters["open_windows"] =
        static_cast<double>(a.stats().open_windows + b.stats().open_windows);
}

// The floor: one hash-map update per event per window kind, no windows at all.
void BM_Baseline_HashMapSumTwicePerEvent(benchmark::State& state) {
    const auto& in = input();
    std::unordered_map<std::string, double> a;
    std::unordered_map<std::string, double> b;
    std::size_t i = 0;
    for (auto _ : state) {
        auto e = i++ & (in.key_of.size() - 1);
        const auto& key = in.keys[in.key_of[e]];
        a[key] += in.value_of[e];
        b[key] += in.value_of[e];
    }
    benchmark::DoNotOptimize(a.size() + b.size());
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Baseline_HashMapSumTwicePerEvent);

void BM_Tumbling10sAndHopping60s10s_10kKeys(benchmark::State& state) {
    run(state, false);
}
BENCHMARK(BM_Tumbling10sAndHopping60s10s_10kKeys);

void BM_SameWithPercentilesAndDistinct(benchmark::State& state) {
    run(state, true);
}
BENCHMARK(BM_SameWithPercentilesAndDistinct);

}  // namespace

BENCHMARK_MAIN();
