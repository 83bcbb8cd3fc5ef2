// `agentstream run`: the pipeline file given with --config run as a pipeline::Application
// until interrupted (SIGINT/SIGTERM stop it, SIGHUP reloads). The demo drives it through hooks.
#pragma once

#include <agentstream/pipeline/application.h>

namespace agentstream::cli {

struct RunArgs {
    int workers = 1;
    bool exactly_once = false;
    bool from_latest = false;
    double status_interval_s = 30;
    double watch_interval_s = 1;
    int http_port = -1;  // -1: http.port from the file
};

using RunView = pipeline::ApplicationView;
using RunHooks = pipeline::ApplicationHooks;

/// Runs the pipeline file given with --config. Throws UsageError / ConfigError / runtime
/// errors as `agentstream run` reports them.
void run_pipeline(const RunArgs& args, const RunHooks& hooks = {});

}  // namespace agentstream::cli
