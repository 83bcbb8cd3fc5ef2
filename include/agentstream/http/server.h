// The monitor's HTTP server: JSON API, Prometheus `/metrics`, liveness and readiness. It only
// reads the monitor's snapshots (never Kafka), on its own threads.
#pragma once

#include <agentstream/monitor/monitor.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace agentstream::http {

struct ServerOptions {
    std::string host = "127.0.0.1";
    int port = 8686;  ///< 0: any free port (see Server::port())
    /// When set, every request but /healthz and /readyz needs `Authorization: Bearer TOKEN`.
    std::string token;
    /// Requests with a larger body are refused with 413.
    std::size_t max_body_bytes = 64 * 1024;
    /// /healthz fails when the monitor has not ticked for this long.
    std::chrono::seconds max_tick_age{10};
    /// Concurrent `/events` streams; more get 503.
    int max_streams = 16;
    /// A request's head and body must have arrived this long after the connection opened (or
    /// the previous response on it finished); else the connection is closed. Slow clients hold
    /// a socket each, never a thread.
    std::chrono::milliseconds request_timeout{10'000};
    /// Open connections at most; more are accepted and closed at once.
    int max_connections = 512;
};

/// Routes: GET /healthz, /readyz, /metrics, /api/dashboard, /api/alerts, /api/routes,
/// /api/processors, /api/agents, /api/history, /events (Server-Sent Events) and the dashboard
/// page `/` with its assets. Unknown paths 404, other methods 405, bad tokens 401 (the token
/// comes as `Authorization: Bearer T` or, for the page and its event stream, `?access_token=T`).
class Server {
  public:
    /// Binds at once; throws std::runtime_error naming host and port when it cannot.
    Server(ServerOptions options, const monitor::RealTimeMonitor& monitor);
    ~Server();  ///< stops and joins
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    /// The bound port (useful with port 0).
    int port() const noexcept;
    std::string url() const;
    /// Connections closed because their request did not arrive within request_timeout.
    std::uint64_t slow_requests_closed() const noexcept;

  private:
    struct Impl;
    std::unique_ptr<Impl> _impl;
};

}  // namespace agentstream::http
