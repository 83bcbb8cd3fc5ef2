// Validation of events against the catalogue, with one message per broken rule.
#pragma once

#include <agentstream/event/event.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace agentstream::event {

enum class ViolationKind : std::uint8_t {
    Malformed,    ///< not JSON, not an object, bad UTF-8
    Missing,      ///< a required field is absent or null
    WrongType,    ///< the JSON shape does not match the field's kind
    OutOfRange,   ///< a number outside its range (negative size, score above 1, ...)
    NotAllowed,   ///< a string outside its field's set of values, or an empty id
    UnknownType,  ///< event_type is not one of the 22
    Duplicate,    ///< a field appears twice in one object
};

std::string_view to_string(ViolationKind kind) noexcept;

/// One broken rule. `field` is the field's name (empty for the event as a whole).
struct Violation {
    std::string field;
    ViolationKind kind;
    std::string message;  ///< complete sentence fragment naming the field and the rule
    bool operator==(const Violation&) const = default;
};
using Violations = std::vector<Violation>;

/// Checks every rule of the catalogue on an event built in memory: required fields present,
/// kinds, ranges, allowed values, envelope. Returns all violations (empty when valid).
/// Thread-safe; does not block.
Violations validate(const Event& event);

/// Thrown by EventFactory when asked to build an invalid event.
class ValidationError : public std::invalid_argument {
  public:
    explicit ValidationError(Violations violations);
    const Violations& violations() const noexcept { return _violations; }

  private:
    Violations _violations;
};

/// All violations' messages joined with "; ".
std::string describe(const Violations& violations);

}  // namespace agentstream::event
