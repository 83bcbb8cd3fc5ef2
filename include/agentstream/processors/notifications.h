// NotificationStreamProcessor: `user.notification` events from a topic delivered through the
// notification service's channels (log, file, webhook, Kafka), which choose by kind, priority
// and recipient and de-duplicate; per type and priority counts.
#pragma once

#include <agentstream/notify/notifications.h>
#include <agentstream/runtime/processor.h>

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace agentstream::processors {

struct NotificationCounts {
    std::uint64_t total = 0;
    std::map<std::string, std::uint64_t> by_type;
    std::map<std::string, std::uint64_t> by_priority;
};

class NotificationStreamProcessor : public runtime::StreamProcessor {
  public:
    /// `service` gives the current notification service (it may be replaced, on a reload).
    /// Inputs default to {"notifications"}.
    using ServiceSource = std::function<std::shared_ptr<notify::NotificationService>()>;
    NotificationStreamProcessor(runtime::ProcessorOptions options, ServiceSource service);
    NotificationCounts counts() const;

  protected:
    bool process(const event::Event& event, runtime::Context& context) override;

  private:
    ServiceSource _service;
    mutable std::mutex _mutex;
    NotificationCounts _counts;
};

}  // namespace agentstream::processors
