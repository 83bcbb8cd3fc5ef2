#include <agentstream/core/logging.h>
#include <agentstream/http/server.h>

#include <fmt/format.h>
#include <httplib.h>

#include <atomic>
#include <stdexcept>
#include <thread>

#include "http/assets.h"

namespace agentstream::http {

struct Server::Impl {
    ServerOptions options;
    const monitor::RealTimeMonitor& monitor;
    httplib::Server server;
    std::thread thread;
    int port = 0;
    std::atomic<bool> stopping{false};
    std::atomic<int> streams{0};  // open /events connections

    Impl(ServerOptions o, const monitor::RealTimeMonitor& m) : options(std::move(o)), monitor(m) {}
};

namespace {

// Compares in time that depends on the lengths only, not on where the first difference is.
bool same_secret(std::string_view given, std::string_view secret) {
    unsigned char diff = given.size() == secret.size() ? 0 : 1;
    for (std::size_t i = 0; i < given.size(); ++i) {
        diff |= static_cast<unsigned char>(given[i]) ^
                static_cast<unsigned char>(secret.empty() ? 0 : secret[i % secret.size()]);
    }
    return diff == 0;
}

void json_reply(httplib::Response& res, std::string body) {
    res.set_header("Cache-Control", "no-store");
    res.set_content(std::move(body), "application/json");
}

}  // namespace

Server::Server(ServerOptions options, const monitor::RealTimeMonitor& monitor)
    : _impl(std::make_unique<Impl>(std::move(options), monitor)) {
    auto& impl = *_impl;
    auto& svr = impl.server;
    svr.set_payload_max_length(impl.options.max_body_bytes);
    svr.set_read_timeout(5, 0);
    svr.set_write_timeout(5, 0);
    svr.set_pre_routing_handler([&impl](const httplib::Request& req, httplib::Response& res) {
        // The page and its scripts hold no data (that comes from /events and /api, which need
        // the token), so they are served without it.
        // Every endpoint is GET: a body is never read, and one over the limit is refused as
        // the documentation says (httplib only checks it for methods that carry one).
        if (req.body.size() > impl.options.max_body_bytes ||
            (req.has_header("Content-Length") &&
             std::strtoull(req.get_header_value("Content-Length").c_str(), nullptr, 10) >
                 impl.options.max_body_bytes)) {
            res.status = 413;
            res.set_header("Connection", "close");
            res.set_content("{\"error\":\"request body too large\"}\n", "application/json");
            return httplib::Server::HandlerResponse::Handled;
        }
        bool public_path = req.path == "/healthz" || req.path == "/readyz" || req.path == "/" ||
                           req.path.starts_with("/assets/");
        if (public_path || impl.options.token.empty()) {
            return httplib::Server::HandlerResponse::Unhandled;
        }
        // EventSource cannot set headers: the page passes the token as access_token (RFC 6750
        // section 2.3), from its own URL.
        auto authorization = req.get_header_value("Authorization");
        bool bearer = authorization.starts_with("Bearer ") &&
                      same_secret(std::string_view(authorization).substr(7), impl.options.token);
        if (!bearer && !same_secret(req.get_param_value("access_token"), impl.options.token)) {
            res.status = 401;
            res.set_header("WWW-Authenticate", "Bearer");
            res.set_content("{\"error\":\"a bearer token is required\"}\n", "application/json");
            return httplib::Server::HandlerResponse::Handled;
        }
        return httplib::Server::HandlerResponse::Unhandled;
    });
    svr.Get("/healthz", [&impl](const httplib::Request&, httplib::Response& res) {
        bool ok = impl.monitor.live(monitor::Clock::now(), impl.options.max_tick_age);
        res.status = ok ? 200 : 503;
        res.set_content(ok ? "ok\n" : "the monitor has stopped ticking\n", "text/plain");
    });
    svr.Get("/readyz", [&impl](const httplib::Request&, httplib::Response& res) {
        bool ok = impl.monitor.ready(monitor::Clock::now(), impl.options.max_tick_age);
        std::string body = ok ? "ready\n" : "not ready:";
        if (!ok) {
            for (const auto& h : impl.monitor.health()) {
                if (h.status != monitor::HealthStatus::Healthy) {
                    body +=
                        fmt::format(" {} {} ({});", h.component, to_string(h.status), h.message);
                }
            }
            body += "\n";
        }
        res.status = ok ? 200 : 503;
        res.set_content(body, "text/plain");
    });
    svr.Get("/metrics", [&impl](const httplib::Request&, httplib::Response& res) {
        res.set_content(impl.monitor.prometheus_text(), "text/plain; version=0.0.4");
    });
    svr.Get("/api/dashboard", [&impl](const httplib::Request&, httplib::Response& res) {
        json_reply(res, impl.monitor.dashboard_json());
    });
    svr.Get("/api/alerts", [&impl](const httplib::Request&, httplib::Response& res) {
        json_reply(res, impl.monitor.alerts_json());
    });
    svr.Get("/api/routes", [&impl](const httplib::Request&, httplib::Response& res) {
        json_reply(res, impl.monitor.routes_json());
    });
    svr.Get("/api/processors", [&impl](const httplib::Request&, httplib::Response& res) {
        json_reply(res, impl.monitor.processors_json());
    });
    svr.Get("/api/agents", [&impl](const httplib::Request&, httplib::Response& res) {
        json_reply(res, impl.monitor.agents_json());
    });
    svr.Get("/api/history", [&impl](const httplib::Request&, httplib::Response& res) {
        json_reply(res, impl.monitor.history_json());
    });
    // Server-Sent Events: the chart history once, then each tick's snapshot and the alert
    // transitions as they happen.
    svr.Get("/events", [&impl](const httplib::Request&, httplib::Response& res) {
        if (impl.streams.fetch_add(1) >= impl.options.max_streams) {
            impl.streams.fetch_sub(1);
            res.status = 503;
            res.set_header("Retry-After", "5");
            res.set_content("{\"error\":\"too many open event streams\"}\n", "application/json");
            return;
        }
        res.set_header("Cache-Control", "no-store");
        res.set_header("X-Accel-Buffering", "no");
        struct State {
            std::uint64_t sequence = 0;
            bool started = false;
            monitor::Clock::time_point last_write = monitor::Clock::now();
        };
        auto state = std::make_shared<State>();
        res.set_chunked_content_provider(
            "text/event-stream",
            [&impl, state](std::size_t, httplib::DataSink& sink) {
                if (impl.stopping.load()) {
                    return false;
                }
                std::string out;
                if (!state->started) {
                    state->started = true;
                    out = "retry: 2000\n\nevent: history\ndata: " + impl.monitor.history_json() +
                          "\n\n";
                }
                auto update = impl.monitor.wait_update(state->sequence, std::chrono::seconds(1));
                state->sequence = update.sequence;
                for (const auto& a : update.alerts) {
                    out += fmt::format("event: alert\ndata: {}\n\n", a);
                }
                if (!update.dashboard.empty()) {
                    out += fmt::format("id: {}\nevent: snapshot\ndata: {}\n\n", update.sequence,
                                       update.dashboard);
                }
                auto now = monitor::Clock::now();
                if (out.empty() && now - state->last_write >= std::chrono::seconds(15)) {
                    out = ": keep-alive\n\n";  // a comment, so proxies keep the stream open
                }
                if (out.empty()) {
                    return !impl.stopping.load();
                }
                state->last_write = now;
                return sink.write(out.data(), out.size()) && !impl.stopping.load();
            },
            [&impl](bool) { impl.streams.fetch_sub(1); });
    });
    // The dashboard page and its scripts, compiled into the binary.
    for (const auto& asset : embedded_assets()) {
        svr.Get(std::string(asset.path), [asset](const httplib::Request&, httplib::Response& res) {
            res.set_header("Cache-Control", "no-cache");
            res.set_header("X-Content-Type-Options", "nosniff");
            res.set_header("Content-Security-Policy",
                           "default-src 'self'; style-src 'self'; script-src 'self'; "
                           "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'");
            res.set_header("X-Frame-Options", "DENY");
            auto mime = std::string(asset.mime);
            if (mime.starts_with("text/")) {
                mime += "; charset=utf-8";
            }
            res.set_content(asset.body.data(), asset.body.size(), mime.c_str());
        });
    }
    // Anything else: 404 for GET, 405 for other methods on known paths.
    for (const char* path :
         {"/healthz", "/readyz", "/metrics", "/api/dashboard", "/api/alerts", "/api/routes",
          "/api/processors", "/api/agents", "/api/history", "/events", "/"}) {
        auto refuse = [](const httplib::Request&, httplib::Response& res) {
            res.status = 405;
            res.set_header("Allow", "GET");
            res.set_content("{\"error\":\"only GET\"}\n", "application/json");
        };
        svr.Post(path, refuse);
        svr.Put(path, refuse);
        svr.Delete(path, refuse);
        svr.Patch(path, refuse);
    }
    svr.set_error_handler([](const httplib::Request&, httplib::Response& res) {
        if (res.body.empty()) {
            res.set_content(fmt::format("{{\"error\":\"HTTP {}\"}}\n", res.status),
                            "application/json");
        }
    });
    svr.set_exception_handler(
        [](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
            std::string what = "unknown error";
            try {
                std::rethrow_exception(ep);
            } catch (const std::exception& e) {
                what = e.what();
            } catch (...) {
            }
            logger("http")->error("{} {}: {}", req.method, req.path, what);
            res.status = 500;
            res.set_content("{\"error\":\"internal error\"}\n", "application/json");
        });
    if (impl.options.port == 0) {
        impl.port = svr.bind_to_any_port(impl.options.host);
    } else {
        impl.port = svr.bind_to_port(impl.options.host, impl.options.port) ? impl.options.port : -1;
    }
    if (impl.port <= 0) {
        throw std::runtime_error(fmt::format(
            "cannot listen on {}:{} (in use, or not an address of this machine); choose another "
            "with --http-port or http.port",
            impl.options.host, impl.options.port));
    }
    // Event streams hold a worker each; leave room for the API beside them.
    auto workers = static_cast<std::size_t>(impl.options.max_streams) + 8;
    svr.new_task_queue = [workers] { return new httplib::ThreadPool(workers); };
    impl.thread = std::thread([&svr] { svr.listen_after_bind(); });
    logger("http")->info("monitor API on {}", url());
}

Server::~Server() {
    _impl->stopping.store(true);
    _impl->server.stop();
    if (_impl->thread.joinable()) {
        _impl->thread.join();
    }
}

int Server::port() const noexcept {
    return _impl->port;
}

std::string Server::url() const {
    return fmt::format("http://{}:{}", _impl->options.host, _impl->port);
}

}  // namespace agentstream::http
