#include <agentstream/event/factory.h>

#include <fmt/format.h>

#include <stdexcept>

namespace agentstream::event {
namespace {

void require_family(EventType type, Family family) {
    if (family_of(type) != family) {
        throw std::invalid_argument(
            fmt::format("{} is not a {} event type", to_string(type), to_string(family)));
    }
}

Event build(EventType type, std::string source, std::initializer_list<FieldValue> required,
            const Fields& fields, const EnvelopeOptions& envelope) {
    Event event(type, std::move(source));
    event.set_priority(envelope.priority);
    event.set_correlation_id(envelope.correlation_id);
    event.set_causation_id(envelope.causation_id);
    event.set_metadata(envelope.metadata);
    for (const auto& f : required) {
        event.set(f.name, f.value);
    }
    for (const auto& f : fields) {
        event.set(f.name, f.value);
    }
    if (auto violations = validate(event); !violations.empty()) {
        throw ValidationError(std::move(violations));
    }
    return event;
}

}  // namespace

EnvelopeOptions EnvelopeOptions::caused_by(const Event& cause) {
    EnvelopeOptions options;
    options.priority = cause.priority();
    options.correlation_id = cause.correlation_id().value_or(cause.id());
    options.causation_id = cause.id();
    return options;
}

Event EventFactory::create(EventType type, std::string source, const Fields& fields,
                           const EnvelopeOptions& envelope) {
    return build(type, std::move(source), {}, fields, envelope);
}

Event EventFactory::document(EventType type, std::string document_id, std::string source,
                             const Fields& fields, const EnvelopeOptions& envelope) {
    require_family(type, Family::Document);
    return build(type, std::move(source), {{"document_id", std::move(document_id)}}, fields,
                 envelope);
}

Event EventFactory::task(EventType type, std::string task_id, std::string task_type,
                         std::string source, const Fields& fields,
                         const EnvelopeOptions& envelope) {
    require_family(type, Family::Task);
    return build(type, std::move(source),
                 {{"task_id", std::move(task_id)}, {"task_type", std::move(task_type)}}, fields,
                 envelope);
}

Event EventFactory::agent(EventType type, std::string agent_id, std::string agent_name,
                          std::string agent_role, std::string status, std::string source,
                          const Fields& fields, const EnvelopeOptions& envelope) {
    require_family(type, Family::Agent);
    return build(type, std::move(source),
                 {{"agent_id", std::move(agent_id)},
                  {"agent_name", std::move(agent_name)},
                  {"agent_role", std::move(agent_role)},
                  {"status", std::move(status)}},
                 fields, envelope);
}

Event EventFactory::analytics(std::string metric_name, Value metric_value, std::string metric_type,
                              std::string service, std::string source, const Fields& fields,
                              const EnvelopeOptions& envelope, EventType type) {
    require_family(type, Family::Analytics);
    return build(type, std::move(source),
                 {{"metric_name", std::move(metric_name)},
                  {"metric_value", std::move(metric_value)},
                  {"metric_type", std::move(metric_type)},
                  {"service", std::move(service)}},
                 fields, envelope);
}

Event EventFactory::notification(std::string notification_type, std::string title,
                                 std::string message, std::string source, const Fields& fields,
                                 const EnvelopeOptions& envelope) {
    return build(EventType::UserNotification, std::move(source),
                 {{"notification_type", std::move(notification_type)},
                  {"title", std::move(title)},
                  {"message", std::move(message)}},
                 fields, envelope);
}

Event EventFactory::quality(std::string validation_id, std::string subject_type,
                            std::string subject_id, double quality_score,
                            StringList validation_criteria, StringList passed_checks,
                            StringList failed_checks, std::string source, const Fields& fields,
                            const EnvelopeOptions& envelope) {
    return build(EventType::QualityCheckComplete, std::move(source),
                 {{"validation_id", std::move(validation_id)},
                  {"subject_type", std::move(subject_type)},
                  {"subject_id", std::move(subject_id)},
                  {"quality_score", quality_score},
                  {"validation_criteria", std::move(validation_criteria)},
                  {"passed_checks", std::move(passed_checks)},
                  {"failed_checks", std::move(failed_checks)}},
                 fields, envelope);
}

Event EventFactory::business_insight(std::string insight_id, std::string insight_type,
                                     double confidence, std::string title, std::string description,
                                     StringList key_findings, StringList data_sources,
                                     std::string business_impact, std::string generator_agent_id,
                                     std::string data_freshness, std::string source,
                                     const Fields& fields, const EnvelopeOptions& envelope) {
    return build(EventType::BusinessInsightGenerated, std::move(source),
                 {{"insight_id", std::move(insight_id)},
                  {"insight_type", std::move(insight_type)},
                  {"confidence", confidence},
                  {"title", std::move(title)},
                  {"description", std::move(description)},
                  {"key_findings", std::move(key_findings)},
                  {"data_sources", std::move(data_sources)},
                  {"business_impact", std::move(business_impact)},
                  {"generator_agent_id", std::move(generator_agent_id)},
                  {"data_freshness", std::move(data_freshness)}},
                 fields, envelope);
}

Event EventFactory::system_health(std::string component, std::string health_status,
                                  std::string source, const Fields& fields,
                                  const EnvelopeOptions& envelope, EventType type) {
    require_family(type, Family::SystemHealth);
    return build(type, std::move(source),
                 {{"component", std::move(component)}, {"health_status", std::move(health_status)}},
                 fields, envelope);
}

}  // namespace agentstream::event
