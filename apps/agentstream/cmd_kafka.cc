// agentstream produce | consume | topics | broker
#include <agentstream/event/codec.h>
#include <agentstream/event/record.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <thread>

#include "cli_common.h"
#include "connection.h"
#include "internal/log.h"
#include "line_reader.h"

namespace agentstream::cli {
namespace {

using namespace std::chrono_literals;

struct ProduceArgs {
    std::string topic;
    std::string file = "-";
    int partitions = 0;
};

void produce(const ProduceArgs& args) {
    LineReader in(args.file, event::MAX_EVENT_BYTES);
    auto connection = open_connection({{args.topic, args.partitions}});
    std::atomic<std::uint64_t> delivered{0};
    std::atomic<std::uint64_t> failed{0};
    std::uint64_t invalid = 0;
    // A read that fails ends the loop with an exception: what was sent is flushed first.
    std::exception_ptr read_error;
    {
        kafka::Producer producer(connection.producer_options());
        auto on_delivery = [&](const kafka::DeliveryReport& r) {
            if (r.ok) {
                delivered.fetch_add(1, std::memory_order_relaxed);
            } else {
                failed.fetch_add(1, std::memory_order_relaxed);
            }
        };
        LineReader::Line line;
        for (;;) {
            try {
                if (!in.next(line)) {
                    break;
                }
            } catch (...) {
                read_error = std::current_exception();
                break;
            }
            if (line.too_long) {
                ++invalid;
                fmt::print(stderr, "{}\n", in.too_long_message(line));
                continue;
            }
            if (line.text.find_first_not_of(" \t\r") == std::string::npos) {
                continue;
            }
            auto event = event::decode(line.text);
            if (!event) {
                ++invalid;
                for (const auto& v : event.error()) {
                    fmt::print(stderr, "line {}: {}\n", line.number, v.message);
                }
                continue;
            }
            // The line is valid: send its own bytes, keyed by entity, with the event headers.
            auto status = producer.send(args.topic, event::record_key(*event), line.text,
                                        event::record_headers(*event), on_delivery);
            if (!status) {
                failed.fetch_add(1);
                fmt::print(stderr, "line {}: {}\n", line.number, status.error().message);
            }
        }
        if (!producer.flush(120s)) {
            fmt::print(stderr, "agentstream: {} event(s) still undelivered after 120 s\n",
                       producer.in_flight());
        }
    }
    if (read_error) {
        fmt::print("produced {} event(s) to {} before the input failed\n", delivered.load(),
                   args.topic);
        std::rethrow_exception(read_error);
    }
    fmt::print("produced {} event(s) to {}", delivered.load(), args.topic);
    if (invalid > 0 || failed > 0) {
        fmt::print(" ({} invalid line(s) not sent, {} failed)", invalid, failed.load());
    }
    fmt::print("\n");
    if (invalid > 0 || failed > 0) {
        exit_code() = EXIT_RUNTIME;
    }
}

struct ConsumeArgs {
    std::vector<std::string> topics;
    std::string group;
    bool from_beginning = false;
    std::int64_t max = 0;
    std::string type;
    bool follow = false;
    double timeout_s = 30;
};

void consume(const ConsumeArgs& args) {
    auto pattern = parse_type_option(args.type);
    install_stop_handlers();
    std::vector<TopicNeed> needs;
    for (const auto& t : args.topics) {
        needs.push_back({t, 0});
    }
    auto connection = open_connection(needs);
    auto options = connection.consumer_options(args.group);
    options.start_from =
        args.from_beginning ? kafka::StartFrom::Earliest : kafka::StartFrom::Latest;
    // The end of each partition when it was assigned: without --follow, stop there.
    std::map<kafka::TopicPartition, std::int64_t> ends;
    kafka::Consumer* self = nullptr;
    options.on_assigned = [&](const std::vector<kafka::TopicPartition>& parts) {
        (void)parts;
        if (self != nullptr) {
            for (const auto& lag : self->query_lag(10s)) {
                ends[{lag.topic, lag.partition}] = lag.high_watermark;
            }
        }
    };
    options.on_revoked = [&](const std::vector<kafka::TopicPartition>& parts) {
        for (const auto& p : parts) {
            ends.erase(p);
        }
    };
    kafka::Consumer consumer(options);
    self = &consumer;
    if (args.group.empty()) {
        kafka::Admin admin(connection.admin_options());
        std::vector<kafka::TopicPartition> parts;
        for (const auto& t : args.topics) {
            auto info = admin.describe_topic(t, false);
            for (const auto& p : info.partitions) {
                parts.push_back({t, p.id});
            }
        }
        consumer.assign(parts);
        for (const auto& lag : consumer.query_lag(10s)) {
            ends[{lag.topic, lag.partition}] = lag.high_watermark;
        }
    } else {
        consumer.subscribe(args.topics);
    }
    auto at_end = [&] {
        if (args.follow || ends.empty()) {
            return false;
        }
        for (const auto& lag : consumer.query_lag(5s)) {
            auto it = ends.find({lag.topic, lag.partition});
            if (it == ends.end()) {
                return false;
            }
            // Starting from the end (no --from-beginning) counts as caught up.
            if (lag.position >= 0
                    ? lag.position < it->second
                    : !(options.start_from == kafka::StartFrom::Latest || it->second == 0)) {
                return false;
            }
        }
        return true;
    };
    std::int64_t printed = 0;
    std::uint64_t invalid = 0;
    auto idle_deadline =
        std::chrono::steady_clock::now() +
        std::chrono::milliseconds(static_cast<std::int64_t>(args.timeout_s * 1000));
    std::string out;
    while (!stop_requested() && (args.max == 0 || printed < args.max)) {
        auto m = consumer.poll(100ms);
        if (!m) {
            if (at_end()) {
                break;
            }
            if (!args.follow && std::chrono::steady_clock::now() > idle_deadline) {
                fmt::print(stderr, "agentstream: nothing more arrived for {} s; stopping\n",
                           args.timeout_s);
                break;
            }
            continue;
        }
        idle_deadline = std::chrono::steady_clock::now() +
                        std::chrono::milliseconds(static_cast<std::int64_t>(args.timeout_s * 1000));
        bool wanted = true;
        auto event = event::decode(m->value());
        if (!event) {
            ++invalid;
            fmt::print(stderr, "{}[{}]@{}: not a valid event: {}\n", m->topic(), m->partition(),
                       m->offset(), event::describe(event.error()));
            wanted = false;
        } else if (pattern && !pattern->matches(event->type())) {
            wanted = false;
        }
        if (wanted) {
            out.assign(m->value());
            out += '\n';
            std::fwrite(out.data(), 1, out.size(), stdout);
            ++printed;
        }
        consumer.store_offset(*m);
    }
    std::fflush(stdout);
    auto stats = consumer.stats();
    consumer.close();
    if (stats.lost > 0) {
        fmt::print(stderr,
                   "agentstream: {} event(s) were lost: deleted by the broker before "
                   "they were read\n",
                   stats.lost);
        exit_code() = EXIT_RUNTIME;
    }
    if (invalid > 0) {
        fmt::print(stderr, "agentstream: {} record(s) were not valid events\n", invalid);
        exit_code() = EXIT_RUNTIME;
    }
}

void topics_list() {
    auto connection = open_connection({}, true);
    kafka::Admin admin(connection.admin_options());
    fmt::print("{:<40} {:>10} {:>12}\n", "TOPIC", "PARTITIONS", "REPLICATION");
    for (const auto& t : admin.list_topics()) {
        fmt::print("{:<40} {:>10} {:>12}\n", t.name, t.partitions.size(), t.replication_factor());
    }
}

void topics_describe(const std::string& name) {
    auto connection = open_connection({}, true);
    kafka::Admin admin(connection.admin_options());
    auto t = admin.describe_topic(name);
    fmt::print("topic {}: {} partition(s), replication factor {}\n", t.name, t.partitions.size(),
               t.replication_factor());
    for (const auto& p : t.partitions) {
        fmt::print("  partition {:>3}  leader {:>3}  replicas [{}]  isr [{}]\n", p.id, p.leader,
                   fmt::join(p.replicas, ","), fmt::join(p.isr, ","));
    }
    if (!t.configs.empty()) {
        fmt::print("configs:\n");
        for (const auto& [k, v] : t.configs) {
            fmt::print("  {}={}\n", k, v);
        }
    }
}

struct TopicsCreateArgs {
    std::string name;
    int partitions = 1;
    int replication = -1;  // the broker's default
    std::vector<std::string> configs;
};

void topics_create(const TopicsCreateArgs& args) {
    auto connection = open_connection({}, true);
    kafka::NewTopic t{args.name, args.partitions, args.replication, {}};
    for (const auto& c : args.configs) {
        auto eq = c.find('=');
        if (eq == std::string::npos) {
            throw UsageError(fmt::format("--config '{}' is not KEY=VALUE", c),
                             "Example: --config retention.ms=86400000");
        }
        t.configs[c.substr(0, eq)] = c.substr(eq + 1);
    }
    if (auto* embedded = connection.embedded_broker()) {
        embedded->create_topic(t.name, t.partitions, t.replication_factor);
        logger("broker")->warn(
            "created {} on an embedded broker that stops when this command "
            "ends; give --brokers to create it on a running broker",
            t.name);
        fmt::print("created topic {} ({} partition(s))\n", t.name, t.partitions);
        return;
    }
    kafka::Admin admin(connection.admin_options());
    bool created = admin.create_topic(t);
    // Say what the broker made of it (the replication factor may be its default); a topic just
    // created may take a moment to appear in metadata.
    std::optional<kafka::TopicInfo> info;
    for (int i = 0; i < 50 && !info; ++i) {
        try {
            info = admin.describe_topic(t.name, false);
        } catch (const kafka::KafkaError&) {
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
    }
    auto shape = info ? fmt::format("{} partition(s), replication factor {}",
                                    info->partitions.size(), info->replication_factor())
                      : std::string("not yet in the broker's metadata");
    if (created) {
        fmt::print("created topic {} ({})\n", t.name, shape);
    } else {
        fmt::print("topic {} exists already ({})\n", t.name, shape);
        if (info && static_cast<int>(info->partitions.size()) != t.partitions) {
            logger("broker")->warn(
                "{} has {} partition(s), not the {} asked for; grow it with "
                "`agentstream topics grow`",
                t.name, info->partitions.size(), t.partitions);
        }
    }
}

// Kafka's own topics (__consumer_offsets, __transaction_state, ...) hold every group's committed
// offsets and every transaction's state: deleting or growing one loses them for every client.
void refuse_internal_topic(const std::string& name, const char* verb, bool force) {
    if (name.starts_with("__") && !force) {
        throw UsageError(fmt::format("{} is an internal topic of the cluster; {} it would lose "
                                     "what every client has stored there",
                                     name, verb),
                         "Give --force if that is really what you want");
    }
}

void topics_delete(const std::string& name, bool force) {
    refuse_internal_topic(name, "deleting", force);
    auto connection = open_connection({}, true);
    kafka::Admin(connection.admin_options()).delete_topic(name);
    fmt::print("deleted topic {}\n", name);
}

void topics_grow(const std::string& name, int partitions, bool force) {
    refuse_internal_topic(name, "growing", force);
    auto connection = open_connection({}, true);
    kafka::Admin(connection.admin_options()).create_partitions(name, partitions);
    fmt::print("topic {} now has {} partition(s)\n", name, partitions);
}

struct BrokerArgs {
    int brokers = 1;
    std::vector<std::string> topics;
    int partitions = 0;
    std::string bootstrap_file;
};

void run_broker(const BrokerArgs& args) {
    install_stop_handlers();
    const auto& cfg = pipeline_config();
    int default_partitions = args.partitions > 0
                                 ? args.partitions
                                 : static_cast<int>(cfg.integer("embedded.partitions"));
    broker::EmbeddedBroker b({.brokers = args.brokers});
    std::vector<std::string> created;
    for (const auto& t : cfg.topics("topics")) {
        b.create_topic(t.name, t.partitions > 0 ? t.partitions : default_partitions,
                       t.replication_factor);
        created.push_back(t.name);
    }
    for (const auto& spec : args.topics) {
        auto colon = spec.find(':');
        std::string name = spec.substr(0, colon);
        int partitions = default_partitions;
        if (colon != std::string::npos) {
            try {
                partitions = std::stoi(spec.substr(colon + 1));
            } catch (const std::exception&) {
                partitions = 0;
            }
            if (partitions < 1) {
                throw UsageError(fmt::format("--topic '{}': bad partition count", spec),
                                 "Example: --topic documents:12");
            }
        }
        b.create_topic(name, partitions, args.brokers);
        created.push_back(name);
    }
    if (!args.bootstrap_file.empty()) {
        std::ofstream(args.bootstrap_file) << b.bootstrap_servers() << "\n";
    }
    fmt::print("{}\n", b.bootstrap_servers());
    std::fflush(stdout);
    fmt::print(stderr,
               "agentstream: embedded broker with {} node(s) listening on {}\n"
               "  topics: {}\n"
               "  use it with: --brokers {}   (or export AGENTSTREAM_BROKERS={})\n"
               "  limits: in memory only (everything is lost when it stops); each partition keeps "
               "only its last 5 MiB or 100k batches; no SASL/TLS; no admin API (topics are "
               "created here); transactions are not faithful.\n"
               "  Ctrl-C stops it.\n",
               args.brokers, b.bootstrap_servers(),
               created.empty() ? std::string("(none yet; clients auto-create topics with 4 "
                                             "partitions)")
                               : fmt::format("{}", fmt::join(created, ", ")),
               b.bootstrap_servers(), b.bootstrap_servers());
    while (!stop_requested()) {
        std::this_thread::sleep_for(100ms);
    }
    fmt::print(stderr, "agentstream: embedded broker stopped; its data is gone\n");
}

}  // namespace

void add_kafka_commands(CLI::App& app) {
    auto p = std::make_shared<ProduceArgs>();
    auto* produce_cmd = app.add_subcommand(
        "produce",
        "Send JSON Lines events to a topic (each line validated; invalid lines are "
        "reported and not sent), keyed by entity");
    produce_cmd->add_option("TOPIC", p->topic, "Topic")->required();
    produce_cmd->add_option("-f,--file", p->file, "JSON Lines file, or - for stdin");
    produce_cmd
        ->add_option("--partitions", p->partitions,
                     "Partitions of the topic if the embedded broker creates it")
        ->check(CLI::Range(1, 100000));
    produce_cmd->callback([p] { produce(*p); });

    auto c = std::make_shared<ConsumeArgs>();
    auto* consume_cmd = app.add_subcommand(
        "consume", "Print events from topics as JSON Lines; stops at the end unless --follow");
    consume_cmd->add_option("TOPIC", c->topics, "Topics")->required();
    consume_cmd->add_option("-g,--group", c->group,
                            "Consumer group (offsets committed as events are printed)");
    consume_cmd->add_flag("--from-beginning", c->from_beginning,
                          "Start at the oldest event when the group has no committed offset");
    consume_cmd->add_option("-n,--max", c->max, "Stop after N events (0: no limit)")
        ->check(CLI::NonNegativeNumber);
    consume_cmd->add_option("-t,--type", c->type, "Only events of this type pattern (task.*)");
    consume_cmd->add_flag("-F,--follow", c->follow, "Keep waiting for new events (Ctrl-C stops)");
    consume_cmd
        ->add_option("--timeout", c->timeout_s,
                     "Without --follow, stop after this many idle seconds")
        ->check(CLI::Range(0.001, 315'360'000.0));
    consume_cmd->callback([c] { consume(*c); });

    auto* topics = app.add_subcommand("topics", "List, describe, create, grow and delete topics");
    topics->require_subcommand(1);
    topics->add_subcommand("list", "List topics")->callback([] { topics_list(); });
    auto describe_name = std::make_shared<std::string>();
    auto* describe = topics->add_subcommand("describe", "Partitions, leaders, replicas, configs");
    describe->add_option("TOPIC", *describe_name)->required();
    describe->callback([describe_name] { topics_describe(*describe_name); });
    auto create_args = std::make_shared<TopicsCreateArgs>();
    auto* create = topics->add_subcommand("create", "Create a topic");
    create->add_option("TOPIC", create_args->name)->required();
    create->add_option("-p,--partitions", create_args->partitions, "Partitions")
        ->check(CLI::PositiveNumber);
    create
        ->add_option("-r,--replication-factor", create_args->replication,
                     "Replication factor (default: the broker's default.replication.factor)")
        ->check(CLI::PositiveNumber);
    create->add_option("--config", create_args->configs, "Topic config KEY=VALUE (repeatable)");
    create->callback([create_args] { topics_create(*create_args); });
    auto delete_name = std::make_shared<std::string>();
    auto* del = topics->add_subcommand("delete", "Delete a topic");
    auto delete_force = std::make_shared<bool>(false);
    del->add_option("TOPIC", *delete_name)->required();
    del->add_flag("--force", *delete_force, "Also an internal topic (__consumer_offsets, ...)");
    del->callback([delete_name, delete_force] { topics_delete(*delete_name, *delete_force); });
    auto grow_name = std::make_shared<std::string>();
    auto grow_to = std::make_shared<int>(0);
    auto* grow = topics->add_subcommand("grow", "Increase a topic's partition count");
    grow->add_option("TOPIC", *grow_name)->required();
    grow->add_option("-p,--partitions", *grow_to, "New total partition count")
        ->required()
        ->check(CLI::PositiveNumber);
    auto grow_force = std::make_shared<bool>(false);
    grow->add_flag("--force", *grow_force, "Also an internal topic (__consumer_offsets, ...)");
    grow->callback(
        [grow_name, grow_to, grow_force] { topics_grow(*grow_name, *grow_to, *grow_force); });

    auto b = std::make_shared<BrokerArgs>();
    auto* broker_cmd = app.add_subcommand(
        "broker", "Run a standalone embedded (in-memory) broker until interrupted");
    broker_cmd->add_option("--brokers", b->brokers, "Number of broker nodes (1-9)")
        ->check(CLI::Range(1, 9));
    broker_cmd->add_option("--topic", b->topics, "Create NAME[:PARTITIONS] (repeatable)");
    broker_cmd
        ->add_option("--partitions", b->partitions, "Default partitions (else embedded.partitions)")
        ->check(CLI::Range(1, 100000));
    broker_cmd->add_option("--bootstrap-file", b->bootstrap_file,
                           "Write the bootstrap address to this file");
    broker_cmd->callback([b] { run_broker(*b); });
}

}  // namespace agentstream::cli
