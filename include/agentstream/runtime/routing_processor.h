// RoutingProcessor: the router on Kafka. Consumes the routes' source topics, routes each event
// with the current route table, and produces its deliveries; at-least-once like every
// StreamProcessor (an input is committed once all its deliveries are acknowledged).
#pragma once

#include <agentstream/router/router.h>
#include <agentstream/runtime/processor.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>

namespace agentstream::runtime {

class RoutingProcessor : public StreamProcessor {
  public:
    /// `options.inputs` should be the router's source topics. With `validate_output`, an event
    /// a transformation made invalid is dead-lettered instead of sent. Throws
    /// std::invalid_argument for unusable options or a null router.
    RoutingProcessor(ProcessorOptions options, std::shared_ptr<const router::Router> router,
                     bool validate_output = true);

    /// Routes every event received from now on with `router`. Each event is routed by exactly
    /// one table: events already routed keep their deliveries. Thread-safe. The new table must
    /// read the same source topics (another set needs a new processor).
    void replace(std::shared_ptr<const router::Router> router);
    std::shared_ptr<const router::Router> router() const;

  protected:
    // The router reads the record's bytes: events are checked, not built.
    bool reads_events() const noexcept override { return false; }
    bool process_record(const event::EventSummary& event, Context& context) override;

  private:
    // The current table, under a mutex; handler threads keep a copy and take the mutex only
    // when the version moved (a version number is never reused, across instances too).
    mutable std::mutex _mutex;
    std::shared_ptr<const router::Router> _router;
    std::atomic<std::uint64_t> _version{0};
    bool _validate_output;
};

}  // namespace agentstream::runtime
