#include <agentstream/core/logging.h>
#include <agentstream/http/server.h>

#include <fmt/format.h>
#include <httplib.h>

#include <stdexcept>
#include <thread>

namespace agentstream::http {

struct Server::Impl {
    ServerOptions options;
    const monitor::RealTimeMonitor& monitor;
    httplib::Server server;
    std::thread thread;
    int port = 0;

    Impl(ServerOptions o, const monitor::RealTimeMonitor& m) : options(std::move(o)), monitor(m) {}
};

namespace {

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
        if (req.path == "/healthz" || req.path == "/readyz" || impl.options.token.empty()) {
            return httplib::Server::HandlerResponse::Unhandled;
        }
        if (req.get_header_value("Authorization") != "Bearer " + impl.options.token) {
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
    // Anything else: 404 for GET, 405 for other methods on known paths.
    for (const char* path : {"/healthz", "/readyz", "/metrics", "/api/dashboard", "/api/alerts",
                             "/api/routes", "/api/processors"}) {
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
    impl.thread = std::thread([&svr] { svr.listen_after_bind(); });
    logger("http")->info("monitor API on {}", url());
}

Server::~Server() {
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
