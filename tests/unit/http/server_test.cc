// The monitor's HTTP server over loopback sockets: slow clients neither hold it up nor stay
// for ever (issue 18, point 8), and it stops at once with event streams open.
#include <agentstream/http/server.h>
#include <agentstream/monitor/monitor.h>

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace agentstream {
namespace {

using namespace std::chrono_literals;

// A connected loopback socket, closed on destruction.
class Socket {
  public:
    explicit Socket(int port) : _fd(::socket(AF_INET, SOCK_STREAM, 0)) {
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(static_cast<std::uint16_t>(port));
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        _connected = ::connect(_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    }
    ~Socket() { ::close(_fd); }
    Socket(const Socket&) = delete;
    Socket& operator=(const Socket&) = delete;

    bool connected() const { return _connected; }
    bool send(std::string_view text) {
        return ::send(_fd, text.data(), text.size(), MSG_NOSIGNAL) ==
               static_cast<ssize_t>(text.size());
    }
    // Reads until `until` is in what arrived, the peer closes, or `timeout` passes.
    std::string read(std::string_view until, std::chrono::milliseconds timeout) {
        auto deadline = std::chrono::steady_clock::now() + timeout;
        while (_received.find(until) == std::string::npos && !_closed) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            if (left <= 0ms) {
                break;
            }
            pollfd p{_fd, POLLIN, 0};
            if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) {
                continue;
            }
            char buffer[4096];
            auto n = ::recv(_fd, buffer, sizeof buffer, 0);
            if (n <= 0) {
                _closed = true;
            } else {
                _received.append(buffer, static_cast<std::size_t>(n));
            }
        }
        return _received;
    }
    // Reads until `needle` arrived `times` times in all, the peer closes, or `timeout` passes.
    std::size_t read_count(std::string_view needle, std::size_t times,
                           std::chrono::milliseconds timeout) {
        auto deadline = std::chrono::steady_clock::now() + timeout;
        while (count(needle) < times && !_closed && std::chrono::steady_clock::now() < deadline) {
            read("\x01never\x02", 50ms);
        }
        return count(needle);
    }
    std::size_t count(std::string_view needle) const {
        std::size_t n = 0;
        for (auto at = _received.find(needle); at != std::string::npos;
             at = _received.find(needle, at + needle.size())) {
            ++n;
        }
        return n;
    }
    bool closed_by_peer(std::chrono::milliseconds timeout) {
        read("\x01never\x02", timeout);
        return _closed;
    }

  private:
    int _fd;
    bool _connected = false;
    bool _closed = false;
    std::string _received;
};

struct Fixture {
    monitor::RealTimeMonitor monitor{std::vector<monitor::AlertRule>{}};
    std::unique_ptr<http::Server> server;
    explicit Fixture(http::ServerOptions o = {}) {
        monitor.tick(monitor::Clock::now(), {});
        o.port = 0;
        server = std::make_unique<http::Server>(o, monitor);
    }
    std::string get(std::string_view path) {
        Socket s(server->port());
        s.send(fmt_request(path));
        return s.read("\r\n", 2s);
    }
    static std::string fmt_request(std::string_view path) {
        return "GET " + std::string(path) + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    }
};

TEST(HttpServer, ProbesAreAnsweredBesideManySlowClientsAndTheSlowOnesAreClosed) {
    http::ServerOptions o;
    o.request_timeout = 3000ms;
    Fixture f(o);
    constexpr int SLOW = 120;  // 24 held every worker of the server before
    std::vector<std::unique_ptr<Socket>> slow;
    for (int i = 0; i < SLOW; ++i) {
        slow.push_back(std::make_unique<Socket>(f.server->port()));
        ASSERT_TRUE(slow.back()->connected());
        ASSERT_TRUE(slow.back()->send("GET /api/dashboard HTTP/1.1\r\nHost: x\r\n"));
    }
    auto opened = std::chrono::steady_clock::now();
    for (int probe = 0; probe < 5; ++probe) {
        for (auto& s : slow) {
            s->send("X-Slow: 1\r\n");  // one more header line: never idle, never finished
        }
        EXPECT_TRUE(f.get("/healthz").starts_with("HTTP/1.1 200")) << "probe " << probe;
        std::this_thread::sleep_for(100ms);
    }
    if (std::chrono::steady_clock::now() - opened < 2s) {
        EXPECT_EQ(f.server->slow_requests_closed(), 0U);  // the probes ran beside all of them
    }
    int closed = 0;
    for (auto& s : slow) {
        closed += s->closed_by_peer(8s) ? 1 : 0;
    }
    EXPECT_EQ(closed, SLOW);
    EXPECT_EQ(f.server->slow_requests_closed(), static_cast<std::uint64_t>(SLOW));
    // A client that never sends a byte is closed too.
    Socket silent(f.server->port());
    EXPECT_TRUE(silent.closed_by_peer(8s));
    EXPECT_TRUE(f.get("/healthz").starts_with("HTTP/1.1 200"));
}

TEST(HttpServer, AKeptAliveConnectionServesRequestsAndIsClosedWhenIdle) {
    http::ServerOptions o;
    o.request_timeout = 1000ms;
    Fixture f(o);
    Socket s(f.server->port());
    for (std::size_t i = 1; i <= 3; ++i) {
        ASSERT_TRUE(s.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
        EXPECT_EQ(s.read_count("HTTP/1.1 200 OK", i, 2s), i);
        std::this_thread::sleep_for(400ms);  // each wait is shorter than the deadline
    }
    EXPECT_TRUE(s.closed_by_peer(4s));  // then idle past it
}

TEST(HttpServer, EventStreamsGetEachTickAndEndWhenTheServerStops) {
    Fixture f;
    std::vector<std::unique_ptr<Socket>> streams;
    for (int i = 0; i < 3; ++i) {
        streams.push_back(std::make_unique<Socket>(f.server->port()));
        ASSERT_TRUE(streams.back()->send(Fixture::fmt_request("/events")));
        auto got = streams.back()->read("event: snapshot", 3s);
        EXPECT_NE(got.find("event: history"), std::string::npos) << got.substr(0, 200);
        EXPECT_NE(got.find("text/event-stream"), std::string::npos);
    }
    // Parked now (nothing to send); a tick wakes each one: its second snapshot (the first came
    // with the stream's start).
    f.monitor.tick(monitor::Clock::now(), {});
    for (auto& s : streams) {
        EXPECT_EQ(s->read_count("event: snapshot", 2, 3s), 2U);
    }
    auto started = std::chrono::steady_clock::now();
    f.server.reset();
    EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
    for (auto& s : streams) {
        EXPECT_TRUE(s->closed_by_peer(3s));
    }
}

TEST(HttpServer, MoreEventStreamsThanAllowedGet503) {
    http::ServerOptions o;
    o.max_streams = 2;
    Fixture f(o);
    Socket a(f.server->port()), b(f.server->port());
    a.send(Fixture::fmt_request("/events"));
    b.send(Fixture::fmt_request("/events"));
    EXPECT_NE(a.read("event: history", 3s).find("200 OK"), std::string::npos);
    EXPECT_NE(b.read("event: history", 3s).find("200 OK"), std::string::npos);
    EXPECT_TRUE(f.get("/events").starts_with("HTTP/1.1 503"));
}

}  // namespace
}  // namespace agentstream
