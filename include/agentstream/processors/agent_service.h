// AgentService: the orchestrator on streams, a StreamProcessor. It consumes `task.created`
// (and, when asked, `document.uploaded`, which becomes a document_analysis task), hands each
// task to the Orchestrator and publishes what happens with real timings: task.assigned /
// started / completed / failed / cancelled to the tasks topic, agent.task.started / completed,
// agent.error and agent.status.changed to the agents topic, and the agents' own events
// (document.analysis.complete, quality.check.complete, business.insight.generated) to their
// family's topic. A task.cancelled from anyone else cancels that task (queued or running).
// Completions and errors are notified. Each task is a deferred event of the engine: its input
// is committed only once the task has ended and the events it caused are written
// (at-least-once: a crash, or a stop while it runs, runs it again; a task id seen recently is
// not run twice). Undecodable or invalid records go to `<topic>.dlq`, as for every processor.
#pragma once

#include <agentstream/agents/orchestrator.h>
#include <agentstream/kafka/options.h>
#include <agentstream/monitor/metrics.h>
#include <agentstream/notify/notifications.h>
#include <agentstream/runtime/processor.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace agentstream::processors {

struct AgentServiceOptions {
    std::string name = "agent_orchestrator";
    std::string group_id;  ///< empty: name
    std::string tasks_topic = "tasks";
    /// When set: document.uploaded events on it become document_analysis tasks (leave it empty
    /// when the document processor already creates them).
    std::string documents_topic;
    std::string agents_topic = "agents";
    /// Topic per family for the agents' own events; a family not listed is not published.
    std::map<event::Family, std::string> result_topics = {
        {event::Family::Document, "documents"},
        {event::Family::Quality, "quality"},
        {event::Family::BusinessInsight, "insights"}};
    kafka::ClientOptions client;
    kafka::Properties producer_properties;
    kafka::Properties consumer_properties;
    /// As runtime::ProcessorOptions::producer: one shared with the application's other parts.
    std::shared_ptr<kafka::Producer> producer;
    kafka::StartFrom start_from = kafka::StartFrom::Earliest;
    agents::OrchestratorOptions orchestrator;
    /// Tasks taken from Kafka and not yet ended (the engine's max_in_flight); consumption
    /// pauses at this many.
    std::size_t max_pending = 1'000;
    /// Notices of completions and errors; may return null (none).
    std::function<std::shared_ptr<notify::NotificationService>()> notifications;
    /// When set (it must outlive the service): agent_tasks_total{agent,outcome}.
    monitor::MetricsRegistry* metrics = nullptr;
};

struct AgentServiceStats {
    std::uint64_t consumed = 0;
    std::uint64_t tasks = 0;         ///< submitted to the orchestrator
    std::uint64_t duplicates = 0;    ///< task ids already running or done
    std::uint64_t unassignable = 0;  ///< no agent has the capability: task.failed at once
    std::uint64_t ignored = 0;       ///< other event types on the inputs
    std::uint64_t cancelled = 0;     ///< task.cancelled requests that stopped a task
    std::uint64_t dead_lettered = 0;
    std::uint64_t published = 0;  ///< events acknowledged by the broker
    std::uint64_t publish_failures = 0;
    std::size_t pending = 0;
};

/// run(), stop() and metrics() (the engine's counters) as for every StreamProcessor.
class AgentService : public runtime::StreamProcessor {
  public:
    /// Throws std::invalid_argument for bad options or agents.
    AgentService(AgentServiceOptions options, std::vector<std::shared_ptr<agents::Agent>> agents);
    ~AgentService() override;

    agents::Orchestrator& orchestrator() noexcept { return *_orchestrator; }
    const agents::Orchestrator& orchestrator() const noexcept { return *_orchestrator; }
    AgentServiceStats stats() const;
    /// The options with their defaults filled in.
    const AgentServiceOptions& service_options() const noexcept { return _options; }

  protected:
    bool process(const event::Event& event, runtime::Context& context) override;
    void on_start(runtime::Emitter& out) override;
    void on_stopping() override;

  private:
    struct Impl;
    AgentServiceOptions _options;
    std::unique_ptr<Impl> _impl;
    std::unique_ptr<agents::Orchestrator> _orchestrator;
};

}  // namespace agentstream::processors
