#include "router/json_doc.h"

#include <fmt/format.h>

#include <charconv>

#include "core/json_escape.h"

namespace agentstream::router::detail {
namespace {

bool is_space(char c) noexcept {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

std::string_view trim_right(std::string_view s) noexcept {
    while (!s.empty() && is_space(s.back())) {
        s.remove_suffix(1);
    }
    return s;
}

int hex_digit(char c) noexcept {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

bool read_hex4(std::string_view s, std::size_t at, std::uint32_t& out) noexcept {
    if (at + 4 > s.size()) {
        return false;
    }
    out = 0;
    for (std::size_t i = at; i < at + 4; ++i) {
        int d = hex_digit(s[i]);
        if (d < 0) {
            return false;
        }
        out = out * 16 + static_cast<std::uint32_t>(d);
    }
    return true;
}

void append_utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
        out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
}

// The end (offset after the closing quote) of the string token starting at `at` (a quote).
std::optional<std::size_t> string_end(std::string_view text, std::size_t at) noexcept {
    for (std::size_t i = at + 1; i < text.size(); ++i) {
        if (text[i] == '\\') {
            ++i;
        } else if (text[i] == '"') {
            return i + 1;
        }
    }
    return std::nullopt;
}

// The exact text of an on-demand value (consuming it).
bool value_text(simdjson::ondemand::value& value, std::string_view& raw) {
    namespace od = simdjson::ondemand;
    od::json_type type;
    if (value.type().get(type)) {
        return false;
    }
    // raw_json() of a container may run on to the next token: trimmed like the scalars.
    if (type == od::json_type::object) {
        od::object inner;
        bool ok = !value.get_object().get(inner) && !inner.raw_json().get(raw);
        raw = trim_right(raw);
        return ok;
    }
    if (type == od::json_type::array) {
        od::array inner;
        bool ok = !value.get_array().get(inner) && !inner.raw_json().get(raw);
        raw = trim_right(raw);
        return ok;
    }
    raw = trim_right(value.raw_json_token());
    return true;
}

}  // namespace

std::optional<std::string_view> string_content(std::string_view raw, std::string& scratch) {
    if (raw.size() < 2 || raw.front() != '"' || raw.back() != '"') {
        return std::nullopt;
    }
    auto body = raw.substr(1, raw.size() - 2);
    if (body.find('\\') == std::string_view::npos) {
        return body;
    }
    scratch.clear();
    for (std::size_t i = 0; i < body.size(); ++i) {
        char c = body[i];
        if (c != '\\') {
            scratch.push_back(c);
            continue;
        }
        if (++i >= body.size()) {
            return std::nullopt;
        }
        switch (body[i]) {
            case '"': scratch.push_back('"'); break;
            case '\\': scratch.push_back('\\'); break;
            case '/': scratch.push_back('/'); break;
            case 'b': scratch.push_back('\b'); break;
            case 'f': scratch.push_back('\f'); break;
            case 'n': scratch.push_back('\n'); break;
            case 'r': scratch.push_back('\r'); break;
            case 't': scratch.push_back('\t'); break;
            case 'u': {
                std::uint32_t cp = 0;
                if (!read_hex4(body, i + 1, cp)) {
                    return std::nullopt;
                }
                i += 4;
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    std::uint32_t low = 0;
                    if (i + 2 < body.size() && body[i + 1] == '\\' && body[i + 2] == 'u' &&
                        read_hex4(body, i + 3, low) && low >= 0xDC00 && low <= 0xDFFF) {
                        cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
                        i += 6;
                    } else {
                        return std::nullopt;
                    }
                } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                    return std::nullopt;
                }
                append_utf8(scratch, cp);
                break;
            }
            default: return std::nullopt;
        }
    }
    return std::string_view(scratch);
}

std::optional<double> number_value(std::string_view raw) noexcept {
    double v = 0;
    auto [ptr, ec] = std::from_chars(raw.data(), raw.data() + raw.size(), v);
    if (ec != std::errc() || ptr != raw.data() + raw.size()) {
        return std::nullopt;
    }
    return v;
}

std::optional<JsonKind> kind_of(std::string_view raw) noexcept {
    if (raw.empty()) {
        return std::nullopt;
    }
    switch (raw.front()) {
        case '"': return JsonKind::String;
        case '{': return JsonKind::Object;
        case '[': return JsonKind::Array;
        case 't':
        case 'f': return JsonKind::Bool;
        case 'n': return JsonKind::Null;
        default:
            if (raw.front() == '-' || (raw.front() >= '0' && raw.front() <= '9')) {
                return JsonKind::Number;
            }
            return std::nullopt;
    }
}

void JsonDocument::reset(std::string_view json) {
    _len = static_cast<std::uint32_t>(json.size());
    _buf.assign(json);
    _buf.resize(json.size() + simdjson::SIMDJSON_PADDING);
    _modified = false;
    _top_valid = index_object(0, _len, _top);
}

bool JsonDocument::index_object(std::uint32_t begin, std::uint32_t length, ObjectIndex& out) {
    namespace od = simdjson::ondemand;
    out.fields.clear();
    const char* base = _buf.data();
    std::string_view text(base, _len);
    od::document doc;
    if (_parser.iterate(base + begin, length, _buf.size() - begin).get(doc)) {
        return false;
    }
    od::object object;
    if (doc.get_object().get(object)) {
        return false;
    }
    for (auto result : object) {
        od::field field;
        if (std::move(result).get(field)) {
            return false;
        }
        const char* key = field.key().raw();  // just after the opening quote
        auto key_begin = static_cast<std::size_t>(key - base) - 1;
        auto key_end = string_end(text, key_begin);
        if (!key_end) {
            return false;
        }
        od::value value = field.value();
        std::string_view raw;
        if (!value_text(value, raw)) {
            return false;
        }
        auto kind = kind_of(raw);
        if (!kind) {
            return false;
        }
        auto value_begin = static_cast<std::uint32_t>(raw.data() - base);
        out.fields.push_back({static_cast<std::uint32_t>(key_begin),
                              static_cast<std::uint32_t>(*key_end), value_begin,
                              value_begin + static_cast<std::uint32_t>(raw.size()), *kind});
    }
    // The object's own span: from its '{' to just after its '}'.
    out.begin = begin;
    std::string_view rest = trim_right(std::string_view(base + begin, length));
    out.end = begin + static_cast<std::uint32_t>(rest.size());
    while (out.begin < out.end && is_space(base[out.begin])) {
        ++out.begin;
    }
    return out.end > out.begin && base[out.begin] == '{' && base[out.end - 1] == '}';
}

const JsonDocument::Field* JsonDocument::field_named(const ObjectIndex& object,
                                                     std::string_view name) {
    const char* base = _buf.data();
    for (const auto& f : object.fields) {
        std::string_view raw(base + f.key_begin, f.key_end - f.key_begin);
        // Fast path: the key as written, between its quotes.
        if (raw.size() == name.size() + 2 && raw.compare(1, name.size(), name) == 0) {
            return &f;
        }
        if (raw.find('\\') != std::string_view::npos) {
            auto content = string_content(raw, _scratch);
            if (content && *content == name) {
                return &f;
            }
        }
    }
    return nullptr;
}

Lookup JsonDocument::parent_of(std::span<const std::string> path, const ObjectIndex*& parent,
                               std::size_t& missing_from) {
    if (!_top_valid) {
        return Lookup::Invalid;
    }
    parent = &_top;
    for (std::size_t step = 0; step + 1 < path.size(); ++step) {
        const Field* f = field_named(*parent, path[step]);
        if (f == nullptr) {
            missing_from = step;
            return Lookup::Missing;
        }
        if (f->kind != JsonKind::Object) {
            missing_from = step;
            return Lookup::NotAnObject;
        }
        if (!index_object(f->value_begin, f->value_end - f->value_begin, _nested)) {
            return Lookup::Invalid;
        }
        parent = &_nested;
    }
    missing_from = path.size();
    return Lookup::Found;
}

Lookup JsonDocument::find(std::span<const std::string> path, JsonValue& out) {
    if (!_top_valid) {
        return Lookup::Invalid;
    }
    if (path.empty()) {
        out = {JsonKind::Object, text()};
        return Lookup::Found;
    }
    const ObjectIndex* parent = nullptr;
    std::size_t missing_from = 0;
    auto found = parent_of(path, parent, missing_from);
    if (found != Lookup::Found) {
        return found == Lookup::NotAnObject ? Lookup::Missing : found;
    }
    const Field* f = field_named(*parent, path.back());
    if (f == nullptr) {
        return Lookup::Missing;
    }
    out = {f->kind, std::string_view(_buf.data() + f->value_begin, f->value_end - f->value_begin)};
    return Lookup::Found;
}

bool JsonDocument::elements(const JsonValue& array, std::vector<JsonValue>& out) {
    namespace od = simdjson::ondemand;
    out.clear();
    const char* base = _buf.data();
    if (array.kind != JsonKind::Array || array.raw.data() < base ||
        array.raw.data() + array.raw.size() > base + _len) {
        return false;
    }
    auto begin = static_cast<std::size_t>(array.raw.data() - base);
    od::document doc;
    od::array items;
    if (_parser.iterate(array.raw.data(), array.raw.size(), _buf.size() - begin).get(doc) ||
        doc.get_array().get(items)) {
        return false;
    }
    for (auto item : items) {
        od::value value;
        std::string_view raw;
        if (std::move(item).get(value) || !value_text(value, raw)) {
            return false;
        }
        auto kind = kind_of(raw);
        if (!kind) {
            return false;
        }
        out.push_back({*kind, raw});
    }
    return true;
}

void JsonDocument::splice(std::uint32_t begin, std::uint32_t end, std::string_view replacement) {
    std::string next;
    next.reserve(_len - (end - begin) + replacement.size() + simdjson::SIMDJSON_PADDING);
    next.append(_buf.data(), begin);
    next.append(replacement);
    next.append(_buf.data() + end, _len - end);
    _len = static_cast<std::uint32_t>(next.size());
    next.resize(_len + simdjson::SIMDJSON_PADDING);
    _buf.swap(next);
    _modified = true;
    _top_valid = index_object(0, _len, _top);
}

Status JsonDocument::set(std::span<const std::string> path, std::string_view json) {
    if (path.empty()) {
        return failure(Error{"an empty path"});
    }
    const ObjectIndex* parent = nullptr;
    std::size_t missing_from = 0;
    auto found = parent_of(path, parent, missing_from);
    if (found == Lookup::Invalid) {
        return failure(Error{"the event is not a JSON object"});
    }
    if (found == Lookup::NotAnObject) {
        return failure(Error{fmt::format("'{}' is not an object", path[missing_from])});
    }
    if (found == Lookup::Found) {
        if (const Field* f = field_named(*parent, path.back())) {
            splice(f->value_begin, f->value_end, json);
            return {};
        }
        missing_from = path.size() - 1;
    }
    // Adds "step": {"next": ... json ...} for the missing steps, at the end of `parent`.
    std::string added;
    std::string closing;
    for (std::size_t step = missing_from; step < path.size(); ++step) {
        append_json_string(added, path[step]);
        added.push_back(':');
        if (step + 1 < path.size()) {
            added.push_back('{');
            closing.push_back('}');
        }
    }
    added.append(json);
    added.append(closing);
    if (!parent->fields.empty()) {
        added.insert(added.begin(), ',');
        auto at = parent->fields.back().value_end;
        splice(at, at, added);
    } else {
        splice(parent->end - 1, parent->end - 1, added);
    }
    return {};
}

bool JsonDocument::erase(std::span<const std::string> path) {
    if (path.empty()) {
        return false;
    }
    const ObjectIndex* parent = nullptr;
    std::size_t missing_from = 0;
    if (parent_of(path, parent, missing_from) != Lookup::Found) {
        return false;
    }
    const Field* f = field_named(*parent, path.back());
    if (f == nullptr) {
        return false;
    }
    const auto& fields = parent->fields;
    auto index = static_cast<std::size_t>(f - fields.data());
    if (index + 1 < fields.size()) {
        // "key": value, <next>  →  <next>
        splice(f->key_begin, fields[index + 1].key_begin, {});
    } else if (index > 0) {
        // <previous>, "key": value  →  <previous>
        splice(fields[index - 1].value_end, f->value_end, {});
    } else {
        splice(f->key_begin, f->value_end, {});
    }
    return true;
}

}  // namespace agentstream::router::detail
