// agentstream process | dlq list | dlq replay | offsets show | offsets reset
#include <agentstream/core/logging.h>
#include <agentstream/core/time.h>
#include <agentstream/event/codec.h>
#include <agentstream/runtime/dead_letter.h>
#include <agentstream/runtime/dead_letter_queue.h>
#include <agentstream/runtime/processor.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <charconv>
#include <map>

#include "cli_common.h"
#include "connection.h"

namespace agentstream::cli {

namespace {

using namespace std::chrono_literals;

// ---- process ----

struct ProcessArgs {
    std::vector<std::string> inputs;
    std::string to;
    std::string name = "process";
    std::string group;
    std::string type;
    std::string dlq;
    std::size_t max_in_flight = 50'000;
    bool from_latest = false;
    double until_idle_s = 0;
    double shutdown_timeout_s = 30;
    int max_attempts = 4;
    bool exactly_once = false;
    std::string transactional_id;
    int transaction_ms = 0;      // 0: the runtime's default
    int transaction_events = 0;  // 0: the runtime's default
    int workers = 1;
};

void process(const ProcessArgs& args) {
    if (args.to.empty()) {
        throw UsageError("process needs an output topic", "Add --to TOPIC");
    }
    for (const auto& in : args.inputs) {
        if (in == args.to) {
            throw UsageError(fmt::format("input and output are the same topic ({}): every event "
                                         "would be processed again and again",
                                         in),
                             "Choose another --to topic");
        }
    }
    auto pattern = parse_type_option(args.type);
    install_stop_handlers();
    std::vector<TopicNeed> needs;
    for (const auto& t : args.inputs) {
        needs.push_back({t, 0});
        needs.push_back({args.dlq.empty() ? runtime::dead_letter_topic_for(t) : args.dlq, 0});
    }
    needs.push_back({args.to, 0});
    auto connection = open_connection(needs);
    auto o = connection.processor_options();
    o.name = args.name;
    o.group_id = args.group;
    o.inputs = args.inputs;
    o.start_from = args.from_latest ? kafka::StartFrom::Latest : kafka::StartFrom::Earliest;
    o.dead_letter_topic = args.dlq;
    o.max_in_flight = args.max_in_flight;
    o.retry.max_attempts = args.max_attempts;
    o.workers = args.workers;
    if (args.exactly_once && args.workers > 1) {
        throw UsageError("--exactly-once runs with one worker", "Drop --workers");
    }
    if (args.exactly_once) {
        if (connection.embedded()) {
            throw UsageError(
                "--exactly-once needs a real Kafka cluster: the embedded broker does not "
                "implement transactions faithfully",
                "Give --brokers HOST:PORT (scripts/kafka.sh start runs one), or drop "
                "--exactly-once for at-least-once");
        }
        o.guarantee = runtime::Guarantee::ExactlyOnce;
        o.transactional_id = args.transactional_id;
        if (args.transaction_ms > 0) {
            o.transaction_interval = std::chrono::milliseconds(args.transaction_ms);
        }
        if (args.transaction_events > 0) {
            o.transaction_max_events = static_cast<std::size_t>(args.transaction_events);
        }
    } else if (args.transaction_ms > 0 || args.transaction_events > 0) {
        throw UsageError(
            "--transaction-ms and --transaction-events size the transactions of "
            "--exactly-once",
            "Add --exactly-once, or drop them");
    }
    o.shutdown_timeout =
        std::chrono::milliseconds(static_cast<std::int64_t>(args.shutdown_timeout_s * 1000));
    runtime::StreamProcessor processor(o);
    processor.on(pattern ? pattern->text() : "*",
                 [to = args.to](const event::Event&, runtime::Context& ctx) { ctx.forward(to); });
    runtime::run_until_idle(
        processor, std::chrono::milliseconds(static_cast<std::int64_t>(args.until_idle_s * 1000)),
        [] { return stop_requested(); });
    auto m = processor.metrics();
    fmt::print(stderr,
               "agentstream: {}: consumed {}, processed {}, skipped {} (other types), "
               "dead-lettered {}{}, retried {}, lost {}{}\n",
               args.name, m.consumed, m.processed, m.unhandled, m.dead_lettered,
               m.truncated_dead_letters > 0
                   ? fmt::format(" ({} cut to fit their topic)", m.truncated_dead_letters)
                   : std::string(),
               m.retried, m.lost,
               args.exactly_once ? fmt::format(", transactions {} ({} aborted)", m.transactions,
                                               m.aborted_transactions)
                                 : std::string());
    if (m.unfinished_at_stop > 0) {
        fmt::print(stderr,
                   "agentstream: {}: {} event(s) not written within the shutdown deadline: left "
                   "uncommitted, the next start processes them again\n",
                   args.name, m.unfinished_at_stop);
    }
    if (m.lost > 0 || m.dead_lettered > 0 || m.unfinished_at_stop > 0) {
        exit_code() = EXIT_RUNTIME;
    }
}

// ---- dlq ----

runtime::DeadLetterFilter parse_where(const std::vector<std::string>& items) {
    try {
        return runtime::DeadLetterFilter::parse(items);
    } catch (const std::invalid_argument& e) {
        throw UsageError(fmt::format("--where {}", e.what()),
                         "Example: --where class=invalid --where source-topic=documents");
    }
}

struct DlqListArgs {
    std::string topic;
    std::vector<std::string> where;
    bool json = false;
};

void dlq_list(const DlqListArgs& args) {
    auto where = parse_where(args.where);
    auto connection = open_connection({{args.topic, 0}}, true);
    std::map<std::string, std::uint64_t> by_class;
    std::uint64_t shown = 0;
    if (!args.json) {
        fmt::print("{:>9} {:>8}  {:<11} {:<28} {:>8}  {:<16} {:<27} {}\n", "PARTITION", "OFFSET",
                   "CLASS", "SOURCE", "ATTEMPTS", "PROCESSOR", "FAILED AT", "REASON");
    }
    try {
        runtime::read_to_end(
            connection.admin_options(), connection.consumer_options(""), args.topic,
            [&](const kafka::Message& m) {
                auto d = runtime::read_dead_letter(m);
                if (!where.matches(d, m)) {
                    return;
                }
                ++shown;
                ++by_class[d.error_class_text.empty() ? "(no reason)" : d.error_class_text];
                auto source =
                    fmt::format("{}/{}@{}", d.source_topic, d.source_partition, d.source_offset);
                if (args.json) {
                    nlohmann::json j = {{"partition", m.partition()},
                                        {"offset", m.offset()},
                                        {"error_class", d.error_class_text},
                                        {"error_message", d.message},
                                        {"source_topic", d.source_topic},
                                        {"source_partition", d.source_partition},
                                        {"source_offset", d.source_offset},
                                        {"attempts", d.attempts},
                                        {"processor", d.processor},
                                        {"failed_at", d.failed_at},
                                        {"key", std::string(m.key())}};
                    if (d.truncated()) {
                        j["original_bytes"] = d.original_bytes;
                        j["original_sha256"] = d.original_sha256;
                    }
                    if (m.is_null()) {
                        j["value"] = nullptr;
                    } else {
                        j["value"] = std::string(m.value());
                    }
                    fmt::print("{}\n",
                               j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
                } else {
                    fmt::print("{:>9} {:>8}  {:<11} {:<28} {:>8}  {:<16} {:<27} {}{}\n",
                               m.partition(), m.offset(), d.error_class_text, source, d.attempts,
                               d.processor, d.failed_at, d.message,
                               d.truncated() ? fmt::format(" [cut from {} bytes, sha256 {}]",
                                                           d.original_bytes, d.original_sha256)
                                             : std::string());
                }
            },
            stop_requested);
    } catch (const kafka::KafkaError&) {
        throw;
    } catch (const std::runtime_error& e) {
        throw RuntimeError(e.what());
    }
    std::fflush(stdout);
    std::string summary;
    for (const auto& [c, n] : by_class) {
        summary += fmt::format("{}{} {}", summary.empty() ? "" : ", ", n, c);
    }
    fmt::print(stderr, "agentstream: {} dead letter(s) in {}{}{}\n", shown, args.topic,
               summary.empty() ? "" : ": ", summary);
}

struct DlqReplayArgs {
    std::string topic;
    std::string to;
    std::vector<std::string> where;
    bool dry_run = false;
};

void dlq_replay(const DlqReplayArgs& args) {
    auto where = parse_where(args.where);
    std::vector<TopicNeed> needs = {{args.topic, 0}};
    if (!args.to.empty()) {
        needs.push_back({args.to, 0});
    }
    auto connection = open_connection(needs, true);
    std::optional<kafka::Producer> producer;
    if (!args.dry_run) {
        producer.emplace(connection.producer_options());
    }
    runtime::ReplayOptions ro;
    ro.topic = args.topic;
    ro.to = args.to;
    ro.filter = where;
    ro.dry_run = args.dry_run;
    runtime::ReplaySummary r;
    try {
        r = runtime::replay_dead_letters(connection.admin_options(),
                                         connection.consumer_options(""),
                                         producer ? &*producer : nullptr, ro, stop_requested);
    } catch (const runtime::NoReplayDestination& e) {
        throw RuntimeError(fmt::format("{}: say where to replay it with --to TOPIC", e.what()));
    } catch (const kafka::KafkaError&) {
        throw;
    } catch (const std::runtime_error& e) {
        throw RuntimeError(e.what());
    }
    std::string summary;
    for (const auto& [t, n] : r.by_destination) {
        summary += fmt::format("{}{} to {}", summary.empty() ? "" : ", ", n, t);
    }
    fmt::print(stderr, "agentstream: {} {} dead letter(s){}{}; {} not matching\n",
               args.dry_run ? "would replay" : "replayed", r.replayed, summary.empty() ? "" : ": ",
               summary, r.skipped);
    if (r.truncated > 0) {
        fmt::print(stderr,
                   "agentstream: {} dead letter(s) left alone: they hold only the start of "
                   "records too large for {} (dlq list shows their size and SHA-256)\n",
                   r.truncated, args.topic);
        exit_code() = EXIT_RUNTIME;
    }
    if (r.failed > 0) {
        fmt::print(stderr, "agentstream: {} could not be delivered\n", r.failed);
        exit_code() = EXIT_RUNTIME;
    }
}

// ---- offsets ----

void offsets_show(const std::string& group, const std::vector<std::string>& topics) {
    auto connection = open_connection({}, true);
    kafka::Admin admin(connection.admin_options());
    auto rows = topics.empty() ? admin.group_offsets(group) : admin.group_lag(group, topics);
    if (rows.empty()) {
        fmt::print(stderr, "agentstream: group {} has no committed offsets\n", group);
        return;
    }
    fmt::print("{:<32} {:>9} {:>12} {:>12} {:>10}\n", "TOPIC", "PARTITION", "COMMITTED", "END",
               "LAG");
    std::int64_t total = 0;
    int unknown = 0;
    for (const auto& r : rows) {
        fmt::print("{:<32} {:>9} {:>12} {:>12} {:>10}\n", r.topic, r.partition,
                   r.position >= 0 ? std::to_string(r.position) : "-",
                   r.high_watermark >= 0 ? std::to_string(r.high_watermark) : "?",
                   r.lag >= 0 ? std::to_string(r.lag) : "?");
        total += std::max<std::int64_t>(0, r.lag);
        unknown += r.lag < 0 ? 1 : 0;
    }
    // A partition whose end could not be read makes the total a lower bound, said as such.
    fmt::print("{:<32} {:>9} {:>12} {:>12} {:>10}\n", "total", "", "", "",
               unknown == 0 ? std::to_string(total) : fmt::format(">={}", total));
    if (unknown > 0) {
        fmt::print(stderr, "agentstream: the end of {} partition(s) could not be read\n", unknown);
        exit_code() = EXIT_RUNTIME;
    }
}

kafka::Admin::OffsetTarget parse_target(const std::string& text) {
    using Kind = kafka::Admin::OffsetTarget::Kind;
    kafka::Admin::OffsetTarget t;
    if (text == "earliest") {
        t.kind = Kind::Earliest;
        return t;
    }
    if (text == "latest") {
        t.kind = Kind::Latest;
        return t;
    }
    std::int64_t offset = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), offset);
    if (ec == std::errc() && end == text.data() + text.size() && offset >= 0) {
        t.kind = Kind::Offset;
        t.offset = offset;
        return t;
    }
    if (auto ts = parse_rfc3339(text)) {
        if (*ts > now_utc()) {
            // Nothing is stamped after now: the end. (Also keeps far-future times, which do not
            // fit system_clock's nanoseconds, away from the conversion below.)
            t.kind = Kind::Latest;
            return t;
        }
        t.kind = Kind::Time;
        t.time = std::chrono::system_clock::time_point(
            std::chrono::duration_cast<std::chrono::system_clock::duration>(
                ts->time_since_epoch()));
        return t;
    }
    throw UsageError(
        fmt::format("--to {}: expected earliest, latest, an offset or a date-time", text),
        "Examples: --to earliest, --to 1200, --to 2026-11-27T08:00:00Z");
}

void offsets_reset(const std::string& group, const std::string& topic, const std::string& to) {
    auto target = parse_target(to);
    auto connection = open_connection({}, true);
    kafka::Admin admin(connection.admin_options());
    auto rows = admin.reset_group_offsets(group, topic, target);
    for (const auto& r : rows) {
        fmt::print("{} {} {}\n", r.topic, r.partition, r.position);
    }
    fmt::print(stderr, "agentstream: group {} now starts {} at the offsets above\n", group, topic);
}

}  // namespace

void add_runtime_commands(CLI::App& app) {
    auto p = std::make_shared<ProcessArgs>();
    auto* process_cmd = app.add_subcommand(
        "process",
        "Run a pass-through processor: valid events of the inputs (optionally of one type) go "
        "to --to, the rest to dead letters; at-least-once; Ctrl-C stops cleanly");
    process_cmd->add_option("TOPIC", p->inputs, "Input topics")->required();
    add_instance_option(*process_cmd);
    process_cmd->add_option("--to", p->to, "Output topic")->required();
    process_cmd->add_option("--name", p->name, "Processor name (logs, dead-letter headers)");
    process_cmd->add_option("-g,--group", p->group, "Consumer group (default agentstream-NAME)");
    process_cmd->add_option("-t,--type", p->type,
                            "Only forward events of this type pattern; others are skipped");
    process_cmd->add_option("--dlq", p->dlq, "Dead-letter topic (default INPUT.dlq)");
    process_cmd
        ->add_option("--max-in-flight", p->max_in_flight,
                     "Events in flight before the input is paused")
        ->check(CLI::PositiveNumber);
    process_cmd->add_flag("--from-latest", p->from_latest,
                          "A new group starts at the end instead of the oldest event");
    process_cmd
        ->add_option("--until-idle", p->until_idle_s,
                     "Stop after this many seconds with nothing to do (default: run until "
                     "interrupted)")
        ->check(CLI::Range(0.0, 315'360'000.0));
    process_cmd
        ->add_option("--shutdown-timeout", p->shutdown_timeout_s,
                     "Seconds to drain in-flight events on stop")
        ->check(CLI::Range(0.0, 315'360'000.0));
    process_cmd->add_option("--max-attempts", p->max_attempts, "Handler attempts per event")
        ->check(CLI::PositiveNumber);
    process_cmd
        ->add_option("--workers", p->workers, "Parallel workers; one key's events stay in order")
        ->check(CLI::Range(1, 256));
    process_cmd->add_flag("--exactly-once", p->exactly_once,
                          "Kafka transactions: outputs and input offsets commit together "
                          "(real Kafka only)");
    process_cmd->add_option("--transactional-id", p->transactional_id,
                            "With --exactly-once: this instance's id, stable across its restarts "
                            "and different from other instances' (default GROUP-NAME)");
    process_cmd
        ->add_option("--transaction-ms", p->transaction_ms,
                     fmt::format("With --exactly-once: commit a transaction after this many "
                                 "milliseconds (default {}; longer means fewer commits and later "
                                 "output)",
                                 runtime::ProcessorOptions{}.transaction_interval.count()))
        ->check(CLI::Range(1, 600'000));
    process_cmd
        ->add_option("--transaction-events", p->transaction_events,
                     fmt::format("With --exactly-once: or after this many input events "
                                 "(default {})",
                                 runtime::ProcessorOptions{}.transaction_max_events))
        ->check(CLI::Range(1, 10'000'000));
    process_cmd->callback([p] { process(*p); });

    auto* dlq = app.add_subcommand("dlq", "Inspect and replay dead letters");
    dlq->require_subcommand(1);
    auto l = std::make_shared<DlqListArgs>();
    auto* list = dlq->add_subcommand("list", "Show dead letters with their reasons");
    list->add_option("TOPIC", l->topic, "Dead-letter topic (e.g. documents.dlq)")->required();
    list->add_option("-w,--where", l->where,
                     "Only KEY=VALUE (class, source-topic, source-partition, processor, type)");
    list->add_flag("--json", l->json, "JSON Lines with the original value");
    list->callback([l] { dlq_list(*l); });
    auto r = std::make_shared<DlqReplayArgs>();
    auto* replay = dlq->add_subcommand(
        "replay",
        "Send dead letters back (to their source topic, or --to) with provenance headers");
    replay->add_option("TOPIC", r->topic, "Dead-letter topic")->required();
    replay->add_option("--to", r->to, "Destination (default: each one's source topic)");
    replay->add_option("-w,--where", r->where,
                       "Only KEY=VALUE (class, source-topic, source-partition, processor, type)");
    replay->add_flag("--dry-run", r->dry_run, "Count what would be replayed; send nothing");
    replay->callback([r] { dlq_replay(*r); });

    auto* offsets = app.add_subcommand("offsets", "Show and reset consumer-group offsets");
    offsets->require_subcommand(1);
    auto show_group = std::make_shared<std::string>();
    auto show_topics = std::make_shared<std::vector<std::string>>();
    auto* show = offsets->add_subcommand("show", "Committed offsets and lag of a group");
    show->add_option("-g,--group", *show_group, "Consumer group")->required();
    show->add_option("--topic", *show_topics, "Only these topics (repeatable)");
    show->callback([show_group, show_topics] { offsets_show(*show_group, *show_topics); });
    auto reset_group = std::make_shared<std::string>();
    auto reset_topic = std::make_shared<std::string>();
    auto reset_to = std::make_shared<std::string>();
    auto* reset = offsets->add_subcommand(
        "reset", "Move a stopped group's offsets on a topic (to re-process or skip history)");
    reset->add_option("-g,--group", *reset_group, "Consumer group (no consumer may be running)")
        ->required();
    reset->add_option("--topic", *reset_topic, "Topic")->required();
    reset->add_option("--to", *reset_to, "earliest | latest | OFFSET | DATETIME (RFC 3339)")
        ->required();
    reset->callback([reset_group, reset_topic, reset_to] {
        offsets_reset(*reset_group, *reset_topic, *reset_to);
    });
}

}  // namespace agentstream::cli
