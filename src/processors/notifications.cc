#include <agentstream/processors/notifications.h>

namespace agentstream::processors {
namespace {

runtime::ProcessorOptions with_defaults(runtime::ProcessorOptions o) {
    if (o.inputs.empty()) {
        o.inputs = {"notifications"};
    }
    return o;
}

// The kind: the notice's metadata.kind when it has one (task_completion, agent_error, alert,
// ...), else its notification_type.
std::string kind_of(const event::Event& e) {
    const auto& meta = e.metadata().text;
    auto at = meta.find("\"kind\":\"");
    if (at != std::string::npos) {
        at += 8;
        auto end = meta.find('"', at);
        if (end != std::string::npos) {
            return meta.substr(at, end - at);
        }
    }
    return std::string(e.string("notification_type").value_or("info"));
}

}  // namespace

NotificationStreamProcessor::NotificationStreamProcessor(runtime::ProcessorOptions options,
                                                         ServiceSource service)
    : runtime::StreamProcessor(with_defaults(std::move(options))), _service(std::move(service)) {}

bool NotificationStreamProcessor::process(const event::Event& event, runtime::Context&) {
    if (event.type() != event::EventType::UserNotification) {
        return false;
    }
    auto kind = kind_of(event);
    _service()->notify({event, kind, {}});
    std::lock_guard lock(_mutex);
    ++_counts.total;
    ++_counts.by_type[std::string(event.string("notification_type").value_or("info"))];
    ++_counts.by_priority[std::string(event::to_string(event.priority()))];
    return true;
}

NotificationCounts NotificationStreamProcessor::counts() const {
    std::lock_guard lock(_mutex);
    return _counts;
}

}  // namespace agentstream::processors
