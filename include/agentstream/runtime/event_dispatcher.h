// The design's EventDispatcher: a routing table built in code (add_route, the predefined routes)
// run as a RoutingProcessor. It reads its routes' source topics; routes may be added or removed
// while it runs, for topics it already reads.
#pragma once

#include <agentstream/router/router.h>
#include <agentstream/runtime/processor.h>
#include <agentstream/runtime/routing_processor.h>

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace agentstream::runtime {

class EventDispatcher {
  public:
    /// `name` is the dispatcher's name (`_routing.dispatcher`, and the processor's name unless
    /// `options.name` is set); `options.inputs` may stay empty (the routes' source topics are
    /// read). `table` gives the mode, default topic and cycle settings, and any first routes.
    explicit EventDispatcher(std::string name, ProcessorOptions options,
                             router::RouteTable table = {});
    ~EventDispatcher();
    EventDispatcher(const EventDispatcher&) = delete;
    EventDispatcher& operator=(const EventDispatcher&) = delete;

    /// Adds a route. The table is checked with it at once (names, topics, loops: throws
    /// std::invalid_argument). While running, a route whose source the dispatcher does not read
    /// is refused (std::logic_error): stop, add it, run again.
    EventDispatcher& add_route(router::Route route);
    /// Removes the route named `name`; false when there is none.
    bool remove_route(std::string_view name);
    /// The routes, highest priority first.
    std::vector<router::Route> routes() const;

    /// Routes until stop() (from any thread). Throws std::logic_error without routes.
    void run();
    void stop() noexcept;

    ProcessorMetrics metrics() const;
    router::RouterMetrics route_metrics() const;
    /// The processor's name and consumer group.
    const std::string& name() const noexcept { return _options.name; }
    const std::string& group_id() const noexcept { return _group_id; }

  private:
    std::shared_ptr<const router::Router> build(router::RouteTable table) const;

    ProcessorOptions _options;
    std::string _group_id;
    mutable std::mutex _mutex;  // guards everything below
    router::RouteTable _table;
    std::shared_ptr<const router::Router> _router;
    std::vector<std::string> _reading;  // the topics the running processor reads
    std::shared_ptr<RoutingProcessor> _running;
    std::shared_ptr<const router::Router> _last_router;  // for metrics after a run
    ProcessorMetrics _last_metrics;
    bool _stop_requested = false;
};

}  // namespace agentstream::runtime
