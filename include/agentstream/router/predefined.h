// The standard routes in code: the six routes of config/pipeline.yaml, in three families, for a
// program that builds its routing table without a pipeline file.
#pragma once

#include <agentstream/router/route.h>

#include <vector>

namespace agentstream::router {

/// document_to_processing (documents -> document_processing, analytics; priority 10) and
/// processing_to_notifications (finished documents -> notifications; priority 8).
std::vector<Route> document_processing_routes();
/// all_to_analytics (documents, tasks, agents, notifications -> analytics, metrics; priority 5)
/// and analytics_to_alerts (high and critical metric updates -> alerts; priority 15).
std::vector<Route> analytics_routes();
/// agents_to_monitoring (agent status and performance -> agent_monitoring, analytics; priority
/// 12) and agent_errors_to_alerts (agent.error -> alerts, notifications; priority 20).
std::vector<Route> agent_monitoring_routes();
/// All six, highest priority first: the routing table of config/pipeline.yaml.
std::vector<Route> standard_routes();

/// The design's names for the same factories.
struct PredefinedRoutes {
    static std::vector<Route> create_document_processing_routes() {
        return document_processing_routes();
    }
    static std::vector<Route> create_analytics_routes() { return analytics_routes(); }
    static std::vector<Route> create_agent_monitoring_routes() { return agent_monitoring_routes(); }
    static std::vector<Route> create_all_standard_routes() { return standard_routes(); }
};

}  // namespace agentstream::router
