// How an event maps onto a Kafka record: key and headers.
#pragma once

#include <agentstream/event/event.h>

#include <string>
#include <utility>
#include <vector>

namespace agentstream::event {

/// The record key: the entity the event is about, so that one entity's events share a partition
/// and stay ordered. document_id, task_id, agent_id, validation_id, insight_id, component, or
/// `service/metric_name` for analytics; a notification's user_id. When the key fields are absent
/// (a notification without a user), the event id, which spreads such events evenly.
std::string record_key(const Event& event);

/// Header names written on every record.
inline constexpr std::string_view HEADER_EVENT_TYPE = "event_type";
inline constexpr std::string_view HEADER_EVENT_ID = "event_id";
inline constexpr std::string_view HEADER_CORRELATION_ID = "correlation_id";
inline constexpr std::string_view HEADER_SCHEMA_VERSION = "schema_version";
inline constexpr std::string_view HEADER_CONTENT_TYPE = "content-type";
inline constexpr std::string_view CONTENT_TYPE_JSON = "application/json";

/// The record headers: event_type, event_id, correlation_id (when set), schema_version and
/// content-type, so that consumers can filter without parsing the value.
std::vector<std::pair<std::string, std::string>> record_headers(const Event& event);

}  // namespace agentstream::event
