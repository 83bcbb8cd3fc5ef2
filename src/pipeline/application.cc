#include <agentstream/notify/notifications.h>
#include <agentstream/pipeline/application.h>
#include <agentstream/pipeline/topics.h>
#include <agentstream/runtime/dead_letter.h>
#include <agentstream/runtime/routing_processor.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "internal/log.h"

namespace agentstream::pipeline {
namespace {

using namespace std::chrono_literals;

std::string_view mode_name(router::RoutingMode m) {
    return m == router::RoutingMode::FanOut ? "fanout" : "first_match";
}

std::vector<std::string> dead_letter_topics(const router::Router& r) {
    std::vector<std::string> out;
    for (const auto& t : r.source_topics()) {
        out.push_back(runtime::dead_letter_topic_for(t));
    }
    return out;
}

void log_route_metrics(const router::RouterMetrics& m, const runtime::ProcessorMetrics& p) {
    auto log = logger("run");
    log->info(
        "router: consumed {}, routed {}, unmatched {} ({} to the default topic), "
        "dead-lettered {}, in flight {}, lag {}{}",
        p.consumed, p.processed, m.unmatched, m.to_default, p.dead_lettered, p.in_flight, p.lag,
        p.healthy ? "" : fmt::format(", unhealthy: {}", p.health));
    for (const auto& r : m.routes) {
        log->info(
            "  route {}: matched {}, delivered {}, filtered out {}, missing path {}, type "
            "mismatch {}, transformation errors {}, duplicates skipped {}, latency {}",
            r.name, r.matched, r.delivered, r.filtered_out, r.missing_path, r.type_mismatch,
            r.transform_errors, r.duplicates_skipped,
            r.latency_samples == 0
                ? std::string("not sampled yet")
                : fmt::format("p50 {} ns p99 {} ns ({} sampled)", r.latency_p50_ns,
                              r.latency_p99_ns, r.latency_samples));
    }
}

std::filesystem::file_time_type modified_time(const std::string& file) {
    std::error_code ec;
    auto t = std::filesystem::last_write_time(file, ec);
    return ec ? std::filesystem::file_time_type{} : t;
}

// The router on its own thread; a failure of its run() is kept for the caller.
class RunningRouter {
  public:
    RunningRouter(const Connection& connection, const config::Config& config,
                  std::shared_ptr<const router::Router> router, const ApplicationOptions& args,
                  ServiceMonitor& service) {
        auto o = connection.processor_options();
        o.metrics = &service.registry();
        o.tail = &service.tail();
        o.name = config.string("routing.name");
        o.group_id = config.string("routing.group_id");
        o.shutdown_timeout = std::chrono::seconds(config.integer("routing.shutdown_timeout_s"));
        o.inputs = router->source_topics();
        o.start_from = args.from_latest ? kafka::StartFrom::Latest : kafka::StartFrom::Earliest;
        o.workers = args.workers;
        if (args.exactly_once) {
            o.guarantee = runtime::Guarantee::ExactlyOnce;
            o.producer.reset();  // a transactional producer of its own
        }
        _processor = std::make_unique<runtime::RoutingProcessor>(
            o, std::move(router), config.boolean("routing.validate_output"));
        _thread = std::thread([this] {
            try {
                _processor->run();
            } catch (...) {
                _failure = std::current_exception();
                _failed.store(true);
            }
        });
    }
    ~RunningRouter() { stop(); }
    RunningRouter(const RunningRouter&) = delete;
    RunningRouter& operator=(const RunningRouter&) = delete;

    void stop() {
        if (_thread.joinable()) {
            _processor->stop();
            _thread.join();
        }
    }
    bool failed() const noexcept { return _failed.load(); }
    void rethrow() const {
        if (_failure) {
            std::rethrow_exception(_failure);
        }
    }
    runtime::RoutingProcessor& processor() { return *_processor; }
    std::string failure_text() const {
        try {
            rethrow();
        } catch (const std::exception& e) {
            return e.what();
        } catch (...) {
            return "unknown exception";
        }
        return {};
    }

  private:
    std::unique_ptr<runtime::RoutingProcessor> _processor;
    std::thread _thread;
    std::exception_ptr _failure;
    std::atomic<bool> _failed{false};
};

// The topics a pipeline needs besides the routes' targets: dead letters of its sources, the
// alerts topic, the processors' and the agents' topics.
std::vector<std::string> support_topics(const PipelineSpec& p, bool with_processors) {
    auto topics = dead_letter_topics(*p.router);
    if (auto alerts = p.config.string("monitor.alerts_topic"); !alerts.empty()) {
        topics.push_back(alerts);
    }
    if (with_processors) {
        for (const auto& t : p.processors.topics()) {
            topics.push_back(t);
        }
        if (p.agents) {
            for (const auto& t : p.agents->topics()) {
                topics.push_back(t);
            }
        }
    }
    return topics;
}

}  // namespace

PipelineSpec PipelineSpec::from(config::Config config) {
    PipelineSpec p;
    p.config = std::move(config);
    auto table = router::load_routes(p.config);
    alert_rules_of(p.config);  // the whole file is checked: alert rules, notification channels
    notify::load_channels(p.config);
    p.processors = processors::load_domain_processors(p.config);
    p.agents = processors::load_agents(p.config);
    try {
        p.router = std::make_shared<const router::Router>(std::move(table));
    } catch (const std::invalid_argument& e) {
        throw config::ConfigError(p.config.source(), 0, 0, e.what());
    }
    return p;
}

PipelineSpec PipelineSpec::load(const std::filesystem::path& file) {
    return from(config::Config::load(file));
}

Application::Application(PipelineSpec spec, ApplicationOptions options)
    : _spec(std::move(spec)), _options(std::move(options)) {
    if (_options.exactly_once && _options.workers > 1) {
        throw SetupError("exactly-once runs with one worker", "Drop --workers");
    }
    if (_spec.router->source_topics().empty()) {
        throw SetupError(fmt::format("{} has no enabled routes: nothing to run",
                                     _spec.config.source().empty() ? std::string("the pipeline")
                                                                   : _spec.config.source()),
                         "Add routes (config/pipeline.yaml has the standard ones)");
    }
}

Application::~Application() = default;

ApplicationSummary Application::run(const ApplicationHooks& hooks) {
    const std::string file = _spec.config.source();
    auto connection = Connection::open(_spec.config, _options.connection);
    if (_spec.config.boolean("kafka.shared_producer")) {
        connection.share_producer();
    }
    if (_options.exactly_once && connection.embedded()) {
        throw SetupError(
            "exactly-once needs a real Kafka cluster: the embedded broker does not implement "
            "transactions faithfully",
            "Give --brokers HOST:PORT, or drop --exactly-once for at-least-once");
    }
    auto extra_topics = support_topics(_spec, true);
    ensure_topics(connection,
                  wanted_topics(_spec.config, extra_topics, _spec.processors.changelogs()));
    ServiceMonitorOptions monitor_options;
    monitor_options.http_port = _options.http_port;
    ServiceMonitor service(_spec.config, connection, monitor_options);
    // What the service reads and writes: a partition of these without a leader is unhealthy.
    auto watched = [](const PipelineSpec& p) {
        auto topics = support_topics(p, true);
        for (const auto& list : {p.router->source_topics(), p.router->target_topics()}) {
            topics.insert(topics.end(), list.begin(), list.end());
        }
        for (const auto& t : p.config.topics("topics")) {
            topics.push_back(t.name);
        }
        return topics;
    };
    service.watch_topics(watched(_spec));
    auto log = logger("run");
    log->info("running {} route(s) from {} ({}), reading {}{}", _spec.router->routes().size(),
              file.empty() ? std::string("code") : file, mode_name(_spec.router->table().mode),
              fmt::join(_spec.router->source_topics(), ", "),
              file.empty() ? "" : "; SIGHUP or an edit reloads");
    auto running =
        std::make_unique<RunningRouter>(connection, _spec.config, _spec.router, _options, service);
    // The domain processors are read at start; a reload applies routes, alert rules and
    // notification channels.
    auto domain =
        std::make_unique<DomainProcessors>(_spec.processors, _spec.agents, connection, service,
                                           _options.from_latest, _options.restart_backoff);
    Totals totals;
    auto view_of = [&](const Totals& t) {
        return ApplicationView{t.processor, t.router, *domain, service, connection};
    };
    auto current_totals = [&] {
        return totals.with(running->processor().router()->metrics(),
                           running->processor().metrics());
    };
    if (hooks.started) {
        auto t = current_totals();
        hooks.started(view_of(t));
    }
    ApplicationSummary summary;
    bool hook_stop = false;
    const auto watch_every = file.empty() ? 0ms : _options.watch_interval;
    auto next_tick = std::chrono::steady_clock::now();
    auto seen = file.empty() ? std::filesystem::file_time_type{} : modified_time(file);
    auto next_watch = std::chrono::steady_clock::now();
    auto next_status = std::chrono::steady_clock::now() + _options.status_interval;
    // The router's restarts: a failed run is replaced after a backoff.
    const auto run_started = std::chrono::steady_clock::now();
    bool router_down = false;
    bool router_ran = false;  // a restart or a reload happened, or it read something
    auto router_backoff = _options.restart_backoff;
    std::chrono::steady_clock::time_point router_restart_at{};
    std::string router_error;
    bool setup_failed = false;
    bool ready = false;
    while (!hook_stop && !_stop.load()) {
        std::this_thread::sleep_for(50ms);
        auto now = std::chrono::steady_clock::now();
        if (!ready && !running->failed() &&
            ((running->processor().metrics().assigned_partitions > 0 && domain->all_assigned()) ||
             now - run_started >= 30s)) {
            ready = true;
            if (now - run_started >= 30s) {
                log->warn("not every consumer has its partitions after 30 s; going on");
            }
            if (hooks.ready) {
                auto t = current_totals();
                hooks.ready(view_of(t));
            }
        }
        if (!router_down && running->failed()) {
            router_error = running->failure_text();
            if (!router_ran && running->processor().metrics().consumed == 0 &&
                now - run_started < 30s) {
                setup_failed = true;
                break;  // at once, before reading anything: a setup error, thrown below
            }
            router_down = true;
            router_restart_at = now + router_backoff;
            log->error("router: its run failed: {}; restarting in {} ms", router_error,
                       router_backoff.count());
        }
        if (router_down && now >= router_restart_at) {
            running->stop();
            totals.add(running->processor().router()->metrics());
            totals.add(running->processor().metrics());
            running = std::make_unique<RunningRouter>(connection, _spec.config, _spec.router,
                                                      _options, service);
            router_down = false;
            router_ran = true;
            router_backoff = std::min<std::chrono::milliseconds>(router_backoff * 2, 60s);
            ++summary.router_restarts;
            log->info("router: restarted ({} restart(s))", summary.router_restarts);
        }
        bool reload = _reload.exchange(false) && !file.empty();
        if (watch_every > 0ms && now >= next_watch) {
            next_watch = now + watch_every;
            auto t = modified_time(file);
            log->trace("checked {}: {}", file, t != seen ? "modified" : "unchanged");
            if (t != seen) {
                seen = t;
                reload = true;
            }
        }
        if (reload) {
            // The new file is checked whole before anything changes.
            PipelineSpec next;
            try {
                next = PipelineSpec::load(file);
                if (next.router->source_topics().empty()) {
                    throw config::ConfigError(file, 0, 0, "no enabled routes");
                }
            } catch (const std::exception& e) {
                ++summary.rejected;
                log->error("reload rejected, the running routes stay: {}", e.what());
                continue;
            }
            try {
                ensure_topics(connection, wanted_topics(next.config, support_topics(next, false)));
            } catch (const std::exception& e) {
                ++summary.rejected;
                log->error("reload rejected, the running routes stay: topics: {}", e.what());
                continue;
            }
            try {
                // Alert rules and notification channels: checked, then applied.
                service.reload(next.config);
            } catch (const std::exception& e) {
                ++summary.rejected;
                log->error("reload rejected, the running routes stay: {}", e.what());
                continue;
            }
            auto current = running->processor().router();
            if (next.router->source_topics() == current->source_topics() &&
                next.config.string("routing.group_id") == _spec.config.string("routing.group_id")) {
                running->processor().replace(next.router);
                totals.add(current->metrics());
            } else {
                // Other sources: drain and commit, then a new member of the group subscribes.
                log->info("source topics changed: restarting the consumer");
                running->stop();
                router_down = false;
                totals.add(current->metrics());
                totals.add(running->processor().metrics());
                running = std::make_unique<RunningRouter>(connection, next.config, next.router,
                                                          _options, service);
            }
            _spec = std::move(next);
            service.watch_topics(watched(_spec));
            router_ran = true;
            ++summary.reloads;
            log->info("reloaded {}: {} route(s), reading {}", file, _spec.router->routes().size(),
                      fmt::join(_spec.router->source_topics(), ", "));
        }
        if (now >= next_tick) {
            next_tick = now + 1s;
            auto t = current_totals();
            if (router_down) {
                t.processor.healthy = false;
                t.processor.health = fmt::format(
                    "its run failed ({}); restarting in {} s", router_error,
                    std::chrono::duration_cast<std::chrono::seconds>(router_restart_at - now)
                            .count() +
                        1);
            }
            try {
                domain->update_gauges(service.registry());
                service.tick(_spec.config.string("routing.name"),
                             _spec.config.string("routing.group_id"), t.processor, t.router,
                             domain->rows(), domain->agent_rows());
            } catch (const std::exception& e) {
                // The monitor must never take the service down.
                log->error("monitor: {}", e.what());
            }
            if (hooks.tick && !hooks.tick(view_of(t))) {
                hook_stop = true;
            }
        }
        if (_options.status_interval > 0ms && now >= next_status) {
            next_status = now + _options.status_interval;
            auto t = current_totals();
            log_route_metrics(t.router, t.processor);
        }
    }
    // Every part is asked at once, so that they drain in parallel; joined in the reverse of the
    // start order. A part past its deadline on the shared producer gives its outputs up but
    // waits for their reports (the queue is shared, it may not purge it): once every part is
    // past its own deadline, the queue is purged here, so the stop takes the longest deadline
    // and not the producer's message timeout (an output partition without a leader, say).
    domain->request_stop();
    running->processor().stop();
    std::thread purger;
    std::mutex purge_mutex;
    std::condition_variable purge_wake;
    bool parts_stopped = false;
    if (auto shared = connection.shared_producer()) {
        auto deadline = std::chrono::steady_clock::now() +
                        std::max(domain->longest_shutdown_timeout(),
                                 running->processor().options().shutdown_timeout) +
                        2s;
        purger = std::thread([&, shared, deadline] {
            std::unique_lock lock(purge_mutex);
            if (!purge_wake.wait_until(lock, deadline, [&] { return parts_stopped; })) {
                log->warn("outputs still unwritten past every part's shutdown deadline: given up");
                shared->purge();
            }
        });
    }
    domain->stop();
    running->stop();
    if (purger.joinable()) {
        {
            std::lock_guard lock(purge_mutex);
            parts_stopped = true;
        }
        purge_wake.notify_all();
        purger.join();
    }
    if (setup_failed) {
        running->rethrow();
    }
    for (const auto& status : domain->statuses()) {
        summary.processor_restarts += status.restarts;
    }
    summary.totals = current_totals();
    if (hooks.finished) {
        hooks.finished(view_of(summary.totals));
    }
    log_route_metrics(summary.totals.router, summary.totals.processor);
    return summary;
}

}  // namespace agentstream::pipeline
