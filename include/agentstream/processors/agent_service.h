// AgentService: the orchestrator on streams. It consumes `task.created` (and, when asked,
// `document.uploaded`, which becomes a document_analysis task), hands each task to the
// Orchestrator and publishes what happens with real timings: task.assigned / started /
// completed / failed / cancelled to the tasks topic, agent.task.started / completed,
// agent.error and agent.status.changed to the agents topic, and the agents' own events
// (document.analysis.complete, quality.check.complete, business.insight.generated) to their
// family's topic. A task.cancelled from anyone else cancels that task (queued or running).
// Completions and errors are notified. A task's input offset is committed
// only once the task has ended (at-least-once: a crash runs unfinished tasks again; a task
// id seen recently is not run twice). Undecodable or invalid records go to `<topic>.dlq`.
#pragma once

#include <agentstream/agents/orchestrator.h>
#include <agentstream/kafka/consumer.h>
#include <agentstream/kafka/options.h>
#include <agentstream/monitor/metrics.h>
#include <agentstream/notify/notifications.h>

#include <atomic>
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
    kafka::StartFrom start_from = kafka::StartFrom::Earliest;
    agents::OrchestratorOptions orchestrator;
    /// Tasks taken from Kafka and not yet ended; consumption pauses at this many.
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

class AgentService {
  public:
    /// Throws std::invalid_argument for bad options or agents.
    AgentService(AgentServiceOptions options, std::vector<std::shared_ptr<agents::Agent>> agents);
    ~AgentService();
    AgentService(const AgentService&) = delete;
    AgentService& operator=(const AgentService&) = delete;

    /// Consumes until stop(); running tasks are cancelled at stop and their inputs not
    /// committed. Throws kafka::KafkaError when the clients cannot be created.
    void run();
    void stop() noexcept;
    agents::Orchestrator& orchestrator() noexcept { return *_orchestrator; }
    const agents::Orchestrator& orchestrator() const noexcept { return *_orchestrator; }
    AgentServiceStats stats() const;
    const AgentServiceOptions& options() const noexcept { return _options; }

  private:
    struct Impl;
    AgentServiceOptions _options;
    std::unique_ptr<Impl> _impl;
    std::unique_ptr<agents::Orchestrator> _orchestrator;
};

}  // namespace agentstream::processors
