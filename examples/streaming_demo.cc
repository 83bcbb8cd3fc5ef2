// The demo (design "run_streaming_demo" with a StreamingDemoConfig): the standard pipeline
// file's routes, processors and agents fed by the load simulator for a few seconds, drained,
// and summarised from what every part counted.
#include <agentstream/pipeline/demo.h>

#include <fmt/core.h>

#include <chrono>
#include <cstdlib>

namespace as = agentstream;

int main(int argc, char** argv) {
    // The repository's config/pipeline.yaml (its agents read samples/documents beside it).
    const char* file = argc > 1 ? argv[1] : AGENTSTREAM_EXAMPLE_PIPELINE;

    as::pipeline::StreamingDemoConfig config;
    config.duration = std::chrono::seconds(5);
    config.event_generation_rate = 20.0;
    config.simulate_errors = true;
    config.error_rate_percent = 2.0;
    config.mix.document = 40;  // the design's example distribution
    config.mix.task = 30;
    config.mix.agent = 20;
    config.mix.analytics = 10;
    config.mix.notification = 0;

    as::pipeline::ApplicationOptions options;
    options.connection.quiet = true;
    options.http_port = 0;  // the dashboard on any free port
    as::pipeline::StreamingDemo demo(as::pipeline::PipelineSpec::load(file), config, options);
    auto summary = demo.run({}, [](const as::pipeline::ApplicationView& v) {
        fmt::print("demo running on {}; dashboard at {}\n", v.connection.brokers(),
                   v.monitor.url().value_or("(none)"));
    });

    auto generated = summary["generated"]["total"].get<std::uint64_t>();
    auto routed = summary["processed"]["router"]["routed"].get<std::uint64_t>();
    auto completed = summary["tasks"]["completed"].get<std::uint64_t>();
    fmt::print(
        "generated {} events in {:.1f} s; the router routed {}; the agents completed {} "
        "task(s); {} alert(s) fired; end-to-end p99 {:.1f} ms\n",
        generated, summary["duration_seconds"].get<double>(), routed, completed,
        summary["alerts"]["fired"].get<std::uint64_t>(),
        summary["latency_ms"]["end_to_end"]["p99"].get<double>());
    bool ok = generated > 0 && routed > 0 && completed > 0 && !summary["interrupted"].get<bool>();
    return ok ? EXIT_SUCCESS : EXIT_FAILURE;
}
