#include <agentstream/core/http_client.h>
#include <agentstream/core/url.h>
#include <agentstream/event/codec.h>
#include <agentstream/event/factory.h>
#include <agentstream/event/validation.h>
#include <agentstream/kafka/producer.h>
#include <agentstream/notify/notifications.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <fstream>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <unordered_map>

#include "internal/json_escape.h"
#include "internal/log.h"
#include "internal/yaml_reader.h"

namespace agentstream::notify {
namespace {

using namespace std::chrono_literals;

constexpr std::string_view CHANNEL_TYPES[] = {"log", "file", "webhook", "kafka"};
constexpr std::string_view OUTCOMES[] = {"delivered", "failed", "deduplicated", "rate_limited",
                                         "dropped"};
enum Outcome : std::size_t { Delivered, Failed, Deduplicated, RateLimited, Dropped };

std::string default_key(const Notice& n) {
    const auto& e = n.event;
    return fmt::format("{}\x1f{}\x1f{}\x1f{}", n.kind, e.string("title").value_or(""),
                       e.string("message").value_or(""), e.string("user_id").value_or(""));
}

}  // namespace

std::string_view to_string(ChannelType t) noexcept {
    return CHANNEL_TYPES[static_cast<std::size_t>(t)];
}

struct NotificationService::Channel {
    struct Item {
        event::Event event;
        std::string json;
        std::string kind;
    };

    ChannelSpec spec;
    const ServiceOptions& options;
    std::optional<HttpUrl> url;
    std::unique_ptr<std::ofstream> file;
    std::array<monitor::Counter*, std::size(OUTCOMES)> counters{};

    mutable std::mutex mutex;  // guards everything below
    std::condition_variable wake;
    std::condition_variable idle;
    std::deque<Item> queue;
    bool busy = false;
    bool stopping = false;
    std::unordered_map<std::string, Clock::time_point> seen;  // de-duplication
    double tokens = 0;
    Clock::time_point refilled;
    ChannelStats stats;
    std::thread thread;

    Channel(ChannelSpec s, const ServiceOptions& o) : spec(std::move(s)), options(o) {
        stats.name = spec.name;
        stats.type = spec.type;
        tokens = spec.rate_limit.count;
        refilled = options.now();
        switch (spec.type) {
            case ChannelType::Log: break;
            case ChannelType::File:
                file = std::make_unique<std::ofstream>(spec.path, std::ios::app);
                if (!*file) {
                    throw std::invalid_argument(
                        fmt::format("notification channel '{}': cannot open {} for appending",
                                    spec.name, spec.path));
                }
                break;
            case ChannelType::Webhook: {
                std::string error;
                url = parse_http_url(spec.url, &error);
                if (!url) {
                    throw std::invalid_argument(
                        fmt::format("notification channel '{}': {}", spec.name, error));
                }
                break;
            }
            case ChannelType::Kafka:
                if (options.producer == nullptr || spec.topic.empty()) {
                    throw std::invalid_argument(fmt::format(
                        "notification channel '{}': a kafka channel needs a topic and a producer",
                        spec.name));
                }
                break;
        }
        if (options.metrics != nullptr) {
            for (std::size_t i = 0; i < std::size(OUTCOMES); ++i) {
                counters[i] = &options.metrics->counter(
                    "notifications_total",
                    {{"channel", spec.name}, {"outcome", std::string(OUTCOMES[i])}});
            }
        }
        thread = std::thread([this] { run(); });
    }

    ~Channel() {
        {
            std::lock_guard lock(mutex);
            stopping = true;
        }
        wake.notify_all();
        thread.join();
    }

    void count(Outcome o) {  // with the mutex held
        switch (o) {
            case Delivered: ++stats.delivered; break;
            case Failed: ++stats.failed; break;
            case Deduplicated: ++stats.deduplicated; break;
            case RateLimited: ++stats.rate_limited; break;
            case Dropped: ++stats.dropped; break;
        }
        if (counters[o] != nullptr) {
            counters[o]->add();
        }
    }

    // Filters, de-duplication, rate limit, queue: on the caller's thread, never blocking on
    // delivery.
    void offer(const Notice& n, const std::string& key, const std::string& json) {
        std::lock_guard lock(mutex);
        if (!spec.enabled || n.event.priority() < spec.min_priority ||
            (!spec.kinds.empty() &&
             std::find(spec.kinds.begin(), spec.kinds.end(), n.kind) == spec.kinds.end()) ||
            (!spec.users.empty() &&
             std::find(spec.users.begin(), spec.users.end(),
                       n.event.string("user_id").value_or("")) == spec.users.end())) {
            ++stats.filtered;
            return;
        }
        auto now = options.now();
        if (spec.dedup_window.count() > 0) {
            if (seen.size() > 10'000) {
                std::erase_if(seen,
                              [&](const auto& e) { return now - e.second >= spec.dedup_window; });
            }
            auto [it, inserted] = seen.emplace(key, now);
            if (!inserted) {
                if (now - it->second < spec.dedup_window) {
                    count(Deduplicated);
                    return;
                }
                it->second = now;
            }
        }
        if (spec.rate_limit.count > 0) {
            auto per = std::chrono::duration<double>(spec.rate_limit.per).count();
            auto elapsed = std::chrono::duration<double>(now - refilled).count();
            tokens = std::min<double>(spec.rate_limit.count,
                                      tokens + elapsed * spec.rate_limit.count / per);
            refilled = now;
            if (tokens < 1) {
                count(RateLimited);
                return;
            }
            tokens -= 1;
        }
        if (queue.size() >= spec.queue_capacity) {
            count(Dropped);
            return;
        }
        queue.push_back({n.event, json, n.kind});
        wake.notify_one();
    }

    void run() {
        std::unique_lock lock(mutex);
        while (true) {
            wake.wait(lock, [&] { return stopping || !queue.empty(); });
            if (queue.empty()) {
                return;  // stopping
            }
            auto item = std::move(queue.front());
            queue.pop_front();
            busy = true;
            lock.unlock();
            std::string error;
            bool ok = deliver(item, error);
            lock.lock();
            busy = false;
            if (ok) {
                count(Delivered);
            } else {
                count(Failed);
                stats.last_error = error;
                logger("notify")->warn("notification channel '{}': not delivered: {}", spec.name,
                                       error);
            }
            if (queue.empty()) {
                idle.notify_all();
            }
        }
    }

    bool deliver(const Item& item, std::string& error) {
        const auto& e = item.event;
        switch (spec.type) {
            case ChannelType::Log: {
                auto type = e.string("notification_type").value_or("info");
                auto text =
                    fmt::format("[{}] {} ({}): {}{}", item.kind, e.string("title").value_or(""),
                                event::to_string(e.priority()), e.string("message").value_or(""),
                                e.string("user_id") ? " -> " + std::string(*e.string("user_id"))
                                                    : std::string());
                auto log = logger("notify");
                if (type == "error") {
                    log->error("{}", text);
                } else if (type == "warning") {
                    log->warn("{}", text);
                } else {
                    log->info("{}", text);
                }
                return true;
            }
            case ChannelType::File:
                *file << item.json << '\n';
                file->flush();
                if (!*file) {
                    error = fmt::format("cannot write to {}", spec.path);
                    file->clear();
                    return false;
                }
                return true;
            case ChannelType::Webhook: return post(item, error);
            case ChannelType::Kafka: {
                auto status = options.producer->send(spec.topic, e);
                if (!status.ok()) {
                    error = status.error().message;
                    return false;
                }
                return true;
            }
        }
        return false;
    }

    // POST with a timeout; retried on connection errors, 408, 429 and 5xx with a doubling
    // backoff; other answers are final.
    bool post(const Item& item, std::string& error) {
        http::HttpPostOptions post;
        post.timeout = std::chrono::duration_cast<std::chrono::microseconds>(spec.timeout);
        post.ca_file = spec.ca_file;
        post.headers = spec.headers;
        post.headers.emplace_back("X-Agentstream-Notification-Kind", item.kind);
        auto backoff = spec.backoff;
        for (int attempt = 0;; ++attempt) {
            auto res = http::post_json(*url, item.json, post);
            if (res.ok()) {
                return true;
            }
            error = res.answered ? fmt::format("POST {}: HTTP {}", spec.url, res.status)
                                 : fmt::format("POST {}: {}", spec.url, res.error);
            if (!res.retriable() || attempt >= spec.retries) {
                if (attempt > 0) {
                    error += fmt::format(" (after {} attempts)", attempt + 1);
                }
                return false;
            }
            std::unique_lock lock(mutex);
            ++stats.retries;
            if (wake.wait_for(lock, backoff, [&] { return stopping; })) {
                error += " (stopping)";
                return false;
            }
            backoff = std::min<std::chrono::milliseconds>(backoff * 2, 30s);
        }
    }
};

NotificationService::NotificationService(std::vector<ChannelSpec> channels, ServiceOptions options)
    : _options(std::move(options)) {
    for (std::size_t i = 0; i < channels.size(); ++i) {
        for (std::size_t j = 0; j < i; ++j) {
            if (channels[i].name == channels[j].name) {
                throw std::invalid_argument(
                    fmt::format("notification channel '{}' is defined twice", channels[i].name));
            }
        }
    }
    for (auto& spec : channels) {
        _channels.push_back(std::make_unique<Channel>(std::move(spec), _options));
    }
}

NotificationService::~NotificationService() {
    flush(5s);
    _channels.clear();
}

void NotificationService::notify(Notice notice) {
    if (notice.event.type() != event::EventType::UserNotification) {
        throw std::invalid_argument("a notice is a user.notification event");
    }
    auto problems = event::validate(notice.event);
    if (!problems.empty()) {
        throw std::invalid_argument(fmt::format("invalid notice: {}", problems.front().message));
    }
    if (notice.kind.empty()) {
        notice.kind = std::string(notice.event.string("notification_type").value_or("info"));
    }
    auto key = notice.dedup_key.empty() ? default_key(notice) : notice.dedup_key;
    auto json = event::encode(notice.event);
    for (auto& c : _channels) {
        c->offer(notice, key, json);
    }
}

namespace {

event::Event notice_event(const std::string& source, const std::string& type,
                          const std::string& title, const std::string& message,
                          const std::string& recipient, event::Priority priority) {
    auto e = event::EventFactory::create(event::EventType::UserNotification, source,
                                         {{"notification_type", type},
                                          {"title", title},
                                          {"message", message},
                                          {"user_id", recipient}});
    e.set_priority(priority);
    return e;
}

std::string metadata(std::initializer_list<std::pair<std::string_view, std::string_view>> kv) {
    std::string out = "{";
    for (const auto& [k, v] : kv) {
        if (out.size() > 1) {
            out += ',';
        }
        append_json_string(out, k);
        out += ':';
        append_json_string(out, v);
    }
    return out + "}";
}

}  // namespace

void NotificationService::notify_task_completion(const std::string& task_id,
                                                 const std::string& agent_id,
                                                 const std::string& result_summary,
                                                 const std::string& recipient) {
    auto e = notice_event(_options.source, "success", fmt::format("Task {} completed", task_id),
                          fmt::format("Task {} completed by {}", task_id, agent_id), recipient,
                          event::Priority::Medium);
    e.set("related_task_id", task_id);
    e.set("related_agent_id", agent_id);
    auto summary = result_summary.substr(0, 200);
    e.set_metadata(event::RawJson{metadata({{"kind", "task_completion"},
                                            {"task_id", task_id},
                                            {"agent_id", agent_id},
                                            {"result_summary", summary}})});
    notify({std::move(e), "task_completion", {}});
}

void NotificationService::notify_agent_error(const std::string& agent_id,
                                             const std::string& error_message,
                                             const std::optional<std::string>& task_id,
                                             const std::string& recipient) {
    auto e = notice_event(_options.source, "error", fmt::format("Agent {} error", agent_id),
                          fmt::format("Agent {} encountered an error: {}", agent_id, error_message),
                          recipient, event::Priority::High);
    e.set("related_agent_id", agent_id);
    if (task_id) {
        e.set("related_task_id", *task_id);
    }
    e.set_metadata(event::RawJson{metadata({{"kind", "agent_error"},
                                            {"agent_id", agent_id},
                                            {"task_id", task_id.value_or("")},
                                            {"error_message", error_message}})});
    notify({std::move(e), "agent_error", {}});
}

void NotificationService::notify_system_event(const std::string& event_type,
                                              const std::string& message, event::Priority priority,
                                              const std::string& recipient) {
    auto type = priority >= event::Priority::High ? "warning" : "info";
    auto e = notice_event(_options.source, type, fmt::format("System event: {}", event_type),
                          message, recipient, priority);
    e.set_metadata(
        event::RawJson{metadata({{"kind", "system_event"}, {"event_type", event_type}})});
    notify({std::move(e), event_type, {}});
}

bool NotificationService::flush(std::chrono::milliseconds timeout) {
    auto deadline = Clock::now() + timeout;
    for (auto& c : _channels) {
        std::unique_lock lock(c->mutex);
        if (!c->idle.wait_until(lock, deadline, [&] { return c->queue.empty() && !c->busy; })) {
            return false;
        }
    }
    return true;
}

std::vector<ChannelStats> NotificationService::stats() const {
    std::vector<ChannelStats> out;
    for (const auto& c : _channels) {
        std::lock_guard lock(c->mutex);
        out.push_back(c->stats);
    }
    return out;
}

}  // namespace agentstream::notify

// ---- loader ----

namespace agentstream::notify {

std::vector<ChannelSpec> load_channels(const config::Config& config) {
    config::YamlReader r(config.source());
    auto section = r.section(r.root(config), "notifications");
    if (section.IsNull()) {
        ChannelSpec log;
        log.name = "log";
        return {log};
    }
    if (!section.IsMap()) {
        r.fail(section, "notifications: expected a mapping with channels");
    }
    r.only_keys(section, "notifications", {"channels"});
    std::vector<ChannelSpec> out;
    auto channels = section["channels"];
    if (!channels || channels.IsNull()) {
        return out;
    }
    if (!channels.IsSequence()) {
        r.fail(channels, "notifications.channels: expected a list of channels");
    }
    for (const auto& node : channels) {
        if (!node.IsMap()) {
            r.fail(node, "notifications.channels: each channel is a mapping");
        }
        ChannelSpec c;
        if (!node["name"]) {
            r.fail(node, "notification channel: name is required");
        }
        c.name = r.scalar(node["name"], "name");
        if (!node["type"]) {
            r.fail(node, fmt::format("notification channel '{}': type is required (log, file, "
                                     "webhook or kafka)",
                                     c.name));
        }
        auto type = r.scalar(node["type"], "type");
        auto t = std::find(std::begin(CHANNEL_TYPES), std::end(CHANNEL_TYPES), type);
        if (t == std::end(CHANNEL_TYPES)) {
            r.fail(node["type"],
                   fmt::format("type: expected log, file, webhook or kafka; got '{}'", type));
        }
        c.type = static_cast<ChannelType>(t - std::begin(CHANNEL_TYPES));
        std::vector<std::string_view> keys = {"name",         "type",       "enabled",
                                              "min_priority", "kinds",      "users",
                                              "dedup_window", "rate_limit", "queue"};
        switch (c.type) {
            case ChannelType::Log: break;
            case ChannelType::File: keys.push_back("path"); break;
            case ChannelType::Webhook:
                keys.insert(keys.end(),
                            {"url", "headers", "timeout", "retries", "backoff", "ca_file"});
                break;
            case ChannelType::Kafka: keys.push_back("topic"); break;
        }
        for (const auto& e : node) {
            const auto& key = e.first.Scalar();
            const auto& v = e.second;
            if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
                r.fail(e.first, fmt::format("notification channel '{}' ({}): unknown key '{}'; "
                                            "expected one of {}",
                                            c.name, type, key, fmt::join(keys, ", ")));
            } else if (key == "enabled") {
                c.enabled = r.boolean(v, key);
            } else if (key == "min_priority") {
                auto p = event::parse_priority(r.scalar(v, key));
                if (!p) {
                    r.fail(v, "min_priority: expected low, medium, high or critical");
                }
                c.min_priority = *p;
            } else if (key == "kinds") {
                c.kinds = r.strings(v, key);
            } else if (key == "users") {
                c.users = r.strings(v, key);
            } else if (key == "dedup_window") {
                c.dedup_window = r.duration(v, key);
            } else if (key == "rate_limit") {
                if (!v.IsMap() || !v["count"] || !v["per"]) {
                    r.fail(v,
                           "rate_limit: expected {count: N, per: DURATION}, such as "
                           "{count: 10, per: 1m}");
                }
                r.only_keys(v, "rate_limit", {"count", "per"});
                c.rate_limit.count = static_cast<std::uint32_t>(
                    r.integer(v["count"], "rate_limit.count", 1, 1'000'000));
                c.rate_limit.per = r.duration(v["per"], "rate_limit.per");
                if (c.rate_limit.per.count() <= 0) {
                    r.fail(v["per"], "rate_limit.per: expected a positive duration");
                }
            } else if (key == "queue") {
                c.queue_capacity = static_cast<std::size_t>(r.integer(v, key, 1, 1'000'000));
            } else if (key == "path") {
                c.path = r.scalar(v, key);
            } else if (key == "url") {
                c.url = r.scalar(v, key);
                std::string error;
                if (!parse_http_url(c.url, &error)) {
                    r.fail(v, fmt::format("url: {}", error));
                }
            } else if (key == "headers") {
                if (!v.IsMap()) {
                    r.fail(v, "headers: expected a mapping of header names to values");
                }
                for (const auto& h : v) {
                    c.headers.emplace_back(h.first.Scalar(), r.scalar(h.second, "headers"));
                }
            } else if (key == "timeout") {
                c.timeout = r.duration(v, key);
            } else if (key == "retries") {
                c.retries = static_cast<int>(r.integer(v, key, 0, 100));
            } else if (key == "backoff") {
                c.backoff = r.duration(v, key);
            } else if (key == "ca_file") {
                c.ca_file = r.scalar(v, key);
            } else if (key == "topic") {
                c.topic = r.scalar(v, key);
            }
        }
        auto need = [&](bool present, std::string_view key) {
            if (!present) {
                r.fail(node, fmt::format("notification channel '{}' ({}): {} is required", c.name,
                                         type, key));
            }
        };
        need(c.type != ChannelType::File || !c.path.empty(), "path");
        need(c.type != ChannelType::Webhook || !c.url.empty(), "url");
        need(c.type != ChannelType::Kafka || !c.topic.empty(), "topic");
        for (const auto& other : out) {
            if (other.name == c.name) {
                r.fail(node["name"],
                       fmt::format("notification channel '{}' is defined twice", c.name));
            }
        }
        out.push_back(std::move(c));
    }
    return out;
}

}  // namespace agentstream::notify
