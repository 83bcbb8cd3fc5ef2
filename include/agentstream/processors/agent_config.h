// The pipeline file's `agents` section: the agent service `agentstream run` starts, its topics,
// orchestrator settings and agents (built-in, command or HTTP).
//
//   agents:
//     tasks: tasks            # task.created in; task lifecycle out
//     documents: ""           # document.uploaded in (empty: the document processor makes tasks)
//     events: agents          # agent.* out
//     results: {document: documents, quality: quality, business_insight: insights}
//     strategy: least_loaded  # or round_robin, load_based
//     task_timeout: 5m
//     max_retries: 2
//     retry_backoff: 1s
//     max_pending: 1000
//     document_roots: [samples/documents]   # relative to the pipeline file
//     list:
//       - {id: document-analyzer-1, type: document_analyzer, max_concurrency: 4}
//       - {id: qa-agent-1, type: quality_assurance}
//       - {id: bi-agent-1, type: business_intelligence}
//       - {id: summariser, type: command, capabilities: [summarise],
//          command: [python3, agents/summarise.py], env: {MODEL: small}}
//       - {id: llm, type: http, capabilities: [answer], url: http://127.0.0.1:9000/agent}
#pragma once

#include <agentstream/agents/agent.h>
#include <agentstream/config/config.h>
#include <agentstream/processors/agent_service.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <vector>

namespace agentstream::processors {

struct AgentSetup {
    AgentServiceOptions options;  ///< client settings left empty
    std::vector<std::shared_ptr<agents::Agent>> agents;
    /// `document_roots`, resolved against the pipeline file's directory.
    std::vector<std::filesystem::path> document_roots;
    /// Topics it reads and writes (for creating them).
    std::vector<std::string> topics() const;
};

/// nullopt when the section is absent or `enabled: false`. Throws config::ConfigError with
/// file and line for an unknown key or agent type, a duplicate id, a command without a
/// program, a bad URL or value.
std::optional<AgentSetup> load_agents(const config::Config& config);

}  // namespace agentstream::processors
