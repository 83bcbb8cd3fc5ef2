#include <agentstream/runtime/event_dispatcher.h>

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

namespace agentstream::runtime {

EventDispatcher::EventDispatcher(std::string name, ProcessorOptions options,
                                 router::RouteTable table)
    : _options(std::move(options)), _table(std::move(table)) {
    _table.dispatcher = std::move(name);
    if (_options.name.empty() || _options.name == ProcessorOptions{}.name) {
        _options.name = _table.dispatcher;
    }
    _group_id = _options.group_id.empty() ? "agentstream-" + _options.name : _options.group_id;
    _router = build(_table);
}

EventDispatcher::~EventDispatcher() = default;

std::shared_ptr<const router::Router> EventDispatcher::build(router::RouteTable table) const {
    return std::make_shared<const router::Router>(std::move(table));
}

EventDispatcher& EventDispatcher::add_route(router::Route route) {
    std::lock_guard lock(_mutex);
    if (_running) {
        for (const auto& topic : route.source_topics) {
            if (std::find(_reading.begin(), _reading.end(), topic) == _reading.end()) {
                throw std::logic_error(fmt::format(
                    "route '{}' reads '{}', which the running dispatcher '{}' does not read: "
                    "stop it, add the route, and run it again",
                    route.name, topic, _table.dispatcher));
            }
        }
    }
    auto table = _table;
    table.routes.push_back(std::move(route));
    auto router = build(table);  // throws for a bad table; nothing changes then
    _table = std::move(table);
    _router = router;
    if (_running) {
        _running->replace(std::move(router));
    }
    return *this;
}

bool EventDispatcher::remove_route(std::string_view name) {
    std::lock_guard lock(_mutex);
    auto table = _table;
    auto it = std::find_if(table.routes.begin(), table.routes.end(),
                           [&](const router::Route& r) { return r.name == name; });
    if (it == table.routes.end()) {
        return false;
    }
    table.routes.erase(it);
    auto router = build(table);
    _table = std::move(table);
    _router = router;
    if (_running) {
        _running->replace(std::move(router));
    }
    return true;
}

std::vector<router::Route> EventDispatcher::routes() const {
    std::lock_guard lock(_mutex);
    return _router->routes();
}

void EventDispatcher::run() {
    std::shared_ptr<RoutingProcessor> processor;
    {
        std::lock_guard lock(_mutex);
        if (_running) {
            throw std::logic_error(
                fmt::format("dispatcher '{}' is running already", _table.dispatcher));
        }
        if (_table.routes.empty()) {
            throw std::logic_error(fmt::format(
                "dispatcher '{}' has no routes: add_route() before run()", _table.dispatcher));
        }
        if (_stop_requested) {  // stop() came first
            _stop_requested = false;
            return;
        }
        auto options = _options;
        if (options.inputs.empty()) {
            options.inputs = _router->source_topics();
        }
        _reading = options.inputs;
        processor = std::make_shared<RoutingProcessor>(std::move(options), _router);
        _running = processor;
    }
    struct Clear {
        EventDispatcher* self;
        RoutingProcessor* processor;
        ~Clear() {
            std::lock_guard lock(self->_mutex);
            self->_last_metrics = processor->metrics();
            self->_last_router = processor->router();
            self->_running.reset();
            self->_reading.clear();
            self->_stop_requested = false;
        }
    } clear{this, processor.get()};
    processor->run();
}

void EventDispatcher::stop() noexcept {
    std::lock_guard lock(_mutex);
    if (_running) {
        _running->stop();
    } else {
        _stop_requested = true;
    }
}

ProcessorMetrics EventDispatcher::metrics() const {
    std::lock_guard lock(_mutex);
    return _running ? _running->metrics() : _last_metrics;
}

router::RouterMetrics EventDispatcher::route_metrics() const {
    std::lock_guard lock(_mutex);
    if (_running) {
        return _running->router()->metrics();
    }
    return (_last_router ? _last_router : _router)->metrics();
}

}  // namespace agentstream::runtime
