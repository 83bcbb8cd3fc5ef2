// agentstream: the one binary. Subcommands are registered by the cmd_*.cc files.
#include <agentstream/core/allocator.h>
#include <agentstream/core/logging.h>
#include <agentstream/kafka/options.h>
#include <agentstream/version.h>

#include <fmt/format.h>

#include <cstdlib>
#include <iostream>

#include "cli_common.h"
#include "connection.h"

using namespace agentstream;

int main(int argc, char** argv) {
    CLI::App app{"agentstream: real-time event streaming for documents, tasks and AI agents",
                 "agentstream"};
    app.set_version_flag("--version",
                         fmt::format("agentstream {} (librdkafka {}, {})", library_version(),
                                     kafka::librdkafka_version(), allocator_name()));
    app.require_subcommand(1);
    app.fallthrough();
    std::string log_level;
    std::string log_format;
    std::string config_file;
    app.add_option("-c,--config", config_file, "Pipeline file (YAML); see docs/configuration.md")
        ->type_name("FILE");
    app.add_option("--log-level", log_level,
                   "Log levels: LEVEL[,MODULE=LEVEL...] (trace, debug, info, warn, error, "
                   "critical, off); overrides AGENTSTREAM_LOG_LEVEL")
        ->type_name("SPEC");
    app.add_option("--log-format", log_format,
                   "Log line format: text or json; overrides the config file")
        ->check(CLI::IsMember({"text", "json"}));

    app.parse_complete_callback([&] {
        if (!config_file.empty()) {
            cli::set_pipeline_config(config::Config::load(config_file));
        }
        const auto& cfg = cli::pipeline_config();
        // Precedence: command line, then environment, then the pipeline file.
        auto file_level = cfg.string("logging.level");
        cli::log_level_chosen() = !log_level.empty() || std::getenv("AGENTSTREAM_LOG_LEVEL");
        std::string spec_text(
            choose_log_spec(log_level, std::getenv("AGENTSTREAM_LOG_LEVEL"), file_level));
        std::string error;
        auto spec = parse_log_spec(spec_text, &error);
        if (!spec) {
            throw cli::UsageError(fmt::format("bad log level spec '{}': {}", spec_text, error),
                                  "Example: --log-level info,kafka=debug");
        }
        auto format =
            parse_log_format(log_format.empty() ? cfg.string("logging.format") : log_format);
        configure_logging(*spec, *format);
    });

    cli::add_kafka_options(app);
    cli::add_event_commands(app);
    cli::add_kafka_commands(app);
    cli::add_runtime_commands(app);
    cli::add_config_commands(app);
    cli::add_router_commands(app);
    cli::add_monitor_commands(app);
    cli::add_demo_command(app);

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        app.exit(e);  // prints the message and the usage
        return cli::EXIT_USAGE;
    } catch (const cli::UsageError& e) {
        fmt::print(stderr, "agentstream: {}\n", e.what());
        if (!e.hint().empty()) {
            fmt::print(stderr, "{}\n", e.hint());
        }
        return cli::EXIT_USAGE;
    } catch (const config::ConfigError& e) {
        fmt::print(stderr, "agentstream: {}\n", e.what());
        return cli::EXIT_USAGE;
    } catch (const kafka::KafkaError& e) {
        fmt::print(stderr, "agentstream: {}\n", e.what());
        return cli::EXIT_RUNTIME;
    } catch (const cli::RuntimeError& e) {
        fmt::print(stderr, "agentstream: {}\n", e.what());
        return cli::EXIT_RUNTIME;
    } catch (const std::exception& e) {
        fmt::print(stderr, "agentstream: error: {}\n", e.what());
        return cli::EXIT_RUNTIME;
    }
    return cli::exit_code();
}
