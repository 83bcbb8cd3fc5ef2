// Conversion of simdjson DOM elements to catalogue values (decoder and validate()).
#pragma once

#include <simdjson.h>

#include <agentstream/event/event.h>
#include <agentstream/event/validation.h>

#include <optional>

namespace agentstream::event::detail {

/// The JSON type name of an element for messages: "string", "integer", "object", ...
std::string_view json_type_name(simdjson::dom::element element) noexcept;

/// Converts `element` to a value of `spec.kind`, appending a WrongType violation (and returning
/// nullopt) on a mismatch. Does not check rules; does not handle null.
std::optional<Value> convert(const FieldSpec& spec, simdjson::dom::element element,
                             Violations& out);

/// What convert() then rules::check() would report, without building the value (no string
/// copies, no minified JSON). Returns whether convert() would have produced a value.
bool check_value(const FieldSpec& spec, simdjson::dom::element element, Violations& out);

/// A thread-local parser for small documents (events, field values).
simdjson::dom::parser& thread_parser();

/// Parses `json` with the thread's parser through a padded copy in a buffer the thread reuses
/// (simdjson otherwise allocates a padded copy for every input that is not padded).
simdjson::simdjson_result<simdjson::dom::element> parse_padded(std::string_view json);

}  // namespace agentstream::event::detail
