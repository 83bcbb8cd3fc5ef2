#include <agentstream/core/ids.h>
#include <agentstream/event/event.h>

#include <fmt/format.h>

#include <stdexcept>

#include "event/event_access.h"

namespace agentstream::event {

std::optional<double> Value::as_number() const noexcept {
    if (const auto* i = as_integer()) {
        return static_cast<double>(*i);
    }
    if (const auto* d = as_double()) {
        return *d;
    }
    return std::nullopt;
}

Event::Event(EventType type, std::string source)
    : _type(type),
      _timestamp(now_utc()),
      _id(new_uuid()),
      _source(std::move(source)),
      _fields(family_spec(family_of(type)).fields.size()) {
    const auto& fields = family_spec(family()).fields;
    for (std::size_t i = 0; i < fields.size(); ++i) {
        if (fields[i].presence == Presence::Defaulted) {
            _fields[i] = EventAccess::default_value(fields[i]);
        }
    }
}

Value EventAccess::default_value(const FieldSpec& spec) {
    // Defaults are literal JSON in the catalogue; these are all the shapes it uses.
    auto text = spec.default_json;
    switch (spec.kind) {
        case FieldKind::Integer: return Value(std::int64_t{std::stoll(std::string(text))});
        case FieldKind::Number: return Value(std::stod(std::string(text)));
        case FieldKind::Boolean: return Value(text == "true");
        case FieldKind::String: return Value(std::string(text.substr(1, text.size() - 2)));
        case FieldKind::StringList: return Value(StringList{});
        default: return Value(RawJson{std::string(text)});
    }
}

Event::Event(EventType type, Blank)
    : _type(type), _fields(family_spec(family_of(type)).fields.size()) {}

const Value* Event::field(std::string_view name) const noexcept {
    auto index = field_index(family(), name);
    return index ? field_at(*index) : nullptr;
}

void Event::set(std::string_view name, Value value) {
    auto index = field_index(family(), name);
    if (!index) {
        throw std::invalid_argument(fmt::format("'{}' is not a field of {} events ({})", name,
                                                to_string(family()), to_string(_type)));
    }
    _fields[*index] = std::move(value);
}

bool Event::erase(std::string_view name) {
    auto index = field_index(family(), name);
    if (!index || !_fields[*index]) {
        return false;
    }
    _fields[*index].reset();
    return true;
}

std::optional<std::string_view> Event::string(std::string_view name) const noexcept {
    const auto* v = field(name);
    if (v == nullptr || v->as_string() == nullptr) {
        return std::nullopt;
    }
    return *v->as_string();
}

std::optional<std::int64_t> Event::integer(std::string_view name) const noexcept {
    const auto* v = field(name);
    if (v == nullptr || v->as_integer() == nullptr) {
        return std::nullopt;
    }
    return *v->as_integer();
}

std::optional<double> Event::number(std::string_view name) const noexcept {
    const auto* v = field(name);
    return v == nullptr ? std::nullopt : v->as_number();
}

void Event::set_extra(std::string name, RawJson value) {
    for (auto& [n, v] : _extra) {
        if (n == name) {
            v = std::move(value);
            return;
        }
    }
    _extra.emplace_back(std::move(name), std::move(value));
}

}  // namespace agentstream::event
