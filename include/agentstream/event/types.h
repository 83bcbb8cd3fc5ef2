// The event catalogue's vocabulary: event types, families and priorities.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace agentstream::event {

/// The eight event families. Every event type belongs to exactly one.
enum class Family : std::uint8_t {
    Document,
    Task,
    Agent,
    Analytics,
    Notification,
    Quality,
    BusinessInsight,
    SystemHealth,
};
inline constexpr std::size_t FAMILY_COUNT = 8;

/// The 22 event types (docs/events.md; docs/compatibility.md for their history).
enum class EventType : std::uint8_t {
    DocumentUploaded,
    DocumentProcessed,
    DocumentAnalysisComplete,
    DocumentError,
    TaskCreated,
    TaskAssigned,
    TaskStarted,
    TaskCompleted,
    TaskFailed,
    TaskCancelled,
    AgentStatusChanged,
    AgentPerformanceUpdate,
    AgentTaskStarted,
    AgentTaskCompleted,
    AgentError,
    AnalyticsMetricUpdate,
    AnalyticsReportGenerated,
    UserNotification,
    SystemAlert,
    SystemHealth,
    QualityCheckComplete,
    BusinessInsightGenerated,
};
inline constexpr std::size_t EVENT_TYPE_COUNT = 22;

enum class Priority : std::uint8_t { Low, Medium, High, Critical };

/// Every event type, in declaration order.
std::span<const EventType> all_event_types() noexcept;

/// The wire value, e.g. `document.uploaded`.
std::string_view to_string(EventType type) noexcept;
/// Parses a wire value; nullopt if it is not one of the 22.
std::optional<EventType> parse_event_type(std::string_view text) noexcept;
Family family_of(EventType type) noexcept;

/// The family's name as used in docs and messages, e.g. `document`, `business_insight`.
std::string_view to_string(Family family) noexcept;

/// `low`, `medium`, `high`, `critical`.
std::string_view to_string(Priority priority) noexcept;
/// Parses a priority. Also accepts the `Priority.MEDIUM` spelling of the Python producers
/// agentstream reads (docs/compatibility.md).
std::optional<Priority> parse_priority(std::string_view text) noexcept;

/// A compiled event-type pattern: `*` (everything), `prefix.*` (every type under `prefix.`,
/// at any depth, e.g. `document.*`, `agent.task.*`) or an exact wire value.
class TypePattern {
  public:
    /// Throws std::invalid_argument with a message naming the pattern if it is empty, has a `*`
    /// anywhere but as the whole pattern or a trailing `.*`, or names no known event type.
    explicit TypePattern(std::string_view pattern);

    bool matches(EventType type) const noexcept { return (_mask >> static_cast<int>(type)) & 1U; }
    /// Matches a raw wire value, known or not (unknown types match only `*` or a prefix).
    bool matches(std::string_view type) const noexcept;
    const std::string& text() const noexcept { return _text; }

  private:
    std::string _text;
    std::uint32_t _mask = 0;
};

}  // namespace agentstream::event
