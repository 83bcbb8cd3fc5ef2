// EventFactory: one creator per family, defaults filled, validated at construction.
#pragma once

#include <agentstream/event/event.h>
#include <agentstream/event/validation.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace agentstream::event {

/// A family field given by name, for the optional fields of a creator.
struct FieldValue {
    std::string_view name;
    Value value;
};
using Fields = std::vector<FieldValue>;

/// Envelope settings other than type, id, timestamp and source.
struct EnvelopeOptions {
    Priority priority = Priority::Medium;
    std::optional<std::string> correlation_id;
    std::optional<std::string> causation_id;
    RawJson metadata{"{}"};

    /// Options for an event caused by `cause`: the cause's correlation id (or, if it has none,
    /// its id) and the cause's id as causation id; the cause's priority.
    static EnvelopeOptions caused_by(const Event& cause);
};

/// Creates catalogue events. Every creator fills the event id (UUID v4), the timestamp (now, UTC)
/// and the family's defaults, applies `fields`, then validates; an invalid result throws
/// ValidationError listing every violation, and a field the family does not have throws
/// std::invalid_argument. Thread-safe.
class EventFactory {
  public:
    /// Any event type, all family fields given by name.
    static Event create(EventType type, std::string source, const Fields& fields = {},
                        const EnvelopeOptions& envelope = {});

    static Event document(EventType type, std::string document_id, std::string source,
                          const Fields& fields = {}, const EnvelopeOptions& envelope = {});
    static Event task(EventType type, std::string task_id, std::string task_type,
                      std::string source, const Fields& fields = {},
                      const EnvelopeOptions& envelope = {});
    static Event agent(EventType type, std::string agent_id, std::string agent_name,
                       std::string agent_role, std::string status, std::string source,
                       const Fields& fields = {}, const EnvelopeOptions& envelope = {});
    /// analytics.metric.update, or analytics.report.generated when `type` says so.
    static Event analytics(std::string metric_name, Value metric_value, std::string metric_type,
                           std::string service, std::string source, const Fields& fields = {},
                           const EnvelopeOptions& envelope = {},
                           EventType type = EventType::AnalyticsMetricUpdate);
    /// user.notification.
    static Event notification(std::string notification_type, std::string title, std::string message,
                              std::string source, const Fields& fields = {},
                              const EnvelopeOptions& envelope = {});
    /// quality.check.complete.
    static Event quality(std::string validation_id, std::string subject_type,
                         std::string subject_id, double quality_score,
                         StringList validation_criteria, StringList passed_checks,
                         StringList failed_checks, std::string source, const Fields& fields = {},
                         const EnvelopeOptions& envelope = {});
    /// business.insight.generated.
    static Event business_insight(std::string insight_id, std::string insight_type,
                                  double confidence, std::string title, std::string description,
                                  StringList key_findings, StringList data_sources,
                                  std::string business_impact, std::string generator_agent_id,
                                  std::string data_freshness, std::string source,
                                  const Fields& fields = {}, const EnvelopeOptions& envelope = {});
    /// system.health (a periodic status report) or system.alert (something needs attention).
    static Event system_health(std::string component, std::string health_status, std::string source,
                               const Fields& fields = {}, const EnvelopeOptions& envelope = {},
                               EventType type = EventType::SystemHealth);
};

}  // namespace agentstream::event
