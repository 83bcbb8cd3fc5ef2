// In-memory router throughput on one core: 20 routes, each with an event-type filter, two field
// predicates and one transformation, over the demo's event mix (~250 bytes per event). Beside
// it, the floor: simdjson's on-demand parse of the same bytes (the router's first step).
#include <agentstream/config/config.h>
#include <agentstream/event/codec.h>
#include <agentstream/event/factory.h>
#include <agentstream/router/router.h>

#include <benchmark/benchmark.h>
#include <fmt/format.h>
#include <simdjson.h>

#include <cstring>
#include <vector>

namespace {

using namespace agentstream;
using namespace agentstream::event;

std::vector<std::string> sample_json() {
    std::vector<std::string> out;
    for (int i = 0; i < 64; ++i) {
        auto n = std::to_string(i);
        Priority priority = i % 3 == 0 ? Priority::High : Priority::Medium;
        Event e = [&] {
            switch (i % 4) {
                case 0:
                    return EventFactory::document(EventType::DocumentUploaded, "doc_" + n, "api",
                                                  {{"document_name", "report_" + n + ".pdf"},
                                                   {"file_size", 20480 + i * 512}});
                case 1:
                    return EventFactory::task(EventType::TaskCompleted, "task_" + n,
                                              "document_analysis", "analyzer",
                                              {{"execution_time_ms", 800 + i * 10}});
                case 2:
                    return EventFactory::analytics("response_time", 120.5 + i, "gauge", "api",
                                                   "collector");
                default:
                    return EventFactory::system_health("kafka", i % 2 ? "healthy" : "warning",
                                                       "monitor", {{"response_time_ms", 3.5}});
            }
        }();
        e.set_priority(priority);
        out.push_back(encode(e));
    }
    return out;
}

// 20 routes: five per event type, each with two predicates (one on the envelope, one on a
// family field) and one transformation.
std::string pipeline(bool shared_target) {
    std::string yaml = "topics: {events: 8, out: 8";
    for (int i = 0; i < 20; ++i) {
        yaml += fmt::format(", out_{}: 8", i);
    }
    yaml += "}\nroutes:\n";
    struct Shape {
        const char* type;
        const char* field;
        const char* op;
    };
    const Shape shapes[] = {
        {"document.uploaded", "file_size", "gt"},
        {"task.completed", "execution_time_ms", "lte"},
        {"analytics.metric.update", "metric_value", "gte"},
        {"system.health", "status", "in"},
    };
    for (int i = 0; i < 20; ++i) {
        const auto& s = shapes[i % 4];
        std::string op = s.op;
        std::string threshold = op == "in"    ? (i % 2 ? "[healthy, warning]" : "[healthy, down]")
                                : op == "gte" ? fmt::format("{}", 100 + i * 2)
                                : op == "lte" ? fmt::format("{}", 900 + i * 20)
                                              : fmt::format("{}", 1000 + i * 1500);
        yaml += fmt::format(
            "  - name: route_{}\n    source_topics: [events]\n    target_topics: [{}]\n"
            "    event_types: [{}]\n    filters:\n      priority: {{in: [medium, high]}}\n"
            "      {}: {{{}: {}}}\n    transformations:\n"
            "      - add_field: {{path: routed_by, value: route_{}}}\n    priority: {}\n",
            i, shared_target ? std::string("out") : fmt::format("out_{}", i), s.type, s.field, s.op,
            threshold, i, i);
    }
    return yaml;
}

// The routes of processor_load's router case: five per event type, two envelope predicates
// every event passes, no transformation, one target (events go out as their original bytes).
std::string envelope_pipeline() {
    const char* types[] = {"document.uploaded", "task.completed", "analytics.metric.update",
                           "system.health"};
    std::string yaml = "topics: {events: 8, out: 8}\nroutes:\n";
    for (int i = 0; i < 20; ++i) {
        yaml += fmt::format(
            "  - name: route_{0}\n    source_topics: [events]\n    target_topics: [out]\n"
            "    event_types: [{1}]\n    priority: {0}\n"
            "    filters: {{priority: {{in: [low, medium, high, critical]}}, "
            "source: {{exists: true}}}}\n",
            i, types[i % 4]);
    }
    return yaml;
}

router::RouteTable table(router::RoutingMode mode, const std::string& yaml) {
    auto t = router::load_routes(config::Config::parse(yaml, "bench.yaml"));
    t.mode = mode;
    return t;
}

void run(benchmark::State& state, router::RoutingMode mode, bool shared_target,
         bool envelope_filters = false) {
    auto events = sample_json();
    router::Router r(table(mode, envelope_filters ? envelope_pipeline() : pipeline(shared_target)));
    router::Routing out;
    std::size_t i = 0;
    std::uint64_t deliveries = 0;
    std::uint64_t bytes = 0;
    for (auto _ : state) {
        const auto& json = events[i++ % events.size()];
        r.route("events", "key", json, out);
        deliveries += out.deliveries.size();
        bytes += json.size();
        benchmark::DoNotOptimize(out);
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
    state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
    state.counters["deliveries_per_event"] =
        static_cast<double>(deliveries) / static_cast<double>(state.iterations());
    auto m = r.metrics();
    std::uint64_t matched = 0;
    for (const auto& route : m.routes) {
        matched += route.matched;
    }
    state.counters["matches_per_event"] =
        static_cast<double>(matched) / static_cast<double>(state.iterations());
}

// Fan-out, each route to its own topic: every match is transformed and delivered (2.9 per event).
void BM_Router20RoutesFanOut(benchmark::State& state) {
    run(state, router::RoutingMode::FanOut, false);
}
BENCHMARK(BM_Router20RoutesFanOut);

// Fan-out, all routes to one topic: the highest match delivers, the others are skipped unbuilt.
void BM_Router20RoutesFanOutOneTarget(benchmark::State& state) {
    run(state, router::RoutingMode::FanOut, true);
}
BENCHMARK(BM_Router20RoutesFanOutOneTarget);

void BM_Router20RoutesFirstMatch(benchmark::State& state) {
    run(state, router::RoutingMode::FirstMatch, false);
}
BENCHMARK(BM_Router20RoutesFirstMatch);

// processor_load's routes: envelope predicates only, original bytes to one topic.
void BM_Router20RoutesEnvelopeFilters(benchmark::State& state) {
    run(state, router::RoutingMode::FanOut, true, true);
}
BENCHMARK(BM_Router20RoutesEnvelopeFilters);

// The floor: simdjson on-demand, finding the event type of the same bytes (with the copy into a
// padded buffer the router also makes).
void BM_SimdjsonFindType(benchmark::State& state) {
    auto events = sample_json();
    simdjson::ondemand::parser parser;
    simdjson::padded_string buffer(std::string(2048, ' '));
    std::size_t i = 0;
    for (auto _ : state) {
        const auto& json = events[i++ % events.size()];
        std::memcpy(buffer.data(), json.data(), json.size());
        auto doc = parser.iterate(buffer.data(), json.size(), buffer.size());
        std::string_view type;
        if (doc["event_type"].get_string().get(type)) {
            state.SkipWithError("parse");
        }
        benchmark::DoNotOptimize(type);
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_SimdjsonFindType);

}  // namespace

BENCHMARK_MAIN();
