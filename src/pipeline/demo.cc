#include <agentstream/pipeline/demo.h>

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>

namespace agentstream::pipeline {

using nlohmann::json;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

struct StreamingDemo::State {
    const StreamingDemoConfig& config;
    SimulatorOptions sim_options;
    std::unique_ptr<Simulator> simulator;
    Clock::time_point started;
    Clock::time_point sim_stopped;
    bool draining = false;
    std::uint64_t last_total = 0;
    int still = 0;

    // What every consumer of the system moved, to see when it settled.
    static std::uint64_t consumed(const ApplicationView& v) {
        std::uint64_t n = v.router_processor.consumed;
        for (const auto& r : v.domain.rows()) {
            n += r.consumed + r.processed;
        }
        return n;
    }

    SimulatorCounts counts() const { return simulator ? simulator->counts() : SimulatorCounts{}; }

    // false once the simulation ran its time and everything it caused was processed.
    bool tick(const ApplicationView& v, const std::function<void(const DemoProgress&)>& progress) {
        if (!simulator) {
            return true;  // not ready yet
        }
        auto now = Clock::now();
        auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
            (draining ? sim_stopped : now) - started);
        if (progress) {
            progress(DemoProgress{v, counts(), elapsed, config.duration, draining});
        }
        if (!draining && now - started >= config.duration) {
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
        if (auto service = v.domain.agent_service()) {
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

    json summary(const ApplicationView& v) {
        if (simulator) {
            simulator->stop();
            if (!draining) {
                sim_stopped = Clock::now();
            }
        }
        auto run_ms = std::chrono::duration_cast<std::chrono::milliseconds>(sim_stopped - started);
        auto c = counts();
        double secs = std::max(1e-3, std::chrono::duration<double>(run_ms).count());
        json s;
        s["duration_seconds"] = secs;
        // The rate is of the events drawn; follow-ups (a document processed after its upload,
        // an agent's completion after its start) and faults come on top.
        s["rate"] = {{"target", config.event_generation_rate},
                     {"achieved", static_cast<double>(c.scheduled) / secs}};
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
        if (auto service = v.domain.agent_service()) {
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
};

StreamingDemo::StreamingDemo(PipelineSpec spec, StreamingDemoConfig config,
                             ApplicationOptions options)
    : _config(std::move(config)) {
    const auto& setup = spec.agents;
    if (!setup || setup->document_roots.empty()) {
        throw SetupError(fmt::format("{} has no agents section with document_roots: the demo "
                                     "feeds sample documents to the analyzer",
                                     spec.config.source().empty() ? std::string("the pipeline")
                                                                  : spec.config.source()),
                         "Use config/pipeline.yaml, or add agents.document_roots");
    }
    auto& so = _simulator;
    so.rate = _config.event_generation_rate;
    so.mix = _config.mix;
    so.simulate_errors = _config.simulate_errors;
    so.error_rate_percent = _config.error_rate_percent;
    so.seed = _config.seed;
    so.documents_dir = setup->document_roots.front();
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(so.documents_dir, ec)) {
        if (entry.is_regular_file()) {
            so.documents.push_back(entry.path().filename().string());
        }
    }
    std::sort(so.documents.begin(), so.documents.end());
    if (so.documents.empty()) {
        throw SetupError(fmt::format("no sample documents in {}", so.documents_dir.string()),
                         "Put text files there (samples/documents in the repository)");
    }
    so.tasks_topic = setup->options.tasks_topic;
    so.agents_topic = setup->options.agents_topic;
    { Simulator check(so); }  // its settings are checked now, not after everything started
    options.status_interval = std::chrono::milliseconds(0);
    _app = std::make_unique<Application>(std::move(spec), std::move(options));
}

StreamingDemo::~StreamingDemo() = default;

json StreamingDemo::run(const std::function<void(const DemoProgress&)>& progress,
                        const std::function<void(const ApplicationView&)>& started) {
    State state{_config, _simulator, nullptr, {}, {}, false, 0, 0};
    json result;
    ApplicationHooks hooks;
    // The load starts once every consumer has its partitions: events produced during the
    // groups' first rebalance would wait for it, and their seconds of age would be counted
    // as the pipeline's latency.
    hooks.ready = [&state, &started](const ApplicationView& v) {
        state.sim_options.producer = v.connection.producer_options();
        state.sim_options.producer.client_id = "agentstream-simulator";
        state.simulator = std::make_unique<Simulator>(state.sim_options);
        state.started = Clock::now();
        state.simulator->start();
        if (started) {
            started(v);
        }
    };
    hooks.tick = [&state, &progress](const ApplicationView& v) { return state.tick(v, progress); };
    hooks.finished = [&state, &result](const ApplicationView& v) {
        result = state.summary(v);
        state.simulator.reset();  // its producer goes before the broker does
    };
    _app->run(hooks);
    return result;
}

}  // namespace agentstream::pipeline
