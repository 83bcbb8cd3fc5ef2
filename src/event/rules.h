// Value rules shared by validate() and the decoder.
#pragma once

#include <agentstream/event/schema.h>
#include <agentstream/event/validation.h>

namespace agentstream::event::rules {

/// Appends a violation if `value` (already of the right kind) breaks `spec.rule`.
void check(const FieldSpec& spec, const Value& value, Violations& out);
/// The same for a string value not yet copied out of its document.
void check_text(const FieldSpec& spec, std::string_view value, Violations& out);

void missing(std::string_view field, Violations& out);
void wrong_type(std::string_view field, std::string_view expected, std::string_view got,
                Violations& out);

}  // namespace agentstream::event::rules
