// Shared pieces of the agentstream command line: exit codes and user-facing errors.
#pragma once

#include <agentstream/config/config.h>

#include <CLI/CLI.hpp>

#include <agentstream/event/types.h>

#include <optional>
#include <stdexcept>
#include <string>

namespace agentstream::cli {

enum ExitCode : int {
    EXIT_OK = 0,
    EXIT_RUNTIME = 1,  ///< a runtime or data error (invalid events, broker failure, ...)
    EXIT_USAGE = 2,    ///< the command line was wrong; the message says how to fix it
};

/// A command-line mistake found after parsing. `what()` says what is wrong, `hint()` what to do.
class UsageError : public std::runtime_error {
  public:
    UsageError(const std::string& message, std::string hint = {})
        : std::runtime_error(message), _hint(std::move(hint)) {}
    const std::string& hint() const noexcept { return _hint; }

  private:
    std::string _hint;
};

/// A failure while running a command (exit code 1).
class RuntimeError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

/// The process exit code a command wants when it finished without throwing (for example 1 when
/// `event validate` found invalid lines). Starts at EXIT_OK.
int& exit_code();

/// A `--type PATTERN` option: nullopt when empty; a UsageError with examples when malformed.
std::optional<event::TypePattern> parse_type_option(const std::string& text);

/// Whether the log levels were chosen explicitly (--log-level or AGENTSTREAM_LOG_LEVEL).
bool& log_level_chosen();

/// The pipeline file given with --config (the default configuration when none was given).
/// Loaded before any subcommand runs.
const config::Config& pipeline_config();
void set_pipeline_config(config::Config config);

/// Registers `agentstream event ...`.
void add_event_commands(CLI::App& app);
/// Registers produce, consume, topics and broker.
void add_kafka_commands(CLI::App& app);
/// Registers process, dlq and offsets.
void add_runtime_commands(CLI::App& app);
/// Registers `agentstream config ...`.
void add_config_commands(CLI::App& app);
void add_router_commands(CLI::App& app);
void add_monitor_commands(CLI::App& app);
/// Registers `agentstream demo`.
void add_demo_command(CLI::App& app);

}  // namespace agentstream::cli
