// Codec throughput on ~250-byte events: agentstream decode (parse + validate into an Event) and
// encode, beside the raw simdjson parse the decoder builds on (the floor) and nlohmann/json (the
// general-purpose library used elsewhere) on the same bytes.
#include <agentstream/event/codec.h>
#include <agentstream/event/factory.h>

#include <benchmark/benchmark.h>
#include <simdjson.h>
#include <nlohmann/json.hpp>

#include <vector>

namespace {

using namespace agentstream::event;

// A realistic mix of 250-byte-ish events: the same shapes the demo produces.
std::vector<Event> sample_events() {
    std::vector<Event> events;
    for (int i = 0; i < 64; ++i) {
        auto n = std::to_string(i);
        switch (i % 4) {
            case 0:
                events.push_back(EventFactory::document(
                    EventType::DocumentUploaded, "doc_" + n, "api",
                    {{"document_name", "report_" + n + ".pdf"}, {"file_size", 20480 + i}}));
                break;
            case 1:
                events.push_back(EventFactory::task(EventType::TaskCompleted, "task_" + n,
                                                    "document_analysis", "analyzer",
                                                    {{"execution_time_ms", 800 + i}}));
                break;
            case 2:
                events.push_back(EventFactory::analytics("response_time", 120.5 + i, "gauge", "api",
                                                         "collector"));
                break;
            default:
                events.push_back(EventFactory::system_health("kafka", "healthy", "monitor",
                                                             {{"response_time_ms", 3.5}}));
        }
    }
    return events;
}

std::vector<std::string> sample_json() {
    std::vector<std::string> out;
    for (const auto& e : sample_events()) {
        out.push_back(encode(e));
    }
    return out;
}

void set_counters(benchmark::State& state, const std::vector<std::string>& docs) {
    std::size_t bytes = 0;
    for (const auto& d : docs) {
        bytes += d.size();
    }
    state.SetItemsProcessed(state.iterations());
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes / docs.size()));
    state.counters["avg_bytes"] = static_cast<double>(bytes) / static_cast<double>(docs.size());
}

void BM_Decode(benchmark::State& state) {
    auto docs = sample_json();
    std::size_t i = 0;
    for (auto _ : state) {
        auto result = decode(docs[i++ % docs.size()]);
        benchmark::DoNotOptimize(result);
    }
    set_counters(state, docs);
}
BENCHMARK(BM_Decode);

// What the runtime does for processors that read only bytes (the router): the same checks,
// no event built.
void BM_Check(benchmark::State& state) {
    auto docs = sample_json();
    std::size_t i = 0;
    for (auto _ : state) {
        auto result = check(docs[i++ % docs.size()]);
        benchmark::DoNotOptimize(result);
    }
    set_counters(state, docs);
}
BENCHMARK(BM_Check);

void BM_Encode(benchmark::State& state) {
    auto events = sample_events();
    auto docs = sample_json();
    std::string out;
    std::size_t i = 0;
    for (auto _ : state) {
        out.clear();
        encode(events[i++ % events.size()], out);
        benchmark::DoNotOptimize(out.data());
    }
    set_counters(state, docs);
}
BENCHMARK(BM_Encode);

void BM_Baseline_SimdjsonParseOnly(benchmark::State& state) {
    auto docs = sample_json();
    simdjson::dom::parser parser;
    std::size_t i = 0;
    for (auto _ : state) {
        const auto& d = docs[i++ % docs.size()];
        auto doc = parser.parse(d.data(), d.size());
        benchmark::DoNotOptimize(doc);
    }
    set_counters(state, docs);
}
BENCHMARK(BM_Baseline_SimdjsonParseOnly);

void BM_Reference_NlohmannParse(benchmark::State& state) {
    auto docs = sample_json();
    std::size_t i = 0;
    for (auto _ : state) {
        auto j = nlohmann::json::parse(docs[i++ % docs.size()]);
        benchmark::DoNotOptimize(j);
    }
    set_counters(state, docs);
}
BENCHMARK(BM_Reference_NlohmannParse);

void BM_Reference_NlohmannDump(benchmark::State& state) {
    auto docs = sample_json();
    std::vector<nlohmann::json> parsed;
    for (const auto& d : docs) {
        parsed.push_back(nlohmann::json::parse(d));
    }
    std::size_t i = 0;
    for (auto _ : state) {
        auto s = parsed[i++ % parsed.size()].dump();
        benchmark::DoNotOptimize(s);
    }
    set_counters(state, docs);
}
BENCHMARK(BM_Reference_NlohmannDump);

}  // namespace

BENCHMARK_MAIN();
