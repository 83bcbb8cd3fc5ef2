// The agent interface: an agent has an id, a role, the task types it can do (its capabilities)
// and how many tasks it runs at once; process() turns a task into a result or an error. The
// orchestrator calls process() on a thread of its own and passes a TaskContext that says when
// the task was cancelled or ran out of time: long-running agents check it.
#pragma once

#include <agentstream/core/time.h>
#include <agentstream/event/event.h>
#include <agentstream/event/types.h>

#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace agentstream::agents {

/// A unit of work: `task.created` as the orchestrator sees it.
struct Task {
    std::string id;
    std::string type;  ///< the capability it needs, e.g. document_analysis
    event::Priority priority = event::Priority::Medium;
    /// The input (`task_data`), a JSON object.
    nlohmann::json data = nlohmann::json::object();
    std::optional<std::string> correlation_id;
    std::string requester;
    /// Overrides the orchestrator's task timeout / retry count (task_data `timeout_ms` /
    /// `max_retries` when it comes from an event).
    std::optional<std::chrono::milliseconds> timeout;
    std::optional<int> max_retries;
    /// When it was created (the event's timestamp): queue time is measured from it.
    Timestamp created_at{};
};

/// What an agent produced: the result (`result_data` of task.completed) and events of its
/// domain (quality.check.complete, business.insight.generated, document.analysis.complete),
/// published by the service to their family's topic.
struct TaskOutput {
    nlohmann::json result = nlohmann::json::object();
    std::vector<event::Event> events;
};

/// Why a task failed. `retriable`: trying again may succeed (a timeout, an unreachable
/// endpoint); false for input that can never work (a missing file, an unknown field).
struct TaskError {
    std::string message;
    bool retriable = true;
};

class TaskOutcome {
  public:
    TaskOutcome(TaskOutput output) : _v(std::move(output)) {}  // NOLINT
    TaskOutcome(TaskError error) : _v(std::move(error)) {}     // NOLINT
    bool ok() const noexcept { return _v.index() == 0; }
    TaskOutput& output() { return std::get<0>(_v); }
    const TaskError& error() const { return std::get<1>(_v); }

  private:
    std::variant<TaskOutput, TaskError> _v;
};

/// Given to process(): cancellation and the deadline of this attempt.
class TaskContext {
  public:
    TaskContext(const std::atomic<bool>& cancelled, std::chrono::steady_clock::time_point deadline,
                int attempt)
        : _cancelled(&cancelled), _deadline(deadline), _attempt(attempt) {}
    /// The task was cancelled or timed out: stop and return anything (it is discarded).
    bool stop_requested() const noexcept {
        return _cancelled->load(std::memory_order_relaxed) ||
               std::chrono::steady_clock::now() >= _deadline;
    }
    std::chrono::steady_clock::time_point deadline() const noexcept { return _deadline; }
    int attempt() const noexcept { return _attempt; }  ///< 1 on the first

  private:
    const std::atomic<bool>* _cancelled;
    std::chrono::steady_clock::time_point _deadline;
    int _attempt;
};

struct AgentInfo {
    std::string id;
    std::string name;
    std::string role;
    std::vector<std::string> capabilities;  ///< task types
    int max_concurrency = 1;
};

class Agent {
  public:
    virtual ~Agent() = default;
    virtual const AgentInfo& info() const noexcept = 0;
    /// Runs one task. May be called from several threads at once (up to max_concurrency).
    /// Exceptions are caught by the orchestrator and count as a retriable error.
    virtual TaskOutcome process(const Task& task, const TaskContext& context) = 0;
    /// "ok", or why the agent cannot work (shown in the monitor's agents table).
    virtual std::string health() const { return "ok"; }
};

}  // namespace agentstream::agents
