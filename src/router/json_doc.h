// A JSON object held as text, read and edited in place: dotted-path lookups over a structural
// index of the object's fields (nothing is materialised), and edits that splice the text. The
// router uses it so that an event no transformation touches keeps its original bytes, and one that
// is transformed is rewritten only where it changes.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <agentstream/core/result.h>

namespace agentstream::router::detail {

enum class JsonKind : std::uint8_t { Null, Bool, Number, String, Object, Array };

/// One value of the document: its kind and its exact JSON text.
struct JsonValue {
    JsonKind kind = JsonKind::Null;
    std::string_view raw;
};

/// The content of a JSON string token (quotes included in `raw`), unescaped. Returns a view of
/// `raw` itself when it has no escapes, else of `scratch`. nullopt for a malformed token.
std::optional<std::string_view> string_content(std::string_view raw, std::string& scratch);
/// The number a JSON number token stands for; nullopt when it is not one.
std::optional<double> number_value(std::string_view raw) noexcept;
/// The kind of a JSON value from its first character; nullopt for anything else.
std::optional<JsonKind> kind_of(std::string_view raw) noexcept;

using Path = std::vector<std::string>;

enum class Lookup : std::uint8_t {
    Found,
    Missing,      ///< a step of the path is absent
    NotAnObject,  ///< a step before the last is present but not an object
    Invalid,      ///< the text is not a JSON object
};

/// Not thread-safe; one per thread (its buffers are reused from event to event).
class JsonDocument {
  public:
    /// Holds a copy of `json`. Cheap to call again (buffers are reused).
    void reset(std::string_view json);
    /// Holds what another document holds (its index, completed first, is copied; its text is
    /// shared until the first edit). `other` must not change while this one is used.
    void reset(JsonDocument& other);
    std::string_view text() const noexcept { return {data(), _len}; }
    /// Whether the text was changed since reset().
    bool modified() const noexcept { return _modified; }

    /// Found, Missing or Invalid: a path through a value that is not an object is Missing here
    /// (a filter on it sees an absent field); set() fails on it.
    Lookup find(std::span<const std::string> path, JsonValue& out);

    /// The elements of an array found in this document; false when it is not one.
    bool elements(const JsonValue& array, std::vector<JsonValue>& out);

    /// Sets the value at `path` to `json` (one JSON value), replacing it or adding it (and any
    /// missing objects on the way). Fails when a step on the way is not an object.
    Status set(std::span<const std::string> path, std::string_view json);
    /// Removes the value at `path`; false when it was absent.
    bool erase(std::span<const std::string> path);

  private:
    struct Field {
        std::uint32_t key_begin;    // offset of the key's opening quote
        std::uint32_t key_end;      // offset after its closing quote
        std::uint32_t value_begin;  // offset of the value's first character
        std::uint32_t value_end;    // offset after its last character
        JsonKind kind;
        bool key_escaped;  // the key has escapes: compare it unescaped
    };
    // The fields of one object, indexed in order as far as lookups needed: the top-level
    // object is scanned only up to the field a lookup asks for (routes mostly read envelope
    // fields, which come first), nested objects at once.
    struct ObjectIndex {
        std::uint32_t begin = 0;  // offset of '{'
        std::uint32_t end = 0;    // offset after '}' (once complete)
        std::vector<Field> fields;
        std::uint32_t next = 0;   // offset of the first field not indexed yet
        std::uint32_t limit = 0;  // end of the text the object lies in
        bool complete = false;    // every field is indexed
    };
    enum class Scan : std::uint8_t { Added, Done, Malformed };

    // Starts indexing the object whose '{' is at `begin`; false if it does not start one.
    bool open_object(std::uint32_t begin, std::uint32_t length, ObjectIndex& out) const;
    // Indexes the next field of `object` (or finds its end).
    Scan scan_field(ObjectIndex& object) const;
    // Indexes what is left of `object`; false if the text turns out not to be an object.
    bool complete(ObjectIndex& object) const;
    bool index_object(std::uint32_t begin, std::uint32_t length, ObjectIndex& out) const {
        return open_object(begin, length, out) && complete(out);
    }
    // The field named `name`, indexing further as needed; nullptr when there is none, and
    // then `malformed` says whether the object's text broke off before its end.
    const Field* field_named(ObjectIndex& object, std::string_view name, bool& malformed);
    // Walks to the object holding the last step; returns Found with `parent` filled, or why not.
    // `parent` points at _top or _nested until the next lookup or edit.
    Lookup parent_of(std::span<const std::string> path, ObjectIndex*& parent,
                     std::size_t& missing_from);
    void splice(std::uint32_t begin, std::uint32_t end, std::string_view replacement);
    void refresh();  // indexes the text again after edits

    static constexpr std::size_t PADDING = 16;  // zero bytes after the text: block reads
    const char* data() const noexcept {
        return _source != nullptr ? _source->_buf.data() : _buf.data();
    }

    std::string _buf;                       // the text, then PADDING
    const JsonDocument* _source = nullptr;  // whose text this is, until the first edit
    std::string _spare;                     // the next text while splicing (reused)
    std::uint32_t _len = 0;
    bool _modified = false;
    bool _top_valid = false;
    bool _stale = false;  // edited since last indexed
    ObjectIndex _top;     // the top-level object, indexed once per text
    ObjectIndex _nested;  // scratch for deeper steps
    std::string _scratch;
};

}  // namespace agentstream::router::detail
