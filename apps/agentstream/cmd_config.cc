// agentstream config keys | check
#include <agentstream/config/config.h>
#include <agentstream/notify/notifications.h>
#include <agentstream/processors/agent_config.h>
#include <agentstream/processors/config.h>
#include <agentstream/router/router.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <memory>

#include <agentstream/pipeline/service_monitor.h>
#include "cli_common.h"

namespace agentstream::cli {
namespace {

std::string_view type_text(config::ValueType t) {
    switch (t) {
        case config::ValueType::String: return "string";
        case config::ValueType::Integer: return "integer";
        case config::ValueType::Boolean: return "boolean";
        case config::ValueType::Enum: return "enum";
        case config::ValueType::LogSpec: return "log level spec";
        case config::ValueType::PropertyMap: return "map of properties";
        case config::ValueType::TopicMap: return "map of topics";
        case config::ValueType::Section: return "section";
    }
    return "";
}

std::string constraint(const config::KeySpec& k) {
    if (!k.allowed.empty()) {
        return fmt::format("one of {}", fmt::join(k.allowed, ", "));
    }
    if (k.type == config::ValueType::Integer &&
        (k.min != std::numeric_limits<std::int64_t>::min() ||
         k.max != std::numeric_limits<std::int64_t>::max())) {
        return fmt::format("{} to {}", k.min, k.max);
    }
    return "";
}

void config_keys(bool markdown) {
    if (markdown) {
        fmt::print("| key | type | default | allowed | description |\n|---|---|---|---|---|\n");
        for (const auto& k : config::keys()) {
            fmt::print("| `{}` | {} | {} | {} | {} |\n", k.path, type_text(k.type),
                       k.default_value.empty() ? "" : fmt::format("`{}`", k.default_value),
                       constraint(k), k.description);
        }
        return;
    }
    for (const auto& k : config::keys()) {
        auto c = constraint(k);
        fmt::print("{} ({}{}{})\n    {}\n", k.path, type_text(k.type),
                   k.default_value.empty() ? "" : fmt::format(", default {}", k.default_value),
                   c.empty() ? "" : ", " + c, k.description);
    }
}

}  // namespace

void add_config_commands(CLI::App& app) {
    auto* cmd = app.add_subcommand("config", "Check pipeline files and list their keys");
    cmd->require_subcommand(1);
    auto markdown = std::make_shared<bool>(false);
    auto* keys = cmd->add_subcommand("keys", "List every key of the pipeline file");
    keys->add_flag("--markdown", *markdown, "Print as a Markdown table");
    keys->callback([markdown] { config_keys(*markdown); });

    auto file = std::make_shared<std::string>();
    auto* check = cmd->add_subcommand("check",
                                      "Validate a pipeline file; exit 2 with file, line "
                                      "and what was expected if it is wrong");
    check->add_option("FILE", *file, "Pipeline file (YAML)")->required();
    check->callback([file] {
        auto config = config::Config::load(*file);
        // The sections other modules read are part of the file: check them too.
        try {
            router::Router router(router::load_routes(config));
        } catch (const std::invalid_argument& e) {
            throw config::ConfigError(*file, 0, 0, e.what());
        }
        pipeline::alert_rules_of(config);
        notify::load_channels(config);
        processors::load_domain_processors(config);
        processors::load_agents(config);
        fmt::print("{}: ok\n", *file);
    });
}

}  // namespace agentstream::cli
