#include <agentstream/agents/builtin.h>
#include <agentstream/agents/external.h>
#include <agentstream/processors/agent_config.h>
#include <agentstream/runtime/dead_letter.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <filesystem>
#include <set>

#include "internal/yaml_reader.h"

namespace agentstream::processors {

namespace fs = std::filesystem;

std::vector<std::string> AgentSetup::topics() const {
    std::vector<std::string> out = {options.tasks_topic, options.agents_topic,
                                    runtime::dead_letter_topic_for(options.tasks_topic)};
    if (!options.documents_topic.empty()) {
        out.push_back(options.documents_topic);
        out.push_back(runtime::dead_letter_topic_for(options.documents_topic));
    }
    for (const auto& [family, topic] : options.result_topics) {
        out.push_back(topic);
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

std::optional<AgentSetup> load_agents(const config::Config& config) {
    config::YamlReader r(config.source());
    auto node = r.section(r.root(config), "agents");
    if (node.IsNull()) {
        return std::nullopt;
    }
    if (!node.IsMap()) {
        r.fail(node, "agents: expected a mapping (tasks, events, strategy, list, ...)");
    }
    r.only_keys(node, "agents",
                {"enabled", "tasks", "documents", "events", "results", "strategy", "task_timeout",
                 "max_retries", "retry_backoff", "max_pending", "document_roots", "list"});
    if (node["enabled"] && !r.boolean(node["enabled"], "enabled")) {
        return std::nullopt;
    }
    AgentSetup s;
    auto& o = s.options;
    auto text = [&](const YAML::Node& n, const char* key, std::string& into) {
        if (n[key]) {
            into = n[key].IsNull() ? std::string() : r.scalar(n[key], key);
        }
    };
    text(node, "tasks", o.tasks_topic);
    if (o.tasks_topic.empty()) {
        r.fail(node["tasks"], "agents.tasks: a topic is required");
    }
    text(node, "documents", o.documents_topic);
    text(node, "events", o.agents_topic);
    if (auto results = node["results"]) {
        r.only_keys(results, "agents.results", {"document", "quality", "business_insight"});
        auto set = [&](const char* key, event::Family f) {
            if (results[key]) {
                auto topic = results[key].IsNull() ? std::string() : r.scalar(results[key], key);
                if (topic.empty()) {
                    o.result_topics.erase(f);
                } else {
                    o.result_topics[f] = topic;
                }
            }
        };
        set("document", event::Family::Document);
        set("quality", event::Family::Quality);
        set("business_insight", event::Family::BusinessInsight);
    }
    if (node["strategy"]) {
        auto text_value = r.scalar(node["strategy"], "strategy");
        auto strategy = agents::parse_strategy(text_value);
        if (!strategy) {
            r.fail(node["strategy"], fmt::format("agents.strategy: '{}'; expected least_loaded, "
                                                 "round_robin or load_based",
                                                 text_value));
        }
        o.orchestrator.strategy = *strategy;
    }
    auto positive = [&](const char* key, std::chrono::milliseconds& into) {
        if (node[key]) {
            into = r.duration(node[key], key);
            if (into.count() <= 0) {
                r.fail(node[key], fmt::format("agents.{}: expected a positive duration", key));
            }
        }
    };
    positive("task_timeout", o.orchestrator.task_timeout);
    positive("retry_backoff", o.orchestrator.retry_backoff);
    if (node["max_retries"]) {
        o.orchestrator.max_retries =
            static_cast<int>(r.integer(node["max_retries"], "max_retries", 0, 100));
    }
    if (node["max_pending"]) {
        o.max_pending =
            static_cast<std::size_t>(r.integer(node["max_pending"], "max_pending", 1, 1'000'000));
    }
    auto base = fs::path(config.source()).parent_path();
    std::vector<fs::path> roots;
    if (node["document_roots"]) {
        for (const auto& root : r.strings(node["document_roots"], "document_roots")) {
            fs::path p(root);
            roots.push_back(p.is_relative() ? base / p : p);
        }
    }
    s.document_roots = roots;
    auto list = node["list"];
    if (!list || !list.IsSequence() || list.size() == 0) {
        r.fail(list ? list : node, "agents.list: expected a list of agents ({id, type, ...})");
    }
    std::set<std::string> ids;
    for (const auto& a : list) {
        if (!a.IsMap()) {
            r.fail(a, "agents.list: each agent is a mapping {id, type, ...}");
        }
        r.only_keys(a, "agent",
                    {"id", "name", "type", "role", "capabilities", "max_concurrency", "command",
                     "env", "working_directory", "url", "headers", "ca_file"});
        if (!a["id"] || !a["type"]) {
            r.fail(a, "agent: id and type are required");
        }
        agents::AgentInfo info;
        info.id = r.scalar(a["id"], "id");
        if (info.id.empty() || !ids.insert(info.id).second) {
            r.fail(a["id"], fmt::format("agent: id '{}' is empty or used twice", info.id));
        }
        auto type = r.scalar(a["type"], "type");
        info.name = a["name"] ? r.scalar(a["name"], "name") : info.id;
        if (a["capabilities"]) {
            info.capabilities = r.strings(a["capabilities"], "capabilities");
        }
        if (a["max_concurrency"]) {
            info.max_concurrency =
                static_cast<int>(r.integer(a["max_concurrency"], "max_concurrency", 1, 1024));
        }
        auto fill = [&](agents::AgentInfo defaults) {
            defaults.id = info.id;
            defaults.name = info.name;
            if (!info.capabilities.empty()) {
                defaults.capabilities = info.capabilities;
            }
            if (a["max_concurrency"]) {
                defaults.max_concurrency = info.max_concurrency;
            }
            if (a["role"]) {
                defaults.role = r.scalar(a["role"], "role");
            }
            return defaults;
        };
        auto external_only = [&](std::initializer_list<const char*> keys) {
            for (const char* k : keys) {
                if (a[k]) {
                    r.fail(a[k],
                           fmt::format("agent {}: '{}' is for {} agents", info.id, k,
                                       std::string(k) == "url" || std::string(k) == "headers" ||
                                               std::string(k) == "ca_file"
                                           ? "http"
                                           : "command"));
                }
            }
        };
        try {
            if (type == "document_analyzer") {
                external_only({"command", "env", "working_directory", "url", "headers", "ca_file"});
                agents::DocumentAnalyzerOptions d;
                d.info = fill(d.info);
                d.roots = roots;
                s.agents.push_back(std::make_shared<agents::DocumentAnalyzerAgent>(d));
            } else if (type == "quality_assurance") {
                external_only({"command", "env", "working_directory", "url", "headers", "ca_file"});
                agents::QualityAssuranceOptions q;
                q.info = fill(q.info);
                q.roots = roots;
                s.agents.push_back(std::make_shared<agents::QualityAssuranceAgent>(q));
            } else if (type == "business_intelligence") {
                external_only({"command", "env", "working_directory", "url", "headers", "ca_file"});
                agents::BusinessIntelligenceOptions b;
                b.info = fill(b.info);
                s.agents.push_back(std::make_shared<agents::BusinessIntelligenceAgent>(b));
            } else if (type == "command" || type == "http") {
                if (info.capabilities.empty()) {
                    r.fail(a, fmt::format("agent {}: capabilities (task types) are required",
                                          info.id));
                }
                info.role = a["role"] ? r.scalar(a["role"], "role") : type + "_agent";
                if (type == "command") {
                    external_only({"url", "headers", "ca_file"});
                    agents::CommandAgentOptions c;
                    c.info = info;
                    if (!a["command"]) {
                        r.fail(a, fmt::format("agent {}: command is required: a list such as "
                                              "[python3, agent.py]",
                                              info.id));
                    }
                    c.argv = r.strings(a["command"], "command");
                    if (a["working_directory"]) {
                        fs::path wd(r.scalar(a["working_directory"], "working_directory"));
                        c.working_directory = (wd.is_relative() ? base / wd : wd).string();
                    } else {
                        c.working_directory = base.empty() ? "" : base.string();
                    }
                    if (auto env = a["env"]) {
                        if (!env.IsMap()) {
                            r.fail(env, "env: expected a mapping of names to values");
                        }
                        for (const auto& kv : env) {
                            c.environment[kv.first.Scalar()] = r.scalar(kv.second, "env");
                        }
                    }
                    s.agents.push_back(std::make_shared<agents::CommandAgent>(c));
                } else {
                    external_only({"command", "env", "working_directory"});
                    agents::HttpAgentOptions h;
                    h.info = info;
                    if (!a["url"]) {
                        r.fail(a, fmt::format("agent {}: url is required", info.id));
                    }
                    h.url = r.scalar(a["url"], "url");
                    if (auto headers = a["headers"]) {
                        if (!headers.IsMap()) {
                            r.fail(headers, "headers: expected a mapping of names to values");
                        }
                        for (const auto& kv : headers) {
                            h.headers[kv.first.Scalar()] = r.scalar(kv.second, "headers");
                        }
                    }
                    if (a["ca_file"]) {
                        h.ca_file = r.scalar(a["ca_file"], "ca_file");
                    }
                    s.agents.push_back(std::make_shared<agents::HttpAgent>(h));
                }
            } else {
                r.fail(a["type"], fmt::format("agent {}: unknown type '{}'; expected "
                                              "document_analyzer, quality_assurance, "
                                              "business_intelligence, command or http",
                                              info.id, type));
            }
        } catch (const std::invalid_argument& e) {
            r.fail(a, e.what());
        }
    }
    return s;
}

}  // namespace agentstream::processors
