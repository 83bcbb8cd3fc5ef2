// agentstream routes check | routes test | run
#include <agentstream/core/logging.h>
#include <agentstream/event/codec.h>
#include <agentstream/event/record.h>
#include <agentstream/pipeline/application.h>
#include <agentstream/router/router.h>
#include <agentstream/runtime/dead_letter.h>
#include <agentstream/runtime/routing_processor.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <iostream>
#include <set>
#include <thread>

#include "cli_common.h"
#include "connection.h"
#include "internal/json_escape.h"
#include "line_reader.h"
#include "run_service.h"

namespace agentstream::cli {
namespace {

using namespace std::chrono_literals;

using Pipeline = pipeline::PipelineSpec;

Pipeline load_pipeline(const std::string& file) {
    return pipeline::PipelineSpec::load(file);
}

std::string_view mode_name(router::RoutingMode m) {
    return m == router::RoutingMode::FanOut ? "fanout" : "first_match";
}

// ---- routes check ----

void routes_check(const std::string& file) {
    auto p = load_pipeline(file);
    const auto& r = *p.router;
    fmt::print("{}: ok: {} route(s), mode {}\n", file, r.routes().size(),
               mode_name(r.table().mode));
    if (r.table().allow_cycles) {
        fmt::print(
            "  cycles allowed: an event is routed at most {} time(s) ({}), then "
            "dead-lettered\n",
            r.table().max_hops, router::HOPS_HEADER);
    }
    for (const auto& route : r.routes()) {
        std::vector<std::string> types;
        for (const auto& t : route.event_types) {
            types.push_back(t.text());
        }
        fmt::print("  {:<28} priority {:>3}{}  {} -> {}{}{}\n", route.name, route.priority,
                   route.enabled ? "" : " (disabled)", fmt::join(route.source_topics, ","),
                   fmt::join(route.target_topics, ","),
                   types.empty() ? "" : fmt::format("  types {}", fmt::join(types, ",")),
                   route.transformations.empty()
                       ? ""
                       : fmt::format("  {} transformation(s)", route.transformations.size()));
    }
    if (!r.table().default_topic.empty()) {
        fmt::print("  unmatched events -> {}\n", r.table().default_topic);
    }
}

// ---- routes test ----

struct RouteTestArgs {
    std::string file;
    std::string topic;
    bool json = false;
};

void routes_test(const RouteTestArgs& args) {
    auto p = load_pipeline(args.file);
    const auto& r = *p.router;
    auto sources = r.source_topics();
    std::string topic = args.topic;
    if (topic.empty()) {
        if (sources.size() != 1) {
            throw UsageError(
                fmt::format("the routes read {} topics ({}): which one do the events come from?",
                            sources.size(), fmt::join(sources, ", ")),
                "Add --topic TOPIC");
        }
        topic = sources.front();
    }
    bool validate = p.config.boolean("routing.validate_output");
    router::Routing routing;
    LineReader in("-", event::MAX_EVENT_BYTES);
    LineReader::Line read;
    std::size_t failed = 0;
    while (in.next(read)) {
        auto number = read.number;
        if (read.too_long) {
            ++failed;
            fmt::print(
                "{{\"line\":{},\"error\":\"{} bytes, more than the {} an event may "
                "have\"}}\n",
                number, read.length, in.max_line_bytes());
            continue;
        }
        std::string_view line = read.text;
        if (line.find_first_not_of(" \t\r") == std::string::npos) {
            continue;
        }
        // The runtime decodes and validates before routing; so does the dry run.
        auto decoded = event::decode(line);
        std::optional<std::string> error;
        std::string key;
        if (!decoded) {
            error = fmt::format("invalid event (it would go to {}): {}",
                                runtime::dead_letter_topic_for(topic),
                                event::describe(decoded.error()));
        } else {
            key = event::record_key(*decoded);
            r.route(topic, key, line, routing);
            error = routing.error;
            if (!error && validate) {
                for (const auto& d : routing.deliveries) {
                    if (d.value == router::Delivery::ORIGINAL) {
                        continue;
                    }
                    auto check = event::decode(routing.values[d.value]);
                    if (!check) {
                        error =
                            fmt::format("route '{}' made an invalid event: {}",
                                        r.routes()[d.route].name, event::describe(check.error()));
                        break;
                    }
                }
            }
        }
        failed += error ? 1 : 0;
        auto value_of = [&](const router::Delivery& d) -> std::string_view {
            return d.value == router::Delivery::ORIGINAL ? std::string_view(line)
                                                         : routing.values[d.value];
        };
        auto key_of = [&](const router::Delivery& d) -> std::string_view {
            return d.key == router::Delivery::ORIGINAL ? std::string_view(key)
                                                       : routing.keys[d.key];
        };
        if (args.json) {
            std::string out = fmt::format("{{\"line\":{}", number);
            if (decoded) {
                out += ",\"event_type\":";
                append_json_string(out, event::to_string(decoded->type()));
            }
            out += ",\"matched\":[";
            if (decoded) {
                for (std::size_t i = 0; i < routing.matched.size(); ++i) {
                    out += i ? "," : "";
                    append_json_string(out, r.routes()[routing.matched[i]].name);
                }
            }
            out += "],\"deliveries\":[";
            if (decoded && !error) {
                for (std::size_t i = 0; i < routing.deliveries.size(); ++i) {
                    const auto& d = routing.deliveries[i];
                    out += i ? "," : "";
                    out += "{\"route\":";
                    if (d.route == router::Delivery::NO_ROUTE) {
                        out += "null";
                    } else {
                        append_json_string(out, r.routes()[d.route].name);
                    }
                    out += ",\"topic\":";
                    append_json_string(out, d.topic);
                    out += ",\"key\":";
                    append_json_string(out, key_of(d));
                    out += fmt::format(",\"transformed\":{},\"value\":",
                                       d.value != router::Delivery::ORIGINAL);
                    out += value_of(d);
                    out += "}";
                }
            }
            out += "]";
            if (error) {
                out += ",\"error\":";
                append_json_string(out, *error);
            }
            out += "}\n";
            fmt::print("{}", out);
            continue;
        }
        if (!decoded) {
            fmt::print("line {}: {}\n", number, *error);
            continue;
        }
        fmt::print("line {}: {} {}\n", number, event::to_string(decoded->type()), key);
        if (error) {
            fmt::print("  error: {} (the event would go to {})\n", *error,
                       runtime::dead_letter_topic_for(topic));
            continue;
        }
        if (routing.deliveries.empty()) {
            fmt::print("  no route matched\n");
            continue;
        }
        for (const auto& d : routing.deliveries) {
            auto route = d.route == router::Delivery::NO_ROUTE
                             ? std::string("(unmatched: default topic)")
                             : r.routes()[d.route].name;
            fmt::print("  -> {} via {}{}{}\n     {}\n", d.topic, route,
                       d.value == router::Delivery::ORIGINAL ? " (original bytes)" : "",
                       d.key == router::Delivery::ORIGINAL ? "" : fmt::format(" key {}", key_of(d)),
                       value_of(d));
        }
    }
    if (failed > 0) {
        exit_code() = EXIT_RUNTIME;
    }
}

// ---- run ----

std::atomic<pipeline::Application*> g_running{nullptr};
extern "C" void on_run_signal(int signal) {
    if (auto* app = g_running.load()) {
        if (signal == SIGHUP) {
            app->request_reload();
        } else {
            app->stop();
        }
    }
}

}  // namespace

void run_pipeline(const RunArgs& args, const RunHooks& hooks) {
    const auto& file = pipeline_config().source();
    if (file.empty()) {
        throw UsageError("run needs a pipeline file",
                         "Add --config FILE (config/pipeline.yaml "
                         "is a complete example)");
    }
    pipeline::ApplicationOptions options;
    options.connection = connection_options();
    options.workers = args.workers;
    options.exactly_once = args.exactly_once;
    options.from_latest = args.from_latest;
    if (args.http_port >= 0) {
        options.http_port = args.http_port;
    }
    options.status_interval =
        std::chrono::milliseconds(static_cast<std::int64_t>(args.status_interval_s * 1000));
    options.watch_interval =
        std::chrono::milliseconds(static_cast<std::int64_t>(args.watch_interval_s * 1000));
    pipeline::ApplicationSummary summary;
    try {
        pipeline::Application app(pipeline::PipelineSpec::load(file), options);
        g_running.store(&app);
        std::signal(SIGINT, on_run_signal);
        std::signal(SIGTERM, on_run_signal);
        std::signal(SIGHUP, on_run_signal);
        struct Unset {
            ~Unset() { g_running.store(nullptr); }
        } unset;
        summary = app.run(hooks);
    } catch (const pipeline::SetupError& e) {
        throw UsageError(e.what(), e.hint());
    }
    const auto& p = summary.totals.processor;
    const auto& m = summary.totals.router;
    fmt::print(stderr,
               "agentstream: run: consumed {}, routed {}, unmatched {}, dead-lettered {}, "
               "reloads {} ({} rejected), lost {}\n",
               p.consumed, p.processed, m.unmatched, p.dead_lettered, summary.reloads,
               summary.rejected, p.lost);
    if (p.unfinished_at_stop > 0) {
        fmt::print(stderr,
                   "agentstream: run: {} event(s) not written within the shutdown deadline: left "
                   "uncommitted, the next start processes them again\n",
                   p.unfinished_at_stop);
    }
    if (p.lost > 0 || p.unfinished_at_stop > 0) {
        exit_code() = EXIT_RUNTIME;
    }
}

namespace {

void run(const RunArgs& args) {
    run_pipeline(args);
}

}  // namespace

void add_router_commands(CLI::App& app) {
    auto* routes = app.add_subcommand("routes", "Check pipeline routes and try them on events");
    routes->require_subcommand(1);

    auto check_file = std::make_shared<std::string>();
    auto* check = routes->add_subcommand(
        "check", "Validate a pipeline file's routes; exit 2 with file, line and what was expected");
    check->add_option("FILE", *check_file, "Pipeline file (YAML)")->required();
    check->callback([check_file] { routes_check(*check_file); });

    auto test_args = std::make_shared<RouteTestArgs>();
    auto* test = routes->add_subcommand(
        "test",
        "Route JSON Lines events from stdin without a broker: the routes each event matches and "
        "what each target topic would receive");
    test->add_option("FILE", test_args->file, "Pipeline file (YAML)")->required();
    test->add_option("--topic", test_args->topic,
                     "Source topic the events come from (needed when the routes read several)");
    test->add_flag("--json", test_args->json, "One JSON object per event");
    test->callback([test_args] { routes_test(*test_args); });

    auto run_args = std::make_shared<RunArgs>();
    auto* run_cmd = app.add_subcommand(
        "run",
        "Run the pipeline file (--config FILE) as a service until interrupted: its routes now; "
        "SIGHUP or an edit of the file reloads it");
    run_cmd
        ->add_option("--workers", run_args->workers,
                     "Threads routing events (per-key order is kept)")
        ->check(CLI::Range(1, 64));
    run_cmd->add_flag("--exactly-once", run_args->exactly_once,
                      "Kafka transactions (real Kafka only)");
    run_cmd->add_flag("--from-latest", run_args->from_latest,
                      "A new consumer group starts at the end instead of the beginning");
    run_cmd
        ->add_option("--status-interval", run_args->status_interval_s,
                     "Seconds between status log lines (0: none)")
        ->check(CLI::Range(0, 315'360'000));
    run_cmd
        ->add_option("--http-port", run_args->http_port,
                     "Port of the monitor's HTTP API (0: any free one; default http.port)")
        ->check(CLI::Range(0, 65535));
    run_cmd
        ->add_option("--watch-interval", run_args->watch_interval_s,
                     "Seconds between checks of the file for changes")
        ->check(CLI::Range(0.01, 86400.0));
    add_instance_option(*run_cmd);
    run_cmd->callback([run_args] { run(*run_args); });
}

}  // namespace agentstream::cli
