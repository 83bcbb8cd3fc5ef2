// `agentstream demo`: the whole system (the standard pipeline's routes, processors, agents,
// monitor and dashboard) on the embedded broker or a real cluster, fed by the load simulator
// for a while; a live progress line, then a summary computed from what happened.
#include <agentstream/agents/orchestrator.h>
#include <agentstream/core/logging.h>
#include <agentstream/core/time.h>
#include <agentstream/pipeline/demo.h>
#include <agentstream/processors/agent_config.h>

#include <fmt/format.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>

#include "cli_common.h"
#include "connection.h"

namespace agentstream::cli {

namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

struct DemoArgs {
    std::string duration = "3m";
    double rate = 5;
    std::string mix;
    bool no_errors = false;
    double error_rate = 3;
    int http_port = -1;
    std::string summary_json;
    std::uint64_t seed = 0;
};

// The standard pipeline file: --config, else config/pipeline.yaml under AGENTSTREAM_HOME, the
// current directory or the source tree this binary was built from.
void choose_pipeline() {
    if (!pipeline_config().source().empty()) {
        return;
    }
    std::vector<fs::path> homes;
    if (const char* home = std::getenv("AGENTSTREAM_HOME"); home != nullptr && *home != 0) {
        homes.emplace_back(home);
    }
    homes.emplace_back(fs::current_path());
    homes.emplace_back(AGENTSTREAM_SOURCE_DIR);
    for (const auto& home : homes) {
        auto file = home / "config" / "pipeline.yaml";
        if (fs::exists(file)) {
            set_pipeline_config(config::Config::load(file.string()));
            return;
        }
    }
    throw UsageError(
        "cannot find config/pipeline.yaml",
        "Run it from the repository, set AGENTSTREAM_HOME to it, or give --config FILE");
}

std::atomic<pipeline::StreamingDemo*> g_demo{nullptr};
extern "C" void on_demo_signal(int) {
    if (auto* demo = g_demo.load()) {
        demo->stop();
    }
}

std::string clock_text(std::chrono::seconds s) {
    return fmt::format("{:02}:{:02}", s.count() / 60, s.count() % 60);
}

// The live progress line: rewritten in place on a terminal, every 10 s otherwise.
struct Progress {
    bool tty = ::isatty(2) != 0;
    Clock::time_point next_line;

    void operator()(const pipeline::DemoProgress& p) {
        auto now = Clock::now();
        if (!tty && now < next_line) {
            return;
        }
        next_line = now + std::chrono::seconds(10);
        const auto& v = p.view;
        const auto& c = p.generated;
        double secs = std::max(1e-3, std::chrono::duration<double>(p.elapsed).count());
        int busy = 0;
        int agents = 0;
        std::uint64_t done = 0, failed = 0;
        if (auto service = v.domain.agent_service()) {
            for (const auto& a : service->orchestrator().agents()) {
                busy += a.running > 0 ? 1 : 0;
                ++agents;
            }
            auto s = service->orchestrator().stats();
            done = s.completed;
            failed = s.failed;
        }
        auto alerts = v.monitor.alert_counts();
        auto line = fmt::format(
            "[{} / {}] sent {} ({:.1f}/s drawn) · routed {} · tasks {} done, {} failed · alerts {} "
            "fired · agents busy {}/{}{}",
            clock_text(std::chrono::duration_cast<std::chrono::seconds>(p.elapsed)),
            clock_text(std::chrono::duration_cast<std::chrono::seconds>(p.duration)), c.sent,
            static_cast<double>(c.scheduled) / secs, v.router_processor.processed, done, failed,
            alerts.fired, busy, agents, p.draining ? " · draining" : "");
        if (tty) {
            fmt::print(stderr, "\r\033[K{}", line);
        } else {
            fmt::print(stderr, "{}\n", line);
        }
        std::fflush(stderr);
    }
};

struct Summary {
    static void print(const json& s) {
        fmt::print("\n== agentstream demo: summary ({:.0f} s{})\n",
                   s["duration_seconds"].get<double>(),
                   s["interrupted"].get<bool>() ? ", interrupted" : "");
        fmt::print(
            "generated   {} events (drawn at {:.1f}/s, target {:.1f}/s; with follow-ups and "
            "faults)\n",
            s["generated"]["total"].get<std::uint64_t>(), s["rate"]["achieved"].get<double>(),
            s["rate"]["target"].get<double>());
        for (const auto& [type, n] : s["generated"]["by_type"].items()) {
            fmt::print("  {:<28} {}\n", type, n.get<std::uint64_t>());
        }
        for (const auto& [kind, n] : s["generated"]["faults"].items()) {
            fmt::print("  fault: {:<21} {}\n", kind, n.get<std::uint64_t>());
        }
        const auto& router = s["processed"]["router"];
        fmt::print("router      consumed {}, routed {}, unmatched {}, dead-lettered {}\n",
                   router["consumed"].get<std::uint64_t>(), router["routed"].get<std::uint64_t>(),
                   router["unmatched"].get<std::uint64_t>(),
                   router["dead_lettered"].get<std::uint64_t>());
        for (const auto& r : s["routes"]) {
            fmt::print("  route {:<28} matched {:>6}  delivered {:>6}\n",
                       r["name"].get<std::string>(), r["matched"].get<std::uint64_t>(),
                       r["delivered"].get<std::uint64_t>());
        }
        fmt::print("processors\n");
        for (const auto& p : s["processed"]["processors"]) {
            fmt::print("  {:<34} consumed {:>6}  processed {:>6}  dead-lettered {}\n",
                       p["name"].get<std::string>(), p["consumed"].get<std::uint64_t>(),
                       p["processed"].get<std::uint64_t>(),
                       p["dead_lettered"].get<std::uint64_t>());
        }
        fmt::print("dead letters {} in all\n", s["dead_lettered"].get<std::uint64_t>());
        if (s.contains("tasks")) {
            const auto& t = s["tasks"];
            fmt::print(
                "tasks       {} completed, {} failed ({} retries, {} timeouts, {} with no "
                "agent)\n",
                t["completed"].get<std::uint64_t>(), t["failed"].get<std::uint64_t>(),
                t["retries"].get<std::uint64_t>(), t["timeouts"].get<std::uint64_t>(),
                t["unassignable"].get<std::uint64_t>());
        }
        for (const auto& a : s["agents"]) {
            fmt::print(
                "  agent {:<24} {:>5} done, {:>3} errors, mean {:>7.1f} ms, utilisation "
                "{:.1f}%\n",
                a["id"].get<std::string>(), a["completed"].get<std::uint64_t>(),
                a["errors"].get<std::uint64_t>(), a["mean_task_ms"].get<double>(),
                a["utilisation_percent"].get<double>());
        }
        const auto& l = s["latency_ms"];
        fmt::print(
            "latency     router p50 {:.2f} / p95 {:.2f} / p99 {:.2f} ms; end to end p50 "
            "{:.1f} / p95 {:.1f} / p99 {:.1f} ms\n",
            l["router"]["p50"].get<double>(), l["router"]["p95"].get<double>(),
            l["router"]["p99"].get<double>(), l["end_to_end"]["p50"].get<double>(),
            l["end_to_end"]["p95"].get<double>(), l["end_to_end"]["p99"].get<double>());
        fmt::print("alerts      {} fired, {} resolved\n", s["alerts"]["fired"].get<std::uint64_t>(),
                   s["alerts"]["resolved"].get<std::uint64_t>());
        fmt::print("health\n");
        for (const auto& h : s["health"]) {
            fmt::print("  {:<34} {:<8} {}\n", h["component"].get<std::string>(),
                       h["status"].get<std::string>(), h["message"].get<std::string>());
        }
    }
};

void demo(const DemoArgs& args) {
    auto duration = parse_duration(args.duration);
    if (!duration || duration->count() <= 0) {
        throw UsageError(
            fmt::format("--duration '{}' is not a duration of at most 87600h", args.duration),
            "Examples: --duration 20s, --duration 3m");
    }
    if (!(args.rate > 0) || args.rate > 1'000'000) {
        throw UsageError("--rate must be above 0 (events per second) and at most 1000000");
    }
    if (args.error_rate < 0 || args.error_rate > 100) {
        throw UsageError("--error-rate is a percentage: 0 to 100");
    }
    choose_pipeline();
    if (!log_level_chosen()) {
        // The progress line and the summary tell the story; the log keeps to problems (a
        // --log-level shows more, e.g. info,notify=info for every notification).
        auto format = parse_log_format(pipeline_config().string("logging.format"));
        configure_logging(*parse_log_spec("warn,notify=error"), format.value_or(LogFormat::Text));
    }
    pipeline::StreamingDemoConfig config;
    config.duration = *duration;
    config.event_generation_rate = args.rate;
    config.simulate_errors = !args.no_errors;
    config.error_rate_percent = args.error_rate;
    config.seed = args.seed;
    try {
        if (!args.mix.empty()) {
            config.mix = pipeline::parse_mix(args.mix);
        }
    } catch (const std::invalid_argument& e) {
        throw UsageError(
            fmt::format("--mix: {}", e.what()),
            "Example: --mix document=30,task=25,agent=20,analytics=15,notification=10");
    }
    pipeline::ApplicationOptions options;
    options.connection = connection_options();
    if (args.http_port >= 0) {
        options.http_port = args.http_port;
    }
    std::unique_ptr<pipeline::StreamingDemo> demo;
    try {
        demo = std::make_unique<pipeline::StreamingDemo>(
            pipeline::PipelineSpec::from(pipeline_config()), config, options);
    } catch (const pipeline::SetupError& e) {
        throw UsageError(e.what(), e.hint());
    }
    g_demo.store(demo.get());
    std::signal(SIGINT, on_demo_signal);
    std::signal(SIGTERM, on_demo_signal);
    struct Unset {
        ~Unset() { g_demo.store(nullptr); }
    } unset;
    Progress progress;
    auto started = [&args, &config](const pipeline::ApplicationView& v) {
        auto url = v.monitor.url();
        fmt::print(stderr,
                   "agentstream demo: {} at {:g} events/s for {}s on {}; dashboard: {}\n"
                   "Ctrl-C ends it early with the same summary.\n",
                   v.connection.embedded() ? "the embedded broker" : "Kafka", args.rate,
                   std::chrono::duration_cast<std::chrono::seconds>(config.duration).count(),
                   v.connection.brokers(), url ? *url + "/" : std::string("(HTTP disabled)"));
    };
    nlohmann::json s;
    try {
        s = demo->run(std::ref(progress), started);
    } catch (const pipeline::SetupError& e) {
        throw UsageError(e.what(), e.hint());
    }
    if (progress.tty) {
        fmt::print(stderr, "\n");
    }
    Summary::print(s);
    if (!args.summary_json.empty()) {
        std::ofstream out(args.summary_json);
        out << s.dump(2) << "\n";
        if (!out) {
            throw RuntimeError("cannot write " + args.summary_json);
        }
    }
}

}  // namespace

void add_demo_command(CLI::App& app) {
    auto args = std::make_shared<DemoArgs>();
    auto* cmd = app.add_subcommand(
        "demo",
        "Run the whole system (routes, processors, agents, monitor, dashboard) on the embedded "
        "broker (or --brokers) with simulated load, then print a summary of what happened");
    cmd->add_option("--duration", args->duration, "How long to simulate, e.g. 20s or 3m")
        ->capture_default_str();
    cmd->add_option("--rate", args->rate, "Events per second")->capture_default_str();
    cmd->add_option("--mix", args->mix,
                    "Event mix in percent: document=30,task=25,agent=20,analytics=15,"
                    "notification=10 (any subset)");
    cmd->add_flag("--no-errors", args->no_errors, "Do not inject faults");
    cmd->add_option("--error-rate", args->error_rate,
                    "Percent of events followed by an injected fault")
        ->capture_default_str();
    cmd->add_option("--http-port", args->http_port,
                    "Dashboard / API port (0: any free one; default http.port of the file)")
        ->check(CLI::Range(0, 65535));
    cmd->add_option("--summary-json", args->summary_json, "Also write the summary as JSON here");
    cmd->add_option("--seed", args->seed, "Random seed of the simulator (0: from the clock)");
    cmd->callback([args] { demo(*args); });
}

}  // namespace agentstream::cli
