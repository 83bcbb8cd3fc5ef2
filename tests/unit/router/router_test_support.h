// Builds routers from pipeline-file text for the router unit tests.
#pragma once

#include <agentstream/config/config.h>
#include <agentstream/router/router.h>

#include <memory>
#include <string>

namespace agentstream::router::testing {

/// Topics every test pipeline declares.
inline constexpr const char* TOPICS = R"(topics:
  in: 1
  other_in: 1
  out: 1
  out2: 1
  alerts: 1
  unrouted: 1
)";

inline std::unique_ptr<Router> router_from(const std::string& yaml) {
    auto config = config::Config::parse(std::string(TOPICS) + yaml, "test.yaml");
    return std::make_unique<Router>(load_routes(config));
}

/// A router with one route from `in` to `out` that has `filters_yaml` (indented by 6 spaces).
inline std::unique_ptr<Router> filter_router(const std::string& filters_yaml) {
    return router_from(
        "routes:\n  - name: r\n    source_topics: [in]\n    target_topics: [out]\n"
        "    filters:\n" +
        filters_yaml);
}

/// Whether the one-route router built by filter_router() takes `json`.
inline bool passes(const Router& router, const std::string& json) {
    Routing out;
    router.route("in", "k", json, out);
    return !out.matched.empty();
}

}  // namespace agentstream::router::testing
