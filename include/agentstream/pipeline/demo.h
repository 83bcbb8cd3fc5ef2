// The demo (the design's run_streaming_demo with its StreamingDemoConfig): the integrated
// system of a pipeline file fed by the load simulator for a while, then drained, and a summary
// computed from what every part counted. `agentstream demo` prints it; a program can run it
// the same way:
//
//     pipeline::StreamingDemoConfig config;         // 3 min at 5 events/s, 3% faults
//     config.duration = std::chrono::seconds(20);
//     pipeline::StreamingDemo demo(pipeline::PipelineSpec::load("config/pipeline.yaml"), config);
//     auto summary = demo.run();                   // JSON: generated, routed, tasks, alerts...
#pragma once

#include <agentstream/pipeline/application.h>
#include <agentstream/pipeline/simulator.h>

#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>

namespace agentstream::pipeline {

/// The design's StreamingDemoConfig, with run_streaming_demo's values as defaults.
struct StreamingDemoConfig {
    std::chrono::milliseconds duration = std::chrono::minutes(3);
    double event_generation_rate = 5.0;  ///< events drawn per second (follow-ups come on top)
    bool simulate_errors = true;
    double error_rate_percent = 3.0;
    EventMix mix;            ///< document, task, agent, analytics, notification percentages
    std::uint64_t seed = 0;  ///< 0: from the clock
};

/// What a progress callback sees about once a second.
struct DemoProgress {
    const ApplicationView& view;
    SimulatorCounts generated;
    std::chrono::milliseconds elapsed;   ///< of simulated load (stops growing while draining)
    std::chrono::milliseconds duration;  ///< configured
    bool draining;                       ///< the load stopped; waiting for the system to settle
};

class StreamingDemo {
  public:
    /// Throws SetupError when the pipeline has no agents section with document_roots or there
    /// are no sample documents under the first root, std::invalid_argument for simulator
    /// settings out of range, and what Application's constructor throws.
    StreamingDemo(PipelineSpec spec, StreamingDemoConfig config, ApplicationOptions options = {});
    ~StreamingDemo();
    StreamingDemo(const StreamingDemo&) = delete;
    StreamingDemo& operator=(const StreamingDemo&) = delete;

    /// Runs the load for the configured duration, then until everything it caused was
    /// processed (or 30 s), and returns the summary: duration_seconds, rate, generated (by
    /// type, topic and fault), processed (router, processors), routes, dead_lettered, tasks,
    /// agents, latency_ms, alerts, health, interrupted.
    /// `started`: everything runs and the load begins (the dashboard's address is known).
    nlohmann::json run(const std::function<void(const DemoProgress&)>& progress = {},
                       const std::function<void(const ApplicationView&)>& started = {});
    /// Ends the run early; the summary says interrupted. Async-signal-safe.
    void stop() noexcept { _app->stop(); }

  private:
    struct State;
    StreamingDemoConfig _config;
    SimulatorOptions _simulator;
    std::unique_ptr<Application> _app;
};

}  // namespace agentstream::pipeline
