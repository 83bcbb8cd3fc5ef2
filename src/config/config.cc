#include <agentstream/config/config.h>
#include <agentstream/core/logging.h>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include "internal/yaml_reader.h"

namespace agentstream::config {
namespace {

using sv = std::string_view;
constexpr sv LOG_FORMATS[] = {"text", "json"};
constexpr sv ROUTING_MODES[] = {"fanout", "first_match"};

constexpr KeySpec KEYS[] = {
    {"kafka.brokers", ValueType::String, "",
     "Bootstrap servers of a real Kafka cluster (host:port,...). Empty: start the embedded "
     "broker. --brokers and AGENTSTREAM_BROKERS override it."},
    {"kafka.properties", ValueType::PropertyMap, "",
     "librdkafka properties for every client (SASL, TLS, ...), passed through untouched."},
    {"kafka.producer", ValueType::PropertyMap, "",
     "librdkafka properties for producers only, applied after kafka.properties."},
    {"kafka.consumer", ValueType::PropertyMap, "",
     "librdkafka properties for consumers only, applied after kafka.properties."},
    {"kafka.shared_producer", ValueType::Boolean, "false",
     "true: one producer for the whole service (router, processors, agents, alerts), so their "
     "outputs share batches and produce requests (fewer threads, less CPU; docs/benchmarks.md). "
     "false: one producer per part. Exactly-once parts always have their own."},
    {"embedded.brokers",
     ValueType::Integer,
     "1",
     "Number of brokers of the embedded broker.",
     {},
     1,
     9},
    {"embedded.partitions",
     ValueType::Integer,
     "8",
     "Partitions of embedded-broker topics that do not say. Each partition keeps only its last "
     "5 MiB, so more partitions hold a longer backlog.",
     {},
     1,
     1024},
    {"topics", ValueType::TopicMap, "",
     "Topics of the deployment: NAME: PARTITIONS, or NAME: {partitions, replication_factor, "
     "config}. Created on the embedded broker when it starts."},
    {"routing.name", ValueType::String, "event_dispatcher",
     "The router's name: in logs, metrics, dead-letter headers and add_routing_metadata."},
    {"routing.mode", ValueType::Enum, "fanout",
     "fanout: every matching route fires, in priority order (a target topic receives one copy, "
     "from the highest-priority route). first_match: only the highest-priority matching route "
     "fires.",
     ROUTING_MODES},
    {"routing.default_topic", ValueType::String, "",
     "Where events no route matches go. Empty: they are counted and committed, not forwarded."},
    {"routing.validate_output", ValueType::Boolean, "true",
     "Check every transformed event against the catalogue before sending it; an event a "
     "transformation made invalid goes to the dead-letter topic instead."},
    {"routing.group_id", ValueType::String, "agentstream-router",
     "Consumer group of the router. Instances in one group share the source partitions."},
    {"routing.allow_cycles", ValueType::Boolean, "false",
     "Accept routes whose topics make a cycle (an event routed back to a topic it came from). "
     "Off, such routes are refused at load. On, every routed copy carries x-agentstream-hops, "
     "and an event routed routing.max_hops times goes to the dead-letter topic."},
    {"routing.max_hops",
     ValueType::Integer,
     "10",
     "With routing.allow_cycles: how many times one event may be routed before it is "
     "dead-lettered (reason: hop limit).",
     {},
     1,
     1000},
    {"routing.shutdown_timeout_s",
     ValueType::Integer,
     "30",
     "On SIGTERM or a reload that restarts the router: how long in-flight events may take to be "
     "written. Past it (an output partition without a leader, say) what is not written is given "
     "up, reported, and its input left uncommitted for the next start.",
     {},
     1,
     3600},
    {"routes", ValueType::Section, "",
     "The routes: a list of {name, source_topics, target_topics, event_types, filters, "
     "transformations, priority, enabled}. See docs/routing.md."},
    {"http.enabled", ValueType::Boolean, "true",
     "Serve the monitor's HTTP API (/metrics, /api/..., /healthz, /readyz) while `run` runs."},
    {"http.host", ValueType::String, "127.0.0.1",
     "Address the HTTP API listens on. The default keeps it on this machine; 0.0.0.0 opens it "
     "to the network (set http.token then)."},
    {"http.port",
     ValueType::Integer,
     "8686",
     "Port of the HTTP API; 0 picks a free one (the log says which). --http-port overrides it.",
     {},
     0,
     65535},
    {"http.allow_unauthenticated", ValueType::Boolean, "false",
     "Serve the API on an address other than loopback without a token. Without it, such an "
     "http.host with no http.token is refused at start."},
    {"http.token", ValueType::String, "",
     "When set, API requests need `Authorization: Bearer TOKEN` or `?access_token=TOKEN` "
     "(/healthz, /readyz and the dashboard page's own files excepted). AGENTSTREAM_HTTP_TOKEN "
     "overrides it."},
    {"monitor.alerts_topic", ValueType::String, "alerts",
     "Topic alert transitions (firing, resolved) are published to as system.alert events; empty: "
     "not published. Created like the file's topics when missing."},
    {"alerts", ValueType::Section, "",
     "Alert rules: {defaults: true|false, rules: [{name, metric, match, aggregate, condition, "
     "threshold, for, severity, repeat_interval, cooldown, labels, annotations, enabled}]}. "
     "See docs/monitoring.md."},
    {"notifications", ValueType::Section, "",
     "Notification channels: {channels: [{name, type: log|file|webhook|kafka, enabled, "
     "min_priority, kinds, dedup_window, rate_limit: {count, per}, queue, path (file), url, "
     "headers, timeout, retries, backoff (webhook), topic (kafka)}]}. Absent: one log channel. "
     "Alert transitions are notified. See docs/monitoring.md."},
    {"processors", ValueType::Section, "",
     "Domain processors `run` starts: analytics, tasks, documents, agents, notifications, each a "
     "mapping of its topics and settings (or {}). See docs/windows.md."},
    {"agents", ValueType::Section, "",
     "The agent service `run` starts: {tasks, documents, events, results, strategy, "
     "task_timeout, max_retries, retry_backoff, max_pending, document_roots, list: [{id, type: "
     "document_analyzer|quality_assurance|business_intelligence|command|http, capabilities, "
     "max_concurrency, command, env, working_directory, url, headers}]}. See docs/agents.md."},
    {"logging.level", ValueType::LogSpec, "info",
     "Log levels: LEVEL[,MODULE=LEVEL...] with trace, debug, info, warn, error, critical, off. "
     "AGENTSTREAM_LOG_LEVEL and --log-level override it."},
    {"logging.format", ValueType::Enum, "text",
     "Log line format on stderr: text, or json (one JSON object per line).", LOG_FORMATS},
};

std::string_view type_name(ValueType t) {
    switch (t) {
        case ValueType::String: return "a string";
        case ValueType::Integer: return "an integer";
        case ValueType::Boolean: return "true or false";
        case ValueType::Enum: return "one of the listed values";
        case ValueType::LogSpec: return "a log level spec";
        case ValueType::PropertyMap: return "a mapping of names to values";
        case ValueType::TopicMap: return "a mapping of topic names";
        case ValueType::Section: return "a section read by its module";
    }
    return "";
}

struct Loader {
    std::string file;
    std::map<std::string, std::string, std::less<>>& values;
    std::map<std::string, Properties, std::less<>>& properties;
    std::map<std::string, std::vector<TopicSpec>, std::less<>>& topics;
    std::set<std::string, std::less<>>& present;

    int read_int(const YAML::Node& node, const std::string& what, int min, int max) const {
        if (!node.IsScalar()) {
            fail(node, fmt::format("{}: expected an integer", what));
        }
        int v = 0;
        const auto& text = node.Scalar();
        auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
        if (ec != std::errc() || ptr != text.data() + text.size() || v < min || v > max) {
            fail(node, fmt::format("{}: expected an integer from {} to {}, got '{}'", what, min,
                                   max, text));
        }
        return v;
    }

    void read_topics(const KeySpec& spec, const YAML::Node& node) {
        std::string path(spec.path);
        if (node.IsNull()) {
            return;
        }
        if (!node.IsMap()) {
            fail(node, fmt::format("{}: expected {}", path, type_name(spec.type)));
        }
        std::vector<TopicSpec> out;
        for (const auto& entry : node) {
            TopicSpec t;
            t.name = entry.first.Scalar();
            auto where = fmt::format("{}.{}", path, t.name);
            if (t.name.empty() || t.name.size() > 249 ||
                t.name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                         "0123456789._-") != std::string::npos) {
                fail(entry.first, fmt::format("{}: a topic name has 1 to 249 characters from "
                                              "[a-zA-Z0-9._-]",
                                              where));
            }
            const auto& v = entry.second;
            if (v.IsNull()) {
                // defaults
            } else if (v.IsScalar()) {
                t.partitions = read_int(v, where, 1, 100000);
            } else if (v.IsMap()) {
                for (const auto& field : v) {
                    auto name = field.first.Scalar();
                    if (name == "partitions") {
                        t.partitions = read_int(field.second, where + ".partitions", 1, 100000);
                    } else if (name == "replication_factor") {
                        t.replication_factor =
                            read_int(field.second, where + ".replication_factor", 1, 32);
                    } else if (name == "config") {
                        if (!field.second.IsMap()) {
                            fail(field.second, fmt::format("{}.config: expected a mapping", where));
                        }
                        for (const auto& c : field.second) {
                            t.config.emplace_back(c.first.Scalar(), c.second.Scalar());
                        }
                    } else {
                        fail(field.first,
                             fmt::format("unknown key '{}.{}'; expected one of: partitions, "
                                         "replication_factor, config",
                                         where, name));
                    }
                }
            } else {
                fail(v, fmt::format("{}: expected a partition count or a mapping", where));
            }
            out.push_back(std::move(t));
        }
        topics[path] = std::move(out);
    }

    [[noreturn]] void fail(const YAML::Node& node, const std::string& message) const {
        auto mark = node.Mark();
        bool known = !mark.is_null();
        throw ConfigError(file, known ? mark.line + 1 : 0, known ? mark.column + 1 : 0, message);
    }

    // Keys directly below `prefix` that the table knows (next path segment), for messages.
    static std::vector<std::string> children(sv prefix) {
        std::set<std::string> out;
        for (const auto& k : KEYS) {
            sv path = k.path;
            if (!prefix.empty()) {
                if (!path.starts_with(prefix) || path.size() <= prefix.size() ||
                    path[prefix.size()] != '.') {
                    continue;
                }
                path.remove_prefix(prefix.size() + 1);
            }
            out.emplace(path.substr(0, path.find('.')));
        }
        return {out.begin(), out.end()};
    }

    void walk(const YAML::Node& node, const std::string& prefix) {
        if (!node.IsMap()) {
            fail(node, prefix.empty() ? "the pipeline file must be a YAML mapping of sections"
                                      : fmt::format("{}: expected a mapping with keys {}", prefix,
                                                    fmt::join(children(prefix), ", ")));
        }
        for (const auto& entry : node) {
            const auto& key_node = entry.first;
            if (!key_node.IsScalar()) {
                fail(key_node, "keys must be plain names");
            }
            auto key = key_node.Scalar();
            std::string path = prefix.empty() ? key : prefix + "." + key;
            if (const auto* spec = find_key(path)) {
                read_value(*spec, entry.second);
                continue;
            }
            if (children(path).empty()) {
                auto known = children(prefix);
                fail(key_node,
                     fmt::format("unknown key '{}'; expected one of: {}", path,
                                 known.empty() ? std::string("(none)")
                                               : fmt::format("{}", fmt::join(known, ", "))));
            }
            walk(entry.second, path);
        }
    }

    void read_value(const KeySpec& spec, const YAML::Node& node) {
        std::string path(spec.path);
        if (spec.type == ValueType::Section) {
            present.insert(path);  // its module reads and validates it from Config::text()
            return;
        }
        if (spec.type == ValueType::TopicMap) {
            read_topics(spec, node);
            return;
        }
        if (spec.type == ValueType::PropertyMap) {
            if (node.IsNull()) {
                return;
            }
            if (!node.IsMap()) {
                fail(node, fmt::format("{}: expected {}", path, type_name(spec.type)));
            }
            Properties props;
            for (const auto& entry : node) {
                if (!entry.first.IsScalar() || !entry.second.IsScalar()) {
                    fail(entry.first, fmt::format("{}: each entry must be name: value", path));
                }
                props.emplace_back(entry.first.Scalar(), entry.second.Scalar());
            }
            properties[path] = std::move(props);
            return;
        }
        if (!node.IsScalar()) {
            fail(node, fmt::format("{}: expected {}, got a {}", path, type_name(spec.type),
                                   node.IsMap()        ? "mapping"
                                   : node.IsSequence() ? "list"
                                                       : "null"));
        }
        const auto& text = node.Scalar();
        switch (spec.type) {
            case ValueType::Integer: {
                std::int64_t v = 0;
                auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
                if (ec != std::errc() || ptr != text.data() + text.size()) {
                    fail(node, fmt::format("{}: expected an integer, got '{}'", path, text));
                }
                if (v < spec.min || v > spec.max) {
                    fail(node, fmt::format("{}: must be between {} and {}, got {}", path, spec.min,
                                           spec.max, v));
                }
                break;
            }
            case ValueType::Boolean:
                if (text != "true" && text != "false") {
                    fail(node, fmt::format("{}: expected true or false, got '{}'", path, text));
                }
                break;
            case ValueType::Enum: {
                bool ok = false;
                for (auto a : spec.allowed) {
                    ok = ok || a == text;
                }
                if (!ok) {
                    fail(node, fmt::format("{}: expected one of {}; got '{}'", path,
                                           fmt::join(spec.allowed, ", "), text));
                }
                break;
            }
            case ValueType::LogSpec: {
                std::string error;
                if (!parse_log_spec(text, &error)) {
                    fail(node, fmt::format("{}: {}", path, error));
                }
                break;
            }
            default: break;
        }
        values[path] = text;
    }
};

const KeySpec& require_key(std::string_view path, std::initializer_list<ValueType> types) {
    const auto* spec = find_key(path);
    if (spec == nullptr) {
        throw std::invalid_argument(fmt::format("'{}' is not a configuration key", path));
    }
    for (auto t : types) {
        if (spec->type == t) {
            return *spec;
        }
    }
    throw std::invalid_argument(fmt::format("configuration key '{}' has another type", path));
}

}  // namespace

std::span<const KeySpec> keys() noexcept {
    return KEYS;
}

const KeySpec* find_key(std::string_view path) noexcept {
    for (const auto& k : KEYS) {
        if (k.path == path) {
            return &k;
        }
    }
    return nullptr;
}

ConfigError::ConfigError(std::string file, int line, int column, const std::string& message)
    : std::runtime_error(line > 0 ? fmt::format("{}:{}:{}: {}", file, line, column, message)
                                  : fmt::format("{}: {}", file, message)),
      _file(std::move(file)),
      _line(line),
      _column(column) {}

Config Config::load(const std::filesystem::path& file) {
    // A pipeline file is a few kilobytes; what is not a regular file of a sane size is a mistake
    // (a directory read as an empty file gave "ok: 0 route(s)").
    constexpr std::uintmax_t max_bytes = 16 * 1024 * 1024;
    std::error_code ec;
    auto status = std::filesystem::status(file, ec);
    if (!ec && std::filesystem::is_directory(status)) {
        throw ConfigError(file.string(), 0, 0,
                          "is a directory; give the pipeline file (YAML) itself");
    }
    if (!ec && std::filesystem::is_regular_file(status)) {
        auto size = std::filesystem::file_size(file, ec);
        if (!ec && size > max_bytes) {
            throw ConfigError(file.string(), 0, 0,
                              fmt::format("{} bytes: a pipeline file may have at most {} MiB", size,
                                          max_bytes / (1024 * 1024)));
        }
    }
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        throw ConfigError(file.string(), 0, 0,
                          fmt::format("cannot read the pipeline file: {}", std::strerror(errno)));
    }
    std::string text;
    char chunk[65536];
    while (in.read(chunk, sizeof chunk) || in.gcount() > 0) {
        text.append(chunk, static_cast<std::size_t>(in.gcount()));
        if (text.size() > max_bytes) {
            throw ConfigError(file.string(), 0, 0,
                              fmt::format("more than {} MiB: a pipeline file may have at most "
                                          "that much",
                                          max_bytes / (1024 * 1024)));
        }
    }
    if (in.bad()) {
        throw ConfigError(file.string(), 0, 0, "reading the pipeline file failed");
    }
    return parse(text, file.string());
}

Config Config::parse(const std::string& yaml, const std::string& name) {
    Config config;
    config._source = name;
    config._text = yaml;
    auto root = load_document(yaml, name);
    if (root.IsNull()) {
        return config;  // an empty file: all defaults
    }
    Loader loader{name, config._values, config._properties, config._topics, config._sections};
    loader.walk(root, "");
    return config;
}

std::string Config::string(std::string_view path) const {
    const auto& spec = require_key(path, {ValueType::String, ValueType::Enum, ValueType::LogSpec,
                                          ValueType::Integer, ValueType::Boolean});
    auto it = _values.find(path);
    return it != _values.end() ? it->second : std::string(spec.default_value);
}

std::int64_t Config::integer(std::string_view path) const {
    require_key(path, {ValueType::Integer});
    return std::stoll(string(path));
}

bool Config::boolean(std::string_view path) const {
    require_key(path, {ValueType::Boolean});
    return string(path) == "true";
}

const Properties& Config::properties(std::string_view path) const {
    require_key(path, {ValueType::PropertyMap});
    static const Properties EMPTY;
    auto it = _properties.find(path);
    return it != _properties.end() ? it->second : EMPTY;
}

const std::vector<TopicSpec>& Config::topics(std::string_view path) const {
    require_key(path, {ValueType::TopicMap});
    static const std::vector<TopicSpec> EMPTY;
    auto it = _topics.find(path);
    return it != _topics.end() ? it->second : EMPTY;
}

bool Config::is_set(std::string_view path) const {
    return _values.find(path) != _values.end() || _properties.find(path) != _properties.end() ||
           _topics.find(path) != _topics.end() || _sections.find(path) != _sections.end();
}

}  // namespace agentstream::config
