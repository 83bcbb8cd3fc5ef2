#include <agentstream/event/validation.h>

#include <fmt/format.h>

#include "event/json_convert.h"
#include "event/rules.h"

namespace agentstream::event {
namespace {

std::string_view value_type_name(const Value& v) {
    switch (v.storage().index()) {
        case 0: return "boolean";
        case 1: return "integer";
        case 2: return "number";
        case 3: return "string";
        case 4: return "array of strings";
        default: return "JSON text";
    }
}

// Checks that an in-memory value has the field's kind; JSON text is parsed and checked fully.
bool check_kind(const FieldSpec& spec, const Value& v, Violations& out) {
    bool ok = false;
    switch (spec.kind) {
        case FieldKind::String: ok = v.as_string() != nullptr; break;
        case FieldKind::Integer: ok = v.as_integer() != nullptr; break;
        case FieldKind::Number: ok = v.as_double() != nullptr; break;
        case FieldKind::Boolean: ok = v.as_bool() != nullptr; break;
        case FieldKind::Scalar:
            ok = v.as_integer() != nullptr || v.as_double() != nullptr || v.as_string() != nullptr;
            break;
        case FieldKind::StringList: ok = v.as_string_list() != nullptr; break;
        case FieldKind::Object:
        case FieldKind::ObjectList:
        case FieldKind::StringMap:
        case FieldKind::NumberMap: {
            const auto* raw = v.as_raw_json();
            if (raw == nullptr) {
                break;
            }
            simdjson::dom::element root;
            if (detail::thread_parser().parse(raw->text).get(root)) {
                out.push_back({std::string(spec.name), ViolationKind::Malformed,
                               fmt::format("{}: not valid JSON: {}", spec.name, raw->text)});
                return false;
            }
            return detail::convert(spec, root, out).has_value();
        }
    }
    if (!ok) {
        rules::wrong_type(spec.name, to_string(spec.kind), value_type_name(v), out);
        return false;
    }
    auto bad_utf8 = [&](const std::string& s) {
        if (!simdjson::validate_utf8(s.data(), s.size())) {
            out.push_back({std::string(spec.name), ViolationKind::Malformed,
                           fmt::format("{}: not valid UTF-8", spec.name)});
            return true;
        }
        return false;
    };
    if (const auto* s = v.as_string()) {
        return !bad_utf8(*s);
    }
    if (const auto* list = v.as_string_list()) {
        for (const auto& s : *list) {
            if (bad_utf8(s)) {
                return false;
            }
        }
    }
    return true;
}

}  // namespace

std::string_view to_string(ViolationKind kind) noexcept {
    static constexpr std::string_view NAMES[] = {"malformed",    "missing",     "wrong_type",
                                                 "out_of_range", "not_allowed", "unknown_type",
                                                 "duplicate"};
    return NAMES[static_cast<std::size_t>(kind)];
}

Violations validate(const Event& event) {
    Violations out;
    if (event.id().empty()) {
        out.push_back({"event_id", ViolationKind::NotAllowed, "event_id: must not be empty"});
    }
    if (event.source().empty()) {
        out.push_back({"source", ViolationKind::NotAllowed, "source: must not be empty"});
    }
    for (auto [name, text] :
         {std::pair<std::string_view, const std::string*>{"event_id", &event.id()},
          {"source", &event.source()},
          {"correlation_id", event.correlation_id() ? &*event.correlation_id() : nullptr},
          {"causation_id", event.causation_id() ? &*event.causation_id() : nullptr}}) {
        if (text != nullptr && !simdjson::validate_utf8(text->data(), text->size())) {
            out.push_back({std::string(name), ViolationKind::Malformed,
                           fmt::format("{}: not valid UTF-8", name)});
        }
    }
    if (event.schema_version() < 1) {
        out.push_back({"schema_version", ViolationKind::OutOfRange,
                       fmt::format("schema_version: must be a positive integer, got {}",
                                   event.schema_version())});
    }
    simdjson::dom::element root;
    if (detail::thread_parser().parse(event.metadata().text).get(root) || !root.is_object()) {
        out.push_back(
            {"metadata", ViolationKind::WrongType,
             fmt::format("metadata: expected a JSON object, got {}", event.metadata().text)});
    }
    const auto& fields = family_spec(event.family()).fields;
    for (std::size_t i = 0; i < fields.size(); ++i) {
        const auto& spec = fields[i];
        const auto* value = event.field_at(i);
        if (value == nullptr) {
            if (spec.presence == Presence::Required) {
                rules::missing(spec.name, out);
            }
            continue;
        }
        if (check_kind(spec, *value, out)) {
            rules::check(spec, *value, out);
        }
    }
    for (const auto& [name, raw] : event.extra_fields()) {
        if (detail::thread_parser().parse(raw.text).error()) {
            out.push_back({name, ViolationKind::Malformed,
                           fmt::format("{}: not valid JSON: {}", name, raw.text)});
        }
    }
    return out;
}

std::string describe(const Violations& violations) {
    std::string out;
    for (const auto& v : violations) {
        if (!out.empty()) {
            out += "; ";
        }
        out += v.message;
    }
    return out;
}

ValidationError::ValidationError(Violations violations)
    : std::invalid_argument("invalid event: " + describe(violations)),
      _violations(std::move(violations)) {}

}  // namespace agentstream::event
