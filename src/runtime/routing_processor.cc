#include <agentstream/event/codec.h>
#include <agentstream/runtime/routing_processor.h>

#include <fmt/format.h>

#include <charconv>
#include <stdexcept>

namespace agentstream::runtime {
namespace {
std::atomic<std::uint64_t> g_versions{0};
}  // namespace

RoutingProcessor::RoutingProcessor(ProcessorOptions options,
                                   std::shared_ptr<const router::Router> router,
                                   bool validate_output)
    : StreamProcessor(std::move(options)), _validate_output(validate_output) {
    if (!router) {
        throw std::invalid_argument("RoutingProcessor needs a router");
    }
    _router = std::move(router);
    _version.store(g_versions.fetch_add(1) + 1, std::memory_order_release);
}

void RoutingProcessor::replace(std::shared_ptr<const router::Router> router) {
    if (!router) {
        throw std::invalid_argument("RoutingProcessor needs a router");
    }
    std::lock_guard lock(_mutex);
    _router = std::move(router);
    _version.store(g_versions.fetch_add(1) + 1, std::memory_order_release);
}

std::shared_ptr<const router::Router> RoutingProcessor::router() const {
    std::lock_guard lock(_mutex);
    return _router;
}

bool RoutingProcessor::process_record(const event::EventSummary& summary, Context& context) {
    thread_local router::Routing routing;
    thread_local std::uint64_t seen_version = 0;
    thread_local std::shared_ptr<const router::Router> current;
    if (auto version = _version.load(std::memory_order_acquire); version != seen_version) {
        std::lock_guard lock(_mutex);
        current = _router;
        seen_version = _version.load(std::memory_order_relaxed);
    }
    const auto& record = context.record();
    current->route(record.topic(), record.key(), record.value(), routing, summary.type);
    if (routing.error) {
        // Nothing was sent: the event goes to the dead-letter topic whole, and a replay after
        // the routes are fixed delivers it once.
        throw PermanentError(*routing.error);
    }
    if (routing.deliveries.empty()) {
        return false;  // unmatched, no default topic: counted and committed
    }
    // Routes that may make a cycle: each copy says how many times its event has been routed,
    // and one that has gone round max_hops times stops here.
    const auto& table = current->table();
    std::optional<kafka::Headers> hop_headers;
    if (table.allow_cycles) {
        int hops = 0;
        if (auto given = record.header(router::HOPS_HEADER)) {
            auto [ptr, ec] = std::from_chars(given->data(), given->data() + given->size(), hops);
            if (given->empty() || ec != std::errc() || ptr != given->data() + given->size() ||
                hops < 0) {
                throw PermanentError(fmt::format("header {} is not a count of hops: '{}'",
                                                 router::HOPS_HEADER, *given));
            }
        }
        if (hops >= table.max_hops) {
            throw PermanentError(fmt::format(
                "hop limit: routed {} times already (routing.max_hops = {}); the routes make a "
                "cycle this event did not leave",
                hops, table.max_hops));
        }
        hop_headers.emplace();
        for (const auto& [name, value] : record.headers()) {
            if (name != router::HOPS_HEADER) {
                hop_headers->emplace_back(name, value);
            }
        }
        hop_headers->emplace_back(router::HOPS_HEADER, std::to_string(hops + 1));
    }
    for (const auto& d : routing.deliveries) {
        bool unchanged =
            d.value == router::Delivery::ORIGINAL && d.key == router::Delivery::ORIGINAL;
        if (unchanged && !hop_headers) {
            context.forward(d.topic);
            continue;
        }
        std::string_view value = d.value == router::Delivery::ORIGINAL
                                     ? record.value()
                                     : std::string_view(routing.values[d.value]);
        if (_validate_output && d.value != router::Delivery::ORIGINAL) {
            auto check = event::check(value);
            if (!check) {
                throw PermanentError(fmt::format("route '{}' made an invalid event: {}",
                                                 current->routes()[d.route].name,
                                                 event::describe(check.error())));
            }
        }
        std::string_view key = d.key == router::Delivery::ORIGINAL
                                   ? record.key()
                                   : std::string_view(routing.keys[d.key]);
        if (hop_headers) {
            context.send(d.topic, std::string(key), std::string(value), *hop_headers);
        } else {
            // The record's own headers go with it (copied inside librdkafka when it is produced).
            context.send_copy(d.topic, key, value);
        }
    }
    return true;
}

}  // namespace agentstream::runtime
