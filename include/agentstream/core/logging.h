// Logging facade over spdlog: per-module loggers writing to stderr as text or JSON Lines.
//
// Levels come from a spec string such as `info` or `warn,kafka=debug,router=trace`: the first
// bare level is the default, `module=level` entries override it for one module. The CLI's
// `--log-level`, the AGENTSTREAM_LOG_LEVEL environment variable and the config file all use it;
// the CLI wins over the environment, which wins over the file.
#pragma once

#include <spdlog/logger.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace agentstream {

enum class LogFormat { Text, Json };

struct LogSpec {
    spdlog::level::level_enum default_level = spdlog::level::info;
    std::map<std::string, spdlog::level::level_enum, std::less<>> module_levels;
};

/// Parses a level spec (`info`, `warn,kafka=debug`). Levels: trace, debug, info, warn, error,
/// critical, off. Returns an error message naming the bad part on failure.
std::optional<LogSpec> parse_log_spec(std::string_view spec, std::string* error = nullptr);

/// The spec text that applies: the command line's if given, else the environment's
/// (AGENTSTREAM_LOG_LEVEL) if set and non-empty, else the pipeline file's.
std::string_view choose_log_spec(std::string_view command_line, const char* environment,
                                 std::string_view config_file) noexcept;

/// Parses `text` or `json`.
std::optional<LogFormat> parse_log_format(std::string_view text) noexcept;

/// Applies the spec and format to every existing module logger and to those created later.
/// Thread-safe; meant to be called at start-up and on configuration reload.
void configure_logging(const LogSpec& spec, LogFormat format);

/// The logger of one module (`kafka`, `router`, ...), created on first use with the configured
/// level and format. Thread-safe; the returned logger is thread-safe.
std::shared_ptr<spdlog::logger> logger(std::string_view module);

}  // namespace agentstream
