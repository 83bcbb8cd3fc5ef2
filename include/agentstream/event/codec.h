// The JSON wire format: one flat object, envelope fields then family fields then unknown fields.
//
// Written: canonical RFC 3339 UTC timestamps with microseconds, priorities as `low|medium|high|
// critical`, absent optionals omitted. Read: also the Python producers' spellings (a naive
// `YYYY-MM-DD HH:MM:SS.ffffff` timestamp read as UTC, `Priority.MEDIUM`, `null` for absent
// optionals; docs/compatibility.md).
#pragma once

#include <agentstream/core/result.h>
#include <agentstream/event/event.h>
#include <agentstream/event/validation.h>

#include <string>
#include <string_view>

namespace agentstream::event {

/// Largest event the decoder accepts, in bytes.
inline constexpr std::size_t MAX_EVENT_BYTES = 1024 * 1024;

/// Decodes and validates one event. Never throws on bad input and never reads out of bounds:
/// any byte string yields either an event or violations (all of them, not just the first).
/// Thread-safe (one parser per thread); allocates only for the event's own strings.
Result<Event, Violations> decode(std::string_view json);

/// What check() reports of a valid event.
struct EventSummary {
    EventType type;
    Timestamp timestamp;
};

/// Validates like decode() (same violations for the same bytes) without building the event:
/// for code that needs only to know an event is valid, its type and its time. Allocates only
/// to convert string field values for their checks.
Result<EventSummary, Violations> check(std::string_view json);

/// Appends the event's JSON to `out`. Does not validate.
void encode(const Event& event, std::string& out);
std::string encode(const Event& event);

/// Converts JSON text to a value of `spec`'s kind, checking its rule. Used for `--set` on the
/// CLI and for configuration; the text must be one JSON value.
Result<Value, Violations> value_from_json(const FieldSpec& spec, std::string_view json);

}  // namespace agentstream::event
