#include <agentstream/event/types.h>

#include <fmt/format.h>

#include <stdexcept>

namespace agentstream::event {
namespace {

struct TypeInfo {
    EventType type;
    std::string_view wire;
    Family family;
};

constexpr std::array<TypeInfo, EVENT_TYPE_COUNT> TYPES = {{
    {EventType::DocumentUploaded, "document.uploaded", Family::Document},
    {EventType::DocumentProcessed, "document.processed", Family::Document},
    {EventType::DocumentAnalysisComplete, "document.analysis.complete", Family::Document},
    {EventType::DocumentError, "document.error", Family::Document},
    {EventType::TaskCreated, "task.created", Family::Task},
    {EventType::TaskAssigned, "task.assigned", Family::Task},
    {EventType::TaskStarted, "task.started", Family::Task},
    {EventType::TaskCompleted, "task.completed", Family::Task},
    {EventType::TaskFailed, "task.failed", Family::Task},
    {EventType::TaskCancelled, "task.cancelled", Family::Task},
    {EventType::AgentStatusChanged, "agent.status.changed", Family::Agent},
    {EventType::AgentPerformanceUpdate, "agent.performance.update", Family::Agent},
    {EventType::AgentTaskStarted, "agent.task.started", Family::Agent},
    {EventType::AgentTaskCompleted, "agent.task.completed", Family::Agent},
    {EventType::AgentError, "agent.error", Family::Agent},
    {EventType::AnalyticsMetricUpdate, "analytics.metric.update", Family::Analytics},
    {EventType::AnalyticsReportGenerated, "analytics.report.generated", Family::Analytics},
    {EventType::UserNotification, "user.notification", Family::Notification},
    {EventType::SystemAlert, "system.alert", Family::SystemHealth},
    {EventType::SystemHealth, "system.health", Family::SystemHealth},
    {EventType::QualityCheckComplete, "quality.check.complete", Family::Quality},
    {EventType::BusinessInsightGenerated, "business.insight.generated", Family::BusinessInsight},
}};

constexpr std::array<EventType, EVENT_TYPE_COUNT> make_all() {
    std::array<EventType, EVENT_TYPE_COUNT> out{};
    for (std::size_t i = 0; i < EVENT_TYPE_COUNT; ++i) {
        out[i] = TYPES[i].type;
    }
    return out;
}
constexpr auto ALL = make_all();

static_assert([] {
    for (std::size_t i = 0; i < EVENT_TYPE_COUNT; ++i) {
        if (static_cast<std::size_t>(TYPES[i].type) != i) {
            return false;
        }
    }
    return true;
}());

}  // namespace

std::span<const EventType> all_event_types() noexcept {
    return ALL;
}

std::string_view to_string(EventType type) noexcept {
    return TYPES[static_cast<std::size_t>(type)].wire;
}

std::optional<EventType> parse_event_type(std::string_view text) noexcept {
    // Same-length names mostly differ in their last character: compared before the rest
    // (no name is empty, so equal sizes mean text has a last character).
    for (const auto& info : TYPES) {
        if (info.wire.size() == text.size() && info.wire.back() == text.back() &&
            info.wire == text) {
            return info.type;
        }
    }
    return std::nullopt;
}

Family family_of(EventType type) noexcept {
    return TYPES[static_cast<std::size_t>(type)].family;
}

std::string_view to_string(Family family) noexcept {
    static constexpr std::string_view NAMES[] = {"document",         "task",         "agent",
                                                 "analytics",        "notification", "quality",
                                                 "business_insight", "system_health"};
    return NAMES[static_cast<std::size_t>(family)];
}

std::string_view to_string(Priority priority) noexcept {
    static constexpr std::string_view NAMES[] = {"low", "medium", "high", "critical"};
    return NAMES[static_cast<std::size_t>(priority)];
}

std::optional<Priority> parse_priority(std::string_view text) noexcept {
    if (text == "low" || text == "Priority.LOW") {
        return Priority::Low;
    }
    if (text == "medium" || text == "Priority.MEDIUM") {
        return Priority::Medium;
    }
    if (text == "high" || text == "Priority.HIGH") {
        return Priority::High;
    }
    if (text == "critical" || text == "Priority.CRITICAL") {
        return Priority::Critical;
    }
    return std::nullopt;
}

TypePattern::TypePattern(std::string_view pattern) : _text(pattern) {
    if (pattern == "*") {
        _mask = (1U << EVENT_TYPE_COUNT) - 1;
        return;
    }
    auto star = pattern.find('*');
    if (pattern.empty() ||
        (star != std::string_view::npos && (star != pattern.size() - 1 || pattern.size() < 3 ||
                                            pattern[pattern.size() - 2] != '.'))) {
        throw std::invalid_argument(fmt::format(
            "invalid event type pattern '{}': expected '*', 'prefix.*' or an event type", pattern));
    }
    for (const auto& info : TYPES) {
        if (matches(info.wire)) {
            _mask |= 1U << static_cast<int>(info.type);
        }
    }
    if (_mask == 0) {
        throw std::invalid_argument(
            fmt::format("event type pattern '{}' matches no known event type", pattern));
    }
}

bool TypePattern::matches(std::string_view type) const noexcept {
    if (_text == "*") {
        return true;
    }
    if (_text.ends_with(".*")) {
        std::string_view prefix(_text.data(), _text.size() - 1);  // keeps the dot
        return type.size() > prefix.size() && type.starts_with(prefix);
    }
    return type == _text;
}

}  // namespace agentstream::event
