#include "event/json_convert.h"

#include "event/rules.h"

#include <cstring>
#include <vector>

namespace agentstream::event::detail {

using simdjson::dom::element;
using simdjson::dom::element_type;

std::string_view json_type_name(element e) noexcept {
    switch (e.type()) {
        case element_type::ARRAY: return "array";
        case element_type::OBJECT: return "object";
        case element_type::INT64:
        case element_type::UINT64: return "integer";
        case element_type::DOUBLE: return "number";
        case element_type::STRING: return "string";
        case element_type::BOOL: return "boolean";
        case element_type::NULL_VALUE: return "null";
    }
    return "unknown";
}

simdjson::dom::parser& thread_parser() {
    thread_local simdjson::dom::parser parser;
    return parser;
}

simdjson::simdjson_result<simdjson::dom::element> parse_padded(std::string_view json) {
    thread_local std::vector<char> buffer;
    if (buffer.size() < json.size() + simdjson::SIMDJSON_PADDING) {
        buffer.resize(json.size() + simdjson::SIMDJSON_PADDING);
    }
    std::memcpy(buffer.data(), json.data(), json.size());
    // simdjson may read (never use) up to SIMDJSON_PADDING bytes past the end: zero them so
    // that nothing uninitialised is read.
    std::memset(buffer.data() + json.size(), 0, simdjson::SIMDJSON_PADDING);
    return thread_parser().parse(buffer.data(), json.size(), false);
}

namespace {

bool all_of(element array_or_object, bool is_object, element_type t1, element_type t2,
            element_type t3) {
    auto ok = [&](element v) {
        auto t = v.type();
        return t == t1 || t == t2 || t == t3;
    };
    if (is_object) {
        simdjson::dom::object object = array_or_object.get_object().value_unsafe();
        for (auto field : object) {
            if (!ok(field.value)) {
                return false;
            }
        }
    } else {
        simdjson::dom::array array = array_or_object.get_array().value_unsafe();
        for (auto v : array) {
            if (!ok(v)) {
                return false;
            }
        }
    }
    return true;
}

// Whether `e` has the JSON shape of a kind kept as JSON (object, list and map kinds).
bool has_json_shape(FieldKind kind, element e) {
    auto type = e.type();
    switch (kind) {
        case FieldKind::Object: return type == element_type::OBJECT;
        case FieldKind::StringList:
            return type == element_type::ARRAY &&
                   all_of(e, false, element_type::STRING, element_type::STRING,
                          element_type::STRING);
        case FieldKind::ObjectList:
            return type == element_type::ARRAY &&
                   all_of(e, false, element_type::OBJECT, element_type::OBJECT,
                          element_type::OBJECT);
        case FieldKind::StringMap:
            return type == element_type::OBJECT &&
                   all_of(e, true, element_type::STRING, element_type::STRING,
                          element_type::STRING);
        case FieldKind::NumberMap:
            return type == element_type::OBJECT &&
                   all_of(e, true, element_type::INT64, element_type::UINT64, element_type::DOUBLE);
        default: return false;
    }
}

}  // namespace

std::optional<Value> convert(const FieldSpec& spec, element e, Violations& out) {
    auto type = e.type();
    auto mismatch = [&]() -> std::optional<Value> {
        rules::wrong_type(spec.name, to_string(spec.kind), json_type_name(e), out);
        return std::nullopt;
    };
    switch (spec.kind) {
        case FieldKind::String:
            if (type != element_type::STRING) {
                return mismatch();
            }
            return Value(std::string(e.get_string().value_unsafe()));
        case FieldKind::Integer:
            if (type == element_type::INT64) {
                return Value(e.get_int64().value_unsafe());
            }
            if (type == element_type::UINT64) {
                rules::wrong_type(spec.name, "integer within 64-bit range", "larger integer", out);
                return std::nullopt;
            }
            return mismatch();
        case FieldKind::Number:
            if (type == element_type::INT64) {
                return Value(static_cast<double>(e.get_int64().value_unsafe()));
            }
            if (type == element_type::UINT64) {
                return Value(static_cast<double>(e.get_uint64().value_unsafe()));
            }
            if (type == element_type::DOUBLE) {
                return Value(e.get_double().value_unsafe());
            }
            return mismatch();
        case FieldKind::Boolean:
            if (type != element_type::BOOL) {
                return mismatch();
            }
            return Value(e.get_bool().value_unsafe());
        case FieldKind::Scalar:
            if (type == element_type::INT64) {
                return Value(e.get_int64().value_unsafe());
            }
            if (type == element_type::UINT64) {
                return Value(static_cast<double>(e.get_uint64().value_unsafe()));
            }
            if (type == element_type::DOUBLE) {
                return Value(e.get_double().value_unsafe());
            }
            if (type == element_type::STRING) {
                return Value(std::string(e.get_string().value_unsafe()));
            }
            return mismatch();
        case FieldKind::StringList: {
            if (!has_json_shape(spec.kind, e)) {
                return mismatch();
            }
            StringList list;
            simdjson::dom::array array = e.get_array().value_unsafe();
            list.reserve(array.size());
            for (auto item : array) {
                list.emplace_back(item.get_string().value_unsafe());
            }
            return Value(std::move(list));
        }
        case FieldKind::Object:
        case FieldKind::ObjectList:
        case FieldKind::StringMap:
        case FieldKind::NumberMap:
            if (!has_json_shape(spec.kind, e)) {
                return mismatch();
            }
            return Value(RawJson{simdjson::minify(e)});
    }
    return mismatch();
}

bool check_value(const FieldSpec& spec, element e, Violations& out) {
    auto type = e.type();
    auto matches = [&](bool ok) {
        if (!ok) {
            rules::wrong_type(spec.name, to_string(spec.kind), json_type_name(e), out);
        }
        return ok;
    };
    switch (spec.kind) {
        case FieldKind::String:
            if (!matches(type == element_type::STRING)) {
                return false;
            }
            rules::check_text(spec, e.get_string().value_unsafe(), out);
            return true;
        case FieldKind::Scalar:
            if (type == element_type::STRING) {
                rules::check_text(spec, e.get_string().value_unsafe(), out);
                return true;
            }
            break;  // a number: converting it allocates nothing
        case FieldKind::Object:
        case FieldKind::StringList:
        case FieldKind::ObjectList:
        case FieldKind::StringMap:
        case FieldKind::NumberMap: return matches(has_json_shape(spec.kind, e));
        default: break;
    }
    auto value = convert(spec, e, out);
    if (!value) {
        return false;
    }
    rules::check(spec, *value, out);
    return true;
}

}  // namespace agentstream::event::detail
