// The domain processors of `agentstream run` (the pipeline file's `processors` section), each on
// its own thread beside the router, feeding the service's monitor.
#pragma once

#include <agentstream/monitor/monitor.h>
#include <agentstream/processors/agent_config.h>
#include <agentstream/processors/config.h>

#include <atomic>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace agentstream::pipeline {

class Connection;
class ServiceMonitor;

class DomainProcessors {
  public:
    /// Starts every enabled processor. `from_latest`: new groups start at the end of their
    /// inputs.
    DomainProcessors(const processors::DomainConfig& config,
                     const std::optional<processors::AgentSetup>& agents,
                     const Connection& connection, ServiceMonitor& monitor, bool from_latest);
    ~DomainProcessors();  ///< stops and joins them all
    DomainProcessors(const DomainProcessors&) = delete;
    DomainProcessors& operator=(const DomainProcessors&) = delete;

    void stop();
    /// Rows for the monitor's processors table.
    std::vector<monitor::ProcessorRow> rows() const;
    /// Sets the built-in gauges the trackers measure: `active_tasks` (task processor) and
    /// `agent_utilisation_percent{agent}` (agent processor). Call it before each tick.
    void update_gauges(monitor::MetricsRegistry& registry) const;
    /// Rows for the monitor's agents table (empty without an agent service).
    std::vector<monitor::AgentRow> agent_rows() const;
    std::size_t size() const noexcept { return _running.size(); }
    /// The agent service, when the pipeline file has one.
    const processors::AgentService* agent_service() const noexcept { return _agents.get(); }
    /// A processor whose run() threw: its error.
    std::exception_ptr failure() const;

  private:
    struct Running {
        std::string name;
        std::function<void()> stop;
        std::function<monitor::ProcessorRow()> row;
        std::function<void(monitor::MetricsRegistry&)> gauges;  // may be empty
        std::thread thread;
        std::exception_ptr error;
        std::atomic<bool> failed{false};
    };
    void start(std::unique_ptr<Running> r, std::function<void()> run);
    std::vector<std::unique_ptr<Running>> _running;
    std::vector<std::shared_ptr<void>> _owned;  // the processors
    std::shared_ptr<processors::AgentService> _agents;
};

}  // namespace agentstream::pipeline
