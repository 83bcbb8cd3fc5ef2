// The pipeline file's `processors` section: which domain processors `agentstream run` starts
// and their topics and settings.
//
//   processors:
//     analytics: {input: analytics, output: metrics, alerts: alerts, insights: insights,
//                 windows: [1m, 5m, 1h], out_of_orderness: 5s}
//     tasks: {input: tasks, analytics: analytics, alerts: alerts, stuck_after: 10m}
//     documents: {input: documents, analytics: analytics, tasks: tasks, request_analysis: true}
//     agents: {input: agents, analytics: analytics, alerts: alerts, burst_errors: 5,
//              burst_window: 1m}
//     notifications: {input: notifications}
//
// A processor runs when its key is present (and `enabled` is not false); every other key has
// the default shown.
#pragma once

#include <agentstream/config/config.h>
#include <agentstream/processors/agents.h>
#include <agentstream/processors/analytics.h>
#include <agentstream/processors/documents.h>
#include <agentstream/processors/tasks.h>

#include <optional>
#include <string>
#include <vector>

namespace agentstream::processors {

struct DomainConfig {
    std::optional<AnalyticsOptions> analytics;  ///< client settings left empty
    struct Tasks {
        std::string input = "tasks";
        TaskTrackerOptions tracker;
    };
    std::optional<Tasks> tasks;
    struct Documents {
        std::string input = "documents";
        DocumentTrackerOptions tracker;
    };
    std::optional<Documents> documents;
    struct Agents {
        std::string input = "agents";
        AgentTrackerOptions tracker;
    };
    std::optional<Agents> agents;
    struct Notifications {
        std::string input = "notifications";
    };
    std::optional<Notifications> notifications;

    /// Every topic the enabled processors read or write, with the partitions a topic must have
    /// (0: any): a changelog has its input's partitions.
    std::vector<std::pair<std::string, std::string>> changelogs() const;  ///< (changelog, input)
    std::vector<std::string> topics() const;
    bool empty() const noexcept {
        return !analytics && !tasks && !documents && !agents && !notifications;
    }
};

/// Throws config::ConfigError with file and line for an unknown processor or key, or a bad
/// value.
DomainConfig load_domain_processors(const config::Config& config);

}  // namespace agentstream::processors
