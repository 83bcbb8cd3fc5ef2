// The notification service: notices (user.notification events) delivered to channels — log,
// file (JSON Lines), webhook (HTTP POST with a timeout and retries) and a Kafka topic — each
// with its own filters, de-duplication window and rate limit, and its own delivery thread, so a
// slow webhook never holds up the others or the caller.
#pragma once

#include <agentstream/config/config.h>
#include <agentstream/event/event.h>
#include <agentstream/monitor/metrics.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace agentstream::kafka {
class Producer;
}

namespace agentstream::notify {

using Clock = std::chrono::steady_clock;

enum class ChannelType : std::uint8_t { Log, File, Webhook, Kafka };
std::string_view to_string(ChannelType t) noexcept;

/// At most `count` notices per `per` (a token bucket: bursts up to `count`). 0: unlimited.
struct RateLimit {
    std::uint32_t count = 0;
    std::chrono::milliseconds per{0};
};

struct ChannelSpec {
    std::string name;
    ChannelType type = ChannelType::Log;
    bool enabled = true;
    /// Notices below this priority are not sent here.
    event::Priority min_priority = event::Priority::Low;
    /// Only these kinds (task_completion, agent_error, alert, ...); empty: all.
    std::vector<std::string> kinds;
    /// Only notices for these recipients (the event's user_id); empty: all.
    std::vector<std::string> users;
    /// A notice with the same de-duplication key within this window is sent once. 0: off.
    std::chrono::milliseconds dedup_window{0};
    RateLimit rate_limit;
    std::size_t queue_capacity = 1000;  ///< notices waiting for this channel; more are dropped

    std::string path;  ///< file: appended to, one JSON object per line
    std::string url;   ///< webhook: http://HOST[:PORT]/PATH or https://...
    std::vector<std::pair<std::string, std::string>> headers;  ///< webhook
    std::chrono::milliseconds timeout{5000};                   ///< webhook: per attempt
    int retries = 3;                                           ///< webhook: after the first attempt
    std::chrono::milliseconds backoff{500};  ///< webhook: doubled per retry, capped at 30 s
    /// webhook over https: the CA certificates (PEM) to trust instead of the system's.
    std::string ca_file;
    std::string topic;  ///< kafka
};

/// One notice: a valid user.notification event, its kind (task_completion, agent_error, alert,
/// or a system event's type) and the key that
/// de-duplicates it (empty: kind, title, message and recipient).
struct Notice {
    event::Event event;
    std::string kind;
    std::string dedup_key;
};

struct ChannelStats {
    std::string name;
    ChannelType type;
    std::uint64_t delivered = 0, failed = 0, deduplicated = 0, rate_limited = 0, filtered = 0,
                  dropped = 0, retries = 0;
    std::string last_error;
};

struct ServiceOptions {
    /// For kafka channels (it must outlive the service); a kafka channel without one is an
    /// error at construction.
    kafka::Producer* producer = nullptr;
    /// When set: notifications_total{channel,outcome}.
    monitor::MetricsRegistry* metrics = nullptr;
    std::string source = "agentstream-notifications";                      ///< the events' `source`
    std::function<Clock::time_point()> now = [] { return Clock::now(); };  ///< tests: a fake clock
};

class NotificationService {
  public:
    /// Throws std::invalid_argument for an unusable channel (bad URL, kafka without producer,
    /// duplicate name).
    NotificationService(std::vector<ChannelSpec> channels, ServiceOptions options = {});
    ~NotificationService();  ///< delivers what is queued (up to 5 s), then stops
    NotificationService(const NotificationService&) = delete;
    NotificationService& operator=(const NotificationService&) = delete;

    /// Hands a notice to every channel whose filters take it. Never blocks on delivery.
    /// Throws std::invalid_argument when the event is not a valid user.notification.
    void notify(Notice notice);

    // The three standard notices: each has a title; the recipient is the event's user_id.
    void notify_task_completion(const std::string& task_id, const std::string& agent_id,
                                const std::string& result_summary,
                                const std::string& recipient = "system_admin");
    void notify_agent_error(const std::string& agent_id, const std::string& error_message,
                            const std::optional<std::string>& task_id = std::nullopt,
                            const std::string& recipient = "system_admin");
    void notify_system_event(const std::string& event_type, const std::string& message,
                             event::Priority priority = event::Priority::Medium,
                             const std::string& recipient = "system_admin");

    /// Waits until every queued notice was delivered or given up on; false on timeout.
    bool flush(std::chrono::milliseconds timeout);
    std::vector<ChannelStats> stats() const;

  private:
    struct Channel;
    ServiceOptions _options;
    std::vector<std::unique_ptr<Channel>> _channels;
};

/// The `notifications.channels` of a pipeline file (a log channel when the section is absent).
/// Throws config::ConfigError with file and line.
std::vector<ChannelSpec> load_channels(const config::Config& config);

}  // namespace agentstream::notify
