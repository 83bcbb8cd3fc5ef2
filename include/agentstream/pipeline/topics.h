// The topics an application reads and writes, created where they are missing.
#pragma once

#include <agentstream/config/config.h>
#include <agentstream/kafka/admin.h>
#include <agentstream/pipeline/connection.h>

#include <string>
#include <utility>
#include <vector>

namespace agentstream::pipeline {

/// The topics `config` declares (topics section), then each of `extra` it does not declare
/// (embedded.partitions partitions, the broker's default replication), then each changelog
/// (changelog, input) with its input's partitions and cleanup.policy=compact.
std::vector<kafka::NewTopic> wanted_topics(
    const config::Config& config, const std::vector<std::string>& extra,
    const std::vector<std::pair<std::string, std::string>>& changelogs = {});

/// Creates the wanted topics that are missing: on the embedded broker through its mock API, on
/// Kafka through the admin API. Existing topics are left as they are, and one created by
/// someone else meanwhile is what was wanted. A standalone embedded broker (`agentstream
/// broker`) has no admin API and creates a topic when a client first asks for it: nothing is
/// done there. Throws std::runtime_error when the cluster refuses.
void ensure_topics(const Connection& connection, const std::vector<kafka::NewTopic>& wanted);

}  // namespace agentstream::pipeline
