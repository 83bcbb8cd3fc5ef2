// `agentstream run` as a reusable loop: the router, the monitor, the domain processors and the
// agents of a pipeline file, ticking once a second until interrupted. The demo drives the same
// loop through hooks.
#pragma once

#include <agentstream/router/router.h>
#include <agentstream/runtime/processor.h>

#include <functional>

namespace agentstream::cli {

class Connection;
class DomainProcessors;
class ServiceMonitor;

struct RunArgs {
    int workers = 1;
    bool exactly_once = false;
    bool from_latest = false;
    double status_interval_s = 30;
    double watch_interval_s = 1;
    int http_port = -1;  // -1: http.port from the file
};

/// What the hooks see: the router's cumulative counters and the running parts.
struct RunView {
    const runtime::ProcessorMetrics& router_processor;
    const router::RouterMetrics& routes;
    const DomainProcessors& domain;
    ServiceMonitor& monitor;
    const Connection& connection;
};

struct RunHooks {
    /// Everything started (topics exist, consumers subscribed).
    std::function<void(const RunView&)> started;
    /// After each monitor tick (about once a second); false ends the run.
    std::function<bool(const RunView&)> tick;
    /// After everything stopped, with the final counters (also after Ctrl-C).
    std::function<void(const RunView&)> finished;
};

/// Runs the pipeline file given with --config. Throws UsageError / ConfigError / runtime
/// errors as `agentstream run` reports them.
void run_pipeline(const RunArgs& args, const RunHooks& hooks = {});

}  // namespace agentstream::cli
