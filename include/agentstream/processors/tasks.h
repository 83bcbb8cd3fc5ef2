// TaskStreamProcessor: the task lifecycle (created, assigned, started, completed, failed,
// cancelled) followed per task: queue time (created -> started) and execution time (started ->
// end) from the events' own timestamps, per-task-type throughput and failure rate over
// tumbling windows, and stuck tasks (started, no end within a timeout) reported once each.
// Emitted events are analytics.metric.update (service `task_processor:TYPE`) and system.alert
// (stuck tasks), keyed by their entity, with the input's correlation id. State is bounded: at
// most `max_tasks`, and a task not heard of for `state_ttl` is forgotten.
#pragma once

#include <agentstream/event/event.h>
#include <agentstream/window/windows.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace agentstream::processors {

using Emitted = std::vector<std::pair<std::string, event::Event>>;

struct TaskTrackerOptions {
    std::string source = "task_processor";
    std::string analytics_topic = "analytics";
    std::string alerts_topic = "alerts";
    std::chrono::milliseconds stuck_after{std::chrono::minutes(10)};
    std::chrono::milliseconds state_ttl{std::chrono::hours(24)};
    std::size_t max_tasks = 1'000'000;
    /// Throughput and failure rate per task type over tumbling windows of this size.
    std::chrono::milliseconds rate_window{std::chrono::minutes(1)};
};

struct TaskTrackerStats {
    std::uint64_t created = 0, started = 0, completed = 0, failed = 0, cancelled = 0, stuck = 0,
                  expired = 0, overflow = 0, unknown_ends = 0;
    std::size_t tracked = 0;
    /// Tracked tasks started and not yet ended (the monitor's `active_tasks`).
    std::size_t running = 0;
};

/// The lifecycle logic, pure: feed it task events, ask it for stuck tasks.
class TaskTracker {
  public:
    using Clock = std::chrono::system_clock;
    explicit TaskTracker(TaskTrackerOptions options = {});

    /// A task.* event: updates the task's state and adds the events it calls for to `out`.
    void on_event(const event::Event& e, Emitted& out);
    /// Tasks started before `now - stuck_after` and not ended: a system.alert each (once per
    /// task); tasks not heard of for state_ttl are forgotten.
    void check(Clock::time_point now, Emitted& out);
    TaskTrackerStats stats() const;

  private:
    struct Task {
        std::string type;
        std::string agent;
        std::optional<std::string> correlation;
        std::optional<Timestamp> created, assigned, started;
        Timestamp last_seen;
        bool stuck_reported = false;
    };
    void metric(const std::string& name, double value, const std::string& type, const char* kind,
                const event::Event& cause, Emitted& out,
                std::initializer_list<std::pair<const char*, std::string>> tags = {});
    void end_window(const std::string& type, bool failed, const event::Event& cause, Emitted& out);

    TaskTrackerOptions _options;
    std::unordered_map<std::string, Task> _tasks;
    window::WindowedAggregator _rates;  // per task type: 1 per failed end, 0 per completed
    TaskTrackerStats _stats;
    std::size_t _running = 0;  // tracked tasks with `started`
};

}  // namespace agentstream::processors
