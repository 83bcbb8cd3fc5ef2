// The integrated system (the design's create_integrated_streaming_system): a pipeline file, or
// one built in code, run as a service. It hosts the router, the domain processors, windowed
// aggregations, the agent service, the monitor (health, process statistics, alert publishing,
// notifications) and the HTTP API; `agentstream run` and `agentstream demo` are thin shells
// over it.
//
//     auto app = pipeline::Application(pipeline::PipelineSpec::load("config/pipeline.yaml"));
//     std::thread t([&] { app.run(); });   // until app.stop()
//
// Start is ordered (topics, monitor, router, domain processors); stop is the reverse. An edit
// of the file (or request_reload()) applies new routes, alert rules and notification channels
// once the whole file checks; a file that does not check leaves everything running as it was.
#pragma once

#include <agentstream/config/config.h>
#include <agentstream/pipeline/connection.h>
#include <agentstream/pipeline/domain_processors.h>
#include <agentstream/pipeline/service_monitor.h>
#include <agentstream/pipeline/totals.h>
#include <agentstream/processors/agent_config.h>
#include <agentstream/processors/config.h>
#include <agentstream/router/router.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

namespace agentstream::pipeline {

/// A pipeline file checked whole: routes compiled, alert rules, notification channels, domain
/// processors and agents read. Both constructors throw config::ConfigError with file and line.
struct PipelineSpec {
    config::Config config;
    std::shared_ptr<const router::Router> router;
    processors::DomainConfig processors;
    std::optional<processors::AgentSetup> agents;

    static PipelineSpec load(const std::filesystem::path& file);
    /// A configuration built in code (config::Config::parse): it cannot be reloaded from a file.
    static PipelineSpec from(config::Config config);
};

/// How the application was asked to run is not possible (not a mistake in the file): what()
/// says what, hint() what to do instead.
class SetupError : public std::invalid_argument {
  public:
    SetupError(const std::string& message, std::string hint)
        : std::invalid_argument(message), _hint(std::move(hint)) {}
    const std::string& hint() const noexcept { return _hint; }

  private:
    std::string _hint;
};

struct ApplicationOptions {
    ConnectionOptions connection;
    int workers = 1;               ///< threads routing events (per-key order is kept)
    bool exactly_once = false;     ///< Kafka transactions for the router (real Kafka, one worker)
    bool from_latest = false;      ///< new consumer groups start at the end of their inputs
    std::optional<int> http_port;  ///< overrides http.port (0: any free port); http.enabled: off
    /// Between the router's status log lines (0: none).
    std::chrono::milliseconds status_interval{30'000};
    /// Between checks of the pipeline file for edits (0: never; a spec from code has no file).
    std::chrono::milliseconds watch_interval{1'000};
    /// A part whose run throws is restarted after this long, doubling up to a minute. The
    /// router's first run failing before it read anything ends run() instead (a setup error,
    /// such as a property librdkafka refuses, is reported, not retried forever).
    std::chrono::milliseconds restart_backoff{1'000};
};

/// What the hooks see: the router's cumulative counters and the running parts.
struct ApplicationView {
    const runtime::ProcessorMetrics& router_processor;
    const router::RouterMetrics& routes;
    const DomainProcessors& domain;
    ServiceMonitor& monitor;
    const Connection& connection;
};

struct ApplicationHooks {
    /// Everything started (topics exist, consumers subscribed).
    std::function<void(const ApplicationView&)> started;
    /// Once every consumer (the router's, each processor's) has its partitions, or 30 s after
    /// the start, whichever comes first: what is produced from here is read at once, not after
    /// the groups' first rebalance (load generators start here).
    std::function<void(const ApplicationView&)> ready;
    /// After each monitor tick (about once a second); false ends the run.
    std::function<bool(const ApplicationView&)> tick;
    /// After everything stopped, with the final counters.
    std::function<void(const ApplicationView&)> finished;
};

struct ApplicationSummary {
    Totals totals;               ///< the router's, over every reload and restart
    std::uint64_t reloads = 0;   ///< applied
    std::uint64_t rejected = 0;  ///< refused (the running pipeline stayed)
    /// Parts restarted after their run threw: the router, and the domain processors.
    std::uint64_t router_restarts = 0;
    std::uint64_t processor_restarts = 0;
};

class Application {
  public:
    /// Throws SetupError when the options cannot work with the file (exactly-once with several
    /// workers; no enabled routes).
    explicit Application(PipelineSpec spec, ApplicationOptions options = {});
    ~Application();
    Application(const Application&) = delete;
    Application& operator=(const Application&) = delete;

    /// Starts everything, runs until stop() (or a hook ends it), stops in reverse order and
    /// returns the totals. A part whose run throws later is shown unhealthy and restarted with
    /// backoff (ApplicationOptions::restart_backoff). Throws what the start failed with:
    /// SetupError (exactly-once on the embedded broker), std::runtime_error (the HTTP port
    /// cannot be bound, the cluster refuses a topic, the router's first run failed at once).
    ApplicationSummary run(const ApplicationHooks& hooks = {});
    /// Ends run() within its shutdown deadlines. Async-signal-safe (an atomic store).
    void stop() noexcept { _stop.store(true); }
    /// Re-reads the pipeline file at the next cycle, as an edit of it does. Async-signal-safe.
    void request_reload() noexcept { _reload.store(true); }
    /// The pipeline given, or, after run() returned, the last one that ran. Not to be read
    /// while run() runs (a reload replaces it on run()'s thread; the hooks' view has the
    /// running parts).
    const PipelineSpec& spec() const noexcept { return _spec; }

  private:
    PipelineSpec _spec;
    ApplicationOptions _options;
    std::atomic<bool> _stop{false};
    std::atomic<bool> _reload{false};
};

}  // namespace agentstream::pipeline
