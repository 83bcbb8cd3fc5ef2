#include <agentstream/event/schema.h>

#include <algorithm>
#include <array>

namespace agentstream::event {
namespace {

using K = FieldKind;
using P = Presence;
using R = Rule;
using sv = std::string_view;

constexpr sv AGENT_STATUS[] = {"idle", "working", "error", "offline"};
constexpr sv METRIC_TYPES[] = {"counter", "gauge", "histogram", "summary"};
constexpr sv TIME_WINDOWS[] = {"1m", "5m", "1h", "1d"};
constexpr sv AGGREGATIONS[] = {"sum", "avg", "min", "max", "count", "p50", "p95", "p99"};
constexpr sv NOTIFICATION_TYPES[] = {"info", "warning", "error", "success"};
constexpr sv CHANNELS[] = {"email", "sms", "slack", "system"};
constexpr sv SUBJECT_TYPES[] = {"document", "task_result", "agent_output"};
constexpr sv QUALITY_TRENDS[] = {"improving", "declining", "stable"};
constexpr sv INSIGHT_TYPES[] = {"trend", "anomaly", "opportunity", "risk"};
constexpr sv IMPACTS[] = {"low", "medium", "high", "critical"};
constexpr sv FRESHNESS[] = {"real-time", "hourly", "daily"};
constexpr sv HEALTH_STATUS[] = {"healthy", "warning", "critical", "down"};
constexpr sv ALERT_LEVELS[] = {"info", "warning", "critical"};

constexpr FieldSpec DOCUMENT[] = {
    {"document_id", K::String, P::Required, R::NonEmpty, {}, {}, "the document's id (record key)"},
    {"document_name", K::String, P::Optional, R::None, {}, {}, "file name"},
    {"document_type", K::String, P::Optional, R::None, {}, {}, "pdf, docx, txt, ..."},
    {"file_size", K::Integer, P::Optional, R::NonNegative, {}, {}, "bytes"},
    {"user_id", K::String, P::Optional, R::None, {}, {}, "uploader"},
    {"processing_stage", K::String, P::Optional, R::None, {}, {}, "current stage"},
    {"content_preview", K::String, P::Optional, R::None, {}, {}, "first characters of the text"},
    {"extracted_metadata", K::Object, P::Optional, R::None, {}, {}, "metadata read from the file"},
    {"analysis_results", K::Object, P::Optional, R::None, {}, {}, "analysis output"},
    {"error_details", K::StringMap, P::Optional, R::None, {}, {}, "error description by key"},
    {"processing_time_ms", K::Integer, P::Optional, R::NonNegative, {}, {}, "milliseconds"},
    {"agent_id", K::String, P::Optional, R::None, {}, {}, "agent that handled it"},
    // agentstream additions: the original's code read these although its model dropped them.
    {"file_path", K::String, P::Optional, R::None, {}, {}, "where the document's bytes are"},
    {"status", K::String, P::Optional, R::None, {}, {}, "pending, processing, done, ..."},
};

constexpr FieldSpec TASK[] = {
    {"task_id", K::String, P::Required, R::NonEmpty, {}, {}, "the task's id (record key)"},
    {"task_type", K::String, P::Required, R::NonEmpty, {}, {}, "e.g. document_analysis"},
    {"agent_id", K::String, P::Optional, R::None, {}, {}, "assigned agent"},
    {"agent_role", K::String, P::Optional, R::None, {}, {}, "role of the assigned agent"},
    {"requester_id", K::String, P::Optional, R::None, {}, {}, "who asked for it"},
    {"task_data", K::Object, P::Optional, R::None, {}, {}, "input"},
    {"result_data", K::Object, P::Optional, R::None, {}, {}, "output"},
    {"error_message", K::String, P::Optional, R::None, {}, {}, "why it failed"},
    {"execution_time_ms", K::Integer, P::Optional, R::NonNegative, {}, {}, "milliseconds"},
    {"queue_time_ms", K::Integer, P::Optional, R::NonNegative, {}, {}, "milliseconds"},
    {"parent_task_id", K::String, P::Optional, R::None, {}, {}, "parent task"},
    {"retry_count", K::Integer, P::Defaulted, R::NonNegative, {}, "0", "retries so far"},
    {"child_task_ids", K::StringList, P::Defaulted, R::None, {}, "[]", "sub-tasks"},
};

constexpr FieldSpec AGENT[] = {
    {"agent_id", K::String, P::Required, R::NonEmpty, {}, {}, "the agent's id (record key)"},
    {"agent_name", K::String, P::Required, R::NonEmpty, {}, {}, "display name"},
    {"agent_role", K::String, P::Required, R::NonEmpty, {}, {}, "role, e.g. document_analyzer"},
    {"status", K::String, P::Required, R::OneOf, AGENT_STATUS, {}, "agent state"},
    {"current_tasks", K::Integer, P::Defaulted, R::NonNegative, {}, "0", "tasks in progress"},
    {"completed_tasks", K::Integer, P::Defaulted, R::NonNegative, {}, "0", "tasks completed"},
    {"error_count", K::Integer, P::Defaulted, R::NonNegative, {}, "0", "errors so far"},
    {"average_processing_time", K::Number, P::Optional, R::NonNegative, {}, {}, "milliseconds"},
    {"success_rate", K::Number, P::Optional, R::UnitInterval, {}, {}, "fraction in [0, 1]"},
    {"throughput_per_hour", K::Number, P::Optional, R::NonNegative, {}, {}, "tasks per hour"},
    {"cpu_usage", K::Number, P::Optional, R::NonNegative, {}, {}, "percent of one core"},
    {"memory_usage", K::Number, P::Optional, R::NonNegative, {}, {}, "bytes"},
    // agentstream additions: the original's agent events passed these and lost them.
    {"task_id", K::String, P::Optional, R::None, {}, {}, "task the event is about"},
    {"error_message", K::String, P::Optional, R::None, {}, {}, "for agent.error"},
};

constexpr FieldSpec ANALYTICS[] = {
    {"metric_name", K::String, P::Required, R::NonEmpty, {}, {}, "metric name"},
    {"metric_value", K::Scalar, P::Required, R::None, {}, {}, "integer, number or string"},
    {"metric_type", K::String, P::Required, R::OneOf, METRIC_TYPES, {}, "metric kind"},
    {"service", K::String, P::Required, R::NonEmpty, {}, {}, "service reporting it"},
    {"environment", K::String, P::Defaulted, R::None, {}, R"("production")", "deployment"},
    {"tags", K::StringMap, P::Defaulted, R::None, {}, "{}", "string labels"},
    {"time_window", K::String, P::Optional, R::OneOf, TIME_WINDOWS, {}, "aggregation window"},
    {"aggregation", K::String, P::Optional, R::OneOf, AGGREGATIONS, {}, "aggregation function"},
    {"dimensions", K::Object, P::Defaulted, R::None, {}, "{}", "extra dimensions"},
    {"threshold_alerts", K::ObjectList, P::Defaulted, R::None, {}, "[]", "thresholds crossed"},
};

constexpr FieldSpec NOTIFICATION[] = {
    {"notification_type", K::String, P::Required, R::OneOf, NOTIFICATION_TYPES, {}, "severity"},
    {"title", K::String, P::Required, R::NonEmpty, {}, {}, "headline"},
    {"message", K::String, P::Required, R::None, {}, {}, "body"},
    {"user_id", K::String, P::Optional, R::None, {}, {}, "recipient (record key when set)"},
    {"user_email", K::String, P::Optional, R::None, {}, {}, "recipient address"},
    {"channel", K::String, P::Defaulted, R::OneOf, CHANNELS, R"("system")", "delivery channel"},
    {"is_persistent", K::Boolean, P::Defaulted, R::None, {}, "false", "kept after display"},
    {"auto_dismiss_after", K::Integer, P::Optional, R::NonNegative, {}, {}, "seconds"},
    {"requires_acknowledgment", K::Boolean, P::Defaulted, R::None, {}, "false", "needs an ack"},
    {"action_buttons", K::ObjectList, P::Defaulted, R::None, {}, "[]", "buttons"},
    {"attachments", K::ObjectList, P::Defaulted, R::None, {}, "[]", "attachments"},
    {"related_document_id", K::String, P::Optional, R::None, {}, {}, "document concerned"},
    {"related_task_id", K::String, P::Optional, R::None, {}, {}, "task concerned"},
    {"related_agent_id", K::String, P::Optional, R::None, {}, {}, "agent concerned"},
};

constexpr FieldSpec QUALITY[] = {
    {"validation_id", K::String, P::Required, R::NonEmpty, {}, {}, "the check's id (record key)"},
    {"subject_type", K::String, P::Required, R::OneOf, SUBJECT_TYPES, {}, "what was checked"},
    {"subject_id", K::String, P::Required, R::NonEmpty, {}, {}, "id of what was checked"},
    {"quality_score", K::Number, P::Required, R::UnitInterval, {}, {}, "score in [0, 1]"},
    {"validation_criteria", K::StringList, P::Required, R::None, {}, {}, "criteria applied"},
    {"passed_checks", K::StringList, P::Required, R::None, {}, {}, "checks passed"},
    {"failed_checks", K::StringList, P::Required, R::None, {}, {}, "checks failed"},
    {"warnings", K::StringList, P::Defaulted, R::None, {}, "[]", "warnings"},
    {"validator_agent_id", K::String, P::Optional, R::None, {}, {}, "agent that checked"},
    {"validation_rules", K::Object, P::Defaulted, R::None, {}, "{}", "rule parameters"},
    {"remediation_suggestions", K::StringList, P::Defaulted, R::None, {}, "[]", "fixes"},
    {"previous_quality_score", K::Number, P::Optional, R::UnitInterval, {}, {}, "in [0, 1]"},
    {"quality_trend", K::String, P::Optional, R::OneOf, QUALITY_TRENDS, {}, "trend"},
};

constexpr FieldSpec BUSINESS_INSIGHT[] = {
    {"insight_id", K::String, P::Required, R::NonEmpty, {}, {}, "the insight's id (record key)"},
    {"insight_type", K::String, P::Required, R::OneOf, INSIGHT_TYPES, {}, "kind of insight"},
    {"confidence", K::Number, P::Required, R::UnitInterval, {}, {}, "in [0, 1]"},
    {"title", K::String, P::Required, R::NonEmpty, {}, {}, "headline"},
    {"description", K::String, P::Required, R::None, {}, {}, "explanation"},
    {"key_findings", K::StringList, P::Required, R::None, {}, {}, "findings"},
    {"data_sources", K::StringList, P::Required, R::None, {}, {}, "inputs used"},
    {"business_impact", K::String, P::Required, R::OneOf, IMPACTS, {}, "impact"},
    {"generator_agent_id", K::String, P::Required, R::NonEmpty, {}, {}, "agent that found it"},
    {"data_freshness", K::String, P::Required, R::OneOf, FRESHNESS, {}, "age of the data"},
    {"recommendations", K::StringList, P::Defaulted, R::None, {}, "[]", "recommended actions"},
    {"metrics_analyzed", K::StringList, P::Defaulted, R::None, {}, "[]", "metrics used"},
    {"affected_areas", K::StringList, P::Defaulted, R::None, {}, "[]", "areas affected"},
    {"stakeholders", K::StringList, P::Defaulted, R::None, {}, "[]", "who should know"},
    {"analysis_period", K::String, P::Optional, R::None, {}, {}, "period analysed"},
    {"validity_period", K::String, P::Optional, R::None, {}, {}, "how long it holds"},
};

constexpr FieldSpec SYSTEM_HEALTH[] = {
    {"component", K::String, P::Required, R::NonEmpty, {}, {}, "component (record key)"},
    {"health_status", K::String, P::Required, R::OneOf, HEALTH_STATUS, {}, "health"},
    {"response_time_ms", K::Number, P::Optional, R::NonNegative, {}, {}, "milliseconds"},
    {"error_rate", K::Number, P::Optional, R::Percentage, {}, {}, "percent of operations"},
    {"throughput", K::Number, P::Optional, R::NonNegative, {}, {}, "operations per second"},
    {"cpu_usage_percent", K::Number, P::Optional, R::NonNegative, {}, {}, "percent of one core"},
    {"memory_usage_percent", K::Number, P::Optional, R::Percentage, {}, {}, "percent"},
    {"disk_usage_percent", K::Number, P::Optional, R::Percentage, {}, {}, "percent"},
    {"network_io", K::NumberMap, P::Optional, R::None, {}, {}, "bytes by direction"},
    {"active_connections", K::Integer, P::Optional, R::NonNegative, {}, {}, "connections"},
    {"queue_depth", K::Integer, P::Optional, R::NonNegative, {}, {}, "queued items"},
    {"cache_hit_rate", K::Number, P::Optional, R::UnitInterval, {}, {}, "in [0, 1]"},
    {"alert_level", K::String, P::Defaulted, R::OneOf, ALERT_LEVELS, R"("info")", "alert level"},
    {"alert_message", K::String, P::Optional, R::None, {}, {}, "alert text"},
    {"recovery_suggestions", K::StringList, P::Defaulted, R::None, {}, "[]", "what to do"},
};

constexpr sv KEY_DOCUMENT[] = {"document_id"};
constexpr sv KEY_TASK[] = {"task_id"};
constexpr sv KEY_AGENT[] = {"agent_id"};
constexpr sv KEY_ANALYTICS[] = {"service", "metric_name"};
constexpr sv KEY_NOTIFICATION[] = {"user_id"};
constexpr sv KEY_QUALITY[] = {"validation_id"};
constexpr sv KEY_INSIGHT[] = {"insight_id"};
constexpr sv KEY_HEALTH[] = {"component"};

constexpr std::array<FamilySpec, FAMILY_COUNT> FAMILIES = {{
    {Family::Document, DOCUMENT, KEY_DOCUMENT, "document upload, processing and analysis"},
    {Family::Task, TASK, KEY_TASK, "task lifecycle"},
    {Family::Agent, AGENT, KEY_AGENT, "agent status, performance and task activity"},
    {Family::Analytics, ANALYTICS, KEY_ANALYTICS, "metrics and reports"},
    {Family::Notification, NOTIFICATION, KEY_NOTIFICATION, "user notifications"},
    {Family::Quality, QUALITY, KEY_QUALITY, "quality assurance results"},
    {Family::BusinessInsight, BUSINESS_INSIGHT, KEY_INSIGHT, "business intelligence findings"},
    {Family::SystemHealth, SYSTEM_HEALTH, KEY_HEALTH, "component health and system alerts"},
}};

constexpr sv ENVELOPE[] = {"event_id", "event_type",     "schema_version", "timestamp", "priority",
                           "source",   "correlation_id", "causation_id",   "metadata"};

// A name's length, first and last byte. The catalogue's names nearly all differ in it, so a
// lookup compares a key's bytes with (usually) only the one name that can match: decoding asks
// for the field of every key of every event.
constexpr std::uint32_t signature(sv name) noexcept {
    if (name.empty()) {
        return 0;
    }
    return static_cast<std::uint32_t>(name.size()) << 16 |
           static_cast<std::uint32_t>(static_cast<unsigned char>(name.front())) << 8 |
           static_cast<unsigned char>(name.back());
}

constexpr std::size_t MAX_FIELDS = 32;
constexpr auto FIELD_SIGNATURES = [] {
    std::array<std::array<std::uint32_t, MAX_FIELDS>, FAMILY_COUNT> out{};
    for (std::size_t f = 0; f < FAMILY_COUNT; ++f) {
        for (std::size_t i = 0; i < FAMILIES[f].fields.size(); ++i) {
            out[f][i] = signature(FAMILIES[f].fields[i].name);
        }
    }
    return out;
}();
constexpr auto ENVELOPE_SIGNATURES = [] {
    std::array<std::uint32_t, std::size(ENVELOPE)> out{};
    for (std::size_t i = 0; i < out.size(); ++i) {
        out[i] = signature(ENVELOPE[i]);
    }
    return out;
}();
static_assert(std::all_of(FAMILIES.begin(), FAMILIES.end(),
                          [](const FamilySpec& f) { return f.fields.size() <= MAX_FIELDS; }));

}  // namespace

const FamilySpec& family_spec(Family family) noexcept {
    return FAMILIES[static_cast<std::size_t>(family)];
}

std::optional<std::size_t> field_index(Family family, std::string_view name) noexcept {
    const auto f = static_cast<std::size_t>(family);
    const auto& fields = FAMILIES[f].fields;
    const auto& signatures = FIELD_SIGNATURES[f];
    const auto wanted = signature(name);
    for (std::size_t i = 0; i < fields.size(); ++i) {
        if (signatures[i] == wanted && fields[i].name == name) {
            return i;
        }
    }
    return std::nullopt;
}

std::optional<std::size_t> envelope_index(std::string_view name) noexcept {
    const auto wanted = signature(name);
    for (std::size_t i = 0; i < ENVELOPE_SIGNATURES.size(); ++i) {
        if (ENVELOPE_SIGNATURES[i] == wanted && ENVELOPE[i] == name) {
            return i;
        }
    }
    return std::nullopt;
}

std::string_view to_string(FieldKind kind) noexcept {
    static constexpr sv NAMES[] = {
        "string", "integer",          "number",           "boolean",           "scalar",
        "object", "array of strings", "array of objects", "object of strings", "object of numbers"};
    return NAMES[static_cast<std::size_t>(kind)];
}

std::span<const std::string_view> envelope_fields() noexcept {
    return ENVELOPE;
}

}  // namespace agentstream::event
