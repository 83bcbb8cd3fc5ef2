#include <agentstream/event/codec.h>

#include <fmt/format.h>

#include <bitset>
#include <cmath>

#include "event/event_access.h"
#include "event/json_convert.h"
#include "event/rules.h"
#include "internal/json_escape.h"

namespace agentstream::event {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

constexpr std::size_t MAX_FAMILY_FIELDS = 32;

enum class Envelope : std::uint8_t {
    EventId,
    EventType,
    SchemaVersion,
    Timestamp,
    Priority,
    Source,
    CorrelationId,
    CausationId,
    Metadata,
    None,
};

Envelope envelope_field(std::string_view key) noexcept {
    auto index = envelope_index(key);
    return index ? static_cast<Envelope>(*index) : Envelope::None;
}

Violation violation(std::string_view field, ViolationKind kind, std::string message) {
    return {std::string(field), kind, std::move(message)};
}

// Checks an optional string envelope field (null means absent); returns the string, if any.
std::optional<std::string_view> read_optional_string(std::string_view name, element value,
                                                     Violations& out, bool& ok) {
    ok = true;
    if (value.is_null()) {
        return std::nullopt;
    }
    if (!value.is_string()) {
        rules::wrong_type(name, "string", detail::json_type_name(value), out);
        ok = false;
        return std::nullopt;
    }
    return value.get_string().value_unsafe();
}

void append_double(std::string& out, double v) {
    auto start = out.size();
    fmt::format_to(std::back_inserter(out), "{}", v);
    // Keep doubles recognisable as such (5.0, not 5) so that Scalar fields round-trip.
    if (out.find_first_of(".eEn", start) == std::string::npos) {
        out += ".0";
    }
}

void append_key(std::string& out, std::string_view key) {
    out += ',';
    append_json_string(out, key);
    out += ':';
}

void append_value(std::string& out, const Value& value) {
    std::visit(
        [&](const auto& v) {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, bool>) {
                out += v ? "true" : "false";
            } else if constexpr (std::is_same_v<T, std::int64_t>) {
                fmt::format_int f(v);
                out.append(f.data(), f.size());
            } else if constexpr (std::is_same_v<T, double>) {
                append_double(out, v);
            } else if constexpr (std::is_same_v<T, std::string>) {
                append_json_string(out, v);
            } else if constexpr (std::is_same_v<T, StringList>) {
                out += '[';
                for (std::size_t i = 0; i < v.size(); ++i) {
                    if (i != 0) {
                        out += ',';
                    }
                    append_json_string(out, v[i]);
                }
                out += ']';
            } else {
                out += v.text;
            }
        },
        value.storage());
}

// decode() and check() in one: with Build, `out` receives the event; without, the same checks
// run and nothing is stored (no allocation beyond converting string field values).
template <bool Build>
Result<EventSummary, Violations> decode_impl(std::string_view json,
                                             [[maybe_unused]] std::optional<Event>* out) {
    Violations errors;
    if (json.size() > MAX_EVENT_BYTES) {
        errors.push_back(violation(
            "", ViolationKind::Malformed,
            fmt::format("event is {} bytes; the limit is {}", json.size(), MAX_EVENT_BYTES)));
        return failure(std::move(errors));
    }
    element root;
    if (auto error = detail::parse_padded(json).get(root)) {
        errors.push_back(
            violation("", ViolationKind::Malformed,
                      fmt::format("not valid JSON: {}", simdjson::error_message(error))));
        return failure(std::move(errors));
    }
    simdjson::dom::object object;
    if (root.get_object().get(object)) {
        errors.push_back(violation(
            "", ViolationKind::Malformed,
            fmt::format("an event must be a JSON object, got {}", detail::json_type_name(root))));
        return failure(std::move(errors));
    }

    // The family decides how every other field reads, so find event_type first.
    std::optional<EventType> type;
    element type_element;
    if (object["event_type"].get(type_element)) {
        rules::missing("event_type", errors);
    } else if (!type_element.is_string()) {
        rules::wrong_type("event_type", "string", detail::json_type_name(type_element), errors);
    } else {
        auto text = type_element.get_string().value_unsafe();
        type = parse_event_type(text);
        if (!type) {
            errors.push_back(violation("event_type", ViolationKind::UnknownType,
                                       fmt::format("event_type: unknown event type '{}'", text)));
        }
    }
    // With an unknown type, keep checking the envelope against a stand-in family so that
    // every envelope problem is reported too.
    Event* ev = nullptr;
    if constexpr (Build) {
        ev = &out->emplace(EventAccess::blank(type.value_or(EventType::DocumentUploaded)));
    }
    const FamilySpec* family = type ? &family_spec(family_of(*type)) : nullptr;
    // Names of the fields the catalogue does not know, for the duplicate check (views into
    // the parsed document; check() reuses the buffer).
    thread_local std::vector<std::string_view> extra_names;
    extra_names.clear();
    EventSummary summary{type.value_or(EventType::DocumentUploaded), Timestamp{}};

    std::bitset<16> envelope_seen;
    std::bitset<MAX_FAMILY_FIELDS> family_seen;
    std::bitset<MAX_FAMILY_FIELDS> family_bad;  // present with the wrong type: already reported
    std::bitset<MAX_FAMILY_FIELDS> family_set;  // present with a usable value
    for (auto [key, value] : object) {
        auto env = envelope_field(key);
        if (env != Envelope::None) {
            auto bit = static_cast<std::size_t>(env);
            if (envelope_seen[bit]) {
                errors.push_back(violation(key, ViolationKind::Duplicate,
                                           fmt::format("{}: field appears twice", key)));
                continue;
            }
            envelope_seen[bit] = true;
            switch (env) {
                case Envelope::EventId:
                    if (!value.is_string()) {
                        rules::wrong_type(key, "string", detail::json_type_name(value), errors);
                    } else if (value.get_string().value_unsafe().empty()) {
                        errors.push_back(violation(key, ViolationKind::NotAllowed,
                                                   "event_id: must not be empty"));
                    } else if constexpr (Build) {
                        ev->set_id(std::string(value.get_string().value_unsafe()));
                    }
                    break;
                case Envelope::EventType: break;
                case Envelope::SchemaVersion:
                    if (!value.is_int64()) {
                        rules::wrong_type(key, "integer", detail::json_type_name(value), errors);
                    } else if (auto v = value.get_int64().value_unsafe(); v < 1 || v > 1000000) {
                        errors.push_back(violation(
                            key, ViolationKind::OutOfRange,
                            fmt::format("schema_version: must be a positive integer, got {}", v)));
                    } else if constexpr (Build) {
                        ev->set_schema_version(static_cast<int>(v));
                    }
                    break;
                case Envelope::Timestamp:
                    if (!value.is_string()) {
                        rules::wrong_type(key, "RFC 3339 string", detail::json_type_name(value),
                                          errors);
                    } else if (auto ts = parse_rfc3339(value.get_string().value_unsafe())) {
                        summary.timestamp = *ts;
                        if constexpr (Build) {
                            ev->set_timestamp(*ts);
                        }
                    } else {
                        errors.push_back(
                            violation(key, ViolationKind::WrongType,
                                      fmt::format("timestamp: expected RFC 3339 date-time such as "
                                                  "2026-11-27T08:03:39.079210Z, got '{}'",
                                                  value.get_string().value_unsafe())));
                    }
                    break;
                case Envelope::Priority:
                    if (!value.is_string()) {
                        rules::wrong_type(key, "string", detail::json_type_name(value), errors);
                    } else if (auto p = parse_priority(value.get_string().value_unsafe())) {
                        if constexpr (Build) {
                            ev->set_priority(*p);
                        }
                    } else {
                        errors.push_back(violation(
                            key, ViolationKind::NotAllowed,
                            fmt::format("priority: must be one of low, medium, high, critical; "
                                        "got '{}'",
                                        value.get_string().value_unsafe())));
                    }
                    break;
                case Envelope::Source:
                    if (!value.is_string()) {
                        rules::wrong_type(key, "string", detail::json_type_name(value), errors);
                    } else if (value.get_string().value_unsafe().empty()) {
                        errors.push_back(
                            violation(key, ViolationKind::NotAllowed, "source: must not be empty"));
                    } else if constexpr (Build) {
                        ev->set_source(std::string(value.get_string().value_unsafe()));
                    }
                    break;
                case Envelope::CorrelationId:
                case Envelope::CausationId: {
                    bool ok = false;
                    auto id = read_optional_string(key, value, errors, ok);
                    if constexpr (Build) {
                        if (ok) {
                            std::optional<std::string> text;
                            if (id) {
                                text.emplace(*id);
                            }
                            if (env == Envelope::CorrelationId) {
                                ev->set_correlation_id(std::move(text));
                            } else {
                                ev->set_causation_id(std::move(text));
                            }
                        }
                    }
                    break;
                }
                case Envelope::Metadata:
                    if (value.is_null()) {
                        break;
                    }
                    if (!value.is_object()) {
                        rules::wrong_type(key, "object", detail::json_type_name(value), errors);
                    } else if constexpr (Build) {
                        ev->set_metadata(RawJson{simdjson::minify(value)});
                    }
                    break;
                case Envelope::None: break;
            }
            continue;
        }
        std::optional<std::size_t> index;
        if (family != nullptr) {
            index = field_index(family->family, key);
        }
        if (!index) {
            for (auto name : extra_names) {
                if (name == key) {
                    errors.push_back(violation(key, ViolationKind::Duplicate,
                                               fmt::format("{}: field appears twice", key)));
                }
            }
            extra_names.push_back(key);
            if constexpr (Build) {
                EventAccess::extra(*ev).emplace_back(std::string(key),
                                                     RawJson{simdjson::minify(value)});
            }
            continue;
        }
        if (family_seen[*index]) {
            errors.push_back(violation(key, ViolationKind::Duplicate,
                                       fmt::format("{}: field appears twice", key)));
            continue;
        }
        family_seen[*index] = true;
        const auto& spec = family->fields[*index];
        if (value.is_null()) {
            continue;  // absent; the checks below report it if it was required
        }
        if constexpr (Build) {
            if (auto converted = detail::convert(spec, value, errors)) {
                rules::check(spec, *converted, errors);
                family_set[*index] = true;
                ev->set_at(*index, std::move(*converted));
            } else {
                family_bad[*index] = true;
            }
        } else {
            (detail::check_value(spec, value, errors) ? family_set : family_bad)[*index] = true;
        }
    }

    for (auto [env, name] :
         {std::pair{Envelope::EventId, "event_id"}, std::pair{Envelope::Timestamp, "timestamp"},
          std::pair{Envelope::Source, "source"}}) {
        if (!envelope_seen[static_cast<std::size_t>(env)]) {
            rules::missing(name, errors);
        }
    }
    if (family != nullptr) {
        for (std::size_t i = 0; i < family->fields.size(); ++i) {
            const auto& spec = family->fields[i];
            if (family_set[i]) {
                continue;
            }
            if (spec.presence == Presence::Required && !family_bad[i]) {
                rules::missing(spec.name, errors);
            } else if (spec.presence == Presence::Defaulted) {
                if constexpr (Build) {
                    ev->set_at(i, EventAccess::default_value(spec));
                }
            }
        }
    }
    if (!errors.empty()) {
        return failure(std::move(errors));
    }
    return summary;
}

}  // namespace

Result<Event, Violations> decode(std::string_view json) {
    std::optional<Event> event;
    auto result = decode_impl<true>(json, &event);
    if (!result) {
        return failure(std::move(result.error()));
    }
    return std::move(*event);
}

Result<EventSummary, Violations> check(std::string_view json) {
    return decode_impl<false>(json, nullptr);
}

void encode(const Event& event, std::string& out) {
    out += R"({"event_id":)";
    append_json_string(out, event.id());
    out += R"(,"event_type":")";
    out += to_string(event.type());
    out += R"(","schema_version":)";
    fmt::format_int version(event.schema_version());
    out.append(version.data(), version.size());
    out += R"(,"timestamp":")";
    format_rfc3339(event.timestamp(), out);
    out += R"(","priority":")";
    out += to_string(event.priority());
    out += R"(","source":)";
    append_json_string(out, event.source());
    if (event.correlation_id()) {
        out += R"(,"correlation_id":)";
        append_json_string(out, *event.correlation_id());
    }
    if (event.causation_id()) {
        out += R"(,"causation_id":)";
        append_json_string(out, *event.causation_id());
    }
    out += R"(,"metadata":)";
    out += event.metadata().text;
    const auto& fields = family_spec(event.family()).fields;
    for (std::size_t i = 0; i < fields.size(); ++i) {
        if (const auto* value = event.field_at(i)) {
            append_key(out, fields[i].name);
            append_value(out, *value);
        }
    }
    for (const auto& [name, value] : event.extra_fields()) {
        append_key(out, name);
        out += value.text;
    }
    out += '}';
}

std::string encode(const Event& event) {
    std::string out;
    out.reserve(512);
    encode(event, out);
    return out;
}

Result<Value, Violations> value_from_json(const FieldSpec& spec, std::string_view json) {
    Violations errors;
    element root;
    if (auto error = detail::thread_parser().parse(json.data(), json.size()).get(root)) {
        errors.push_back(violation(spec.name, ViolationKind::Malformed,
                                   fmt::format("{}: not valid JSON ({}): {}", spec.name,
                                               simdjson::error_message(error), json)));
        return failure(std::move(errors));
    }
    auto value = detail::convert(spec, root, errors);
    if (value) {
        rules::check(spec, *value, errors);
    }
    if (!errors.empty()) {
        return failure(std::move(errors));
    }
    return std::move(*value);
}

}  // namespace agentstream::event
