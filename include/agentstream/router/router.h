// Router: the design's EventDispatcher as a pure function of (routes, source topic, event). It
// decides where an event goes and what it looks like there; the runtime does the Kafka part.
#pragma once

#include <agentstream/config/config.h>
#include <agentstream/core/histogram.h>
#include <agentstream/router/route.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace agentstream::router {

/// Where one event goes: one entry per (route, target topic).
struct Delivery {
    std::uint16_t route;  ///< index into Router::routes(); NO_ROUTE for the default topic
    std::string_view topic;
    /// Index into Routing::values of the transformed JSON; ORIGINAL: the input bytes as they are.
    std::uint16_t value;
    /// Index into Routing::keys of a changed record key; ORIGINAL: the input's key.
    std::uint16_t key;
    static constexpr std::uint16_t NO_ROUTE = 0xFFFF;
    static constexpr std::uint16_t ORIGINAL = 0xFFFF;
};

/// The outcome for one event. Reused across events (clear() keeps the buffers).
struct Routing {
    std::vector<Delivery> deliveries;
    /// The first `value_count` are this event's; the rest are buffers kept for the next events.
    std::vector<std::string> values;
    std::uint16_t value_count = 0;
    std::vector<std::string> keys;
    /// Indexes of the routes that matched, in the order they fired.
    std::vector<std::uint16_t> matched;
    /// Set when a transformation failed: then `deliveries` is empty and the event must go to the
    /// dead-letter topic (a half-routed event could not be replayed without duplicates).
    std::optional<std::string> error;
    /// Unmatched by every route (it may still go to the default topic).
    bool unmatched = false;

    void clear() noexcept;
};

/// Counters of one route (all monotonic), safe to read from any thread.
struct RouteMetrics {
    std::string name;
    std::uint64_t matched = 0;             ///< passed source, type and filter
    std::uint64_t delivered = 0;           ///< deliveries decided (one per target topic)
    std::uint64_t filtered_out = 0;        ///< right source and type, rejected by the filter
    std::uint64_t missing_path = 0;        ///< predicate evaluations on an absent path
    std::uint64_t type_mismatch = 0;       ///< predicate evaluations on a value of another type
    std::uint64_t transform_errors = 0;    ///< events a transformation failed on
    std::uint64_t duplicates_skipped = 0;  ///< targets already served by a higher route
    /// From the start of routing the event to the end of this route's transformations, timed
    /// on one event in 8.
    std::uint64_t latency_p50_ns = 0, latency_p99_ns = 0;
    std::uint64_t latency_samples = 0;  ///< events timed (0: the percentiles mean nothing)
};

struct RouterMetrics {
    std::uint64_t events = 0;
    std::uint64_t unmatched = 0;
    std::uint64_t to_default = 0;
    std::uint64_t errors = 0;  ///< events failed by a transformation
    std::vector<RouteMetrics> routes;
};

class Router {
  public:
    /// Compiles a table: routes sorted by priority (stable), per-(topic, type) candidate lists.
    /// Throws std::invalid_argument for a table that cannot work (duplicate or empty names, a
    /// route without sources or targets, more than 65534 routes).
    explicit Router(RouteTable table);
    ~Router();
    Router(const Router&) = delete;
    Router& operator=(const Router&) = delete;

    /// Routes one event read from `source_topic` with record key `key`. `json` should be a
    /// valid event (the runtime has decoded and validated it); malformed text matches nothing
    /// that needs a field and never crashes. `type`: the event's catalogue type when the caller
    /// has read it already (the runtime checks every event first), else it is read from `json`.
    /// Thread-safe; allocation-free when no route transforms the event and `out` is reused.
    void route(std::string_view source_topic, std::string_view key, std::string_view json,
               Routing& out, std::optional<event::EventType> type = std::nullopt) const;

    /// Routes, in priority order.
    const std::vector<Route>& routes() const noexcept { return _table.routes; }
    const RouteTable& table() const noexcept { return _table; }
    /// Every topic routes read from (sorted, unique) and write to (with the default topic).
    std::vector<std::string> source_topics() const;
    std::vector<std::string> target_topics() const;

    RouterMetrics metrics() const;

  private:
    struct Counters;
    struct Compiled;
    RouteTable _table;
    std::unique_ptr<Compiled> _compiled;
    std::unique_ptr<Counters[]> _counters;
    mutable std::atomic<std::uint64_t> _events{0}, _unmatched{0}, _to_default{0}, _errors{0};
};

/// A cycle the enabled routes make through their topics (with the default topic, which every
/// source's unmatched events go to): an event on it would be routed again and again.
struct Loop {
    std::string path;              ///< `a -> (route) b -> (route) a`
    const Route* route = nullptr;  ///< the first route on it (nullptr: only the default topic)
};
/// The first loop in `table`'s routes, whatever allow_cycles says; nullopt when there is none.
std::optional<Loop> find_loop(const RouteTable& table);

/// Loads the `routing` and `routes` sections of a loaded pipeline file. Every route is checked:
/// keys, operators and their operands, regular expressions, event-type patterns,
/// transformations, and that each topic it names is declared under `topics`. Throws
/// config::ConfigError with file, line and what was expected.
RouteTable load_routes(const config::Config& config);

/// A factory for a custom transformation named in pipeline files: it receives the YAML value
/// given to it as JSON text (`null` when none) and throws std::invalid_argument when it is
/// unusable (the loader reports that with file and line).
using TransformationFactory =
    std::function<std::shared_ptr<const Transformation>(std::string_view args_json)>;
/// Registers a custom transformation under `name` for load_routes(). Not thread-safe with
/// concurrent loads; call at start-up. Throws std::invalid_argument for a built-in name.
void register_transformation(std::string name, TransformationFactory factory);

}  // namespace agentstream::router
