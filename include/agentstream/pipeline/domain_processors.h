// The domain processors of `agentstream run` (the pipeline file's `processors` section), each on
// its own thread beside the router, feeding the service's monitor.
#pragma once

#include <agentstream/monitor/monitor.h>
#include <agentstream/pipeline/supervisor.h>
#include <agentstream/processors/agent_config.h>
#include <agentstream/processors/config.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace agentstream::pipeline {

class Connection;
class ServiceMonitor;

/// Each processor runs under a Supervisor: one whose run() throws is shown unhealthy and
/// restarted with backoff, the others go on.
class DomainProcessors {
  public:
    /// Starts every enabled processor. `from_latest`: new groups start at the end of their
    /// inputs. Throws for a processor that cannot be built (bad options).
    DomainProcessors(const processors::DomainConfig& config,
                     const std::optional<processors::AgentSetup>& agents,
                     const Connection& connection, ServiceMonitor& monitor, bool from_latest,
                     std::chrono::milliseconds restart_backoff = std::chrono::seconds(1));
    ~DomainProcessors();  ///< stops and joins them all
    DomainProcessors(const DomainProcessors&) = delete;
    DomainProcessors& operator=(const DomainProcessors&) = delete;

    /// Asks every processor to stop (they drain in parallel) and joins them.
    void stop();
    /// Asks every processor to stop without waiting (stop() joins them).
    void request_stop();
    /// The longest shutdown_timeout of the processors running now.
    std::chrono::milliseconds longest_shutdown_timeout() const;
    /// Rows for the monitor's processors table.
    std::vector<monitor::ProcessorRow> rows() const;
    /// Sets the built-in gauges the trackers measure: `active_tasks` (task processor) and
    /// `agent_utilisation_percent{agent}` (agent processor). Call it before each tick.
    void update_gauges(monitor::MetricsRegistry& registry) const;
    /// Rows for the monitor's agents table (empty without an agent service).
    std::vector<monitor::AgentRow> agent_rows() const;
    std::size_t size() const noexcept { return _running.size(); }
    /// The agent service running now, when the pipeline file has one (a restart replaces it).
    std::shared_ptr<const processors::AgentService> agent_service() const;
    /// Whether every processor has its input partitions (the groups settled).
    bool all_assigned() const;
    /// Restarts and failures of each processor, in start order.
    std::vector<SupervisorStatus> statuses() const;

  private:
    using RowOf = std::function<monitor::ProcessorRow(const runtime::StreamProcessor&)>;
    using GaugesOf =
        std::function<void(const runtime::StreamProcessor&, monitor::MetricsRegistry&)>;
    struct Running {
        RowOf row;
        GaugesOf gauges;  // may be empty
        std::unique_ptr<Supervisor> supervisor;
    };
    void supervise(std::string name, Supervisor::Factory make, RowOf row, GaugesOf gauges);
    std::chrono::milliseconds _restart_backoff;
    std::vector<std::unique_ptr<Running>> _running;
    Running* _agents = nullptr;
};

}  // namespace agentstream::pipeline
