// The standard routes built in code route every event exactly as config/pipeline.yaml's routes.
#include <agentstream/config/config.h>
#include <agentstream/event/codec.h>
#include <agentstream/router/predefined.h>
#include <agentstream/router/router.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include "support/sample_events.h"

namespace agentstream::router {
namespace {

using ::testing::ElementsAre;

std::vector<std::string> names(const std::vector<Route>& routes) {
    std::vector<std::string> out;
    for (const auto& r : routes) {
        out.push_back(r.name);
    }
    return out;
}

// What the router did with one event: per delivery its route, topic, key and value, with the
// times transformations stamp (they differ between two calls) taken out.
std::vector<std::string> outcome(const Router& router, std::string_view topic,
                                 const std::string& json) {
    Routing out;
    router.route(topic, "key", json, out);
    std::vector<std::string> rows;
    if (out.error) {
        rows.push_back("error: " + *out.error);
    }
    for (const auto& d : out.deliveries) {
        auto value =
            nlohmann::json::parse(d.value == Delivery::ORIGINAL ? json : out.values.at(d.value));
        value.erase("_transformed_at");
        if (value.contains("_routing")) {
            value["_routing"].erase("routed_at");
        }
        auto key = d.key == Delivery::ORIGINAL ? std::string("key") : out.keys.at(d.key);
        auto route = d.route == Delivery::NO_ROUTE ? std::string("default")
                                                   : router.routes().at(d.route).name;
        rows.push_back(route + " -> " + std::string(d.topic) + " [" + key + "] " + value.dump());
    }
    return rows;
}

TEST(PredefinedRoutes, TheFamiliesMakeTheStandardTableInPriorityOrder) {
    EXPECT_THAT(names(document_processing_routes()),
                ElementsAre("document_to_processing", "processing_to_notifications"));
    EXPECT_THAT(names(analytics_routes()), ElementsAre("all_to_analytics", "analytics_to_alerts"));
    EXPECT_THAT(names(agent_monitoring_routes()),
                ElementsAre("agents_to_monitoring", "agent_errors_to_alerts"));
    EXPECT_THAT(
        names(PredefinedRoutes::create_all_standard_routes()),
        ElementsAre("agent_errors_to_alerts", "analytics_to_alerts", "agents_to_monitoring",
                    "document_to_processing", "processing_to_notifications", "all_to_analytics"));
}

TEST(PredefinedRoutes, RouteEveryEventAsThePipelineFileDoes) {
    auto file = std::filesystem::path(AGENTSTREAM_SOURCE_DIR) / "config" / "pipeline.yaml";
    auto from_file = load_routes(config::Config::load(file));
    RouteTable in_code;
    in_code.routes = standard_routes();
    Router file_router(std::move(from_file));
    Router code_router(std::move(in_code));
    ASSERT_EQ(names(file_router.routes()), names(code_router.routes()));
    for (std::size_t i = 0; i < code_router.routes().size(); ++i) {
        const auto& a = file_router.routes()[i];
        const auto& b = code_router.routes()[i];
        EXPECT_EQ(a.source_topics, b.source_topics) << a.name;
        EXPECT_EQ(a.target_topics, b.target_topics) << a.name;
        EXPECT_EQ(a.priority, b.priority) << a.name;
        EXPECT_EQ(a.filter.has_value(), b.filter.has_value()) << a.name;
    }

    // Every event type on every topic a route reads, in the variants the filters look at.
    std::vector<std::string> topics = {"documents",     "document_processing", "tasks", "agents",
                                       "notifications", "analytics",           "alerts"};
    int routed = 0;
    for (auto type : event::all_event_types()) {
        for (const char* status : {"", "pending", "processing", "completed"}) {
            for (const char* priority : {"low", "high", "critical"}) {
                auto json = nlohmann::json::parse(agentstream::testing::minimal_json(type));
                json["priority"] = priority;
                if (*status) {
                    json["status"] = status;
                }
                auto text = json.dump();
                for (const auto& topic : topics) {
                    auto expected = outcome(file_router, topic, text);
                    EXPECT_EQ(outcome(code_router, topic, text), expected) << topic << ": " << text;
                    routed += expected.empty() ? 0 : 1;
                }
            }
        }
    }
    EXPECT_GT(routed, 100);  // the comparison saw real deliveries
}

TEST(PredefinedRoutes, ATableBuiltInCodeIsCheckedForLoopsAsAFileIs) {
    RouteTable table;
    table.routes = standard_routes();
    Route back;  // alerts -> documents closes documents -> analytics -> alerts
    back.name = "alerts_back_to_documents";
    back.source_topics = {"alerts"};
    back.target_topics = {"documents"};
    table.routes.push_back(back);
    try {
        Router router(table);
        FAIL() << "a loop was accepted";
    } catch (const std::invalid_argument& e) {
        EXPECT_THAT(e.what(), ::testing::HasSubstr(
                                  "the routes make a loop: alerts -> (alerts_back_to_documents) "
                                  "documents -> (document_to_processing) document_processing -> "
                                  "(processing_to_notifications) notifications -> "
                                  "(all_to_analytics) analytics -> (analytics_to_alerts) alerts"));
    }
    table.allow_cycles = true;  // a deliberate cycle, with its hop limit
    EXPECT_NO_THROW(Router{table});
    table.max_hops = 0;
    EXPECT_THROW(Router{table}, std::invalid_argument);
}

}  // namespace
}  // namespace agentstream::router
