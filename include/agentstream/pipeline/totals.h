// Counters of a running application that survive reloads and consumer restarts: each router
// table and each processor starts at 0, the totals keep counting.
#pragma once

#include <agentstream/router/router.h>
#include <agentstream/runtime/processor.h>

namespace agentstream::pipeline {

struct Totals {
    router::RouterMetrics router;
    runtime::ProcessorMetrics processor;

    /// A retired router table's counters: routes are matched by name (a route kept across a
    /// reload keeps counting; its latency is the latest table's).
    void add(const router::RouterMetrics& m);
    /// A stopped processor's counters; gauges (in flight, lag, health, latency) are replaced.
    void add(const runtime::ProcessorMetrics& m);
    /// These totals plus what is running now.
    Totals with(const router::RouterMetrics& r, const runtime::ProcessorMetrics& p) const;
};

}  // namespace agentstream::pipeline
