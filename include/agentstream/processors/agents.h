// AgentStreamProcessor: per agent, tasks started, completed and failed, processing times,
// and over windows its success rate, throughput, processing-time p95 and utilisation (busy
// time over window time); a burst of errors (N within a window of time) becomes a
// system.alert for the agent, and its end a system.health report. All from events.
#pragma once

#include <agentstream/processors/tasks.h>

#include <deque>

namespace agentstream::processors {

struct AgentTrackerOptions {
    std::string source = "agent_processor";
    std::string analytics_topic = "analytics";
    std::string alerts_topic = "alerts";
    std::chrono::milliseconds stats_window{std::chrono::minutes(1)};
    /// `burst_errors` errors within `burst_window` (event time) is a burst.
    std::size_t burst_errors = 5;
    std::chrono::milliseconds burst_window{std::chrono::minutes(1)};
    std::size_t max_agents = 100'000;
};

struct AgentTrackerStats {
    std::uint64_t started = 0, completed = 0, errors = 0, bursts = 0, overflow = 0;
    std::size_t agents = 0;
};

class AgentTracker {
  public:
    explicit AgentTracker(AgentTrackerOptions options = {});
    void on_event(const event::Event& e, Emitted& out);
    /// Nothing to do on a timer: the windows move with event time.
    void check(std::chrono::system_clock::time_point, Emitted&) {}
    AgentTrackerStats stats() const;
    /// Per agent, the utilisation (%) of its last closed stats window (the monitor's
    /// `agent_utilisation_percent{agent}`): 0 once that window ended more than two windows
    /// before `now` (no task of the agent ended since); agents with no closed window yet are
    /// absent.
    std::vector<std::pair<std::string, double>> utilisation(
        std::chrono::system_clock::time_point now) const;

  private:
    struct Agent {
        std::string name, role;
        std::unordered_map<std::string, Timestamp> running;  // task -> started at
        std::deque<Timestamp> errors;                        // within burst_window
        bool in_burst = false;
        std::optional<double> utilisation;   // last closed window
        window::Millis utilisation_end = 0;  // its end
    };
    void metric(const std::string& name, double value, const std::string& agent, const char* kind,
                const event::Event& cause, Emitted& out,
                std::initializer_list<std::pair<const char*, std::string>> tags = {});
    void closed_windows(const std::vector<window::WindowResult>& outcomes,
                        const std::vector<window::WindowResult>& times, const event::Event& cause,
                        Emitted& out);

    AgentTrackerOptions _options;
    std::unordered_map<std::string, Agent> _agents;
    window::WindowedAggregator _outcomes;  // per agent: 1 per completed task, 0 per error
    window::WindowedAggregator _times;     // per agent: processing time (ms) per completed task
    AgentTrackerStats _stats;
};

}  // namespace agentstream::processors
