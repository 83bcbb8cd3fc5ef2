// The catalogue's field tables: one declaration per field of every family, from which
// validation, the codec, the factory, `agentstream event new --set` and docs/events.md derive.
#pragma once

#include <agentstream/event/types.h>

#include <optional>
#include <span>
#include <string_view>

namespace agentstream::event {

/// The JSON shape a field takes on the wire.
enum class FieldKind : std::uint8_t {
    String,      ///< JSON string
    Integer,     ///< JSON integer (64-bit)
    Number,      ///< JSON number, stored as double
    Boolean,     ///< true / false
    Scalar,      ///< integer, number or string (analytics metric_value)
    Object,      ///< any JSON object
    StringList,  ///< array of strings
    ObjectList,  ///< array of objects
    StringMap,   ///< object whose values are strings
    NumberMap,   ///< object whose values are numbers
};

enum class Presence : std::uint8_t {
    Required,   ///< must be present and non-null
    Optional,   ///< may be absent; written only when present
    Defaulted,  ///< filled with its default when absent, always written
};

/// Value rules beyond the JSON shape.
enum class Rule : std::uint8_t {
    None,
    NonEmpty,      ///< strings: at least one character
    NonNegative,   ///< numbers: >= 0
    UnitInterval,  ///< numbers: in [0, 1] (scores, confidences, rates given as fractions)
    Percentage,    ///< numbers: in [0, 100]
    OneOf,         ///< strings: one of `allowed`
};

struct FieldSpec {
    std::string_view name;
    FieldKind kind;
    Presence presence;
    Rule rule = Rule::None;
    std::span<const std::string_view> allowed = {};
    /// JSON text of the default, for Presence::Defaulted.
    std::string_view default_json = {};
    std::string_view description = {};
};

struct FamilySpec {
    Family family;
    /// The fields in wire order (after the envelope).
    std::span<const FieldSpec> fields;
    /// The fields whose values, joined by '/', form the Kafka record key.
    std::span<const std::string_view> key_fields;
    std::string_view description;
};

const FamilySpec& family_spec(Family family) noexcept;

/// Index of `name` in the family's field table, or nullopt.
std::optional<std::size_t> field_index(Family family, std::string_view name) noexcept;

std::string_view to_string(FieldKind kind) noexcept;

/// The envelope's field names, in wire order.
std::span<const std::string_view> envelope_fields() noexcept;
/// Index of `name` in envelope_fields(), or nullopt.
std::optional<std::size_t> envelope_index(std::string_view name) noexcept;

/// The current schema version written by this build.
inline constexpr int SCHEMA_VERSION = 1;

}  // namespace agentstream::event
