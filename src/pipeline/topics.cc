#include <agentstream/pipeline/topics.h>

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

#include "internal/log.h"

namespace agentstream::pipeline {

std::vector<kafka::NewTopic> wanted_topics(
    const config::Config& config, const std::vector<std::string>& extra,
    const std::vector<std::pair<std::string, std::string>>& changelogs) {
    auto default_partitions = static_cast<int>(config.integer("embedded.partitions"));
    std::vector<kafka::NewTopic> wanted;
    auto declared = [&](const std::string& name) {
        return std::any_of(wanted.begin(), wanted.end(),
                           [&](const auto& t) { return t.name == name; });
    };
    for (const auto& t : config.topics("topics")) {
        wanted.push_back({t.name, t.partitions > 0 ? t.partitions : default_partitions,
                          t.replication_factor > 0 ? t.replication_factor : -1,
                          std::map<std::string, std::string>(t.config.begin(), t.config.end())});
    }
    for (const auto& name : extra) {
        if (!declared(name)) {
            wanted.push_back({name, default_partitions, -1, {}});
        }
    }
    for (const auto& [changelog, input] : changelogs) {
        int partitions = default_partitions;
        for (const auto& t : wanted) {
            if (t.name == input) {
                partitions = t.partitions;
            }
        }
        if (!declared(changelog)) {
            wanted.push_back({changelog, partitions, -1, {{"cleanup.policy", "compact"}}});
        }
    }
    return wanted;
}

void ensure_topics(const Connection& connection, const std::vector<kafka::NewTopic>& wanted) {
    if (auto* embedded = connection.embedded_broker()) {
        for (const auto& t : wanted) {
            embedded->create_topic(t.name, t.partitions, t.replication_factor);
        }
        return;
    }
    kafka::Admin admin(connection.admin_options());
    auto id = admin.cluster_id(std::chrono::seconds(5));
    if (id && id->starts_with("mockCluster")) {
        return;
    }
    std::set<std::string> existing;
    for (const auto& t : admin.list_topics()) {
        existing.insert(t.name);
    }
    for (const auto& t : wanted) {
        if (!existing.contains(t.name)) {
            // Another instance (or `topics create`) may create it at the same moment: a topic
            // that exists is what was wanted.
            if (admin.create_topic(t)) {
                logger("run")->info(
                    "created topic {} ({} partitions, replication factor {})", t.name, t.partitions,
                    t.replication_factor > 0 ? fmt::format("{}", t.replication_factor)
                                             : std::string("the broker's default"));
            } else {
                logger("run")->info("topic {} was created meanwhile by someone else", t.name);
            }
            existing.insert(t.name);
        }
    }
}

}  // namespace agentstream::pipeline
