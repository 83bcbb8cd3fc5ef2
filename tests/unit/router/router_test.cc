// Routing decisions, transformations, priorities and modes, and pipeline-file errors.
#include <agentstream/config/config.h>
#include <agentstream/core/time.h>
#include <agentstream/event/codec.h>
#include <agentstream/event/factory.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "router/json_doc.h"
#include "unit/router/router_test_support.h"

namespace agentstream::router {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::router_from;

const std::string TASK =
    R"({"event_id":"e1","event_type":"task.created","priority":"medium","task_id":"t1",)"
    R"("task_type":"analysis","status":"pending","metadata":{"team":"a"}})";

std::string output(const Routing& r, std::size_t i, std::string_view original) {
    const auto& d = r.deliveries.at(i);
    return d.value == Delivery::ORIGINAL ? std::string(original) : r.values.at(d.value);
}

std::string transformed(const std::string& transformations, const std::string& json = TASK) {
    auto router = router_from(
        "routes:\n  - name: r\n    source_topics: in\n    target_topics: out\n"
        "    transformations:\n" +
        transformations);
    Routing out;
    router->route("in", "k", json, out);
    if (out.error) {
        return "error: " + *out.error;
    }
    return output(out, 0, json);
}

TEST(JsonDocument, EditsSpliceTheTextAndKeepItValid) {
    detail::JsonDocument doc;
    doc.reset(R"({ "a" : 1 , "b" : {"c":2}, "d":[1,2] })");
    EXPECT_TRUE(doc.set(std::vector<std::string>{"b", "e"}, "3"));
    EXPECT_TRUE(doc.erase(std::vector<std::string>{"a"}));
    EXPECT_TRUE(doc.erase(std::vector<std::string>{"d"}));
    EXPECT_TRUE(doc.set(std::vector<std::string>{"x", "y"}, "\"z\""));
    EXPECT_EQ(doc.text(), R"({ "b" : {"c":2,"e":3},"x":{"y":"z"} })");
    EXPECT_FALSE(doc.set(std::vector<std::string>{"b", "c", "d"}, "1"));  // c is a number
    doc.reset("{}");
    EXPECT_TRUE(doc.set(std::vector<std::string>{"a"}, "1"));
    EXPECT_EQ(doc.text(), R"({"a":1})");
    EXPECT_TRUE(doc.erase(std::vector<std::string>{"a"}));
    EXPECT_EQ(doc.text(), "{}");
}

// The top-level object is indexed only as far as lookups reach: every lookup and edit must
// behave as with the whole index, whatever was scanned before it.
TEST(JsonDocument, LookupsAndEditsOnAPartlyIndexedObject) {
    using Path = std::vector<std::string>;
    const std::string text = R"({"a":1,"b":{"c":"x"},"d":[1,2],"e":"last"})";
    detail::JsonDocument doc;
    detail::JsonValue v;

    doc.reset(text);  // nothing scanned: erase reaches to the next field, not indexed yet
    EXPECT_TRUE(doc.erase(Path{"a"}));
    EXPECT_EQ(doc.text(), R"({"b":{"c":"x"},"d":[1,2],"e":"last"})");

    doc.reset(text);  // "a" scanned; adding a field needs the end of the object
    ASSERT_EQ(doc.find(Path{"a"}, v), detail::Lookup::Found);
    EXPECT_TRUE(doc.set(Path{"z"}, "true"));
    EXPECT_EQ(doc.text(), R"({"a":1,"b":{"c":"x"},"d":[1,2],"e":"last","z":true})");

    doc.reset(text);  // a copy taken after a partial scan sees every field
    ASSERT_EQ(doc.find(Path{"a"}, v), detail::Lookup::Found);
    detail::JsonDocument copy;
    copy.reset(doc);
    ASSERT_EQ(copy.find(Path{"e"}, v), detail::Lookup::Found);
    EXPECT_EQ(v.raw, R"("last")");
    EXPECT_TRUE(copy.erase(Path{"d"}));
    EXPECT_EQ(copy.text(), R"({"a":1,"b":{"c":"x"},"e":"last"})");
    EXPECT_EQ(doc.text(), text);  // the original is untouched
    ASSERT_EQ(doc.find(Path{"b", "c"}, v), detail::Lookup::Found);
    EXPECT_EQ(v.raw, R"("x")");

    // Broken text: a field before the break is found; one after it, or a missing one (which
    // needs the whole object), reports the text as invalid, as do edits that need its end.
    doc.reset(R"({"a":1,"b":,"c":3})");
    EXPECT_EQ(doc.find(Path{"a"}, v), detail::Lookup::Found);
    EXPECT_EQ(doc.find(Path{"c"}, v), detail::Lookup::Invalid);
    EXPECT_EQ(doc.find(Path{"nope"}, v), detail::Lookup::Invalid);
    EXPECT_FALSE(doc.set(Path{"z"}, "1"));
    EXPECT_FALSE(doc.erase(Path{"a"}));
    doc.reset(R"({"a":1,"b":2)");  // never closed
    EXPECT_EQ(doc.find(Path{"b"}, v), detail::Lookup::Invalid);
    EXPECT_EQ(doc.find(Path{"b"}, v), detail::Lookup::Invalid);  // asked again: the same
}

TEST(Router, UntransformedEventsKeepTheirOriginalBytes) {
    auto router = router_from(
        "routes:\n  - name: r\n    source_topics: in\n    target_topics: [out, out2]\n");
    Routing out;
    router->route("in", "k", TASK, out);
    ASSERT_EQ(out.deliveries.size(), 2U);
    EXPECT_EQ(out.deliveries[0].value, Delivery::ORIGINAL);
    EXPECT_EQ(out.deliveries[0].key, Delivery::ORIGINAL);
    EXPECT_EQ(out.deliveries[0].topic, "out");
    EXPECT_EQ(out.deliveries[1].topic, "out2");
    EXPECT_EQ(out.value_count, 0U);
}

TEST(Router, AddField) {
    EXPECT_EQ(transformed("      - add_field: {path: alert_type, value: agent_error}\n"),
              TASK.substr(0, TASK.size() - 1) + R"(,"alert_type":"agent_error"})");
    EXPECT_THAT(transformed("      - add_field: {path: metadata.n, value: 3}\n"),
                HasSubstr(R"("metadata":{"team":"a","n":3})"));
    EXPECT_THAT(transformed("      - add_field: {path: priority, value: high}\n"),
                HasSubstr(R"("priority":"high")"));
    EXPECT_THAT(transformed("      - add_field: {path: x, value: {a: [1, 'b', true]}}\n"),
                HasSubstr(R"("x":{"a":[1,"b",true]})"));
    EXPECT_THAT(transformed("      - add_field: {path: x, value: '5'}\n"), HasSubstr(R"("x":"5")"));
    EXPECT_THAT(transformed("      - add_field: {path: task_id.x, value: 1}\n"),
                HasSubstr("error: route 'r': add_field(task_id.x): 'task_id' is not an object"));
}

TEST(Router, RemoveRenameMapValue) {
    EXPECT_EQ(transformed("      - remove_field: status\n"),
              R"({"event_id":"e1","event_type":"task.created","priority":"medium","task_id":"t1",)"
              R"("task_type":"analysis","metadata":{"team":"a"}})");
    EXPECT_EQ(transformed("      - remove_field: metadata.team\n"),
              TASK.substr(0, TASK.find("\"metadata\"")) + R"("metadata":{}})");
    // Absent: nothing changes, so the original bytes go out.
    EXPECT_EQ(transformed("      - remove_field: nothing\n"), TASK);
    EXPECT_THAT(transformed("      - rename_field: {from: status, to: state}\n"),
                ::testing::AllOf(HasSubstr(R"("state":"pending")"),
                                 ::testing::Not(HasSubstr("\"status\""))));
    EXPECT_THAT(transformed("      - rename_field: {from: metadata.team, to: team}\n"),
                HasSubstr(R"("metadata":{},"team":"a")"));
    EXPECT_EQ(transformed("      - rename_field: {from: nothing, to: x}\n"), TASK);
    EXPECT_THAT(transformed("      - map_value: {path: status, map: {pending: queued}}\n"),
                HasSubstr(R"("status":"queued")"));
    EXPECT_EQ(transformed("      - map_value: {path: status, map: {done: ok}}\n"), TASK);
    EXPECT_THAT(transformed("      - map_value: {path: status, map: {done: ok}, default: other}\n"),
                HasSubstr(R"("status":"other")"));
}

TEST(Router, TimestampsRoutingMetadataAndKeys) {
    auto before = now_utc();
    auto text = transformed("      - add_timestamp\n      - add_routing_metadata\n");
    auto json = std::string_view(text);
    auto at = json.find(R"("_transformed_at":")");
    ASSERT_NE(at, std::string_view::npos) << text;
    auto ts = parse_rfc3339(json.substr(at + 19, 27));
    ASSERT_TRUE(ts);
    EXPECT_GE(*ts + std::chrono::microseconds(1), before);
    EXPECT_THAT(text, HasSubstr(R"("_routing":{"route":"r","dispatcher":"event_dispatcher",)"
                                R"("routed_at":")"));

    auto router = router_from(
        "routes:\n  - name: r\n    source_topics: in\n    target_topics: out\n"
        "    transformations: [{set_key: {path: task_type}}]\n"
        "  - name: s\n    source_topics: in\n    target_topics: out2\n"
        "    transformations: [{set_key: {value: fixed}}]\n");
    Routing out;
    router->route("in", "k", TASK, out);
    ASSERT_EQ(out.deliveries.size(), 2U);
    EXPECT_EQ(out.keys.at(out.deliveries[0].key), "analysis");
    EXPECT_EQ(out.deliveries[0].value, Delivery::ORIGINAL);  // the key changed, not the value
    EXPECT_EQ(out.keys.at(out.deliveries[1].key), "fixed");
    EXPECT_THAT(transformed("      - set_key: nothing\n"), HasSubstr("'nothing' is absent"));
}

TEST(Router, CustomTransformationsFromCodeAndFromFiles) {
    struct Upper final : Transformation {
        std::string describe() const override { return "upper"; }
        Status apply(EventEditor& e) const override {
            auto s = e.get_string(FieldPath("status"));
            if (!s) {
                return failure(Error{"no status"});
            }
            for (auto& c : *s) {
                c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
            }
            return e.set_string(FieldPath("status"), *s);
        }
    };
    register_transformation("upper_status", [](std::string_view args) {
        if (args != "null") {
            throw std::invalid_argument("takes no arguments");
        }
        return std::make_shared<Upper>();
    });
    EXPECT_THAT(transformed("      - upper_status\n"), HasSubstr(R"("status":"PENDING")"));
    EXPECT_THROW(register_transformation("add_field", nullptr), std::invalid_argument);
    try {
        transformed("      - upper_status: 3\n");
        FAIL();
    } catch (const config::ConfigError& e) {
        EXPECT_THAT(e.what(), HasSubstr("upper_status: takes no arguments"));
    }
}

TEST(Router, FanOutFiresEveryMatchInPriorityOrderAndServesATopicOnce) {
    auto router = router_from(
        "routes:\n"
        "  - {name: low, source_topics: in, target_topics: [out, out2], priority: 1}\n"
        "  - {name: high, source_topics: in, target_topics: out, priority: 9,\n"
        "     transformations: [{add_field: {path: by, value: high}}]}\n"
        "  - {name: mid, source_topics: in, target_topics: alerts, priority: 5}\n"
        "  - {name: off, source_topics: in, target_topics: alerts, priority: 99, enabled: "
        "false}\n");
    Routing out;
    router->route("in", "k", TASK, out);
    std::vector<std::string> names;
    for (auto i : out.matched) {
        names.push_back(router->routes()[i].name);
    }
    EXPECT_THAT(names, ElementsAre("high", "mid", "low"));
    ASSERT_EQ(out.deliveries.size(), 3U);
    EXPECT_EQ(out.deliveries[0].topic, "out");  // from high, transformed
    EXPECT_THAT(output(out, 0, TASK), HasSubstr(R"("by":"high")"));
    EXPECT_EQ(out.deliveries[1].topic, "alerts");
    EXPECT_EQ(out.deliveries[2].topic, "out2");  // low's `out` was already served
    auto m = router->metrics();
    EXPECT_EQ(m.routes.back().name, "low");
    EXPECT_EQ(m.routes.back().duplicates_skipped, 1U);
}

TEST(Router, FirstMatchFiresOnlyTheHighestPriorityMatch) {
    auto router = router_from(
        "routing: {mode: first_match}\n"
        "routes:\n"
        "  - {name: a, source_topics: in, target_topics: out, priority: 1}\n"
        "  - {name: b, source_topics: in, target_topics: out2, priority: 7,\n"
        "     filters: {status: done}}\n"
        "  - {name: c, source_topics: in, target_topics: alerts, priority: 5}\n"
        "  - {name: d, source_topics: in, target_topics: unrouted, priority: 5}\n");
    Routing out;
    router->route("in", "k", TASK, out);
    ASSERT_EQ(out.deliveries.size(), 1U);
    EXPECT_EQ(out.deliveries[0].topic, "alerts");  // b filtered out; c before d (file order)
}

// The runtime has read the type while checking the event: the router takes it instead of
// looking for it again (so the type given wins over the text's).
TEST(Router, UsesTheEventTypeTheCallerAlreadyRead) {
    auto router = router_from(
        "routes:\n"
        "  - {name: failed, source_topics: in, target_topics: out, event_types: [task.failed]}\n"
        "  - {name: created, source_topics: in, target_topics: out2,\n"
        "     event_types: [task.created]}\n");
    Routing out;
    router->route("in", "k", TASK, out);
    ASSERT_EQ(out.deliveries.size(), 1U);
    EXPECT_EQ(out.deliveries[0].topic, "out2");
    router->route("in", "k", TASK, out, event::EventType::TaskFailed);
    ASSERT_EQ(out.deliveries.size(), 1U);
    EXPECT_EQ(out.deliveries[0].topic, "out");
    const std::string no_type = R"({"event_id":"e1","priority":"medium"})";
    router->route("in", "k", no_type, out);
    EXPECT_TRUE(out.unmatched);
    router->route("in", "k", no_type, out, event::EventType::TaskCreated);
    ASSERT_EQ(out.deliveries.size(), 1U);
    EXPECT_EQ(out.deliveries[0].topic, "out2");
}

TEST(Router, TypesSourcesAndTheDefaultTopic) {
    auto router = router_from(
        "routing: {default_topic: unrouted}\n"
        "routes:\n"
        "  - {name: docs, source_topics: in, target_topics: out, event_types: ['document.*']}\n"
        "  - {name: tasks, source_topics: [other_in], target_topics: out2,\n"
        "     event_types: [task.created, task.failed]}\n");
    Routing out;
    router->route("in", "k", TASK, out);  // a task on `in`: only docs reads `in`
    EXPECT_TRUE(out.unmatched);
    ASSERT_EQ(out.deliveries.size(), 1U);
    EXPECT_EQ(out.deliveries[0].topic, "unrouted");
    router->route("other_in", "k", TASK, out);
    ASSERT_EQ(out.deliveries.size(), 1U);
    EXPECT_EQ(out.deliveries[0].topic, "out2");
    router->route("nowhere", "k", TASK, out);
    EXPECT_TRUE(out.unmatched);
    auto m = router->metrics();
    EXPECT_EQ(m.events, 3U);
    EXPECT_EQ(m.unmatched, 2U);
    EXPECT_EQ(m.to_default, 2U);
    EXPECT_THAT(router->source_topics(), ElementsAre("in", "other_in"));
    EXPECT_THAT(router->target_topics(), ElementsAre("out", "out2", "unrouted"));
}

TEST(Router, ATransformationErrorFailsTheWholeEvent) {
    auto router = router_from(
        "routes:\n"
        "  - {name: a, source_topics: in, target_topics: out, priority: 2}\n"
        "  - {name: b, source_topics: in, target_topics: out2, priority: 1,\n"
        "     transformations: [{set_key: missing}]}\n");
    Routing out;
    router->route("in", "k", TASK, out);
    EXPECT_TRUE(out.deliveries.empty());
    ASSERT_TRUE(out.error);
    EXPECT_THAT(*out.error, HasSubstr("route 'b': set_key(missing)"));
    EXPECT_EQ(router->metrics().routes[1].transform_errors, 1U);
    EXPECT_EQ(router->metrics().errors, 1U);
}

// --- pipeline-file errors, each with its line ---------------------------------------------

std::string load_error(const std::string& yaml) {
    try {
        router_from(yaml);
    } catch (const config::ConfigError& e) {
        return e.what();
    }
    return "no error";
}

TEST(RouteLoader, RejectsMistakesWithFileAndLine) {
    // Line numbers count the 7 lines of TOPICS first.
    auto route = [](const std::string& extra) {
        return "routes:\n  - name: r\n    source_topics: in\n    target_topics: out\n" + extra;
    };
    EXPECT_EQ(load_error(route("    filters: {n: {near: 1}}\n")),
              "test.yaml:12:19: filters: unknown operator 'near' for 'n'; expected one of eq, ne, "
              "in, not_in, gt, gte, lt, lte, exists, regex, prefix, contains");
    EXPECT_THAT(load_error(route("    filters:\n      s: {regex: 'a(b'}\n")),
                HasSubstr("test.yaml:13:18: filters: 's': invalid regular expression 'a(b': "
                          "missing ): a(b"));
    EXPECT_THAT(
        load_error("routes:\n  - name: r\n    source_topics: in\n    target_topics: nope\n"),
        HasSubstr("test.yaml:11:20: target_topics: topic 'nope' is not declared under "
                  "'topics'"));
    EXPECT_THAT(load_error(route("    filters: {n: {in: 1}}\n")),
                HasSubstr("test.yaml:12:23: filters: 'n' in: expected a list"));
    EXPECT_THAT(load_error(route("    filters: {n: {exists: yes}}\n")),
                HasSubstr("exists takes true or false, not a string"));
    EXPECT_THAT(load_error(route("    event_types: [documents.*]\n")),
                HasSubstr("test.yaml:12:19: event_types:"));
    EXPECT_THAT(load_error(route("    transformations: [{add_fieldd: {path: a, value: 1}}]\n")),
                HasSubstr("test.yaml:12:23: transformations: unknown transformation 'add_fieldd'"));
    EXPECT_THAT(load_error(route("    transformations: [{add_field: {path: a}}]\n")),
                HasSubstr("add_field: 'value' is required"));
    EXPECT_THAT(load_error(route("    priority: high\n")),
                HasSubstr("test.yaml:12:15: priority: expected an integer"));
    EXPECT_THAT(load_error(route("    targets: [out]\n")),
                HasSubstr("test.yaml:12:5: routes: unknown key 'targets'"));
    EXPECT_THAT(load_error("routes:\n  - name: r\n    source_topics: in\n"),
                HasSubstr("test.yaml:9:5: route 'r': target_topics is required"));
    EXPECT_THAT(load_error(route("  - name: r\n    source_topics: in\n    target_topics: out\n")),
                HasSubstr("test.yaml:12:5: route 'r' is defined twice (first on line 9)"));
    EXPECT_THAT(load_error("routing: {default_topic: nope}\nroutes: []\n"),
                HasSubstr("test.yaml:8:26: routing.default_topic: topic 'nope' is not declared"));
    EXPECT_THAT(load_error("routing: {mode: random}\n"),
                HasSubstr("test.yaml:8:17: routing.mode: expected one of fanout, first_match"));
    EXPECT_THAT(load_error(route("    filters: {a..b: 1}\n")),
                HasSubstr("test.yaml:12:15: filters: field path 'a..b' has an empty segment"));
}

TEST(RouteLoader, ThePredefinedPipelineLoadsAndEachRouteCanMatch) {
    auto file = std::filesystem::path(AGENTSTREAM_SOURCE_DIR) / "config" / "pipeline.yaml";
    auto config = config::Config::load(file);
    Router router(load_routes(config));
    std::vector<std::string> names;
    for (const auto& r : router.routes()) {
        names.push_back(r.name);
    }
    EXPECT_THAT(names, ElementsAre("agent_errors_to_alerts", "analytics_to_alerts",
                                   "agents_to_monitoring", "document_to_processing",
                                   "processing_to_notifications", "all_to_analytics"));
    auto fired = [&](std::string_view topic, std::string_view json) {
        Routing out;
        router.route(topic, "k", json, out);
        std::vector<std::string> matched;
        for (auto i : out.matched) {
            matched.push_back(router.routes()[i].name);
        }
        return matched;
    };
    EXPECT_THAT(fired("agents", R"({"event_type":"agent.error","agent_id":"a"})"),
                ElementsAre("agent_errors_to_alerts", "all_to_analytics"));
    EXPECT_THAT(fired("analytics", R"({"event_type":"analytics.metric.update","priority":"high"})"),
                ElementsAre("analytics_to_alerts"));
    EXPECT_THAT(fired("analytics", R"({"event_type":"analytics.metric.update","priority":"low"})"),
                ElementsAre());
    EXPECT_THAT(fired("agents", R"({"event_type":"agent.status.changed","agent_id":"a"})"),
                ElementsAre("agents_to_monitoring", "all_to_analytics"));
    EXPECT_THAT(fired("documents", R"({"event_type":"document.uploaded","document_id":"d"})"),
                ElementsAre("document_to_processing", "all_to_analytics"));
    EXPECT_THAT(fired("document_processing",
                      R"({"event_type":"document.processed","document_id":"d","status":"done"})"),
                ElementsAre("processing_to_notifications"));
    EXPECT_THAT(fired("document_processing",
                      R"({"event_type":"document.processed","status":"processing"})"),
                ElementsAre());
    EXPECT_THAT(fired("tasks", R"({"event_type":"task.created","task_id":"t"})"),
                ElementsAre("all_to_analytics"));
}

}  // namespace
}  // namespace agentstream::router
