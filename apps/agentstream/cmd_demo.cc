// `agentstream demo`: the whole system (the standard pipeline's routes, processors, agents,
// monitor and dashboard) on the embedded broker or a real cluster, fed by the load simulator
// for a while; a live progress line, then a summary computed from what happened.
#include <agentstream/agents/orchestrator.h>
#include <agentstream/core/logging.h>
#include <agentstream/core/time.h>
#include <agentstream/processors/agent_config.h>

#include <fmt/format.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>

#include "cli_common.h"
#include "connection.h"
#include "run_service.h"
#include "simulator.h"

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

std::string clock_text(std::chrono::seconds s) {
    return fmt::format("{:02}:{:02}", s.count() / 60, s.count() % 60);
}

struct Demo {
    DemoArgs args;
    std::chrono::milliseconds duration{};
    SimulatorOptions sim_options;
    std::unique_ptr<Simulator> simulator;
    Clock::time_point started;
    Clock::time_point sim_stopped;
    bool draining = false;
    std::uint64_t last_total = 0;
    int still = 0;
    bool tty = ::isatty(2) != 0;
    Clock::time_point next_line;
    std::string url;

    static std::uint64_t consumed(const RunView& v) {
        std::uint64_t n = v.router_processor.consumed;
        for (const auto& r : v.domain.rows()) {
            n += r.consumed + r.processed;
        }
        return n;
    }

    void progress(const RunView& v, std::chrono::milliseconds elapsed) {
        auto now = Clock::now();
        if (!tty && now < next_line) {
            return;
        }
        next_line = now + std::chrono::seconds(10);
        auto c = simulator ? simulator->counts() : SimulatorCounts{};
        double secs = std::max(1e-3, std::chrono::duration<double>(elapsed).count());
        int busy = 0;
        int agents = 0;
        std::uint64_t done = 0, failed = 0;
        if (const auto* service = v.domain.agent_service()) {
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
            clock_text(std::chrono::duration_cast<std::chrono::seconds>(elapsed)),
            clock_text(std::chrono::duration_cast<std::chrono::seconds>(duration)), c.sent,
            static_cast<double>(c.scheduled) / secs, v.router_processor.processed, done, failed,
            alerts.fired, busy, agents, draining ? " · draining" : "");
        if (tty) {
            fmt::print(stderr, "\r\033[K{}", line);
        } else {
            fmt::print(stderr, "{}\n", line);
        }
        std::fflush(stderr);
    }

    // false once the simulation ran its time and everything it caused was processed.
    bool tick(const RunView& v) {
        auto now = Clock::now();
        auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
            (draining ? sim_stopped : now) - started);
        progress(v, elapsed);
        if (!draining && now - started >= duration) {
            simulator->stop();
            sim_stopped = Clock::now();
            draining = true;
            return true;
        }
        if (!draining) {
            return true;
        }
        // Drained: the router has nothing in flight and nothing waiting, the agents are idle,
        // and no consumer moved for three ticks (or 30 s passed).
        bool agents_idle = true;
        if (const auto* service = v.domain.agent_service()) {
            auto s = service->orchestrator().stats();
            agents_idle = s.queued == 0 && s.running == 0 && service->stats().pending == 0;
        }
        auto total = consumed(v);
        still = total == last_total ? still + 1 : 0;
        last_total = total;
        bool router_idle = v.router_processor.in_flight == 0 && v.router_processor.lag <= 0;
        return !(agents_idle && router_idle && still >= 3) &&
               now - sim_stopped < std::chrono::seconds(30);
    }

    json summary(const RunView& v) {
        if (simulator) {
            simulator->stop();
            if (!draining) {
                sim_stopped = Clock::now();
            }
        }
        auto run_ms = std::chrono::duration_cast<std::chrono::milliseconds>(sim_stopped - started);
        auto c = simulator ? simulator->counts() : SimulatorCounts{};
        double secs = std::max(1e-3, std::chrono::duration<double>(run_ms).count());
        json s;
        s["duration_seconds"] = secs;
        // The rate is of the events drawn; follow-ups (a document processed after its upload,
        // an agent's completion after its start) and faults come on top.
        s["rate"] = {{"target", args.rate}, {"achieved", static_cast<double>(c.scheduled) / secs}};
        s["generated"] = {{"total", c.sent},
                          {"by_type", c.by_type},
                          {"by_topic", c.by_topic},
                          {"faults", c.faults},
                          {"not_acknowledged", c.failed}};
        const auto& p = v.router_processor;
        std::uint64_t dead = p.dead_lettered;
        json processors = json::array();
        for (const auto& r : v.domain.rows()) {
            processors.push_back({{"name", r.name},
                                  {"consumed", r.consumed},
                                  {"processed", r.processed},
                                  {"dead_lettered", r.dead_lettered}});
            dead += r.dead_lettered;
        }
        s["processed"] = {{"router",
                           {{"consumed", p.consumed},
                            {"routed", p.processed},
                            {"unmatched", v.routes.unmatched},
                            {"dead_lettered", p.dead_lettered}}},
                          {"processors", processors}};
        json routes = json::array();
        for (const auto& r : v.routes.routes) {
            routes.push_back({{"name", r.name},
                              {"matched", r.matched},
                              {"delivered", r.delivered},
                              {"filtered_out", r.filtered_out}});
        }
        s["routes"] = routes;
        s["dead_lettered"] = dead;
        json agents = json::array();
        if (const auto* service = v.domain.agent_service()) {
            auto q = service->orchestrator().stats();
            auto st = service->stats();
            s["tasks"] = {{"submitted", q.submitted},
                          {"completed", q.completed},
                          {"failed", q.failed + st.unassignable},
                          {"retries", q.retries},
                          {"timeouts", q.timeouts},
                          {"unassignable", st.unassignable}};
            for (const auto& a : service->orchestrator().agents()) {
                double capacity_ms = static_cast<double>(a.info.max_concurrency) * secs * 1000;
                agents.push_back({{"id", a.info.id},
                                  {"role", a.info.role},
                                  {"completed", a.completed},
                                  {"errors", a.errors},
                                  {"mean_task_ms", a.mean_task_ms},
                                  {"utilisation_percent",
                                   capacity_ms > 0 ? 100.0 * a.busy_ms / capacity_ms : 0.0}});
            }
        }
        s["agents"] = agents;
        auto ms = [](std::uint64_t us) { return static_cast<double>(us) / 1000.0; };
        s["latency_ms"] = {
            {"router",
             {{"p50", ms(p.latency_p50_us)},
              {"p95", ms(p.latency_p95_us)},
              {"p99", ms(p.latency_p99_us)}}},
            {"end_to_end",
             {{"p50", ms(p.e2e_p50_us)}, {"p95", ms(p.e2e_p95_us)}, {"p99", ms(p.e2e_p99_us)}}}};
        auto alerts = v.monitor.alert_counts();
        s["alerts"] = {{"fired", alerts.fired}, {"resolved", alerts.resolved}};
        json health = json::array();
        for (const auto& h : v.monitor.health()) {
            health.push_back({{"component", h.component},
                              {"status", std::string(monitor::to_string(h.status))},
                              {"message", h.message}});
        }
        s["health"] = health;
        s["interrupted"] = !draining;
        return s;
    }

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
    auto setup = processors::load_agents(pipeline_config());
    if (!setup || setup->document_roots.empty()) {
        throw UsageError(fmt::format("{} has no agents section with document_roots: the demo "
                                     "feeds sample documents to the analyzer",
                                     pipeline_config().source()),
                         "Use config/pipeline.yaml, or add agents.document_roots");
    }
    auto demo = std::make_shared<Demo>();
    demo->args = args;
    demo->duration = *duration;
    auto& so = demo->sim_options;
    so.rate = args.rate;
    so.simulate_errors = !args.no_errors;
    so.error_rate_percent = args.error_rate;
    so.seed = args.seed;
    try {
        if (!args.mix.empty()) {
            so.mix = parse_mix(args.mix);
        }
    } catch (const std::invalid_argument& e) {
        throw UsageError(
            fmt::format("--mix: {}", e.what()),
            "Example: --mix document=30,task=25,agent=20,analytics=15,notification=10");
    }
    so.documents_dir = setup->document_roots.front();
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(so.documents_dir, ec)) {
        if (entry.is_regular_file()) {
            so.documents.push_back(entry.path().filename().string());
        }
    }
    std::sort(so.documents.begin(), so.documents.end());
    if (so.documents.empty()) {
        throw UsageError(fmt::format("no sample documents in {}", so.documents_dir.string()),
                         "Put text files there (samples/documents in the repository)");
    }
    so.tasks_topic = setup->options.tasks_topic;
    so.agents_topic = setup->options.agents_topic;
    // Check the simulator's settings now, not after everything started.
    { Simulator check(so); }

    RunArgs run;
    run.status_interval_s = 0;
    run.http_port = args.http_port;
    RunHooks hooks;
    hooks.started = [demo](const RunView& v) {
        demo->sim_options.producer = v.connection.producer_options();
        demo->sim_options.producer.client_id = "agentstream-simulator";
        demo->simulator = std::make_unique<Simulator>(demo->sim_options);
        demo->started = Clock::now();
        demo->next_line = demo->started;
        demo->simulator->start();
        auto url = v.monitor.url();
        fmt::print(stderr,
                   "agentstream demo: {} at {:g} events/s for {}s on {}; dashboard: {}\n"
                   "Ctrl-C ends it early with the same summary.\n",
                   v.connection.embedded() ? "the embedded broker" : "Kafka", demo->args.rate,
                   std::chrono::duration_cast<std::chrono::seconds>(demo->duration).count(),
                   v.connection.brokers(), url ? *url + "/" : std::string("(HTTP disabled)"));
    };
    hooks.tick = [demo](const RunView& v) { return demo->tick(v); };
    hooks.finished = [demo](const RunView& v) {
        if (demo->tty) {
            fmt::print(stderr, "\n");
        }
        auto s = demo->summary(v);
        demo->simulator.reset();  // its producer goes before the broker does
        Demo::print(s);
        if (!demo->args.summary_json.empty()) {
            std::ofstream out(demo->args.summary_json);
            out << s.dump(2) << "\n";
            if (!out) {
                throw RuntimeError("cannot write " + demo->args.summary_json);
            }
        }
    };
    run_pipeline(run, hooks);
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
