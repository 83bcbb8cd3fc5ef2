#include "cli_common.h"

namespace agentstream::cli {

int& exit_code() {
    static int code = EXIT_OK;
    return code;
}

bool& log_level_chosen() {
    static bool chosen = false;
    return chosen;
}

namespace {
config::Config& config_slot() {
    static config::Config config;
    return config;
}
}  // namespace

const config::Config& pipeline_config() {
    return config_slot();
}
void set_pipeline_config(config::Config config) {
    config_slot() = std::move(config);
}

std::optional<event::TypePattern> parse_type_option(const std::string& text) {
    if (text.empty()) {
        return std::nullopt;
    }
    try {
        return event::TypePattern(text);
    } catch (const std::invalid_argument& e) {
        throw UsageError(e.what(), "Examples: --type document.uploaded, --type 'task.*'");
    }
}

}  // namespace agentstream::cli
