// The transport against a real Apache Kafka 4.x broker started by scripts/kafka.sh. The test
// command exports AGENTSTREAM_E2E_BROKERS; without it these tests fail (they never skip).
#include <agentstream/kafka/admin.h>
#include <agentstream/kafka/consumer.h>
#include <agentstream/kafka/producer.h>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include "support/e2e_brokers.h"
#include "support/figures.h"
#include "support/transport_helpers.h"

namespace agentstream {
namespace {

using namespace std::chrono_literals;
using kafka::Admin;
using kafka::Consumer;
using kafka::ConsumerOptions;
using kafka::Producer;
using kafka::ProducerOptions;
using testing::Collector;

std::string brokers() {
    return testing::e2e_brokers();
}

// A topic of its own for each test run, so reruns against one broker never see old data.
std::string fresh_topic(const std::string& base, int partitions) {
    auto name =
        base + "-" + std::to_string(::getpid()) + "-" +
        std::to_string(std::chrono::steady_clock::now().time_since_epoch().count() % 100000);
    Admin admin({.brokers = brokers()});
    admin.create_topic({.name = name, .partitions = partitions});
    // Wait until the new topic's leaders are known.
    for (int i = 0; i < 50; ++i) {
        try {
            auto t = admin.describe_topic(name, false);
            bool led = !t.partitions.empty();
            for (const auto& p : t.partitions) {
                led = led && p.leader >= 0;
            }
            if (led) {
                break;
            }
        } catch (const kafka::KafkaError&) {
        }
        std::this_thread::sleep_for(100ms);
    }
    return name;
}

ConsumerOptions consumer_options(const std::string& group) {
    ConsumerOptions o;
    o.brokers = brokers();
    o.group_id = group;
    o.session_timeout = 10s;
    o.heartbeat_interval = 1s;
    return o;
}

TEST(KafkaE2E, HundredThousandEventsExactlyOnceEachInPerKeyOrder) {
    auto topic = fresh_topic("e2e-100k", 8);
    constexpr int N = 100'000;
    constexpr int KEYS = 500;
    {
        ProducerOptions o;
        o.brokers = brokers();
        Producer producer(o);
        std::vector<std::int64_t> seq(KEYS, 0);
        for (int n = 0; n < N; ++n) {
            int key = n % KEYS;
            ASSERT_TRUE(producer.send(topic, testing::numbered_event(key, n, seq[key]++)).ok());
        }
        ASSERT_TRUE(producer.flush(60s));
        EXPECT_EQ(producer.stats().at(topic).sent, static_cast<std::uint64_t>(N));
    }
    Consumer consumer(consumer_options("e2e-100k-" + topic));
    consumer.subscribe({topic});
    Collector seen;
    testing::consume_until(
        consumer, seen, [&] { return seen.received >= N; }, 120s);
    // Read a little longer: anything extra would be a duplicate.
    testing::consume_until(
        consumer, seen, [] { return false; }, 2s);
    EXPECT_EQ(seen.seen.size(), static_cast<std::size_t>(N));
    EXPECT_EQ(seen.received, static_cast<std::uint64_t>(N));
    EXPECT_EQ(seen.duplicates, 0U);
    EXPECT_EQ(seen.out_of_order, 0U);
    consumer.close();
    // Everything read was committed: the group has no lag.
    Admin admin({.brokers = brokers()});
    for (const auto& lag : admin.group_lag("e2e-100k-" + topic, {topic})) {
        EXPECT_EQ(lag.lag, 0) << lag.topic << "[" << lag.partition << "]";
    }
}

TEST(KafkaE2E, TwoConsumersSplitPartitionsAndTheSurvivorTakesOver) {
    auto topic = fresh_topic("e2e-split", 6);
    constexpr int N = 30'000;
    {
        ProducerOptions o;
        o.brokers = brokers();
        Producer producer(o);
        for (int n = 0; n < N; ++n) {
            ASSERT_TRUE(producer.send(topic, testing::numbered_event(n % 100, n, n / 100)).ok());
        }
        ASSERT_TRUE(producer.flush(30s));
    }
    auto group = "e2e-split-" + topic;
    Consumer a(consumer_options(group));
    Consumer b(consumer_options(group));
    a.subscribe({topic});
    b.subscribe({topic});
    Collector seen_a;
    Collector seen_b;
    auto deadline = std::chrono::steady_clock::now() + 60s;
    while (std::chrono::steady_clock::now() < deadline &&
           (a.assignment().empty() || b.assignment().empty() ||
            a.assignment().size() + b.assignment().size() != 6)) {
        for (auto* pair : {&a, &b}) {
            if (auto m = pair->poll(20ms)) {
                (pair == &a ? seen_a : seen_b).add(*m);
                pair->store_offset(*m);
            }
        }
    }
    ASSERT_FALSE(a.assignment().empty());
    ASSERT_FALSE(b.assignment().empty());
    for (int i = 0; i < 300; ++i) {
        if (auto m = a.poll(5ms)) {
            seen_a.add(*m);
            a.store_offset(*m);
        }
    }
    a.close();
    auto all_seen = [&] {
        std::set<std::int64_t> all = seen_a.seen;
        all.insert(seen_b.seen.begin(), seen_b.seen.end());
        return all.size();
    };
    testing::consume_until(
        b, seen_b, [&] { return all_seen() >= N; }, 90s);
    EXPECT_EQ(all_seen(), static_cast<std::size_t>(N));
    EXPECT_EQ(b.assignment().size(), 6U);
}

// Runs tests/support/tcp_proxy.py in front of the broker's second listener.
class Proxy {
  public:
    Proxy(double drop_every, double drop_for)
        : _count_file(std::filesystem::temp_directory_path() /
                      ("agentstream-proxy-" + std::to_string(::getpid()))) {
        std::filesystem::remove(_count_file);
        int out[2];
        EXPECT_EQ(::pipe(out), 0);
        _pid = ::fork();
        if (_pid == 0) {
            ::dup2(out[1], STDOUT_FILENO);
            ::close(out[0]);
            auto every = std::to_string(drop_every);
            auto span = std::to_string(drop_for);
            ::execl("/usr/bin/python3", "python3", AGENTSTREAM_TCP_PROXY, "--listen", "19095",
                    "--upstream", "127.0.0.1:19094", "--drop-every", every.c_str(), "--drop-for",
                    span.c_str(), "--count-file", _count_file.c_str(), nullptr);
            std::_Exit(127);
        }
        ::close(out[1]);
        // Until its "ready" line (retrying interrupted reads). The pipe stays open while the
        // proxy runs: closing it early would kill the proxy at its next write.
        _out = out[0];
        std::string seen;
        char buf[64];
        while (seen.find("ready\n") == std::string::npos) {
            auto n = ::read(_out, buf, sizeof buf);
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n <= 0) {
                break;
            }
            seen.append(buf, static_cast<std::size_t>(n));
        }
        EXPECT_NE(seen.find("ready\n"), std::string::npos) << "the proxy did not start: " << seen;
    }
    ~Proxy() {
        ::kill(_pid, SIGTERM);
        ::waitpid(_pid, nullptr, 0);
        ::close(_out);
        std::filesystem::remove(_count_file);
    }
    /// Connections the proxy has cut so far.
    int dropped() const {
        std::ifstream in(_count_file);
        int n = 0;
        in >> n;
        return n;
    }

  private:
    std::filesystem::path _count_file;
    pid_t _pid;
    int _out = -1;
};

TEST(KafkaE2E, IdempotentProducerWritesNoDuplicatesThroughConnectionDrops) {
    auto topic = fresh_topic("e2e-idem", 4);
    constexpr int N = 50'000;
    constexpr int KEYS = 100;
    auto before = kafka::network_totals();
    Proxy proxy(0.25, 8.0);  // cut every connection every 250 ms for the first 8 s
    {
        ProducerOptions o;
        o.brokers = "127.0.0.1:19095";
        o.linger = 20ms;
        o.batch_messages = 500;  // many requests in flight when connections drop
        o.properties = {{"socket.timeout.ms", "3000"},
                        {"reconnect.backoff.ms", "20"},
                        {"reconnect.backoff.max.ms", "100"}};  // back at once after a cut
        Producer producer(o);
        std::vector<std::int64_t> seq(KEYS, 0);
        for (int n = 0; n < N; ++n) {
            int key = n % KEYS;
            ASSERT_TRUE(producer.send(topic, testing::numbered_event(key, n, seq[key]++)).ok());
            if (n % 250 == 0) {
                // Spread the sends over the drop period, so that requests are in flight at
                // most of the cuts.
                std::this_thread::sleep_for(25ms);
            }
        }
        ASSERT_TRUE(producer.flush(120s));
        auto stats = producer.stats().at(topic);
        EXPECT_EQ(stats.sent, static_cast<std::uint64_t>(N));
        EXPECT_EQ(stats.failed, 0U);
        // The fault happened: connections were cut while the producer had records in flight,
        // and it sent them again (librdkafka's statistics, emitted every second: records put
        // into produce requests, more than were acknowledged).
        EXPECT_GT(proxy.dropped(), 0) << "the proxy cut no connection";
        auto transmitted = [&] {
            return kafka::network_totals().records_transmitted - before.records_transmitted;
        };
        auto deadline = std::chrono::steady_clock::now() + 5s;
        while (transmitted() <= static_cast<std::uint64_t>(N) &&
               std::chrono::steady_clock::now() < deadline) {
            producer.flush(100ms);
        }
        auto after = kafka::network_totals();
        EXPECT_GT(after.disconnects, before.disconnects) << "the producer saw no disconnect";
        EXPECT_GT(transmitted(), static_cast<std::uint64_t>(N)) << "the producer resent nothing";
        testing::figure(
            "connections cut every 250 ms for 8 s (idempotent producer, real Kafka)",
            fmt::format("{} events, {} connections cut, {} disconnects seen, {} records "
                        "resent",
                        N, proxy.dropped(), after.disconnects - before.disconnects,
                        transmitted() - N));
    }
    Consumer consumer(consumer_options("e2e-idem-" + topic));
    consumer.subscribe({topic});
    Collector seen;
    testing::consume_until(
        consumer, seen, [&] { return seen.received >= N; }, 120s);
    testing::consume_until(
        consumer, seen, [] { return false; }, 2s);
    EXPECT_EQ(seen.seen.size(), static_cast<std::size_t>(N));
    EXPECT_EQ(seen.duplicates, 0U) << "idempotence did not hold";
    EXPECT_EQ(seen.received, static_cast<std::uint64_t>(N));
    EXPECT_EQ(seen.out_of_order, 0U);
    testing::figure(
        "... after the cuts: received, lost, duplicates, out of order",
        fmt::format("{} received, {} lost, {} duplicates, {} out of order", seen.received,
                    N - static_cast<int>(seen.seen.size()), seen.duplicates, seen.out_of_order));
}

TEST(KafkaE2E, AdminManagesTopicsAndReportsGroupLag) {
    Admin admin({.brokers = brokers()});
    auto name = fresh_topic("e2e-admin", 2);
    auto info = admin.describe_topic(name);
    EXPECT_EQ(info.partitions.size(), 2U);
    EXPECT_EQ(info.replication_factor(), 1);
    EXPECT_EQ(info.configs.at("cleanup.policy"), "delete");
    admin.create_partitions(name, 5);
    std::this_thread::sleep_for(500ms);
    EXPECT_EQ(admin.describe_topic(name, false).partitions.size(), 5U);
    EXPECT_FALSE(admin.create_topic({.name = name, .partitions = 1}));  // exists: success
    auto id = admin.cluster_id();
    ASSERT_TRUE(id);
    EXPECT_FALSE(id->starts_with("mockCluster"));
    EXPECT_GE(admin.broker_count(), 1);

    {
        ProducerOptions o;
        o.brokers = brokers();
        Producer producer(o);
        for (int n = 0; n < 30; ++n) {
            ASSERT_TRUE(producer.send(name, "", "{}", {}, {}, 0).ok());
        }
        ASSERT_TRUE(producer.flush(10s));
    }
    {
        auto o = consumer_options("e2e-admin-" + name);
        Consumer c(o);
        c.assign({{name, 0}});
        int read = 0;
        auto deadline = std::chrono::steady_clock::now() + 20s;
        while (read < 10 && std::chrono::steady_clock::now() < deadline) {
            if (auto m = c.poll(100ms)) {
                ++read;
                c.store_offset(*m);
            }
        }
        ASSERT_TRUE(c.commit(true));
    }
    auto lag = admin.group_lag("e2e-admin-" + name, {name});
    ASSERT_EQ(lag.size(), 5U);
    EXPECT_EQ(lag[0].position, 10);
    EXPECT_EQ(lag[0].lag, 20);
    admin.delete_topic(name);
    std::this_thread::sleep_for(500ms);
    EXPECT_THROW(admin.describe_topic(name, false), kafka::KafkaError);
}

}  // namespace
}  // namespace agentstream
