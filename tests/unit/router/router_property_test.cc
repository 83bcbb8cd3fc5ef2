// Property tests for the router: random route tables (written as pipeline files, so through the
// loader) over random valid events. The router's decisions are compared with a model written
// here from the documented rules (docs/routing.md): a route takes an event from one of its
// sources whose type matches one of its patterns and whose priority passes its filter; routes
// fire highest priority first (declaration order between equals); fanout serves each target
// topic once, from its highest route; first_match fires the first route only. Every delivered
// event is valid, and a delivery from a route without transformations is the input's bytes.
#include <agentstream/event/codec.h>
#include <agentstream/event/types.h>

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "support/sample_events.h"
#include "unit/router/router_test_support.h"

namespace agentstream::router {
namespace {

const std::vector<std::string> SOURCES = {"in", "other_in"};
const std::vector<std::string> TARGETS = {"out", "out2", "alerts"};
const std::vector<std::string> PRIORITIES = {"low", "medium", "high", "critical"};
const std::vector<std::string> PATTERNS = {"*",       "task.*",       "document.*",
                                           "agent.*", "task.created", "analytics.metric.update"};

struct RouteModel {
    std::string name;
    std::vector<std::string> sources, targets, patterns;
    std::vector<std::string> priorities;  // empty: no filter
    int priority = 0;
    int transformations = 0;  // add_field steps (each adds its own top-level field)
    bool enabled = true;
};

bool type_matches(const std::string& pattern, const std::string& type) {
    if (pattern == "*") {
        return true;
    }
    if (pattern.ends_with(".*")) {
        return type.starts_with(pattern.substr(0, pattern.size() - 1));
    }
    return pattern == type;
}

template <class T>
rc::Gen<std::vector<T>> non_empty_subset(const std::vector<T>& all) {
    return rc::gen::suchThat(rc::gen::container<std::vector<T>>(rc::gen::elementOf(all)),
                             [](const std::vector<T>& v) { return !v.empty(); });
}

rc::Gen<RouteModel> route_model() {
    return rc::gen::build<RouteModel>(
        rc::gen::set(&RouteModel::sources, non_empty_subset(SOURCES)),
        rc::gen::set(&RouteModel::targets, non_empty_subset(TARGETS)),
        rc::gen::set(&RouteModel::patterns, non_empty_subset(PATTERNS)),
        rc::gen::set(&RouteModel::priorities,
                     rc::gen::container<std::vector<std::string>>(rc::gen::elementOf(PRIORITIES))),
        rc::gen::set(&RouteModel::priority, rc::gen::inRange(0, 4)),
        rc::gen::set(&RouteModel::transformations, rc::gen::inRange(0, 3)),
        rc::gen::set(&RouteModel::enabled,
                     rc::gen::weightedElement<bool>({{9, true}, {1, false}})));
}

std::string list(const std::vector<std::string>& v) {
    std::string out = "[";
    for (std::size_t i = 0; i < v.size(); ++i) {
        out += (i ? ", '" : "'") + v[i] + "'";
    }
    return out + "]";
}

std::string pipeline(const std::vector<RouteModel>& routes, bool fanout) {
    std::string yaml =
        std::string("routing: {mode: ") + (fanout ? "fanout" : "first_match") + "}\nroutes:\n";
    for (const auto& r : routes) {
        yaml += "  - name: " + r.name + "\n    source_topics: " + list(r.sources) +
                "\n    target_topics: " + list(r.targets) +
                "\n    event_types: " + list(r.patterns) +
                "\n    priority: " + std::to_string(r.priority) +
                "\n    enabled: " + (r.enabled ? "true" : "false") + "\n";
        if (!r.priorities.empty()) {
            yaml += "    filters: {priority: {in: " + list(r.priorities) + "}}\n";
        }
        if (r.transformations > 0) {
            yaml += "    transformations:\n";
            for (int t = 0; t < r.transformations; ++t) {
                yaml += "      - add_field: {path: " + r.name + "_" + std::to_string(t) +
                        ", value: " + std::to_string(t) + "}\n";
            }
        }
    }
    return yaml;
}

// A valid event of a random type and priority, as its wire JSON.
rc::Gen<std::string> event_json() {
    return rc::gen::map(
        rc::gen::pair(rc::gen::inRange<std::size_t>(0, event::all_event_types().size()),
                      rc::gen::elementOf(PRIORITIES)),
        [](const std::pair<std::size_t, std::string>& p) {
            auto j = nlohmann::json::parse(
                agentstream::testing::minimal_json(event::all_event_types()[p.first]));
            j["priority"] = p.second;
            return j.dump();
        });
}

RC_GTEST_PROP(RouterProperties, RoutesAsTheModelSaysKeepsEventsValidAndForwardsOriginalBytes, ()) {
    auto models = *rc::gen::resize(
        8, rc::gen::nonEmpty(rc::gen::container<std::vector<RouteModel>>(route_model())));
    for (std::size_t i = 0; i < models.size(); ++i) {
        models[i].name = "r" + std::to_string(i);
    }
    bool fanout = *rc::gen::arbitrary<bool>();
    auto router = testing::router_from(pipeline(models, fanout));
    auto json = *event_json();
    auto source = *rc::gen::elementOf(SOURCES);
    auto input = nlohmann::json::parse(json);
    std::string type = input["event_type"];
    std::string priority = input["priority"];

    // The model: matching routes by priority (stable), then the mode's rule.
    std::vector<std::size_t> order(models.size());
    for (std::size_t i = 0; i < order.size(); ++i) {
        order[i] = i;
    }
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        return models[a].priority > models[b].priority;
    });
    std::vector<std::pair<std::string, std::string>> expected;  // (route, topic)
    std::set<std::string> served;
    for (auto i : order) {
        const auto& m = models[i];
        bool takes =
            m.enabled && std::find(m.sources.begin(), m.sources.end(), source) != m.sources.end() &&
            std::any_of(m.patterns.begin(), m.patterns.end(),
                        [&](const std::string& p) { return type_matches(p, type); }) &&
            (m.priorities.empty() ||
             std::find(m.priorities.begin(), m.priorities.end(), priority) != m.priorities.end());
        if (!takes) {
            continue;
        }
        std::set<std::string> targets(m.targets.begin(), m.targets.end());
        for (const auto& t : targets) {
            if (served.insert(t).second) {
                expected.emplace_back(m.name, t);
            }
        }
        if (!fanout) {
            break;
        }
    }

    Routing out;
    router->route(source, "k", json, out);
    RC_ASSERT(!out.error);
    std::vector<std::pair<std::string, std::string>> got;
    for (const auto& d : out.deliveries) {
        RC_ASSERT(d.route != Delivery::NO_ROUTE);
        const auto& route = router->routes().at(d.route);
        got.emplace_back(route.name, std::string(d.topic));
        const auto& model = *std::find_if(models.begin(), models.end(), [&](const RouteModel& m) {
            return m.name == route.name;
        });
        if (model.transformations == 0) {
            // Nothing transforms: the input's bytes, as they are.
            RC_ASSERT(d.value == Delivery::ORIGINAL);
            continue;
        }
        RC_ASSERT(d.value != Delivery::ORIGINAL);
        const auto& value = out.values.at(d.value);
        RC_ASSERT(event::check(value).ok());
        // The input with exactly this route's fields added.
        auto want = input;
        for (int t = 0; t < model.transformations; ++t) {
            want[model.name + "_" + std::to_string(t)] = t;
        }
        RC_ASSERT(nlohmann::json::parse(value) == want);
    }
    std::sort(got.begin(), got.end());
    std::sort(expected.begin(), expected.end());
    RC_ASSERT(got == expected);
    RC_ASSERT(out.unmatched == expected.empty());
}

}  // namespace
}  // namespace agentstream::router
