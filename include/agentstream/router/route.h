// Routes: the design's EventRoute. Which events a route takes (source topics, event types, a
// filter over dotted paths), what it does to them (ordered transformations) and where they go.
#pragma once

#include <agentstream/core/result.h>
#include <agentstream/core/time.h>
#include <agentstream/event/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace re2 {
class RE2;
}

namespace agentstream::router {

namespace detail {
class JsonDocument;
}

/// A dotted path into an event's JSON (`metadata.priority`, `analysis_results.language`).
/// Segments are object keys; there is no escaping, so a key containing `.` cannot be named.
class FieldPath {
  public:
    /// Throws std::invalid_argument for an empty path or an empty segment (`a..b`).
    explicit FieldPath(std::string_view dotted);
    const std::string& text() const noexcept { return _text; }
    const std::vector<std::string>& segments() const noexcept { return _segments; }

  private:
    std::string _text;
    std::vector<std::string> _segments;
};

/// A scalar operand in a filter: null, a boolean, a number or a string.
using Scalar = std::variant<std::nullptr_t, bool, double, std::string>;

enum class Op : std::uint8_t {
    Eq,        ///< equal: same JSON type and value (numbers numerically)
    Ne,        ///< present, same type, different value
    In,        ///< equal to one of a list
    NotIn,     ///< present, and equal to none of a list (of the same type)
    Gt,        ///< numbers numerically, strings byte-wise (RFC 3339 times sort correctly)
    Gte,       ///<
    Lt,        ///<
    Lte,       ///<
    Exists,    ///< operand true: present and not null; false: absent or null
    Regex,     ///< a string the RE2 pattern is found in (search, not anchored)
    Prefix,    ///< a string starting with the operand
    Contains,  ///< a string containing the operand, or an array holding an equal element
};

/// The operator's name in pipeline files (`eq`, `not_in`, ...), and back.
std::string_view to_string(Op op) noexcept;
std::optional<Op> parse_op(std::string_view name) noexcept;

/// One test of one field. Build with make_predicate(), which checks operand types and compiles
/// regular expressions.
struct Predicate {
    FieldPath path{"_"};
    Op op = Op::Eq;
    std::vector<Scalar> operands;  ///< one, or the list of in / not_in
    std::shared_ptr<const re2::RE2> regex;
    /// Set by the Router: tests of the same path share one lookup per event.
    std::uint32_t path_slot = 0;
};

/// Throws std::invalid_argument with the reason when the operands do not suit the operator
/// (a list for in / not_in, a boolean for exists, a string for regex / prefix, a valid regular
/// expression, a number or string for ordering operators).
Predicate make_predicate(std::string_view path, Op op, std::vector<Scalar> operands);

/// A filter tree: predicates combined with all / any / not. An empty All matches everything.
struct Filter {
    enum class Kind : std::uint8_t { All, Any, Not, Test };
    Kind kind = Kind::All;
    std::vector<Filter> children;  ///< All / Any: any number; Not: exactly one
    Predicate test;                ///< Kind::Test
};

/// What a transformation may see and change: the event's JSON and the record key.
/// Not thread-safe; only valid during Transformation::apply().
class EventEditor {
  public:
    /// The value at `path` as compact JSON text (a string keeps its quotes); nullopt when the
    /// path is absent.
    std::optional<std::string_view> get(const FieldPath& path);
    /// The string at `path`, unescaped; nullopt when absent or not a string.
    std::optional<std::string> get_string(const FieldPath& path);
    /// Sets `path` to `json` (one JSON value), creating missing objects on the way. Fails when a
    /// step on the way is not an object.
    Status set(const FieldPath& path, std::string_view json);
    /// Sets `path` to a JSON string.
    Status set_string(const FieldPath& path, std::string_view text);
    /// Removes `path`; false when it was absent.
    bool erase(const FieldPath& path);
    /// The record key the event will be sent with (the input's unless changed).
    std::string_view key() const noexcept { return _key ? std::string_view(*_key) : _input_key; }
    void set_key(std::string key) { _key = std::move(key); }
    bool key_changed() const noexcept { return _key.has_value(); }
    /// The route being applied, the dispatcher's name and the routing time.
    const std::string& route() const noexcept { return *_route; }
    const std::string& dispatcher() const noexcept { return *_dispatcher; }
    Timestamp now() const noexcept { return _now; }

  private:
    friend class Router;
    EventEditor(detail::JsonDocument& doc, std::string_view input_key, const std::string& route,
                const std::string& dispatcher, Timestamp now)
        : _doc(&doc), _input_key(input_key), _route(&route), _dispatcher(&dispatcher), _now(now) {}
    detail::JsonDocument* _doc;
    std::string_view _input_key;
    std::optional<std::string> _key;
    const std::string* _route;
    const std::string* _dispatcher;
    Timestamp _now;
};

/// One step of a route's transformations. Implementations must be thread-safe (apply() runs
/// concurrently for different events) and must not throw; they report failures as errors,
/// which fail the whole event (it goes to the dead-letter topic and no route delivers it).
class Transformation {
  public:
    virtual ~Transformation() = default;
    /// For messages and `routes test`, e.g. `add_field(alert_type)`.
    virtual std::string describe() const = 0;
    virtual Status apply(EventEditor& event) const = 0;
};

/// The built-in transformations (see docs/routing.md).
std::shared_ptr<const Transformation> add_field(FieldPath path, std::string json_value);
std::shared_ptr<const Transformation> remove_field(FieldPath path);
/// Moves the value at `from` to `to` (replacing it); nothing when `from` is absent.
std::shared_ptr<const Transformation> rename_field(FieldPath from, FieldPath to);
/// Replaces a string value found in `mapping` (pairs of string → JSON value); other values are
/// left alone, or set to `otherwise` (JSON) when given.
std::shared_ptr<const Transformation> map_value(
    FieldPath path, std::vector<std::pair<std::string, std::string>> mapping,
    std::optional<std::string> otherwise = std::nullopt);
/// Sets `path` (default `_transformed_at`) to the routing time, RFC 3339 UTC.
std::shared_ptr<const Transformation> add_timestamp(FieldPath path = FieldPath("_transformed_at"));
/// Sets `path` (default `_routing`) to {"route", "dispatcher", "routed_at"}.
std::shared_ptr<const Transformation> add_routing_metadata(FieldPath path = FieldPath("_routing"));
/// Sets the record key from the string or number at `path` (absent: an error), or to `value`.
std::shared_ptr<const Transformation> set_key_from(FieldPath path);
std::shared_ptr<const Transformation> set_key_to(std::string value);

/// The design's EventRoute.
struct Route {
    std::string name;
    std::vector<std::string> source_topics;  ///< at least one
    std::vector<std::string> target_topics;  ///< at least one
    /// Exact types or wildcards (`document.*`, `*`); empty: every type.
    std::vector<event::TypePattern> event_types;
    std::optional<Filter> filter;
    std::vector<std::shared_ptr<const Transformation>> transformations;
    int priority = 1;  ///< higher first
    bool enabled = true;
    int line = 0;  ///< where the route starts in its file (0: built in code)
};

/// The design's name for a route.
using EventRoute = Route;

enum class RoutingMode : std::uint8_t {
    FanOut,      ///< every matching route fires, in priority order
    FirstMatch,  ///< only the highest-priority matching route fires
};

/// How many times an event has been routed, on every copy the router writes when routes may
/// make a cycle (RouteTable::allow_cycles): a decimal count, 1 on the first routed copy.
inline constexpr std::string_view HOPS_HEADER = "x-agentstream-hops";

/// A whole routing configuration, as loaded from a pipeline file.
struct RouteTable {
    std::vector<Route> routes;
    RoutingMode mode = RoutingMode::FanOut;
    std::string default_topic;  ///< empty: unmatched events are counted, not forwarded
    std::string dispatcher = "event_dispatcher";
    /// Routes whose topics make a cycle are refused at load unless this is set; then every
    /// routed copy carries HOPS_HEADER, and an event already routed `max_hops` times goes to
    /// the dead-letter topic instead of round again.
    bool allow_cycles = false;
    int max_hops = 10;
};

}  // namespace agentstream::router
