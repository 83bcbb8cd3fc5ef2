// agentstream routes check | routes test | run
#include <agentstream/core/logging.h>
#include <agentstream/event/codec.h>
#include <agentstream/event/record.h>
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
#include "core/json_escape.h"
#include "line_reader.h"
#include "run_service.h"
#include "service_monitor.h"
#include "service_processors.h"

namespace agentstream::cli {
namespace {

using namespace std::chrono_literals;

// A pipeline file with its routes compiled: throws ConfigError with file and line.
struct Pipeline {
    config::Config config;
    std::shared_ptr<const router::Router> router;
    processors::DomainConfig processors;
    std::optional<processors::AgentSetup> agents;
};

Pipeline load_pipeline(const std::string& file) {
    Pipeline p;
    p.config = config::Config::load(file);
    auto table = router::load_routes(p.config);
    alert_rules_of(p.config);  // the whole file is checked: alert rules, notification channels
    notify::load_channels(p.config);
    p.processors = processors::load_domain_processors(p.config);
    p.agents = processors::load_agents(p.config);
    try {
        p.router = std::make_shared<const router::Router>(std::move(table));
    } catch (const std::invalid_argument& e) {
        throw config::ConfigError(file, 0, 0, e.what());
    }
    return p;
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

std::atomic<bool> g_reload{false};
extern "C" void on_hangup(int) {
    g_reload.store(true);
}

// Creates the pipeline's topics where they are missing: on the embedded broker through its
// mock API, on real Kafka through the admin API (existing topics are left as they are).
// The file's topics and `extra` ones; a changelog (changelog, input) gets its input's
// partitions and compaction.
void ensure_topics(const Connection& connection, const config::Config& config,
                   const std::vector<std::string>& extra,
                   const std::vector<std::pair<std::string, std::string>>& changelogs = {}) {
    auto default_partitions = static_cast<int>(config.integer("embedded.partitions"));
    std::vector<kafka::NewTopic> wanted;
    auto declared = [&](const std::string& name) {
        return std::any_of(wanted.begin(), wanted.end(),
                           [&](const auto& t) { return t.name == name; });
    };
    for (const auto& t : config.topics("topics")) {
        wanted.push_back({t.name, t.partitions > 0 ? t.partitions : default_partitions,
                          t.replication_factor > 0 ? t.replication_factor : -1,
                          std::map<std::string, std::string>(t.config.begin(), t.config.end())});
    }
    for (const auto& name : extra) {
        if (!declared(name)) {
            wanted.push_back({name, default_partitions, -1, {}});
        }
    }
    for (const auto& [changelog, input] : changelogs) {
        int partitions = default_partitions;
        for (const auto& t : wanted) {
            if (t.name == input) {
                partitions = t.partitions;
            }
        }
        if (!declared(changelog)) {
            wanted.push_back({changelog, partitions, -1, {{"cleanup.policy", "compact"}}});
        }
    }
    if (auto* embedded = connection.embedded_broker()) {
        for (const auto& t : wanted) {
            embedded->create_topic(t.name, t.partitions, t.replication_factor);
        }
        return;
    }
    kafka::Admin admin(connection.admin_options());
    auto id = admin.cluster_id(std::chrono::seconds(5));
    if (id && id->starts_with("mockCluster")) {
        // A standalone embedded broker (`agentstream broker`) has no admin API; it creates a
        // topic when a client first asks for it.
        return;
    }
    std::set<std::string> existing;
    for (const auto& t : admin.list_topics()) {
        existing.insert(t.name);
    }
    for (const auto& t : wanted) {
        if (!existing.contains(t.name)) {
            // Another instance (or `topics create`) may create it at the same moment: a topic
            // that exists is what was wanted.
            if (admin.create_topic(t)) {
                logger("run")->info(
                    "created topic {} ({} partitions, replication factor {})", t.name, t.partitions,
                    t.replication_factor > 0 ? fmt::format("{}", t.replication_factor)
                                             : std::string("the broker's default"));
            } else {
                logger("run")->info("topic {} was created meanwhile by someone else", t.name);
            }
            existing.insert(t.name);
        }
    }
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

// Counters that survive reloads and consumer restarts (each router and processor starts at 0).
struct Totals {
    router::RouterMetrics router;
    runtime::ProcessorMetrics processor;

    void add(const router::RouterMetrics& m) {
        router.events += m.events;
        router.unmatched += m.unmatched;
        router.to_default += m.to_default;
        router.errors += m.errors;
        for (const auto& r : m.routes) {
            auto it = std::find_if(router.routes.begin(), router.routes.end(),
                                   [&](const auto& t) { return t.name == r.name; });
            if (it == router.routes.end()) {
                router.routes.push_back(r);
                continue;
            }
            it->matched += r.matched;
            it->delivered += r.delivered;
            it->filtered_out += r.filtered_out;
            it->missing_path += r.missing_path;
            it->type_mismatch += r.type_mismatch;
            it->transform_errors += r.transform_errors;
            it->duplicates_skipped += r.duplicates_skipped;
            if (r.latency_samples > 0) {  // the latest table's
                it->latency_p50_ns = r.latency_p50_ns;
                it->latency_p99_ns = r.latency_p99_ns;
            }
            it->latency_samples += r.latency_samples;
        }
    }
    void add(const runtime::ProcessorMetrics& m) {
        processor.consumed += m.consumed;
        processor.processed += m.processed;
        processor.unhandled += m.unhandled;
        processor.dead_lettered += m.dead_lettered;
        processor.failed += m.failed;
        processor.rebalances += m.rebalances;
        processor.lost += m.lost;
        processor.truncated_dead_letters += m.truncated_dead_letters;
        processor.unfinished_at_stop += m.unfinished_at_stop;
        processor.fetch_stalls += m.fetch_stalls;
        processor.latency_p50_us = m.latency_p50_us;  // the running processor's
        processor.latency_p95_us = m.latency_p95_us;
        processor.latency_p99_us = m.latency_p99_us;
        processor.e2e_p50_us = m.e2e_p50_us;
        processor.e2e_p95_us = m.e2e_p95_us;
        processor.e2e_p99_us = m.e2e_p99_us;
        processor.produced += m.produced;
        processor.in_flight = m.in_flight;
        processor.lag = m.lag;
        processor.healthy = m.healthy;
        processor.health = m.health;
    }
    // These totals plus what is running now.
    Totals with(const router::RouterMetrics& r, const runtime::ProcessorMetrics& p) const {
        Totals t = *this;
        t.add(r);
        t.add(p);
        return t;
    }
};

std::filesystem::file_time_type modified_time(const std::string& file) {
    std::error_code ec;
    auto t = std::filesystem::last_write_time(file, ec);
    return ec ? std::filesystem::file_time_type{} : t;
}

class RunningRouter {
  public:
    RunningRouter(const Connection& connection, const config::Config& config,
                  std::shared_ptr<const router::Router> router, const RunArgs& args,
                  ServiceMonitor& service) {
        runtime::ProcessorOptions o;
        o.metrics = &service.registry();
        o.tail = &service.tail();
        o.name = config.string("routing.name");
        o.group_id = config.string("routing.group_id");
        o.shutdown_timeout = std::chrono::seconds(config.integer("routing.shutdown_timeout_s"));
        o.inputs = router->source_topics();
        auto po = connection.producer_options();
        auto co = connection.consumer_options("");
        o.client.brokers = connection.brokers();
        o.producer_properties = po.properties;
        o.consumer_properties = co.properties;
        o.start_from = args.from_latest ? kafka::StartFrom::Latest : kafka::StartFrom::Earliest;
        o.workers = args.workers;
        if (args.exactly_once) {
            o.guarantee = runtime::Guarantee::ExactlyOnce;
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

  private:
    std::unique_ptr<runtime::RoutingProcessor> _processor;
    std::thread _thread;
    std::exception_ptr _failure;
    std::atomic<bool> _failed{false};
};

}  // namespace

void run_pipeline(const RunArgs& args, const RunHooks& hooks) {
    const auto& file = pipeline_config().source();
    if (file.empty()) {
        throw UsageError("run needs a pipeline file",
                         "Add --config FILE (config/pipeline.yaml "
                         "is a complete example)");
    }
    if (args.exactly_once && args.workers > 1) {
        throw UsageError("--exactly-once runs with one worker", "Drop --workers");
    }
    auto pipeline = load_pipeline(file);
    if (pipeline.router->source_topics().empty()) {
        throw UsageError(fmt::format("{} has no enabled routes: nothing to run", file),
                         "Add routes (config/pipeline.yaml has the standard ones)");
    }
    install_stop_handlers();
    std::signal(SIGHUP, on_hangup);
    auto connection = Connection::open();
    if (args.exactly_once && connection.embedded()) {
        throw UsageError(
            "--exactly-once needs a real Kafka cluster: the embedded broker does not implement "
            "transactions faithfully",
            "Give --brokers HOST:PORT, or drop --exactly-once for at-least-once");
    }
    auto extra_topics = dead_letter_topics(*pipeline.router);
    if (auto alerts = pipeline.config.string("monitor.alerts_topic"); !alerts.empty()) {
        extra_topics.push_back(alerts);
    }
    for (const auto& t : pipeline.processors.topics()) {
        extra_topics.push_back(t);
    }
    if (pipeline.agents) {
        for (const auto& t : pipeline.agents->topics()) {
            extra_topics.push_back(t);
        }
    }
    ensure_topics(connection, pipeline.config, extra_topics, pipeline.processors.changelogs());
    ServiceMonitorOptions monitor_options;
    if (args.http_port >= 0) {
        monitor_options.http_port = args.http_port;
    }
    ServiceMonitor service(pipeline.config, connection, monitor_options);
    // What the service reads and writes: a partition of these without a leader is unhealthy.
    auto watched = [&extra_topics](const Pipeline& p) {
        auto topics = extra_topics;
        for (const auto& list : {p.router->source_topics(), p.router->target_topics()}) {
            topics.insert(topics.end(), list.begin(), list.end());
        }
        for (const auto& t : p.config.topics("topics")) {
            topics.push_back(t.name);
        }
        return topics;
    };
    service.watch_topics(watched(pipeline));
    auto log = logger("run");
    log->info("running {} route(s) from {} ({}), reading {}; SIGHUP or an edit reloads",
              pipeline.router->routes().size(), file, mode_name(pipeline.router->table().mode),
              fmt::join(pipeline.router->source_topics(), ", "));
    auto running = std::make_unique<RunningRouter>(connection, pipeline.config, pipeline.router,
                                                   args, service);
    // The domain processors are read at start; a reload applies routes, alert rules and
    // notification channels.
    DomainProcessors domain(pipeline.processors, pipeline.agents, connection, service,
                            args.from_latest);
    Totals totals;
    auto view_of = [&](const Totals& t) {
        return RunView{t.processor, t.router, domain, service, connection};
    };
    if (hooks.started) {
        auto t =
            totals.with(running->processor().router()->metrics(), running->processor().metrics());
        hooks.started(view_of(t));
    }
    bool hook_stop = false;
    auto next_tick = std::chrono::steady_clock::now();
    auto seen = modified_time(file);
    auto next_watch = std::chrono::steady_clock::now();
    auto next_status =
        std::chrono::steady_clock::now() +
        std::chrono::milliseconds(static_cast<std::int64_t>(args.status_interval_s * 1000));
    std::uint64_t reloads = 0;
    std::uint64_t rejected = 0;
    while (!hook_stop && !stop_requested() && !running->failed() && !domain.failure()) {
        std::this_thread::sleep_for(50ms);
        auto now = std::chrono::steady_clock::now();
        bool reload = g_reload.exchange(false);
        if (now >= next_watch) {
            next_watch = now + std::chrono::milliseconds(
                                   static_cast<std::int64_t>(args.watch_interval_s * 1000));
            auto t = modified_time(file);
            log->trace("checked {}: {}", file, t != seen ? "modified" : "unchanged");
            if (t != seen) {
                seen = t;
                reload = true;
            }
        }
        if (reload) {
            // The new file is validated whole before anything changes.
            Pipeline next;
            try {
                next = load_pipeline(file);
                if (next.router->source_topics().empty()) {
                    throw config::ConfigError(file, 0, 0, "no enabled routes");
                }
            } catch (const std::exception& e) {
                ++rejected;
                log->error("reload rejected, the running routes stay: {}", e.what());
                continue;
            }
            try {
                auto topics = dead_letter_topics(*next.router);
                if (auto alerts = next.config.string("monitor.alerts_topic"); !alerts.empty()) {
                    topics.push_back(alerts);
                }
                ensure_topics(connection, next.config, topics);
            } catch (const std::exception& e) {
                ++rejected;
                log->error("reload rejected, the running routes stay: topics: {}", e.what());
                continue;
            }
            try {
                // Alert rules and notification channels: validated, then applied.
                service.reload(next.config);
            } catch (const std::exception& e) {
                ++rejected;
                log->error("reload rejected, the running routes stay: {}", e.what());
                continue;
            }
            auto current = running->processor().router();
            if (next.router->source_topics() == current->source_topics() &&
                next.config.string("routing.group_id") ==
                    pipeline.config.string("routing.group_id")) {
                running->processor().replace(next.router);
                totals.add(current->metrics());
            } else {
                // Other sources: drain and commit, then a new member of the group subscribes.
                log->info("source topics changed: restarting the consumer");
                running->stop();
                running->rethrow();
                totals.add(current->metrics());
                totals.add(running->processor().metrics());
                running = std::make_unique<RunningRouter>(connection, next.config, next.router,
                                                          args, service);
            }
            pipeline = std::move(next);
            service.watch_topics(watched(pipeline));
            ++reloads;
            log->info("reloaded {}: {} route(s), reading {}", file,
                      pipeline.router->routes().size(),
                      fmt::join(pipeline.router->source_topics(), ", "));
        }
        if (now >= next_tick) {
            next_tick = now + 1s;
            auto t = totals.with(running->processor().router()->metrics(),
                                 running->processor().metrics());
            try {
                domain.update_gauges(service.registry());
                service.tick(pipeline.config.string("routing.name"),
                             pipeline.config.string("routing.group_id"), t.processor, t.router,
                             domain.rows(), domain.agent_rows());
            } catch (const std::exception& e) {
                // The monitor must never take the service down.
                log->error("monitor: {}", e.what());
            }
            if (hooks.tick && !hooks.tick(view_of(t))) {
                hook_stop = true;
            }
        }
        if (args.status_interval_s > 0 && now >= next_status) {
            next_status = now + std::chrono::milliseconds(
                                    static_cast<std::int64_t>(args.status_interval_s * 1000));
            auto t = totals.with(running->processor().router()->metrics(),
                                 running->processor().metrics());
            log_route_metrics(t.router, t.processor);
        }
    }
    running->stop();
    domain.stop();
    running->rethrow();
    if (auto failure = domain.failure()) {
        std::rethrow_exception(failure);
    }
    auto t = totals.with(running->processor().router()->metrics(), running->processor().metrics());
    if (hooks.finished) {
        hooks.finished(view_of(t));
    }
    const auto& p = t.processor;
    const auto& m = t.router;
    log_route_metrics(m, p);
    fmt::print(stderr,
               "agentstream: run: consumed {}, routed {}, unmatched {}, dead-lettered {}, "
               "reloads {} ({} rejected), lost {}\n",
               p.consumed, p.processed, m.unmatched, p.dead_lettered, reloads, rejected, p.lost);
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
