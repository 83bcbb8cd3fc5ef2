// The Orchestrator: tasks wait in a priority queue (critical > high > medium > low, first in
// first out within a level) until an agent with the task's type among its capabilities has a
// free slot; the agent is chosen by a strategy (least loaded, round robin, or load based:
// fewest expected milliseconds of work). Each attempt has a deadline; a failed or timed-out
// attempt is retried after an exponential backoff up to max_retries; tasks can be cancelled
// and their status queried. Every state change is reported, in order, to a listener on a
// thread of its own (the streaming service turns them into events).
#pragma once

#include <agentstream/agents/agent.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace agentstream::agents {

enum class Strategy : std::uint8_t {
    LeastLoaded,  ///< lowest share of its slots in use; ties in turn
    RoundRobin,   ///< the next capable agent with a free slot, in turn
    LoadBased,    ///< fewest expected ms of work: (running + 1) × its mean task time
};
std::optional<Strategy> parse_strategy(std::string_view text) noexcept;
std::string_view to_string(Strategy s) noexcept;

struct OrchestratorOptions {
    Strategy strategy = Strategy::LeastLoaded;
    std::chrono::milliseconds task_timeout{std::chrono::minutes(5)};
    int max_retries = 2;
    /// Backoff before retry n: retry_backoff × 2^(n-1), at most max_backoff.
    std::chrono::milliseconds retry_backoff{std::chrono::seconds(1)};
    std::chrono::milliseconds max_backoff{std::chrono::seconds(60)};
    /// Tasks queued or waiting to retry; submit() refuses more.
    std::size_t max_queued = 10'000;
    /// Finished tasks remembered for status() and duplicate detection.
    std::size_t history = 10'000;
};

enum class TaskState : std::uint8_t { Queued, Running, RetryWait, Completed, Failed, Cancelled };
std::string_view to_string(TaskState s) noexcept;

struct TaskStatus {
    std::string id;
    std::string type;
    event::Priority priority = event::Priority::Medium;
    TaskState state = TaskState::Queued;
    std::string agent_id;  ///< of the current or last attempt
    int attempts = 0;
    std::string last_error;
    std::chrono::milliseconds queue_time{0};      ///< created → first start
    std::chrono::milliseconds execution_time{0};  ///< of the last attempt
};

/// One state change, reported to the listener.
struct TaskEvent {
    enum class Kind : std::uint8_t {
        Assigned,       ///< an agent took it (attempt starts)
        Completed,      ///< final
        AttemptFailed,  ///< the attempt failed; a retry is scheduled
        Failed,         ///< final: not retriable, or out of retries
        Cancelled,      ///< final
        AgentBusy,      ///< the agent went from no task to one (status working)
        AgentIdle,      ///< the agent's last task ended (status idle)
    };
    Kind kind = Kind::Assigned;
    Task task;  ///< empty for AgentBusy / AgentIdle
    AgentInfo agent;
    int attempt = 0;
    bool timed_out = false;
    std::string error;
    std::chrono::milliseconds queue_time{0};
    std::chrono::milliseconds execution_time{0};
    std::chrono::milliseconds retry_in{0};  ///< AttemptFailed
    Timestamp at{};                         ///< when it happened
    TaskOutput output;                      ///< Completed
    // The agent's counters after this change.
    int agent_running = 0;
    std::uint64_t agent_completed = 0;
    std::uint64_t agent_errors = 0;
};
using TaskListener = std::function<void(const TaskEvent&)>;

struct AgentLoad {
    AgentInfo info;
    int running = 0;
    std::uint64_t completed = 0;
    std::uint64_t errors = 0;  ///< failed or timed-out attempts
    double mean_task_ms = 0;   ///< of completed attempts
    /// Busy slot-time over the last utilisation window, in % of max_concurrency.
    double utilisation_percent = 0;
    /// Busy slot-time since the agent was added (ms; a slot busy for 1 s adds 1000).
    double busy_ms = 0;
    std::string health;
};

struct OrchestratorStats {
    std::size_t queued = 0;  ///< incl. waiting to retry
    std::size_t running = 0;
    std::uint64_t submitted = 0, completed = 0, failed = 0, cancelled = 0, retries = 0,
                  timeouts = 0, duplicates = 0;
};

class Orchestrator {
  public:
    enum class Submit : std::uint8_t {
        Accepted,
        Duplicate,  ///< a task with this id is active or finished recently
        NoAgent,    ///< no agent has the task's type among its capabilities
        QueueFull,
    };

    /// `listener` is called on the orchestrator's notifier thread, in the order of the changes.
    explicit Orchestrator(OrchestratorOptions options, TaskListener listener = {});
    /// Stops: running attempts are cancelled and awaited.
    ~Orchestrator();
    Orchestrator(const Orchestrator&) = delete;
    Orchestrator& operator=(const Orchestrator&) = delete;

    /// Throws std::invalid_argument for a duplicate id, no capabilities or max_concurrency < 1.
    void add_agent(std::shared_ptr<Agent> agent);
    Submit submit(Task task);
    /// Cancels a queued, waiting or running task (a running attempt is asked to stop and its
    /// outcome discarded). false when the task is unknown or already finished.
    bool cancel(const std::string& task_id);
    std::optional<TaskStatus> status(const std::string& task_id) const;
    std::vector<AgentLoad> agents() const;
    OrchestratorStats stats() const;
    /// Waits until nothing is queued or running (or the timeout); true when idle.
    bool wait_idle(std::chrono::milliseconds timeout) const;
    /// Stops dispatching, cancels what runs, waits for its threads and delivers what is left
    /// to the listener. Idempotent.
    void stop();

  private:
    struct AgentSlot;
    struct Record;
    struct Attempt;
    void dispatch_loop();
    void notify_loop();
    void run_attempt(std::shared_ptr<Attempt> attempt);
    AgentSlot* choose(const std::string& type, std::chrono::steady_clock::time_point now);
    void emit(TaskEvent e);  // under _mutex
    void finish(Record& r, TaskState state);
    // A failed attempt: a retry after a backoff, or the task's failure (under _mutex).
    void attempt_failed(Record& r, TaskEvent e, bool retriable,
                        std::chrono::steady_clock::time_point now);
    void agent_event(TaskEvent::Kind kind, AgentSlot& a);
    void account_busy(AgentSlot& a, std::chrono::steady_clock::time_point now);
    // An attempt past its deadline: abandoned, its task retried or failed (under _mutex).
    void timed_out(Attempt& a, std::chrono::steady_clock::time_point now);

    OrchestratorOptions _options;
    TaskListener _listener;
    mutable std::mutex _mutex;
    mutable std::condition_variable _wake;  // dispatcher
    mutable std::condition_variable _idle;  // wait_idle
    std::condition_variable _notify_wake;   // notifier
    std::vector<std::unique_ptr<AgentSlot>> _agents;
    std::unordered_map<std::string, std::vector<AgentSlot*>> _by_capability;
    std::unordered_map<std::string, std::size_t> _turn;  // round robin, per capability
    // Queued tasks per type, per priority (index = Priority), by submission sequence.
    std::unordered_map<std::string, std::array<std::map<std::uint64_t, std::string>, 4>> _queues;
    std::multimap<std::chrono::steady_clock::time_point, std::string> _delayed;  // retries
    std::unordered_map<std::string, std::unique_ptr<Record>> _tasks;
    std::deque<std::string> _finished;  // ids, oldest first (history)
    std::vector<std::shared_ptr<Attempt>> _running;
    std::deque<TaskEvent> _events;
    std::uint64_t _sequence = 0;
    std::size_t _waiting = 0;  // queued + delayed
    OrchestratorStats _stats;
    bool _stopping = false;
    bool _notifier_done = false;
    std::vector<std::thread> _threads;  // attempts
    std::thread _dispatcher;
    std::thread _notifier;
};

}  // namespace agentstream::agents
