// load_routes(): the `routes` section of a pipeline file → a RouteTable, every mistake reported
// with file and line.
#include <agentstream/router/router.h>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <yaml-cpp/yaml.h>

#include <charconv>
#include <functional>
#include <map>
#include <mutex>
#include <set>

#include "internal/json_escape.h"
#include "internal/yaml_reader.h"

namespace agentstream::router {
namespace {

constexpr std::string_view ROUTE_KEYS[] = {
    "name",    "description",     "source_topics", "target_topics", "event_types",
    "filters", "transformations", "priority",      "enabled"};
constexpr std::string_view BUILT_IN[] = {"add_field", "remove_field",  "rename_field",
                                         "map_value", "add_timestamp", "add_routing_metadata",
                                         "set_key"};

std::map<std::string, TransformationFactory, std::less<>>& custom_transformations() {
    static std::map<std::string, TransformationFactory, std::less<>> registry;
    return registry;
}

// A plain YAML scalar is typed the way YAML 1.2's core schema does; a quoted one is a string.
Scalar scalar_of(const YAML::Node& node) {
    const auto& text = node.Scalar();
    if (node.Tag() == "!") {
        return text;
    }
    if (text.empty() || text == "~" || text == "null" || text == "Null" || text == "NULL") {
        return nullptr;
    }
    if (text == "true" || text == "True" || text == "TRUE") {
        return true;
    }
    if (text == "false" || text == "False" || text == "FALSE") {
        return false;
    }
    double number = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
    if (ec == std::errc() && ptr == text.data() + text.size() &&
        text.find_first_of("0123456789") != std::string::npos && text != "inf" && text != "nan") {
        return number;
    }
    return text;
}

void append_json(std::string& out, const YAML::Node& node) {
    if (node.IsMap()) {
        out.push_back('{');
        bool first = true;
        for (const auto& entry : node) {
            if (!first) {
                out.push_back(',');
            }
            first = false;
            append_json_string(out, entry.first.Scalar());
            out.push_back(':');
            append_json(out, entry.second);
        }
        out.push_back('}');
        return;
    }
    if (node.IsSequence()) {
        out.push_back('[');
        bool first = true;
        for (const auto& item : node) {
            if (!first) {
                out.push_back(',');
            }
            first = false;
            append_json(out, item);
        }
        out.push_back(']');
        return;
    }
    if (!node.IsDefined() || node.IsNull()) {
        out += "null";
        return;
    }
    auto s = scalar_of(node);
    switch (s.index()) {
        case 0: out += "null"; break;
        case 1: out += std::get<bool>(s) ? "true" : "false"; break;
        case 2: {
            double d = std::get<double>(s);
            // Integers keep their integer spelling.
            if (node.Scalar().find_first_of(".eE") == std::string::npos) {
                out += node.Scalar();
            } else {
                out += fmt::format("{}", d);
            }
            break;
        }
        default: append_json_string(out, std::get<std::string>(s)); break;
    }
}

std::string to_json(const YAML::Node& node) {
    std::string out;
    append_json(out, node);
    return out;
}

struct Loader {
    std::string file;
    std::set<std::string, std::less<>> declared_topics;

    [[noreturn]] void fail(const YAML::Node& node, const std::string& message) const {
        auto mark = node.Mark();
        bool known = !mark.is_null();
        throw config::ConfigError(file, known ? mark.line + 1 : 0, known ? mark.column + 1 : 0,
                                  message);
    }

    std::string string_of(const YAML::Node& node, std::string_view what) const {
        if (!node.IsScalar() || node.Scalar().empty()) {
            fail(node, fmt::format("{}: expected a non-empty string", what));
        }
        return node.Scalar();
    }

    std::vector<std::string> topics_of(const YAML::Node& node, std::string_view what) const {
        std::vector<std::string> out;
        auto check = [&](const YAML::Node& item) {
            auto name = string_of(item, what);
            if (!declared_topics.contains(name)) {
                fail(item, fmt::format("{}: topic '{}' is not declared under 'topics'; declare it "
                                       "there (topics: {{{}: 8}})",
                                       what, name, name));
            }
            out.push_back(std::move(name));
        };
        if (node.IsSequence()) {
            if (node.size() == 0) {
                fail(node, fmt::format("{}: expected at least one topic", what));
            }
            for (const auto& item : node) {
                check(item);
            }
        } else {
            check(node);
        }
        return out;
    }

    std::vector<event::TypePattern> types_of(const YAML::Node& node) const {
        std::vector<event::TypePattern> out;
        auto one = [&](const YAML::Node& item) {
            auto text = string_of(item, "event_types");
            try {
                out.emplace_back(text);
            } catch (const std::invalid_argument& e) {
                fail(item, fmt::format("event_types: {}", e.what()));
            }
        };
        if (node.IsSequence()) {
            for (const auto& item : node) {
                one(item);
            }
        } else if (!node.IsNull()) {
            one(node);
        }
        return out;
    }

    Filter predicates_of(const std::string& path, const YAML::Node& ops) const {
        Filter all;
        for (const auto& entry : ops) {
            const auto& name = entry.first.Scalar();
            auto op = parse_op(name);
            if (!op) {
                fail(entry.first,
                     fmt::format("filters: unknown operator '{}' for '{}'; expected one of eq, ne, "
                                 "in, not_in, gt, gte, lt, lte, exists, regex, prefix, contains",
                                 name, path));
            }
            std::vector<Scalar> operands;
            const auto& value = entry.second;
            if (value.IsSequence()) {
                for (const auto& item : value) {
                    if (!item.IsScalar() && !item.IsNull()) {
                        fail(item, fmt::format("filters: '{}' {}: list items must be scalars", path,
                                               name));
                    }
                    operands.push_back(item.IsNull() ? Scalar(nullptr) : scalar_of(item));
                }
                if (*op != Op::In && *op != Op::NotIn) {
                    fail(value,
                         fmt::format("filters: '{}' {}: takes one value, not a list", path, name));
                }
            } else if (value.IsMap()) {
                fail(value,
                     fmt::format("filters: '{}' {}: expected a value, got a mapping", path, name));
            } else {
                if (*op == Op::In || *op == Op::NotIn) {
                    fail(value, fmt::format("filters: '{}' {}: expected a list, such as [a, b]",
                                            path, name));
                }
                operands.push_back(value.IsNull() ? Scalar(nullptr) : scalar_of(value));
            }
            Filter test;
            test.kind = Filter::Kind::Test;
            try {
                test.test = make_predicate(path, *op, std::move(operands));
            } catch (const std::invalid_argument& e) {
                fail(value, fmt::format("filters: '{}': {}", path, e.what()));
            }
            all.children.push_back(std::move(test));
        }
        if (all.children.empty()) {
            fail(ops, fmt::format("filters: '{}': expected at least one operator", path));
        }
        return all.children.size() == 1 ? std::move(all.children.front()) : all;
    }

    Filter filter_of(const YAML::Node& node) const {
        if (!node.IsMap()) {
            fail(node, "filters: expected a mapping of field paths (or all / any / not) to tests");
        }
        Filter all;
        for (const auto& entry : node) {
            const auto& key = entry.first.Scalar();
            const auto& value = entry.second;
            if (key == "all" || key == "any") {
                if (!value.IsSequence() || value.size() == 0) {
                    fail(value,
                         fmt::format("filters: {} expects a non-empty list of filters", key));
                }
                Filter group;
                group.kind = key == "all" ? Filter::Kind::All : Filter::Kind::Any;
                for (const auto& item : value) {
                    group.children.push_back(filter_of(item));
                }
                all.children.push_back(std::move(group));
            } else if (key == "not") {
                Filter negation;
                negation.kind = Filter::Kind::Not;
                negation.children.push_back(filter_of(value));
                all.children.push_back(std::move(negation));
            } else {
                try {
                    FieldPath check(key);
                } catch (const std::invalid_argument& e) {
                    fail(entry.first, fmt::format("filters: {}", e.what()));
                }
                if (value.IsMap()) {
                    all.children.push_back(predicates_of(key, value));
                } else if (value.IsSequence()) {
                    fail(value, fmt::format("filters: '{}': a list needs an operator, such as "
                                            "{{in: [a, b]}}",
                                            key));
                } else {
                    Filter test;
                    test.kind = Filter::Kind::Test;
                    test.test = make_predicate(
                        key, Op::Eq, {value.IsNull() ? Scalar(nullptr) : scalar_of(value)});
                    all.children.push_back(std::move(test));
                }
            }
        }
        return all.children.size() == 1 ? std::move(all.children.front()) : all;
    }

    FieldPath path_of(const YAML::Node& node, std::string_view what) const {
        auto text = string_of(node, what);
        try {
            return FieldPath(text);
        } catch (const std::invalid_argument& e) {
            fail(node, fmt::format("{}: {}", what, e.what()));
        }
    }

    // Reads the keys of a transformation's mapping, checking that only `allowed` appear.
    std::map<std::string, YAML::Node> args_of(
        const YAML::Node& node, std::string_view name,
        std::initializer_list<std::string_view> allowed,
        std::initializer_list<std::string_view> required) const {
        if (!node.IsMap()) {
            fail(node,
                 fmt::format("{}: expected a mapping with {}", name, fmt::join(allowed, ", ")));
        }
        std::map<std::string, YAML::Node> out;
        for (const auto& entry : node) {
            const auto& key = entry.first.Scalar();
            if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
                fail(entry.first, fmt::format("{}: unknown key '{}'; expected {}", name, key,
                                              fmt::join(allowed, ", ")));
            }
            out[key] = entry.second;
        }
        for (auto key : required) {
            if (!out.contains(std::string(key))) {
                fail(node, fmt::format("{}: '{}' is required", name, key));
            }
        }
        return out;
    }

    // `name`, `name: PATH` or `name: {path: PATH}`, for transformations with an optional path.
    FieldPath optional_path(const YAML::Node& args, std::string_view name,
                            std::string_view fallback) const {
        if (!args.IsDefined() || args.IsNull()) {
            return FieldPath(fallback);
        }
        if (args.IsScalar()) {
            return path_of(args, name);
        }
        auto a = args_of(args, name, {"path"}, {"path"});
        return path_of(a["path"], name);
    }

    std::shared_ptr<const Transformation> transformation_of(const YAML::Node& node) const {
        std::string name;
        YAML::Node args;
        if (node.IsScalar()) {
            name = node.Scalar();
        } else if (node.IsMap() && node.size() == 1) {
            name = node.begin()->first.Scalar();
            args = node.begin()->second;
        } else {
            fail(node, "transformations: each item is a name or a one-entry mapping NAME: ARGS");
        }
        if (name == "add_field") {
            auto a = args_of(args, name, {"path", "value"}, {"path", "value"});
            return add_field(path_of(a["path"], name), to_json(a["value"]));
        }
        if (name == "remove_field") {
            if (args.IsMap()) {
                auto a = args_of(args, name, {"path"}, {"path"});
                return remove_field(path_of(a["path"], name));
            }
            return remove_field(path_of(args, name));
        }
        if (name == "rename_field") {
            auto a = args_of(args, name, {"from", "to"}, {"from", "to"});
            return rename_field(path_of(a["from"], name), path_of(a["to"], name));
        }
        if (name == "map_value") {
            auto a = args_of(args, name, {"path", "map", "default"}, {"path", "map"});
            const auto& map = a["map"];
            if (!map.IsMap() || map.size() == 0) {
                fail(map, "map_value: map expects a non-empty mapping of old: new values");
            }
            std::vector<std::pair<std::string, std::string>> mapping;
            for (const auto& entry : map) {
                mapping.emplace_back(entry.first.Scalar(), to_json(entry.second));
            }
            std::optional<std::string> otherwise;
            if (a.contains("default")) {
                otherwise = to_json(a["default"]);
            }
            return map_value(path_of(a["path"], name), std::move(mapping), std::move(otherwise));
        }
        if (name == "add_timestamp") {
            return add_timestamp(optional_path(args, name, "_transformed_at"));
        }
        if (name == "add_routing_metadata") {
            return add_routing_metadata(optional_path(args, name, "_routing"));
        }
        if (name == "set_key") {
            if (args.IsScalar()) {
                return set_key_from(path_of(args, name));
            }
            auto a = args_of(args, name, {"path", "value"}, {});
            if (a.contains("path") == a.contains("value")) {
                fail(args, "set_key: give either path (a field) or value (a fixed key)");
            }
            if (a.contains("path")) {
                return set_key_from(path_of(a["path"], name));
            }
            return set_key_to(string_of(a["value"], name));
        }
        const auto& registry = custom_transformations();
        auto it = registry.find(name);
        if (it == registry.end()) {
            std::vector<std::string> known(std::begin(BUILT_IN), std::end(BUILT_IN));
            for (const auto& [custom, _] : registry) {
                known.push_back(custom);
            }
            fail(node, fmt::format("transformations: unknown transformation '{}'; expected one "
                                   "of {}",
                                   name, fmt::join(known, ", ")));
        }
        try {
            auto t = it->second(args.IsDefined() ? to_json(args) : "null");
            if (!t) {
                fail(node, fmt::format("transformations: '{}' made nothing", name));
            }
            return t;
        } catch (const std::invalid_argument& e) {
            fail(node, fmt::format("{}: {}", name, e.what()));
        }
    }

    Route route_of(const YAML::Node& node) const {
        if (!node.IsMap()) {
            fail(node, fmt::format("routes: each route is a mapping with {}",
                                   fmt::join(ROUTE_KEYS, ", ")));
        }
        Route r;
        r.line = node.Mark().is_null() ? 0 : node.Mark().line + 1;
        bool has_sources = false;
        bool has_targets = false;
        for (const auto& entry : node) {
            const auto& key = entry.first.Scalar();
            const auto& value = entry.second;
            if (key == "name") {
                r.name = string_of(value, "name");
            } else if (key == "description") {
                string_of(value, "description");
            } else if (key == "source_topics") {
                r.source_topics = topics_of(value, "source_topics");
                has_sources = true;
            } else if (key == "target_topics") {
                r.target_topics = topics_of(value, "target_topics");
                has_targets = true;
            } else if (key == "event_types") {
                r.event_types = types_of(value);
            } else if (key == "filters") {
                if (!value.IsNull()) {
                    r.filter = filter_of(value);
                }
            } else if (key == "transformations") {
                if (value.IsNull()) {
                    continue;
                }
                if (!value.IsSequence()) {
                    fail(value, "transformations: expected a list");
                }
                for (const auto& item : value) {
                    r.transformations.push_back(transformation_of(item));
                }
            } else if (key == "priority") {
                const auto& text = value.IsScalar() ? value.Scalar() : std::string();
                int v = 0;
                auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
                if (text.empty() || ec != std::errc() || ptr != text.data() + text.size()) {
                    fail(value, "priority: expected an integer (higher first)");
                }
                r.priority = v;
            } else if (key == "enabled") {
                if (!value.IsScalar() || (value.Scalar() != "true" && value.Scalar() != "false")) {
                    fail(value, "enabled: expected true or false");
                }
                r.enabled = value.Scalar() == "true";
            } else {
                fail(entry.first, fmt::format("routes: unknown key '{}'; expected one of {}", key,
                                              fmt::join(ROUTE_KEYS, ", ")));
            }
        }
        if (r.name.empty()) {
            fail(node, "routes: a route needs a name");
        }
        if (!has_sources) {
            fail(node, fmt::format("route '{}': source_topics is required", r.name));
        }
        if (!has_targets) {
            fail(node, fmt::format("route '{}': target_topics is required", r.name));
        }
        return r;
    }
};

}  // namespace

void register_transformation(std::string name, TransformationFactory factory) {
    if (std::find(std::begin(BUILT_IN), std::end(BUILT_IN), name) != std::end(BUILT_IN)) {
        throw std::invalid_argument(
            fmt::format("'{}' is a built-in transformation; choose another name", name));
    }
    custom_transformations()[std::move(name)] = std::move(factory);
}

// A route that writes to a topic the routes read makes a loop: every event routed again (10
// events became 8,271 in 5 s). Refused at load, at the first route on the cycle.
void refuse_loops(const RouteTable& table, const Loader& loader, const YAML::Node& routing) {
    auto loop = find_loop(table);
    if (!loop) {
        return;
    }
    auto message = fmt::format(
        "the routes make a loop: {}; every event on it would be routed again and again. Write "
        "to a topic no route reads, or set routing.allow_cycles (with a hop limit, "
        "routing.max_hops)",
        loop->path);
    if (loop->route != nullptr && loop->route->line > 0) {
        throw config::ConfigError(loader.file, loop->route->line, 1,
                                  fmt::format("route '{}': {}", loop->route->name, message));
    }
    loader.fail(routing, message);
}

RouteTable load_routes(const config::Config& config) {
    RouteTable table;
    table.mode = config.string("routing.mode") == "first_match" ? RoutingMode::FirstMatch
                                                                : RoutingMode::FanOut;
    table.dispatcher = config.string("routing.name");
    table.default_topic = config.string("routing.default_topic");
    table.allow_cycles = config.boolean("routing.allow_cycles");
    table.max_hops = static_cast<int>(config.integer("routing.max_hops"));
    Loader loader{config.source(), {}};
    for (const auto& t : config.topics("topics")) {
        loader.declared_topics.insert(t.name);
    }
    if (config.text().empty()) {
        return table;
    }
    auto root = config::load_document(config.text(), config.source());
    if (!root.IsMap()) {
        return table;
    }
    if (!table.default_topic.empty() && !loader.declared_topics.contains(table.default_topic)) {
        loader.fail(root["routing"]["default_topic"],
                    fmt::format("routing.default_topic: topic '{}' is not declared under 'topics'",
                                table.default_topic));
    }
    auto routes = root["routes"];
    if (!routes.IsDefined() || routes.IsNull()) {
        return table;
    }
    if (!routes.IsSequence()) {
        loader.fail(routes, "routes: expected a list of routes");
    }
    // Refused before anything is compiled: 100k routes took 20 s and 1.1 GB before.
    constexpr std::size_t max_routes = 10'000;
    if (routes.size() > max_routes) {
        loader.fail(routes, fmt::format("routes: {} routes; a pipeline file may have at most {}",
                                        routes.size(), max_routes));
    }
    std::map<std::string, int> lines;
    for (const auto& node : routes) {
        auto route = loader.route_of(node);
        auto [it, inserted] = lines.emplace(route.name, route.line);
        if (!inserted) {
            loader.fail(node, fmt::format("route '{}' is defined twice (first on line {})",
                                          route.name, it->second));
        }
        table.routes.push_back(std::move(route));
    }
    if (!table.allow_cycles) {
        refuse_loops(table, loader, root["routing"]);
    }
    return table;
}

}  // namespace agentstream::router
