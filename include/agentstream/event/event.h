// Event: one catalogue event in memory (envelope + family fields + unknown fields).
#pragma once

#include <agentstream/core/time.h>
#include <agentstream/event/schema.h>
#include <agentstream/event/types.h>

#include <concepts>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace agentstream::event {

/// A JSON value kept as its compact text (objects, arrays of objects, unknown fields). It is
/// parsed only when someone asks (`parse_on_demand` in STYLE.md); the codec writes it back as is.
struct RawJson {
    std::string text;
    bool operator==(const RawJson&) const = default;
};

using StringList = std::vector<std::string>;

/// The value of one family field. Which alternative a field holds follows its FieldKind:
/// String → string, Integer → int64, Number → double, Boolean → bool, StringList → StringList,
/// Object / ObjectList / StringMap / NumberMap → RawJson, Scalar → int64, double or string.
class Value {
  public:
    using Storage = std::variant<bool, std::int64_t, double, std::string, StringList, RawJson>;

    Value(bool v) : _v(v) {}  // NOLINT(google-explicit-constructor)
    template <std::integral I>
    requires(!std::same_as<I, bool>) Value(I v) : _v(static_cast<std::int64_t>(v)) {}  // NOLINT
    template <std::floating_point F>
    Value(F v) : _v(static_cast<double>(v)) {}                                           // NOLINT
    Value(const char* v) : _v(std::string(v)) {}                                         // NOLINT
    Value(std::string_view v) : _v(std::string(v)) {}                                    // NOLINT
    Value(std::string v) : _v(std::move(v)) {}                                           // NOLINT
    Value(StringList v) : _v(std::move(v)) {}                                            // NOLINT
    Value(std::initializer_list<const char*> v) : _v(StringList(v.begin(), v.end())) {}  // NOLINT
    Value(RawJson v) : _v(std::move(v)) {}                                               // NOLINT

    const Storage& storage() const noexcept { return _v; }
    Storage& storage() noexcept { return _v; }

    const std::string* as_string() const noexcept { return std::get_if<std::string>(&_v); }
    const std::int64_t* as_integer() const noexcept { return std::get_if<std::int64_t>(&_v); }
    const double* as_double() const noexcept { return std::get_if<double>(&_v); }
    const bool* as_bool() const noexcept { return std::get_if<bool>(&_v); }
    const StringList* as_string_list() const noexcept { return std::get_if<StringList>(&_v); }
    const RawJson* as_raw_json() const noexcept { return std::get_if<RawJson>(&_v); }
    /// Integer or double as a double.
    std::optional<double> as_number() const noexcept;

    bool operator==(const Value&) const = default;

  private:
    Storage _v;
};

/// One event. Fields of the event's family live in catalogue order; fields the catalogue does
/// not know are kept in arrival order and written back unchanged, so that producers with a newer
/// schema lose nothing passing through agentstream.
///
/// An Event is a plain value: copyable, movable, not thread-safe for concurrent mutation.
/// Mutation does not validate; call validate() (event/validation.h) or use EventFactory.
class Event {
  public:
    /// A new event of `type` from `source` with a fresh UUID v4 id, the current UTC time,
    /// medium priority, schema version SCHEMA_VERSION, empty metadata, and the family's defaulted
    /// fields set to their defaults (required and optional ones are left unset).
    Event(EventType type, std::string source);

    EventType type() const noexcept { return _type; }
    Family family() const noexcept { return family_of(_type); }

    const std::string& id() const noexcept { return _id; }
    void set_id(std::string id) { _id = std::move(id); }
    int schema_version() const noexcept { return _schema_version; }
    void set_schema_version(int version) noexcept { _schema_version = version; }
    Timestamp timestamp() const noexcept { return _timestamp; }
    void set_timestamp(Timestamp ts) noexcept { _timestamp = ts; }
    Priority priority() const noexcept { return _priority; }
    void set_priority(Priority p) noexcept { _priority = p; }
    const std::string& source() const noexcept { return _source; }
    void set_source(std::string source) { _source = std::move(source); }
    const std::optional<std::string>& correlation_id() const noexcept { return _correlation_id; }
    void set_correlation_id(std::optional<std::string> id) { _correlation_id = std::move(id); }
    const std::optional<std::string>& causation_id() const noexcept { return _causation_id; }
    void set_causation_id(std::optional<std::string> id) { _causation_id = std::move(id); }
    /// The metadata object as compact JSON text (`{}` when empty).
    const RawJson& metadata() const noexcept { return _metadata; }
    void set_metadata(RawJson object) { _metadata = std::move(object); }

    /// The value of a family field, or nullptr when absent (or not a field of this family).
    const Value* field(std::string_view name) const noexcept;
    const Value* field_at(std::size_t index) const noexcept {
        return _fields[index] ? &*_fields[index] : nullptr;
    }
    /// Sets a family field. Throws std::invalid_argument if the family has no such field
    /// (use set_extra for fields outside the catalogue).
    void set(std::string_view name, Value value);
    void set_at(std::size_t index, Value value) { _fields[index] = std::move(value); }
    /// Removes a family field; returns whether it was present.
    bool erase(std::string_view name);

    /// Convenience readers: the value when present with that type, else nullopt / empty.
    std::optional<std::string_view> string(std::string_view name) const noexcept;
    std::optional<std::int64_t> integer(std::string_view name) const noexcept;
    std::optional<double> number(std::string_view name) const noexcept;

    /// Fields outside the catalogue, as (name, compact JSON) in arrival order.
    const std::vector<std::pair<std::string, RawJson>>& extra_fields() const noexcept {
        return _extra;
    }
    /// Adds or replaces a field outside the catalogue. `value` must be valid JSON text.
    void set_extra(std::string name, RawJson value);

    bool operator==(const Event&) const = default;

  private:
    friend struct EventAccess;
    struct Blank {};
    Event(EventType type, Blank);

    EventType _type;
    Priority _priority = Priority::Medium;
    int _schema_version = SCHEMA_VERSION;
    Timestamp _timestamp{};
    std::string _id;
    std::string _source;
    std::optional<std::string> _correlation_id;
    std::optional<std::string> _causation_id;
    RawJson _metadata{"{}"};
    std::vector<std::optional<Value>> _fields;
    std::vector<std::pair<std::string, RawJson>> _extra;
};

}  // namespace agentstream::event
