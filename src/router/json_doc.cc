#include "router/json_doc.h"

#include <fmt/format.h>

#include <charconv>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "internal/json_escape.h"

namespace agentstream::router::detail {
namespace {

bool is_space(char c) noexcept {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
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
// The first of the `N` bytes in `chars` at or after `p`, or `end`. Reads whole 16-byte blocks:
// the document keeps PADDING bytes after its text so that the last block stays in bounds.
template <std::size_t N>
const char* find_any(const char* p, const char* end, const char (&chars)[N]) noexcept {
#if defined(__SSE2__)
    while (p < end) {
        __m128i block = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
        __m128i hits = _mm_setzero_si128();
        for (std::size_t k = 0; k + 1 < N; ++k) {
            hits = _mm_or_si128(hits, _mm_cmpeq_epi8(block, _mm_set1_epi8(chars[k])));
        }
        auto mask = static_cast<unsigned>(_mm_movemask_epi8(hits));
        if (mask != 0) {
            const char* hit = p + __builtin_ctz(mask);
            return hit < end ? hit : end;
        }
        p += 16;
    }
    return end;
#else
    for (; p < end; ++p) {
        for (std::size_t k = 0; k + 1 < N; ++k) {
            if (*p == chars[k]) {
                return p;
            }
        }
    }
    return end;
#endif
}

std::optional<std::size_t> string_end(std::string_view text, std::size_t at,
                                      bool* escaped = nullptr) noexcept {
    const char* end = text.data() + text.size();
    const char* p = text.data() + at + 1;
    while (p < end) {
        p = find_any(p, end, "\"\\");
        if (p == end) {
            break;
        }
        if (*p == '"') {
            return static_cast<std::size_t>(p - text.data()) + 1;
        }
        if (escaped != nullptr) {
            *escaped = true;
        }
        p += 2;  // an escape: skip the escaped character
    }
    return std::nullopt;
}

// The end of the value starting at `at` (offset after its last character), or npos when it is
// malformed. Containers are skipped by depth, their strings by their quotes.
std::size_t value_end(std::string_view text, std::size_t at) noexcept {
    if (at >= text.size()) {
        return std::string_view::npos;
    }
    char c = text[at];
    if (c == '"') {
        return string_end(text, at).value_or(std::string_view::npos);
    }
    if (c == '{' || c == '[') {
        int depth = 0;
        const char* end = text.data() + text.size();
        const char* p = text.data() + at;
        while (true) {
            p = find_any(p, end, "\"{}[]");
            if (p == end) {
                return std::string_view::npos;
            }
            char d = *p;
            if (d == '"') {
                auto close = string_end(text, static_cast<std::size_t>(p - text.data()));
                if (!close) {
                    return std::string_view::npos;
                }
                p = text.data() + *close;
                continue;
            }
            if (d == '{' || d == '[') {
                ++depth;
            } else if (--depth == 0) {
                return static_cast<std::size_t>(p - text.data()) + 1;
            }
            ++p;
        }
    }
    std::size_t i = at;
    while (i < text.size() && text[i] != ',' && text[i] != '}' && text[i] != ']' &&
           !is_space(text[i])) {
        ++i;
    }
    return i == at ? std::string_view::npos : i;
}

std::size_t skip_space(std::string_view text, std::size_t i) noexcept {
    while (i < text.size() && is_space(text[i])) {
        ++i;
    }
    return i;
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
    _source = nullptr;
    _buf.assign(json);
    _buf.append(PADDING, '\0');
    _modified = false;
    _stale = false;
    _top_valid = open_object(0, _len, _top);
}

void JsonDocument::reset(JsonDocument& other) {
    if (other._stale) {
        reset(other.text());
        return;
    }
    // Edits need the whole index; done once here rather than in every copy.
    if (other._top_valid && !other.complete(other._top)) {
        other._top_valid = false;
    }
    // Shares the other document's text until the first edit (which writes a new text anyway).
    _source = other._source != nullptr ? other._source : &other;
    _len = other._len;
    _modified = false;
    _stale = false;
    _top_valid = other._top_valid;
    _top = other._top;  // the fields vector keeps its capacity
}

void JsonDocument::refresh() {
    if (_stale) {
        _stale = false;
        _top_valid = open_object(0, _len, _top);
    }
}

bool JsonDocument::open_object(std::uint32_t begin, std::uint32_t length, ObjectIndex& out) const {
    // A structural scan, not a validating parse: the runtime has validated the event with the
    // codec (simdjson) before it is routed. Malformed text is reported, never read past.
    out.fields.clear();
    out.complete = false;
    out.limit = begin + length;
    std::string_view text(data(), out.limit);
    std::size_t i = skip_space(text, begin);
    if (i >= text.size() || text[i] != '{') {
        return false;
    }
    out.begin = static_cast<std::uint32_t>(i);
    i = skip_space(text, i + 1);
    if (i < text.size() && text[i] == '}') {
        out.end = static_cast<std::uint32_t>(i + 1);
        out.complete = true;
    }
    out.next = static_cast<std::uint32_t>(i);
    return true;
}

JsonDocument::Scan JsonDocument::scan_field(ObjectIndex& object) const {
    if (object.complete) {
        return Scan::Done;
    }
    std::string_view text(data(), object.limit);
    std::size_t i = object.next;
    if (i >= text.size() || text[i] != '"') {
        return Scan::Malformed;
    }
    bool escaped = false;
    auto key_end = string_end(text, i, &escaped);
    if (!key_end) {
        return Scan::Malformed;
    }
    auto colon = skip_space(text, *key_end);
    if (colon >= text.size() || text[colon] != ':') {
        return Scan::Malformed;
    }
    auto value_begin = skip_space(text, colon + 1);
    auto end = value_end(text, value_begin);
    if (end == std::string_view::npos) {
        return Scan::Malformed;
    }
    auto kind = kind_of(text.substr(value_begin, end - value_begin));
    if (!kind) {
        return Scan::Malformed;
    }
    // Indexed only with what follows it: a field cut off from the rest is never found.
    auto after = skip_space(text, end);
    if (after >= text.size() || (text[after] != ',' && text[after] != '}')) {
        return Scan::Malformed;
    }
    object.fields.push_back({static_cast<std::uint32_t>(i), static_cast<std::uint32_t>(*key_end),
                             static_cast<std::uint32_t>(value_begin),
                             static_cast<std::uint32_t>(end), *kind, escaped});
    if (text[after] == ',') {
        object.next = static_cast<std::uint32_t>(skip_space(text, after + 1));
    } else {
        object.end = static_cast<std::uint32_t>(after + 1);
        object.complete = true;
    }
    return Scan::Added;
}

bool JsonDocument::complete(ObjectIndex& object) const {
    while (true) {
        switch (scan_field(object)) {
            case Scan::Added: break;
            case Scan::Done: return true;
            case Scan::Malformed: return false;
        }
    }
}

namespace {
bool named(std::string_view raw_key, bool escaped, std::string_view name, std::string& scratch) {
    // Fast path: the key as written, between its quotes.
    if (raw_key.size() == name.size() + 2 && raw_key.compare(1, name.size(), name) == 0) {
        return true;
    }
    if (escaped) {
        auto content = string_content(raw_key, scratch);
        return content && *content == name;
    }
    return false;
}
}  // namespace

const JsonDocument::Field* JsonDocument::field_named(ObjectIndex& object, std::string_view name,
                                                     bool& malformed) {
    malformed = false;
    const char* base = data();
    for (std::size_t i = 0;; ++i) {
        if (i == object.fields.size()) {  // every indexed field read: index the next one
            auto scan = scan_field(object);
            if (scan != Scan::Added) {
                malformed = scan == Scan::Malformed;
                return nullptr;
            }
        }
        const auto& f = object.fields[i];
        if (named({base + f.key_begin, f.key_end - f.key_begin}, f.key_escaped, name, _scratch)) {
            return &f;
        }
    }
}

Lookup JsonDocument::parent_of(std::span<const std::string> path, ObjectIndex*& parent,
                               std::size_t& missing_from) {
    refresh();
    if (!_top_valid) {
        return Lookup::Invalid;
    }
    parent = &_top;
    for (std::size_t step = 0; step + 1 < path.size(); ++step) {
        bool malformed = false;
        const Field* f = field_named(*parent, path[step], malformed);
        if (malformed) {
            return Lookup::Invalid;
        }
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
    refresh();
    if (!_top_valid) {
        return Lookup::Invalid;
    }
    if (path.empty()) {
        out = {JsonKind::Object, text()};
        return Lookup::Found;
    }
    ObjectIndex* parent = nullptr;
    std::size_t missing_from = 0;
    auto found = parent_of(path, parent, missing_from);
    if (found != Lookup::Found) {
        return found == Lookup::NotAnObject ? Lookup::Missing : found;
    }
    bool malformed = false;
    const Field* f = field_named(*parent, path.back(), malformed);
    if (f == nullptr) {
        return malformed ? Lookup::Invalid : Lookup::Missing;
    }
    out = {f->kind, std::string_view(data() + f->value_begin, f->value_end - f->value_begin)};
    return Lookup::Found;
}

bool JsonDocument::elements(const JsonValue& array, std::vector<JsonValue>& out) {
    out.clear();
    std::string_view text = array.raw;
    if (array.kind != JsonKind::Array || text.size() < 2 || text.front() != '[') {
        return false;
    }
    std::size_t i = skip_space(text, 1);
    if (i < text.size() && text[i] == ']') {
        return true;
    }
    while (i < text.size()) {
        auto end = value_end(text, i);
        if (end == std::string_view::npos) {
            return false;
        }
        auto raw = text.substr(i, end - i);
        auto kind = kind_of(raw);
        if (!kind) {
            return false;
        }
        out.push_back({*kind, raw});
        i = skip_space(text, end);
        if (i < text.size() && text[i] == ',') {
            i = skip_space(text, i + 1);
        } else {
            return i < text.size() && text[i] == ']';
        }
    }
    return false;
}

void JsonDocument::splice(std::uint32_t begin, std::uint32_t end, std::string_view replacement) {
    _spare.clear();
    const char* from = data();
    _spare.append(from, begin);
    _spare.append(replacement);
    _spare.append(from + end, _len - end);
    _source = nullptr;
    _len = static_cast<std::uint32_t>(_spare.size());
    _spare.append(PADDING, '\0');
    _buf.swap(_spare);
    _modified = true;
    _stale = true;  // indexed again only if something looks at it
}

Status JsonDocument::set(std::span<const std::string> path, std::string_view json) {
    if (path.empty()) {
        return failure(Error{"an empty path"});
    }
    ObjectIndex* parent = nullptr;
    std::size_t missing_from = 0;
    auto found = parent_of(path, parent, missing_from);
    if (found == Lookup::Found) {
        bool malformed = false;
        if (const Field* f = field_named(*parent, path.back(), malformed)) {
            splice(f->value_begin, f->value_end, json);
            return {};
        }
        found = malformed ? Lookup::Invalid : found;
        missing_from = path.size() - 1;
    }
    if (found == Lookup::Invalid || !complete(*parent)) {
        return failure(Error{"the event is not a JSON object"});
    }
    if (found == Lookup::NotAnObject) {
        return failure(Error{fmt::format("'{}' is not an object", path[missing_from])});
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
    ObjectIndex* parent = nullptr;
    std::size_t missing_from = 0;
    if (parent_of(path, parent, missing_from) != Lookup::Found) {
        return false;
    }
    bool malformed = false;
    const Field* f = field_named(*parent, path.back(), malformed);
    if (f == nullptr) {
        return false;
    }
    // The splice below reaches to the next field: index it (and the rest).
    auto at = static_cast<std::size_t>(f - parent->fields.data());
    if (!complete(*parent)) {
        return false;
    }
    f = &parent->fields[at];
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
