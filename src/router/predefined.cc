#include <agentstream/router/predefined.h>

#include <algorithm>
#include <initializer_list>
#include <string>
#include <string_view>

namespace agentstream::router {
namespace {

// A JSON string literal for add_field (the values below need no escaping).
std::string json_string(std::string_view text) {
    return "\"" + std::string(text) + "\"";
}

std::vector<event::TypePattern> types(std::initializer_list<std::string_view> names) {
    std::vector<event::TypePattern> out;
    for (auto name : names) {
        out.emplace_back(name);
    }
    return out;
}

Filter test(std::string_view path, Op op, std::vector<Scalar> operands) {
    Filter f;
    f.kind = Filter::Kind::Test;
    f.test = make_predicate(path, op, std::move(operands));
    return f;
}

}  // namespace

std::vector<Route> document_processing_routes() {
    Route to_processing;
    to_processing.name = "document_to_processing";
    to_processing.source_topics = {"documents"};
    to_processing.target_topics = {"document_processing", "analytics"};
    to_processing.event_types = types({"document.processed", "document.uploaded"});
    to_processing.transformations = {add_routing_metadata()};
    to_processing.priority = 10;

    // Finished documents: document.processed (completed) and document.error (failed), without
    // the intermediate status updates.
    Route to_notifications;
    to_notifications.name = "processing_to_notifications";
    to_notifications.source_topics = {"document_processing"};
    to_notifications.target_topics = {"notifications"};
    to_notifications.event_types = types({"document.processed", "document.error"});
    Filter unfinished = test("status", Op::In, {std::string("pending"), std::string("processing")});
    Filter finished;
    finished.kind = Filter::Kind::Not;
    finished.children.push_back(std::move(unfinished));
    to_notifications.filter = std::move(finished);
    to_notifications.transformations = {
        add_field(FieldPath("notification_type"), json_string("processing_complete")),
        add_timestamp()};
    to_notifications.priority = 8;
    return {std::move(to_processing), std::move(to_notifications)};
}

std::vector<Route> analytics_routes() {
    Route all;
    all.name = "all_to_analytics";
    all.source_topics = {"documents", "tasks", "agents", "notifications"};
    all.target_topics = {"analytics", "metrics"};
    all.transformations = {add_routing_metadata()};
    all.priority = 5;

    Route alerts;
    alerts.name = "analytics_to_alerts";
    alerts.source_topics = {"analytics"};
    alerts.target_topics = {"alerts"};
    alerts.event_types = types({"analytics.metric.update"});
    alerts.filter = test("priority", Op::In, {std::string("high"), std::string("critical")});
    alerts.transformations = {
        add_field(FieldPath("alert_type"), json_string("analytics_threshold"))};
    alerts.priority = 15;
    return {std::move(all), std::move(alerts)};
}

std::vector<Route> agent_monitoring_routes() {
    Route monitoring;
    monitoring.name = "agents_to_monitoring";
    monitoring.source_topics = {"agents"};
    monitoring.target_topics = {"agent_monitoring", "analytics"};
    monitoring.event_types = types({"agent.status.changed", "agent.performance.update"});
    monitoring.transformations = {add_routing_metadata()};
    monitoring.priority = 12;

    Route errors;
    errors.name = "agent_errors_to_alerts";
    errors.source_topics = {"agents"};
    errors.target_topics = {"alerts", "notifications"};
    errors.event_types = types({"agent.error"});
    errors.transformations = {add_field(FieldPath("alert_type"), json_string("agent_error")),
                              add_field(FieldPath("priority"), json_string("high"))};
    errors.priority = 20;
    return {std::move(monitoring), std::move(errors)};
}

std::vector<Route> standard_routes() {
    std::vector<Route> out;
    for (auto family :
         {agent_monitoring_routes(), analytics_routes(), document_processing_routes()}) {
        for (auto& route : family) {
            out.push_back(std::move(route));
        }
    }
    std::stable_sort(out.begin(), out.end(),
                     [](const Route& a, const Route& b) { return a.priority > b.priority; });
    return out;
}

}  // namespace agentstream::router
