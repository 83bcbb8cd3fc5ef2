// libFuzzer target: raw bytes sent as an HTTP request to the monitor's server (the one `run`
// starts, with a token), over loopback, in this process (so the server's threads give the
// fuzzer its coverage). Whatever arrives, the server answers with a status line or closes; it
// never answers 500 (a handler that threw), and never 200 for a path that needs the token when
// the request does not carry it.
#include <agentstream/http/server.h>
#include <agentstream/monitor/monitor.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

namespace {
constexpr std::string_view TOKEN = "s3cret";

struct Fixture {
    agentstream::monitor::RealTimeMonitor monitor{std::vector<agentstream::monitor::AlertRule>{}};
    std::unique_ptr<agentstream::http::Server> server;
    Fixture() {
        monitor.tick(agentstream::monitor::Clock::now(), {});
        agentstream::http::ServerOptions o;
        o.port = 0;
        o.token = std::string(TOKEN);
        o.max_streams = 2;
        server = std::make_unique<agentstream::http::Server>(o, monitor);
    }
};

[[noreturn]] void fail(const std::string& what, std::string_view input, const std::string& reply) {
    std::fprintf(stderr, "http_request_fuzz: %s\nrequest: %.*s\nreply: %.300s\n", what.c_str(),
                 static_cast<int>(input.size()), input.data(), reply.c_str());
    std::abort();
}

std::string exchange(int port, std::string_view request) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    timeval timeout{0, 200'000};  // an event stream stays open: read what it sent in 200 ms
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    std::string reply;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
        std::size_t sent = 0;
        while (sent < request.size()) {
            auto n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
            if (n <= 0) {
                break;
            }
            sent += static_cast<std::size_t>(n);
        }
        ::shutdown(fd, SHUT_WR);
        char buf[4096];
        while (reply.size() < (1 << 20)) {
            auto n = ::recv(fd, buf, sizeof buf, 0);
            if (n <= 0) {
                break;
            }
            reply.append(buf, static_cast<std::size_t>(n));
        }
    }
    ::close(fd);
    return reply;
}

// The path of the request line, or "" when it cannot be told (percent-encoded included).
std::string plain_path(std::string_view request) {
    auto line = request.substr(0, request.find('\n'));
    auto a = line.find(' ');
    if (a == std::string_view::npos) {
        return "";
    }
    auto rest = line.substr(a + 1);
    auto path = rest.substr(0, rest.find_first_of(" ?\r#"));
    if (path.find('%') != std::string_view::npos || path.find('\0') != std::string_view::npos) {
        return "";
    }
    return std::string(path);
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static Fixture fixture;
    std::string_view request(reinterpret_cast<const char*>(data), size);
    auto reply = exchange(fixture.server->port(), request);
    if (reply.empty()) {
        return 0;  // closed without an answer (e.g. nothing that looks like a request)
    }
    if (reply.rfind("HTTP/1.1 ", 0) != 0 || reply.size() < 12) {
        fail("not a status line", request, reply);
    }
    auto status = reply.substr(9, 3);
    if (status == "500") {
        fail("500: a handler threw", request, reply);
    }
    if (status == "200" && request.find(TOKEN) == std::string_view::npos) {
        auto path = plain_path(request);
        bool public_path = path.empty() || path == "/healthz" || path == "/readyz" || path == "/" ||
                           path.rfind("/assets/", 0) == 0;
        if (!public_path) {
            fail("200 without the token for " + path, request, reply);
        }
    }
    return 0;
}
