// Logging facade over spdlog: per-module loggers writing to stderr as text or JSON Lines.
//
// Levels come from a spec string such as `info` or `warn,kafka=debug,router=trace`: the first
// bare level is the default, `module=level` entries override it for one module. The CLI's
// `--log-level`, the AGENTSTREAM_LOG_LEVEL environment variable and the config file all use it;
// the CLI wins over the environment, which wins over the file.
//
// The modules' loggers themselves (spdlog's) are internal; this header is what a program that
// embeds agentstream uses to set them, without spdlog's headers.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace agentstream {

enum class LogFormat { Text, Json };

enum class LogLevel : std::uint8_t { Trace, Debug, Info, Warn, Error, Critical, Off };

struct LogSpec {
    LogLevel default_level = LogLevel::Info;
    std::map<std::string, LogLevel, std::less<>> module_levels;
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

/// The level a module logs at now (`kafka`, `router`, ...), as the last configure_logging set it.
LogLevel log_level(std::string_view module);

}  // namespace agentstream
