// Alert evaluation: 1,000 rules over 10,000 series, one evaluation cycle per iteration. Each
// rule selects its 100 series by label (partition_lag{group="gN"}, a synthetic gauge), so a cycle
// makes 100,000 rule-series evaluations; values jump every cycle, so alerts keep changing state.
#include <agentstream/monitor/alerts.h>

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <vector>

namespace {

using namespace agentstream::monitor;
using namespace std::chrono_literals;

void BM_Evaluate1000RulesOver10000Series(benchmark::State& state) {
    std::vector<SeriesInfo> infos;
    for (int g = 0; g < 100; ++g) {
        for (int t = 0; t < 100; ++t) {
            infos.push_back({"partition_lag",
                             "partition_lag",
                             Reading::Value,
                             {{"group", fmt::format("g{}", g)}, {"topic", fmt::format("t{}", t)}}});
        }
    }
    std::vector<AlertRule> rules;
    for (int i = 0; i < 1000; ++i) {
        AlertRule r;
        r.name = fmt::format("lag_{}", i);
        r.metric = "partition_lag";
        r.matchers = {{"group", fmt::format("g{}", i % 100), true}};
        r.condition = i % 2 ? Condition::Gt : Condition::Lte;
        r.threshold = 500 + i;
        r.for_duration = std::chrono::seconds(i % 4 * 10);
        rules.push_back(std::move(r));
    }
    AlertEngine engine(rules, [&](std::uint32_t id) { return infos.at(id); });
    std::vector<SeriesValue> values(infos.size());
    auto now = Clock::time_point(std::chrono::hours(24 * 365 * 56));
    std::uint64_t cycle = 0;
    std::uint64_t transitions = 0;
    for (auto _ : state) {
        ++cycle;
        // Lags between 0 and 2000; one series in `range(0)` jumps by 1000 each cycle.
        const auto every = static_cast<std::uint64_t>(state.range(0));
        for (std::uint32_t i = 0; i < values.size(); ++i) {
            bool jump = (i + cycle) % every == 0;
            values[i] = {i, static_cast<double>((i * 7919) % 2000 + (jump ? 1000 : 0))};
        }
        now += 10s;
        transitions += engine.evaluate(values, now).size();
    }
    state.counters["transitions_per_cycle"] =
        static_cast<double>(transitions) / static_cast<double>(cycle);
    state.counters["rule_series_per_cycle"] = 100'000;
}
// One series in 50 jumps per cycle (a busy system), and one in 2 (a storm of transitions).
BENCHMARK(BM_Evaluate1000RulesOver10000Series)->Arg(50)->Arg(2)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
