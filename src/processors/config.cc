#include <agentstream/processors/config.h>
#include <agentstream/runtime/dead_letter.h>

#include <fmt/format.h>

#include <algorithm>

#include "internal/yaml_reader.h"

namespace agentstream::processors {

std::vector<std::pair<std::string, std::string>> DomainConfig::changelogs() const {
    std::vector<std::pair<std::string, std::string>> out;
    if (analytics) {
        auto name = analytics->changelog_topic.empty() ? analytics->name + "-changelog"
                                                       : analytics->changelog_topic;
        out.emplace_back(name, analytics->input_topic);
    }
    return out;
}

std::vector<std::string> DomainConfig::topics() const {
    std::vector<std::string> out;
    auto add = [&](const std::string& t) {
        if (!t.empty() && std::find(out.begin(), out.end(), t) == out.end()) {
            out.push_back(t);
        }
    };
    if (analytics) {
        const auto& a = *analytics;
        for (const auto& t : {a.input_topic, a.metrics_topic, a.alerts_topic, a.insights_topic,
                              a.late_topic.empty() ? a.input_topic + ".late" : a.late_topic,
                              runtime::dead_letter_topic_for(a.input_topic)}) {
            add(t);
        }
    }
    if (tasks) {
        for (const auto& t :
             {tasks->input, tasks->tracker.analytics_topic, tasks->tracker.alerts_topic,
              runtime::dead_letter_topic_for(tasks->input)}) {
            add(t);
        }
    }
    if (documents) {
        for (const auto& t :
             {documents->input, documents->tracker.analytics_topic, documents->tracker.tasks_topic,
              runtime::dead_letter_topic_for(documents->input)}) {
            add(t);
        }
    }
    if (agents) {
        for (const auto& t :
             {agents->input, agents->tracker.analytics_topic, agents->tracker.alerts_topic,
              runtime::dead_letter_topic_for(agents->input)}) {
            add(t);
        }
    }
    if (notifications) {
        add(notifications->input);
        add(runtime::dead_letter_topic_for(notifications->input));
    }
    return out;
}

DomainConfig load_domain_processors(const config::Config& config) {
    config::YamlReader r(config.source());
    auto section = r.section(r.root(config), "processors");
    DomainConfig out;
    if (section.IsNull()) {
        return out;
    }
    if (!section.IsMap()) {
        r.fail(section,
               "processors: expected a mapping of processor names (analytics, tasks, "
               "documents, agents, notifications) to their settings");
    }
    for (const auto& entry : section) {
        auto name = entry.first.Scalar();
        const auto& node = entry.second;
        if (!node.IsNull() && !node.IsMap()) {
            r.fail(node,
                   fmt::format("processors.{}: expected a mapping of settings, or {{}}", name));
        }
        auto enabled =
            !node.IsNull() && node["enabled"] ? r.boolean(node["enabled"], "enabled") : true;
        auto text = [&](const char* key, std::string& into) {
            if (!node.IsNull() && node[key]) {
                into = r.scalar(node[key], key);
            }
        };
        auto duration = [&](const char* key, std::chrono::milliseconds& into) {
            if (!node.IsNull() && node[key]) {
                into = r.duration(node[key], key);
                if (into.count() <= 0) {
                    r.fail(node[key], fmt::format("{}: expected a positive duration", key));
                }
            }
        };
        auto what = "processors." + name;
        if (name == "analytics") {
            if (!node.IsNull()) {
                r.only_keys(node, what,
                            {"enabled", "input", "output", "alerts", "insights", "windows",
                             "out_of_orderness", "checkpoint_interval", "idle_timeout"});
            }
            AnalyticsOptions a;
            text("input", a.input_topic);
            text("output", a.metrics_topic);
            text("alerts", a.alerts_topic);
            text("insights", a.insights_topic);
            duration("out_of_orderness", a.out_of_orderness);
            duration("checkpoint_interval", a.checkpoint_interval);
            duration("idle_timeout", a.idle_timeout);
            if (!node.IsNull() && node["windows"]) {
                a.windows.clear();
                for (const auto& w : r.strings(node["windows"], "windows")) {
                    auto d = parse_duration(w);
                    if (!d || d->count() <= 0) {
                        r.fail(node["windows"],
                               fmt::format("windows: '{}' is not a duration such as 1m (at most "
                                           "87600h)",
                                           w));
                    }
                    a.windows.push_back(*d);
                }
            }
            if (enabled) {
                out.analytics = a;
            }
        } else if (name == "tasks") {
            if (!node.IsNull()) {
                r.only_keys(node, what,
                            {"enabled", "input", "analytics", "alerts", "stuck_after", "state_ttl",
                             "rate_window"});
            }
            DomainConfig::Tasks t;
            text("input", t.input);
            text("analytics", t.tracker.analytics_topic);
            text("alerts", t.tracker.alerts_topic);
            duration("stuck_after", t.tracker.stuck_after);
            duration("state_ttl", t.tracker.state_ttl);
            duration("rate_window", t.tracker.rate_window);
            if (enabled) {
                out.tasks = t;
            }
        } else if (name == "documents") {
            if (!node.IsNull()) {
                r.only_keys(
                    node, what,
                    {"enabled", "input", "analytics", "tasks", "request_analysis", "stats_window"});
            }
            DomainConfig::Documents d;
            text("input", d.input);
            text("analytics", d.tracker.analytics_topic);
            text("tasks", d.tracker.tasks_topic);
            duration("stats_window", d.tracker.stats_window);
            if (!node.IsNull() && node["request_analysis"]) {
                d.tracker.request_analysis =
                    r.boolean(node["request_analysis"], "request_analysis");
            }
            if (enabled) {
                out.documents = d;
            }
        } else if (name == "agents") {
            if (!node.IsNull()) {
                r.only_keys(node, what,
                            {"enabled", "input", "analytics", "alerts", "burst_errors",
                             "burst_window", "stats_window"});
            }
            DomainConfig::Agents a;
            text("input", a.input);
            text("analytics", a.tracker.analytics_topic);
            text("alerts", a.tracker.alerts_topic);
            duration("burst_window", a.tracker.burst_window);
            duration("stats_window", a.tracker.stats_window);
            if (!node.IsNull() && node["burst_errors"]) {
                a.tracker.burst_errors = static_cast<std::size_t>(
                    r.integer(node["burst_errors"], "burst_errors", 1, 1'000'000));
            }
            if (enabled) {
                out.agents = a;
            }
        } else if (name == "notifications") {
            if (!node.IsNull()) {
                r.only_keys(node, what, {"enabled", "input"});
            }
            DomainConfig::Notifications n;
            text("input", n.input);
            if (enabled) {
                out.notifications = n;
            }
        } else {
            r.fail(entry.first, fmt::format("processors: unknown processor '{}'; expected "
                                            "analytics, tasks, documents, agents or notifications",
                                            name));
        }
    }
    return out;
}

}  // namespace agentstream::processors
