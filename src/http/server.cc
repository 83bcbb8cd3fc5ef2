// The monitor's HTTP server on GNU libmicrohttpd: one event loop (epoll) holds every connection,
// so a client that sends its request slowly costs a socket and a small buffer, never a thread,
// and the probes stay answerable beside hundreds of them. Requests are small GETs answered from
// the monitor's snapshots on the loop's threads; `/events` streams are parked (suspended) between
// monitor ticks and fed by one thread of ours, which also closes connections whose request has
// not arrived within ServerOptions::request_timeout (libmicrohttpd's own timeout is for
// inactivity, which a client sending a header line every few seconds never reaches).
#include <agentstream/http/server.h>

#include <arpa/inet.h>
#include <fmt/format.h>
#include <microhttpd.h>
#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdarg>
#include <cstring>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "http/assets.h"
#include "internal/log.h"

namespace agentstream::http {
namespace {

using Clock = std::chrono::steady_clock;

// One accepted connection (libmicrohttpd's socket context), from accept to close.
struct Connection {
    int fd = -1;
    Clock::time_point since;  // accepted, or the previous response on it finished
    bool reading = true;      // its request (head and body) has not all arrived yet
    bool cut = false;         // shut down for being too slow
};

// One `/events` stream. Its content reader runs on the event loop; the feeder appends to
// `pending` and resumes the connection when it was parked for want of data.
struct Stream {
    MHD_Connection* connection = nullptr;
    std::mutex mutex;
    std::string pending;
    std::uint64_t sequence = 0;  // the monitor update it has been sent up to
    Clock::time_point last_write = Clock::now();
    bool suspended = false;
    bool closed = false;    // libmicrohttpd freed the response: never touch `connection` again
    bool overflow = false;  // the client stopped reading: end it
};

// A stream whose client has not read this much is ended (the page reconnects and starts over).
constexpr std::size_t MAX_PENDING_STREAM_BYTES = 4 * 1024 * 1024;

// Compares in time that depends on the lengths only, not on where the first difference is.
bool same_secret(std::string_view given, std::string_view secret) {
    unsigned char diff = given.size() == secret.size() ? 0 : 1;
    for (std::size_t i = 0; i < given.size(); ++i) {
        diff |= static_cast<unsigned char>(given[i]) ^
                static_cast<unsigned char>(secret.empty() ? 0 : secret[i % secret.size()]);
    }
    return diff == 0;
}

std::string_view value_of(MHD_Connection* c, MHD_ValueKind kind, const char* name) {
    const char* v = MHD_lookup_connection_value(c, kind, name);
    return v == nullptr ? std::string_view() : std::string_view(v);
}

// A reply being built: status, content type, headers, body.
struct Reply {
    unsigned status = 200;
    std::string content_type = "application/json";
    std::vector<std::pair<const char*, std::string>> headers;
    std::string body;
    std::string_view static_body;  // used instead of `body` when set (embedded assets)
    bool close = false;

    void json(std::string text) {
        headers.emplace_back("Cache-Control", "no-store");
        body = std::move(text);
    }
    void error(unsigned code, std::string_view message) {
        status = code;
        content_type = "application/json";
        body = fmt::format("{{\"error\":\"{}\"}}\n", message);
    }
};

MHD_Result send_reply(MHD_Connection* connection, const Reply& reply) {
    MHD_Response* response =
        reply.static_body.empty()
            ? MHD_create_response_from_buffer(
                  reply.body.size(), const_cast<char*>(reply.body.data()), MHD_RESPMEM_MUST_COPY)
            : MHD_create_response_from_buffer(reply.static_body.size(),
                                              const_cast<char*>(reply.static_body.data()),
                                              MHD_RESPMEM_PERSISTENT);
    if (response == nullptr) {
        return MHD_NO;
    }
    MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, reply.content_type.c_str());
    for (const auto& [name, value] : reply.headers) {
        MHD_add_response_header(response, name, value.c_str());
    }
    if (reply.close) {
        MHD_add_response_header(response, MHD_HTTP_HEADER_CONNECTION, "close");
    }
    auto result = MHD_queue_response(connection, reply.status, response);
    MHD_destroy_response(response);
    return result;
}

void add_page_headers(Reply& reply) {
    reply.headers.emplace_back("Cache-Control", "no-cache");
    reply.headers.emplace_back("X-Content-Type-Options", "nosniff");
    reply.headers.emplace_back("Content-Security-Policy",
                               "default-src 'self'; style-src 'self'; script-src 'self'; "
                               "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'");
    reply.headers.emplace_back("X-Frame-Options", "DENY");
}

constexpr std::string_view KNOWN_PATHS[] = {"/healthz",
                                            "/readyz",
                                            "/metrics",
                                            "/api/dashboard",
                                            "/api/alerts",
                                            "/api/routes",
                                            "/api/processors",
                                            "/api/agents",
                                            "/api/history",
                                            "/events",
                                            "/"};

}  // namespace

struct Server::Impl {
    ServerOptions options;
    const monitor::RealTimeMonitor& monitor;
    MHD_Daemon* daemon = nullptr;
    int port = 0;
    std::atomic<bool> stopping{false};

    std::mutex connections_mutex;
    std::set<Connection*> connections;

    std::mutex streams_mutex;
    std::vector<std::shared_ptr<Stream>> streams;
    std::atomic<int> open_streams{0};
    std::thread feeder;
    std::atomic<std::uint64_t> slow_requests_closed{0};
    Clock::time_point last_limit_warning{};

    Impl(ServerOptions o, const monitor::RealTimeMonitor& m) : options(std::move(o)), monitor(m) {}

    // ---- connections and their request deadline ----

    static void on_connection(void* cls, MHD_Connection* connection, void** context,
                              MHD_ConnectionNotificationCode code) {
        auto& impl = *static_cast<Impl*>(cls);
        if (code == MHD_CONNECTION_NOTIFY_STARTED) {
            auto* c = new Connection;
            const auto* info =
                MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
            c->fd = info != nullptr ? info->connect_fd : -1;
            c->since = Clock::now();
            *context = c;
            std::lock_guard lock(impl.connections_mutex);
            impl.connections.insert(c);
        } else if (*context != nullptr) {
            // Called before libmicrohttpd closes the socket: once it is out of the set, the feeder
            // never touches its descriptor (which may then be reused).
            auto* c = static_cast<Connection*>(*context);
            {
                std::lock_guard lock(impl.connections_mutex);
                impl.connections.erase(c);
            }
            delete c;
            *context = nullptr;
        }
    }

    Connection* connection_of(MHD_Connection* connection) {
        const auto* info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
        return info != nullptr ? static_cast<Connection*>(info->socket_context) : nullptr;
    }

    void mark(MHD_Connection* connection, bool reading) {
        if (auto* c = connection_of(connection)) {
            std::lock_guard lock(connections_mutex);
            c->reading = reading;
            c->since = Clock::now();
        }
    }

    static void on_completed(void* cls, MHD_Connection* connection, void** request,
                             MHD_RequestTerminationCode) {
        // The next request on a kept-alive connection has its own deadline from now.
        static_cast<Impl*>(cls)->mark(connection, true);
        delete static_cast<std::size_t*>(*request);
        *request = nullptr;
    }

    // Shuts down (does not close: libmicrohttpd owns the descriptor) every connection whose
    // request has been arriving for longer than the deadline; libmicrohttpd then sees the end of
    // the stream and closes it.
    void cut_slow_requests(Clock::time_point now) {
        std::lock_guard lock(connections_mutex);
        for (auto* c : connections) {
            if (c->reading && !c->cut && c->fd >= 0 && now - c->since > options.request_timeout) {
                c->cut = true;
                // Counted before the shutdown: a client that sees its connection end sees it
                // counted (the test of the deadline reads the count right after the last close).
                slow_requests_closed.fetch_add(1, std::memory_order_release);
                ::shutdown(c->fd, SHUT_RDWR);
            }
        }
    }

    static void log_message(void* cls, const char* format, va_list ap) {
        auto& impl = *static_cast<Impl*>(cls);
        char text[512];
        std::vsnprintf(text, sizeof text, format, ap);
        std::string_view message(text);
        while (!message.empty() && message.back() == '\n') {
            message.remove_suffix(1);
        }
        // A client can make libmicrohttpd say things as fast as it connects: connection-limit
        // warnings are kept to one in 10 s, the rest is debug output.
        if (message.find("limit") != std::string_view::npos) {
            auto now = Clock::now();
            std::lock_guard lock(impl.connections_mutex);
            if (now - impl.last_limit_warning < std::chrono::seconds(10)) {
                return;
            }
            impl.last_limit_warning = now;
            logger("http")->warn("{}", message);
            return;
        }
        logger("http")->debug("{}", message);
    }

    // ---- requests ----

    static MHD_Result on_request(void* cls, MHD_Connection* connection, const char* url,
                                 const char* method, const char*, const char*,
                                 std::size_t* upload_size, void** request) {
        auto& impl = *static_cast<Impl*>(cls);
        std::string_view path(url == nullptr ? "" : url);
        std::string_view verb(method == nullptr ? "" : method);
        if (*request == nullptr) {
            *request = new std::size_t(0);  // body bytes seen; the first call: the head is in
            // Every endpoint is GET: a body is never read. One over the limit is refused as
            // the documentation says; a smaller one is discarded as it arrives.
            auto length = value_of(connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
            if (!length.empty() && std::strtoull(std::string(length).c_str(), nullptr, 10) >
                                       impl.options.max_body_bytes) {
                impl.mark(connection, false);
                Reply reply;
                reply.error(413, "request body too large");
                reply.close = true;
                return send_reply(connection, reply);
            }
            return MHD_YES;
        }
        auto& body_bytes = *static_cast<std::size_t*>(*request);
        if (*upload_size != 0) {
            body_bytes += *upload_size;  // dropped as they arrive (the deadline bounds them)
            *upload_size = 0;
            return MHD_YES;
        }
        impl.mark(connection, false);
        if (body_bytes > impl.options.max_body_bytes) {  // one without a length (chunked)
            Reply reply;
            reply.error(413, "request body too large");
            reply.close = true;
            return send_reply(connection, reply);
        }
        Reply reply;
        try {
            if (impl.answer(connection, path, verb, reply)) {
                return MHD_YES;  // an event stream was queued
            }
        } catch (const std::exception& e) {
            logger("http")->error("{} {}: {}", verb, path, e.what());
            reply = Reply{};
            reply.error(500, "internal error");
        } catch (...) {
            reply = Reply{};
            reply.error(500, "internal error");
        }
        return send_reply(connection, reply);
    }

    // Fills `reply`, or queues an event stream itself and returns true.
    bool answer(MHD_Connection* connection, std::string_view path, std::string_view verb,
                Reply& reply) {
        bool get = verb == MHD_HTTP_METHOD_GET || verb == MHD_HTTP_METHOD_HEAD;
        bool known = std::find(std::begin(KNOWN_PATHS), std::end(KNOWN_PATHS), path) !=
                     std::end(KNOWN_PATHS);
        const EmbeddedAsset* asset = nullptr;
        for (const auto& a : embedded_assets()) {
            if (a.path == path) {
                asset = &a;
            }
        }
        if (!get) {
            if (known || asset != nullptr) {
                reply.error(405, "only GET");
                reply.headers.emplace_back("Allow", "GET");
            } else {
                reply.error(404, "HTTP 404");
            }
            return false;
        }
        // The page and its scripts hold no data (that comes from /events and /api, which need
        // the token), so they are served without it.
        bool public_path =
            path == "/healthz" || path == "/readyz" || path == "/" || path.starts_with("/assets/");
        if (!public_path && !options.token.empty()) {
            // EventSource cannot set headers: the page passes the token as access_token (RFC
            // 6750 section 2.3), from its own URL.
            auto authorization =
                value_of(connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
            bool bearer = authorization.starts_with("Bearer ") &&
                          same_secret(authorization.substr(7), options.token);
            if (!bearer && !same_secret(value_of(connection, MHD_GET_ARGUMENT_KIND, "access_token"),
                                        options.token)) {
                reply.error(401, "a bearer token is required");
                reply.headers.emplace_back("WWW-Authenticate", "Bearer");
                return false;
            }
        }
        auto now = monitor::Clock::now();
        if (path == "/healthz") {
            bool ok = monitor.live(now, options.max_tick_age);
            reply.status = ok ? 200 : 503;
            reply.content_type = "text/plain";
            reply.body = ok ? "ok\n" : "the monitor has stopped ticking\n";
        } else if (path == "/readyz") {
            bool ok = monitor.ready(now, options.max_tick_age);
            reply.status = ok ? 200 : 503;
            reply.content_type = "text/plain";
            reply.body = ok ? "ready\n" : "not ready:";
            if (!ok) {
                for (const auto& h : monitor.health()) {
                    if (h.status != monitor::HealthStatus::Healthy) {
                        reply.body += fmt::format(" {} {} ({});", h.component, to_string(h.status),
                                                  h.message);
                    }
                }
                reply.body += "\n";
            }
        } else if (path == "/metrics") {
            reply.content_type = "text/plain; version=0.0.4";
            reply.body = monitor.prometheus_text();
        } else if (path == "/api/dashboard") {
            reply.json(monitor.dashboard_json());
        } else if (path == "/api/alerts") {
            reply.json(monitor.alerts_json());
        } else if (path == "/api/routes") {
            reply.json(monitor.routes_json());
        } else if (path == "/api/processors") {
            reply.json(monitor.processors_json());
        } else if (path == "/api/agents") {
            reply.json(monitor.agents_json());
        } else if (path == "/api/history") {
            reply.json(monitor.history_json());
        } else if (path == "/events") {
            return open_stream(connection, reply);
        } else if (asset != nullptr) {
            // The dashboard page and its scripts, compiled into the binary.
            add_page_headers(reply);
            reply.content_type = std::string(asset->mime);
            if (reply.content_type.starts_with("text/")) {
                reply.content_type += "; charset=utf-8";
            }
            reply.static_body = asset->body;
        } else {
            reply.error(404, "HTTP 404");
        }
        return false;
    }

    // ---- /events: Server-Sent Events ----

    // The chart history once, then each tick's snapshot and the alert transitions as they happen.
    bool open_stream(MHD_Connection* connection, Reply& reply) {
        if (open_streams.fetch_add(1) >= options.max_streams) {
            open_streams.fetch_sub(1);
            reply.error(503, "too many open event streams");
            reply.headers.emplace_back("Retry-After", "5");
            return false;
        }
        auto stream = std::make_shared<Stream>();
        stream->connection = connection;
        auto now = monitor.wait_update(0, std::chrono::milliseconds(0));
        stream->sequence = now.sequence;
        stream->pending = "retry: 2000\n\nevent: history\ndata: " + monitor.history_json() + "\n\n";
        append_update(stream->pending, now);
        MHD_Response* response = MHD_create_response_from_callback(
            MHD_SIZE_UNKNOWN, 16 * 1024, &Impl::read_stream, stream.get(), &Impl::free_stream);
        if (response == nullptr) {
            open_streams.fetch_sub(1);
            reply.error(500, "internal error");
            return false;
        }
        {
            // Under the lock the feeder's last pass takes after `stopping` is set: a stream is
            // either seen by that pass (and ended) or refused here.
            std::lock_guard lock(streams_mutex);
            if (stopping.load()) {
                MHD_destroy_response(response);
                open_streams.fetch_sub(1);
                reply.error(503, "stopping");
                return false;
            }
            streams.push_back(stream);
        }
        MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
        MHD_add_response_header(response, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
        MHD_add_response_header(response, "X-Accel-Buffering", "no");
        MHD_queue_response(connection, MHD_HTTP_OK, response);
        MHD_destroy_response(response);
        return true;
    }

    static void append_update(std::string& out, const monitor::MonitorUpdate& update) {
        for (const auto& a : update.alerts) {
            out += fmt::format("event: alert\ndata: {}\n\n", a);
        }
        if (!update.dashboard.empty()) {
            out += fmt::format("id: {}\nevent: snapshot\ndata: {}\n\n", update.sequence,
                               update.dashboard);
        }
    }

    // On the event loop: what is pending, or park the connection until the feeder has more.
    static ssize_t read_stream(void* cls, std::uint64_t, char* buffer, std::size_t max) {
        auto& s = *static_cast<Stream*>(cls);
        std::lock_guard lock(s.mutex);
        if (s.overflow) {
            return MHD_CONTENT_READER_END_WITH_ERROR;
        }
        if (!s.pending.empty()) {
            auto n = std::min(max, s.pending.size());
            std::memcpy(buffer, s.pending.data(), n);
            s.pending.erase(0, n);
            return static_cast<ssize_t>(n);
        }
        if (s.closed) {  // the server is stopping
            return MHD_CONTENT_READER_END_OF_STREAM;
        }
        s.suspended = true;
        MHD_suspend_connection(s.connection);
        return 0;
    }

    static void free_stream(void* cls) {
        auto* s = static_cast<Stream*>(cls);
        std::lock_guard lock(s->mutex);
        s->closed = true;
        s->connection = nullptr;
    }

    // The feeder: waits for monitor updates, hands them to every stream, resumes the parked
    // ones, writes keep-alive comments, ends streams at stop, and enforces request deadlines.
    void feed() {
        std::uint64_t sequence = monitor.wait_update(0, std::chrono::milliseconds(0)).sequence;
        while (!stopping.load()) {
            auto update = monitor.wait_update(sequence, std::chrono::milliseconds(500));
            auto now = Clock::now();
            cut_slow_requests(now);
            std::vector<std::shared_ptr<Stream>> current;
            {
                std::lock_guard lock(streams_mutex);
                std::erase_if(streams, [this](const std::shared_ptr<Stream>& s) {
                    std::lock_guard l(s->mutex);
                    if (s->closed && s->connection == nullptr) {
                        open_streams.fetch_sub(1);
                        return true;
                    }
                    return false;
                });
                current = streams;
            }
            std::string text;
            append_update(text, update);
            for (const auto& s : current) {
                MHD_Connection* resume = nullptr;
                {
                    std::lock_guard lock(s->mutex);
                    if (s->connection == nullptr) {
                        continue;
                    }
                    if (s->sequence < update.sequence) {
                        if (s->sequence == sequence) {
                            s->pending += text;
                        } else {  // opened between two updates: its own share of the news
                            append_update(
                                s->pending,
                                monitor.wait_update(s->sequence, std::chrono::milliseconds(0)));
                        }
                        s->sequence = update.sequence;
                    }
                    if (s->pending.empty() && now - s->last_write >= std::chrono::seconds(15)) {
                        s->pending = ": keep-alive\n\n";  // a comment, so proxies keep it open
                    }
                    if (s->pending.size() > MAX_PENDING_STREAM_BYTES) {
                        s->overflow = true;
                    }
                    if (!s->pending.empty() || s->overflow) {
                        s->last_write = now;
                    }
                    if (s->suspended && (!s->pending.empty() || s->overflow)) {
                        s->suspended = false;
                        resume = s->connection;
                    }
                }
                // Outside the stream's lock; the connection cannot close while it is parked.
                if (resume != nullptr) {
                    MHD_resume_connection(resume);
                }
            }
            sequence = update.sequence;
        }
        // Stopping: every parked stream is resumed to end (libmicrohttpd must not be stopped
        // with parked connections).
        std::lock_guard lock(streams_mutex);
        for (const auto& s : streams) {
            MHD_Connection* resume = nullptr;
            {
                std::lock_guard l(s->mutex);
                if (s->connection == nullptr) {
                    continue;
                }
                s->closed = true;
                if (s->suspended) {
                    s->suspended = false;
                    resume = s->connection;
                }
            }
            if (resume != nullptr) {
                MHD_resume_connection(resume);
            }
        }
    }
};

Server::Server(ServerOptions options, const monitor::RealTimeMonitor& monitor)
    : _impl(std::make_unique<Impl>(std::move(options), monitor)) {
    auto& impl = *_impl;
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    addrinfo* found = nullptr;
    auto service = std::to_string(impl.options.port);
    if (::getaddrinfo(impl.options.host.c_str(), service.c_str(), &hints, &found) == 0 &&
        found != nullptr) {
        unsigned flags =
            MHD_USE_AUTO_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
        if (found->ai_family == AF_INET6) {
            flags |= MHD_USE_IPv6;
        }
        auto timeout = static_cast<unsigned>(
            std::max<std::int64_t>(1, impl.options.request_timeout.count() / 1000) * 3);
        impl.daemon = MHD_start_daemon(
            flags, 0, nullptr, nullptr, &Impl::on_request, &impl, MHD_OPTION_SOCK_ADDR,
            found->ai_addr, MHD_OPTION_LISTENING_ADDRESS_REUSE, 1U, MHD_OPTION_THREAD_POOL_SIZE, 2U,
            MHD_OPTION_CONNECTION_LIMIT, static_cast<unsigned>(impl.options.max_connections),
            // Inactivity (a client that stopped reading what it asked for); slow requests are
            // the feeder's.
            MHD_OPTION_CONNECTION_TIMEOUT, timeout, MHD_OPTION_NOTIFY_CONNECTION,
            &Impl::on_connection, &impl, MHD_OPTION_NOTIFY_COMPLETED, &Impl::on_completed, &impl,
            MHD_OPTION_EXTERNAL_LOGGER, &Impl::log_message, &impl, MHD_OPTION_END);
    }
    if (found != nullptr) {
        ::freeaddrinfo(found);
    }
    if (impl.daemon == nullptr) {
        throw std::runtime_error(fmt::format(
            "cannot listen on {}:{} (in use, or not an address of this machine); choose another "
            "with --http-port or http.port",
            impl.options.host, impl.options.port));
    }
    const auto* info = MHD_get_daemon_info(impl.daemon, MHD_DAEMON_INFO_BIND_PORT);
    impl.port = info != nullptr ? info->port : impl.options.port;
    impl.feeder = std::thread([&impl] { impl.feed(); });
    logger("http")->info("monitor API on {}", url());
}

Server::~Server() {
    auto& impl = *_impl;
    impl.stopping.store(true);
    if (impl.feeder.joinable()) {
        impl.feeder.join();  // resumes every parked stream on its way out
    }
    MHD_stop_daemon(impl.daemon);
}

int Server::port() const noexcept {
    return _impl->port;
}

std::string Server::url() const {
    return fmt::format("http://{}:{}", _impl->options.host, _impl->port);
}

std::uint64_t Server::slow_requests_closed() const noexcept {
    return _impl->slow_requests_closed.load(std::memory_order_acquire);
}

}  // namespace agentstream::http
