#include "support/sample_events.h"

#include <fmt/format.h>

namespace agentstream::testing {

using namespace agentstream::event;

std::string minimal_json(EventType type) {
    std::string_view fields;
    switch (family_of(type)) {
        case Family::Document: fields = R"("document_id":"doc_001")"; break;
        case Family::Task:
            fields = R"("task_id":"task_001","task_type":"document_analysis")";
            break;
        case Family::Agent:
            fields =
                R"("agent_id":"agent_1","agent_name":"Analyzer","agent_role":"document_analyzer","status":"idle")";
            break;
        case Family::Analytics:
            fields =
                R"("metric_name":"latency","metric_value":12.5,"metric_type":"gauge","service":"api")";
            break;
        case Family::Notification:
            fields = R"("notification_type":"info","title":"Done","message":"Task done")";
            break;
        case Family::Quality:
            fields =
                R"("validation_id":"v1","subject_type":"document","subject_id":"doc_001","quality_score":0.9,"validation_criteria":["length"],"passed_checks":["length"],"failed_checks":[])";
            break;
        case Family::BusinessInsight:
            fields =
                R"("insight_id":"i1","insight_type":"trend","confidence":0.8,"title":"Up","description":"Uploads rise","key_findings":["+20%"],"data_sources":["documents"],"business_impact":"medium","generator_agent_id":"bi_1","data_freshness":"hourly")";
            break;
        case Family::SystemHealth:
            fields = R"("component":"kafka","health_status":"healthy")";
            break;
    }
    return fmt::format(
        R"({{"event_id":"6ee5e2d6-1b7c-4e1a-9d55-8f0e5c1e2a3b","event_type":"{}","timestamp":"2026-11-27T08:03:39.079210Z","source":"test",{}}})",
        to_string(type), fields);
}

Event full_event(Family family) {
    EnvelopeOptions env{Priority::High, "corr-1", "cause-1", RawJson{R"({"tenant":"acme"})"}};
    switch (family) {
        case Family::Document:
            return EventFactory::document(
                EventType::DocumentProcessed, "doc_001", "document_service",
                {{"document_name", "report.pdf"},
                 {"document_type", "pdf"},
                 {"file_size", 204800},
                 {"user_id", "user_7"},
                 {"processing_stage", "analysis"},
                 {"content_preview", "Quarterly report \"Q3\"\n..."},
                 {"extracted_metadata", RawJson{R"({"pages":12,"author":"Ann"})"}},
                 {"analysis_results", RawJson{R"({"language":"en","sentiment":0.4})"}},
                 {"error_details", RawJson{R"({"code":"none"})"}},
                 {"processing_time_ms", 1534},
                 {"agent_id", "agent_1"},
                 {"file_path", "/uploads/report.pdf"},
                 {"status", "processed"}},
                env);
        case Family::Task:
            return EventFactory::task(EventType::TaskCompleted, "task_001", "document_analysis",
                                      "task_manager",
                                      {{"agent_id", "agent_1"},
                                       {"agent_role", "document_analyzer"},
                                       {"requester_id", "user_7"},
                                       {"task_data", RawJson{R"({"document_id":"doc_001"})"}},
                                       {"result_data", RawJson{R"({"words":1200})"}},
                                       {"execution_time_ms", 820},
                                       {"queue_time_ms", 15},
                                       {"parent_task_id", "task_000"},
                                       {"retry_count", 1},
                                       {"child_task_ids", StringList{"task_002", "task_003"}}},
                                      env);
        case Family::Agent:
            return EventFactory::agent(EventType::AgentPerformanceUpdate, "agent_1", "Analyzer",
                                       "document_analyzer", "working", "orchestrator",
                                       {{"current_tasks", 2},
                                        {"completed_tasks", 40},
                                        {"error_count", 1},
                                        {"average_processing_time", 812.5},
                                        {"success_rate", 0.975},
                                        {"throughput_per_hour", 120.0},
                                        {"cpu_usage", 35.5},
                                        {"memory_usage", 1.5e8},
                                        {"task_id", "task_001"}},
                                       env);
        case Family::Analytics:
            return EventFactory::analytics(
                "response_time", 125.25, "histogram", "api_gateway", "metrics_collector",
                {{"environment", "staging"},
                 {"tags", RawJson{R"({"region":"eu"})"}},
                 {"time_window", "5m"},
                 {"aggregation", "p95"},
                 {"dimensions", RawJson{R"({"endpoint":"/upload"})"}},
                 {"threshold_alerts", RawJson{R"([{"level":"warning","value":5}])"}}},
                env);
        case Family::Notification:
            return EventFactory::notification(
                "success", "Analysis complete", "Your document is ready", "notifier",
                {{"user_id", "user_7"},
                 {"user_email", "ann@example.com"},
                 {"channel", "email"},
                 {"is_persistent", true},
                 {"auto_dismiss_after", 30},
                 {"requires_acknowledgment", true},
                 {"action_buttons", RawJson{R"([{"label":"Open","action":"open"}])"}},
                 {"attachments", RawJson{R"([{"name":"summary.txt"}])"}},
                 {"related_document_id", "doc_001"},
                 {"related_task_id", "task_001"},
                 {"related_agent_id", "agent_1"}},
                env);
        case Family::Quality:
            return EventFactory::quality("v1", "task_result", "task_001", 0.82,
                                         {"completeness", "accuracy"}, {"completeness"},
                                         {"accuracy"}, "qa_agent",
                                         {{"warnings", StringList{"short summary"}},
                                          {"validator_agent_id", "qa_1"},
                                          {"validation_rules", RawJson{R"({"min_words":100})"}},
                                          {"remediation_suggestions", StringList{"re-run"}},
                                          {"previous_quality_score", 0.7},
                                          {"quality_trend", "improving"}},
                                         env);
        case Family::BusinessInsight:
            return EventFactory::business_insight(
                "i1", "anomaly", 0.91, "Error spike", "Errors tripled in 5 minutes", {"errors x3"},
                {"analytics"}, "high", "bi_1", "real-time", "bi_agent",
                {{"recommendations", StringList{"scale out"}},
                 {"metrics_analyzed", StringList{"error_rate"}},
                 {"affected_areas", StringList{"uploads"}},
                 {"stakeholders", StringList{"ops"}},
                 {"analysis_period", "PT5M"},
                 {"validity_period", "PT1H"}},
                env);
        case Family::SystemHealth:
            return EventFactory::system_health(
                "kafka", "warning", "monitor",
                {{"response_time_ms", 12.5},
                 {"error_rate", 2.5},
                 {"throughput", 1500.0},
                 {"cpu_usage_percent", 140.0},
                 {"memory_usage_percent", 40.0},
                 {"disk_usage_percent", 70.5},
                 {"network_io", RawJson{R"({"bytes_in":1024,"bytes_out":2048.5})"}},
                 {"active_connections", 12},
                 {"queue_depth", 3},
                 {"cache_hit_rate", 0.93},
                 {"alert_level", "warning"},
                 {"alert_message", "lag growing"},
                 {"recovery_suggestions", StringList{"add consumers"}}},
                env, EventType::SystemAlert);
    }
    throw std::logic_error("unknown family");
}

}  // namespace agentstream::testing
