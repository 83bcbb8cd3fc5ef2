// The notification service: filters, de-duplication and rate limits (fake clock), the file
// channel's JSON Lines, webhooks against a real local HTTP server (retries on 5xx, no retry on
// 4xx, timeouts, a stuck webhook not holding up other channels), the original's three notices,
// and the loader's errors with their lines.
#include <agentstream/config/config.h>
#include <agentstream/event/codec.h>
#include <agentstream/event/factory.h>
#include <agentstream/notify/notifications.h>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

namespace agentstream::notify {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

struct FakeClock {
    std::shared_ptr<std::atomic<std::int64_t>> ms = std::make_shared<std::atomic<std::int64_t>>(0);
    std::function<Clock::time_point()> fn() const {
        auto m = ms;
        return [m] { return Clock::time_point(std::chrono::milliseconds(m->load())); };
    }
    void advance(std::chrono::milliseconds d) const { *ms += d.count(); }
};

std::filesystem::path temp_file(const std::string& name) {
    auto dir = std::filesystem::temp_directory_path() /
               fmt::format("agentstream-notify-{}-{}", ::getpid(), name);
    std::filesystem::remove(dir);
    return dir;
}

std::vector<std::string> lines_of(const std::filesystem::path& p) {
    std::ifstream in(p);
    std::vector<std::string> out;
    for (std::string line; std::getline(in, line);) {
        out.push_back(line);
    }
    return out;
}

ChannelSpec file_channel(const std::filesystem::path& p, std::string name = "file") {
    ChannelSpec c;
    c.name = std::move(name);
    c.type = ChannelType::File;
    c.path = p.string();
    return c;
}

const ChannelStats& stats_of(const std::vector<ChannelStats>& all, const std::string& name) {
    for (const auto& s : all) {
        if (s.name == name) {
            return s;
        }
    }
    throw std::out_of_range(name);
}

TEST(Notifications, TheOriginalThreeNoticesAreValidEventsWithTitles) {
    auto path = temp_file("three");
    {
        NotificationService service({file_channel(path)});
        service.notify_task_completion("t1", "analyzer-1", std::string(500, 'x'));
        service.notify_agent_error("qa-1", "timed out after 30 s", std::string("t2"));
        service.notify_system_event("maintenance", "broker upgrade at 02:00", event::Priority::High,
                                    "ops");
        ASSERT_TRUE(service.flush(5s));
    }
    auto lines = lines_of(path);
    ASSERT_EQ(lines.size(), 3u);
    std::vector<event::Event> events;
    for (const auto& l : lines) {
        auto decoded = event::decode(l);
        ASSERT_TRUE(decoded.ok()) << l;
        events.push_back(*decoded);
    }
    EXPECT_EQ(events[0].string("title"), "Task t1 completed");
    EXPECT_EQ(events[0].string("message"), "Task t1 completed by analyzer-1");
    EXPECT_EQ(events[0].string("notification_type"), "success");
    EXPECT_EQ(events[0].string("user_id"), "system_admin");
    EXPECT_EQ(events[0].string("related_task_id"), "t1");
    EXPECT_THAT(events[0].metadata().text, HasSubstr("\"kind\":\"task_completion\""));
    EXPECT_THAT(events[0].metadata().text, HasSubstr(std::string(200, 'x') + "\""));
    EXPECT_THAT(events[0].metadata().text, Not(HasSubstr(std::string(201, 'x'))));
    EXPECT_EQ(events[1].string("message"), "Agent qa-1 encountered an error: timed out after 30 s");
    EXPECT_EQ(events[1].priority(), event::Priority::High);
    EXPECT_EQ(events[1].string("notification_type"), "error");
    EXPECT_EQ(events[1].string("related_task_id"), "t2");
    EXPECT_EQ(events[2].string("title"), "System event: maintenance");
    EXPECT_EQ(events[2].string("user_id"), "ops");
    EXPECT_EQ(events[2].string("notification_type"), "warning");
    std::filesystem::remove(path);
}

TEST(Notifications, FiltersDeduplicationAndRateLimitPerChannel) {
    FakeClock clock;
    auto all = temp_file("all");
    auto high = temp_file("high");
    auto dedup = temp_file("dedup");
    auto limited = temp_file("limited");
    auto high_spec = file_channel(high, "high");
    high_spec.min_priority = event::Priority::High;
    high_spec.kinds = {"agent_error"};
    auto dedup_spec = file_channel(dedup, "dedup");
    dedup_spec.dedup_window = 1min;
    auto limited_spec = file_channel(limited, "limited");
    limited_spec.rate_limit = {3, 10s};
    ServiceOptions options;
    options.now = clock.fn();
    monitor::MetricsRegistry registry;
    options.metrics = &registry;
    NotificationService service({file_channel(all, "all"), high_spec, dedup_spec, limited_spec},
                                options);

    for (int i = 0; i < 5; ++i) {  // the same error five times, 1 s apart
        service.notify_agent_error("a1", "disk full");
        clock.advance(1s);
    }
    service.notify_task_completion("t1", "a1", "ok");  // medium: not for "high"
    clock.advance(1min);  // the window passed: sent again; the bucket refilled
    service.notify_agent_error("a1", "disk full");
    ASSERT_TRUE(service.flush(5s));

    auto stats = service.stats();
    EXPECT_EQ(lines_of(all).size(), 7u);
    EXPECT_EQ(lines_of(high).size(), 6u);  // the six agent errors
    EXPECT_EQ(stats_of(stats, "high").filtered, 1u);
    EXPECT_EQ(lines_of(dedup).size(), 3u);  // first error, the completion, the error a minute on
    EXPECT_EQ(stats_of(stats, "dedup").deduplicated, 4u);
    // 3 per 10 s, refilled continuously (0.3 a second): errors at 0, 1, 2 s pass (tokens
    // 3 -> 0.6), 3 s has 0.9: limited, 4 s has 1.2: passes, the completion at 5 s has 0.5:
    // limited, a minute later the bucket is full again.
    EXPECT_EQ(lines_of(limited).size(), 5u);
    EXPECT_EQ(stats_of(stats, "limited").rate_limited, 2u);
    EXPECT_EQ(
        registry.counter("notifications_total", {{"channel", "dedup"}, {"outcome", "deduplicated"}})
            .value(),
        4u);
    for (const auto& p : {all, high, dedup, limited}) {
        std::filesystem::remove(p);
    }
}

// A local webhook receiver whose answers the test scripts.
struct Receiver {
    httplib::Server server;
    std::thread thread;
    int port = 0;
    std::mutex mutex;
    std::vector<std::string> bodies;
    std::vector<std::string> kinds;
    std::function<int(int)> answer = [](int) { return 200; };  // attempt number → status
    std::atomic<int> attempts{0};
    std::chrono::milliseconds delay{0};

    Receiver() {
        server.Post("/hook", [this](const httplib::Request& req, httplib::Response& res) {
            int n = attempts++;
            if (delay.count() > 0) {
                std::this_thread::sleep_for(delay);
            }
            res.status = answer(n);
            if (res.status == 200) {
                std::lock_guard lock(mutex);
                bodies.push_back(req.body);
                kinds.push_back(req.get_header_value("X-Agentstream-Notification-Kind"));
            }
        });
        port = server.bind_to_any_port("127.0.0.1");
        thread = std::thread([this] { server.listen_after_bind(); });
        while (!server.is_running()) {
            std::this_thread::sleep_for(1ms);
        }
    }
    ~Receiver() {
        server.stop();
        thread.join();
    }
    ChannelSpec channel(std::string name = "hook") const {
        ChannelSpec c;
        c.name = std::move(name);
        c.type = ChannelType::Webhook;
        c.url = fmt::format("http://127.0.0.1:{}/hook", port);
        c.backoff = 20ms;
        c.timeout = 2s;
        return c;
    }
};

TEST(Notifications, WebhookRetriesServerErrorsAndDelivers) {
    Receiver r;
    r.answer = [](int n) { return n < 2 ? 503 : 200; };
    auto spec = r.channel();
    spec.retries = 3;
    NotificationService service({spec});
    service.notify_agent_error("a1", "boom");
    ASSERT_TRUE(service.flush(10s));
    auto s = service.stats().front();
    EXPECT_EQ(s.delivered, 1u);
    EXPECT_EQ(s.retries, 2u);
    EXPECT_EQ(r.attempts.load(), 3);
    ASSERT_EQ(r.bodies.size(), 1u);
    auto decoded = event::decode(r.bodies.front());
    ASSERT_TRUE(decoded.ok());
    EXPECT_EQ(decoded->type(), event::EventType::UserNotification);
    EXPECT_EQ(r.kinds.front(), "agent_error");
}

TEST(Notifications, WebhookGivesUpOnClientErrorsAtOnceAndOnServerErrorsAfterItsRetries) {
    Receiver r;
    r.answer = [](int) { return 400; };
    auto spec = r.channel();
    spec.retries = 3;
    {
        NotificationService service({spec});
        service.notify_agent_error("a1", "boom");
        ASSERT_TRUE(service.flush(10s));
        auto s = service.stats().front();
        EXPECT_EQ(s.failed, 1u);
        EXPECT_EQ(s.retries, 0u);
        EXPECT_THAT(s.last_error, HasSubstr("HTTP 400"));
    }
    r.attempts = 0;
    r.answer = [](int) { return 500; };
    NotificationService service({spec});
    service.notify_agent_error("a1", "boom");
    ASSERT_TRUE(service.flush(10s));
    EXPECT_EQ(r.attempts.load(), 4);  // 1 + 3 retries
    EXPECT_THAT(service.stats().front().last_error, HasSubstr("HTTP 500 (after 4 attempts)"));
}

TEST(Notifications, AStuckWebhookTimesOutAndHoldsUpNoOtherChannel) {
    Receiver r;
    r.delay = 1500ms;
    auto spec = r.channel();
    spec.timeout = 300ms;
    spec.retries = 1;
    auto path = temp_file("beside");
    NotificationService service({spec, file_channel(path)});
    auto start = Clock::now();
    service.notify_agent_error("a1", "boom");  // returns at once
    EXPECT_LT(Clock::now() - start, 200ms);
    for (int i = 0; i < 50 && lines_of(path).empty(); ++i) {
        std::this_thread::sleep_for(10ms);
    }
    EXPECT_EQ(lines_of(path).size(), 1u);  // while the webhook still waits
    ASSERT_TRUE(service.flush(10s));
    auto s = stats_of(service.stats(), "hook");
    EXPECT_EQ(s.failed, 1u);
    EXPECT_THAT(s.last_error, HasSubstr("(after 2 attempts)"));
    std::filesystem::remove(path);
}

TEST(Notifications, HttpsWebhooksVerifyTheServerCertificate) {
    auto dir = temp_file("tls");
    std::filesystem::create_directories(dir);
    auto cert = (dir / "cert.pem").string();
    auto key = (dir / "key.pem").string();
    auto command = fmt::format(
        "openssl req -x509 -newkey rsa:2048 -nodes -keyout {} -out {} -days 1 "
        "-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 2>/dev/null",
        key, cert);
    ASSERT_EQ(std::system(command.c_str()), 0);
    httplib::SSLServer server(cert.c_str(), key.c_str());
    std::atomic<int> received{0};
    server.Post("/hook", [&](const httplib::Request&, httplib::Response& res) {
        ++received;
        res.status = 204;
    });
    int port = server.bind_to_any_port("127.0.0.1");
    std::thread thread([&] { server.listen_after_bind(); });
    while (!server.is_running()) {
        std::this_thread::sleep_for(1ms);
    }
    ChannelSpec trusted;
    trusted.name = "trusted";
    trusted.type = ChannelType::Webhook;
    trusted.url = fmt::format("https://127.0.0.1:{}/hook", port);
    trusted.ca_file = cert;
    trusted.retries = 0;
    auto untrusted = trusted;  // the system's CAs do not know this certificate
    untrusted.name = "untrusted";
    untrusted.ca_file.clear();
    {
        NotificationService service({trusted, untrusted});
        service.notify_system_event("tls", "hello");
        ASSERT_TRUE(service.flush(10s));
        EXPECT_EQ(stats_of(service.stats(), "trusted").delivered, 1u);
        EXPECT_EQ(stats_of(service.stats(), "untrusted").failed, 1u);
    }
    EXPECT_EQ(received.load(), 1);
    server.stop();
    thread.join();
    std::filesystem::remove_all(dir);
}

TEST(Notifications, AnUnreachableWebhookFailsAfterItsRetries) {
    ChannelSpec c;
    c.name = "nobody";
    c.type = ChannelType::Webhook;
    c.url = "http://127.0.0.1:1/hook";
    c.retries = 2;
    c.backoff = 10ms;
    NotificationService service({c});
    service.notify_system_event("x", "y");
    ASSERT_TRUE(service.flush(10s));
    EXPECT_EQ(service.stats().front().failed, 1u);
    EXPECT_EQ(service.stats().front().retries, 2u);
}

TEST(Notifications, BadNoticesAndChannelsAreRefused) {
    NotificationService service({});
    auto wrong = event::EventFactory::create(event::EventType::SystemAlert, "x",
                                             {{"component", "c"},
                                              {"health_status", "healthy"},
                                              {"alert_level", "info"},
                                              {"alert_message", "m"}});
    EXPECT_THROW(service.notify(Notice{wrong, "x", {}}), std::invalid_argument);
    ChannelSpec k;
    k.name = "k";
    k.type = ChannelType::Kafka;
    k.topic = "notifications";
    EXPECT_THROW(NotificationService({k}), std::invalid_argument);  // no producer
    ChannelSpec h;
    h.name = "h";
    h.type = ChannelType::Webhook;
    h.url = "ftp://x";
    EXPECT_THROW(NotificationService({h}), std::invalid_argument);
    EXPECT_THROW(NotificationService({file_channel("/nonexistent-dir/x.jsonl")}),
                 std::invalid_argument);
}

std::string load_error(const std::string& yaml) {
    try {
        load_channels(config::Config::parse(yaml, "p.yaml"));
    } catch (const config::ConfigError& e) {
        return e.what();
    }
    return "no error";
}

TEST(NotificationChannels, LoadsEveryChannelTypeWithItsOptions) {
    auto channels = load_channels(config::Config::parse(R"(
notifications:
  channels:
    - {name: ops, type: log, min_priority: high, kinds: [alert, agent_error]}
    - {name: audit, type: file, path: /tmp/n.jsonl, dedup_window: 5m}
    - name: pager
      type: webhook
      url: http://127.0.0.1:9000/hook
      headers: {X-Token: abc}
      timeout: 2s
      retries: 5
      backoff: 250ms
      rate_limit: {count: 10, per: 1m}
    - {name: bus, type: kafka, topic: notifications, enabled: false}
)",
                                                        "p.yaml"));
    ASSERT_EQ(channels.size(), 4u);
    EXPECT_EQ(channels[0].min_priority, event::Priority::High);
    EXPECT_EQ(channels[0].kinds, (std::vector<std::string>{"alert", "agent_error"}));
    EXPECT_EQ(channels[1].dedup_window, 5min);
    EXPECT_EQ(channels[2].headers.front().second, "abc");
    EXPECT_EQ(channels[2].retries, 5);
    EXPECT_EQ(channels[2].rate_limit.count, 10u);
    EXPECT_EQ(channels[2].rate_limit.per, 1min);
    EXPECT_FALSE(channels[3].enabled);
    // Absent: a log channel.
    auto defaults = load_channels(config::Config::parse("topics: {a: 1}\n", "p.yaml"));
    ASSERT_EQ(defaults.size(), 1u);
    EXPECT_EQ(defaults[0].type, ChannelType::Log);
}

TEST(NotificationChannels, MistakesAreRejectedWithTheirLine) {
    auto doc = [](const std::string& channel) {
        return "notifications:\n  channels:\n    - " + channel + "\n";
    };
    EXPECT_THAT(load_error(doc("{name: a, type: sms}")),
                HasSubstr("p.yaml:3:23: type: expected log, file, webhook or kafka; got 'sms'"));
    EXPECT_THAT(load_error(doc("{name: a, type: file}")),
                HasSubstr("p.yaml:3:7: notification channel 'a' (file): path is required"));
    EXPECT_THAT(load_error(doc("{name: a, type: log, url: http://x/}")),
                HasSubstr("unknown key 'url'"));
    EXPECT_THAT(load_error(doc("{name: a, type: webhook, url: ftp://hooks.example/x}")),
                HasSubstr("url: 'ftp://hooks.example/x': expected http://HOST[:PORT]/PATH"));
    EXPECT_THAT(load_error(doc("{name: a, type: log, rate_limit: 10}")),
                HasSubstr("rate_limit: expected {count: N, per: DURATION}"));
    EXPECT_THAT(load_error(doc("{name: a, type: log, dedup_window: soon}")),
                HasSubstr("dedup_window: expected a duration"));
    EXPECT_THAT(load_error(doc("{name: a, type: log, min_priority: urgent}")),
                HasSubstr("min_priority: expected low, medium, high or critical"));
    EXPECT_THAT(load_error("notifications:\n  channels:\n    - {name: a, type: log}\n"
                           "    - {name: a, type: log}\n"),
                HasSubstr("p.yaml:4:14: notification channel 'a' is defined twice"));
}

}  // namespace
}  // namespace agentstream::notify
