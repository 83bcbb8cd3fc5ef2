// agentstream alerts check | alerts test
#include <agentstream/config/config.h>
#include <agentstream/core/http_client.h>
#include <agentstream/core/time.h>
#include <agentstream/monitor/alert_replay.h>
#include <agentstream/monitor/alerts.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <fstream>

#include "cli_common.h"
#include "line_reader.h"

namespace agentstream::cli {
namespace {

std::vector<monitor::AlertRule> load_rules(const std::string& file,
                                           const monitor::MetricsRegistry& registry) {
    return monitor::load_alert_rules(config::Config::load(file), registry);
}

void alerts_check(const std::string& file) {
    monitor::MetricsRegistry registry;
    auto rules = load_rules(file, registry);
    fmt::print("{}: ok: {} alert rule(s)\n", file, rules.size());
    for (const auto& r : rules) {
        fmt::print(
            "  {:<22} {:<8} {} {} {}{}{}\n", r.name, to_string(r.severity), r.metric,
            to_string(r.condition), r.threshold,
            r.for_duration.count() ? fmt::format(" for {}s", r.for_duration.count() / 1000.0) : "",
            r.enabled ? "" : " (disabled)");
    }
}

struct AlertTestArgs {
    std::string rules;
    std::string series;
    std::string step;
    bool json = false;
};

void alerts_test(const AlertTestArgs& args) {
    monitor::MetricsRegistry registry;
    auto rules = load_rules(args.rules, registry);
    std::optional<std::chrono::milliseconds> step;
    if (!args.step.empty()) {
        step = monitor::parse_duration(args.step);
        if (!step || step->count() == 0) {
            throw UsageError(fmt::format("--step {}: not a duration of at most 87600h", args.step),
                             "Use 10s, 1m, 250ms, ...");
        }
    }
    monitor::AlertReplay replay(std::move(rules), registry);
    LineReader in(args.series, 1024 * 1024);
    LineReader::Line read;
    std::size_t number = 0;
    auto bad = [&](const std::string& why) {
        throw UsageError(fmt::format("{}:{}: {}", args.series, number, why),
                         "Each line: {\"time\": \"RFC 3339\", \"metric\": \"name[:reading]\", "
                         "\"labels\": {...}, \"value\": number or null}");
    };
    while (in.next(read)) {
        number = read.number;
        if (read.too_long) {
            bad(fmt::format("{} bytes, more than the {} a line may have", read.length,
                            in.max_line_bytes()));
        }
        if (read.text.find_first_not_of(" \t\r") == std::string::npos) {
            continue;
        }
        auto point = monitor::parse_recorded_point(read.text);
        if (!point) {
            bad(point.error());
        }
        try {
            replay.add(std::move(*point));
        } catch (const std::invalid_argument& e) {
            bad(e.what());
        }
    }
    auto summary = replay.run(step, [&](Timestamp t, const monitor::AlertEvent& e) {
        auto what = monitor::series_text(e.rule->name, *e.series_labels);
        if (args.json) {
            nlohmann::json out = {
                {"time", format_rfc3339(t)},
                {"rule", e.rule->name},
                {"state", to_string(e.kind)},
                {"severity", to_string(e.rule->severity)},
                {"value", e.value},
                {"since",
                 format_rfc3339(std::chrono::time_point_cast<std::chrono::microseconds>(e.since))}};
            nlohmann::json labels = nlohmann::json::object();
            for (const auto& [k, v] : *e.series_labels) {
                labels[k] = v;
            }
            out["labels"] = labels;
            fmt::print("{}\n", out.dump());
        } else {
            fmt::print("{}  {:<8}  {:<9} {}  value {}\n", format_rfc3339(t),
                       to_string(e.rule->severity), to_string(e.kind), what, e.value);
        }
    });
    if (!args.json) {
        const auto& engine = replay.engine();
        std::vector<std::string> names;
        for (const auto& a : engine.active()) {
            names.push_back(fmt::format("{} ({})",
                                        monitor::series_text(a.rule->name, a.series_labels),
                                        to_string(a.state)));
        }
        fmt::print("{} evaluation(s), {} transition(s), {} fired, {} resolved; at the end: {}\n",
                   summary.evaluations, summary.transitions, engine.fired_total(),
                   engine.resolved_total(),
                   names.empty() ? std::string("nothing active")
                                 : fmt::format("{}", fmt::join(names, ", ")));
    }
}

struct StatusArgs {
    std::string url = "http://127.0.0.1:8686";
    std::string token;
};

void status(const StatusArgs& args) {
    std::string token = args.token;
    if (token.empty()) {
        if (const char* env = std::getenv("AGENTSTREAM_HTTP_TOKEN")) {
            token = env;
        }
    }
    auto reply = http::get(args.url, "/api/dashboard", token);
    if (!reply) {
        throw RuntimeError(
            fmt::format("{}; is `agentstream run` running there? (--url)", reply.error().message));
    }
    if (reply->status == 401) {
        throw UsageError(fmt::format("{} wants a token", args.url),
                         "Give --token TOKEN (or AGENTSTREAM_HTTP_TOKEN)");
    }
    if (reply->status != 200) {
        throw RuntimeError(fmt::format("{}/api/dashboard answered {}", args.url, reply->status));
    }
    auto d = nlohmann::json::parse(reply->body, nullptr, false);
    if (d.is_discarded() || !d.is_object()) {
        throw RuntimeError(fmt::format("{}/api/dashboard: not a dashboard snapshot", args.url));
    }
    const auto& m = d["metrics"];
    fmt::print("{}  up {:.0f} s  ({})\n", args.url, d.value("uptime_seconds", 0.0),
               d.value("timestamp", ""));
    // The snapshot is the last tick's: say whether the monitor is still ticking and whether
    // the service is ready, as the probes see it.
    auto live = http::get(args.url, "/healthz", token);
    auto ready = http::get(args.url, "/readyz", token);
    auto probe = [](const auto& answer) {
        if (!answer) {
            return fmt::format("unknown ({})", answer.error().message);
        }
        auto body = answer->body;
        while (!body.empty() && body.back() == '\n') {
            body.pop_back();
        }
        return fmt::format("{} {}", answer->status, body);
    };
    bool stale = !live || live->status != 200;
    fmt::print("live: {}\nready: {}\n", probe(live), probe(ready));
    fmt::print("health:\n");
    for (auto& [component, h] : d["component_health"].items()) {
        fmt::print("  {:<22} {:<8} {}\n", component, h.value("status", ""), h.value("message", ""));
    }
    fmt::print("events/s {:.1f}   error rate {:.2f}%   avg latency {:.2f} ms   active tasks {}\n",
               m.value("events_per_second", 0.0), m.value("error_rate", 0.0),
               m.value("avg_latency_ms", 0.0), m.value("active_tasks", 0.0));
    for (auto& [name, l] : d["latency"].items()) {
        fmt::print("latency {:<18} p50 {:.2f} ms  p95 {:.2f} ms  p99 {:.2f} ms\n", name,
                   l.value("p50_ms", 0.0), l.value("p95_ms", 0.0), l.value("p99_ms", 0.0));
    }
    for (auto& [group, lag] : d["lag"].items()) {
        fmt::print("lag     {:<18} {}\n", group, lag.dump());
    }
    const auto& alerts = d["alerts"];
    fmt::print("alerts: {} firing, {} fired since start\n", alerts.value("active_count", 0),
               alerts.value("total_triggered", 0));
    for (const auto& a : d["active_alerts"]) {
        fmt::print("  {:<8} {:<8} {} {} value {}  since {}\n", a.value("severity", ""),
                   a.value("state", ""), a.value("rule", ""), a["labels"].dump(), a["value"].dump(),
                   a.value("since", ""));
    }
    if (stale) {
        throw RuntimeError(fmt::format(
            "{}: the monitor is not ticking; the figures above are its last snapshot", args.url));
    }
}

}  // namespace

void add_monitor_commands(CLI::App& app) {
    auto status_args = std::make_shared<StatusArgs>();
    auto* status_cmd = app.add_subcommand(
        "status", "Print a running service's health, rates, latency, lag and active alerts");
    status_cmd->add_option("--url", status_args->url, "The service's HTTP API")
        ->capture_default_str();
    status_cmd->add_option("--token", status_args->token,
                           "Bearer token (http.token; or AGENTSTREAM_HTTP_TOKEN)");
    status_cmd->callback([status_args] { status(*status_args); });

    auto* alerts =
        app.add_subcommand("alerts", "Check alert rules and try them on recorded series");
    alerts->require_subcommand(1);

    auto check_file = std::make_shared<std::string>();
    auto* check = alerts->add_subcommand(
        "check", "Validate a pipeline file's alert rules (with the built-in defaults)");
    check->add_option("FILE", *check_file, "Pipeline file (YAML)")->required();
    check->callback([check_file] { alerts_check(*check_file); });

    auto args = std::make_shared<AlertTestArgs>();
    auto* test = alerts->add_subcommand(
        "test",
        "Evaluate the alert rules over recorded series (JSON Lines: time, metric, labels, value) "
        "and print the alert timeline, like a rule unit test");
    test->add_option("RULES", args->rules, "Pipeline file with the alert rules")->required();
    test->add_option("SERIES", args->series, "Recorded series, JSON Lines")->required();
    test->add_option("--step", args->step,
                     "Also evaluate every STEP between the first and the last time (values carry "
                     "forward), so `for` durations play out");
    test->add_flag("--json", args->json, "One JSON object per transition");
    test->callback([args] { alerts_test(*args); });
}

}  // namespace agentstream::cli
