// agentstream: the one binary. Subcommands are registered by the cmd_*.cc files.
#include <agentstream/core/logging.h>

#include <fmt/format.h>

#include <cstdlib>
#include <iostream>

#include "cli_common.h"

using namespace agentstream;

int main(int argc, char** argv) {
    CLI::App app{"agentstream: real-time event streaming for documents, tasks and AI agents",
                 "agentstream"};
    app.set_version_flag("--version", std::string("agentstream ") + AGENTSTREAM_VERSION);
    app.require_subcommand(1);
    app.fallthrough();
    std::string log_level;
    std::string log_format = "text";
    app.add_option("--log-level", log_level,
                   "Log levels: LEVEL[,MODULE=LEVEL...] (trace, debug, info, warn, error, "
                   "critical, off); overrides AGENTSTREAM_LOG_LEVEL")
        ->type_name("SPEC");
    app.add_option("--log-format", log_format, "Log line format: text or json")
        ->check(CLI::IsMember({"text", "json"}));

    app.parse_complete_callback([&] {
        const char* env = std::getenv("AGENTSTREAM_LOG_LEVEL");
        std::string spec_text = !log_level.empty() ? log_level : (env != nullptr ? env : "info");
        std::string error;
        auto spec = parse_log_spec(spec_text, &error);
        if (!spec) {
            throw cli::UsageError(fmt::format("bad log level spec '{}': {}", spec_text, error),
                                  "Example: --log-level info,kafka=debug");
        }
        configure_logging(*spec, *parse_log_format(log_format));
    });

    cli::add_event_commands(app);

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
    } catch (const cli::RuntimeError& e) {
        fmt::print(stderr, "agentstream: {}\n", e.what());
        return cli::EXIT_RUNTIME;
    } catch (const std::exception& e) {
        fmt::print(stderr, "agentstream: error: {}\n", e.what());
        return cli::EXIT_RUNTIME;
    }
    return cli::exit_code();
}
