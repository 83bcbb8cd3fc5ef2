// Internal (src/internal: shared by modules, never installed, no API promise).
// The modules' spdlog loggers, configured by core/logging.h's configure_logging().
#pragma once

#include <agentstream/core/logging.h>

#include <spdlog/logger.h>

#include <memory>
#include <string_view>

namespace agentstream {

/// The logger of one module (`kafka`, `router`, ...), created on first use with the configured
/// level and format. Thread-safe; the returned logger is thread-safe.
std::shared_ptr<spdlog::logger> logger(std::string_view module);

}  // namespace agentstream
