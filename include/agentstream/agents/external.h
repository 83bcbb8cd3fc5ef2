// External agents, so users can plug in their own (Python, LLM, ...) agents:
//   CommandAgent runs a program per task: the task as one JSON object on its stdin, the
//     result as one JSON object on its stdout; past the task's deadline (or on cancellation)
//     it is terminated; a non-zero exit is an error carrying the end of its stderr.
//   HttpAgent POSTs the task as JSON to an endpoint and takes a 2xx JSON object as the result;
//     connection errors, 408, 429 and 5xx are retriable, other answers are not.
// The task JSON: {"task_id", "task_type", "priority", "task_data", "correlation_id",
// "requester_id", "attempt"}.
#pragma once

#include <agentstream/agents/agent.h>
#include <agentstream/core/url.h>

#include <map>
#include <string>
#include <vector>

namespace agentstream::agents {

/// The JSON an external agent receives.
nlohmann::json task_to_json(const Task& task, int attempt);

struct CommandAgentOptions {
    AgentInfo info;
    std::vector<std::string> argv;                   ///< program and arguments (no shell)
    std::string working_directory;                   ///< empty: the service's
    std::map<std::string, std::string> environment;  ///< added to the service's
    std::size_t max_output_bytes = 16 * 1024 * 1024;
};

class CommandAgent : public Agent {
  public:
    /// Throws std::invalid_argument for an empty argv.
    explicit CommandAgent(CommandAgentOptions options);
    const AgentInfo& info() const noexcept override { return _options.info; }
    TaskOutcome process(const Task& task, const TaskContext& context) override;

  private:
    CommandAgentOptions _options;
};

struct HttpAgentOptions {
    AgentInfo info;
    std::string url;  ///< http[s]://HOST[:PORT]/PATH
    std::map<std::string, std::string> headers;
    std::string ca_file;  ///< https with a private CA
};

class HttpAgent : public Agent {
  public:
    /// Throws std::invalid_argument for a malformed URL.
    explicit HttpAgent(HttpAgentOptions options);
    const AgentInfo& info() const noexcept override { return _options.info; }
    TaskOutcome process(const Task& task, const TaskContext& context) override;

  private:
    HttpAgentOptions _options;
    HttpUrl _url;
};

}  // namespace agentstream::agents
